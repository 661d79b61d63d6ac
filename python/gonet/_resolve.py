"""Go's ``net.Resolver``: a resolver handle and the lookups of every
record type, through it or the default resolver."""

from typing import List, NamedTuple, Optional, Sequence, Union

from ._errors import _check
from ._ffi import _c
from ._handle import Seconds, Text, _Closable, _deadline_ms, _encode, _text


class MX(NamedTuple):
    """An MX record: the mail host (with its trailing dot) and its
    preference."""

    host: str
    pref: int


class SRV(NamedTuple):
    """An SRV record: the target (with its trailing dot), port, priority
    and weight."""

    target: str
    port: int
    priority: int
    weight: int


def _lines(text: str) -> List[str]:
    return text.split("\n") if text else []


def _unescape_txt(line: str) -> bytes:
    """A TXT line back to its bytes: ``\\DDD`` is the byte DDD."""
    raw = line.encode("ascii", "replace")
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x5C and i + 4 <= len(raw) and raw[i + 1 : i + 4].isdigit():
            out.append(int(raw[i + 1 : i + 4]))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


class Resolver(_Closable):
    """Go's ``net.Resolver``. ``servers`` ("127.0.0.1:53,[::1]:53" or a
    list of "ip:port") replace resolv.conf's name servers; ``timeout`` in
    seconds bounds each lookup as a whole (DeadlineExceededError); cancel()
    fails the lookups in flight and every later one (CanceledError), and so
    does close(). Lookups raise NoSuchHostError when the name does not
    exist and TemporaryDnsError when trying again may help."""

    __slots__ = ()

    def __init__(self, servers: Union[None, Text, Sequence[str]] = None, timeout: Seconds = None) -> None:
        _Closable.__init__(self, _check(_c.net_resolver_new()))
        if servers is not None:
            self.set_servers(servers)
        if timeout is not None:
            self.set_timeout(timeout)

    def set_servers(self, servers: Union[None, Text, Sequence[str]]) -> None:
        """Name servers ("ip:port") instead of resolv.conf's; None or ""
        goes back to resolv.conf's. AddressError for an entry that is not
        an IP address with a port."""
        if servers is None:
            arg: Optional[bytes] = None
        elif isinstance(servers, (str, bytes, bytearray)):
            arg = _encode(servers, "servers")
        else:
            arg = _encode(",".join(servers), "servers")
        _check(_c.net_resolver_set_servers(self._h, arg))

    def set_timeout(self, seconds: Seconds) -> None:
        """Bounds each lookup as a whole: None means no bound of its own,
        zero or less has already run out (a lookup that asks a name server
        raises DeadlineExceededError at once)."""
        _check(_c.net_resolver_set_timeout(self._h, _deadline_ms(seconds, "timeout", "no timeout")))

    def cancel(self) -> None:
        """Cancels the lookups in progress and every later one."""
        _check(_c.net_resolver_cancel(self._h))

    def lookup_ip(self, host: Text, network: Text = "ip") -> List[str]:
        """The addresses of ``host`` on ``network`` ("ip", "ip4", "ip6"),
        in Go's order (RFC 6724)."""
        return _lines(_text(_c.net_lookup_ip, self._h, _encode(network, "network"), _encode(host, "host")))

    def lookup_addr(self, addr: Text) -> List[str]:
        """The names of an address (PTR records, or the hosts file), each
        with its trailing dot."""
        return _lines(_text(_c.net_lookup_addr, self._h, _encode(addr, "addr")))

    def lookup_cname(self, host: Text) -> str:
        """The canonical name of ``host``, with its trailing dot."""
        return _text(_c.net_lookup_cname, self._h, _encode(host, "host"))

    def lookup_mx(self, name: Text) -> List[MX]:
        """The MX records of ``name``, by preference."""
        out = []
        for line in _lines(_text(_c.net_lookup_mx, self._h, _encode(name, "name"))):
            pref, host = line.split(" ", 1)
            out.append(MX(host, int(pref)))
        return out

    def lookup_ns(self, name: Text) -> List[str]:
        """The name servers of ``name``."""
        return _lines(_text(_c.net_lookup_ns, self._h, _encode(name, "name")))

    def lookup_srv(self, service: Text, proto: Text, name: Text) -> List[SRV]:
        """The SRV records of ``_service._proto.name`` (of ``name`` as
        given when ``service`` and ``proto`` are ""), by priority and, within
        one, shuffled by weight (RFC 2782)."""
        args = (_encode(service, "service"), _encode(proto, "proto"), _encode(name, "name"))
        out = []
        for line in _lines(_text(_c.net_lookup_srv, self._h, *args)):
            priority, weight, port, target = line.split(" ", 3)
            out.append(SRV(target, int(port), int(priority), int(weight)))
        return out

    def lookup_txt(self, name: Text) -> List[bytes]:
        """The TXT records of ``name``, each its strings joined (as Go)."""
        return [_unescape_txt(line) for line in _lines(_text(_c.net_lookup_txt, self._h, _encode(name, "name")))]


class _DefaultResolver(Resolver):
    """Go's ``net.DefaultResolver``: handle 0, never closed."""

    __slots__ = ()

    def __init__(self) -> None:
        _Closable.__init__(self, 0)

    def close(self) -> None:
        pass


_DEFAULT = _DefaultResolver()


def lookup_ip(host: Text, network: Text = "ip") -> List[str]:
    """Resolver.lookup_ip through the default resolver."""
    return _DEFAULT.lookup_ip(host, network)


def lookup_addr(addr: Text) -> List[str]:
    """Resolver.lookup_addr through the default resolver."""
    return _DEFAULT.lookup_addr(addr)


def lookup_cname(host: Text) -> str:
    """Resolver.lookup_cname through the default resolver."""
    return _DEFAULT.lookup_cname(host)


def lookup_mx(name: Text) -> List[MX]:
    """Resolver.lookup_mx through the default resolver."""
    return _DEFAULT.lookup_mx(name)


def lookup_ns(name: Text) -> List[str]:
    """Resolver.lookup_ns through the default resolver."""
    return _DEFAULT.lookup_ns(name)


def lookup_srv(service: Text, proto: Text, name: Text) -> List[SRV]:
    """Resolver.lookup_srv through the default resolver."""
    return _DEFAULT.lookup_srv(service, proto, name)


def lookup_txt(name: Text) -> List[bytes]:
    """Resolver.lookup_txt through the default resolver."""
    return _DEFAULT.lookup_txt(name)
