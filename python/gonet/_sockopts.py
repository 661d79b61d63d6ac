"""What Go's TCPConn, UDPConn and UnixConn offer beyond reads and writes:
socket buffer sizes, linger and keep-alive configuration, descriptor
passing and peer credentials on Unix sockets, and vectored writes. Conn
and PacketConn take these from _ConnOptions."""

import ctypes
import os
from typing import Any, Iterable, List, Optional, Tuple

from ._errors import _check, _error
from ._ffi import NET_DEFAULT, NET_EMSGSIZE, _c
from ._handle import Seconds, _bytes_like, _setting_ms, _size

# The most descriptors one message carries (Linux's SCM_MAX_FD).
MAX_FDS = 253


def _keepalive_ms(value: Seconds, what: str) -> int:
    """A keep-alive time: None is Go's default (15 s), a negative number
    leaves the system's setting, as Go's KeepAliveConfig has it."""
    return _setting_ms(value, what, NET_DEFAULT, "the default")


def _keepalive_count(count: Optional[int]) -> int:
    if count is None:
        return NET_DEFAULT
    return _size(count, "count")


class _ConnOptions:
    """Methods shared by Conn and PacketConn (see the module)."""

    __slots__ = ()
    _h: int

    def set_read_buffer(self, nbytes: int) -> None:
        """Go's ``SetReadBuffer``: asks for a receive buffer (SO_RCVBUF) of
        ``nbytes``; the kernel doubles it for its bookkeeping and caps it
        at ``net.core.rmem_max``."""
        _check(_c.net_set_read_buffer(self._h, _size(nbytes, "nbytes")))

    def set_write_buffer(self, nbytes: int) -> None:
        """Go's ``SetWriteBuffer``: as set_read_buffer, for SO_SNDBUF."""
        _check(_c.net_set_write_buffer(self._h, _size(nbytes, "nbytes")))

    def send_fds(self, buffers: Iterable[Any], fds: Iterable[int]) -> int:
        """Sends the bytes of ``buffers`` with the descriptors ``fds``
        (SCM_RIGHTS, at most 253) over a Unix socket, as
        ``socket.send_fds`` does; the caller keeps its own descriptors.
        Returns the number of bytes sent (all of them)."""
        data = b"".join(bytes(_bytes_like(b, "buffers")) for b in buffers)
        fd_list = [_size(fd, "fd") for fd in fds]
        arr = (ctypes.c_int * max(len(fd_list), 1))(*fd_list)
        return _check(_c.net_write_msg_unix(self._h, data, len(data), arr if fd_list else None, len(fd_list)))

    def recv_fds(self, bufsize: int, maxfds: int) -> Tuple[bytes, List[int], int, Optional[str]]:
        """Receives up to ``bufsize`` bytes and up to ``maxfds``
        descriptors (close-on-exec, now the caller's) from a Unix socket,
        in ``socket.recv_fds``'s shape: ``(data, fds, flags, address)``
        (flags 0, address None). Descriptors beyond ``maxfds`` are closed
        and MessageTooLongError is raised; those that fit are closed too
        before it is, so none leaks."""
        bufsize = _size(bufsize, "bufsize")
        maxfds = _size(maxfds, "maxfds")
        if bufsize < 0 or maxfds < 0:
            raise ValueError("negative buffer size or descriptor count")
        buf = ctypes.create_string_buffer(max(bufsize, 1))
        fds = (ctypes.c_int * max(maxfds, 1))()
        n = ctypes.c_size_t(0)
        r: int = _c.net_read_msg_unix(self._h, buf, bufsize, fds, maxfds, ctypes.byref(n))
        got = [fds[i] for i in range(n.value)]
        if r < 0:
            err = _error(r)
            if r == NET_EMSGSIZE:
                for fd in got:
                    os.close(fd)
            raise err
        return buf.raw[:r], got, 0, None

    def peer_cred(self) -> Tuple[int, int, int]:
        """The ``(pid, uid, gid)`` of the process at the other end of a
        Unix socket (SO_PEERCRED), as they were when it connected."""
        pid, uid, gid = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
        _check(_c.net_unix_peer_cred(self._h, ctypes.byref(pid), ctypes.byref(uid), ctypes.byref(gid)))
        return pid.value, uid.value, gid.value

    def writev(self, buffers: Iterable[Any]) -> int:
        """Go's ``net.Buffers``: writes every byte of ``buffers`` in order
        (one datagram on a PacketConn), never interleaved with another
        thread's write. Returns the total length."""
        views = [bytes(_bytes_like(b, "buffers")) for b in buffers]

        class _Iovec(ctypes.Structure):
            _fields_ = [("base", ctypes.c_char_p), ("len", ctypes.c_size_t)]

        iov = (_Iovec * max(len(views), 1))(*[_Iovec(v, len(v)) for v in views])
        return _check(_c.net_writev(self._h, iov if views else None, len(views)))
