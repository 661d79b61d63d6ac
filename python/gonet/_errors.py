"""The exceptions: one GonetError subclass per NET_E* code, each also the
built-in exception Python code already catches."""

import errno as _errno
import socket as _socket
from typing import Any, Dict, Optional, Tuple, Type

from ._ffi import NET_EAGAIN, NET_ECANCELED, NET_ECLOSED, NET_EADDR, NET_EDNS, NET_EINVAL, NET_EMSGSIZE
from ._ffi import NET_ENOHOST
from ._ffi import NET_EPIPE, NET_EREFUSED, NET_ERESET, NET_ETIMEOUT, NET_EADDRINUSE, NET_EUNREACH
from ._ffi import _c, _net_last_error

class GonetError(OSError):
    """A gonet failure: ``.code`` is the negative NET_E* code, ``str()`` and
    ``.strerror`` give Go's message, ``.errno`` the matching errno or None."""

    code: int
    message: str

    def __init__(self, code: int, message: Optional[str] = None, errno: Optional[int] = None) -> None:
        if message is None:
            message = strerror(code)
        OSError.__init__(self, message)
        self.code = code
        self.message = message
        self.strerror = message
        self.errno = errno

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Tuple[Any, ...]:
        return (self.__class__, (self.code, self.message, self.errno))


class InvalidArgumentError(GonetError, ValueError):
    """NET_EINVAL: an invalid argument, such as reading from a listener."""


class ClosedError(GonetError):
    """NET_ECLOSED: use of a closed connection or listener."""


class DeadlineExceededError(GonetError, TimeoutError):
    """NET_ETIMEOUT: a deadline passed or a dial timed out (i/o timeout)."""


class AddressError(GonetError, ValueError):
    """NET_EADDR: a bad address (missing port...) or an unknown network."""


class NoSuchHostError(GonetError, _socket.gaierror):
    """NET_ENOHOST: the host name could not be resolved."""


class TemporaryDnsError(GonetError):
    """NET_EDNS: a lookup failed in a way that may pass if tried again
    (server failure or refusal, a bad reply, no server answered): Go's
    ``DNSError.IsTemporary``. Never raised for a name that does not exist,
    which is NoSuchHostError."""


class ConnectionRefusedGonetError(GonetError, ConnectionRefusedError):
    """NET_EREFUSED: connection refused."""


class ConnectionResetGonetError(GonetError, ConnectionResetError):
    """NET_ERESET: connection reset by peer."""


class BrokenPipeGonetError(GonetError, BrokenPipeError):
    """NET_EPIPE: broken pipe, the peer is gone."""


class CanceledError(GonetError):
    """NET_ECANCELED: the dial or lookup was canceled (Dialer.cancel,
    Resolver.cancel)."""


class WouldBlockError(GonetError, BlockingIOError):
    """NET_EAGAIN: a non-blocking call (``net_try_*``, what gonet.aio uses
    inside) found nothing to do now. gonet.aio waits and retries instead
    of raising it; it reaches callers of the C functions only."""


class MessageTooLongError(GonetError):
    """NET_EMSGSIZE: a datagram too large to send, or longer than the buffer
    it was read into. A read that fails so has consumed the datagram:
    ``.data`` holds the bytes that fit and ``.addr`` the sender ("" for an
    unnamed Unix socket; None from ``read``/``readinto``, which do not
    report senders, and for a failed write). The message gives the
    datagram's real length."""

    data: Optional[bytes]
    addr: Optional[str]

    def __init__(
        self,
        code: int = NET_EMSGSIZE,
        message: Optional[str] = None,
        errno: Optional[int] = _errno.EMSGSIZE,
        data: Optional[bytes] = None,
        addr: Optional[str] = None,
    ) -> None:
        GonetError.__init__(self, code, message, errno)
        self.data = data
        self.addr = addr

    def __reduce__(self) -> Tuple[Any, ...]:
        return (self.__class__, (self.code, self.message, self.errno, self.data, self.addr))


# code -> (exception class, errno or None)
_ERRORS: Dict[int, Tuple[Type[GonetError], Optional[int]]] = {
    NET_EINVAL: (InvalidArgumentError, _errno.EINVAL),
    NET_ECLOSED: (ClosedError, _errno.EBADF),
    NET_ETIMEOUT: (DeadlineExceededError, _errno.ETIMEDOUT),
    NET_EADDR: (AddressError, None),
    NET_ENOHOST: (NoSuchHostError, getattr(_socket, "EAI_NONAME", None)),
    NET_EREFUSED: (ConnectionRefusedGonetError, _errno.ECONNREFUSED),
    NET_ERESET: (ConnectionResetGonetError, _errno.ECONNRESET),
    NET_EPIPE: (BrokenPipeGonetError, _errno.EPIPE),
    NET_EADDRINUSE: (GonetError, _errno.EADDRINUSE),
    NET_EUNREACH: (GonetError, _errno.ENETUNREACH),
    NET_EMSGSIZE: (MessageTooLongError, _errno.EMSGSIZE),
    NET_ECANCELED: (CanceledError, _errno.ECANCELED),
    NET_EAGAIN: (WouldBlockError, _errno.EAGAIN),
    NET_EDNS: (TemporaryDnsError, getattr(_socket, "EAI_AGAIN", None)),
}


def _error(code: int) -> GonetError:
    """The exception for a failed call's ``code``; call right after the
    failure, on the same thread, so that net_last_error() is its message."""
    raw: Optional[bytes] = _net_last_error()
    message = raw.decode("utf-8", "replace") if raw else strerror(code)
    cls, err = _ERRORS.get(code, (GonetError, None))
    if code == NET_EUNREACH and "host" in message:
        err = _errno.EHOSTUNREACH
    return cls(code, message, err)


def _check(r: int) -> int:
    if r < 0:
        raise _error(r)
    return r


def version() -> str:
    """The library's version, such as ``"0.1.0"``."""
    v: bytes = _c.net_version()
    return v.decode()


def strerror(code: int) -> str:
    """A short description of a NET_E* code."""
    s: Optional[bytes] = _c.net_strerror(code)
    return s.decode("utf-8", "replace") if s else ""
