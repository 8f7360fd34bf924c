// Detection, virtual size and safety findings for hand-written images of every format, fed in 1-, 7-, 512- and
// 64 KiB-byte chunks and whole, which must all agree.

@testable import GlimpseDiskFormats
import Testing

@Suite struct FormatDetectionTests {
    static let oneGiB: Int64 = 1 << 30

    @Test func rawIsWhatNothingElseMatches() {
        let result = inspectEveryWay(Fixtures.raw(count: 300_000))
        #expect(result.format == .raw)
        #expect(result.virtualSize == 300_000)
        #expect(result.safetyViolations.isEmpty)
        #expect(result.matchedFormats.isEmpty)
        #expect(inspectEveryWay([]).format == .raw)
        #expect(inspectEveryWay([]).virtualSize == 0)
    }

    @Test func plainQcow2() {
        let v3 = inspectEveryWay(Fixtures.qcow2(size: 1 << 50))
        #expect(v3.format == .qcow2)
        #expect(v3.virtualSize == 1_125_899_906_842_624)
        #expect(v3.safetyViolations.isEmpty)
        let v2 = inspectEveryWay(Fixtures.qcow2(version: 2, size: 1_048_576))
        #expect(v2.format == .qcow2 && v2.virtualSize == 1_048_576 && v2.safetyViolations.isEmpty)
    }

    @Test func qcow2Hazards() {
        let backing = inspectEveryWay(Fixtures.qcow2(backingFile: "/etc/passwd"))
        #expect(backing.safetyViolations == ["backing_file: Image has a backing file"])
        let dataFile = inspectEveryWay(Fixtures.qcow2(incompatible: 0x4))
        #expect(dataFile.safetyViolations == ["data_file: Image has data_file set"])
        // The data-file bit is refused in a v2 header too, as oslo reads the bit whatever the version.
        #expect(!inspectEveryWay(Fixtures.qcow2(version: 2, incompatible: 0x4)).safetyViolations.isEmpty)
        let unknown = inspectEveryWay(Fixtures.qcow2(incompatible: 0x10))
        #expect(unknown.safetyViolations == ["unknown_features: Unknown QCOW2 features found"])
        #expect(inspectEveryWay(Fixtures.qcow2(incompatible: 1 << 40)).safetyViolations.count == 1)
        // Dirty, corrupt and compression-type bits are known.
        #expect(inspectEveryWay(Fixtures.qcow2(incompatible: 0xB)).safetyViolations.isEmpty)
        #expect(inspectEveryWay(Fixtures.qcow2(version: 4)).safetyViolations
            == ["unknown_features: Unsupported qcow2 version"])
        let encrypted = inspectEveryWay(Fixtures.qcow2(cryptMethod: 2))
        #expect(encrypted.isEncrypted && encrypted.safetyViolations.isEmpty)
        // A virtual size past Int64 cannot be recorded.
        #expect(inspectEveryWay(Fixtures.qcow2(size: UInt64.max)).virtualSize == nil)
    }

    @Test func qcow2ShorterThanItsHeaderIsRaw() {
        #expect(inspectEveryWay(Array(Fixtures.qcow2().prefix(511))).format == .raw)
    }

    @Test func vmdkMonolithicSparseAndStreamOptimized() {
        let sparse = inspectEveryWay(Fixtures.vmdk())
        #expect(sparse.format == .vmdk)
        #expect(sparse.virtualSize == Self.oneGiB)
        #expect(sparse.safetyViolations.isEmpty)
        let stream = inspectEveryWay(Fixtures.vmdk(
            descriptor: Fixtures.sparseDescriptor(createType: "streamOptimized"), footer: true))
        #expect(stream.format == .vmdk && stream.safetyViolations.isEmpty && stream.isComplete)
        #expect(stream.virtualSize == Self.oneGiB)
    }

    @Test func vmdkHazards() {
        func violations(_ bytes: [UInt8]) -> [String] { inspectEveryWay(bytes).safetyViolations }
        #expect(violations(Fixtures.vmdk(descriptor: Fixtures.sparseDescriptor(createType: "monolithicFlat")))
            == ["descriptor: Unsupported subformat"])
        #expect(violations(Fixtures.vmdk(descriptor: Fixtures.sparseDescriptor(
            extents: ["RW 2048 FLAT \"/etc/passwd\" 0"]))) == ["descriptor: Invalid extent filenames found"])
        // oslo lets a same-directory FLAT extent through; Glimpse does not.
        #expect(violations(Fixtures.vmdk(descriptor: Fixtures.sparseDescriptor(
            extents: ["RW 2048 FLAT \"other-image\" 0"]))) == ["descriptor: Extents other than the single embedded sparse extent"])
        #expect(violations(Fixtures.vmdk(descriptor: Fixtures.sparseDescriptor(
            extents: ["RW 2048 SPARSE \"a.vmdk\"", "RW 2048 SPARSE \"b.vmdk\""]))).count == 1)
        #expect(violations(Fixtures.vmdk(capacitySectors: 0)).count == 1)
        #expect(violations(Fixtures.vmdk(descriptor: Fixtures.sparseDescriptor(
            extra: ["parentFileNameHint=\"base.vmdk\""]))) == ["descriptor: Descriptor names a parent (backing) file"])
        #expect(violations(Fixtures.vmdk(descriptor: Fixtures.sparseDescriptor(extents: [])))
            == ["descriptor: No extents found"])
        #expect(violations(Fixtures.vmdk(descriptor: "createType=\"monolithicSparse\"\nbogus line\n"))
            == ["descriptor: Invalid VMDK descriptor data"])
        #expect(violations(Fixtures.vmdk(descriptorSectors: 0)) == ["descriptor: No descriptor found"])
        #expect(violations(Fixtures.vmdk(descriptorSector: 2)) == ["descriptor: Wrong descriptor location"])
        #expect(violations(Fixtures.vmdk(version: 9)).count == 1)
        var badFooter = Fixtures.vmdk(footer: true)
        badFooter[badFooter.count - 1024 + 4] = 7  // footer header version
        #expect(violations(badFooter) == ["footer: Header and footer versions do not match"])
    }

    @Test func vmdkTextDescriptorsAreRefused() {
        let absolute = inspectEveryWay(Fixtures.textVMDK(extents: ["RW 2048 FLAT \"/etc/passwd\" 0"]))
        #expect(absolute.format == .vmdk)
        #expect(absolute.safetyViolations == ["descriptor: Unsupported subformat"])
        #expect(absolute.virtualSize == Int64(1_048_576))
        let relative = inspectEveryWay(Fixtures.textVMDK(
            createType: "monolithicSparse", extents: ["RW 2048 SPARSE \"neighbour\""]))
        #expect(relative.format == .vmdk && relative.safetyViolations.count == 1)
        // Ordinary text is not a VMDK.
        let text = Array(String(repeating: "#cloud-config\nruncmd: [ls]\n", count: 40).utf8)
        #expect(inspectEveryWay(text).format == .raw)
    }

    @Test func vmdkTruncatedDescriptorIsIncomplete() {
        let cut = inspectEveryWay(Array(Fixtures.vmdk().prefix(600)))
        #expect(cut.format == .vmdk && !cut.isComplete)
        let noFooter = inspectEveryWay(Array(Fixtures.vmdk(footer: true).prefix(1200)))
        #expect(!noFooter.isComplete)
    }

    @Test func vhdAndVdi() {
        let vhd = inspectEveryWay(Fixtures.vhd(size: 10 << 30))
        #expect(vhd.format == .vhd && vhd.virtualSize == 10 << 30 && vhd.safetyViolations.isEmpty)
        #expect(!inspectEveryWay(Array(Fixtures.vhd(size: 1).prefix(100))).isComplete)
        let vdi = inspectEveryWay(Fixtures.vdi(size: 5 << 20))
        #expect(vdi.format == .vdi && vdi.virtualSize == 5 << 20)
    }

    @Test func vhdxFollowsItsMetadata() {
        let vhdx = inspectEveryWay(Fixtures.vhdx(size: 3 << 40))
        #expect(vhdx.format == .vhdx && vhdx.virtualSize == 3 << 40 && vhdx.isComplete)
        // Metadata inside the first 256 KiB is read from the kept prefix; metadata far away is captured later.
        #expect(inspectEveryWay(Fixtures.vhdx(size: 77, metadataOffset: 64 * 1024, itemOffset: 256)).virtualSize == 77)
        #expect(inspect(Fixtures.vhdx(size: 99, metadataOffset: 3 << 20), chunk: 65536).virtualSize == 99)
        #expect(inspectEveryWay(Fixtures.vhdx(size: 5, extraEntries: 300)).virtualSize == 5)
        // Cut before the size item: incomplete, as oslo's.
        #expect(!inspectEveryWay(Array(Fixtures.vhdx(size: 1).prefix(330 * 1024))).isComplete)
        #expect(!inspectEveryWay(Array(Fixtures.vhdx(size: 1).prefix(200 * 1024))).isComplete)
    }

    @Test func isoAndGpt() {
        let iso = inspectEveryWay(Fixtures.iso(blocks: 1000))
        #expect(iso.format == .iso && iso.virtualSize == 2_048_000)
        let hybrid = inspectEveryWay(Fixtures.iso(blocks: 10, withMBR: true))
        #expect(hybrid.format == .iso && hybrid.matchedFormats == [.iso, .gpt])
        let gpt = inspectEveryWay(Fixtures.gpt())
        #expect(gpt.format == .gpt && gpt.safetyViolations.isEmpty && gpt.virtualSize == 64 * 1024)
        let mbr = inspectEveryWay(Fixtures.mbr(partitions: [(0x80, 0x83, 2048, 100)]))
        #expect(mbr.format == .gpt && mbr.safetyViolations.isEmpty)
        #expect(inspectEveryWay(Fixtures.mbr(partitions: [])).safetyViolations
            == ["mbr: GPT MBR has no partitions defined"])
        #expect(inspectEveryWay(Fixtures.mbr(partitions: [(0x13, 0x83, 1, 1)])).safetyViolations
            == ["mbr: MBR PTE 0 has invalid boot flag"])
        #expect(inspectEveryWay(Fixtures.mbr(partitions: [(0, 0xEE, 1, 9), (0, 0x83, 10, 9)])).safetyViolations
            == ["mbr: GPT MBR defines invalid extra partitions"])
        var fat = Fixtures.mbr(partitions: [(0x80, 0x83, 1, 1)])
        fat[0x10] = 2
        fat[0x15] = 0xF8
        #expect(inspectEveryWay(fat).format == .raw)
    }

    @Test func luksAndQed() {
        let luks = inspectEveryWay(Fixtures.luks())
        #expect(luks.format == .luks && luks.safetyViolations.isEmpty && luks.virtualSize == 8192)
        #expect(inspectEveryWay(Fixtures.luks(version: 2)).safetyViolations == ["version: LUKS version 2 is not supported"])
        #expect(!inspectEveryWay(Array(Fixtures.luks().prefix(300))).isComplete)
        #expect(inspectEveryWay(Fixtures.luks(payloadSectors: UInt32.max)).virtualSize == nil)
        let qed = inspectEveryWay(Fixtures.qed())
        #expect(qed.format == .qed && qed.safetyViolations == ["banned: This file format is not allowed"])
    }

    @Test func twoHeadersInOneFile() {
        var both = Fixtures.qcow2()
        both[510] = 0x55
        both[511] = 0xAA
        both[446 + 4] = 0x83
        let result = inspectEveryWay(both)
        #expect(result.matchedFormats == [.qcow2, .gpt])
    }
}
