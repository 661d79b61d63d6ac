#!/usr/bin/env bash
# Benchmarks gonet against plain blocking POSIX sockets on loopback.
#
# Builds the release library and bench/bench.c twice (-DUSE_GONET or not),
# then runs every case with the implementations alternating (gonet, plain,
# gonet, plain, ...) so that background load hits both alike, and prints
# the median of each implementation and the ratio to plain.
#
#   bench/run.sh                 default: 1.5 s per run, 5 runs each (~2 min)
#   QUICK=1 bench/run.sh         0.4 s per run, 3 runs each
#   SECS=2 REPS=7 bench/run.sh   override either
#   CASES='pingpong-1 churn-1' bench/run.sh   only some cases
#
# Honours CARGO_TARGET_DIR. Every run is bounded by `timeout`; on exit or
# interrupt the script kills only the run it started.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

if [[ ${QUICK:-0} == 1 ]]; then
    SECS=${SECS:-0.4}
    REPS=${REPS:-3}
else
    SECS=${SECS:-1.5}
    REPS=${REPS:-5}
fi
GCC=${CC:-gcc}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
LIBDIR=$TARGET/release
OUT=$ROOT/bench/build

# Implementations, in the order they alternate. The baseline comes last in
# the table; every other implementation gets a ratio against it. A new one
# (a Go program printing the same line format) needs a build step and an
# entry in BIN.
IMPLS=(gonet plain)
BASELINE=plain
declare -A BIN=([gonet]=$OUT/bench_gonet [plain]=$OUT/bench_plain)

# Cases: name | metrics (the first one is compared to the bar) | bar
# (minimum ratio to plain, or -) | command prefix | bench arguments.
ALL_CASES=(
    "pingpong-1|rtt_per_s p50_us p99_us|0.90||pingpong conns=1 size=64"
    "pingpong-4|rtt_per_s p50_us p99_us|0.90||pingpong conns=4 size=64"
    "pingpong-1-cpu0|rtt_per_s p50_us p99_us|0.90|taskset -c 0|pingpong conns=1 size=64"
    "pingpong-4-cpu0|rtt_per_s p50_us p99_us|0.90|taskset -c 0|pingpong conns=4 size=64"
    "stream-1|mib_per_s|0.95||stream conns=1 size=65536"
    "stream-4|mib_per_s|0.95||stream conns=4 size=65536"
    "churn-1|conns_per_s|-||churn conns=1"
)

echo "nproc=$(nproc)"
echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
echo "kernel=$(uname -r) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\" secs=$SECS reps=$REPS"

# --- build -----------------------------------------------------------------
echo "== build"
cargo build --release --quiet
ln -sf libgonet.so "$LIBDIR/libgonet.so.0"
mkdir -p "$OUT"
$GCC -O2 -Wall -Wextra -DUSE_GONET -I"$ROOT/include" bench/bench.c \
    -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lgonet -lpthread -o "$OUT/bench_gonet"
$GCC -O2 -Wall -Wextra bench/bench.c -lpthread -o "$OUT/bench_plain"

# --- running -----------------------------------------------------------------
TMP=$(mktemp -d)
CURRENT=
cleanup() {
    if [[ -n $CURRENT ]]; then
        kill -TERM "$CURRENT" 2>/dev/null || true
        wait "$CURRENT" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A run's hard limit: its duration plus set-up slack.
LIMIT=$(awk -v s="$SECS" 'BEGIN { printf "%d", s + 20 }')

# run_one IMPL PREFIX ARGS: one run; prints its result line.
run_one() {
    local impl=$1 prefix=$2 args=$3
    # shellcheck disable=SC2086 # prefix and args are word lists
    timeout -k 5 "$LIMIT" $prefix "${BIN[$impl]}" $args secs="$SECS" >"$TMP/line" &
    CURRENT=$!
    if ! wait "$CURRENT"; then
        CURRENT=
        echo "run failed: $impl $prefix $args" >&2
        return 1
    fi
    CURRENT=
    cat "$TMP/line"
}

# value KEY LINE: the value of KEY=... in a result line.
value() {
    tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'
}

median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

SUMMARY=$TMP/summary
: >"$SUMMARY"
FAILED=0

selected() {
    [[ -z ${CASES:-} ]] && return 0
    local c
    for c in $CASES; do [[ $c == "$1" ]] && return 0; done
    return 1
}

for spec in "${ALL_CASES[@]}"; do
    IFS='|' read -r name metrics bar prefix args <<<"$spec"
    selected "$name" || continue
    echo "== $name: ${prefix:+$prefix }$args secs=$SECS"
    for ((rep = 1; rep <= REPS; rep++)); do
        for impl in "${IMPLS[@]}"; do
            line=$(run_one "$impl" "$prefix" "$args") || { FAILED=1; continue; }
            echo "$line"
            for m in $metrics; do
                value "$m" "$line" >>"$TMP/$name.$impl.$m"
            done
        done
    done
    first=1
    for m in $metrics; do
        base=$(median <"$TMP/$name.$BASELINE.$m" 2>/dev/null || echo nan)
        for impl in "${IMPLS[@]}"; do
            [[ $impl == "$BASELINE" ]] && continue
            med=$(median <"$TMP/$name.$impl.$m" 2>/dev/null || echo nan)
            ratio=$(awk -v a="$med" -v b="$base" 'BEGIN { if (b + 0 > 0) printf "%.3f", a / b; else print "nan" }')
            verdict=
            if [[ $first == 1 && $bar != - ]]; then
                if awk -v r="$ratio" -v b="$bar" 'BEGIN { exit !(r + 0 >= b + 0) }'; then
                    verdict="ok (bar >= $bar)"
                else
                    verdict="BELOW BAR ($bar)"
                fi
            fi
            printf '%-16s %-12s %14s %14s %8s  %s\n' "$name" "$m" "$med" "$base" "$ratio" "$verdict" >>"$SUMMARY"
        done
        first=0
    done
done

echo
echo "== medians of $REPS runs, ${SECS} s each (higher is better except *_us)"
printf '%-16s %-12s %14s %14s %8s  %s\n' case metric "${IMPLS[0]}" "$BASELINE" "ratio" bar
cat "$SUMMARY"
exit $FAILED
