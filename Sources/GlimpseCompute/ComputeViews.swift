import Foundation
import GlimpseCore
import GlimpseStorage

/// Nova's JSON views (nova/api/openstack/compute/views/servers.py, flavors.py, versions.py), per microversion.
struct ComputeViews: Sendable {
    /// `<public URL>/compute`
    let base: String
    let host: String

    init(publicURL: String) {
        base = publicURL + "/compute"
        host = ProcessInfo.processInfo.hostName
    }

    func links(_ collection: String, _ id: String) -> CJSON {
        .array([
            .object([("rel", .string("self")), ("href", .string("\(base)/v2.1/\(collection)/\(id)"))]),
            .object([("rel", .string("bookmark")), ("href", .string("\(base)/\(collection)/\(id)"))]),
        ])
    }

    // MARK: versions

    func versionEntry(detail: Bool) -> CJSON {
        var o: [(String, CJSON)] = [
            ("id", .string("v2.1")), ("status", .string("CURRENT")), ("version", .string(APIVersion.max.description)),
            ("min_version", .string(APIVersion.min.description)), ("updated", .string("2013-07-23T11:33:21Z")),
        ]
        var links: [CJSON] = [.object([("rel", .string("self")), ("href", .string("\(base)/v2.1/"))])]
        if detail {
            links.append(.object([
                ("rel", .string("describedby")), ("type", .string("text/html")),
                ("href", .string("http://docs.openstack.org/")),
            ]))
        }
        o.append(("links", .array(links)))
        if detail {
            o.append(("media-types", .array([.object([
                ("base", .string("application/json")),
                ("type", .string("application/vnd.openstack.compute+json;version=2.1")),
            ])])))
        }
        return .object(o)
    }

    var versions: CJSON { .object([("versions", .array([versionEntry(detail: false)]))]) }
    var version: CJSON { .object([("version", versionEntry(detail: true))]) }

    // MARK: flavors

    func flavor(_ f: Flavor, detail: Bool) -> CJSON {
        var o: [(String, CJSON)] = [("id", .string(f.id)), ("name", .string(f.name))]
        if detail {
            o += [
                ("ram", .int(f.ram)), ("disk", .int(f.disk)), ("vcpus", .int(f.vcpus)),
            ]
        }
        o.append(("links", links("flavors", f.id)))
        if detail {
            o += [
                ("OS-FLV-EXT-DATA:ephemeral", .int(f.ephemeral)),
                ("OS-FLV-DISABLED:disabled", .bool(f.disabled)),
                ("swap", f.swap == 0 ? .string("") : .int(f.swap)),
                ("rxtx_factor", .double(f.rxtxFactor)),
                ("os-flavor-access:is_public", .bool(f.isPublic)),
            ]
        }
        return .object(o)
    }

    // MARK: servers

    func serverSummary(_ s: ServerRecord) -> CJSON {
        .object([("id", .string(s.id)), ("links", links("servers", s.id)), ("name", .string(s.name))])
    }

    /// A FNV-based stand-in for Nova's `hostId` (sha224 of project and host): stable per project and host,
    /// different across projects, reveals neither.
    func hostID(project: String, host: String) -> String {
        var out = ""
        var seed: UInt64 = 0xcbf2_9ce4_8422_2325
        for round in 0..<4 {
            var h = seed ^ UInt64(round)
            for b in (project + "\u{0}" + host).utf8 {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
            seed = h
            out += String(format: "%016llx", h)
        }
        return String(out.prefix(56))
    }

    func server(_ s: ServerRecord, version v: APIVersion, caller: Caller) -> CJSON {
        let status = ServerRules.status(vmState: s.vmState, taskState: s.taskState)
        let launched = s.launchedAt != nil
        var o: [(String, CJSON)] = [
            ("id", .string(s.id)),
            ("name", .string(s.name)),
            ("status", .string(status)),
            ("tenant_id", .string(s.projectID)),
            ("user_id", .string(s.userID)),
            ("metadata", .dict(s.metadata)),
            ("hostId", .string(launched ? hostID(project: s.projectID, host: s.host ?? host) : "")),
            ("image", .object([
                ("id", .string(s.imageID)),
                ("links", .array([.object([("rel", .string("bookmark")), ("href", .string("\(base)/images/\(s.imageID)"))])])),
            ])),
        ]
        if v >= APIVersion(2, 47) {
            o.append(("flavor", .object([
                ("vcpus", .int(s.flavor.vcpus)), ("ram", .int(s.flavor.ram)), ("disk", .int(s.flavor.disk)),
                ("ephemeral", .int(s.flavor.ephemeral)), ("swap", .int(s.flavor.swap)),
                ("original_name", .string(s.flavor.name)), ("extra_specs", .dict(s.flavor.extraSpecs)),
            ])))
        } else {
            o.append(("flavor", .object([
                ("id", .string(s.flavor.id)),
                ("links", .array([.object([("rel", .string("bookmark")), ("href", .string("\(base)/flavors/\(s.flavor.id)"))])])),
            ])))
        }
        o += [
            ("created", .string(NovaTime.iso(s.createdAt))),
            ("updated", .string(NovaTime.iso(s.updatedAt))),
            ("addresses", .object([])),
            ("accessIPv4", .string("")),
            ("accessIPv6", .string("")),
            ("links", links("servers", s.id)),
            ("OS-DCF:diskConfig", .string("MANUAL")),
        ]
        if ["ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"].contains(status) {
            o.append(("progress", .int(0)))
        }
        o += [
            ("OS-EXT-AZ:availability_zone", .string(launched ? "nova" : "")),
            ("config_drive", .string("")),
            ("key_name", .null),
            ("OS-SRV-USG:launched_at", s.launchedAt.map { .string(NovaTime.usage($0)) } ?? .null),
            ("OS-SRV-USG:terminated_at", .null),
        ]
        if caller.isAdmin {
            o += [
                ("OS-EXT-SRV-ATTR:host", launched ? .string(s.host ?? host) : .null),
                ("OS-EXT-SRV-ATTR:instance_name", .string(String(format: "instance-%08llx", s.serial))),
                ("OS-EXT-SRV-ATTR:hypervisor_hostname", launched ? .string(s.host ?? host) : .null),
            ]
            if v >= APIVersion(2, 3) {
                o += [
                    ("OS-EXT-SRV-ATTR:reservation_id", .string(String(format: "r-%08llx", s.serial))),
                    ("OS-EXT-SRV-ATTR:launch_index", .int(0)),
                    ("OS-EXT-SRV-ATTR:hostname", .string(Self.hostname(s.name))),
                    ("OS-EXT-SRV-ATTR:kernel_id", .string("")),
                    ("OS-EXT-SRV-ATTR:ramdisk_id", .string("")),
                    ("OS-EXT-SRV-ATTR:root_device_name", .string(Self.rootDeviceName(s))),
                    ("OS-EXT-SRV-ATTR:user_data", .null),
                ]
            }
        }
        o += [
            ("OS-EXT-STS:task_state", .str(s.taskState?.rawValue)),
            ("OS-EXT-STS:vm_state", .string(s.vmState.rawValue)),
            ("OS-EXT-STS:power_state", .int(Int64(s.powerState.rawValue))),
            ("os-extended-volumes:volumes_attached", .array([])),
        ]
        if v >= APIVersion(2, 9) { o.append(("locked", .bool(s.locked))) }
        if v >= APIVersion(2, 16), caller.isAdmin { o.append(("host_status", .string(launched ? "UP" : ""))) }
        if v >= APIVersion(2, 19) { o.append(("description", .str(s.description))) }
        if v >= APIVersion(2, 26) { o.append(("tags", .array([]))) }
        if status == "ERROR", let message = s.faultMessage {
            o.append(("fault", .object([
                ("code", .int(Int64(s.faultCode ?? 500))),
                ("created", .string(NovaTime.iso(s.faultAt ?? s.updatedAt))),
                ("message", .string(message)),
            ])))
        }
        return .object(o)
    }

    /// Nova's `sanitize_hostname`: lowercase, spaces and underscores to dashes, other characters dropped.
    /// The root disk's device name from the boot image's `hw_disk_bus` (recorded in system metadata), whatever driver.
    static func rootDeviceName(_ s: ServerRecord) -> String {
        DiskBus(imageProperties: ["hw_disk_bus": s.systemMetadata["image_hw_disk_bus"] ?? ""]).rootDeviceName
    }

    static func hostname(_ name: String) -> String {
        var out = ""
        for c in name.lowercased() {
            if c == " " || c == "_" { out.append("-") } else if c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == ".") {
                out.append(c)
            }
        }
        let trimmed = out.trimmingCharacters(in: CharacterSet(charactersIn: "-."))
        return trimmed.isEmpty ? "server" : String(trimmed.prefix(63))
    }
}
