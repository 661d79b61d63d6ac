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

Durations are seconds (int or float) everywhere. ``None`` means no
deadline or no timeout; zero or a negative deadline or timeout has
already passed, as a past ``time.Time`` in Go. NaN, infinity and more
than 292 years raise ValueError.

Failures raise :class:`GonetError` subclasses carrying ``.code`` (the
negative ``NET_E*`` code) and Go's message, and also subclassing the
matching built-in exception (``TimeoutError``, ``ConnectionRefusedError``,
``ValueError``, ``socket.gaierror``...), so existing ``except`` clauses work.
"""

__all__ = [
    "Conn",
    "Listener",
    "PacketConn",
    "dial",
    "listen",
    "listen_packet",
    "copy",
    "version",
    "strerror",
    "GonetError",
    "InvalidArgumentError",
    "ClosedError",
    "DeadlineExceededError",
    "AddressError",
    "NoSuchHostError",
    "TemporaryDnsError",
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
    "NET_EAGAIN",
    "NET_EDNS",
    "NET_ADDR_MAX",
    "CanceledError",
    "WouldBlockError",
    "Dialer",
    "lookup_host",
    "Resolver",
    "MX",
    "SRV",
    "lookup_ip",
    "lookup_addr",
    "lookup_cname",
    "lookup_mx",
    "lookup_ns",
    "lookup_srv",
    "lookup_txt",
    "lookup_port",
    "split_host_port",
    "join_host_port",
    "Interface",
    "interfaces",
    "interface_addrs",
    "ListenConfig",
    "file_conn",
    "file_listener",
    "file_packet_conn",
]

from ._dial import Dialer, dial, join_host_port, lookup_host, lookup_port, split_host_port
from ._iface import Interface, interface_addrs, interfaces
from ._errors import (
    AddressError,
    BrokenPipeGonetError,
    CanceledError,
    ClosedError,
    ConnectionRefusedGonetError,
    ConnectionResetGonetError,
    DeadlineExceededError,
    GonetError,
    InvalidArgumentError,
    MessageTooLongError,
    NoSuchHostError,
    WouldBlockError,
    TemporaryDnsError,
    strerror,
    version,
)
from ._ffi import FUNCTIONS as FUNCTIONS  # the declarations, for tests and tools
from ._ffi import MISSING as MISSING
from ._ffi import (
    NET_ADDR_MAX,
    NET_EADDR,
    NET_EADDRINUSE,
    NET_EAGAIN,
    NET_ECANCELED,
    NET_EDNS,
    NET_ECLOSED,
    NET_EINTERNAL,
    NET_EINVAL,
    NET_EMSGSIZE,
    NET_ENOHOST,
    NET_EPIPE,
    NET_EREFUSED,
    NET_ERESET,
    NET_ESYSTEM,
    NET_ETIMEOUT,
    NET_EUNREACH,
)
from ._packet import PacketConn, listen_packet
from ._resolve import (
    MX,
    SRV,
    Resolver,
    lookup_addr,
    lookup_cname,
    lookup_ip,
    lookup_mx,
    lookup_ns,
    lookup_srv,
    lookup_txt,
)
from ._servers import ListenConfig, file_conn, file_listener, file_packet_conn
from ._stream import Conn, Listener, copy, listen

__version__ = version()
