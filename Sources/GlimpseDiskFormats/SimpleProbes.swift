// The formats with one fixed header and no pointers to follow: VHD, VDI, ISO 9660/UDF, MBR/GPT, LUKS v1, and the
// VHDX identity (its pointer-following is VHDXScan). Match rules, sizes and safety checks as oslo.utils'.

enum VHDProbe {
    static func probe(_ evidence: ImageEvidence) -> FormatFinding? {
        guard evidence.prefix.starts(with: ascii("conectix")) else { return nil }
        // oslo matches on the 8-byte cookie alone but needs the whole 512-byte footer copy to be complete.
        let complete = evidence.has(512)
        let size = complete ? evidence.prefix.uint64BE(40)?.asSize : 0
        return FormatFinding(format: .vhd, virtualSize: size, complete: complete)
    }
}

enum VHDXProbe {
    static func probe(_ evidence: ImageEvidence) -> FormatFinding? {
        guard evidence.prefix.starts(with: VHDXScan.identity) else { return nil }
        let outcome = evidence.vhdx
        return FormatFinding(
            format: .vhdx, virtualSize: outcome.complete ? (outcome.virtualSize ?? 0) : 0,
            complete: outcome.complete && evidence.has(32)
        )
    }
}

enum VDIProbe {
    static func probe(_ evidence: ImageEvidence) -> FormatFinding? {
        guard evidence.has(512), evidence.prefix.uint32LE(0x40) == 0xBEDA_107F else { return nil }
        return FormatFinding(format: .vdi, virtualSize: evidence.prefix.uint64LE(0x170)?.asSize)
    }
}

enum ISOProbe {
    static let descriptorOffset = 32 * 1024
    static let signatures = [ascii("CD001"), ascii("NSR02"), ascii("NSR03")]

    static func probe(_ evidence: ImageEvidence) -> FormatFinding? {
        let header = evidence.prefix
        guard evidence.has(descriptorOffset + 2048),
              signatures.contains(where: { header.starts(with: $0, at: descriptorOffset + 1) })
        else { return nil }
        // Only a primary volume descriptor (type 1) carries the size: blocks (LE half of a both-endian u32 at 80)
        // times block size (LE half of a both-endian u16 at 128). At most 2^48, no overflow.
        var size: Int64 = 0
        if header.byte(at: descriptorOffset) == 1,
           let blockSize = header.uint16LE(descriptorOffset + 128),
           let blocks = header.uint32LE(descriptorOffset + 80) {
            size = Int64(blockSize) * Int64(blocks)
        }
        return FormatFinding(format: .iso, virtualSize: size)
    }
}

enum GPTProbe {
    static func probe(_ evidence: ImageEvidence) -> FormatFinding? {
        let mbr = evidence.prefix
        guard evidence.has(512), mbr.uint16LE(510) == 0xAA55 else { return nil }
        // A FAT volume boot record carries the same signature; two FATs on a fixed disk means it is one.
        if mbr.byte(at: 0x10) == 2, mbr.byte(at: 0x15) == 0xF8 { return nil }
        var finding = FormatFinding(format: .gpt, virtualSize: evidence.total)
        if let problem = partitionProblem(mbr) {
            finding.violations.append("mbr: \(problem)")
        }
        return finding
    }

    /// oslo's check_mbr_partitions: the first problem found, nil when the table is acceptable.
    private static func partitionProblem(_ mbr: [UInt8]) -> String? {
        var used: [Int] = []
        var foundGPT = false
        for index in 0..<4 {
            let entry = 446 + 16 * index
            guard let boot = mbr.byte(at: entry), let osType = mbr.byte(at: entry + 4),
                  let startCHS = mbr.bytes(at: entry + 1, count: 3), let startLBA = mbr.uint32LE(entry + 8)
            else { return "MBR is truncated" }
            if boot != 0x00, boot != 0x80 { return "MBR PTE \(index) has invalid boot flag" }
            if osType != 0 { used.append(index) }
            if osType == 0xEE {
                foundGPT = true
                if !startCHS.elementsEqual([0x00, 0x02, 0x00]) { return "GPT MBR has invalid start CHS" }
                if startLBA != 1 { return "GPT MBR has invalid start LBA" }
            }
        }
        if foundGPT, used != [0] { return "GPT MBR defines invalid extra partitions" }
        if used.isEmpty { return "GPT MBR has no partitions defined" }
        return nil
    }
}

enum LUKSProbe {
    static let magic: [UInt8] = [0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE]  // "LUKS\xba\xbe"
    static let headerLength = 592

    static func probe(_ evidence: ImageEvidence) -> FormatFinding? {
        let header = evidence.prefix
        guard header.starts(with: magic) else { return nil }
        var finding = FormatFinding(format: .luks, virtualSize: nil, complete: evidence.has(headerLength))
        guard finding.complete, let version = header.uint16BE(6), let payloadSectors = header.uint32BE(104) else {
            return finding
        }
        if version != 1 {
            finding.violations.append("version: LUKS version \(version) is not supported")
        }
        // The payload follows the header and key material; its size is what remains (unknown if the header
        // claims more than the file holds).
        let payload = evidence.total - Int64(payloadSectors) * 512
        finding.virtualSize = payload >= 0 ? payload : nil
        finding.encrypted = true
        return finding
    }
}
