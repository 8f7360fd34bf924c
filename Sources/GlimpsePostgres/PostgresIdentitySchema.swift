import PostgresNIO

/// The identity store's schema: the SQLite identity schema's final shape (domains, projects, users, roles and
/// implied roles, grants to users and groups on projects, domains and the system, tokens, application
/// credentials, credentials and the service catalog) in one migration, plus the change version of the store. Every text column collates as "C" so
/// listings order bytewise, as SQLite's BINARY collation does. Grants on a project or domain reference it by a
/// typed (target_type, target_id) pair without a foreign key, as in SQLite; the store deletes them with their target.
enum PostgresIdentitySchema {
    static let migrations = PostgresMigrations(migrations: [
        .init(version: "identity-1", statements: [
            """
            CREATE TABLE identity_domains (
                id TEXT COLLATE "C" PRIMARY KEY,
                name TEXT COLLATE "C" NOT NULL UNIQUE,
                description TEXT COLLATE "C" NOT NULL DEFAULT '',
                enabled BOOLEAN NOT NULL DEFAULT TRUE)
            """,
            """
            CREATE TABLE identity_projects (
                id TEXT COLLATE "C" PRIMARY KEY,
                name TEXT COLLATE "C" NOT NULL,
                domain_id TEXT COLLATE "C" NOT NULL REFERENCES identity_domains (id),
                description TEXT COLLATE "C" NOT NULL DEFAULT '',
                enabled BOOLEAN NOT NULL DEFAULT TRUE,
                extra TEXT COLLATE "C" NOT NULL DEFAULT '{}',
                UNIQUE (domain_id, name))
            """,
            """
            CREATE TABLE identity_users (
                id TEXT COLLATE "C" PRIMARY KEY,
                name TEXT COLLATE "C" NOT NULL,
                domain_id TEXT COLLATE "C" NOT NULL REFERENCES identity_domains (id),
                enabled BOOLEAN NOT NULL DEFAULT TRUE,
                default_project_id TEXT COLLATE "C",
                password_hash TEXT COLLATE "C",
                extra TEXT COLLATE "C" NOT NULL DEFAULT '{}',
                UNIQUE (domain_id, name))
            """,
            // '' for global roles, so that all global roles share one name space under the UNIQUE constraint.
            """
            CREATE TABLE identity_roles (
                id TEXT COLLATE "C" PRIMARY KEY,
                name TEXT COLLATE "C" NOT NULL,
                description TEXT COLLATE "C" NOT NULL DEFAULT '',
                domain_id TEXT COLLATE "C" NOT NULL DEFAULT '',
                UNIQUE (domain_id, name))
            """,
            """
            CREATE TABLE identity_implied_roles (
                prior_role_id TEXT COLLATE "C" NOT NULL REFERENCES identity_roles (id) ON DELETE CASCADE,
                implied_role_id TEXT COLLATE "C" NOT NULL REFERENCES identity_roles (id) ON DELETE CASCADE,
                PRIMARY KEY (prior_role_id, implied_role_id))
            """,
            """
            CREATE TABLE identity_assignments (
                user_id TEXT COLLATE "C" NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
                project_id TEXT COLLATE "C" NOT NULL REFERENCES identity_projects (id) ON DELETE CASCADE,
                role_id TEXT COLLATE "C" NOT NULL REFERENCES identity_roles (id) ON DELETE CASCADE,
                PRIMARY KEY (user_id, project_id, role_id))
            """,
            "CREATE INDEX identity_assignments_project ON identity_assignments (project_id)",
            "CREATE INDEX identity_assignments_role ON identity_assignments (role_id)",
            """
            CREATE TABLE identity_target_assignments (
                user_id TEXT COLLATE "C" NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
                target_type TEXT COLLATE "C" NOT NULL,
                target_id TEXT COLLATE "C" NOT NULL,
                role_id TEXT COLLATE "C" NOT NULL REFERENCES identity_roles (id) ON DELETE CASCADE,
                PRIMARY KEY (user_id, target_type, target_id, role_id))
            """,
            "CREATE INDEX identity_target_assignments_target ON identity_target_assignments (target_type, target_id)",
            """
            CREATE TABLE identity_groups (
                id TEXT COLLATE "C" PRIMARY KEY,
                name TEXT COLLATE "C" NOT NULL,
                domain_id TEXT COLLATE "C" NOT NULL REFERENCES identity_domains (id),
                description TEXT COLLATE "C" NOT NULL DEFAULT '',
                extra TEXT COLLATE "C" NOT NULL DEFAULT '{}',
                UNIQUE (domain_id, name))
            """,
            """
            CREATE TABLE identity_group_members (
                group_id TEXT COLLATE "C" NOT NULL REFERENCES identity_groups (id) ON DELETE CASCADE,
                user_id TEXT COLLATE "C" NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
                PRIMARY KEY (group_id, user_id))
            """,
            "CREATE INDEX identity_group_members_user ON identity_group_members (user_id)",
            """
            CREATE TABLE identity_group_assignments (
                group_id TEXT COLLATE "C" NOT NULL REFERENCES identity_groups (id) ON DELETE CASCADE,
                target_type TEXT COLLATE "C" NOT NULL,
                target_id TEXT COLLATE "C" NOT NULL,
                role_id TEXT COLLATE "C" NOT NULL REFERENCES identity_roles (id) ON DELETE CASCADE,
                PRIMARY KEY (group_id, target_type, target_id, role_id))
            """,
            "CREATE INDEX identity_group_assignments_target ON identity_group_assignments (target_type, target_id)",
            """
            CREATE TABLE identity_tokens (
                hash TEXT COLLATE "C" PRIMARY KEY,
                user_id TEXT COLLATE "C" NOT NULL,
                project_id TEXT COLLATE "C",
                methods TEXT COLLATE "C" NOT NULL,
                issued_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                audit_id TEXT COLLATE "C" NOT NULL,
                parent_audit_id TEXT COLLATE "C",
                revoked BOOLEAN NOT NULL DEFAULT FALSE,
                scope_system BOOLEAN NOT NULL DEFAULT FALSE,
                scope_domain_id TEXT COLLATE "C",
                application_credential_id TEXT COLLATE "C")
            """,
            "CREATE INDEX identity_tokens_user ON identity_tokens (user_id)",
            "CREATE INDEX identity_tokens_expiry ON identity_tokens (expires_at)",
            """
            CREATE TABLE identity_application_credentials (
                id TEXT COLLATE "C" PRIMARY KEY,
                user_id TEXT COLLATE "C" NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
                name TEXT COLLATE "C" NOT NULL,
                description TEXT COLLATE "C" NOT NULL DEFAULT '',
                project_id TEXT COLLATE "C" REFERENCES identity_projects (id) ON DELETE CASCADE,
                system BOOLEAN NOT NULL DEFAULT FALSE,
                secret_hash TEXT COLLATE "C" NOT NULL,
                expires_at BIGINT,
                unrestricted BOOLEAN NOT NULL DEFAULT FALSE,
                role_ids TEXT COLLATE "C" NOT NULL,
                UNIQUE (user_id, name))
            """,
            """
            CREATE TABLE identity_credentials (
                id TEXT COLLATE "C" PRIMARY KEY,
                user_id TEXT COLLATE "C" NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
                project_id TEXT COLLATE "C" REFERENCES identity_projects (id) ON DELETE CASCADE,
                type TEXT COLLATE "C" NOT NULL,
                blob TEXT COLLATE "C" NOT NULL)
            """,
            "CREATE INDEX identity_credentials_user ON identity_credentials (user_id)",
            """
            CREATE TABLE identity_regions (
                id TEXT COLLATE "C" PRIMARY KEY,
                description TEXT COLLATE "C" NOT NULL DEFAULT '',
                parent_region_id TEXT COLLATE "C" REFERENCES identity_regions (id) ON DELETE SET NULL)
            """,
            """
            CREATE TABLE identity_catalog_services (
                id TEXT COLLATE "C" PRIMARY KEY,
                type TEXT COLLATE "C" NOT NULL,
                name TEXT COLLATE "C" NOT NULL DEFAULT '',
                description TEXT COLLATE "C" NOT NULL DEFAULT '',
                enabled BOOLEAN NOT NULL DEFAULT TRUE)
            """,
            """
            CREATE TABLE identity_endpoints (
                id TEXT COLLATE "C" PRIMARY KEY,
                service_id TEXT COLLATE "C" NOT NULL REFERENCES identity_catalog_services (id) ON DELETE CASCADE,
                interface TEXT COLLATE "C" NOT NULL,
                url TEXT COLLATE "C" NOT NULL,
                region_id TEXT COLLATE "C" REFERENCES identity_regions (id) ON DELETE SET NULL,
                enabled BOOLEAN NOT NULL DEFAULT TRUE)
            """,
            // One row: the change version every node's token cache checks (see PostgresIdentityStore.storing).
            """
            CREATE TABLE identity_change_version (
                singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
                version BIGINT NOT NULL)
            """,
            "INSERT INTO identity_change_version (singleton, version) VALUES (TRUE, 0)",
        ]),
    ])
}
