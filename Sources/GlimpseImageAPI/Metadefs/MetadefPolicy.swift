import GlimpseCore
import GlimpseStorage

/// Glance 33's default metadefs policies: every write is `metadef_admin` (admin only); reads are admin, or a reader
/// of the owning project, or any reader for a public namespace. Like Glance, a refusal on a namespace the caller may
/// not even read is a 404, not a 403; and the database layer hides other projects' private namespaces first.
enum MetadefPolicy {
    enum Rule: String {
        case getNamespace = "get_metadef_namespace", getNamespaces = "get_metadef_namespaces"
        case modifyNamespace = "modify_metadef_namespace", addNamespace = "add_metadef_namespace"
        case deleteNamespace = "delete_metadef_namespace"
        case getObject = "get_metadef_object", getObjects = "get_metadef_objects"
        case modifyObject = "modify_metadef_object", addObject = "add_metadef_object"
        case deleteObject = "delete_metadef_object"
        case listResourceTypes = "list_metadef_resource_types", getResourceType = "get_metadef_resource_type"
        case addAssociation = "add_metadef_resource_type_association"
        case removeAssociation = "remove_metadef_resource_type_association"
        case getProperty = "get_metadef_property", getProperties = "get_metadef_properties"
        case modifyProperty = "modify_metadef_property", addProperty = "add_metadef_property"
        case removeProperty = "remove_metadef_property"
        case getTag = "get_metadef_tag", getTags = "get_metadef_tags", modifyTag = "modify_metadef_tag"
        case addTag = "add_metadef_tag", addTags = "add_metadef_tags", deleteTag = "delete_metadef_tag"
        case deleteTags = "delete_metadef_tags"

        var isRead: Bool {
            switch self {
            case .getNamespace, .getNamespaces, .getObject, .getObjects, .listResourceTypes, .getResourceType,
                .getProperty, .getProperties, .getTag, .getTags:
                true
            default: false
            }
        }
    }

    /// The database-level filter (glance/db/sqlalchemy/metadef_api/namespace.py `_is_namespace_visible`).
    static func isVisible(_ ns: MetadefNamespaceRecord, to caller: Caller) -> Bool {
        caller.isAdmin || ns.owner == nil || ns.visibility == "public" || caller.actsFor(ns.owner)
    }

    /// The read rule against a namespace, or (nil) against the caller's own project.
    static func mayRead(_ ns: MetadefNamespaceRecord?, _ caller: Caller) -> Bool {
        // Every metadef rule is project-scoped in Glance 33.
        guard caller.scope == .project else { return false }
        if caller.isAdmin { return true }
        guard caller.hasRole("reader") else { return false }
        guard let ns else { return caller.projectID != nil }
        return caller.actsFor(ns.owner) || ns.visibility == "public"
    }

    static func allows(_ rule: Rule, _ ns: MetadefNamespaceRecord?, _ caller: Caller) -> Bool {
        rule.isRead ? mayRead(ns, caller) : caller.isAdmin
    }

    static func enforce(_ rule: Rule, _ ns: MetadefNamespaceRecord?, _ caller: Caller) throws {
        if allows(rule, ns, caller) { return }
        if rule == .getNamespace || !mayRead(ns, caller) {
            throw GlimpseError.notFound("The resource could not be found.")
        }
        throw GlimpseError.forbidden("You are not authorized to complete \(rule.rawValue) action.")
    }
}
