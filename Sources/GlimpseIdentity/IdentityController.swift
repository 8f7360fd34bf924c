import GlimpseHTTP
import HTTPTypes
import Hummingbird

/// Mounts the Identity API v3 subset under `/identity`: the version documents, the token routes (open and
/// authenticated), and one route group per resource, all behind Keystone's error shape.
public struct IdentityController: Sendable {
    let service: IdentityService
    /// `<public>/identity`
    let root: String

    public static let subjectToken = HTTPField.Name("X-Subject-Token")!
    public static let authToken = HTTPField.Name("X-Auth-Token")!

    public init(service: IdentityService) {
        self.service = service
        self.root = service.options.publicURL + "/identity"
    }

    public func addRoutes(to router: Router<GlimpseRequestContext>) {
        let base = root + "/v3"
        IdentityVersionsController(base: base).addRoutes(to: router)
        let v3 = router.group("identity/v3").add(middleware: KeystoneErrorMiddleware(authURI: root))
        let open = v3.group(context: IdentityRequestContext.self)
        let authenticated = v3.group(context: IdentityRequestContext.self)
            .add(middleware: IdentityAuthMiddleware(service: service))
        let tokens = TokensController(service: service, base: base)
        tokens.addOpenRoutes(to: open)
        tokens.addRoutes(to: authenticated)
        DomainsController(service: service, base: base).addRoutes(to: authenticated)
        ProjectsController(service: service, base: base).addRoutes(to: authenticated)
        let users = UsersController(service: service, base: base)
        users.addOpenRoutes(to: open)
        users.addRoutes(to: authenticated)
        RolesController(service: service, base: base).addRoutes(to: authenticated)
        GroupsController(service: service, base: base).addRoutes(to: authenticated)
        RoleInferencesController(service: service, base: base).addRoutes(to: authenticated)
        CredentialsController(service: service, base: base).addRoutes(to: authenticated)
        EC2CredentialsController(service: service, base: base).addRoutes(to: authenticated)
        for target in [GrantsController.Target.project, .domain, .system] {
            GrantsController(service: service, base: base, target: target).addRoutes(to: authenticated)
        }
        ApplicationCredentialsController(service: service, base: base).addRoutes(to: authenticated)
        CatalogController(service: service, base: base).addRoutes(to: authenticated)
    }
}
