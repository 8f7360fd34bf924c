#!/usr/bin/env bash
# End-to-end: the seed documents' workflow with a real boot, through the stock `openstack` CLI and only OS_*
# variables, against `glimpse serve --auth builtin --hypervisor qemu`:
#   the test guest (scripts/build-test-guest) uploaded with the seed's properties (hw_disk_bus=scsi,
#   hw_scsi_model=virtio-scsi, hw_qemu_guest_agent=yes, os_require_quiesce=yes) -> server create --wait ->
#   `console log show` until the guest's ready line -> a file written in the guest through its agent ->
#   `server image create --wait` WHILE IT RUNS (quiesced through the agent) -> boot the snapshot as a second server
#   -> read the file back through that guest's agent -> server stop -> cold snapshot -> delete everything, and no
#   QEMU is left running.
#
# Usage: tests/e2e/guest-workflow.sh     (GLIMPSE_BIN=path to skip the build; needs qemu-system-x86_64 and the
# guest build's packages, see scripts/install-prerequisites). Boots under TCG take 12-30 s each.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "setup"
command -v qemu-system-x86_64 >/dev/null || fatal "qemu-system-x86_64 missing (scripts/install-prerequisites)"
require_glimpse
ensure_venv "$OPENSTACKCLIENT_SPEC"
OSC="$E2E_VENV/bin/openstack"
e2e_mktemp WORK
DATA="$WORK/data"
PORT="$(free_port)"
ADMIN_PASSWORD="guest-$RANDOM-$RANDOM"
GUEST="$WORK/guest.qcow2"
GUEST_SKIP_PREREQUISITES=1 "$REPO_ROOT/scripts/build-test-guest" "$GUEST" >"$WORK/guest-build.log" 2>&1 ||
    { sed 's/^/    | /' "$WORK/guest-build.log" >&2; fatal "could not build the test guest"; }
pass "test guest built"

mkdir -p "$DATA"
GLIMPSE_URL="http://127.0.0.1:$PORT"
GLIMPSE_LOG="$DATA/glimpse-guest-$(date +%H%M%S)-$RANDOM.log"
log "starting: glimpse serve --port $PORT --data-dir $DATA --auth builtin --hypervisor qemu (log $GLIMPSE_LOG)"
GLIMPSE_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$GLIMPSE" serve --hypervisor qemu --host 127.0.0.1 --port "$PORT" \
    --data-dir "$DATA" --auth builtin >"$GLIMPSE_LOG" 2>&1 </dev/null &
GLIMPSE_PID=$!
track_pid "$GLIMPSE_PID"
start=$SECONDS
until [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$GLIMPSE_URL/compute/v2.1" || true)" == 200 ]]; do
    kill -0 "$GLIMPSE_PID" 2>/dev/null || { sed 's/^/    | /' "$GLIMPSE_LOG" >&2; fatal "glimpse exited"; }
    ((SECONDS - start < 60)) || { sed 's/^/    | /' "$GLIMPSE_LOG" >&2; fatal "glimpse did not come up"; }
    sleep 0.2
done
log "glimpse is up (pid $GLIMPSE_PID)"

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

READY=GLIMPSE-GUEST-READY
# wait_ready SERVER: polls `openstack console log show` until the guest's ready line (TCG boots are slow).
wait_ready() {
    local server="$1" start=$SECONDS
    while ((SECONDS - start < 240)); do
        o console log show "$server"
        if [[ "$O_RC" == 0 ]] && grep -q "$READY" "$OUT"; then
            pass "console log show of $server has the ready line after $((SECONDS - start)) s"
            return 0
        fi
        sleep 2
    done
    fail "no ready line in the console of $server within 240 s; its end: $(tail -c 600 "$OUT" | tr '\n' ' ')"
    return 1
}
# agent_socket SERVER_ID: the guest agent's socket (QEMU's virtio-serial channel) of a server on this host.
agent_socket() {
    local found
    found="$(find "$DATA" "${TMPDIR:-/tmp}" -maxdepth 4 -name "${1:0:13}.qga" -type s 2>/dev/null | head -n1)"
    [[ -n "$found" ]] || return 1
    printf '%s' "$found"
}
wait_snapshot_active() {
    local name="$1" start=$SECONDS status=""
    while ((SECONDS - start < 240)); do
        o image show -f json "$name"
        status="$( [[ "$O_RC" == 0 ]] && out 'j["status"]' || echo missing)"
        [[ "$status" == active ]] && return 0
        sleep 2
    done
    fail "snapshot $name is $status after 240 s"
    return 1
}

# ---------------------------------------------------------------------------------------------- the image
step "the test guest, uploaded with the seed's properties"
o_ok "image create --file (the test guest)" image create --disk-format qcow2 --container-format bare \
    --property hw_disk_bus=scsi --property hw_scsi_model=virtio-scsi --property hw_qemu_guest_agent=yes \
    --property os_require_quiesce=yes --file "$GUEST" -f json "guest-$$" || fatal "no image"
check_eq "image status" active "$(out 'j["status"]')"

# ---------------------------------------------------------------------------------------------- boot
step "server create --wait, then console log show until the guest is ready"
o_ok "server create --wait" server create --image "guest-$$" --flavor m1.nano --no-network --wait -f json "guest-vm-$$" ||
    fatal "no server"
VM1="$(out 'j["id"]')"
check_eq "server status" ACTIVE "$(out 'j["status"]')"
wait_ready "$VM1" || fatal "the guest did not boot"
o_ok "server show (admin view)" server show -f json "$VM1"
check_eq "root device on the SCSI bus" /dev/sda "$(out 'j.get("OS-EXT-SRV-ATTR:root_device_name")')"

step "a file written in the running guest through its agent"
SOCK1="$(agent_socket "$VM1")" || fatal "no agent socket for $VM1"
CONTENT="written before the live snapshot $$-$RANDOM"
check "guest-file-write /data/hello.txt" python3 "$REPO_ROOT/tests/e2e/guest_file.py" write "$SOCK1" /data/hello.txt "$CONTENT"

# ---------------------------------------------------------------------------------------------- live snapshot
step "server image create --wait while the server runs (os_require_quiesce=yes: frozen through the agent)"
o_ok "server image create (live)" server image create --name "live-$$" --wait -f json "$VM1" || fatal "no live snapshot"
wait_snapshot_active "live-$$" || fatal "the live snapshot did not become active"
check_eq "live snapshot consistency" quiesced "$(out 'j["properties"].get("glimpse_consistency")')"
check_eq "live snapshot image_type" snapshot "$(out 'j["properties"].get("image_type")')"
check_eq "live snapshot instance_uuid" "$VM1" "$(out 'j["properties"].get("instance_uuid")')"
o_ok "server show after the live snapshot" server show -f json "$VM1"
check_eq "the server kept running" ACTIVE "$(out 'j["status"]')"
check "Glimpse froze the guest only while the copy's point in time was fixed" grep -q "filesystems frozen for" "$GLIMPSE_LOG"
log "$(grep -o "filesystems frozen for [^ ]*" "$GLIMPSE_LOG" | head -n1)"

step "boot the snapshot and read the file back through the new guest's agent"
o_ok "server create from the snapshot" server create --image "live-$$" --flavor m1.nano --no-network --wait -f json \
    "guest-vm2-$$" || fatal "no second server"
VM2="$(out 'j["id"]')"
wait_ready "$VM2" || fatal "the snapshot did not boot"
SOCK2="$(agent_socket "$VM2")" || fatal "no agent socket for $VM2"
check_eq "the file written before the snapshot" "$CONTENT" \
    "$(python3 "$REPO_ROOT/tests/e2e/guest_file.py" read "$SOCK2" /data/hello.txt)"

# ---------------------------------------------------------------------------------------------- cold snapshot
step "server stop (ACPI power-down), then a cold snapshot"
o_ok "server stop" server stop "$VM1"
status=""
for _ in $(seq 1 120); do
    o server show -f value -c status "$VM1"
    status="$(tr -d '[:space:]' <"$OUT")"
    [[ "$status" == SHUTOFF ]] && break
    sleep 1
done
check_eq "status after stop" SHUTOFF "$status"
o_ok "server image create (cold)" server image create --name "cold-$$" --wait -f json "$VM1" || fatal "no cold snapshot"
wait_snapshot_active "cold-$$" || fatal "the cold snapshot did not become active"
check_eq "cold snapshot consistency" cold "$(out 'j["properties"].get("glimpse_consistency")')"

# ---------------------------------------------------------------------------------------------- cleanup
step "delete everything; no QEMU is left"
o_ok "server delete --wait" server delete --wait "$VM1" "$VM2"
o_ok "image delete" image delete "live-$$" "cold-$$" "guest-$$"
check "no QEMU of this run is left" bash -c "! pgrep -f -- '$DATA' | xargs -r ps -o comm= -p | grep -q qemu"
stop_glimpse
finish
