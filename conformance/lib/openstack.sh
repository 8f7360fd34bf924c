# conformance/lib/openstack.sh -- sourced by conformance/run for `--target openstack`.
#
# Real OpenStack on loopback: Keystone 30.0.0 and Glance 33.0.0 from PyPI, each under uWSGI, Glance on
# a private MariaDB (default) or SQLite with the file store, keystonemiddleware validating tokens.
# Everything lives in $WORK/openstack: venv-keystone/ and venv-glance/ are installed once; state/
# (configs, databases, images, logs) is wiped at every run.
#
# Config pitfalls this encodes (each one cost a failing run):
#   - uWSGI http-socket answers HTTP/1.1 without "Connection: close" yet closes the socket: clients then
#     reuse a dead connection ("Connection reset by peer"). add-header = Connection: close.
#   - Keystone on SQLite with 2 workers gives "database is locked" 500s on password auth: 1 worker.
#   - Glance on SQLite gives sporadic "database is locked" 500s (about one failed test per run) when a
#     DELETE races a background import task: GLANCE_DB=mariadb (the default) avoids it.
#   - single-store config (stores = file,http), not enabled_backends with one backend: the latter makes
#     ImportCopyImagesTest hang until timeout.
#   - metadefs must be loaded (glance-manage db_load_metadefs) or 3 admin metadefs tests get IndexError.
#   - [import_filtering_opts] ListOpts need the bracket form ("[127.0.0.1]") or every URI "does not
#     pass filtering"; loopback and the file server's port must be allowed for web-download.
#   - [image_format] require_image_format_match = False, or ListUserImagesTest (which uploads random
#     bytes as qcow2/vhd/...) cannot run.
#   - MariaDB's packaged service is not used (policy-rc.d may forbid starting it): mariadbd is started
#     directly, socket only, datadir under state/.

KEYSTONE_VERSION=30.0.0 GLANCE_VERSION=33.0.0 GLANCE_STORE_VERSION=5.7.0 UWSGI_VERSION=2.0.31
OS_DIR="$WORK/openstack"
OS_STATE="$OS_DIR/state"
SERVICE_PASSWORD=glance-service-secret
: "${GLANCE_DB:=mariadb}"

os_packages() {
  local need=()
  command -v gcc >/dev/null 2>&1 || need+=(gcc)
  python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    2>/dev/null || need+=(python3-dev)
  if [ "$GLANCE_DB" = mariadb ]; then
    command -v mariadbd >/dev/null 2>&1 || need+=(mariadb-server)
  fi
  [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
}

os_venv() { # dir pkgs... -- (re)install when the wanted set differs from what is recorded
  local v="$1"; shift
  if [ ! -x "$v/bin/python" ]; then
    log "creating $(basename "$v")"
    python3 -m venv "$v"
    "$v/bin/pip" install -q --upgrade pip >/dev/null
  fi
  if [ "$(cat "$v/.installed" 2>/dev/null)" != "$*" ]; then
    log "$(basename "$v"): pip install $* (uWSGI compiles: a few minutes the first time)"
    "$v/bin/pip" install -q "$@" >"$v.pip.log" 2>&1 || { tail -30 "$v.pip.log" >&2; die "pip install failed ($v.pip.log)"; }
    echo "$*" > "$v/.installed"
  fi
}

os_uwsgi_ini() { # name venv module port workers env
  cat > "$OS_STATE/etc/uwsgi-$1.ini" <<EOF
[uwsgi]
module = $3
virtualenv = $2
chdir = $OS_STATE
env = $6
http-socket = 127.0.0.1:$4
add-header = Connection: close
processes = $5
master = true
need-app = true
die-on-term = true
exit-on-reload = true
enable-threads = true
thunder-lock = true
lazy-apps = true
buffer-size = 65535
chunked-input-limit = 10485760
socket-timeout = 60
listen = 128
logto = $OS_STATE/log/$1-uwsgi.log
req-logger = file:$OS_STATE/log/$1-access.log
log-format = %(ltime) "%(method) %(uri)" %(status) %(size)B %(msecs)ms
EOF
}

os_start_uwsgi() { # name venv probe-url
  "$2/bin/uwsgi" --ini "$OS_STATE/etc/uwsgi-$1.ini" </dev/null >>"$OS_STATE/log/$1-uwsgi.log" 2>&1 &
  track_pid $! "$1"
  wait_http "$3" 180 $! || { tail -30 "$OS_STATE/log/$1-uwsgi.log" >&2; die "$1 did not start"; }
  log "$1 up ($3, pid $!)"
}

os_keystone() {
  local v="$OS_DIR/venv-keystone" ketc="$OS_STATE/etc/keystone"
  mkdir -p "$ketc"
  cat > "$ketc/keystone.conf" <<EOF
[DEFAULT]
log_file = $OS_STATE/log/keystone.log
[database]
connection = sqlite:///$OS_STATE/keystone.sqlite
[token]
provider = fernet
expiration = 7200
[fernet_tokens]
key_repository = $ketc/fernet-keys/
[fernet_receipts]
key_repository = $ketc/fernet-keys/
[credential]
key_repository = $ketc/credential-keys/
EOF
  local km=("$v/bin/keystone-manage" --config-file "$ketc/keystone.conf") mlog="$OS_STATE/log/keystone-manage.log"
  log "keystone-manage db_sync, fernet_setup, bootstrap"
  { "${km[@]}" db_sync &&
    "${km[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" &&
    "${km[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" &&
    "${km[@]}" bootstrap --bootstrap-password "$ADMIN_PASSWORD" --bootstrap-username admin \
      --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-service-name keystone \
      --bootstrap-region-id RegionOne --bootstrap-admin-url "$KEYSTONE_URL/v3" \
      --bootstrap-internal-url "$KEYSTONE_URL/v3" --bootstrap-public-url "$KEYSTONE_URL/v3"
  } >"$mlog" 2>&1 || { tail -20 "$mlog" >&2; die "keystone-manage failed ($mlog)"; }
  os_uwsgi_ini keystone "$v" keystone.wsgi.api:application "$KEYSTONE_PORT" 1 \
    "OS_KEYSTONE_CONFIG_FILES=$ketc/keystone.conf"
  os_start_uwsgi keystone "$v" "$KEYSTONE_URL/v3"
}

os_mariadb() { # sets GLANCE_DB_URL
  local sock="$RUNTMP/mysqld.sock" me; me="$(id -un)"
  log "mariadb: private instance (socket only), datadir under state/"
  mariadb-install-db --no-defaults --user="$me" --auth-root-socket-user="$me" --datadir="$OS_STATE/mysql" \
    --skip-test-db >"$OS_STATE/log/mariadb-install.log" 2>&1 \
    || { tail -20 "$OS_STATE/log/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
  mariadbd --no-defaults --user="$me" --datadir="$OS_STATE/mysql" --skip-networking --socket="$sock" \
    --pid-file="$RUNTMP/mysqld.pid" --log-error="$OS_STATE/log/mariadb.err" --innodb-buffer-pool-size=128M \
    </dev/null >>"$OS_STATE/log/mariadb.out" 2>&1 &
  track_pid $! mariadb
  local i
  for i in $(seq 1 300); do mariadb-admin --no-defaults -S "$sock" -u root ping >/dev/null 2>&1 && break; sleep 0.2; done
  mariadb-admin --no-defaults -S "$sock" -u root ping >/dev/null 2>&1 || { tail -20 "$OS_STATE/log/mariadb.err" >&2; die "mariadb did not start"; }
  mariadb --no-defaults -S "$sock" -u root -e "CREATE DATABASE glance CHARACTER SET utf8mb4;
    CREATE USER 'glance'@'localhost' IDENTIFIED BY '$SERVICE_PASSWORD';
    GRANT ALL PRIVILEGES ON glance.* TO 'glance'@'localhost';" || die "could not create the glance database"
  GLANCE_DB_URL="mysql+pymysql://glance:$SERVICE_PASSWORD@localhost/glance?unix_socket=$sock&charset=utf8mb4"
}

os_glance() {
  local v="$OS_DIR/venv-glance" getc="$OS_STATE/etc/glance" workers=1
  mkdir -p "$getc" "$OS_STATE"/{images,staging,tasks,cache,locks}
  if [ "$GLANCE_DB" = mariadb ]; then os_mariadb; workers=2; else GLANCE_DB_URL="sqlite:///$OS_STATE/glance.sqlite"; fi
  cp "$v/etc/glance/glance-api-paste.ini" "$getc/glance-api-paste.ini"
  sed -i "s#^disable_by_file_path = .*#disable_by_file_path = $OS_STATE/healthcheck_disable#" "$getc/glance-api-paste.ini"
  cat > "$getc/glance-api.conf" <<EOF
[DEFAULT]
log_file = $OS_STATE/log/glance-api.log
image_cache_dir = $OS_STATE/cache
worker_self_reference_url = $GLANCE_URL
node_staging_uri = file://$OS_STATE/staging

[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $OS_STATE/images/

[task]
work_dir = $OS_STATE/tasks

[image_format]
require_image_format_match = False

[import_filtering_opts]
allowed_hosts = [127.0.0.1]
allowed_ports = [80,443,$WWW_PORT]

[database]
connection = $GLANCE_DB_URL

[paste_deploy]
flavor = keystone+cachemanagement
config_file = $getc/glance-api-paste.ini

[keystone_authtoken]
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = $SERVICE_PASSWORD
region_name = RegionOne

[oslo_concurrency]
lock_path = $OS_STATE/locks
EOF
  local gm=(env OS_GLANCE_CONFIG_DIR="$getc" "$v/bin/glance-manage" --config-file "$getc/glance-api.conf")
  log "glance-manage db_sync, db_load_metadefs ($GLANCE_DB)"
  { "${gm[@]}" db_sync && "${gm[@]}" db_load_metadefs "$v/etc/glance/metadefs"; } >"$OS_STATE/log/glance-manage.log" 2>&1 \
    || { tail -20 "$OS_STATE/log/glance-manage.log" >&2; die "glance-manage failed"; }
  os_uwsgi_ini glance "$v" glance.wsgi.api:application "$GLANCE_PORT" "$workers" "OS_GLANCE_CONFIG_DIR=$getc"
  os_start_uwsgi glance "$v" "$GLANCE_URL/versions"
}

# Installs what is missing, starts Keystone and Glance, and sets what write_tempest_conf needs.
target_openstack_start() {
  case "$GLANCE_DB" in mariadb|sqlite) ;; *) die "GLANCE_DB must be mariadb or sqlite, not '$GLANCE_DB'" ;; esac
  os_packages
  os_venv "$OS_DIR/venv-keystone" "keystone==$KEYSTONE_VERSION" "uwsgi==$UWSGI_VERSION"
  local glance_pkgs=("glance==$GLANCE_VERSION" "glance-store==$GLANCE_STORE_VERSION" "uwsgi==$UWSGI_VERSION")
  [ "$GLANCE_DB" = mariadb ] && glance_pkgs+=(PyMySQL)
  os_venv "$OS_DIR/venv-glance" "${glance_pkgs[@]}"

  rm -rf "$OS_STATE"; mkdir -p "$OS_STATE/etc" "$OS_STATE/log"
  KEYSTONE_PORT="$(free_port)"; KEYSTONE_URL="http://127.0.0.1:$KEYSTONE_PORT"
  GLANCE_PORT="$(free_port)"; GLANCE_URL="http://127.0.0.1:$GLANCE_PORT"
  ADMIN_PASSWORD="${ADMIN_PASSWORD:-admin-$RANDOM$RANDOM}"
  os_keystone
  python3 "$HERE/lib/keystone_provision.py" "$KEYSTONE_URL" "$ADMIN_PASSWORD" "$GLANCE_URL" "$SERVICE_PASSWORD" >&2 \
    || die "provisioning keystone failed"
  os_glance
  SERVER_LOGS="$OS_STATE/log"
  SERVER_DESC="real Keystone $KEYSTONE_VERSION + Glance $GLANCE_VERSION ($GLANCE_DB, file store, uWSGI)"

  # the tempest.conf values: Glance as configured above
  AUTH_URI_V3="$KEYSTONE_URL/v3" REGION=RegionOne
  ADMIN_USER=admin ADMIN_PROJECT=admin ADMIN_DOMAIN=Default
  FEATURES=(
    "image.image_caching_enabled=True"
    "image-feature-enabled.import_image=True"
    "image-feature-enabled.os_glance_reserved=True"
    "image-feature-enabled.manage_locations=False"
    "image-feature-enabled.do_secure_hash=True"
    "image-feature-enabled.http_store_enabled=True"
    "image-feature-enabled.image_format_enforcement=False"
    "image-feature-enabled.image_conversion=False"
    "enforce_scope.glance=True"
    "identity-feature-enabled.application_credentials=True"
    "identity-feature-enabled.access_rules=True"
    "identity-feature-enabled.trust=True"
    "identity-feature-enabled.project_tags=True"
    "identity-feature-enabled.security_compliance=False"
  )
}
