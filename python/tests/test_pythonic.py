"""What a Python user expects: TypeError and ValueError that say what was
wrong, one meaning for every duration, listen("udp") pointing at
listen_packet, and copy and sendfile."""

import math
import os
import selectors
import tempfile
import time
import unittest

from support import gonet, pair, read_exact


class ArgumentErrorsTest(unittest.TestCase):
    def test_wrong_types(self):
        ln, c, s = pair()
        with ln, c, s:
            with self.assertRaises(TypeError) as cm:
                c.write("text")
            self.assertEqual(str(cm.exception), "write() argument must be a bytes-like object, not 'str'")
            with self.assertRaises(TypeError) as cm:
                c.read("x")
            self.assertEqual(str(cm.exception), "read() argument must be an int, not 'str'")
            with self.assertRaises(TypeError) as cm:
                c.read(1.5)
            self.assertEqual(str(cm.exception), "read() argument must be an int, not 'float'")
            with self.assertRaises(TypeError) as cm:
                s.readinto(b"immutable")
            self.assertEqual(str(cm.exception), "readinto() argument must be a writable bytes-like object, not 'bytes'")
            with self.assertRaises(TypeError) as cm:
                c.set_deadline("soon")
            self.assertEqual(str(cm.exception), "deadline must be a number of seconds or None, not 'str'")
            with self.assertRaises(ValueError):
                c.read(-1)
            # Nothing was sent or consumed by the failed calls.
            c.write(b"ok")
            self.assertEqual(read_exact(s, 2), b"ok")
        with gonet.listen_packet("udp", "127.0.0.1:0") as pc:
            with self.assertRaises(TypeError) as cm:
                pc.write_to("text", pc.local_addr)
            self.assertEqual(str(cm.exception), "write_to() argument must be a bytes-like object, not 'str'")
            with self.assertRaises(TypeError) as cm:
                pc.read_from("x")
            self.assertEqual(str(cm.exception), "read() argument must be an int, not 'str'")

    def test_listen_udp_says_listen_packet(self):
        with self.assertRaises(gonet.AddressError) as cm:
            gonet.listen("udp", "127.0.0.1:0")
        self.assertIsInstance(cm.exception, ValueError)
        self.assertEqual(cm.exception.code, gonet.NET_EADDR)
        self.assertIn("use listen_packet", str(cm.exception))
        self.assertTrue(str(cm.exception).startswith("listen udp 127.0.0.1:0: "), str(cm.exception))


class DurationTest(unittest.TestCase):
    """None: no deadline or timeout; a number: seconds; zero or negative:
    already passed; NaN, infinity, absurd: ValueError saying why."""

    def test_deadline_values(self):
        ln, c, s = pair()
        with ln, c, s:
            for value in (0, -1, -0.5, -1e9):
                s.set_read_deadline(value)
                with self.assertRaises(gonet.DeadlineExceededError, msg=value):
                    s.read(1)
            s.set_read_deadline(None)
            c.write(b"x")
            self.assertEqual(s.read(1), b"x")
            s.set_read_deadline(0.05)
            start = time.monotonic()
            with self.assertRaises(TimeoutError):
                s.read(1)
            self.assertGreaterEqual(time.monotonic() - start, 0.04)
            # Large but representable values are accepted.
            s.set_deadline(86400 * 365 * 100)
            for value, why in [
                (math.nan, "deadline is NaN"),
                (math.inf, "deadline is infinite: use None for no deadline"),
                (-math.inf, "deadline is infinite"),
                (1e300, "out of range"),
                (-1e300, "out of range"),
            ]:
                for setter in (s.set_deadline, s.set_read_deadline, s.set_write_deadline, ln.set_deadline):
                    with self.assertRaises(ValueError, msg=(value, setter)) as cm:
                        setter(value)
                    self.assertIn(why, str(cm.exception))

    def test_dial_timeout_values(self):
        with gonet.listen("tcp", "127.0.0.1:0") as ln:
            for value in (0, -1):
                start = time.monotonic()
                with self.assertRaises(gonet.DeadlineExceededError) as cm:
                    gonet.dial("tcp", ln.local_addr, timeout=value)
                self.assertLess(time.monotonic() - start, 1)
                self.assertEqual(str(cm.exception), "dial tcp %s: i/o timeout" % ln.local_addr)
                self.assertEqual(cm.exception.code, gonet.NET_ETIMEOUT)
            with gonet.dial("tcp", ln.local_addr, timeout=None), ln.accept():
                pass
            with gonet.dial("tcp", ln.local_addr, timeout=0.0001), ln.accept():
                pass  # rounds up to 1 ms, never to "none" or "expired"
            for value in (math.nan, math.inf, 1e300):
                with self.assertRaises(ValueError):
                    gonet.dial("tcp", ln.local_addr, timeout=value)
            with gonet.Dialer() as d:
                d.set_timeout(-1)
                with self.assertRaises(gonet.DeadlineExceededError):
                    d.dial("tcp", ln.local_addr)
                d.set_timeout(None)
                with d.dial("tcp", ln.local_addr), ln.accept():
                    pass
                with self.assertRaises(ValueError):
                    d.set_timeout(math.inf)
                with self.assertRaises(ValueError):
                    d.set_keepalive(math.nan)
            with gonet.Dialer(timeout=0) as d, self.assertRaises(TimeoutError):
                d.dial("tcp", ln.local_addr)


class FilenoTest(unittest.TestCase):
    def test_selectors(self):
        ln, c, s = pair()
        pc = gonet.listen_packet("udp", "127.0.0.1:0")
        with ln, c, s, pc, selectors.DefaultSelector() as sel:
            for h in (ln, s, pc):
                sel.register(h, selectors.EVENT_READ, h)
            self.assertEqual(sel.select(0), [])
            c.write(b"ready")
            u = gonet.dial("udp", pc.local_addr)
            u.write(b"dgram")
            c2 = gonet.dial("tcp", ln.local_addr, timeout=5)
            ready = set()
            until = time.monotonic() + 5
            while len(ready) < 3 and time.monotonic() < until:
                ready |= {key.data for key, _ in sel.select(1)}
            self.assertEqual(ready, {ln, s, pc})
            self.assertEqual(read_exact(s, 5), b"ready")
            self.assertEqual(pc.read_from()[0], b"dgram")
            with ln.accept():
                pass
            self.assertIsInstance(c.fileno(), int)
            self.assertEqual(c.fileno(), c.fileno())
            for h in (ln, s, pc):
                sel.unregister(h)
            u.close()
            c2.close()
        with self.assertRaises(gonet.ClosedError):
            c.fileno()


class CopyTest(unittest.TestCase):
    def test_copy(self):
        ln, a, b = pair()
        c = gonet.dial("tcp", ln.local_addr, timeout=5)
        d = ln.accept()
        with ln, a, b, c, d:
            payload = os.urandom(100000)
            a.write(payload)
            self.assertEqual(gonet.copy(c, b, 60000), 60000)
            a.close_write()
            self.assertEqual(gonet.copy(c, b), 40000)
            c.close_write()
            d.set_deadline(10)
            got = b""
            while True:
                chunk = d.read()
                if not chunk:
                    break
                got += chunk
            self.assertEqual(got, payload)
            self.assertEqual(gonet.copy(c, b, 0), 0)
            with self.assertRaises(ValueError):
                gonet.copy(c, b, -1)
            with self.assertRaises(TypeError):
                gonet.copy(c, "b")

    def test_sendfile(self):
        ln, c, s = pair()
        with ln, c, s, tempfile.TemporaryFile() as f:
            data = os.urandom(200000)
            f.write(data)
            f.flush()
            f.seek(7)
            self.assertEqual(c.sendfile(f), len(data))
            self.assertEqual(f.tell(), len(data))  # as socket.sendfile leaves it
            self.assertEqual(read_exact(s, len(data)), data)
            self.assertEqual(c.sendfile(f, 100, 50), 50)
            self.assertEqual(f.tell(), 150)
            self.assertEqual(read_exact(s, 50), data[100:150])
            self.assertEqual(c.sendfile(f.fileno(), len(data) - 10, 1000), 10)
            self.assertEqual(read_exact(s, 10), data[-10:])
            self.assertEqual(c.sendfile(f, 0, 0), 0)
            with self.assertRaises(ValueError):
                c.sendfile(f, -1)
            with self.assertRaises(ValueError):
                c.sendfile(f, 0, -5)
            with tempfile.TemporaryFile("w+") as text, self.assertRaises(TypeError):
                c.sendfile(text)
            with self.assertRaises(TypeError):
                c.sendfile("path")

    def test_version(self):
        self.assertEqual(gonet.__version__, gonet.version())


if __name__ == "__main__":
    unittest.main()


class ZeroLengthTest(unittest.TestCase):
    """A read or write of nothing goes through the library, as Go's Read and
    Write of an empty buffer: at once on an open connection, ClosedError on
    a closed one, DeadlineExceededError past a deadline."""

    def test_zero_length_calls_check_the_connection(self):
        ln, c, s = pair()
        with ln, s:
            self.assertEqual(c.read(0), b"")
            self.assertEqual(c.readinto(bytearray()), 0)
            self.assertEqual(c.write(b""), 0)
            self.assertEqual(c.write(bytearray()), 0)
            c.set_deadline(0)
            for call in (lambda: c.read(0), lambda: c.readinto(bytearray()), lambda: c.write(bytearray())):
                with self.assertRaises(gonet.DeadlineExceededError):
                    call()
            c.close()
            for call in (
                lambda: c.read(0),
                lambda: c.readinto(bytearray()),
                lambda: c.write(b""),
                lambda: c.write(memoryview(b"")),
            ):
                with self.assertRaises(gonet.ClosedError):
                    call()
