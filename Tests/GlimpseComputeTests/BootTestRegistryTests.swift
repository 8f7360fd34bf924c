@testable import GlimpseCompute
import Testing

// The boot-test registry: a per-project limit on tests running at once, and a bounded memory of finished ones.

@Suite struct BootTestRegistryTests {
    static func test(_ id: String, project: String) -> BootTest {
        BootTest(
            id: id, projectID: project, userID: "u", imageID: "i", flavorID: "42", serverID: nil, timeoutSeconds: 60,
            readiness: "guest-agent", createdAt: 0)
    }

    @Test func aProjectRunsAtMostTheLimitAndAFinishedTestFreesASlot() async {
        let registry = BootTestRegistry()
        for n in 0..<4 {
            let inserted = await registry.insert(Self.test("a\(n)", project: "p"), limit: 4)
            #expect(inserted)
        }
        let fifth = await registry.insert(Self.test("a4", project: "p"), limit: 4)
        #expect(!fifth)
        let otherProject = await registry.insert(Self.test("b0", project: "q"), limit: 4)
        #expect(otherProject)
        await registry.update("a0") { $0.status = .passed }
        let afterOneEnded = await registry.insert(Self.test("a5", project: "p"), limit: 4)
        #expect(afterOneEnded)
        #expect(await registry.get("a0")?.status == .passed)
    }

    @Test func onlyTheNewestFinishedTestsAreRemembered() async {
        let registry = BootTestRegistry()
        let count = BootTestRegistry.capacity + 3
        for n in 0..<count {
            _ = await registry.insert(Self.test("t\(n)", project: "p\(n)"), limit: 1)
            await registry.update("t\(n)") { $0.status = .failed }
        }
        #expect(await registry.get("t0") == nil)
        #expect(await registry.get("t2") == nil)
        #expect(await registry.get("t3") != nil)
        #expect(await registry.get("t\(count - 1)")?.status == .failed)
    }
}
