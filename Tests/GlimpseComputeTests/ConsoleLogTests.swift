// The console log stays bounded while a guest prints without end, and `console log show` still sees its last lines;
// `os-getConsoleOutput`'s `length` counts the guest's lines, which a serial console ends with CR LF.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

@testable import GlimpseCompute

@Suite struct ConsoleLogTests {
    /// Appends as QEMU's `append=on` file chardev does: one descriptor opened with O_APPEND for the guest's life.
    final class AppendingWriter {
        let fd: Int32
        init(_ path: String) { fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600) }
        func write(_ s: String) { _ = s.withCString { Glibc.write(fd, $0, strlen($0)) } }
        deinit { close(fd) }
    }

    func withLog(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir + "/server.log")
    }

    static func size(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    }

    @Test func aChattyGuestKeepsAtMostTwoLimitsOnDisk() throws {
        try withLog { path in
            let guest = AppendingWriter(path)
            let limit = 4096
            for line in 0..<5_000 {
                guest.write("line \(line) of a guest that never stops printing\n")
                if line % 100 == 0 { ConsoleLog.rotate(path: path, limit: limit) }
            }
            ConsoleLog.rotate(path: path, limit: limit)
            #expect(Self.size(path) <= limit)
            #expect(Self.size(ConsoleLog.previous(path)) <= limit)
            // The writer's descriptor follows the cut: new output lands at the start of the live file.
            guest.write("ready\n")
            let live = try String(contentsOfFile: path, encoding: .utf8)
            #expect(live.hasSuffix("ready\n") && live.count <= limit + 6)
            let tail = try #require(ConsoleLog.tail(path: path, maxBytes: 8192))
            #expect(tail.hasSuffix("line 4999 of a guest that never stops printing\nready\n"))
            #expect(tail.hasPrefix("line "), "whole lines only: \(tail.prefix(40))")
        }
    }

    @Test func aSmallLogIsLeftAlone() throws {
        try withLog { path in
            AppendingWriter(path).write("boot\nready\n")
            #expect(!ConsoleLog.rotate(path: path, limit: 4096))
            #expect(ConsoleLog.tail(path: path, maxBytes: 1024) == "boot\nready\n")
            #expect(!FileManager.default.fileExists(atPath: ConsoleLog.previous(path)))
            #expect(ConsoleLog.tail(path: path + ".missing", maxBytes: 1024) == nil)
        }
    }

    @Test func theTailReachesIntoTheRotatedPartOnlyAsFarAsAsked() throws {
        try withLog { path in
            let guest = AppendingWriter(path)
            for line in 0..<100 { guest.write("old \(line)\n") }
            #expect(ConsoleLog.rotate(path: path, limit: 64))
            guest.write("new 1\nnew 2\n")
            let tail = try #require(ConsoleLog.tail(path: path, maxBytes: 30))
            #expect(tail == "old 98\nold 99\nnew 1\nnew 2\n")
            #expect(tail.utf8.count <= 30)
        }
    }

    @Test func theLastLinesOfACRLFConsoleAreWholeLines() {
        let text = "one\r\ntwo\r\nthree\r\n"
        #expect(ConsoleLog.lastLines(text, 1) == "three\r\n")
        #expect(ConsoleLog.lastLines(text, 2) == "two\r\nthree\r\n")
        #expect(ConsoleLog.lastLines(text, 5) == text)
        #expect(ConsoleLog.lastLines(text, 0) == "")
        #expect(ConsoleLog.lastLines("a\nb", 1) == "b")
        #expect(ConsoleLog.lastLines("a\nb", nil) == "a\nb")
    }
}
