"""Loading libgonet and declaring its functions: the error codes, where the
library is looked for, the ctypes declaration of every exported function
(checked against include/gonet.h by tests/test_declarations.py) and the
prepared arguments of the read and write hot paths."""

import ctypes
import ctypes.util
import os
import sys
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Type

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
NET_EDNS = -15
NET_EAGAIN = -16  # would block: a net_try_* call found nothing to do now

# The special values of every *_ms argument (see README, "Durations").
NET_FOREVER = -1
NET_DEFAULT = -2

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


def _candidates() -> Iterator[str]:
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


def _load() -> ctypes.CDLL:
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
    tried: List[str] = []
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
_size = ctypes.c_size_t
_int = ctypes.c_int
# net_control_fn: (network, address, fd, arg) -> 0 or a negative NET_E* code.
CONTROL_FN = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p)
# net_fd_fn: (fd, arg), what net_control calls.
FD_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p)

# ctypes' type objects: a simple type (c_int64...) or a pointer type.
_CType = Type[Any]

FUNCTIONS: Dict[str, Tuple[_CType, Tuple[_CType, ...]]] = {
    "net_version": (_str, ()),
    "net_strerror": (_str, (_i64,)),
    "net_last_error": (_str, ()),
    "net_dial": (_i64, (_str, _str)),
    "net_dial_timeout": (_i64, (_str, _str, _i64)),
    "net_listen": (_i64, (_str, _str)),
    "net_accept": (_i64, (_i64,)),
    "net_read": (_i64, (_i64, _buf, _size)),
    "net_write": (_i64, (_i64, _buf, _size)),
    "net_close": (_i64, (_i64,)),
    "net_close_read": (_i64, (_i64,)),
    "net_close_write": (_i64, (_i64,)),
    "net_set_deadline": (_i64, (_i64, _i64)),
    "net_set_read_deadline": (_i64, (_i64, _i64)),
    "net_set_write_deadline": (_i64, (_i64, _i64)),
    "net_local_addr": (_i64, (_i64, _buf, _size)),
    "net_remote_addr": (_i64, (_i64, _buf, _size)),
    "net_fd": (_i64, (_i64,)),
    "net_set_nodelay": (_i64, (_i64, _int)),
    "net_set_keepalive": (_i64, (_i64, _i64)),
    "net_dialer_new": (_i64, ()),
    "net_dialer_set_timeout": (_i64, (_i64, _i64)),
    "net_dialer_set_local_addr": (_i64, (_i64, _str)),
    "net_dialer_set_fallback_delay": (_i64, (_i64, _i64)),
    "net_dialer_set_keepalive": (_i64, (_i64, _i64)),
    "net_dialer_dial": (_i64, (_i64, _str, _str)),
    "net_dialer_cancel": (_i64, (_i64,)),
    "net_lookup_host": (_i64, (_str, _buf, _size)),
    "net_lookup_port": (_i64, (_str, _str)),
    "net_resolver_new": (_i64, ()),
    "net_resolver_set_servers": (_i64, (_i64, _str)),
    "net_resolver_set_timeout": (_i64, (_i64, _i64)),
    "net_resolver_cancel": (_i64, (_i64,)),
    "net_dialer_set_resolver": (_i64, (_i64, _i64)),
    "net_lookup_ip": (_i64, (_i64, _str, _str, _buf, _size)),
    "net_lookup_addr": (_i64, (_i64, _str, _buf, _size)),
    "net_lookup_cname": (_i64, (_i64, _str, _buf, _size)),
    "net_lookup_mx": (_i64, (_i64, _str, _buf, _size)),
    "net_lookup_ns": (_i64, (_i64, _str, _buf, _size)),
    "net_lookup_srv": (_i64, (_i64, _str, _str, _str, _buf, _size)),
    "net_lookup_txt": (_i64, (_i64, _str, _buf, _size)),
    "net_split_host_port": (_i64, (_str, _buf, _size, _buf, _size)),
    "net_join_host_port": (_i64, (_str, _str, _buf, _size)),
    "net_listen_packet": (_i64, (_str, _str)),
    "net_read_from": (_i64, (_i64, _buf, _size, _buf, _size)),
    "net_write_to": (_i64, (_i64, _buf, _size, _str)),
    "net_copy": (_i64, (_i64, _i64, _i64)),
    "net_sendfile": (_i64, (_i64, _int, _i64, _i64)),
    "net_interfaces": (_i64, (_buf, _size)),
    "net_interface_addrs": (_i64, (_str, _buf, _size)),
    "net_try_read": (_i64, (_i64, _buf, _size)),
    "net_try_write": (_i64, (_i64, _buf, _size)),
    "net_try_accept": (_i64, (_i64,)),
    "net_try_read_from": (_i64, (_i64, _buf, _size, _buf, _size)),
    "net_try_write_to": (_i64, (_i64, _buf, _size, _str)),
    "net_dialer_set_keepalive_config": (_i64, (_i64, _i64, _i64, _i64)),
    "net_dialer_set_control": (_i64, (_i64, CONTROL_FN, _buf)),
    "net_listen_config_new": (_i64, ()),
    "net_listen_config_set_reuseport": (_i64, (_i64, _i64)),
    "net_listen_config_set_backlog": (_i64, (_i64, _i64)),
    "net_listen_config_set_keepalive": (_i64, (_i64, _i64)),
    "net_listen_config_set_keepalive_config": (_i64, (_i64, _i64, _i64, _i64)),
    "net_listen_config_set_control": (_i64, (_i64, CONTROL_FN, _buf)),
    "net_listen_config_listen": (_i64, (_i64, _str, _str)),
    "net_listen_config_listen_packet": (_i64, (_i64, _str, _str)),
    "net_control": (_i64, (_i64, FD_FN, _buf)),
    "net_set_linger": (_i64, (_i64, _i64)),
    "net_set_read_buffer": (_i64, (_i64, _i64)),
    "net_set_write_buffer": (_i64, (_i64, _i64)),
    "net_set_keepalive_config": (_i64, (_i64, _i64, _i64, _i64)),
    "net_file_conn": (_i64, (_int,)),
    "net_file_listener": (_i64, (_int,)),
    "net_file_packet_conn": (_i64, (_int,)),
    "net_file": (_i64, (_i64,)),
    "net_write_msg_unix": (_i64, (_i64, _buf, _size, _buf, _size)),
    "net_read_msg_unix": (_i64, (_i64, _buf, _size, _buf, _size, _buf)),
    "net_unix_peer_cred": (_i64, (_i64, _buf, _buf, _buf)),
    "net_writev": (_i64, (_i64, _buf, _int)),
}


class _Functions:
    """The declared foreign functions, as attributes (``_c.net_read``)."""

    def __getattr__(self, name: str) -> Any:
        # Only for the type checker: every declared name is set below.
        raise AttributeError(name)


def _missing(name: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        raise NotImplementedError("gonet: %s is not in the loaded library (%s); it is older than this binding" % (name, _lib._name))

    return call


_c = _Functions()
MISSING: List[str] = []  # declared functions the loaded library does not export
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


def _untyped(name: str) -> Any:
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
# The non-blocking twins, for gonet.aio's hot paths (same prepared arguments).
_raw_try_read = _untyped("net_try_read")
_raw_try_write = _untyped("net_try_write")
_raw_try_read_from = _untyped("net_try_read_from")
_raw_try_write_to = _untyped("net_try_write_to")
_handle_arg = FUNCTIONS["net_read"][1][0].from_param
_len_arg = FUNCTIONS["net_read"][1][2].from_param
_byref = ctypes.byref

# Length arguments already made, by value: reads ask for a few sizes over
# and over, writes mostly send a few sizes. Bounded, so odd sizes are made
# on the spot (0.2 us) rather than kept.
_LENS: Dict[int, Any] = {}
_LENS_MAX = 4096
_lens_get = _LENS.get


def _len(n: int) -> Any:
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
