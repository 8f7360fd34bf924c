import GlimpseCore
import PostgresNIO

/// Import tasks, in the same database as the images they belong to.
extension PostgresMetadataStore {
    public func insertTask(_ task: ImageTask) async throws {
        try await transaction { db in
            let inserted = try await db.query(
                "INSERT INTO tasks (id, type, status, input, created_at, updated_at) VALUES (\(task.id), \(task.type), \(task.status.rawValue), \(task.input), \(task.createdAt.microseconds), \(task.updatedAt.microseconds)) ON CONFLICT (id) DO NOTHING RETURNING id",
                logger: logger
            ).collect()
            if inserted.isEmpty { throw GlimpseError.conflict("A task with identifier \(task.id) already exists") }
            try await write(task, on: db)
        }
    }

    public func updateTask(id: String, _ body: @Sendable (inout ImageTask) throws -> Void) async throws -> ImageTask? {
        try await transaction { db in
            guard var task = try await tasks(db.query("SELECT \(unescaped: Self.taskColumns) FROM tasks WHERE id = \(id) FOR UPDATE", logger: logger)).first
            else { return nil }
            try body(&task)
            task.id = id
            try await write(task, on: db)
            return task
        }
    }

    public func task(id: String) async throws -> ImageTask? {
        try await read { db in
            try await tasks(db.query("SELECT \(unescaped: Self.taskColumns) FROM tasks WHERE id = \(id)", logger: logger)).first
        }
    }

    public func tasks(imageID: String) async throws -> [ImageTask] {
        try await read { db in
            try await tasks(db.query(
                "SELECT \(unescaped: Self.taskColumns) FROM tasks WHERE image_id = \(imageID) ORDER BY created_at, id",
                logger: logger))
        }
    }

    public func allTasks(limit: Int) async throws -> [ImageTask] {
        try await read { db in
            try await tasks(db.query(
                "SELECT \(unescaped: Self.taskColumns) FROM tasks ORDER BY created_at DESC, id DESC LIMIT \(Int64(limit))",
                logger: logger))
        }
    }

    static let taskColumns =
        "id, type, status, owner, image_id, request_id, user_id, input, result, message, created_at, updated_at, expires_at"

    func tasks(_ rows: PostgresRowSequence) async throws -> [ImageTask] {
        var result: [ImageTask] = []
        for try await r in rows.decode(
            (String, String, String, String?, String?, String?, String?, String, String?, String, Int64, Int64, Int64?).self)
        {
            result.append(ImageTask(
                id: r.0, type: r.1, status: ImageTask.Status(rawValue: r.2) ?? .failure, owner: r.3, imageID: r.4,
                requestID: r.5, userID: r.6, input: r.7, result: r.8, message: r.9,
                createdAt: Timestamp(microseconds: r.10), updatedAt: Timestamp(microseconds: r.11),
                expiresAt: r.12.map(Timestamp.init(microseconds:))))
        }
        return result
    }

    func write(_ t: ImageTask, on db: PostgresConnection) async throws {
        try await db.query(
            """
            UPDATE tasks SET type = \(t.type), status = \(t.status.rawValue), owner = \(t.owner), image_id = \(t.imageID),
                request_id = \(t.requestID), user_id = \(t.userID), input = \(t.input), result = \(t.result),
                message = \(t.message), created_at = \(t.createdAt.microseconds), updated_at = \(t.updatedAt.microseconds),
                expires_at = \(t.expiresAt?.microseconds)
            WHERE id = \(t.id)
            """, logger: logger)
    }
}
