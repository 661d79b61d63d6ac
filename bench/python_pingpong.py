#!/usr/bin/env python3
"""64-byte ping-pong over TCP loopback: the gonet binding versus Python's own
socket module, the same program on each.

    cargo build --release
    python3 bench/python_pingpong.py [--rounds N] [--reps R] [--size BYTES]

Each implementation runs its echo side in a child process (so the two ends
never share a GIL) and its client here. Runs alternate between the two
implementations, rep after rep, and the best and median round trips per
second of each are printed with the ratio gonet / socket.

A third column, "raw", runs the gonet client as bare ctypes calls (no
Conn methods, no exceptions): the floor any ctypes binding of the library
could reach, which separates the binding's own cost from the library's.

The library is found as the gonet package finds it (GONET_LIBRARY, then the
repository's target/release, target/debug...).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))


def read_exact(read, n):
    """``n`` bytes from ``read`` (Conn.read or socket.recv)."""
    got = read(n)
    while len(got) < n:
        more = read(n - len(got))
        if not more:
            raise EOFError("peer closed")
        got += more
    return got


# --- echo side (child process) ---------------------------------------------


def serve(impl, size):
    if impl == "gonet":
        import gonet

        ln = gonet.listen("tcp", "127.0.0.1:0")
        print(ln.local_addr, flush=True)
        conn = ln.accept()
        conn.set_nodelay(True)
        read, write = conn.read, conn.write
    else:
        ln = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ln.bind(("127.0.0.1", 0))
        ln.listen(1)
        host, port = ln.getsockname()
        print("%s:%d" % (host, port), flush=True)
        conn, _ = ln.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        read, write = conn.recv, conn.sendall
    # Echo fixed-size messages until the client closes.
    while True:
        msg = read(size)
        if not msg:
            break
        while len(msg) < size:
            more = read(size - len(msg))
            if not more:
                return
            msg += more
        write(msg)


# --- client side -----------------------------------------------------------


class Client:
    def __init__(self, impl, size):
        self.impl = impl
        self.size = size
        self.child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", "socket" if impl == "socket" else "gonet", "--size", str(size)],
            stdout=subprocess.PIPE,
            text=True,
        )
        addr = self.child.stdout.readline().strip()
        if not addr:
            raise SystemExit("%s echo side did not start" % impl)
        host, port = addr.rsplit(":", 1)
        if impl in ("gonet", "raw"):
            import gonet

            self.conn = gonet.dial("tcp", addr, timeout=5)
            self.conn.set_nodelay(True)
        else:
            self.conn = socket.create_connection((host, int(port)), timeout=5)
            self.conn.settimeout(None)
            self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run(self, rounds):
        """Round trips per second over ``rounds`` round trips."""
        ping = b"p" * self.size
        size = self.size
        conn = self.conn
        if self.impl == "raw":
            return self.run_raw(rounds)
        if self.impl == "gonet":
            write, read = conn.write, conn.read
        else:
            write, read = conn.sendall, conn.recv
        start = time.perf_counter()
        for _ in range(rounds):
            write(ping)
            got = read(size)
            if len(got) != size:
                got += read_exact(read, size - len(got))
        elapsed = time.perf_counter() - start
        return rounds / elapsed

    def run_raw(self, rounds):
        import ctypes

        from gonet import _ffi

        # The binding's own calling convention (untyped foreign functions,
        # arguments prepared once), without its methods or exceptions.
        net_read, net_write = _ffi._raw_read, _ffi._raw_write
        h = _ffi._handle_arg(self.conn.handle)
        size = self.size
        ping = b"p" * size
        length = _ffi._len_arg(size)
        buf = ctypes.create_string_buffer(size)
        ptr = ctypes.byref(buf)
        start = time.perf_counter()
        for _ in range(rounds):
            if net_write(h, ping, length) != size:
                raise SystemExit("write failed")
            got = net_read(h, ptr, length)
            while 0 < got < size:
                r = net_read(h, ctypes.byref(buf, got), _ffi._len_arg(size - got))
                if r <= 0:
                    raise SystemExit("read failed")
                got += r
            if got <= 0:
                raise SystemExit("read failed")
        elapsed = time.perf_counter() - start
        return rounds / elapsed

    def close(self):
        self.conn.close()
        try:
            self.child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5000, help="round trips per run")
    ap.add_argument("--reps", type=int, default=21, help="runs of each implementation")
    ap.add_argument("--size", type=int, default=64, help="message size in bytes")
    ap.add_argument("--serve", choices=["gonet", "socket"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.size)
        return

    import gonet
    from gonet import _ffi

    print(
        "gonet %s (%s), Python %s, %d-byte messages, %d round trips x %d reps"
        % (
            gonet.version(),
            _ffi._lib._name,
            sys.version.split()[0],
            args.size,
            args.rounds,
            args.reps,
        )
    )
    impls = ("gonet", "socket", "raw")
    clients = {impl: Client(impl, args.size) for impl in impls}
    results = {impl: [] for impl in clients}
    try:
        for impl, client in clients.items():  # warm-up
            client.run(max(1, args.rounds // 10))
        for rep in range(args.reps):
            order = impls if rep % 2 == 0 else impls[::-1]
            line = []
            for impl in order:
                rate = clients[impl].run(args.rounds)
                results[impl].append(rate)
                line.append("%s %9.0f" % (impl, rate))
            print("rep %d: %s" % (rep + 1, "   ".join(line)))
    finally:
        for client in clients.values():
            client.close()

    print()
    print("%-8s %12s %12s" % ("", "best rt/s", "median rt/s"))
    for impl in impls:
        print("%-8s %12.0f %12.0f" % (impl, max(results[impl]), statistics.median(results[impl])))
    ratio_best = max(results["gonet"]) / max(results["socket"])
    ratio_median = statistics.median(results["gonet"]) / statistics.median(results["socket"])
    print("ratio gonet/socket: best %.2f, median %.2f (bar: 0.80)" % (ratio_best, ratio_median))
    print(
        "ratio gonet/raw:    median %.2f (the binding's own overhead)"
        % (statistics.median(results["gonet"]) / statistics.median(results["raw"]))
    )


if __name__ == "__main__":
    main()
