// qcow2 (and the banned QED): the 512-byte big-endian header. Safety as oslo.utils' QcowInspector: no backing
// file, no external data file (incompatible bit 2), and for v3 no incompatible feature bit it does not know
// (it knows bits 0-3: dirty, corrupt, data file, compression type); any version but 2 or 3 is refused.

enum QCOW2Probe {
    static let magic: [UInt8] = [0x51, 0x46, 0x49, 0xFB]  // "QFI\xfb"
    static let headerLength = 512

    static func probe(_ evidence: ImageEvidence) -> FormatFinding? {
        let header = evidence.prefix
        guard evidence.has(headerLength), header.starts(with: magic) else { return nil }
        var finding = FormatFinding(format: .qcow2, virtualSize: header.uint64BE(24)?.asSize ?? nil)
        if let backingOffset = header.uint64BE(8), backingOffset != 0 {
            finding.violations.append("backing_file: Image has a backing file")
        }
        let incompatible = header.uint64BE(72) ?? 0
        if incompatible & 0x4 != 0 {
            finding.violations.append("data_file: Image has data_file set")
        }
        switch header.uint32BE(4) {
        case 2:
            break
        case 3:
            if incompatible & ~UInt64(0xF) != 0 {
                finding.violations.append("unknown_features: Unknown QCOW2 features found")
            }
        default:
            finding.violations.append("unknown_features: Unsupported qcow2 version")
        }
        // crypt_method: 1 = AES, 2 = LUKS. Glance accepts encrypted images; the caller may want to know.
        finding.encrypted = (header.uint32BE(32) ?? 0) != 0
        return finding
    }
}

enum QEDProbe {
    static func probe(_ evidence: ImageEvidence) -> FormatFinding? {
        guard evidence.has(512), evidence.prefix.starts(with: [0x51, 0x45, 0x44, 0x00]) else { return nil }
        // Nobody supports QED: oslo recognises it only to refuse it. Its size is the byte count, as oslo's base.
        return FormatFinding(
            format: .qed, virtualSize: evidence.total, violations: ["banned: This file format is not allowed"]
        )
    }
}
