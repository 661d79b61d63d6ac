"""Dialer, lookups and host:port helpers."""

import threading
import time
import unittest

from support import gonet, read_exact


def needs(*names):
    missing = [n for n in names if n in gonet.MISSING]
    return unittest.skipIf(missing, "library lacks %s" % missing)


class HostPortTest(unittest.TestCase):
    @needs("net_split_host_port", "net_join_host_port")
    def test_split_join(self):
        self.assertEqual(gonet.split_host_port("127.0.0.1:80"), ("127.0.0.1", "80"))
        self.assertEqual(gonet.split_host_port("[::1]:8088"), ("::1", "8088"))
        self.assertEqual(gonet.join_host_port("::1", 8088), "[::1]:8088")
        self.assertEqual(gonet.join_host_port("example.com", "http"), "example.com:http")
        with self.assertRaises(ValueError) as cm:
            gonet.split_host_port("127.0.0.1")
        self.assertIsInstance(cm.exception, gonet.AddressError)
        self.assertIn("missing port in address", str(cm.exception))

    @needs("net_lookup_host", "net_lookup_port")
    def test_lookups(self):
        self.assertEqual(gonet.lookup_host("127.0.0.1"), ["127.0.0.1"])
        self.assertIn("127.0.0.1", gonet.lookup_host("localhost") + ["127.0.0.1"])
        self.assertEqual(gonet.lookup_port("tcp", "8080"), 8080)
        with self.assertRaises(Exception):
            gonet.lookup_host("nosuchhost.onion")  # never sent to DNS (RFC 7686)


@needs("net_dialer_new", "net_dialer_dial", "net_dialer_cancel")
class DialerTest(unittest.TestCase):
    def test_dial(self):
        with gonet.listen("tcp", "127.0.0.1:0") as ln, gonet.Dialer(timeout=5, keepalive=30) as d:
            with d.dial("tcp", ln.local_addr) as c, ln.accept() as s:
                c.write(b"dialer")
                self.assertEqual(read_exact(s, 6), b"dialer")
            with self.assertRaises(ConnectionRefusedError):
                d.dial("tcp", "127.0.0.1:1")

    def test_cancel(self):
        d = gonet.Dialer()
        d.cancel()
        with self.assertRaises(gonet.CanceledError) as cm:
            d.dial("tcp", "127.0.0.1:1")
        self.assertEqual(cm.exception.code, gonet.NET_ECANCELED)
        d.close()


if __name__ == "__main__":
    unittest.main()
