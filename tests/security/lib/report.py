"""Results of the security suite: each case's pass/fail as it runs, and the closing table
case -> Glimpse's verdict -> real Glance 33's verdict (read from glance-reference.md beside the suite)."""
import os
import re
import sys


class Report:
    def __init__(self, reference_path):
        self.rows = []          # (section, case, ok, glimpse verdict, detail)
        self.reference = {}
        if os.path.exists(reference_path):
            for line in open(reference_path, encoding="utf-8"):
                m = re.match(r"^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*$", line)
                if m:
                    self.reference[m.group(1)] = m.group(2)

    def case(self, section, case, ok, verdict, detail=""):
        """ok: True, False, or None for a case that could not run here (skipped)."""
        self.rows.append((section, case, ok, verdict, detail))
        mark = {True: "ok  ", False: "FAIL", None: "SKIP"}[ok]
        line = "[security %s] %s %s -> %s" % (section, mark, case, verdict)
        if detail and ok is not True:
            line += "  (%s)" % detail
        print(line, flush=True)

    def failures(self):
        return [r for r in self.rows if r[2] is False]

    def print_table(self, out=sys.stdout):
        out.write("\n| result | case | Glimpse | real Glance 33 |\n|---|---|---|---|\n")
        for section, case, ok, verdict, _ in self.rows:
            mark = {True: "pass", False: "FAIL", None: "skip"}[ok]
            out.write("| %s | `%s` | %s | %s |\n" % (mark, case, verdict, self.reference.get(case, "(not recorded)")))
        passed = sum(1 for r in self.rows if r[2] is True)
        skipped = sum(1 for r in self.rows if r[2] is None)
        out.write("\nsecurity suite: %d passed, %d failed, %d skipped\n" % (passed, len(self.failures()), skipped))
        for r in self.failures():
            out.write("  FAILED %s: %s -> %s %s\n" % (r[0], r[1], r[3], r[4]))
        out.flush()
