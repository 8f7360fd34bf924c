/// Reads the virtual (guest-visible) size from a disk image's header, as Glance's format inspector does for
/// the formats it knows; raw images are as large as their data.
enum DiskHeader {
    static func virtualSize(format: String?, header: [UInt8], size: Int64) -> Int64? {
        switch format {
        case "raw", "iso": return size
        case "qcow2":
            // "QFI\xfb", then version, backing file offset/size, cluster bits; the size is a big-endian u64 at 24.
            guard header.count >= 32, header[0..<4] == [0x51, 0x46, 0x49, 0xFB] else { return nil }
            var v: UInt64 = 0
            for b in header[24..<32] { v = v << 8 | UInt64(b) }
            return v > UInt64(Int64.max) ? nil : Int64(v)
        case "vhd", "vhdx", "vmdk", "vdi":
            return nil
        default:
            return nil
        }
    }
}
