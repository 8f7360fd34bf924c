/// The ten `/v2/schemas/metadefs/*` documents, shaped as Glance 33 serves them (`glance.schema.Schema.raw()` of each
/// metadefs item schema, and `CollectionSchema`/`DictCollectionSchema` around them).
enum MetadefSchemas {
    static let propertyTypeEnum = #"["array","boolean","integer","number","object","string",null]"#

    static func readOnlyTime(_ description: String) -> String {
        #"{"type":"string","readOnly":true,"description":"\#(description)","format":"date-time"}"#
    }

    static let links =
        #""links":[{"rel":"first","href":"{first}"},{"rel":"next","href":"{next}"},{"rel":"describedby","href":"{schema}"}]"#
    static let paging = #""first":{"type":"string"},"next":{"type":"string"},"schema":{"type":"string"}"#

    /// The members of one property definition (`#/definitions/property` entries and the `property` schema).
    static let propertyMembers = """
        "name":{"type":"string","maxLength":80},\
        "title":{"type":"string"},\
        "description":{"type":"string"},\
        "operators":{"type":"array","items":{"type":"string"}},\
        "type":{"type":"string","enum":\(propertyTypeEnum)},\
        "required":{"$ref":"#/definitions/stringArray"},\
        "minimum":{"type":"number"},\
        "maximum":{"type":"number"},\
        "maxLength":{"$ref":"#/definitions/positiveInteger"},\
        "minLength":{"$ref":"#/definitions/positiveIntegerDefault0"},\
        "pattern":{"type":"string","format":"regex"},\
        "enum":{"type":"array"},\
        "readonly":{"type":"boolean"},\
        "default":{},\
        "items":{"type":"object","properties":{"type":{"type":"string","enum":\(propertyTypeEnum)},"enum":{"type":"array"}}},\
        "maxItems":{"$ref":"#/definitions/positiveInteger"},\
        "minItems":{"$ref":"#/definitions/positiveIntegerDefault0"},\
        "uniqueItems":{"type":"boolean","default":false},\
        "additionalItems":{"type":"boolean"}
        """

    static func integerDefinitions(stringArrayMinItems: Bool) -> String {
        """
        "positiveInteger":{"type":"integer","minimum":0},\
        "positiveIntegerDefault0":{"allOf":[{"$ref":"#/definitions/positiveInteger"},{"default":0}]},\
        "stringArray":{"type":"array","items":{"type":"string"},\(stringArrayMinItems ? #""minItems":1,"# : "")"uniqueItems":true}
        """
    }

    /// The definitions the namespace and object schemas share.
    static let namespaceDefinitions = """
        {\(integerDefinitions(stringArrayMinItems: false)),\
        "property":{"type":"object","additionalProperties":{"type":"object","required":["title","type"],"properties":{\(propertyMembers)}}}}
        """

    static let namespaceMembers = """
        "namespace":{"type":"string","description":"The unique namespace text.","maxLength":80},\
        "display_name":{"type":"string","description":"The user friendly name for the namespace. Used by UI if available.","maxLength":80},\
        "description":{"type":"string","description":"Provides a user friendly description of the namespace.","maxLength":500},\
        "visibility":{"type":"string","description":"Scope of namespace accessibility.","enum":["public","private"]},\
        "protected":{"type":"boolean","description":"If true, namespace will not be deletable."},\
        "owner":{"type":"string","description":"Owner of the namespace.","maxLength":255},\
        "created_at":\(readOnlyTime("Date and time of namespace creation")),\
        "updated_at":\(readOnlyTime("Date and time of the last namespace modification")),\
        "schema":{"readOnly":true,"type":"string"},\
        "self":{"readOnly":true,"type":"string"},\
        "resource_type_associations":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"prefix":{"type":"string"},"properties_target":{"type":"string"}}}},\
        "properties":{"$ref":"#/definitions/property"},\
        "objects":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"description":{"type":"string"},"required":{"$ref":"#/definitions/stringArray"},"properties":{"$ref":"#/definitions/property"}}}},\
        "tags":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}}}
        """

    static let objectMembers = """
        "name":{"type":"string","maxLength":80},\
        "description":{"type":"string"},\
        "required":{"$ref":"#/definitions/stringArray"},\
        "properties":{"$ref":"#/definitions/property"},\
        "schema":{"readOnly":true,"type":"string"},\
        "self":{"readOnly":true,"type":"string"},\
        "created_at":\(readOnlyTime("Date and time of object creation")),\
        "updated_at":\(readOnlyTime("Date and time of the last object modification"))
        """

    static let tagMembers = """
        "name":{"type":"string","maxLength":80},\
        "created_at":\(readOnlyTime("Date and time of tag creation")),\
        "updated_at":\(readOnlyTime("Date and time of the last tag modification"))
        """

    static let resourceTypeMembers = """
        "name":{"type":"string","description":"Resource type names should be aligned with Heat resource types whenever possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html","maxLength":80},\
        "prefix":{"type":"string","description":"Specifies the prefix to use for the given resource type. Any properties in the namespace should be prefixed with this prefix when being applied to the specified resource type. Must include prefix separator (e.g. a colon :).","maxLength":80},\
        "properties_target":{"type":"string","description":"Some resource types allow more than one key / value pair per instance.  For example, Cinder allows user and image metadata on volumes. Only the image properties metadata is evaluated by Nova (scheduling or drivers). This property allows a namespace target to remove the ambiguity.","maxLength":80},\
        "created_at":\(readOnlyTime("Date and time of resource type association")),\
        "updated_at":\(readOnlyTime("Date and time of the last resource type association modification"))
        """

    /// `Schema.raw()` without definitions (as nested in a collection).
    static func item(_ name: String, _ members: String, required: String) -> String {
        #"{"name":"\#(name)","properties":{\#(members)},"additionalProperties":false,"required":\#(required)}"#
    }

    static func single(_ name: String, _ members: String, required: String, definitions: String?) -> String {
        let defs = definitions.map { #","definitions":\#($0)"# } ?? ""
        return #"{"name":"\#(name)","properties":{\#(members)},"additionalProperties":false\#(defs),"required":\#(required)}"#
    }

    static func collection(_ name: String, item: String, definitions: String?) -> String {
        let defs = definitions.map { #","definitions":\#($0)"# } ?? ""
        return #"{"name":"\#(name)","properties":{"\#(name)":{"type":"array","items":\#(item)},\#(paging)},\#(links)\#(defs)}"#
    }

    static let propertyDefinitions = "{\(integerDefinitions(stringArrayMinItems: true))}"

    static let namespace = single(
        "namespace", namespaceMembers, required: #"["namespace"]"#, definitions: namespaceDefinitions)
    static let namespaces = collection(
        "namespaces", item: item("namespace", namespaceMembers, required: #"["namespace"]"#),
        definitions: namespaceDefinitions)
    static let object = single("object", objectMembers, required: #"["name"]"#, definitions: namespaceDefinitions)
    static let objects = collection(
        "objects", item: item("object", objectMembers, required: #"["name"]"#), definitions: namespaceDefinitions)
    static let property = single(
        "property", propertyMembers, required: #"["type","title","name"]"#, definitions: propertyDefinitions)
    static let properties =
        #"{"name":"properties","properties":{"properties":{"type":"object","additionalProperties":\#(item("property", propertyMembers, required: #"["type","title"]"#))},\#(paging)},\#(links),"definitions":\#(propertyDefinitions)}"#
    static let tag = single("tag", tagMembers, required: #"["name"]"#, definitions: nil)
    static let tags = collection("tags", item: item("tag", tagMembers, required: #"["name"]"#), definitions: nil)
    static let resourceType = single(
        "resource_type_association", resourceTypeMembers, required: #"["name"]"#, definitions: nil)
    static let resourceTypes = collection(
        "resource_type_associations",
        item: item("resource_type_association", resourceTypeMembers, required: #"["name"]"#), definitions: nil)

    /// Path (under `/v2/schemas/metadefs/`) → document.
    static let all: [(String, String)] = [
        ("namespace", namespace), ("namespaces", namespaces), ("object", object), ("objects", objects),
        ("property", property), ("properties", properties), ("tag", tag), ("tags", tags),
        ("resource_type", resourceType), ("resource_types", resourceTypes),
    ]
}
