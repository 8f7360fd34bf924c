# The request generator: every route of the Image API v2 (`/`), Identity v3 (`/identity`) and Compute v2.1
# (`/compute`), each turned into a hostile request by a seeded `random.Random`: path segments, methods, query
# parameters, headers, framing and bodies. It only builds bytes; `fuzz.py` sends them and judges the answers.

import json
import uuid

from rawhttp import build

# (method, path template, body kind). Placeholders are filled from the ids the runner created (`Pool`) or from
# hostile segments. Collected from the controllers' `addRoutes` (router.get/post/put/patch/delete/head/on).
ROUTES = [
    # Image API v2: versions, images, data, tags, members, actions
    ("GET", "/", None), ("GET", "/versions", None), ("GET", "/v1/{any}", None), ("GET", "/v3/{any}", None),
    ("GET", "/metrics", None),
    ("GET", "/v2/images", None), ("POST", "/v2/images", "image"),
    ("GET", "/v2/images/{image}", None), ("PATCH", "/v2/images/{image}", "patch"),
    ("DELETE", "/v2/images/{image}", None),
    ("PUT", "/v2/images/{image}/file", "data"), ("GET", "/v2/images/{image}/file", None),
    ("HEAD", "/v2/images/{image}/file", None),
    ("PUT", "/v2/images/{image}/tags/{tag}", None), ("DELETE", "/v2/images/{image}/tags/{tag}", None),
    ("POST", "/v2/images/{image}/actions/deactivate", None), ("POST", "/v2/images/{image}/actions/reactivate", None),
    ("GET", "/v2/images/{image}/members", None), ("POST", "/v2/images/{image}/members", "member"),
    ("GET", "/v2/images/{image}/members/{project}", None),
    ("PUT", "/v2/images/{image}/members/{project}", "member_status"),
    ("DELETE", "/v2/images/{image}/members/{project}", None),
    # import, tasks, info, schemas
    ("PUT", "/v2/images/{image}/stage", "data"), ("POST", "/v2/images/{image}/import", "import"),
    ("GET", "/v2/images/{image}/tasks", None), ("GET", "/v2/tasks", None), ("POST", "/v2/tasks", "task"),
    ("GET", "/v2/tasks/{task}", None), ("GET", "/v2/info/import", None), ("GET", "/v2/info/stores", None),
    ("GET", "/v2/schemas/image", None), ("GET", "/v2/schemas/images", None), ("GET", "/v2/schemas/member", None),
    ("GET", "/v2/schemas/members", None), ("GET", "/v2/schemas/metadefs/{schema}", None),
    # locations, cache
    ("POST", "/v2/images/{image}/locations", "location"), ("GET", "/v2/images/{image}/locations", None),
    ("GET", "/v2/cache", None), ("DELETE", "/v2/cache", None), ("PUT", "/v2/cache/{image}", None),
    ("DELETE", "/v2/cache/{image}", None),
    # metadefs
    ("GET", "/v2/metadefs/resource_types", None),
    ("GET", "/v2/metadefs/namespaces", None), ("POST", "/v2/metadefs/namespaces", "namespace"),
    ("GET", "/v2/metadefs/namespaces/{ns}", None), ("PUT", "/v2/metadefs/namespaces/{ns}", "namespace"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}", None),
    ("GET", "/v2/metadefs/namespaces/{ns}/objects", None), ("POST", "/v2/metadefs/namespaces/{ns}/objects", "md_object"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}/objects", None),
    ("GET", "/v2/metadefs/namespaces/{ns}/objects/{name}", None),
    ("PUT", "/v2/metadefs/namespaces/{ns}/objects/{name}", "md_object"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}/objects/{name}", None),
    ("GET", "/v2/metadefs/namespaces/{ns}/properties", None),
    ("POST", "/v2/metadefs/namespaces/{ns}/properties", "md_property"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}/properties", None),
    ("GET", "/v2/metadefs/namespaces/{ns}/properties/{name}", None),
    ("PUT", "/v2/metadefs/namespaces/{ns}/properties/{name}", "md_property"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}/properties/{name}", None),
    ("GET", "/v2/metadefs/namespaces/{ns}/tags", None), ("POST", "/v2/metadefs/namespaces/{ns}/tags", "md_tags"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}/tags", None),
    ("GET", "/v2/metadefs/namespaces/{ns}/tags/{name}", None),
    ("POST", "/v2/metadefs/namespaces/{ns}/tags/{name}", None),
    ("PUT", "/v2/metadefs/namespaces/{ns}/tags/{name}", "md_tag"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}/tags/{name}", None),
    ("GET", "/v2/metadefs/namespaces/{ns}/resource_types", None),
    ("POST", "/v2/metadefs/namespaces/{ns}/resource_types", "md_rt"),
    ("DELETE", "/v2/metadefs/namespaces/{ns}/resource_types/{name}", None),
    # Identity v3
    ("GET", "/identity", None), ("GET", "/identity/v3", None),
    ("POST", "/identity/v3/auth/tokens", "auth"), ("GET", "/identity/v3/auth/tokens", None),
    ("HEAD", "/identity/v3/auth/tokens", None), ("DELETE", "/identity/v3/auth/tokens", None),
    ("GET", "/identity/v3/auth/projects", None), ("GET", "/identity/v3/auth/domains", None),
    ("GET", "/identity/v3/auth/catalog", None),
    ("GET", "/identity/v3/domains", None), ("POST", "/identity/v3/domains", "domain"),
    ("GET", "/identity/v3/domains/{domain}", None),
    ("GET", "/identity/v3/projects", None), ("POST", "/identity/v3/projects", "project"),
    ("GET", "/identity/v3/projects/{project}", None), ("PATCH", "/identity/v3/projects/{victim_project}", "project"),
    ("DELETE", "/identity/v3/projects/{victim_project}", None),
    ("GET", "/identity/v3/projects/{project}/users/{user}/roles", None),
    ("PUT", "/identity/v3/projects/{victim_project}/users/{victim_user}/roles/{role}", None),
    ("GET", "/identity/v3/projects/{project}/users/{user}/roles/{role}", None),
    ("HEAD", "/identity/v3/projects/{project}/users/{user}/roles/{role}", None),
    ("DELETE", "/identity/v3/projects/{victim_project}/users/{victim_user}/roles/{role}", None),
    ("GET", "/identity/v3/users", None), ("POST", "/identity/v3/users", "user"),
    ("GET", "/identity/v3/users/{user}", None), ("PATCH", "/identity/v3/users/{victim_user}", "user"),
    ("DELETE", "/identity/v3/users/{victim_user}", None), ("GET", "/identity/v3/users/{user}/projects", None),
    ("POST", "/identity/v3/users/{victim_user}/password", "password"),
    ("GET", "/identity/v3/roles", None), ("POST", "/identity/v3/roles", "role"),
    ("GET", "/identity/v3/roles/{role}", None), ("DELETE", "/identity/v3/roles/{victim_role}", None),
    ("GET", "/identity/v3/role_assignments", None),
    ("GET", "/identity/v3/services", None), ("GET", "/identity/v3/services/{service}", None),
    ("GET", "/identity/v3/endpoints", None), ("GET", "/identity/v3/regions", None),
    ("GET", "/identity/v3/regions/{region}", None),
    ("GET", "/identity/v3/auth/system", None),
    ("PATCH", "/identity/v3/domains/{victim_domain}", "domain"), ("DELETE", "/identity/v3/domains/{victim_domain}", None),
    ("GET", "/identity/v3/domains/{domain}/users/{user}/roles", None),
    ("PUT", "/identity/v3/domains/{victim_domain}/users/{victim_user}/roles/{role}", None),
    ("DELETE", "/identity/v3/domains/{victim_domain}/users/{victim_user}/roles/{role}", None),
    ("GET", "/identity/v3/system/users/{user}/roles", None),
    ("PUT", "/identity/v3/system/users/{victim_user}/roles/{role}", None),
    ("HEAD", "/identity/v3/system/users/{victim_user}/roles/{role}", None),
    ("DELETE", "/identity/v3/system/users/{victim_user}/roles/{role}", None),
    ("GET", "/identity/v3/groups", None), ("POST", "/identity/v3/groups", "group"),
    ("GET", "/identity/v3/groups/{group}", None), ("PATCH", "/identity/v3/groups/{victim_group}", "group"),
    ("DELETE", "/identity/v3/groups/{victim_group}", None), ("GET", "/identity/v3/groups/{group}/users", None),
    ("PUT", "/identity/v3/groups/{victim_group}/users/{victim_user}", None),
    ("HEAD", "/identity/v3/groups/{group}/users/{user}", None),
    ("DELETE", "/identity/v3/groups/{victim_group}/users/{victim_user}", None),
    ("GET", "/identity/v3/users/{user}/groups", None),
    ("PUT", "/identity/v3/projects/{victim_project}/groups/{victim_group}/roles/{role}", None),
    ("GET", "/identity/v3/projects/{project}/groups/{group}/roles", None),
    ("DELETE", "/identity/v3/projects/{victim_project}/groups/{victim_group}/roles/{role}", None),
    ("PATCH", "/identity/v3/roles/{victim_role}", "role"),
    ("PUT", "/identity/v3/roles/{victim_role}/implies/{victim_role}", None),
    ("GET", "/identity/v3/roles/{role}/implies", None), ("GET", "/identity/v3/role_inferences", None),
    ("DELETE", "/identity/v3/roles/{victim_role}/implies/{victim_role}", None),
    ("GET", "/identity/v3/credentials", None), ("POST", "/identity/v3/credentials", "credential"),
    ("GET", "/identity/v3/credentials/{credential}", None), ("PATCH", "/identity/v3/credentials/{credential}", "credential"),
    ("DELETE", "/identity/v3/credentials/{credential}", None),
    ("GET", "/identity/v3/users/{user}/credentials/OS-EC2", None),
    ("POST", "/identity/v3/users/{user}/credentials/OS-EC2", "ec2"),
    ("POST", "/identity/v3/regions", "region"), ("PATCH", "/identity/v3/regions/{region}", "region"),
    ("POST", "/identity/v3/services", "service"), ("PATCH", "/identity/v3/services/{service}", "service"),
    ("POST", "/identity/v3/endpoints", "endpoint"), ("GET", "/identity/v3/endpoints/{endpoint}", None),
    ("PATCH", "/identity/v3/endpoints/{endpoint}", "endpoint"),
    ("GET", "/identity/v3/users/{user}/application_credentials", None),
    ("POST", "/identity/v3/users/{user}/application_credentials", "app_cred"),
    ("GET", "/identity/v3/users/{user}/application_credentials/{app_cred}", None),
    ("DELETE", "/identity/v3/users/{user}/application_credentials/{app_cred}", None),
    # Compute v2.1
    ("GET", "/compute", None), ("GET", "/compute/v2.1", None),
    ("GET", "/compute/v2.1/flavors", None), ("GET", "/compute/v2.1/flavors/detail", None),
    ("GET", "/compute/v2.1/flavors/{flavor}", None), ("POST", "/compute/v2.1/flavors", "flavor"),
    ("DELETE", "/compute/v2.1/flavors/{victim_flavor}", None),
    ("GET", "/compute/v2.1/servers", None), ("GET", "/compute/v2.1/servers/detail", None),
    ("GET", "/compute/v2.1/servers/{server}", None), ("POST", "/compute/v2.1/servers", "server"),
    ("DELETE", "/compute/v2.1/servers/{server}", None), ("POST", "/compute/v2.1/servers/{server}/action", "action"),
]

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
ODD_METHODS = ["TRACE", "CONNECT", "FOO", "get", "PROPFIND", "M" * 300, "GET\x00"]

# Query parameters each list route reads (and some it does not).
QUERY_KEYS = {
    "/v2/images": ["sort", "sort_key", "sort_dir", "limit", "marker", "name", "status", "visibility", "owner",
                   "size_min", "size_max", "created_at", "updated_at", "tag", "member_status", "os_hidden",
                   "protected", "disk_format", "container_format", "id", "checksum", "os_hash_value",
                   "hw_disk_bus", "os_distro"],
    "/v2/tasks": ["sort_key", "sort_dir", "limit", "marker", "status", "type"],
    "/v2/metadefs/namespaces": ["limit", "marker", "sort_key", "sort_dir", "visibility", "resource_types"],
    "/compute/v2.1/servers": ["name", "status", "limit", "marker", "changes-since", "image", "flavor",
                              "all_tenants", "project_id", "tenant_id", "deleted", "sort_key", "sort_dir", "ip"],
    "/compute/v2.1/flavors": ["minRam", "minDisk", "is_public", "limit", "marker", "sort_key", "sort_dir"],
    "/identity/v3/users": ["name", "domain_id", "enabled"],
    "/identity/v3/projects": ["name", "domain_id", "enabled", "parent_id"],
    "/identity/v3/role_assignments": ["user.id", "scope.project.id", "role.id", "effective", "include_names"],
    "/identity/v3/auth/tokens": ["nocatalog", "allow_expired"],
}
COMMON_KEYS = ["limit", "marker", "sort", "x", "", "%00", "a[]", "a%5B%5D"]

HUGE = "9" * 40


class Pool:
    """Ids the runner created, by kind; the generator picks real ones most of the time."""

    def __init__(self):
        self.ids = {}

    def add(self, kind, value):
        self.ids.setdefault(kind, [])
        if value not in self.ids[kind]:
            self.ids[kind].append(value)

    def pick(self, rnd, kind):
        vals = self.ids.get(kind)
        return rnd.choice(vals) if vals else str(uuid.UUID(int=rnd.getrandbits(128)))


class Generated:
    def __init__(self, route, method, raw, classes, framing_ok, auth):
        self.route = route      # (method, template) of the route it was made from
        self.method = method    # the method actually sent
        self.raw = raw
        self.classes = classes  # what was mutated, for reports
        self.framing_ok = framing_ok  # False: the HTTP framing itself is broken, closing without answer is fine
        self.auth = auth


class Generator:
    def __init__(self, rnd, pool, port, tokens):
        self.r = rnd
        self.pool = pool
        self.port = port
        self.tokens = tokens  # role name -> token; refreshed by the runner

    # ------------------------------------------------------------------ values

    def hostile_segment(self):
        r = self.r
        return r.choice([
            "", "..", ".", "%2e%2e", "%2E%2E%2F%2E%2E", "..%2f..%2fetc%2fpasswd", "a" * r.choice([256, 4096, 20000]),
            "%00", "%", "%zz", "%C0%AF", "%FF%FE", "%E2%80%AE", "%F0%9F%92%A9", "null", "None", "-1", "0",
            HUGE, "00000000-0000-0000-0000-000000000000", "ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ",
            str(uuid.UUID(int=r.getrandbits(128))).upper(), "{id}", ":id", "*", "%2A", "%20", "+", "%2B", "'", "%22",
            "%3Cscript%3E", "images", "file", "a%2Fb", "%5C", ";", ",", "~", "$", "@", "%0d%0aX:%20y",
        ])

    def fill(self, kind):
        r = self.r
        roll = r.random()
        if roll < 0.2:
            return self.hostile_segment()
        if roll < 0.3 and kind in ("image", "server", "project", "user"):
            return self.pool.pick(r, "other_" + kind)  # another project's object
        return self.pool.pick(r, kind)

    def scalar(self):
        r = self.r
        return r.choice([
            "", ":", "::", "name,:", ",", ",,", "name:", ":asc", "name:sideways", "name:asc,:", "in:", "in:a,b",
            'in:"a,b",c', 'in:"unterminated', "gte:", "gte:2020-01-01T00:00:00Z", "lt:notadate", "neq:x", "eq:",
            "gt:" + HUGE, "2020-13-45T25:61:61Z", "gt:2020-01-01T00:00:00.1234567890Z", "2020-01-01T00:00:00." + "9" * 40, "1970-01-01", "-1", "0", "1", "1000", "1001", HUGE, "-" + HUGE,
            "1e309", "NaN", "0x10", "1.5", " 1", "+1", "%2B1", "+", "%2B", "%", "%zz", "%00", "true", "false",
            "None", "null", "a" * 5000, "%E2%80%AE", "%F0%9F%92%A9", "((.*)*)*Z", "[", "\\", "'", "%22", "*",
            "accepted", "all", "public", "private", "shared", "community", "active", "queued", "raw", "qcow2",
            "name", "created_at", "size", "desc", "asc", "id,name,status,size,created_at,updated_at,disk_format",
            ",".join(["name"] * 50), self.pool.pick(r, "image"),
        ])

    def query(self, path):
        r = self.r
        if r.random() < 0.5:
            return "", []
        keys = QUERY_KEYS.get(path, []) + COMMON_KEYS
        items = []
        for _ in range(r.choice([1, 1, 2, 3, 5, 30])):
            k = r.choice(keys)
            v = self.scalar()
            items.append(k + "=" + v)
            if r.random() < 0.1:
                items.append(k + "=" + self.scalar())  # repeated key
        if r.random() < 0.05:
            items.append("novalue")
        if r.random() < 0.03:
            items.append("&&=&")
        return "?" + "&".join(items), ["query"]

    # ------------------------------------------------------------------ bodies

    def weird_value(self):
        r = self.r
        return r.choice([
            None, True, False, 0, -1, 1, 2 ** 31, 2 ** 63, -(2 ** 63) - 1, 10 ** 40, 1.5, -0.0, 1e308, "", " ",
            "x" * 300, "x" * 70000, [], [1], {}, {"a": 1}, "\u0000", "\ud7ff\ue000", "\u202e", "..", "/", "in:a",
            self.pool.pick(r, "image"), "qcow2", "raw", "bare", "public", "private", "shared", "community",
        ])

    def body_for(self, kind):
        r = self.r
        p = self.pool
        name = r.choice(["fuzz", "", "x" * 256, "\u00e9\u4e2d", "a/b"])
        if kind == "image":
            b = {"name": name, "disk_format": r.choice(["raw", "qcow2", "vmdk", "iso", "bogus"]),
                 "container_format": r.choice(["bare", "ovf", "docker", "bogus"]),
                 "visibility": r.choice(["private", "shared", "public", "community", "bogus"]),
                 "min_disk": r.choice([0, 1, -1, 2 ** 63]), "min_ram": r.choice([0, 10 ** 20]),
                 "protected": r.choice([False, "no"]), "tags": r.choice([[], ["a", "b"], ["t" * 300]]),
                 "hw_disk_bus": "scsi"}
            if r.random() < 0.2:
                b["id"] = r.choice([str(uuid.uuid4()), "not-a-uuid", p.pick(r, "image")])
            return b
        if kind == "patch":
            ops = []
            for _ in range(r.choice([1, 1, 2, 5])):
                ops.append({"op": r.choice(["add", "replace", "remove", "move", "copy", "test", "bogus", ""]),
                            "path": r.choice(["/name", "/tags", "/tags/-", "/tags/0", "/tags/99999999999999999999",
                                              "/min_ram", "/min_disk", "/visibility", "/protected", "/status",
                                              "/id", "/locations", "/locations/-", "/locations/0", "/locations/-1",
                                              "/os_hidden", "/prop", "/a~1b", "/a~2", "", "/", "//", "name",
                                              "/hw_disk_bus/x", "/" + "p" * 300, "/~", "/~0~1"]),
                            "value": self.weird_value()})
                if r.random() < 0.2:
                    ops[-1]["from"] = r.choice(["/name", "", "/tags/0"])
                if r.random() < 0.1:
                    del ops[-1]["path"]
            return ops
        if kind == "member":
            return {"member": r.choice([p.pick(r, "project"), p.pick(r, "other_project"), "", "x" * 300])}
        if kind == "member_status":
            return {"status": r.choice(["accepted", "rejected", "pending", "bogus", ""])}
        if kind == "import":
            m = r.choice([
                {"name": "glance-direct"}, {"name": "web-download", "uri": r.choice(
                    ["http://127.0.0.1:1/x", "file:///etc/passwd", "ftp://127.0.0.1/", "http://[::1", "http://",
                     "http://169.254.169.254/latest", "http://127.0.0.1:1/" + "a" * 5000])},
                {"name": "copy-image"}, {"name": "glance-download"}, {"name": "bogus"}, {}])
            b = {"method": m}
            if r.random() < 0.3:
                b["stores"] = r.choice([["default"], "x", [1]])
            if r.random() < 0.2:
                b["all_stores_must_succeed"] = r.choice([True, "x"])
            return b
        if kind == "task":
            return {"type": r.choice(["import", "bogus"]),
                    "input": r.choice([{"import_from": "http://127.0.0.1:1/x", "import_from_format": "raw",
                                        "image_properties": {"name": "t", "disk_format": "raw"}}, {}, "x"])}
        if kind == "location":
            return {"url": r.choice(["http://127.0.0.1:1/x", "file:///etc/passwd", "", "http://[::1", "swift://x"]),
                    "validation_data": r.choice([{}, {"os_hash_algo": "sha512", "os_hash_value": "0" * 128},
                                                 {"os_hash_algo": "md5"}, "x"])}
        if kind == "namespace":
            return {"namespace": r.choice(["fuzz-ns-%d" % r.randrange(10 ** 6), "", "a" * 300, "OS::Fuzz"]),
                    "display_name": name, "visibility": r.choice(["public", "private", "bogus"]),
                    "protected": r.choice([False, True, "x"]),
                    "properties": r.choice([{}, {"p": {"type": "string", "title": "p"}}, {"p": "x"}]),
                    "objects": r.choice([[], [{"name": "o", "properties": {}}], ["x"]]),
                    "resource_type_associations": r.choice([[], [{"name": "OS::Glance::Image", "prefix": "a_"}], [1]]),
                    "tags": r.choice([[], [{"name": "t"}], ["t"]])}
        if kind == "md_object":
            return {"name": r.choice(["o%d" % r.randrange(1000), "", "x" * 300]),
                    "properties": r.choice([{}, {"p": {"type": "integer", "minimum": 10 ** 30}}, {"p": []}]),
                    "required": r.choice([[], ["p"], "p"]), "description": name}
        if kind == "md_property":
            return {"name": r.choice(["p%d" % r.randrange(1000), "", "x" * 300]), "title": name,
                    "type": r.choice(["string", "integer", "number", "boolean", "array", "object", "bogus"]),
                    "enum": r.choice([None, [], ["a"], [1, "a"]]), "minimum": r.choice([None, -(10 ** 30), "x"]),
                    "maximum": r.choice([None, 10 ** 30]), "maxLength": r.choice([None, -1, 2 ** 64]),
                    "items": r.choice([None, {"type": "string"}, "x"]), "default": self.weird_value()}
        if kind == "md_tags":
            return {"tags": r.choice([[{"name": "t%d" % i} for i in range(r.choice([1, 3, 500]))], [{}], "x", [1]])}
        if kind == "md_tag":
            return {"name": r.choice(["t", "", "x" * 300])}
        if kind == "md_rt":
            return {"name": r.choice(["OS::Glance::Image", "OS::Nova::Server", "", "bogus"]),
                    "prefix": r.choice(["hw_", "", None]), "properties_target": r.choice([None, "image", 1])}
        if kind == "auth":
            user = r.choice([{"name": "admin", "domain": {"name": "Default"}, "password": r.choice(["wrong", ""])},
                             {"id": p.pick(r, "user"), "password": "x"}, {"name": "admin"}, {}, "x",
                             {"name": "admin", "domain": {"id": "default"}, "password": "x" * 70000}])
            ident = r.choice([{"methods": ["password"], "password": {"user": user}},
                              {"methods": ["token"], "token": {"id": r.choice(["garbage", "", self.tokens.get("reader", "")])}},
                              {"methods": [], }, {"methods": ["bogus"]}, {"methods": "password"}, {}])
            b = {"auth": {"identity": ident}}
            if r.random() < 0.5:
                b["auth"]["scope"] = r.choice([{"project": {"name": "admin", "domain": {"name": "Default"}}},
                                               {"project": {"id": p.pick(r, "project")}}, {"project": {}},
                                               {"domain": {"id": "default"}}, {"system": {"all": True}}, "x"])
            return b
        if kind == "domain":
            return {"domain": {"name": name, "enabled": r.choice([True, "x"])}}
        if kind == "project":
            return {"project": {"name": r.choice(["fz%d" % r.randrange(10 ** 6), "", "x" * 300]),
                                "domain_id": r.choice(["default", "nope", None]), "enabled": r.choice([True, False, 1]),
                                "description": name, "parent_id": r.choice([None, p.pick(r, "project")])}}
        if kind == "user":
            return {"user": {"name": r.choice(["fu%d" % r.randrange(10 ** 6), "", "x" * 300]),
                             "password": r.choice(["pw", "", None, 5, "x" * 70000]),
                             "default_project_id": r.choice([None, p.pick(r, "project"), "nope"]),
                             "enabled": r.choice([True, "yes"]), "domain_id": r.choice(["default", None, 1])}}
        if kind == "password":
            return {"user": {"password": r.choice(["new", "", None]),
                             "original_password": r.choice(["victim-pw", "wrong", None, 1])}}
        if kind == "role":
            return {"role": {"name": r.choice(["fr%d" % r.randrange(10 ** 6), "", "x" * 300, "admin"])}}
        if kind == "group":
            return {"group": {"name": r.choice(["fg%d" % r.randrange(10 ** 6), "", "x" * 300]),
                              "domain_id": r.choice(["default", "nope", None, 1]), "description": r.choice([name, 5])}}
        if kind == "credential":
            return {"credential": {"user_id": r.choice([p.pick(r, "user"), "nope", None]),
                                   "type": r.choice(["ec2", "totp", "cert", "", 1]),
                                   "project_id": r.choice([p.pick(r, "project"), None, "nope"]),
                                   "blob": r.choice(['{"access": "a%d", "secret": "s"}' % r.randrange(10 ** 6), "", "x" * 70000,
                                                     "{", {"access": "x"}, None])}}
        if kind == "ec2":
            return {"tenant_id": r.choice([p.pick(r, "project"), "nope", None, 5])}
        if kind == "region":
            return {"region": {"id": r.choice([None, "fr%d" % r.randrange(10 ** 6), "", "x" * 300]),
                               "description": name, "parent_region_id": r.choice([None, p.pick(r, "region"), "nope", 1])}}
        if kind == "service":
            return {"service": {"type": r.choice(["fuzz", "", None, 1, "x" * 300]), "name": name,
                                "enabled": r.choice([True, False, "x"])}}
        if kind == "endpoint":
            return {"endpoint": {"service_id": r.choice([p.pick(r, "service"), "nope", None]),
                                 "interface": r.choice(["public", "internal", "admin", "bogus", ""]),
                                 "url": r.choice(["http://fuzz.example/x", "", "x" * 300, 5]),
                                 "region_id": r.choice([p.pick(r, "region"), None, "nope"]),
                                 "enabled": r.choice([True, "True", 1, None])}}
        if kind == "app_cred":
            return {"application_credential": {
                "name": r.choice(["fa%d" % r.randrange(10 ** 6), "", "x" * 300, None]),
                "secret": r.choice([None, "", "s", "x" * 5000]),
                "expires_at": r.choice([None, "2099-01-01T00:00:00", "1999-01-01T00:00:00", "not a date", 5, "2099-13-45T99:99:99"]),
                "roles": r.choice([None, [], [{"name": "member"}], [{"id": p.pick(r, "role")}], [{"name": "admin"}], "x", [1]]),
                "unrestricted": r.choice([None, True, False, "yes"]),
                "access_rules": r.choice([None, [], [{"service": "image", "method": "GET", "path": "/v2/images"}], "x"])}}
        if kind == "flavor":
            return {"flavor": {"name": r.choice(["ff%d" % r.randrange(10 ** 6), "", "x" * 300]),
                               "ram": r.choice([64, 0, -1, 2 ** 31, 2 ** 63, 10 ** 30, "64", 1.5]),
                               "vcpus": r.choice([1, 0, 2 ** 31, "1"]), "disk": r.choice([1, -1, 10 ** 30, None]),
                               "id": r.choice([None, "auto", "", str(uuid.uuid4()), "x" * 300, 5]),
                               "swap": r.choice([0, "", -1, 10 ** 30]), "rxtx_factor": r.choice([1.0, -1, 1e308, "x"]),
                               "os-flavor-access:is_public": r.choice([True, "x"])}}
        if kind == "server":
            b = {"name": r.choice(["fs%d" % r.randrange(1000), "", "x" * 300]),
                 "imageRef": r.choice([p.pick(r, "image"), p.pick(r, "other_image"), "", "nope", "http://x/images/1"]),
                 "flavorRef": r.choice([p.pick(r, "flavor"), "", "99999999999999999999", "http://x/flavors/1"]),
                 "networks": r.choice(["none", "auto", [], [{"uuid": "x"}], 1])}
            if r.random() < 0.3:
                b["metadata"] = r.choice([{"a": "b"}, {"": "x"}, {"k" * 300: 1}, [], {str(i): "v" for i in range(200)}])
            if r.random() < 0.2:
                b["block_device_mapping_v2"] = r.choice([[{"boot_index": "x", "source_type": "image"}], "x", [{}]])
            return {"server": b}
        if kind == "action":
            return r.choice([
                {"os-stop": None}, {"os-start": None}, {"reboot": {"type": r.choice(["HARD", "SOFT", "x", 1])}},
                {"createImage": {"name": r.choice(["snap", "", "x" * 300]),
                                 "metadata": r.choice([{}, {"a": "b"}, {"k": 1}, "x", {str(i): "v" for i in range(200)}])}},
                {"bogus": {}}, {}, {"os-stop": None, "os-start": None}, {"createImage": None}])
        return {}

    def mutate_body(self, doc):
        """Wrong types for fields, deep nesting, huge numbers, many members: returns bytes and mutation names."""
        r = self.r
        roll = r.random()
        if roll < 0.45:
            return json.dumps(doc).encode(), []
        if roll < 0.6 and isinstance(doc, dict):
            target = doc
            if len(doc) == 1 and isinstance(next(iter(doc.values())), dict):
                target = next(iter(doc.values()))
            if target:
                k = r.choice(list(target))
                target[k] = self.weird_value()
            return json.dumps(doc).encode(), ["body.wrong-type"]
        if roll < 0.65:
            depth = r.choice([600, 5000, 100000])
            opener = r.choice(["[", '{"a":'])
            return (opener * depth).encode() + (b"" if r.random() < 0.5 else (b"1" + (b"]" if opener == "[" else b"}") * depth)), ["body.deep-nesting"]
        if roll < 0.7:
            return r.choice([b"1" * 5000, b"-" + b"9" * 400, b"1e99999", b"[" + b",".join([b"1e400"] * 10) + b"]",
                             b'{"a":' + b"9" * 400 + b"}"]), ["body.huge-number"]
        if roll < 0.75:
            n = r.choice([1000, 20000, 60000])
            if isinstance(doc, list):
                # Many small operations (the first one, shrunk when it carries a huge value).
                item = doc[0] if doc and len(json.dumps(doc[0])) < 200 else {"op": "add", "path": "/tags/-", "value": "t"}
                doc = [item] * n
            elif isinstance(doc, dict):
                target = doc
                if len(doc) == 1 and isinstance(next(iter(doc.values())), dict):
                    target = next(iter(doc.values()))
                for i in range(n):
                    target["prop_%d" % i] = "v"
                if "tags" in target:
                    target["tags"] = ["t%d" % i for i in range(n)]
            return json.dumps(doc).encode(), ["body.many-members"]
        if roll < 0.85:
            return r.choice([b"", b"{", b"[", b"{}", b"[]", b"null", b"\"str\"", b"{\"a\":1,}", b"\xff\xfe\x00",
                             b"{\"a\":\"\\ud800\"}", b"{\"a\":\"\\u00\"}", b"{\"a\":1}{\"b\":2}", b"\x00" * 10,
                             b"{\"a\" 1}", b"NaN", b"{\"a\":NaN}", b"\xef\xbb\xbf{}", b"  ", b"{" * 3]), ["body.garbage"]
        full = json.dumps(doc).encode()
        return full[: r.randrange(0, max(1, len(full)))], ["body.truncated-json"]

    # ------------------------------------------------------------------ headers and framing

    def content_type(self, kind):
        r = self.r
        good = {"patch": "application/openstack-images-v2.1-json-patch", "data": "application/octet-stream"}.get(
            kind, "application/json")
        roll = r.random()
        if roll < 0.7:
            return good, []
        return r.choice(["", ";", " ; ", ";;", ";charset=utf-8", "application/json;", "text/plain", "garbage",
                         "application/openstack-images-v2.0-json-patch", "application/json-patch+json",
                         "multipart/form-data; boundary=", "\t", "a" * 9000, good + "; charset=\"",
                         "APPLICATION/JSON", "application/octet-stream", None]), ["header.content-type"]

    def extra_headers(self):
        r = self.r
        hs, cls = [], []
        options = [
            ("Range", ["bytes=0-", "bytes=-0", "bytes=5-2", "bytes=" + HUGE + "-", "bytes=-" + HUGE, "bytes=0-1,2-3",
                       "bytes=", "items=0-1", "bytes=--1", "bytes=0-" + HUGE, "bytes=-1", "bytes=9223372036854775807-",
                       "bytes=0-9223372036854775807", "bytes=1-0", "bytes=a-b", "bytes=0-0,-1"]),
            ("Content-Range", ["bytes 0-1/2", "bytes */" + HUGE, "garbage", "bytes 5-2/1"]),
            ("Accept", ["*/*", "", "text/html", "application/json;q=x", "a" * 3000, "*/*;q=0"]),
            ("X-Openstack-Request-Id", ["", "req-" + "x" * 5000, "req-\u00e9", "\x7f", "req-" + str(uuid.uuid4())]),
            ("OpenStack-API-Version", ["compute 2.99999999999999999999", "compute 2.", "compute x", "compute",
                                       "compute latest", "compute 2.1000", "image 2.17", "compute -2.1", "",
                                       "compute 2.47", "compute 3.0", "compute 2.-1", "compute " + HUGE + "." + HUGE]),
            ("X-OpenStack-Nova-API-Version", ["2.99999999999999999999", "latest", "", "x", "2", "2.", ".1",
                                              "2.47", HUGE, "2.1.1"]),
            ("X-Image-Meta-Checksum", ["x", ""]),
            ("X-Subject-Token", ["garbage", "", "x" * 9000, self.tokens.get("reader", "")]),
            ("Expect", ["100-continue", "bogus", ""]),
            ("X-Roles", ["admin", ""]), ("X-Project-Id", ["x"]), ("X-Identity-Status", ["Confirmed"]),
            ("Authorization", ["Bearer x", "Basic !!!"]),
            ("X-Huge", ["h" * r.choice([8000, 70000])]),
            ("Cookie", ["a=" + "b" * 5000]),
            ("Host", ["", "a" * 3000, "[::1", "evil.example"]),
            ("X-Image-Meta-Size", [HUGE, "-1"]),
            ("x-openstack-image-import-methods", ["x"]),
        ]
        for _ in range(r.choice([0, 0, 0, 1, 1, 2, 4])):
            name, values = r.choice(options)
            hs.append((name, r.choice(values)))
            cls.append("header." + name.lower())
        if r.random() < 0.02:
            for i in range(r.choice([100, 2000])):
                hs.append(("X-Many-%d" % i, "v"))
            cls.append("header.many")
        return hs, cls

    def auth_token(self):
        r = self.r
        roll = r.random()
        if roll < 0.45:
            return "admin", self.tokens.get("admin")
        if roll < 0.65:
            return "member", self.tokens.get("member")
        if roll < 0.8:
            return "reader", self.tokens.get("reader")
        if roll < 0.88:
            return "none", None
        return "garbage", r.choice(["", "garbage", "x" * 10000, "\u00e9", "gAAAA" + "A" * 180, "%00", " ",
                                    self.tokens.get("admin", "")[:-1] + "X"])

    # ------------------------------------------------------------------ the request

    def next(self):
        r = self.r
        method, template, kind = r.choice(ROUTES)
        route = (method, template)
        classes = []
        sent_method = method
        if r.random() < 0.12:
            sent_method = r.choice(METHODS + ODD_METHODS[:3] if r.random() < 0.9 else ODD_METHODS)
            classes.append("method")

        # A wrong method on an identity resource the harness itself relies on (the admin role, user and project)
        # would really delete or change it, as an admin may; the harness could no longer log in. Only the victim
        # templates change identity objects.
        if sent_method != method and template.startswith("/identity/") and "{victim_" not in template \
                and sent_method in ("DELETE", "PATCH", "PUT", "POST"):
            sent_method = "OPTIONS"

        # path
        path = template
        while "{" in path:
            start = path.index("{")
            end = path.index("}", start)
            kind_name = path[start + 1:end]
            if kind_name.startswith("victim_"):
                value = self.pool.pick(r, kind_name) if r.random() < 0.85 else self.hostile_segment()
            elif kind_name in ("any", "tag", "name", "schema"):
                value = r.choice(["x", "fuzz-tag", "p1", "o1", "t1", "namespace", "image", "object"]) \
                    if r.random() < 0.6 else self.hostile_segment()
            else:
                value = self.fill(kind_name)
            if value != "" and r.random() < 0.5 and "{" not in value:
                pass
            path = path[:start] + value + path[end + 1:]
            if value not in self.pool.ids.get(kind_name, []):
                classes.append("path." + kind_name)
        if r.random() < 0.04:
            path = r.choice([path + "/", path + "//", "//" + path.lstrip("/"), path + "/..", path + "%2F", path + "?",
                             path + "#frag", path.replace("/", "/./", 1), "/" + "a/" * 500, "*", "http://x" + path,
                             path.replace("/v2/", "/v2.%d/" % r.choice([0, 5, 17, 99, 10 ** 30]), 1)])
            classes.append("path.shape")
        q, qcls = self.query(template.split("{")[0].rstrip("/") if "{" not in template else "")
        classes += qcls

        # headers
        headers = [("Host", "127.0.0.1:%d" % self.port)]
        auth, token = self.auth_token()
        if token is not None:
            headers.append(("X-Auth-Token", token))
        if auth in ("none", "garbage"):
            classes.append("auth." + auth)
        if auth == "admin" and "identity/v3/auth/tokens" in template and sent_method in ("GET", "HEAD", "DELETE"):
            # Revoking the admin token would only make the rest of the run 401; use the throwaway one.
            headers.append(("X-Subject-Token", r.choice([self.tokens.get("throwaway", "x"), "garbage", ""])))

        body = b""
        if kind is not None or sent_method in ("POST", "PUT", "PATCH"):
            if kind == "data":
                body = r.choice([b"", b"\x00" * 1024, bytes(r.getrandbits(8) for _ in range(r.choice([1, 512, 70000]))),
                                 b"QFI\xfb\x00\x00\x00\x03" + b"\x00" * 504])
            elif kind is not None:
                body, bcls = self.mutate_body(self.body_for(kind))
                classes += bcls
            ct, ctcls = self.content_type(kind)
            if ct is not None:
                headers.append(("Content-Type", ct))
            classes += ctcls

        extra, ecls = self.extra_headers()
        headers += extra
        classes += ecls

        # framing
        framing_ok = True
        roll = r.random()
        if roll < 0.78:
            if body or sent_method in ("POST", "PUT", "PATCH"):
                headers.append(("Content-Length", str(len(body))))
        elif roll < 0.84:
            headers.append(("Content-Length", r.choice([str(len(body) + r.choice([1, 100, 10 ** 6])), HUGE, "-1",
                                                        "abc", "", "1, 2", str(max(0, len(body) - 1)) + " "])))
            classes.append("framing.content-length")
            framing_ok = False
        elif roll < 0.9:
            headers.append(("Transfer-Encoding", "chunked"))
            body, ccls = self.chunk(body)
            classes.append(ccls)
            framing_ok = ccls == "framing.chunked"
        elif roll < 0.94:
            headers.append(("Transfer-Encoding", r.choice(["bogus", "gzip", "chunked, bogus", "identity", ""])))
            classes.append("framing.transfer-encoding")
            framing_ok = False
        elif roll < 0.97:
            headers.append(("Content-Length", str(len(body))))
            headers.append(("Content-Length", str(len(body) + 5)))
            classes.append("framing.double-content-length")
            framing_ok = False
        else:
            headers.append(("Content-Length", str(len(body))))
            headers.append(("Transfer-Encoding", "chunked"))
            classes.append("framing.cl-and-te")
            framing_ok = False
        headers.append(("Connection", "close"))
        if r.random() < 0.3:
            r.shuffle(headers)
        raw = build(sent_method, path + q, headers, body)
        if any(c.startswith("header.many") or c == "header.x-huge" for c in classes) or \
                any(c in ("header.host", "path.shape") for c in classes) or sent_method in ODD_METHODS:
            framing_ok = False  # the HTTP layer may rightly drop these without an answer
        if not classes:
            classes.append("valid")
        return Generated(route, sent_method, raw, classes, framing_ok, auth)

    def chunk(self, body):
        r = self.r
        pieces = []
        i = 0
        while i < len(body):
            n = r.randrange(1, 4096)
            pieces.append(body[i:i + n])
            i += n
        out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
        roll = r.random()
        if roll < 0.5:
            return out + b"0\r\n\r\n", "framing.chunked"
        if roll < 0.65:
            return out, "framing.chunked-unterminated"
        if roll < 0.8:
            return out + b"zz\r\nabc\r\n0\r\n\r\n", "framing.chunked-bad-size"
        if roll < 0.9:
            return b"ffffffffffffffffff\r\n" + body, "framing.chunked-huge-size"
        return b"5\r\nab\r\n0\r\n\r\n", "framing.chunked-mis-sized"
