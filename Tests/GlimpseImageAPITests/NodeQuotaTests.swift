import GlimpseCore
import GlimpseImageAPI
import NIOCore
import Testing

/// A project's storage quota holds across nodes: what one node's writers hold in flight counts on every node.
@Suite("Quota across nodes")
struct NodeQuotaTests {
    typealias Cluster = NodeRecoveryTests.Cluster
    typealias HeldBody = NodeRecoveryTests.HeldBody
    static let owner = NodeRecoveryTests.owner
    static let mib: Int64 = 1 << 20

    /// `mib` MiB of data, streamed a MiB at a time.
    static func bytes(_ mib: Int) -> AsyncStream<ByteBuffer> {
        AsyncStream { feed in
            for _ in 0..<mib { feed.yield(ByteBuffer(bytes: [UInt8](repeating: 3, count: 1 << 20))) }
            feed.finish()
        }
    }

    /// The kind of the error `body` throws; nil when it succeeds.
    static func kind(_ body: () async throws -> Image) async -> GlimpseError.Kind? {
        do {
            _ = try await body()
            return nil
        } catch let error as GlimpseError {
            return error.kind
        } catch {
            return .internalError
        }
    }

    @Test func anUploadInFlightOnOneNodeCountsAgainstTheQuotaOnTheOther() async throws {
        let cluster = try await Cluster.make()
        let limits = ImageLimits(projectQuota: 100 * Self.mib)
        let a = try await cluster.node("node-a", limits: limits)
        let b = try await cluster.node("node-b", limits: limits)
        try await a.recover()
        try await b.recover()
        let helper = NodeRecoveryTests()

        // Node A holds 60 MiB for an upload whose size was declared and whose data is still coming.
        let first = try await helper.newImage(a)
        let body = HeldBody()
        let upload = Task { try await a.upload(first, body: body.stream, declaredSize: 60 * Self.mib, caller: Self.owner) }
        body.feed.yield(ByteBuffer(bytes: [UInt8](repeating: 1, count: 1 << 20)))
        try await helper.wait(a, first, for: .saving)

        // On node B a second 60 MiB write does not fit beside it, whatever path it takes.
        let second = try await helper.newImage(b)
        let refusal = await Self.kind { try await b.upload(second, body: Self.bytes(60), declaredSize: 60 * Self.mib, caller: Self.owner) }
        #expect(refusal == .tooLarge, "60 MiB beside node A's 60 MiB in flight: \(String(describing: refusal))")
        let refused = try await b.metadata.image(id: second)
        #expect(refused?.status == .queued, "the refused upload keeps nothing")
        // A write that fits beside it goes through on B.
        let small = try await b.upload(
            second, body: AsyncStream { $0.yield(ByteBuffer(bytes: [UInt8](repeating: 2, count: 1 << 20))); $0.finish() },
            declaredSize: nil, caller: Self.owner)
        #expect(small.status == .active)

        for _ in 0..<59 { body.feed.yield(ByteBuffer(bytes: [UInt8](repeating: 1, count: 1 << 20))) }
        body.feed.finish()
        #expect(try await upload.value.size == 60 * Self.mib)
        // Stored now: 61 MiB of 100; node A's hold is given back, so 39 MiB fit and 40 do not.
        let third = try await helper.newImage(b)
        let late = await Self.kind { try await b.upload(third, body: Self.bytes(40), declaredSize: 40 * Self.mib, caller: Self.owner) }
        #expect(late == .tooLarge, "40 MiB beside 61 stored: \(String(describing: late))")
        let fits = try await b.upload(third, body: Self.bytes(39), declaredSize: 39 * Self.mib, caller: Self.owner)
        #expect(fits.status == .active)
    }
}
