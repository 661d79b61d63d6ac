"""Uses the whole public API of gonet with the types a user's code would
have; test_typing.py runs ``mypy --strict`` on this file and the package,
and runs it. Every name in ``gonet.__all__`` appears here (the test checks
that too), so a public name without type hints fails the check."""

import asyncio
import os
import tempfile
import threading
from typing import List, Optional, Tuple

import gonet
import gonet.aio

USED = {
    "Conn", "Listener", "PacketConn", "dial", "listen", "listen_packet", "copy", "version",
    "strerror", "GonetError", "InvalidArgumentError", "ClosedError", "DeadlineExceededError",
    "AddressError", "NoSuchHostError", "ConnectionRefusedGonetError", "ConnectionResetGonetError",
    "BrokenPipeGonetError", "MessageTooLongError", "NET_EINVAL", "NET_ECLOSED", "NET_ETIMEOUT",
    "NET_EADDR", "NET_ENOHOST", "NET_EREFUSED", "NET_ERESET", "NET_EPIPE", "NET_EADDRINUSE",
    "NET_EUNREACH", "NET_EMSGSIZE", "NET_EINTERNAL", "NET_ESYSTEM", "NET_ECANCELED", "NET_ADDR_MAX",
    "CanceledError", "Dialer", "lookup_host", "lookup_port", "split_host_port", "join_host_port",
    "Interface", "interfaces", "interface_addrs",
    "NET_EAGAIN", "WouldBlockError",
    "NET_EDNS", "TemporaryDnsError", "Resolver", "MX", "SRV", "lookup_ip", "lookup_addr",
    "lookup_cname", "lookup_mx", "lookup_ns", "lookup_srv", "lookup_txt",
    "ListenConfig", "file_conn", "file_listener", "file_packet_conn",
}  # fmt: skip

# gonet.aio's public names, used in aio() below.
AIO_USED = {"Conn", "Listener", "PacketConn", "dial", "listen", "listen_packet", "DIAL_THREADS"}


def streams() -> None:
    ln: gonet.Listener = gonet.listen("tcp", "127.0.0.1:0")
    with ln:
        address: str = ln.local_addr
        c: gonet.Conn = gonet.dial("tcp", address, timeout=5)
        s: gonet.Conn = ln.accept()
        with c, s:
            for h in (c, s):
                h.set_deadline(10)
                h.set_read_deadline(10.5)
                h.set_write_deadline(None)
            c.set_nodelay(True)
            c.set_keepalive(30)
            assert c.write(b"hello") == 5
            assert c.sendall(bytearray(b"!")) == 1
            got: bytes = s.read(5)
            buf = bytearray(1)
            n: int = s.readinto(buf)
            assert got + bytes(buf[:n]) == b"hello!"
            assert c.remote_addr == s.local_addr and isinstance(c.handle, int) and not c.closed
            fds: List[int] = [c.fileno(), s.fileno(), ln.fileno()]
            assert len(set(fds)) == 3
            with tempfile.TemporaryFile() as f:
                f.write(b"0123456789")
                f.flush()
                assert c.sendfile(f, 2, 3) == 3 and f.tell() == 5
                assert s.recv(3) == b"234"
            # copy: c -> (s) -> s2 through a second pair.
            c2 = gonet.dial("tcp", address)
            s2 = ln.accept()
            with c2, s2:
                c.write(b"copied")
                copied: int = gonet.copy(c2, s, 6)
                assert copied == 6 and s2.recv(6) == b"copied"
            f2 = c.makefile("wb")
            f2.write(b"line\n")
            f2.flush()
            assert s.makefile("rb").readline() == b"line\n"
            c.close_write()
            assert s.read() == b""
            s.close_read()
        try:
            s.set_read_deadline(0)
            raise AssertionError("a closed connection took a deadline")
        except gonet.ClosedError as e:
            assert e.code == gonet.NET_ECLOSED


def datagrams() -> None:
    with gonet.listen_packet("udp", "127.0.0.1:0") as pc:
        c: gonet.PacketConn = gonet.dial("udp", pc.local_addr)
        with c:
            assert c.write(b"ping") == 4 and c.send(b"") == 0
            data, sender = pc.read_from()
            pair: Tuple[int, str] = pc.read_from_into(bytearray(8))
            assert data == b"ping" and pair[0] == 0 and sender == c.local_addr
            assert pc.write_to(b"pong", sender) == 4 and pc.sendto(b"x", sender) == 1
            assert c.read() == b"pong" and c.readinto(bytearray(1)) == 1
            assert c.remote_addr == pc.local_addr and pc.remote_addr == ""
            pc.write_to(b"toolong", c.local_addr)
            try:
                c.read(3)
            except gonet.MessageTooLongError as e:
                part: Optional[bytes] = e.data
                assert part == b"too" and e.code == gonet.NET_EMSGSIZE


def dialing() -> None:
    with gonet.listen("tcp", "127.0.0.1:0") as ln, gonet.Dialer(timeout=5, local_addr="127.0.0.1:0", fallback_delay=0.3, keepalive=15) as d:
        d.set_timeout(None)
        d.set_local_addr(None)
        d.set_fallback_delay(-1)
        d.set_keepalive(None)
        with d.dial("tcp", ln.local_addr), ln.accept():
            pass
        d.cancel()
        try:
            d.dial("tcp", ln.local_addr)
        except gonet.CanceledError as e:
            assert e.code == gonet.NET_ECANCELED
    hosts: List[str] = gonet.lookup_host("127.0.0.1")
    port: int = gonet.lookup_port("tcp", "80")
    host, p = gonet.split_host_port(gonet.join_host_port("::1", 80))
    assert hosts == ["127.0.0.1"] and port == 80 and (host, p) == ("::1", "80")
    links: List[gonet.Interface] = gonet.interfaces()
    lo: gonet.Interface = next(i for i in links if i.name == "lo")
    index: int = lo.index
    flags: str = lo.flags
    assert index > 0 and "loopback" in flags.split("|")
    addrs: List[str] = gonet.interface_addrs("lo") + gonet.interface_addrs()
    assert "127.0.0.1/8" in addrs


def errors() -> None:
    classes = (
        gonet.InvalidArgumentError, gonet.ClosedError, gonet.DeadlineExceededError, gonet.AddressError,
        gonet.NoSuchHostError, gonet.ConnectionRefusedGonetError, gonet.ConnectionResetGonetError,
        gonet.BrokenPipeGonetError, gonet.MessageTooLongError, gonet.CanceledError,
    )  # fmt: skip
    assert all(issubclass(cls, gonet.GonetError) for cls in classes)
    codes = [
        gonet.NET_EINVAL, gonet.NET_ECLOSED, gonet.NET_ETIMEOUT, gonet.NET_EADDR, gonet.NET_ENOHOST,
        gonet.NET_EREFUSED, gonet.NET_ERESET, gonet.NET_EPIPE, gonet.NET_EADDRINUSE, gonet.NET_EUNREACH,
        gonet.NET_EMSGSIZE, gonet.NET_EINTERNAL, gonet.NET_ESYSTEM, gonet.NET_ECANCELED,
        gonet.NET_EAGAIN,
    ]  # fmt: skip
    assert issubclass(gonet.WouldBlockError, BlockingIOError)
    texts: List[str] = [gonet.strerror(code) for code in codes]
    assert all(texts) and gonet.NET_ADDR_MAX >= 64
    try:
        gonet.dial("tcp", "127.0.0.1:1", timeout=5)
    except ConnectionRefusedError as e:
        assert isinstance(e, gonet.GonetError) and e.code == gonet.NET_EREFUSED
    v: str = gonet.version()
    assert v == gonet.__version__


def close_wakes() -> None:
    ln = gonet.listen("tcp", "127.0.0.1:0")
    t = threading.Timer(0.05, ln.close)
    t.start()
    try:
        ln.accept()
    except gonet.ClosedError:
        pass
    t.join()


def servers() -> None:
    def control(network: str, address: str, fd: int) -> None:
        assert network in ("tcp4", "udp4") and fd >= 0

    with gonet.ListenConfig(reuseport=True, backlog=16, keepalive=30, control=control) as lc:
        ln: gonet.Listener = lc.listen("tcp", "127.0.0.1:0")
        with ln, gonet.Dialer(control=control) as d:
            c = d.dial("tcp", ln.local_addr)
            s: gonet.Conn = ln.accept()
            with c, s:
                s.set_linger(None)
                s.set_read_buffer(65536)
                s.set_write_buffer(65536)
                s.set_keepalive_config(idle=20, interval=5, count=3)
                fds: List[int] = []
                s.control(lambda fd: fds.append(fd))
                fd: int = s.file()
                again: gonet.Listener = gonet.file_listener(ln)
                again.close()
                n: int = s.writev([b"a", bytearray(b"b")])
                assert n == 2 and fds
                os.close(fd)
        p: gonet.PacketConn = lc.listen_packet("udp", "127.0.0.1:0")
        with p:
            q = gonet.file_packet_conn(p.file())
            q.close()
            r = gonet.file_conn(p)
            r.close()
        a, b = __import__("socket").socketpair()
        with a, b:
            ga = gonet.file_conn(a)
            gb = gonet.file_conn(b)
            with ga, gb:
                ga.send_fds([b"x"], [])
                data, got, flags, addr = gb.recv_fds(4, 1)
                cred: Tuple[int, int, int] = gb.peer_cred()
                assert data == b"x" and got == [] and flags == 0 and addr is None and cred[0] > 0


async def aio_main() -> None:
    ln: gonet.aio.Listener = await gonet.aio.listen("tcp", "127.0.0.1:0")
    async with ln:
        c: gonet.aio.Conn = await gonet.aio.dial("tcp", ln.local_addr, timeout=5)
        s: gonet.aio.Conn = await ln.accept()
        async with c, s:
            c.set_deadline(10)
            s.set_read_deadline(10.5)
            c.set_write_deadline(None)
            c.set_nodelay(True)
            c.set_keepalive(None)
            fd: int = c.fileno()
            assert fd >= 0 and c.handle > 0 and not c.closed
            n: int = await c.write(b"hello")
            got: bytes = await s.read(5)
            assert (n, got) == (5, b"hello")
            await s.write(bytearray(b"!"))
            buf = bytearray(4)
            k: int = await c.readinto(buf)
            assert buf[:k] == b"!" and c.remote_addr == ln.local_addr and s.remote_addr == c.local_addr
            c.close_write()
            s.close_read()
        later: gonet.aio.Conn = await gonet.aio.dial("tcp", ln.local_addr)
        await later.close()
        async for conn in ln:
            await conn.close()
            break
    pc: gonet.aio.PacketConn = await gonet.aio.listen_packet("udp", "127.0.0.1:0")
    u: gonet.aio.PacketConn = await gonet.aio.dial("udp", pc.local_addr)
    async with pc, u:
        await u.write(b"d")
        data, sender = await pc.read_from()
        sent: int = await pc.write_to(data, sender)
        back: bytes = await u.read()
        assert sent == 1 and back == b"d" and gonet.aio.DIAL_THREADS >= 1


def aio() -> None:
    asyncio.run(aio_main())


def resolving() -> None:
    # Literals and rooted .onion names only (never sent to DNS), and a name
    # server on loopback where nothing listens: no query leaves the machine.
    ips: List[str] = gonet.lookup_ip("127.0.0.1") + gonet.lookup_ip("::1", "ip6")
    assert ips == ["127.0.0.1", "::1"]
    for lookup in (gonet.lookup_ns, gonet.lookup_mx, gonet.lookup_txt, gonet.lookup_cname):
        try:
            lookup("nosuchhost.onion.")
            raise AssertionError("no error")
        except gonet.NoSuchHostError as e:
            assert e.code == gonet.NET_ENOHOST
    try:
        gonet.lookup_srv("", "", "x.onion.")
    except gonet.NoSuchHostError:
        pass
    try:
        gonet.lookup_addr("not-an-address")
    except gonet.AddressError:
        pass
    with gonet.Resolver(servers=["127.0.0.1:9"], timeout=2) as r:
        try:
            r.lookup_ip("www.gonet.test")
            raise AssertionError("no error")
        except gonet.TemporaryDnsError as e:
            assert e.code == gonet.NET_EDNS
        try:
            mx: List[gonet.MX] = r.lookup_mx("x.onion.")
            raise AssertionError("no error: %r" % mx)
        except gonet.NoSuchHostError:
            pass
        assert gonet.MX("mx.test.", 10).pref == 10 and gonet.SRV("t.test.", 80, 1, 2).port == 80
        for f in (r.lookup_addr, r.lookup_ns, r.lookup_cname, r.lookup_txt):
            try:
                f("x.onion.")
            except (gonet.NoSuchHostError, gonet.AddressError):
                pass
        try:
            r.lookup_srv("a", "b", "x.onion.")
        except gonet.NoSuchHostError:
            pass
        with gonet.Dialer(resolver=r) as d:
            d.set_resolver(None)
        r.set_servers("127.0.0.1:9")
        r.set_timeout(None)
        r.cancel()
        try:
            gonet.dial("tcp", "www.gonet.test:80", timeout=1, resolver=r)
        except gonet.CanceledError:
            pass


def main() -> None:
    resolving()
    servers()
    aio()
    streams()
    datagrams()
    dialing()
    errors()
    close_wakes()
    assert os.environ.get("GONET_API_TYPED_SKIP") is None


if __name__ == "__main__":
    main()
