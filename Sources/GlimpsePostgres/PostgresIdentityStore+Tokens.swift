import GlimpseCore
import GlimpseStorage
import PostgresNIO

/// Issued tokens, by SHA-256. Revocation is a conditional update, so of two nodes revoking one token at once
/// exactly one reports it.
extension PostgresIdentityStore {
    public func insertToken(_ t: IdentityTokenRecord) async throws {
        let methods = t.methods.joined(separator: ",")
        try await storing("token", invalidates: false) { db in
            _ = try await db.query(
                """
                INSERT INTO identity_tokens (hash, user_id, project_id, methods, issued_at, expires_at, audit_id,
                    parent_audit_id, revoked, scope_system, scope_domain_id, application_credential_id)
                VALUES (\(t.hash), \(t.userID), \(t.projectID), \(methods), \(t.issuedAt.microseconds),
                    \(t.expiresAt.microseconds), \(t.auditID), \(t.parentAuditID), \(t.revoked), \(t.system),
                    \(t.domainID), \(t.applicationCredentialID))
                """, logger: logger)
        }
    }

    public func token(hash: String) async throws -> IdentityTokenRecord? {
        try await read { db in
            for try await (hash, userID, projectID, methods, issued, expires, audit, parentAudit, revoked, system, domainID,
                credentialID) in try await db.query(
                    """
                    SELECT hash, user_id, project_id, methods, issued_at, expires_at, audit_id, parent_audit_id, revoked,
                        scope_system, scope_domain_id, application_credential_id
                    FROM identity_tokens WHERE hash = \(hash)
                    """, logger: logger
                ).decode((String, String, String?, String, Int64, Int64, String, String?, Bool, Bool, String?, String?).self)
            {
                return IdentityTokenRecord(
                    hash: hash, userID: userID, projectID: projectID, methods: methods.split(separator: ",").map(String.init),
                    issuedAt: Timestamp(microseconds: issued), expiresAt: Timestamp(microseconds: expires), auditID: audit,
                    parentAuditID: parentAudit, revoked: revoked, system: system, domainID: domainID,
                    applicationCredentialID: credentialID)
            }
            return nil
        }
    }

    public func revokeToken(hash: String) async throws -> Bool {
        try await changed(
            "token", "UPDATE identity_tokens SET revoked = TRUE WHERE hash = \(hash) AND NOT revoked RETURNING hash")
    }

    public func revokeTokens(userID: String) async throws {
        try await storing("token") { db in
            _ = try await db.query("UPDATE identity_tokens SET revoked = TRUE WHERE user_id = \(userID)", logger: logger)
        }
    }

    public func purgeTokens(expiredBefore now: Timestamp) async throws {
        let cutoff = now.microseconds
        try await storing("token", invalidates: false) { db in
            _ = try await db.query("DELETE FROM identity_tokens WHERE expires_at < \(cutoff)", logger: logger)
        }
    }
}
