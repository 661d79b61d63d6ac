"""Streams: Conn (Go's net.Conn over "tcp" and "unix"), Listener, listen,
and copy and sendfile, which move bytes without passing them through
Python."""

import ctypes
import io
import os
from typing import IO, Any, List, Optional, Union, cast

from ._errors import AddressError, GonetError, _check, _error
from ._ffi import NET_FOREVER, _byref, _c, _c_char_from_buffer, _len, _lens_get, _net_read, _raw_read, _raw_write
from ._sockopts import _ConnOptions, _keepalive_count, _keepalive_ms
from ._handle import _SCRATCH, Seconds, Text, _addr, _bytes_like, _encode, _Handle, _setting_ms, _size, _writable

# Networks listen_packet serves and listen does not.
_PACKET_NETWORKS = frozenset((b"udp", b"udp4", b"udp6", b"unixgram"))


class Conn(_Handle, _ConnOptions):
    """A connection (Go's ``net.Conn``). Safe to use from several threads:
    writes never interleave, and close() wakes blocked readers and writers.

    Failures raise GonetError subclasses: ClosedError after close(),
    DeadlineExceededError (a TimeoutError) past a deadline,
    ConnectionResetGonetError and BrokenPipeGonetError when the peer is
    gone."""

    __slots__ = ("_pool",)

    def __init__(self, handle: int) -> None:
        _Handle.__init__(self, handle)
        # Scratch buffers for read(): (ctypes array, a prepared pointer to
        # it). A list, as pop and append are atomic, so concurrent readers
        # never share one.
        self._pool: List[Any] = []

    def __repr__(self) -> str:
        if self._closed:
            return "<gonet.Conn handle=%d closed>" % self._h
        try:
            return "<gonet.Conn handle=%d %s -> %s>" % (self._h, self.local_addr, self.remote_addr)
        except GonetError:
            return "<gonet.Conn handle=%d>" % self._h

    @property
    def remote_addr(self) -> str:
        """The peer's address, such as ``"127.0.0.1:50312"``."""
        return _addr(_c.net_remote_addr, self._h)

    def read(self, n: int = _SCRATCH) -> bytes:
        """Reads up to ``n`` bytes (at least one, blocking until some arrive);
        ``b""`` at end of stream. TypeError unless ``n`` is an int,
        ValueError if negative."""
        if type(n) is not int:
            n = _size(n, "read()")
        if 0 < n <= _SCRATCH:
            # The hot path: a pooled scratch buffer, one foreign call, one
            # copy out (slicing a c_char array makes the bytes).
            pool = self._pool
            try:
                scratch = pool.pop()
            except IndexError:
                buf = ctypes.create_string_buffer(_SCRATCH)
                scratch = (buf, _byref(buf))
            buf = scratch[0]
            r: int = _raw_read(self._ah, scratch[1], _lens_get(n) or _len(n))
            if r > 0:
                data: bytes = buf[:r]
                pool.append(scratch)
                return data
            pool.append(scratch)
            if r == 0:
                return b""
            raise _error(r)
        if n == 0:
            # Through the library, as Go's Read of an empty buffer: it
            # returns at once, or fails on a closed connection or a past
            # deadline.
            r = _raw_read(self._ah, None, _lens_get(0) or _len(0))
            if r < 0:
                raise _error(r)
            return b""
        if n < 0:
            raise ValueError("negative read size")
        big = ctypes.create_string_buffer(n)
        r = _net_read(self._h, big, n)
        if r < 0:
            raise _error(r)
        return cast(bytes, big[:r])

    recv = read

    def readinto(self, buffer: Any) -> int:
        """Reads into a writable buffer (bytearray, memoryview, array...)
        without copying; returns the number of bytes read, 0 at end of
        stream. TypeError for a read-only or non-buffer argument."""
        n = _writable(buffer, "readinto()")
        r: int
        if n == 0:
            # As read(0): the library still checks close and deadline.
            r = _raw_read(self._ah, None, _lens_get(0) or _len(0))
        else:
            # Exports the buffer (it cannot be resized) while the call runs.
            c = _c_char_from_buffer(buffer)
            r = _raw_read(self._ah, _byref(c), _lens_get(n) or _len(n))
            del c
        if r < 0:
            raise _error(r)
        return r

    recv_into = readinto

    def write(self, data: Any) -> int:
        """Writes all of ``data`` (bytes, bytearray, memoryview or any
        bytes-like object) and returns its length; TypeError for anything
        else, such as a str (encode it first)."""
        if type(data) is bytes:
            n = len(data)
            r: int = _raw_write(self._ah, data, _lens_get(n) or _len(n))
        else:
            with _bytes_like(data, "write()") as mv:
                n = mv.nbytes
                if n == 0:
                    r = _raw_write(self._ah, None, _lens_get(0) or _len(0))
                elif mv.readonly or not mv.c_contiguous:
                    r = _raw_write(self._ah, mv.tobytes(), _lens_get(n) or _len(n))
                else:
                    c = _c_char_from_buffer(mv)
                    r = _raw_write(self._ah, _byref(c), _lens_get(n) or _len(n))
                    del c
        if r < 0:
            raise _error(r)
        return r

    sendall = write

    def close_write(self) -> None:
        """Shuts down the writing side: the peer reads end of stream."""
        _check(_c.net_close_write(self._h))

    def close_read(self) -> None:
        """Shuts down the reading side."""
        _check(_c.net_close_read(self._h))

    def set_nodelay(self, on: bool = True) -> None:
        """Turns Nagle's algorithm off (True, the default) or on (False)."""
        _check(_c.net_set_nodelay(self._h, 1 if on else 0))

    def set_linger(self, seconds: Optional[int]) -> None:
        """Go's ``SetLinger``: what close() does with data not yet sent.
        None (or negative) is the default, sending it in the background; 0
        drops it and resets the connection (the peer's read raises
        ConnectionResetGonetError); a positive number lets close send it
        for up to that many seconds."""
        sec = -1 if seconds is None else _size(seconds, "seconds")
        _check(_c.net_set_linger(self._h, sec))

    def set_keepalive_config(
        self, idle: Seconds = None, interval: Seconds = None, count: Optional[int] = None
    ) -> None:
        """Go 1.23's ``SetKeepAliveConfig``: turns keep-alive on with the
        idle time before the first probe, the interval between probes and
        the number of unanswered probes that drops the connection. None is
        Go's default (15 s, 15 s, 9); a negative value leaves the system's
        setting; times are rounded up to whole seconds."""
        _check(
            _c.net_set_keepalive_config(
                self._h,
                _keepalive_ms(idle, "idle"),
                _keepalive_ms(interval, "interval"),
                _keepalive_count(count),
            )
        )

    def set_keepalive(self, seconds: Seconds) -> None:
        """Turns TCP keep-alive on with ``seconds`` as idle time and probe
        interval, rounded up to whole seconds (0 becomes 1), or off with
        ``None`` or a negative number. ValueError for NaN, infinity or more
        than 292 years."""
        ms = _setting_ms(seconds, "keep-alive period", NET_FOREVER, "keep-alive off")
        _check(_c.net_set_keepalive(self._h, ms))

    def sendfile(self, file: Union[IO[bytes], int], offset: int = 0, count: Optional[int] = None) -> int:
        """Sends the file ``file`` (a binary file object or a descriptor)
        from byte ``offset``, ``count`` bytes or to its end when None, with
        ``sendfile(2)``: the bytes do not pass through Python. Returns the
        number sent, fewer than ``count`` only when the file ends first. As
        ``socket.sendfile``, a file object's position is left after the
        bytes sent. The write deadline applies; close() from another thread
        ends it with ClosedError. TypeError for a text file or other
        objects, ValueError for a negative offset or count."""
        if isinstance(file, bool):
            raise TypeError("sendfile() argument must be a binary file or a descriptor, not 'bool'")
        if isinstance(file, int):
            fd = file
        else:
            if isinstance(file, io.TextIOBase):
                raise TypeError("sendfile() needs a file opened in binary mode")
            try:
                fd = file.fileno()
            except (AttributeError, io.UnsupportedOperation):
                raise TypeError("sendfile() argument must be a binary file or a descriptor, not %r" % type(file).__name__) from None
        offset = _size(offset, "sendfile() offset")
        if offset < 0:
            raise ValueError("sendfile(): negative offset %d" % offset)
        n = -1 if count is None else _size(count, "sendfile() count")
        if n < 0 and count is not None:
            raise ValueError("sendfile(): negative count %d" % n)
        if n == 0:
            return 0
        sent = _check(_c.net_sendfile(self._h, fd, offset, n))
        if not isinstance(file, int):
            file.seek(offset + sent, os.SEEK_SET)
        return sent

    def makefile(self, mode: str = "rb", buffering: int = -1) -> Any:
        """A binary file object over the connection (``"rb"``, ``"wb"`` or
        ``"rwb"``) for ``readline()`` and friends. Closing the file does not
        close the connection. ValueError for a text mode."""
        if set(mode) - set("rwb") or "b" not in mode:
            raise ValueError("makefile: mode must be binary ('rb', 'wb', 'rwb'), got %r" % mode)
        raw = _RawConn(self)
        if buffering == 0:
            return raw
        size = io.DEFAULT_BUFFER_SIZE if buffering < 0 else buffering
        if "r" in mode and "w" in mode:
            return io.BufferedRWPair(raw, raw, size)
        if "w" in mode:
            return io.BufferedWriter(raw, size)
        return io.BufferedReader(raw, size)


class _RawConn(io.RawIOBase):
    def __init__(self, conn: Conn) -> None:
        io.RawIOBase.__init__(self)
        self._conn = conn

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self._conn.readinto(b)

    def write(self, b: Any) -> int:
        return self._conn.write(b)


class Listener(_Handle):
    """A listener (Go's ``net.Listener``). close() from another thread wakes
    a blocked accept(), which raises ClosedError."""

    __slots__ = ()

    def __repr__(self) -> str:
        if self._closed:
            return "<gonet.Listener handle=%d closed>" % self._h
        try:
            return "<gonet.Listener handle=%d %s>" % (self._h, self.local_addr)
        except GonetError:
            return "<gonet.Listener handle=%d>" % self._h

    def accept(self) -> Conn:
        """Waits for and returns the next connection. The read deadline
        bounds the wait (DeadlineExceededError); close() from another
        thread ends it with ClosedError."""
        r: int = _c.net_accept(self._h)
        if r < 0:
            raise _error(r)
        return Conn(r)


def listen(network: Text, address: Text) -> Listener:
    """Listens on ``address`` ("127.0.0.1:8088", ":8088", port 0 for an
    ephemeral port, a path or "@name" for "unix") on a stream network
    ("tcp", "tcp4", "tcp6", "unix"). AddressError (a ValueError) for a bad
    address or network (the datagram networks are listen_packet's), and
    GonetError with errno EADDRINUSE when the address is taken."""
    net = _encode(network, "network")
    r: int = _c.net_listen(net, _encode(address, "address"))
    if r < 0:
        e = _error(r)
        if net in _PACKET_NETWORKS and isinstance(e, AddressError):
            e = AddressError(e.code, "%s (%s is a datagram network: use listen_packet)" % (e.message, net.decode()), e.errno)
        raise e
    return Listener(r)


def copy(dst: Conn, src: Conn, n: Optional[int] = None) -> int:
    """Copies from ``src`` to ``dst`` until end of stream on ``src``, or
    until ``n`` bytes when given, and returns the number copied (Go's
    ``io.Copy``/``io.CopyN``). Between stream sockets the bytes never enter
    user space (splice). ``src``'s read deadline and ``dst``'s write
    deadline apply; closing either from another thread ends the copy with
    ClosedError. After a failure part of the data may have been copied.
    TypeError unless both are connections, ValueError for a negative n."""
    for what, c in (("dst", dst), ("src", src)):
        if not isinstance(c, _Handle):
            raise TypeError("copy() %s must be a gonet connection, not %r" % (what, type(c).__name__))
    limit = -1 if n is None else _size(n, "copy() n")
    if limit < 0 and n is not None:
        raise ValueError("copy(): negative n %d" % limit)
    return _check(_c.net_copy(dst.handle, src.handle, limit))
