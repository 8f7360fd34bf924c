import AsyncHTTPClient
import Foundation
import GlimpseCore
import GlimpseHTTP
import GlimpseStorage
import HTTPTypes
import Hummingbird
import NIOCore

/// The Compute API v2.1 routes under `/compute`: version documents (no token), flavors, servers and server actions.
/// Translates HTTP to `ServerService` calls and back; the rules live in the service and `ServerRules`.
public struct ComputeController: Sendable {
    let service: ServerService
    let views: ComputeViews
    /// Where `Location` headers of pre-2.45 createImage replies point (the image endpoint, unversioned).
    let imageEndpoint: String

    public init(service: ServerService, publicURL: String) {
        self.service = service
        self.views = ComputeViews(publicURL: publicURL)
        self.imageEndpoint = publicURL
    }

    /// Passes actions on to other nodes: no redirects, a short connect timeout (a dead node is refused quickly).
    static let nodeClient = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(3))))

    public func addRoutes(to router: Router<GlimpseRequestContext>, authenticator: any Authenticator) {
        let versions = views.versions.buffer
        let version = views.version.buffer
        // The router treats `/compute/v2.1/` and `/compute/v2.1` alike.
        router.get("compute") { _, _ in Response.json(versions) }
        router.get("compute/v2.1") { _, _ in Response.json(version) }
        let api = router.group("compute/v2.1").add(middleware: ComputeAPIMiddleware(authenticator: authenticator))
            .add(middleware: ServerHostForwardingMiddleware(service: service, client: Self.nodeClient))
        api.get("flavors") { r, c in try await listFlavors(r, c, detail: false) }
        api.get("flavors/detail") { r, c in try await listFlavors(r, c, detail: true) }
        api.get("flavors/:id", use: showFlavor)
        api.post("flavors", use: createFlavor)
        api.delete("flavors/:id", use: deleteFlavor)
        api.get("servers") { r, c in try await listServers(r, c, detail: false) }
        api.get("servers/detail") { r, c in try await listServers(r, c, detail: true) }
        api.get("servers/:id", use: showServer)
        api.post("servers", use: createServer)
        api.delete("servers/:id", use: deleteServer)
        api.post("servers/:id/action", use: action)
        addBootTestRoutes(to: api)
    }

    static func json(_ body: CJSON, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: body.buffer))
    }

    static func invalid(_ field: String, _ value: JSONValue?, _ why: String) -> GlimpseError {
        .badRequest("Invalid input for field/attribute \(field). Value: \(value?.pythonRepr ?? "None"). \(why)")
    }

    // MARK: flavors

    func listFlavors(_ request: Request, _ context: GlimpseRequestContext, detail: Bool) async throws -> Response {
        let caller = try context.requireCaller()
        let q = request.uri.queryParameters
        var isPublic: Bool? = true
        if let raw = q.get("is_public") {
            switch raw.lowercased() {
            case "none": isPublic = nil
            case "1", "t", "true", "on", "y", "yes": isPublic = true
            case "0", "f", "false", "off", "n", "no": isPublic = false
            default: throw GlimpseError.badRequest("Invalid is_public filter [\(raw)]")
            }
        }
        func int(_ name: String) throws -> Int64? {
            guard let raw = q.get(name) else { return nil }
            guard let v = Int64(raw), v >= 0 else { throw GlimpseError.badRequest("Invalid \(name) filter [\(raw)]") }
            return v
        }
        var flavors = try await service.flavors(
            isPublic: isPublic, minRAM: try int("minRam"), minDisk: try int("minDisk"), caller: caller)
        if let marker = q.get("marker") {
            guard let i = flavors.firstIndex(where: { $0.id == marker }) else {
                throw GlimpseError.badRequest("marker [\(marker)] not found")
            }
            flavors = Array(flavors[(i + 1)...])
        }
        var links: [CJSON] = []
        if let raw = q.get("limit") {
            guard let limit = Int(raw), limit >= 0 else { throw GlimpseError.badRequest("limit param must be an integer") }
            if flavors.count > limit, limit > 0 {
                flavors = Array(flavors.prefix(limit))
                links.append(.object([
                    ("rel", .string("next")),
                    ("href", .string("\(views.base)/v2.1/flavors\(detail ? "/detail" : "")?limit=\(limit)&marker=\(flavors.last!.id)")),
                ]))
            } else {
                flavors = Array(flavors.prefix(limit))
            }
        }
        var o: [(String, CJSON)] = [("flavors", .array(flavors.map { views.flavor($0, detail: detail) }))]
        if !links.isEmpty { o.append(("flavors_links", .array(links))) }
        return Self.json(.object(o))
    }

    func showFlavor(_ request: Request, _ context: GlimpseRequestContext) async throws -> Response {
        let f = try await service.flavor(try context.parameters.require("id"), caller: try context.requireCaller())
        return Self.json(.object([("flavor", views.flavor(f, detail: true))]))
    }

    func createFlavor(_ request: Request, _ context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try ComputePolicy.enforce("os_compute_api:os-flavor-manage:create", ComputePolicy.isAdmin(caller))
        let body = try await request.decodeJSONObject(context: context)
        guard let f = body["flavor"]?.objectValue else {
            throw Self.invalid("flavor", body["flavor"], "'flavor' is a required property")
        }
        let allowed: Set<String> = [
            "name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap", "rxtx_factor",
            "os-flavor-access:is_public",
        ]
        if let extra = f.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw GlimpseError.badRequest("Invalid input for field/attribute flavor. Additional properties are not allowed ('\(extra)' was unexpected)")
        }
        guard case .string(let rawName)? = f["name"] else { throw Self.invalid("name", f["name"], "'name' is a required property") }
        let name = rawName.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 255, name == rawName else {
            throw Self.invalid("name", f["name"], "The name must be 1 to 255 characters without leading or trailing spaces.")
        }
        func number(_ key: String, required: Bool, min: Int64) throws -> Int64? {
            guard let v = f[key], v != .null else {
                if required { throw Self.invalid(key, nil, "'\(key)' is a required property") }
                return nil
            }
            guard let n = v.intValue, n >= min, n <= Int64(Int32.max) else {
                throw Self.invalid(key, v, "It must be an integer of at least \(min).")
            }
            return n
        }
        var id = UUID().uuidString.lowercased()
        if let raw = f["id"], raw != .null {
            let s: String
            switch raw {
            case .string(let str): s = str
            case .int(let i): s = String(i)
            default: throw Self.invalid("id", raw, "It must be a string.")
            }
            let ok = !s.isEmpty && s.count <= 255 && !s.hasPrefix(" ") && !s.hasSuffix(" ")
                && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ". _-".contains($0)) }
            guard ok else { throw Self.invalid("id", raw, "It must match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'.") }
            if s.lowercased() != "auto" { id = s }
        }
        var rxtx = 1.0
        if let r = f["rxtx_factor"], r != .null {
            switch r {
            case .int(let i): rxtx = Double(i)
            case .double(let d): rxtx = d
            case .string(let s) where Double(s) != nil: rxtx = Double(s)!
            default: throw Self.invalid("rxtx_factor", r, "It must be a number.")
            }
            guard rxtx > 0 else { throw Self.invalid("rxtx_factor", r, "It must be greater than 0.") }
        }
        var isPublic = true
        if let p = f["os-flavor-access:is_public"], p != .null {
            guard case .bool(let b) = p else { throw Self.invalid("os-flavor-access:is_public", p, "It must be a boolean.") }
            isPublic = b
        }
        let flavor = Flavor(
            id: id, name: name, ram: try number("ram", required: true, min: 1)!,
            vcpus: try number("vcpus", required: true, min: 1)!, disk: try number("disk", required: true, min: 0)!,
            ephemeral: try number("OS-FLV-EXT-DATA:ephemeral", required: false, min: 0) ?? 0,
            swap: try number("swap", required: false, min: 0) ?? 0, rxtxFactor: rxtx, isPublic: isPublic)
        let created = try await service.createFlavor(flavor, caller: caller)
        return Self.json(.object([("flavor", views.flavor(created, detail: true))]))
    }

    func deleteFlavor(_ request: Request, _ context: GlimpseRequestContext) async throws -> Response {
        try await service.deleteFlavor(try context.parameters.require("id"), caller: try context.requireCaller())
        return Response(status: .accepted)
    }

    // MARK: servers

    func listServers(_ request: Request, _ context: GlimpseRequestContext, detail: Bool) async throws -> Response {
        let caller = try context.requireCaller()
        let v = try APIVersion.negotiate(request.headers)
        let q = request.uri.queryParameters
        var query = ServerListQuery()
        query.name = q.get("name")
        query.status = q.get("status")
        query.image = q.get("image")
        query.flavor = q.get("flavor")
        if let all = q.get("all_tenants") {
            query.allTenants = !["0", "f", "false", "off", "n", "no"].contains(all.lowercased())
        }
        if caller.isAdmin || query.allTenants {
            query.projectID = q.get("project_id") ?? q.get("tenant_id")
        } else if let p = q.get("tenant_id") ?? q.get("project_id"), p != caller.projectID {
            query.projectID = p
        }
        if let d = q.get("deleted") { query.deleted = ["1", "t", "true", "on", "y", "yes"].contains(d.lowercased()) }
        if let raw = q.get("changes-since") {
            guard let t = Timestamp(iso8601: raw) else {
                throw GlimpseError.badRequest("Invalid input for query parameters changes-since. Value: \(raw). '\(raw)' is not a 'date-time'")
            }
            query.changesSince = t.microseconds
        }
        query.marker = q.get("marker")
        if let raw = q.get("limit") {
            guard let l = Int(raw), l >= 0 else {
                throw GlimpseError.badRequest("Invalid input for query parameters limit. Value: \(raw). '\(raw)' does not match '^[0-9]*$'")
            }
            query.limit = l
        }
        let servers = try await service.list(query, detail: detail, caller: caller, version: v)
        var o: [(String, CJSON)] = [
            ("servers", .array(servers.map { detail ? views.server($0, version: v, caller: caller) : views.serverSummary($0) }))
        ]
        let pageSize = min(query.limit ?? ServerService.maxListLimit, ServerService.maxListLimit)
        if pageSize > 0, servers.count == pageSize, let last = servers.last {
            let limit = pageSize
            var params = ["limit=\(limit)", "marker=\(last.id)"]
            if let n = query.name { params.insert("name=\(n.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? n)", at: 0) }
            o.append(("servers_links", .array([.object([
                ("rel", .string("next")),
                ("href", .string("\(views.base)/v2.1/servers\(detail ? "/detail" : "")?\(params.joined(separator: "&"))")),
            ])])))
        }
        return Self.json(.object(o))
    }

    func showServer(_ request: Request, _ context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let v = try APIVersion.negotiate(request.headers)
        let s = try await service.server(try context.parameters.require("id"), caller: caller)
        return Self.json(.object([("server", views.server(s, version: v, caller: caller))]))
    }

    func deleteServer(_ request: Request, _ context: GlimpseRequestContext) async throws -> Response {
        try await service.delete(try context.parameters.require("id"), caller: try context.requireCaller())
        return Response(status: .noContent)
    }

    static let createKeys: Set<String> = [
        "name", "imageRef", "flavorRef", "adminPass", "metadata", "networks", "OS-DCF:diskConfig", "accessIPv4",
        "accessIPv6", "personality", "block_device_mapping", "block_device_mapping_v2", "config_drive", "key_name",
        "min_count", "max_count", "return_reservation_id", "security_groups", "user_data", "availability_zone",
        "os:scheduler_hints", "OS-SCH-HNT:scheduler_hints",
    ]

    func createServer(_ request: Request, _ context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let v = try APIVersion.negotiate(request.headers)
        let body = try await request.decodeJSONObject(context: context)
        guard let s = body["server"]?.objectValue else {
            throw Self.invalid("server", body["server"], "'server' is a required property")
        }
        for key in s.keys.sorted() {
            let known = Self.createKeys.contains(key) || (key == "description" && v >= APIVersion(2, 19))
            if !known {
                throw GlimpseError.badRequest(
                    "Invalid input for field/attribute server. Additional properties are not allowed ('\(key)' was unexpected)")
            }
        }
        let name = try Self.name(s["name"], field: "name")
        guard let flavorRef = s["flavorRef"].flatMap({ $0.stringValue ?? $0.intValue.map(String.init) }), !flavorRef.isEmpty else {
            throw Self.invalid("flavorRef", s["flavorRef"], "'flavorRef' is a required property")
        }
        var imageRef = ""
        if let raw = s["imageRef"], raw != .null {
            guard let str = raw.stringValue else { throw Self.invalid("imageRef", raw, "It must be a string.") }
            imageRef = str
        }
        if let bdms = s["block_device_mapping_v2"], bdms != .null {
            guard case .array(let items) = bdms else {
                throw Self.invalid("block_device_mapping_v2", bdms, "It must be an array.")
            }
            for item in items {
                guard let b = item.objectValue else { throw Self.invalid("block_device_mapping_v2", item, "It must be an object.") }
                let source = b["source_type"]?.stringValue, dest = b["destination_type"]?.stringValue ?? "local"
                let boot = b["boot_index"].flatMap { $0.intValue }
                guard source == "image", dest == "local", boot == 0 || boot == nil, let uuid = b["uuid"]?.stringValue else {
                    throw GlimpseError.badRequest(
                        "Block device mapping is not supported here: Glimpse has no block storage and accepts only the boot image (source_type image, destination_type local, boot_index 0).")
                }
                if imageRef.isEmpty { imageRef = uuid }
            }
        }
        if s["block_device_mapping"].map({ $0 != .null && $0 != .array([]) }) == true {
            throw GlimpseError.badRequest("Block device mapping is not supported here: Glimpse has no block storage.")
        }
        guard !imageRef.isEmpty else {
            throw GlimpseError.badRequest("Missing imageRef attribute")
        }
        // Networks: required from 2.37 ("none", "auto" or a list); Glimpse has no networking, so only no NIC.
        let networks = s["networks"]
        if v >= APIVersion(2, 37) {
            guard let networks else {
                throw GlimpseError.badRequest(
                    "Invalid input for field/attribute server. Value: \(JSONValue.object(s).pythonRepr). 'networks' is a required property")
            }
            switch networks {
            case .string("none"), .string("auto"): break
            case .array(let a) where a.isEmpty: break
            case .array(let a):
                let net = a.first?.objectValue?["uuid"]?.stringValue ?? a.first?.objectValue?["port"]?.stringValue ?? "?"
                throw GlimpseError.badRequest("Network \(net) could not be found.")
            default:
                throw Self.invalid("networks", networks, "It must be \"none\", \"auto\" or a list.")
            }
        } else if let networks, networks != .null {
            switch networks {
            case .array(let a) where a.isEmpty: break
            case .array(let a):
                let net = a.first?.objectValue?["uuid"]?.stringValue ?? a.first?.objectValue?["port"]?.stringValue ?? "?"
                throw GlimpseError.badRequest("Network \(net) could not be found.")
            default: throw Self.invalid("networks", networks, "It must be a list.")
            }
        }
        if let key = s["key_name"], key != .null {
            throw GlimpseError.badRequest("Invalid key_name provided.")
        }
        if let az = s["availability_zone"]?.stringValue, !az.isEmpty, az != "nova" {
            throw GlimpseError.badRequest("The requested availability zone is not available")
        }
        let metadata = try Self.metadata(s["metadata"])
        var description: String?
        if let d = s["description"], d != .null {
            guard let str = d.stringValue, str.count <= 255 else {
                throw Self.invalid("description", d, "It must be a string of at most 255 characters.")
            }
            description = str
        }
        func count(_ key: String) throws -> Int? {
            guard let raw = s[key], raw != .null else { return nil }
            guard let n = raw.intValue, n >= 1, n <= 100 else { throw Self.invalid(key, raw, "It must be an integer of at least 1.") }
            return Int(n)
        }
        let minCount = try count("min_count") ?? 1
        let maxCount = try count("max_count") ?? minCount
        guard minCount <= maxCount else {
            throw GlimpseError.badRequest("min_count must be <= max_count")
        }
        let adminPass = s["adminPass"]?.stringValue ?? Self.password()
        let req = ServerCreateRequest(
            name: name, imageRef: imageRef, flavorRef: flavorRef, metadata: metadata, description: description,
            count: maxCount,
            userName: caller.userName ?? caller.userID, projectName: caller.projectName ?? caller.projectID ?? "")
        let created = try await service.create(req, caller: caller)
        let first = created[0]
        if s["return_reservation_id"] == .bool(true) {
            return Self.json(.object([("reservation_id", .string(String(format: "r-%08llx", first.serial)))]), status: .accepted)
        }
        var response = Self.json(.object([("server", .object([
            ("id", .string(first.id)),
            ("links", views.links("servers", first.id)),
            ("OS-DCF:diskConfig", .string(s["OS-DCF:diskConfig"]?.stringValue ?? "MANUAL")),
            ("security_groups", .array([.object([("name", .string("default"))])])),
            ("adminPass", .string(adminPass)),
        ]))]), status: .accepted)
        response.headers[.location] = "\(views.base)/v2.1/servers/\(first.id)"
        return response
    }

    static func password() -> String {
        let chars = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<12).map { _ in chars.randomElement()! })
    }

    /// Nova's `name` parameter: 1–255 printable characters without leading or trailing whitespace.
    static func name(_ value: JSONValue?, field: String) throws -> String {
        guard let value, value != .null else { throw invalid(field, nil, "'\(field)' is a required property") }
        guard let s = value.stringValue else { throw invalid(field, value, "\(value.pythonRepr) is not of type 'string'") }
        guard !s.isEmpty else { throw invalid(field, value, "'' is too short") }
        guard s.count <= 255 else { throw invalid(field, value, "It is too long (at most 255 characters).") }
        guard s.trimmingCharacters(in: .whitespacesAndNewlines) == s,
            !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw invalid(field, value, "It has leading or trailing whitespace or non-printable characters.") }
        return s
    }

    /// Nova's metadata: keys of 1–255 characters, string values of at most 255.
    static let maxMetadataItems = 128

    static func metadata(_ value: JSONValue?, keyPattern: Bool = false) throws -> [String: String] {
        guard let value, value != .null else { return [:] }
        guard let o = value.objectValue else { throw invalid("metadata", value, "It must be an object.") }
        // Nova's metadata_items quota (default 128): bounds what one request can make every later view carry.
        guard o.count <= maxMetadataItems else {
            throw GlimpseError.forbidden("Maximum number of metadata items exceeds \(maxMetadataItems)")
        }
        var out: [String: String] = [:]
        for (k, v) in o {
            guard !k.isEmpty, k.count <= 255 else { throw invalid("metadata", value, "Metadata keys must be 1 to 255 characters.") }
            if keyPattern, !k.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_:. ".contains($0)) }) {
                throw invalid("metadata", value, "'\(k)' does not match '^[a-zA-Z0-9-_:. ]{1,255}$'")
            }
            guard let s = v.stringValue, s.count <= 255 else {
                throw invalid("metadata", value, "Metadata values must be strings of at most 255 characters.")
            }
            out[k] = s
        }
        return out
    }

    // MARK: actions

    /// `os-getConsoleOutput`'s `length`: absent or null for the whole log, else a count of lines (a JSON integer
    /// or a string of digits, as Nova's schema allows); negative or anything else is a 400.
    static func consoleLength(_ value: JSONValue?) throws -> Int? {
        let count: Int64?
        switch value {
        case nil, .null?: return nil
        case .int(let i)?: count = i
        case .string(let s)?: count = s.allSatisfy(\.isASCII) ? Int64(s) : nil
        default: count = nil
        }
        guard let count else {
            throw invalid("length", value, "\(value?.pythonRepr ?? "None") is not of type 'integer', 'string', 'null'")
        }
        guard count >= 0 else { throw invalid("length", value, "\(count) is less than the minimum of 0") }
        return Int(clamping: count)
    }

    func action(_ request: Request, _ context: GlimpseRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let v = try APIVersion.negotiate(request.headers)
        let id = try context.parameters.require("id")
        let body = try await request.decodeJSONObject(context: context)
        let known = ["os-stop", "os-start", "reboot", "createImage", "os-getConsoleOutput"]
        guard let name = body.keys.sorted().first(where: known.contains) else {
            // Unknown actions: the server is looked up first (404), then 400 as Nova's action dispatch answers.
            _ = try await service.server(id, caller: caller)
            throw GlimpseError.badRequest("There is no such action: \(body.keys.sorted().first ?? "None")")
        }
        let arg = body[name]!
        switch name {
        case "os-stop", "os-start":
            guard arg == .null else { throw Self.invalid(name, arg, "\(arg.pythonRepr) is not of type 'null'") }
            if name == "os-stop" {
                try await service.stop(id, caller: caller)
            } else {
                try await service.start(id, caller: caller)
            }
            return Response(status: .accepted)
        case "reboot":
            guard let o = arg.objectValue, let type = o["type"]?.stringValue else {
                throw Self.invalid("reboot", arg, "'type' is a required property")
            }
            guard ["soft", "hard"].contains(type.lowercased()), ["SOFT", "Soft", "soft", "HARD", "Hard", "hard"].contains(type) else {
                throw Self.invalid("type", .string(type), "'\(type)' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']")
            }
            try await service.reboot(id, hard: type.lowercased() == "hard", caller: caller)
            return Response(status: .accepted)
        case "os-getConsoleOutput":
            guard let o = arg.objectValue else { throw Self.invalid("os-getConsoleOutput", arg, "\(arg.pythonRepr) is not of type 'object'") }
            if let extra = o.keys.sorted().first(where: { $0 != "length" }) {
                throw GlimpseError.badRequest(
                    "Invalid input for field/attribute os-getConsoleOutput. Additional properties are not allowed ('\(extra)' was unexpected)")
            }
            let lines = try Self.consoleLength(o["length"])
            let output = try await service.consoleOutput(id, lines: lines, caller: caller)
            return Self.json(.object([("output", .string(output))]))
        default:
            guard let o = arg.objectValue else { throw Self.invalid("createImage", arg, "It must be an object.") }
            if let extra = o.keys.sorted().first(where: { $0 != "name" && $0 != "metadata" }) {
                throw GlimpseError.badRequest(
                    "Invalid input for field/attribute createImage. Additional properties are not allowed ('\(extra)' was unexpected)")
            }
            let imageName = try Self.name(o["name"], field: "name")
            let metadata = try Self.metadata(o["metadata"], keyPattern: true)
            let imageID = try await service.createImage(id, name: imageName, metadata: metadata, caller: caller)
            if v >= APIVersion(2, 45) {
                return Self.json(.object([("image_id", .string(imageID))]), status: .accepted)
            }
            var r = Response(status: .accepted)
            r.headers[.location] = "\(imageEndpoint)/images/\(imageID)"
            return r
        }
    }
}
