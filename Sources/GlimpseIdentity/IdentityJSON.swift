import Crypto
import Foundation
import GlimpseCore
import GlimpseHTTP
import GlimpseStorage

/// The service catalog of tokens and `/v3/auth/catalog`: the enabled services with their enabled endpoints, as
/// stored. `configured` is what bootstrap seeds: identity, image and compute on the one listener, in one region.
public struct ServiceCatalog: Sendable {
    public struct Endpoint: Sendable {
        public var id: String
        public var interface: String
        public var region: String?
        public var url: String
    }

    public struct Service: Sendable {
        public var id: String
        public var type: String
        public var name: String
        public var endpoints: [Endpoint]
    }

    public let services: [Service]
    public static let interfaces = ["public", "internal", "admin"]

    public init(services: [Service]) {
        self.services = services
    }

    /// The catalog built from the stored records.
    public init(services: [IdentityCatalogService], endpoints: [IdentityEndpoint]) {
        self.services = services.filter(\.enabled).map { s in
            Service(
                id: s.id, type: s.type, name: s.name,
                endpoints: endpoints.filter { $0.serviceID == s.id && $0.enabled }.map {
                    Endpoint(id: $0.id, interface: $0.interface, region: $0.regionID, url: $0.url)
                })
        }
    }

    /// Glimpse's own services, with ids stable across restarts.
    public static func configured(publicURL: String, region: String = "RegionOne") -> ServiceCatalog {
        func svc(_ type: String, _ name: String, _ url: String) -> Service {
            Service(
                id: stableID("service-\(type)"), type: type, name: name,
                endpoints: interfaces.map { Endpoint(id: stableID("endpoint-\(type)-\($0)"), interface: $0, region: region, url: url) })
        }
        return ServiceCatalog(services: [
            svc("identity", "keystone", publicURL + "/identity"),
            svc("image", "glance", publicURL),
            svc("compute", "nova", publicURL + "/compute/v2.1"),
        ])
    }

    public static func stableID(_ seed: String) -> String {
        SHA256.hash(data: Array("glimpse-\(seed)".utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}

/// Keystone's timestamps: `2026-11-23T09:10:49.000000Z`.
func keystoneTime(_ t: Timestamp) -> String {
    let s = t.iso8601
    return String(s.dropLast()) + ".000000Z"
}

/// Keystone's timestamps with their microseconds (`2026-11-23T09:10:49.714010Z`): application credentials keep
/// the `expires_at` they were given to the microsecond, unlike tokens, whose times Keystone truncates to seconds.
func keystoneTimeMicros(_ t: Timestamp) -> String {
    let micros = t.microseconds - (t.microseconds / 1_000_000) * 1_000_000
    let positive = micros < 0 ? micros + 1_000_000 : micros
    let digits = String(positive)
    return String(t.iso8601.dropLast()) + "." + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + "Z"
}

extension JSONWriter {
    /// Any JSON value (doubles that are not whole numbers are written as strings: JSONWriter writes integers only).
    mutating func identityValue(_ v: JSONValue) {
        switch v {
        case .null: null()
        case .bool(let b): value(b)
        case .int(let i): value(i)
        case .double(let d):
            if d.rounded() == d, abs(d) < 9e15 { value(Int64(d)) } else { value(String(d)) }
        case .string(let s): value(s)
        case .array(let a): array { w in for e in a { w.identityValue(e) } }
        case .object(let o):
            object { w in
                for (k, v) in o.sorted(by: { $0.key < $1.key }) {
                    w.key(k)
                    w.identityValue(v)
                }
            }
        }
    }

    mutating func links(self url: String) {
        field("links", object: { $0.field("self", url) })
    }

    mutating func listLinks(_ url: String) {
        field("links", object: { l in
            l.field("self", url)
            l.key("previous")
            l.null()
            l.key("next")
            l.null()
        })
    }
}

enum IdentityJSON {
    static func extras(_ json: String) -> [String: JSONValue] {
        guard let data = json.data(using: .utf8),
            case .object(let o) = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return [:] }
        return o
    }

    static func encode(_ o: [String: JSONValue]) -> String {
        var w = JSONWriter()
        w.identityValue(.object(o))
        return String(buffer: w.buffer)
    }

    static func domain(_ d: IdentityDomain, into w: inout JSONWriter, base: String) {
        w.object { o in
            o.field("id", d.id)
            o.field("name", d.name)
            o.field("description", d.description)
            o.field("enabled", d.enabled)
            o.field("tags", array: { _ in })
            o.field("options", object: { _ in })
            o.links(self: "\(base)/domains/\(d.id)")
        }
    }

    static func project(_ p: IdentityProject, into w: inout JSONWriter, base: String) {
        w.object { o in
            let extra = extras(p.extraJSON)
            for (k, v) in extra.sorted(by: { $0.key < $1.key }) {
                o.key(k)
                o.identityValue(v)
            }
            o.field("id", p.id)
            o.field("name", p.name)
            o.field("domain_id", p.domainID)
            o.field("description", p.description)
            o.field("enabled", p.enabled)
            o.field("parent_id", p.domainID)
            o.field("is_domain", false)
            o.field("tags", array: { _ in })
            o.field("options", object: { _ in })
            o.links(self: "\(base)/projects/\(p.id)")
        }
    }

    static func user(_ u: IdentityUser, into w: inout JSONWriter, base: String) {
        w.object { o in
            let extra = extras(u.extraJSON)
            for (k, v) in extra.sorted(by: { $0.key < $1.key }) {
                o.key(k)
                o.identityValue(v)
            }
            o.field("id", u.id)
            o.field("name", u.name)
            o.field("domain_id", u.domainID)
            o.field("enabled", u.enabled)
            if let d = u.defaultProjectID { o.field("default_project_id", d) }
            o.key("password_expires_at")
            o.null()
            o.field("options", object: { _ in })
            o.links(self: "\(base)/users/\(u.id)")
        }
    }

    static func role(_ r: IdentityRole, into w: inout JSONWriter, base: String) {
        w.object { o in
            o.field("id", r.id)
            o.field("name", r.name)
            o.field("domain_id", r.domainID)
            o.field("description", r.description)
            o.field("options", object: { _ in })
            o.links(self: "\(base)/roles/\(r.id)")
        }
    }

    /// One entry of `role_assignments`; names (and the domains owning users and projects) with `include_names`.
    static func assignment(
        _ a: RoleAssignment, _ report: IdentityService.AssignmentReport, names: Bool, into w: inout JSONWriter, base: String
    ) {
        func named(_ w: inout JSONWriter, id: String, name: String?, domain: String?) {
            w.field("id", id)
            if names, let name { w.field("name", name) }
            if names, let domain {
                w.field("domain", object: { d in
                    d.field("id", domain)
                    d.field("name", report.domains[domain]?.name ?? domain)
                })
            }
        }
        let target: String
        switch a.scope {
        case .project(let pid): target = "\(base)/projects/\(pid)"
        case .domain(let did): target = "\(base)/domains/\(did)"
        case .system: target = "\(base)/system"
        }
        let actorPath: String
        switch a.actor {
        case .user(let u): actorPath = a.viaGroupID.map { "groups/\($0)" } ?? "users/\(u)"
        case .group(let g): actorPath = "groups/\(g)"
        }
        w.object { e in
            e.field("role", object: { r in
                r.field("id", a.roleID)
                if names { r.field("name", report.roles[a.roleID]?.name) }
            })
            switch a.actor {
            case .user(let uid):
                e.field("user", object: { u in
                    named(&u, id: uid, name: report.users[uid]?.name, domain: report.users[uid]?.domainID)
                })
            case .group(let gid):
                e.field("group", object: { g in
                    named(&g, id: gid, name: report.groups[gid]?.name, domain: report.groups[gid]?.domainID)
                })
            }
            e.field("scope", object: { s in
                switch a.scope {
                case .project(let pid):
                    s.field("project", object: { p in
                        named(&p, id: pid, name: report.projects[pid]?.name, domain: report.projects[pid]?.domainID)
                    })
                case .domain(let did):
                    s.field("domain", object: { d in named(&d, id: did, name: report.domains[did]?.name, domain: nil) })
                case .system:
                    s.field("system", object: { $0.field("all", true) })
                }
            })
            e.field("links", object: { l in
                l.field("assignment", "\(target)/\(actorPath)/roles/\(a.roleID)")
                if case .user(let u) = a.actor, let g = a.viaGroupID { l.field("membership", "\(base)/groups/\(g)/users/\(u)") }
            })
        }
    }

    /// Keystone's shape of an application credential; `secret` only in the answer to its creation.
    static func applicationCredential(
        _ c: IdentityApplicationCredential, roles: [IdentityRole], secret: String?, into w: inout JSONWriter, base: String
    ) {
        w.object { o in
            o.field("id", c.id)
            o.field("name", c.name)
            o.field("description", c.description)
            o.field("user_id", c.userID)
            o.field("project_id", c.projectID)
            if c.system { o.field("system", "all") }
            o.field("roles", array: { a in
                for r in roles {
                    a.object { ro in
                        ro.field("id", r.id)
                        ro.field("name", r.name)
                        ro.key("domain_id")
                        ro.null()
                    }
                }
            })
            // Keystone writes this expiry without a zone designator.
            o.field("expires_at", c.expiresAt.map { String(keystoneTimeMicros($0).dropLast()) })
            o.field("unrestricted", c.unrestricted)
            o.field("access_rules", array: { _ in })
            if let secret { o.field("secret", secret) }
            o.links(self: "\(base)/users/\(c.userID)/application_credentials/\(c.id)")
        }
    }

    static func catalog(_ c: ServiceCatalog, into w: inout JSONWriter) {
        w.array { a in
            for s in c.services {
                a.object { o in
                    o.field("endpoints", array: { e in
                        for ep in s.endpoints {
                            e.object { j in
                                j.field("id", ep.id)
                                j.field("interface", ep.interface)
                                j.field("region_id", ep.region)
                                j.field("url", ep.url)
                                j.field("region", ep.region)
                            }
                        }
                    })
                    o.field("id", s.id)
                    o.field("type", s.type)
                    o.field("name", s.name)
                }
            }
        }
    }

    static func roles(_ c: AuthContext, into t: inout JSONWriter) {
        t.field("roles", array: { a in
            for r in c.roles {
                a.object { ro in
                    ro.field("id", r.id)
                    ro.field("name", r.name)
                }
            }
        })
    }

    /// The `{"token": {...}}` body of issue and validate, in Keystone's key order.
    static func token(_ c: AuthContext, catalog: ServiceCatalog?) -> JSONWriter {
        var w = JSONWriter(capacity: 2048)
        w.object { root in
            root.field("token", object: { t in
                t.field("methods", array: { a in for m in c.token.methods { a.value(m) } })
                t.field("user", object: { u in
                    u.field("domain", object: { d in
                        d.field("id", c.userDomain.id)
                        d.field("name", c.userDomain.name)
                    })
                    u.field("id", c.user.id)
                    u.field("name", c.user.name)
                    u.key("password_expires_at")
                    u.null()
                })
                t.field("audit_ids", array: { a in for id in c.auditIDs { a.value(id) } })
                t.field("expires_at", keystoneTime(c.token.expiresAt))
                t.field("issued_at", keystoneTime(c.token.issuedAt))
                if let p = c.project {
                    t.field("project", object: { po in
                        po.field("domain", object: { d in
                            d.field("id", c.projectDomain?.id ?? p.domainID)
                            d.field("name", c.projectDomain?.name ?? p.domainID)
                        })
                        po.field("id", p.id)
                        po.field("name", p.name)
                    })
                    t.field("is_domain", false)
                    roles(c, into: &t)
                } else if c.system {
                    t.field("system", object: { $0.field("all", true) })
                } else if let d = c.domain {
                    t.field("domain", object: { dom in
                        dom.field("id", d.id)
                        dom.field("name", d.name)
                    })
                }
                if c.isScoped {
                    if c.project == nil { roles(c, into: &t) }
                    if let catalog {
                        t.key("catalog")
                        Self.catalog(catalog, into: &t)
                    }
                }
                if let ac = c.applicationCredential {
                    t.field("application_credential", object: { a in
                        a.field("id", ac.id)
                        a.field("name", ac.name)
                        a.field("restricted", !ac.unrestricted)
                    })
                }
            })
        }
        return w
    }
}
