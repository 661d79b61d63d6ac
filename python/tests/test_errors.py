"""Every failure raises a GonetError subclass carrying the code and Go's
message, and also the built-in exception Python code already catches."""

import errno
import socket
import threading
import time
import unittest

from support import gonet, pair


class ErrorMappingTest(unittest.TestCase):
    def check(self, exc, cls, builtin, code, text, err=None):
        self.assertIsInstance(exc, cls)
        self.assertIsInstance(exc, builtin)
        self.assertIsInstance(exc, gonet.GonetError)
        self.assertIsInstance(exc, OSError)
        self.assertEqual(exc.code, code)
        self.assertIn(text, str(exc))
        self.assertEqual(exc.strerror, str(exc))
        if err is not None:
            self.assertEqual(exc.errno, err)

    def test_refused(self):
        with self.assertRaises(ConnectionRefusedError) as cm:
            gonet.dial("tcp", "127.0.0.1:1")
        self.check(
            cm.exception,
            gonet.ConnectionRefusedGonetError,
            ConnectionError,
            gonet.NET_EREFUSED,
            "dial tcp 127.0.0.1:1: connect: connection refused",
            errno.ECONNREFUSED,
        )

    def test_timeout(self):
        ln, c, s = pair()
        with ln, c, s:
            s.set_read_deadline(0.01)
            with self.assertRaises(TimeoutError) as cm:
                s.read(1)
        self.check(cm.exception, gonet.DeadlineExceededError, TimeoutError, gonet.NET_ETIMEOUT, "i/o timeout", errno.ETIMEDOUT)
        self.assertRegex(str(cm.exception), r"^read tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+: i/o timeout$")

    def test_closed(self):
        ln, c, s = pair()
        c.close()
        for op in (lambda: c.read(1), lambda: c.write(b"x"), lambda: c.set_deadline(1), lambda: c.local_addr):
            with self.assertRaises(gonet.ClosedError) as cm:
                op()
            self.check(cm.exception, gonet.ClosedError, OSError, gonet.NET_ECLOSED, "use of closed network connection", errno.EBADF)
        s.close()
        ln.close()

    def test_bad_address(self):
        for network, address, text in [
            ("tcp", "127.0.0.1", "missing port in address"),
            ("tcp", "127.0.0.1:99999", "invalid port"),
            ("nosuchnet", "127.0.0.1:80", "unknown network"),
        ]:
            with self.subTest(network=network, address=address):
                with self.assertRaises(ValueError) as cm:
                    gonet.dial(network, address)
                self.check(cm.exception, gonet.AddressError, ValueError, gonet.NET_EADDR, text)
        with self.assertRaises(ValueError) as cm:
            gonet.listen("tcp", "127.0.0.1")
        self.check(cm.exception, gonet.AddressError, ValueError, gonet.NET_EADDR, "listen tcp: address 127.0.0.1: missing port in address")

    def test_no_such_host(self):
        with self.assertRaises(socket.gaierror) as cm:
            # .onion is never sent to DNS (RFC 7686): no name server is asked.
            gonet.dial("tcp", "nosuchhost.onion:80", timeout=10)
        self.check(cm.exception, gonet.NoSuchHostError, socket.gaierror, gonet.NET_ENOHOST, "lookup nosuchhost.onion")

    def test_invalid_argument(self):
        with gonet.listen("tcp", "127.0.0.1:0") as ln:
            as_conn = gonet.Conn(ln.handle)  # a listener is not a connection
            with self.assertRaises(ValueError) as cm:
                as_conn.read(1)
            as_conn._closed = True  # the listener's to close
        self.check(cm.exception, gonet.InvalidArgumentError, ValueError, gonet.NET_EINVAL, "listener", errno.EINVAL)
        with self.assertRaises(gonet.InvalidArgumentError):
            gonet.dial("tcp", "127.0.0.1:80\0junk")
        with self.assertRaises(TypeError):
            gonet.dial("tcp", 80)

    def test_address_in_use(self):
        with gonet.listen("tcp", "127.0.0.1:0") as ln:
            with self.assertRaises(OSError) as cm:
                gonet.listen("tcp", ln.local_addr)
        self.check(cm.exception, gonet.GonetError, OSError, gonet.NET_EADDRINUSE, "address already in use", errno.EADDRINUSE)

    def test_broken_pipe(self):
        ln, c, s = pair()
        s.close()  # an orderly close: c gets FIN, then RST on its first write
        exc = None
        deadline = time.monotonic() + 5
        for _ in range(1000):
            try:
                c.write(b"x" * 1024)
            except OSError as e:
                exc = e
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.001)
        self.assertIsNotNone(exc, "writes to a closed peer kept succeeding")
        self.check(exc, gonet.BrokenPipeGonetError, BrokenPipeError, gonet.NET_EPIPE, "broken pipe", errno.EPIPE)
        c.close()
        ln.close()

    def test_reset(self):
        ln, c, s = pair()
        c.write(b"unread")
        time.sleep(0.05)
        s.close()  # closing with unread data sends RST
        exc = None
        deadline = time.monotonic() + 5
        for _ in range(1000):
            try:
                if not c.read(10):
                    break
            except OSError as e:
                exc = e
                break
            if time.monotonic() > deadline:
                break
        self.assertIsNotNone(exc, "no reset seen")
        self.check(exc, gonet.ConnectionResetGonetError, ConnectionResetError, gonet.NET_ERESET, "connection reset by peer", errno.ECONNRESET)
        c.close()
        ln.close()

    def test_message_is_per_thread(self):
        # Another thread's failure in between does not change this one's.
        other = {}

        def fail_elsewhere():
            try:
                gonet.dial("tcp", "127.0.0.1")
            except gonet.GonetError as e:
                other["e"] = e

        with self.assertRaises(ConnectionRefusedError) as cm:
            gonet.dial("tcp", "127.0.0.1:1")
        t = threading.Thread(target=fail_elsewhere)
        t.start()
        t.join(10)
        self.assertIn("connection refused", str(cm.exception))
        self.assertIn("missing port", str(other["e"]))

    def test_errors_pickle(self):
        import pickle

        e = gonet.DeadlineExceededError(gonet.NET_ETIMEOUT, "read tcp a->b: i/o timeout", errno.ETIMEDOUT)
        e2 = pickle.loads(pickle.dumps(e))
        self.assertIsInstance(e2, TimeoutError)
        self.assertEqual((e2.code, str(e2), e2.errno), (e.code, str(e), e.errno))

    def test_default_message(self):
        e = gonet.GonetError(gonet.NET_EUNREACH)
        self.assertEqual(str(e), gonet.strerror(gonet.NET_EUNREACH))


if __name__ == "__main__":
    unittest.main()
