#!/usr/bin/env bash
# Builds the release library and bench/percall.c against it, then prints
# gonet's own cost per net_read and net_write (see percall.c), pinned to
# one CPU, single-threaded and with a second thread on a pair of its own.
#
#   bench/percall.sh                 200 calls a batch, 1001 rounds
#   N=1000 ROUNDS=301 CPU=1 bench/percall.sh
#
# Honours CARGO_TARGET_DIR and CC. Each run is bounded by `timeout`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
N=${N:-200}
ROUNDS=${ROUNDS:-1001}
CPU=${CPU:-0}
cargo build --release --quiet
mkdir -p bench/build
ln -sfn libgonet.so "$TARGET/release/libgonet.so.0"
"${CC:-gcc}" -O2 -Wall -Wextra -o bench/build/percall bench/percall.c -Iinclude \
    -L"$TARGET/release" -Wl,-rpath,"$TARGET/release" -lgonet -lpthread
echo "== one thread, CPU $CPU"
timeout 300 taskset -c "$CPU" bench/build/percall "$N" "$ROUNDS" 1
echo "== a second thread on another pair, unpinned"
timeout 300 bench/build/percall "$N" "$ROUNDS" 2
