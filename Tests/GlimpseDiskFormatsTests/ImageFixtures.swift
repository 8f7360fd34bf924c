// Disk images written by hand, header field by header field, for the inspector tests; and the helper that feeds
// bytes to the inspector in chunks of a given size.

@testable import GlimpseDiskFormats
import Testing

struct ImageBytes {
    var bytes: [UInt8]

    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }

    mutating func put(_ values: [UInt8], at offset: Int) {
        if bytes.count < offset + values.count { bytes += [UInt8](repeating: 0, count: offset + values.count - bytes.count) }
        bytes.replaceSubrange(offset..<(offset + values.count), with: values)
    }

    mutating func put(_ text: String, at offset: Int) { put(Array(text.utf8), at: offset) }

    mutating func putBE(_ value: UInt64, width: Int, at offset: Int) {
        put((0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64(width - 1 - $0))) }, at: offset)
    }

    mutating func putLE(_ value: UInt64, width: Int, at offset: Int) {
        put((0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }, at: offset)
    }
}

enum Fixtures {
    static func qcow2(
        version: UInt32 = 3, size: UInt64 = 1 << 30, backingFile: String? = nil, incompatible: UInt64 = 0,
        cryptMethod: UInt32 = 0, length: Int = 4096
    ) -> [UInt8] {
        var image = ImageBytes(count: length)
        image.put([0x51, 0x46, 0x49, 0xFB], at: 0)
        image.putBE(UInt64(version), width: 4, at: 4)
        image.putBE(16, width: 4, at: 20)  // cluster_bits
        image.putBE(size, width: 8, at: 24)
        image.putBE(UInt64(cryptMethod), width: 4, at: 32)
        image.putBE(incompatible, width: 8, at: 72)
        if version >= 3 { image.putBE(104, width: 4, at: 100) }  // header_length
        if let backingFile {
            image.putBE(512, width: 8, at: 8)
            image.putBE(UInt64(backingFile.utf8.count), width: 4, at: 16)
            image.put(backingFile, at: 512)
        }
        return image.bytes
    }

    static func sparseDescriptor(createType: String = "monolithicSparse", extents: [String]? = nil,
                                 extra: [String] = []) -> String {
        let extentLines = extents ?? ["RW 2097152 SPARSE \"disk.vmdk\""]
        return (["# Disk DescriptorFile", "version=1", "CID=fffffffe", "parentCID=ffffffff",
                 "createType=\"\(createType)\"", ""] + extra + ["# Extent description"] + extentLines
            + ["", "# The Disk Data Base", "#DDB", "", "ddb.virtualHWVersion = \"4\"",
               "ddb.geometry.cylinders = \"2080\""]).joined(separator: "\n") + "\n"
    }

    /// A hosted sparse extent: the KDMV header, the descriptor at sector 1, padding; optionally a
    /// streamOptimized footer (grain directory at end).
    static func vmdk(
        capacitySectors: UInt64 = 2_097_152, descriptor: String = sparseDescriptor(), descriptorSector: UInt64 = 1,
        descriptorSectors: UInt64 = 20, version: UInt32 = 1, footer: Bool = false, length: Int = 64 * 1024
    ) -> [UInt8] {
        var image = ImageBytes(count: length)
        func header(at base: Int, grainDirectory: UInt64) {
            image.put("KDMV", at: base)
            image.putLE(UInt64(version), width: 4, at: base + 4)
            image.putLE(3, width: 4, at: base + 8)
            image.putLE(capacitySectors, width: 8, at: base + 12)
            image.putLE(128, width: 8, at: base + 20)
            image.putLE(descriptorSector, width: 8, at: base + 28)
            image.putLE(descriptorSectors, width: 8, at: base + 36)
            image.putLE(512, width: 4, at: base + 44)
            image.putLE(grainDirectory, width: 8, at: base + 56)
        }
        header(at: 0, grainDirectory: footer ? UInt64.max : 21)
        image.put(descriptor, at: 512)
        if footer {
            let end = image.bytes.count
            image.putLE(0, width: 8, at: end)  // footer marker: value, size 0, type 3
            image.putLE(3, width: 4, at: end + 12)
            image.put([UInt8](repeating: 0, count: 496), at: end + 16)
            header(at: end + 512, grainDirectory: 21)
            image.put([UInt8](repeating: 0, count: 512), at: end + 1024)  // end-of-stream marker
        }
        return image.bytes
    }

    static func textVMDK(createType: String = "monolithicFlat", extents: [String]) -> [UInt8] {
        Array(sparseDescriptor(createType: createType, extents: extents).utf8)
    }

    static func vhd(size: UInt64, length: Int = 2048) -> [UInt8] {
        var image = ImageBytes(count: length)
        image.put("conectix", at: 0)
        image.putBE(size, width: 8, at: 40)
        image.putBE(size, width: 8, at: 48)
        image.putBE(3, width: 4, at: 60)  // dynamic
        return image.bytes
    }

    static let metadataRegionGUID = VHDXScan.metadataRegionGUID
    static let virtualDiskSizeGUID = VHDXScan.virtualDiskSizeGUID

    /// The identity, a region table at 192 KiB naming the metadata region, whose table names the size item.
    static func vhdx(size: UInt64, metadataOffset: Int = 320 * 1024, itemOffset: Int = 64 * 1024,
                     extraEntries: Int = 0) -> [UInt8] {
        var image = ImageBytes(count: max(metadataOffset + itemOffset, 256 * 1024) + 4096)
        image.put("vhdxfile", at: 0)
        let table = 192 * 1024
        image.put("regi", at: table)
        image.putLE(1, width: 4, at: table + 8)
        image.put(metadataRegionGUID, at: table + 16)
        image.putLE(UInt64(metadataOffset), width: 8, at: table + 32)
        image.putLE(1 << 20, width: 4, at: table + 40)
        image.put("metadata", at: metadataOffset)
        image.putLE(UInt64(extraEntries + 1), width: 2, at: metadataOffset + 10)
        for index in 0..<extraEntries {
            image.put([UInt8](repeating: UInt8(index % 200 + 1), count: 16), at: metadataOffset + 32 + index * 32)
        }
        let entry = metadataOffset + 32 + extraEntries * 32
        image.put(virtualDiskSizeGUID, at: entry)
        image.putLE(UInt64(itemOffset), width: 4, at: entry + 16)
        image.putLE(8, width: 4, at: entry + 20)
        image.putLE(size, width: 8, at: metadataOffset + itemOffset)
        return image.bytes
    }

    static func vdi(size: UInt64) -> [UInt8] {
        var image = ImageBytes(count: 4096)
        image.put("<<< Oracle VM VirtualBox Disk Image >>>\n", at: 0)
        image.putLE(0xBEDA_107F, width: 4, at: 0x40)
        image.putLE(size, width: 8, at: 0x170)
        return image.bytes
    }

    static func iso(blocks: UInt32, blockSize: UInt16 = 2048, withMBR: Bool = false) -> [UInt8] {
        var image = ImageBytes(count: 36 * 1024)
        let pvd = 32 * 1024
        image.put([1], at: pvd)
        image.put("CD001", at: pvd + 1)
        image.put([1], at: pvd + 6)
        image.putLE(UInt64(blocks), width: 4, at: pvd + 80)
        image.putBE(UInt64(blocks), width: 4, at: pvd + 84)
        image.putLE(UInt64(blockSize), width: 2, at: pvd + 128)
        image.putBE(UInt64(blockSize), width: 2, at: pvd + 130)
        if withMBR { image.put(Array(mbr(partitions: [(0x80, 0x17, 0, 64)]).prefix(512)), at: 0) }
        return image.bytes
    }

    /// An MBR with (boot flag, type, start LBA, sectors) entries.
    static func mbr(partitions: [(UInt8, UInt8, UInt32, UInt32)], length: Int = 64 * 1024) -> [UInt8] {
        var image = ImageBytes(count: length)
        for (index, partition) in partitions.enumerated() {
            let entry = 446 + 16 * index
            image.put([partition.0, 0x00, 0x02, 0x00, partition.1, 0xFF, 0xFF, 0xFF], at: entry)
            image.putLE(UInt64(partition.2), width: 4, at: entry + 8)
            image.putLE(UInt64(partition.3), width: 4, at: entry + 12)
        }
        image.put([0x55, 0xAA], at: 510)
        return image.bytes
    }

    static func gpt(length: Int = 64 * 1024) -> [UInt8] {
        var image = ImageBytes(count: 0)
        image.bytes = mbr(partitions: [(0x00, 0xEE, 1, UInt32(length / 512 - 1))], length: length)
        image.put("EFI PART", at: 512)
        return image.bytes
    }

    static func luks(version: UInt16 = 1, payloadSectors: UInt32 = 4096, length: Int = 4096 * 512 + 8192) -> [UInt8] {
        var image = ImageBytes(count: length)
        image.put([0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE], at: 0)
        image.putBE(UInt64(version), width: 2, at: 6)
        image.put("aes", at: 8)
        image.put("xts-plain64", at: 40)
        image.put("sha256", at: 72)
        image.putBE(UInt64(payloadSectors), width: 4, at: 104)
        image.putBE(64, width: 4, at: 108)
        return image.bytes
    }

    static func qed() -> [UInt8] {
        var image = ImageBytes(count: 4096)
        image.put([0x51, 0x45, 0x44, 0x00], at: 0)
        return image.bytes
    }

    static func raw(count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) | 0x80 }
    }
}

/// Feeds `bytes` in chunks of `chunk` bytes (the last one shorter) and finishes.
func inspect(_ bytes: [UInt8], chunk: Int = Int.max) -> DiskImageInspection {
    var inspector = DiskImageInspector()
    var start = 0
    while start < bytes.count {
        let end = start + min(chunk, bytes.count - start)
        inspector.feed(bytes[start..<end])
        start = end
    }
    return inspector.finish()
}

/// Feeds in every interesting chunking and requires one answer.
func inspectEveryWay(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> DiskImageInspection {
    let whole = inspect(bytes)
    for chunk in [1, 7, 512, 65536] where bytes.count <= 1 << 20 || chunk > 1 {
        #expect(inspect(bytes, chunk: chunk) == whole, "chunk size \(chunk) changed the answer",
                sourceLocation: sourceLocation)
    }
    return whole
}
