// SigV4 signatures and request building checked against the examples AWS publishes for S3 (examplebucket,
// 24 May 2013, the documented example key pair).
@testable import GlimpseStorage
import NIOCore
import Testing

@Suite("S3 SigV4 signing")
struct S3SigV4SignerTests {
    static let credentials = S3Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let signer = S3SigV4Signer(credentials: credentials, region: "us-east-1")
    static let location = S3Location(
        scheme: "https", host: "s3.amazonaws.com", port: 443, bucket: "examplebucket", addressing: .virtualHost)
    static let date = SigV4Date(timestamp: "20130524T000000Z")

    static func authorization(_ request: S3Request) throws -> String {
        let headers = request.signed(for: location, signer: signer, date: try #require(date)).headers
        return try #require(headers.first { $0.0 == "Authorization" }?.1)
    }

    @Test func getObjectWithARange() throws {
        let request = S3Request(
            operation: "GetObject", method: .GET, key: "test.txt", headers: [("Range", "bytes=0-9")], idempotent: true)
        let expected = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        #expect(try Self.authorization(request) == expected)
    }

    @Test func putObjectWithABodyAndAnEscapedKey() throws {
        let request = S3Request(
            operation: "PutObject", method: .PUT, key: "test$file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            body: ByteBuffer(string: "Welcome to Amazon S3."), idempotent: true)
        let authorization = try Self.authorization(request)
        #expect(authorization.hasSuffix("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
        #expect(authorization.contains("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class"))
    }

    @Test func bucketSubresourceWithAnEmptyValue() throws {
        let request = S3Request(operation: "GetBucketLifecycle", method: .GET, key: nil, query: [("lifecycle", "")], idempotent: true)
        #expect(try Self.authorization(request).hasSuffix(
            "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))
    }

    @Test func listingWithQueryParameters() throws {
        let request = S3Request(
            operation: "ListObjects", method: .GET, key: nil, query: [("max-keys", "2"), ("prefix", "J")], idempotent: true)
        #expect(try Self.authorization(request).hasSuffix(
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
    }

    @Test func pathAndVirtualHostAddressing() throws {
        let request = S3Request(
            operation: "UploadPart", method: .PUT, key: "image 1",
            query: [("partNumber", "2"), ("uploadId", "a/b+c")], idempotent: true)
        let date = try #require(Self.date)
        var path = try S3Location(url: "s3://images?endpoint=http://127.0.0.1:8080&region=eu-west-1&addressing=path")
        let pathURL = request.signed(for: path, signer: Self.signer, date: date).url
        #expect(pathURL == "http://127.0.0.1:8080/images/image%201?partNumber=2&uploadId=a%2Fb%2Bc")
        path.addressing = .virtualHost
        let signed = request.signed(for: path, signer: Self.signer, date: date)
        #expect(signed.url == "http://images.127.0.0.1:8080/image%201?partNumber=2&uploadId=a%2Fb%2Bc")
        #expect(signed.headers.first { $0.0 == "host" }?.1 == "images.127.0.0.1:8080")
    }

    @Test func locationsParseAndRejectMistakes() throws {
        let location = try S3Location(url: "s3://glimpse-images?endpoint=https://s3.example.org&region=eu-west-1")
        #expect(location == S3Location(
            scheme: "https", host: "s3.example.org", port: 443, bucket: "glimpse-images", region: "eu-west-1"))
        #expect(throws: S3Error.self) { try S3Location(url: "s3://Bad_Bucket?endpoint=http://h:1") }
        #expect(throws: S3Error.self) { try S3Location(url: "s3://bucket") }
        #expect(throws: S3Error.self) { try S3Location(url: "s3://bucket?endpoint=http://h:1&addressing=dns") }
        #expect(throws: S3Error.self) { try S3Location(url: "s3://bucket?endpoint=http://h:1&secret=x") }
    }

    @Test func credentialsComeFromTheEnvironmentOrAFileAndNeverShowTheSecret() throws {
        let fromFile = S3Credentials.parse(credentialsFile: """
            # Glimpse's key
            [default]
            aws_access_key_id = AKID
            aws_secret_access_key=s3cr3t
            [other]
            aws_access_key_id = NOT-THIS
            """)
        #expect(fromFile?.accessKeyID == "AKID")
        #expect(fromFile?.secretAccessKey == "s3cr3t")
        let fromEnvironment = S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S3CRET"])
        #expect(fromEnvironment?.accessKeyID == "K")
        #expect(S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "K"]) == nil)
        let shown = "\(try #require(fromEnvironment))"
        #expect(!shown.contains("S3CRET"))
    }
}
