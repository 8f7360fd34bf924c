import GRDB
import GlimpseCore

/// Translates an `ImageListQuery` and the caller's scope into one SQL statement returning a page of image ids.
enum SQLiteImageQuery {
    /// Sortable expressions; NULLs are folded so keyset paging has a total order.
    static func expression(_ key: String) -> String {
        switch key {
        case "name", "disk_format", "container_format": "COALESCE(\(key), '')"
        case "size": "COALESCE(size, -1)"
        default: key
        }
    }

    static func value(of image: Image, _ key: String) -> any DatabaseValueConvertible {
        switch key {
        case "name": image.name ?? ""
        case "disk_format": image.diskFormat ?? ""
        case "container_format": image.containerFormat ?? ""
        case "size": image.size ?? -1
        case "status": image.status.rawValue
        case "created_at": image.createdAt.microseconds
        case "updated_at": image.updatedAt.microseconds
        default: image.id
        }
    }

    static func build(_ q: ImageListQuery, caller: Caller, marker: Image?) -> (String, StatementArguments) {
        var clauses: [String] = ["status NOT IN ('killed', 'deleted')"]
        var args = StatementArguments()
        func add(_ sql: String, _ values: [any DatabaseValueConvertible]) {
            clauses.append(sql)
            args += StatementArguments(values.map { $0.databaseValue })
        }

        // Who may see what (glance/db/sqlalchemy/api.py `_select_images_query`).
        let memberClause: String
        var memberArgs: [any DatabaseValueConvertible] = [caller.projectID ?? ""]
        switch q.memberStatus {
        case .all:
            memberClause = "EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.member = ?)"
        case .only(let s):
            memberClause =
                "EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.member = ? AND m.status = ?)"
            memberArgs.append(s.rawValue)
        }
        let project = caller.projectID ?? ""
        if caller.isAdmin {
            if case .only(let v)? = q.visibility { add("visibility = ?", [v.rawValue]) }
        } else {
            switch q.visibility {
            case nil:
                add("(owner = ? OR visibility = 'public' OR (visibility = 'shared' AND \(memberClause)))",
                    [project] + memberArgs)
            case .all?:
                add("(owner = ? OR visibility IN ('public', 'community') OR (visibility = 'shared' AND \(memberClause)))",
                    [project] + memberArgs)
            case .only(.public)?: add("visibility = 'public'", [])
            case .only(.community)?: add("visibility = 'community'", [])
            case .only(.private)?: add("visibility = 'private' AND owner = ?", [project])
            case .only(.shared)?:
                add("visibility = 'shared' AND (owner = ? OR \(memberClause))", [project] + memberArgs)
            }
        }

        if let owner = q.owner { add("owner = ?", [owner]) }
        for (key, values) in q.columnFilters.sorted(by: { $0.key < $1.key }) {
            let marks = Array(repeating: "?", count: values.count).joined(separator: ",")
            add("\(key) IN (\(marks))", values)
        }
        for tag in q.tags {
            add("EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id AND t.value = ?)", [tag])
        }
        for (key, value) in q.properties {
            add("EXISTS (SELECT 1 FROM image_properties p WHERE p.image_id = images.id AND p.name = ? AND p.value = ?)",
                [key, value])
        }
        if let min = q.sizeMin { add("size >= ?", [min]) }
        if let max = q.sizeMax { add("size <= ?", [max]) }
        add("os_hidden = ?", [q.osHidden])
        if let p = q.protected { add("protected = ?", [p]) }
        for (key, op, ts) in q.timeFilters {
            let sqlOp = ["gt": ">", "gte": ">=", "eq": "=", "neq": "<>", "lt": "<", "lte": "<="][op.rawValue]!
            // Wire timestamps have whole seconds: compare on the second, as Glance's stored values do.
            add("(\(key) / 1000000) \(sqlOp) ?", [ts.microseconds / 1_000_000])
        }

        var order = q.sort
        if !order.contains(where: { $0.key == "id" }) { order.append(("id", order.last?.direction ?? .desc)) }

        if let marker {
            // Keyset paging: rows strictly after the marker in the sort order.
            var ors: [String] = []
            var orArgs: [any DatabaseValueConvertible] = []
            for i in order.indices {
                var parts: [String] = []
                for j in 0..<i {
                    parts.append("\(expression(order[j].key)) = ?")
                    orArgs.append(value(of: marker, order[j].key))
                }
                parts.append("\(expression(order[i].key)) \(order[i].direction == .asc ? ">" : "<") ?")
                orArgs.append(value(of: marker, order[i].key))
                ors.append("(" + parts.joined(separator: " AND ") + ")")
            }
            add("(" + ors.joined(separator: " OR ") + ")", orArgs)
        }

        let orderSQL = order.map { "\(expression($0.key)) \($0.direction == .asc ? "ASC" : "DESC")" }
            .joined(separator: ", ")
        let sql = "SELECT id FROM images WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(orderSQL) LIMIT \(q.limit)"
        return (sql, args)
    }
}
