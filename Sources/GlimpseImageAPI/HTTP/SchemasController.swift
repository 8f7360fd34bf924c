import HTTPTypes
import GlimpseHTTP
import Hummingbird
import NIOCore

/// `/v2/schemas/*` and `/v2/info/*`: the JSON schemas python-glanceclient validates against, and discovery.
public struct SchemasController: Sendable {
    public init() {}

    public func addRoutes(to v2: RouterGroup<GlimpseRequestContext>) {
        v2.get("schemas/image") { _, _ in Self.respond(Self.image) }
        v2.get("schemas/images") { _, _ in Self.respond(Self.images) }
        v2.get("schemas/member") { _, _ in Self.respond(Self.member) }
        v2.get("schemas/members") { _, _ in Self.respond(Self.members) }
        v2.get("info/stores") { _, _ in
            Self.respond(#"{"stores":[{"id":"local","description":"Local filesystem store","default":"true"}]}"#)
        }
    }

    static func respond(_ s: String) -> Response {
        .json(ByteBuffer(string: s))
    }

    static let uuidPattern =
        #""^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$""#

    static let imageProperties = #"""
        "id":{"type":"string","description":"An identifier for the image","pattern":\#(uuidPattern)},\#
        "name":{"type":["null","string"],"description":"Descriptive name for the image","maxLength":255},\#
        "status":{"type":"string","readOnly":true,"description":"Status of the image","enum":["queued","saving","active","killed","deleted","uploading","importing","pending_delete","deactivated"]},\#
        "visibility":{"type":"string","description":"Scope of image accessibility","enum":["community","public","private","shared"]},\#
        "protected":{"type":"boolean","description":"If true, image will not be deletable."},\#
        "os_hidden":{"type":"boolean","description":"If true, image will not appear in default image list response."},\#
        "checksum":{"type":["null","string"],"readOnly":true,"description":"md5 hash of image contents.","maxLength":32},\#
        "os_hash_algo":{"type":["null","string"],"readOnly":true,"description":"Algorithm to calculate the os_hash_value","maxLength":64},\#
        "os_hash_value":{"type":["null","string"],"readOnly":true,"description":"Hexdigest of the image contents using the algorithm specified by the os_hash_algo","maxLength":128},\#
        "owner":{"type":["null","string"],"description":"Owner of the image","maxLength":255},\#
        "size":{"type":["null","integer"],"readOnly":true,"description":"Size of image file in bytes"},\#
        "virtual_size":{"type":["null","integer"],"readOnly":true,"description":"Virtual size of image in bytes"},\#
        "container_format":{"type":["null","string"],"description":"Format of the container","enum":[null,"ami","ari","aki","bare","ovf","ova","docker","compressed"]},\#
        "disk_format":{"type":["null","string"],"description":"Format of the disk","enum":[null,"ami","ari","aki","vhd","vhdx","vmdk","raw","qcow2","vdi","iso","ploop"]},\#
        "created_at":{"type":"string","readOnly":true,"description":"Date and time of image registration"},\#
        "updated_at":{"type":"string","readOnly":true,"description":"Date and time of the last image modification"},\#
        "tags":{"type":"array","description":"List of strings related to the image","items":{"type":"string","maxLength":255}},\#
        "direct_url":{"type":"string","readOnly":true,"description":"URL to access the image file kept in external store"},\#
        "min_ram":{"type":"integer","description":"Amount of ram (in MB) required to boot image."},\#
        "min_disk":{"type":"integer","description":"Amount of disk space (in GB) required to boot image."},\#
        "self":{"type":"string","readOnly":true,"description":"An image self url"},\#
        "file":{"type":"string","readOnly":true,"description":"An image file url"},\#
        "stores":{"type":"string","readOnly":true,"description":"Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be a comma-separated list of store identifiers."},\#
        "schema":{"type":"string","readOnly":true,"description":"An image schema url"},\#
        "locations":{"type":"array","items":{"type":"object","properties":{"url":{"type":"string","maxLength":255},"metadata":{"type":"object"}},"required":["url","metadata"]},"description":"A set of URLs to access the image file kept in external store"}
        """#

    static let imageBody =
        #"{"name":"image","properties":{\#(imageProperties)},"additionalProperties":{"type":"string"},"links":[{"rel":"self","href":"{self}"},{"rel":"enclosure","href":"{file}"},{"rel":"describedby","href":"{schema}"}]}"#
    static let image = imageBody
    static let images =
        #"{"name":"images","properties":{"images":{"type":"array","items":\#(imageBody)},"schema":{"type":"string"},"first":{"type":"string"},"next":{"type":"string"}},"links":[{"rel":"first","href":"{first}"},{"rel":"next","href":"{next}"},{"rel":"describedby","href":"{schema}"}]}"#
    static let memberBody =
        #"{"name":"member","properties":{"created_at":{"type":"string","description":"Date and time of image member creation"},"image_id":{"type":"string","description":"An identifier for the image","pattern":\#(uuidPattern)},"member_id":{"type":"string","description":"An identifier for the image member (tenantId)"},"status":{"type":"string","description":"The status of this image member","enum":["pending","accepted","rejected"]},"updated_at":{"type":"string","description":"Date and time of last modification of image member"},"schema":{"readOnly":true,"type":"string"}}}"#
    static let member = memberBody
    static let members =
        #"{"name":"members","properties":{"members":{"type":"array","items":\#(memberBody)},"schema":{"type":"string"}},"links":[{"rel":"self","href":"{self}"},{"rel":"describedby","href":"{schema}"}]}"#
}
