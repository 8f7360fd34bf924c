"""File modes: the data directory 0700, every directory in it 0700 and every file 0600."""
import os
import stat

from lib.scan import walk


def check_modes(report, data_dir, when):
    wrong = []
    top = stat.S_IMODE(os.stat(data_dir).st_mode)
    if top != 0o700:
        wrong.append(". %o" % top)
    for path, is_dir in walk(data_dir):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            continue
        mode, want = stat.S_IMODE(st.st_mode), 0o700 if is_dir else 0o600
        if mode != want:
            wrong.append("%s %o" % (os.path.relpath(path, data_dir), mode))
    report.case("modes", "modes %s: dir 0700, dirs 0700, files 0600" % when, not wrong,
                "%d wrong" % len(wrong), ", ".join(wrong[:8]))
