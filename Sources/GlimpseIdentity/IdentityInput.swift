import GlimpseCore

/// Defensive readers of Keystone request bodies: a missing or mistyped field becomes nil or a 400, never a trap.
enum IdentityInput {
    static func object(_ body: [String: JSONValue], _ key: String) throws -> [String: JSONValue] {
        guard case .object(let o)? = body[key] else {
            throw GlimpseError.badRequest("Invalid input for field '\(key)': the request body must contain an object '\(key)'.")
        }
        return o
    }

    static func string(_ o: [String: JSONValue]?, _ key: String) -> String? {
        if case .string(let s)? = o?[key] { return s }
        return nil
    }

    static func bool(_ o: [String: JSONValue], _ key: String) throws -> Bool? {
        switch o[key] {
        case nil: return nil
        case .bool(let b): return b
        default: throw GlimpseError.badRequest("Invalid input for field '\(key)': expected a boolean.")
        }
    }

    static func sub(_ o: [String: JSONValue]?, _ key: String) -> [String: JSONValue]? {
        if case .object(let s)? = o?[key] { return s }
        return nil
    }

    /// Keystone's truthiness of `?enabled=`: anything but an explicit false value is true.
    static func enabledFilter(_ value: String?) -> Bool? {
        guard let v = value?.lowercased() else { return nil }
        return !["0", "false", "f", "no", "n", "off"].contains(v)
    }
}
