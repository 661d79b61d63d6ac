#!/usr/bin/env python3
"""Echo over 1, 100 and 1,000 connections on one asyncio loop: gonet.aio
beside asyncio's own streams (asyncio.start_server / open_connection), the
same program on each.

    cargo build --release
    python3 bench/aio_echo.py [--conns 1,100,1000] [--seconds S] [--reps R] [--size BYTES]

Each run is a child process holding one event loop that serves N
connections and drives N clients over them: every client writes a
message, waits for it to come back, and again, for S seconds. The child
reports the messages echoed per second, its thread count
(/proc/self/task) and resident set (VmRSS, and VmHWM, the peak) at the
end. Runs alternate between the two implementations, rep after rep; the
median of each and the ratio gonet.aio / asyncio streams are printed.

The library is found as the gonet package finds it (GONET_LIBRARY, then the
repository's target/release, target/debug...).
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))


def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # kB
    return 0


async def run_gonet(n, seconds, size):
    import gonet.aio as aio

    ln = await aio.listen("tcp", "127.0.0.1:0")

    async def echo(conn):
        try:
            while True:
                data = await conn.read(65536)
                if not data:
                    return
                await conn.write(data)
        finally:
            await conn.close()

    servers = []

    async def accept_all():
        async for conn in ln:
            servers.append(asyncio.ensure_future(echo(conn)))

    acceptor = asyncio.ensure_future(accept_all())
    clients = [await aio.dial("tcp", ln.local_addr, timeout=10) for _ in range(n)]
    msg = b"m" * size
    stop = [False]
    counts = [0] * n

    async def client(i, c):
        while not stop[0]:
            await c.write(msg)
            got = 0
            while got < size:
                part = await c.read(size - got)
                if not part:
                    raise EOFError("echo server closed")
                got += len(part)
            counts[i] += 1

    tasks = [asyncio.ensure_future(client(i, c)) for i, c in enumerate(clients)]
    await asyncio.sleep(seconds)
    stop[0] = True
    await asyncio.gather(*tasks)
    threads = len(os.listdir("/proc/self/task"))
    for c in clients:
        await c.close()
    await asyncio.gather(*servers)
    await ln.close()
    await acceptor
    return sum(counts), threads


async def run_streams(n, seconds, size):
    async def echo(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    clients = [await asyncio.open_connection("127.0.0.1", port) for _ in range(n)]
    msg = b"m" * size
    stop = [False]
    counts = [0] * n

    async def client(i, rw):
        reader, writer = rw
        while not stop[0]:
            writer.write(msg)
            await writer.drain()
            await reader.readexactly(size)
            counts[i] += 1

    tasks = [asyncio.ensure_future(client(i, rw)) for i, rw in enumerate(clients)]
    await asyncio.sleep(seconds)
    stop[0] = True
    await asyncio.gather(*tasks)
    threads = len(os.listdir("/proc/self/task"))
    for _, writer in clients:
        writer.close()
    server.close()
    await server.wait_closed()
    return sum(counts), threads


def child(impl, n, seconds, size):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4 * n + 64), hard))
    run = run_gonet if impl == "gonet.aio" else run_streams
    start = time.monotonic()
    msgs, threads = asyncio.run(run(n, seconds, size))
    elapsed = time.monotonic() - start
    print(
        json.dumps(
            {
                "msgs_per_s": msgs / seconds,
                "threads": threads,
                "rss_kb": status("VmRSS"),
                "hwm_kb": status("VmHWM"),
                "elapsed": elapsed,
            }
        )
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--conns", default="1,100,1000")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--child", nargs=2, metavar=("IMPL", "N"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.seconds, args.size)
        return 0
    impls = ["gonet.aio", "asyncio-streams"]
    print("echo of %d-byte messages, %g s a run, %d reps, alternating; medians" % (args.size, args.seconds, args.reps))
    print("%6s  %-16s %12s %8s %10s %10s" % ("conns", "impl", "msgs/s", "threads", "RSS MiB", "peak MiB"))
    for n in [int(x) for x in args.conns.split(",")]:
        results = {impl: [] for impl in impls}
        for rep in range(args.reps):
            order = impls if rep % 2 == 0 else impls[::-1]
            for impl in order:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", impl, str(n), "--seconds", str(args.seconds), "--size", str(args.size)],
                    capture_output=True,
                    text=True,
                    timeout=120 + 2 * args.seconds,
                )
                if out.returncode != 0:
                    sys.stderr.write(out.stderr)
                    raise SystemExit("%s with %d connections failed" % (impl, n))
                results[impl].append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {}
        for impl in impls:
            rs = results[impl]
            med[impl] = statistics.median(r["msgs_per_s"] for r in rs)
            print(
                "%6d  %-16s %12.0f %8d %10.1f %10.1f"
                % (
                    n,
                    impl,
                    med[impl],
                    max(r["threads"] for r in rs),
                    statistics.median(r["rss_kb"] for r in rs) / 1024,
                    max(r["hwm_kb"] for r in rs) / 1024,
                )
            )
        ratios = [g["msgs_per_s"] / s["msgs_per_s"] for g, s in zip(results["gonet.aio"], results["asyncio-streams"])]
        print("%6d  ratio gonet.aio / asyncio streams: median %.2f (per rep: %s)" % (n, statistics.median(ratios), ", ".join("%.2f" % r for r in ratios)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
