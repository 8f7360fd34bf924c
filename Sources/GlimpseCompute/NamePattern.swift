// The `name` filter of `GET /servers`: Nova's meaning (a regular-expression *search* on the server name) for the
// subset of Python's syntax that can be matched without backtracking. The pattern compiles to a small program run
// as a Pike VM (Thompson's construction), so a match costs at most (name length) × (program size) steps whatever
// the pattern: `((.*)*)*Z` is as cheap as `Z`. Anything outside the subset is refused with a 400 instead of being
// handed to a backtracking engine.

import GlimpseCore

struct NamePattern: Sendable {
    /// Longest pattern accepted (Nova's server names are at most 255 characters).
    static let maxLength = 255
    /// Deepest group nesting accepted, so parsing never recurses far.
    static let maxDepth = 32

    /// A set of Unicode scalars: ranges and Python's `\d`, `\w`, `\s` classes, optionally negated.
    struct ScalarSet: Sendable {
        enum Item: Sendable {
            case range(UInt32, UInt32)
            case digit(negated: Bool)
            case word(negated: Bool)
            case space(negated: Bool)
        }
        var items: [Item]
        var negated: Bool

        static func literal(_ s: Unicode.Scalar) -> ScalarSet { ScalarSet(items: [.range(s.value, s.value)], negated: false) }
        /// Python's `.` without DOTALL: anything but a newline.
        static let dot = ScalarSet(items: [.range(10, 10)], negated: true)

        func contains(_ s: Unicode.Scalar) -> Bool {
            var hit = false
            for item in items {
                switch item {
                case .range(let lo, let hi): hit = s.value >= lo && s.value <= hi
                case .digit(let n): hit = Self.isDigit(s) != n
                case .word(let n): hit = Self.isWord(s) != n
                case .space(let n): hit = Self.isSpace(s) != n
                }
                if hit { break }
            }
            return hit != negated
        }

        static func isDigit(_ s: Unicode.Scalar) -> Bool { s.properties.numericType == .decimal }
        static func isWord(_ s: Unicode.Scalar) -> Bool {
            s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil
        }
        static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }
    }

    enum Instruction: Sendable {
        case scalar(ScalarSet)
        /// Continue at both targets.
        case split(Int, Int)
        case jump(Int)
        /// `^`: only at the start of the name.
        case atStart
        /// `$`: only at the end of the name (or before a final newline, as Python's `$`).
        case atEnd
        case match
    }

    let program: [Instruction]

    /// Compiles `pattern`; a 400 when it is too long or uses syntax outside the linear-time subset.
    init(_ pattern: String) throws {
        let scalars = Array(pattern.unicodeScalars)
        guard scalars.count <= Self.maxLength else {
            throw GlimpseError.badRequest("Invalid name filter: the pattern is longer than \(Self.maxLength) characters.")
        }
        var parser = NamePatternParser(scalars: scalars)
        let tree = try parser.parse()
        var code: [Instruction] = []
        Self.emit(tree, into: &code)
        code.append(.match)
        program = code
    }

    /// Whether the pattern matches anywhere in `name` (Python's `re.search`).
    func matches(_ name: String) -> Bool {
        let text = Array(name.unicodeScalars)
        // `seen[pc] == generation` when pc is already in the list being built for the current position.
        var seen = [Int](repeating: -1, count: program.count)
        var current: [Int] = []
        var next: [Int] = []
        var stack: [Int] = []
        var generation = 0

        // Follows jumps, splits and assertions from `start`; returns true when it reaches `match`.
        func add(_ start: Int, at position: Int, to list: inout [Int]) -> Bool {
            stack.append(start)
            while let pc = stack.popLast() {
                guard seen[pc] != generation else { continue }
                seen[pc] = generation
                switch program[pc] {
                case .scalar: list.append(pc)
                case .split(let a, let b):
                    stack.append(b)
                    stack.append(a)
                case .jump(let target): stack.append(target)
                case .atStart: if position == 0 { stack.append(pc + 1) }
                case .atEnd:
                    if position == text.count || (position == text.count - 1 && text[position] == "\n") {
                        stack.append(pc + 1)
                    }
                case .match:
                    stack.removeAll()
                    return true
                }
            }
            return false
        }

        if add(0, at: 0, to: &current) { return true }
        for position in 0..<text.count {
            generation += 1
            next.removeAll(keepingCapacity: true)
            for pc in current {
                if case .scalar(let set) = program[pc], set.contains(text[position]) {
                    if add(pc + 1, at: position + 1, to: &next) { return true }
                }
            }
            // A search may also start at the next position.
            if add(0, at: position + 1, to: &next) { return true }
            swap(&current, &next)
        }
        return false
    }

    static func emit(_ node: NamePatternNode, into code: inout [Instruction]) {
        switch node {
        case .set(let set): code.append(.scalar(set))
        case .atStart: code.append(.atStart)
        case .atEnd: code.append(.atEnd)
        case .sequence(let parts): for p in parts { emit(p, into: &code) }
        case .alternation(let a, let b):
            let split = code.count
            code.append(.split(split + 1, 0))
            emit(a, into: &code)
            let jump = code.count
            code.append(.jump(0))
            code[split] = .split(split + 1, code.count)
            emit(b, into: &code)
            code[jump] = .jump(code.count)
        case .star(let body):
            let split = code.count
            code.append(.split(split + 1, 0))
            emit(body, into: &code)
            code.append(.jump(split))
            code[split] = .split(split + 1, code.count)
        case .plus(let body):
            let start = code.count
            emit(body, into: &code)
            code.append(.split(start, code.count + 1))
        case .optional(let body):
            let split = code.count
            code.append(.split(split + 1, 0))
            emit(body, into: &code)
            code[split] = .split(split + 1, code.count)
        }
    }
}

/// The parsed form of a name pattern.
indirect enum NamePatternNode: Sendable {
    case set(NamePattern.ScalarSet)
    case atStart
    case atEnd
    case sequence([NamePatternNode])
    case alternation(NamePatternNode, NamePatternNode)
    case star(NamePatternNode)
    case plus(NamePatternNode)
    case optional(NamePatternNode)
}
