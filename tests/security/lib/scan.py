"""Searches bytes for planted markers: streamed downloads (markers may straddle chunk boundaries) and files."""
import os


class MarkerScanner:
    """Feed chunks; `found` names every marker seen."""

    def __init__(self, markers):
        self.markers = markers  # {label: bytes}
        self.keep = max(len(m) for m in markers.values()) - 1
        self.tail = b""
        self.found = set()
        self.size = 0

    def feed(self, chunk):
        self.size += len(chunk)
        window = self.tail + chunk
        for label, marker in self.markers.items():
            if marker in window:
                self.found.add(label)
        self.tail = window[-self.keep:] if self.keep > 0 else b""


def scan_file(path, markers):
    s = MarkerScanner(markers)
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            s.feed(chunk)
    return s.found


def walk(root):
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            yield os.path.join(dirpath, name), True
        for name in filenames:
            yield os.path.join(dirpath, name), False
