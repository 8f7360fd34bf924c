#!/usr/bin/env bash
# End-to-end: the real `glance` CLI (python-glanceclient, pinned) against a real `glimpse serve`.
#
# Walks an image through its life with the CLI: create with data, list, show, download,
# update (name, properties, remove a property), tags, members (the member project accepts
# with its own identity through curl, since glanceclient can't send X-Project-Id),
# deactivate/reactivate, community visibility, delete. Each CLI result is also checked
# against the server's JSON with curl.
#
# Usage: tests/e2e/glanceclient.sh        (GLIMPSE_BIN=path to skip the build)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ------------------------------------------------------------------ setup
step "setup"
require_glimpse
ensure_venv "$GLANCECLIENT_SPEC" || fatal "could not set up the client venv ($E2E_VENV)"
GLANCE="$E2E_VENV/bin/glance"
log "$("$GLANCE" --version 2>&1 | head -n1) at $GLANCE"

e2e_mktemp WORK
start_glimpse "$WORK/data" || fatal "glimpse serve did not come up"

# Only our endpoint and token: drop any OS_* settings of the caller (clouds, Keystone URLs...).
while read -r v; do unset "$v"; done < <(env | grep -o '^OS_[A-Za-z0-9_]*' || true)
export OS_IMAGE_URL="$GLIMPSE_URL" OS_AUTH_TOKEN=dummy

OUT="$WORK/glance.out"
ERR="$WORK/glance.err"

# g ARGS...: run `glance ARGS`, stdout in $OUT, stderr in $ERR, exit code in G_RC.
# stdin is closed so that commands without --file don't read image data from it.
g() {
    log "\$ glance $*"
    set +e
    "$GLANCE" --os-image-url "$GLIMPSE_URL" --os-auth-token dummy "$@" >"$OUT" 2>"$ERR" 0<&-
    G_RC=$?
    set -e
}

# g_ok WHAT ARGS...: run glance and assert exit code 0 (prints output on failure).
g_ok() {
    local what="$1"; shift
    g "$@"
    if [[ "$G_RC" == 0 ]]; then
        pass "$what (glance exit 0)"
        return 0
    fi
    fail "$what: \`glance $*\` exited $G_RC; stderr: $(head -c 600 "$ERR" | tr '\n' ' ') stdout: $(head -c 300 "$OUT" | tr '\n' ' ')"
    return 1
}

# table_get KEY: value of KEY in a `Property | Value` table in $OUT (wrapped rows joined).
table_get() {
    python3 - "$OUT" "$1" <<'EOF'
import sys
rows, cur = {}, None
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    if not line.startswith("|"):
        continue
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 2:
        continue
    k, v = cells[0], "|".join(cells[1:]).strip()
    if k:
        cur = k
        rows[k] = v
    elif cur is not None:
        rows[cur] += v
print(rows.get(sys.argv[2], "<absent>"))
EOF
}

# table_has TEXT: does any table cell in $OUT equal TEXT?
table_has() {
    python3 - "$OUT" "$1" <<'EOF'
import sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if line.startswith("|") and sys.argv[2] in [c.strip() for c in line.strip().strip("|").split("|")]:
        sys.exit(0)
sys.exit(1)
EOF
}

# table_row_with TEXT: the cells (joined by ' | ') of the first table row containing TEXT.
table_row_with() {
    python3 - "$OUT" "$1" <<'EOF'
import sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if line.startswith("|"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if sys.argv[2] in cells:
            print(" | ".join(cells))
            break
EOF
}

# api_image ID: GET /v2/images/ID as the default identity into HTTP_BODY.
api_image() { http GET "/v2/images/$1" -H 'Accept: application/json'; }

# ------------------------------------------------------------------ what the CLI reads first
step "schemas the CLI validates against"
for schema in image member; do
    http GET "/v2/schemas/$schema"
    check_status "GET /v2/schemas/$schema" 200
    check_eq "GET /v2/schemas/$schema: body is valid JSON (name)" "$schema" "$(json_get "$HTTP_BODY" 'j["name"]')"
done
http GET /v2/schemas/image
check_eq "image schema: visibility enum" '["community", "private", "public", "shared"]' \
    "$(json_get "$HTTP_BODY" 'sorted(j["properties"]["visibility"]["enum"])')"

DATA="$WORK/data.bin"
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$DATA"
DATA_SIZE="$(stat -c %s "$DATA")"
DATA_MD5="$(md5_of "$DATA")"
DATA_SHA512="$(sha512_of "$DATA")"
log "test data: $DATA_SIZE bytes, md5 $DATA_MD5"

# ------------------------------------------------------------------ image-create with data
step "image-create (raw/bare, property hw_disk_bus=scsi, --file of $DATA_SIZE bytes)"
NAME="e2e-glanceclient-$$"
g_ok "image-create" image-create --name "$NAME" --disk-format raw --container-format bare \
    --property hw_disk_bus=scsi --file "$DATA" ||
    fatal "image-create failed; nothing else can be checked"
IMAGE_ID="$(table_get id)"
[[ "$IMAGE_ID" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
    fatal "image-create printed no image id (got '$IMAGE_ID'); output: $(head -c 600 "$OUT")"
pass "image-create printed id $IMAGE_ID"
check_eq "image-create: status" active "$(table_get status)"
check_eq "image-create: name" "$NAME" "$(table_get name)"
check_eq "image-create: disk_format" raw "$(table_get disk_format)"
check_eq "image-create: container_format" bare "$(table_get container_format)"
check_eq "image-create: hw_disk_bus" scsi "$(table_get hw_disk_bus)"
check_eq "image-create: size" "$DATA_SIZE" "$(table_get size)"
check_eq "image-create: checksum" "$DATA_MD5" "$(table_get checksum)"
check_eq "image-create: visibility (default)" shared "$(table_get visibility)"

api_image "$IMAGE_ID"
check_status "GET /v2/images/$IMAGE_ID" 200
check_eq "API: status" active "$(json_get "$HTTP_BODY" 'j["status"]')"
check_eq "API: size" "$DATA_SIZE" "$(json_get "$HTTP_BODY" 'j["size"]')"
check_eq "API: checksum" "$DATA_MD5" "$(json_get "$HTTP_BODY" 'j["checksum"]')"
check_eq "API: os_hash_algo" sha512 "$(json_get "$HTTP_BODY" 'j["os_hash_algo"]')"
check_eq "API: os_hash_value" "$DATA_SHA512" "$(json_get "$HTTP_BODY" 'j["os_hash_value"]')"
check_eq "API: hw_disk_bus (extra property, top level)" scsi "$(json_get "$HTTP_BODY" 'j.get("hw_disk_bus")')"
OWNER="$(json_get "$HTTP_BODY" 'j["owner"]')"
log "image owner (the default project of --auth none): $OWNER"
[[ -n "$OWNER" && "$OWNER" != null && "$OWNER" != "<"* ]] && pass "API: owner is set ($OWNER)" ||
    fail "API: owner of an image created by the default identity should be its project, got '$OWNER'"

# ------------------------------------------------------------------ image-list
step "image-list"
if g_ok "image-list" image-list; then
    table_has "$IMAGE_ID" && pass "image-list shows $IMAGE_ID" || fail "image-list does not show $IMAGE_ID: $(head -c 600 "$OUT")"
    table_has "$NAME" && pass "image-list shows name $NAME" || fail "image-list does not show name $NAME"
fi

# ------------------------------------------------------------------ image-show
step "image-show"
if g_ok "image-show" image-show "$IMAGE_ID"; then
    check_eq "image-show: id" "$IMAGE_ID" "$(table_get id)"
    check_eq "image-show: status" active "$(table_get status)"
    check_eq "image-show: os_hash_algo" sha512 "$(table_get os_hash_algo)"
    check_eq "image-show: hw_disk_bus" scsi "$(table_get hw_disk_bus)"
fi

# ------------------------------------------------------------------ image-download
step "image-download"
if g_ok "image-download --file" image-download --file "$WORK/download.bin" "$IMAGE_ID"; then
    if cmp -s "$DATA" "$WORK/download.bin"; then
        pass "downloaded bytes are identical to the uploaded ones (cmp)"
    else
        fail "downloaded file differs from the uploaded one: $(stat -c %s "$WORK/download.bin") bytes, md5 $(md5_of "$WORK/download.bin")"
    fi
fi

# ------------------------------------------------------------------ image-update
step "image-update (name, properties, --remove-property)"
NEW_NAME="$NAME-renamed"
if g_ok "image-update --name --property os_distro=debian --property e2e_note=temp" \
    image-update "$IMAGE_ID" --name "$NEW_NAME" --property os_distro=debian --property e2e_note=temp; then
    check_eq "image-update: name" "$NEW_NAME" "$(table_get name)"
    check_eq "image-update: os_distro" debian "$(table_get os_distro)"
    check_eq "image-update: e2e_note" temp "$(table_get e2e_note)"
fi
if g_ok "image-update --remove-property e2e_note" image-update "$IMAGE_ID" --remove-property e2e_note; then
    check_eq "image-update --remove-property: e2e_note gone from output" "<absent>" "$(table_get e2e_note)"
fi
api_image "$IMAGE_ID"
check_eq "API after update: name" "$NEW_NAME" "$(json_get "$HTTP_BODY" 'j["name"]')"
check_eq "API after update: os_distro" debian "$(json_get "$HTTP_BODY" 'j.get("os_distro")')"
check_eq "API after update: e2e_note absent" false "$(json_get "$HTTP_BODY" '"e2e_note" in j')"
check_eq "API after update: hw_disk_bus kept" scsi "$(json_get "$HTTP_BODY" 'j.get("hw_disk_bus")')"
check_eq "API after update: status still active" active "$(json_get "$HTTP_BODY" 'j["status"]')"

# ------------------------------------------------------------------ tags
step "image-tag-update / image-tag-delete"
g_ok "image-tag-update tag-a" image-tag-update "$IMAGE_ID" e2e-tag-a || true
g_ok "image-tag-update tag-b" image-tag-update "$IMAGE_ID" e2e-tag-b || true
api_image "$IMAGE_ID"
check_eq "API: tags after two tag-updates" '["e2e-tag-a", "e2e-tag-b"]' "$(json_get "$HTTP_BODY" 'sorted(j["tags"])')"
g_ok "image-tag-delete tag-a" image-tag-delete "$IMAGE_ID" e2e-tag-a || true
api_image "$IMAGE_ID"
check_eq "API: tags after tag-delete" '["e2e-tag-b"]' "$(json_get "$HTTP_BODY" 'sorted(j["tags"])')"
if g_ok "image-show shows the tag" image-show "$IMAGE_ID"; then
    check_eq "image-show: tags" '["e2e-tag-b"]' "$(table_get tags | tr -d "'")"
fi

step "image-list filters (--tag, --property-filter)"
if g_ok "image-list --tag e2e-tag-b" image-list --tag e2e-tag-b; then
    table_has "$IMAGE_ID" && pass "image-list --tag e2e-tag-b shows the image" || fail "image-list --tag e2e-tag-b does not show the image: $(head -c 400 "$OUT")"
fi
if g_ok "image-list --tag e2e-tag-a (removed tag)" image-list --tag e2e-tag-a; then
    table_has "$IMAGE_ID" && fail "image-list --tag e2e-tag-a shows the image, whose tag was deleted" || pass "image-list --tag e2e-tag-a does not show the image"
fi
if g_ok "image-list --property-filter os_distro=debian" image-list --property-filter os_distro=debian; then
    table_has "$IMAGE_ID" && pass "image-list --property-filter os_distro=debian shows the image" || fail "image-list --property-filter os_distro=debian does not show the image: $(head -c 400 "$OUT")"
fi
if g_ok "image-list --property-filter os_distro=ubuntu" image-list --property-filter os_distro=ubuntu; then
    table_has "$IMAGE_ID" && fail "image-list --property-filter os_distro=ubuntu shows the image (its os_distro is debian)" || pass "image-list --property-filter os_distro=ubuntu does not show the image"
fi

# ------------------------------------------------------------------ members
step "members: member-create, member accepts (curl, as the member project), member-list, member-update"
MEMBER="e2e-member-$$-$RANDOM"
if g_ok "member-create $MEMBER" member-create "$IMAGE_ID" "$MEMBER"; then
    row="$(table_row_with "$MEMBER")"
    log "member-create row: $row"
    [[ "$row" == *pending* ]] && pass "member-create: new member is pending" || fail "member-create: expected a pending row for $MEMBER, got: $(head -c 600 "$OUT")"
fi
if g_ok "member-list (pending)" member-list --image-id "$IMAGE_ID"; then
    row="$(table_row_with "$MEMBER")"
    [[ "$row" == *pending* ]] && pass "member-list: $MEMBER pending" || fail "member-list: expected $MEMBER pending, got: $(head -c 600 "$OUT")"
fi

M_USER=u2 M_ROLES="reader,member"
http_as "$M_USER" "$MEMBER" "$M_ROLES" GET "/v2/images/$IMAGE_ID" -H 'Accept: application/json'
check_status "GET the shared image as the pending member project" 200
http_as "$M_USER" "$MEMBER" "$M_ROLES" GET "/v2/images" -H 'Accept: application/json'
check_status "GET /v2/images as the pending member project" 200
check_eq "pending member's default list excludes the image" false \
    "$(json_get "$HTTP_BODY" "any(i['id'] == '$IMAGE_ID' for i in j['images'])")"

http_as "$M_USER" "$MEMBER" "$M_ROLES" PUT "/v2/images/$IMAGE_ID/members/$MEMBER" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' -d '{"status":"accepted"}'
check_status "PUT /v2/images/$IMAGE_ID/members/$MEMBER {status: accepted} as the member" 200
check_eq "member accept: body status" accepted "$(json_get "$HTTP_BODY" 'j.get("status")')"
check_eq "member accept: body member_id" "$MEMBER" "$(json_get "$HTTP_BODY" 'j.get("member_id")')"
check_eq "member accept: body image_id" "$IMAGE_ID" "$(json_get "$HTTP_BODY" 'j.get("image_id")')"

if g_ok "member-list (accepted)" member-list --image-id "$IMAGE_ID"; then
    row="$(table_row_with "$MEMBER")"
    [[ "$row" == *accepted* ]] && pass "member-list: $MEMBER accepted ($row)" || fail "member-list: expected $MEMBER accepted, got: $(head -c 600 "$OUT")"
fi
http_as "$M_USER" "$MEMBER" "$M_ROLES" GET "/v2/images?member_status=accepted" -H 'Accept: application/json'
check_status "GET /v2/images?member_status=accepted as the member project" 200
check_eq "member's accepted list includes the image" true \
    "$(json_get "$HTTP_BODY" "any(i['id'] == '$IMAGE_ID' for i in j['images'])")"
http_as "$M_USER" "$MEMBER" "$M_ROLES" GET "/v2/images" -H 'Accept: application/json'
check_eq "member's default list (member_status=accepted) includes the image" true \
    "$(json_get "$HTTP_BODY" "any(i['id'] == '$IMAGE_ID' for i in j['images'])")"
http_as "$M_USER" "$MEMBER" "$M_ROLES" GET "/v2/images/$IMAGE_ID/file" -o "$WORK/member-download.bin"
check_status "GET /v2/images/$IMAGE_ID/file as the accepted member" 200
cmp -s "$DATA" "$WORK/member-download.bin" && pass "member download: bytes identical" ||
    fail "member download: bytes differ ($(stat -c %s "$WORK/member-download.bin") bytes)"

# glance member-update as the admin (secure-RBAC modify_member allows context_is_admin).
if g_ok "member-update $MEMBER rejected (as admin)" member-update "$IMAGE_ID" "$MEMBER" rejected; then
    row="$(table_row_with "$MEMBER")"
    [[ "$row" == *rejected* ]] && pass "member-update: $MEMBER rejected" || fail "member-update rejected: got: $(head -c 600 "$OUT")"
fi
http_as "$M_USER" "$MEMBER" "$M_ROLES" GET "/v2/images?member_status=accepted" -H 'Accept: application/json'
check_eq "member's accepted list excludes the rejected image" false \
    "$(json_get "$HTTP_BODY" "any(i['id'] == '$IMAGE_ID' for i in j['images'])")"
http_as "$M_USER" "$MEMBER" "$M_ROLES" GET "/v2/images?member_status=rejected" -H 'Accept: application/json'
check_eq "member's rejected list includes the image" true \
    "$(json_get "$HTTP_BODY" "any(i['id'] == '$IMAGE_ID' for i in j['images'])")"
if g_ok "member-update $MEMBER accepted (as admin)" member-update "$IMAGE_ID" "$MEMBER" accepted; then
    row="$(table_row_with "$MEMBER")"
    [[ "$row" == *accepted* ]] && pass "member-update: $MEMBER accepted" || fail "member-update accepted: got: $(head -c 600 "$OUT")"
fi
if g_ok "member-list after member-update" member-list --image-id "$IMAGE_ID"; then
    row="$(table_row_with "$MEMBER")"
    [[ "$row" == *accepted* ]] && pass "member-list: $MEMBER accepted" || fail "member-list: expected accepted, got: $(head -c 600 "$OUT")"
fi

# ------------------------------------------------------------------ deactivate / reactivate
step "image-deactivate / image-reactivate"
if g_ok "image-deactivate" image-deactivate "$IMAGE_ID"; then
    api_image "$IMAGE_ID"
    check_eq "API after deactivate: status" deactivated "$(json_get "$HTTP_BODY" 'j["status"]')"
    http_as "$M_USER" "$MEMBER" "$M_ROLES" GET "/v2/images/$IMAGE_ID/file" -o /dev/null
    check_status "download of a deactivated image by a non-admin (member project)" 403
    # Glance (image_data.py download) forbids deactivated downloads to non-admins only.
    if g_ok "image-download of the deactivated image by the admin" image-download --file "$WORK/deact.bin" "$IMAGE_ID"; then
        cmp -s "$DATA" "$WORK/deact.bin" && pass "admin download of the deactivated image: bytes identical" ||
            fail "admin download of the deactivated image: bytes differ ($(stat -c %s "$WORK/deact.bin") bytes)"
    fi
fi
if g_ok "image-reactivate" image-reactivate "$IMAGE_ID"; then
    api_image "$IMAGE_ID"
    check_eq "API after reactivate: status" active "$(json_get "$HTTP_BODY" 'j["status"]')"
    if g_ok "image-download after reactivate" image-download --file "$WORK/download2.bin" "$IMAGE_ID"; then
        cmp -s "$DATA" "$WORK/download2.bin" && pass "download after reactivate: bytes identical" ||
            fail "download after reactivate: bytes differ"
    fi
fi

# ------------------------------------------------------------------ member-delete
step "member-delete"
if g_ok "member-delete $MEMBER" member-delete "$IMAGE_ID" "$MEMBER"; then
    g_ok "member-list after member-delete" member-list --image-id "$IMAGE_ID" &&
        { table_has "$MEMBER" && fail "member-list still shows $MEMBER after member-delete" || pass "member-list no longer shows $MEMBER"; }
fi

# ------------------------------------------------------------------ community visibility
step "image-create --visibility community (client validates against /v2/schemas/image)"
COMMUNITY_ID=""
if g_ok "image-create --visibility community" image-create --name "e2e-community-$$" --visibility community \
    --disk-format raw --container-format bare; then
    COMMUNITY_ID="$(table_get id)"
    check_eq "community image: visibility" community "$(table_get visibility)"
    check_eq "community image: status (no data)" queued "$(table_get status)"
    api_image "$COMMUNITY_ID"
    check_eq "API: community image visibility" community "$(json_get "$HTTP_BODY" 'j["visibility"]')"
    check_eq "API: community image size" null "$(json_get "$HTTP_BODY" 'j["size"]')"
    if g_ok "image-upload --file to the queued community image" image-upload --file "$DATA" "$COMMUNITY_ID"; then
        api_image "$COMMUNITY_ID"
        check_eq "after image-upload: status" active "$(json_get "$HTTP_BODY" 'j["status"]')"
        check_eq "after image-upload: checksum" "$DATA_MD5" "$(json_get "$HTTP_BODY" 'j["checksum"]')"
    fi
    g image-upload --file "$DATA" "$COMMUNITY_ID"
    [[ "$G_RC" != 0 ]] && pass "a second image-upload to the now active image fails (exit $G_RC: $(head -c 200 "$ERR" | tr '\n' ' '))" ||
        fail "a second image-upload to an active image succeeded (Glance answers 409)"
    http PUT "/v2/images/$COMMUNITY_ID/file" -H 'Content-Type: application/octet-stream' --data-binary "@$DATA"
    check_status "PUT /v2/images/$COMMUNITY_ID/file on an active image" 409
fi

# ------------------------------------------------------------------ delete
step "image-delete"
if g_ok "image-delete" image-delete "$IMAGE_ID"; then
    g image-show "$IMAGE_ID"
    if [[ "$G_RC" != 0 ]]; then
        pass "image-show of the deleted image fails (exit $G_RC: $(head -c 200 "$ERR" | tr '\n' ' '))"
        # Against Glance the CLI prints "HTTP 404 Not Found: No image found with ID ...". glanceclient
        # reads a JSON error body only in the nested {"<kind>": {"message": ...}} form, and HTML or
        # plain text otherwise (webob answers Accept: */* with HTML).
        if grep -Eqi '404|not found' "$ERR"; then
            pass "image-show of the deleted image reports not found ($(head -c 200 "$ERR" | tr '\n' ' '))"
        else
            fail "image-show of the deleted image: the CLI's message does not say 404/not found: '$(head -c 300 "$ERR" | tr '\n' ' ')' (server answer to the same GET with Accept: */*: $(curl -s -i -H 'Accept: */*' "$GLIMPSE_URL/v2/images/$IMAGE_ID" | tr -d '\r' | grep -i '^content-type' | head -n1))"
        fi
    else
        fail "image-show of the deleted image succeeded: $(head -c 400 "$OUT" | tr '\n' ' ')"
    fi
    api_image "$IMAGE_ID"
    check_status "GET /v2/images/$IMAGE_ID after delete" 404
    http GET "/v2/images/$IMAGE_ID/file" -o /dev/null
    check_status "GET /v2/images/$IMAGE_ID/file after delete" 404
    if g_ok "image-list after delete" image-list; then
        table_has "$IMAGE_ID" && fail "image-list still shows the deleted image" || pass "image-list no longer shows the deleted image"
    fi
fi
if [[ -n "$COMMUNITY_ID" ]]; then
    g_ok "image-delete of the community image" image-delete "$COMMUNITY_ID" || true
fi

# ------------------------------------------------------------------ the server is still healthy
step "server health"
kill -0 "$GLIMPSE_PID" 2>/dev/null && pass "glimpse still running" || { fail "glimpse died during the test"; show_log; }
if grep -Eiq 'fatal error|panic|Segmentation|Illegal instruction' "$GLIMPSE_LOG"; then
    fail "server log has a crash message"
    show_log 60
fi
stop_glimpse
finish
