#!/usr/bin/env bash
# Shared helpers for Glimpse end-to-end tests.
#
# Source it from a test script:   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# What it gives:
#   glimpse_bin                  path of the glimpse binary (builds it unless GLIMPSE_BIN is set)
#   free_port                    an unused TCP port on 127.0.0.1
#   e2e_mktemp VAR               make a temp dir removed on exit, its path in VAR
#   start_glimpse DATA_DIR [PORT]  start `glimpse serve` in the background; sets GLIMPSE_PID,
#                                GLIMPSE_PORT, GLIMPSE_URL, GLIMPSE_LOG; waits for GET /versions = 200
#   stop_glimpse [S] / kill9_glimpse  stop it by pid (TERM, KILL after S s (10) / KILL at once)
#   start_s3_endpoint            start a private OpenStack Swift with s3api (tests/objectstore/swift-s3), stopped
#                                on exit; sets S3_DIR, S3_ENDPOINT, AWS_* and S3_STORE (an s3:// URL for --store)
#   on_exit FUNCTION             run FUNCTION on exit (before temp dirs go), e.g. to stop a local cluster
#   ensure_venv SPEC...          tests/e2e/.venv with the given pinned pip packages (idempotent)
#   check_eq / check / fail / fatal / finish   assertions and the closing summary
#   http METHOD PATH [curl args] a curl call against GLIMPSE_URL: sets HTTP_STATUS, HTTP_BODY (file)
#   json_get FILE EXPR           evaluate a Python expression on the JSON in FILE (`j` is the document)
#
# Environment:
#   GLIMPSE_BIN        use this binary instead of building one
#   E2E_KEEP=1         keep temp dirs (for debugging)
#   E2E_START_TIMEOUT  seconds to wait for /versions (default 60)
#   E2E_VENV           where the client venv lives (default tests/e2e/.venv)
#   E2E_STORE=s3       start_glimpse keeps image data in a bucket of a private Swift s3api endpoint
#   GLIMPSE_SERVE_ARGS (array) more `glimpse serve` options for start_glimpse

set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$E2E_DIR/../.." && pwd)"
E2E_VENV="${E2E_VENV:-$E2E_DIR/.venv}"

# Pinned client versions.
GLANCECLIENT_SPEC="python-glanceclient==4.13.0"
OPENSTACKCLIENT_SPEC="python-openstackclient==10.5.0"

E2E_NAME="$(basename "${0%.sh}")"
E2E_PASSED=0
E2E_FAILED=0
E2E_FAILURES=()
E2E_PIDS=()
E2E_CLEANUP_HOOKS=()
E2E_TMPDIRS=()
GLIMPSE_PID=""
GLIMPSE_SERVE_ARGS=()
S3_DIR=""

# ---------------------------------------------------------------- output and assertions

log() { printf '[%s %s] %s\n' "$E2E_NAME" "$(date +%H:%M:%S)" "$*" >&2; }
step() { printf '\n[%s] === %s\n' "$E2E_NAME" "$*" >&2; }

pass() {
    E2E_PASSED=$((E2E_PASSED + 1))
    printf '[%s]   ok   %s\n' "$E2E_NAME" "$*" >&2
}

# fail MESSAGE: record a failed assertion and go on.
fail() {
    E2E_FAILED=$((E2E_FAILED + 1))
    E2E_FAILURES+=("$*")
    printf '[%s]   FAIL %s\n' "$E2E_NAME" "$*" >&2
}

# fatal MESSAGE: record a failed assertion and stop the script (later steps depend on this one).
fatal() {
    fail "$*"
    log "stopping: later steps depend on this one"
    finish
}

# check_eq WHAT EXPECTED ACTUAL
check_eq() {
    if [[ "$2" == "$3" ]]; then
        pass "$1 = '$3'"
    else
        fail "$1: expected '$2', got '$3'"
    fi
}

# check WHAT COMMAND...: passes when the command succeeds.
check() {
    local what="$1"; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# finish: print the summary and exit (non-zero when any assertion failed).
finish() {
    printf '\n[%s] summary: %d checks passed, %d failed\n' "$E2E_NAME" "$E2E_PASSED" "$E2E_FAILED" >&2
    if ((E2E_FAILED > 0)); then
        local f
        for f in "${E2E_FAILURES[@]}"; do printf '[%s]   FAILED: %s\n' "$E2E_NAME" "$f" >&2; done
        exit 1
    fi
    exit 0
}

# ---------------------------------------------------------------- cleanup

_e2e_cleanup() {
    local rc=$?
    set +e
    local hook
    for hook in "${E2E_CLEANUP_HOOKS[@]}"; do "$hook"; done
    # Only our own background jobs still unreaped: a pid we already waited for may belong to
    # someone else by now.
    local pid live
    live=" $(jobs -p | tr '\n' ' ') "
    for pid in "${E2E_PIDS[@]}"; do
        [[ "$live" == *" $pid "* ]] || continue
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    local d
    for d in "${E2E_TMPDIRS[@]}"; do
        if [[ "${E2E_KEEP:-}" == 1 ]]; then
            log "kept $d"
        else
            rm -rf "$d"
        fi
    done
    exit "$rc"
}
trap _e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# on_exit FUNCTION: run FUNCTION on exit, before tracked processes are stopped and temp dirs removed.
on_exit() { E2E_CLEANUP_HOOKS+=("$1"); }

# track_pid PID: the process is stopped on exit.
track_pid() { E2E_PIDS+=("$1"); }

# e2e_mktemp VAR: make a temp dir that is removed on exit and put its path in VAR
# (not as `d=$(...)`: a subshell couldn't register it for cleanup).
e2e_mktemp() {
    local __e2e_var="$1" __e2e_dir
    __e2e_dir="$(mktemp -d "${TMPDIR:-/tmp}/glimpse-e2e-${E2E_NAME}.XXXXXX")"
    E2E_TMPDIRS+=("$__e2e_dir")
    printf -v "$__e2e_var" '%s' "$__e2e_dir"
}

# ---------------------------------------------------------------- the binary and the server

# glimpse_bin: print the path of the glimpse binary, building it if needed.
glimpse_bin() {
    if [[ -n "${GLIMPSE_BIN:-}" ]]; then
        [[ -x "$GLIMPSE_BIN" ]] || { log "GLIMPSE_BIN=$GLIMPSE_BIN is not an executable"; return 1; }
        printf '%s\n' "$GLIMPSE_BIN"
        return 0
    fi
    local out
    out="$(mktemp)"
    log "building glimpse (swift build --product glimpse in $REPO_ROOT)"
    if ! (cd "$REPO_ROOT" && swift build --product glimpse) >"$out" 2>&1; then
        tail -n 60 "$out" >&2
        rm -f "$out"
        log "swift build failed"
        return 1
    fi
    rm -f "$out"
    local bindir
    bindir="$(cd "$REPO_ROOT" && swift build --show-bin-path)"
    printf '%s\n' "$bindir/glimpse"
}

# require_glimpse: set GLIMPSE to the binary or stop the script. The binary is copied to a temp
# dir first (unless E2E_BIN_SNAPSHOT=1 says it already is a copy), so that a rebuild by someone
# else during the test can't swap it between two starts of the server.
require_glimpse() {
    local bin
    bin="$(glimpse_bin)" || fatal "could not build or find the glimpse binary"
    [[ -x "$bin" ]] || fatal "no executable at $bin"
    if [[ "${E2E_BIN_SNAPSHOT:-}" == 1 ]]; then
        GLIMPSE="$bin"
    else
        local bin_dir
        e2e_mktemp bin_dir
        cp "$bin" "$bin_dir/glimpse" || fatal "could not copy $bin"
        GLIMPSE="$bin_dir/glimpse"
    fi
    log "glimpse binary: $GLIMPSE (from $bin)"
}

# free_port: print a TCP port that nothing listens on right now.
free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# start_s3_endpoint: a private Swift s3api endpoint for this script (once), stopped on exit. Sets S3_DIR,
# exports S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, and sets S3_STORE to the
# `--store` URL of a bucket named after the script.
start_s3_endpoint() {
    [[ -z "$S3_DIR" ]] || return 0
    e2e_mktemp S3_DIR
    on_exit _stop_s3_endpoint
    local out
    out="$("$REPO_ROOT/tests/objectstore/swift-s3" start "$S3_DIR/swift")" || { log "swift-s3 did not start: $out"; return 1; }
    local line
    while read -r line; do
        if [[ "$line" == *=* ]]; then export "${line?}"; fi
    done <<<"$out"
    S3_STORE="s3://glimpse-$(tr -c 'a-z0-9\n' '-' <<<"${E2E_NAME,,}" | head -c 40)?endpoint=$S3_ENDPOINT&region=$AWS_REGION"
    log "S3 endpoint (OpenStack Swift s3api) at $S3_ENDPOINT; image data in $S3_STORE"
}
_stop_s3_endpoint() { [[ -z "$S3_DIR" ]] || "$REPO_ROOT/tests/objectstore/swift-s3" stop "$S3_DIR/swift" >/dev/null 2>&1; }

# start_glimpse DATA_DIR [PORT]
start_glimpse() {
    local data_dir="$1" port="${2:-}"
    [[ -n "$port" ]] || port="$(free_port)"
    [[ -n "${GLIMPSE:-}" ]] || require_glimpse
    local store_args=()
    if [[ "${E2E_STORE:-}" == s3 ]]; then
        start_s3_endpoint || return 1
        store_args=(--store "$S3_STORE")
    fi
    mkdir -p "$data_dir"
    GLIMPSE_PORT="$port"
    GLIMPSE_URL="http://127.0.0.1:$port"
    GLIMPSE_LOG="$data_dir/glimpse-e2e-$(date +%H%M%S)-$RANDOM.log"
    # The overlay compute driver: the workflows write into a server's disk with qemu-io (which a running QEMU
    # locks) and boot small images that are not bootable.
    local extra=("${store_args[@]}" "${GLIMPSE_SERVE_ARGS[@]}")
    log "starting: glimpse serve --host 127.0.0.1 --port $port --data-dir $data_dir --auth none --hypervisor overlay ${extra[*]} (log $GLIMPSE_LOG)"
    "$GLIMPSE" serve --host 127.0.0.1 --port "$port" --data-dir "$data_dir" --auth none --hypervisor overlay \
        "${extra[@]}" >"$GLIMPSE_LOG" 2>&1 </dev/null &
    GLIMPSE_PID=$!
    track_pid "$GLIMPSE_PID"
    local timeout="${E2E_START_TIMEOUT:-60}" start=$SECONDS code
    while :; do
        if ! kill -0 "$GLIMPSE_PID" 2>/dev/null; then
            log "glimpse (pid $GLIMPSE_PID) exited before answering; its log:"
            sed 's/^/    | /' "$GLIMPSE_LOG" >&2
            GLIMPSE_PID=""
            return 1
        fi
        code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$GLIMPSE_URL/versions" || true)"
        if [[ "$code" == 200 ]]; then
            log "glimpse is up (pid $GLIMPSE_PID, GET /versions = 200 after $((SECONDS - start)) s)"
            return 0
        fi
        if ((SECONDS - start >= timeout)); then
            log "GET $GLIMPSE_URL/versions did not answer 200 within ${timeout} s (last: $code); its log:"
            sed 's/^/    | /' "$GLIMPSE_LOG" >&2
            return 1
        fi
        sleep 0.2
    done
}

# stop_glimpse [SECONDS]: TERM, wait up to SECONDS (default 10), then KILL.
stop_glimpse() {
    local pid="${GLIMPSE_PID:-}" secs="${1:-10}"
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for i in $(seq 1 $((secs * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            log "glimpse (pid $pid) still running $secs s after SIGTERM: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    GLIMPSE_PID=""
}

# kill9_glimpse: SIGKILL at once, as a crash would.
kill9_glimpse() {
    local pid="${GLIMPSE_PID:-}"
    [[ -n "$pid" ]] || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    GLIMPSE_PID=""
}

# show_log [LINES]: print the tail of the current server log.
show_log() {
    [[ -n "${GLIMPSE_LOG:-}" && -f "$GLIMPSE_LOG" ]] || return 0
    log "last ${1:-40} lines of $GLIMPSE_LOG:"
    tail -n "${1:-40}" "$GLIMPSE_LOG" | sed 's/^/    | /' >&2
}

# ---------------------------------------------------------------- HTTP and JSON

# Identity headers for --auth none. Override per call with http_as.
E2E_HDR_USER=""
E2E_HDR_PROJECT=""
E2E_HDR_ROLES=""

# http METHOD PATH [extra curl args...]
# Sets HTTP_STATUS and HTTP_BODY (a file holding the body) and HTTP_HEADERS (a file).
# HTTP_STATUS is 000 when no HTTP answer came (connection refused, reset, timeout).
HTTP_BODY=""
HTTP_HEADERS=""
HTTP_STATUS=""
http() {
    local method="$1" path="$2"; shift 2
    [[ -n "$HTTP_BODY" ]] || { HTTP_BODY="$(mktemp)"; HTTP_HEADERS="$(mktemp)"; E2E_TMPDIRS+=("$HTTP_BODY" "$HTTP_HEADERS"); }
    # A `-o FILE` among the arguments sends the body there instead of HTTP_BODY.
    local out="$HTTP_BODY" args=()
    while (($# > 0)); do
        if [[ "$1" == -o && $# -ge 2 ]]; then out="$2"; shift 2; else args+=("$1"); shift; fi
    done
    local hdrs=()
    [[ -z "$E2E_HDR_USER" ]] || hdrs+=(-H "X-User-Id: $E2E_HDR_USER")
    [[ -z "$E2E_HDR_PROJECT" ]] || hdrs+=(-H "X-Project-Id: $E2E_HDR_PROJECT")
    [[ -z "$E2E_HDR_ROLES" ]] || hdrs+=(-H "X-Roles: $E2E_HDR_ROLES")
    HTTP_STATUS="$(curl -s -m "${E2E_HTTP_TIMEOUT:-60}" -X "$method" -o "$out" -D "$HTTP_HEADERS" \
        -w '%{http_code}' "${hdrs[@]}" "${args[@]}" "$GLIMPSE_URL$path" || true)"
    if [[ "$out" != "$HTTP_BODY" ]]; then
        # Keep error bodies visible to body_snippet.
        if [[ "$HTTP_STATUS" =~ ^[45] && -f "$out" ]]; then head -c 4096 "$out" >"$HTTP_BODY"; else : >"$HTTP_BODY"; fi
    fi
}

# http_as USER PROJECT ROLES METHOD PATH [curl args...]: one call with another identity.
http_as() {
    local u="$E2E_HDR_USER" p="$E2E_HDR_PROJECT" r="$E2E_HDR_ROLES"
    E2E_HDR_USER="$1" E2E_HDR_PROJECT="$2" E2E_HDR_ROLES="$3"
    shift 3
    http "$@"
    E2E_HDR_USER="$u" E2E_HDR_PROJECT="$p" E2E_HDR_ROLES="$r"
}

# body_snippet: the first 300 characters of the last body, on one line.
body_snippet() { head -c 300 "$HTTP_BODY" | tr '\n' ' '; }

# check_status WHAT EXPECTED: compare HTTP_STATUS, show the body when it differs.
check_status() {
    if [[ "$HTTP_STATUS" == "$2" ]]; then
        pass "$1 -> $HTTP_STATUS"
    else
        fail "$1: expected HTTP $2, got $HTTP_STATUS; body: $(body_snippet)"
    fi
}

# json_get FILE EXPR: print the value of a Python expression over the JSON document `j`.
# None prints as "null", booleans as "true"/"false", lists and dicts as JSON.
json_get() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
try:
    with open(sys.argv[1], "rb") as f:
        j = json.load(f)
except Exception as e:
    print("<not JSON: %s>" % e)
    sys.exit(0)
try:
    v = eval(sys.argv[2], {"j": j})
except Exception as e:
    print("<error: %r>" % (e,))
    sys.exit(0)
if v is None:
    print("null")
elif isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, (list, dict)):
    print(json.dumps(v, sort_keys=True))
else:
    print(v)
EOF
}

# md5_of FILE
md5_of() { md5sum "$1" | cut -d' ' -f1; }
sha512_of() { sha512sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- Python clients

# ensure_venv SPEC...: create tests/e2e/.venv when missing and pip-install each pinned SPEC
# not installed yet. Prints nothing on the happy path after the first time.
ensure_venv() {
    local py="$E2E_VENV/bin/python"
    if [[ ! -x "$py" ]] || ! "$py" -m pip --version >/dev/null 2>&1; then
        rm -rf "$E2E_VENV"
        log "creating $E2E_VENV"
        if ! python3 -m venv "$E2E_VENV" >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
            # Debian's python3 has no ensurepip without python3-venv.
            rm -rf "$E2E_VENV"
            log "python3 -m venv failed; apt-get install python3-venv"
            { DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv ||
                { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; }; } >&2 || true
            python3 -m venv "$E2E_VENV" >/dev/null 2>&1 || true
        fi
        if [[ ! -x "$py" ]] || ! "$py" -m pip --version >/dev/null 2>&1; then
            # Still no venv with pip: fall back to virtualenv.
            rm -rf "$E2E_VENV"
            log "python3 -m venv gave no working venv; trying virtualenv"
            python3 -m pip install --quiet --user virtualenv >&2 ||
                python3 -m pip install --quiet --break-system-packages --user virtualenv >&2 || return 1
            python3 -m virtualenv --quiet "$E2E_VENV" >&2 || return 1
        fi
        rm -f "$E2E_VENV/.e2e-installed"
    fi
    local marker="$E2E_VENV/.e2e-installed" spec missing=()
    touch "$marker" || return 1
    for spec in "$@"; do
        grep -qxF "$spec" "$marker" || missing+=("$spec")
    done
    if ((${#missing[@]} > 0)); then
        log "pip install ${missing[*]} into $E2E_VENV"
        "$py" -m pip install --quiet --disable-pip-version-check "${missing[@]}" >&2 || return 1
        printf '%s\n' "${missing[@]}" >>"$marker"
    fi
}
