import GlimpseCore
import PostgresNIO

/// Translates an `ImageListQuery` and the caller's scope into one statement returning a page of image ids, with
/// the same filters, order and keyset paging as the SQLite backend. Values are always bound parameters; the only
/// names written into the SQL are column names checked against the fixed sets below.
struct PostgresImageQuery {
    /// Columns a list may filter on by value (`ImageListQuery.columnFilters`) and by time.
    static let filterColumns: Set<String> = [
        "name", "id", "status", "container_format", "disk_format", "checksum", "os_hash_value",
    ]
    static let timeColumns: Set<String> = ["created_at", "updated_at"]

    private var clauses: [String] = ["status NOT IN ('killed', 'deleted')"]
    private var binds = PostgresBindings()

    /// Appends a bound value and returns its placeholder (`$n`).
    private mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// Sortable expressions; NULLs are folded so keyset paging has a total order.
    static func expression(_ key: String) -> String {
        switch key {
        case "name", "disk_format", "container_format": "COALESCE(\(key), '')"
        case "size": "COALESCE(size, -1)"
        default: key
        }
    }

    private mutating func bindSortValue(of image: Image, _ key: String) -> String {
        switch key {
        case "name": bind(image.name ?? "")
        case "disk_format": bind(image.diskFormat ?? "")
        case "container_format": bind(image.containerFormat ?? "")
        case "size": bind(image.size ?? -1)
        case "status": bind(image.status.rawValue)
        case "created_at": bind(image.createdAt.microseconds)
        case "updated_at": bind(image.updatedAt.microseconds)
        default: bind(image.id)
        }
    }

    static func build(_ q: ImageListQuery, caller: Caller, marker: Image?) throws -> PostgresQuery {
        var builder = PostgresImageQuery()
        return try builder.statement(q, caller: caller, marker: marker)
    }

    private mutating func memberClause(_ q: ImageListQuery, project: String) -> String {
        let member = bind(project)
        switch q.memberStatus {
        case .all:
            return "EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.member = \(member))"
        case .only(let s):
            let status = bind(s.rawValue)
            return "EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.member = \(member) AND m.status = \(status))"
        }
    }

    private mutating func statement(_ q: ImageListQuery, caller: Caller, marker: Image?) throws -> PostgresQuery {
        // Who may see what (glance/db/sqlalchemy/api.py `_select_images_query`).
        let project = caller.projectID ?? ""
        if caller.isAdmin {
            if case .only(let v)? = q.visibility { clauses.append("visibility = \(bind(v.rawValue))") }
        } else {
            switch q.visibility {
            case nil:
                let owner = bind(project)
                clauses.append("(owner = \(owner) OR visibility = 'public' OR (visibility = 'shared' AND \(memberClause(q, project: project))))")
            case .all?:
                let owner = bind(project)
                clauses.append("(owner = \(owner) OR visibility IN ('public', 'community') OR (visibility = 'shared' AND \(memberClause(q, project: project))))")
            case .only(.public)?: clauses.append("visibility = 'public'")
            case .only(.community)?: clauses.append("visibility = 'community'")
            case .only(.private)?: clauses.append("visibility = 'private' AND owner = \(bind(project))")
            case .only(.shared)?:
                let owner = bind(project)
                clauses.append("visibility = 'shared' AND (owner = \(owner) OR \(memberClause(q, project: project)))")
            }
        }

        if let owner = q.owner { clauses.append("owner = \(bind(owner))") }
        for (key, values) in q.columnFilters.sorted(by: { $0.key < $1.key }) {
            guard Self.filterColumns.contains(key) else { throw GlimpseError.badRequest("Unable to filter by \(key).") }
            clauses.append("\(key) = ANY(\(bind(values))::TEXT[])")
        }
        for tag in q.tags {
            clauses.append("EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id AND t.value = \(bind(tag)))")
        }
        for (key, value) in q.properties {
            let name = bind(key)
            clauses.append("EXISTS (SELECT 1 FROM image_properties p WHERE p.image_id = images.id AND p.name = \(name) AND p.value = \(bind(value)))")
        }
        if let min = q.sizeMin { clauses.append("size >= \(bind(min))") }
        if let max = q.sizeMax { clauses.append("size <= \(bind(max))") }
        clauses.append("os_hidden = \(bind(q.osHidden))")
        if let p = q.protected { clauses.append("protected = \(bind(p))") }
        for (key, op, ts) in q.timeFilters {
            guard Self.timeColumns.contains(key) else { throw GlimpseError.badRequest("Unable to filter by \(key).") }
            let sqlOp = switch op {
            case .gt: ">"
            case .gte: ">="
            case .eq: "="
            case .neq: "<>"
            case .lt: "<"
            case .lte: "<="
            }
            // Wire timestamps have whole seconds: compare on the second, as Glance's stored values do.
            clauses.append("(\(key) / 1000000) \(sqlOp) \(bind(ts.microseconds / 1_000_000))")
        }

        var order = q.sort
        for (key, _) in order where !ImageListQuery.sortKeys.contains(key) {
            throw GlimpseError.badRequest("Unable to sort by \(key).")
        }
        if !order.contains(where: { $0.key == "id" }) { order.append(("id", order.last?.direction ?? .desc)) }

        if let marker {
            // Keyset paging: rows strictly after the marker in the sort order.
            var ors: [String] = []
            for i in order.indices {
                var parts: [String] = []
                for j in 0..<i {
                    parts.append("\(Self.expression(order[j].key)) = \(bindSortValue(of: marker, order[j].key))")
                }
                let comparison = order[i].direction == .asc ? ">" : "<"
                parts.append("\(Self.expression(order[i].key)) \(comparison) \(bindSortValue(of: marker, order[i].key))")
                ors.append("(" + parts.joined(separator: " AND ") + ")")
            }
            clauses.append("(" + ors.joined(separator: " OR ") + ")")
        }

        let orderSQL = order.map { "\(Self.expression($0.key)) \($0.direction == .asc ? "ASC" : "DESC")" }
            .joined(separator: ", ")
        let limit = bind(Int64(max(0, q.limit)))
        let sql = "SELECT id FROM images WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(orderSQL) LIMIT \(limit)"
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}
