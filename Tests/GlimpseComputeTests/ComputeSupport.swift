import Foundation
import GlimpseCompute
import GlimpseCore
import GlimpseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

// HTTP-level harness for the Compute API: a fresh Glimpse (own data directory, `--auth none`) on a live listener.

struct Who: Sendable {
    let user: String
    let project: String
    let roles: String

    var headers: HTTPFields {
        [
            HTTPField.Name("X-User-Id")!: user,
            HTTPField.Name("X-Project-Id")!: project,
            HTTPField.Name("X-Roles")!: roles,
        ]
    }

    static let alice = Who(user: "alice", project: "p-alice", roles: "member,reader")
    static let aliceReader = Who(user: "alice-reader", project: "p-alice", roles: "reader")
    static let bob = Who(user: "bob", project: "p-bob", roles: "member,reader")
    static let admin = Who(user: "admin", project: "p-admin", roles: "admin,member,reader")
}

struct Reply: Sendable, CustomStringConvertible {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    var text: String { String(buffer: body) }
    var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))) ?? .null }
    subscript(_ key: String) -> JSONValue? { json[key] }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
    var description: String { "\(status.code) \(text.prefix(500))" }
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var int: Int64? { if case .int(let i) = self { return i } else { return nil } }
    var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
}

struct API: Sendable {
    let client: any TestClientProtocol
    let dataDirectory: String

    func send(
        _ method: HTTPRequest.Method, _ path: String, as who: Who = .alice, version: String? = nil,
        headers: HTTPFields = [:], body: ByteBuffer? = nil
    ) async throws -> Reply {
        var h = who.headers
        if let version { h[HTTPField.Name("OpenStack-API-Version")!] = "compute \(version)" }
        for f in headers { h[f.name] = f.value }
        let r = try await client.executeRequest(uri: path, method: method, headers: h, body: body)
        return Reply(status: r.status, headers: r.headers, body: r.body)
    }

    func get(_ path: String, as who: Who = .alice, version: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(.get, path, as: who, version: version, headers: headers)
    }

    func post(_ path: String, json: String, as who: Who = .alice, version: String? = nil) async throws -> Reply {
        try await send(.post, path, as: who, version: version, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    func delete(_ path: String, as who: Who = .alice, version: String? = nil) async throws -> Reply {
        try await send(.delete, path, as: who, version: version)
    }

    func action(_ id: String, _ json: String, as who: Who = .alice, version: String? = "2.47") async throws -> Reply {
        try await post("/compute/v2.1/servers/\(id)/action", json: json, as: who, version: version)
    }

    /// An active raw image of `size` bytes holding `fill`, with extra properties; returns its id.
    func image(
        size: Int = 1 << 20, fill: UInt8 = 0x5a, properties: [String: String] = [:], as who: Who = .alice,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        var body = #"{"name":"base","disk_format":"raw","container_format":"bare""#
        for (k, v) in properties.sorted(by: { $0.key < $1.key }) { body += #","\#(k)":"\#(v)""# }
        body += "}"
        let r = try await post("/v2/images", json: body, as: who)
        #expect(r.status == .created, "image create: \(r)", sourceLocation: sourceLocation)
        let id = try #require(r["id"]?.string, sourceLocation: sourceLocation)
        let put = try await send(
            .put, "/v2/images/\(id)/file", as: who, headers: [.contentType: "application/octet-stream"],
            body: ByteBuffer(bytes: [UInt8](repeating: fill, count: size)))
        #expect(put.status == .noContent, "upload: \(put)", sourceLocation: sourceLocation)
        return id
    }

    /// Creates a server (202 expected) and returns its id.
    func server(
        image: String, flavor: String = "1", name: String = "vm", as who: Who = .alice,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let r = try await post(
            "/compute/v2.1/servers",
            json: #"{"server":{"name":"\#(name)","flavorRef":"\#(flavor)","imageRef":"\#(image)","min_count":1,"max_count":1,"networks":"none","block_device_mapping_v2":[{"uuid":"\#(image)","boot_index":0,"source_type":"image","destination_type":"local","delete_on_termination":true}]}}"#,
            as: who, version: "2.47")
        #expect(r.status == .accepted, "server create: \(r)", sourceLocation: sourceLocation)
        return try #require(r["server"]?["id"]?.string, sourceLocation: sourceLocation)
    }

    func show(_ id: String, as who: Who = .alice, version: String = "2.47") async throws -> Reply {
        try await get("/compute/v2.1/servers/\(id)", as: who, version: version)
    }

    /// Polls the server until `done` holds (10 s at most); returns the last document.
    @discardableResult
    func wait(
        _ id: String, as who: Who = .alice, sourceLocation: SourceLocation = #_sourceLocation,
        until done: (JSONValue) -> Bool
    ) async throws -> JSONValue {
        var last: JSONValue = .null
        for _ in 0..<200 {
            let r = try await show(id, as: who)
            last = r["server"] ?? .null
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("server \(id) did not reach the expected state; last: \(last)", sourceLocation: sourceLocation)
        return last
    }

    func waitStatus(_ id: String, _ status: String, as who: Who = .alice, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> JSONValue
    {
        try await wait(id, as: who, sourceLocation: sourceLocation) {
            $0["status"]?.string == status && $0["OS-EXT-STS:task_state"] == .null
        }
    }

    /// Polls an image until its status is `status` or it is gone (nil).
    func waitImage(_ id: String, _ status: String?, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue? {
        for _ in 0..<1200 {  // a 1 GiB snapshot is converted and hashed: allow a loaded machine a minute
            let r = try await get("/v2/images/\(id)", as: .admin)
            if r.status == .notFound { if status == nil { return nil } }
            if r.status == .ok, r["status"]?.string == status { return r.json }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("image \(id) did not reach \(status ?? "deleted")", sourceLocation: sourceLocation)
        return nil
    }
}

func testDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-compute-test-\(UUID().uuidString)").path
}

/// Runs `body` against a Glimpse serving `dir` (a fresh directory unless given).
func withGlimpse(
    dataDirectory: String? = nil, snapshotFormat: String = "qcow2", hypervisor: HypervisorKind = .overlay,
    qemu: QemuOptions = .init(), _ body: @Sendable (API) async throws -> Void
) async throws {
    let dir = dataDirectory ?? testDirectory()
    defer { if dataDirectory == nil { try? FileManager.default.removeItem(atPath: dir) } }
    var logger = Logger(label: "glimpse-compute-test")
    logger.logLevel = .error
    var config = GlimpseConfiguration(
        host: "127.0.0.1", port: 0, dataDirectory: dir, publicURL: "http://glimpse.test:9292", auth: .none,
        snapshotFormat: snapshotFormat)
    // The API-semantics tests boot 1 MiB images that are not bootable: they run on the overlay driver, explicitly.
    config.hypervisor = hypervisor
    config.qemu = qemu
    let app = try await GlimpseApplication.build(config, logger: logger)
    try await app.test(.live) { client in
        try await body(API(client: client, dataDirectory: dir))
    }
}

/// Runs a program and returns its standard output (qemu-img, qemu-io in tests).
func run(_ args: [String]) throws -> String {
    guard let name = args.first, let program = name.hasPrefix("/") ? name : ["/usr/bin/", "/bin/", "/usr/sbin/"].map({ $0 + name }).first(where: FileManager.default.isExecutableFile(atPath:)) else {
        return ""
    }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-run-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    let pid = try ChildProcess.spawn([program] + args.dropFirst(), stdout: out)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
}
