#!/usr/bin/env bash
# End-to-end: an image upload interrupted by `kill -9` of glimpse (and by SIGTERM, and by the
# client going away).
#
# Rounds: (Content-Length, kill -9), (chunked, kill -9), (Content-Length, client killed),
# (chunked, SIGTERM). Each one creates an image, starts a slow 64 MiB upload with
# curl --limit-rate, waits until the image is `saving`, interrupts, restarts the server on the
# same data dir (not for the client-abort round), then asserts
#   - the image is back to `queued` with size, checksum and os_hash_value null,
#   - no partial data file is left in the data dir (any regular file but the SQLite
#     database files and our server logs counts as one, beyond one per image uploaded in
#     an earlier round; none may carry the interrupted image's id),
#   - GET /v2/images/{id}/file answers 204 (no data),
#   - the server lists images fine (the database is consistent),
#   - a fresh full upload succeeds (204, active, checksum = md5 of the data) and downloads back.
# Finally a clean restart keeps everything, and the database still takes writes.
#
# Usage: tests/e2e/crash_upload.sh        (GLIMPSE_BIN=path to skip the build)
#        E2E_CRASH_MIB=64 (size of the upload), E2E_CRASH_RATE=2M (curl --limit-rate)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MIB="${E2E_CRASH_MIB:-64}"
RATE="${E2E_CRASH_RATE:-2M}"

step "setup"
require_glimpse
e2e_mktemp WORK
DATA_DIR="$WORK/data"
start_glimpse "$DATA_DIR" || fatal "glimpse serve did not come up"
PORT="$GLIMPSE_PORT"

BIG="$WORK/big.bin"
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$BIG"
BIG_SIZE="$(stat -c %s "$BIG")"
BIG_MD5="$(md5_of "$BIG")"
BIG_SHA512="$(sha512_of "$BIG")"
log "upload data: $BIG_SIZE bytes, md5 $BIG_MD5"

# data_files DIR: every regular file under DIR that is not a SQLite database file
# (a file with the SQLite header, or its -wal / -shm / -journal companion), nor the image cache's
# index, nor the data-directory lock, nor the node id, nor one of our server logs. One line each: "path (N bytes)".
data_files() {
    python3 - "$1" <<'EOF'
import os, sys
root = sys.argv[1]
def is_sqlite(path):
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False
out = []
for d, _, files in os.walk(root):
    for name in files:
        p = os.path.join(d, name)
        if not os.path.isfile(p) or os.path.islink(p):
            continue
        if d == root and name.startswith("glimpse-e2e-") and name.endswith(".log"):
            continue
        # The empty file `glimpse serve` holds its data-directory lock on, and the node's id.
        if d == root and name == "glimpse.lock" and os.path.getsize(p) == 0:
            continue
        if d == root and name == "node-id":
            continue
        if is_sqlite(p):
            continue
        # The image cache's index is metadata, like the databases; cached data itself still counts.
        if os.path.relpath(p, root) == os.path.join("cache", "index.json"):
            continue
        base = None
        for suffix in ("-wal", "-shm", "-journal"):
            if name.endswith(suffix):
                base = p[: -len(suffix)]
        if base is not None and is_sqlite(base):
            continue
        out.append("%s (%d bytes)" % (os.path.relpath(p, root), os.path.getsize(p)))
for line in sorted(out):
    print(line)
EOF
}

# image_field ID EXPR: GET the image and evaluate EXPR on it.
image_field() {
    http GET "/v2/images/$1" -H 'Accept: application/json'
    if [[ "$HTTP_STATUS" != 200 ]]; then
        echo "<HTTP $HTTP_STATUS>"
    else
        json_get "$HTTP_BODY" "$2"
    fi
}

UPLOADED_IDS=()

# crash_round BODY HOW
#   BODY: content-length | chunked (how curl sends the upload)
#   HOW:  kill9        kill -9 the server while the image is saving, then restart it
#         sigterm      stop the server with SIGTERM (SIGKILL after 10 s) while saving, then restart it
#         client-abort kill the uploading client while saving; the server stays up
crash_round() {
    local body="$1" how="$2"
    local mode="$body/$how" tag="$body-$how"
    step "round '$mode': create, slow upload of $MIB MiB at $RATE/s, interrupt ($how) while saving"

    http POST /v2/images -H 'Content-Type: application/json' -H 'Accept: application/json' \
        -d "{\"name\":\"e2e-crash-$tag\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}"
    check_status "[$mode] POST /v2/images" 201
    local id
    id="$(json_get "$HTTP_BODY" 'j["id"]')"
    [[ "$id" =~ ^[0-9a-f-]{36}$ ]] || fatal "no image id from POST /v2/images: $(body_snippet)"
    log "image $id"

    local curl_args=(-s -o "$WORK/upload-$tag.out" -w '%{http_code}' --limit-rate "$RATE" -X PUT
        -H 'Content-Type: application/octet-stream')
    if [[ "$body" == chunked ]]; then
        curl "${curl_args[@]}" -H 'Transfer-Encoding: chunked' -T - "$GLIMPSE_URL/v2/images/$id/file" \
            <"$BIG" >"$WORK/upload-$tag.code" 2>/dev/null &
    else
        curl "${curl_args[@]}" -T "$BIG" "$GLIMPSE_URL/v2/images/$id/file" \
            >"$WORK/upload-$tag.code" 2>/dev/null &
    fi
    local curl_pid=$!
    track_pid "$curl_pid"

    local status="" start=$SECONDS saw_saving=0
    while ((SECONDS - start < 25)); do
        status="$(image_field "$id" 'j["status"]')"
        if [[ "$status" == saving ]]; then saw_saving=1; break; fi
        kill -0 "$curl_pid" 2>/dev/null || break
        sleep 0.2
    done
    if ((saw_saving)); then
        pass "[$mode] image became 'saving' while the upload runs (after $((SECONDS - start)) s)"
    else
        fail "[$mode] image never showed status 'saving' during a slow upload (last GET /v2/images/$id status: '$status'; upload curl $(kill -0 "$curl_pid" 2>/dev/null && echo running || echo "ended with HTTP $(cat "$WORK/upload-$tag.code" 2>/dev/null)"))"
    fi
    # Let a few MiB reach the server so that there is partial data to lose.
    sleep 2
    log "non-database files in the data dir just before the interruption: $(data_files "$DATA_DIR" | tr '\n' ';')"

    case "$how" in
    kill9)
        log "kill -9 glimpse (pid $GLIMPSE_PID)"
        kill9_glimpse
        kill "$curl_pid" 2>/dev/null || true
        wait "$curl_pid" 2>/dev/null || true
        ;;
    sigterm)
        # A graceful stop may drain the upload (it then ends active) or abort it (queued): both are
        # consistent. SIGKILL after 60 s, well past the ~32 s the whole upload takes.
        log "SIGTERM glimpse (pid $GLIMPSE_PID) during the upload"
        local t0=$SECONDS
        stop_glimpse 60
        log "glimpse stopped $((SECONDS - t0)) s after SIGTERM; upload curl: $(kill -0 "$curl_pid" 2>/dev/null && echo still running || echo "ended, HTTP $(cat "$WORK/upload-$tag.code" 2>/dev/null)")"
        kill "$curl_pid" 2>/dev/null || true
        wait "$curl_pid" 2>/dev/null || true
        ;;
    client-abort)
        log "killing the uploading client (curl pid $curl_pid); the server stays up"
        kill "$curl_pid" 2>/dev/null || true
        wait "$curl_pid" 2>/dev/null || true
        local t0=$SECONDS
        while ((SECONDS - t0 < 15)); do
            status="$(image_field "$id" 'j["status"]')"
            [[ "$status" == saving ]] || break
            sleep 0.2
        done
        log "image status $((SECONDS - t0)) s after the client went away: $status"
        ;;
    esac
    log "non-database files in the data dir after the interruption: $(data_files "$DATA_DIR" | tr '\n' ';')"

    if [[ "$how" != client-abort ]]; then
        step "round '$mode': restart on the same data dir and check recovery"
        start_glimpse "$DATA_DIR" "$PORT" || fatal "glimpse did not restart on the same data dir after $how"
    else
        step "round '$mode': check the server cleaned up after the aborted upload"
        kill -0 "$GLIMPSE_PID" 2>/dev/null && pass "[$mode] glimpse still running" || fatal "[$mode] glimpse died when the client went away"
    fi

    http GET "/v2/images/$id" -H 'Accept: application/json'
    check_status "[$mode] GET /v2/images/$id after the interruption" 200
    if [[ "$how" == sigterm && "$(json_get "$HTTP_BODY" 'j.get("status")')" == active ]]; then
        log "the server drained the upload before stopping: the image must be complete"
        check_eq "[$mode] drained upload: size" "$BIG_SIZE" "$(json_get "$HTTP_BODY" 'j.get("size")')"
        check_eq "[$mode] drained upload: checksum" "$BIG_MD5" "$(json_get "$HTTP_BODY" 'j.get("checksum")')"
        check_eq "[$mode] drained upload: os_hash_value" "$BIG_SHA512" "$(json_get "$HTTP_BODY" 'j.get("os_hash_value")')"
        check_eq "[$mode] drained upload: client got" 204 "$(cat "$WORK/upload-$tag.code" 2>/dev/null)"
        http GET "/v2/images/$id/file" -o "$WORK/down.bin"
        check_status "[$mode] GET /v2/images/$id/file" 200
        cmp -s "$BIG" "$WORK/down.bin" && pass "[$mode] download of the drained upload: bytes identical" ||
            fail "[$mode] download of the drained upload differs ($(stat -c %s "$WORK/down.bin") bytes)"
        rm -f "$WORK/down.bin"
        UPLOADED_IDS+=("$id")
        local left n_left
        left="$(data_files "$DATA_DIR")"
        n_left="$(printf '%s' "$left" | grep -c . || true)"
        ((n_left <= ${#UPLOADED_IDS[@]})) && pass "[$mode] no partial data files ($n_left for ${#UPLOADED_IDS[@]} images)" ||
            fail "[$mode] $n_left data files for ${#UPLOADED_IDS[@]} images: $(printf '%s' "$left" | tr '\n' ';')"
        return 0
    fi
    check_eq "[$mode] after the interruption: status" queued "$(json_get "$HTTP_BODY" 'j.get("status")')"
    check_eq "[$mode] after the interruption: size" null "$(json_get "$HTTP_BODY" 'j.get("size", "<absent>")')"
    check_eq "[$mode] after the interruption: checksum" null "$(json_get "$HTTP_BODY" 'j.get("checksum", "<absent>")')"
    check_eq "[$mode] after the interruption: os_hash_value" null "$(json_get "$HTTP_BODY" 'j.get("os_hash_value", "<absent>")')"
    check_eq "[$mode] after the interruption: virtual_size" null "$(json_get "$HTTP_BODY" 'j.get("virtual_size", "<absent>")')"

    local left
    left="$(data_files "$DATA_DIR")"
    # Earlier rounds' images are active and own exactly one blob each: allow as many files.
    local n_left n_allowed=${#UPLOADED_IDS[@]}
    n_left="$(printf '%s' "$left" | grep -c . || true)"
    local named_after_crashed
    named_after_crashed="$(printf '%s' "$left" | grep -F "$id" || true)"
    if [[ -n "$named_after_crashed" ]]; then
        fail "[$mode] a file named after the interrupted image is left: $(printf '%s' "$named_after_crashed" | tr '\n' ';') (all data files: $(printf '%s' "$left" | tr '\n' ';'))"
    elif ((n_left <= n_allowed)); then
        pass "[$mode] no partial upload data left in the data dir ($n_left data file(s) for $n_allowed active image(s))"
    else
        fail "[$mode] partial upload data left after the interruption: $n_left non-database file(s) for $n_allowed active image(s): $(printf '%s' "$left" | tr '\n' ';')"
    fi

    http GET "/v2/images/$id/file" -o "$WORK/empty.out"
    check_status "[$mode] GET /v2/images/$id/file of the recovered (queued) image" 204
    check_eq "[$mode] GET /file of the queued image: body length" 0 "$(stat -c %s "$WORK/empty.out" 2>/dev/null || echo missing)"

    http GET "/v2/images?limit=1000" -H 'Accept: application/json'
    check_status "[$mode] GET /v2/images after the interruption (database consistent)" 200
    check_eq "[$mode] the recovered image is listed as queued" queued \
        "$(json_get "$HTTP_BODY" "[i['status'] for i in j['images'] if i['id'] == '$id'][0] if any(i['id'] == '$id' for i in j['images']) else 'not listed'")"

    step "round '$mode': fresh full upload after recovery"
    http PUT "/v2/images/$id/file" -H 'Content-Type: application/octet-stream' -T "$BIG"
    check_status "[$mode] PUT /v2/images/$id/file (full $MIB MiB)" 204
    http GET "/v2/images/$id" -H 'Accept: application/json'
    check_eq "[$mode] after re-upload: status" active "$(json_get "$HTTP_BODY" 'j.get("status")')"
    check_eq "[$mode] after re-upload: size" "$BIG_SIZE" "$(json_get "$HTTP_BODY" 'j.get("size")')"
    check_eq "[$mode] after re-upload: checksum (md5 of the data)" "$BIG_MD5" "$(json_get "$HTTP_BODY" 'j.get("checksum")')"
    check_eq "[$mode] after re-upload: os_hash_value (sha512)" "$BIG_SHA512" "$(json_get "$HTTP_BODY" 'j.get("os_hash_value")')"
    http GET "/v2/images/$id/file" -o "$WORK/down.bin"
    check_status "[$mode] GET /v2/images/$id/file after re-upload" 200
    cmp -s "$BIG" "$WORK/down.bin" && pass "[$mode] download after re-upload: bytes identical (cmp)" ||
        fail "[$mode] download after re-upload differs ($(stat -c %s "$WORK/down.bin") bytes, md5 $(md5_of "$WORK/down.bin"))"
    rm -f "$WORK/down.bin"
    UPLOADED_IDS+=("$id")
    log "non-database files in the data dir now: $(data_files "$DATA_DIR" | tr '\n' ';')"
}

crash_round content-length kill9
crash_round chunked kill9
crash_round content-length client-abort
crash_round chunked sigterm

step "clean restart: everything kept, database takes writes"
stop_glimpse
start_glimpse "$DATA_DIR" "$PORT" || fatal "glimpse did not restart after a clean stop"
http GET "/v2/images?limit=1000" -H 'Accept: application/json'
check_status "GET /v2/images after a clean restart" 200
for id in "${UPLOADED_IDS[@]}"; do
    check_eq "image $id after clean restart: status" active \
        "$(json_get "$HTTP_BODY" "[i['status'] for i in j['images'] if i['id'] == '$id'][0] if any(i['id'] == '$id' for i in j['images']) else 'not listed'")"
    check_eq "image $id after clean restart: checksum" "$BIG_MD5" \
        "$(json_get "$HTTP_BODY" "[i['checksum'] for i in j['images'] if i['id'] == '$id'][0] if any(i['id'] == '$id' for i in j['images']) else 'not listed'")"
done
http POST /v2/images -H 'Content-Type: application/json' -H 'Accept: application/json' -d '{"name":"e2e-crash-after"}'
check_status "POST /v2/images after the crashes" 201
tmp_id="$(json_get "$HTTP_BODY" 'j.get("id")')"
http DELETE "/v2/images/$tmp_id"
check_status "DELETE /v2/images/$tmp_id" 204
for id in "${UPLOADED_IDS[@]}"; do
    http DELETE "/v2/images/$id"
    check_status "DELETE /v2/images/$id" 204
done
# Deleting may free data in the background: give it a few seconds.
for _ in $(seq 1 25); do
    left="$(data_files "$DATA_DIR")"
    [[ -z "$left" ]] && break
    sleep 0.2
done
[[ -z "$left" ]] && pass "no data files left after deleting every image" ||
    fail "data files left after deleting every image: $(printf '%s' "$left" | tr '\n' ';')"

kill -0 "$GLIMPSE_PID" 2>/dev/null && pass "glimpse still running" || { fail "glimpse died"; show_log; }
stop_glimpse
finish
