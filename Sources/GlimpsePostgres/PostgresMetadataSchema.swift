import PostgresNIO

/// The image-metadata schema, mirroring the SQLite backend's tables. Timestamps are microseconds and sizes bytes,
/// both BIGINT; task input/result and location metadata stay TEXT so they come back byte for byte. Sortable text
/// columns use the "C" collation so that listings order exactly as SQLite's binary comparison does, whatever
/// locale the cluster was created with.
enum PostgresMetadataSchema {
    static let migrations = PostgresMigrations(migrations: [
        .init(version: "v1-images", statements: [
            """
            CREATE TABLE images (
                id TEXT COLLATE "C" PRIMARY KEY,
                name TEXT COLLATE "C",
                status TEXT COLLATE "C" NOT NULL,
                visibility TEXT NOT NULL,
                protected BOOLEAN NOT NULL DEFAULT FALSE,
                os_hidden BOOLEAN NOT NULL DEFAULT FALSE,
                checksum TEXT,
                os_hash_algo TEXT,
                os_hash_value TEXT,
                owner TEXT,
                size BIGINT,
                virtual_size BIGINT,
                disk_format TEXT COLLATE "C",
                container_format TEXT COLLATE "C",
                min_ram BIGINT NOT NULL DEFAULT 0,
                min_disk BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX images_created ON images (created_at, id)",
            "CREATE INDEX images_owner ON images (owner)",
            """
            CREATE TABLE image_properties (
                image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (image_id, name))
            """,
            "CREATE INDEX image_properties_nv ON image_properties (name, value)",
            """
            CREATE TABLE image_tags (
                image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
                value TEXT NOT NULL,
                position BIGINT NOT NULL,
                PRIMARY KEY (image_id, value))
            """,
            """
            CREATE TABLE image_members (
                image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
                member TEXT COLLATE "C" NOT NULL,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (image_id, member))
            """,
            "CREATE INDEX image_members_member ON image_members (member, status)",
        ]),
        .init(version: "v2-tasks", statements: [
            """
            CREATE TABLE tasks (
                id TEXT COLLATE "C" PRIMARY KEY,
                type TEXT NOT NULL,
                status TEXT NOT NULL,
                owner TEXT,
                image_id TEXT,
                request_id TEXT,
                user_id TEXT,
                input TEXT NOT NULL,
                result TEXT,
                message TEXT NOT NULL DEFAULT '',
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                expires_at BIGINT)
            """,
            "CREATE INDEX tasks_image ON tasks (image_id, created_at)",
        ]),
        .init(version: "v3-image-locations", statements: [
            """
            CREATE TABLE image_locations (
                image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
                position BIGINT NOT NULL,
                url TEXT NOT NULL,
                metadata TEXT NOT NULL DEFAULT '{}',
                PRIMARY KEY (image_id, position))
            """,
        ]),
        .init(version: "v4-node-leases", statements: [
            "CREATE TABLE node_leases (node TEXT PRIMARY KEY, address TEXT NOT NULL, heartbeat_at BIGINT NOT NULL)",
            """
            CREATE TABLE image_work (
                image_id TEXT PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
                node TEXT NOT NULL)
            """,
            """
            CREATE TABLE quota_holds (
                project TEXT NOT NULL,
                node TEXT NOT NULL,
                bytes BIGINT NOT NULL,
                version BIGINT NOT NULL,
                PRIMARY KEY (project, node))
            """,
        ]),
    ])
}
