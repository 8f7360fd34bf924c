# The fuzz runner: starts a real `glimpse serve` (built-in identity, temporary data directory, free port), creates
# the users, projects, images, metadefs and servers the generator aims at, then sends seeded hostile requests one
# by one and checks after each that the process lives, the answer is not a 5xx and the listener still answers.
# A failure prints the seed, the request number and the exact request bytes.

import argparse
import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import random

import rawhttp
from generator import ROUTES, Generator, Pool

ADMIN_PASSWORD = "fuzz-admin-pw"
REQUEST_TIMEOUT = 30.0   # a fuzzed request without any answer by then is a hang
HEALTH_TIMEOUT = 10.0    # generous: the health request is answered in milliseconds when all is well

# 5xx answers that are the server's own condition, not the client's error. Keep this list tiny.
#   501 on an unknown/odd method: the HTTP layer's "Not Implemented" is the standard answer for a method
#       no route knows (RFC 9110 15.6.2), not a fault.
ALLOWED_5XX = {
    ("odd-method", 501),
}


class Server:
    def __init__(self, binary, data_dir):
        self.binary = binary
        self.data_dir = data_dir
        self.proc = None
        self.port = None
        self.log_path = os.path.join(os.path.dirname(data_dir), "glimpse.log")

    def start(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(os.environ, GLIMPSE_ADMIN_PASSWORD=ADMIN_PASSWORD)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--hypervisor", "overlay", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", self.data_dir,
             "--auth", "builtin", "--no-metrics"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("glimpse exited at start-up (status %s); log:\n%s" % (self.proc.returncode, self.log_tail()))
            try:
                if rawhttp.call(self.port, "GET", "/versions", timeout=2).status == 200:
                    return
            except (OSError, rawhttp.NoResponse, rawhttp.Timeout):
                pass
            time.sleep(0.2)
        raise SystemExit("glimpse did not answer GET /versions within 120 s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return "(no log)"


class Setup:
    """Creates, through the APIs themselves, what the requests aim at: an admin, a `reader` in the admin project,
    a `member` of another project, throwaway ("victim") users/projects/roles/flavors the fuzzer may delete, images
    of both projects (active, queued, shared), a metadefs namespace with an object, property and tag, servers."""

    def __init__(self, server, pool):
        self.s = server
        self.pool = pool
        self.tokens = {}
        self.passwords = {}

    def call(self, method, path, token=None, body=None, headers=(), ok=(200, 201, 202, 204)):
        resp = rawhttp.call(self.s.port, method, path, token=token, body=body, headers=headers, timeout=60)
        if ok and resp.status not in ok:
            raise SystemExit("set-up call %s %s answered %d: %s (sent %s)" % (method, path, resp.status, resp.body[:500], str(body)[:300]))
        return resp

    def json(self, resp):
        import json
        return json.loads(resp.body) if resp.body else {}

    def token(self, user, password, project, domain="Default"):
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"name": domain}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"name": domain}}}}}
        return self.call("POST", "/identity/v3/auth/tokens", body=body).header("x-subject-token")

    def refresh_tokens(self):
        self.tokens["admin"] = self.token("admin", ADMIN_PASSWORD, "admin")
        self.tokens["throwaway"] = self.token("admin", ADMIN_PASSWORD, "admin")
        self.tokens["reader"] = self.token("fuzz-reader", "reader-pw", "admin")
        self.tokens["member"] = self.token("fuzz-member", "member-pw", "fuzz-other")

    def image(self, token, body, data=None):
        iid = self.json(self.call("POST", "/v2/images", token, body))["id"]
        if data is not None:
            self.call("PUT", "/v2/images/%s/file" % iid, token, data, headers=[("Content-Type", "application/octet-stream")])
        return iid

    def replenish(self):
        try:
            self.pool.add("image", self.image(self.tokens["admin"], {"name": "fuzz-more", "disk_format": "raw",
                                                                      "container_format": "bare"}, b"\x05" * 4096))
        except (SystemExit, OSError, rawhttp.NoResponse, rawhttp.Timeout):
            pass  # a fuzzed request may have changed quotas or tokens; the pool still has older ids

    def admin_user_id(self, token):
        return [u["id"] for u in self.json(self.call("GET", "/identity/v3/users", token))["users"] if u["name"] == "admin"][0]

    def run(self):
        p = self.pool
        admin = self.token("admin", ADMIN_PASSWORD, "admin")
        a = admin
        roles = {r["name"]: r["id"] for r in self.json(self.call("GET", "/identity/v3/roles", a))["roles"]}
        for rid in roles.values():
            p.add("role", rid)
        projects = {x["name"]: x["id"] for x in self.json(self.call("GET", "/identity/v3/projects", a))["projects"]}
        p.add("project", projects["admin"])
        p.add("domain", "default")
        other = self.json(self.call("POST", "/identity/v3/projects", a, {"project": {"name": "fuzz-other", "domain_id": "default"}}))["project"]["id"]
        p.add("other_project", other)
        p.add("project", other)
        users = {}
        for name, pw, proj, role in [("fuzz-reader", "reader-pw", projects["admin"], "reader"),
                                     ("fuzz-member", "member-pw", other, "member")]:
            uid = self.json(self.call("POST", "/identity/v3/users", a, {"user": {"name": name, "password": pw, "domain_id": "default"}}))["user"]["id"]
            self.call("PUT", "/identity/v3/projects/%s/users/%s/roles/%s" % (proj, uid, roles[role]), a)
            users[name] = uid
            p.add("user", uid)
        p.add("other_user", users["fuzz-member"])
        for uid in [x["id"] for x in self.json(self.call("GET", "/identity/v3/users", a))["users"]]:
            p.add("user", uid)
        for i in range(3):
            p.add("victim_user", self.json(self.call("POST", "/identity/v3/users", a, {"user": {"name": "fuzz-victim-%d" % i, "password": "victim-pw", "domain_id": "default"}}))["user"]["id"])
            p.add("victim_project", self.json(self.call("POST", "/identity/v3/projects", a, {"project": {"name": "fuzz-victim-%d" % i, "domain_id": "default"}}))["project"]["id"])
            p.add("victim_role", self.json(self.call("POST", "/identity/v3/roles", a, {"role": {"name": "fuzz-victim-%d" % i}}))["role"]["id"])
        p.add("victim_domain", self.json(self.call("POST", "/identity/v3/domains", a, {"domain": {"name": "fuzz-victim-domain"}}))["domain"]["id"])
        for i in range(2):
            group = self.json(self.call("POST", "/identity/v3/groups", a, {"group": {"name": "fuzz-group-%d" % i, "domain_id": "default"}}))["group"]["id"]
            p.add("group", group)
            p.add("victim_group", group)
        p.add("credential", self.json(self.call("POST", "/identity/v3/credentials", a, {"credential": {"user_id": users["fuzz-reader"], "type": "totp", "blob": "fuzz"}}))["credential"]["id"])
        p.add("app_cred", self.json(self.call("POST", "/identity/v3/users/%s/application_credentials" % self.admin_user_id(a), a, {"application_credential": {"name": "fuzz-cred"}}))["application_credential"]["id"])
        for x in self.json(self.call("GET", "/identity/v3/endpoints", a)).get("endpoints", []):
            p.add("endpoint", x["id"])
        for kind, path, key in [("service", "/identity/v3/services", "services"), ("region", "/identity/v3/regions", "regions")]:
            for x in self.json(self.call("GET", path, a)).get(key, []):
                p.add(kind, x["id"])
        self.refresh_tokens()
        m = self.tokens["member"]

        # images: active (with data), queued, shared with the other project, and the other project's own
        image = self.image
        active = image(a, {"name": "fuzz-active", "disk_format": "raw", "container_format": "bare", "tags": ["fuzz-tag"]}, b"\x01" * 65536)
        p.add("image", active)
        p.add("image", image(a, {"name": "fuzz-queued", "disk_format": "qcow2", "container_format": "bare"}))
        shared = image(a, {"name": "fuzz-shared", "disk_format": "raw", "container_format": "bare", "visibility": "shared"}, b"\x02" * 4096)
        p.add("image", shared)
        self.call("POST", "/v2/images/%s/members" % shared, a, {"member": other})
        p.add("image", image(a, {"name": "fuzz-public", "disk_format": "raw", "container_format": "bare", "visibility": "public"}, b"\x03" * 4096))
        p.add("other_image", image(m, {"name": "other-active", "disk_format": "raw", "container_format": "bare"}, b"\x04" * 4096))
        p.add("other_image", image(m, {"name": "other-queued", "disk_format": "raw", "container_format": "bare"}))

        # metadefs
        self.call("POST", "/v2/metadefs/namespaces", a, {"namespace": "fuzz-ns", "visibility": "public"})
        p.add("ns", "fuzz-ns")
        p.add("ns", "OS::Compute::Hypervisor")
        self.call("POST", "/v2/metadefs/namespaces/fuzz-ns/objects", a, {"name": "o1", "properties": {}}, ok=None)
        self.call("POST", "/v2/metadefs/namespaces/fuzz-ns/properties", a, {"name": "p1", "title": "p1", "type": "string"}, ok=None)
        self.call("POST", "/v2/metadefs/namespaces/fuzz-ns/tags/t1", a, ok=None)
        for name in ["image", "images", "namespace", "namespaces", "object", "property", "tag", "resource_type"]:
            p.add("schema", name)

        # compute: flavors, and servers when qemu-img is there to make their disks
        for f in self.json(self.call("GET", "/compute/v2.1/flavors", a)).get("flavors", []):
            p.add("flavor", f["id"])
        for i in range(2):
            r = self.call("POST", "/compute/v2.1/flavors", a, {"flavor": {"name": "fuzz-victim-%d" % i, "ram": 64, "vcpus": 1, "disk": 1}}, ok=None)
            if r.status == 200:
                p.add("victim_flavor", self.json(r)["flavor"]["id"])
        if shutil.which("qemu-img") and p.ids.get("flavor"):
            for token, kind in [(a, "server"), (m, "other_server")]:
                img = active if kind == "server" else p.ids["other_image"][0]
                r = self.call("POST", "/compute/v2.1/servers", token, {"server": {
                    "name": "fuzz-" + kind, "imageRef": img, "flavorRef": p.ids["flavor"][0], "networks": "none"}}, ok=None)
                if r.status == 202:
                    sid = self.json(r)["server"]["id"]
                    p.add(kind, sid)
                    p.add("server", sid)

        # a task
        r = self.call("GET", "/v2/tasks", a, ok=None)
        for t in self.json(r).get("tasks", []) if r.status == 200 else []:
            p.add("task", t["id"])


def check_health(server, setup):
    """A cheap authenticated request: answered (any non-5xx) within HEALTH_TIMEOUT."""
    for attempt in range(2):
        try:
            resp = rawhttp.call(server.port, "GET", "/v2/images?limit=1", token=setup.tokens.get("admin"), timeout=HEALTH_TIMEOUT)
        except rawhttp.Timeout:
            return "no answer to GET /v2/images?limit=1 within %.0f s" % HEALTH_TIMEOUT
        except (OSError, rawhttp.NoResponse) as e:
            return "GET /v2/images?limit=1 failed: %r" % e
        if resp.status == 401 and attempt == 0:
            setup.refresh_tokens()  # a fuzzed request may have revoked or expired a token; that is allowed
            continue
        if resp.status >= 500:
            return "GET /v2/images?limit=1 answered %d" % resp.status
        return None
    return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description="HTTP fuzz harness over Glimpse's whole API surface.")
    ap.add_argument("--binary", default=os.path.join(repo, ".build", "debug", "glimpse"),
                    help="the glimpse executable (default: .build/debug/glimpse)")
    ap.add_argument("--iterations", type=int, default=2000, help="fuzzed requests to send (default 2000)")
    ap.add_argument("--seed", default="1", help="seed of the request generator, or 'random' (default 1)")
    ap.add_argument("--stop-at-first", action="store_true", help="stop at the first failure (default: restart the "
                    "server if it died and go on, so one run lists every failure)")
    ap.add_argument("--out", help="where to write failing requests' raw bytes (default: a temporary directory)")
    ap.add_argument("--verbose", action="store_true", help="print every request's status")
    args = ap.parse_args()

    seed = random.SystemRandom().randrange(2 ** 32) if args.seed == "random" else int(args.seed)
    if not os.access(args.binary, os.X_OK):
        raise SystemExit("no glimpse binary at %s (build it with `swift build --product glimpse`)" % args.binary)
    work = tempfile.mkdtemp(prefix="glimpse-fuzz-")
    out = args.out or os.path.join(work, "failures")
    os.makedirs(out, exist_ok=True)
    server = Server(args.binary, os.path.join(work, "data"))
    pool = Pool()
    print("fuzz: seed %d, %d requests, binary %s" % (seed, args.iterations, args.binary), flush=True)
    started = time.monotonic()
    server.start()
    setup = Setup(server, pool)
    setup.run()
    gen = Generator(random.Random(seed), pool, server.port, setup.tokens)

    coverage = collections.Counter()        # (route method, template) -> requests
    sent_methods = collections.defaultdict(set)  # template -> methods actually sent
    statuses = collections.Counter()
    classes = collections.Counter()
    failures = []
    for n in range(1, args.iterations + 1):
        g = gen.next()
        gen.port = server.port
        coverage[g.route] += 1
        sent_methods[g.route[1]].add(g.method)
        for c in set(g.classes):
            classes[c.split(".")[0]] += 1
        problem, status = None, None
        try:
            resp = rawhttp.exchange(server.port, g.raw, REQUEST_TIMEOUT)
            status = resp.status
            odd = g.method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
            if status >= 500 and not (odd and ("odd-method", status) in ALLOWED_5XX):
                problem = "answered %d: %s" % (status, resp.body[:300].decode("utf-8", "replace"))
        except (rawhttp.Timeout, TimeoutError):
            status = "timeout"
            problem = "no answer within %.0f s" % REQUEST_TIMEOUT
        except rawhttp.NoResponse as e:
            status = "closed"
            if g.framing_ok and server.alive():
                problem = "connection closed without an answer (%s)" % (e.args[0] if e.args else "nothing received")
        except OSError as e:
            status = "error"
            if server.alive():
                problem = "socket error %r" % e
        statuses[status] += 1
        if args.verbose:
            print("%5d %-8s %s %s" % (n, status, g.method, g.raw.split(b" ", 2)[1][:120].decode("utf-8", "replace")))
        if problem is None and not server.alive():
            problem = "the process ended (status %s)" % server.proc.returncode
        if problem is None:
            problem = check_health(server, setup)
            if problem is None and not server.alive():
                problem = "the process ended (status %s)" % server.proc.returncode
        if problem:
            path = os.path.join(out, "request-%d-seed-%d.bin" % (n, seed))
            with open(path, "wb") as f:
                f.write(g.raw)
            shown = g.raw if len(g.raw) <= 2000 else g.raw[:2000] + b"...(%d bytes in all)" % len(g.raw)
            print("\nFAIL request %d (seed %d, route %s %s, mutations %s): %s" % (
                n, seed, g.route[0], g.route[1], ",".join(g.classes), problem))
            print("  reproducer (raw bytes, also in %s):\n  %r" % (path, shown))
            print("  resend: python3 -c \"import socket,sys;s=socket.create_connection(('127.0.0.1',PORT));"
                  "s.sendall(open('%s','rb').read());s.shutdown(1);sys.stdout.buffer.write(s.recv(65536))\"" % path)
            if not server.alive():
                print("  server log tail:\n" + server.log_tail())
            failures.append((n, g, problem))
            if args.stop_at_first:
                break
            if not server.alive():
                server.start()
                setup.refresh_tokens()
                gen.tokens = setup.tokens
                gen.port = server.port
        gen.tokens = setup.tokens
        if n % 250 == 0:
            setup.replenish()  # fuzzed DELETEs remove images; keep live targets in the pool

    elapsed = time.monotonic() - started
    server.stop()
    all_routes = {(m, t) for m, t, _ in ROUTES}
    covered = {k for k in coverage if k in all_routes}
    pairs = sum(len(v) for v in sent_methods.values())
    print("\nfuzz: %d requests in %.1f s, seed %d" % (sum(coverage.values()), elapsed, seed))
    print("coverage: %d of %d routes (method x path) exercised; %d path templates x %d distinct methods sent "
          "(%d path x method pairs, wrong methods included)" % (
              len(covered), len(all_routes), len(sent_methods), len({m for v in sent_methods.values() for m in v}), pairs))
    missing = sorted(all_routes - covered)
    if missing:
        print("  not reached this run: " + ", ".join("%s %s" % r for r in missing))
    print("statuses: " + ", ".join("%s=%d" % (k, v) for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))))
    print("mutation classes: " + ", ".join("%s=%d" % kv for kv in sorted(classes.items())))
    if failures:
        print("fuzz: %d FAILURE(S); raw requests in %s" % (len(failures), out))
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("fuzz: no crash, no 5xx, no hang")


if __name__ == "__main__":
    main()
