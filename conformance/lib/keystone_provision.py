#!/usr/bin/env python3
"""keystone_provision.py KEYSTONE_URL ADMIN_PASSWORD IMAGE_URL SERVICE_PASSWORD

Prepares a freshly bootstrapped Keystone for Glance + Tempest, through the Identity API v3
(standard library only, so it runs with any python3):
  - roles member, reader and service exist (bootstrap makes admin > manager > member > reader);
  - project "service" with user "glance" (password SERVICE_PASSWORD), roles admin and service:
    the account keystonemiddleware in Glance uses to validate tokens;
  - service "glance" of type "image" with public, internal and admin endpoints at IMAGE_URL in RegionOne.
Tempest runs with dynamic credentials and creates its own users and projects with the admin account.
"""
import json
import sys
import urllib.error
import urllib.request

KEYSTONE, ADMIN_PASSWORD, IMAGE_URL, SERVICE_PASSWORD = sys.argv[1:5]
REGION = "RegionOne"


def call(method, path, body=None, token=None, ok=(200, 201, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(KEYSTONE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            raw = r.read()
            return r.status, r.headers, (json.loads(raw) if raw else {})
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return e.code, e.headers, {}
        raise SystemExit(f"keystone {method} {path}: {e.code} {e.read()[:300]!r}")


_, headers, _ = call("POST", "/v3/auth/tokens", {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
TOKEN = headers["X-Subject-Token"]


def get(path, key):
    return call("GET", path, token=TOKEN)[2][key]


def ensure_role(name):
    found = get(f"/v3/roles?name={name}", "roles")
    if found:
        return found[0]["id"]
    return call("POST", "/v3/roles", {"role": {"name": name}}, TOKEN)[2]["role"]["id"]


roles = {name: ensure_role(name) for name in ("admin", "member", "reader", "service")}
projects = get("/v3/projects?name=service&domain_id=default", "projects")
project = projects[0]["id"] if projects else call(
    "POST", "/v3/projects", {"project": {"name": "service", "domain_id": "default",
                                         "description": "Service project"}}, TOKEN)[2]["project"]["id"]
users = get("/v3/users?name=glance&domain_id=default", "users")
user = users[0]["id"] if users else call(
    "POST", "/v3/users", {"user": {"name": "glance", "domain_id": "default", "password": SERVICE_PASSWORD,
                                   "default_project_id": project}}, TOKEN)[2]["user"]["id"]
for role in ("admin", "service"):
    call("PUT", f"/v3/projects/{project}/users/{user}/roles/{roles[role]}", token=TOKEN)

services = get("/v3/services?type=image", "services")
service = services[0]["id"] if services else call(
    "POST", "/v3/services", {"service": {"type": "image", "name": "glance",
                                         "description": "OpenStack Image"}}, TOKEN)[2]["service"]["id"]
existing = {e["interface"]: e for e in get(f"/v3/endpoints?service_id={service}", "endpoints")}
for interface in ("public", "internal", "admin"):
    e = existing.get(interface)
    if e is None:
        call("POST", "/v3/endpoints", {"endpoint": {"service_id": service, "interface": interface,
                                                    "region_id": REGION, "url": IMAGE_URL}}, TOKEN)
    elif e["url"] != IMAGE_URL:
        call("PATCH", f"/v3/endpoints/{e['id']}", {"endpoint": {"url": IMAGE_URL}}, TOKEN)
print(f"keystone provisioned: user glance in project service, image endpoints at {IMAGE_URL}")
