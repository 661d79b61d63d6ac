"""Go's ListenConfig, control functions for listens and dials, and
sockets made elsewhere adopted as handles (FileConn, FileListener,
FilePacketConn)."""

import socket
from typing import Any, Callable, List, Optional, Union

from ._errors import _check, _error
from ._ffi import CONTROL_FN, NET_DEFAULT, NET_ESYSTEM, _c
from ._handle import Seconds, Text, _Closable, _encode, _setting_ms, _size
from ._packet import PacketConn
from ._sockopts import _keepalive_count, _keepalive_ms
from ._stream import Conn, Listener

# A control function: fn(network, address, fd), called with each new
# socket before it is bound or connected. Raising, or returning a negative
# NET_E* code, aborts the listen or dial.
Control = Callable[[str, str, int], Any]


class _ControlHolder:
    """Keeps a control function's C callback alive as long as its owner,
    and the exception it raised last, to chain to the failure."""

    def __init__(self, fn: Control) -> None:
        self.raised: List[BaseException] = []

        def call(network: bytes, address: bytes, fd: int, _arg: Any) -> int:
            try:
                r = fn(network.decode("utf-8", "replace"), address.decode("utf-8", "replace"), fd)
            except BaseException as e:  # reported by the listen or dial
                self.raised.append(e)
                return NET_ESYSTEM
            return r if isinstance(r, int) and r < 0 else 0

        self.callback = CONTROL_FN(call)

    def fail(self, code: int) -> BaseException:
        err = _error(code)
        if self.raised:
            err.__cause__ = self.raised.pop()
        return err


def _control(fn: Optional[Control]) -> Optional[_ControlHolder]:
    if fn is not None and not callable(fn):
        raise TypeError("control must be callable, not %r" % type(fn).__name__)
    return None if fn is None else _ControlHolder(fn)


class ListenConfig(_Closable):
    """Go's ``net.ListenConfig``: options for the sockets its listen() and
    listen_packet() make. ``reuseport`` lets several sockets, in several
    processes, listen on one port; ``backlog`` is the accept queue (None:
    Go's, net.core.somaxconn); ``keepalive`` the period of accepted
    connections (None: 15 s; negative: off); ``control`` a function
    ``fn(network, address, fd)`` called with each new socket before bind,
    whose exception aborts the listen."""

    __slots__ = ("_control",)

    def __init__(
        self,
        reuseport: bool = False,
        backlog: Optional[int] = None,
        keepalive: Seconds = None,
        control: Optional[Control] = None,
    ) -> None:
        _Closable.__init__(self, _check(_c.net_listen_config_new()))
        self._control: Optional[_ControlHolder] = None
        if reuseport:
            self.set_reuseport(True)
        if backlog is not None:
            self.set_backlog(backlog)
        if keepalive is not None:
            self.set_keepalive(keepalive)
        if control is not None:
            self.set_control(control)

    def set_reuseport(self, on: bool = True) -> None:
        _check(_c.net_listen_config_set_reuseport(self._h, 1 if on else 0))

    def set_backlog(self, n: Optional[int]) -> None:
        _check(_c.net_listen_config_set_backlog(self._h, 0 if n is None else _size(n, "backlog")))

    def set_keepalive(self, seconds: Seconds) -> None:
        ms = _setting_ms(seconds, "keep-alive period", NET_DEFAULT, "the default")
        _check(_c.net_listen_config_set_keepalive(self._h, ms))

    def set_keepalive_config(
        self, idle: Seconds = None, interval: Seconds = None, count: Optional[int] = None
    ) -> None:
        """As Conn.set_keepalive_config, for accepted connections."""
        _check(
            _c.net_listen_config_set_keepalive_config(
                self._h, _keepalive_ms(idle, "idle"), _keepalive_ms(interval, "interval"), _keepalive_count(count)
            )
        )

    def set_control(self, fn: Optional[Control]) -> None:
        holder = _control(fn)
        _check(_c.net_listen_config_set_control(self._h, holder.callback if holder else None, None))
        self._control = holder

    def _fail(self, code: int) -> BaseException:
        return self._control.fail(code) if self._control else _error(code)

    def listen(self, network: Text, address: Text) -> Listener:
        r: int = _c.net_listen_config_listen(self._h, _encode(network, "network"), _encode(address, "address"))
        if r < 0:
            raise self._fail(r)
        return Listener(r)

    def listen_packet(self, network: Text, address: Text) -> PacketConn:
        r: int = _c.net_listen_config_listen_packet(self._h, _encode(network, "network"), _encode(address, "address"))
        if r < 0:
            raise self._fail(r)
        return PacketConn(r)


def _fd(fd: Any) -> int:
    if hasattr(fd, "fileno"):
        return int(fd.fileno())
    return _size(fd, "fd")


def file_conn(fd: Any) -> Union[Conn, PacketConn]:
    """Go's ``FileConn``: a Conn for the connected stream socket ``fd`` (a
    descriptor or an object with fileno()), a PacketConn for a datagram
    socket. The descriptor is duplicated: the caller keeps and closes its
    own."""
    n = _fd(fd)
    r: int = _c.net_file_conn(n)
    if r < 0:
        raise _error(r)
    s = socket.socket(fileno=n)
    try:
        kind = s.type
    finally:
        s.detach()
    return PacketConn(r) if kind == socket.SOCK_DGRAM else Conn(r)


def file_listener(fd: Any) -> Listener:
    """Go's ``FileListener``: a Listener for the listening socket ``fd``
    (systemd's socket activation passes one as descriptor 3), duplicated."""
    return Listener(_check(_c.net_file_listener(_fd(fd))))


def file_packet_conn(fd: Any) -> PacketConn:
    """Go's ``FilePacketConn``: a PacketConn for the datagram socket
    ``fd``, duplicated."""
    return PacketConn(_check(_c.net_file_packet_conn(_fd(fd))))


