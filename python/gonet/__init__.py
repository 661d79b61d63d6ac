"""gonet: Go's ``net`` package semantics for Python, over the gonet C ABI.

    import gonet

    with gonet.listen("tcp", "127.0.0.1:0") as ln:
        with gonet.dial("tcp", ln.local_addr, timeout=5) as c, ln.accept() as s:
            c.write(b"ping")
            print(s.read(4))

    with gonet.listen_packet("udp", "127.0.0.1:0") as pc:
        with gonet.dial("udp", pc.local_addr) as c:
            c.write(b"ping")
            data, sender = pc.read_from()
            pc.write_to(b"pong", sender)
            print(c.read())

Pure Python (ctypes), no compile step. The shared library is found, in
order, at the path in ``GONET_LIBRARY``, next to this file, in the
repository's cargo output (``$CARGO_TARGET_DIR``, ``target/release``,
``target/debug``) and finally through the system loader.

Blocking calls release the GIL, so other threads keep running; closing a
connection or listener from another thread wakes a call blocked on it,
which raises :class:`ClosedError`.

Stream networks ("tcp", "unix") give a :class:`Conn`; datagram networks
("udp", "udp4", "udp6", "unixgram") a :class:`PacketConn`, whose every read
takes one whole datagram and every write sends one. A datagram longer than
the buffer raises :class:`MessageTooLongError` carrying what fit.

Failures raise :class:`GonetError` subclasses carrying ``.code`` (the
negative ``NET_E*`` code) and Go's message, and also subclassing the
matching built-in exception (``TimeoutError``, ``ConnectionRefusedError``,
``ValueError``, ``socket.gaierror``...), so existing ``except`` clauses work.
"""

import ctypes
import ctypes.util
import errno as _errno
import io
import math
import os
import socket as _socket
import sys

__all__ = [
    "Conn",
    "Listener",
    "PacketConn",
    "dial",
    "listen",
    "listen_packet",
    "version",
    "strerror",
    "GonetError",
    "InvalidArgumentError",
    "ClosedError",
    "DeadlineExceededError",
    "AddressError",
    "NoSuchHostError",
    "ConnectionRefusedGonetError",
    "ConnectionResetGonetError",
    "BrokenPipeGonetError",
    "MessageTooLongError",
    "NET_EINVAL",
    "NET_ECLOSED",
    "NET_ETIMEOUT",
    "NET_EADDR",
    "NET_ENOHOST",
    "NET_EREFUSED",
    "NET_ERESET",
    "NET_EPIPE",
    "NET_EADDRINUSE",
    "NET_EUNREACH",
    "NET_EMSGSIZE",
    "NET_EINTERNAL",
    "NET_ESYSTEM",
    "NET_ECANCELED",
    "NET_ADDR_MAX",
    "CanceledError",
    "Dialer",
    "lookup_host",
    "lookup_port",
    "split_host_port",
    "join_host_port",
]

# ---------------------------------------------------------------------------
# Error codes (include/gonet.h)

NET_EINVAL = -1
NET_ECLOSED = -2
NET_ETIMEOUT = -3
NET_EADDR = -4
NET_ENOHOST = -5
NET_EREFUSED = -6
NET_ERESET = -7
NET_EPIPE = -8
NET_EADDRINUSE = -9
NET_EUNREACH = -10
NET_EMSGSIZE = -11
NET_EINTERNAL = -12
NET_ESYSTEM = -13
NET_ECANCELED = -14

# A buffer of this many bytes holds any address the library writes.
NET_ADDR_MAX = 128

# ---------------------------------------------------------------------------
# Finding and loading the library

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(os.path.dirname(_HERE))

if sys.platform == "darwin":
    _NAMES = ("libgonet.dylib",)
elif sys.platform == "win32":
    _NAMES = ("gonet.dll",)
else:
    _NAMES = ("libgonet.so", "libgonet.so.0")


def _candidates():
    """Paths to try, in order, before the system loader."""
    dirs = [_HERE]
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        if not os.path.isabs(target):
            target = os.path.join(_REPO, target)
        dirs += [os.path.join(target, "release"), os.path.join(target, "debug")]
    dirs += [os.path.join(_REPO, "target", "release"), os.path.join(_REPO, "target", "debug")]
    for d in dirs:
        for name in _NAMES:
            yield os.path.join(d, name)


def _load():
    explicit = os.environ.get("GONET_LIBRARY")
    if explicit:
        # An explicit choice is never silently replaced by another library.
        try:
            return ctypes.CDLL(explicit)
        except OSError as e:
            raise ImportError("gonet: cannot load GONET_LIBRARY=%r: %s" % (explicit, e)) from e
    for path in _candidates():
        if os.path.isfile(path):
            return ctypes.CDLL(path)
    tried = []
    found = ctypes.util.find_library("gonet")
    for name in ([found] if found else []) + ["libgonet.so.0"]:
        try:
            return ctypes.CDLL(name)
        except OSError as e:
            tried.append("%s: %s" % (name, e))
    raise ImportError(
        "gonet: libgonet not found; build it with `cargo build --release` or set "
        "GONET_LIBRARY to its path (tried: %s)" % "; ".join(tried or ["system loader"])
    )


_lib = _load()

# ---------------------------------------------------------------------------
# Declarations: name -> (restype, argtypes), one line per exported function
# of include/gonet.h. tests/test_declarations.py checks this table against
# the header, so adding a function to the library means adding a line here.

_i64 = ctypes.c_int64
_str = ctypes.c_char_p  # NUL-terminated string in or out
_buf = ctypes.c_void_p  # buffer pointer (bytes, address, ctypes array)
_len = ctypes.c_size_t
_int = ctypes.c_int

FUNCTIONS = {
    "net_version": (_str, ()),
    "net_strerror": (_str, (_i64,)),
    "net_last_error": (_str, ()),
    "net_dial": (_i64, (_str, _str)),
    "net_dial_timeout": (_i64, (_str, _str, _i64)),
    "net_listen": (_i64, (_str, _str)),
    "net_accept": (_i64, (_i64,)),
    "net_read": (_i64, (_i64, _buf, _len)),
    "net_write": (_i64, (_i64, _buf, _len)),
    "net_close": (_i64, (_i64,)),
    "net_close_read": (_i64, (_i64,)),
    "net_close_write": (_i64, (_i64,)),
    "net_set_deadline": (_i64, (_i64, _i64)),
    "net_set_read_deadline": (_i64, (_i64, _i64)),
    "net_set_write_deadline": (_i64, (_i64, _i64)),
    "net_local_addr": (_i64, (_i64, _buf, _len)),
    "net_remote_addr": (_i64, (_i64, _buf, _len)),
    "net_set_nodelay": (_i64, (_i64, _int)),
    "net_set_keepalive": (_i64, (_i64, _i64)),
    "net_dialer_new": (_i64, ()),
    "net_dialer_set_timeout": (_i64, (_i64, _i64)),
    "net_dialer_set_local_addr": (_i64, (_i64, _str)),
    "net_dialer_set_fallback_delay": (_i64, (_i64, _i64)),
    "net_dialer_set_keepalive": (_i64, (_i64, _i64)),
    "net_dialer_dial": (_i64, (_i64, _str, _str)),
    "net_dialer_cancel": (_i64, (_i64,)),
    "net_lookup_host": (_i64, (_str, _buf, _len)),
    "net_lookup_port": (_i64, (_str, _str)),
    "net_split_host_port": (_i64, (_str, _buf, _len, _buf, _len)),
    "net_join_host_port": (_i64, (_str, _str, _buf, _len)),
    "net_listen_packet": (_i64, (_str, _str)),
    "net_read_from": (_i64, (_i64, _buf, _len, _buf, _len)),
    "net_write_to": (_i64, (_i64, _buf, _len, _str)),
    "net_copy": (_i64, (_i64, _i64, _i64)),
    "net_sendfile": (_i64, (_i64, _int, _i64, _i64)),
}


class _Functions:
    """The declared foreign functions, as attributes (``_c.net_read``)."""


def _missing(name):
    def call(*args):
        raise NotImplementedError("gonet: %s is not in the loaded library (%s); it is older than this binding" % (name, _lib._name))

    return call


_c = _Functions()
MISSING = []  # declared functions the loaded library does not export
for _name, (_restype, _argtypes) in FUNCTIONS.items():
    try:
        _fn = getattr(_lib, _name)
    except AttributeError:
        MISSING.append(_name)
        setattr(_c, _name, _missing(_name))
        continue
    _fn.restype = _restype
    _fn.argtypes = list(_argtypes)
    setattr(_c, _name, _fn)
del _name, _restype, _argtypes


def _untyped(name):
    """The function ``name`` again, with its restype but no argtypes, for
    the per-byte hot paths (the reads and writes of Conn and PacketConn).
    With argtypes set, ctypes runs a converter on every argument of every
    call; without them, an argument that is already a C parameter object
    (what ``c_int64.from_param``, ``c_size_t.from_param`` and ``byref``
    return) or a bytes object is passed as it is: 290 ns a call instead of
    620 ns, a tenth of a 64-byte loopback round trip through four calls.
    Callers pass only such prepared arguments, built from the types
    declared in FUNCTIONS (tests/test_declarations.py checks them)."""
    if name in MISSING:
        return getattr(_c, name)
    fn = _lib[name]  # a new function object: _c's keeps its argtypes
    fn.restype = FUNCTIONS[name][0]
    return fn


_raw_read = _untyped("net_read")
_raw_write = _untyped("net_write")
_raw_read_from = _untyped("net_read_from")
_raw_write_to = _untyped("net_write_to")
_handle_arg = FUNCTIONS["net_read"][1][0].from_param
_len_arg = FUNCTIONS["net_read"][1][2].from_param
_byref = ctypes.byref

# Length arguments already made, by value: reads ask for a few sizes over
# and over, writes mostly send a few sizes. Bounded, so odd sizes are made
# on the spot (0.2 us) rather than kept.
_LENS = {}
_LENS_MAX = 4096
_lens_get = _LENS.get


def _len(n):
    a = _len_arg(n)
    if len(_LENS) < _LENS_MAX:
        _LENS[n] = a
    return a


# The sender buffer's length, for net_read_from.
_ADDR_LEN = _len_arg(NET_ADDR_MAX)


# Pre-bound for the other paths.
_net_read = _c.net_read
_net_last_error = _c.net_last_error
_c_char_from_buffer = ctypes.c_char.from_buffer

# ---------------------------------------------------------------------------
# Errors


class GonetError(OSError):
    """A gonet failure: ``.code`` is the negative NET_E* code, ``str()`` and
    ``.strerror`` give Go's message, ``.errno`` the matching errno or None."""

    def __init__(self, code, message=None, errno=None):
        if message is None:
            message = strerror(code)
        OSError.__init__(self, message)
        self.code = code
        self.message = message
        self.strerror = message
        self.errno = errno

    def __str__(self):
        return self.message

    def __reduce__(self):
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


class ConnectionRefusedGonetError(GonetError, ConnectionRefusedError):
    """NET_EREFUSED: connection refused."""


class ConnectionResetGonetError(GonetError, ConnectionResetError):
    """NET_ERESET: connection reset by peer."""


class BrokenPipeGonetError(GonetError, BrokenPipeError):
    """NET_EPIPE: broken pipe, the peer is gone."""


class CanceledError(GonetError):
    """NET_ECANCELED: the dial was canceled (Dialer.cancel)."""


class MessageTooLongError(GonetError):
    """NET_EMSGSIZE: a datagram too large to send, or longer than the buffer
    it was read into. A read that fails so has consumed the datagram:
    ``.data`` holds the bytes that fit and ``.addr`` the sender ("" for an
    unnamed Unix socket; None from ``read``/``readinto``, which do not
    report senders, and for a failed write). The message gives the
    datagram's real length."""

    def __init__(self, code=NET_EMSGSIZE, message=None, errno=_errno.EMSGSIZE, data=None, addr=None):
        GonetError.__init__(self, code, message, errno)
        self.data = data
        self.addr = addr

    def __reduce__(self):
        return (self.__class__, (self.code, self.message, self.errno, self.data, self.addr))


# code -> (exception class, errno or None)
_ERRORS = {
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
}


def _error(code):
    """The exception for a failed call's ``code``; call right after the
    failure, on the same thread, so that net_last_error() is its message."""
    message = _net_last_error()
    message = message.decode("utf-8", "replace") if message else strerror(code)
    cls, err = _ERRORS.get(code, (GonetError, None))
    if code == NET_EUNREACH and "host" in message:
        err = _errno.EHOSTUNREACH
    return cls(code, message, err)


def _check(r):
    if r < 0:
        raise _error(r)
    return r


def version():
    """The library's version, such as ``"0.1.0"``."""
    return _c.net_version().decode()


def strerror(code):
    """A short description of a NET_E* code."""
    s = _c.net_strerror(code)
    return s.decode("utf-8", "replace") if s else ""


# ---------------------------------------------------------------------------
# Helpers


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


def _nbytes(buffer):
    if type(buffer) is bytearray:
        return len(buffer)
    with memoryview(buffer) as mv:
        return mv.nbytes


def _contents(buffer):
    with memoryview(buffer) as mv:
        return mv.tobytes()


def _send(fn, h, data, *rest):
    """fn(h, pointer, length, *rest), an untyped hot-path function, over any
    bytes-like ``data``; an empty one is sent too (an empty datagram)."""
    if type(data) is bytes:
        n = len(data)
        return fn(h, data, _lens_get(n) or _len(n), *rest)
    with memoryview(data) as mv:
        n = mv.nbytes
        if n == 0:
            return fn(h, None, _lens_get(0) or _len(0), *rest)
        if mv.readonly or not mv.c_contiguous:
            return fn(h, mv.tobytes(), _lens_get(n) or _len(n), *rest)
        c = _c_char_from_buffer(mv)
        r = fn(h, _byref(c), _lens_get(n) or _len(n), *rest)
        del c
        return r


def _sender(buf):
    return buf.value.decode("utf-8", "replace")


class PacketConn(_Handle):
    """A datagram socket: Go's ``net.PacketConn`` from listen_packet(), or
    the connected ``net.Conn`` that dial() returns on "udp", "udp4", "udp6"
    and "unixgram". Every read takes one whole datagram and every write
    sends one, whole or not at all; there is no end of stream, so a read of
    ``b""`` (or 0) is an empty datagram. A datagram longer than the buffer
    is consumed and raises MessageTooLongError with the part that fit.
    Safe to use from several threads; close() wakes blocked calls."""

    __slots__ = ("_pool",)

    def __init__(self, handle):
        _Handle.__init__(self, handle)
        # Scratch buffers: (data array, its address, sender array, its
        # address); popped and pushed back, so concurrent readers never
        # share one.
        self._pool = []

    def __repr__(self):
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
    def remote_addr(self):
        """The peer's address of a dialed handle; "" for one from
        listen_packet, which has none."""
        return _addr(_c.net_remote_addr, self._h)

    def _scratch(self):
        try:
            return self._pool.pop()
        except IndexError:
            buf = ctypes.create_string_buffer(_SCRATCH)
            sender = ctypes.create_string_buffer(NET_ADDR_MAX)
            return (buf, _byref(buf), sender, _byref(sender))

    def read_from(self, n=_SCRATCH):
        """Waits for one datagram and returns ``(data, sender)``: its bytes
        and the sender's address ("127.0.0.1:9000", "[::1]:9000", a path,
        "@name"; "" for an unnamed Unix socket). A datagram longer than
        ``n`` raises MessageTooLongError (``n`` 0 takes one datagram: b""
        if it was empty). The default fits any UDP datagram."""
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
        if r == NET_EMSGSIZE:
            e.data = buf[:n]
            e.addr = _sender(sender)
        if s is not None:
            self._pool.append(s)
        raise e

    recvfrom = read_from

    def read_from_into(self, buffer):
        """Reads one datagram into a writable buffer (bytearray,
        memoryview, array...) without copying, and returns ``(nbytes,
        sender)``. A datagram longer than the buffer fills it and raises
        MessageTooLongError."""
        n = _nbytes(buffer)
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
        if r == NET_EMSGSIZE:
            e.data = _contents(buffer)
            e.addr = _sender(sender)
        self._pool.append(s)
        raise e

    recvfrom_into = read_from_into

    def read(self, n=_SCRATCH):
        """Reads one datagram of up to ``n`` bytes, dropping its sender (a
        dialed handle only hears from its peer). ``b""`` is an empty
        datagram, not an end of stream."""
        if n < 0:
            raise ValueError("negative read size")
        if n <= _SCRATCH:
            s = self._scratch()
            buf, bufp = s[0], s[1]
        else:
            buf = ctypes.create_string_buffer(n)
            s, bufp = None, _byref(buf)
        r = _raw_read(self._ah, bufp, _lens_get(n) or _len(n))
        if r >= 0:
            data = buf[:r]
            if s is not None:
                self._pool.append(s)
            return data
        e = _error(r)
        if r == NET_EMSGSIZE:
            e.data = buf[:n]
        if s is not None:
            self._pool.append(s)
        raise e

    recv = read

    def readinto(self, buffer):
        """Reads one datagram into a writable buffer without copying and
        returns its length (0: an empty datagram)."""
        n = _nbytes(buffer)
        if n == 0:
            r = _raw_read(self._ah, None, _lens_get(0) or _len(0))
        else:
            c = _c_char_from_buffer(buffer)
            r = _raw_read(self._ah, _byref(c), _lens_get(n) or _len(n))
            del c
        if r >= 0:
            return r
        e = _error(r)
        if r == NET_EMSGSIZE:
            e.data = _contents(buffer)
        raise e

    recv_into = readinto

    def write(self, data):
        """Sends ``data`` (any bytes-like object, possibly empty) as one
        datagram to the dialed peer and returns its length. A handle from
        listen_packet has no peer: InvalidArgumentError, use write_to."""
        r = _send(_raw_write, self._ah, data)
        if r < 0:
            raise _error(r)
        return r

    send = write

    def write_to(self, data, addr):
        """Sends ``data`` as one datagram to ``addr`` ("127.0.0.1:9000",
        "[::1]:9000", "localhost:9000", a path, "@name") and returns its
        length. MessageTooLongError when it is too large to send; a dialed
        handle raises InvalidArgumentError (use write)."""
        r = _send(_raw_write_to, self._ah, data, _encode(addr, "address"))
        if r < 0:
            raise _error(r)
        return r

    sendto = write_to


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


def listen(network, address):
    """Listens on ``address`` ("127.0.0.1:8088", ":8088", port 0 for an
    ephemeral port, a path or "@name" for "unix")."""
    r = _c.net_listen(_encode(network, "network"), _encode(address, "address"))
    if r < 0:
        raise _error(r)
    return Listener(r)


def listen_packet(network, address):
    """Go's ``ListenPacket``: a PacketConn bound to ``address`` that sends
    to and receives from anybody (read_from, write_to). "udp", "udp4",
    "udp6": "127.0.0.1:9000", "[::1]:0" (port 0 picks one), ":9000" for
    every address; "unixgram": a path (removed on close), "@name" for a
    Linux abstract name, "" for one Linux chooses."""
    r = _c.net_listen_packet(_encode(network, "network"), _encode(address, "address"))
    if r < 0:
        raise _error(r)
    return PacketConn(r)


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
