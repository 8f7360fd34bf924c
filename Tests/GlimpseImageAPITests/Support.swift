import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Testing

// The harness every HTTP-level test uses: a fresh Glimpse (own temporary data directory, `--auth none`) on a live
// loopback listener, callers identified by trusted headers, and small helpers for JSON bodies.

/// A caller, as `--auth none` trusts it: X-User-Id, X-Project-Id and X-Roles (implied roles are not expanded).
struct Who: Sendable, CustomStringConvertible {
    let name: String
    let project: String
    let roles: String

    var description: String { name }

    var headers: HTTPFields {
        [
            HTTPField.Name("X-User-Id")!: "user-\(name)",
            HTTPField.Name("X-Project-Id")!: project,
            HTTPField.Name("X-Roles")!: roles,
        ]
    }

    static let owner = Who(name: "owner", project: "p-owner", roles: "reader,member")
    static let ownerReader = Who(name: "owner-reader", project: "p-owner", roles: "reader")
    static let other = Who(name: "other", project: "p-other", roles: "reader,member")
    static let otherReader = Who(name: "other-reader", project: "p-other", roles: "reader")
    static let pending = Who(name: "pending", project: "p-pending", roles: "reader,member")
    static let accepted = Who(name: "accepted", project: "p-accepted", roles: "reader,member")
    static let rejected = Who(name: "rejected", project: "p-rejected", roles: "reader,member")
    static let admin = Who(name: "admin", project: "p-admin", roles: "admin,member,reader")
}

/// One HTTP answer.
struct Reply: Sendable, CustomStringConvertible {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    var text: String { String(buffer: body) }
    var bytes: [UInt8] { Array(body.readableBytesView) }
    var json: JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))) ?? .null
    }
    subscript(_ key: String) -> JSONValue? { json[key] }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }

    var description: String { "\(status.code) \(text.prefix(400))" }
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var int: Int64? { if case .int(let i) = self { return i } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
    var isNull: Bool { self == .null }
    var strings: [String]? { array?.compactMap(\.string) }
}

/// The media types of Glance's image PATCH.
enum Patch {
    static let v21 = "application/openstack-images-v2.1-json-patch"
    static let v20 = "application/openstack-images-v2.0-json-patch"
}

/// A running Glimpse and the client talking to it.
struct API: Sendable {
    let client: any TestClientProtocol
    let dataDirectory: String

    func send(
        _ method: HTTPRequest.Method, _ path: String, as who: Who? = .owner, headers: HTTPFields = [:],
        body: ByteBuffer? = nil
    ) async throws -> Reply {
        var h = who?.headers ?? [:]
        for field in headers { h[field.name] = field.value }
        let r = try await client.executeRequest(uri: path, method: method, headers: h, body: body)
        return Reply(status: r.status, headers: r.headers, body: r.body)
    }

    func get(_ path: String, as who: Who? = .owner, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(.get, path, as: who, headers: headers)
    }

    func delete(_ path: String, as who: Who? = .owner) async throws -> Reply {
        try await send(.delete, path, as: who)
    }

    func post(_ path: String, json: String, as who: Who? = .owner) async throws -> Reply {
        try await send(.post, path, as: who, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    func post(_ path: String, as who: Who? = .owner) async throws -> Reply {
        try await send(.post, path, as: who)
    }

    func putJSON(_ path: String, json: String, as who: Who? = .owner) async throws -> Reply {
        try await send(.put, path, as: who, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    func patch(_ id: String, _ ops: String, as who: Who? = .owner, type: String = Patch.v21) async throws -> Reply {
        try await send(.patch, "/v2/images/\(id)", as: who, headers: [.contentType: type], body: ByteBuffer(string: ops))
    }

    func put(
        _ path: String, data: [UInt8], as who: Who? = .owner, type: String? = "application/octet-stream",
        headers: HTTPFields = [:]
    ) async throws -> Reply {
        var h = headers
        if let type { h[.contentType] = type }
        return try await send(.put, path, as: who, headers: h, body: ByteBuffer(bytes: data))
    }

    /// Creates an image (201 expected) and returns its id.
    @discardableResult
    func createImage(
        _ json: String = #"{"name":"img","disk_format":"raw","container_format":"bare"}"#, as who: Who = .owner,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let r = try await post("/v2/images", json: json, as: who)
        #expect(r.status == .created, "create: \(r)", sourceLocation: sourceLocation)
        return try #require(r["id"]?.string, sourceLocation: sourceLocation)
    }

    /// Uploads data to an image (204 expected).
    func upload(
        _ id: String, _ data: [UInt8], as who: Who = .owner, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let r = try await put("/v2/images/\(id)/file", data: data, as: who)
        #expect(r.status == .noContent, "upload: \(r)", sourceLocation: sourceLocation)
    }

    /// The image as an admin sees it (200 expected).
    func image(_ id: String, as who: Who = .admin, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> JSONValue
    {
        let r = try await get("/v2/images/\(id)", as: who)
        #expect(r.status == .ok, "show: \(r)", sourceLocation: sourceLocation)
        return r.json
    }

    /// The ids of one page of `GET /v2/images[?query]`.
    func listIDs(_ query: String = "", as who: Who = .owner, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> [String]
    {
        let r = try await get("/v2/images" + (query.isEmpty ? "" : "?" + query), as: who)
        #expect(r.status == .ok, "list ?\(query): \(r)", sourceLocation: sourceLocation)
        return r["images"]?.array?.compactMap { $0["id"]?.string } ?? []
    }

    /// Files kept under the data directory's blob store (finished or not). Deleted objects waiting in `trash/` for
    /// their background unlink are not counted: they can no longer be read (FileBlobStoreTests check they go).
    func blobFiles() -> [String] {
        let root = dataDirectory + "/blobs"
        guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let f = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + f, isDirectory: &isDir), !isDir.boolValue,
               !f.hasPrefix("trash/") {
                files.append(f)
            }
        }
        return files
    }

    /// Sends raw bytes on a new connection and returns everything the server answers until it closes the
    /// connection. For what the test client cannot send: chunked bodies, `Expect: 100-continue`.
    /// `then` is sent once the answer so far contains `after` (when given).
    func raw(_ request: [UInt8], then more: [UInt8] = [], after marker: String? = nil) async throws -> String {
        String(decoding: try await rawBytes(request, then: more, after: marker), as: UTF8.self)
    }

    /// `raw`, byte for byte.
    func rawBytes(_ request: [UInt8], then more: [UInt8] = [], after marker: String? = nil) async throws -> [UInt8] {
        let port = try #require(client.port)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: request))
            var sentMore = marker == nil
            if sentMore, !more.isEmpty { try await outbound.write(ByteBuffer(bytes: more)) }
            var answer = ByteBuffer()
            for try await part in inbound {
                var part = part
                answer.writeBuffer(&part)
                if !sentMore, let marker, String(buffer: answer).contains(marker) {
                    sentMore = true
                    try await outbound.write(ByteBuffer(bytes: more))
                }
            }
            return Array(answer.readableBytesView)
        }
    }
}

/// Runs `body` against a fresh Glimpse with its own data directory.
func withGlimpse(
    limits: ImageLimits = .init(), publicURL: String? = nil, _ body: @Sendable (API) async throws -> Void
) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-api-test-\(UUID().uuidString)")
        .path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var logger = Logger(label: "glimpse-api-test")
    logger.logLevel = .error
    let config = GlimpseConfiguration(
        host: "127.0.0.1", port: 0, dataDirectory: dir, publicURL: publicURL, auth: .none, limits: limits)
    let app = try await GlimpseApplication.build(config, logger: logger)
    try await app.test(.live) { client in
        try await body(API(client: client, dataDirectory: dir))
    }
}

/// Checks an error answer: the status and Glimpse's JSON error body `{"message","code","title"}`.
func expectError(
    _ r: Reply, _ status: HTTPResponse.Status, containing fragment: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(r.status == status, "expected \(status.code), got \(r)", sourceLocation: sourceLocation)
    #expect(r.header("Content-Type") == "application/json", "error content type: \(r)", sourceLocation: sourceLocation)
    #expect(r["code"]?.string == "\(status.code) \(status.reasonPhrase)", "code: \(r)", sourceLocation: sourceLocation)
    #expect(r["title"]?.string == status.reasonPhrase, "title: \(r)", sourceLocation: sourceLocation)
    let message = r["message"]?.string
    #expect(message?.isEmpty == false, "message: \(r)", sourceLocation: sourceLocation)
    if let fragment {
        #expect(
            message?.contains(fragment) == true, "message should contain \"\(fragment)\": \(r)",
            sourceLocation: sourceLocation)
    }
}

/// Deterministic test payloads whose digests were computed once outside Swift (md5sum, sha512sum).
enum Payload {
    /// 5 MiB + 3 bytes, byte i = i % 251: more than one upload-pipeline chunk (4 MiB).
    static let big: [UInt8] = (0..<(5 * 1024 * 1024 + 3)).map { UInt8($0 % 251) }
    static let bigMD5 = "eb646f361b0e8190355d40d9c69b295a"
    static let bigSHA512 =
        "045d67699c481a4d34a9ad7215eeb843a1a9366a4ab7c65c8e006ea965bafb2f6ef068c91f30bd33f83c07c6f58059350f43eacd750f201e4816270eed2c9af3"

    /// `printf 'hello glimpse'`.
    static let hello: [UInt8] = Array("hello glimpse".utf8)
    static let helloMD5 = "462cf9e9768462043221c8557cceb7af"
    static let helloSHA512 =
        "d014fbc2a867fbf669ab481113b69276482353eeaa701b8f482e429760799fdd3d4658e56fda9eb72f94c6b943bbc18339db2bbca273339c611a9773b2b12a0f"
}
