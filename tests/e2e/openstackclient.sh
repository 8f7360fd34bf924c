#!/usr/bin/env bash
# End-to-end: the real `openstack` CLI (python-openstackclient + openstacksdk, pinned) against a
# real `glimpse serve --auth none`, following the user document's image workflow:
#   openstack image create --disk-format raw --container-format bare --property visibility=community
#       --property skip_atmosphere=yes --property hw_disk_bus=scsi --property hw_scsi_model=virtio-scsi
#       --property hw_qemu_guest_agent=yes --property os_require_quiesce=yes --file F NAME
#   openstack image list / show NAME / save --file F ID / set / unset / delete ID
# No Keystone: `--os-auth-type none --os-endpoint URL` points the SDK straight at Glimpse (it then
# discovers the image API through GET /). Sharing (`image add project`) is not covered here: with
# auth none, OSC looks the project up on the image endpoint; glanceclient.sh covers members.
#
# Usage: tests/e2e/openstackclient.sh     (GLIMPSE_BIN=path to skip the build)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "setup"
require_glimpse
ensure_venv "$GLANCECLIENT_SPEC" "$OPENSTACKCLIENT_SPEC" || fatal "could not set up the client venv ($E2E_VENV)"
OSC="$E2E_VENV/bin/openstack"
log "$("$OSC" --version 2>&1 | head -n1) at $OSC"

e2e_mktemp WORK
start_glimpse "$WORK/data" || fatal "glimpse serve did not come up"
while read -r v; do unset "$v"; done < <(env | grep -o '^OS_[A-Za-z0-9_]*' || true)

OUT="$WORK/osc.out"
ERR="$WORK/osc.err"

# o ARGS...: run `openstack ARGS` (stdout in $OUT, stderr in $ERR, exit code in O_RC).
o() {
    log "\$ openstack $*"
    set +e
    # stdin from /dev/null: OSC 10.5.0 crashes with a closed stdin (commands here always pass --file).
    "$OSC" --os-auth-type none --os-endpoint "$GLIMPSE_URL" "$@" >"$OUT" 2>"$ERR" </dev/null
    O_RC=$?
    set -e
}

# o_ok WHAT ARGS...: run and assert exit code 0.
o_ok() {
    local what="$1"; shift
    o "$@"
    if [[ "$O_RC" == 0 ]]; then
        pass "$what (openstack exit 0)"
        return 0
    fi
    fail "$what: \`openstack $*\` exited $O_RC; stderr: $(tail -c 600 "$ERR" | tr '\n' ' ') stdout: $(head -c 300 "$OUT" | tr '\n' ' ')"
    return 1
}

# out EXPR: evaluate a Python expression over the JSON printed by the last command.
out() { json_get "$OUT" "$1"; }

DATA="$WORK/c7custom-image.raw"
head -c $((2 * 1024 * 1024 + 777)) /dev/urandom >"$DATA"
DATA_SIZE="$(stat -c %s "$DATA")"
DATA_MD5="$(md5_of "$DATA")"
NAME="My-Custom-Image-Name-$$"

step "openstack image create (the user document's command)"
o_ok "image create" image create --disk-format raw --container-format bare --property visibility=community \
    --property skip_atmosphere=yes --property hw_disk_bus=scsi --property hw_scsi_model=virtio-scsi \
    --property hw_qemu_guest_agent=yes --property os_require_quiesce=yes --file "$DATA" "$NAME" -f json ||
    fatal "image create failed; nothing else can be checked"
ID="$(out 'j["id"]')"
[[ "$ID" =~ ^[0-9a-f-]{36}$ ]] || fatal "image create printed no id: $(head -c 500 "$OUT")"
pass "image create printed id $ID"
check_eq "create: status" active "$(out 'j["status"]')"
check_eq "create: visibility" community "$(out 'j["visibility"]')"
check_eq "create: size" "$DATA_SIZE" "$(out 'j["size"]')"
check_eq "create: checksum" "$DATA_MD5" "$(out 'j["checksum"]')"
check_eq "create: disk_format" raw "$(out 'j["disk_format"]')"
check_eq "create: container_format" bare "$(out 'j["container_format"]')"
# (the SDK types some of these, e.g. os_require_quiesce as a boolean: check them in the API's JSON)
http GET "/v2/images/$ID" -H 'Accept: application/json'
check_status "GET /v2/images/$ID" 200
for kv in skip_atmosphere=yes hw_disk_bus=scsi hw_scsi_model=virtio-scsi hw_qemu_guest_agent=yes os_require_quiesce=yes \
    owner_specified.openstack.object="images/$NAME"; do
    check_eq "API: extra property ${kv%%=*} (top-level string)" "${kv#*=}" "$(json_get "$HTTP_BODY" "j.get('${kv%%=*}')")"
done
check_eq "API: extra property owner_specified.openstack.md5 (empty string)" "''" \
    "$(json_get "$HTTP_BODY" "repr(j.get('owner_specified.openstack.md5'))")"
check_eq "create output: properties.hw_disk_bus" scsi "$(out "j['properties'].get('hw_disk_bus')")"
check_eq "API: os_hash_algo" sha512 "$(json_get "$HTTP_BODY" 'j.get("os_hash_algo")')"
check_eq "API: os_hash_value" "$(sha512_of "$DATA")" "$(json_get "$HTTP_BODY" 'j.get("os_hash_value")')"

step "openstack image list / show (by name)"
if o_ok "image list" image list -f json; then
    check_eq "image list shows the image" "$NAME active" "$(out "[i['Name'] + ' ' + i['Status'] for i in j if i['ID'] == '$ID'][0] if any(i['ID'] == '$ID' for i in j) else 'not listed'")"
fi
if o_ok "image list --long" image list --long -f json; then
    check_eq "image list --long: Disk Format" raw "$(out "[i.get('Disk Format') for i in j if i['ID'] == '$ID'][0] if any(i['ID'] == '$ID' for i in j) else 'not listed'")"
fi
if o_ok "image show NAME (name lookup)" image show "$NAME" -f json; then
    check_eq "image show by name: id" "$ID" "$(out 'j["id"]')"
fi
if o_ok "image show ID" image show "$ID" -f json; then
    check_eq "image show by id: name" "$NAME" "$(out 'j["name"]')"
fi

step "openstack image save"
if o_ok "image save --file" image save --file "$WORK/saved.raw" "$ID"; then
    cmp -s "$DATA" "$WORK/saved.raw" && pass "saved file is identical (cmp)" ||
        fail "image save: file differs ($(stat -c %s "$WORK/saved.raw" 2>/dev/null) bytes)"
fi

step "openstack image set / unset"
NEW="$NAME-v2"
if o_ok "image set --name --property --tag" image set --name "$NEW" --property os_distro=centos --tag e2e-tag "$NAME"; then
    o_ok "image show after set" image show "$ID" -f json &&
        {
            check_eq "after set: name" "$NEW" "$(out 'j["name"]')"
            check_eq "after set: os_distro" centos "$(out "j['properties'].get('os_distro')")"
            check_eq "after set: tags" '["e2e-tag"]' "$(out 'sorted(j["tags"])')"
        }
fi
if o_ok "image unset --property --tag" image unset --property os_distro --tag e2e-tag "$NEW"; then
    o_ok "image show after unset" image show "$ID" -f json &&
        {
            check_eq "after unset: os_distro gone" None "$(out "str(j['properties'].get('os_distro'))")"
            check_eq "after unset: tags" '[]' "$(out 'j["tags"]')"
            check_eq "after unset: hw_disk_bus kept" scsi "$(out "j['properties'].get('hw_disk_bus')")"
        }
fi
if o_ok "image set --private" image set --private "$ID"; then
    http GET "/v2/images/$ID" -H 'Accept: application/json'
    check_eq "after set --private: visibility" private "$(json_get "$HTTP_BODY" 'j.get("visibility")')"
fi

step "openstack image set --deactivate / --activate"
if o_ok "image set --deactivate" image set --deactivate "$ID"; then
    http GET "/v2/images/$ID" -H 'Accept: application/json'
    check_eq "after --deactivate: status" deactivated "$(json_get "$HTTP_BODY" 'j.get("status")')"
fi
if o_ok "image set --activate" image set --activate "$ID"; then
    http GET "/v2/images/$ID" -H 'Accept: application/json'
    check_eq "after --activate: status" active "$(json_get "$HTTP_BODY" 'j.get("status")')"
fi

step "protected images can't be deleted"
if o_ok "image set --protected" image set --protected "$ID"; then
    o image delete "$ID"
    [[ "$O_RC" != 0 ]] && pass "image delete of a protected image fails (exit $O_RC: $(tail -c 200 "$ERR" | tr '\n' ' '))" ||
        fail "image delete of a protected image succeeded"
    http DELETE "/v2/images/$ID" -H 'Accept: application/json'
    check_status "DELETE /v2/images/$ID of a protected image" 403
    o_ok "image set --unprotected" image set --unprotected "$ID" || true
fi

step "openstack image delete"
if o_ok "image delete" image delete "$ID"; then
    o image show "$ID"
    [[ "$O_RC" != 0 ]] && pass "image show of the deleted image fails (exit $O_RC)" || fail "image show of the deleted image succeeded"
    http GET "/v2/images/$ID" -H 'Accept: application/json'
    check_status "GET /v2/images/$ID after delete" 404
    if o_ok "image list after delete" image list -f json; then
        check_eq "image list no longer shows the image" false "$(out "any(i['ID'] == '$ID' for i in j)")"
    fi
fi

kill -0 "$GLIMPSE_PID" 2>/dev/null && pass "glimpse still running" || { fail "glimpse died during the test"; show_log; }
stop_glimpse
finish
