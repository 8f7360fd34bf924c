#!/usr/bin/env python3
"""report.py -- turn a Tempest run into counts, failures and the list of passed test ids.

    report.py summarize RUN.subunit LISTED.txt OUTDIR
        RUN.subunit  the subunit v2 stream of the run (`stestr last --subunit`)
        LISTED.txt   the test ids the regex selected (`tempest run --list-tests`), one a line
        OUTDIR       gets tests.tsv (id, status, seconds, reason), passed.txt and summary.txt;
                     summary.txt is also printed

    report.py ratchet MUST_PASS.txt PASSED.txt [SELECTED.txt]
        exit 1 and list the ids of MUST_PASS.txt that are not in PASSED.txt; with SELECTED.txt (a run
        with a --regex of its own) only the ids it lists are checked. An empty MUST_PASS.txt passes, loudly.

    report.py grow MUST_PASS.txt PASSED.txt
        add to MUST_PASS.txt the ids of PASSED.txt it does not have yet (never removes any)

Counting: every test method the regex selected counts once. A class whose setUpClass was skipped
(or failed) counts each of its methods as skipped (or failed) with the class's reason; a failing
tearDownClass is reported as a failure of the class but does not turn passed methods into failures.
Test ids are written without Tempest's "[id-...,tags]" suffix.

Needs python-subunit and testtools (both come with tempest).
"""
import collections
import datetime
import os
import re
import sys

ATTRS = re.compile(r"\[.*\]$")
CLASS_FIXTURE = re.compile(r"^(setUpClass|tearDownClass) \((.*)\)$")
EXC_LINE = re.compile(
    r"^([\w.]+\.)?\w*(Error|Exception|Failure|Mismatch|NotFound|Forbidden|Unauthorized|BadRequest|Conflict|"
    r"Timeout\w*|ServerFault|UnexpectedResponseCode|InvalidHTTPResponseBody|Gone|OverLimit)\b")


def bare(test_id):
    return ATTRS.sub("", test_id)


def one_line(details, status):
    """The one-line reason of a failed or skipped test, from its subunit details."""
    text = ""
    for key in ("traceback", "reason"):
        if key in details:
            try:
                text = details[key].as_text()
            except Exception:  # noqa: BLE001 -- undecodable details: no reason
                text = ""
            break
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    if not lines:
        return ""
    if status == "skip":
        return lines[0][:300]
    exc = next((l for l in reversed(lines) if EXC_LINE.match(l) or l.startswith(("AssertionError", "KeyError"))),
               lines[-1])
    # tempest's exceptions put the server's answer on a "Details: ..." line
    det = next((l for l in lines if l.startswith("Details:")), "")
    reason = exc + (" | " + det if det and det not in exc else "")
    # "<bound method ImagesClient.show_image of <...ImagesClient object at 0x..>>" -> "ImagesClient.show_image"
    reason = re.sub(r"<bound method ([\w.]+) of <[^>]*>>", r"\1", reason)
    reason = re.sub(r"\s+", " ", reason)
    return reason if len(reason) <= 300 else reason[:297] + "..."


def read_stream(path):
    import subunit
    import testtools

    tests = []
    result = testtools.StreamToDict(tests.append)
    result.startTestRun()
    with open(path, "rb") as f:
        subunit.ByteStreamToStreamResult(f, non_subunit_name="stdout").run(result)
    result.stopTestRun()
    rows = []
    for t in tests:
        status = t["status"]
        st = {"success": "pass", "xfail": "pass", "skip": "skip", "fail": "fail", "uxsuccess": "fail"}.get(status)
        if st is None:
            continue  # 'exists' / 'inprogress': the run died under this test
        stamps = [x for x in t["timestamps"] if x]
        secs = (stamps[-1] - stamps[0]).total_seconds() if len(stamps) == 2 else 0.0
        rows.append((bare(t["id"]), st, secs, one_line(t["details"], st) if st != "pass" else ""))
    return rows


def summarize(stream, listed_path, outdir):
    rows = read_stream(stream)
    listed = [bare(l.strip()) for l in open(listed_path) if l.strip()]
    outcome = {}       # test id -> (status, seconds, reason)
    class_level = {}   # class -> (status, reason, fixture)
    for tid, st, secs, reason in rows:
        m = CLASS_FIXTURE.match(tid)
        if m:
            if m.group(1) == "setUpClass" or st == "fail":
                class_level[m.group(2)] = (st, reason, m.group(1))
        else:
            outcome[tid] = (st, secs, reason)
    extra_failures = {}
    for cls, (st, reason, fixture) in class_level.items():
        methods = [t for t in listed if t.rsplit(".", 1)[0] == cls]
        for t in methods:
            if fixture == "setUpClass" or t not in outcome:
                outcome[t] = (st, 0.0, f"[{fixture}] {reason}")
        if fixture == "tearDownClass" and st == "fail":
            extra_failures[f"{cls} (tearDownClass)"] = reason
    for t in listed:
        outcome.setdefault(t, ("notrun", 0.0, "not run (the run stopped before it, or it was not reported)"))

    total = collections.Counter(v[0] for v in outcome.values())
    with open(f"{outdir}/tests.tsv", "w") as f:
        f.write("test\tstatus\tseconds\treason\n")
        for t in sorted(outcome):
            st, secs, reason = outcome[t]
            f.write(f"{t}\t{st}\t{secs:.2f}\t{reason}\n")
    passed = sorted(t for t, v in outcome.items() if v[0] == "pass")
    with open(f"{outdir}/passed.txt", "w") as f:
        f.write("".join(t + "\n" for t in passed))

    out = []
    out.append(f"tests selected: {len(listed)}   passed: {total['pass']}   failed: {total['fail']}   "
               f"skipped: {total['skip']}" + (f"   not run: {total['notrun']}" if total["notrun"] else ""))
    fails = sorted((t, v[2]) for t, v in outcome.items() if v[0] in ("fail", "notrun"))
    fails += sorted(extra_failures.items())
    if fails:
        out.append("")
        out.append(f"FAILURES ({len(fails)}):")
        for t, reason in fails:
            out.append(f"  {t}")
            out.append(f"      {reason or '(no reason recorded)'}")
    skips = collections.Counter(v[2] for v in outcome.values() if v[0] == "skip")
    if skips:
        out.append("")
        out.append("SKIP REASONS (tests):")
        for reason, n in skips.most_common():
            out.append(f"  {n:3d}  {reason}")
    per_class = collections.defaultdict(collections.Counter)
    for t, v in outcome.items():
        per_class[t.rsplit(".", 1)[0]][v[0]] += 1
    out.append("")
    out.append("PER CLASS (passed/failed/skipped):")
    for cls in sorted(per_class):
        k = per_class[cls]
        short = cls.replace("tempest.api.image.v2.", "")
        out.append(f"  {short}: {k['pass']}/{k['fail'] + k['notrun']}/{k['skip']}")
    text = "\n".join(out) + "\n"
    with open(f"{outdir}/summary.txt", "w") as f:
        f.write(text)
    with open(f"{outdir}/counts", "w") as f:
        f.write(f"selected={len(listed)} passed={total['pass']} failed={total['fail'] + total['notrun']} "
                f"skipped={total['skip']}\n")
    sys.stdout.write(text)
    return 0


def read_ids(path):
    ids = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            ids.append(bare(line))
    return ids


def ratchet(must_pass, passed_path, selected_path=None):
    must = read_ids(must_pass)
    if selected_path and must:
        # a subset run (--regex): check only the listed tests the regex selected
        selected = set(read_ids(selected_path))
        outside = [t for t in must if t not in selected]
        must = [t for t in must if t in selected]
        if outside:
            print(f"ratchet: {len(outside)} tests of must-pass.txt were not selected by the regex and are not checked")
        if not must:
            print("ratchet: the regex selected none of the tests in must-pass.txt: nothing to check")
            return 0
    if not must:
        bar = "!" * 78
        print(f"{bar}\n!!! {must_pass} LISTS NO TESTS: the ratchet checks nothing and passes trivially.\n"
              f"!!! Fill it with `conformance/run --grow` once Glimpse passes tests.\n{bar}")
        return 0
    passed = set(read_ids(passed_path))
    missing = [t for t in must if t not in passed]
    if missing:
        status = {}
        tsv = os.path.join(os.path.dirname(os.path.abspath(passed_path)), "tests.tsv")
        if os.path.exists(tsv):
            for row in open(tsv).read().splitlines()[1:]:
                f = row.split("\t")
                if len(f) >= 4:
                    status[f[0]] = f"{f[1]}: {f[3]}" if f[3] else f[1]
        print(f"RATCHET FAILED: {len(missing)} of the {len(must)} tests in must-pass.txt did not pass:")
        for t in missing:
            print(f"  {t}")
            print(f"      {status.get(t, 'not run')}")
        return 1
    print(f"ratchet ok: all {len(must)} tests in must-pass.txt passed")
    return 0


def grow(must_pass, passed_path):
    lines = open(must_pass).read().splitlines()
    have = set(read_ids(must_pass))
    new = [t for t in read_ids(passed_path) if t not in have]
    if not new:
        print("must-pass.txt: nothing new to add")
        return 0
    ids = sorted(have | set(new))
    header = [l for l in lines if l.startswith("#") and not l.startswith("# EMPTY")]
    stamp = datetime.date.today().isoformat()
    header = [l for l in header if not l.startswith("# last grown")] + [f"# last grown {stamp}: {len(ids)} tests"]
    with open(must_pass, "w") as f:
        f.write("\n".join(header) + "\n" + "".join(t + "\n" for t in ids))
    print(f"must-pass.txt: added {len(new)} tests (now {len(ids)}):")
    for t in new:
        print(f"  + {t}")
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "summarize" and len(argv) == 5:
        return summarize(argv[2], argv[3], argv[4])
    if len(argv) in (4, 5) and argv[1] == "ratchet":
        return ratchet(argv[2], argv[3], argv[4] if len(argv) == 5 else None)
    if len(argv) == 4 and argv[1] == "grow":
        return grow(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
