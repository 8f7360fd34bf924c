// Glance 33's verdicts (recorded from the real service, see the project's notes on hostile input) for the
// same kinds of files, declared as each disk_format.

@testable import GlimpseDiskFormats
import Testing

@Suite struct GlanceVerdictTests {
    let plainQcow2 = Fixtures.qcow2(size: 1_048_576, length: 1_376_256)
    let plainRaw = Fixtures.raw(count: 1_048_576)

    @Test func recordedAnswers() {
        let qcow2 = inspect(plainQcow2, chunk: 65536)
        #expect(qcow2.verdict(declaredFormat: "qcow2") == .accepted(virtualSize: 1_048_576))
        // Plain qcow2 declared raw: accepted, virtual_size = the byte count.
        #expect(qcow2.verdict(declaredFormat: "raw") == .accepted(virtualSize: 1_376_256))
        #expect(qcow2.verdict(declaredFormat: "vmdk")
            == .refused(.formatMismatch(declared: "vmdk", detected: "qcow2")))
        let raw = inspect(plainRaw, chunk: 65536)
        #expect(raw.verdict(declaredFormat: "raw") == .accepted(virtualSize: 1_048_576))
        let mismatch = raw.verdict(declaredFormat: "qcow2")
        #expect(mismatch == .refused(.formatMismatch(declared: "qcow2", detected: "raw")))
        if case .refused(let refusal) = mismatch {
            #expect(refusal.message == "Image disk_format qcow2 does not match stream data raw")
        }
        let huge = inspect(Fixtures.qcow2(size: 1 << 50))
        #expect(huge.verdict(declaredFormat: "qcow2") == .accepted(virtualSize: 1_125_899_906_842_624))
    }

    @Test func hostileImagesFailSafetyChecksEvenDeclaredRaw() {
        let hostile = [
            Fixtures.qcow2(backingFile: "/etc/passwd"),
            Fixtures.qcow2(incompatible: 0x4),
            Fixtures.vmdk(descriptor: Fixtures.sparseDescriptor(extents: ["RW 2048 FLAT \"../../identity.sqlite-wal\" 0"])),
            Fixtures.textVMDK(extents: ["RW 2048 FLAT \"/etc/passwd\" 0"]),
            Fixtures.textVMDK(extents: ["RW 2048 FLAT \"../../blobs/objects/x\" 0"]),
        ]
        for image in hostile {
            let result = inspect(image)
            for declared in ["raw", result.format.rawValue] {
                guard case .refused(let refusal) = result.verdict(declaredFormat: declared) else {
                    Issue.record("\(result.format) declared \(declared) was accepted")
                    continue
                }
                #expect(refusal.message == "Image failed safety checks")
            }
        }
        let vmdk = inspect(Fixtures.textVMDK(extents: ["RW 2048 FLAT \"/etc/passwd\" 0"]))
        #expect(vmdk.verdict(declaredFormat: "qcow2") == .refused(.formatMismatch(declared: "qcow2", detected: "vmdk")))
    }

    @Test func formatsGlanceCannotInspect() {
        let raw = inspect(plainRaw)
        for declared in ["ami", "ari", "aki", "ploop"] {
            #expect(raw.verdict(declaredFormat: declared) == .accepted(virtualSize: nil))
            #expect(inspect(plainQcow2).verdict(declaredFormat: declared)
                == .refused(.formatMismatch(declared: declared, detected: "qcow2")))
        }
    }

    @Test func isoAndGptRules() {
        let hybrid = inspect(Fixtures.iso(blocks: 18, withMBR: true))
        #expect(hybrid.verdict(declaredFormat: "iso") == .accepted(virtualSize: 18 * 2048))
        #expect(hybrid.verdict(declaredFormat: "raw") == .accepted(virtualSize: 36 * 1024))
        #expect(hybrid.verdict(declaredFormat: "gpt") == .refused(.formatMismatch(declared: "gpt", detected: "iso")))
        let gpt = inspect(Fixtures.gpt())
        #expect(gpt.verdict(declaredFormat: "raw") == .accepted(virtualSize: 64 * 1024))
        #expect(gpt.verdict(declaredFormat: "gpt") == .accepted(virtualSize: 64 * 1024))
        let badMBR = inspect(Fixtures.mbr(partitions: []))
        #expect(badMBR.verdict(declaredFormat: "raw") == .refused(.failedSafetyChecks(
            reasons: ["mbr: GPT MBR has no partitions defined"])))
    }

    @Test func ambiguousAndTruncatedHeaders() {
        var both = Fixtures.qcow2()
        both[510] = 0x55
        both[511] = 0xAA
        both[446 + 4] = 0x83
        let verdict = inspect(both).verdict(declaredFormat: "qcow2")
        #expect(verdict == .refused(.inspectionFailed(reason: "Multiple formats detected: qcow2,gpt")))
        let cut = inspect(Array(Fixtures.vmdk().prefix(700)))
        #expect(cut.verdict(declaredFormat: "vmdk")
            == .refused(.inspectionFailed(reason: "Incomplete file cannot be safety checked")))
        #expect(cut.verdict(declaredFormat: "raw") != .accepted(virtualSize: 700))
    }

    @Test func bannedAndVersionedFormats() {
        #expect(inspect(Fixtures.qed()).verdict(declaredFormat: "raw")
            == .refused(.failedSafetyChecks(reasons: ["banned: This file format is not allowed"])))
        #expect(inspect(Fixtures.luks()).verdict(declaredFormat: "raw") == .accepted(virtualSize: 4096 * 512 + 8192))
        #expect(inspect(Fixtures.vhdx(size: 1 << 30)).verdict(declaredFormat: "vhdx") == .accepted(virtualSize: 1 << 30))
        #expect(inspect(Fixtures.vhd(size: 1 << 30)).verdict(declaredFormat: "vhd") == .accepted(virtualSize: 1 << 30))
        #expect(inspect(Fixtures.vmdk()).verdict(declaredFormat: "vmdk") == .accepted(virtualSize: 2_097_152 * 512))
    }
}
