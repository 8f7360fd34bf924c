import Foundation
import GlimpseCore
import HTTPTypes
import Testing

// Brute-force protection: Keystone's account lockout and the per-address limit on failed authentications.
// A manual clock, moved past the lockout duration or the window, keeps the tests free of timing guesses.
@Suite("Identity brute-force protection")
struct BruteForceTests {
    @Test("lockout: after N failures the user gets Keystone's 401 even with the right password, until the duration passes")
    func lockout() async throws {
        let clock = ManualClock()
        try await withCloud(configure: { s in
            s.lockoutFailureAttempts = 2
            s.lockoutDuration = 300
            s.bruteForceClock = clock.now
        }) { c in
            let admin = try await c.adminToken()
            let (_, uid) = try await c.makeTenant("lock", password: "lock-pw", admin: admin)
            #expect(try await c.login("lock-user", "wrong", project: "lock").status == .unauthorized)
            #expect(try await c.login("lock-user", "lock-pw", project: "lock").status == .created, "one failure does not lock")
            #expect(try await c.login("lock-user", "wrong", project: "lock").status == .unauthorized)
            #expect(try await c.login("lock-user", "wrong", project: "lock").status == .unauthorized)
            let locked = try await c.login("lock-user", "lock-pw", project: "lock")
            #expect(locked.status == .unauthorized)
            #expect(locked.json["error"]?["message"]?.str == "The account is locked for user: \(uid).")
            // An administrator enabling the user lifts the lock, as in Keystone.
            #expect(try await c.call(.patch, "/identity/v3/users/\(uid)", token: admin, json: #"{"user":{"enabled":true}}"#).status == .ok)
            #expect(try await c.login("lock-user", "lock-pw", project: "lock").status == .created)
            #expect(try await c.login("lock-user", "wrong", project: "lock").status == .unauthorized)
            #expect(try await c.login("lock-user", "wrong", project: "lock").status == .unauthorized)
            #expect(try await c.login("lock-user", "lock-pw", project: "lock").status == .unauthorized, "locked again")
            clock.advance(.seconds(299))
            #expect(try await c.login("lock-user", "lock-pw", project: "lock").status == .unauthorized, "still locked")
            clock.advance(.seconds(2))
            #expect(try await c.login("lock-user", "lock-pw", project: "lock").status == .created)

            // The bootstrap admin on loopback is never locked out unless the operator opts in.
            for _ in 0..<3 {
                let failed = try await c.login("admin", "wrong", project: "admin")
                #expect(failed.status == .unauthorized)
            }
            #expect(try await c.login("admin", adminPassword, project: "admin").status == .created)
        }
    }

    @Test("lockout is off by default")
    func lockoutOffByDefault() async throws {
        try await withCloud { c in
            let admin = try await c.adminToken()
            _ = try await c.makeTenant("nolock", password: "nolock-pw", admin: admin)
            for _ in 0..<6 {
                let failed = try await c.login("nolock-user", "wrong", project: "nolock")
                #expect(failed.status == .unauthorized)
            }
            #expect(try await c.login("nolock-user", "nolock-pw", project: "nolock").status == .created)
        }
    }

    @Test("per-address limit: after the limit of failures in the window, password logins from the address get 429 until it passes")
    func addressLimit() async throws {
        let clock = ManualClock()
        try await withCloud(configure: { s in
            s.authFailureLimit = 3
            s.authFailureWindow = 60
            s.authLimitLoopback = true
            s.bruteForceClock = clock.now
        }) { c in
            for _ in 0..<3 {
                let failed = try await c.login("admin", "wrong", project: "admin")
                #expect(failed.status == .unauthorized)
            }
            let limited = try await c.login("admin", adminPassword, project: "admin")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.json["error"]?["code"] == .int(429))
            #expect(limited.header("Retry-After") != nil)
            clock.advance(.seconds(59))
            #expect(try await c.login("admin", adminPassword, project: "admin").status == .tooManyRequests)
            clock.advance(.seconds(2))
            #expect(try await c.login("admin", adminPassword, project: "admin").status == .created)
        }
    }

    @Test("per-address limit spares loopback by default: the operator on the host can always log in")
    func loopbackSpared() async throws {
        try await withCloud(configure: { s in
            s.authFailureLimit = 3
            s.authFailureWindow = 60
            s.lockoutFailureAttempts = 3
            s.lockoutDuration = 60
        }) { c in
            for _ in 0..<5 {
                let failed = try await c.login("admin", "wrong", project: "admin")
                #expect(failed.status == .unauthorized)
            }
            #expect(try await c.login("admin", adminPassword, project: "admin").status == .created)
        }
    }
}
