"""Datagrams: listen_packet, read_from and write_to over UDP and unixgram,
senders' addresses, the truncation rule, empty datagrams, wake-ups, and
connected packet handles from dial()."""

import array
import errno
import os
import pickle
import re
import tempfile
import threading
import time
import unittest

from support import REPO_DIR, gonet

PACKET = ("net_listen_packet", "net_read_from", "net_write_to")
needs_packet = unittest.skipIf(
    [n for n in PACKET if n in gonet.MISSING],
    "library lacks datagram support",
)


def bound(network, address):
    """A packet handle that no test waits on forever."""
    pc = gonet.listen_packet(network, address)
    pc.set_deadline(10)
    return pc


def unused_udp_addr():
    """A loopback UDP address where nothing listens (just freed)."""
    with gonet.listen_packet("udp", "127.0.0.1:0") as pc:
        return pc.local_addr


def blocked(test, call, interrupt):
    """Runs call() on a thread, checks that it blocks, runs interrupt(),
    and returns (the exception call raised, seconds it took to wake)."""
    result = {}
    started = threading.Event()

    def run():
        started.set()
        try:
            result["value"] = call()
        except BaseException as e:
            result["error"] = e
        result["woke"] = time.monotonic()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    test.assertTrue(started.wait(5))
    time.sleep(0.2)
    test.assertTrue(t.is_alive(), "the call should still be blocked: %r" % result)
    at = time.monotonic()
    interrupt()
    t.join(5)
    test.assertFalse(t.is_alive(), "the blocked call did not wake")
    test.assertIn("error", result, result)
    return result["error"], result["woke"] - at


class AddrMaxTest(unittest.TestCase):
    def test_addr_max_matches_the_header(self):
        with open(os.path.join(REPO_DIR, "include", "gonet.h")) as f:
            m = re.search(r"#define NET_ADDR_MAX (\d+)", f.read())
        self.assertIsNotNone(m)
        self.assertEqual(gonet.NET_ADDR_MAX, int(m.group(1)))


@needs_packet
class UdpTest(unittest.TestCase):
    def test_ipv4_round_trip(self):
        with bound("udp", "127.0.0.1:0") as server, bound("udp4", "127.0.0.1:0") as client:
            self.assertIsInstance(server, gonet.PacketConn)
            self.assertRegex(server.local_addr, r"^127\.0\.0\.1:\d+$")
            self.assertEqual(server.remote_addr, "", "unconnected: no peer")
            self.assertIn(server.local_addr, repr(server))
            self.assertEqual(client.write_to(b"hello", server.local_addr), 5)
            data, sender = server.read_from()
            self.assertEqual((data, sender), (b"hello", client.local_addr))
            self.assertEqual(server.write_to(b"back", sender), 4)
            self.assertEqual(client.read_from(), (b"back", server.local_addr))
            # Every bytes-like object is one datagram, boundaries kept.
            for payload in (bytearray(b"ba"), memoryview(b"-mv-")[1:3], array.array("B", [1, 2, 3])):
                client.write_to(payload, server.local_addr)
            self.assertEqual(server.read_from(), (b"ba", client.local_addr))
            self.assertEqual(server.read_from(), (b"mv", client.local_addr))
            self.assertEqual(server.read_from(), (b"\x01\x02\x03", client.local_addr))
            # Into a caller's buffer, without a copy.
            client.write_to(b"into", server.local_addr)
            buf = bytearray(b"." * 10)
            self.assertEqual(server.read_from_into(memoryview(buf)[2:8]), (4, client.local_addr))
            self.assertEqual(bytes(buf), b"..into....")
            # A read larger than the scratch buffer; the largest datagram.
            big = bytes(range(256)) * 255 + bytes(range(187))
            self.assertEqual(len(big), 65_467)
            client.write_to(big, server.local_addr)
            self.assertEqual(server.read_from(100_000), (big, client.local_addr))
            # A host name is resolved on each write_to.
            port = server.local_addr.rsplit(":", 1)[1]
            client.write_to(b"by name", "localhost:" + port)
            self.assertEqual(server.read_from()[0], b"by name")
        self.assertTrue(server.closed and client.closed)
        with self.assertRaises(gonet.ClosedError):
            server.read_from()

    def test_ipv6_round_trip(self):
        try:
            server = bound("udp6", "[::1]:0")
        except gonet.GonetError as e:
            self.skipTest("no IPv6 loopback: %s" % e)
        with server, bound("udp", "[::1]:0") as client:
            self.assertRegex(server.local_addr, r"^\[::1\]:\d+$")
            self.assertEqual(client.write_to(b"six", server.local_addr), 3)
            data, sender = server.read_from()
            self.assertEqual(data, b"six")
            self.assertRegex(sender, r"^\[::1\]:\d+$")
            self.assertEqual(sender, client.local_addr)
            server.write_to(b"reply", sender)
            self.assertEqual(client.read_from(), (b"reply", server.local_addr))
            # An IPv6 address cannot be sent to from an IPv4 socket.
            with bound("udp", "127.0.0.1:0") as four:
                with self.assertRaises(gonet.AddressError) as cm:
                    four.write_to(b"x", server.local_addr)
                self.assertIn("non-IPv4 address", str(cm.exception))

    def test_truncation_raises_with_what_fit_and_the_sender(self):
        with bound("udp", "127.0.0.1:0") as server, bound("udp", "127.0.0.1:0") as client:
            data = bytes(range(100))
            client.write_to(data, server.local_addr)
            client.write_to(b"next", server.local_addr)
            with self.assertRaises(gonet.MessageTooLongError) as cm:
                server.read_from(10)
            e = cm.exception
            self.assertIsInstance(e, gonet.GonetError)
            self.assertIsInstance(e, OSError)
            self.assertEqual((e.code, e.errno), (gonet.NET_EMSGSIZE, errno.EMSGSIZE))
            self.assertEqual(
                str(e),
                "read udp %s: datagram of 100 bytes did not fit in a buffer of 10 bytes" % server.local_addr,
            )
            self.assertEqual(e.data, data[:10])
            self.assertEqual(e.addr, client.local_addr)
            # The datagram was consumed: the next read takes the next one.
            self.assertEqual(server.read_from(), (b"next", client.local_addr))

            # Into a buffer: it holds what fit, and so does .data.
            client.write_to(data, server.local_addr)
            buf = bytearray(16)
            with self.assertRaises(gonet.MessageTooLongError) as cm:
                server.read_from_into(buf)
            self.assertEqual(bytes(buf), data[:16])
            self.assertEqual((cm.exception.data, cm.exception.addr), (data[:16], client.local_addr))

            # A zero-length read takes one datagram, which did not fit.
            client.write_to(b"xyz", server.local_addr)
            with self.assertRaises(gonet.MessageTooLongError) as cm:
                server.read_from(0)
            self.assertEqual((cm.exception.data, cm.exception.addr), (b"", client.local_addr))
            self.assertIn("datagram of 3 bytes did not fit in a buffer of 0 bytes", str(cm.exception))

            # Too large to send: nothing goes, nothing was read.
            with self.assertRaises(gonet.MessageTooLongError) as cm:
                client.write_to(bytes(65_508), server.local_addr)
            self.assertIn("message too long", str(cm.exception))
            self.assertEqual((cm.exception.data, cm.exception.addr), (None, None))

            e2 = pickle.loads(pickle.dumps(e))
            self.assertIsInstance(e2, gonet.MessageTooLongError)
            self.assertEqual((e2.code, str(e2), e2.errno, e2.data, e2.addr), (e.code, str(e), e.errno, e.data, e.addr))

    def test_empty_datagram(self):
        with bound("udp", "127.0.0.1:0") as server, bound("udp", "127.0.0.1:0") as client:
            self.assertEqual(client.write_to(b"", server.local_addr), 0)
            self.assertEqual(client.write_to(bytearray(), server.local_addr), 0)
            client.write_to(b"after", server.local_addr)
            self.assertEqual(server.read_from(), (b"", client.local_addr))
            self.assertEqual(server.read_from_into(bytearray()), (0, client.local_addr))
            self.assertEqual(server.read_from(), (b"after", client.local_addr))
            # A zero-length read of an empty datagram succeeds.
            client.write_to(b"", server.local_addr)
            self.assertEqual(server.read_from(0), (b"", client.local_addr))

    def test_close_wakes_a_blocked_read_from(self):
        pc = gonet.listen_packet("udp", "127.0.0.1:0")
        addr = pc.local_addr
        e, took = blocked(self, pc.read_from, pc.close)
        self.assertIsInstance(e, gonet.ClosedError)
        self.assertEqual(str(e), "read udp %s: use of closed network connection" % addr)
        self.assertLess(took, 1.0)
        with self.assertRaises(gonet.ClosedError):
            pc.write_to(b"x", addr)

    def test_deadline_wakes_a_blocked_read_from(self):
        with gonet.listen_packet("udp", "127.0.0.1:0") as pc:
            e, took = blocked(self, lambda: pc.read_from_into(bytearray(8)), lambda: pc.set_read_deadline(0))
            self.assertIsInstance(e, TimeoutError)
            self.assertIsInstance(e, gonet.DeadlineExceededError)
            self.assertEqual(str(e), "read udp %s: i/o timeout" % pc.local_addr)
            self.assertLess(took, 1.0)
            # A deadline in the future ends the wait near it.
            pc.set_read_deadline(0.15)
            start = time.monotonic()
            with self.assertRaises(TimeoutError):
                pc.read_from()
            self.assertGreaterEqual(time.monotonic() - start, 0.14)
            # Cleared, it reads again and nothing was lost.
            with bound("udp", "127.0.0.1:0") as client:
                client.write_to(b"late", pc.local_addr)
                pc.set_read_deadline(None)
                self.assertEqual(pc.read_from(), (b"late", client.local_addr))


@needs_packet
class ConnectedUdpTest(unittest.TestCase):
    def test_dial_read_and_write(self):
        with bound("udp", "127.0.0.1:0") as server:
            with gonet.dial("udp", server.local_addr, timeout=5) as c:
                c.set_deadline(10)
                self.assertIsInstance(c, gonet.PacketConn)
                self.assertNotIsInstance(c, gonet.Conn)
                self.assertEqual(c.remote_addr, server.local_addr)
                self.assertIn("->", repr(c))
                self.assertEqual(c.write(b"ping"), 4)
                self.assertEqual(server.read_from(), (b"ping", c.local_addr))
                server.write_to(b"pong", c.local_addr)
                self.assertEqual(c.read(), b"pong")
                # An empty datagram is no end of stream.
                server.write_to(b"", c.local_addr)
                server.write_to(b"more", c.local_addr)
                self.assertEqual(c.read(), b"")
                self.assertEqual(c.read(), b"more")
                server.write_to(b"", c.local_addr)
                self.assertEqual(c.readinto(bytearray(4)), 0)
                c.write(b"")
                self.assertEqual(server.read_from(), (b"", c.local_addr))
                # read_from works on a connected handle: the peer.
                server.write_to(b"from", c.local_addr)
                self.assertEqual(c.read_from(), (b"from", server.local_addr))
                # One datagram per read, truncation as for read_from; the
                # sender is not reported by read.
                server.write_to(b"0123456789", c.local_addr)
                server.write_to(b"x", c.local_addr)
                with self.assertRaises(gonet.MessageTooLongError) as cm:
                    c.read(4)
                self.assertEqual((cm.exception.data, cm.exception.addr), (b"0123", None))
                self.assertEqual(
                    str(cm.exception),
                    "read udp %s->%s: datagram of 10 bytes did not fit in a buffer of 4 bytes" % (c.local_addr, server.local_addr),
                )
                self.assertEqual(c.read(4), b"x")
                # Each side refuses the other's way of addressing.
                with self.assertRaises(gonet.InvalidArgumentError) as cm:
                    c.write_to(b"x", server.local_addr)
                self.assertIn("use of WriteTo with pre-connected connection", str(cm.exception))
                with self.assertRaises(gonet.InvalidArgumentError) as cm:
                    server.write(b"x")
                self.assertIn("destination address required", str(cm.exception))
            with self.assertRaises(gonet.ClosedError):
                c.read()

    def test_dialer_gives_a_packet_conn(self):
        with bound("udp", "127.0.0.1:0") as server, gonet.Dialer(timeout=5) as d:
            with d.dial("udp", server.local_addr) as c:
                self.assertIsInstance(c, gonet.PacketConn)
                c.write(b"hi")
                self.assertEqual(server.read_from(), (b"hi", c.local_addr))
        with gonet.listen("tcp", "127.0.0.1:0") as ln, gonet.dial("tcp", ln.local_addr) as c, ln.accept():
            self.assertIsInstance(c, gonet.Conn)

    def test_icmp_refusal(self):
        target = unused_udp_addr()
        with gonet.dial("udp", target) as c:
            c.set_write_deadline(10)
            err = None
            for _ in range(20):
                try:
                    c.write(b"anyone?")
                    c.set_read_deadline(0.25)
                    c.read()
                except ConnectionRefusedError as e:
                    err = e
                    break
                except TimeoutError:
                    continue
            self.assertIsNotNone(err, "no refusal after 20 tries")
            self.assertIsInstance(err, gonet.ConnectionRefusedGonetError)
            self.assertEqual((err.code, err.errno), (gonet.NET_EREFUSED, errno.ECONNREFUSED))
            self.assertIn("connection refused", str(err))
            self.assertIn(target, str(err))


@needs_packet
class UnixgramTest(unittest.TestCase):
    def test_paths(self):
        with tempfile.TemporaryDirectory() as d:
            spath = os.path.join(d, "server.sock")
            cpath = os.path.join(d, "client.sock")
            with bound("unixgram", spath) as server, bound("unixgram", cpath) as client:
                self.assertEqual(server.local_addr, spath)
                self.assertTrue(os.path.exists(spath))
                self.assertEqual(client.write_to(b"hello", spath), 5)
                self.assertEqual(server.read_from(), (b"hello", cpath))
                server.write_to(b"back", cpath)
                self.assertEqual(client.read_from(), (b"back", spath))
                client.write_to(b"", spath)
                self.assertEqual(server.read_from(), (b"", cpath))
                client.write_to(b"too long", spath)
                with self.assertRaises(gonet.MessageTooLongError) as cm:
                    server.read_from(3)
                self.assertEqual((cm.exception.data, cm.exception.addr), (b"too", cpath))
            # The socket files bound by listen_packet are removed on close.
            self.assertFalse(os.path.exists(spath))
            self.assertFalse(os.path.exists(cpath))

    def test_abstract_names(self):
        name = "@gonet-py-test-%d-server" % os.getpid()
        with bound("unixgram", name) as server, bound("unixgram", "") as client:
            self.assertEqual(server.local_addr, name)
            # "" lets Linux choose an abstract name, which can be replied to.
            self.assertTrue(client.local_addr.startswith("@") and len(client.local_addr) > 1, client.local_addr)
            client.write_to(b"abstract", name)
            data, sender = server.read_from()
            self.assertEqual((data, sender), (b"abstract", client.local_addr))
            server.write_to(b"reply", sender)
            self.assertEqual(client.read_from(), (b"reply", name))
            # A dialed unixgram handle is unnamed: its sender is "".
            with gonet.dial("unixgram", name) as c:
                self.assertIsInstance(c, gonet.PacketConn)
                self.assertEqual(c.remote_addr, name)
                c.write(b"anonymous")
                self.assertEqual(server.read_from(), (b"anonymous", ""))


if __name__ == "__main__":
    unittest.main()
