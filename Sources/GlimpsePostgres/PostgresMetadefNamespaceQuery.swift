import GlimpseCore
import PostgresNIO

/// Translates a `MetadefNamespaceQuery` into one statement with the SQLite backend's filters, order and keyset
/// paging: the sort key, then created_at and id, all one direction (oslo.db's paginate_query). Values are always
/// bound; the only names written into the SQL are the fixed sort expressions below.
struct PostgresMetadefNamespaceQuery {
    private var clauses: [String] = []
    private var binds = PostgresBindings()

    /// Appends a bound value and returns its placeholder (`$n`).
    private mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    static func build(_ q: MetadefNamespaceQuery, columns: String) -> PostgresQuery {
        var builder = PostgresMetadefNamespaceQuery()
        return builder.statement(q, columns: columns)
    }

    /// The sort expressions for `key`; NULLs are folded so that keyset paging has a total order.
    static func sortExpressions(_ key: MetadefNamespaceQuery.SortKey) -> [String] {
        switch key {
        case .createdAt: ["created_at", "id"]
        case .id: ["id"]
        case .updatedAt: ["updated_at", "created_at", "id"]
        case .namespace: ["namespace", "created_at", "id"]
        case .displayName: ["COALESCE(display_name, '')", "created_at", "id"]
        case .owner: ["COALESCE(owner, '')", "created_at", "id"]
        case .visibility: ["visibility", "created_at", "id"]
        }
    }

    /// The marker's values of the sort expressions, as placeholders.
    private mutating func markerValues(_ m: MetadefNamespaceRecord, _ key: MetadefNamespaceQuery.SortKey) -> [String] {
        switch key {
        case .createdAt: [bind(m.createdAt), bind(m.id)]
        case .id: [bind(m.id)]
        case .updatedAt: [bind(m.updatedAt), bind(m.createdAt), bind(m.id)]
        case .namespace: [bind(m.namespace), bind(m.createdAt), bind(m.id)]
        case .displayName: [bind(m.displayName ?? ""), bind(m.createdAt), bind(m.id)]
        case .owner: [bind(m.owner ?? ""), bind(m.createdAt), bind(m.id)]
        case .visibility: [bind(m.visibility), bind(m.createdAt), bind(m.id)]
        }
    }

    private mutating func statement(_ q: MetadefNamespaceQuery, columns: String) -> PostgresQuery {
        if !q.seesAll {
            // With no project only public and unowned namespaces show (SQLite's `owner = NULL` matches nothing).
            if let project = q.project {
                let owner = bind(project)
                clauses.append("(owner IS NULL OR visibility = 'public' OR owner = \(owner))")
            } else {
                clauses.append("(owner IS NULL OR visibility = 'public')")
            }
        }
        if let visibility = q.visibility {
            let value = bind(visibility)
            clauses.append("visibility = \(value)")
        }
        if let types = q.resourceTypes {
            let names = types.map { bind($0) }.joined(separator: ", ")
            clauses.append(
                """
                id IN (SELECT a.namespace_id FROM metadef_namespace_resource_types a
                JOIN metadef_resource_types r ON r.id = a.resource_type_id WHERE r.name IN (\(names)))
                """)
        }
        let keys = Self.sortExpressions(q.sortKey)
        let direction = q.ascending ? "ASC" : "DESC"
        if let marker = q.marker {
            let values = markerValues(marker, q.sortKey)
            let op = q.ascending ? ">" : "<"
            clauses.append("(\(keys.joined(separator: ", "))) \(op) (\(values.joined(separator: ", ")))")
        }
        var sql = "SELECT \(columns) FROM metadef_namespaces"
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY " + keys.map { "\($0) \(direction)" }.joined(separator: ", ")
        let limit = bind(Int64(max(0, q.limit)))
        sql += " LIMIT \(limit)"
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}
