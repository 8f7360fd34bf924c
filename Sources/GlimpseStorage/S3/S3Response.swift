// An S3 answer with its body read (bodies Glimpse reads are bounded: XML documents or one read chunk).
import NIOCore
import NIOHTTP1

struct S3Response: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer

    var isSuccess: Bool { (200..<300).contains(status) }
    var text: Substring { Substring(String(buffer: body)) }

    /// Throws `S3Error.service` with the XML error code unless the status is 2xx (or one of `alsoAccepted`).
    func check(_ operation: String, alsoAccepted: Set<Int> = []) throws {
        guard isSuccess || alsoAccepted.contains(status) else { throw error(operation) }
    }

    func error(_ operation: String) -> S3Error {
        .service(
            status: status, code: S3XML.value("Code", in: text) ?? "", message: S3XML.value("Message", in: text) ?? "",
            operation: operation)
    }

    /// The ETag header without its quotes.
    var etag: String? {
        headers.first(name: "etag").map { $0.removingSurrounding("\"") }
    }
}

extension String {
    func removingSurrounding(_ character: Character) -> String {
        var s = Substring(self)
        while s.first == character { s = s.dropFirst() }
        while s.last == character { s = s.dropLast() }
        return String(s)
    }
}
