#!/bin/sh
# Runs the unit tests (cmocka binaries) and integration scripts of a build.
# Usage: tests/run.sh BUILD_DIR [unit|integration|all]
# Ends with "N passed, N failed" and exits non-zero if anything failed.
set -u
B=${1:?usage: tests/run.sh BUILD_DIR [unit|integration|all]}
WHAT=${2:-all}
cd "$(dirname "$0")/.." || exit 1
LOGDIR=$B/test-logs
mkdir -p "$LOGDIR"
passed=0
failed=0
failures=""

run() {  # run NAME CMD...
    name=$1
    shift
    log=$LOGDIR/$(echo "$name" | tr '/' '_').log
    start=$(date +%s)
    if "$@" > "$log" 2>&1; then
        passed=$((passed + 1))
        echo "PASS $name ($(($(date +%s) - start))s)"
    else
        failed=$((failed + 1))
        failures="$failures $name"
        echo "FAIL $name ($(($(date +%s) - start))s); last lines of $log:"
        tail -n 30 "$log" | sed 's/^/    /'
    fi
}

if [ "$WHAT" != integration ]; then
    for t in $(find "$B/tests" -type f -name 'test_*' -perm -u+x | sort); do
        run "unit/${t#"$B"/tests/}" "$t"
    done
fi
if [ "$WHAT" != unit ]; then
    for t in tests/integration/test_*.sh; do
        [ -e "$t" ] || continue
        run "integration/$(basename "$t" .sh)" env BIN="$B/bin" sh "$t"
    done
fi
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
