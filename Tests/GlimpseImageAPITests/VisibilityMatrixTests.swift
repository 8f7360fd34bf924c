import HTTPTypes
import Testing

/// The visibility matrix: 4 visibilities × {owner, other project, member pending / accepted / rejected, admin} ×
/// {list, show, download, update, delete}, each cell checked against Glance 33's rule:
/// - the DB layer hides what a caller may not see (glance/db/utils.py `is_image_visible`): 404 before any policy;
///   admins and owners see everything, public and community images are seen by all, shared images by their members
///   whatever their status, private images by nobody else (member records left over from a time the image was
///   shared do not count);
/// - then the secure-RBAC policy (glance-33-default-policies.tsv): `modify_image` / `delete_image` are the owner's
///   (or an admin's), else 403; `get_image` and `download_image` allow every caller that can see the image here
///   (all of these callers have role member);
/// - the default list (no filters) shows public images, one's own, and shared images whose membership is
///   `accepted`; others' community images are not listed; admins list everything.
@Suite struct VisibilityMatrixTests {
    enum Op: String, CaseIterable, Sendable { case list, show, download, update, delete }

    enum Outcome: Sendable, Equatable, CustomStringConvertible {
        case listed, notListed
        case status(Int)

        var description: String {
            switch self {
            case .listed: "listed"
            case .notListed: "not listed"
            case .status(let s): String(s)
            }
        }
    }

    struct Cell: Sendable, CustomTestStringConvertible {
        let visibility: String
        let caller: Who
        let op: Op
        let expected: Outcome
        var testDescription: String { "\(visibility) × \(caller) × \(op.rawValue) → \(expected)" }
    }

    /// One row per (visibility, caller): list, show, download, update, delete. Written out by hand from the rules
    /// above, not computed, so the table can be read against Glance.
    static let table: [(String, Who, [Outcome])] = {
        let L = Outcome.listed, N = Outcome.notListed
        func s(_ codes: Int...) -> [Outcome] { codes.map { .status($0) } }
        return [
            ("public", .owner, [L] + s(200, 200, 200, 204)),
            ("public", .other, [L] + s(200, 200, 403, 403)),
            ("public", .pending, [L] + s(200, 200, 403, 403)),
            ("public", .accepted, [L] + s(200, 200, 403, 403)),
            ("public", .rejected, [L] + s(200, 200, 403, 403)),
            ("public", .admin, [L] + s(200, 200, 200, 204)),

            ("community", .owner, [L] + s(200, 200, 200, 204)),
            ("community", .other, [N] + s(200, 200, 403, 403)),
            ("community", .pending, [N] + s(200, 200, 403, 403)),
            ("community", .accepted, [N] + s(200, 200, 403, 403)),
            ("community", .rejected, [N] + s(200, 200, 403, 403)),
            ("community", .admin, [L] + s(200, 200, 200, 204)),

            ("shared", .owner, [L] + s(200, 200, 200, 204)),
            ("shared", .other, [N] + s(404, 404, 404, 404)),
            ("shared", .pending, [N] + s(200, 200, 403, 403)),
            ("shared", .accepted, [L] + s(200, 200, 403, 403)),
            ("shared", .rejected, [N] + s(200, 200, 403, 403)),
            ("shared", .admin, [L] + s(200, 200, 200, 204)),

            ("private", .owner, [L] + s(200, 200, 200, 204)),
            ("private", .other, [N] + s(404, 404, 404, 404)),
            ("private", .pending, [N] + s(404, 404, 404, 404)),
            ("private", .accepted, [N] + s(404, 404, 404, 404)),
            ("private", .rejected, [N] + s(404, 404, 404, 404)),
            ("private", .admin, [L] + s(200, 200, 200, 204)),
        ]
    }()

    static let cells: [Cell] = table.flatMap { v, who, outcomes in
        zip(Op.allCases, outcomes).map { Cell(visibility: v, caller: who, op: $0, expected: $1) }
    }

    /// Readers (role reader only) see what a member of their project sees, but may not download or change.
    static let readerTable: [(String, Who, [Outcome])] = {
        let L = Outcome.listed, N = Outcome.notListed
        func s(_ codes: Int...) -> [Outcome] { codes.map { .status($0) } }
        return [
            ("public", .ownerReader, [L] + s(200, 403, 403, 403)),
            ("community", .ownerReader, [L] + s(200, 403, 403, 403)),
            ("shared", .ownerReader, [L] + s(200, 403, 403, 403)),
            ("private", .ownerReader, [L] + s(200, 403, 403, 403)),
            ("public", .otherReader, [L] + s(200, 403, 403, 403)),
            ("community", .otherReader, [N] + s(200, 403, 403, 403)),
            ("shared", .otherReader, [N] + s(404, 404, 404, 404)),
            ("private", .otherReader, [N] + s(404, 404, 404, 404)),
        ]
    }()

    static let readerCells: [Cell] = readerTable.flatMap { v, who, outcomes in
        zip(Op.allCases, outcomes).map { Cell(visibility: v, caller: who, op: $0, expected: $1) }
    }

    @Test func tableIsComplete() {
        #expect(Self.cells.count == 4 * 6 * 5)
        #expect(Set(Self.cells.map(\.testDescription)).count == Self.cells.count)
    }

    /// An active image of p-owner with members p-pending, p-accepted and p-rejected (each in that status), made
    /// while shared, then given `visibility` by an admin.
    static func makeImage(_ api: API, visibility: String) async throws -> String {
        let id = try await api.createImage(#"{"name":"matrix","disk_format":"raw","container_format":"bare"}"#)
        try await api.upload(id, Payload.hello)
        for who in [Who.pending, .accepted, .rejected] {
            let add = try await api.post("/v2/images/\(id)/members", json: #"{"member":"\#(who.project)"}"#)
            #expect(add.status == .ok, "add member: \(add)")
        }
        for (who, status) in [(Who.accepted, "accepted"), (.rejected, "rejected")] {
            let r = try await api.putJSON(
                "/v2/images/\(id)/members/\(who.project)", json: #"{"status":"\#(status)"}"#, as: who)
            #expect(r.status == .ok, "member status: \(r)")
        }
        if visibility != "shared" {
            let r = try await api.patch(
                id, #"[{"op":"replace","path":"/visibility","value":"\#(visibility)"}]"#, as: .admin)
            #expect(r.status == .ok, "visibility: \(r)")
        }
        #expect(try await api.image(id)["visibility"]?.string == visibility)
        return id
    }

    static func check(_ cell: Cell) async throws {
        try await withGlimpse { api in
            let id = try await makeImage(api, visibility: cell.visibility)
            let who = cell.caller
            switch cell.op {
            case .list:
                let r = try await api.get("/v2/images", as: who)
                #expect(r.status == .ok, "\(r)")
                let ids = r["images"]?.array?.compactMap { $0["id"]?.string } ?? []
                #expect((ids.contains(id) ? Outcome.listed : .notListed) == cell.expected)
                return
            case .show:
                let r = try await api.get("/v2/images/\(id)", as: who)
                #expect(r.status.code == code(cell), "\(r)")
                if r.status == .ok { #expect(r["id"]?.string == id) }
            case .download:
                let r = try await api.get("/v2/images/\(id)/file", as: who)
                #expect(r.status.code == code(cell), "\(r)")
                if r.status == .ok { #expect(r.bytes == Payload.hello) }
            case .update:
                let r = try await api.patch(id, #"[{"op":"replace","path":"/name","value":"changed"}]"#, as: who)
                #expect(r.status.code == code(cell), "\(r)")
                let name = try await api.image(id)["name"]?.string
                #expect(name == (r.status == .ok ? "changed" : "matrix"))
            case .delete:
                let r = try await api.delete("/v2/images/\(id)", as: who)
                #expect(r.status.code == code(cell), "\(r)")
                let after = try await api.get("/v2/images/\(id)", as: .admin)
                #expect(after.status == (r.status == .noContent ? .notFound : .ok))
            }
        }
    }

    static func code(_ cell: Cell) -> Int {
        if case .status(let s) = cell.expected { return s }
        return -1
    }

    @Test(arguments: cells)
    func cell(_ cell: Cell) async throws {
        try await Self.check(cell)
    }

    @Test(arguments: readerCells)
    func readerCell(_ cell: Cell) async throws {
        try await Self.check(cell)
    }

    /// Others' community images are listed with `visibility=community` or `visibility=all`.
    @Test(arguments: [Who.other, .pending, .accepted, .rejected])
    func communityImagesAreListedOnRequest(who: Who) async throws {
        try await withGlimpse { api in
            let id = try await Self.makeImage(api, visibility: "community")
            #expect(try await api.listIDs("visibility=community", as: who) == [id])
            #expect(try await api.listIDs("visibility=all", as: who) == [id])
        }
    }
}
