# conformance/lib/glimpse.sh -- sourced by conformance/run for `--target glimpse` (the default).
#
# Builds Glimpse from the repository (`swift build --product glimpse`, the shared .build) and starts
# `glimpse serve` on a free loopback port with a fresh data directory and its built-in identity:
# the first start bootstraps domain Default, project admin and user admin (role admin; the password is
# taken from GLIMPSE_ADMIN_PASSWORD) and writes an openrc into the data directory, which is where the
# Tempest credentials and the identity URL are read from. The catalog points at the same listener:
# identity <public>/identity, image <public>.

glimpse_build() {
  if [ -n "${GLIMPSE_BIN:-}" ]; then
    [ -x "$GLIMPSE_BIN" ] || die "GLIMPSE_BIN=$GLIMPSE_BIN is not an executable"
    GLIMPSE_GIVEN=1
    return 0
  fi
  command -v swift >/dev/null 2>&1 || die "swift is not on PATH (the Swift toolchain is needed to build Glimpse)"
  local blog="$RES/swift-build.log" tries=0
  log "swift build --product glimpse (log: $blog)"
  while :; do
    if (cd "$ROOT" && swift build --product glimpse) >"$blog" 2>&1; then break; fi
    # SwiftPM normally waits by itself for another build using .build; older versions give up instead
    if grep -qiE 'another instance of swiftpm|already (running|in use)|is locked|lock.*\.build' "$blog" && [ $tries -lt 120 ]; then
      tries=$((tries + 1)); log "another process is using the build folder; waiting (attempt $tries)"; sleep 15; continue
    fi
    tail -40 "$blog" >&2; die "swift build failed (log: $blog)"
  done
  GLIMPSE_BIN="$(cd "$ROOT" && swift build --product glimpse --show-bin-path 2>/dev/null)/glimpse"
  [ -x "$GLIMPSE_BIN" ] || die "no glimpse binary at $GLIMPSE_BIN"
}

# The value of --auth that selects the built-in identity, from `glimpse serve --help`
# (GLIMPSE_AUTH overrides; empty = leave --auth at its default).
glimpse_auth_mode() {
  if [ -n "${GLIMPSE_AUTH+x}" ]; then echo "$GLIMPSE_AUTH"; return; fi
  local help mode
  help="$("$GLIMPSE_BIN" serve --help 2>&1 | tr -s ' \n' ' ')"
  for mode in builtin built-in identity internal local; do
    if grep -qE -- "--auth[^-]*\b$mode\b" <<<"$help"; then echo "$mode"; return; fi
  done
  echo ""
}

target_glimpse_start() {
  glimpse_build
  local port auth data
  port="$(free_port)"
  GLIMPSE_URL="http://127.0.0.1:$port"
  data="$RUNTMP/glimpse-data"; mkdir -p "$data"
  auth="$(glimpse_auth_mode)"
  ADMIN_PASSWORD="${ADMIN_PASSWORD:-admin-$RANDOM$RANDOM}"
  local args=(serve --host 127.0.0.1 --port "$port" --data-dir "$data" --public-url "$GLIMPSE_URL")
  [ -n "$auth" ] && args+=(--auth "$auth")
  # web-download from the local file server: loopback and its port must pass the import filter
  # (Glance's [import_filtering_opts]); passed when `glimpse serve` has these options
  local help extras=(); help="$("$GLIMPSE_BIN" serve --help 2>&1)"
  grep -q -- '--import-allowed-hosts' <<<"$help" && extras+=(--import-allowed-hosts 127.0.0.1)
  grep -q -- '--import-allowed-ports' <<<"$help" && extras+=(--import-allowed-ports "80,443,$WWW_PORT")
  # as the real-Glance run (require_image_format_match = False, tempest image_format_enforcement = False):
  # Tempest's ListUserImagesTest uploads random bytes under every disk_format and skips otherwise
  grep -q -- '--require-image-format-match' <<<"$help" && extras+=(--require-image-format-match false)
  # shellcheck disable=SC2206 -- GLIMPSE_SERVE_ARGS: extra arguments, split on spaces
  [ -n "${GLIMPSE_SERVE_ARGS:-}" ] && extras+=($GLIMPSE_SERVE_ARGS)
  args+=("${extras[@]}")
  # run a copy: another engineer's rebuild must not swap the binary under the running server
  cp "$GLIMPSE_BIN" "$RUNTMP/glimpse"
  if [ "${NODES:-1}" -gt 1 ]; then
    target_glimpse_start_nodes "$port" "${extras[@]}"
    return
  fi
  [ -n "${GLIMPSE_STORE:-}" ] && args+=(--store "$GLIMPSE_STORE")
  log "starting: glimpse ${args[*]}"
  GLIMPSE_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$RUNTMP/glimpse" "${args[@]}" </dev/null >"$RUNTMP/glimpse.log" 2>&1 &
  track_pid $! glimpse
  GLIMPSE_LOG="$RUNTMP/glimpse.log"
  if ! wait_http "$GLIMPSE_URL/versions" 120 $!; then
    # the cause is near the top; a crash's register dump and backtrace follow it
    grep -vE '^(0x|r[a-z0-9]+ +0x|[a-z]{2} 0x|rflags|cs 0x)' "$GLIMPSE_LOG" | head -25 >&2
    die "glimpse serve did not answer GET /versions (log: $RES/glimpse.log)"
  fi
  log "Glimpse up at $GLIMPSE_URL (pid $!, data dir $data)"
  SERVER_LOGS="$GLIMPSE_LOG"
  if [ -n "${GLIMPSE_GIVEN:-}" ]; then SERVER_DESC="Glimpse ($GLIMPSE_BIN)"; else
    SERVER_DESC="Glimpse $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && { git diff --quiet HEAD -- Sources Package.swift && [ -z "$(git status --porcelain -- Sources)" ]; } 2>/dev/null || echo '+uncommitted')"
  fi

  # the built-in identity: its openrc (written on first start) names the URL and the admin account
  local rc="$data/openrc"
  for _ in $(seq 1 50); do [ -s "$rc" ] && break; sleep 0.1; done
  glimpse_read_openrc "$rc"
}

glimpse_read_openrc() { # openrc
  local rc="$1" code line
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$GLIMPSE_URL/identity/v3" || true)"
  if [ "$code" != 200 ] || [ ! -s "$rc" ]; then
    IDENTITY_MISSING="GET $GLIMPSE_URL/identity/v3 answered ${code:-nothing} and $([ -s "$rc" ] && echo "an openrc was written" || echo "no openrc was written")"
    return 1
  fi
  AUTH_URI_V3="$(openrc_get "$rc" OS_AUTH_URL)"
  case "$AUTH_URI_V3" in */v3) ;; */v3/) AUTH_URI_V3="${AUTH_URI_V3%/}" ;; *) AUTH_URI_V3="${AUTH_URI_V3%/}/v3" ;; esac
  ADMIN_USER="$(openrc_get "$rc" OS_USERNAME)"; ADMIN_USER="${ADMIN_USER:-admin}"
  ADMIN_PASSWORD="$(openrc_get "$rc" OS_PASSWORD)"
  ADMIN_PROJECT="$(openrc_get "$rc" OS_PROJECT_NAME)"; ADMIN_PROJECT="${ADMIN_PROJECT:-admin}"
  ADMIN_DOMAIN="$(openrc_get "$rc" OS_USER_DOMAIN_NAME)"; ADMIN_DOMAIN="${ADMIN_DOMAIN:-Default}"
  REGION="$(openrc_get "$rc" OS_REGION_NAME)"; REGION="${REGION:-RegionOne}"
  [ -n "$ADMIN_PASSWORD" ] || die "the openrc in the data dir has no OS_PASSWORD"

  FEATURES=()
  while IFS= read -r line; do
    line="${line%%#*}"; line="$(tr -d ' \t' <<<"$line")"
    [ -n "$line" ] && FEATURES+=("$line")
  done <"$HERE/glimpse-features.conf"
}

# target_glimpse_start_nodes FRONT_PORT [EXTRA SERVE ARGS...]: NODES nodes behind HAProxy (scripts/local-cluster)
# on one private PostgreSQL cluster; Tempest gets the balancer's URL and the cluster's admin.
target_glimpse_start_nodes() {
  local front="$1" base; shift
  # Under root PostgreSQL runs as its own user: the cluster lives where that user may pass through.
  CLUSTER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/glimpse-conformance-nodes.XXXXXX")/cluster"
  chmod 0711 "$(dirname "$CLUSTER_DIR")"
  for _ in $(seq 1 20); do
    base="$(free_port)"
    python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', $base + $NODES - 1))" 2>/dev/null && break
  done
  log "starting $NODES Glimpse nodes behind HAProxy on port $front (scripts/local-cluster, state $CLUSTER_DIR)"
  if ! LOCAL_CLUSTER_DIR="$CLUSTER_DIR" LOCAL_CLUSTER_FRONT_PORT="$front" LOCAL_CLUSTER_STATS_PORT="$(free_port)" \
    LOCAL_CLUSTER_NODE_PORT="$base" LOCAL_CLUSTER_SERVE_ARGS="$*" LOCAL_CLUSTER_STORE="${GLIMPSE_STORE:-}" GLIMPSE_BIN="$RUNTMP/glimpse" \
    "$ROOT/scripts/local-cluster" start --nodes "$NODES" >"$RUNTMP/local-cluster.log" 2>&1; then
    tail -30 "$RUNTMP/local-cluster.log" >&2
    die "the Glimpse nodes did not start (log: $RUNTMP/local-cluster.log)"
  fi
  GLIMPSE_LOG="$CLUSTER_DIR/node-1.log"
  SERVER_LOGS="$CLUSTER_DIR/node-1.log"
  SERVER_DESC="Glimpse $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null), $NODES nodes behind HAProxy on PostgreSQL${GLIMPSE_STORE:+, image data in S3}"
  glimpse_read_openrc "$CLUSTER_DIR/openrc"
}

openrc_get() { # file VAR -- the value the openrc gives VAR (sourced in a child shell, so quoting is exact)
  bash -c '. "$1" >/dev/null 2>&1; printenv "$2" || true' openrc "$1" "$2"
}
