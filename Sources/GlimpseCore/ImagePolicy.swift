/// Who may do what with an image: Glance 33's default (secure RBAC) policy rules, plus the database-level
/// visibility filter Glance applies before policy (an image a caller may not see is 404, not 403).
public enum ImagePolicy {
    public enum Action: String, Sendable {
        case getImage = "get_image", getImages = "get_images", addImage = "add_image", modifyImage = "modify_image"
        case deleteImage = "delete_image", publicizeImage = "publicize_image", communitizeImage = "communitize_image"
        case downloadImage = "download_image", uploadImage = "upload_image"
        case addMember = "add_member", deleteMember = "delete_member", getMember = "get_member"
        case getMembers = "get_members", modifyMember = "modify_member"
        case deactivate, reactivate
        case addImageLocation = "add_image_location", fetchImageLocation = "fetch_image_location"
    }

    /// Whether `image` exists at all for `caller` (glance/db/utils.py `is_image_visible`).
    /// `membership` is the caller's own member record on the image, if any.
    /// Glance 33 with `enforce_scope` serves project-scoped tokens only: a system- or domain-scoped one sees no
    /// image (404 on every per-image call) and may not list or create (403).
    public static func isVisible(_ image: Image, to caller: Caller, membership: MemberStatus?) -> Bool {
        guard caller.scope == .project else { return false }
        if caller.isAdmin { return true }
        if image.owner != nil, caller.actsFor(image.owner) { return true }
        switch image.visibility {
        case .public, .community: return true
        case .shared: return membership != nil
        case .private: return false
        }
    }

    /// The policy rule for `action` on `image` (nil for create, where `owner` is the requested owner).
    public static func allows(_ action: Action, caller: Caller, image: Image?, memberID: String? = nil) -> Bool {
        guard caller.scope == .project else { return false }
        if caller.isAdmin { return true }
        let owns = caller.actsFor(image?.owner)
        let reader = caller.hasRole("reader")
        let member = caller.hasRole("member")
        let openToAll = image.map { $0.visibility != .private } ?? false
        switch action {
        case .getImage:
            return reader && (owns || caller.actsFor(memberID) || openToAll)
        case .downloadImage:
            return member && (owns || caller.actsFor(memberID) || openToAll)
        case .getImages:
            return reader && caller.projectID != nil
        case .addImage:
            return member && caller.projectID != nil && (image?.owner == nil || owns)
        case .modifyImage, .deleteImage, .uploadImage, .communitizeImage, .addMember, .deleteMember,
            .deactivate, .reactivate:
            return member && owns
        case .publicizeImage:
            return false
        case .getMember, .getMembers:
            return reader && (owns || caller.actsFor(memberID))
        case .modifyMember:
            return member && caller.actsFor(memberID)
        case .addImageLocation:  // service_api or a member of the owner project
            return caller.hasRole("service") || (member && owns)
        case .fetchImageLocation:  // service_api
            return caller.hasRole("service")
        }
    }

    /// Throws Glance's 403 when the rule refuses.
    public static func enforce(_ action: Action, caller: Caller, image: Image?, memberID: String? = nil) throws {
        guard allows(action, caller: caller, image: image, memberID: memberID) else {
            throw GlimpseError.forbidden("You are not authorized to complete \(action.rawValue) action.")
        }
    }
}
