import GlimpseCore
import PostgresNIO

/// Image members: the projects an image is shared with.
extension PostgresMetadataStore {
    public func member(imageID: String, memberID: String) async throws -> ImageMember? {
        try await read { db in
            try await members(db.query(
                "SELECT image_id, member, status, created_at, updated_at FROM image_members WHERE image_id = \(imageID) AND member = \(memberID)",
                logger: logger)).first
        }
    }

    public func members(imageID: String) async throws -> [ImageMember] {
        try await read { db in
            try await members(db.query(
                "SELECT image_id, member, status, created_at, updated_at FROM image_members WHERE image_id = \(imageID) ORDER BY created_at, member",
                logger: logger))
        }
    }

    public func insertMember(_ m: ImageMember, limit: Int) async throws {
        try await transaction { db in
            // Locking the image serialises member inserts on it, so the limit holds across nodes.
            _ = try await db.query("SELECT 1 FROM images WHERE id = \(m.imageID) FOR UPDATE", logger: logger).collect()
            let existing = try await db.query(
                "SELECT 1 FROM image_members WHERE image_id = \(m.imageID) AND member = \(m.memberID)", logger: logger
            ).collect()
            if !existing.isEmpty {
                throw GlimpseError.conflict("Member \(m.memberID) already exists for image \(m.imageID)")
            }
            var count: Int64 = 0
            for try await n in try await db.query(
                "SELECT COUNT(*) FROM image_members WHERE image_id = \(m.imageID)", logger: logger
            ).decode(Int64.self) {
                count = n
            }
            if count >= Int64(limit) {
                throw GlimpseError.tooLarge("Maximum number of members (\(limit)) exceeded for image \(m.imageID).")
            }
            try await db.query(
                "INSERT INTO image_members (image_id, member, status, created_at, updated_at) VALUES (\(m.imageID), \(m.memberID), \(m.status.rawValue), \(m.createdAt.microseconds), \(m.updatedAt.microseconds))",
                logger: logger)
        }
    }

    public func updateMember(imageID: String, memberID: String, status: MemberStatus, at: Timestamp) async throws -> ImageMember? {
        try await transaction { db in
            try await members(db.query(
                "UPDATE image_members SET status = \(status.rawValue), updated_at = \(at.microseconds) WHERE image_id = \(imageID) AND member = \(memberID) RETURNING image_id, member, status, created_at, updated_at",
                logger: logger)).first
        }
    }

    public func deleteMember(imageID: String, memberID: String) async throws -> Bool {
        try await transaction { db in
            try await !db.query(
                "DELETE FROM image_members WHERE image_id = \(imageID) AND member = \(memberID) RETURNING member",
                logger: logger
            ).collect().isEmpty
        }
    }

    func members(_ rows: PostgresRowSequence) async throws -> [ImageMember] {
        var result: [ImageMember] = []
        for try await (imageID, member, status, created, updated) in rows.decode((String, String, String, Int64, Int64).self) {
            result.append(ImageMember(
                imageID: imageID, memberID: member, status: MemberStatus(rawValue: status) ?? .pending,
                createdAt: Timestamp(microseconds: created), updatedAt: Timestamp(microseconds: updated)))
        }
        return result
    }
}
