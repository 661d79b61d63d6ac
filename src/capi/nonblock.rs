//! The non-blocking calls, for event loops: each makes one attempt and
//! returns `NET_EAGAIN` where its blocking twin would wait. The caller
//! waits on the handle's descriptor (`net_fd`) itself, for reading
//! (`net_try_read`, `net_try_read_from`, `net_try_accept`) or writing
//! (`net_try_write`, `net_try_write_to`), and calls again.

use super::boundary::{as_count, call, call_io, lookup_conn, lookup_role};
use super::boundary::{in_buf, out_buf};
use super::packet::{read_from_with, write_to_with};
use crate::handle;
use crate::net::Role;
use std::ffi::{c_char, c_void};

/// As `net_read`, without waiting: returns the bytes already there (at
/// least 1), 0 at end of stream, when `len` is 0 or for an empty datagram,
/// or `NET_EAGAIN` ("read: resource temporarily unavailable") when nothing
/// has arrived: wait until `net_fd(conn)` is readable and call again. On a
/// packet handle it takes one datagram, as `net_read` does (`NET_EMSGSIZE`
/// when it does not fit).
///
/// Close and the read deadline are checked first: `NET_ECLOSED` once the
/// handle is closed, `NET_ETIMEOUT` once the deadline has passed, even
/// with data waiting. The caller's own wait is not bounded by the
/// deadline: an event loop that honours deadlines sets a timer of its own
/// and calls again when it fires. Other errors as `net_read`:
/// `NET_EINVAL` for a listener, a dialer or a NULL `buf` with `len` > 0,
/// `NET_ERESET` when the peer reset the connection.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_try_read(conn: i64, buf: *mut c_void, len: usize) -> i64 {
    const OP: &str = "read";
    call_io(OP, || {
        // SAFETY: the caller's promise on buf is passed on.
        let buf = unsafe { out_buf(OP, buf, len)? };
        let fd = lookup_conn(OP, conn)?;
        fd.try_read(buf).map(as_count)
    })
}

/// As `net_write`, without waiting: writes as much of `buf` as the
/// socket's send buffer takes now and returns that count (at least 1; 0
/// when `len` is 0), or `NET_EAGAIN` ("write: resource temporarily
/// unavailable") when none of it fits: wait until `net_fd(conn)` is
/// writable and call again with the rest. Unlike `net_write` the count can
/// be less than `len`. On a packet handle `buf` is one datagram, sent
/// whole (the count is `len`) or not at all.
///
/// Concurrency: `net_write` keeps each buffer whole against other writers;
/// a caller that writes a buffer in several `net_try_write` calls must
/// keep its other writers out between them (an event loop serialises its
/// tasks' writes). While a `net_write` on another thread is writing, this
/// call returns `NET_EAGAIN` without writing, and readiness does not say
/// when that ends: do not mix the two on one handle.
///
/// Errors as `net_write`: `NET_ECLOSED`, `NET_ETIMEOUT` past the write
/// deadline (checked first), `NET_EPIPE` or `NET_ERESET` when the peer is
/// gone (never SIGPIPE), `NET_EINVAL` for a listener, a dialer, a NULL
/// `buf` with `len` > 0 or an unconnected packet handle, `NET_EMSGSIZE`
/// for a datagram too large.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for reads of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_try_write(conn: i64, buf: *const c_void, len: usize) -> i64 {
    const OP: &str = "write";
    call_io(OP, || {
        // SAFETY: the caller's promise on buf is passed on.
        let buf = unsafe { in_buf(OP, buf, len)? };
        let fd = lookup_conn(OP, conn)?;
        fd.try_write(buf).map(as_count)
    })
}

/// As `net_accept`, without waiting: the next connection already queued,
/// as a new handle, or `NET_EAGAIN` ("accept: resource temporarily
/// unavailable") when there is none: wait until `net_fd(listener)` is
/// readable and call again. `NET_ECLOSED` once the listener is closed,
/// `NET_ETIMEOUT` past its deadline (checked first), `NET_EINVAL` for a
/// handle that is not a listener.
#[unsafe(no_mangle)]
pub extern "C" fn net_try_accept(listener: i64) -> i64 {
    const OP: &str = "accept";
    call(OP, || {
        let fd = lookup_role(OP, listener, Role::Listener)?;
        fd.try_accept().map(handle::insert)
    })
}

/// As `net_read_from`, without waiting: takes one datagram already
/// queued, or returns `NET_EAGAIN` (`recvfrom: resource temporarily
/// unavailable`) when there is none: wait until `net_fd(h)` is readable
/// and call again. A datagram longer than `len` fails with `NET_EMSGSIZE`
/// after copying what fits and writing the sender, as `net_read_from`
/// does. `NET_ECLOSED` once closed, `NET_ETIMEOUT` past the read deadline
/// (checked first), `NET_EINVAL` for a stream handle, a NULL `buf` with
/// `len` > 0 or a NULL `addr` with `addr_len` > 0. When the call fails
/// before a datagram is taken, `addr` (if `addr_len` > 0) holds the empty
/// string.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for writes of `len` bytes; `addr`
/// is NULL (with `addr_len` 0) or valid for writes of `addr_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_try_read_from(
    h: i64,
    buf: *mut c_void,
    len: usize,
    addr: *mut c_char,
    addr_len: usize,
) -> i64 {
    const OP: &str = "read";
    call_io(OP, || {
        // SAFETY: the caller's promises on buf and addr are passed on.
        unsafe {
            read_from_with(OP, h, buf, len, addr, addr_len, |fd, b| {
                fd.try_recv_datagram("recvfrom", b)
            })
        }
    })
}

/// As `net_write_to`, without waiting: sends `buf` as one datagram to
/// `addr` and returns `len`, or `NET_EAGAIN` ("sendto: resource
/// temporarily unavailable") when the socket's buffer is full: wait until
/// `net_fd(h)` is writable and call again. (A `"unixgram"` socket sending
/// to a peer whose queue is full also gets `NET_EAGAIN`, but Linux reports
/// it writable all along: retry after a pause instead.)
///
/// `addr` must need no lookup, since a lookup would wait: an IP address
/// (`"127.0.0.1:9000"`, `"[::1]:9000"`), a Unix path or `@name`. A host
/// name fails with `NET_EINVAL` (resolve it first, with `net_lookup_host`,
/// or use `net_write_to`). Other errors as `net_write_to`: `NET_ECLOSED`,
/// `NET_ETIMEOUT` past the write deadline (checked first), `NET_EMSGSIZE`,
/// `NET_EADDR` for a bad address, `NET_EINVAL` for a handle from
/// `net_dial` or a stream handle.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for reads of `len` bytes; `addr`
/// is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_try_write_to(
    h: i64,
    buf: *const c_void,
    len: usize,
    addr: *const c_char,
) -> i64 {
    const OP: &str = "write";
    call(OP, || {
        // SAFETY: the caller's promises on buf and addr are passed on.
        unsafe { write_to_with(OP, h, buf, len, addr, |fd, b, d| fd.try_write_to(b, d)) }
    })
}
