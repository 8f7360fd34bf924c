import Foundation
import GlimpseCompute
import GlimpseCore
import Testing

// The boot-test extension's refusals, fast: malformed requests are 400 in Nova's error shape, the overlay driver
// refuses clearly (it runs no guests), and with the QEMU driver an image that gives no way to see the guest is up
// is refused before any server exists.

private let qemuInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64")
    || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/qemu-system-x86_64")

@Suite struct BootTestValidationTests {
    static let path = "/compute/v2.1/os-glimpse-boot-tests"

    static func badRequestMessage(_ r: Reply) -> String? { r["badRequest"]?["message"]?.string }

    @Test func malformedRequestsAreRefusedWithNovaStyleErrors() async throws {
        try await withGlimpse { api in
            let image = try await api.image()
            let bodies = [
                #"{}"#,
                #"{"boot_test":"x"}"#,
                #"{"boot_test":{}}"#,
                #"{"boot_test":{"image_ref":5}}"#,
                #"{"boot_test":{"image_ref":""}}"#,
                #"{"boot_test":{"image_ref":"\#(String(repeating: "a", count: 256))"}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","timeout":"60"}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","timeout":9}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","timeout":3601}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","timeout":60.5}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","flavor_ref":[1]}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","console_pattern":"(unclosed"}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","console_pattern":"(a+)+\\1"}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","console_pattern":"\#(String(repeating: "a", count: 300))"}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","console_pattern":""}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","check":"/bin/true"}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","check":{"path":"bin/true"}}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","check":{"args":["x"]}}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","check":{"path":"/bin/echo","args":[1]}}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","check":{"path":"/bin/echo","args":"x"}}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","check":{"path":"/bin/echo","env":[]}}}"#,
                #"{"boot_test":{"image_ref":"\#(image)","unknown":1}}"#,
            ]
            for body in bodies {
                let r = try await api.post(Self.path, json: body)
                let message = Self.badRequestMessage(r)
                #expect(r.status == .badRequest, "\(body) → \(r)")
                #expect(message?.isEmpty == false, "\(body) → \(r)")
            }
            let tooManyArgs = "[" + Array(repeating: #""a""#, count: 65).joined(separator: ",") + "]"
            let r = try await api.post(
                Self.path, json: #"{"boot_test":{"image_ref":"\#(image)","check":{"path":"/bin/echo","args":\#(tooManyArgs)}}}"#)
            #expect(r.status == .badRequest, "\(r)")
        }
    }

    @Test func theOverlayDriverRefusesBecauseItRunsNoGuests() async throws {
        try await withGlimpse { api in
            let image = try await api.image(properties: ["hw_qemu_guest_agent": "yes"])
            let r = try await api.post(Self.path, json: #"{"boot_test":{"image_ref":"\#(image)"}}"#)
            #expect(r.status == .conflict, "\(r)")
            let message = r["conflictingRequest"]?["message"]?.string ?? ""
            #expect(message.contains("runs no guests"), "\(r)")
            // Nothing was created.
            let servers = try await api.get("/compute/v2.1/servers")
            #expect(servers["servers"]?.array?.isEmpty == true, "\(servers)")
            // Readers may not start boot tests; unknown tests are 404.
            let reader = try await api.post(Self.path, json: #"{"boot_test":{"image_ref":"\#(image)"}}"#, as: .aliceReader)
            #expect(reader.status == .forbidden, "\(reader)")
            let missing = try await api.get(Self.path + "/" + UUID().uuidString.lowercased())
            #expect(missing.status == .notFound, "\(missing)")
        }
    }

    @Test(.enabled(if: qemuInstalled, "qemu-system-x86_64 is not installed"))
    func anImageThatCannotShowItIsUpIsRefusedBeforeAnyServerExists() async throws {
        try await withGlimpse(hypervisor: .qemu) { api in
            let plain = try await api.image()
            let noWay = try await api.post(Self.path, json: #"{"boot_test":{"image_ref":"\#(plain)"}}"#)
            #expect(noWay.status == .badRequest, "\(noWay)")
            #expect(Self.badRequestMessage(noWay)?.contains("console_pattern") == true, "\(noWay)")
            let checkWithoutAgent = try await api.post(
                Self.path,
                json: #"{"boot_test":{"image_ref":"\#(plain)","console_pattern":"login:","check":{"path":"/bin/true"}}}"#)
            #expect(checkWithoutAgent.status == .badRequest, "\(checkWithoutAgent)")
            let unknownImage = try await api.post(
                Self.path, json: #"{"boot_test":{"image_ref":"\#(UUID().uuidString.lowercased())"}}"#)
            #expect(unknownImage.status == .badRequest, "\(unknownImage)")
            let withAgent = try await api.image(properties: ["hw_qemu_guest_agent": "yes"])
            let unknownFlavor = try await api.post(
                Self.path, json: #"{"boot_test":{"image_ref":"\#(withAgent)","flavor_ref":"no-such-flavor"}}"#)
            #expect(unknownFlavor.status == .badRequest, "\(unknownFlavor)")
            // Another project cannot see the image: the same 400 as for an unknown one.
            let foreign = try await api.post(Self.path, json: #"{"boot_test":{"image_ref":"\#(withAgent)"}}"#, as: .bob)
            #expect(foreign.status == .badRequest, "\(foreign)")
            let servers = try await api.get("/compute/v2.1/servers")
            #expect(servers["servers"]?.array?.isEmpty == true, "\(servers)")
        }
    }
}
