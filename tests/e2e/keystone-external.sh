#!/usr/bin/env bash
# End-to-end: `glimpse serve --auth keystone` validating users' tokens against a REAL Keystone 30.0.0 (from PyPI,
# SQLite, fernet tokens, served by wsgiref in one process), with the real `openstack` CLI going through
# Keystone's catalog to Glimpse:
#   - keystone-manage db_sync / fernet_setup / credential_setup / bootstrap in a temp dir
#   - as Keystone's admin: a `service` project and role, the service user `glimpse`, users demo and alt
#     (role member), the image service with public/internal/admin endpoints at Glimpse's URL
#   - glimpse serve --auth keystone --keystone-url URL --keystone-user glimpse --keystone-project service
#     (password in env GLIMPSE_KEYSTONE_PASSWORD)
#   - no/forged token: 401 with WWW-Authenticate: Keystone uri=<keystone>
#   - demo: image create/list/show/save through the CLI; alt cannot see demo's private image; admin can
#   - a token revoked in Keystone is refused once Glimpse's short cache lapses
#
# Usage: tests/e2e/keystone-external.sh    (GLIMPSE_BIN=path to skip the build;
#        KEYSTONE_VENV=dir to reuse a venv with keystone==30.0.0)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set +e

KEYSTONE_SPEC="keystone==30.0.0"
OSC_SDK_SPEC="openstacksdk==4.22.0"
KEYSTONE_VENV="${KEYSTONE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/glimpse-e2e/venv-keystone-30.0.0}"

step "setup: glimpse, the openstack CLI, Keystone $KEYSTONE_SPEC"
require_glimpse
ensure_venv "$OPENSTACKCLIENT_SPEC" "$OSC_SDK_SPEC" || fatal "could not install the openstack client"
OSC="$E2E_VENV/bin/openstack"
if [[ ! -x "$KEYSTONE_VENV/bin/keystone-manage" ]]; then
    log "installing $KEYSTONE_SPEC into $KEYSTONE_VENV (a few minutes the first time)"
    rm -rf "$KEYSTONE_VENV"
    mkdir -p "$(dirname "$KEYSTONE_VENV")"
    python3 -m venv "$KEYSTONE_VENV" >&2 || fatal "python3 -m venv failed (apt-get install python3-venv?)"
    "$KEYSTONE_VENV/bin/pip" install --quiet --disable-pip-version-check "$KEYSTONE_SPEC" >&2 ||
        { rm -rf "$KEYSTONE_VENV"; fatal "pip install $KEYSTONE_SPEC failed"; }
fi
[[ -x "$KEYSTONE_VENV/bin/keystone-manage" ]] || fatal "no keystone-manage in $KEYSTONE_VENV"
pass "keystone $("$KEYSTONE_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("keystone"))')"

e2e_mktemp WORK
while read -r v; do unset "$v"; done < <(env | grep -o '^OS_[A-Za-z0-9_]*' || true)
KPORT="$(free_port)"
KURL="http://127.0.0.1:$KPORT"
GPORT="$(free_port)"
GURL="http://127.0.0.1:$GPORT"
KADMIN_PW="ks-admin-$RANDOM$RANDOM"
SERVICE_PW="glimpse-svc-$RANDOM$RANDOM"
KDIR="$WORK/keystone"
mkdir -p "$KDIR"
cat >"$KDIR/keystone.conf" <<EOF
[DEFAULT]
log_file = $KDIR/keystone.log
[database]
connection = sqlite:///$KDIR/keystone.sqlite
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = $KDIR/fernet-keys/
[fernet_receipts]
key_repository = $KDIR/fernet-keys/
[credential]
key_repository = $KDIR/credential-keys/
EOF
KM=("$KEYSTONE_VENV/bin/keystone-manage" --config-file "$KDIR/keystone.conf")
step "keystone-manage db_sync, fernet_setup, credential_setup, bootstrap"
{
    "${KM[@]}" db_sync &&
        "${KM[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" &&
        "${KM[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" &&
        "${KM[@]}" bootstrap --bootstrap-password "$KADMIN_PW" --bootstrap-username admin \
            --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-service-name keystone \
            --bootstrap-region-id RegionOne --bootstrap-admin-url "$KURL/v3" --bootstrap-internal-url "$KURL/v3" \
            --bootstrap-public-url "$KURL/v3"
} >"$KDIR/manage.log" 2>&1 || { tail -n 30 "$KDIR/manage.log" >&2; fatal "keystone-manage failed"; }
pass "keystone database, keys and bootstrap"

# Keystone's WSGI application in a threaded wsgiref server (no uWSGI build needed).
cat >"$KDIR/serve.py" <<'EOF'
import os, sys
conf, port = sys.argv[1], int(sys.argv[2])
sys.argv = sys.argv[:1]  # oslo.config parses argv
os.environ["OS_KEYSTONE_CONFIG_FILES"] = conf
from socketserver import ThreadingMixIn
from wsgiref.simple_server import make_server, WSGIServer, WSGIRequestHandler
class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
class Handler(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("access: %s\n" % (fmt % args))
from keystone.wsgi.api import application
make_server("127.0.0.1", port, application, server_class=Server, handler_class=Handler).serve_forever()
EOF
"$KEYSTONE_VENV/bin/python" "$KDIR/serve.py" "$KDIR/keystone.conf" "$KPORT" >"$KDIR/serve.log" 2>&1 </dev/null &
KPID=$!
track_pid "$KPID"
for _ in $(seq 1 300); do
    [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$KURL/v3")" == 200 ]] && break
    kill -0 "$KPID" 2>/dev/null || break
    sleep 0.2
done
[[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$KURL/v3")" == 200 ]] ||
    { tail -n 30 "$KDIR/serve.log" >&2; fatal "keystone did not answer on $KURL/v3"; }
pass "keystone answers at $KURL/v3 (pid $KPID)"

OUT="$WORK/osc.out"
ERR="$WORK/osc.err"
o() {
    log "\$ openstack $* (as ${OS_USERNAME:-?}@${OS_PROJECT_NAME:-?})"
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
    if [[ "$O_RC" != 0 ]]; then pass "$what (exit $O_RC)"; return 0; fi
    fail "$what: \`openstack $*\` succeeded"
}
out() { json_get "$OUT" "$1"; }
as() {
    local u="$1" p="$2" pr="$3"; shift 3
    local su="$OS_USERNAME" sp="$OS_PASSWORD" spr="$OS_PROJECT_NAME"
    export OS_USERNAME="$u" OS_PASSWORD="$p" OS_PROJECT_NAME="$pr"
    "$@"
    local rc=$?
    export OS_USERNAME="$su" OS_PASSWORD="$sp" OS_PROJECT_NAME="$spr"
    return $rc
}
export OS_AUTH_URL="$KURL/v3" OS_IDENTITY_API_VERSION=3 OS_USERNAME=admin OS_PASSWORD="$KADMIN_PW" \
    OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_REGION_NAME=RegionOne \
    OS_INTERFACE=public

step "provision Keystone: service user, demo users, the image endpoint at Glimpse"
o_ok "project create service" project create --domain default service || fatal "keystone admin calls fail"
# keystone-manage bootstrap of Keystone 30 already makes the roles admin, manager, member, reader and service.
o role show service >/dev/null
[[ "$O_RC" == 0 ]] && pass "role service exists" || o_ok "role create service" role create service
o_ok "user create glimpse" user create --domain default --password "$SERVICE_PW" glimpse
o_ok "role add service (glimpse on service)" role add --project service --user glimpse service
for who in demo alt; do
    o_ok "project create $who" project create --domain default "$who"
    o_ok "user create $who" user create --domain default --project "$who" --password "$who-pw" "$who"
    o_ok "role add member ($who)" role add --project "$who" --user "$who" member
done
o_ok "service create image" service create --name glance image -f json || fatal "service create failed"
SVC="$(out 'j["id"]')"
for iface in public internal admin; do
    o_ok "endpoint create $iface" endpoint create --region RegionOne "$SVC" "$iface" "$GURL"
done

step "glimpse serve --auth keystone"
GLIMPSE_PORT="$GPORT"
GLIMPSE_URL="$GURL"
GLIMPSE_LOG="$WORK/glimpse.log"
GLIMPSE_KEYSTONE_PASSWORD="$SERVICE_PW" "$GLIMPSE" serve --hypervisor overlay --host 127.0.0.1 --port "$GPORT" --data-dir "$WORK/data" \
    --auth keystone --keystone-url "$KURL" --keystone-user glimpse --keystone-project service \
    >"$GLIMPSE_LOG" 2>&1 </dev/null &
GLIMPSE_PID=$!
track_pid "$GLIMPSE_PID"
for _ in $(seq 1 300); do
    [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$GURL/versions")" == 200 ]] && break
    kill -0 "$GLIMPSE_PID" 2>/dev/null || break
    sleep 0.2
done
[[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$GURL/versions")" == 200 ]] ||
    { sed 's/^/    | /' "$GLIMPSE_LOG" >&2; fatal "glimpse did not come up"; }
pass "glimpse up with --auth keystone"
grep -qF "$SERVICE_PW" "$GLIMPSE_LOG" && fail "the service password appears in the log" || pass "the service password is not in the log"

step "tokens: none, forged, real"
http GET /v2/images
check_status "GET /v2/images without a token" 401
grep -qiF "WWW-Authenticate: Keystone uri=\"$KURL\"" "$HTTP_HEADERS" && pass "WWW-Authenticate names Keystone" ||
    fail "WWW-Authenticate: $(grep -i www-auth "$HTTP_HEADERS")"
http GET /v2/images -H "X-Auth-Token: gAAAAABforgedforgedforgedforged"
check_status "GET /v2/images with a forged token" 401
http GET /identity/v3
check_status "GET /identity/v3 (the built-in identity is not mounted with --auth keystone)" 404
as demo demo-pw demo o_ok "token issue (demo, from Keystone)" token issue -f value -c id || fatal "demo cannot log in"
TDEMO="$(cat "$OUT")"
http GET /v2/images -H "X-Auth-Token: $TDEMO"
check_status "GET /v2/images with demo's Keystone token" 200

step "the openstack CLI through Keystone's catalog to Glimpse"
IMG="$WORK/disk.raw"
head -c $((1024 * 1024 + 5)) /dev/urandom >"$IMG"
as demo demo-pw demo o_ok "image create (demo, private)" image create --private --disk-format raw --container-format bare \
    --property hw_disk_bus=scsi --file "$IMG" demo-image -f json || fatal "image create through Keystone's catalog failed"
ID="$(out 'j["id"]')"
check_eq "owner is demo's project" "$(as demo demo-pw demo "$OSC" token issue -f value -c project_id 2>/dev/null)" "$(out 'j["owner"]')"
as demo demo-pw demo o_ok "image list (demo)" image list -f json &&
    check_eq "demo lists it" true "$(out "any(i['ID'] == '$ID' for i in j)")"
as demo demo-pw demo o_ok "image show demo-image" image show demo-image -f json
as demo demo-pw demo o_ok "image save (demo)" image save --file "$WORK/saved.raw" "$ID" &&
    { cmp -s "$IMG" "$WORK/saved.raw" && pass "saved bytes identical" || fail "saved bytes differ"; }
as alt alt-pw alt o_ok "image list (alt)" image list -f json &&
    check_eq "alt does not list demo's private image" false "$(out "any(i['ID'] == '$ID' for i in j)")"
as alt alt-pw alt o_fails "image show by alt" image show "$ID"
as alt alt-pw alt o_fails "image delete by alt" image delete "$ID"
o_ok "image show (Keystone's admin)" image show "$ID" -f json && check_eq "admin sees demo's image" demo-image "$(out 'j["name"]')"

step "a token revoked in Keystone"
as demo demo-pw demo o_ok "token issue (demo)" token issue -f value -c id
TREV="$(cat "$OUT")"
http GET /v2/images -H "X-Auth-Token: $TREV"
check_status "GET /v2/images before revocation" 200
as demo demo-pw demo o_ok "token revoke (in Keystone)" token revoke "$TREV"
sleep 6 # Glimpse trusts a validation for 5 s (like keystonemiddleware's token cache, but shorter)
http GET /v2/images -H "X-Auth-Token: $TREV"
check_status "GET /v2/images with the revoked token, after the cache lapsed" 401

as demo demo-pw demo o_ok "image delete (demo)" image delete "$ID"
kill -0 "$GLIMPSE_PID" 2>/dev/null && pass "glimpse still running" || { fail "glimpse died"; show_log; }
stop_glimpse
finish
