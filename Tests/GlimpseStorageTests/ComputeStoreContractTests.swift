import Foundation
import GlimpseCore
import GlimpseStorage
import Testing

/// The contract every `ComputeStore` backend must meet.
@Suite("ComputeStore contract")
struct ComputeStoreContractTests {
    static let tiny = Flavor.devstackDefaults[0]

    static func server(_ n: Int, project: String = "p1", image: String = "img-1") -> ServerRecord {
        ServerRecord(
            id: String(format: "10000000-0000-4000-8000-%012d", n), name: "server-\(n)", projectID: project,
            userID: "u1", imageID: image, flavor: tiny, vmState: .building, taskState: .spawning, powerState: .noState,
            metadata: ["k": "v"], createdAt: 1_700_000_000_000_000 + Int64(n), updatedAt: 1_700_000_000_000_000)
    }

    @Test(arguments: ComputeBackend.allCases)
    func aNewStoreHasTheDefaultFlavorsInOrder(_ backend: ComputeBackend) async throws {
        let (store, reopen) = try await backend.make()
        #expect(try await store.flavors() == Flavor.devstackDefaults)
        #expect(try await reopen().flavors() == Flavor.devstackDefaults, "reopening seeds nothing twice")
        #expect(try await store.flavor(id: "1") == Self.tiny)
        #expect(try await store.flavor(id: "nope") == nil)
    }

    @Test(arguments: ComputeBackend.allCases)
    func flavorsAreUniqueByIDAndNameAndAppendAtTheEnd(_ backend: ComputeBackend) async throws {
        let store = try await backend.make().store
        let custom = Flavor(id: "custom", name: "c1.odd", ram: 64, vcpus: 1, disk: 0, extraSpecs: ["hw:cpu": "x"])
        try await store.insertFlavor(custom)
        #expect(try await store.flavors().last == custom)
        await #expect(throws: GlimpseError.conflict("Flavor with ID custom already exists.")) {
            try await store.insertFlavor(Flavor(id: "custom", name: "other", ram: 1, vcpus: 1, disk: 1))
        }
        await #expect(throws: GlimpseError.conflict("Flavor with name m1.tiny already exists.")) {
            try await store.insertFlavor(Flavor(id: "new", name: "m1.tiny", ram: 1, vcpus: 1, disk: 1))
        }
        #expect(try await store.deleteFlavor(id: "custom"))
        #expect(try await store.deleteFlavor(id: "custom") == false)
        #expect(try await store.flavor(id: "custom") == nil)
    }

    @Test(arguments: ComputeBackend.allCases)
    func serversRoundTripWithDistinctSerials(_ backend: ComputeBackend) async throws {
        let (store, reopen) = try await backend.make()
        let first = try await store.insertServer(Self.server(1))
        let second = try await store.insertServer(Self.server(2, project: "p2", image: "img-2"))
        #expect(first.serial > 0 && second.serial > first.serial)
        var expected = Self.server(1)
        expected.serial = first.serial
        #expect(first == expected)
        #expect(try await store.server(id: first.id) == first)
        #expect(try await reopen().server(id: first.id) == first, "a reopened store returns the same record")
        #expect(try await store.server(id: "missing") == nil)
        await #expect(throws: GlimpseError.conflict("A server with identifier \(first.id) already exists.")) {
            _ = try await store.insertServer(Self.server(1))
        }
        #expect(try await store.servers(projectID: nil).map(\.id) == [second.id, first.id], "newest first")
        #expect(try await store.servers(projectID: "p2").map(\.id) == [second.id])
        #expect(try await store.serverCount(usingImage: "img-1") == 1)
        #expect(try await store.serverCount(usingImage: "img-9") == 0)
    }

    @Test(arguments: ComputeBackend.allCases)
    func updatesAreAtomicAndKeepIdentity(_ backend: ComputeBackend) async throws {
        let store = try await backend.make().store
        let server = try await store.insertServer(Self.server(1))
        await #expect(throws: GlimpseError.self) {
            try await store.updateServer(id: server.id) { s in
                s.vmState = .active
                throw GlimpseError.conflict("no")
            }
        }
        #expect(try await store.server(id: server.id) == server, "an update that throws changes nothing")
        let updated = try await store.updateServer(id: server.id) { s in
            s.vmState = .active
            s.imageID = "img-2"
            s.id = "changed"
            s.serial = 999
        }
        #expect(updated.id == server.id && updated.serial == server.serial && updated.vmState == .active)
        #expect(try await store.serverCount(usingImage: "img-2") == 1, "queried columns follow the record")
        await #expect(throws: GlimpseError.notFound("Instance missing could not be found.")) {
            try await store.updateServer(id: "missing") { _ in }
        }
    }

    @Test(arguments: ComputeBackend.allCases)
    func onlyOneOfManyRacingStateChangesWins(_ backend: ComputeBackend) async throws {
        let store = try await backend.make().store
        let server = try await store.insertServer(Self.server(1))
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    do {
                        try await store.updateServer(id: server.id) { s in
                            guard s.taskState == .spawning else { throw GlimpseError.conflict("busy") }
                            s.taskState = nil
                        }
                        return true
                    } catch let e as GlimpseError where e.kind == .conflict {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
    }

    @Test(arguments: ComputeBackend.allCases)
    func deleteReturnsTheRecordOnce(_ backend: ComputeBackend) async throws {
        let store = try await backend.make().store
        let server = try await store.insertServer(Self.server(1))
        #expect(try await store.deleteServer(id: server.id) == server)
        #expect(try await store.deleteServer(id: server.id) == nil)
        #expect(try await store.server(id: server.id) == nil)
        #expect(try await store.serverCount(usingImage: server.imageID) == 0)
    }
}
