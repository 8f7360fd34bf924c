// `glimpse image boot-test IMAGE`: starts a boot test through the compute extension `os-glimpse-boot-tests`,
// prints its steps as they come and exits 0 when the image passed, 1 when it failed (or the test could not run),
// 2 on a usage error. Authenticates like the openstack client (see `OpenStackSession`).

import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOHTTP1

struct ImageBootTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot-test",
        abstract: "Boot an image in a throwaway server, check that it comes up, and record the outcome on the image.",
        discussion: """
            The guest is up when its agent answers (images with hw_qemu_guest_agent=yes) or, with \
            --console-pattern, when a console line matches. --check runs a command in the guest through its agent \
            (the rest of the arguments: the program's absolute path, then its arguments); it passes on exit \
            status 0. The outcome is recorded on the image as glimpse_boot_test, glimpse_boot_test_at and \
            glimpse_boot_test_reason when you may update the image. Exit status: 0 passed, 1 failed, 2 usage.
            """)

    @Argument(help: "The image's id or name.") var image: String
    @Option(help: "The flavor's id (default: the smallest flavor that fits the image).") var flavor: String?
    @Option(help: "Seconds the guest has to come up and pass the check (10 to 3600).") var timeout = 300
    @Option(help: "A regular expression (linear-time subset) that a console line matches once the guest is up.")
    var consolePattern: String?
    @Option(parsing: .remaining, help: "A command to run in the guest: PATH [ARG ...] (the rest of the line).")
    var check: [String] = []

    func validate() throws {
        guard (10...3600).contains(timeout) else { throw ValidationError("--timeout must be from 10 to 3600 seconds") }
        if let first = check.first, !first.hasPrefix("/") {
            throw ValidationError("--check wants the program's absolute path first (e.g. /bin/sh -c 'test -d /data')")
        }
        if let consolePattern, consolePattern.isEmpty || consolePattern.count > 255 {
            throw ValidationError("--console-pattern must be 1 to 255 characters")
        }
    }

    func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let passed: Bool
        do {
            passed = try await runTest(client: client)
        } catch {
            try? await client.shutdown()
            print("boot test failed to run: \(error)")
            throw ExitCode(1)
        }
        try? await client.shutdown()
        if !passed { throw ExitCode(1) }
    }

    func runTest(client: HTTPClient) async throws -> Bool {
        let session = try await OpenStackSession.authenticate(environment: ProcessInfo.processInfo.environment, client: client)
        let compute = try session.endpoint("compute")
        let imageID = try await resolveImage(session)
        var spec: [String: Any] = ["image_ref": imageID, "timeout": timeout]
        if let flavor { spec["flavor_ref"] = flavor }
        if let consolePattern { spec["console_pattern"] = consolePattern }
        if let path = check.first { spec["check"] = ["path": path, "args": Array(check.dropFirst())] }
        let started = try await session.request(.POST, compute + "/os-glimpse-boot-tests", json: ["boot_test": spec])
        guard started.status == 202, let test = started.body?["boot_test"] as? [String: Any], let id = test["id"] as? String else {
            throw OpenStackSession.Failure(
                description: "the boot test was refused (\(started.status)): \(OpenStackSession.errorMessage(started.body, text: started.text))")
        }
        print("boot test \(id) of image \(imageID) started (server \(test["server_id"] as? String ?? "?"), flavor \(test["flavor_id"] as? String ?? "?"))")
        var printed = 0
        while true {
            let shown = try await session.request(.GET, compute + "/os-glimpse-boot-tests/\(id)")
            guard shown.status == 200, let t = shown.body?["boot_test"] as? [String: Any] else {
                throw OpenStackSession.Failure(
                    description: "could not read boot test \(id) (\(shown.status)): \(OpenStackSession.errorMessage(shown.body, text: shown.text))")
            }
            let steps = t["steps"] as? [[String: Any]] ?? []
            for step in steps.dropFirst(printed) {
                let elapsed = (step["elapsed"] as? Double).map { String(format: "%6.1f s", $0) } ?? "       "
                print("\(elapsed)  \(step["step"] as? String ?? ""): \(step["detail"] as? String ?? "")")
            }
            printed = max(printed, steps.count)
            let status = t["status"] as? String ?? "running"
            if status != "running" {
                if let note = t["image_note"] as? String { print(note) }
                if status == "passed" {
                    print("PASSED: image \(imageID) boots")
                    return true
                }
                print("FAILED: \(t["reason"] as? String ?? "no reason given")")
                return false
            }
            try await Task.sleep(for: .seconds(2))
        }
    }

    /// The image's id: the argument when it is one, else the one image of that name the caller sees.
    func resolveImage(_ session: OpenStackSession) async throws -> String {
        if UUID(uuidString: image) != nil { return image.lowercased() }
        let endpoint = try session.endpoint("image")
        let base = endpoint.hasSuffix("/v2") ? endpoint : endpoint + "/v2"
        let name = image.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? image
        let found = try await session.request(.GET, base + "/images?name=\(name)")
        guard found.status == 200 else {
            throw OpenStackSession.Failure(description: "could not look up image \(image) (\(found.status))")
        }
        let images = found.body?["images"] as? [[String: Any]] ?? []
        guard images.count == 1, let id = images[0]["id"] as? String else {
            throw OpenStackSession.Failure(
                description: images.isEmpty ? "no image is named \(image)" : "\(images.count) images are named \(image): give its id")
        }
        return id
    }
}
