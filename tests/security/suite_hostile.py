"""Hostile disk images on every write path (PUT /file, stage + glance-direct, web-download, locations), truncated
headers, boot + snapshot of everything accepted, and the final search for planted bytes in everything
downloadable and everything under the data directory."""
import os
import shutil

from lib.glimpse import ADMIN, TENANT, VICTIM
from lib.scan import MarkerScanner, scan_file, walk

SAFETY = "Image failed safety checks"
PIB = 1125899906842624

# (file, declared disk_format, expected): "safety", ("mismatch", stream format) or ("accept", virtual_size or
# "filesize"). Glance 33's answers for these are in glance-reference.md.
CASES = [
    ("a-backing-secret.qcow2", "qcow2", "safety"),
    ("a-backing-secret.qcow2", "raw", "safety"),
    ("a-backing-passwd.qcow2", "qcow2", "safety"),
    ("b-datafile-secret.qcow2", "qcow2", "safety"),
    ("b-datafile-secret.qcow2", "raw", "safety"),
    ("b-datafile-passwd.qcow2", "qcow2", "safety"),
    ("c-vmdk-secret.vmdk", "vmdk", "safety"),
    ("c-vmdk-secret.vmdk", "raw", "safety"),
    ("c-vmdk-rel-identity.vmdk", "vmdk", "safety"),
    ("c-vmdk-rel-other-project.vmdk", "vmdk", "safety"),
    ("plain.qcow2", "raw", ("accept", "filesize")),
    ("plain.raw", "qcow2", ("mismatch", "raw")),
    ("plain.qcow2", "vmdk", ("mismatch", "qcow2")),
    ("c-vmdk-secret.vmdk", "qcow2", ("mismatch", "vmdk")),
    ("plain.vmdk", "qcow2", ("mismatch", "vmdk")),
    ("f-huge-1P.qcow2", "qcow2", ("accept", PIB)),
    ("f-vmdk-10T.vmdk", "vmdk", "safety"),
    ("plain.qcow2", "qcow2", ("accept", 1048576)),
    ("plain.raw", "raw", ("accept", 1048576)),
    ("plain.vmdk", "vmdk", ("accept", 1048576)),
]

PATHS = ("put", "stage", "webdl", "location")


def expected_message(expected, declared):
    if expected == "safety":
        return SAFETY
    return "Image disk_format %s does not match stream data %s" % (declared, expected[1])


def short(message):
    if SAFETY in message:
        return "safety checks"
    if "does not match stream data" in message:
        return "mismatch (stream %s)" % message.rsplit("stream data", 1)[1].strip().split()[0].strip(".\"'")
    if "will exceed the limit" in message:
        return "over quota"
    return (message or "no message").replace("\n", " ")[:80]


class HostileRun:
    def __init__(self, g, report, files, files_server, markers):
        self.g, self.report, self.files, self.fs, self.markers = g, report, files, files_server, markers
        self.accepted = []   # (case name, image id)
        self.refused = []    # image ids that must hold no data

    def run_case(self, path, name, declared, expected, file_path):
        case = "%s %s as %s" % (path, name, declared)
        g = self.g
        try:
            image_id = g.create_image("sec-" + case.replace(" ", "-"), declared)
        except RuntimeError as e:
            self.report.case("hostile", case, False, "create failed", str(e))
            return
        detail = ""
        if path == "put":
            status, _, body = g.upload(image_id, file_path)
            message = body.decode("utf-8", "replace")
            verdict_head = "%d %s" % (status, short(message) if status >= 400 else "")
            ok_request = status == 204 if expected[0] == "accept" else (
                status == 415 and expected_message(expected, declared) in message)
            task = None
        else:
            if path == "stage":
                status, _, body = g.upload(image_id, file_path, verb="stage")
                if status != 204:
                    self.report.case("hostile", case, False, "stage %d" % status, body[:200].decode("utf-8", "replace"))
                    self.refused.append(image_id)
                    return
                status, _, body = g.import_image(image_id, {"name": "glance-direct"})
            elif path == "webdl":
                status, _, body = g.import_image(image_id, {"name": "web-download", "uri": self.fs.url(name)})
            else:
                status, _, body = g.add_location(image_id, self.fs.url(name))
            if status != 202:
                self.report.case("hostile", case, False, "request %d" % status, body[:200].decode("utf-8", "replace"))
                self.refused.append(image_id)
                return
            task = g.wait_task(image_id)
            tstatus = task.get("status") if task else "no task end"
            message = (task or {}).get("message") or ""
            verdict_head = "202, task %s%s" % (tstatus, ": " + short(message) if tstatus == "failure" else "")
            ok_request = tstatus == "success" if expected[0] == "accept" else (
                tstatus == "failure" and expected_message(expected, declared) in message)
            if not ok_request:
                detail = "task message: %r" % message[:200]

        img = g.image(image_id) or {}
        state = "%s vsize=%s" % (img.get("status"), img.get("virtual_size"))
        if path in ("stage", "webdl") and expected[0] != "accept":
            state += " failed=%s" % (img.get("os_glance_failed_import"),)
        verdict = "%s; %s" % (verdict_head.strip(), state)

        if expected[0] == "accept":
            want_vsize = os.path.getsize(file_path) if expected[1] == "filesize" else expected[1]
            ok_state = img.get("status") == "active" and img.get("virtual_size") == want_vsize
            if not ok_state:
                detail += " expected active vsize=%s" % want_vsize
            self.accepted.append((case, image_id))
        else:
            ok_state = img.get("status") != "active"
            if path != "stage":
                # A failed glance-direct import keeps the staged data (and its size, which quota counts) so the
                # import can be retried; the image data itself is never written.
                ok_state = ok_state and img.get("size") in (None, 0)
            if path == "put":
                ok_state = ok_state and img.get("status") == "queued"
            if path == "webdl":
                ok_state = ok_state and img.get("status") == "queued"
            if path in ("stage", "webdl"):
                ok_state = ok_state and img.get("os_glance_failed_import") == "local"
            if not ok_state:
                detail += " expected not active" + (", no size" if path != "stage" else "") + (
                    ", failed=local" if path in ("stage", "webdl") else "")
            # Nothing refused is downloadable.
            dstatus, _, _ = g.request("GET", "/v2/images/%s/file" % image_id, who=TENANT)
            if dstatus == 200:
                ok_state = False
                detail += " data of a refused image downloads (200)"
            self.refused.append(image_id)
        self.report.case("hostile", case, ok_request and ok_state, verdict, detail.strip())

    def run_matrix(self):
        for path in PATHS:
            for name, declared, expected in CASES:
                self.run_case(path, name, declared, expected, self.files[name])
                if not self.g.alive():
                    self.report.case("hostile", "server alive after %s %s" % (path, name), False, "process ended")
                    return False
        return True

    def run_truncated(self, truncated):
        """Truncated headers: the answer is Glance's (204, or 415 with one of its messages, among them "Incomplete
        file cannot be safety checked"), never a crash."""
        for name, path, disk_format in truncated:
            case = "put %s as %s" % (name, disk_format)
            image_id = self.g.create_image("sec-" + name, disk_format)
            status, _, body = self.g.upload(image_id, path)
            message = body.decode("utf-8", "replace")
            img = self.g.image(image_id) or {}
            ok = status == 204 and img.get("status") == "active" or (
                status == 415 and (SAFETY in message or "does not match stream data" in message
                                   or "Incomplete file cannot be safety checked" in message)
                and img.get("status") == "queued")
            alive = self.g.alive()
            verdict = "%d %s; %s" % (status, short(message) if status >= 400 else "", img.get("status"))
            self.report.case("truncated", case, ok and alive, verdict, "" if alive else "server died")
            if status == 204:
                self.accepted.append((case, image_id))
            if not alive:
                return False
        return True


def boot_and_snapshot(g, report, case, image_id, markers, expect_boot=True):
    """Boots the image (m1.tiny), stops the server, snapshots it, downloads the snapshot and searches it.
    expect_boot: True (must boot), False (must be refused), None (either; truncated data may not boot)."""
    refused_ok = expect_boot is not True
    status, j, raw = g.compute("POST", "/servers", {"server": {
        "name": "sec-boot", "imageRef": image_id, "flavorRef": "1", "networks": "none"}})
    if status != 202:
        report.case("boot", case, refused_ok, "boot refused %d" % status, raw[:160].decode("utf-8", "replace"))
        return
    server_id = j["server"]["id"]
    try:
        state = g.wait_server(server_id, ("ACTIVE",))
        if state != "ACTIVE":
            report.case("boot", case, refused_ok, "server %s" % state)
            return
        g.compute("POST", "/servers/%s/action" % server_id, {"os-stop": None})
        state = g.wait_server(server_id, ("SHUTOFF",))
        status, j, raw = g.compute("POST", "/servers/%s/action" % server_id, {"createImage": {"name": "sec-snap"}})
        if status != 202 or not j or "image_id" not in j:
            report.case("boot", case, False, "createImage %d" % status, raw[:160].decode("utf-8", "replace"))
            return
        snap = g.wait_image_status(j["image_id"], ("active", "killed", "deleted"))
        scanner = MarkerScanner(markers)
        dstatus, _, _ = g.request("GET", "/v2/images/%s/file" % j["image_id"], who=TENANT, sink=scanner.feed)
        found = sorted(scanner.found)
        ok = expect_boot is not False and dstatus == 200 and (snap or {}).get("status") == "active" and not found
        report.case("boot", case, ok, "booted, snapshot %s %d bytes%s" % (
            (snap or {}).get("status"), scanner.size, "; CONTAINS " + ",".join(found) if found else ", clean"))
    finally:
        g.compute("DELETE", "/servers/" + server_id)


def tampered_store_boots(g, report, accepted, files, markers):
    """Images stored before inspection existed: overwrite an accepted image's stored file with a hostile one
    (server stopped), restart, boot: the compute side must refuse it on its own."""
    targets = {"put plain.qcow2 as qcow2": "b-datafile-secret.qcow2", "put plain.vmdk as vmdk": "c-vmdk-secret.vmdk"}
    chosen = [(case, image_id, targets[case]) for case, image_id in accepted if case in targets]
    g.stop()
    swapped = []
    for case, image_id, hostile in chosen:
        obj = os.path.join(g.data_dir, "blobs", "objects", image_id)
        if os.path.isfile(obj):
            shutil.copyfile(files[hostile], obj)
            swapped.append((case, image_id, hostile))
        else:
            report.case("boot", "stored %s swapped for %s" % (case, hostile), None, "no file at blobs/objects/<id>")
    g.start()
    for case, image_id, hostile in swapped:
        boot_and_snapshot(g, report, "stored as %s, data swapped to %s" % (case.split(" ", 1)[1], hostile),
                          image_id, markers, expect_boot=False)
    return {image_id for _, image_id, _ in swapped}


def search_everything(g, report, markers, file_markers, victim_id, planted, tampered=frozenset()):
    """Every downloadable byte and every file under the data dir, for every planted marker. `tampered` images
    (files swapped behind the server's back, so their recorded size is wrong) are not downloaded."""
    leaks, stalled = [], []
    for img in g.all_images():
        if img["id"] in tampered or img.get("status") not in ("active", "deactivated") and not img.get("size"):
            continue
        scanner = MarkerScanner(markers)
        try:
            g.request("GET", "/v2/images/%s/file" % img["id"], who=ADMIN, sink=scanner.feed, timeout=30)
        except OSError as e:
            stalled.append("%s (%s, %s): %r" % (img["id"], img.get("name"), img.get("status"), e))
        found = scanner.found - ({"other-project"} if img["id"] == victim_id else set())
        if found:
            leaks.append("image %s (%s): %s" % (img["id"], img.get("name"), ",".join(sorted(found))))
    report.case("leaks", "downloadable image data holds no planted bytes", not leaks,
                "%d leaks" % len(leaks), "; ".join(leaks[:5]))
    report.case("leaks", "every image download answers within 30 s", not stalled,
                "%d stalled" % len(stalled), "; ".join(stalled[:3]))
    leaks = []
    for path, is_dir in walk(g.data_dir):
        if is_dir or path in planted or not os.path.isfile(path):
            continue
        found = scan_file(path, file_markers)
        if victim_id in os.path.basename(path):
            found -= {"other-project"}
        if found:
            leaks.append("%s: %s" % (os.path.relpath(path, g.data_dir), ",".join(sorted(found))))
    report.case("leaks", "files under the data dir hold no planted bytes", not leaks,
                "%d files" % len(leaks), "; ".join(leaks[:5]))
