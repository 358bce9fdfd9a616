#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer + AddressSanitizer) of every parser that
# reads outside data: gzip, idx, safetensors, checkpoint (safetensors + metadata ->
# the examples eval picks), csv, json, npy, expression, model.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 seconds, all targets
#   FUZZ_RUNS=1000000 scripts/fuzz.sh 36000 [TARGET...]   stop each target after that many executions
#
# Builds the package's library targets with -sanitize=fuzzer,address into
# .build/fuzz (SwiftPM, so the module layout of Package.swift is followed),
# links Fuzz/FuzzTargets.swift against them, then runs each target from its
# committed seed corpus Fuzz/corpus/NAME (new inputs go to .build/fuzz/corpus/NAME,
# crashes to .build/fuzz/crashes/NAME). Prints the executions of each target and
# exits non-zero if any target found a crash, leak or timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
all=(gzip idx safetensors checkpoint csv json npy expression model)
targets=("${@:-${all[@]}}")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

build=.build/fuzz
bin=$build/backprop-fuzz
if [ ! -x "$bin" ] || [ -n "$(find Sources Fuzz/FuzzTargets.swift Package.swift -newer "$bin" -print -quit)" ]; then
    echo "building the library targets with -sanitize=fuzzer,address (release) ..."
    swift build -c release --build-path "$build" --target Backprop \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing \
        -Xcc -fsanitize=fuzzer-no-link,address >&2
    rel="$build/release/"   # a symlink: the slash makes find follow it
    # Every library object; not the tool's main, not tests or plugins.
    objects=$(find "$rel" -path '*.build/*.o' ! -path '*/BackpropTool.build/*' ! -path '*Tests.build/*' \
              ! -path '*/GenerateManual*' ! -path '*/GenerateDocc*' ! -name '*.swiftdeps*' | sort)
    maps=()
    for m in $(find "$rel" -maxdepth 2 -name module.modulemap) \
             $(find "$build/checkouts" -path '*include/module.modulemap' 2>/dev/null); do
        maps+=(-Xcc "-fmodule-map-file=$m")
    done
    includes=()
    for d in $(find Sources "$build/checkouts" -type d -name include 2>/dev/null); do includes+=(-Xcc "-I$d"); done
    # Linked next to the binary, then renamed: fuzzers still running keep the old file.
    swiftc -O -sanitize=fuzzer,address -parse-as-library -I "$rel/Modules" "${maps[@]}" "${includes[@]}" \
        Fuzz/FuzzTargets.swift $objects -o "$bin.new" 2>&1 | grep -v 'Cannot export local symbol' >&2 || true
    mv -f "$bin.new" "$bin"
fi

status=0
mkdir -p "$build/crashes"
for t in "${targets[@]}"; do
    seeds=Fuzz/corpus/$t
    work=$build/corpus/$t
    mkdir -p "$work" "$build/crashes/$t"
    log=$build/$t.log
    set +e
    # No Swift backtracer: its memory reader trips AddressSanitizer; libFuzzer prints the stack instead.
    SWIFT_BACKTRACE=enable=no BACKPROP_FUZZ_TARGET=$t "$bin" "$work" "$seeds" -max_total_time="$seconds" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -timeout=10 -rss_limit_mb=4096 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/crashes/$t/" > "$log" 2>&1
    rc=$?
    set -e
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    if [ $rc -eq 0 ]; then
        printf '%-12s %12s executions, no crash, leak or timeout\n' "$t" "$runs"
    else
        printf '%-12s %12s executions, FAILED (exit %d): see %s and %s\n' "$t" "$runs" "$rc" "$log" "$build/crashes/$t"
        grep -m3 -E 'ERROR|Fatal error|panic|deadly|leak' "$log" | cut -c1-300 || true
        status=1
    fi
done
exit $status
