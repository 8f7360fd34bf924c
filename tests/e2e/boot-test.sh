#!/usr/bin/env bash
# End-to-end: `glimpse image boot-test` against `glimpse serve --auth builtin --hypervisor qemu`, configured only
# by the openstack client's OS_* variables: the test guest (scripts/build-test-guest) passes with a check run in
# it, and the image says so (glimpse_boot_test=passed); a blank disk fails within its timeout (exit 1, reason on
# the image), also with OS_TOKEN instead of a password; a usage error exits 2; no throwaway server is left.
#
# Usage: tests/e2e/boot-test.sh     (GLIMPSE_BIN=path to skip the build; needs qemu-system-x86_64 and the guest
# build's packages, see scripts/install-prerequisites). Boots under TCG take 12-30 s each.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "setup"
command -v qemu-system-x86_64 >/dev/null || fatal "qemu-system-x86_64 missing (scripts/install-prerequisites)"
require_glimpse
e2e_mktemp WORK
DATA="$WORK/data"
PORT="$(free_port)"
ADMIN_PASSWORD="boot-$RANDOM-$RANDOM"
GUEST="$WORK/guest.qcow2"
GUEST_SKIP_PREREQUISITES=1 "$REPO_ROOT/scripts/build-test-guest" "$GUEST" >"$WORK/guest-build.log" 2>&1 ||
    { sed 's/^/    | /' "$WORK/guest-build.log" >&2; fatal "could not build the test guest"; }
pass "test guest built"

mkdir -p "$DATA"
GLIMPSE_URL="http://127.0.0.1:$PORT"
GLIMPSE_LOG="$DATA/glimpse-boot-test-$(date +%H%M%S)-$RANDOM.log"
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
export OS_AUTH_URL="$GLIMPSE_URL/identity/v3" OS_USERNAME=admin OS_PASSWORD="$ADMIN_PASSWORD" OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default

# The images go in with curl and a token (the subject is the boot test, not the upload).
TOKEN="$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' "$OS_AUTH_URL/auth/tokens" -d "$(python3 -c '
import json, os
print(json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",
  "domain": {"name": "Default"}, "password": os.environ["OS_PASSWORD"]}}},
  "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}))')" |
    tr -d '\r' | awk -F': ' 'tolower($1) == "x-subject-token" {print $2}')"
[[ -n "$TOKEN" ]] || fatal "no token"
AUTH=(-H "X-Auth-Token: $TOKEN")

# upload NAME FILE FORMAT [PROPERTY JSON]: prints the new image's id.
upload() {
    local name="$1" file="$2" format="$3" extra="${4:-}"
    http POST /v2/images "${AUTH[@]}" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$name\",\"disk_format\":\"$format\",\"container_format\":\"bare\"$extra}"
    [[ "$HTTP_STATUS" == 201 ]] || { fail "image create $name: $HTTP_STATUS $(body_snippet)"; return 1; }
    local id
    id="$(json_get "$HTTP_BODY" 'j["id"]')"
    http PUT "/v2/images/$id/file" "${AUTH[@]}" -H 'Content-Type: application/octet-stream' --data-binary "@$file"
    [[ "$HTTP_STATUS" == 204 ]] || { fail "image upload $name: $HTTP_STATUS $(body_snippet)"; return 1; }
    printf '%s' "$id"
}

step "a good image passes, with a check run in the guest"
GOOD_NAME="boot-test-guest-$$"
GOOD="$(upload "$GOOD_NAME" "$GUEST" qcow2 ',"hw_qemu_guest_agent":"yes"')" || fatal "no guest image"
set +e
"$GLIMPSE" image boot-test "$GOOD_NAME" --timeout 300 --check /bin/sh -c 'test -d /data && echo data-mounted' \
    >"$WORK/good.out" 2>&1
rc=$?
set -e
sed 's/^/    | /' "$WORK/good.out" >&2
check_eq "exit status (passed)" 0 "$rc"
check "the check's output is shown" grep -q 'data-mounted' "$WORK/good.out"
check "progress lines were printed" grep -q 'agent: the guest agent answered' "$WORK/good.out"
http GET "/v2/images/$GOOD" "${AUTH[@]}"
check_eq "glimpse_boot_test on the image" passed "$(json_get "$HTTP_BODY" 'j.get("glimpse_boot_test")')"

step "a blank disk fails within its timeout"
head -c 1048576 /dev/zero >"$WORK/blank.raw"
BLANK="$(upload "boot-test-blank-$$" "$WORK/blank.raw" raw ',"hw_qemu_guest_agent":"yes"')" || fatal "no blank image"
set +e
"$GLIMPSE" image boot-test "$BLANK" --timeout 15 >"$WORK/blank.out" 2>&1
rc=$?
set -e
sed 's/^/    | /' "$WORK/blank.out" >&2
check_eq "exit status (failed)" 1 "$rc"
check "the reason is printed" grep -q 'FAILED: the guest did not show it was up within 15 s' "$WORK/blank.out"
http GET "/v2/images/$BLANK" "${AUTH[@]}"
check_eq "glimpse_boot_test on the blank image" failed "$(json_get "$HTTP_BODY" 'j.get("glimpse_boot_test")')"

step "OS_TOKEN instead of a password (the token is rescoped to OS_PROJECT_NAME, as the openstack client does)"
set +e
env -u OS_USERNAME -u OS_PASSWORD OS_TOKEN="$TOKEN" "$GLIMPSE" image boot-test "$BLANK" --timeout 10 >"$WORK/token.out" 2>&1
rc=$?
set -e
sed 's/^/    | /' "$WORK/token.out" >&2
check_eq "exit status (failed, with a token)" 1 "$rc"
check "the test ran with the token" grep -q 'FAILED: the guest did not show it was up within 10 s' "$WORK/token.out"

step "usage errors exit 2"
set +e
"$GLIMPSE" image boot-test "$GOOD" --timeout 1 >/dev/null 2>&1
rc=$?
set -e
check_eq "exit status (usage)" 2 "$rc"

step "no throwaway server is left"
http GET /compute/v2.1/servers "${AUTH[@]}"
check_eq "servers left" 0 "$(json_get "$HTTP_BODY" 'len(j["servers"])')"
finish
