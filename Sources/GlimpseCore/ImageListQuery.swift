/// A parsed `GET /v2/images` request: Glance's paging, sorting and filter rules (images.py `_get_filters`,
/// `_get_sorting_params`).
public struct ImageListQuery: Sendable, Equatable {
    public enum Direction: String, Sendable { case asc, desc }
    public enum Comparison: String, Sendable { case gt, gte, eq, neq, lt, lte }
    public enum VisibilityFilter: Sendable, Equatable { case only(Visibility), all }
    public enum MemberStatusFilter: Sendable, Equatable { case only(MemberStatus), all }

    public static let sortKeys: Set<String> = [
        "name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at",
    ]
    /// Columns whose filters accept the `in:` operator.
    static let inKeys: Set<String> = ["name", "id", "status", "container_format", "disk_format"]

    public var limit = 25
    public var marker: String?
    public var sort: [(key: String, direction: Direction)] = [("created_at", .desc)]
    /// Exact or `in:` matches on base columns: key → accepted values.
    public var columnFilters: [String: [String]] = [:]
    public var visibility: VisibilityFilter?
    public var memberStatus: MemberStatusFilter = .only(.accepted)
    public var owner: String?
    public var tags: [String] = []
    public var sizeMin: Int64?
    public var sizeMax: Int64?
    public var osHidden = false
    public var protected: Bool?
    public var timeFilters: [(key: String, op: Comparison, value: Timestamp)] = []
    public var properties: [(key: String, value: String)] = []

    public init() {}

    public static let defaultLimit = 25
    public static let maxLimit = 1000

    public static func == (a: Self, b: Self) -> Bool {
        a.limit == b.limit && a.marker == b.marker && a.sort.map(\.key) == b.sort.map(\.key)
            && a.sort.map(\.direction) == b.sort.map(\.direction) && a.columnFilters == b.columnFilters
            && a.visibility == b.visibility && a.memberStatus == b.memberStatus && a.owner == b.owner
            && a.tags == b.tags && a.sizeMin == b.sizeMin && a.sizeMax == b.sizeMax && a.osHidden == b.osHidden
            && a.protected == b.protected && a.properties.map(\.key) == b.properties.map(\.key)
            && a.properties.map(\.value) == b.properties.map(\.value) && a.timeFilters.count == b.timeFilters.count
    }

    /// Parses the decoded query items in order (keys may repeat).
    public static func parse(_ items: [(String, String)]) throws -> ImageListQuery {
        var q = ImageListQuery()
        var sortKeys: [String] = []
        var sortDirs: [Direction] = []
        var sortParam: String?
        for (key, value) in items {
            switch key {
            case "limit":
                guard let n = Int(value), n >= 0 else {
                    throw GlimpseError.badRequest("limit param must be an integer")
                }
                q.limit = min(n, maxLimit)
            case "marker": q.marker = value
            case "sort_key":
                guard sortKeys.count < 10 else { throw GlimpseError.badRequest("Too many sort keys.") }
                sortKeys.append(value)
            case "sort_dir":
                guard let d = Direction(rawValue: value) else {
                    throw GlimpseError.badRequest("Invalid sort direction: \(value)")
                }
                sortDirs.append(d)
            case "sort": sortParam = value
            case "visibility":
                if value == "all" {
                    q.visibility = .all
                } else if let v = Visibility(rawValue: value) {
                    q.visibility = .only(v)
                } else {
                    throw GlimpseError.badRequest("Invalid visibility value: \(value)")
                }
            case "member_status":
                if value == "all" {
                    q.memberStatus = .all
                } else if let s = MemberStatus(rawValue: value) {
                    q.memberStatus = .only(s)
                } else {
                    throw GlimpseError.badRequest("Invalid status value: \(value)")
                }
            case "owner": q.owner = value
            case "tag": q.tags.append(value)
            case "size":
                guard let n = Int64(value) else {
                    throw GlimpseError.badRequest("Unable to filter on a range with a non-numeric value.")
                }
                q.sizeMin = n
                q.sizeMax = n
            case "size_min", "size_max":
                guard let n = Int64(value) else {
                    throw GlimpseError.badRequest("Unable to filter on a range with a non-numeric value.")
                }
                if key == "size_min" { q.sizeMin = n } else { q.sizeMax = n }
            case "os_hidden":
                switch value.lowercased() {
                case "true": q.osHidden = true
                case "false": q.osHidden = false
                default: throw GlimpseError.badRequest("Invalid value '\(value)' for 'os_hidden' filter. Valid values are 'true' or 'false'.")
                }
            case "protected":
                switch value {
                case "true": q.protected = true
                case "false": q.protected = false
                default: throw GlimpseError.badRequest("Invalid value '\(value)' for 'protected' filter. Valid values are 'true' or 'false'.")
                }
            case "created_at", "updated_at":
                let (op, rest) = splitOperator(value)
                guard let cmp = Comparison(rawValue: op ?? "eq") else {
                    throw GlimpseError.badRequest("Unable to filter by unknown operator '\(op ?? "")'.")
                }
                guard let ts = Timestamp(iso8601: rest) else {
                    throw GlimpseError.badRequest("Unable to parse datetime '\(rest)'.")
                }
                q.timeFilters.append((key, cmp, ts))
            case "changes-since":
                throw GlimpseError.badRequest("The 'changes-since' filter is no longer available on v2.")
            case "name", "id", "status", "container_format", "disk_format", "checksum", "os_hash_value":
                let (op, rest) = splitOperator(value)
                if op == "in", inKeys.contains(key) {
                    q.columnFilters[key] = splitInList(rest)
                } else if let op, op != "eq", inKeys.contains(key) || key == "checksum" {
                    throw GlimpseError.badRequest("Unable to filter by unknown operator '\(op)'.")
                } else {
                    q.columnFilters[key] = [op == "eq" ? rest : value]
                }
            default:
                q.properties.append((key, value))
            }
        }
        if let sortParam {
            guard sortKeys.isEmpty, sortDirs.isEmpty else {
                throw GlimpseError.badRequest("The 'sort' parameter cannot be combined with 'sort_key' or 'sort_dir'.")
            }
            q.sort = try sortParam.split(separator: ",").map { part in
                // Empty pieces are kept (`sort=:`, `sort=name,:`) so that they are refused below, never indexed.
                let bits = part.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                    .map { $0.trimmingSpaces() }
                guard let key = bits.first, !key.isEmpty else {
                    throw GlimpseError.badRequest("Invalid sort key: \(part). A sort key cannot be empty.")
                }
                var dir = Direction.desc
                if bits.count == 2 {
                    guard let d = Direction(rawValue: bits[1]) else {
                        throw GlimpseError.badRequest("Invalid sort direction: \(bits[1])")
                    }
                    dir = d
                }
                return (key, dir)
            }
        } else if !sortKeys.isEmpty || !sortDirs.isEmpty {
            if sortKeys.isEmpty { sortKeys = ["created_at"] }
            guard sortDirs.count <= sortKeys.count else {
                throw GlimpseError.badRequest("Number of sort dirs does not match the number of sort keys")
            }
            if sortDirs.count > 1, sortDirs.count != sortKeys.count {
                throw GlimpseError.badRequest("Number of sort dirs does not match the number of sort keys")
            }
            q.sort = sortKeys.enumerated().map { i, k in
                (k, sortDirs.count == sortKeys.count ? sortDirs[i] : (sortDirs.first ?? .desc))
            }
        }
        for s in q.sort where !sortKeys_allowed(s.key) {
            throw GlimpseError.badRequest("Invalid sort key: \(s.key). It must be one of the following: \(sortKeys.isEmpty ? "" : "")\(Self.sortKeys.sorted().joined(separator: ", ")).")
        }
        return q
    }

    static func sortKeys_allowed(_ k: String) -> Bool { sortKeys.contains(k) }

    static func splitOperator(_ value: String) -> (String?, String) {
        guard let colon = value.firstIndex(of: ":") else { return (nil, value) }
        let op = String(value[..<colon])
        let known = ["in", "eq", "neq", "gt", "gte", "lt", "lte"]
        guard known.contains(op) else { return (nil, value) }
        return (op, String(value[value.index(after: colon)...]))
    }

    /// `a,b,"c,d"`: comma-separated, double quotes protect commas.
    static func splitInList(_ s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var quoted = false
        for c in s {
            if c == "\"" {
                quoted.toggle()
            } else if c == ",", !quoted {
                out.append(cur)
                cur = ""
            } else {
                cur.append(c)
            }
        }
        out.append(cur)
        return out
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
