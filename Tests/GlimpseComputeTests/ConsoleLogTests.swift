@testable import GlimpseCompute
import Testing

// `os-getConsoleOutput`'s `length` counts the guest's lines, and a serial console ends them with CR LF.

@Suite struct ConsoleLogTests {
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
