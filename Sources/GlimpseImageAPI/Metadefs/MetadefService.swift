import Foundation
import GlimpseCore
import GlimpseStorage

/// The metadata definitions catalog (`/v2/metadefs/...`) with Glance 33's rules: what each call validates, who may
/// make it, and the JSON it answers with (built here, in Glance's attribute order).
public struct MetadefService: Sendable {
    let store: any MetadefStore

    public init(store: any MetadefStore) {
        self.store = store
    }

    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) }
    static func iso(_ micros: Int64) -> String { Timestamp(microseconds: micros).iso8601 }

    static let namespaceSchemaLink = "/v2/schemas/metadefs/namespace"
    static let objectSchemaLink = "/v2/schemas/metadefs/object"

    static func namespaceHref(_ name: String) -> String { "/v2/metadefs/namespaces/\(name)" }
    static func objectHref(_ ns: String, _ name: String) -> String { "/v2/metadefs/namespaces/\(ns)/objects/\(name)" }

    /// The namespace, if it exists and the database would show it to `caller`.
    func find(_ name: String, _ caller: Caller) async throws -> MetadefNamespaceRecord? {
        guard let ns = try await store.namespace(named: name), MetadefPolicy.isVisible(ns, to: caller) else {
            return nil
        }
        return ns
    }

    /// The namespace or Glance's "Namespace X not found".
    func load(_ name: String, _ caller: Caller) async throws -> MetadefNamespaceRecord {
        guard let ns = try await find(name, caller) else { throw GlimpseError.notFound("Namespace \(name) not found") }
        return ns
    }

    static func duplicate(_ e: MetadefDuplicateError, namespace: String, update: Bool = false) -> GlimpseError {
        switch e.kind {
        case .namespace:
            if update {
                return .conflict(
                    "Invalid update. It would result in a duplicate metadata definition namespace with the same name of \(e.name)"
                )
            }
            return .conflict("The metadata definition namespace=\(e.name) already exists.")
        case .object:
            return .conflict(
                "A metadata definition object with name=\(e.name) already exists in namespace=\(namespace).")
        case .property:
            return .conflict(
                "A metadata definition property with name=\(e.name) already exists in namespace=\(namespace).")
        case .tag:
            return .conflict(
                "A metadata tag with name=\(e.name) already exists in namespace=\(namespace). (Please note that metadata tag names are case insensitive)."
            )
        case .association:
            return .conflict(
                "The metadata definition resource-type association of resource-type=\(e.name) to namespace=\(namespace) already exists."
            )
        }
    }

    /// Runs a store write, turning name clashes into Glance's 409s.
    func write<T>(_ namespace: String, update: Bool = false, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as MetadefDuplicateError {
            throw Self.duplicate(e, namespace: namespace, update: update)
        }
    }

    // MARK: rendering

    static func render(_ ns: MetadefNamespaceRecord) -> MetadefObjectBuilder {
        var b = MetadefObjectBuilder()
        b.add("namespace", ns.namespace)
        b.add("display_name", ns.displayName)
        b.add("description", ns.description)
        b.add("visibility", ns.visibility)
        b.add("protected", ns.protected)
        b.add("owner", ns.owner)
        b.add("created_at", iso(ns.createdAt))
        b.add("updated_at", iso(ns.updatedAt))
        return b
    }

    static func render(_ a: MetadefAssociationRecord) -> MetadefOut {
        var b = MetadefObjectBuilder()
        b.add("name", a.name)
        b.add("prefix", a.prefix)
        b.add("properties_target", a.propertiesTarget)
        b.add("created_at", iso(a.createdAt))
        b.add("updated_at", iso(a.updatedAt))
        return b.out
    }

    /// An object; `required`/`properties` nil leaves them out (as Glance does when answering a create or update
    /// that did not set them).
    static func render(
        _ o: MetadefObjectRecord, namespace: String, required: [String]?, properties: [String: JSONValue]?,
        prefix: String? = nil
    ) -> MetadefOut {
        var b = MetadefObjectBuilder()
        b.add("name", o.name)
        if let required { b.add("required", .array(required.map { .string((prefix ?? "") + $0) })) }
        b.add("description", o.description)
        if let properties {
            b.add(
                "properties",
                .object(
                    properties.keys.sorted().map { key in
                        ((prefix ?? "") + key, renderProperty(properties[key]?.metadefObject ?? [:]))
                    }))
        }
        b.add("created_at", iso(o.createdAt))
        b.add("updated_at", iso(o.updatedAt))
        b.add("self", objectHref(namespace, o.name))
        b.add("schema", objectSchemaLink)
        return b.out
    }

    static func render(_ o: MetadefObjectRecord, namespace: String, prefix: String? = nil) -> MetadefOut {
        render(
            o, namespace: namespace, required: o.required, properties: MetadefText.decodeObject(o.properties),
            prefix: prefix)
    }

    static func render(_ t: MetadefTagRecord) -> MetadefOut {
        .object([("name", .string(t.name)), ("created_at", .string(iso(t.createdAt))), ("updated_at", .string(iso(t.updatedAt)))])
    }

    static func nameOnly(_ name: String) -> MetadefOut { .object([("name", .string(name))]) }

    // MARK: namespaces

    public struct ListParameters: Sendable {
        public var limit: Int = 25
        public var marker: String?
        public var sortKey: MetadefNamespaceQuery.SortKey = .createdAt
        public var ascending = false
        public var visibility: String?
        public var resourceTypes: [String]?

        /// Parses `GET /v2/metadefs/namespaces` query items as Glance does (limit capped at 1000).
        public init(_ items: [(String, String)]) throws {
            for (k, v) in items {
                switch k {
                case "limit":
                    guard let n = Int(v) else { throw GlimpseError.badRequest("limit param must be an integer") }
                    guard n >= 0 else { throw GlimpseError.badRequest("limit param must be positive") }
                    limit = min(n, 1000)
                case "marker": marker = v
                case "sort_key":
                    guard let key = MetadefNamespaceQuery.SortKey(rawValue: v) else {
                        throw GlimpseError.badRequest("Invalid sort key: \(v)")
                    }
                    sortKey = key
                case "sort_dir":
                    guard v == "asc" || v == "desc" else {
                        throw GlimpseError.badRequest("Invalid sort direction: \(v)")
                    }
                    ascending = v == "asc"
                case "visibility":
                    guard v.isEmpty || v == "public" || v == "private" else {
                        throw GlimpseError.badRequest("Invalid visibility value: \(v)")
                    }
                    if !v.isEmpty { visibility = v }
                case "resource_types":
                    resourceTypes = v.split(separator: ",").map { String($0) }
                default: continue
                }
            }
        }
    }

    /// `GET /v2/metadefs/namespaces`: the namespaces body without its links, and the name to continue after.
    func listNamespaces(_ p: ListParameters, caller: Caller) async throws -> (namespaces: MetadefOut, next: String?) {
        try MetadefPolicy.enforce(.getNamespaces, nil, caller)
        try MetadefPolicy.enforce(.listResourceTypes, nil, caller)
        var marker: MetadefNamespaceRecord?
        if let m = p.marker {
            guard let ns = try await find(m, caller) else {
                throw GlimpseError.notFound("Metadata definition namespace=\(m) was not found.")
            }
            marker = ns
        }
        let query = MetadefNamespaceQuery(
            seesAll: caller.isAdmin, project: caller.projectID, visibility: p.visibility,
            resourceTypes: p.resourceTypes, marker: marker, limit: p.limit, sortKey: p.sortKey,
            ascending: p.ascending)
        let page = try await store.namespaces(query)
        let shown = page.filter { MetadefPolicy.allows(.getNamespace, $0, caller) }
        let associations = try await store.associations(namespaceIDs: shown.map(\.id))
        let items: [MetadefOut] = shown.map { ns in
            var b = Self.render(ns)
            if let a = associations[ns.id], !a.isEmpty { b.add("resource_type_associations", .array(a.map(Self.render))) }
            b.add("self", Self.namespaceHref(ns.namespace))
            b.add("schema", Self.namespaceSchemaLink)
            return b.out
        }
        let next = !shown.isEmpty && shown.count == p.limit ? shown.last?.namespace : nil
        return (.array(items), next)
    }

    static let namespaceKeys = [
        "namespace", "display_name", "description", "visibility", "protected", "owner", "created_at", "updated_at",
        "schema", "self", "resource_type_associations", "properties", "objects", "tags",
    ]

    /// A namespace body, checked against the `namespace` schema.
    struct NamespaceBody {
        var namespace: String
        var displayName: String?
        var description: String?
        var visibility: String?
        var protected: Bool?
        var owner: String?
        var associations: [(name: String, prefix: String?, target: String?)]?
        var properties: [String: [String: JSONValue]]?
        var objects: [(name: String, description: String?, required: [String]?, properties: [String: [String: JSONValue]]?)]?
        var tags: [String]?

        init(_ body: [String: JSONValue]) throws {
            try MetadefCheck.rejectReadOnly(body, ["self", "schema", "created_at", "updated_at"])
            let c = MetadefCheck(schema: "namespace")
            try c.only(body, MetadefService.namespaceKeys)
            try c.require(body, ["namespace"])
            namespace = try c.string(body["namespace"], maxLength: 80)!
            displayName = try c.string(body["display_name"], maxLength: 80)
            description = try c.string(body["description"], maxLength: 500)
            visibility = try c.string(body["visibility"], oneOf: ["public", "private"])
            protected = try c.bool(body["protected"])
            owner = try c.string(body["owner"], maxLength: 255)
            if let list = try c.array(body["resource_type_associations"]) {
                associations = try list.map { item in
                    let o = try c.object(item)
                    try c.require(o, ["name"])
                    return (
                        try c.string(o["name"])!, try c.string(o["prefix"]), try c.string(o["properties_target"])
                    )
                }
            }
            properties = try c.properties(body["properties"], strict: false)
            if let list = try c.array(body["objects"]) {
                objects = try list.map { item in
                    let o = try c.object(item)
                    try c.require(o, ["name"])
                    return (
                        try c.string(o["name"])!, try c.string(o["description"]), try c.stringArray(o["required"]),
                        try c.properties(o["properties"], strict: false)
                    )
                }
            }
            if let list = try c.array(body["tags"]) {
                tags = try list.map { item in
                    let o = try c.object(item)
                    try c.require(o, ["name"])
                    return try c.string(o["name"])!
                }
            }
        }
    }

    /// `POST /v2/metadefs/namespaces`.
    func createNamespace(_ body: [String: JSONValue], caller: Caller) async throws -> (MetadefOut, String) {
        let b = try NamespaceBody(body)
        try MetadefPolicy.enforce(.addNamespace, nil, caller)
        if b.associations != nil { try MetadefPolicy.enforce(.addAssociation, nil, caller) }
        if b.objects != nil { try MetadefPolicy.enforce(.addObject, nil, caller) }
        if b.properties != nil { try MetadefPolicy.enforce(.addProperty, nil, caller) }
        if b.tags != nil { try MetadefPolicy.enforce(.addTag, nil, caller) }
        let now = Self.now()
        let record = MetadefNamespaceRecord(
            namespace: b.namespace, displayName: b.displayName, description: b.description,
            visibility: b.visibility ?? "private", protected: b.protected ?? false, owner: b.owner ?? caller.projectID,
            createdAt: now, updatedAt: now)
        let associations = (b.associations ?? []).map {
            MetadefAssociationRecord(name: $0.name, prefix: $0.prefix, propertiesTarget: $0.target, createdAt: now, updatedAt: now)
        }
        let objects = (b.objects ?? []).map {
            MetadefObjectRecord(
                name: $0.name, description: $0.description, required: $0.required ?? [],
                properties: MetadefText.encode(.object(($0.properties ?? [:]).mapValues { .object($0) })),
                createdAt: now, updatedAt: now)
        }
        let properties = (b.properties ?? [:]).keys.sorted().map {
            MetadefPropertyRecord(
                name: $0, schema: MetadefText.encode(.object(b.properties![$0]!)), createdAt: now, updatedAt: now)
        }
        let tags = (b.tags ?? []).map { MetadefTagRecord(name: $0, createdAt: now, updatedAt: now) }
        let created = try await write(b.namespace) {
            try await store.createNamespace(
                record, associations: associations, objects: objects, properties: properties, tags: tags)
        }
        // Glance answers with what it was given for the contents.
        var out = Self.render(created)
        if let a = b.associations {
            out.add(
                "resource_type_associations",
                .array(
                    a.map {
                        var ab = MetadefObjectBuilder()
                        ab.add("name", $0.name)
                        ab.add("prefix", $0.prefix)
                        ab.add("properties_target", $0.target)
                        return ab.out
                    }))
        }
        if let p = b.properties { out.add("properties", renderProperties(p.keys.sorted().map { ($0, p[$0]!) })) }
        if let o = b.objects {
            out.add(
                "objects",
                .array(
                    o.map { obj in
                        var ob = MetadefObjectBuilder()
                        ob.add("name", obj.name)
                        if let r = obj.required { ob.add("required", .array(r.map { .string($0) })) }
                        ob.add("description", obj.description)
                        if let p = obj.properties {
                            ob.add("properties", renderProperties(p.keys.sorted().map { ($0, p[$0]!) }))
                        }
                        return ob.out
                    }))
        }
        if let t = b.tags { out.add("tags", .array(t.map(Self.nameOnly))) }
        out.add("self", Self.namespaceHref(created.namespace))
        out.add("schema", Self.namespaceSchemaLink)
        return (out.out, Self.namespaceHref(created.namespace))
    }

    /// `GET /v2/metadefs/namespaces/{ns}[?resource_type=...]`: the namespace with everything in it.
    func showNamespace(_ name: String, resourceType: String?, caller: Caller) async throws -> MetadefOut {
        guard let ns = try await store.namespace(named: name) else {
            throw GlimpseError.notFound("Metadata definition namespace=\(name) was not found.")
        }
        guard MetadefPolicy.isVisible(ns, to: caller) else {
            throw GlimpseError.notFound("The resource could not be found.")
        }
        try MetadefPolicy.enforce(.getNamespace, ns, caller)
        for rule in [MetadefPolicy.Rule.listResourceTypes, .getObjects, .getProperties, .getTags] {
            try MetadefPolicy.enforce(rule, ns, caller)
        }
        let associations = try await store.associations(namespaceID: ns.id)
        var prefix: String?
        if let resourceType, !resourceType.isEmpty {
            prefix = associations.first { $0.name == resourceType }?.prefix
        }
        var b = Self.render(ns)
        if !associations.isEmpty { b.add("resource_type_associations", .array(associations.map(Self.render))) }
        let properties = try await store.properties(namespaceID: ns.id)
        if !properties.isEmpty {
            b.add(
                "properties",
                .object(
                    properties.map { p in
                        ((prefix ?? "") + p.name, renderProperty(MetadefText.decodeObject(p.schema)))
                    }))
        }
        let objects = try await store.objects(namespaceID: ns.id)
        if !objects.isEmpty {
            b.add("objects", .array(objects.map { Self.render($0, namespace: ns.namespace, prefix: prefix) }))
        }
        let tags = try await store.tags(namespaceID: ns.id, ascending: false, sortByName: false, markerName: nil, limit: nil)
        if !tags.isEmpty { b.add("tags", .array(tags.map { Self.nameOnly($0.name) })) }
        b.add("self", Self.namespaceHref(ns.namespace))
        b.add("schema", Self.namespaceSchemaLink)
        return b.out
    }

    /// `PUT /v2/metadefs/namespaces/{ns}`: replaces the namespace's own attributes (unset ones take their defaults).
    func updateNamespace(_ name: String, body: [String: JSONValue], caller: Caller) async throws -> MetadefOut {
        let b = try NamespaceBody(body)
        var ns = try await load(name, caller)
        try MetadefPolicy.enforce(.modifyNamespace, ns, caller)
        ns.namespace = b.namespace
        ns.displayName = b.displayName
        ns.description = b.description
        ns.visibility = b.visibility ?? "private"
        ns.protected = b.protected ?? false
        ns.owner = b.owner ?? caller.projectID
        ns.updatedAt = Self.now()
        let saved = try await write(name, update: true) { try await store.updateNamespace(ns) }
        guard saved else { throw GlimpseError.notFound("Namespace \(name) not found") }
        var out = Self.render(ns)
        out.add("self", Self.namespaceHref(ns.namespace))
        out.add("schema", Self.namespaceSchemaLink)
        return out.out
    }

    static func protectedNamespace(_ ns: MetadefNamespaceRecord) -> GlimpseError {
        .forbidden("Metadata definition namespace \(ns.namespace) is protected and cannot be deleted.")
    }

    /// `DELETE /v2/metadefs/namespaces/{ns}`: the namespace and all it holds.
    public func deleteNamespace(_ name: String, caller: Caller) async throws {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.deleteNamespace, ns, caller)
        if ns.protected { throw Self.protectedNamespace(ns) }
        try await store.deleteNamespace(id: ns.id)
    }

    /// `DELETE /v2/metadefs/namespaces/{ns}/{objects,properties,tags}`.
    public func deleteContent(_ kind: MetadefContentKind, namespace name: String, caller: Caller) async throws {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.deleteNamespace, ns, caller)
        if kind == .tags { try MetadefPolicy.enforce(.deleteTags, ns, caller) }
        if ns.protected { throw Self.protectedNamespace(ns) }
        try await store.deleteContent(kind, namespaceID: ns.id)
    }

    // MARK: objects

    struct ObjectBody {
        var name: String
        var description: String?
        var required: [String]?
        var properties: [String: [String: JSONValue]]?

        init(_ body: [String: JSONValue], creating: Bool) throws {
            try MetadefCheck.rejectReadOnly(body, ["self", "schema", "created_at", "updated_at"])
            let c = MetadefCheck(schema: "object")
            try c.only(body, ["name", "description", "required", "properties", "schema", "self", "created_at", "updated_at"])
            try c.require(body, ["name"])
            name = try c.string(body["name"], maxLength: 80)!
            description = try c.string(body["description"])
            required = try c.stringArray(body["required"])
            properties = try c.properties(body["properties"], strict: false)
            if creating, let raw = body["properties"]?.metadefObject {
                // Glance also checks each property against the standalone property schema when creating.
                let strict = MetadefCheck(schema: "property")
                for (_, definition) in raw { _ = try strict.property(definition, strict: true, requireName: false) }
            }
        }

        var propertiesText: String {
            MetadefText.encode(.object((properties ?? [:]).mapValues { .object($0) }))
        }
    }

    static func validateListQuery(_ items: [(String, String)], zeroLimitAllowed: Bool) throws {
        for (k, v) in items {
            switch k {
            case "limit":
                guard let n = Int(v) else { throw GlimpseError.badRequest("limit param must be an integer") }
                if n < 0 || (n == 0 && !zeroLimitAllowed) { throw GlimpseError.badRequest("limit param must be positive") }
            case "sort_dir":
                guard v == "asc" || v == "desc" else { throw GlimpseError.badRequest("Invalid sort direction: \(v)") }
            case "visibility":
                guard v.isEmpty || ["public", "private", "shared"].contains(v) else {
                    throw GlimpseError.badRequest("Invalid visibility value: \(v)")
                }
            default: continue
            }
        }
    }

    /// `GET /v2/metadefs/namespaces/{ns}/objects`.
    func listObjects(_ name: String, query: [(String, String)], caller: Caller) async throws -> MetadefOut {
        try Self.validateListQuery(query, zeroLimitAllowed: false)
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.getObjects, ns, caller)
        let objects = try await store.objects(namespaceID: ns.id)
        return .object([
            ("objects", .array(objects.map { Self.render($0, namespace: ns.namespace) })),
            ("schema", .string("v2/schemas/metadefs/objects")),
        ])
    }

    /// `POST /v2/metadefs/namespaces/{ns}/objects`.
    func createObject(_ name: String, body: [String: JSONValue], caller: Caller) async throws -> MetadefOut {
        let b = try ObjectBody(body, creating: true)
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.addObject, ns, caller)
        let now = Self.now()
        let record = MetadefObjectRecord(
            name: b.name, description: b.description, required: b.required ?? [], properties: b.propertiesText,
            createdAt: now, updatedAt: now)
        let created = try await write(ns.namespace) { try await store.insertObject(record, namespaceID: ns.id) }
        return Self.render(
            created, namespace: ns.namespace, required: b.required,
            properties: b.properties.map { $0.mapValues { JSONValue.object($0) } })
    }

    func loadObject(_ ns: MetadefNamespaceRecord, _ name: String) async throws -> MetadefObjectRecord {
        guard let o = try await store.object(namespaceID: ns.id, name: name) else {
            throw GlimpseError.notFound("Could not find metadata object \(name)")
        }
        return o
    }

    /// `GET /v2/metadefs/namespaces/{ns}/objects/{name}`.
    func showObject(_ name: String, object: String, caller: Caller) async throws -> MetadefOut {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.getObject, ns, caller)
        return Self.render(try await loadObject(ns, object), namespace: ns.namespace)
    }

    /// `PUT /v2/metadefs/namespaces/{ns}/objects/{name}`: replaces the object (which may rename it).
    func updateObject(_ name: String, object: String, body: [String: JSONValue], caller: Caller) async throws
        -> MetadefOut
    {
        let b = try ObjectBody(body, creating: false)
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.modifyObject, ns, caller)
        var o = try await loadObject(ns, object)
        o.name = b.name
        o.description = b.description
        o.required = b.required ?? []
        o.properties = b.propertiesText
        o.updatedAt = Self.now()
        let record = o
        let saved = try await write(ns.namespace) { try await store.updateObject(record) }
        guard saved else { throw GlimpseError.notFound("Could not find metadata object \(object)") }
        return Self.render(
            o, namespace: ns.namespace, required: b.required,
            properties: b.properties.map { $0.mapValues { JSONValue.object($0) } })
    }

    /// `DELETE /v2/metadefs/namespaces/{ns}/objects/{name}`.
    public func deleteObject(_ name: String, object: String, caller: Caller) async throws {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.deleteObject, ns, caller)
        let o = try await loadObject(ns, object)
        if ns.protected {
            throw GlimpseError.forbidden("Metadata definition object \(o.name) is protected and cannot be deleted.")
        }
        try await store.deleteObject(id: o.id)
    }

    // MARK: properties

    static func propertyBody(_ body: [String: JSONValue]) throws -> (String, [String: JSONValue]) {
        try MetadefCheck.rejectReadOnly(body, ["created_at", "updated_at"])
        let schema = try MetadefCheck(schema: "property").property(.object(body), strict: true, requireName: true)
        return (body["name"]!.metadefString!, schema)
    }

    /// `GET /v2/metadefs/namespaces/{ns}/properties`.
    func listProperties(_ name: String, caller: Caller) async throws -> MetadefOut {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.getProperties, ns, caller)
        let properties = try await store.properties(namespaceID: ns.id)
        return .object([
            ("properties", .object(properties.map { ($0.name, renderProperty(MetadefText.decodeObject($0.schema))) }))
        ])
    }

    func loadProperty(_ ns: MetadefNamespaceRecord, _ name: String) async throws -> MetadefPropertyRecord {
        guard let p = try await store.property(namespaceID: ns.id, name: name) else {
            throw GlimpseError.notFound("Could not find property \(name)")
        }
        return p
    }

    /// `GET /v2/metadefs/namespaces/{ns}/properties/{name}[?resource_type=...]` (with a resource type, `name`
    /// carries that association's prefix).
    func showProperty(_ name: String, property: String, resourceType: String?, caller: Caller) async throws
        -> MetadefOut
    {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.getProperty, ns, caller)
        var propertyName = property
        if let resourceType, !resourceType.isEmpty {
            try MetadefPolicy.enforce(.getResourceType, ns, caller)
            guard let a = try await store.associations(namespaceID: ns.id).first(where: { $0.name == resourceType })
            else {
                throw GlimpseError.notFound(
                    "The metadata definition resource-type association of resource-type=\(resourceType) to namespace=\(ns.namespace), was not found."
                )
            }
            guard let prefix = a.prefix, property.hasPrefix(prefix) else {
                throw GlimpseError.notFound(
                    "Property \(property) does not start with the expected resource type association prefix of '\(a.prefix ?? "None")'."
                )
            }
            propertyName = String(property.dropFirst(prefix.count))
        }
        let p = try await loadProperty(ns, propertyName)
        return renderProperty(MetadefText.decodeObject(p.schema), name: p.name)
    }

    /// `POST /v2/metadefs/namespaces/{ns}/properties`.
    func createProperty(_ name: String, body: [String: JSONValue], caller: Caller) async throws -> MetadefOut {
        let (propertyName, schema) = try Self.propertyBody(body)
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.addProperty, ns, caller)
        let now = Self.now()
        let record = MetadefPropertyRecord(
            name: propertyName, schema: MetadefText.encode(.object(schema)), createdAt: now, updatedAt: now)
        let created = try await write(ns.namespace) { try await store.insertProperty(record, namespaceID: ns.id) }
        return renderProperty(schema, name: created.name)
    }

    /// `PUT /v2/metadefs/namespaces/{ns}/properties/{name}`: replaces the definition (which may rename it).
    func updateProperty(_ name: String, property: String, body: [String: JSONValue], caller: Caller)
        async throws -> MetadefOut
    {
        let (propertyName, schema) = try Self.propertyBody(body)
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.modifyProperty, ns, caller)
        var p = try await loadProperty(ns, property)
        p.name = propertyName
        p.schema = MetadefText.encode(.object(schema))
        p.updatedAt = Self.now()
        let record = p
        let saved = try await write(ns.namespace) { try await store.updateProperty(record) }
        guard saved else { throw GlimpseError.notFound("Could not find property \(property)") }
        return renderProperty(schema, name: propertyName)
    }

    /// `DELETE /v2/metadefs/namespaces/{ns}/properties/{name}`.
    public func deleteProperty(_ name: String, property: String, caller: Caller) async throws {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.removeProperty, ns, caller)
        let p = try await loadProperty(ns, property)
        if ns.protected {
            throw GlimpseError.forbidden("Metadata definition property \(p.name) is protected and cannot be deleted.")
        }
        try await store.deleteProperty(id: p.id)
    }

    // MARK: tags

    static func tagName(_ v: JSONValue?, _ c: MetadefCheck) throws -> String {
        try c.string(v, maxLength: 80)!
    }

    /// `GET /v2/metadefs/namespaces/{ns}/tags`.
    func listTags(_ name: String, query: [(String, String)], caller: Caller) async throws -> MetadefOut {
        try Self.validateListQuery(query, zeroLimitAllowed: true)
        var limit: Int?
        var marker: String?
        var ascending = false
        var byName = false
        for (k, v) in query {
            switch k {
            case "limit": if let n = Int(v), n > 0 { limit = n }
            case "marker": if !v.isEmpty { marker = v }
            case "sort_dir": ascending = v == "asc"
            case "sort_key":
                switch v {
                case "created_at": byName = false
                case "name": byName = true
                default: throw GlimpseError.badRequest("Invalid sort key: \(v)")
                }
            default: continue
            }
        }
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.getTags, ns, caller)
        let tags = try await store.tags(
            namespaceID: ns.id, ascending: ascending, sortByName: byName, markerName: marker, limit: limit)
        return .object([("tags", .array(tags.map { Self.nameOnly($0.name) }))])
    }

    /// `POST /v2/metadefs/namespaces/{ns}/tags` with `{"tags": [{"name": ...}]}`: replaces the namespace's tags
    /// (or adds to them with `X-Openstack-Append: true`).
    func createTags(_ name: String, body: [String: JSONValue], append: Bool, caller: Caller) async throws
        -> MetadefOut
    {
        try MetadefCheck.rejectReadOnly(body, ["created_at", "updated_at"])
        let c = MetadefCheck(schema: "tags")
        try c.only(body, ["tags"])
        var names: [String] = []
        for item in try c.array(body["tags"]) ?? [] {
            let o = try c.object(item)
            try c.only(o, ["name"])
            try c.require(o, ["name"])
            names.append(try c.string(o["name"])!)
        }
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.addTags, ns, caller)
        if !names.isEmpty {
            let now = Self.now()
            let records = names.map { MetadefTagRecord(name: $0, createdAt: now, updatedAt: now) }
            try await write(ns.namespace) { try await store.insertTags(records, namespaceID: ns.id, append: append) }
        }
        return .object([("tags", .array(names.map(Self.nameOnly)))])
    }

    /// `POST /v2/metadefs/namespaces/{ns}/tags/{name}`.
    func createTag(_ name: String, tag: String, caller: Caller) async throws -> MetadefOut {
        let ns = try await load(name, caller)
        _ = try Self.tagName(.string(tag), MetadefCheck(schema: "tag"))
        try MetadefPolicy.enforce(.addTag, ns, caller)
        let now = Self.now()
        let created = try await write(ns.namespace) {
            try await store.insertTag(MetadefTagRecord(name: tag, createdAt: now, updatedAt: now), namespaceID: ns.id)
        }
        return Self.render(created)
    }

    func loadTag(_ ns: MetadefNamespaceRecord, _ name: String) async throws -> MetadefTagRecord {
        guard let t = try await store.tag(namespaceID: ns.id, name: name) else {
            throw GlimpseError.notFound("Could not find metadata tag \(name)")
        }
        return t
    }

    /// `GET /v2/metadefs/namespaces/{ns}/tags/{name}`.
    func showTag(_ name: String, tag: String, caller: Caller) async throws -> MetadefOut {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.getTag, ns, caller)
        return Self.render(try await loadTag(ns, tag))
    }

    /// `PUT /v2/metadefs/namespaces/{ns}/tags/{name}`: renames the tag.
    func updateTag(_ name: String, tag: String, body: [String: JSONValue], caller: Caller) async throws
        -> MetadefOut
    {
        try MetadefCheck.rejectReadOnly(body, ["created_at", "updated_at"])
        let c = MetadefCheck(schema: "tag")
        try c.only(body, ["name", "created_at", "updated_at"])
        try c.require(body, ["name"])
        let newName = try Self.tagName(body["name"], c)
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.modifyTag, ns, caller)
        var t = try await loadTag(ns, tag)
        t.name = newName
        t.updatedAt = Self.now()
        let record = t
        let saved = try await write(ns.namespace) { try await store.updateTag(record) }
        guard saved else { throw GlimpseError.notFound("Could not find metadata tag \(tag)") }
        return Self.render(t)
    }

    /// `DELETE /v2/metadefs/namespaces/{ns}/tags/{name}`.
    public func deleteTag(_ name: String, tag: String, caller: Caller) async throws {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.deleteTag, ns, caller)
        let t = try await loadTag(ns, tag)
        if ns.protected {
            throw GlimpseError.forbidden("Metadata definition tag \(t.name) is protected and cannot be deleted.")
        }
        try await store.deleteTag(id: t.id)
    }

    // MARK: resource types

    /// `GET /v2/metadefs/resource_types`.
    func listResourceTypes(caller: Caller) async throws -> MetadefOut {
        try MetadefPolicy.enforce(.listResourceTypes, nil, caller)
        let types = try await store.resourceTypes()
        return .object([
            (
                "resource_types",
                .array(
                    types.map {
                        .object([
                            ("name", .string($0.name)), ("created_at", .string(Self.iso($0.createdAt))),
                            ("updated_at", .string(Self.iso($0.updatedAt))),
                        ])
                    })
            )
        ])
    }

    /// `GET /v2/metadefs/namespaces/{ns}/resource_types`.
    func listAssociations(_ name: String, caller: Caller) async throws -> MetadefOut {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.listResourceTypes, ns, caller)
        let shown = MetadefPolicy.allows(.getResourceType, ns, caller)
        let associations = shown ? try await store.associations(namespaceID: ns.id) : []
        return .object([("resource_type_associations", .array(associations.map(Self.render)))])
    }

    /// `POST /v2/metadefs/namespaces/{ns}/resource_types`: associates a resource type (creating unknown ones).
    func addAssociation(_ name: String, body: [String: JSONValue], caller: Caller) async throws -> MetadefOut {
        try MetadefCheck.rejectReadOnly(body, ["created_at", "updated_at"])
        let c = MetadefCheck(schema: "resource_type_association")
        try c.only(body, ["name", "prefix", "properties_target", "created_at", "updated_at"])
        try c.require(body, ["name"])
        let typeName = try c.string(body["name"], maxLength: 80)!
        let prefix = try c.string(body["prefix"], maxLength: 80)
        let target = try c.string(body["properties_target"], maxLength: 80)
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.addAssociation, ns, caller)
        let now = Self.now()
        let record = MetadefAssociationRecord(
            name: typeName, prefix: prefix, propertiesTarget: target, createdAt: now, updatedAt: now)
        try await write(ns.namespace) { try await store.addAssociation(record, namespaceID: ns.id) }
        return Self.render(record)
    }

    /// `DELETE /v2/metadefs/namespaces/{ns}/resource_types/{name}`.
    public func removeAssociation(_ name: String, resourceType: String, caller: Caller) async throws {
        let ns = try await load(name, caller)
        try MetadefPolicy.enforce(.removeAssociation, ns, caller)
        let notFound = GlimpseError.notFound("Failed to find resource type \(resourceType) to delete")
        guard try await store.associations(namespaceID: ns.id).contains(where: { $0.name == resourceType }) else {
            throw notFound
        }
        if ns.protected {
            throw GlimpseError.forbidden(
                "Metadata definition resource-type-association \(resourceType) is protected and cannot be deleted.")
        }
        guard try await store.removeAssociation(namespaceID: ns.id, resourceType: resourceType) else { throw notFound }
    }
}

extension JSONValue {
    var metadefObject: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
}
