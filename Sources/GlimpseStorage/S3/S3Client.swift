// Sends signed S3 requests over AsyncHTTPClient, retrying idempotent ones with backoff on 5xx and connection errors.
import AsyncHTTPClient
import NIOCore

struct S3Client: Sendable {
    let location: S3Location
    let signer: S3SigV4Signer
    let http: HTTPClient
    /// Attempts for an idempotent request (the first one included).
    let attempts: Int
    let timeout: TimeAmount

    /// Sends `request` and reads at most `maxBody` bytes of the answer. Non-idempotent requests are sent once:
    /// their callers decide what a failure means.
    func send(_ request: S3Request, maxBody: Int = 4 << 20) async throws -> S3Response {
        var attempt = 0
        while true {
            attempt += 1
            let mayRetry = request.idempotent && attempt < attempts
            do {
                let response = try await http.execute(
                    request.httpRequest(for: location, signer: signer, date: .now()), timeout: timeout)
                let body = try await response.body.collect(upTo: maxBody)
                let answer = S3Response(status: Int(response.status.code), headers: response.headers, body: body)
                if answer.status >= 500, mayRetry {
                    try await backoff(attempt)
                    continue
                }
                return answer
            } catch let error as S3Error {
                throw error
            } catch {
                if error is CancellationError || Task.isCancelled { throw error }
                guard mayRetry else { throw error }
                try await backoff(attempt)
            }
        }
    }

    /// 50 ms, 100 ms, 200 ms … (capped at 2 s), with jitter so that nodes retrying together spread out.
    private func backoff(_ attempt: Int) async throws {
        let base = min(2_000, 50 << min(attempt - 1, 6))
        try await Task.sleep(for: .milliseconds(base / 2 + Int.random(in: 0...(base / 2))))
    }
}
