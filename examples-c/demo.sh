#!/bin/sh
# Runs echo_server on a free loopback port, sends it a few lines with
# echo_client, prints both sides and stops the server. Used by `make run`.
# The argument is the directory holding the programs (default: this one).
set -eu
bin=${1:-$(dirname "$0")}

log=$(mktemp)
"$bin/echo_server" 127.0.0.1:0 >"$log" 2>&1 &
server=$!
trap '[ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT INT TERM

# The server prints "listening on 127.0.0.1:<port>" once it is ready.
addr=
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    addr=$(sed -n 's/^listening on //p' "$log")
    [ -n "$addr" ] && break
    sleep 0.1
done
if [ -z "$addr" ]; then
    echo "the server did not start:" >&2
    cat "$log" >&2
    exit 1
fi

echo "== client (echo_client $addr)"
printf 'hello, gonet\nsecond line\n\nhéllo wörld ✓\nbye\n' | "$bin/echo_client" "$addr"

kill -TERM "$server"
status=0
wait "$server" || status=$?
server=
echo "== server (echo_server 127.0.0.1:0, exit status $status)"
cat "$log"
exit "$status"
