// Boot tests, "beyond Nova": an image is booted in a throwaway server with its own properties, the guest must
// show it is up (its agent answers `guest-ping`, or a console line matches the caller's pattern) within the
// timeout, an optional check runs in it through the agent (passing on exit status 0), the outcome is recorded on
// the image (glimpse_boot_test, glimpse_boot_test_at, glimpse_boot_test_reason) when the caller may update it,
// and the throwaway server is deleted whatever happened. The server is an ordinary server of the caller's project
// (same policy, capacity and listing), created through `create`, so nothing here bypasses the server rules.

import Foundation
import GlimpseCore
import GlimpseImageAPI
import GlimpseStorage

extension ServerService {
    /// Boot tests one project may run at once: each holds a guest's memory while it runs.
    static let maxRunningBootTestsPerProject = 4
    /// The server metadata key naming a throwaway server's boot test: in user metadata for people to see, in
    /// system metadata for start-up, which deletes such servers.
    static let bootTestMetadataKey = "glimpse_boot_test"
    /// The longest reason recorded on an image (image property values are at most 255 characters).
    static let maxRecordedReason = 255

    /// A failure of the run, said in the user's terms.
    struct BootTestFailure: Error {
        var reason: String
    }

    /// Checks the request against the image and the driver, creates the throwaway server and starts the run;
    /// returns the test as it starts. Refusals (no guests, unknown image or flavor, no way to see the guest is up)
    /// are errors here, before any server exists.
    public func startBootTest(_ req: BootTestRequest, caller: Caller) async throws -> BootTest {
        try ComputePolicy.enforce("os_compute_api:os-glimpse-boot-tests:create", ComputePolicy.canWrite(caller))
        guard driver.runsGuests else {
            throw GlimpseError.conflict(
                "Cannot boot-test an image here: the \(driver.name) driver runs no guests, so nothing can show that the image boots. Serve with --hypervisor qemu.")
        }
        guard let project = caller.projectID else {
            throw GlimpseError.badRequest("A boot test needs a project: the token is not scoped to one.")
        }
        let imageID = Self.lastSegment(req.imageRef)
        let image: Image
        do {
            image = try await images.visibleImage(imageID, caller: caller)
        } catch let e as GlimpseError where e.kind == .notFound {
            throw GlimpseError.badRequest("Image \(imageID) could not be found.")
        }
        let hasAgent = ServerRules.isTrue(image.properties["hw_qemu_guest_agent"])
        guard hasAgent || req.consolePattern != nil else {
            throw GlimpseError.badRequest(
                "Image \(image.id) does not enable the guest agent (hw_qemu_guest_agent=yes): give a console_pattern that shows the guest is up.")
        }
        if req.check != nil, !hasAgent {
            throw GlimpseError.badRequest(
                "A check runs through the guest agent, which image \(image.id) does not enable (hw_qemu_guest_agent=yes).")
        }
        let flavor = try await bootTestFlavor(req.flavorRef, image: image, caller: caller)
        let now = NovaTime.now()
        let test = BootTest(
            id: UUID().uuidString.lowercased(), projectID: project, userID: caller.userID, imageID: image.id,
            flavorID: flavor.id, serverID: nil, timeoutSeconds: req.timeoutSeconds,
            readiness: req.consolePattern != nil ? "console" : "guest-agent", createdAt: now)
        guard await bootTests.insert(test, limit: Self.maxRunningBootTestsPerProject) else {
            throw GlimpseError.conflict(
                "Project \(project) already runs \(Self.maxRunningBootTestsPerProject) boot tests; wait until one ends.")
        }
        let server: ServerRecord
        do {
            let created = try await create(
                ServerCreateRequest(
                    name: "boot-test-\(image.id.prefix(8))", imageRef: image.id, flavorRef: flavor.id,
                    metadata: [Self.bootTestMetadataKey: test.id], description: "Throwaway server of boot test \(test.id)",
                    userName: caller.userName ?? caller.userID, projectName: caller.projectName ?? project),
                caller: caller)
            guard let first = created.first else { throw GlimpseError.internalError("no server was created") }
            // The mark start-up trusts is in system metadata, which no request can set (user metadata can).
            server = try await store.updateServer(id: first.id) { $0.systemMetadata[Self.bootTestMetadataKey] = test.id }
        } catch {
            await bootTests.remove(test.id)
            throw error
        }
        let started = await bootTests.update(test.id) {
            $0.serverID = server.id
            $0.step("server", "throwaway server \(server.id) created with flavor \(flavor.name) (\(flavor.ram) MiB)")
        }
        logger.info("boot test \(test.id): image \(image.id) in server \(server.id), flavor \(flavor.name)")
        await tasks.run("boot-test-" + test.id) { [self] in
            await self.runBootTest(test.id, serverID: server.id, imageID: image.id, request: req, caller: caller)
        }
        return started ?? test
    }

    /// The test if the caller may see it (its project, or any for admins); 404 otherwise.
    public func bootTest(_ id: String, caller: Caller) async throws -> BootTest {
        try ComputePolicy.enforce("os_compute_api:os-glimpse-boot-tests:show", ComputePolicy.canRead(caller))
        guard let test = await bootTests.get(id), caller.isAdmin || caller.actsFor(test.projectID) else {
            throw GlimpseError.notFound("Boot test \(id) could not be found.")
        }
        return test
    }

    /// The flavor asked for, or the smallest usable one that fits the image (min_ram, min_disk, virtual size).
    func bootTestFlavor(_ ref: String?, image: Image, caller: Caller) async throws -> Flavor {
        if let ref {
            let id = Self.lastSegment(ref)
            guard let f = try await store.flavor(id: id), f.isPublic || caller.isAdmin, !f.disabled else {
                throw GlimpseError.badRequest("Flavor \(id) could not be found.")
            }
            return f
        }
        let gib: Int64 = 1 << 30
        let imageBytes = image.virtualSize ?? image.size ?? 0
        let fitting = try await store.flavors().filter { f in
            guard f.isPublic || caller.isAdmin, !f.disabled, f.ram >= image.minRAM else { return false }
            if f.disk == 0 { return true }
            let (bytes, overflow) = f.disk.multipliedReportingOverflow(by: gib)
            return !overflow && f.disk >= image.minDisk && bytes >= imageBytes
        }
        let smallest = fitting.min { a, b in
            (a.ram, a.disk, a.vcpus, a.id) < (b.ram, b.disk, b.vcpus, b.id)
        }
        guard let smallest else {
            throw GlimpseError.badRequest(
                "No flavor fits image \(image.id) (min_ram \(image.minRAM) MiB, min_disk \(image.minDisk) GiB, \(imageBytes) bytes).")
        }
        return smallest
    }

    /// The background half: the steps, then the record on the image and the deletion of the server, in every case.
    func runBootTest(_ id: String, serverID: String, imageID: String, request: BootTestRequest, caller: Caller) async {
        let deadline = ContinuousClock.now + .seconds(request.timeoutSeconds)
        var reason: String?
        var interrupted = false
        do {
            try await bootTestSteps(id, serverID: serverID, request: request, deadline: deadline)
        } catch let f as BootTestFailure {
            reason = f.reason
        } catch {
            interrupted = Task.isCancelled
            reason = interrupted ? "Glimpse stopped while the test ran" : Self.describe(error)
        }
        let passed = reason == nil
        if let reason { logger.notice("boot test \(id) failed: \(reason)") }

        // An interrupted test says nothing about the image: it is not marked failed for it.
        let (recorded, note) =
            interrupted
            ? (false, "The outcome was not recorded on image \(imageID): the test was interrupted.")
            : await recordBootTest(imageID: imageID, passed: passed, reason: reason, at: NovaTime.now(), caller: caller)
        await bootTests.update(id) {
            if recorded {
                $0.step("recorded", "glimpse_boot_test=\(passed ? "passed" : "failed") recorded on image \(imageID)")
            } else {
                $0.step("not recorded", note ?? "")
            }
        }
        var deleteFailure: String?
        do {
            do {
                try await delete(serverID, caller: caller)
            } catch let e as GlimpseError where e.kind == .notFound {
                // Already gone (deleted by its owner while the test ran).
            } catch {
                // The caller's own delete was refused (a role removed meanwhile): the test still cleans up.
                try await finishDelete(serverID)
            }
        } catch {
            deleteFailure = Self.describe(error)
            logger.error("boot test \(id): could not delete server \(serverID): \(deleteFailure ?? "")")
        }
        await bootTests.update(id) {
            if let deleteFailure {
                $0.step("server", "throwaway server \(serverID) could not be deleted: \(deleteFailure)")
            } else {
                $0.step("server", "throwaway server \(serverID) deleted")
            }
            $0.imageUpdated = recorded
            $0.imageNote = note
            $0.reason = reason
            $0.status = passed ? .passed : .failed
            $0.finishedAt = NovaTime.now()
        }
        logger.info("boot test \(id) of image \(imageID): \(passed ? "passed" : "failed")")
    }

    /// Builds, waits for the guest to be up, runs the check. Throws `BootTestFailure` with the reason.
    func bootTestSteps(_ id: String, serverID: String, request: BootTestRequest, deadline: ContinuousClock.Instant) async throws {
        let started = ContinuousClock.now
        let limit = "\(request.timeoutSeconds) s"
        func elapsed() -> String {
            let ms = (ContinuousClock.now - started).components
            let tenths = ms.seconds * 10 + ms.attoseconds / 100_000_000_000_000_000
            return "\(tenths / 10).\(tenths % 10) s"
        }
        func current() async throws -> ServerRecord {
            guard let s = try await store.server(id: serverID) else {
                throw BootTestFailure(reason: "the throwaway server was deleted while the test ran")
            }
            return s
        }

        // 1. The build: BUILD → ACTIVE (or ERROR with its fault).
        while true {
            let s = try await current()
            if s.vmState == VMState.error {
                throw BootTestFailure(reason: "the server failed to build: \(s.faultMessage ?? "no fault recorded")")
            }
            if s.vmState == VMState.active, s.taskState == nil { break }
            guard ContinuousClock.now < deadline else {
                throw BootTestFailure(reason: "the server did not become ACTIVE within \(limit)")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        await bootTests.update(id) { $0.step("active", "server ACTIVE after \(elapsed()) (QEMU started)") }

        // 2. The guest shows it is up.
        let pattern = try request.consolePattern.map(NamePattern.init)
        let wantsAgent = request.consolePattern == nil || request.check != nil
        var consoleSeen = pattern == nil
        var lastConsoleLine: Substring?
        var agentSeen = !wantsAgent
        while !(consoleSeen && agentSeen) {
            let s = try await current()
            let ds = driverServer(s)
            if s.vmState != VMState.active || s.powerState != .running {
                throw BootTestFailure(reason: "the guest stopped before it showed it was up (server \(ServerRules.status(vmState: s.vmState, taskState: s.taskState)))")
            }
            if !consoleSeen, let pattern, let text = await driver.consoleOutput(of: serverID, maxBytes: Self.bootTestConsoleWindow) {
                // Host notes ("[glimpse] booting under …") are not the guest's output.
                // Serial lines end in CR LF (one Character to Swift): split on any line break, so `^` and `$`
                // anchor at the guest's lines. Only complete lines, and only those after the last one already
                // matched against (an identical line would match alike), so each line costs one match.
                var lines = text.split(whereSeparator: \.isNewline)
                if let last = text.last, !last.isNewline, !lines.isEmpty { lines.removeLast() }
                let start = lastConsoleLine.flatMap { seen in lines.lastIndex { $0 == seen } }.map { $0 + 1 } ?? 0
                consoleSeen = lines[start...].contains { line in
                    !line.hasPrefix("[glimpse]") && pattern.matches(String(line))
                }
                if let last = lines.last { lastConsoleLine = last }
                if consoleSeen { await bootTests.update(id) { $0.step("console", "a console line matched after \(elapsed())") } }
            }
            if !agentSeen, (try? await driver.pingGuestAgent(ds)) != nil {
                agentSeen = true
                await bootTests.update(id) { $0.step("agent", "the guest agent answered guest-ping after \(elapsed())") }
            }
            if consoleSeen && agentSeen { break }
            guard ContinuousClock.now < deadline else {
                let what = !consoleSeen
                    ? "no console line matched \(request.consolePattern ?? "")"
                    : "its guest agent never answered guest-ping"
                throw BootTestFailure(reason: "the guest did not show it was up within \(limit): \(what)")
            }
            try await Task.sleep(for: .seconds(1))
        }
        await bootTests.update(id) { $0.step("up", "the guest is up after \(elapsed())") }

        // 3. The check, through the agent, within what is left of the timeout.
        guard let check = request.check else { return }
        let left = deadline - ContinuousClock.now
        guard left > .zero else { throw BootTestFailure(reason: "no time was left for the check within \(limit)") }
        let s = try await current()
        let result: GuestCommandResult
        do {
            result = try await driver.runInGuest(driverServer(s), path: check.path, arguments: check.arguments, timeout: left)
        } catch {
            throw BootTestFailure(reason: "the check \(check.path) could not run: \(Self.describe(error))")
        }
        // What the guest printed is the guest's: control characters become spaces before it is shown or recorded.
        let printable = String(String.UnicodeScalarView(result.output.unicodeScalars.map {
            $0.properties.generalCategory == .control ? " " : $0
        }))
        let tail = printable.trimmingCharacters(in: .whitespaces).suffix(200)
        await bootTests.update(id) {
            $0.step("check", "\(check.path) ended with \(result.summary)\(tail.isEmpty ? "" : ": \(tail)")", guest: true)
        }
        guard result.succeeded else {
            throw BootTestFailure(reason: "the check \(check.path) ended with \(result.summary)\(tail.isEmpty ? "" : ": \(tail)")")
        }
    }

    /// How much of the console's end each readiness poll reads (and matches line by line).
    static let bootTestConsoleWindow = 64 * 1024

    /// Writes the outcome on the image as the caller; returns whether it was written and, if not, why.
    func recordBootTest(imageID: String, passed: Bool, reason: String?, at: Int64, caller: Caller) async -> (Bool, String?) {
        do {
            let image = try await images.visibleImage(imageID, caller: caller)
            var changes: [(String, String, String?)] = [
                (image.properties["glimpse_boot_test"] == nil ? "add" : "replace", "glimpse_boot_test", passed ? "passed" : "failed"),
                (image.properties["glimpse_boot_test_at"] == nil ? "add" : "replace", "glimpse_boot_test_at", NovaTime.iso(at)),
            ]
            let hadReason = image.properties["glimpse_boot_test_reason"] != nil
            if let reason {
                changes.append((hadReason ? "replace" : "add", "glimpse_boot_test_reason", String(reason.prefix(Self.maxRecordedReason))))
            } else if hadReason {
                changes.append(("remove", "glimpse_boot_test_reason", nil))
            }
            let doc = JSONValue.array(changes.map { op, key, value in
                var o: [String: JSONValue] = ["op": .string(op), "path": .string("/" + key)]
                if let value { o["value"] = .string(value) }
                return .object(o)
            })
            _ = try await images.update(imageID, patch: try ImageRules.parsePatch(doc), caller: caller)
            return (true, nil)
        } catch let e as GlimpseError where e.kind == .forbidden {
            return (false, "The outcome was not recorded on image \(imageID): the caller may not update it.")
        } catch {
            return (false, "The outcome was not recorded on image \(imageID): \(Self.describe(error))")
        }
    }

    /// Start-up: a boot test runs inside the process that started it, so a throwaway server a previous process left
    /// (it ended mid-test) is deleted.
    public func deleteLeftoverBootTestServers() async throws {
        for s in try await store.servers(projectID: nil) where runsHere(s) && s.systemMetadata[Self.bootTestMetadataKey] != nil {
            try await finishDelete(s.id)
            logger.notice("deleted server \(s.id), left by boot test \(s.systemMetadata[Self.bootTestMetadataKey] ?? "") when Glimpse stopped")
        }
    }
}
