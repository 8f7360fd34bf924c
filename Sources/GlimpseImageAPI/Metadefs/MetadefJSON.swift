import Foundation
import GlimpseCore
import GlimpseHTTP
import NIOCore

/// Metadefs responses keep the order Glance's WSME models serialise in.
typealias MetadefOut = OrderedJSON

/// Builds an ordered object, leaving out nil members (WSME omits unset attributes).
struct MetadefObjectBuilder {
    var members: [(String, MetadefOut)] = []

    mutating func add(_ key: String, _ value: String?) {
        if let value { members.append((key, .string(value))) }
    }

    mutating func add(_ key: String, _ value: Bool?) {
        if let value { members.append((key, .bool(value))) }
    }

    mutating func add(_ key: String, _ value: MetadefOut?) {
        if let value { members.append((key, value)) }
    }

    var out: MetadefOut { .object(members) }
}

/// Checks request bodies against Glance's metadefs JSON schemas (the subset those schemas use), with
/// jsonschema-style reasons: `Provided object does not match schema 'namespace': 'namespace' is a required property`.
struct MetadefCheck {
    let schema: String

    func fail(_ reason: String) -> GlimpseError {
        .badRequest("Provided object does not match schema '\(schema)': \(reason)")
    }

    /// Glance refuses read-only attributes in a body with 403 before validating it.
    static func rejectReadOnly(_ body: [String: JSONValue], _ keys: [String]) throws {
        for key in keys where body[key] != nil {
            throw GlimpseError.forbidden("Attribute '\(key)' is read-only.")
        }
    }

    func object(_ v: JSONValue) throws -> [String: JSONValue] {
        guard case .object(let o) = v else { throw fail("\(v.pythonRepr) is not of type 'object'") }
        return o
    }

    func only(_ o: [String: JSONValue], _ allowed: [String]) throws {
        let extra = o.keys.filter { !allowed.contains($0) }.sorted()
        if !extra.isEmpty {
            let list = extra.map { "'\($0)'" }.joined(separator: ", ")
            throw fail("Additional properties are not allowed (\(list) \(extra.count == 1 ? "was" : "were") unexpected)")
        }
    }

    func require(_ o: [String: JSONValue], _ keys: [String]) throws {
        for k in keys where o[k] == nil { throw fail("'\(k)' is a required property") }
    }

    func string(_ v: JSONValue?, maxLength: Int? = nil, oneOf: [String]? = nil) throws -> String? {
        guard let v else { return nil }
        guard case .string(let s) = v else { throw fail("\(v.pythonRepr) is not of type 'string'") }
        if let maxLength, s.count > maxLength { throw fail("\(v.pythonRepr) is too long") }
        if let oneOf, !oneOf.contains(s) {
            throw fail("\(v.pythonRepr) is not one of [\(oneOf.map { "'\($0)'" }.joined(separator: ", "))]")
        }
        return s
    }

    func bool(_ v: JSONValue?) throws -> Bool? {
        guard let v else { return nil }
        guard case .bool(let b) = v else { throw fail("\(v.pythonRepr) is not of type 'boolean'") }
        return b
    }

    func number(_ v: JSONValue?) throws {
        guard let v else { return }
        switch v {
        case .int, .double: return
        default: throw fail("\(v.pythonRepr) is not of type 'number'")
        }
    }

    func nonNegativeInteger(_ v: JSONValue?) throws {
        guard let v else { return }
        switch v {
        case .int(let i):
            if i < 0 { throw fail("\(i) is less than the minimum of 0") }
        case .double(let d) where d == d.rounded():
            if d < 0 { throw fail("\(v.pythonRepr) is less than the minimum of 0") }
        default: throw fail("\(v.pythonRepr) is not of type 'integer'")
        }
    }

    func array(_ v: JSONValue?) throws -> [JSONValue]? {
        guard let v else { return nil }
        guard case .array(let a) = v else { throw fail("\(v.pythonRepr) is not of type 'array'") }
        return a
    }

    /// Glance's `stringArray`: strings, no repeats (and at least `minItems`).
    func stringArray(_ v: JSONValue?, minItems: Int = 0) throws -> [String]? {
        guard let a = try array(v) else { return nil }
        if a.count < minItems { throw fail("\(v!.pythonRepr) is too short") }
        var seen = Set<String>()
        var out: [String] = []
        for item in a {
            guard case .string(let s) = item else { throw fail("\(item.pythonRepr) is not of type 'string'") }
            if !seen.insert(s).inserted { throw fail("\(v!.pythonRepr) has non-unique elements") }
            out.append(s)
        }
        return out
    }

    static let propertyTypes = ["array", "boolean", "integer", "number", "object", "string"]

    /// The attributes a property definition keeps (Glance's `PropertyType`, in its declaration order).
    static let propertyTypeKeys = [
        "name", "type", "title", "description", "operators", "default", "readonly", "minimum", "maximum", "enum",
        "pattern", "minLength", "maxLength", "confidential", "items", "uniqueItems", "minItems", "maxItems",
        "additionalItems",
    ]

    /// What the property schema describes (`required` is in the schema but not kept).
    static let propertySchemaKeys = [
        "name", "title", "description", "operators", "type", "required", "minimum", "maximum", "maxLength",
        "minLength", "pattern", "enum", "readonly", "default", "items", "maxItems", "minItems", "uniqueItems",
        "additionalItems",
    ]

    /// Validates one property definition and returns what Glance keeps of it. `strict`: the standalone `property`
    /// schema (no other attributes); otherwise the `#/definitions/property` entry inside a namespace or object.
    func property(_ v: JSONValue, strict: Bool, requireName: Bool) throws -> [String: JSONValue] {
        let o = try object(v)
        if strict { try only(o, Self.propertySchemaKeys) }
        try require(o, requireName ? ["type", "title", "name"] : ["title", "type"])
        _ = try string(o["name"], maxLength: 80)
        _ = try string(o["title"])
        _ = try string(o["description"])
        if let ops = try array(o["operators"]) {
            for op in ops where op.metadefString == nil { throw fail("\(op.pythonRepr) is not of type 'string'") }
        }
        _ = try string(o["type"], oneOf: Self.propertyTypes)
        _ = try stringArray(o["required"], minItems: strict ? 1 : 0)
        try number(o["minimum"])
        try number(o["maximum"])
        try nonNegativeInteger(o["maxLength"])
        try nonNegativeInteger(o["minLength"])
        _ = try string(o["pattern"])
        _ = try array(o["enum"])
        _ = try bool(o["readonly"])
        if let items = o["items"] {
            let i = try object(items)
            _ = try string(i["type"], oneOf: Self.propertyTypes)
            _ = try array(i["enum"])
        }
        try nonNegativeInteger(o["maxItems"])
        try nonNegativeInteger(o["minItems"])
        _ = try bool(o["uniqueItems"])
        _ = try bool(o["additionalItems"])
        if !strict { _ = try bool(o["confidential"]) }
        var kept: [String: JSONValue] = [:]
        for key in Self.propertyTypeKeys {
            guard let value = o[key] else { continue }
            if key == "items", case .object(let items) = value {
                kept[key] = .object(items.filter { $0.key == "type" || $0.key == "enum" })
            } else {
                kept[key] = value
            }
        }
        return kept
    }

    /// A `{name: property}` map.
    func properties(_ v: JSONValue?, strict: Bool) throws -> [String: [String: JSONValue]]? {
        guard let v else { return nil }
        let o = try object(v)
        var out: [String: [String: JSONValue]] = [:]
        for (name, definition) in o {
            out[name] = try property(definition, strict: strict, requireName: false)
        }
        return out
    }
}

extension JSONValue {
    var metadefString: String? { if case .string(let s) = self { s } else { nil } }
}

/// JSON text for storage, and back.
enum MetadefText {
    static func encode(_ v: JSONValue) -> String { MetadefOut(v).text }

    static func decodeObject(_ text: String) -> [String: JSONValue] {
        guard let data = text.data(using: .utf8),
            case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return [:] }
        return o
    }
}

/// A property definition in `PropertyType` order; `name` (when given) replaces any stored one.
func renderProperty(_ schema: [String: JSONValue], name: String? = nil) -> MetadefOut {
    var b = MetadefObjectBuilder()
    for key in MetadefCheck.propertyTypeKeys {
        if key == "name" {
            if let name { b.add("name", name) } else if let v = schema["name"] { b.add("name", MetadefOut(v)) }
            continue
        }
        guard let v = schema[key] else { continue }
        if key == "items", case .object(let items) = v {
            var ib = MetadefObjectBuilder()
            if let t = items["type"] { ib.add("type", MetadefOut(t)) }
            if let e = items["enum"] { ib.add("enum", MetadefOut(e)) }
            b.add(key, ib.out)
        } else {
            b.add(key, MetadefOut(v))
        }
    }
    return b.out
}

/// `{name: definition}` in name order.
func renderProperties(_ properties: [(String, [String: JSONValue])]) -> MetadefOut {
    .object(properties.map { ($0.0, renderProperty($0.1)) })
}
