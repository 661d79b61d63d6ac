#!/usr/bin/env bash
# Benchmarks gonet against plain blocking POSIX sockets and Go on loopback.
#
# Builds the release library, bench/bench.c twice (-DUSE_GONET or not),
# bench/go (when Go is installed) and bench/relay.c, then runs every case
# in rounds: each round runs every implementation once, back to back, in
# an order that rotates from round to round (gonet go plain, go plain
# gonet, ...), so that background load and whatever one run leaves behind
# for the next (TIME_WAIT sockets, a warm cache) hit them alike. It prints
# the median of each implementation and gonet's ratios to plain and to Go.
#
# The bars are read from the paired ratio: the median, over rounds, of
# gonet's result divided by plain's in the same round. The two runs of a
# round are seconds apart and see the same load; the ratio of the two
# medians, printed beside it, mixes runs made under different loads. Many
# short rounds beat a few long ones: on a shared 2-CPU machine one plain
# 0.5 s ping-pong run ranged 23,000-34,000 round trips a second from one
# run to the next, and plain measured against itself (below) came out at
# 0.94-1.22 over 5 rounds; over 31 rounds of 0.2 s, at 0.98-1.02.
# AA=1 adds the plain build a second time, as "plain-again", and prints its
# paired ratio to plain: the noise floor of the run.
#
# Workloads (see bench/bench.c): 64-byte ping-pong; one-way 64 KiB
# streaming (the server acknowledges the byte count at the end: a one-way
# stream, not an echo); connect/1-byte exchange/close churn (and again
# with the plain build setting Go's default keep-alive, as gonet and Go
# do, which shows what that default costs the kernel); 10,000
# connections held open by one server (time to bring them up, the server's
# memory per connection); and a 1 GiB relay through a proxy process,
# net_copy against a read/write loop. Ping-pong and churn run a second
# time with everything pinned to CPU 0 (the *-cpu0 cases): the ratio is
# then the CPU each library spends, not also where the scheduler put the
# threads.
#
#   bench/run.sh                 default: 0.2 s per run (streaming 0.6 s),
#                                91 rounds (see ROUNDS below; 13 min
#                                here, 17 with AA=1)
#   QUICK=1 bench/run.sh         0.2 s per run, 11 rounds, 256 MiB relay
#                                (~2.5 min)
#   NO_GO=1 bench/run.sh         without the Go column
#   AA=1 bench/run.sh            also plain against itself (noise floor)
#   SECS=1 REPS=7 bench/run.sh   override either (hold-10k and the relay
#                                run min(REPS, 5) rounds: each is long)
#   CASES='pingpong-1 churn-1' bench/run.sh   only some cases
#
# Honours CARGO_TARGET_DIR. Every run is bounded by `timeout`; on exit or
# interrupt the script kills only the run it started.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

# ROUNDS. Over nine full runs of 31 rounds (bench/rounds.py), an
# unpinned case's paired ratio to plain C moved from run to run by no
# more than drawing its rounds afresh would move it: most of a run's
# error was the sampling of its rounds. Resampled at 31 rounds,
# one-connection streaming (gonet at 0.99 of plain, 1.05 of Go) read
# below one of its bars in 22 % of runs, unpinned churn (0.93) and
# ping-pong (0.98) in 4 % each, pinned churn (0.92 on a busier day) in
# 15 %. 91 rounds cut that sampling error to 0.58 of its size. What
# lasts a whole run stays: in six runs of 91 rounds the spread between
# runs was still 0.017 for unpinned churn and 0.014 for unpinned
# ping-pong, where resampling predicts 0.013 and 0.009.
if [[ ${QUICK:-0} == 1 ]]; then
    SECS=${SECS:-0.2}
    REPS=${REPS:-11}
else
    SECS=${SECS:-0.2}
    REPS=${REPS:-91}
fi
# hold-10k and the relay take seconds a run whatever SECS is.
LONG_REPS=$((REPS < 5 ? REPS : 5))
# Streaming runs last three times as long: whether one connection's writer
# and reader share a CPU, the scheduler's choice for the run, moves its
# throughput by half (twelve 0.2 s plain runs: 1,092-1,590 and 2,155-2,489
# MiB/s), and a longer run averages over more of those choices (plain
# against itself, per-round ratios: interquartile range 0.79-1.29 at 0.2 s,
# 0.90-1.13 at 0.6 s).
STREAM_SECS=${STREAM_SECS:-$(awk -v s="$SECS" 'BEGIN { print s * 3 }')}
GCC=${CC:-gcc}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
LIBDIR=$TARGET/release
OUT=$ROOT/bench/build

# Implementations, in the order they alternate. The baseline comes last in
# the table; every other implementation gets a ratio against it, and gonet
# one against Go too. Go (bench/go, standard library only) is skipped with
# a notice when no `go` is installed.
IMPLS=(gonet plain)
BASELINE=plain
declare -A BIN=([gonet]=$OUT/bench_gonet [plain]=$OUT/bench_plain [go]=$OUT/bench_go
    [plain-again]=$OUT/bench_plain)
HAVE_GO=0
GO_NOTE=
if [[ ${NO_GO:-0} != 1 ]] && command -v go >/dev/null 2>&1; then
    HAVE_GO=1
    GO_NOTE=", ahead of go"
    IMPLS=(gonet go plain)
fi
if [[ ${AA:-0} == 1 ]]; then
    IMPLS+=(plain-again)
fi

# Cases: name | metrics (the first one is compared to the bar) | bar
# (minimum ratio of gonet to plain, or -) | command prefix | bench arguments.
# `hold` and `relay` have bars of their own (see below).
ALL_CASES=(
    "pingpong-1|rtt_per_s p50_us p99_us|0.95||pingpong conns=1 size=64"
    "pingpong-4|rtt_per_s p50_us p99_us|0.95||pingpong conns=4 size=64"
    "pingpong-1-cpu0|rtt_per_s p50_us p99_us|0.95|taskset -c 0|pingpong conns=1 size=64"
    "pingpong-4-cpu0|rtt_per_s p50_us p99_us|0.95|taskset -c 0|pingpong conns=4 size=64"
    "stream-1|mib_per_s|0.95||stream conns=1 size=65536"
    "stream-4|mib_per_s|0.95||stream conns=4 size=65536"
    "churn-1|conns_per_s|0.90||churn conns=1"
    "churn-1-ka|conns_per_s|-||churn conns=1 keepalive=1"
    "churn-1-cpu0|conns_per_s|0.90|taskset -c 0|churn conns=1"
    "hold-10k|echo_ms up_ms bytes_per_conn server_hwm_kb kernel_slab_per_socket|-||hold conns=10000 size=64"
)
# The relay: net_copy against a read/write loop through gonet (and Go's
# io.Copy), 1 GiB through a proxy process; QUICK=1 moves 256 MiB.
RELAY_BYTES=${RELAY_BYTES:-$([[ ${QUICK:-0} == 1 ]] && echo 268435456 || echo 1073741824)}

echo "nproc=$(nproc)"
echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
echo "kernel=$(uname -r) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\" secs=$SECS stream_secs=$STREAM_SECS reps=$REPS"

# --- build -----------------------------------------------------------------
echo "== build"
cargo build --release --quiet
ln -sf libgonet.so "$LIBDIR/libgonet.so.0"
mkdir -p "$OUT"
$GCC -O2 -Wall -Wextra -DUSE_GONET -I"$ROOT/include" bench/bench.c \
    -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lgonet -lpthread -o "$OUT/bench_gonet"
$GCC -O2 -Wall -Wextra bench/bench.c -lpthread -o "$OUT/bench_plain"
$GCC -O2 -Wall -Wextra -I"$ROOT/include" bench/relay.c \
    -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lgonet -lpthread -o "$OUT/relay"
if [[ $HAVE_GO == 1 ]]; then
    echo "go=$(go version)"
    # Standard library only: no module is downloaded, caches stay in build/.
    (cd bench/go && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off \
        GOCACHE="$OUT/go-cache" GOPATH="$OUT/go-path" go build -o "$OUT/bench_go" .)
else
    echo "go: not installed (or NO_GO=1): the Go column is skipped (apt-get install golang-go)"
fi

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
LIMIT=$(awk -v s="$STREAM_SECS" -v t="$SECS" 'BEGIN { printf "%d", (s > t ? s : t) + 20 }')

# run_one CMD...: one run (a word list: prefix, binary, arguments); prints
# its result line.
run_one() {
    timeout -k 5 "$LIMIT" "$@" >"$TMP/line" &
    CURRENT=$!
    if ! wait "$CURRENT"; then
        CURRENT=
        echo "run failed: $*" >&2
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

# ratio A B: A / B to three places, or nan.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "nan") printf "%.3f", a / b; else print "nan" }'
}

# at_least A B: whether A >= B.
at_least() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "nan" && a + 0 >= b + 0) }'
}

row() {
    printf '%-16s %-22s %12s %12s %12s %9s %9s %11s %9s  %s\n' "$@" >>"$SUMMARY"
}

# run_case NAME METRICS PREFIX ARGS ROUNDS SECS IMPL...: ROUNDS rounds of
# SECS-second runs, each round running every IMPL once, the order rotating
# by one place a round.
run_case() {
    local name=$1 metrics=$2 prefix=$3 args=$4 rounds=$5 secs=$6 impl rep line m i n
    shift 6
    local impls=("$@")
    n=${#impls[@]}
    echo "== $name: ${prefix:+$prefix }$args"
    for ((rep = 1; rep <= rounds; rep++)); do
        for ((i = 0; i < n; i++)); do
            impl=${impls[$(((rep - 1 + i) % n))]}
            # shellcheck disable=SC2086 # prefix and args are word lists
            line=$(run_one $prefix ${BIN[$impl]} $args secs="$secs") || {
                FAILED=1
                continue
            }
            echo "$line"
            for m in $metrics; do
                value "$m" "$line" >>"$TMP/$name.$impl.$m"
            done
        done
    done
}

med() {
    median <"$TMP/$1.$2.$3" 2>/dev/null || echo nan
}

# paired CASE A B METRIC: the median over runs of A's value / B's value in
# the same round. Rounds alternate, so each pair saw the same background
# load; this moves less between invocations than the ratio of medians.
paired() {
    local a="$TMP/$1.$2.$4" b="$TMP/$1.$3.$4"
    if [[ ! -s $a || ! -s $b || $(wc -l <"$a") != $(wc -l <"$b") ]]; then
        echo nan
        return
    fi
    paste "$a" "$b" | awk '$2 + 0 > 0 { printf "%.6f\n", $1 / $2 }' | median |
        awk '{ if ($1 == "nan") print "nan"; else printf "%.3f", $1 }'
}

# paired_range CASE A B METRIC: a 95 % confidence interval for the paired
# median, from the order statistics of the per-round ratios (for n rounds,
# the n/2 - 0.98 sqrt(n)-th and n/2 + 1 + 0.98 sqrt(n)-th smallest): how
# far the median itself could be off. A bar inside it is not told apart
# from the result by this run.
paired_range() {
    local a="$TMP/$1.$2.$4" b="$TMP/$1.$3.$4"
    if [[ ! -s $a || ! -s $b || $(wc -l <"$a") != $(wc -l <"$b") ]]; then
        echo -
        return
    fi
    paste "$a" "$b" | awk '$2 + 0 > 0 { printf "%.6f\n", $1 / $2 }' | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "-"; exit }
            lo = int(NR / 2 - 0.98 * sqrt(NR)); hi = int(NR / 2 + 1 + 0.98 * sqrt(NR) + 0.999)
            if (lo < 1) lo = 1
            if (hi > NR) hi = NR
            printf "%.2f-%.2f", v[lo], v[hi]
        }'
}

for spec in "${ALL_CASES[@]}"; do
    IFS='|' read -r name metrics bar prefix args <<<"$spec"
    selected "$name" || continue
    rounds=$REPS
    [[ $name == hold-* ]] && rounds=$LONG_REPS
    secs=$SECS
    [[ $name == stream-* ]] && secs=$STREAM_SECS
    run_case "$name" "$metrics" "$prefix" "$args" "$rounds" "$secs" "${IMPLS[@]}"
    first=1
    for m in $metrics; do
        g=$(med "$name" gonet "$m")
        p=$(med "$name" plain "$m")
        o=$([[ $HAVE_GO == 1 ]] && med "$name" go "$m" || echo -)
        vs_plain=$(ratio "$g" "$p")
        paired_plain=$(paired "$name" gonet plain "$m")
        paired_go=$([[ $HAVE_GO == 1 ]] && paired "$name" gonet go "$m" || echo -)
        verdict=
        if [[ $name == hold-* ]]; then
            case $m in
            echo_ms)
                # All connections up and echoed within 5 s.
                if at_least 5000 "$g"; then verdict="ok (all up in < 5000 ms)"; else verdict="MISS (all up in < 5000 ms)"; fi
                ;;
            bytes_per_conn)
                # gonet's own bookkeeping: what its server holds beyond the
                # plain server's, per connection.
                own=$(awk -v a="$g" -v b="$p" 'BEGIN { printf "%.0f", a - b }')
                if at_least 512 "$own"; then verdict="ok (gonet's own: $own B <= 512)"; else verdict="MISS (gonet's own: $own B > 512)"; fi
                ;;
            esac
        elif [[ $first == 1 && $bar != - ]]; then
            if at_least "$paired_plain" "$bar" && { [[ $HAVE_GO == 0 ]] || at_least "$paired_go" 1; }; then
                verdict="ok (>= $bar x plain${GO_NOTE})"
            else
                verdict="MISS (>= $bar x plain${GO_NOTE})"
            fi
        fi
        row "$name" "$m" "$g" "$o" "$p" "$vs_plain" "$paired_plain" "$(paired_range "$name" gonet plain "$m")" "$paired_go" "$verdict"
        if [[ ${AA:-0} == 1 && $first == 1 ]]; then
            a=$(med "$name" plain-again "$m")
            row "$name" "$m (A/A)" "$a" - "$p" "$(ratio "$a" "$p")" "$(paired "$name" plain-again plain "$m")" "$(paired_range "$name" plain-again plain "$m")" - "plain-again against plain: the noise"
        fi
        first=0
    done
done

# --- the relay: net_copy against the loop (and Go's io.Copy) ---------------
if selected relay-1g; then
    BIN[relay-copy]="$OUT/relay mode=copy"
    BIN[relay-loop]="$OUT/relay mode=loop"
    RELAY_IMPLS=(relay-copy relay-loop)
    if [[ $HAVE_GO == 1 ]]; then
        BIN[relay-go]="$OUT/bench_go relay"
        RELAY_IMPLS+=(relay-go)
    fi
    run_case relay-1g "mib_per_s proxy_cpu_ms" "" "bytes=$RELAY_BYTES" "$LONG_REPS" "$SECS" "${RELAY_IMPLS[@]}"
    for m in mib_per_s proxy_cpu_ms; do
        c=$(med relay-1g relay-copy "$m")
        l=$(med relay-1g relay-loop "$m")
        o=$([[ $HAVE_GO == 1 ]] && med relay-1g relay-go "$m" || echo -)
        r=$(paired relay-1g relay-copy relay-loop "$m")
        vs_go=$([[ $HAVE_GO == 1 ]] && paired relay-1g relay-copy relay-go "$m" || echo -)
        if [[ $m == mib_per_s ]]; then
            at_least "$r" 1.5 && verdict="ok (>= 1.5 x loop)" || verdict="(bar: >= 1.5 x loop, or the CPU bar)"
        else
            at_least 0.5 "$r" && verdict="ok (<= 0.5 x loop)" || verdict="(bar: <= 0.5 x loop, or the throughput bar)"
        fi
        row relay-1g "$m" "$c" "$o" "$l" "$(ratio "$c" "$l")" "$r" "$(paired_range relay-1g relay-copy relay-loop "$m")" "$vs_go" "$verdict"
    done
fi

echo
echo "== medians of $REPS rounds, ${SECS} s a run (streaming ${STREAM_SECS} s; $LONG_REPS rounds for hold-10k and relay-1g); nproc=$(nproc)"
echo "   higher is better except *_us, *_ms, *_kb, *_conn, *_socket"
echo "   gonet/plain: ratio of the medians; paired: median of the per-round gonet/plain ratios,"
echo "   which the verdicts use; 95% CI: where that median could lie; gonet/go: paired too"
echo "   churn-1-ka: plain sets Go's default keep-alive (15 s) as gonet and Go do; no bar, the bar is churn-1's"
echo "   relay-1g: the gonet column is net_copy, the plain column the read/write loop through gonet"
printf '%-16s %-22s %12s %12s %12s %9s %9s %11s %9s  %s\n' case metric gonet go plain gonet/plain paired "95% CI" gonet/go verdict
cat "$SUMMARY"
exit $FAILED
