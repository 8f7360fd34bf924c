#!/usr/bin/env python3
"""Writes or reads a file inside a running test guest through its QEMU guest agent socket, as a tenant's tooling
would do through the agent: `guest_file.py write SOCKET PATH CONTENT` / `guest_file.py read SOCKET PATH` (prints
the content). Uses the agent channel of tests/guest/drive-guest.py."""
import base64
import importlib.util
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("drive_guest", os.path.join(here, "..", "guest", "drive-guest.py"))
drive_guest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drive_guest)


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("write", "read") or (sys.argv[1] == "write" and len(sys.argv) != 5):
        print(__doc__, file=sys.stderr)
        return 2
    action, socket_path, path = sys.argv[1:4]
    agent = drive_guest.Agent(socket_path, 30)
    agent.sync(time.monotonic() + 60)
    if action == "write":
        handle = agent.execute("guest-file-open", path=path, mode="w")
        data = sys.argv[4].encode()
        written = agent.execute("guest-file-write", handle=handle, **{"buf-b64": base64.b64encode(data).decode()})
        agent.execute("guest-file-flush", handle=handle)
        agent.execute("guest-file-close", handle=handle)
        if written.get("count") != len(data):
            print(f"wrote {written} of {len(data)} bytes", file=sys.stderr)
            return 1
    else:
        handle = agent.execute("guest-file-open", path=path, mode="r")
        read = agent.execute("guest-file-read", handle=handle, count=65536)
        agent.execute("guest-file-close", handle=handle)
        sys.stdout.write(base64.b64decode(read.get("buf-b64", "")).decode(errors="replace"))
    agent.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
