#!/usr/bin/env bash
# Checks the test guest that scripts/build-test-guest writes, as the compute service will use it: builds it in a
# temporary directory, boots it under qemu-system-x86_64 on each disk bus, and through the guest agent pings,
# writes /data/hello.txt, freezes and thaws the filesystems, then powers it off with QMP system_powerdown (on the
# SCSI disk while frozen again). Once QEMU has exited, it reads the file back from the ext4 data partition offline
# (the guest really wrote to disk) and checks that the filesystem was unmounted cleanly. It also checks that a
# --broken image never boots.
#
# Environment:
#   GUEST_ACCEL=auto|kvm|tcg  auto (default): KVM when /dev/kvm is usable, else TCG; if KVM is there but cannot
#                             run the guest (it stops it with an internal error, as some nested hosts do), TCG
#   GUEST_BUSES="virtio scsi ide sata"   the disk buses to boot from (default: all four)
#   GUEST_KEEP=1              keep the temporary directory (images, serial logs) for inspection
# Exits non-zero when any check fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"

work="$(mktemp -d)"
if [ "${GUEST_KEEP:-0}" = 1 ]; then
  trap 'echo "kept $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

echo "building the test guest"
started=$(date +%s.%N)
"$root/scripts/build-test-guest" "$work/guest.img"
echo "  built in $(python3 -c "import time; print(f'{time.time() - $started:.1f}s')")"
GUEST_SKIP_PREREQUISITES=1 "$root/scripts/build-test-guest" "$work/broken.img" --broken
echo "  image: $(du -k --apparent-size "$work/guest.img" | cut -f1) KiB raw, $(du -k "$work/guest.img" | cut -f1) KiB on disk"

accel="${GUEST_ACCEL:-auto}"
if [ "$accel" = auto ]; then
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then accel=kvm; else accel=tcg; fi
fi
timeout_for() { if [ "$1" = kvm ]; then echo 60; else echo 300; fi; }

# The data partition's place on the disk, from the partition table (second MBR entry).
data_partition() {
  python3 - "$1" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as disk:
    mbr = disk.read(512)
start, sectors = struct.unpack_from("<II", mbr, 446 + 16 + 8)
print(start, sectors)
PY
}

for bus in ${GUEST_BUSES:-virtio scsi ide sata}; do
  echo "booting from a $bus disk"
  # The virtio disk is the qcow2 form the script writes for an OUT ending in .qcow2 (as the compute service
  # would store it); the others are copies of the raw image.
  if [ "$bus" = virtio ]; then
    image="$work/$bus.qcow2"
    GUEST_SKIP_PREREQUISITES=1 "$root/scripts/build-test-guest" "$image" >/dev/null
  else
    image="$work/$bus.img"
    cp --sparse=always "$work/guest.img" "$image"
  fi
  # On the SCSI disk the guest is powered off while frozen (a server stopped mid-snapshot): it must still come
  # down with a clean filesystem.
  frozen_flag=()
  [ "$bus" = scsi ] && frozen_flag=(--power-off-frozen)
  status=0
  python3 "$here/drive-guest.py" --image "$image" --bus "$bus" --accel "$accel" --workdir "$work/$bus" \
    --timeout "$(timeout_for "$accel")" "${frozen_flag[@]}" || status=$?
  if [ "$status" -eq 3 ] && [ "$accel" = kvm ]; then
    echo "  KVM cannot run this guest here: using TCG from now on"
    accel=tcg
    if [ "$bus" = virtio ]; then
      GUEST_SKIP_PREREQUISITES=1 "$root/scripts/build-test-guest" "$image" >/dev/null
    else
      cp --sparse=always "$work/guest.img" "$image"
    fi
    status=0
    python3 "$here/drive-guest.py" --image "$image" --bus "$bus" --accel "$accel" --workdir "$work/$bus" \
      --timeout "$(timeout_for "$accel")" "${frozen_flag[@]}" || status=$?
  fi
  if [ "$status" -ne 0 ]; then
    fail "$bus: boot, agent, freeze/thaw and power-off"
    continue
  fi
  pass "$bus: boot to ready in $(cat "$work/$bus/boot-seconds")s ($accel), agent, freeze/thaw, clean power-off"

  raw="$image"
  if [ "$image" != "${image%.qcow2}" ]; then
    raw="${image%.qcow2}.img"
    qemu-img convert -f qcow2 -O raw "$image" "$raw"
  fi
  read -r start sectors < <(data_partition "$raw")
  dd if="$raw" of="$work/$bus/data.part" bs=512 skip="$start" count="$sectors" status=none
  if debugfs -R 'cat /hello.txt' "$work/$bus/data.part" 2>/dev/null | cmp -s - "$work/$bus/expected-hello"; then
    pass "$bus: /hello.txt written by the guest is on the ext4 partition"
  else
    fail "$bus: /hello.txt is not on the ext4 partition as written"
  fi
  if e2fsck -fn "$work/$bus/data.part" >/dev/null 2>&1 \
    && dumpe2fs -h "$work/$bus/data.part" 2>/dev/null | grep -q '^Filesystem state: *clean$'; then
    pass "$bus: the data filesystem was unmounted cleanly and checks clean"
  else
    fail "$bus: the data filesystem is not clean after power-off"
  fi
done

echo "booting the --broken image (no boot loader)"
# It ends as soon as the firmware reports that nothing is bootable; the timeout only bounds a wrong outcome, and
# is the full boot timeout so that an image that does boot, however slowly, is caught.
if python3 "$here/drive-guest.py" --image "$work/broken.img" --accel "$accel" --workdir "$work/broken" \
  --timeout "$(timeout_for "$accel")" --expect no-boot; then
  pass "--broken: does not boot"
else
  fail "--broken: the image without a boot loader booted"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
