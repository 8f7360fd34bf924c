import GlimpseCore
import GlimpseHTTP
import GlimpseStorage

// Keystone's shape of a group.
extension IdentityJSON {
    static func group(_ g: IdentityGroup, into w: inout JSONWriter, base: String) {
        w.object { o in
            let extra = extras(g.extraJSON)
            for k in extra.keys.sorted() {
                guard let v = extra[k] else { continue }
                o.key(k)
                o.identityValue(v)
            }
            o.field("id", g.id)
            o.field("name", g.name)
            o.field("domain_id", g.domainID)
            o.field("description", g.description)
            o.links(self: "\(base)/groups/\(g.id)")
        }
    }
}
