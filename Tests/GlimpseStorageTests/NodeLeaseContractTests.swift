import GlimpseCore
import GlimpseStorage
import Testing

/// The node leases and work claims every `MetadataStore` backend keeps for recovery among several nodes.
@Suite("Node leases and work claims contract")
struct NodeLeaseContractTests {
    @Test(arguments: MetadataBackend.allCases)
    func heartbeatsRecordTheLatestLeaseOfEachNode(_ backend: MetadataBackend) async throws {
        let (store, reopen) = try await backend.make()
        #expect(try await store.nodeLeases().isEmpty)
        try await store.heartbeat(NodeLease(node: "node-b", address: "http://10.0.0.2:9292", heartbeatAt: Timestamp(microseconds: 10)))
        try await store.heartbeat(NodeLease(node: "node-a", address: "http://10.0.0.1:9292", heartbeatAt: Timestamp(microseconds: 20)))
        try await store.heartbeat(NodeLease(node: "node-b", address: "http://10.0.0.3:9292", heartbeatAt: Timestamp(microseconds: 30)))
        let expected = [
            NodeLease(node: "node-a", address: "http://10.0.0.1:9292", heartbeatAt: Timestamp(microseconds: 20)),
            NodeLease(node: "node-b", address: "http://10.0.0.3:9292", heartbeatAt: Timestamp(microseconds: 30)),
        ]
        #expect(try await store.nodeLeases() == expected)
        #expect(try await reopen().nodeLeases() == expected, "leases are durable")
    }

    @Test(arguments: MetadataBackend.allCases)
    func aClaimNamesOneNodeAndOnlyThatNodeReleasesIt(_ backend: MetadataBackend) async throws {
        let (store, reopen) = try await backend.make()
        let image = MetadataStoreContractTests.image(1)
        try await store.insertImage(image)
        try await store.claimWork(imageID: image.id, node: "node-a")
        #expect(try await store.workClaims() == [image.id: "node-a"])
        try await store.releaseWork(imageID: image.id, node: "node-b")
        #expect(try await store.workClaims() == [image.id: "node-a"], "another node's release leaves the claim")
        // A later claim (the image was recovered and its work begun again elsewhere) replaces the earlier one.
        try await store.claimWork(imageID: image.id, node: "node-b")
        #expect(try await reopen().workClaims() == [image.id: "node-b"], "claims are durable")
        try await store.releaseWork(imageID: image.id, node: "node-a")
        #expect(try await store.workClaims() == [image.id: "node-b"])
        try await store.releaseWork(imageID: image.id, node: "node-b")
        #expect(try await store.workClaims().isEmpty)
    }

    @Test(arguments: MetadataBackend.allCases)
    func claimsGoWithTheirImageAndNeedOne(_ backend: MetadataBackend) async throws {
        let store = try await backend.make().store
        let image = MetadataStoreContractTests.image(2)
        try await store.insertImage(image)
        try await store.claimWork(imageID: image.id, node: "node-a")
        _ = try await store.deleteImage(id: image.id, onlyIf: { _ in })
        #expect(try await store.workClaims().isEmpty, "deleting the image removes its claim")
        await #expect(throws: GlimpseError.self) {
            try await store.claimWork(imageID: MetadataStoreContractTests.image(3).id, node: "node-a")
        }
    }
}
