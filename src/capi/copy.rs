//! The C ABI of zero-copy transfers: `net_copy` (Go's `io.Copy` between
//! connections, spliced in the kernel) and `net_sendfile` (Go's
//! `TCPConn.ReadFrom` of an `*os.File`).

use super::boundary::{call, lookup_role};
use crate::net::{self, Role, Strategy};
use std::ffi::c_int;

/// Copies bytes from connection `src` to connection `dst` until end of
/// stream on `src`, or until `max_bytes` bytes have been copied (a
/// negative `max_bytes` means no limit), and returns the number copied.
/// Between stream sockets (TCP, Unix) the bytes never enter user space:
/// they move with `splice(2)` through a pipe, as Go's `io.Copy` between
/// TCP connections does. `src`'s read deadline and `dst`'s write deadline
/// apply (`NET_ETIMEOUT`), and closing either handle from another thread
/// ends the copy with `NET_ECLOSED`. No other read of `src` or write to
/// `dst` interleaves with the copy. Failures read as Go's
/// `TCPConn.ReadFrom` gives them (`readfrom tcp 127.0.0.1:A->127.0.0.1:B:
/// i/o timeout`); after one, part of the data may have been copied. Never
/// raises SIGPIPE: a destination whose peer has gone fails the copy with
/// `NET_EPIPE` or `NET_ERESET`.
#[unsafe(no_mangle)]
pub extern "C" fn net_copy(dst: i64, src: i64, max_bytes: i64) -> i64 {
    const OP: &str = "readfrom";
    call(OP, || {
        let dst = lookup_role(OP, dst, Role::Conn)?;
        let src = lookup_role(OP, src, Role::Conn)?;
        net::copy(&dst, &src, max_bytes, Strategy::Auto).map(saturate)
    })
}

/// Sends `count` bytes (negative: up to the end of the file) of the open
/// file `fd`, starting at byte `offset`, over connection `conn` with
/// `sendfile(2)`, and returns the number sent: fewer than `count` only when
/// the file ends first. The file's own offset is left unchanged. `conn`'s
/// write deadline applies and closing it from another thread ends the call
/// with `NET_ECLOSED`; no other write to `conn` interleaves. A negative
/// `fd` or `offset` is `NET_EINVAL`; a descriptor that is not open fails
/// with `NET_ESYSTEM` (`readfrom tcp ...: sendfile: bad file descriptor`).
/// Never raises SIGPIPE: a peer that has gone gives `NET_EPIPE` or
/// `NET_ERESET`.
#[unsafe(no_mangle)]
pub extern "C" fn net_sendfile(conn: i64, fd: c_int, offset: i64, count: i64) -> i64 {
    const OP: &str = "readfrom";
    call(OP, || {
        let conn = lookup_role(OP, conn, Role::Conn)?;
        net::sendfile(&conn, fd, offset, count).map(saturate)
    })
}

fn saturate(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
