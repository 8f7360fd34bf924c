"""Outbound fetches: the SSRF matrix on web-download and locations (refused at the request, nothing connects), and
redirects from an allowed loopback server to refused targets (the task fails, the target sees nothing).

No case may ever make a connection to anything but loopback. The runner puts the whole suite in a network
namespace of its own when it can (only `lo` exists there); without one, the cases naming non-loopback addresses
are skipped rather than risked."""
from lib.glimpse import TENANT
from lib.listeners import RecordingListener

PASSWORD = "s3cret-Pa55word-in-url"


def ssrf_urls(port, isolated):
    """(label, url, loopback_only): loopback_only False marks a URL naming a non-loopback address."""
    p = port
    return [
        ("127.0.0.1", "http://127.0.0.1:%d/x" % p, True),
        ("localhost", "http://localhost:%d/x" % p, True),
        ("127.1", "http://127.1:%d/x" % p, True),
        ("2130706433", "http://2130706433:%d/x" % p, True),
        ("0x7f000001", "http://0x7f000001:%d/x" % p, True),
        ("0177.0.0.1", "http://0177.0.0.1:%d/x" % p, True),
        ("[::1]", "http://[::1]:%d/x" % p, True),
        ("[::ffff:127.0.0.1]", "http://[::ffff:127.0.0.1]:%d/x" % p, True),
        ("0.0.0.0", "http://0.0.0.0:%d/x" % p, True),
        ("169.254.169.254", "http://169.254.169.254:%d/latest/meta-data/" % p, False),
        ("10.0.0.1", "http://10.0.0.1:%d/x" % p, False),
        ("192.168.0.1", "http://192.168.0.1:%d/x" % p, False),
        ("[fe80::1]", "http://[fe80::1]:%d/x" % p, False),
        ("file:///etc/passwd", "file:///etc/passwd", True),
        ("gopher://", "gopher://127.0.0.1:%d/_GET%%20/" % p, True),
        ("user:pass@", "http://intruder:%s@127.0.0.1:%d/x" % (PASSWORD, p), True),
    ]


def listeners_on(port, isolated):
    hosts = ["0.0.0.0", "::"] if isolated else ["127.0.0.1", "::1"]
    out = []
    for h in hosts:
        try:
            out.append(RecordingListener(h, port))
        except OSError:
            pass
    return out


def run_ssrf(g, report, port, listeners, isolated):
    """`g` runs WITHOUT --import-allowed-hosts (and with --import-allowed-ports PORT, so the port is never the
    reason for a refusal)."""
    for label, url, loopback_only in ssrf_urls(port, isolated):
        for path in ("webdl", "location"):
            case = "ssrf %s %s" % (path, label)
            if not loopback_only and not isolated:
                report.case("ssrf", case, None, "skipped", "no network namespace: would risk a real connection")
                continue
            image_id = g.create_image("sec-ssrf", "raw")
            if path == "webdl":
                status, _, body = g.import_image(image_id, {"name": "web-download", "uri": url})
            else:
                status, _, body = g.add_location(image_id, url)
            img = g.image(image_id) or {}
            ok = status == 400 and img.get("status") == "queued"
            report.case("ssrf", case, ok, "%d; %s" % (status, img.get("status")),
                        "" if ok else body[:160].decode("utf-8", "replace"))
    seen = [c for l in listeners for c in l.connections]
    report.case("ssrf", "ssrf loopback listener saw no connection", not seen, "%d connections" % len(seen), str(seen[:5]))
    log = g.log_text()
    report.case("ssrf", "ssrf password from a user:pass@ URL is not logged", PASSWORD not in log,
                "absent" if PASSWORD not in log else "LOGGED")


def run_redirects(g, report, fs, isolated):
    """`g` runs with --import-allowed-hosts 127.0.0.1 --import-allowed-ports <fs.port>: the file server itself is
    allowed, each redirect target is not."""
    other_port = RecordingListener("127.0.0.1")
    targets = [("another port", "http://127.0.0.1:%d/plain.raw" % other_port.port, other_port, True)]
    try:
        alias = RecordingListener("127.0.0.2", fs.port)
        targets.append(("127.0.0.2", "http://127.0.0.2:%d/plain.raw" % fs.port, alias, True))
    except OSError:
        report.case("redirect", "redirect to 127.0.0.2", None, "skipped", "cannot listen on 127.0.0.2")
    targets.append(("169.254.169.254", "http://169.254.169.254:%d/latest/meta-data/" % fs.port, None, False))
    import urllib.parse
    for label, target, listener, loopback_only in targets:
        for path in ("webdl", "location"):
            case = "redirect %s to %s" % (path, label)
            if not loopback_only and not isolated:
                report.case("redirect", case, None, "skipped", "no network namespace: would risk a real connection")
                continue
            url = "http://127.0.0.1:%d/redirect?to=%s" % (fs.port, urllib.parse.quote(target, safe=""))
            image_id = g.create_image("sec-redirect", "raw")
            if path == "webdl":
                status, _, body = g.import_image(image_id, {"name": "web-download", "uri": url})
            else:
                status, _, body = g.add_location(image_id, url)
            if status != 202:
                report.case("redirect", case, False, "request %d" % status, body[:160].decode("utf-8", "replace"))
                continue
            # A refusal decided before connecting ends the task at once; 30 s is ample.
            task = g.wait_task(image_id, timeout=30)
            img = g.image(image_id) or {}
            ok = (task or {}).get("status") == "failure" and img.get("status") != "active" and not img.get("size")
            report.case("redirect", case, ok, "202, task %s; %s" % ((task or {}).get("status"), img.get("status")),
                        "" if ok else "task message: %r" % ((task or {}).get("message") or "")[:160])
    seen = [c for _, _, l, _ in targets if l for c in l.connections]
    report.case("redirect", "redirect targets saw no connection", not seen, "%d connections" % len(seen), str(seen[:5]))
    for _, _, l, _ in targets:
        if l:
            l.close()
