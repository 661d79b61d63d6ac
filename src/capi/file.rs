//! The C ABI of descriptors in and out: Go's `FileConn`, `FileListener`,
//! `FilePacketConn` and `File`.

use super::boundary::{call, lookup};
use crate::handle;
use crate::net::{self, FileKind};
use std::ffi::c_int;

/// Go's `FileConn`: a connection handle for the socket `fd`, which is
/// duplicated: the caller keeps `fd` and closes it when done, and closing
/// the handle leaves `fd` open. A connected stream socket (TCP, Unix)
/// gives a stream handle; a datagram socket (UDP, `unixgram`) a packet
/// handle, as Go's `FileConn` gives a `UDPConn`. The kind is read from the
/// socket (SO_TYPE, SO_DOMAIN, SO_ACCEPTCONN). The open file is shared, so
/// its blocking mode changes for `fd` too: blocking for a stream
/// connection, non-blocking for a listener or a datagram socket (Go makes
/// every one non-blocking). Fails
/// with Go's message: `NET_ESYSTEM` and `file file+net fd 5: getsockopt:
/// socket operation on non-socket` for a pipe or a file, `NET_EINVAL` and
/// `file file+net fd 5: invalid argument` for a listening socket.
#[unsafe(no_mangle)]
pub extern "C" fn net_file_conn(fd: c_int) -> i64 {
    call("file", || {
        net::from_fd(fd, FileKind::Conn).map(handle::insert)
    })
}

/// Go's `FileListener`: a listener handle for the listening stream socket
/// `fd` (TCP or Unix), duplicated as `net_file_conn` describes; the
/// listener made by systemd's socket activation (descriptor 3 when
/// `LISTEN_FDS` is set), for one. Closing the handle never removes a Unix
/// socket's file. `NET_EINVAL` (`file file+net fd 5: invalid argument`)
/// for a socket that is not listening.
#[unsafe(no_mangle)]
pub extern "C" fn net_file_listener(fd: c_int) -> i64 {
    call("file", || {
        net::from_fd(fd, FileKind::Listener).map(handle::insert)
    })
}

/// Go's `FilePacketConn`: a packet handle for the datagram socket `fd`
/// (UDP or `unixgram`, bound or connected), duplicated as `net_file_conn`
/// describes. `NET_EINVAL` for a stream socket.
#[unsafe(no_mangle)]
pub extern "C" fn net_file_packet_conn(fd: c_int) -> i64 {
    call("file", || {
        net::from_fd(fd, FileKind::Packet).map(handle::insert)
    })
}

/// Go's `File`: a new descriptor for the socket of connection, listener
/// or packet handle `h`, close-on-exec, which the caller owns and closes;
/// the handle stays open and independent of it. To hand the socket to a
/// program started with exec, clear close-on-exec on the copy in the
/// child. Returns the descriptor (>= 0), or `NET_ECLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn net_file(h: i64) -> i64 {
    const OP: &str = "file";
    call(OP, || {
        let fd = lookup(OP, h)?;
        fd.file().map(i64::from)
    })
}
