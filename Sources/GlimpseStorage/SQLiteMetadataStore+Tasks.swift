import GRDB
import GlimpseCore

/// Import tasks in the same SQLite database as the images they belong to.
extension SQLiteMetadataStore {
    public func insertTask(_ task: ImageTask) async throws {
        try await write { db in try Self.write(task, db: db, insert: true) }
    }

    public func updateTask(id: String, _ body: @Sendable (inout ImageTask) throws -> Void) async throws -> ImageTask? {
        try await write { db in
            guard var task = try Row.fetchOne(db, sql: "SELECT * FROM tasks WHERE id = ?", arguments: [id]).map(Self.task(from:))
            else { return nil }
            try body(&task)
            task.id = id
            try Self.write(task, db: db, insert: false)
            return task
        }
    }

    public func task(id: String) async throws -> ImageTask? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tasks WHERE id = ?", arguments: [id]).map(Self.task(from:))
        }
    }

    public func tasks(imageID: String) async throws -> [ImageTask] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tasks WHERE image_id = ? ORDER BY created_at, id", arguments: [imageID])
                .map(Self.task(from:))
        }
    }

    public func allTasks(limit: Int) async throws -> [ImageTask] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tasks ORDER BY created_at DESC, id DESC LIMIT ?", arguments: [limit])
                .map(Self.task(from:))
        }
    }

    static func task(from row: Row) -> ImageTask {
        let expires: Int64? = row["expires_at"]
        return ImageTask(
            id: row["id"], type: row["type"], status: ImageTask.Status(rawValue: row["status"]) ?? .failure,
            owner: row["owner"], imageID: row["image_id"], requestID: row["request_id"], userID: row["user_id"],
            input: row["input"], result: row["result"], message: row["message"],
            createdAt: Timestamp(microseconds: row["created_at"]), updatedAt: Timestamp(microseconds: row["updated_at"]),
            expiresAt: expires.map(Timestamp.init(microseconds:)))
    }

    static func write(_ t: ImageTask, db: Database, insert: Bool) throws {
        let args: StatementArguments = [
            t.type, t.status.rawValue, t.owner, t.imageID, t.requestID, t.userID, t.input, t.result, t.message,
            t.createdAt.microseconds, t.updatedAt.microseconds, t.expiresAt?.microseconds, t.id,
        ]
        if insert {
            try db.execute(
                sql: """
                    INSERT INTO tasks (type, status, owner, image_id, request_id, user_id, input, result, message,
                        created_at, updated_at, expires_at, id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
                    """, arguments: args)
        } else {
            try db.execute(
                sql: """
                    UPDATE tasks SET type=?, status=?, owner=?, image_id=?, request_id=?, user_id=?, input=?, result=?,
                        message=?, created_at=?, updated_at=?, expires_at=? WHERE id=?
                    """, arguments: args)
        }
    }
}
