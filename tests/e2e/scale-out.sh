#!/usr/bin/env bash
# End-to-end: several Glimpse nodes as a deployment runs them (scripts/local-cluster): one private PostgreSQL
# cluster they share (--database), one shared image directory (--store) and HAProxy in front (round robin, health
# check on /healthcheck). With the real `openstack` client and curl:
#   - the client workflow through the load balancer: image create --file, list, show, save (bytes compared),
#     sharing with another project, server create --wait, server stop, server image create --wait, deletes
#   - a PATCH on node 1 is visible on node 2 in the next request; a token revoked on node 1 fails on node 2 at once
#   - CLIENTS (8) concurrent clients of create/upload/list/delete through the balancer for LOAD_SECS (60): no 5xx
#   - kill -9 of node 2 in the middle of uploads (some sent to each node directly, some through the balancer):
#     the survivor keeps serving; node 2 restarts and recovers only its own unfinished work, while node 1's upload
#     in flight completes; every image is then active with the right checksum or back to queued with no data
#
# Usage: tests/e2e/scale-out.sh     (GLIMPSE_BIN=path to skip the build; SCALE_OUT_LOAD_SECS, SCALE_OUT_CLIENTS)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set +e

LOAD_SECS="${SCALE_OUT_LOAD_SECS:-60}"
CLIENTS="${SCALE_OUT_CLIENTS:-8}"
CLUSTER="$REPO_ROOT/scripts/local-cluster"

step "setup: PostgreSQL, two nodes, HAProxy"
command -v haproxy >/dev/null || fatal "haproxy missing (scripts/install-prerequisites)"
require_glimpse
ensure_venv "$OPENSTACKCLIENT_SPEC" || fatal "could not install the openstack client"
OSC="$E2E_VENV/bin/openstack"
e2e_mktemp WORK
# Under root PostgreSQL runs as its own user, which must be able to pass through to the cluster's directory.
chmod 0711 "$WORK"
export LOCAL_CLUSTER_DIR="$WORK/cluster" GLIMPSE_BIN="$GLIMPSE"
export LOCAL_CLUSTER_FRONT_PORT="$(free_port)" LOCAL_CLUSTER_STATS_PORT="$(free_port)"
# Node ports are consecutive from a base: take one whose next port is free too.
for _ in $(seq 1 20); do
    base="$(free_port)"
    python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $base + 1))" 2>/dev/null && break
done
export LOCAL_CLUSTER_NODE_PORT="$base"
# The servers here boot images that are not bootable (random bytes): the disk-only driver, not QEMU.
export LOCAL_CLUSTER_SERVE_ARGS="--hypervisor overlay"
stop_cluster() { "$CLUSTER" stop >/dev/null 2>&1; }
on_exit stop_cluster
"$CLUSTER" start --nodes 2 >"$WORK/cluster-start.log" 2>&1 || { cat "$WORK/cluster-start.log" >&2; fatal "the cluster did not start"; }
FRONT="http://127.0.0.1:$LOCAL_CLUSTER_FRONT_PORT"
NODE1="http://127.0.0.1:$LOCAL_CLUSTER_NODE_PORT"
NODE2="http://127.0.0.1:$((LOCAL_CLUSTER_NODE_PORT + 1))"
pass "two nodes up behind HAProxy at $FRONT"

while read -r v; do unset "$v"; done < <(env | grep -o '^OS_[A-Za-z0-9_]*' || true)
# shellcheck source=/dev/null
. "$LOCAL_CLUSTER_DIR/openrc"
check_eq "the openrc names the load balancer" "$FRONT/identity/v3" "$OS_AUTH_URL"

OUT="$WORK/osc.out"
ERR="$WORK/osc.err"
o() { "$OSC" "$@" >"$OUT" 2>"$ERR" </dev/null; O_RC=$?; }
o_ok() {
    local what="$1"; shift
    o "$@"
    if [[ "$O_RC" == 0 ]]; then pass "$what"; return 0; fi
    fail "$what: \`openstack $*\` exited $O_RC; stderr: $(tail -c 600 "$ERR" | tr '\n' ' ')"
    return 1
}
out() { json_get "$OUT" "$1"; }
# api METHOD URL [curl args]: sets CODE and BODY (file) with the admin token.
BODY="$WORK/body"
api() { local m="$1" u="$2"; shift 2; CODE="$(curl -s -o "$BODY" -w '%{http_code}' -X "$m" -H "X-Auth-Token: $TOKEN" "$@" "$u")"; }

step "the openstack client workflow through the load balancer"
o_ok "token issue" token issue -f value -c id && TOKEN="$(cat "$OUT")"
head -c $((5 << 20)) /dev/urandom >"$WORK/image.raw"
o_ok "image create --file" image create --disk-format raw --container-format bare --file "$WORK/image.raw" -f json "lb-img-$$" || fatal "no image"
IMG="$(out 'j["id"]')"
check_eq "image is active" active "$(out 'j["status"]')"
check_eq "checksum" "$(md5sum <"$WORK/image.raw" | cut -d' ' -f1)" "$(out 'j["checksum"]')"
o_ok "image list" image list -f json && check "the list shows it" test "$(out "any(i['ID'] == '$IMG' for i in j)")" = true
for n in 1 2 3 4; do
    o_ok "image save (request $n: both nodes answer in turn)" image save --file "$WORK/saved-$n" "$IMG" &&
        check "downloaded bytes are the uploaded bytes ($n)" test "$(cmp -s "$WORK/image.raw" "$WORK/saved-$n" && echo same)" = same
done
o_ok "project create" project create -f json "lb-other-$$" && OTHER="$(out 'j["id"]')"
o_ok "image set --shared" image set --shared "$IMG"
o_ok "image add project" image add project "$IMG" "$OTHER"
o_ok "image member list" image member list -f json "$IMG" && check "the other project is a member" test "$(out "j[0]['Member ID']")" = "$OTHER"

o_ok "server create --wait" server create --image "$IMG" --flavor m1.tiny --no-network --wait -f json "lb-vm-$$" || fatal "no server"
VM="$(out 'j["id"]')"
o_ok "server stop" server stop "$VM"
for _ in $(seq 1 100); do o server show -f value -c status "$VM"; [[ "$(cat "$OUT")" == SHUTOFF ]] && break; sleep 0.2; done
check_eq "server is SHUTOFF" SHUTOFF "$(cat "$OUT")"
o_ok "server image create --wait (whichever node gets it, the server's node makes it)" server image create --name "lb-snap-$$" --wait -f json "$VM"
SNAP="$(out 'j["id"]')"
o_ok "image show of the snapshot" image show -f json "$SNAP" &&
    check_eq "snapshot is active" active "$(out 'j["status"]')" &&
    check_eq "snapshot provenance" snapshot "$(out 'j["properties"]["image_type"]')"
for n in 1 2; do api GET "$([ $n = 1 ] && echo "$NODE1" || echo "$NODE2")/v2/images/$SNAP/file"; check_eq "node $n serves the snapshot's data" 200 "$CODE"; done
o_ok "server delete --wait" server delete --wait "$VM"
o_ok "image delete (snapshot)" image delete "$SNAP"

step "a change on one node is seen on the other at once"
api PATCH "$NODE1/v2/images/$IMG" -H 'Content-Type: application/openstack-images-v2.1-json-patch' \
    --data '[{"op":"replace","path":"/name","value":"renamed-on-node-1"}]'
check_eq "PATCH on node 1" 200 "$CODE"
api GET "$NODE2/v2/images/$IMG"
check_eq "node 2 shows the new name in the next request" renamed-on-node-1 "$(json_get "$BODY" 'j["name"]')"
o_ok "a second token" token issue -f value -c id && T2="$(cat "$OUT")"
code="$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $T2" "$NODE2/v2/images")"
check_eq "the token works on node 2" 200 "$code"
code="$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "X-Auth-Token: $TOKEN" -H "X-Subject-Token: $T2" "$NODE1/identity/v3/auth/tokens")"
check_eq "revoked on node 1" 204 "$code"
code="$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $T2" "$NODE2/v2/images")"
check_eq "the revoked token fails on node 2 at once" 401 "$code"

step "$CLIENTS concurrent clients through the load balancer for $LOAD_SECS s"
python3 "$E2E_DIR/concurrent_clients.py" "$FRONT" "$TOKEN" "$CLIENTS" "$LOAD_SECS" >"$WORK/load.json"
log "load: $(cat "$WORK/load.json" | head -c 600)"
check_eq "no 5xx and no transport error under load" "[]" "$(json_get "$WORK/load.json" 'j["problems"]')"
check "requests succeeded under load" test "$(json_get "$WORK/load.json" 'j["counts"].get("2xx", 0) > 100')" = true

step "kill -9 of node 2 in the middle of uploads"
head -c $((24 << 20)) /dev/urandom >"$WORK/big.raw"
BIG_MD5="$(md5sum <"$WORK/big.raw" | cut -d' ' -f1)"
new_image() { api POST "$FRONT/v2/images" -H 'Content-Type: application/json' --data "{\"name\":\"$1\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}"; json_get "$BODY" 'j["id"]'; }
# upload URL ID: a slow upload (1 MiB/s) in the background
upload() { curl -s -o /dev/null -w '%{http_code}' -X PUT -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/octet-stream' \
    --limit-rate 1M -T "$WORK/big.raw" "$1/v2/images/$2/file" >"$WORK/upload-$2.code" 2>/dev/null; }
ON1="$(new_image on-node-1)"; ON2A="$(new_image on-node-2-a)"; ON2B="$(new_image on-node-2-b)"
VIA_LB=(); for n in 1 2 3 4; do VIA_LB+=("$(new_image via-lb-$n)"); done
upload "$NODE1" "$ON1" & P1=$!
upload "$NODE2" "$ON2A" & upload "$NODE2" "$ON2B" &
for id in "${VIA_LB[@]}"; do upload "$FRONT" "$id" & done
sleep 4
api GET "$NODE1/v2/images/$ON2A"
check_eq "node 2's upload is in flight" saving "$(json_get "$BODY" 'j["status"]')"
kill -9 "$(cat "$LOCAL_CLUSTER_DIR/node-2.pid")"
log "killed node 2"
sleep 3
ok=0
for n in $(seq 1 20); do [[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" "$FRONT/v2/images?limit=5")" == 200 ]] && ok=$((ok + 1)); done
check_eq "the survivor serves every request through the balancer" 20 "$ok"
"$CLUSTER" restart-node 2 >"$WORK/restart.log" 2>&1 || { cat "$WORK/restart.log" >&2; fail "node 2 did not restart"; }
api GET "$NODE2/v2/images/$ON2A"
check_eq "the restarted node put its own interrupted upload back to queued" queued "$(json_get "$BODY" 'j["status"]')"
api GET "$NODE2/v2/images/$ON1"
check_eq "it left node 1's upload in flight alone" saving "$(json_get "$BODY" 'j["status"]')"
wait "$P1"
check_eq "node 1's upload completed" 204 "$(cat "$WORK/upload-$ON1.code")"
wait
for id in "$ON1" "$ON2A" "$ON2B" "${VIA_LB[@]}"; do
    api GET "$FRONT/v2/images/$id"
    st="$(json_get "$BODY" 'j["status"]')"
    case "$st" in
        active) check_eq "image $id is active with the right checksum" "$BIG_MD5" "$(json_get "$BODY" 'j["checksum"]')" ;;
        queued) check_eq "image $id is queued with no data" null "$(json_get "$BODY" 'j["size"]')" ;;
        *) fail "image $id is $st: neither active nor queued" ;;
    esac
done
check "the cluster still answers" test "$(curl -s -o /dev/null -w '%{http_code}' "$FRONT/healthcheck")" = 200

finish
