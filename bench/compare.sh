#!/usr/bin/env bash
# Compares two builds of libgonet on one workload of bench/bench.c: the
# same bench_gonet binary run against each library in turn (through
# LD_LIBRARY_PATH), the order alternating from round to round, and the
# median of the per-round ratios NEW/OLD printed with its quartiles and a
# 95 % confidence interval (the order-statistics rule of bench/run.sh).
#
# For changes too small for bench/run.sh to see against plain C: two runs
# of the same workload seconds apart see the same load, and pinning both
# threads to one CPU (CPUS=0, the default) takes the scheduler's choice of
# CPUs out of the result, so that what is left is the CPU each library
# spends. It is still a shared machine: two copies of one library, 24
# rounds of 0.3 s churn on CPU 0, came out at 1.000 (quartiles
# 0.958-1.050) and 0.986 (0.911-1.027) of each other, so a change smaller
# than a few percent needs more rounds or shows as a tie.
#
#   cp target/release/libgonet.so /tmp/old/libgonet.so.0   # before
#   ... change, cargo build --release ...
#   cp target/release/libgonet.so /tmp/new/libgonet.so.0
#   bench/compare.sh /tmp/old /tmp/new churn conns=1 secs=0.3
#   ROUNDS=40 CPUS=0,1 bench/compare.sh /tmp/old /tmp/new pingpong conns=4
#
# bench/run.sh builds bench/build/bench_gonet; `CASES=none bench/run.sh`
# builds it and runs nothing. Every run is bounded by `timeout`.
set -euo pipefail

if (($# < 3)); then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
fi
OLD=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
shift 2
ROUNDS=${ROUNDS:-24}
CPUS=${CPUS:-0}
BIN=$(cd "$(dirname "$0")" && pwd)/build/bench_gonet
for dir in "$OLD" "$NEW"; do
    [[ -e $dir/libgonet.so.0 ]] || {
        echo "compare.sh: no libgonet.so.0 in $dir" >&2
        exit 2
    }
done
[[ -x $BIN ]] || {
    echo "compare.sh: no $BIN: run bench/run.sh once" >&2
    exit 2
}

# The first rate the benchmark prints (round_trips_per_s, mib_per_s,
# conns_per_s, ...).
rate() {
    LD_LIBRARY_PATH=$1 timeout 120 taskset -c "$CPUS" "$BIN" "${@:2}" |
        grep -o '_per_s=[0-9.]*' | head -1 | cut -d= -f2
}

ratios=$(mktemp)
trap 'rm -f "$ratios"' EXIT
for ((i = 1; i <= ROUNDS; i++)); do
    if ((i % 2)); then
        old=$(rate "$OLD" "$@")
        new=$(rate "$NEW" "$@")
    else
        new=$(rate "$NEW" "$@")
        old=$(rate "$OLD" "$@")
    fi
    echo "round $i: old $old new $new" >&2
    awk -v o="$old" -v n="$new" 'BEGIN { if (o > 0) printf "%.6f\n", n / o }' >>"$ratios"
done
sort -g "$ratios" | awk -v what="$*" -v cpus="$CPUS" '
    { v[NR] = $1 }
    END {
        n = NR
        if (n == 0) { print "no results"; exit 1 }
        lo = int(n / 2 - 0.98 * sqrt(n)); hi = int(n / 2 + 1 + 0.98 * sqrt(n) + 0.999)
        if (lo < 1) lo = 1
        if (hi > n) hi = n
        printf "%s on CPUs %s, %d rounds: new/old median %.3f, quartiles %.3f-%.3f, 95%% CI %.3f-%.3f\n",
            what, cpus, n, v[int((n + 1) / 2)], v[int(n / 4) + 1], v[int(3 * n / 4)], v[lo], v[hi]
    }'
