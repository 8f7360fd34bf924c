"""Quota under concurrency: 8 writers at once on each write path with 60 MiB images under a 100 MiB project quota.
A monitor samples the bytes stored for the project (every file under blobs/, trash excepted: image data, staged
data and writes in flight) and the sum of active image sizes over the API; neither may ever pass the quota."""
import os
import re
import threading
import time

from lib.glimpse import TENANT

QUOTA = 104857600
SIZE = 60 << 20
WRITERS = 8
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Monitor:
    def __init__(self, g):
        self.g, self.max_disk, self.max_api = g, 0, 0
        self.stop_flag = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def disk_bytes(self):
        """Bytes stored per image, each image counted once: while glance-direct copies staged data into place,
        the staged file and its copy are the same image's data (the largest of its files counts)."""
        per_image, other = {}, 0
        for dirpath, dirnames, filenames in os.walk(os.path.join(self.g.data_dir, "blobs")):
            dirnames[:] = [d for d in dirnames if d != "trash"]
            for f in filenames:
                try:
                    size = os.stat(os.path.join(dirpath, f)).st_size
                except OSError:
                    continue
                m = UUID.search(f)
                if m:
                    per_image[m.group(0)] = max(per_image.get(m.group(0), 0), size)
                else:
                    other += size
        return other + sum(per_image.values())

    def api_bytes(self):
        status, j, _ = self.g.json("GET", "/v2/images?owner=%s&status=active&limit=1000" % TENANT[1], who=TENANT)
        return sum(i.get("size") or 0 for i in (j or {}).get("images", [])) if status == 200 else 0

    def loop(self):
        n = 0
        while not self.stop_flag:
            self.max_disk = max(self.max_disk, self.disk_bytes())
            if n % 4 == 0:
                self.max_api = max(self.max_api, self.api_bytes())
            n += 1
            time.sleep(0.05)

    def stop(self):
        self.stop_flag = True
        self.thread.join()
        self.max_disk = max(self.max_disk, self.disk_bytes())
        self.max_api = max(self.max_api, self.api_bytes())


def writer(g, path, zeros, url, results):
    try:
        image_id = g.create_image("sec-quota-" + path, "raw")
        if path == "put":
            status, _, body = g.upload(image_id, zeros)
            results.append((image_id, status, body.decode("utf-8", "replace")))
            return
        if path == "stage":
            status, _, body = g.upload(image_id, zeros, verb="stage")
            if status != 204:
                results.append((image_id, "stage %d" % status, body.decode("utf-8", "replace")))
                return
            status, _, body = g.import_image(image_id, {"name": "glance-direct"})
        elif path == "webdl":
            status, _, body = g.import_image(image_id, {"name": "web-download", "uri": url})
        else:
            status, _, body = g.add_location(image_id, url)
        if status != 202:
            results.append((image_id, "request %d" % status, body.decode("utf-8", "replace")))
            return
        task = g.wait_task(image_id, timeout=180)
        results.append((image_id, "task " + ((task or {}).get("status") or "none"), (task or {}).get("message") or ""))
    except Exception as e:  # a writer's own failure is a result, not a crash of the suite
        results.append((None, "error", repr(e)))


def clean(g):
    status, j, _ = g.json("GET", "/v2/images?owner=%s&limit=1000" % TENANT[1], who=TENANT)
    for img in (j or {}).get("images", []):
        g.request("DELETE", "/v2/images/" + img["id"], who=TENANT)
    deadline = time.monotonic() + 30
    m = Monitor.__new__(Monitor)
    m.g = g
    while time.monotonic() < deadline and m.disk_bytes() > 0:
        time.sleep(0.2)


def run_quota(g, report, zeros, fs):
    url = fs.url(os.path.basename(zeros))
    for path in ("put", "stage", "webdl", "location"):
        clean(g)
        results = []
        monitor = Monitor(g)
        threads = [threading.Thread(target=writer, args=(g, path, zeros, url, results)) for _ in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        monitor.stop()
        active = [r for r in results if r[0] and (g.image(r[0]) or {}).get("status") == "active"]
        ok_quota = monitor.max_disk <= QUOTA and monitor.max_api <= QUOTA and len(active) <= 1
        report.case("quota", "quota %s x%d: stored total never over the quota" % (path, WRITERS), ok_quota,
                    "%d active, max stored %.1f MiB, max active sum %.1f MiB" % (
                        len(active), monitor.max_disk / 2**20, monitor.max_api / 2**20))
        report.case("quota", "quota %s x%d: one writer fits and wins" % (path, WRITERS), len(active) == 1,
                    "%d active" % len(active))
        refused = [r for r in results if not (r[0] and r in active)]
        if path == "put":
            bad = [r for r in refused if r[1] != 413 or "will exceed the limit" not in r[2]]
            report.case("quota", "quota put: the others answer 413 'will exceed the limit'", not bad and len(refused) == WRITERS - 1,
                        "%d refused, %d not as expected" % (len(refused), len(bad)), "; ".join("%s %s" % (r[1], r[2][:120]) for r in bad[:3]))
        else:
            bad = [r for r in refused if r[1] not in ("task failure", "stage 413")]
            report.case("quota", "quota %s: the others fail (task failure)" % path, not bad and len(refused) == WRITERS - 1,
                        "%d refused, %d not as expected" % (len(refused), len(bad)), "; ".join("%s %s" % (r[1], r[2][:120]) for r in bad[:3]))
        if not g.alive():
            report.case("quota", "server alive", False, "process ended")
            return
    clean(g)
