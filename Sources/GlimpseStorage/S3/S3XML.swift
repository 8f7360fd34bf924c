// Reads the few values Glimpse needs out of S3's XML answers (upload ids, listings, error codes). The answers are
// flat, generated documents, so finding elements by name is enough; entities are decoded.

enum S3XML {
    /// The bodies of every `<name>…</name>` element in `xml`, in document order (not nested in each other).
    static func elements(_ name: String, in xml: Substring) -> [Substring] {
        let open = "<\(name)>"
        let close = "</\(name)>"
        var found: [Substring] = []
        var rest = xml
        while let start = rest.range(of: open) {
            let after = rest[start.upperBound...]
            guard let end = after.range(of: close) else { break }
            found.append(after[..<end.lowerBound])
            rest = after[end.upperBound...]
        }
        return found
    }

    /// The decoded text of the first `<name>` element, or nil.
    static func value(_ name: String, in xml: Substring) -> String? {
        elements(name, in: xml).first.map(decode)
    }

    static func values(_ name: String, in xml: Substring) -> [String] {
        elements(name, in: xml).map(decode)
    }

    /// Replaces the five predefined entities and numeric character references.
    static func decode(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let scalar: UInt32? = entity.hasPrefix("#x")
                    ? UInt32(entity.dropFirst(2), radix: 16) : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                if let scalar, let u = Unicode.Scalar(scalar) { out.unicodeScalars.append(u) } else { out += "&\(entity);" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    /// Escapes text for an element body.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}
