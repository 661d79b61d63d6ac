//! Streams: dial, listen, accept, read, write, close, deadlines, addresses
//! and the per-connection options.

use super::boundary::network_and_address;
use super::boundary::{
    NET_FOREVER, as_count, call, call_io, closed_error, deadline_from_timeout, duration_ms, lookup,
    lookup_conn, lookup_role, write_text,
};
use super::boundary::{forget_stream, in_buf, out_buf, with_stream};
use crate::error::{Cause, Result, SyscallResult};
use crate::handle;
use crate::net::{self, DialOp, DialOptions, FdRef, Role};
use crate::poll::Direction;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Arc;

/// Connects to `address` on `network` (`"tcp"`, `"tcp4"`, `"tcp6"` or
/// `"unix"`) and returns a connection handle. Host names are resolved and
/// every address is tried in turn. Blocks until connected or failed.
///
/// On `"udp"`, `"udp4"`, `"udp6"` or `"unixgram"` it returns a connected
/// packet handle: `net_read` and `net_write` then take and send one
/// datagram each, to and from that peer only. A `"unixgram"` handle dialed
/// this way is unnamed (as in Go), so its peer cannot reply to it; use
/// `net_listen_packet` for an address that can be replied to.
///
/// On the raw IP networks, `"ip"`, `"ip4"` or `"ip6"` with a protocol
/// number or name after a colon (`"ip4:icmp"`, `"ip4:1"`,
/// `"ip6:ipv6-icmp"`, `"ip6:58"`; names from /etc/protocols), it returns a
/// connected packet handle (Go's `DialIP`) to `address`, a host without a
/// port (`"127.0.0.1"`, `"::1"`, `"fe80::1%eth0"`). Each write sends one
/// IP payload (an ICMP message, say); each read returns one, without the
/// IPv4 header, as Go's `IPConn.ReadFrom` does. Addresses print without
/// ports. A network without its protocol (`"ip4"`) is `NET_EADDR`
/// (`dial ip4: unknown network ip4`), and so is an unknown protocol
/// (`dial ip4:nope: address nope: unknown IP protocol specified`). Raw
/// sockets need CAP_NET_RAW: without it, `NET_ESYSTEM` (`dial ip4:icmp
/// 127.0.0.1: socket: operation not permitted`).
///
/// # Safety
/// `network` and `address` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_dial(network: *const c_char, address: *const c_char) -> i64 {
    // SAFETY: the caller's promise is passed on.
    call("dial", || unsafe {
        dial_with_timeout(network, address, NET_FOREVER)
    })
}

/// As `net_dial`, but the whole dial, across every address tried, name
/// lookup included, takes at most `timeout_ms` milliseconds
/// (`NET_ETIMEOUT` after that). `NET_FOREVER` (or `NET_DEFAULT`) means no
/// timeout, as `net_dial`; 0 has already run out: the dial fails with
/// `NET_ETIMEOUT` at once, as a Go dial with a past deadline does.
///
/// # Safety
/// `network` and `address` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_dial_timeout(
    network: *const c_char,
    address: *const c_char,
    timeout_ms: i64,
) -> i64 {
    // SAFETY: the caller's promise is passed on.
    call("dial", || unsafe {
        dial_with_timeout(network, address, timeout_ms)
    })
}

/// # Safety
/// `network` and `address` are NULL or NUL-terminated strings.
unsafe fn dial_with_timeout(
    network: *const c_char,
    address: *const c_char,
    timeout_ms: i64,
) -> Result<i64> {
    const OP: &str = "dial";
    let deadline = deadline_from_timeout(timeout_ms);
    if !network.is_null() && !address.is_null() {
        // SAFETY: non-NULL, and the caller promises NUL termination.
        let (net_bytes, addr_bytes) = unsafe {
            (
                CStr::from_ptr(network).to_bytes(),
                CStr::from_ptr(address).to_bytes(),
            )
        };
        if let Some(dialed) = net::dial_literal(net_bytes, addr_bytes, deadline) {
            return dialed.map(handle::insert);
        }
    }
    // SAFETY: the caller promises valid strings or NULL.
    let (network, address) = unsafe { network_and_address(OP, network, address)? };
    let opts = DialOptions::with_deadline(deadline);
    net::dial(network, address, &opts, &Arc::new(DialOp::new(false))).map(handle::insert)
}

/// Listens on `address` (`"127.0.0.1:8088"`, `":8088"` for every address,
/// port 0 for an ephemeral port, a path or `@name` for `"unix"`) and returns
/// a listener handle. TCP listeners set SO_REUSEADDR; a Unix listener removes
/// its socket file when closed. Packet networks (`"udp"`, `"unixgram"`)
/// have no listeners: `NET_EADDR`; use `net_listen_packet`.
///
/// # Safety
/// `network` and `address` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_listen(network: *const c_char, address: *const c_char) -> i64 {
    const OP: &str = "listen";
    call(OP, || {
        // SAFETY: the caller promises valid strings or NULL.
        let (network, address) = unsafe { network_and_address(OP, network, address)? };
        net::listen(network, address).map(handle::insert)
    })
}

/// Waits for and returns the next connection on `listener`. Fails with
/// `NET_ECLOSED` when the listener is closed, even from another thread while
/// waiting, and with `NET_ETIMEOUT` past the listener's deadline.
#[unsafe(no_mangle)]
pub extern "C" fn net_accept(listener: i64) -> i64 {
    const OP: &str = "accept";
    call(OP, || {
        let fd = lookup_role(OP, listener, Role::Listener)?;
        fd.accept().map(handle::insert)
    })
}

/// Reads up to `len` bytes into `buf`. Returns the number read (at least 1),
/// 0 only at end of stream or when `len` is 0, or a negative code.
///
/// On a packet handle it reads one datagram and returns its length (0 for
/// an empty datagram), dropping the sender's address; a datagram longer
/// than `len` fails with `NET_EMSGSIZE` as `net_read_from` describes.
///
/// With `len` 0 (`buf` may then be NULL): on a stream nothing is read and
/// the call returns 0 at once, whether or not data is waiting, after the
/// checks for a closed handle and a passed deadline, as Go's `Read`. On a
/// packet handle it waits for one datagram, as any read there, and
/// consumes it: 0 if it was empty, else `NET_EMSGSIZE` (Go's `Read`
/// returns 0 at once there; gonet waits, so that an empty datagram can be
/// read, as with `net_read_from`). On a listener, `NET_EINVAL`.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_read(conn: i64, buf: *mut c_void, len: usize) -> i64 {
    const OP: &str = "read";
    call_io(OP, || {
        // SAFETY: the caller's promise on buf is passed on.
        let buf = unsafe { out_buf(OP, buf, len)? };
        with_stream(OP, conn, |fd, me| net::read(fd, buf, me).map(as_count))
    })
}

/// Writes all `len` bytes of `buf` and returns `len`, or fails. Writes from
/// several threads at once never interleave. Never raises SIGPIPE: a write
/// to a peer that is gone fails with `NET_EPIPE` or `NET_ERESET`.
///
/// On a packet handle `buf` is sent as one datagram, whole, or the write
/// fails: `NET_EMSGSIZE` when it is too large for the network. A dialed UDP
/// handle whose peer has no socket fails with `NET_EREFUSED` (Linux learns
/// it from ICMP); an unconnected handle fails with `NET_EINVAL`
/// (destination address required): use `net_write_to`.
///
/// With `len` 0 (`buf` may then be NULL): on a stream nothing is sent and
/// the call returns 0 at once; on a packet handle an empty datagram is
/// sent, which waits for room as any datagram does.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for reads of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_write(conn: i64, buf: *const c_void, len: usize) -> i64 {
    const OP: &str = "write";
    call_io(OP, || {
        // SAFETY: the caller's promise on buf is passed on.
        let buf = unsafe { in_buf(OP, buf, len)? };
        with_stream(OP, conn, |fd, me| net::write(fd, buf, me).map(as_count))
    })
}

/// Closes a connection, listener, dialer, listen config or resolver (whose
/// lookups in flight then fail with `NET_ECANCELED`). Threads blocked on
/// it wake and fail with `NET_ECLOSED` (dials of a closed dialer with
/// `NET_ECANCELED`); the handle is never valid again. Returns 0, or
/// `NET_ECLOSED` if it was already closed.
///
/// Later calls on a closed connection or listener fail with `NET_ECLOSED`
/// and Go's full message, naming it as the calls before the close did
/// (`read tcp 127.0.0.1:39258->127.0.0.1:34751: use of closed network
/// connection`, `close tcp ...` for a second close). For this gonet
/// remembers the network and addresses of the last closed descriptors, in
/// 1024 slots of about a hundred bytes (slot: the handle modulo 1024): a
/// handle is remembered until one issued a multiple of 1024 handles after
/// it is closed too. After that, and for a handle never issued, the
/// message has the short form (`read: use of closed network connection`).
/// The local address is named when it was known before the close (given
/// to the listen or dial, or asked with `net_local_addr`, or named by an
/// error); otherwise the message names the peer alone, as Go's `OpError`
/// does without a source (`read tcp 127.0.0.1:34751: ...`): finding it at
/// close would cost every connection a system call.
///
/// A listener's close returns once no other thread of the process uses
/// it. A listener that other processes may be using on purpose (made
/// before this process called `fork`, as a prefork master's is; adopted
/// with `net_file_listener`; handed out with `net_file`) is closed as Go
/// closes one: this process's descriptor only, so the others keep
/// listening, and its port stays busy while a child forked meanwhile has
/// not yet exec'd. Any other listener is shut down as well, so its port is
/// free at once even while a child started by another thread (with
/// `posix_spawn` or `vfork`) briefly holds a copy.
#[unsafe(no_mangle)]
pub extern "C" fn net_close(handle: i64) -> i64 {
    const OP: &str = "close";
    call(OP, || {
        forget_stream(handle);
        if handle::close(handle).is_none() {
            if let Some(dialer) = handle::DIALERS.remove(handle) {
                dialer.cancel();
            } else if let Some(resolver) = handle::RESOLVERS.remove(handle) {
                resolver.cancel();
            } else if handle::LISTEN_CONFIGS.remove(handle).is_none() {
                return Err(closed_error(OP, handle));
            }
        }
        Ok(0)
    })
}

/// Shuts down the reading side of a stream connection (`NET_EINVAL` on a
/// packet handle).
#[unsafe(no_mangle)]
pub extern "C" fn net_close_read(conn: i64) -> i64 {
    const OP: &str = "close_read";
    call(OP, || {
        let fd = lookup_role(OP, conn, Role::Conn)?;
        fd.shutdown(std::net::Shutdown::Read).map(|()| 0)
    })
}

/// Shuts down the writing side of a stream connection: the peer reads end
/// of stream once it has read what was sent. `NET_EINVAL` on a packet
/// handle.
#[unsafe(no_mangle)]
pub extern "C" fn net_close_write(conn: i64) -> i64 {
    const OP: &str = "close_write";
    call(OP, || {
        let fd = lookup_role(OP, conn, Role::Conn)?;
        fd.shutdown(std::net::Shutdown::Write).map(|()| 0)
    })
}

fn set_deadline(op: &'static str, h: i64, dir: Direction, timeout_ms: i64) -> Result<i64> {
    let fd = lookup(op, h)?;
    fd.set_deadline(dir, deadline_from_timeout(timeout_ms));
    Ok(0)
}

/// Sets the read and write deadlines to now + `timeout_ms`: pending and
/// later calls fail with `NET_ETIMEOUT` once it passes, until it is moved.
/// 0 has already passed (Go's past deadline); `NET_FOREVER` (any negative
/// value) clears the deadline. On a listener it bounds `net_accept`.
/// `NET_ECLOSED` for a closed or unknown handle.
#[unsafe(no_mangle)]
pub extern "C" fn net_set_deadline(handle: i64, timeout_ms: i64) -> i64 {
    const OP: &str = "set_deadline";
    call(OP, || set_deadline(OP, handle, Direction::Both, timeout_ms))
}

/// As `net_set_deadline`, for reads (and accepts) only.
#[unsafe(no_mangle)]
pub extern "C" fn net_set_read_deadline(handle: i64, timeout_ms: i64) -> i64 {
    const OP: &str = "set_read_deadline";
    call(OP, || set_deadline(OP, handle, Direction::Read, timeout_ms))
}

/// As `net_set_deadline`, for writes only.
#[unsafe(no_mangle)]
pub extern "C" fn net_set_write_deadline(handle: i64, timeout_ms: i64) -> i64 {
    const OP: &str = "set_write_deadline";
    call(OP, || {
        set_deadline(OP, handle, Direction::Write, timeout_ms)
    })
}

/// Writes the local address (`127.0.0.1:8088`, `[::1]:8088`, a Unix path)
/// into `buf` NUL-terminated, truncated to `len` bytes like `snprintf`, and
/// returns the address's full length. `buf` may be NULL when `len` is 0.
/// Works on connections and listeners.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_local_addr(handle: i64, buf: *mut c_char, len: usize) -> i64 {
    const OP: &str = "local_addr";
    call(OP, || {
        let fd = lookup(OP, handle)?;
        let text = fd.laddr().map(|a| a.to_string()).unwrap_or_default();
        write_text(OP, &text, buf, len)
    })
}

/// As `net_local_addr`, for the peer's address of a connection; empty
/// (length 0) for a packet handle that is not connected.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_remote_addr(handle: i64, buf: *mut c_char, len: usize) -> i64 {
    const OP: &str = "remote_addr";
    call(OP, || {
        let fd = lookup_conn(OP, handle)?;
        let text = fd.raddr.as_ref().map(|a| a.to_string()).unwrap_or_default();
        write_text(OP, &text, buf, len)
    })
}

/// The socket descriptor behind a connection, packet or listener handle,
/// for waiting until it is ready (`poll`, `epoll`, `select`, Python's
/// `selectors`, an event loop) before calling `net_read`, `net_read_from`
/// or `net_accept`, which then find data or a connection waiting (unless
/// another thread took it first). `net_write` still writes its whole
/// buffer, so it may wait for room beyond what readiness promised. The
/// descriptor stays
/// gonet's: do not close it, read or write it directly, or change its
/// flags. It is valid until `net_close`; after that its number may be
/// reused, so stop watching it before closing the handle. A close from
/// another thread shuts a blocked stream or datagram socket down, which a
/// watcher sees as ready (the call then fails with `NET_ECLOSED`), and so
/// is a listener's unless other processes may share it (see
/// `net_close`): stop watching a listener before closing it.
/// `NET_ECLOSED` for a closed or unknown handle, `NET_EINVAL` for a dialer.
#[unsafe(no_mangle)]
pub extern "C" fn net_fd(handle: i64) -> i64 {
    const OP: &str = "fd";
    call(OP, || Ok(i64::from(lookup(OP, handle)?.raw())))
}

pub(crate) fn tcp_conn(op: &'static str, h: i64) -> Result<FdRef> {
    let fd = lookup_role(op, h, Role::Conn)?;
    if fd.net.is_unix() {
        return Err(fd.error(op, Cause::Invalid("not a TCP connection".to_owned())));
    }
    Ok(fd)
}

/// Turns Nagle's algorithm off (`on` non-zero, the default) or on.
#[unsafe(no_mangle)]
pub extern "C" fn net_set_nodelay(conn: i64, on: c_int) -> i64 {
    const OP: &str = "set_nodelay";
    call(OP, || {
        let fd = tcp_conn(OP, conn)?;
        fd.socket()
            .set_tcp_nodelay(on != 0)
            .map(|()| 0)
            .syscall("setsockopt")
            .map_err(|c| fd.error(OP, c))
    })
}

/// Turns TCP keep-alive on with `period_ms` as both idle time and probe
/// interval (Go's `SetKeepAlivePeriod`), rounded up to whole seconds (the
/// kernel's unit; 0 becomes 1 s). `NET_DEFAULT` is Go's 15 s, which
/// connections start with; `NET_FOREVER` turns keep-alive off. `NET_EINVAL`
/// on a Unix or packet handle.
#[unsafe(no_mangle)]
pub extern "C" fn net_set_keepalive(conn: i64, period_ms: i64) -> i64 {
    const OP: &str = "set_keepalive";
    call(OP, || {
        let fd = tcp_conn(OP, conn)?;
        let period = duration_ms(period_ms, Some(net::KEEPALIVE_PERIOD));
        net::set_keepalive(fd.socket(), period)
            .map(|()| 0)
            .syscall("setsockopt")
            .map_err(|c| fd.error(OP, c))
    })
}
