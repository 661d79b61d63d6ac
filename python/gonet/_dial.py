"""Dialing (dial, Dialer) and the lookups and host:port helpers."""

import ctypes
import math

from ._errors import _check, _error
from ._ffi import _c
from ._handle import _Closable, _encode, _text
from ._packet import PacketConn
from ._stream import Conn


# Networks on which dial() gives a PacketConn.
_PACKET_NETWORKS = frozenset((b"udp", b"udp4", b"udp6", b"unixgram"))


def _conn(handle, network):
    return PacketConn(handle) if network in _PACKET_NETWORKS else Conn(handle)


def dial(network, address, timeout=None):
    """Connects to ``address`` on ``network`` ("tcp", "tcp4", "tcp6",
    "unix") and returns a Conn; on "udp", "udp4", "udp6" or "unixgram" it
    returns a PacketConn connected to that peer (read and write). ``timeout``
    in seconds bounds the whole dial, across every address tried; None (or
    0) waits as long as the system does."""
    net = _encode(network, "network")
    addr = _encode(address, "address")
    ms = 0 if timeout is None or timeout <= 0 else max(1, int(math.ceil(timeout * 1000.0)))
    r = _c.net_dial_timeout(net, addr, ms)
    if r < 0:
        raise _error(r)
    return _conn(r, net)


class Dialer(_Closable):
    """Go's ``net.Dialer``: dial settings, and cancel() to stop its dials
    from another thread (as cancelling a Go context does); they raise
    CanceledError. close() also cancels."""

    __slots__ = ()

    def __init__(self, timeout=None, local_addr=None, fallback_delay=None, keepalive=None):
        _Closable.__init__(self, _check(_c.net_dialer_new()))
        if timeout is not None:
            self.set_timeout(timeout)
        if local_addr is not None:
            self.set_local_addr(local_addr)
        if fallback_delay is not None:
            self.set_fallback_delay(fallback_delay)
        if keepalive is not None:
            self.set_keepalive(keepalive)

    def set_timeout(self, seconds):
        """Bounds each dial, lookup included; None or 0 means no timeout."""
        ms = 0 if seconds is None or seconds <= 0 else max(1, int(math.ceil(seconds * 1000.0)))
        _check(_c.net_dialer_set_timeout(self._h, ms))

    def set_local_addr(self, address):
        """Binds dials to a local address ("127.0.0.2:0"); None clears it."""
        _check(_c.net_dialer_set_local_addr(self._h, None if address is None else _encode(address, "address")))

    def set_fallback_delay(self, seconds):
        """Happy Eyeballs delay: 0 the default 300 ms, negative turns the
        race off."""
        ms = int(math.ceil(seconds * 1000.0)) if seconds > 0 else (0 if seconds == 0 else -1)
        _check(_c.net_dialer_set_fallback_delay(self._h, ms))

    def set_keepalive(self, seconds):
        """Keep-alive period of the connections made: 0 the default 15 s,
        None or negative turns keep-alive off."""
        if seconds is None or seconds < 0:
            ms = -1
        else:
            ms = int(math.ceil(seconds * 1000.0))
        _check(_c.net_dialer_set_keepalive(self._h, ms))

    def dial(self, network, address):
        """Dials with the dialer's settings and returns a Conn (a
        PacketConn on "udp", "udp4", "udp6" and "unixgram", as dial())."""
        net = _encode(network, "network")
        r = _c.net_dialer_dial(self._h, net, _encode(address, "address"))
        if r < 0:
            raise _error(r)
        return _conn(r, net)

    def cancel(self):
        """Cancels the dials in progress and every later one."""
        _check(_c.net_dialer_cancel(self._h))


def lookup_host(host):
    """The addresses of ``host`` (Go's ``LookupHost``), as a list of str."""
    text = _text(_c.net_lookup_host, _encode(host, "host"))
    return text.split("\n") if text else []


def lookup_port(network, service):
    """The port number of ``service`` ("http" -> 80) on ``network``."""
    return _check(_c.net_lookup_port(_encode(network, "network"), _encode(service, "service")))


def split_host_port(hostport):
    """Go's ``SplitHostPort``: ("host", "port") from "host:port" or
    "[v6]:port"; AddressError (a ValueError) when malformed."""
    b = _encode(hostport, "hostport")
    n = len(b) + 1
    host = ctypes.create_string_buffer(n)
    port = ctypes.create_string_buffer(n)
    _check(_c.net_split_host_port(b, host, n, port, n))
    return host.value.decode("utf-8", "replace"), port.value.decode("utf-8", "replace")


def join_host_port(host, port):
    """Go's ``JoinHostPort``: "host:port", or "[host]:port" for IPv6."""
    return _text(_c.net_join_host_port, _encode(host, "host"), _encode(str(port), "port"))
