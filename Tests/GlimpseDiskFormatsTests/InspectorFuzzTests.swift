// Property-based fuzzing: a seeded generator mutates valid headers of every format (bit flips, huge values in
// size and offset fields, truncation) and feeds each case in random chunk sizes. The inspector must not trap,
// must stay under its memory bound after every chunk, must finish, and must give the same answer whatever the
// chunking. GLIMPSE_FUZZ_ITERATIONS raises the case count (default: a few seconds' worth); GLIMPSE_FUZZ_SEED
// picks another seed.

@testable import GlimpseDiskFormats
import Foundation
import Testing

/// SplitMix64: small, seedable, good enough to spread mutations.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct InspectorFuzzTests {
    static let corpus: [[UInt8]] = [
        Fixtures.qcow2(length: 1024), Fixtures.qcow2(version: 2, backingFile: "base", length: 1024),
        Fixtures.vmdk(length: 16 * 1024), Fixtures.vmdk(
            descriptor: Fixtures.sparseDescriptor(createType: "streamOptimized"), footer: true, length: 16 * 1024),
        Fixtures.textVMDK(extents: ["RW 2048 FLAT \"x\" 0"]), Fixtures.vhd(size: 1 << 30), Fixtures.vdi(size: 1 << 20),
        Fixtures.iso(blocks: 17, withMBR: true), Fixtures.gpt(length: 4096), Fixtures.luks(length: 4096),
        Fixtures.qed(), Fixtures.vhdx(size: 1 << 30, metadataOffset: 200 * 1024, itemOffset: 4096),
    ]

    /// Offsets of size, offset and count fields across the formats, where huge values are most telling.
    static let fieldOffsets = [
        4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 48, 56, 64, 72, 80, 100, 104, 0x170, 446, 454, 458, 510,
        512 + 4, 512 + 12, 512 + 28, 512 + 36, 512 + 56,
        32 * 1024 + 80, 32 * 1024 + 128, 192 * 1024 + 8, 192 * 1024 + 32, 200 * 1024 + 10, 200 * 1024 + 48,
    ]
    static let hugeValues: [UInt64] = [
        0, 1, 0x7F, 0xFF, 0xFFFF, 0xFFFF_FFFF, 1 << 32, 1 << 40, 1 << 55, UInt64(Int64.max), UInt64(Int64.max) + 1,
        UInt64.max, UInt64.max - 511,
    ]

    static func mutate(_ original: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
        var bytes = original
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                let focus = min(bytes.count, Int.random(in: 0...1, using: &random) == 0 ? 1024 : bytes.count)
                guard focus > 0 else { continue }
                let index = Int.random(in: 0..<focus, using: &random)
                bytes[index] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            case 1:
                guard let offset = fieldOffsets.randomElement(using: &random), let value = hugeValues.randomElement(using: &random)
                else { continue }
                let width = [2, 4, 8].randomElement(using: &random) ?? 8
                let bigEndian = Bool.random(using: &random)
                for position in 0..<width where offset + position < bytes.count {
                    let shift = UInt64(8 * (bigEndian ? width - 1 - position : position))
                    bytes[offset + position] = UInt8(truncatingIfNeeded: value >> shift)
                }
            case 2:
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
            default:
                let extra = Int.random(in: 0...4096, using: &random)
                bytes += (0..<extra).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
        }
        return bytes
    }

    /// Feeds in random chunk sizes, checking the memory bound after every chunk.
    static func feedRandomly(
        _ bytes: [UInt8], using random: inout SeededGenerator, largestRetained: inout Int
    ) -> DiskImageInspection {
        var inspector = DiskImageInspector()
        var start = 0
        while start < bytes.count {
            let chunk = [1, 7, 512, 4096, 65536, bytes.count].randomElement(using: &random) ?? 1
            let end = min(bytes.count, start + Int.random(in: 1...max(1, chunk), using: &random))
            inspector.feed(bytes[start..<end])
            largestRetained = max(largestRetained, inspector.retainedBytes)
            start = end
        }
        return inspector.finish()
    }

    @Test func mutatedHeadersNeverTrapAndStayBounded() {
        let environment = ProcessInfo.processInfo.environment
        let iterations = environment["GLIMPSE_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 1500
        var random = SeededGenerator(state: environment["GLIMPSE_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x6C69_6D70)
        var formatsSeen = Set<DiskFormat>()
        var largestRetained = 0
        var chunkDependent: [Int] = []
        for iteration in 0..<iterations {
            let base = Self.corpus[iteration % Self.corpus.count]
            let bytes = Self.mutate(base, using: &random)
            let chunked = Self.feedRandomly(bytes, using: &random, largestRetained: &largestRetained)
            let whole = inspect(bytes)
            if chunked != whole { chunkDependent.append(iteration) }
            formatsSeen.insert(whole.format)
            for declared in ["raw", "qcow2", "vmdk", "iso", "ami", whole.format.rawValue] {
                _ = whole.verdict(declaredFormat: declared)
            }
        }
        #expect(chunkDependent.isEmpty, "cases whose answer depends on chunk sizes")
        #expect(largestRetained <= DiskImageInspector.retainedBytesLimit)
        #expect(largestRetained > 0)
        // The mutations must leave most formats recognisable, or the run tests nothing but raw.
        #expect(formatsSeen.count >= 8)
    }

    @Test func truncationAtEveryBoundary() {
        var miscounted: [Int] = []
        for base in Self.corpus {
            // Every length through the largest fixed header (LUKS, 592 bytes), then a spread up to the end.
            let lengths = Array(0...min(base.count, 600)) + Array(stride(from: 601, through: base.count, by: 397))
            for length in lengths {
                let result = inspect(Array(base.prefix(length)))
                _ = result.verdict(declaredFormat: "raw")
                if result.bytesSeen != Int64(length) { miscounted.append(length) }
            }
        }
        #expect(miscounted.isEmpty)
    }

    @Test func hugeImagesKeepTheBound() {
        // 64 MiB of a VMDK whose descriptor claims the maximum, with a footer: memory stays under the bound.
        var inspector = DiskImageInspector()
        inspector.feed(Fixtures.vmdk(descriptorSectors: UInt64.max / 512, length: 4096))
        let chunk = [UInt8](repeating: 0x41, count: 1 << 20)
        for _ in 0..<64 {
            inspector.feed(chunk)
            #expect(inspector.retainedBytes <= DiskImageInspector.retainedBytesLimit)
        }
        #expect(inspector.bytesSeen == 64 << 20 + 4096)
        #expect(inspector.finish().format == .vmdk)
    }
}
