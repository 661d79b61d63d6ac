"""gonet.aio: the asyncio API. Round trips, Go's errors, deadlines (also
moved while waiting), datagrams, writes from many tasks kept whole, a
thousand connections on one loop without threads, and cancellation of
every kind of wait: prompt, CancelledError, nothing received lost, no
handle leaked."""

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

from support import INSTALLED, PYTHON_DIR, REPO_DIR, gonet

import gonet.aio as aio

LIMIT = 60  # seconds any one test may take


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, LIMIT))


def threads():
    return len(os.listdir("/proc/self/task"))


def open_fds():
    """The sockets this process has open (threads' own eventfds, which the
    dial pool's threads keep while they live, are not counted)."""
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink("/proc/self/fd/" + fd).startswith("socket:")
        except OSError:
            pass
    return n


async def pair():
    ln = await aio.listen("tcp", "127.0.0.1:0")
    c = await aio.dial("tcp", ln.local_addr, timeout=5)
    s = await ln.accept()
    return ln, c, s


async def read_exact(conn, n):
    out = bytearray()
    while len(out) < n:
        chunk = await conn.read(n - len(out))
        if not chunk:
            raise EOFError("end of stream after %d of %d bytes" % (len(out), n))
        out += chunk
    return bytes(out)


async def cancel_and_time(task):
    """Cancels a task that is waiting; returns how long until it ended, and
    checks that it ended with CancelledError."""
    await asyncio.sleep(0.05)
    assert not task.done(), "the call did not wait"
    start = time.monotonic()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return time.monotonic() - start
    raise AssertionError("the cancelled task did not raise CancelledError")


def hanging_listener():
    """A TCP listener (Python's own socket) whose accept queue is full, so
    that a dial to it waits: the kernel drops its SYNs."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    fill = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(ls.getsockname())
        except BlockingIOError:
            pass
        fill.append(s)
    time.sleep(0.1)
    return ls, fill, "127.0.0.1:%d" % ls.getsockname()[1]


class StreamTest(unittest.TestCase):
    def test_round_trip_and_plain_methods(self):
        async def main():
            ln, c, s = await pair()
            async with ln, c, s:
                self.assertIsInstance(c, aio.Conn)
                self.assertEqual(c.remote_addr, ln.local_addr)
                self.assertEqual(s.remote_addr, c.local_addr)
                self.assertGreaterEqual(c.fileno(), 0)
                # Plain methods, not coroutines.
                self.assertIsNone(c.set_deadline(10))
                self.assertIsNone(c.set_read_deadline(None))
                self.assertIsNone(c.set_write_deadline(None))
                self.assertEqual(await c.write(b"ping"), 4)
                self.assertEqual(await read_exact(s, 4), b"ping")
                buf = bytearray(8)
                await s.write(memoryview(b"pong"))
                self.assertEqual(await c.readinto(buf), 4)
                self.assertEqual(bytes(buf[:4]), b"pong")
                big = os.urandom(3 << 20)
                writer = asyncio.ensure_future(c.write(big))
                self.assertEqual(await read_exact(s, len(big)), big)
                self.assertEqual(await writer, len(big))
                c.close_write()
                self.assertEqual(await s.read(), b"")
                with self.assertRaises(TypeError):
                    await c.write("text")
            self.assertTrue(c.closed)
            with self.assertRaises(gonet.ClosedError):
                await c.read()
            with self.assertRaises(gonet.ClosedError):
                await ln.accept()

        run(main())

    def test_unix(self):
        async def main():
            path = "@gonet-aio-test-%d" % os.getpid()
            async with await aio.listen("unix", path) as ln:
                async with await aio.dial("unix", path) as c, await ln.accept() as s:
                    await c.write(b"over unix")
                    self.assertEqual(await read_exact(s, 9), b"over unix")

        run(main())

    def test_go_errors(self):
        async def main():
            with self.assertRaises(ConnectionRefusedError) as cm:
                await aio.dial("tcp", "127.0.0.1:1")
            self.assertIsInstance(cm.exception, gonet.ConnectionRefusedGonetError)
            self.assertEqual(str(cm.exception), "dial tcp 127.0.0.1:1: connect: connection refused")
            with self.assertRaises(gonet.DeadlineExceededError):
                await aio.dial("tcp", "127.0.0.1:1", timeout=0)
            with self.assertRaises(gonet.AddressError) as cm2:
                await aio.listen("udp", "127.0.0.1:0")
            self.assertIn("listen_packet", str(cm2.exception))
            with self.assertRaises(gonet.AddressError):
                await aio.dial("tcp", "127.0.0.1")
            with self.assertRaises(ValueError):
                await aio.dial("tcp", "127.0.0.1:1", timeout=float("nan"))
            ln, c, s = await pair()
            await s.close()
            await c.close()
            await ln.close()

        run(main())

    def test_deadlines(self):
        async def main():
            ln, c, s = await pair()
            async with ln, c, s:
                s.set_read_deadline(0.1)
                start = time.monotonic()
                with self.assertRaises(TimeoutError) as cm:
                    await s.read()
                self.assertIsInstance(cm.exception, gonet.DeadlineExceededError)
                self.assertLess(time.monotonic() - start, 2)
                self.assertIn("i/o timeout", str(cm.exception))
                # Moved while waiting: the wait ends at the new deadline.
                s.set_read_deadline(None)
                reader = asyncio.ensure_future(s.read())
                await asyncio.sleep(0.05)
                self.assertFalse(reader.done())
                s.set_read_deadline(0.05)
                with self.assertRaises(gonet.DeadlineExceededError):
                    await reader
                # Cleared: reads work again, data that came meanwhile kept.
                s.set_read_deadline(None)
                await c.write(b"after")
                self.assertEqual(await read_exact(s, 5), b"after")
                # An expired deadline fails at once, even with data there.
                await c.write(b"x")
                await asyncio.sleep(0.05)
                s.set_read_deadline(0)
                with self.assertRaises(gonet.DeadlineExceededError):
                    await s.read()
                s.set_read_deadline(None)
                self.assertEqual(await s.read(), b"x")
                # Accept deadlines too.
                ln.set_deadline(0.05)
                with self.assertRaises(gonet.DeadlineExceededError):
                    await ln.accept()
                # A write blocked on a full buffer ends at its deadline.
                c.set_write_deadline(0.2)
                with self.assertRaises(gonet.DeadlineExceededError):
                    await c.write(b"z" * (64 << 20))

        run(main())

    def test_close_wakes_waiters(self):
        async def main():
            ln, c, s = await pair()
            reader = asyncio.ensure_future(s.read())
            acceptor = asyncio.ensure_future(ln.accept())
            await asyncio.sleep(0.05)
            await s.close()
            await ln.close()
            with self.assertRaises(gonet.ClosedError):
                await reader
            with self.assertRaises(gonet.ClosedError):
                await acceptor
            # The peer sees the close.
            self.assertEqual(await c.read(), b"")
            await c.close()

        run(main())

    def test_writes_from_many_tasks_stay_whole(self):
        async def main():
            ln, c, s = await pair()
            async with ln, c, s:
                size, tasks = 1 << 20, 8
                writers = [asyncio.ensure_future(c.write(bytes([65 + i]) * size)) for i in range(tasks)]
                got = await read_exact(s, size * tasks)
                await asyncio.gather(*writers)
                for i in range(tasks):
                    chunk = got[i * size : (i + 1) * size]
                    self.assertEqual(chunk, chunk[:1] * size, "writes interleaved")
                self.assertEqual(sorted(got[i * size] for i in range(tasks)), [65 + i for i in range(tasks)])

        run(main())

    def test_async_for_ends_when_closed(self):
        async def main():
            ln = await aio.listen("tcp", "127.0.0.1:0")

            async def serve():
                n = 0
                async for conn in ln:
                    n += 1
                    await conn.write(b"hi")
                    await conn.close()
                return n

            server = asyncio.ensure_future(serve())
            for _ in range(3):
                async with await aio.dial("tcp", ln.local_addr) as c:
                    self.assertEqual(await c.read(), b"hi")
            await ln.close()
            self.assertEqual(await server, 3)

        run(main())


class PacketTest(unittest.TestCase):
    def test_datagrams(self):
        async def main():
            async with await aio.listen_packet("udp", "127.0.0.1:0") as pc:
                async with await aio.dial("udp", pc.local_addr) as d:
                    self.assertIsInstance(d, aio.PacketConn)
                    self.assertEqual(d.remote_addr, pc.local_addr)
                    reader = asyncio.ensure_future(pc.read_from())
                    await asyncio.sleep(0.02)
                    self.assertEqual(await d.write(b"hello"), 5)
                    data, sender = await reader
                    self.assertEqual((data, sender), (b"hello", d.local_addr))
                    self.assertEqual(await pc.write_to(b"back", sender), 4)
                    self.assertEqual(await d.read(), b"back")
                    await d.write(b"")
                    self.assertEqual(await pc.read_from(), (b"", d.local_addr))
                    await d.write(b"too long")
                    with self.assertRaises(gonet.MessageTooLongError) as cm:
                        await pc.read_from(3)
                    self.assertEqual((cm.exception.data, cm.exception.addr), (b"too", d.local_addr))
                    pc.set_read_deadline(0.05)
                    with self.assertRaises(gonet.DeadlineExceededError):
                        await pc.read_from()
                    with self.assertRaises(gonet.InvalidArgumentError):
                        await d.write_to(b"x", pc.local_addr)

        run(main())

    def test_unixgram(self):
        async def main():
            a = await aio.listen_packet("unixgram", "@gonet-aio-a-%d" % os.getpid())
            b = await aio.listen_packet("unixgram", "@gonet-aio-b-%d" % os.getpid())
            async with a, b:
                await a.write_to(b"to b", b.local_addr)
                self.assertEqual(await b.read_from(), (b"to b", a.local_addr))

        run(main())


class ScaleTest(unittest.TestCase):
    def test_thousand_connections_on_one_loop_keep_threads_fixed(self):
        n = 1000

        async def main():
            before = threads()
            ln = await aio.listen("tcp", "127.0.0.1:0")

            async def echo(conn):
                async with conn:
                    while True:
                        data = await conn.read()
                        if not data:
                            return
                        await conn.write(data)

            servers = []

            async def serve():
                async for conn in ln:
                    servers.append(asyncio.ensure_future(echo(conn)))

            acceptor = asyncio.ensure_future(serve())
            clients = []
            for _ in range(n):
                clients.append(await aio.dial("tcp", ln.local_addr, timeout=10))
            peak = threads()

            async def ping(c, i):
                msg = b"%06d" % i
                for _ in range(3):
                    await c.write(msg)
                    self.assertEqual(await read_exact(c, 6), msg)
                return threads()

            counts = await asyncio.gather(*(ping(c, i) for i, c in enumerate(clients)))
            peak = max([peak] + counts)
            self.assertEqual(len(servers), n)
            for c in clients:
                await c.close()
            await asyncio.gather(*servers)
            await ln.close()
            await acceptor
            # The loop's thread, the dial pool's few, and nothing per
            # connection.
            self.assertLessEqual(peak, before + aio.DIAL_THREADS, "threads: %d before, %d with %d connections" % (before, peak, n))

        run(main())


class CancelTest(unittest.TestCase):
    """Cancelling each kind of wait: prompt, CancelledError, nothing lost."""

    BOUND = 0.05

    def test_cancel_read_keeps_data(self):
        async def main():
            fds = open_fds()
            ln, c, s = await pair()
            took = await cancel_and_time(asyncio.ensure_future(s.read()))
            self.assertLess(took, self.BOUND)
            # Data that arrives for a read cancelled before its task ran
            # is kept for the next read, wherever the cancel falls.
            for turns in range(6):
                reader = asyncio.ensure_future(s.read())
                await asyncio.sleep(0.01)
                await c.write(b"msg%d" % turns)
                for _ in range(turns):
                    await asyncio.sleep(0)
                reader.cancel()
                try:
                    got = await reader
                except asyncio.CancelledError:
                    got = await s.read()
                self.assertEqual(got, b"msg%d" % turns)
            # readinto too.
            for turns in range(4):
                buf = bytearray(16)
                reader = asyncio.ensure_future(s.readinto(buf))
                await asyncio.sleep(0.01)
                await c.write(b"into%d" % turns)
                for _ in range(turns):
                    await asyncio.sleep(0)
                reader.cancel()
                try:
                    n = await reader
                    got = bytes(buf[:n])
                except asyncio.CancelledError:
                    got = await s.read()
                self.assertEqual(got, b"into%d" % turns)
            for h in (c, s, ln):
                await h.close()
            self.assertEqual(open_fds(), fds)

        run(main())

    def test_cancel_accept_keeps_connection(self):
        async def main():
            fds = open_fds()
            ln = await aio.listen("tcp", "127.0.0.1:0")
            took = await cancel_and_time(asyncio.ensure_future(ln.accept()))
            self.assertLess(took, self.BOUND)
            for turns in range(4):
                acceptor = asyncio.ensure_future(ln.accept())
                await asyncio.sleep(0.01)
                # Connected at once (a loopback connect does not wait), so
                # that the cancel can fall before or after the accept.
                c = gonet.dial("tcp", ln.local_addr, timeout=5)
                for _ in range(turns):
                    await asyncio.sleep(0)
                acceptor.cancel()
                try:
                    s = await acceptor
                except asyncio.CancelledError:
                    s = await ln.accept()
                self.assertEqual(s.remote_addr, c.local_addr)
                await s.close()
                c.close()
            await ln.close()
            self.assertEqual(open_fds(), fds)

        run(main())

    def test_cancel_write(self):
        async def main():
            fds = open_fds()
            ln, c, s = await pair()
            writer = asyncio.ensure_future(c.write(b"w" * (64 << 20)))
            took = await cancel_and_time(writer)
            self.assertLess(took, self.BOUND)
            # The connection still works: a later write goes out whole
            # after whatever part of the cancelled one was sent.
            await c.write(b"END")
            c.close_write()
            total = bytearray()
            while True:
                chunk = await s.read()
                if not chunk:
                    break
                total += chunk
            self.assertTrue(total.endswith(b"END"))
            self.assertEqual(total[:-3], b"w" * (len(total) - 3))
            for h in (c, s, ln):
                await h.close()
            self.assertEqual(open_fds(), fds)

        run(main())

    def test_cancel_dial(self):
        ls, fill, addr = hanging_listener()
        try:

            async def main():
                fds = open_fds()
                for _ in range(3):
                    took = await cancel_and_time(asyncio.ensure_future(aio.dial("tcp", addr)))
                    self.assertLess(took, self.BOUND)
                # The pool threads' dials end promptly too (cancelled
                # through their dialers) and leave nothing open.
                until = time.monotonic() + 5
                while open_fds() != fds and time.monotonic() < until:
                    await asyncio.sleep(0.01)
                self.assertEqual(open_fds(), fds)
                # The pool is free again: a dial that can connect does.
                async with await aio.listen("tcp", "127.0.0.1:0") as ln:
                    async with await aio.dial("tcp", ln.local_addr, timeout=2):
                        pass

            run(main())
        finally:
            for s in fill:
                s.close()
            ls.close()

    def test_loop_never_blocks(self):
        """While reads, accepts and a hanging dial wait, the loop keeps
        running its other tasks on time."""
        ls, fill, addr = hanging_listener()
        try:

            async def main():
                ln, c, s = await pair()
                waits = [
                    asyncio.ensure_future(s.read()),
                    asyncio.ensure_future(ln.accept()),
                    asyncio.ensure_future(aio.dial("tcp", addr, timeout=1)),
                ]
                worst = 0.0
                for _ in range(20):
                    start = time.monotonic()
                    await asyncio.sleep(0.01)
                    worst = max(worst, time.monotonic() - start - 0.01)
                # A dial or read blocking the loop would hold it for up to
                # the dial's 1 s; the margin is for a loaded machine.
                self.assertLess(worst, 0.25)
                for w in waits:
                    w.cancel()
                await asyncio.gather(*waits, return_exceptions=True)
                for h in (c, s, ln):
                    await h.close()

            run(main())
        finally:
            for s in fill:
                s.close()
            ls.close()


class FromThreadsTest(unittest.TestCase):
    def test_loops_in_two_threads(self):
        results = []

        def worker():
            async def main():
                ln, c, s = await pair()
                await c.write(b"t")
                results.append(await s.read())
                for h in (c, s, ln):
                    await h.close()

            run(main())

        ts = [threading.Thread(target=worker) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(LIMIT)
        self.assertEqual(results, [b"t", b"t"])


class ReadmeTest(unittest.TestCase):
    def test_readme_example_runs(self):
        """The README's asyncio example, run as written."""
        path = os.path.join(REPO_DIR, "README.md")
        if not os.path.exists(path):
            self.skipTest("no README.md beside the package (an installed copy)")
        with open(path) as f:
            text = f.read()
        section = text[text.index("\n### asyncio\n") :]
        start = section.index("```python\n") + len("```python\n")
        code = section[start : section.index("\n```", start)]
        env = dict(os.environ)
        if not INSTALLED:
            env["PYTHONPATH"] = PYTHON_DIR
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=LIMIT, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "b'ping\\n'\n")


if __name__ == "__main__":
    unittest.main()
