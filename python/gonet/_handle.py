"""What every handle shares (close, addresses, deadlines) and the argument
conversions (strings, seconds) the wrappers use."""

import ctypes
import errno as _errno
import math

from ._errors import InvalidArgumentError, _check, _error
from ._ffi import NET_ECLOSED, NET_EINVAL, _c, _handle_arg

def _encode(s, what):
    if isinstance(s, str):
        b = s.encode("utf-8")
    elif isinstance(s, (bytes, bytearray)):
        b = bytes(s)
    else:
        raise TypeError("%s must be str, not %s" % (what, type(s).__name__))
    if b"\0" in b:
        # C would see only the part before the NUL.
        raise InvalidArgumentError(NET_EINVAL, "%s %r contains a NUL character" % (what, s), _errno.EINVAL)
    return b


def _millis(seconds):
    """Seconds (float) to the library's timeout_ms: None clears (-1), zero
    or negative is already expired (0), a positive value rounds up so that a
    tiny timeout never becomes an expired one."""
    if seconds is None:
        return -1
    if seconds <= 0:
        return 0
    return int(math.ceil(seconds * 1000.0))


def _text(fn, *args):
    """Calls an snprintf-like fn(*args, buf, len), growing buf as needed."""
    size = 128
    while True:
        buf = ctypes.create_string_buffer(size)
        n = _check(fn(*args, buf, size))
        if n < size:
            return buf.value.decode("utf-8", "replace")
        size = n + 1


def _addr(fn, h):
    return _text(fn, h)


class _Closable:
    """A library handle with close(), a context manager."""

    __slots__ = ("_h", "_ah", "_closed", "__weakref__")

    def __init__(self, handle):
        self._h = handle
        # The handle as a prepared C argument for the untyped hot paths.
        self._ah = _handle_arg(handle)
        self._closed = False

    @property
    def handle(self):
        """The library's int64 handle (for use with the C API)."""
        return self._h

    @property
    def closed(self):
        return self._closed

    def close(self):
        """Closes it; threads blocked on it wake with ClosedError. Closing
        twice is harmless."""
        if self._closed:
            return
        self._closed = True
        r = _c.net_close(self._h)
        if r < 0 and r != NET_ECLOSED:
            raise _error(r)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            if not self._closed:
                self._closed = True
                _c.net_close(self._h)
        except Exception:
            pass


class _Handle(_Closable):
    """What connections and listeners share: addresses and deadlines."""

    __slots__ = ()

    @property
    def local_addr(self):
        """The local address, such as ``"127.0.0.1:8088"``."""
        return _addr(_c.net_local_addr, self._h)

    def set_deadline(self, seconds):
        """Sets the deadline to now + ``seconds`` (``None`` clears it; 0 or
        less has already passed). Blocked and later calls past it raise
        DeadlineExceededError (a TimeoutError)."""
        _check(_c.net_set_deadline(self._h, _millis(seconds)))

    def set_read_deadline(self, seconds):
        """As set_deadline, for reads (and accepts) only."""
        _check(_c.net_set_read_deadline(self._h, _millis(seconds)))

    def set_write_deadline(self, seconds):
        """As set_deadline, for writes only."""
        _check(_c.net_set_write_deadline(self._h, _millis(seconds)))


_SCRATCH = 65536
