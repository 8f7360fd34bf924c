import HTTPTypes
import GlimpseCore
import GlimpseHTTP
import NIOCore

/// Glance's JSON shapes for images and members (images.py `ResponseSerializer._format_image`): extra properties
/// first as top-level strings, then the base attributes, every one present (null when unset).
enum ImageJSON {
    static let storeID = "local"

    static func write(_ i: Image, into w: inout JSONWriter) {
        w.object { o in
            for key in i.properties.keys.sorted() { o.field(key, i.properties[key]) }
            o.field("name", i.name)
            o.field("disk_format", i.diskFormat)
            o.field("container_format", i.containerFormat)
            o.field("visibility", i.visibility.rawValue)
            o.field("size", i.size)
            o.field("virtual_size", i.virtualSize)
            o.field("status", i.status.rawValue)
            o.field("checksum", i.checksum)
            o.field("protected", i.protected)
            o.field("min_ram", i.minRAM)
            o.field("min_disk", i.minDisk)
            o.field("owner", i.owner)
            o.field("os_hidden", i.osHidden)
            o.field("os_hash_algo", i.osHashAlgo)
            o.field("os_hash_value", i.osHashValue)
            o.field("id", i.id)
            o.field("created_at", i.createdAt.iso8601)
            o.field("updated_at", i.updatedAt.iso8601)
            o.field("tags", array: { a in for t in i.tags { a.value(t) } })
            o.field("self", "/v2/images/\(i.id)")
            o.field("file", "/v2/images/\(i.id)/file")
            o.field("schema", "/v2/schemas/image")
            if i.status.hasData { o.field("stores", storeID) }
        }
    }

    static func image(_ i: Image) -> ByteBuffer {
        var w = JSONWriter(capacity: 1024)
        write(i, into: &w)
        return w.buffer
    }

    static func list(_ images: [Image], first: String, next: String?) -> ByteBuffer {
        var w = JSONWriter(capacity: 900 * images.count + 256)
        w.object { o in
            o.field("images", array: { a in for i in images { write(i, into: &a) } })
            o.field("first", first)
            o.field("schema", "/v2/schemas/images")
            if let next { o.field("next", next) }
        }
        return w.buffer
    }

    static func write(_ m: ImageMember, into w: inout JSONWriter) {
        w.object { o in
            o.field("created_at", m.createdAt.iso8601)
            o.field("image_id", m.imageID)
            o.field("member_id", m.memberID)
            o.field("schema", "/v2/schemas/member")
            o.field("status", m.status.rawValue)
            o.field("updated_at", m.updatedAt.iso8601)
        }
    }

    static func member(_ m: ImageMember) -> ByteBuffer {
        var w = JSONWriter(capacity: 256)
        write(m, into: &w)
        return w.buffer
    }

    static func members(_ ms: [ImageMember]) -> ByteBuffer {
        var w = JSONWriter(capacity: 256 * ms.count + 64)
        w.object { o in
            o.field("members", array: { a in for m in ms { write(m, into: &a) } })
            o.field("schema", "/v2/schemas/members")
        }
        return w.buffer
    }
}
