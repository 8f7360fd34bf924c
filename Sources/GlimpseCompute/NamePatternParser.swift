// Parses the linear-time subset of Python's regular expressions the server `name` filter accepts: literals, `.`,
// `*`, `+`, `?` (and their lazy forms, which match the same names), `^`, `$`, `|`, groups `(...)` and `(?:...)`,
// character classes with ranges and negation, and the escapes `\d \D \w \W \s \S \n \t` and escaped punctuation.
// Back-references, look-arounds, counted repetition and other escapes are refused with a 400.

import GlimpseCore

struct NamePatternParser {
    let scalars: [Unicode.Scalar]
    var index = 0
    var depth = 0

    init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    static func invalid(_ why: String) -> GlimpseError {
        .badRequest("Invalid name filter: \(why). Supported: literals, . * + ? ^ $ |, groups and [character classes].")
    }

    var atEnd: Bool { index >= scalars.count }
    var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    mutating func take() -> Unicode.Scalar? {
        guard index < scalars.count else { return nil }
        defer { index += 1 }
        return scalars[index]
    }

    mutating func parse() throws -> NamePatternNode {
        let node = try alternation()
        if !atEnd { throw Self.invalid("unbalanced parenthesis at position \(index)") }
        return node
    }

    mutating func alternation() throws -> NamePatternNode {
        var node = try sequence()
        while peek == "|" {
            index += 1
            node = .alternation(node, try sequence())
        }
        return node
    }

    mutating func sequence() throws -> NamePatternNode {
        var parts: [NamePatternNode] = []
        while let c = peek, c != "|", c != ")" {
            parts.append(try repetition())
        }
        return .sequence(parts)
    }

    mutating func repetition() throws -> NamePatternNode {
        var node = try atom()
        var repeated = false
        while let c = peek, "*+?{".unicodeScalars.contains(c) {
            if c == "{" { throw Self.invalid("counted repetition {m,n} is not supported") }
            if repeated { throw Self.invalid("multiple repeat at position \(index)") }
            index += 1
            switch c {
            case "*": node = .star(node)
            case "+": node = .plus(node)
            default: node = .optional(node)
            }
            if peek == "?" { index += 1 }  // lazy: the same names match
            repeated = true
        }
        return node
    }

    mutating func atom() throws -> NamePatternNode {
        let position = index
        guard let c = take() else { throw Self.invalid("unexpected end of pattern") }
        switch c {
        case "(":
            if peek == "?" {
                guard index + 1 < scalars.count, scalars[index + 1] == ":" else {
                    throw Self.invalid("group extensions (?...) other than (?:...) are not supported")
                }
                index += 2
            }
            depth += 1
            guard depth <= NamePattern.maxDepth else { throw Self.invalid("groups nest deeper than \(NamePattern.maxDepth)") }
            let inner = try alternation()
            guard take() == ")" else { throw Self.invalid("missing ), unterminated subpattern at position \(position)") }
            depth -= 1
            return inner
        case ")": throw Self.invalid("unbalanced parenthesis at position \(position)")
        case "*", "+", "?": throw Self.invalid("nothing to repeat at position \(position)")
        case "{": throw Self.invalid("counted repetition {m,n} is not supported")
        case ".": return .set(.dot)
        case "^": return .atStart
        case "$": return .atEnd
        case "[": return .set(try characterClass(openedAt: position))
        case "\\": return .set(try escape(inClass: false))
        default: return .set(.literal(c))
        }
    }

    /// After `[`: `^` negates, a leading `]` is literal, `a-z` is a range, escapes as outside.
    mutating func characterClass(openedAt position: Int) throws -> NamePattern.ScalarSet {
        var set = NamePattern.ScalarSet(items: [], negated: false)
        if peek == "^" {
            set.negated = true
            index += 1
        }
        var first = true
        while true {
            guard let c = take() else { throw Self.invalid("unterminated character set at position \(position)") }
            if c == "]", !first { break }
            first = false
            var low: Unicode.Scalar = c
            if c == "\\" {
                let escaped = try escape(inClass: true)
                guard case .range(let lo, let hi)? = escaped.items.first, escaped.items.count == 1, lo == hi,
                    !escaped.negated, let scalar = Unicode.Scalar(lo)
                else {
                    set.items += escaped.items
                    continue
                }
                low = scalar
            }
            if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                guard var high = take() else { throw Self.invalid("unterminated character set at position \(position)") }
                if high == "\\" {
                    let escaped = try escape(inClass: true)
                    guard case .range(let lo, let hi)? = escaped.items.first, escaped.items.count == 1, lo == hi,
                        let scalar = Unicode.Scalar(lo)
                    else { throw Self.invalid("bad character range at position \(index)") }
                    high = scalar
                }
                guard low.value <= high.value else { throw Self.invalid("bad character range \(low)-\(high)") }
                set.items.append(.range(low.value, high.value))
            } else {
                set.items.append(.range(low.value, low.value))
            }
        }
        return set
    }

    /// After `\`.
    mutating func escape(inClass: Bool) throws -> NamePattern.ScalarSet {
        guard let c = take() else { throw Self.invalid("bad escape (end of pattern)") }
        switch c {
        case "d": return .init(items: [.digit(negated: false)], negated: false)
        case "D": return .init(items: [.digit(negated: true)], negated: false)
        case "w": return .init(items: [.word(negated: false)], negated: false)
        case "W": return .init(items: [.word(negated: true)], negated: false)
        case "s": return .init(items: [.space(negated: false)], negated: false)
        case "S": return .init(items: [.space(negated: true)], negated: false)
        case "n": return .literal("\n")
        case "t": return .literal("\t")
        default:
            // Escaped punctuation is the character itself; letters and digits are escapes (back-references,
            // anchors like \b \A \Z) this matcher does not implement.
            guard !c.properties.isAlphabetic, c.properties.numericType == nil else {
                throw Self.invalid("the escape \\\(c) is not supported")
            }
            return .literal(c)
        }
    }
}
