#!/usr/bin/env bash
# End-to-end: `kill -9` of glimpse in the middle of a large upload into S3 (a private OpenStack Swift with s3api).
#
#   1. An upload of E2E_S3_CRASH_MIB MiB (default 300) streams in; once a few parts are in Swift, glimpse is
#      killed. Swift's own API (a tempauth token, then container listings: nothing of our S3 code) shows no
#      object for the image, but the multipart upload's segments. Glimpse restarts on the same data directory:
#      the image is `queued` with no size, and the node has aborted its own upload (its segments are gone).
#   2. The same crash, then an operator's `glimpse admin gc --grace 0`: while the dead node's lease still runs
#      the upload is kept (a dry run and a real run remove nothing); once the lease has run out, a dry run
#      reports it and the real run removes it. An active image's data is never touched.
#
# Usage: tests/e2e/s3-crash.sh     (GLIMPSE_BIN=path to skip the build; E2E_S3_CRASH_RATE=30M curl --limit-rate)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MIB="${E2E_S3_CRASH_MIB:-300}"
RATE="${E2E_S3_CRASH_RATE:-30M}"

step "setup"
require_glimpse
start_s3_endpoint || fatal "the S3 endpoint did not start"
e2e_mktemp WORK
DATA="$WORK/data"
BUCKET="${S3_STORE#s3://}"
BUCKET="${BUCKET%%\?*}"
GLIMPSE_SERVE_ARGS=(--store "$S3_STORE")
start_glimpse "$DATA" || fatal "glimpse serve --store s3://... did not come up"
PORT="$GLIMPSE_PORT"

# Swift's own view, through its native API: a tempauth token for the account behind the S3 access key.
SWIFT_ACCOUNT="AUTH_${AWS_ACCESS_KEY_ID%%:*}"
SWIFT_TOKEN="$(curl -s -D - -o /dev/null -H "X-Auth-User: $AWS_ACCESS_KEY_ID" -H "X-Auth-Key: $AWS_SECRET_ACCESS_KEY" \
    "$S3_ENDPOINT/auth/v1.0" | tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')"
[[ -n "$SWIFT_TOKEN" ]] || fatal "no tempauth token from $S3_ENDPOINT/auth/v1.0"

# swift_list CONTAINER [PREFIX]: the object names in a container, one per line (nothing when it does not exist).
swift_list() {
    curl -s -G -H "X-Auth-Token: $SWIFT_TOKEN" --data-urlencode "prefix=${2:-}" \
        "$S3_ENDPOINT/v1/$SWIFT_ACCOUNT/$1" -w '' | grep -v '^<' || true
}
# s3api keeps a multipart upload's parts as `KEY/UPLOAD_ID/PART` in the bucket's segments container.
segments_of() { swift_list "$BUCKET+segments" "$1/"; }

image_field() {
    http GET "/v2/images/$1" -H 'Accept: application/json'
    [[ "$HTTP_STATUS" == 200 ]] && json_get "$HTTP_BODY" "$2" || echo "<HTTP $HTTP_STATUS>"
}

new_image() {
    http POST /v2/images -H 'Content-Type: application/json' -H 'Accept: application/json' \
        -d "{\"name\":\"$1\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}"
    check_status "POST /v2/images ($1)" 201
    json_get "$HTTP_BODY" 'j["id"]'
}

step "an image with data, which no crash or collection may touch"
KEEP_ID="$(new_image e2e-s3-keep)"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$WORK/keep.bin"
http PUT "/v2/images/$KEEP_ID/file" -H 'Content-Type: application/octet-stream' -T "$WORK/keep.bin"
check_status "PUT /v2/images/$KEEP_ID/file" 204
check_eq "the kept image's object is in the bucket (Swift listing)" "$KEEP_ID" "$(swift_list "$BUCKET" "$KEEP_ID")"

# crash_upload NAME: create an image, stream MIB MiB into it, kill -9 glimpse once two parts are in Swift.
# Sets CRASHED_ID.
crash_upload() {
    CRASHED_ID="$(new_image "$1")"
    log "image $CRASHED_ID: streaming $MIB MiB at $RATE/s"
    head -c $((MIB * 1024 * 1024)) /dev/urandom |
        curl -s -o /dev/null --limit-rate "$RATE" -X PUT -H 'Content-Type: application/octet-stream' -T - \
            "$GLIMPSE_URL/v2/images/$CRASHED_ID/file" 2>/dev/null &
    local curl_pid=$! start=$SECONDS parts=0
    track_pid "$curl_pid"
    while ((SECONDS - start < 60)); do
        parts="$(segments_of "$CRASHED_ID" | grep -cE '^[^/]+/[^/]+/[0-9]+$' || true)"
        ((parts >= 2)) && break
        sleep 0.5
    done
    ((parts >= 2)) && pass "[$1] parts reach Swift while the upload runs ($parts after $((SECONDS - start)) s)" ||
        fail "[$1] no parts in $BUCKET+segments after $((SECONDS - start)) s (image status $(image_field "$CRASHED_ID" 'j["status"]'))"
    check_eq "[$1] the image is saving" saving "$(image_field "$CRASHED_ID" 'j["status"]')"
    log "kill -9 glimpse (pid $GLIMPSE_PID)"
    kill9_glimpse
    kill "$curl_pid" 2>/dev/null || true
    wait "$curl_pid" 2>/dev/null || true

    check_eq "[$1] after the crash, Swift shows no object for the image" "" "$(swift_list "$BUCKET" "$CRASHED_ID")"
    local uploads
    uploads="$(segments_of "$CRASHED_ID" | grep -c '^[^/]*/[^/]*$' || true)"
    check_eq "[$1] after the crash, the multipart upload exists in Swift" 1 "$uploads"
}

step "round 1: kill -9 in the middle of the upload, restart on the same data directory"
crash_upload e2e-s3-crash-restart
start_glimpse "$DATA" "$PORT" || fatal "glimpse did not restart after kill -9"
check_eq "[restart] the image is queued again" queued "$(image_field "$CRASHED_ID" 'j["status"]')"
check_eq "[restart] the image has no size" null "$(image_field "$CRASHED_ID" 'j.get("size", "<absent>")')"
check_eq "[restart] no object for the image" "" "$(swift_list "$BUCKET" "$CRASHED_ID")"
check_eq "[restart] the node aborted its own upload: no segments left" "" "$(segments_of "$CRASHED_ID")"
check_eq "[restart] nor its marker" "" "$(swift_list "$BUCKET" ".incoming/" | grep -F "/$CRASHED_ID/" || true)"

step "round 2: kill -9, then an operator's glimpse admin gc --grace 0"
crash_upload e2e-s3-crash-gc
GC_OUT="$WORK/gc.out"
gc() {
    GC_RC=0
    "$GLIMPSE" admin gc --data-dir "$DATA" --store "$S3_STORE" --grace 0 "$@" >"$GC_OUT" 2>&1 || GC_RC=$?
}
gc --dry-run
check_eq "[gc] dry run while the dead node's lease still runs: exit" 0 "$GC_RC"
check "[gc] dry run within the lease: nothing to remove ($(tail -n1 "$GC_OUT"))" grep -q "would remove 0 object(s) (0 bytes) and 0 unfinished upload(s)" "$GC_OUT"
gc
check "[gc] within the lease: nothing removed ($(tail -n1 "$GC_OUT"))" grep -q "removed 0 object(s) (0 bytes) and 0 unfinished upload(s)" "$GC_OUT"
check_eq "[gc] within the lease the upload stays" 1 "$(segments_of "$CRASHED_ID" | grep -c '^[^/]*/[^/]*$' || true)"
log "waiting for the dead node's lease (30 s) to run out"
sleep 32
gc --dry-run
check "[gc] dry run after the lease reports the upload ($(tr '\n' ';' <"$GC_OUT"))" grep -q "would remove unfinished upload of $CRASHED_ID" "$GC_OUT"
check_eq "[gc] a dry run removes nothing" 1 "$(segments_of "$CRASHED_ID" | grep -c '^[^/]*/[^/]*$' || true)"
gc
check_eq "[gc] exit status" 0 "$GC_RC"
log "gc printed: $(tr '\n' ';' <"$GC_OUT")"
check "[gc] it names the removed upload" grep -q "^removed unfinished upload of $CRASHED_ID (writer " "$GC_OUT"
check "[gc] its summary counts it" grep -q "removed 0 object(s) (0 bytes) and 1 unfinished upload(s)" "$GC_OUT"
check_eq "[gc] the upload's segments are gone (Swift listing)" "" "$(segments_of "$CRASHED_ID")"
check_eq "[gc] and its marker" "" "$(swift_list "$BUCKET" ".incoming/" | grep -F "/$CRASHED_ID/" || true)"
check_eq "[gc] the active image's object stays" "$KEEP_ID" "$(swift_list "$BUCKET" "$KEEP_ID")"

start_glimpse "$DATA" "$PORT" || fatal "glimpse did not restart after the collection"
check_eq "[gc] after a restart the image is queued" queued "$(image_field "$CRASHED_ID" 'j["status"]')"
http GET "/v2/images/$KEEP_ID/file" -o "$WORK/keep.down"
check_status "GET the kept image's data" 200
cmp -s "$WORK/keep.bin" "$WORK/keep.down" && pass "the kept image reads back whole" || fail "the kept image's data differs"
stop_glimpse
finish
