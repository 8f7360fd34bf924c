#!/usr/bin/env bash
# End-to-end: the real `openstack` CLI (python-openstackclient, pinned in lib.sh) against `glimpse serve --auth builtin`
# for the identity features beyond passwords:
#   - system scope: `openstack --os-system-scope all user list`, `role add --system all`, a system-scoped token
#   - names with spaces: `image show "Test Image"`, `project show "my proj"`, openstacksdk find_image
#   - application credentials: create/list/show/delete as a project member; then a fresh environment holding
#     only OS_AUTH_TYPE=v3applicationcredential, OS_AUTH_URL and the credential's id and secret runs
#     `image list` and `token issue`; after `application credential delete` the same environment fails
#
# Usage: tests/e2e/identity-client.sh     (GLIMPSE_BIN=path to skip the build)
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

ADMIN_PW="Adm1n-$RANDOM-$RANDOM-pw"
DATA="$WORK/data"
mkdir -p "$DATA"
GLIMPSE_PORT="$(free_port)"
GLIMPSE_URL="http://127.0.0.1:$GLIMPSE_PORT"
GLIMPSE_LOG="$WORK/glimpse.log"
log "starting: GLIMPSE_ADMIN_PASSWORD=*** glimpse serve --auth builtin --port $GLIMPSE_PORT (log $GLIMPSE_LOG)"
GLIMPSE_ADMIN_PASSWORD="$ADMIN_PW" "$GLIMPSE" serve --hypervisor overlay --auth builtin --host 127.0.0.1 --port "$GLIMPSE_PORT" \
    --data-dir "$DATA" >"$GLIMPSE_LOG" 2>&1 </dev/null &
GLIMPSE_PID=$!
track_pid "$GLIMPSE_PID"
up=0
for _ in $(seq 1 300); do
    kill -0 "$GLIMPSE_PID" 2>/dev/null || break
    [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$GLIMPSE_URL/versions" || true)" == 200 ]] && { up=1; break; }
    sleep 0.2
done
((up)) || { show_log; fatal "glimpse serve did not come up"; }

OUT="$WORK/osc.out"
ERR="$WORK/osc.err"
o() {
    log "\$ openstack $*"
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
o_fails() {
    local what="$1"; shift
    o "$@"
    if [[ "$O_RC" != 0 ]]; then pass "$what (exit $O_RC: $(tail -n1 "$ERR" | head -c 160))"; return 0; fi
    fail "$what: \`openstack $*\` succeeded: $(head -c 300 "$OUT" | tr '\n' ' ')"
}
out() { json_get "$OUT" "$1"; }

# shellcheck disable=SC1090
. "$DATA/openrc"

step "system scope"
(
    unset OS_PROJECT_NAME OS_PROJECT_DOMAIN_NAME
    o_ok "user list with --os-system-scope all" --os-system-scope all user list -f json &&
        check_eq "the system-scoped admin lists admin" true "$(out 'any(u["Name"] == "admin" for u in j)')"
    o_ok "token issue with --os-system-scope all" --os-system-scope all token issue -f json &&
        check_eq "a system-scoped token has no project" true "$(out 'not j.get("project_id")')"
    exit $((E2E_FAILED > 0))
) || fail "system-scoped login"
o_ok "project create proj-ac" project create proj-ac -f json || fatal "project create failed"
PAC="$(out 'j["id"]')"
o_ok "user create ops" user create --password ops-secret ops -f json || fatal "user create failed"
o_ok "user create dev" user create --project proj-ac --password dev-secret dev -f json || fatal "user create failed"
DEV="$(out 'j["id"]')"
o_ok "role add member (dev on proj-ac)" role add --project proj-ac --user dev member
o_ok "role add --system all --user ops admin" role add --system all --user ops admin
if o_ok "role assignment list --system all --names" role assignment list --system all --names -f json; then
    check_eq "ops is a system admin" true "$(out 'any(r["User"].startswith("ops") and r["Role"] == "admin" and r["System"] == "all" for r in j)')"
fi
(
    unset OS_PROJECT_NAME OS_PROJECT_DOMAIN_NAME
    export OS_USERNAME=ops OS_PASSWORD=ops-secret
    o_ok "ops lists users system-scoped" --os-system-scope all user list -f json &&
        check_eq "ops sees dev" true "$(out 'any(u["Name"] == "dev" for u in j)')"
    exit $((E2E_FAILED > 0))
) || fail "the new system admin"

step "names with spaces (keystoneauth and openstacksdk send a space as '+')"
o_ok "image create \"Test Image\"" image create --disk-format raw --container-format bare --private "Test Image" -f json &&
    SPACED_ID="$(out 'j["id"]')"
o_ok "image show \"Test Image\" (found by name)" image show "Test Image" -f json &&
    check_eq "image show by name finds it" "$SPACED_ID" "$(out 'j["id"]')"
o_ok "project create \"my proj\"" project create "my proj" -f json
o_ok "project show \"my proj\" (found by name)" project show "my proj" -f json &&
    check_eq "project show by name finds it" "my proj" "$(out 'j["name"]')"
"$E2E_VENV/bin/python" - >"$OUT" 2>"$ERR" <<'PY'
import json, openstack
conn = openstack.connect()
image = conn.image.find_image("Test Image")
projects = [p.name for p in conn.identity.projects(name="my proj")]
print(json.dumps({"image": image.id if image else None, "projects": projects}))
PY
if [[ $? == 0 ]]; then
    check_eq "openstacksdk find_image('Test Image')" "$SPACED_ID" "$(out 'j["image"]')"
    check_eq "openstacksdk projects(name='my proj')" '["my proj"]' "$(out 'j["projects"]')"
else
    fail "openstacksdk find_image: $(tail -c 600 "$ERR" | tr '\n' ' ')"
fi

step "application credentials (as dev on proj-ac)"
export OS_USERNAME=dev OS_PASSWORD=dev-secret OS_PROJECT_NAME=proj-ac
o_ok "application credential create mycred" application credential create --description "e2e" mycred -f json ||
    fatal "application credential create failed"
# OSC prints the credential with its column headers as keys.
AC_ID="$(out 'j["ID"]')"
AC_SECRET="$(out 'j["Secret"]')"
check_eq "the credential is for proj-ac" "$PAC" "$(out 'j["Project ID"]')"
[[ -n "$AC_SECRET" && "$AC_SECRET" != None ]] && pass "create returns a secret" || fail "no secret in the create answer"
if o_ok "application credential list" application credential list -f json; then
    check_eq "list shows mycred" true "$(out "any(c['ID'] == '$AC_ID' and c['Name'] == 'mycred' for c in j)")"
fi
if o_ok "application credential show mycred" application credential show mycred -f json; then
    check_eq "show: id" "$AC_ID" "$(out 'j["ID"]')"
    check_eq "show: no secret" True "$(out 'str(not j.get("Secret"))')"
fi
http GET "/identity/v3/users/$DEV/application_credentials/$AC_ID"
check_status "GET the credential without a token" 401

# app_env CMD...: CMD in an environment holding only the application credential (and PATH/HOME).
app_env() {
    env -i PATH="$PATH" HOME="$HOME" OS_AUTH_TYPE=v3applicationcredential OS_AUTH_URL="$OS_AUTH_URL" \
        OS_APPLICATION_CREDENTIAL_ID="$AC_ID" OS_APPLICATION_CREDENTIAL_SECRET="$AC_SECRET" "$@"
}
log "\$ env -i OS_AUTH_TYPE=v3applicationcredential OS_AUTH_URL=... OS_APPLICATION_CREDENTIAL_ID=$AC_ID ... openstack image list"
app_env "$OSC" image list -f json >"$OUT" 2>"$ERR" </dev/null && pass "image list with only the application credential" ||
    fail "image list with the application credential: $(tail -c 600 "$ERR" | tr '\n' ' ')"
if app_env "$OSC" token issue -f json >"$OUT" 2>"$ERR" </dev/null; then
    pass "token issue with only the application credential"
    check_eq "the token is scoped to proj-ac" "$PAC" "$(out 'j["project_id"]')"
else
    fail "token issue with the application credential: $(tail -c 600 "$ERR" | tr '\n' ' ')"
fi

o_ok "application credential delete mycred" application credential delete mycred
if app_env "$OSC" token issue -f json >"$OUT" 2>"$ERR" </dev/null; then
    fail "token issue still works after application credential delete"
else
    pass "token issue fails after the credential is deleted ($(tail -n1 "$ERR" | head -c 120))"
fi
app_env "$OSC" image list >"$OUT" 2>"$ERR" </dev/null && fail "image list still works after delete" ||
    pass "image list fails after the credential is deleted"
o_fails "application credential show after delete" application credential show mycred

grep -qF "$AC_SECRET" "$GLIMPSE_LOG" && fail "the credential secret appears in the log" || pass "no secret in the log"
kill -0 "$GLIMPSE_PID" 2>/dev/null && pass "glimpse still running" || { fail "glimpse died"; show_log; }
stop_glimpse
finish
