#!/bin/sh
# Runs each libFuzzer target for SECONDS (default 120) over its seed corpus
# fuzz/corpus/<name>/ (read only; new inputs go to build/fuzz/corpus/<name>/)
# with fuzz/<name>.dict when there is one. Crash, leak and timeout inputs
# are written under build/fuzz/. Prints one summary line per target and
# exits non-zero if any target failed or is missing.
#   usage: scripts/run-fuzz.sh [SECONDS] [TARGET...]   (targets: rpc spec gre)
set -u
cd "$(dirname "$0")/.." || exit 2
secs=${1:-120}
[ $# -gt 0 ] && shift
targets=${*:-"rpc spec gre"}
out=build/fuzz
status=0
summary=""

for name in $targets; do
    bin=$out/fuzz_$name
    log=$out/fuzz_$name.log
    if [ ! -x "$bin" ]; then
        summary="$summary
fuzz_$name: FAILED (not built: $bin)"
        status=1
        continue
    fi
    mkdir -p "$out/corpus/$name" "$out/artifacts/$name"
    seeds=""
    [ -d "fuzz/corpus/$name" ] && seeds="fuzz/corpus/$name"
    dict=""
    [ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
    echo "fuzz_$name: running for ${secs}s (log: $log)"
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 $dict \
        -artifact_prefix="$out/artifacts/$name/" \
        "$out/corpus/$name" $seeds >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    corp=$(find "$out/corpus/$name" -type f | wc -l)
    if [ "$rc" -eq 0 ]; then
        summary="$summary
fuzz_$name: ok, ${runs:-?} runs in ${secs}s, coverage ${cov:-?}, corpus $corp"
    else
        art=$(ls -t "$out/artifacts/$name" 2>/dev/null | head -n 1)
        summary="$summary
fuzz_$name: FAILED (exit $rc) after ${runs:-?} runs; input: $out/artifacts/$name/${art:-?}; see $log"
        status=1
    fi
done
echo "$summary" | sed '/^$/d'
exit $status
