"""Datagrams: PacketConn (Go's net.PacketConn, and the connected net.Conn of
"udp" and "unixgram") and listen_packet."""

import ctypes
from typing import Any, List, Optional, Tuple

from ._errors import GonetError, MessageTooLongError, _error
from ._ffi import (
    NET_ADDR_MAX,
    _ADDR_LEN,
    _byref,
    _c,
    _c_char_from_buffer,
    _len,
    _lens_get,
    _raw_read,
    _raw_read_from,
    _raw_write,
    _raw_write_to,
)
from ._sockopts import _ConnOptions
from ._handle import _SCRATCH, Text, _addr, _bytes_like, _encode, _Handle, _size, _writable


def _contents(buffer: Any) -> bytes:
    with memoryview(buffer) as mv:
        return mv.tobytes()


def _send(fn: Any, h: Any, data: Any, what: str, *rest: Any) -> int:
    """fn(h, pointer, length, *rest), an untyped hot-path function, over any
    bytes-like ``data``; an empty one is sent too (an empty datagram)."""
    if type(data) is bytes:
        n = len(data)
        r: int = fn(h, data, _lens_get(n) or _len(n), *rest)
        return r
    with _bytes_like(data, what) as mv:
        n = mv.nbytes
        if n == 0:
            r = fn(h, None, _lens_get(0) or _len(0), *rest)
            return r
        if mv.readonly or not mv.c_contiguous:
            r = fn(h, mv.tobytes(), _lens_get(n) or _len(n), *rest)
            return r
        c = _c_char_from_buffer(mv)
        r = fn(h, _byref(c), _lens_get(n) or _len(n), *rest)
        del c
        return r


def _sender(buf: Any) -> str:
    text: str = buf.value.decode("utf-8", "replace")
    return text


class PacketConn(_Handle, _ConnOptions):
    """A datagram socket: Go's ``net.PacketConn`` from listen_packet(), or
    the connected ``net.Conn`` that dial() returns on "udp", "udp4", "udp6"
    and "unixgram". Every read takes one whole datagram and every write
    sends one, whole or not at all; there is no end of stream, so a read of
    ``b""`` (or 0) is an empty datagram. A datagram longer than the buffer
    is consumed and raises MessageTooLongError with the part that fit.
    Safe to use from several threads; close() wakes blocked calls."""

    __slots__ = ("_pool",)

    def __init__(self, handle: int) -> None:
        _Handle.__init__(self, handle)
        # Scratch buffers: (data array, its address, sender array, its
        # address); popped and pushed back, so concurrent readers never
        # share one.
        self._pool: List[Any] = []

    def __repr__(self) -> str:
        if self._closed:
            return "<gonet.PacketConn handle=%d closed>" % self._h
        try:
            remote = self.remote_addr
            if remote:
                return "<gonet.PacketConn handle=%d %s -> %s>" % (self._h, self.local_addr, remote)
            return "<gonet.PacketConn handle=%d %s>" % (self._h, self.local_addr)
        except GonetError:
            return "<gonet.PacketConn handle=%d>" % self._h

    @property
    def remote_addr(self) -> str:
        """The peer's address of a dialed handle; "" for one from
        listen_packet, which has none."""
        return _addr(_c.net_remote_addr, self._h)

    def _scratch(self) -> Any:
        try:
            return self._pool.pop()
        except IndexError:
            buf = ctypes.create_string_buffer(_SCRATCH)
            sender = ctypes.create_string_buffer(NET_ADDR_MAX)
            return (buf, _byref(buf), sender, _byref(sender))

    def read_from(self, n: int = _SCRATCH) -> Tuple[bytes, str]:
        """Waits for one datagram and returns ``(data, sender)``: its bytes
        and the sender's address ("127.0.0.1:9000", "[::1]:9000", a path,
        "@name"; "" for an unnamed Unix socket). A datagram longer than
        ``n`` raises MessageTooLongError (``n`` 0 takes one datagram: b""
        if it was empty). The default fits any UDP datagram."""
        if type(n) is not int:
            n = _size(n, "read()")
        if n < 0:
            raise ValueError("negative read size")
        if n <= _SCRATCH:
            s = self._scratch()
            buf, bufp, sender, senderp = s
        else:
            buf = ctypes.create_string_buffer(n)
            sender = ctypes.create_string_buffer(NET_ADDR_MAX)
            s, bufp, senderp = None, _byref(buf), _byref(sender)
        r = _raw_read_from(self._ah, bufp, _lens_get(n) or _len(n), senderp, _ADDR_LEN)
        if r >= 0:
            out = (buf[:r], _sender(sender))
            if s is not None:
                self._pool.append(s)
            return out
        e = _error(r)
        if isinstance(e, MessageTooLongError):
            e.data = buf[:n]
            e.addr = _sender(sender)
        if s is not None:
            self._pool.append(s)
        raise e

    recvfrom = read_from

    def read_from_into(self, buffer: Any) -> Tuple[int, str]:
        """Reads one datagram into a writable buffer (bytearray,
        memoryview, array...) without copying, and returns ``(nbytes,
        sender)``. A datagram longer than the buffer fills it and raises
        MessageTooLongError."""
        n = _writable(buffer, "read_from_into()")
        s = self._scratch()
        sender, senderp = s[2], s[3]
        if n == 0:
            r = _raw_read_from(self._ah, None, _lens_get(0) or _len(0), senderp, _ADDR_LEN)
        else:
            # Exports the buffer (it cannot be resized) while the call runs.
            c = _c_char_from_buffer(buffer)
            r = _raw_read_from(self._ah, _byref(c), _lens_get(n) or _len(n), senderp, _ADDR_LEN)
            del c
        if r >= 0:
            out = (r, _sender(sender))
            self._pool.append(s)
            return out
        e = _error(r)
        if isinstance(e, MessageTooLongError):
            e.data = _contents(buffer)
            e.addr = _sender(sender)
        self._pool.append(s)
        raise e

    recvfrom_into = read_from_into

    def read(self, n: int = _SCRATCH) -> bytes:
        """Reads one datagram of up to ``n`` bytes, dropping its sender (a
        dialed handle only hears from its peer). ``b""`` is an empty
        datagram, not an end of stream."""
        if type(n) is not int:
            n = _size(n, "read()")
        if n < 0:
            raise ValueError("negative read size")
        if n <= _SCRATCH:
            s = self._scratch()
            buf, bufp = s[0], s[1]
        else:
            buf = ctypes.create_string_buffer(n)
            s, bufp = None, _byref(buf)
        r: int = _raw_read(self._ah, bufp, _lens_get(n) or _len(n))
        if r >= 0:
            data: bytes = buf[:r]
            if s is not None:
                self._pool.append(s)
            return data
        e = _error(r)
        if isinstance(e, MessageTooLongError):
            e.data = buf[:n]
        if s is not None:
            self._pool.append(s)
        raise e

    recv = read

    def readinto(self, buffer: Any) -> int:
        """Reads one datagram into a writable buffer without copying and
        returns its length (0: an empty datagram)."""
        n = _writable(buffer, "readinto()")
        r: int
        if n == 0:
            r = _raw_read(self._ah, None, _lens_get(0) or _len(0))
        else:
            c = _c_char_from_buffer(buffer)
            r = _raw_read(self._ah, _byref(c), _lens_get(n) or _len(n))
            del c
        if r >= 0:
            return r
        e = _error(r)
        if isinstance(e, MessageTooLongError):
            e.data = _contents(buffer)
        raise e

    recv_into = readinto

    def write(self, data: Any) -> int:
        """Sends ``data`` (any bytes-like object, possibly empty) as one
        datagram to the dialed peer and returns its length. A handle from
        listen_packet has no peer: InvalidArgumentError, use write_to."""
        r = _send(_raw_write, self._ah, data, "write()")
        if r < 0:
            raise _error(r)
        return r

    send = write

    def write_to(self, data: Any, addr: Text) -> int:
        """Sends ``data`` as one datagram to ``addr`` ("127.0.0.1:9000",
        "[::1]:9000", "localhost:9000", a path, "@name") and returns its
        length. A host name is looked up within the write deadline.
        MessageTooLongError when it is too large to send; a dialed handle
        raises InvalidArgumentError (use write)."""
        r = _send(_raw_write_to, self._ah, data, "write_to()", _encode(addr, "address"))
        if r < 0:
            raise _error(r)
        return r

    sendto = write_to



def listen_packet(network: Text, address: Text) -> PacketConn:
    """Go's ``ListenPacket``: a PacketConn bound to ``address`` that sends
    to and receives from anybody (read_from, write_to). "udp", "udp4",
    "udp6": "127.0.0.1:9000", "[::1]:0" (port 0 picks one), ":9000" for
    every address; "unixgram": a path (removed on close), "@name" for a
    Linux abstract name, "" for one Linux chooses. Raw IP ("ip4:icmp",
    "ip6:58"; needs CAP_NET_RAW): a host alone, "" for every address; reads
    leave the IPv4 header out and senders have no port."""
    r = _c.net_listen_packet(_encode(network, "network"), _encode(address, "address"))
    if r < 0:
        raise _error(r)
    return PacketConn(r)
