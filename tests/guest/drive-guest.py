#!/usr/bin/env python3
"""Boots one test-guest disk under qemu-system-x86_64 and drives it the way the compute service will.

check-test-guest.sh calls it once per disk bus. With --expect ready it waits for the guest's ready line on the
serial console, then through the guest agent (JSON lines over the virtio-serial socket) pings, writes
/data/hello.txt, freezes, checks the freeze status and thaws; then presses the ACPI power button through QMP and
waits for QEMU to exit on its own (with --power-off-frozen, after freezing again). With --expect no-boot it checks that the ready line never comes.

Exit codes: 0 passed, 1 failed, 3 the accelerator could not run the guest at all (KVM present but unable to
emulate it, e.g. a nested host), so the caller may retry under TCG.
"""
import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import time

READY = b"GLIMPSE-GUEST-READY"
FAILED = b"GLIMPSE-GUEST-FAILED"


class Failure(Exception):
    pass


class AcceleratorUnusable(Exception):
    pass


class JsonChannel:
    """A QMP or guest-agent connection: one JSON object per line each way."""

    def __init__(self, path, timeout):
        # QEMU binds the socket file before it listens: a refused connection right after it appears is retried.
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(path)
                break
            except (ConnectionRefusedError, FileNotFoundError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.buffer = b""

    def send(self, message):
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    def receive(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failure("connection closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        line = line.strip().lstrip(b"\xff")
        return json.loads(line) if line else self.receive()

    def close(self):
        self.sock.close()


class Qmp(JsonChannel):
    def __init__(self, path, timeout):
        super().__init__(path, timeout)
        self.receive()  # greeting
        self.execute("qmp_capabilities")

    def execute(self, command, **arguments):
        message = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self.send(message)
        while True:
            reply = self.receive()
            if "event" in reply:
                continue
            if "error" in reply:
                raise Failure(f"QMP {command}: {reply['error']}")
            return reply.get("return")


class Agent(JsonChannel):
    def sync(self, deadline):
        """guest-sync until the agent answers with our id, dropping anything stale in the channel."""
        token = int(time.time() * 1000) % 2**31
        while True:
            try:
                self.send({"execute": "guest-sync", "arguments": {"id": token}})
                while True:
                    reply = self.receive()
                    if reply.get("return") == token:
                        return
            except (socket.timeout, json.JSONDecodeError):
                if time.monotonic() > deadline:
                    raise Failure("guest agent did not answer guest-sync")

    def execute(self, command, **arguments):
        message = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self.send(message)
        reply = self.receive()
        if "error" in reply:
            raise Failure(f"agent {command}: {reply['error']}")
        return reply.get("return")


def disk_arguments(bus, image):
    image_format = "qcow2" if image.endswith(".qcow2") else "raw"
    drive = f"file={image},format={image_format},if=none,id=disk0,cache=writeback"
    if bus == "virtio":
        return ["-drive", drive, "-device", "virtio-blk-pci,drive=disk0"]
    if bus == "scsi":
        return ["-drive", drive, "-device", "virtio-scsi-pci,id=scsi0", "-device", "scsi-hd,drive=disk0,bus=scsi0.0"]
    if bus == "ide":
        return ["-drive", drive, "-device", "ide-hd,drive=disk0,bus=ide.0"]
    if bus == "sata":
        return ["-machine", "q35", "-drive", drive, "-device", "ahci,id=ahci0", "-device", "ide-hd,drive=disk0,bus=ahci0.0"]
    raise SystemExit(f"unknown bus {bus}")


def run(args):
    os.makedirs(args.workdir, exist_ok=True)
    log = os.path.join(args.workdir, "serial.log")
    qga_path = os.path.join(args.workdir, "qga.sock")
    qmp_path = os.path.join(args.workdir, "qmp.sock")
    for path in (log, qga_path, qmp_path):
        if os.path.exists(path):
            os.unlink(path)
    command = [
        "qemu-system-x86_64", "-accel", args.accel, "-m", "256", "-nographic", "-nic", "none", "-no-reboot",
        "-monitor", "none", "-serial", f"file:{log}",
        *disk_arguments(args.bus, args.image),
        "-device", "virtio-serial",
        "-chardev", f"socket,path={qga_path},server=on,wait=off,id=qga0",
        "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
        "-qmp", f"unix:{qmp_path},server=on,wait=off",
    ]
    stderr = open(os.path.join(args.workdir, "qemu.stderr"), "wb")
    started = time.monotonic()
    qemu = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
    try:
        return drive(args, qemu, started, log, qga_path, qmp_path)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()


def serial(log):
    try:
        with open(log, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return b""


def wait_for_socket(path, qemu, deadline):
    while not os.path.exists(path):
        if qemu.poll() is not None or time.monotonic() > deadline:
            raise Failure(f"QEMU never opened {os.path.basename(path)} (exit {qemu.poll()})")
        time.sleep(0.05)


def drive(args, qemu, started, log, qga_path, qmp_path):
    deadline = started + args.timeout
    wait_for_socket(qmp_path, qemu, started + 10)
    qmp = Qmp(qmp_path, 10)

    # Wait for the ready line; notice early when the accelerator gave up (QEMU stops the VM in internal-error).
    ready_at = None
    while time.monotonic() < deadline:
        console = serial(log)
        if READY in console:
            ready_at = time.monotonic()
            break
        if FAILED in console:
            if args.expect == "no-boot":
                break
            raise Failure("the guest booted but reported it is not ready")
        if args.expect == "no-boot" and b"No bootable device" in console:
            break  # the firmware tried every device and gave up; it would only try them again
        if qemu.poll() is not None:
            if args.expect == "no-boot":
                break
            raise Failure(f"QEMU exited ({qemu.returncode}) before the guest was ready")
        status = qmp.execute("query-status")["status"]
        if status == "internal-error":
            raise AcceleratorUnusable(
                f"{args.accel} stopped the guest with an internal error after {time.monotonic() - started:.1f}s")
        time.sleep(0.1)

    if args.expect == "no-boot":
        if ready_at is not None:
            raise Failure("an image without a boot loader booted to the ready line")
        text = serial(log).decode(errors="replace")
        reason = "firmware found no bootable disk" if "not a bootable disk" in text else "no ready line"
        print(f"  no ready line after {time.monotonic() - started:.1f}s, as expected ({reason})")
        qmp.execute("quit")
        return

    if ready_at is None:
        if args.accel == "kvm":
            # Some hosts (nested ones) open /dev/kvm but stall the guest without an error: TCG tells the image's
            # faults apart from the accelerator's.
            raise AcceleratorUnusable(f"kvm: no {READY.decode()} line within {args.timeout:.0f}s")
        raise Failure(f"no {READY.decode()} line within {args.timeout:.0f}s")
    print(f"  boot to ready: {ready_at - started:.1f}s ({args.accel}, {args.bus})")

    agent = Agent(qga_path, args.agent_timeout)
    agent.sync(time.monotonic() + args.agent_timeout * 3)
    if agent.execute("guest-ping") != {}:
        raise Failure("guest-ping did not return {}")
    print("  guest-ping: ok")

    content = f"hello from the {args.bus} guest\n".encode()
    handle = agent.execute("guest-file-open", path="/data/hello.txt", mode="w")
    written = agent.execute("guest-file-write", handle=handle, **{"buf-b64": base64.b64encode(content).decode()})
    if written.get("count") != len(content):
        raise Failure(f"guest-file-write wrote {written} of {len(content)} bytes")
    agent.execute("guest-file-flush", handle=handle)
    agent.execute("guest-file-close", handle=handle)
    print(f"  guest-file-write /data/hello.txt: {len(content)} bytes")

    frozen = agent.execute("guest-fsfreeze-freeze")
    if not isinstance(frozen, int) or frozen < 1:
        raise Failure(f"guest-fsfreeze-freeze froze {frozen} filesystems, wanted at least 1")
    status = agent.execute("guest-fsfreeze-status")
    if status != "frozen":
        raise Failure(f"guest-fsfreeze-status is {status!r} after freezing")
    thawed = agent.execute("guest-fsfreeze-thaw")
    if thawed != frozen:
        raise Failure(f"guest-fsfreeze-thaw thawed {thawed}, froze {frozen}")
    status = agent.execute("guest-fsfreeze-status")
    if status != "thawed":
        raise Failure(f"guest-fsfreeze-status is {status!r} after thawing")
    print(f"  fsfreeze: froze {frozen}, status frozen, thawed {thawed}, status thawed")
    if args.power_off_frozen:
        # A server deleted or stopped mid-snapshot: the guest must still shut down with a clean filesystem.
        frozen = agent.execute("guest-fsfreeze-freeze")
        if agent.execute("guest-fsfreeze-status") != "frozen":
            raise Failure("the second freeze did not take")
        print(f"  fsfreeze: froze {frozen} again, powering off frozen")
    agent.close()

    pressed = time.monotonic()
    qmp.execute("system_powerdown")
    try:
        code = qemu.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        raise Failure("the guest did not power off after system_powerdown")
    if code != 0:
        raise Failure(f"QEMU exited with {code} after system_powerdown")
    if b"powering off" not in serial(log):
        raise Failure("QEMU exited but the guest never said it was powering off")
    print(f"  system_powerdown: guest powered off in {time.monotonic() - pressed:.1f}s, QEMU exited 0")
    with open(os.path.join(args.workdir, "boot-seconds"), "w") as handle:
        handle.write(f"{ready_at - started:.1f}\n")
    with open(os.path.join(args.workdir, "expected-hello"), "wb") as handle:
        handle.write(content)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--bus", default="virtio", choices=["virtio", "scsi", "ide", "sata"])
    parser.add_argument("--accel", default="tcg", choices=["kvm", "tcg"])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--agent-timeout", type=float, default=10)
    parser.add_argument("--expect", default="ready", choices=["ready", "no-boot"])
    parser.add_argument("--power-off-frozen", action="store_true",
                        help="freeze the filesystems again before pressing the power button")
    args = parser.parse_args()
    try:
        run(args)
    except AcceleratorUnusable as error:
        print(f"  {error}")
        return 3
    except (Failure, OSError) as error:
        print(f"  FAILED: {error}")
        tail = serial(os.path.join(args.workdir, "serial.log")).decode(errors="replace")[-1500:]
        print("  serial console (tail):\n    " + tail.replace("\n", "\n    "))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
