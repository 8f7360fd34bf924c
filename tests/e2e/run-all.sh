#!/usr/bin/env bash
# Run every end-to-end test script in tests/e2e (all *.sh but lib.sh and run-all.sh),
# one after the other, and report pass/fail per script. Exits non-zero if any failed.
#
# Usage: tests/e2e/run-all.sh [NAME...]    (NAME: a script name, with or without .sh)
#        E2E_SCRIPT_TIMEOUT=1200  seconds allowed per script
# The glimpse binary is built once here and handed to the scripts via GLIMPSE_BIN.
set -uo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$DIR/lib.sh"
set +e

scripts=()
if (($# > 0)); then
    for n in "$@"; do scripts+=("$DIR/${n%.sh}.sh"); done
else
    for f in "$DIR"/*.sh; do
        case "$(basename "$f")" in lib.sh | run-all.sh) continue ;; esac
        scripts+=("$f")
    done
fi

# Build (unless GLIMPSE_BIN is given) and copy the binary once: every script runs the same one,
# even if someone rebuilds in the meantime.
bin="$(glimpse_bin)" || { echo "run-all: could not build glimpse" >&2; echo "e2e: 0 passed, ${#scripts[@]} failed"; exit 1; }
e2e_mktemp BIN_DIR
cp "$bin" "$BIN_DIR/glimpse" || { echo "run-all: could not copy $bin" >&2; exit 1; }
export GLIMPSE_BIN="$BIN_DIR/glimpse" E2E_BIN_SNAPSHOT=1
echo "run-all: glimpse binary $bin (copied to $GLIMPSE_BIN)" >&2

passed=() failed=()
for s in "${scripts[@]}"; do
    name="$(basename "$s")"
    printf '\n========== %s ==========\n' "$name" >&2
    start=$SECONDS
    if [[ ! -f "$s" ]]; then
        echo "run-all: no such script $s" >&2
        failed+=("$name (missing)")
        continue
    fi
    # A hung script must not hang the run: TERM after E2E_SCRIPT_TIMEOUT seconds (its trap then
    # stops its servers), KILL 60 s later.
    timeout --kill-after=60 "${E2E_SCRIPT_TIMEOUT:-1200}" bash "$s"
    rc=$?
    ((rc != 124)) || echo "run-all: $name timed out after ${E2E_SCRIPT_TIMEOUT:-1200} s" >&2
    if ((rc == 0)); then
        passed+=("$name")
        printf '========== %s: PASS (%d s)\n' "$name" $((SECONDS - start)) >&2
    else
        failed+=("$name (exit $rc)")
        printf '========== %s: FAIL, exit %d (%d s)\n' "$name" "$rc" $((SECONDS - start)) >&2
    fi
done

printf '\n========== e2e summary\n'
for n in "${passed[@]}"; do printf '  PASS  %s\n' "$n"; done
for n in "${failed[@]}"; do printf '  FAIL  %s\n' "$n"; done
printf 'e2e: %d passed, %d failed\n' "${#passed[@]}" "${#failed[@]}"
((${#failed[@]} == 0))
