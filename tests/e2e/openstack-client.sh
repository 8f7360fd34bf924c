#!/usr/bin/env bash
# End-to-end: the real `openstack` CLI (python-openstackclient 10.5.0 / openstacksdk 4.22.0, pinned) against
# `glimpse serve` with its DEFAULT auth, the built-in Identity API v3 at /identity: nothing but OS_* environment
# variables (the openrc Glimpse writes, then other users' names and passwords).
#   - bootstrap: openrc (mode 0600) in the data dir; the admin password never appears in the log
#   - as admin: project create, user create, role add, role assignment list, token issue
#   - as project A's member: the seed's image create (community, --file), image list/show NAME/set/unset/save
#   - sharing: image set --shared, image add project (A's user), image set --accept (B's user)
#   - a private image of A: B cannot list, show, download, change or delete it
#   - a revoked token gets 401; image delete; user/project delete
#
# Usage: tests/e2e/openstack-client.sh     (GLIMPSE_BIN=path to skip the build)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Every check below is explicit (pass/fail/fatal); a failing client command must not end the script.
set +e

OSC_SDK_SPEC="openstacksdk==4.22.0"

step "setup"
require_glimpse
ensure_venv "$OPENSTACKCLIENT_SPEC" "$OSC_SDK_SPEC" || fatal "could not install the openstack client"
OSC="$E2E_VENV/bin/openstack"
log "$("$OSC" --version 2>&1 | head -n1) at $OSC"
e2e_mktemp WORK
while read -r v; do unset "$v"; done < <(env | grep -o '^OS_[A-Za-z0-9_]*' || true)

# start_builtin DATA_DIR: `glimpse serve` with no --auth flag (the built-in identity is the default).
ADMIN_PW="Adm1n-$RANDOM-$RANDOM-pw"
start_builtin() {
    local data_dir="$1"
    GLIMPSE_PORT="$(free_port)"
    GLIMPSE_URL="http://127.0.0.1:$GLIMPSE_PORT"
    GLIMPSE_LOG="$WORK/glimpse.log"
    mkdir -p "$data_dir"
    log "starting: GLIMPSE_ADMIN_PASSWORD=*** glimpse serve --port $GLIMPSE_PORT --data-dir $data_dir (log $GLIMPSE_LOG)"
    GLIMPSE_ADMIN_PASSWORD="$ADMIN_PW" "$GLIMPSE" serve --hypervisor overlay --host 127.0.0.1 --port "$GLIMPSE_PORT" --data-dir "$data_dir" \
        >"$GLIMPSE_LOG" 2>&1 </dev/null &
    GLIMPSE_PID=$!
    track_pid "$GLIMPSE_PID"
    local start=$SECONDS code
    while :; do
        kill -0 "$GLIMPSE_PID" 2>/dev/null || { sed 's/^/    | /' "$GLIMPSE_LOG" >&2; return 1; }
        code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$GLIMPSE_URL/versions" || true)"
        [[ "$code" == 200 ]] && { log "glimpse is up (pid $GLIMPSE_PID)"; return 0; }
        ((SECONDS - start < ${E2E_START_TIMEOUT:-60})) || { sed 's/^/    | /' "$GLIMPSE_LOG" >&2; return 1; }
        sleep 0.2
    done
}
DATA="$WORK/data"
start_builtin "$DATA" || fatal "glimpse serve did not come up"

step "bootstrap: openrc and log"
OPENRC="$DATA/openrc"
[[ -f "$OPENRC" ]] && pass "openrc written to the data dir" || fatal "no $OPENRC"
check_eq "openrc mode" 600 "$(stat -c %a "$OPENRC")"
grep -q "source $OPENRC" "$GLIMPSE_LOG" && pass "the log says where openrc is" || fail "the log does not name $OPENRC"
grep -qF "$ADMIN_PW" "$GLIMPSE_LOG" && fail "the admin password appears in the log" || pass "the admin password is not in the log"
http GET /identity
check_status "GET /identity (version list)" 300
http GET /identity/v3
check_status "GET /identity/v3" 200
http GET /v2/images
check_status "GET /v2/images without a token" 401
grep -qi '^WWW-Authenticate: Keystone uri="http://127.0.0.1:[0-9]*/identity"' "$HTTP_HEADERS" &&
    pass "401 carries WWW-Authenticate: Keystone uri=..." || fail "401 without the Keystone WWW-Authenticate header"

# shellcheck disable=SC1090
. "$OPENRC"
log "OS_* now: $(env | grep -o '^OS_[A-Z_]*' | sort | tr '\n' ' ')"

OUT="$WORK/osc.out"
ERR="$WORK/osc.err"
# o ARGS...: `openstack ARGS` with the current OS_* environment (stdout $OUT, stderr $ERR, exit code O_RC).
o() {
    log "\$ openstack $* (as ${OS_USERNAME:-token}@${OS_PROJECT_NAME:-${OS_PROJECT_ID:-}})"
    "$OSC" "$@" >"$OUT" 2>"$ERR" </dev/null
    O_RC=$?
}
o_ok() {
    local what="$1"; shift
    o "$@"
    if [[ "$O_RC" == 0 ]]; then pass "$what"; return 0; fi
    fail "$what: \`openstack $*\` exited $O_RC; stderr: $(tail -c 600 "$ERR" | tr '\n' ' ')"
    return 1
}
# o_fails WHAT ARGS...: the command must fail.
o_fails() {
    local what="$1"; shift
    o "$@"
    if [[ "$O_RC" != 0 ]]; then pass "$what (exit $O_RC: $(tail -n1 "$ERR" | head -c 160))"; return 0; fi
    fail "$what: \`openstack $*\` succeeded: $(head -c 300 "$OUT" | tr '\n' ' ')"
}
out() { json_get "$OUT" "$1"; }
# as USER PASSWORD PROJECT CMD...: run CMD with another user's OS_* (subshell).
as() {
    local u="$1" p="$2" pr="$3"; shift 3
    local su="$OS_USERNAME" sp="$OS_PASSWORD" spr="$OS_PROJECT_NAME"
    export OS_USERNAME="$u" OS_PASSWORD="$p" OS_PROJECT_NAME="$pr"
    "$@"
    local rc=$?
    export OS_USERNAME="$su" OS_PASSWORD="$sp" OS_PROJECT_NAME="$spr"
    return $rc
}

step "admin: token issue, project/user create, role add"
o_ok "token issue (admin)" token issue -f json || fatal "the admin cannot log in with openrc"
check_eq "token issue: project is admin's" true "$(out 'j["project_id"] != ""')"
o_ok "project create proj-a" project create --domain default --description "first project" proj-a -f json || fatal "project create failed"
PA="$(out 'j["id"]')"
o_ok "project create proj-b" project create proj-b -f json || fatal "project create failed"
PB="$(out 'j["id"]')"
o_ok "user create user-a" user create --domain default --project proj-a --password pa-secret --email a@example.org user-a -f json ||
    fatal "user create failed"
UA="$(out 'j["id"]')"
o_ok "user create user-b" user create --project proj-b --password pb-secret user-b -f json || fatal "user create failed"
o_ok "role add member (user-a on proj-a)" role add --project proj-a --user user-a member
o_ok "role add member (user-b on proj-b)" role add --project proj-b --user user-b member
if o_ok "role assignment list --names" role assignment list --user user-a --project proj-a --names -f json; then
    check_eq "user-a's roles on proj-a" '["member"]' "$(out 'sorted(r["Role"] for r in j)')"
fi
if o_ok "project list" project list -f json; then
    check_eq "project list names" '["admin", "proj-a", "proj-b"]' "$(out 'sorted(p["Name"] for p in j)')"
fi
o_ok "user show user-a" user show user-a -f json && check_eq "user show: email" a@example.org "$(out 'j.get("email")')"
o_ok "role list" role list -f json && check_eq "role list has admin/member/reader" true "$(out '{"admin","member","reader"} <= {r["Name"] for r in j}')"

step "user-a: the seed's image create, list, show, set, unset, save"
IMG="$WORK/c7custom-image.raw"
head -c $((3 * 1024 * 1024 + 123)) /dev/urandom >"$IMG"
NAME="My-Custom-Image-Name-$$"
as user-a pa-secret proj-a o_ok "image create (seed command)" image create --disk-format raw --container-format bare \
    --property visibility=community --property skip_atmosphere=yes --property hw_disk_bus=scsi \
    --property hw_scsi_model=virtio-scsi --property hw_qemu_guest_agent=yes --property os_require_quiesce=yes \
    --file "$IMG" "$NAME" -f json || fatal "image create failed"
ID="$(out 'j["id"]')"
check_eq "image create: status" active "$(out 'j["status"]')"
check_eq "image create: visibility" community "$(out 'j["visibility"]')"
check_eq "image create: owner is proj-a" "$PA" "$(out 'j["owner"]')"
check_eq "image create: hw_scsi_model" virtio-scsi "$(out 'j["properties"].get("hw_scsi_model")')"
if as user-a pa-secret proj-a o_ok "image list" image list -f json; then
    check_eq "image list shows it" true "$(out "any(i['ID'] == '$ID' for i in j)")"
fi
as user-a pa-secret proj-a o_ok "image show NAME" image show "$NAME" -f json && check_eq "image show: id" "$ID" "$(out 'j["id"]')"
as user-a pa-secret proj-a o_ok "image set --property" image set --property os_distro=centos "$NAME"
as user-a pa-secret proj-a o_ok "image show after set" image show "$ID" -f json &&
    check_eq "after set: os_distro" centos "$(out 'j["properties"].get("os_distro")')"
as user-a pa-secret proj-a o_ok "image unset --property" image unset --property os_distro "$NAME"
as user-a pa-secret proj-a o_ok "image show after unset" image show "$ID" -f json &&
    check_eq "after unset: os_distro" None "$(out 'str(j["properties"].get("os_distro"))')"
if as user-a pa-secret proj-a o_ok "image save" image save --file "$WORK/saved.raw" "$ID"; then
    cmp -s "$IMG" "$WORK/saved.raw" && pass "saved bytes are identical" || fail "image save: bytes differ"
fi

step "sharing: image add project (user-a), image set --accept (user-b)"
as user-a pa-secret proj-a o_ok "image set --shared" image set --shared "$ID"
# As a non-admin, OSC's GET /v3/projects/{id} gets 403 and it uses the id as given (identity/common._find_sdk_id).
as user-a pa-secret proj-a o_ok "image add project (proj-b's id)" image add project "$ID" "$PB" -f json &&
    check_eq "member status" pending "$(out 'j.get("status")')"
as user-b pb-secret proj-b o_ok "image set --accept (user-b)" image set --accept "$ID"
if as user-b pb-secret proj-b o_ok "image list (user-b)" image list -f json; then
    check_eq "user-b lists the accepted shared image" true "$(out "any(i['ID'] == '$ID' for i in j)")"
fi
as user-b pb-secret proj-b o_ok "image save (user-b, shared)" image save --file "$WORK/saved-b.raw" "$ID" &&
    { cmp -s "$IMG" "$WORK/saved-b.raw" && pass "user-b's saved bytes are identical" || fail "user-b's bytes differ"; }
as user-b pb-secret proj-b o_fails "image delete by a member of another project fails" image delete "$ID"
as user-b pb-secret proj-b o_fails "image set by a member of another project fails" image set --property x=y "$ID"

step "a private image of proj-a is invisible to proj-b"
SECRET="secret-$$"
head -c 4096 /dev/urandom >"$WORK/secret.raw"
as user-a pa-secret proj-a o_ok "image create --private" image create --private --disk-format raw --container-format bare \
    --file "$WORK/secret.raw" "$SECRET" -f json || fatal "private image create failed"
SID="$(out 'j["id"]')"
if as user-b pb-secret proj-b o_ok "image list (user-b)" image list -f json; then
    check_eq "user-b does not list the private image" false "$(out "any(i['ID'] == '$SID' for i in j)")"
fi
as user-b pb-secret proj-b o_fails "image show of another project's private image" image show "$SID"
as user-b pb-secret proj-b o_fails "image save of another project's private image" image save --file "$WORK/stolen.raw" "$SID"
as user-b pb-secret proj-b o_fails "image set on another project's private image" image set --name mine "$SID"
as user-b pb-secret proj-b o_fails "image delete of another project's private image" image delete "$SID"
# The same on the wire: Glance answers 404 for an image the caller may not see.
as user-b pb-secret proj-b o_ok "token issue (user-b)" token issue -f value -c id
TB="$(cat "$OUT")"
for call in "GET /v2/images/$SID" "GET /v2/images/$SID/file" "DELETE /v2/images/$SID"; do
    http ${call} -H "X-Auth-Token: $TB"
    check_status "$call as user-b" 404
done
http PATCH "/v2/images/$SID" -H "X-Auth-Token: $TB" -H 'Content-Type: application/openstack-images-v2.1-json-patch' \
    --data '[{"op":"replace","path":"/name","value":"mine"}]'
check_status "PATCH /v2/images/$SID as user-b" 404
as user-a pa-secret proj-a o_ok "image show (owner still sees it unchanged)" image show "$SID" -f json &&
    check_eq "private image name" "$SECRET" "$(out 'j["name"]')"

step "a revoked token gets 401"
http GET /v2/images -H "X-Auth-Token: $TB"
check_status "GET /v2/images with user-b's token" 200
as user-b pb-secret proj-b o_ok "token revoke" token revoke "$TB"
http GET /v2/images -H "X-Auth-Token: $TB"
check_status "GET /v2/images with the revoked token" 401
# The CLI with a revoked token passed explicitly fails too.
(
    unset OS_USERNAME OS_PASSWORD OS_USER_DOMAIN_NAME OS_PROJECT_NAME OS_PROJECT_DOMAIN_NAME
    export OS_AUTH_TYPE=token OS_TOKEN="$TB" OS_PROJECT_ID="$PB"
    o_fails "openstack image list with a revoked OS_TOKEN" image list
    [[ "$(grep -ci '401\|unauthori\|authenticat' "$ERR")" != 0 ]] && pass "the CLI reports the 401" || fail "no 401 in: $(tail -c 300 "$ERR")"
    exit $((E2E_FAILED > 0))
) || fail "revoked OS_TOKEN checks"

step "image delete, user and project delete"
as user-a pa-secret proj-a o_ok "image delete (shared image)" image delete "$ID"
as user-a pa-secret proj-a o_ok "image delete (private image)" image delete "$SID"
as user-a pa-secret proj-a o_fails "image show after delete" image show "$ID"
o_ok "user delete user-b" user delete user-b
as user-b pb-secret proj-b o_fails "a deleted user cannot log in" token issue
o_ok "project delete proj-b" project delete proj-b
o_ok "user delete user-a" user delete user-a
o_ok "project delete proj-a" project delete proj-a

grep -qF "$ADMIN_PW" "$GLIMPSE_LOG" && fail "the admin password appears in the log" || pass "no password in the log after the run"
grep -qE 'pa-secret|pb-secret' "$GLIMPSE_LOG" && fail "a user password appears in the log" || pass "no user password in the log"
kill -0 "$GLIMPSE_PID" 2>/dev/null && pass "glimpse still running" || { fail "glimpse died"; show_log; }
stop_glimpse
finish
