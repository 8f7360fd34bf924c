#!/usr/bin/env python3
"""The security suite's driver: builds the hostile images, starts three Glimpse servers (hostile data + boot,
SSRF without allowed hosts, quota), runs every section, prints each case's result and the closing table
case -> Glimpse -> real Glance 33. Exit status 1 on any failed case. Started by `run` beside it."""
import argparse
import os
import secrets
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from lib import images  # noqa: E402
from lib.glimpse import VICTIM, Glimpse, free_port  # noqa: E402
from lib.listeners import FileServer  # noqa: E402
from lib.report import Report  # noqa: E402
import suite_files  # noqa: E402
import suite_hostile  # noqa: E402
import suite_network  # noqa: E402
import suite_quota  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--glimpse", required=True)
    ap.add_argument("--isolated", action="store_true", help="running in a network namespace of our own")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--only", default="hostile,network,quota", help="comma-separated sections")
    args = ap.parse_args()
    only = set(args.only.split(","))
    report = Report(os.path.join(HERE, "glance-reference.md"))
    work = tempfile.mkdtemp(prefix="glimpse-security.")
    servers, closers = [], []
    try:
        run(args, only, report, work, servers, closers)
    except Exception as e:
        report.case("suite", "suite ran to the end", False, "aborted", repr(e))
    finally:
        for g in servers:
            g.stop()
        for c in closers:
            c()
        if args.keep:
            print("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    report.print_table()
    return 1 if report.failures() else 0


class Context:
    """What every section shares: the options, the report, the work dir, the images and the file server."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def run(args, only, report, work, servers, closers):
    files_dir = os.path.join(work, "files")
    planted_dir = os.path.join(work, "planted")
    os.makedirs(files_dir)
    os.makedirs(planted_dir)
    secret = b"GLIMPSE-PLANTED-HOST-SECRET-" + secrets.token_hex(16).encode()
    other = b"GLIMPSE-OTHER-PROJECT-PRIVATE-" + secrets.token_hex(16).encode()
    secret_path = os.path.join(planted_dir, "host-secret.txt")
    with open(secret_path, "wb") as f:
        f.write((secret + b"\n") * 4096)
    passwd_line = open("/etc/passwd", "rb").readline().strip()
    markers = {"host-secret": secret, "other-project": other, "etc-passwd": passwd_line,
               "password-hash": b"$pbkdf2-sha256$"}
    file_markers = {k: v for k, v in markers.items() if k != "password-hash"}

    files = images.build_static(files_dir, secret_path)
    zeros = os.path.join(files_dir, "z60.raw")
    with open(zeros, "wb") as f:
        f.truncate(suite_quota.SIZE)
    fs = FileServer(files_dir)
    closers.append(fs.close)

    sections = [("hostile", hostile_section), ("network", network_section), ("quota", quota_section)]
    for name, section in sections:
        if name not in only:
            continue
        try:
            section(Context(args=args, report=report, work=work, servers=servers, files=files, files_dir=files_dir,
                            planted_dir=planted_dir, fs=fs, markers=markers, file_markers=file_markers,
                            other=other, zeros=zeros))
        except Exception as e:  # a section that cannot go on is a failure; the next section still runs
            report.case(name, "%s section ran to the end" % name, False, "aborted", repr(e))
        for g in servers:
            g.stop()


def hostile_section(c):
    args, report, work, servers, files, files_dir, planted_dir, fs, markers, file_markers, other = (
        c.args, c.report, c.work, c.servers, c.files, c.files_dir, c.planted_dir, c.fs, c.markers, c.file_markers,
        c.other)
    data_a = os.path.join(work, "data-hostile")
    os.makedirs(data_a)
    os.chmod(data_a, 0o755)  # an existing, too-open data directory: tightened at start
    g = Glimpse(args.glimpse, data_a, os.path.join(work, "hostile.log"),
                ["--import-allowed-hosts", "127.0.0.1", "--import-allowed-ports", str(fs.port)])
    servers.append(g)
    g.start()
    mode = os.stat(data_a).st_mode & 0o777
    report.case("modes", "modes: existing 0755 data dir tightened at start", mode == 0o700, "%o" % mode)

    victim_file = os.path.join(planted_dir, "victim.raw")
    with open(victim_file, "wb") as f:
        f.write((other + b"\n") * 16384)
    victim_id = g.create_image("victim-private", "raw", who=VICTIM, visibility="private")
    status, _, body = g.upload(victim_id, victim_file, who=VICTIM)
    if status != 204:
        raise RuntimeError("victim upload: %s %s" % (status, body[:200]))
    files["c-vmdk-rel-other-project.vmdk"] = images.build_other_project_extent(files_dir, victim_id)

    h = suite_hostile.HostileRun(g, report, files, fs, markers)
    if h.run_matrix() and h.run_truncated(images.build_truncated(files_dir)):
        for case, image_id in h.accepted:
            expect = False if "1P" in case else None if case.startswith("put t-") else True
            suite_hostile.boot_and_snapshot(g, report, case, image_id, markers, expect_boot=expect)
        tampered = suite_hostile.tampered_store_boots(g, report, h.accepted, files, markers)
        suite_network.run_redirects(g, report, fs, args.isolated)
        suite_hostile.search_everything(g, report, markers, file_markers, victim_id, {victim_file}, tampered)
        suite_files.check_modes(report, data_a, "while serving")
    g.stop()
    suite_files.check_modes(report, data_a, "after stop")


def network_section(c):
    args, report, work, servers = c.args, c.report, c.work, c.servers
    port = free_port()
    listeners = suite_network.listeners_on(port, args.isolated)
    g = Glimpse(args.glimpse, os.path.join(work, "data-ssrf"), os.path.join(work, "ssrf.log"),
                ["--import-allowed-ports", str(port)])
    servers.append(g)
    g.start()
    try:
        suite_network.run_ssrf(g, report, port, listeners, args.isolated)
    finally:
        g.stop()
        for listener in listeners:
            listener.close()


def quota_section(c):
    args, report, work, servers, fs, zeros = c.args, c.report, c.work, c.servers, c.fs, c.zeros
    g = Glimpse(args.glimpse, os.path.join(work, "data-quota"), os.path.join(work, "quota.log"),
                ["--project-quota", str(suite_quota.QUOTA), "--import-allowed-hosts", "127.0.0.1",
                 "--import-allowed-ports", str(fs.port)])
    servers.append(g)
    g.start()
    suite_quota.run_quota(g, report, zeros, fs)
    g.stop()


if __name__ == "__main__":
    sys.exit(main())
