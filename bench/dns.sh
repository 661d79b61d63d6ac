#!/usr/bin/env bash
# Name lookups: gonet's resolver (net_lookup_ip, "ip") beside glibc's
# getaddrinfo in one C program (bench/dns.c), both asking a dnsmasq on
# 127.0.0.1 in a network namespace this script makes, with its own
# resolv.conf, hosts and nsswitch.conf ("hosts: files dns"); 1 and 8
# threads; then how late a lookup bounded by a deadline returns. Needs
# root, iproute2 and dnsmasq (Debian's dnsmasq-base). Go's resolver
# (GODEBUG=netdns=go) is not measured here: no Go toolchain is installed
# on the project's machines.
#
#   bench/dns.sh [SECONDS per run, default 1] [ROUNDS, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-1}
ROUNDS=${2:-5}
cargo build --release -q
mkdir -p bench/build
# The library names itself libgonet.so.0 (its soname).
ln -sf libgonet.so target/release/libgonet.so.0
cc -O2 -Iinclude bench/dns.c -Ltarget/release -Wl,-rpath,"$PWD/target/release" \
    -lgonet -lpthread -o bench/build/dns
NS=gonet-bench-dns-$$
cleanup() {
    [[ -n ${DNSMASQ:-} ]] && kill "$DNSMASQ" 2>/dev/null && wait "$DNSMASQ" 2>/dev/null
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "/etc/netns/$NS"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir -p "/etc/netns/$NS"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"/etc/netns/$NS/resolv.conf"
printf '127.0.0.1 localhost\n' >"/etc/netns/$NS/hosts"
printf 'hosts: files dns\n' >"/etc/netns/$NS/nsswitch.conf"
ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv \
    --no-hosts --user=root --pid-file= --bind-interfaces --listen-address=127.0.0.1 \
    --port=53 --local=/test/ --log-facility=/dev/null --cache-size=1000 \
    --host-record=www.bench.test,10.0.0.1,fd00::1 &
DNSMASQ=$!
for _ in $(seq 100); do
    ip netns exec "$NS" ss -Hlun | grep -q '127.0.0.1:53' && break
    sleep 0.05
done
for threads in 1 8; do
    timeout 300 ip netns exec "$NS" bench/build/dns www.bench.test "$threads" "$SECS" "$ROUNDS"
done
