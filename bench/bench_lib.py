#!/usr/bin/env python3
"""Workload driver for bench/run (Python standard library only).

Subcommands:
  hashes FILE                     print "md5 sha512" of FILE (cached next to it)
  freeport                        print a free TCP port on 127.0.0.1
  wait URL SECONDS [PID]          wait until GET URL answers 200 (fail early if PID dies)
  ptree PID                       print PID and all of its descendants
  run --name N --base URL --pid PID --store DIR --out JSON [sizes...]
                                  run every workload against one server, write JSON
  report OUT.md MACHINE.txt A.json [B.json]
                                  print and write the comparison table
  freeports N                     print the first of N consecutive free TCP ports
  scaleout --name N --base URL --out JSON [--also URL]... [sizes...]
                                  GET one image and list images, sequential and under wrk
  scaleout-report OUT.md MACHINE.txt SQLITE.json PG.json PG_HAPROXY1.json PG_HAPROXY2.json
                                  print and write the scale-out table
  s3-bucket BUCKET...             create the buckets on $S3_ENDPOINT (credentials from AWS_*)
  s3run --server NAME,URL,PID,BUCKET,OUT.json... --file F [--runs R] [--store-pid PID]...
                                  upload and download F through servers that keep images in S3, alternating
  s3-report OUT.md MACHINE.txt QUICK A.json [B.json]
                                  print and write the --s3 table

The same workloads, in the same order and with the same client, run against
each server. Every request opens a new connection (uWSGI's --http-socket closes
the connection after each response anyway), so both servers pay the same
connect cost. Latencies are measured with time.perf_counter() around
connect + request + reading the whole response.
"""
import argparse
import hashlib
import hmac
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from xml.etree import ElementTree

JSON_H = {"Content-Type": "application/json"}


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------- misc --
def file_hashes(path):
    """md5 and sha512 hex of a file; cached in PATH.hashes (keyed on size+mtime)."""
    st = os.stat(path)
    key = "%d %d" % (st.st_size, st.st_mtime_ns)
    cache = path + ".hashes"
    try:
        k, md5, sha = open(cache).read().split("\n")[:3]
        if k == key:
            return md5, sha
    except (OSError, ValueError):
        pass
    m, s = hashlib.md5(), hashlib.sha512()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            m.update(b)
            s.update(b)
    with open(cache, "w") as f:
        f.write("%s\n%s\n%s\n" % (key, m.hexdigest(), s.hexdigest()))
    return m.hexdigest(), s.hexdigest()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def free_ports(n):
    """the first of N consecutive free TCP ports on 127.0.0.1"""
    for _ in range(200):
        base = free_port()
        if base + n > 65535:
            continue
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise BenchError("no %d consecutive free ports" % n)


def children(pid):
    out = []
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            try:
                out += [int(x) for x in open("/proc/%d/task/%s/children" % (pid, t)).read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def ptree(pid):
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += children(p)
    return pids


def rss_kib(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid):
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_cpu(pid):
    return sum(cpu_s(p) for p in ptree(pid))


def tree_rss(pid):
    return sum(rss_kib(p) for p in ptree(pid))


def du_bytes(path):
    """allocated bytes (st_blocks) under path, like du"""
    tot = 0
    for root, dirs, files in os.walk(path):
        for n in files + dirs:
            try:
                tot += os.lstat(os.path.join(root, n)).st_blocks * 512
            except OSError:
                pass
    return tot


class RssSampler(threading.Thread):
    """summed VmRSS of a process tree, sampled every `interval` seconds"""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak, self.samples = 0, 0
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self.samples += 1
            self.stop_ev.wait(self.interval)

    def stop(self):
        self.stop_ev.set()
        self.join()
        self.peak = max(self.peak, tree_rss(self.pid))
        return self.peak


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


# --------------------------------------------------------------------- HTTP --
class Client:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80

    def req(self, method, path, body=None, headers=None):
        """one request on a fresh connection -> (status, headers, body, seconds)"""
        t0 = time.perf_counter()
        c = http.client.HTTPConnection(self.host, self.port, timeout=300)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            dt = time.perf_counter() - t0
            return r.status, r.headers, data, dt
        finally:
            c.close()

    def json(self, method, path, obj=None, expect=200):
        body = json.dumps(obj) if obj is not None else None
        st, _, data, dt = self.req(method, path, body, JSON_H if body else {})
        if st != expect:
            raise BenchError("%s %s -> %d (expected %d): %s" % (method, path, st, expect, data[:300]))
        return (json.loads(data) if data else None), dt


class BenchError(Exception):
    pass


def curl(args):
    """run curl, return the -w output split into fields"""
    p = subprocess.run(["curl", "-sS"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise BenchError("curl %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p.stdout.split()


def run_wrk(url, secs, out_path):
    """wrk -t2 -c8 on URL for SECS seconds; its output goes to OUT_PATH -> (requests/s, non-2xx count, p99)"""
    p = subprocess.run(["wrk", "-t2", "-c8", "-d%ds" % secs, "--latency", url],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout
    with open(out_path, "w") as f:
        f.write(out)
    rps, non2xx, p99 = None, 0, ""
    for line in out.splitlines():
        w = line.split()
        if line.startswith("Requests/sec:"):
            rps = float(w[1])
        elif "Non-2xx" in line:
            non2xx = int(w[-1])
        elif w and w[0] == "99%":
            p99 = w[1]
    if rps is None:
        raise BenchError("wrk printed no Requests/sec: %s" % out[-500:])
    return rps, non2xx, p99


# ---------------------------------------------------------------- workloads --
class Bench:
    def __init__(self, a):
        self.a = a
        self.c = Client(a.base)
        self.pid = a.pid
        self.metrics = {}   # key -> value (float) or None when the workload failed
        self.notes = {}     # key -> short text
        self.errors = []    # hard failures (server did not answer / bad status)
        self.mismatch = []  # checksum / hash mismatches (hard failures too)
        self.warnings = []  # soft: unexpected counts etc.

    def put(self, key, value, note=None):
        self.metrics[key] = value
        if note:
            self.notes[key] = note
        log("%s %s = %.4g%s" % (self.a.name, key, value, (" (%s)" % note) if note else ""))

    def section(self, name, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - one failed workload must not hide the others
            msg = "%s: %s: %s" % (name, type(e).__name__, e)
            log("ERROR", self.a.name, msg)
            self.errors.append(msg)

    # -- 1. seed + list ------------------------------------------------------
    def seed(self):
        n = self.a.seed
        payload = os.urandom(64)
        md5 = hashlib.md5(payload).hexdigest()
        ids = []
        t0 = time.perf_counter()
        for i in range(n):
            body = {"name": "seed-%04d" % i, "disk_format": "raw", "container_format": "bare",
                    "bench_group": "abcd"[i % 4]}
            if i % 2 == 0:
                body["visibility"] = "private"
            img, _ = self.c.json("POST", "/v2/images", body, 201)
            ids.append(img["id"])
            if i % 2 == 0:  # half of them private + active
                st, _, data, _ = self.c.req("PUT", "/v2/images/%s/file" % img["id"], payload,
                                            {"Content-Type": "application/octet-stream"})
                if st != 204:
                    raise BenchError("seed upload -> %d: %s" % (st, data[:300]))
        self.seed_ids = ids
        self.put("seed_s", time.perf_counter() - t0,
                 "%d creates + %d tiny uploads, sequential" % (n, (n + 1) // 2))
        img, _ = self.c.json("GET", "/v2/images/%s" % ids[0])
        if img.get("status") != "active" or img.get("checksum") != md5:
            self.mismatch.append("seed image %s: status %s checksum %s, expected active %s"
                                 % (ids[0], img.get("status"), img.get("checksum"), md5))

    def list_one(self, key, query, n, want):
        path = "/v2/images" + query
        for _ in range(3):
            self.c.json("GET", path)
        ts, got = [], None
        for _ in range(n):
            body, dt = self.c.json("GET", path)
            ts.append(dt)
            got = len(body["images"])
        if want is not None and got != want:
            self.warnings.append("GET %s returned %d images, expected %d" % (path, got, want))
        self.put(key, statistics.median(ts) * 1000, "n=%d, %d images returned" % (n, got))

    def lists(self):
        n, big = self.a.list_n, self.a.list1000_n
        s = self.a.seed
        self.list_one("list_default_ms", "", n, min(25, s))
        self.list_one("list_1000_ms", "?limit=1000", big, min(1000, s))
        self.list_one("list_private_active_ms", "?visibility=private&status=active", n, min(25, (s + 1) // 2))
        self.list_one("list_private_active_1000_ms", "?visibility=private&status=active&limit=1000", big,
                      min(1000, (s + 1) // 2))
        self.list_one("list_property_ms", "?bench_group=a", n, min(25, (s + 3) // 4))
        self.list_one("list_property_1000_ms", "?bench_group=a&limit=1000", big, min(1000, (s + 3) // 4))
        # pagination: `next` must lead through all seeded images
        path, seen = "/v2/images?limit=%d" % max(1, s // 3), 0
        for _ in range(10):
            body, _ = self.c.json("GET", path)
            seen += len(body["images"])
            if not body.get("next"):
                break
            path = body["next"]
        if seen != s:
            self.warnings.append("paging with limit=%d through `next` saw %d images, expected %d"
                                 % (max(1, s // 3), seen, s))

    # -- 2. GET one image ----------------------------------------------------
    def get_one(self):
        iid = self.seed_ids[0]
        path = "/v2/images/%s" % iid
        for _ in range(5):
            self.c.json("GET", path)
        ts = [self.c.json("GET", path)[1] for _ in range(self.a.get_n)]
        self.put("get_ms", statistics.median(ts) * 1000, "n=%d sequential" % self.a.get_n)

    def wrk(self):
        if not self.a.wrk_secs:
            return
        path = "/v2/images/%s" % self.seed_ids[0]
        rps, non2xx, p99 = run_wrk(self.a.base + path, self.a.wrk_secs, self.a.out + ".wrk.txt")
        if non2xx:
            self.errors.append("wrk: %d non-2xx answers to GET %s" % (non2xx, path))
        self.put("wrk_rps", rps, "wrk -t2 -c8 -d%ds, p99 %s" % (self.a.wrk_secs, p99))

    # -- 3. create -----------------------------------------------------------
    def create(self):
        body = {"name": "bench-create", "disk_format": "raw", "container_format": "bare"}
        for _ in range(10):
            self.c.json("POST", "/v2/images", body, 201)
        ts = []
        for _ in range(self.a.create_n):
            img, dt = self.c.json("POST", "/v2/images", body, 201)
            ts.append(dt)
        if img.get("status") != "queued" or not img.get("id"):
            self.warnings.append("created image: status %r id %r" % (img.get("status"), img.get("id")))
        self.put("create_ms", statistics.median(ts) * 1000, "n=%d" % self.a.create_n)
        self.put("create_p99_ms", pct(ts, 0.99) * 1000, "n=%d" % self.a.create_n)

    # -- 4. big upload / download / delete -----------------------------------
    def big(self, kind, src):
        size = os.path.getsize(src)
        md5, sha = file_hashes(src)
        subprocess.run(["cat", src], stdout=subprocess.DEVNULL)  # into the page cache
        runs = self.a.big_runs
        up_t, up_cpu, peaks, disk, ids = [], [], [], [], []
        base_rss = tree_rss(self.pid)
        for r in range(runs):
            img, _ = self.c.json("POST", "/v2/images", {"name": "bench-%s-%d" % (kind, r), "disk_format": "raw",
                                                        "container_format": "bare"}, 201)
            iid = img["id"]
            ids.append(iid)
            du0 = du_bytes(self.a.store)
            sampler = RssSampler(self.pid)
            sampler.start()
            time.sleep(0.1)
            c0 = tree_cpu(self.pid)
            code, t = curl(["-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-X", "PUT",
                            "-H", "Content-Type: application/octet-stream", "-H", "Expect:",
                            "-T", src, "%s/v2/images/%s/file" % (self.a.base, iid)])
            c1 = tree_cpu(self.pid)
            peaks.append(sampler.stop())
            if code != "204":
                raise BenchError("upload %s -> HTTP %s" % (kind, code))
            up_t.append(float(t))
            up_cpu.append(c1 - c0)
            disk.append(du_bytes(self.a.store) - du0)
            got, _ = self.c.json("GET", "/v2/images/%s" % iid)
            bad = [(k, want) for k, want in (("status", "active"), ("size", size), ("checksum", md5),
                                             ("os_hash_algo", "sha512"), ("os_hash_value", sha)) if got.get(k) != want]
            if bad:
                self.mismatch.append("%s upload %d: %s" % (kind, r, ", ".join(
                    "%s %s (expected %s)" % (k, str(got.get(k))[:32], str(want)[:32]) for k, want in bad)))
            if r < runs - 1:  # keep disk use low: only the last one stays for the downloads
                self.c.req("DELETE", "/v2/images/%s" % iid)
        tmed = statistics.median(up_t)
        self.put("up_%s_MBps" % kind, size / tmed / 1e6, "median of %d: %s s" % (runs, " ".join("%.2f" % x for x in up_t)))
        self.put("up_%s_cpu_s" % kind, statistics.median(up_cpu), "user+sys of the server's process tree")
        self.put("up_%s_rss_MiB" % kind, max(peaks) / 1024, "idle before: %.0f MiB" % (base_rss / 1024))
        self.put("up_%s_disk_MiB" % kind, statistics.median(disk) / 1048576, "du of the store, after minus before")

        iid = ids[-1]
        url = "%s/v2/images/%s/file" % (self.a.base, iid)
        dts, down_cpu = [], []
        for _ in range(runs):
            c0 = tree_cpu(self.pid)
            code, t, n = curl(["-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}", url])
            down_cpu.append(tree_cpu(self.pid) - c0)
            if code != "200" or int(n) != size:
                raise BenchError("download %s -> HTTP %s, %s bytes" % (kind, code, n))
            dts.append(float(t))
        self.put("down_%s_cpu_s" % kind, statistics.median(down_cpu),
                 "user+sys of the server's process tree; the client (curl) is not counted")
        self.put("down_%s_MBps" % kind, size / statistics.median(dts) / 1e6,
                 "median of %d: %s s" % (runs, " ".join("%.2f" % x for x in dts)))
        # untimed: the bytes must hash to the source, and Content-MD5 must be the md5
        c = http.client.HTTPConnection(self.c.host, self.c.port, timeout=300)
        c.request("GET", "/v2/images/%s/file" % iid)
        r = c.getresponse()
        m, s, n = hashlib.md5(), hashlib.sha512(), 0
        while True:
            b = r.read(1 << 20)
            if not b:
                break
            m.update(b)
            s.update(b)
            n += len(b)
        c.close()
        if (m.hexdigest(), s.hexdigest(), n) != (md5, sha, size):
            self.mismatch.append("%s download: %d bytes md5 %s, expected %d bytes md5 %s"
                                 % (kind, n, m.hexdigest(), size, md5))
        if r.getheader("Content-MD5") != md5:
            self.warnings.append("%s download: Content-MD5 %r, expected %s" % (kind, r.getheader("Content-MD5"), md5))
        st, _, _, dt = self.c.req("DELETE", "/v2/images/%s" % iid)
        if st != 204:
            raise BenchError("DELETE %s -> %d" % (iid, st))
        self.deletes.append(dt)

    def bigs(self):
        self.deletes = []
        for kind, src in (("rand", self.a.rand_file), ("zero", self.a.zero_file)):
            self.section("%s upload/download" % kind, lambda: self.big(kind, src))
        if self.deletes:
            self.put("delete_ms", statistics.median(self.deletes) * 1000,
                     "median of %d DELETEs of an active big image" % len(self.deletes))

    def run(self):
        st, _, _, _ = self.c.req("GET", "/versions")
        if st != 200:
            raise BenchError("GET /versions -> %d" % st)
        self.seed_ids = []
        self.section("seed", self.seed)
        if self.seed_ids:
            self.section("list", self.lists)
            self.section("get", self.get_one)
            self.section("wrk", self.wrk)
        self.section("create", self.create)
        self.bigs()
        st, _, _, _ = self.c.req("GET", "/versions")
        if st != 200:
            self.errors.append("GET /versions after the run -> %d" % st)
        res = {"name": self.a.name, "metrics": self.metrics, "notes": self.notes, "errors": self.errors,
               "mismatch": self.mismatch, "warnings": self.warnings}
        with open(self.a.out, "w") as f:
            json.dump(res, f, indent=1)


# ---------------------------------------------------------------- scale-out --
class ScaleOut(Bench):
    """bench/run --scale-out against one setup (a node directly, or HAProxy in front of nodes): GET one image and
    list images, one request at a time (what one request costs) and under wrk (requests/s). Only the answers are
    checked; no timing is asserted."""

    def ensure_images(self):
        """The setup's database holds `--seed` images named scale-NNNN (made on first use, kept by later setups
        that share the database); returns the id of scale-0000."""
        body, _ = self.c.json("GET", "/v2/images?limit=1000&sort_key=name&sort_dir=asc")
        have = {img["name"]: img["id"] for img in body["images"] if img.get("name", "").startswith("scale-")}
        for i in range(self.a.seed):
            name = "scale-%04d" % i
            if name not in have:
                img, _ = self.c.json("POST", "/v2/images", {"name": name, "disk_format": "raw",
                                                            "container_format": "bare"}, 201)
                have[name] = img["id"]
        return have["scale-0000"]

    def sequential(self, key, path, n, check):
        for _ in range(3):
            self.c.json("GET", path)
        ts = []
        for _ in range(n):
            body, dt = self.c.json("GET", path)
            check(body)
            ts.append(dt)
        self.put(key, statistics.median(ts) * 1000, "n=%d sequential, new connection each" % n)

    def loaded(self, key, path):
        if not self.a.wrk_secs:
            return
        rps, non2xx, p99 = run_wrk(self.a.base + path, self.a.wrk_secs, "%s.%s.wrk.txt" % (self.a.out, key))
        if non2xx:
            self.errors.append("wrk: %d non-2xx answers to GET %s" % (non2xx, path))
        self.put(key, rps, "wrk -t2 -c8 -d%ds, p99 %s" % (self.a.wrk_secs, p99))

    def run(self):
        iid = self.ensure_images()
        image_path, list_path = "/v2/images/%s" % iid, "/v2/images"
        want = min(25, self.a.seed)

        def check_image(body):
            if body.get("id") != iid or body.get("name") != "scale-0000":
                raise BenchError("GET %s answered image %r named %r" % (image_path, body.get("id"), body.get("name")))

        def check_list(body):
            if len(body.get("images", [])) != want:
                raise BenchError("GET %s answered %d images, expected %d" % (list_path, len(body["images"]), want))

        # Every node answers for the image, wherever it was made: they share one database.
        for other in self.a.also:
            body, _ = Client(other).json("GET", image_path)
            if body.get("id") != iid:
                self.errors.append("%s%s answered image %r" % (other, image_path, body.get("id")))
        self.section("get", lambda: self.sequential("get_ms", image_path, self.a.get_n, check_image))
        self.section("list", lambda: self.sequential("list_ms", list_path, self.a.list_n, check_list))
        self.section("wrk get", lambda: self.loaded("wrk_get_rps", image_path))
        self.section("wrk list", lambda: self.loaded("wrk_list_rps", list_path))
        res = {"name": self.a.name, "metrics": self.metrics, "notes": self.notes, "errors": self.errors,
               "mismatch": self.mismatch, "warnings": self.warnings}
        with open(self.a.out, "w") as f:
            json.dump(res, f, indent=1)


# key, label, unit, higher_is_better, format
SCALE_ROWS = [
    ("get_ms", "GET one image, median (sequential)", "ms", False, "%.2f"),
    ("list_ms", "list images, default page, median (sequential)", "ms", False, "%.2f"),
    ("wrk_get_rps", "GET one image, wrk -t2 -c8", "req/s", True, "%.0f"),
    ("wrk_list_rps", "list images, wrk -t2 -c8", "req/s", True, "%.0f"),
]


def ratio(a, b, higher_is_better):
    """how many times better b is than a (>1 = b better)"""
    if a is None or b is None:
        return "–"
    num, den = (b, a) if higher_is_better else (a, b)
    return "∞" if den == 0 else "%.2f" % (num / den)


def scale_report(out_md, machine, sqlite_direct, pg_direct, pg_one, pg_two):
    """The scale-out table: the four setups side by side, PostgreSQL's cost against SQLite's on one node, and two
    nodes against one behind HAProxy."""
    cols = [json.load(open(f)) for f in (sqlite_direct, pg_direct, pg_one, pg_two)]
    cpus = os.cpu_count() or 0
    lines = ["# Glimpse scale-out benchmark", "", "```", open(machine).read().rstrip(), "```", ""]
    lines.append("| metric | unit |" + "".join(" %s |" % c["name"] for c in cols)
                 + " SQLite ÷ PostgreSQL, direct (>1 = SQLite cheaper) | 2 nodes ÷ 1 node, HAProxy (>1 = 2 nodes better) |")
    lines.append("|---|---|" + "---:|" * (len(cols) + 2))
    for key, label, unit, hib, fmt in SCALE_ROWS:
        vals = [c["metrics"].get(key) for c in cols]
        if all(v is None for v in vals):
            continue
        row = "| %s | %s |" % (label, unit) + "".join(" %s |" % ("–" if v is None else fmt % v) for v in vals)
        row += " %s | %s |" % (ratio(vals[1], vals[0], hib), ratio(vals[2], vals[3], hib))
        lines.append(row)
    lines += ["", "Every setup answers the same requests. SQLite and PostgreSQL are compared on one node without HAProxy,",
              "so that column is what the database costs per request. The nodes, HAProxy, PostgreSQL and wrk all",
              "share this machine's %d CPUs%s" % (cpus, ": on 2 cores the 2-node ratio shows the overhead of scaling out "
                                                   "(a proxy hop, a shared database), not a speed-up." if cpus <= 2 else
                                                   "; on a 2-core machine the 2-node ratio would show overhead, not speed-up."),
              ""]
    ok = True
    for c in cols:
        for kind, items in (("ERROR", c["errors"]), ("warning", c["warnings"])):
            for it in items:
                lines.append("- %s %s: %s" % (c["name"], kind, it))
                ok = ok and kind == "warning"
        if not c["errors"]:
            lines.append("- %s: every request answered as expected" % c["name"])
    lines.append("")
    text = "\n".join(lines)
    with open(out_md, "w") as f:
        f.write(text)
    print(text)
    return 0 if ok else 1


# ----------------------------------------------------------------------- S3 --
class S3Client:
    """Just enough S3 for the harness to check what the servers stored: path-style requests signed with AWS
    Signature V4 (credentials and region from the AWS_* environment, as the servers get them)."""

    def __init__(self, endpoint, access_key, secret_key, region):
        u = urllib.parse.urlsplit(endpoint)
        self.host, self.port, self.netloc = u.hostname, u.port or 80, u.netloc
        self.access_key, self.secret_key, self.region = access_key, secret_key, region

    @classmethod
    def from_env(cls):
        e = os.environ
        return cls(e["S3_ENDPOINT"], e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], e.get("AWS_REGION", "us-east-1"))

    @staticmethod
    def _enc(text, safe=""):
        # SigV4 percent-encodes everything but the unreserved characters (and '/' in a key's path)
        return urllib.parse.quote(text, safe="-_.~" + safe)

    def request(self, method, bucket, key="", query=(), body=b""):
        """one signed request -> (status, body bytes)"""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        day = stamp[:8]
        path = "/" + self._enc(bucket) + ("/" + self._enc(key, "/") if key else "")
        qs = "&".join("%s=%s" % (self._enc(k), self._enc(v)) for k, v in sorted(query))
        payload_hash = hashlib.sha256(body).hexdigest()
        headers = {"host": self.netloc, "x-amz-content-sha256": payload_hash, "x-amz-date": stamp}
        names = sorted(headers)
        signed = ";".join(names)
        canonical = "\n".join([method, path, qs, "".join("%s:%s\n" % (n, headers[n]) for n in names), signed,
                               payload_hash])
        scope = "%s/%s/s3/aws4_request" % (day, self.region)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        k = ("AWS4" + self.secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            self.access_key, scope, signed, signature)
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            c.request(method, path + ("?" + qs if qs else ""), body=body, headers=headers)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def create_bucket(self, bucket):
        st, data = self.request("PUT", bucket)
        if st == 409 and b"BucketAlreadyOwnedByYou" in data:
            return
        if st != 200:
            raise BenchError("PUT bucket %s -> %d: %s" % (bucket, st, data[:300]))

    def _xml(self, what, st, data):
        if st != 200:
            raise BenchError("%s -> %d: %s" % (what, st, data[:300]))
        return ElementTree.fromstring(data)

    def objects(self, bucket, prefix):
        """{key: (size, etag)} of the objects whose key starts with prefix (one page: the harness asks for one key)"""
        root = self._xml("list %s/%s*" % (bucket, prefix), *self.request("GET", bucket, query=[("prefix", prefix)]))
        return {o.findtext("{*}Key"): (int(o.findtext("{*}Size") or -1), (o.findtext("{*}ETag") or "").strip('"'))
                for o in root.iterfind(".//{*}Contents")}

    def uploads(self, bucket, prefix):
        """keys of the multipart uploads in progress under prefix"""
        root = self._xml("list uploads %s/%s*" % (bucket, prefix),
                         *self.request("GET", bucket, query=[("uploads", ""), ("prefix", prefix)]))
        return [u.findtext("{*}Key") for u in root.iterfind(".//{*}Upload")]


def multipart_parts(etag):
    """An S3 multipart object's ETag is md5-of-the-part-md5s "-" part count; a single PUT's is the plain md5."""
    tail = etag.rsplit("-", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else 0


def tree_hwm_kib(pid):
    """summed VmHWM (each process's peak resident size since it started) over a process tree"""
    tot = 0
    for p in ptree(pid):
        try:
            for line in open("/proc/%d/status" % p):
                if line.startswith("VmHWM:"):
                    tot += int(line.split()[1])
        except OSError:
            pass
    return tot


def stream_hashes(client, path):
    """GET path on a new connection, hashing the body as it arrives -> (md5, sha512, bytes, Content-MD5 header)"""
    c = http.client.HTTPConnection(client.host, client.port, timeout=300)
    try:
        c.request("GET", path)
        r = c.getresponse()
        m, s, n = hashlib.md5(), hashlib.sha512(), 0
        while True:
            b = r.read(1 << 20)
            if not b:
                break
            m.update(b)
            s.update(b)
            n += len(b)
        return m.hexdigest(), s.hexdigest(), n, r.getheader("Content-MD5")
    finally:
        c.close()


class S3Bench(Bench):
    """bench/run --s3 against one server whose image data is in an S3 bucket: uploads and downloads of one random
    file, timed with curl, with the server's CPU and memory and the object store's CPU; every upload must leave
    exactly one complete object of the image's size under the image's id in the bucket. The steps are separate so
    that `s3_interleaved` can alternate two servers run by run."""

    def __init__(self, a):
        super().__init__(a)
        self.s3 = S3Client.from_env()
        self.size = os.path.getsize(a.file)
        self.gib = self.size / float(1 << 30)
        self.md5, self.sha = file_hashes(a.file)
        self.deletes, self.ids, self.etags = [], [], []
        self.up_t, self.up_cpu, self.up_store, self.peaks = [], [], [], []
        self.dts, self.down_cpu, self.down_store = [], [], []
        self.idle = 0

    def store_cpu(self):
        return sum(tree_cpu(p) for p in self.a.store_pid)

    def check_object(self, iid, label):
        """the image's object is in the bucket, whole, and no multipart upload of it is left open"""
        objs = self.s3.objects(self.a.bucket, iid)
        if iid not in objs:
            self.mismatch.append("%s: no object %s in bucket %s (keys under it: %s)"
                                 % (label, iid, self.a.bucket, sorted(objs)[:5]))
            return None
        got, etag = objs[iid]
        if got != self.size:
            self.mismatch.append("%s: object %s/%s holds %d bytes, expected %d"
                                 % (label, self.a.bucket, iid, got, self.size))
        open_uploads = self.s3.uploads(self.a.bucket, iid)
        if open_uploads:
            self.mismatch.append("%s: %d multipart upload(s) of %s still open after the image went active"
                                 % (label, len(open_uploads), iid))
        return etag

    def delete(self, iid):
        st, _, data, dt = self.c.req("DELETE", "/v2/images/%s" % iid)
        if st != 204:
            raise BenchError("DELETE %s -> %d: %s" % (iid, st, data[:300]))
        # both delete the object before answering (Glance without delayed_delete); a leftover is reported, not fatal
        if iid in self.s3.objects(self.a.bucket, iid):
            self.warnings.append("image %s deleted but its object is still in bucket %s" % (iid, self.a.bucket))
        return dt

    def warm_up(self):
        """two small uploads and downloads, untimed: every worker process has loaded its store code and opened
        its first connection to S3 before the timed runs"""
        st, _, _, _ = self.c.req("GET", "/versions")
        if st != 200:
            raise BenchError("GET /versions -> %d" % st)
        payload = os.urandom(256 << 10)
        for i in range(2):
            img, _ = self.c.json("POST", "/v2/images", {"name": "warm-up-%d" % i, "disk_format": "raw",
                                                        "container_format": "bare"}, 201)
            st, _, data, _ = self.c.req("PUT", "/v2/images/%s/file" % img["id"], payload,
                                        {"Content-Type": "application/octet-stream"})
            if st != 204:
                raise BenchError("warm-up upload -> %d: %s" % (st, data[:300]))
            st, _, data, _ = self.c.req("GET", "/v2/images/%s/file" % img["id"])
            if st != 200 or data != payload:
                raise BenchError("warm-up download -> %d, %d bytes" % (st, len(data)))
            self.delete(img["id"])
        self.idle = tree_rss(self.pid)

    def upload(self, r):
        """one timed upload; all but the last image are deleted again"""
        img, _ = self.c.json("POST", "/v2/images", {"name": "bench-s3-%d" % r, "disk_format": "raw",
                                                    "container_format": "bare"}, 201)
        iid = img["id"]
        self.ids.append(iid)
        sampler = RssSampler(self.pid)
        sampler.start()
        time.sleep(0.1)
        c0, s0 = tree_cpu(self.pid), self.store_cpu()
        code, t = curl(["-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-X", "PUT",
                        "-H", "Content-Type: application/octet-stream", "-H", "Expect:",
                        "-T", self.a.file, "%s/v2/images/%s/file" % (self.a.base, iid)])
        c1, s1 = tree_cpu(self.pid), self.store_cpu()
        self.peaks.append(sampler.stop())
        if code != "204":
            raise BenchError("upload -> HTTP %s" % code)
        self.up_t.append(float(t))
        self.up_cpu.append(c1 - c0)
        self.up_store.append(s1 - s0)
        got, _ = self.c.json("GET", "/v2/images/%s" % iid)
        bad = [(k, want) for k, want in (("status", "active"), ("size", self.size), ("checksum", self.md5),
                                         ("os_hash_algo", "sha512"), ("os_hash_value", self.sha)) if got.get(k) != want]
        if bad:
            self.mismatch.append("upload %d: %s" % (r, ", ".join(
                "%s %s (expected %s)" % (k, str(got.get(k))[:32], str(want)[:32]) for k, want in bad)))
        self.etags.append(self.check_object(iid, "upload %d" % r))
        if r < self.a.runs - 1:  # only the last one stays, for the downloads
            self.deletes.append(self.delete(iid))

    def download(self):
        """one timed download of the last uploaded image"""
        c0, s0 = tree_cpu(self.pid), self.store_cpu()
        code, t, n = curl(["-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}",
                           "%s/v2/images/%s/file" % (self.a.base, self.ids[-1])])
        self.down_cpu.append(tree_cpu(self.pid) - c0)
        self.down_store.append(self.store_cpu() - s0)
        if code != "200" or int(n) != self.size:
            raise BenchError("download -> HTTP %s, %s bytes" % (code, n))
        self.dts.append(float(t))

    def finish(self):
        """the figures, then (untimed) the downloaded bytes must hash to the source; the last image is deleted"""
        runs = len(self.up_t)
        if runs:
            self.put("up_MBps", self.size / statistics.median(self.up_t) / 1e6,
                     "median of %d: %s s" % (runs, " ".join("%.2f" % x for x in self.up_t)))
            self.put("up_cpu_s_per_GiB", statistics.median(self.up_cpu) / self.gib,
                     "user+sys of the server's process tree")
            self.put("up_store_cpu_s_per_GiB", statistics.median(self.up_store) / self.gib,
                     "user+sys of the object store's processes (Swift servers, memcached)")
            self.put("up_rss_MiB", max(self.peaks) / 1024,
                     "sampled every 50 ms; idle before: %.1f MiB" % (self.idle / 1024))
            self.put("idle_rss_MiB", self.idle / 1024)
            parts = [multipart_parts(e) for e in self.etags if e is not None]
            self.notes["object"] = "%d bytes per object under the image id in bucket %s; %s" % (
                self.size, self.a.bucket, ", ".join(("%d parts" % p) if p else "single PUT" for p in parts)
                or "none found")
        if self.dts:
            self.put("down_MBps", self.size / statistics.median(self.dts) / 1e6,
                     "median of %d: %s s" % (len(self.dts), " ".join("%.2f" % x for x in self.dts)))
            self.put("down_cpu_s_per_GiB", statistics.median(self.down_cpu) / self.gib,
                     "user+sys of the server's process tree; the client (curl) is not counted")
            self.put("down_store_cpu_s_per_GiB", statistics.median(self.down_store) / self.gib,
                     "user+sys of the object store's processes")
        if self.ids and len(self.ids) == runs:  # the last image is there to check and delete
            iid = self.ids[-1]
            got_md5, got_sha, n, content_md5 = stream_hashes(self.c, "/v2/images/%s/file" % iid)
            if (got_md5, got_sha, n) != (self.md5, self.sha, self.size):
                self.mismatch.append("download: %d bytes md5 %s, expected %d bytes md5 %s"
                                     % (n, got_md5, self.size, self.md5))
            if content_md5 != self.md5:
                self.warnings.append("download: Content-MD5 %r, expected %s" % (content_md5, self.md5))
            self.put("hwm_MiB", tree_hwm_kib(self.pid) / 1024, "summed VmHWM of the server's processes since start")
            self.deletes.append(self.delete(iid))
        if self.deletes:
            self.put("delete_ms", statistics.median(self.deletes) * 1000,
                     "median of %d DELETEs of an active image in S3" % len(self.deletes))

    def write(self):
        res = {"name": self.a.name, "metrics": self.metrics, "notes": self.notes, "errors": self.errors,
               "mismatch": self.mismatch, "warnings": self.warnings}
        with open(self.a.out, "w") as f:
            json.dump(res, f, indent=1)


def s3_interleaved(benches, runs):
    """The same steps on every server, alternating: run r's upload goes to each server in turn (the order flipped
    every run), then the downloads likewise, so that other work on the machine falls on both alike. A server whose
    step failed takes no further steps."""
    subprocess.run(["cat", benches[0].a.file], stdout=subprocess.DEVNULL)  # the source into the page cache
    for b in benches:
        b.section("warm-up", b.warm_up)
    for step, n in (("upload", runs), ("download", runs)):
        for r in range(n):
            for b in (benches if r % 2 == 0 else benches[::-1]):
                if not b.errors:
                    b.section("%s %d" % (step, r), (lambda b=b, r=r: b.upload(r)) if step == "upload" else b.download)
    for b in benches:
        if not b.errors:
            b.section("finish", b.finish)
        b.write()


# key, label, unit, higher_is_better, format
S3_ROWS = [
    ("up_MBps", "upload, median", "MB/s", True, "%.0f"),
    ("up_cpu_s_per_GiB", "server CPU per GiB uploaded", "s", False, "%.2f"),
    ("up_rss_MiB", "peak RSS of the server during the uploads (sampled)", "MiB", False, "%.1f"),
    ("hwm_MiB", "VmHWM of the server after the run (peak since start)", "MiB", False, "%.1f"),
    ("idle_rss_MiB", "RSS of the server before the uploads", "MiB", False, "%.1f"),
    ("up_store_cpu_s_per_GiB", "object store CPU per GiB uploaded", "s", False, "%.2f"),
    ("down_MBps", "download, median", "MB/s", True, "%.0f"),
    ("down_cpu_s_per_GiB", "server CPU per GiB downloaded", "s", False, "%.2f"),
    ("down_store_cpu_s_per_GiB", "object store CPU per GiB downloaded", "s", False, "%.2f"),
    ("delete_ms", "DELETE of an image in S3, median", "ms", False, "%.1f"),
]


def s3_report(out_md, machine, quick, files):
    """The --s3 table: Glimpse | Glance | ratio, the issue's two targets as measured, the durability note and
    the checks."""
    by = {r["name"]: r for r in (json.load(open(f)) for f in files)}
    ga, gi = by.get("Glance"), by.get("Glimpse")
    cols = [r for r in (gi, ga) if r]
    lines = ["# Glimpse vs Glance, image data in S3", "", "```", open(machine).read().rstrip(), "```", ""]
    hdr, sep = "| metric | unit |" + "".join(" %s |" % r["name"] for r in cols), "|---|---|" + "---:|" * len(cols)
    if ga and gi:
        hdr += " ratio (>1 = Glimpse better) |"
        sep += "---:|"
    lines += [hdr, sep]
    for key, label, unit, hib, fmt in S3_ROWS:
        vals = [r["metrics"].get(key) for r in cols]
        if all(v is None for v in vals):
            continue
        row = "| %s | %s |" % (label, unit) + "".join(" %s |" % ("–" if v is None else fmt % v) for v in vals)
        if ga and gi:
            row += " %s |" % ratio(ga["metrics"].get(key), gi["metrics"].get(key), hib)
        lines.append(row)
    lines.append("")
    if gi:
        up_gi, up_ga, rss = gi["metrics"].get("up_MBps"), (ga or {"metrics": {}})["metrics"].get("up_MBps"), \
            gi["metrics"].get("up_rss_MiB")
        caveat = "; quick sizes, not a measurement" if quick == "1" else ""
        if up_gi is not None and up_ga:
            x = up_gi / up_ga
            lines.append("- Target: upload ≥ 2× Glance's: measured %.2f× (%s%s)"
                         % (x, "met" if x >= 2 else "not met", caveat))
        if rss is not None:
            lines.append("- Target: Glimpse < 64 MiB resident during the upload: measured %.1f MiB (%s%s)"
                         % (rss, "met" if rss < 64 else "not met", caveat))
    lines += ["- Durability: both answer the upload (204, image `active`) only after S3 has completed the object:",
              "  above 16 MiB each sends a multipart upload in 16 MiB parts and completes it before the image goes",
              "  active (Glance: glance_store's s3 driver, in `add()`; Glimpse: on commit); below that each sends one",
              "  PUT. Right after each 204 the harness lists the bucket: the object under the image id must be there",
              "  at its full size, with no multipart upload of it left open.",
              "- Both servers talk to the same Swift on this machine, which takes a large share of the CPU (the",
              "  object store rows): the upload and download rates are bounded by it as much as by either server.",
              ""]
    ok = True
    for r in cols:
        for kind, items in (("ERROR", r["errors"]), ("CHECK FAILED", r["mismatch"]), ("warning", r["warnings"])):
            for it in items:
                lines.append("- %s %s: %s" % (r["name"], kind, it))
                ok = ok and kind == "warning"
        if not r["errors"] and not r["mismatch"]:
            lines.append("- %s: every request answered as expected; the downloaded bytes hashed to the source; "
                         "%s" % (r["name"], r["notes"].get("object", "")))
    lines.append("")
    text = "\n".join(lines)
    with open(out_md, "w") as f:
        f.write(text)
    print(text)
    return 0 if ok else 1


# ------------------------------------------------------------------- report --
# key, label, unit, higher_is_better, format
ROWS = [
    ("create_ms", "create image, median", "ms", False, "%.2f"),
    ("create_p99_ms", "create image, p99", "ms", False, "%.2f"),
    ("get_ms", "GET one image, median (sequential)", "ms", False, "%.2f"),
    ("wrk_rps", "GET one image, wrk -t2 -c8", "req/s", True, "%.0f"),
    ("list_default_ms", "list, default page (25)", "ms", False, "%.2f"),
    ("list_1000_ms", "list, limit=1000", "ms", False, "%.2f"),
    ("list_private_active_ms", "list, visibility=private&status=active", "ms", False, "%.2f"),
    ("list_private_active_1000_ms", "list, visibility=private&status=active&limit=1000", "ms", False, "%.2f"),
    ("list_property_ms", "list, bench_group=a (property filter)", "ms", False, "%.2f"),
    ("list_property_1000_ms", "list, bench_group=a&limit=1000", "ms", False, "%.2f"),
    ("up_rand_MBps", "upload random, median", "MB/s", True, "%.0f"),
    ("up_rand_cpu_s", "upload random, server CPU per upload", "s", False, "%.2f"),
    ("up_rand_rss_MiB", "upload random, peak RSS of the server", "MiB", False, "%.1f"),
    ("up_rand_disk_MiB", "upload random, store growth (du)", "MiB", False, "%.1f"),
    ("up_zero_MBps", "upload zeros, median", "MB/s", True, "%.0f"),
    ("up_zero_cpu_s", "upload zeros, server CPU per upload", "s", False, "%.2f"),
    ("up_zero_rss_MiB", "upload zeros, peak RSS of the server", "MiB", False, "%.1f"),
    ("up_zero_disk_MiB", "upload zeros, store growth (du)", "MiB", False, "%.1f"),
    ("down_rand_MBps", "download random, median", "MB/s", True, "%.0f"),
    ("down_rand_cpu_s", "download random, server CPU per download", "s", False, "%.2f"),
    ("down_zero_MBps", "download zeros, median", "MB/s", True, "%.0f"),
    ("down_zero_cpu_s", "download zeros, server CPU per download", "s", False, "%.2f"),
    ("delete_ms", "DELETE of an uploaded image, median", "ms", False, "%.1f"),
    ("seed_s", "seeding (creates + tiny uploads)", "s", False, "%.2f"),
]


def report(out_md, machine, files):
    res = [json.load(open(f)) for f in files]
    by = {r["name"]: r for r in res}
    ga, gi = by.get("Glance"), by.get("Glimpse")
    cols = [r for r in (ga, gi) if r]
    lines = []
    lines += ["# Glimpse vs Glance benchmark", "", "```", open(machine).read().rstrip(), "```", ""]
    hdr = "| metric | unit |" + "".join(" %s |" % r["name"] for r in cols)
    sep = "|---|---|" + "---:|" * len(cols)
    if ga and gi:
        hdr += " ratio (>1 = Glimpse better) |"
        sep += "---:|"
    lines += [hdr, sep]
    for key, label, unit, hib, fmt in ROWS:
        vals = [r["metrics"].get(key) for r in cols]
        if all(v is None for v in vals):
            continue
        row = "| %s | %s |" % (label, unit) + "".join(" %s |" % ("–" if v is None else fmt % v) for v in vals)
        if ga and gi:
            a, b = ga["metrics"].get(key), gi["metrics"].get(key)
            if a is None or b is None:
                ratio = "–"
            elif (a if hib else b) == 0:
                ratio = "1.00" if (b if hib else a) == 0 else "∞"
            else:
                ratio = "%.2f" % ((b / a) if hib else (a / b))
            row += " %s |" % ratio
        lines.append(row)
    lines.append("")
    ok = True
    for r in cols:
        for kind, items in (("ERROR", r["errors"]), ("CHECKSUM MISMATCH", r["mismatch"]), ("warning", r["warnings"])):
            for it in items:
                lines.append("- %s %s: %s" % (r["name"], kind, it))
                if kind != "warning":
                    ok = False
        if not r["errors"] and not r["mismatch"]:
            lines.append("- %s: every request answered as expected; uploaded and downloaded hashes matched" % r["name"])
    lines.append("")
    text = "\n".join(lines)
    with open(out_md, "w") as f:
        f.write(text)
    print(text)
    return 0 if ok else 1


# --------------------------------------------------------------------- main --
def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "hashes":
        print(*file_hashes(sys.argv[2]))
    elif cmd == "freeport":
        print(free_port())
    elif cmd == "ptree":
        print(" ".join(map(str, ptree(int(sys.argv[2])))))
    elif cmd == "wait":
        url, secs = sys.argv[2], float(sys.argv[3])
        pid = int(sys.argv[4]) if len(sys.argv) > 4 else None
        c = Client(url)
        path = urllib.parse.urlsplit(url).path or "/"
        end = time.time() + secs
        while time.time() < end:
            try:
                if c.req("GET", path)[0] == 200:
                    return 0
            except OSError:
                pass
            if pid and not os.path.exists("/proc/%d" % pid):
                log("process %d exited while waiting for %s" % (pid, url))
                return 1
            time.sleep(0.1)
        log("timeout waiting for %s" % url)
        return 1
    elif cmd == "run":
        p = argparse.ArgumentParser(prog="bench_lib.py run")
        p.add_argument("--name", required=True)
        p.add_argument("--base", required=True)
        p.add_argument("--pid", type=int, required=True)
        p.add_argument("--store", required=True)
        p.add_argument("--out", required=True)
        p.add_argument("--seed", type=int, default=1000)
        p.add_argument("--list-n", type=int, default=50)
        p.add_argument("--list1000-n", type=int, default=20)
        p.add_argument("--get-n", type=int, default=100)
        p.add_argument("--create-n", type=int, default=200)
        p.add_argument("--wrk-secs", type=int, default=10)
        p.add_argument("--big-runs", type=int, default=3)
        p.add_argument("--rand-file", required=True)
        p.add_argument("--zero-file", required=True)
        a = p.parse_args(sys.argv[2:])
        try:
            Bench(a).run()
        except Exception as e:  # noqa: BLE001
            log("ERROR", a.name, "%s: %s" % (type(e).__name__, e))
            with open(a.out, "w") as f:
                json.dump({"name": a.name, "metrics": {}, "notes": {}, "errors": ["%s: %s" % (type(e).__name__, e)],
                           "mismatch": [], "warnings": []}, f)
        return 0
    elif cmd == "report":
        return report(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "freeports":
        print(free_ports(int(sys.argv[2])))
    elif cmd == "scaleout":
        p = argparse.ArgumentParser(prog="bench_lib.py scaleout")
        p.add_argument("--name", required=True)
        p.add_argument("--base", required=True)
        p.add_argument("--out", required=True)
        p.add_argument("--also", action="append", default=[], help="another node's URL that must know the image")
        p.add_argument("--seed", type=int, default=100)
        p.add_argument("--get-n", type=int, default=100)
        p.add_argument("--list-n", type=int, default=50)
        p.add_argument("--wrk-secs", type=int, default=10)
        a = p.parse_args(sys.argv[2:])
        a.pid = 0
        try:
            ScaleOut(a).run()
        except Exception as e:  # noqa: BLE001
            log("ERROR", a.name, "%s: %s" % (type(e).__name__, e))
            with open(a.out, "w") as f:
                json.dump({"name": a.name, "metrics": {}, "notes": {}, "errors": ["%s: %s" % (type(e).__name__, e)],
                           "mismatch": [], "warnings": []}, f)
        return 0
    elif cmd == "scaleout-report":
        return scale_report(*sys.argv[2:8])
    elif cmd == "s3-bucket":
        s3 = S3Client.from_env()
        for bucket in sys.argv[2:]:
            s3.create_bucket(bucket)
            log("bucket %s ready on %s" % (bucket, os.environ["S3_ENDPOINT"]))
    elif cmd == "s3run":
        p = argparse.ArgumentParser(prog="bench_lib.py s3run")
        p.add_argument("--server", action="append", required=True, metavar="NAME,URL,PID,BUCKET,OUT.json",
                       help="a server to measure (given twice, the two alternate run by run)")
        p.add_argument("--file", required=True)
        p.add_argument("--runs", type=int, default=3)
        p.add_argument("--store-pid", type=int, action="append", default=[],
                       help="an object store process, whose CPU is reported beside the server's")
        a = p.parse_args(sys.argv[2:])
        benches = []
        for spec in a.server:
            name, base, pid, bucket, out = spec.split(",", 4)
            benches.append(S3Bench(argparse.Namespace(name=name, base=base, pid=int(pid), bucket=bucket, out=out,
                                                      file=a.file, runs=a.runs, store_pid=a.store_pid)))
        s3_interleaved(benches, a.runs)
        return 0
    elif cmd == "s3-report":
        return s3_report(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
