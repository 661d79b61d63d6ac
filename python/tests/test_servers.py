"""ListenConfig, control functions, socket options, descriptors in and
out, descriptor passing, peer credentials and vectored writes."""

import os
import socket
import threading
import unittest

from support import gonet, read_exact

NAMES = (
    "net_listen_config_new",
    "net_control",
    "net_file_conn",
    "net_write_msg_unix",
    "net_writev",
)


def sockopt(handle, level, name):
    """getsockopt on a gonet handle's socket, through Conn.control."""
    out = []

    def read(fd):
        s = socket.socket(fileno=fd)
        try:
            out.append(s.getsockopt(level, name))
        finally:
            s.detach()

    handle.control(read)
    return out[0]


@unittest.skipIf([n for n in NAMES if n in gonet.MISSING], "library lacks the server calls")
class ServersTest(unittest.TestCase):
    def test_reuseport_and_backlog(self):
        with gonet.ListenConfig(reuseport=True, backlog=8) as lc:
            with lc.listen("tcp", "127.0.0.1:0") as a, lc.listen("tcp", a.local_addr) as b:
                self.assertEqual(a.local_addr, b.local_addr)
                self.assertEqual(sockopt(a, socket.SOL_SOCKET, socket.SO_REUSEPORT), 1)
                with self.assertRaises(gonet.GonetError) as cm:
                    gonet.listen("tcp", a.local_addr)
                self.assertIn("bind: address already in use", str(cm.exception))

    def test_control_functions(self):
        seen = []

        def control(network, address, fd):
            seen.append((network, address))
            s = socket.socket(fileno=fd)
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            finally:
                s.detach()

        with gonet.ListenConfig(control=control) as lc, lc.listen("tcp", "127.0.0.1:0") as ln:
            self.assertEqual(seen, [("tcp4", "127.0.0.1:0")])
            self.assertEqual(sockopt(ln, socket.SOL_SOCKET, socket.SO_RCVBUF), 2 * 65536)
            with gonet.Dialer(control=control) as d, d.dial("tcp", ln.local_addr) as c, ln.accept():
                self.assertEqual(seen[-1], ("tcp4", ln.local_addr))
                self.assertEqual(sockopt(c, socket.SOL_SOCKET, socket.SO_RCVBUF), 2 * 65536)

            def refuse(network, address, fd):
                raise PermissionError("not this one")

            with gonet.Dialer(control=refuse) as d:
                with self.assertRaises(gonet.GonetError) as cm:
                    d.dial("tcp", ln.local_addr)
                self.assertIn("control: returned -13", str(cm.exception))
                self.assertIsInstance(cm.exception.__cause__, PermissionError)

    def test_options(self):
        with gonet.listen("tcp", "127.0.0.1:0") as ln, gonet.dial("tcp", ln.local_addr) as c, ln.accept() as s:
            c.set_read_buffer(32768)
            self.assertEqual(sockopt(c, socket.SOL_SOCKET, socket.SO_RCVBUF), 65536)
            c.set_keepalive_config(idle=20, interval=5, count=4)
            self.assertEqual(sockopt(c, socket.IPPROTO_TCP, socket.TCP_KEEPIDLE), 20)
            self.assertEqual(sockopt(c, socket.IPPROTO_TCP, socket.TCP_KEEPINTVL), 5)
            self.assertEqual(sockopt(c, socket.IPPROTO_TCP, socket.TCP_KEEPCNT), 4)
            s.set_linger(0)
            s.close()
            with self.assertRaises(gonet.ConnectionResetGonetError):
                c.read(1)

    def test_files_in_and_out(self):
        with socket.socket() as ls:
            ls.bind(("127.0.0.1", 0))
            ls.listen()
            with gonet.file_listener(ls) as ln:
                addr = "%s:%d" % ls.getsockname()
                self.assertEqual(ln.local_addr, addr)
                with socket.create_connection(ls.getsockname()) as client, ln.accept() as s:
                    client.sendall(b"in")
                    self.assertEqual(read_exact(s, 2), b"in")
                    with gonet.file_conn(client) as c:
                        self.assertIsInstance(c, gonet.Conn)
                        c.write(b"out")
                        self.assertEqual(read_exact(s, 3), b"out")
                        fd = c.file()
                        try:
                            self.assertTrue(os.get_inheritable(fd) is False)
                        finally:
                            os.close(fd)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            with gonet.file_packet_conn(u) as p:
                self.assertIsInstance(p, gonet.PacketConn)
            with gonet.file_conn(u) as p:
                self.assertIsInstance(p, gonet.PacketConn)
        r, w = os.pipe()
        try:
            with self.assertRaises(gonet.GonetError) as cm:
                gonet.file_conn(r)
            self.assertIn("file file+net fd %d: getsockopt: socket operation on non-socket" % r, str(cm.exception))
        finally:
            os.close(r)
            os.close(w)

    def test_descriptor_passing_credentials_and_writev(self):
        a, b = socket.socketpair()
        with a, b, gonet.file_conn(a) as ga, gonet.file_conn(b) as gb:
            r, w = os.pipe()
            try:
                self.assertEqual(ga.send_fds([b"fd", b"s"], [w, w]), 3)
                data, fds, flags, addr = gb.recv_fds(16, 4)
                self.assertEqual((data, len(fds), flags, addr), (b"fds", 2, 0, None))
                for fd in fds:
                    os.write(fd, b"x")
                    os.close(fd)
                self.assertEqual(os.read(r, 2), b"xx")
                ga.send_fds([b"z"], [w, w, w])
                with self.assertRaises(gonet.MessageTooLongError):
                    gb.recv_fds(16, 1)
            finally:
                os.close(r)
                os.close(w)
            self.assertEqual(gb.peer_cred(), (os.getpid(), os.getuid(), os.getgid()))
            errors = []

            def writer(tag):
                try:
                    for _ in range(20):
                        ga.writev([tag, tag * 1000, tag * 3000])
                except Exception as e:
                    errors.append(e)

            threads = [threading.Thread(target=writer, args=(bytes([65 + i]),)) for i in range(4)]
            for t in threads:
                t.start()
            for _ in range(80):
                record = read_exact(gb, 4001)
                self.assertEqual(record, record[:1] * 4001)
            for t in threads:
                t.join()
            self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main()
