"""Interfaces and their addresses, and the raw IP networks (dial and
listen_packet on "ip4:icmp" and the like)."""

import os
import struct
import time
import unittest

from support import gonet


def privileged():
    """Whether this process may open raw sockets (CAP_NET_RAW)."""
    import socket

    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
        return True
    except PermissionError:
        return False


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo_request(v6, ident, seq, payload):
    head = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, seq)
    if v6:
        return head + payload
    c = checksum(head + payload)
    return struct.pack("!BBHHH", 8, 0, c, ident, seq) + payload


def is_reply(v6, ident, msg):
    return len(msg) >= 8 and msg[0] == (129 if v6 else 0) and struct.unpack("!H", msg[4:6])[0] == ident


class InterfacesTest(unittest.TestCase):
    def test_loopback_is_listed_as_go_lists_it(self):
        links = gonet.interfaces()
        self.assertEqual([i.index for i in links], sorted(i.index for i in links))
        lo = [i for i in links if i.name == "lo"]
        self.assertEqual(len(lo), 1)
        lo = lo[0]
        self.assertIsInstance(lo, gonet.Interface)
        self.assertIsInstance(lo, tuple)
        self.assertIn("loopback", lo.flags.split("|"))
        self.assertEqual(lo.hardware_addr, "")
        self.assertEqual(lo.mtu, int(open("/sys/class/net/lo/mtu").read()))
        self.assertEqual(lo.index, int(open("/sys/class/net/lo/ifindex").read()))

    def test_addresses_in_cidr_form(self):
        self.assertIn("127.0.0.1/8", gonet.interface_addrs("lo"))
        self.assertIn("127.0.0.1/8", gonet.interface_addrs())
        self.assertIn("127.0.0.1/8", gonet.interface_addrs(name=None))
        with self.assertRaises(gonet.AddressError) as cm:
            gonet.interface_addrs("nosuchif0")
        self.assertIsInstance(cm.exception, ValueError)
        self.assertEqual(str(cm.exception), "route ip+net: no such network interface")


class RawIPTest(unittest.TestCase):
    def test_unknown_networks_and_protocols(self):
        with self.assertRaises(gonet.AddressError) as cm:
            gonet.dial("ip4", "127.0.0.1")
        self.assertEqual(str(cm.exception), "dial ip4: unknown network ip4")
        with self.assertRaises(gonet.AddressError) as cm:
            gonet.listen_packet("ip4:nope", "")
        self.assertEqual(str(cm.exception), "listen ip4:nope: address nope: unknown IP protocol specified")

    def test_dial_echoes_over_loopback(self):
        if not privileged():
            with self.assertRaises(gonet.GonetError) as cm:
                gonet.dial("ip4:icmp", "127.0.0.1")
            self.assertEqual(cm.exception.code, gonet.NET_ESYSTEM)
            self.assertEqual(str(cm.exception), "dial ip4:icmp 127.0.0.1: socket: operation not permitted")
            return
        for network, host, v6 in (("ip4:icmp", "127.0.0.1", False), ("ip6:ipv6-icmp", "::1", True)):
            with gonet.dial(network, host) as c:
                self.assertIsInstance(c, gonet.PacketConn)
                self.assertEqual((c.local_addr, c.remote_addr), (host, host))
                ident = (os.getpid() * 7 + int(v6)) & 0xFFFF
                req = echo_request(v6, ident, 1, b"from python")
                self.assertEqual(c.write(req), len(req))
                c.set_read_deadline(2)
                end = time.monotonic() + 2
                while time.monotonic() < end:
                    msg = c.read(1500)
                    if is_reply(v6, ident, msg):
                        break
                else:
                    self.fail("no echo reply")
                self.assertEqual(len(msg), len(req))
                self.assertEqual(msg[8:], b"from python")

    def test_listen_packet_reads_senders_without_ports(self):
        if not privileged():
            with self.assertRaises(gonet.GonetError) as cm:
                gonet.listen_packet("ip6:58", "::1")
            self.assertEqual(str(cm.exception), "listen ip6:58 ::1: socket: operation not permitted")
            return
        for network, host, v6 in (("ip4:1", "127.0.0.1", False), ("ip6:58", "::1", True)):
            with gonet.listen_packet(network, host) as p:
                ident = (os.getpid() * 11 + int(v6)) & 0xFFFF
                req = echo_request(v6, ident, 1, b"to and from")
                self.assertEqual(p.write_to(req, host), len(req))
                p.set_read_deadline(2)
                end = time.monotonic() + 2
                while time.monotonic() < end:
                    msg, sender = p.read_from()
                    if is_reply(v6, ident, msg):
                        break
                else:
                    self.fail("no echo reply")
                self.assertEqual(sender, host)


if __name__ == "__main__":
    unittest.main()
