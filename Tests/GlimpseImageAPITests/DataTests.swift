import GlimpseImageAPI
import HTTPTypes
import Testing

/// `PUT/GET /v2/images/{id}/file` (wire facts A.2, A.5, C.7, C.8; glance-observed 07–15, 35).
@Suite struct UploadTests {
    @Test func uploadMakesTheImageActiveWithCorrectDigests() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.put(
                "/v2/images/\(id)/file", data: Payload.big,
                headers: [HTTPField.Name("X-OpenStack-Image-Size")!: String(Payload.big.count)])
            #expect(r.status == .noContent, "\(r)")
            #expect(r.body.readableBytes == 0)
            let i = try await api.image(id, as: .owner)
            #expect(i["status"]?.string == "active")
            #expect(i["size"]?.int == Int64(Payload.big.count))
            #expect(i["virtual_size"]?.int == Int64(Payload.big.count), "raw: virtual size is the size")
            #expect(i["checksum"]?.string == Payload.bigMD5)
            #expect(i["os_hash_algo"]?.string == "sha512")
            #expect(i["os_hash_value"]?.string == Payload.bigSHA512)
            #expect(i["stores"]?.string == "local")
        }
    }

    /// Piped stdin makes the SDK send a chunked body (A.2).
    @Test func chunkedUpload() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let head = """
                PUT /v2/images/\(id)/file HTTP/1.1\r
                Host: localhost\r
                Content-Type: application/octet-stream\r
                Transfer-Encoding: chunked\r
                X-Project-Id: p-owner\r
                X-Roles: reader,member\r
                Connection: close\r
                \r
                5\r
                hello\r
                8\r
                 glimpse\r
                0\r
                \r

                """
            let answer = try await api.raw(Array(head.utf8))
            #expect(answer.hasPrefix("HTTP/1.1 204"), "\(answer)")
            let i = try await api.image(id)
            #expect(i["status"]?.string == "active")
            #expect(i["size"]?.int == Int64(Payload.hello.count))
            #expect(i["checksum"]?.string == Payload.helloMD5)
            #expect(i["os_hash_value"]?.string == Payload.helloSHA512)
            let data = try await api.get("/v2/images/\(id)/file")
            #expect(data.bytes == Payload.hello)
        }
    }

    /// `openstack image create </dev/null` uploads 0 bytes: the image becomes active with size 0 (A.2).
    @Test func emptyChunkedUploadMakesAnActiveEmptyImage() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let head = """
                PUT /v2/images/\(id)/file HTTP/1.1\r
                Host: localhost\r
                Content-Type: application/octet-stream\r
                Transfer-Encoding: chunked\r
                X-Project-Id: p-owner\r
                X-Roles: reader,member\r
                Connection: close\r
                \r
                0\r
                \r

                """
            let answer = try await api.raw(Array(head.utf8))
            #expect(answer.hasPrefix("HTTP/1.1 204"), "\(answer)")
            let i = try await api.image(id)
            #expect(i["status"]?.string == "active")
            #expect(i["size"]?.int == 0)
            #expect(i["checksum"]?.string == "d41d8cd98f00b204e9800998ecf8427e")
            #expect(
                i["os_hash_value"]?.string
                    == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
            )
        }
    }

    /// curl waits for `100 Continue` before sending a body (glance-observed 35).
    @Test func expect100Continue() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let head = """
                PUT /v2/images/\(id)/file HTTP/1.1\r
                Host: localhost\r
                Content-Type: application/octet-stream\r
                Content-Length: \(Payload.hello.count)\r
                Expect: 100-continue\r
                X-Project-Id: p-owner\r
                X-Roles: reader,member\r
                Connection: close\r
                \r

                """
            let answer = try await api.raw(Array(head.utf8), then: Payload.hello, after: "100 Continue")
            #expect(answer.hasPrefix("HTTP/1.1 100 Continue"), "\(answer)")
            #expect(answer.contains("HTTP/1.1 204"), "\(answer)")
            #expect(try await api.image(id)["checksum"]?.string == Payload.helloMD5)
        }
    }

    @Test func uploadToAnActiveImageIs409() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            try await api.upload(id, Payload.hello)
            let r = try await api.put("/v2/images/\(id)/file", data: Array("other".utf8))
            expectError(r, .conflict, containing: "Image status transition from active to saving is not allowed")
            let i = try await api.image(id)
            #expect(i["checksum"]?.string == Payload.helloMD5, "the data is unchanged")
            #expect(try await api.get("/v2/images/\(id)/file").bytes == Payload.hello)
        }
    }

    @Test(arguments: ["text/plain", "application/json", nil] as [String?])
    func wrongContentTypeIs415(type: String?) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.put("/v2/images/\(id)/file", data: Array("x".utf8), type: type)
            expectError(r, .unsupportedMediaType)
            #expect(try await api.image(id)["status"]?.string == "queued")
        }
    }

    @Test func declaredSizeMismatchIs400AndLeavesTheImageQueued() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.put(
                "/v2/images/\(id)/file", data: Payload.hello,
                headers: [HTTPField.Name("X-OpenStack-Image-Size")!: "5"])
            expectError(r, .badRequest)
            let i = try await api.image(id)
            #expect(i["status"]?.string == "queued")
            #expect(i["size"]?.isNull == true)
            #expect(i["checksum"]?.isNull == true)
            #expect(api.blobFiles().isEmpty, "nothing kept: \(api.blobFiles())")
            // A correct retry works.
            try await api.upload(id, Payload.hello)
            #expect(try await api.image(id)["status"]?.string == "active")
        }
    }

    @Test func badDeclaredSizeIs400() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.put(
                "/v2/images/\(id)/file", data: Payload.hello,
                headers: [HTTPField.Name("X-OpenStack-Image-Size")!: "lots"])
            expectError(r, .badRequest)
            #expect(try await api.image(id)["status"]?.string == "queued")
        }
    }

    @Test func uploadWithoutFormatsIs400() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage(#"{"name":"no formats"}"#)
            let r = try await api.put("/v2/images/\(id)/file", data: Payload.hello)
            expectError(r, .badRequest, containing: "must be set prior to saving data")
            #expect(try await api.image(id)["status"]?.string == "queued")
        }
    }

    @Test func sizeCapIs413AndKeepsNothing() async throws {
        try await withGlimpse(limits: ImageLimits(imageSizeCap: 100)) { api in
            let id = try await api.createImage()
            // Known in advance (Content-Length).
            let r = try await api.put("/v2/images/\(id)/file", data: Array(repeating: 7, count: 101))
            expectError(r, .contentTooLarge)
            // Found out while streaming (chunked, no declared size).
            let body = String(repeating: "x", count: 150)
            let request = """
                PUT /v2/images/\(id)/file HTTP/1.1\r
                Host: localhost\r
                Content-Type: application/octet-stream\r
                Transfer-Encoding: chunked\r
                X-Project-Id: p-owner\r
                X-Roles: reader,member\r
                Connection: close\r
                \r
                96\r
                \(body)\r
                0\r
                \r

                """
            let answer = try await api.raw(Array(request.utf8))
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
            let i = try await api.image(id)
            #expect(i["status"]?.string == "queued")
            #expect(i["size"]?.isNull == true)
            #expect(api.blobFiles().isEmpty, "nothing kept: \(api.blobFiles())")
            #expect(try await api.get("/v2/images/\(id)/file").status == .noContent)
            // Exactly at the cap is fine.
            try await api.upload(id, Array(repeating: 7, count: 100))
        }
    }

    @Test func projectQuotaIs413AndKeepsNothing() async throws {
        try await withGlimpse(limits: ImageLimits(projectQuota: 150)) { api in
            let a = try await api.createImage()
            let b = try await api.createImage()
            try await api.upload(a, Array(repeating: 1, count: 100))
            let r = try await api.put("/v2/images/\(b)/file", data: Array(repeating: 2, count: 100))
            expectError(r, .contentTooLarge)
            let i = try await api.image(b)
            #expect(i["status"]?.string == "queued")
            #expect(i["size"]?.isNull == true)
            #expect(api.blobFiles().count == 1, "only the first image's data: \(api.blobFiles())")
            // What is left of the quota may still be used.
            try await api.upload(b, Array(repeating: 2, count: 50))
            // The quota is per project.
            let c = try await api.createImage(as: .other)
            try await api.upload(c, Array(repeating: 3, count: 100), as: .other)
        }
    }

    @Test func uploadPermissions() async throws {
        try await withGlimpse { api in
            let pub = try await api.createImage(
                #"{"visibility":"public","disk_format":"raw","container_format":"bare"}"#, as: .admin)
            let priv = try await api.createImage(#"{"visibility":"private","disk_format":"raw","container_format":"bare"}"#)
            expectError(try await api.put("/v2/images/\(pub)/file", data: Payload.hello, as: .other), .forbidden)
            expectError(try await api.put("/v2/images/\(priv)/file", data: Payload.hello, as: .other), .notFound)
            expectError(try await api.put("/v2/images/\(priv)/file", data: Payload.hello, as: .ownerReader), .forbidden)
            expectError(
                try await api.put("/v2/images/00000000-0000-0000-0000-000000000000/file", data: Payload.hello),
                .notFound)
            // An admin may upload to any image.
            try await api.upload(priv, Payload.hello, as: .admin)
        }
    }

    @Test func qcow2VirtualSizeFromTheHeader() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage(#"{"disk_format":"qcow2","container_format":"bare"}"#)
            var header: [UInt8] = [0x51, 0x46, 0x49, 0xFB]  // "QFI\xfb"
            header += [0, 0, 0, 3]  // version 3
            header += [UInt8](repeating: 0, count: 8)  // backing file offset
            header += [0, 0, 0, 0]  // backing file size
            header += [0, 0, 0, 16]  // cluster bits
            header += [0, 0, 0, 0, 0x40, 0, 0, 0]  // size: 1 GiB
            header += [UInt8](repeating: 0, count: 1024 - header.count)
            try await api.upload(id, header)
            let i = try await api.image(id)
            #expect(i["size"]?.int == 1024)
            #expect(i["virtual_size"]?.int == 1 << 30)
        }
    }
}

@Suite struct DownloadTests {
    @Test func downloadReturnsTheDataWithContentMD5() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            try await api.upload(id, Payload.big)
            let r = try await api.get("/v2/images/\(id)/file")
            #expect(r.status == .ok)
            #expect(r.header("Content-Type") == "application/octet-stream")
            #expect(r.header("Content-MD5") == Payload.bigMD5)
            #expect(r.header("Content-Length") == String(Payload.big.count))
            #expect(r.bytes == Payload.big)
        }
    }

    /// Large downloads leave through sendfile(2) below the HTTP codec: the bytes, the headers and keep-alive must
    /// be exactly what the streamed path gives.
    @Test func largeDownloadsAndRangesAreExactOnOneKeptAliveConnection() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            try await api.upload(id, Payload.big)
            let get = "GET /v2/images/\(id)/file HTTP/1.1\r\nHost: x\r\nX-Project-Id: p-owner\r\nX-Roles: reader,member\r\n"
            let range = "Range: bytes=1000-2000000\r\n"
            let answer = try await api.rawBytes(Array((get + "\r\n" + get + range + "Connection: close\r\n\r\n").utf8))
            func headEnd(from start: Int) throws -> Int {
                let marker = Array("\r\n\r\n".utf8)
                var i = start
                while i + 4 <= answer.count {
                    if Array(answer[i..<(i + 4)]) == marker { return i + 4 }
                    i += 1
                }
                throw CancellationError()
            }
            let firstBody = try headEnd(from: 0)
            let firstHead = String(decoding: answer[0..<firstBody], as: UTF8.self)
            #expect(firstHead.hasPrefix("HTTP/1.1 200"), "\(firstHead)")
            #expect(firstHead.contains("Content-Length: \(Payload.big.count)"))
            #expect(!firstHead.lowercased().contains("x-glimpse"), "no internal header leaks: \(firstHead)")
            let second = firstBody + Payload.big.count
            #expect(Array(answer[firstBody..<second]) == Payload.big)
            let secondBody = try headEnd(from: second)
            let secondHead = String(decoding: answer[second..<secondBody], as: UTF8.self)
            #expect(secondHead.hasPrefix("HTTP/1.1 206"), "\(secondHead)")
            #expect(secondHead.contains("Content-Range: bytes 1000-2000000/\(Payload.big.count)"))
            #expect(!secondHead.lowercased().contains("x-glimpse"))
            #expect(Array(answer[secondBody...]) == Array(Payload.big[1000...2_000_000]), "the range, and nothing after it")
        }
    }

    @Test(arguments: [
        ("bytes=0-9", 0, 10), ("bytes=10-", 10, 3), ("bytes=-5", 8, 5), ("bytes=5-1000", 5, 8), ("bytes=12-12", 12, 1),
    ])
    func rangeIs206(range: String, start: Int, count: Int) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            try await api.upload(id, Payload.hello)
            let r = try await api.get("/v2/images/\(id)/file", headers: [.range: range])
            #expect(r.status == .partialContent, "\(r)")
            #expect(r.header("Content-Range") == "bytes \(start)-\(start + count - 1)/\(Payload.hello.count)")
            #expect(r.header("Content-Length") == String(count))
            #expect(r.header("Content-MD5") == Payload.helloMD5)
            #expect(r.bytes == Array(Payload.hello[start..<(start + count)]))
        }
    }

    @Test(arguments: ["bytes=13-", "bytes=100-200", "bytes=-0"])
    func unsatisfiableRangeIs416(range: String) async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            try await api.upload(id, Payload.hello)
            let r = try await api.get("/v2/images/\(id)/file", headers: [.range: range])
            expectError(r, .rangeNotSatisfiable)
            #expect(r.header("Content-Range") == "bytes */\(Payload.hello.count)")
        }
    }

    @Test func queuedImageDownloadIs204() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            let r = try await api.get("/v2/images/\(id)/file")
            #expect(r.status == .noContent)
            #expect(r.body.readableBytes == 0)
        }
    }

    @Test func headIs405() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            try await api.upload(id, Payload.hello)
            let r = try await api.send(.head, "/v2/images/\(id)/file")
            #expect(r.status == .methodNotAllowed)
            #expect(r.header("Allow") == "GET, PUT")
        }
    }

    @Test func readerCannotDownload() async throws {
        try await withGlimpse { api in
            let id = try await api.createImage()
            try await api.upload(id, Payload.hello)
            expectError(try await api.get("/v2/images/\(id)/file", as: .ownerReader), .forbidden)
            let pub = try await api.createImage(
                #"{"visibility":"public","disk_format":"raw","container_format":"bare"}"#, as: .admin)
            try await api.upload(pub, Payload.hello, as: .admin)
            expectError(try await api.get("/v2/images/\(pub)/file", as: .otherReader), .forbidden)
            #expect(try await api.get("/v2/images/\(pub)/file", as: .other).bytes == Payload.hello)
        }
    }

    @Test func downloadOfMissingImageIs404() async throws {
        try await withGlimpse { api in
            expectError(try await api.get("/v2/images/00000000-0000-0000-0000-000000000000/file"), .notFound)
            expectError(try await api.get("/v2/images/nope/file"), .notFound)
        }
    }
}
