// GlimpseIdentity owns the Identity API v3 subset under /identity: users, projects, roles, tokens, catalog,
// and the authenticators (built-in tokens, external Keystone) that turn a request's token into a `Caller`.

import Crypto
import Dispatch
import Foundation
import _CryptoExtras

/// Password hashing: PBKDF2-HMAC-SHA256 with a 16-byte random salt, stored as
/// `$pbkdf2-sha256$<rounds>$<salt, base64>$<key, base64>` (the passlib layout). Hashing runs off the
/// cooperative thread pool, since it is deliberately slow.
public enum PasswordHasher {
    /// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
    public static let defaultRounds = 600_000

    public static func hash(_ password: String, rounds: Int = defaultRounds) async throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = rng.next() }
        let key = try await derive(password, salt: salt, rounds: rounds)
        return "$pbkdf2-sha256$\(rounds)$\(Data(salt).base64EncodedString())$\(Data(key).base64EncodedString())"
    }

    /// Whether `password` matches `stored`. Always does the full work, in constant time for the comparison.
    public static func verify(_ password: String, against stored: String?) async -> Bool {
        guard let stored else {
            _ = await burn(password)
            return false
        }
        let parts = stored.split(separator: "$", omittingEmptySubsequences: true)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), rounds >= 1000,
            let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])),
            !expected.isEmpty
        else {
            _ = await burn(password)
            return false
        }
        guard let key = try? await derive(password, salt: [UInt8](salt), rounds: rounds, length: expected.count) else {
            return false
        }
        return constantTimeEquals(key, [UInt8](expected))
    }

    /// The same work as a real check, so an unknown user name takes as long as a wrong password.
    public static func burn(_ password: String) async -> Bool {
        _ = try? await derive(password, salt: [UInt8](repeating: 7, count: 16), rounds: defaultRounds)
        return false
    }

    static func derive(_ password: String, salt: [UInt8], rounds: Int, length: Int = 32) async throws -> [UInt8] {
        let pw = Array(password.utf8)
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<[UInt8], any Error>) in
            DispatchQueue.global(qos: .userInitiated).async {
                do {
                    let key = try KDF.Insecure.PBKDF2.deriveKey(
                        from: pw, salt: salt, using: .sha256, outputByteCount: length, unsafeUncheckedRounds: rounds)
                    c.resume(returning: key.withUnsafeBytes { [UInt8]($0) })
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

/// Opaque bearer tokens and ids.
public enum TokenCodec {
    /// 32 bytes from the system CSPRNG, base64url without padding (43 characters).
    public static func newToken() -> String { base64url(randomBytes(32)) }

    /// The form stored and cached: lowercase hex SHA-256 of the token string.
    public static func hash(_ token: String) -> String {
        hex(SHA256.hash(data: Array(token.utf8)))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Keystone's ids: 32 lowercase hex digits (uuid4 hex).
    public static func newID() -> String { UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }

    /// Keystone's audit ids: 16 random bytes, base64url (22 characters).
    public static func newAuditID() -> String { base64url(randomBytes(16)) }

    /// A generated password: 24 random bytes, base64url (32 characters).
    public static func newPassword() -> String { base64url(randomBytes(24)) }

    static func randomBytes(_ n: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<n).map { _ in rng.next() }
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
