"""One `glimpse serve` process for the security suite, and the API calls a tenant makes against it.

Runs with `--auth none`: the caller's identity is the X-User-Id / X-Project-Id / X-Roles headers, as behind
keystonemiddleware, so several projects can act in one run without a login.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import time

TENANT = ("attacker-user", "attacker-project", "member,reader")
VICTIM = ("victim-user", "victim-project", "member,reader")
ADMIN = ("admin-user", "admin-project", "admin,member,reader")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Glimpse:
    def __init__(self, binary, data_dir, log_path, extra_args=()):
        self.binary, self.data_dir, self.log_path = binary, data_dir, log_path
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None

    def start(self, timeout=60):
        self.port = free_port()
        log = open(self.log_path, "ab")
        args = [self.binary, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", self.data_dir, "--auth", "none",
                # The overlay compute driver: the suite checks what snapshots of hostile images hold, and booting
                # each under emulation (a 60 s clean-stop wait for images that never boot) adds nothing to that.
                "--hypervisor", "overlay"] + self.extra_args
        # umask 022 as a typical login shell has: Glimpse must tighten its own files regardless.
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=lambda: os.umask(0o022))
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("glimpse exited with %s; log %s" % (self.proc.returncode, self.log_path))
            try:
                if self.request("GET", "/versions", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("glimpse did not answer /versions within %d s" % timeout)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    # ------------------------------------------------------------------ HTTP

    def request(self, method, path, body=None, who=ADMIN, headers=None, timeout=120, sink=None):
        """One call. `body`: dict (sent as JSON), bytes, or an open binary file. Returns (status, headers, bytes);
        with `sink` (a callable taking chunks) the body is streamed to it instead and the bytes are b""."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"X-User-Id": who[0], "X-Project-Id": who[1], "X-Roles": who[2]}
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        elif body is not None:
            h["Content-Type"] = "application/octet-stream"
            if hasattr(body, "fileno"):
                h["Content-Length"] = str(os.fstat(body.fileno()).st_size)
        h.update(headers or {})
        try:
            try:
                conn.request(method, path, body=body, headers=h)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered early (413, 415) and closed: its answer may still be readable
            try:
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                return 0, {}, ("no answer: %r" % e).encode()
            if sink is None:
                return resp.status, dict(resp.getheaders()), resp.read()
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                sink(chunk)
            return resp.status, dict(resp.getheaders()), b""
        finally:
            conn.close()

    def json(self, method, path, body=None, who=ADMIN, headers=None):
        status, _, data = self.request(method, path, body, who, headers)
        try:
            return status, json.loads(data) if data else None, data
        except ValueError:
            return status, None, data

    # ------------------------------------------------------------------ images

    def create_image(self, name, disk_format="raw", who=TENANT, **extra):
        body = {"name": name, "disk_format": disk_format, "container_format": "bare"}
        body.update(extra)
        status, j, raw = self.json("POST", "/v2/images", body, who)
        if status != 201:
            raise RuntimeError("create image %s: %s %s" % (name, status, raw[:300]))
        return j["id"]

    def image(self, image_id, who=ADMIN):
        status, j, _ = self.json("GET", "/v2/images/" + image_id, who=who)
        return j if status == 200 else None

    def upload(self, image_id, path, who=TENANT, verb="file"):
        with open(path, "rb") as f:
            return self.request("PUT", "/v2/images/%s/%s" % (image_id, verb), f, who)

    def import_image(self, image_id, method, who=TENANT):
        return self.request("POST", "/v2/images/%s/import" % image_id, {"method": method}, who)

    def add_location(self, image_id, url, who=TENANT):
        return self.request("POST", "/v2/images/%s/locations" % image_id, {"url": url}, who)

    def wait_task(self, image_id, who=ADMIN, timeout=90):
        """The image's newest task once it is `success` or `failure` (None if it never gets there)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, j, _ = self.json("GET", "/v2/images/%s/tasks" % image_id, who=who)
            tasks = (j or {}).get("tasks") or [] if status == 200 else []
            done = [t for t in tasks if t.get("status") in ("success", "failure")]
            if tasks and len(done) == len(tasks):
                return sorted(tasks, key=lambda t: t.get("created_at") or "")[-1]
            time.sleep(0.1)
        return None

    def all_images(self):
        """Every image of every project, as an admin sees them (list pages followed)."""
        images, path = [], "/v2/images?limit=200"
        while path:
            status, j, raw = self.json("GET", path)
            if status != 200:
                raise RuntimeError("list images: %s %s" % (status, raw[:200]))
            images += j["images"]
            path = j.get("next")
        return images

    # ------------------------------------------------------------------ compute

    COMPUTE_HEADERS = {"OpenStack-API-Version": "compute 2.47", "X-OpenStack-Nova-API-Version": "2.47"}

    def compute(self, method, path, body=None, who=TENANT):
        return self.json(method, "/compute/v2.1" + path, body, who, self.COMPUTE_HEADERS)

    def wait_server(self, server_id, statuses, who=TENANT, timeout=120):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            status, j, _ = self.compute("GET", "/servers/" + server_id, who=who)
            last = (j or {}).get("server", {}).get("status") if status == 200 else "HTTP %s" % status
            if last in statuses or last == "ERROR":
                return last
            time.sleep(0.2)
        return last

    def wait_image_status(self, image_id, statuses, timeout=120):
        deadline = time.monotonic() + timeout
        img = None
        while time.monotonic() < deadline:
            img = self.image(image_id)
            if img is None or img.get("status") in statuses:
                return img
            time.sleep(0.2)
        return img
