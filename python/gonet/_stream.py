"""Streams: Conn (Go's net.Conn over "tcp" and "unix") and Listener."""

import ctypes
import io
import math

from ._errors import GonetError, _check, _error
from ._ffi import _byref, _c, _c_char_from_buffer, _len, _lens_get, _net_read, _raw_read, _raw_write
from ._handle import _SCRATCH, _addr, _encode, _Handle


class Conn(_Handle):
    """A connection (Go's ``net.Conn``). Safe to use from several threads:
    writes never interleave, and close() wakes blocked readers and writers."""

    __slots__ = ("_pool",)

    def __init__(self, handle):
        _Handle.__init__(self, handle)
        # Scratch buffers for read(): (ctypes array, a prepared pointer to
        # it). A list, as pop and append are atomic, so concurrent readers
        # never share one.
        self._pool = []

    def __repr__(self):
        if self._closed:
            return "<gonet.Conn handle=%d closed>" % self._h
        try:
            return "<gonet.Conn handle=%d %s -> %s>" % (self._h, self.local_addr, self.remote_addr)
        except GonetError:
            return "<gonet.Conn handle=%d>" % self._h

    @property
    def remote_addr(self):
        """The peer's address, such as ``"127.0.0.1:50312"``."""
        return _addr(_c.net_remote_addr, self._h)

    def read(self, n=_SCRATCH):
        """Reads up to ``n`` bytes (at least one, blocking until some arrive);
        ``b""`` at end of stream."""
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
            r = _raw_read(self._ah, scratch[1], _lens_get(n) or _len(n))
            if r > 0:
                data = buf[:r]
                pool.append(scratch)
                return data
            pool.append(scratch)
            if r == 0:
                return b""
            raise _error(r)
        if n == 0:
            return b""
        if n < 0:
            raise ValueError("negative read size")
        buf = ctypes.create_string_buffer(n)
        r = _net_read(self._h, buf, n)
        if r < 0:
            raise _error(r)
        return buf[:r]

    recv = read

    def readinto(self, buffer):
        """Reads into a writable buffer (bytearray, memoryview, array...)
        without copying; returns the number of bytes read, 0 at end of
        stream."""
        if type(buffer) is bytearray:
            n = len(buffer)
        else:
            with memoryview(buffer) as mv:
                n = mv.nbytes
        if n == 0:
            return 0
        # Exports the buffer (it cannot be resized) while the call runs.
        c = _c_char_from_buffer(buffer)
        r = _raw_read(self._ah, _byref(c), _lens_get(n) or _len(n))
        del c
        if r < 0:
            raise _error(r)
        return r

    recv_into = readinto

    def write(self, data):
        """Writes all of ``data`` (bytes, bytearray, memoryview or any
        bytes-like object) and returns its length."""
        if type(data) is bytes:
            n = len(data)
            r = _raw_write(self._ah, data, _lens_get(n) or _len(n))
        else:
            with memoryview(data) as mv:
                n = mv.nbytes
                if n == 0:
                    return 0
                if mv.readonly or not mv.c_contiguous:
                    r = _raw_write(self._ah, mv.tobytes(), _lens_get(n) or _len(n))
                else:
                    c = _c_char_from_buffer(mv)
                    r = _raw_write(self._ah, _byref(c), _lens_get(n) or _len(n))
                    del c
        if r < 0:
            raise _error(r)
        return r

    sendall = write

    def close_write(self):
        """Shuts down the writing side: the peer reads end of stream."""
        _check(_c.net_close_write(self._h))

    def close_read(self):
        """Shuts down the reading side."""
        _check(_c.net_close_read(self._h))

    def set_nodelay(self, on=True):
        """Turns Nagle's algorithm off (True, the default) or on (False)."""
        _check(_c.net_set_nodelay(self._h, 1 if on else 0))

    def set_keepalive(self, seconds):
        """Turns TCP keep-alive on with ``seconds`` as idle time and probe
        interval, or off with ``None`` (or 0)."""
        ms = 0 if seconds is None or seconds <= 0 else max(1, int(math.ceil(seconds * 1000.0)))
        _check(_c.net_set_keepalive(self._h, ms))

    def makefile(self, mode="rb", buffering=-1):
        """A binary file object over the connection (``"rb"``, ``"wb"`` or
        ``"rwb"``) for ``readline()`` and friends. Closing the file does not
        close the connection."""
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
    def __init__(self, conn):
        io.RawIOBase.__init__(self)
        self._conn = conn

    def readable(self):
        return True

    def writable(self):
        return True

    def readinto(self, b):
        return self._conn.readinto(b)

    def write(self, b):
        return self._conn.write(b)


class Listener(_Handle):
    """A listener (Go's ``net.Listener``). close() from another thread wakes
    a blocked accept(), which raises ClosedError."""

    __slots__ = ()

    def __repr__(self):
        if self._closed:
            return "<gonet.Listener handle=%d closed>" % self._h
        try:
            return "<gonet.Listener handle=%d %s>" % (self._h, self.local_addr)
        except GonetError:
            return "<gonet.Listener handle=%d>" % self._h

    def accept(self):
        """Waits for and returns the next connection."""
        r = _c.net_accept(self._h)
        if r < 0:
            raise _error(r)
        return Conn(r)


def listen(network, address):
    """Listens on ``address`` ("127.0.0.1:8088", ":8088", port 0 for an
    ephemeral port, a path or "@name" for "unix")."""
    r = _c.net_listen(_encode(network, "network"), _encode(address, "address"))
    if r < 0:
        raise _error(r)
    return Listener(r)
