"""What every handle shares (close, addresses, deadlines) and the argument
conversions (strings, seconds, sizes, buffers) the wrappers use, with the
errors a Python caller expects for arguments of the wrong kind."""

import ctypes
import errno as _errno
import math
import operator
from types import TracebackType
from typing import Any, Callable, List, Optional, Type, TypeVar, Union

from ._errors import InvalidArgumentError, _check, _error
from ._ffi import FD_FN, NET_ECLOSED, NET_EINVAL, NET_FOREVER, _c, _handle_arg

# What the wrappers accept as a string argument, and as data to send.
Text = Union[str, bytes, bytearray]

# A duration in seconds (int or float); None where it means "none".
Seconds = Optional[float]

# The longest duration the library can represent: its clock counts
# nanoseconds in an int64 (about 292 years).
_MAX_SECONDS = (2**63 - 1) // 1_000_000_000

_T = TypeVar("_T", bound="_Closable")


def _encode(s: Any, what: str) -> bytes:
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


def _seconds(value: Any, what: str, none_means: str) -> Optional[float]:
    """Checks a duration argument: None, or a finite number of seconds
    within the library's range. ``what`` names the argument and
    ``none_means`` what None gives, for the messages."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)  # Decimal, Fraction, numpy scalars
        except (TypeError, ValueError):
            raise TypeError(
                "%s must be a number of seconds or None, not %r" % (what, type(value).__name__)
            ) from None
    seconds = float(value)
    if math.isnan(seconds):
        raise ValueError("%s is NaN: give a number of seconds, or None for %s" % (what, none_means))
    if math.isinf(seconds):
        raise ValueError("%s is infinite: use None for %s" % (what, none_means))
    if abs(seconds) > _MAX_SECONDS:
        raise ValueError(
            "%s of %g seconds is out of range (at most %d, about 292 years); use None for %s"
            % (what, seconds, _MAX_SECONDS, none_means)
        )
    return seconds


def _ms(seconds: float) -> int:
    """Positive seconds to milliseconds, rounded up so that a tiny duration
    never becomes none or an expired one."""
    return max(1, int(math.ceil(seconds * 1000.0)))


def _deadline_ms(value: Any, what: str = "deadline", none_means: str = "no deadline") -> int:
    """A deadline or timeout in seconds from now to the library's *_ms:
    None is NET_FOREVER (none), zero or negative has already passed (0)."""
    seconds = _seconds(value, what, none_means)
    if seconds is None:
        return NET_FOREVER
    if seconds <= 0:
        return 0
    return _ms(seconds)


def _setting_ms(value: Any, what: str, none: int, none_means: str) -> int:
    """A period or delay in seconds to the library's *_ms: None is
    ``none`` (NET_DEFAULT or NET_FOREVER, as the setting documents), a
    negative number NET_FOREVER, zero no time at all, as in C."""
    seconds = _seconds(value, what, none_means)
    if seconds is None:
        return none
    if seconds < 0:
        return NET_FOREVER
    if seconds == 0:
        return 0
    return _ms(seconds)


def _size(n: Any, what: str) -> int:
    """A byte count argument: an int (or an object with __index__)."""
    try:
        return operator.index(n)
    except TypeError:
        raise TypeError("%s argument must be an int, not %r" % (what, type(n).__name__)) from None


def _bytes_like(data: Any, what: str) -> memoryview:
    """A memoryview of ``data``, or the TypeError socket's methods give."""
    try:
        return memoryview(data)
    except TypeError:
        raise TypeError("%s argument must be a bytes-like object, not %r" % (what, type(data).__name__)) from None


def _writable(buffer: Any, what: str) -> int:
    """The size in bytes of a writable buffer, or a TypeError that says
    what was expected."""
    if type(buffer) is bytearray:
        return len(buffer)
    mv = _bytes_like(buffer, what)
    with mv:
        if mv.readonly:
            raise TypeError("%s argument must be a writable bytes-like object, not %r" % (what, type(buffer).__name__))
        if not mv.c_contiguous:
            raise ValueError("%s argument must be a contiguous buffer" % what)
        return mv.nbytes


def _text(fn: Callable[..., int], *args: Any) -> str:
    """Calls an snprintf-like fn(*args, buf, len), growing buf as needed."""
    size = 128
    while True:
        buf = ctypes.create_string_buffer(size)
        n = _check(fn(*args, buf, size))
        if n < size:
            return buf.value.decode("utf-8", "replace")
        size = n + 1


def _addr(fn: Callable[..., int], h: int) -> str:
    return _text(fn, h)


class _Closable:
    """A library handle with close(), a context manager."""

    __slots__ = ("_h", "_ah", "_closed", "__weakref__")

    def __init__(self, handle: int) -> None:
        self._h = handle
        # The handle as a prepared C argument for the untyped hot paths.
        self._ah: Any = _handle_arg(handle)
        self._closed = False

    @property
    def handle(self) -> int:
        """The library's int64 handle (for use with the C API)."""
        return self._h

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed

    def close(self) -> None:
        """Closes it; threads blocked on it wake with ClosedError. Closing
        twice is harmless."""
        if self._closed:
            return
        self._closed = True
        r: int = _c.net_close(self._h)
        if r < 0 and r != NET_ECLOSED:
            raise _error(r)

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __del__(self) -> None:
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
    def local_addr(self) -> str:
        """The local address, such as ``"127.0.0.1:8088"``. ClosedError
        once closed."""
        return _addr(_c.net_local_addr, self._h)

    def fileno(self) -> int:
        """The socket's descriptor, so that ``selectors``, ``select`` and
        event loops can wait until it is ready: a read or accept then finds
        data or a connection waiting (write still sends all it is given).
        The descriptor stays gonet's: do not close it or read, write or
        change it directly, and stop watching it before close(), after
        which its number may be reused. ClosedError once closed."""
        return _check(_c.net_fd(self._h))

    def control(self, fn: Callable[[int], Any]) -> None:
        """Go's ``RawConn.Control``: calls ``fn(fd)`` with the socket's
        descriptor, which stays open and is not reused until ``fn``
        returns (a close() from another thread waits for it), so socket
        options can be read and set on it without a race. ``fn`` must not
        close the descriptor. An exception ``fn`` raises is raised here."""
        raised: List[BaseException] = []

        def call(fd: int, _arg: Any) -> None:
            try:
                fn(fd)
            except BaseException as e:  # re-raised below, outside C
                raised.append(e)

        cb = FD_FN(call)
        _check(_c.net_control(self._h, cb, None))
        if raised:
            raise raised[0]

    def file(self) -> int:
        """Go's ``File``: a new descriptor for the socket, close-on-exec,
        which the caller owns and must close (``os.close``); the handle
        stays open and independent of it."""
        return _check(_c.net_file(self._h))

    def set_deadline(self, seconds: Seconds) -> None:
        """Sets the read and write deadlines to now + ``seconds``: ``None``
        clears them, 0 or less has already passed. Blocked and later calls
        past it raise DeadlineExceededError (a TimeoutError) until it is
        moved. ValueError for NaN, infinity or more than 292 years;
        ClosedError once closed."""
        _check(_c.net_set_deadline(self._h, _deadline_ms(seconds)))

    def set_read_deadline(self, seconds: Seconds) -> None:
        """As set_deadline, for reads (and accepts) only."""
        _check(_c.net_set_read_deadline(self._h, _deadline_ms(seconds)))

    def set_write_deadline(self, seconds: Seconds) -> None:
        """As set_deadline, for writes only."""
        _check(_c.net_set_write_deadline(self._h, _deadline_ms(seconds)))


_SCRATCH = 65536
