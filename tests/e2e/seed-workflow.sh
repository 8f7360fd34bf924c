#!/usr/bin/env bash
# End-to-end: the seed documents' workflow with the real `openstack` CLI and only OS_* variables, against
# `glimpse serve --auth builtin` (Glimpse's own Identity API, catalog with image and compute):
#   image create (a small real qcow2 disk) -> server create --no-network --wait -> a "guest" write into the
#   server's disk (qemu-io on its overlay) -> server stop -> server image create --wait -> image show (the four
#   snapshot properties; none on a plain image) -> image save (base data + the write, compared as raw) ->
#   the seed's `image create --disk-format raw ... --property os_require_quiesce=yes --file` re-upload ->
#   boot it and find the write -> 409s (quiesce required while running, start while active) -> restart ->
#   delete everything.
#
# Usage: tests/e2e/seed-workflow.sh     (GLIMPSE_BIN=path to skip the build; needs qemu-img/qemu-io)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "setup"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || fatal "qemu-img/qemu-io missing (scripts/install-prerequisites)"
require_glimpse
ensure_venv "$OPENSTACKCLIENT_SPEC"
OSC="$E2E_VENV/bin/openstack"
log "$("$OSC" --version 2>&1 | head -n1)"

e2e_mktemp WORK
DATA="$WORK/data"
PORT="$(free_port)"
ADMIN_PASSWORD="seed-$RANDOM-$RANDOM"

# start_builtin: glimpse serve with built-in identity on $PORT over $DATA.
start_builtin() {
    mkdir -p "$DATA"
    GLIMPSE_URL="http://127.0.0.1:$PORT"
    GLIMPSE_LOG="$DATA/glimpse-seed-$(date +%H%M%S)-$RANDOM.log"
    log "starting: glimpse serve --port $PORT --data-dir $DATA --auth builtin (log $GLIMPSE_LOG)"
    GLIMPSE_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$GLIMPSE" serve --hypervisor overlay --host 127.0.0.1 --port "$PORT" --data-dir "$DATA" \
        --auth builtin >"$GLIMPSE_LOG" 2>&1 </dev/null &
    GLIMPSE_PID=$!
    track_pid "$GLIMPSE_PID"
    local start=$SECONDS
    until [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$GLIMPSE_URL/compute/v2.1" || true)" == 200 ]]; do
        kill -0 "$GLIMPSE_PID" 2>/dev/null || { sed 's/^/    | /' "$GLIMPSE_LOG" >&2; return 1; }
        ((SECONDS - start < 60)) || { sed 's/^/    | /' "$GLIMPSE_LOG" >&2; return 1; }
        sleep 0.2
    done
    log "glimpse is up (pid $GLIMPSE_PID)"
}
start_builtin || fatal "glimpse serve --auth builtin did not come up"

# Only OS_* variables configure the client.
while read -r v; do unset "$v"; done < <(env | grep -o '^OS_[A-Za-z0-9_]*' || true)
export OS_AUTH_URL="$GLIMPSE_URL/identity/v3" OS_IDENTITY_API_VERSION=3 OS_INTERFACE=public OS_REGION_NAME=RegionOne
export OS_USERNAME=admin OS_PASSWORD="$ADMIN_PASSWORD" OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default

OUT="$WORK/osc.out"
ERR="$WORK/osc.err"
o() {
    log "\$ openstack $*"
    set +e
    "$OSC" "$@" >"$OUT" 2>"$ERR" </dev/null
    O_RC=$?
    set -e
}
o_ok() {
    local what="$1"; shift
    o "$@"
    if [[ "$O_RC" == 0 ]]; then pass "$what"; return 0; fi
    fail "$what: \`openstack $*\` exited $O_RC; stderr: $(tail -c 800 "$ERR" | tr '\n' ' ')"
    show_log 20
    return 1
}
out() { json_get "$OUT" "$1"; }
# disk_of SERVER_ID: the server's root disk (a qcow2 overlay) under the data directory.
disk_of() { printf '%s/compute/disks/%s.qcow2' "$DATA" "$1"; }

# ---------------------------------------------------------------------------------------------- the base image
step "a small real disk: 16 MiB, first MiB 0x5a, as qcow2"
BASE_RAW="$WORK/base.raw"
BASE_QCOW="$WORK/base.qcow2"
qemu-img create -q -f raw "$BASE_RAW" 16M
qemu-io -f raw -c 'write -P 0x5a 0 1M' "$BASE_RAW" >/dev/null
qemu-img convert -f raw -O qcow2 "$BASE_RAW" "$BASE_QCOW"
BASE_NAME="seed-base-$$"
o_ok "image create (plain upload)" image create --disk-format qcow2 --container-format bare --file "$BASE_QCOW" -f json "$BASE_NAME" ||
    fatal "no base image"
BASE_ID="$(out 'j["id"]')"
check_eq "base image status" active "$(out 'j["status"]')"

# ---------------------------------------------------------------------------------------------- a server
step "server create --image --flavor m1.tiny --no-network --wait"
o_ok "server create" server create --image "$BASE_NAME" --flavor m1.tiny --no-network --wait -f json seed-vm-$$ ||
    fatal "no server"
VM1="$(out 'j["id"]')"
check_eq "server status" ACTIVE "$(out 'j["status"]')"
DISK1="$(disk_of "$VM1")"
check "root disk $DISK1 is a qcow2 overlay on the compute base copy" \
    bash -c "qemu-img info --output=json '$DISK1' | grep -q '\"backing-filename\"'"

step "a guest write: 64 KiB of 0xab at 4 MiB, into the server's disk"
qemu-io -f qcow2 -c 'write -P 0xab 4M 64k' "$DISK1" >/dev/null || fatal "qemu-io write failed"
pass "qemu-io wrote the pattern"

step "server stop, then wait for SHUTOFF (as the seed says)"
o_ok "server stop" server stop "seed-vm-$$"
status=""
for _ in $(seq 1 50); do
    o server show -f value -c status "$VM1"
    status="$(tr -d '[:space:]' <"$OUT")"
    [[ "$status" == SHUTOFF ]] && break
    sleep 0.2
done
check_eq "status after stop" SHUTOFF "$status"

# ---------------------------------------------------------------------------------------------- the snapshot
step "server image create --name SNAP --wait"
SNAP="seed-snap-$$"
o_ok "server image create" server image create --name "$SNAP" --wait -f json "$VM1" || fatal "no snapshot"
SNAP_ID="$(out 'j["id"]')"
o_ok "image show SNAP" image show -f json "$SNAP"
check_eq "snapshot status" active "$(out 'j["status"]')"
check_eq "snapshot visibility" private "$(out 'j["visibility"]')"
check_eq "image_type" snapshot "$(out 'j["properties"].get("image_type")')"
check_eq "instance_uuid" "$VM1" "$(out 'j["properties"].get("instance_uuid")')"
check_eq "base_image_ref" "$BASE_ID" "$(out 'j["properties"].get("base_image_ref")')"
check_eq "image_location" snapshot "$(out 'j["properties"].get("image_location")')"
check_eq "glimpse_consistency (stopped server)" cold "$(out 'j["properties"].get("glimpse_consistency")')"
o_ok "image show SNAP (table, as the seed greps it)" image show "$SNAP"
check_eq "seed grep finds the four properties" 4 \
    "$(grep -oE "(image_type|instance_uuid|base_image_ref|image_location)='" "$OUT" | sort -u | wc -l | tr -d ' ')"
o_ok "image show (plain image)" image show "$BASE_NAME"
check_eq "seed grep on a plain image finds nothing" 0 \
    "$(grep -cE "image_type|instance_uuid|base_image_ref|image_location" "$OUT" || true)"

step "image save, convert to raw, compare with the base data plus the write"
SAVED="$WORK/c7custom-image.img"
SAVED_RAW="$WORK/c7custom-image.raw"
o_ok "image save" image save --file "$SAVED" "$SNAP_ID"
qemu-img convert -O raw "$SAVED" "$SAVED_RAW" || fail "qemu-img convert of the saved snapshot failed"
check "saved snapshot = base data + pattern at 4 MiB" python3 - "$BASE_RAW" "$SAVED_RAW" <<'EOF'
import sys
base = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "rb") as f:
    snap = f.read(len(base))
off, n = 4 << 20, 64 << 10
want = base[:off] + b"\xab" * n + base[off + n:]
sys.exit(0 if snap == want else 1)
EOF

# ---------------------------------------------------------------------------------------------- re-upload (seed)
step "the seed's re-upload: image create --disk-format raw ... --property os_require_quiesce=yes --file"
CUSTOM="My-Custom-Image-Name-$$"
o_ok "image create (seed command)" image create --disk-format raw --container-format bare --property visibility=community \
    --property skip_atmosphere=yes --property hw_disk_bus=scsi --property hw_scsi_model=virtio-scsi \
    --property hw_qemu_guest_agent=yes --property os_require_quiesce=yes --file "$SAVED_RAW" -f json "$CUSTOM" ||
    fatal "re-upload failed"
CUSTOM_ID="$(out 'j["id"]')"
check_eq "re-uploaded visibility" community "$(out 'j["visibility"]')"

step "boot the re-uploaded image and find the pattern in its disk"
o_ok "server create from the custom image" server create --image "$CUSTOM" --flavor m1.tiny --no-network --wait -f json \
    "seed-vm2-$$" || fatal "no second server"
VM2="$(out 'j["id"]')"
check_eq "second server status" ACTIVE "$(out 'j["status"]')"
check "pattern 0xab at 4 MiB in the new server's disk" \
    bash -c "qemu-io -f qcow2 -c 'read -P 0xab 4M 64k' '$(disk_of "$VM2")' | grep -q 'read 65536/65536' &&
             ! qemu-io -f qcow2 -c 'read -P 0xab 4M 64k' '$(disk_of "$VM2")' | grep -q 'Pattern verification failed'"

# ---------------------------------------------------------------------------------------------- refusals
step "refusals: quiesce required while running (409), start while ACTIVE (409)"
o server image create --name "never-$$" "$VM2"
check "snapshot of a running server whose image requires quiesce fails" test "$O_RC" != 0
check "... with 409 / quiesce in the message" grep -qiE "409|quiesce" "$ERR"
o server start "$VM2"
check "server start while ACTIVE fails" test "$O_RC" != 0
check "... with Nova's conflict message" grep -q "Cannot 'start' instance $VM2 while it is in vm_state active" "$ERR"
o image show "never-$$"
check "no image was left by the refused snapshot" test "$O_RC" != 0

# ---------------------------------------------------------------------------------------------- restart
step "restart glimpse: servers and disks survive"
stop_glimpse
start_builtin || fatal "glimpse did not come back"
o_ok "server list after restart" server list -f json
check_eq "servers after restart" 2 "$(out 'len(j)')"
o_ok "server show after restart" server show -f json "$VM2"
check_eq "second server after restart" ACTIVE "$(out 'j["status"]')"

# ---------------------------------------------------------------------------------------------- cleanup
step "delete the snapshot, the images and the servers"
o_ok "image delete SNAP" image delete "$SNAP_ID"
o_ok "image delete custom" image delete "$CUSTOM_ID"
o_ok "image delete base" image delete "$BASE_ID"
o_ok "first server still shows after its image is gone" server show -f json "$VM1"
check_eq "first server status" SHUTOFF "$(out 'j["status"]')"
o_ok "server delete --wait" server delete --wait "$VM1" "$VM2"
check "server disks removed" bash -c "! ls '$DATA/compute/disks/'*.qcow2 2>/dev/null | grep -q ."
check "compute base copies removed" bash -c "! ls '$DATA/compute/base/' 2>/dev/null | grep -q ."
o_ok "server list" server list -f json
check_eq "servers left" 0 "$(out 'len(j)')"

stop_glimpse
finish
