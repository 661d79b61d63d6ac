"""Dialing (dial, Dialer) and the lookups and host:port helpers."""

import ctypes
from typing import Any, Callable, List, Literal, Optional, Tuple, Union, overload

from ._errors import _check, _error
from ._ffi import NET_DEFAULT, NET_FOREVER, _c
from ._handle import Seconds, Text, _Closable, _deadline_ms, _encode, _setting_ms, _text
from ._packet import PacketConn
from ._resolve import Resolver
from ._stream import _PACKET_NETWORKS, Conn


# The raw IP networks, named with a protocol: "ip4:icmp", "ip6:58".
_IP_NETWORKS = frozenset((b"ip", b"ip4", b"ip6"))


def _conn(handle: int, network: bytes) -> Union[Conn, PacketConn]:
    if network in _PACKET_NETWORKS or network.rpartition(b":")[0] in _IP_NETWORKS:
        return PacketConn(handle)
    return Conn(handle)


# Which class dial() returns, for type checkers.
_StreamNetwork = Literal["tcp", "tcp4", "tcp6", "unix"]
_PacketNetwork = Literal["udp", "udp4", "udp6", "unixgram"]


@overload
def dial(network: _StreamNetwork, address: Text, timeout: Seconds = None, resolver: Optional[Resolver] = None) -> Conn: ...
@overload
def dial(network: _PacketNetwork, address: Text, timeout: Seconds = None, resolver: Optional[Resolver] = None) -> PacketConn: ...
@overload
def dial(network: Text, address: Text, timeout: Seconds = None, resolver: Optional[Resolver] = None) -> Union[Conn, PacketConn]: ...


def dial(
    network: Text, address: Text, timeout: Seconds = None, resolver: Optional[Resolver] = None
) -> Union[Conn, PacketConn]:
    """Connects to ``address`` on ``network`` ("tcp", "tcp4", "tcp6",
    "unix") and returns a Conn; on "udp", "udp4", "udp6" or "unixgram" it
    returns a PacketConn connected to that peer (read and write), and so
    on the raw IP networks ("ip4:icmp", "ip6:ipv6-icmp", "ip:1"), whose
    address is a host alone and whose reads leave the IPv4 header out.
    ``timeout`` in seconds bounds the whole dial, across every address
    tried: None waits as long as the system does, zero or less has already
    run out (DeadlineExceededError at once, as a Go dial with a past
    deadline). Raises
    ConnectionRefusedGonetError (a ConnectionRefusedError),
    DeadlineExceededError (a TimeoutError), NoSuchHostError (a
    socket.gaierror), AddressError (a ValueError) for a bad address or
    network; ValueError for a NaN, infinite or absurd timeout. Names are
    looked up through ``resolver``, or the default resolver."""
    if resolver is not None:
        with Dialer(timeout=timeout, resolver=resolver) as d:
            return d.dial(network, address)
    net = _encode(network, "network")
    addr = _encode(address, "address")
    ms = _deadline_ms(timeout, "timeout", "no timeout")
    r: int = _c.net_dial_timeout(net, addr, ms)
    if r < 0:
        raise _error(r)
    return _conn(r, net)


class Dialer(_Closable):
    """Go's ``net.Dialer``: dial settings, and cancel() to stop its dials
    from another thread (as cancelling a Go context does); they raise
    CanceledError. close() also cancels."""

    __slots__ = ("_control",)

    def __init__(
        self,
        timeout: Seconds = None,
        local_addr: Optional[Text] = None,
        fallback_delay: Seconds = None,
        keepalive: Seconds = None,
        resolver: Optional[Resolver] = None,
        control: Optional[Callable[[str, str, int], Any]] = None,
    ) -> None:
        """Each argument, when given, as its setter; the defaults are Go's
        zero Dialer (no timeout, any local address, 300 ms Happy Eyeballs
        delay, 15 s keep-alive)."""
        _Closable.__init__(self, _check(_c.net_dialer_new()))
        if timeout is not None:
            self.set_timeout(timeout)
        if local_addr is not None:
            self.set_local_addr(local_addr)
        if fallback_delay is not None:
            self.set_fallback_delay(fallback_delay)
        if keepalive is not None:
            self.set_keepalive(keepalive)
        self._control: Any = None
        if control is not None:
            self.set_control(control)
        if resolver is not None:
            self.set_resolver(resolver)

    def set_timeout(self, seconds: Seconds) -> None:
        """Bounds each dial, lookup included: None means no timeout, zero
        or less has already passed (every dial raises DeadlineExceededError
        at once). ValueError for NaN, infinity or more than 292 years."""
        _check(_c.net_dialer_set_timeout(self._h, _deadline_ms(seconds, "timeout", "no timeout")))

    def set_resolver(self, resolver: Optional[Resolver]) -> None:
        """Looks names up through ``resolver``; None: the default one."""
        _check(_c.net_dialer_set_resolver(self._h, 0 if resolver is None else resolver.handle))

    def set_local_addr(self, address: Optional[Text]) -> None:
        """Binds dials to a local address ("127.0.0.2:0"); None clears it."""
        _check(_c.net_dialer_set_local_addr(self._h, None if address is None else _encode(address, "address")))

    def set_fallback_delay(self, seconds: Seconds) -> None:
        """Happy Eyeballs delay before the IPv4 attempt starts beside the
        IPv6 one: None the default 300 ms, 0 both at once, negative turns
        the race off (every address in turn)."""
        ms = _setting_ms(seconds, "fallback delay", NET_DEFAULT, "the default")
        _check(_c.net_dialer_set_fallback_delay(self._h, ms))

    def set_keepalive(self, seconds: Seconds) -> None:
        """Keep-alive period of the connections made, rounded up to whole
        seconds (0 becomes 1); None or negative turns keep-alive off. A new
        Dialer has Go's 15 s."""
        ms = _setting_ms(seconds, "keep-alive period", NET_FOREVER, "keep-alive off")
        _check(_c.net_dialer_set_keepalive(self._h, ms))

    def set_keepalive_config(
        self, idle: Seconds = None, interval: Seconds = None, count: Optional[int] = None
    ) -> None:
        """As Conn.set_keepalive_config, for the connections made."""
        from ._sockopts import _keepalive_count, _keepalive_ms

        _check(
            _c.net_dialer_set_keepalive_config(
                self._h, _keepalive_ms(idle, "idle"), _keepalive_ms(interval, "interval"), _keepalive_count(count)
            )
        )

    def set_control(self, fn: Optional[Callable[[str, str, int], Any]]) -> None:
        """Go's ``Dialer.Control``: ``fn(network, address, fd)`` is called
        with each socket a dial makes (once per address tried) before it
        connects; an exception it raises aborts the dial, chained to the
        GonetError raised. None removes it."""
        from ._servers import _control

        holder = _control(fn)
        _check(_c.net_dialer_set_control(self._h, holder.callback if holder else None, None))
        self._control = holder

    @overload
    def dial(self, network: _StreamNetwork, address: Text) -> Conn: ...
    @overload
    def dial(self, network: _PacketNetwork, address: Text) -> PacketConn: ...
    @overload
    def dial(self, network: Text, address: Text) -> Union[Conn, PacketConn]: ...

    def dial(self, network: Text, address: Text) -> Union[Conn, PacketConn]:
        """Dials with the dialer's settings and returns a Conn (a
        PacketConn on "udp", "udp4", "udp6" and "unixgram", as dial()).
        CanceledError once cancel() or close() was called; otherwise the
        errors of dial()."""
        net = _encode(network, "network")
        addr = _encode(address, "address")
        r: int = _c.net_dialer_dial(self._h, net, addr)
        if r < 0:
            raise self._control.fail(r) if self._control else _error(r)
        return _conn(r, net)

    def cancel(self) -> None:
        """Cancels the dials in progress and every later one."""
        _check(_c.net_dialer_cancel(self._h))


def lookup_host(host: Text) -> List[str]:
    """The addresses of ``host`` (Go's ``LookupHost``), as a list of str.
    NoSuchHostError (a socket.gaierror) when it has none."""
    text = _text(_c.net_lookup_host, _encode(host, "host"))
    return text.split("\n") if text else []


def lookup_port(network: Text, service: Text) -> int:
    """The port number of ``service`` ("http" -> 80) on ``network``;
    AddressError (a ValueError) for an unknown service."""
    return _check(_c.net_lookup_port(_encode(network, "network"), _encode(service, "service")))


def split_host_port(hostport: Text) -> Tuple[str, str]:
    """Go's ``SplitHostPort``: ("host", "port") from "host:port" or
    "[v6]:port"; AddressError (a ValueError) when malformed."""
    b = _encode(hostport, "hostport")
    n = len(b) + 1
    host = ctypes.create_string_buffer(n)
    port = ctypes.create_string_buffer(n)
    _check(_c.net_split_host_port(b, host, n, port, n))
    return host.value.decode("utf-8", "replace"), port.value.decode("utf-8", "replace")


def join_host_port(host: Text, port: Union[int, Text]) -> str:
    """Go's ``JoinHostPort``: "host:port", or "[host]:port" for IPv6."""
    if isinstance(port, (bytes, bytearray)):
        port = port.decode("utf-8", "replace")
    return _text(_c.net_join_host_port, _encode(host, "host"), _encode(str(port), "port"))
