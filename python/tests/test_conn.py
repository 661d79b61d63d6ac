"""Connections and listeners: roundtrips, buffers, EOF, deadlines,
context managers and threads."""

import array
import threading
import time
import unittest

from support import gonet, pair, read_exact


class ConnTest(unittest.TestCase):
    def setUp(self):
        self.ln, self.c, self.s = pair()

    def tearDown(self):
        for h in (self.c, self.s, self.ln):
            h.close()

    def test_version_and_strerror(self):
        self.assertRegex(gonet.version(), r"^\d+\.\d+\.\d+")
        self.assertEqual(gonet.strerror(gonet.NET_ETIMEOUT), "i/o timeout")
        self.assertIsInstance(gonet.strerror(gonet.NET_EREFUSED), str)

    def test_roundtrip(self):
        self.assertEqual(self.c.write(b"hello, gonet"), 12)
        self.assertEqual(read_exact(self.s, 12), b"hello, gonet")
        self.s.sendall(b"back")
        self.assertEqual(read_exact(self.c, 4), b"back")
        self.assertEqual(self.c.recv(0), b"")

    def test_addresses(self):
        self.assertTrue(self.ln.local_addr.startswith("127.0.0.1:"))
        self.assertEqual(self.c.remote_addr, self.ln.local_addr)
        self.assertEqual(self.s.local_addr, self.ln.local_addr)
        self.assertEqual(self.s.remote_addr, self.c.local_addr)
        self.assertIn(self.c.local_addr, repr(self.c))

    def test_large_roundtrip(self):
        data = bytes(range(256)) * 4096  # 1 MiB, more than a socket buffer
        writer = threading.Thread(target=self.c.write, args=(data,))
        writer.start()
        got = read_exact(self.s, len(data))
        writer.join(10)
        self.assertEqual(got, data)
        # A read larger than the scratch buffer.
        self.c.write(b"x" * 100)
        self.assertEqual(read_exact(self.s, 100), b"x" * 100)

    def test_readinto(self):
        self.c.write(b"abcdef")
        buf = bytearray(4)
        n = self.s.readinto(buf)
        self.assertGreater(n, 0)
        self.assertEqual(bytes(buf[:n]), b"abcdef"[:n])
        got = bytes(buf[:n])
        # Into a slice of a memoryview: no copy, only that part is written.
        big = bytearray(b"." * 10)
        mv = memoryview(big)
        while len(got) < 6:
            k = self.s.readinto(mv[2:8])
            got += bytes(big[2 : 2 + k])
        self.assertEqual(got, b"abcdef")
        self.assertEqual(big[:2], b"..")
        # Into an array of another item size; and an empty buffer.
        self.c.write(b"\x01\x00\x00\x00")
        arr = array.array("i", [0])
        self.assertEqual(self.s.readinto(arr), 4)
        self.assertEqual(arr[0], 1)
        self.assertEqual(self.s.readinto(bytearray()), 0)

    def test_readinto_rejects_readonly(self):
        with self.assertRaises(TypeError):
            self.s.readinto(b"immutable")

    def test_write_bytes_like(self):
        self.c.write(bytearray(b"ba"))
        self.c.write(memoryview(b"-mv-")[1:3])  # read-only, not bytes
        self.c.write(memoryview(bytearray(b"rw")))  # writable memoryview
        self.c.write(array.array("B", [33]))
        self.assertEqual(self.c.write(b""), 0)
        self.assertEqual(self.c.write(bytearray()), 0)
        self.assertEqual(read_exact(self.s, 7), b"bamvrw!")
        with self.assertRaises(TypeError):
            self.c.write("text is not bytes")

    def test_eof(self):
        self.c.write(b"last")
        self.c.close_write()
        self.assertEqual(read_exact(self.s, 4), b"last")
        self.assertEqual(self.s.read(10), b"")
        self.assertEqual(self.s.readinto(bytearray(10)), 0)
        # The other direction still works.
        self.s.write(b"still")
        self.assertEqual(read_exact(self.c, 5), b"still")

    def test_close_read(self):
        self.s.close_read()
        self.assertEqual(self.s.read(1), b"")

    def test_read_deadline(self):
        self.s.set_read_deadline(0.05)
        start = time.monotonic()
        with self.assertRaises(TimeoutError) as cm:
            self.s.read(1)
        self.assertLess(time.monotonic() - start, 5)
        self.assertIsInstance(cm.exception, gonet.DeadlineExceededError)
        self.assertEqual(cm.exception.code, gonet.NET_ETIMEOUT)
        self.assertIn("i/o timeout", str(cm.exception))
        # Still timed out, even once data is there; cleared, reads work.
        self.c.write(b"x")
        with self.assertRaises(TimeoutError):
            self.s.read(1)
        self.s.set_read_deadline(None)
        self.assertEqual(self.s.read(1), b"x")
        # An expired deadline (0), then one far away.
        self.s.set_deadline(0)
        with self.assertRaises(TimeoutError):
            self.s.read(1)
        self.s.set_deadline(60)
        self.c.write(b"y")
        self.assertEqual(self.s.read(1), b"y")

    def test_write_deadline(self):
        self.c.set_write_deadline(0)
        with self.assertRaises(TimeoutError):
            self.c.write(b"x")
        self.c.set_write_deadline(None)
        self.c.write(b"x")
        self.assertEqual(self.s.read(1), b"x")

    def test_accept_deadline(self):
        self.ln.set_deadline(0.05)
        with self.assertRaises(TimeoutError):
            self.ln.accept()
        self.ln.set_deadline(None)

    def test_options(self):
        self.c.set_nodelay(True)
        self.c.set_nodelay(False)
        self.c.set_keepalive(30)
        self.c.set_keepalive(0.5)
        self.c.set_keepalive(None)
        self.c.write(b"ok")
        self.assertEqual(read_exact(self.s, 2), b"ok")

    def test_makefile_readline(self):
        f = self.s.makefile("rb")
        self.c.write(b"one\ntwo\nthr")
        self.c.write(b"ee\n")
        self.assertEqual(f.readline(), b"one\n")
        self.assertEqual(f.readline(), b"two\n")
        self.assertEqual(f.readline(), b"three\n")
        f.close()
        self.assertFalse(self.s.closed)


class LifecycleTest(unittest.TestCase):
    def test_context_managers(self):
        with gonet.listen("tcp", "127.0.0.1:0") as ln:
            with gonet.dial("tcp", ln.local_addr) as c, ln.accept() as s:
                c.write(b"ctx")
                self.assertEqual(read_exact(s, 3), b"ctx")
            self.assertTrue(c.closed and s.closed)
            with self.assertRaises(gonet.ClosedError):
                c.write(b"x")
        self.assertTrue(ln.closed)
        with self.assertRaises(gonet.ClosedError):
            ln.accept()

    def test_close_twice(self):
        ln = gonet.listen("tcp", "127.0.0.1:0")
        ln.close()
        ln.close()

    def test_ipv6_loopback(self):
        try:
            ln = gonet.listen("tcp6", "[::1]:0")
        except gonet.GonetError as e:
            self.skipTest("no IPv6 loopback: %s" % e)
        with ln, gonet.dial("tcp", ln.local_addr) as c, ln.accept() as s:
            self.assertTrue(ln.local_addr.startswith("[::1]:"))
            c.write(b"six")
            self.assertEqual(read_exact(s, 3), b"six")


class ThreadTest(unittest.TestCase):
    def test_close_wakes_blocked_read_and_gil_is_released(self):
        ln, c, s = pair()
        s.set_deadline(None)  # blocked for good, but for the close
        result = {}
        started = threading.Event()

        def reader():
            started.set()
            try:
                result["data"] = s.read(10)
            except BaseException as e:
                result["error"] = e
            result["woke"] = time.monotonic()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        self.assertTrue(started.wait(5))
        # This thread keeps running Python code while the reader is blocked.
        spins = 0
        until = time.monotonic() + 0.2
        while time.monotonic() < until:
            spins += 1
        self.assertGreater(spins, 1000)
        self.assertTrue(t.is_alive(), "the read should still be blocked")
        closed_at = time.monotonic()
        s.close()
        t.join(5)
        self.assertFalse(t.is_alive(), "close did not wake the reader")
        self.assertIsInstance(result.get("error"), gonet.ClosedError, result)
        self.assertEqual(result["error"].code, gonet.NET_ECLOSED)
        self.assertIn("use of closed network connection", str(result["error"]))
        self.assertLess(result["woke"] - closed_at, 1.0)
        c.close()
        ln.close()

    def test_close_wakes_blocked_accept(self):
        ln = gonet.listen("tcp", "127.0.0.1:0")
        result = {}

        def acceptor():
            try:
                ln.accept()
            except BaseException as e:
                result["error"] = e

        t = threading.Thread(target=acceptor, daemon=True)
        t.start()
        time.sleep(0.1)
        ln.close()
        t.join(5)
        self.assertFalse(t.is_alive())
        self.assertIsInstance(result.get("error"), gonet.ClosedError)

    def test_concurrent_readers_and_writers(self):
        ln, c, s = pair()
        msg = b"m" * 1000
        per, writers = 50, 4

        def write():
            for _ in range(per):
                c.write(msg)

        ws = [threading.Thread(target=write) for _ in range(writers)]
        for w in ws:
            w.start()
        got = read_exact(s, len(msg) * per * writers)
        for w in ws:
            w.join(10)
        self.assertEqual(got, msg * per * writers)
        for h in (c, s, ln):
            h.close()


if __name__ == "__main__":
    unittest.main()
