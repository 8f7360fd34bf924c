/// Glance's image schema and attribute rules: what a create body or a JSON-patch may set, and how.
public enum ImageRules {
    /// Attributes only Glance itself sets (403 "read-only" when a client tries).
    public static let readOnly: Set<String> = [
        "created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url", "self", "file",
        "schema", "id", "os_hash_algo", "os_hash_value", "stores",
    ]
    /// Names no client may use at all.
    public static let reserved: Set<String> = ["location", "deleted", "deleted_at", "locations"]
    /// Base attributes that are part of the image record rather than extra properties.
    public static let base: Set<String> = [
        "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo", "os_hash_value",
        "owner", "size", "virtual_size", "container_format", "disk_format", "created_at", "updated_at", "tags",
        "min_ram", "min_disk", "self", "file", "schema", "direct_url", "stores", "locations",
    ]

    static func isReserved(_ key: String) -> Bool { reserved.contains(key) || key.hasPrefix("os_glance") }

    static func schemaError(_ detail: String) -> GlimpseError {
        .badRequest("Provided object does not match schema 'image': \(detail)")
    }

    public static func isUUID(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if c != 45 { return false }
            } else if !((48...57).contains(c) || (97...102).contains(c) || (65...70).contains(c)) {
                return false
            }
        }
        return true
    }

    /// Builds a new queued image from a create body (`POST /v2/images`).
    public static func newImage(
        from body: [String: JSONValue], caller: Caller, id: String, now: Timestamp
    ) throws -> Image {
        var image = Image(id: id, owner: caller.projectID, createdAt: now, updatedAt: now)
        for (key, value) in body.sorted(by: { $0.key < $1.key }) {
            if isReserved(key) { throw GlimpseError.forbidden("Attribute '\(key)' is reserved.") }
            if key == "id" {
                guard case .string(let s) = value, isUUID(s) else {
                    throw schemaError("\(value.pythonRepr) does not match the UUID pattern for 'id'")
                }
                image.id = s.lowercased()
                continue
            }
            if readOnly.contains(key) { throw GlimpseError.forbidden("Attribute '\(key)' is read-only.") }
            try set(key, value, on: &image, caller: caller, creating: true)
        }
        try checkQuotas(image)
        try enforceVisibilityPolicy(image.visibility, previous: nil, caller: caller)
        if !caller.isAdmin, image.owner != caller.projectID {
            throw GlimpseError.forbidden("You are not permitted to create images owned by '\(image.owner ?? "None")'.")
        }
        return image
    }

    /// One JSON-patch operation of Glance's image PATCH.
    public struct PatchOperation: Sendable {
        public enum Op: String, Sendable { case add, remove, replace }
        public var op: Op
        public var key: String
        public var value: JSONValue?
    }

    /// Parses a JSON-patch document (v2.0 and v2.1 media types share this shape).
    public static func parsePatch(_ doc: JSONValue) throws -> [PatchOperation] {
        guard case .array(let items) = doc else {
            throw GlimpseError.badRequest("Request body must be a JSON array of operation objects.")
        }
        return try items.map { item in
            guard case .object(let given) = item else {
                throw GlimpseError.badRequest("Operations must be JSON objects.")
            }
            // Besides RFC 6902's `{"op": "replace", "path": "/x"}`, Glance accepts the older form
            // `{"replace": "/x", "value": ...}` (Tempest's image client sends it).
            var o = given
            if o["op"] == nil, o["path"] == nil {
                let legacy = ["add", "remove", "replace"].filter { o[$0] != nil }
                if legacy.count == 1, let path = o.removeValue(forKey: legacy[0]) {
                    o["op"] = .string(legacy[0])
                    o["path"] = path
                }
            }
            guard case .string(let opName)? = o["op"] else {
                throw GlimpseError.badRequest("Unable to find 'op' in JSON Schema change")
            }
            guard let op = PatchOperation.Op(rawValue: opName) else {
                throw GlimpseError.badRequest(
                    "Invalid operation: `\(opName)`. It must be one of the following: add, remove, replace.")
            }
            guard case .string(let path)? = o["path"] else {
                throw GlimpseError.badRequest("Unable to find 'path' in JSON Schema change")
            }
            guard path.hasPrefix("/"), path.count > 1 else {
                throw GlimpseError.badRequest("Json path should start with a '/', end with no '/', no 2 subsequent '/' are allowed.")
            }
            let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            if segments.count > 1 {
                if segments.first == "locations" {
                    throw GlimpseError.forbidden("Image locations are not enabled on this deployment.")
                }
                throw GlimpseError.badRequest("Invalid JSON pointer for this resource: '\(path)'")
            }
            let key = String(segments[0]).replacingTilde()
            if op != .remove, o["value"] == nil {
                throw GlimpseError.badRequest("Operation objects must contain exactly one member named \"value\".")
            }
            return PatchOperation(op: op, key: key, value: o["value"])
        }
    }

    /// Applies patch operations with Glance v2.1 semantics (`add` upserts; `replace`/`remove` of a missing extra
    /// property is 409; base attributes cannot be removed).
    public static func apply(_ ops: [PatchOperation], to original: Image, caller: Caller, now: Timestamp) throws -> Image {
        var image = original
        for change in ops {
            let key = change.key
            if isReserved(key) { throw GlimpseError.forbidden("Attribute '\(key)' is reserved.") }
            if readOnly.contains(key) { throw GlimpseError.forbidden("Attribute '\(key)' is read-only.") }
            switch change.op {
            case .add, .replace:
                if change.op == .replace, !base.contains(key), image.properties[key] == nil {
                    throw GlimpseError.conflict("Property \(key) does not exist.")
                }
                try set(key, change.value ?? .null, on: &image, caller: caller, creating: false)
            case .remove:
                if base.contains(key) {
                    throw GlimpseError.forbidden("Properties \(key) must not be removed.")
                }
                guard image.properties.removeValue(forKey: key) != nil else {
                    throw GlimpseError.conflict("Property \(key) does not exist.")
                }
            }
        }
        try checkQuotas(image)
        if image.visibility != original.visibility {
            try enforceVisibilityPolicy(image.visibility, previous: original.visibility, caller: caller)
        }
        if image != original { image.updatedAt = now }
        return image
    }

    static func enforceVisibilityPolicy(_ v: Visibility, previous: Visibility?, caller: Caller) throws {
        switch v {
        case .public: try ImagePolicy.enforce(.publicizeImage, caller: caller, image: nil)
        case .community:
            guard caller.isAdmin || caller.hasRole("member") else {
                throw GlimpseError.forbidden("You are not authorized to complete communitize_image action.")
            }
        default: break
        }
    }

    static func checkQuotas(_ image: Image) throws {
        if image.properties.count > Image.maxProperties {
            throw GlimpseError.tooLarge(
                "Maximum number of properties exceeded: attempted \(image.properties.count), maximum \(Image.maxProperties).")
        }
        if image.tags.count > Image.maxTags {
            throw GlimpseError.tooLarge(
                "Maximum number of tags exceeded: attempted \(image.tags.count), maximum \(Image.maxTags).")
        }
    }

    static func enumError(_ key: String, _ value: JSONValue, _ allowed: [String], nullable: Bool) -> GlimpseError {
        let list = (nullable ? ["None"] : []) + allowed.map { "'\($0)'" }
        return schemaError("\(value.pythonRepr) is not one of [\(list.joined(separator: ", "))] (attribute '\(key)')")
    }

    static func typeError(_ key: String, _ value: JSONValue, _ expected: String) -> GlimpseError {
        schemaError("\(value.pythonRepr) is not of type \(expected) (attribute '\(key)')")
    }

    static func optionalString(_ key: String, _ value: JSONValue, max: Int) throws -> String? {
        switch value {
        case .null: return nil
        case .string(let s):
            guard s.count <= max else { throw schemaError("'\(key)' is too long (at most \(max) characters)") }
            return s
        default: throw typeError(key, value, "'null', 'string'")
        }
    }

    static func set(_ key: String, _ value: JSONValue, on image: inout Image, caller: Caller, creating: Bool) throws {
        switch key {
        case "name":
            image.name = try optionalString(key, value, max: 255)
        case "visibility":
            guard case .string(let s) = value, let v = Visibility(rawValue: s) else {
                throw enumError(key, value, ["community", "public", "private", "shared"], nullable: false)
            }
            image.visibility = v
        case "protected", "os_hidden":
            guard case .bool(let b) = value else { throw typeError(key, value, "'boolean'") }
            if key == "protected" { image.protected = b } else { image.osHidden = b }
        case "owner":
            let owner = try optionalString(key, value, max: 255)
            if !creating, owner != image.owner, !caller.isAdmin {
                throw GlimpseError.forbidden("Owner can't be updated by non admin.")
            }
            image.owner = owner
        case "disk_format", "container_format":
            let allowed = key == "disk_format" ? ImageFormats.disk : ImageFormats.container
            var format: String?
            switch value {
            case .null: format = nil
            case .string(let s) where allowed.contains(s): format = s
            default: throw enumError(key, value, allowed, nullable: true)
            }
            let current = key == "disk_format" ? image.diskFormat : image.containerFormat
            if !creating, format != current, image.status != .queued {
                throw GlimpseError.forbidden("Attribute \(key) can be only replaced for a queued image.")
            }
            if key == "disk_format" { image.diskFormat = format } else { image.containerFormat = format }
        case "min_ram", "min_disk":
            guard case .int(let n) = value else { throw typeError(key, value, "'integer'") }
            guard n >= 0 else { throw GlimpseError.badRequest("Cannot set \(key) to a negative value.") }
            if key == "min_ram" { image.minRAM = n } else { image.minDisk = n }
        case "tags":
            guard case .array(let items) = value else { throw typeError(key, value, "'array'") }
            var tags: [String] = []
            // A set keeps the de-duplication linear: a 1 MiB body holds ~150,000 tags, and `Array.contains`
            // per tag made that minutes of CPU before the quota check could answer 413.
            var seen = Set<String>()
            for item in items {
                guard case .string(let t) = item else { throw typeError(key, item, "'string'") }
                guard t.count <= 255 else { throw schemaError("tag '\(t.prefix(20))…' is too long (at most 255 characters)") }
                if seen.insert(t).inserted { tags.append(t) }
            }
            image.tags = tags
        default:
            guard case .string(let s) = value else { throw typeError(key, value, "'string'") }
            try setProperty(key, s, on: &image)
        }
    }

    /// Sets an extra property (not a base attribute) after checking its name.
    static func setProperty(_ key: String, _ value: String, on image: inout Image) throws {
        guard key.count <= 255 else {
            throw GlimpseError.badRequest("Property name '\(key.prefix(40))…' is longer than 255 characters.")
        }
        guard !key.isEmpty else { throw GlimpseError.badRequest("Property names must not be empty.") }
        image.properties[key] = value
    }

    /// Checks a typed property's name as a create body or patch would: reserved, read-only and base names are not
    /// properties.
    static func checkPropertyName(_ key: String) throws {
        if isReserved(key) { throw GlimpseError.forbidden("Attribute '\(key)' is reserved.") }
        if readOnly.contains(key) { throw GlimpseError.forbidden("Attribute '\(key)' is read-only.") }
        if base.contains(key) { throw GlimpseError.badRequest("'\(key)' is an image attribute, not a property.") }
    }

    /// Builds a new queued image from a typed draft, with the rules of `newImage(from:)`.
    public static func newImage(from draft: ImageDraft, caller: Caller, id: String, now: Timestamp) throws -> Image {
        var image = Image(id: id, owner: caller.projectID, createdAt: now, updatedAt: now)
        if let name = draft.name {
            guard name.count <= 255 else { throw schemaError("'name' is too long (at most 255 characters)") }
            image.name = name
        }
        image.visibility = draft.visibility
        guard draft.minRAM >= 0, draft.minDisk >= 0 else {
            throw GlimpseError.badRequest("Cannot set min_ram or min_disk to a negative value.")
        }
        image.minRAM = draft.minRAM
        image.minDisk = draft.minDisk
        try setFormats(diskFormat: draft.diskFormat, containerFormat: draft.containerFormat, on: &image)
        for (key, value) in draft.properties.sorted(by: { $0.key < $1.key }) {
            try checkPropertyName(key)
            try setProperty(key, value, on: &image)
        }
        try checkQuotas(image)
        try enforceVisibilityPolicy(image.visibility, previous: nil, caller: caller)
        return image
    }

    /// Applies typed changes with the rules of a JSON-patch `add` of each.
    public static func apply(_ change: ImageAmendment, to original: Image, now: Timestamp) throws -> Image {
        var image = original
        if change.diskFormat != nil || change.containerFormat != nil {
            let disk = change.diskFormat ?? image.diskFormat, container = change.containerFormat ?? image.containerFormat
            if (disk != image.diskFormat || container != image.containerFormat), image.status != .queued {
                throw GlimpseError.forbidden("Attribute disk_format or container_format can be only replaced for a queued image.")
            }
            try setFormats(diskFormat: disk, containerFormat: container, on: &image)
        }
        for (key, value) in change.properties.sorted(by: { $0.key < $1.key }) {
            try checkPropertyName(key)
            try setProperty(key, value, on: &image)
        }
        try checkQuotas(image)
        if image != original { image.updatedAt = now }
        return image
    }

    static func setFormats(diskFormat: String?, containerFormat: String?, on image: inout Image) throws {
        if let d = diskFormat, !ImageFormats.disk.contains(d) {
            throw enumError("disk_format", .string(d), ImageFormats.disk, nullable: true)
        }
        if let c = containerFormat, !ImageFormats.container.contains(c) {
            throw enumError("container_format", .string(c), ImageFormats.container, nullable: true)
        }
        image.diskFormat = diskFormat
        image.containerFormat = containerFormat
    }
}

extension String {
    /// JSON-pointer unescaping (`~1` is `/`, `~0` is `~`).
    func replacingTilde() -> String {
        guard contains("~") else { return self }
        var out = ""
        var it = makeIterator()
        while let c = it.next() {
            if c == "~", let n = it.next() {
                out.append(n == "1" ? "/" : n == "0" ? "~" : n)
            } else {
                out.append(c)
            }
        }
        return out
    }
}
