//! The C ABI of what Go offers on a connection's socket beyond reads and
//! writes: `RawConn.Control`, and the options of `TCPConn` and `UDPConn`
//! (linger, buffer sizes, Go 1.23's keep-alive configuration).

use super::boundary::{call, lookup, lookup_conn};
use super::conn::tcp_conn;
use crate::error::{Cause, NetError, SyscallResult};
use crate::net::KeepAliveConfig;
use std::ffi::{c_int, c_void};
use std::time::Duration;

/// The function `net_control` calls with a handle's descriptor.
#[allow(non_camel_case_types)]
pub type net_fd_fn = Option<unsafe extern "C" fn(fd: c_int, arg: *mut c_void)>;

/// Go's `RawConn.Control`: calls `fn(fd, arg)` with the descriptor of
/// connection, listener or packet handle `h`, which gonet keeps open and
/// does not reuse until `fn` returns: a `net_close` of `h` from another
/// thread waits for it, so any `setsockopt` or `getsockopt` in `fn` is
/// free of races. `fn` must not close `fd`. Returns 0; `NET_ECLOSED` once
/// `h` is closed; `NET_EINVAL` for a NULL `fn`.
///
/// # Safety
/// `fn` is NULL or a function that may be called with `arg`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_control(h: i64, r#fn: net_fd_fn, arg: *mut c_void) -> i64 {
    const OP: &str = "control";
    call(OP, || {
        let Some(func) = r#fn else {
            return Err(NetError::invalid(OP, "fn is NULL"));
        };
        let fd = lookup(OP, h)?;
        // SAFETY: the descriptor is open for the whole call (see
        // `NetFd::control`); the function and its argument are the
        // caller's, who promised they may be called so.
        fd.control(OP, |raw| unsafe { func(raw, arg) })?;
        Ok(0)
    })
}

/// The operation Go names in a setter's errors (`set tcp ...:
/// setsockopt: ...`).
const SET: &str = "set";

/// Go's `TCPConn.SetLinger`: what `net_close` does with data not yet sent.
/// A negative `sec` is the default (send it in the background); 0 drops
/// it and resets the connection (the peer's read fails with
/// `NET_ERESET`); a positive value lets the close send it for up to `sec`
/// seconds, after which the connection is reset.
#[unsafe(no_mangle)]
pub extern "C" fn net_set_linger(conn: i64, sec: i64) -> i64 {
    call(SET, || {
        let fd = tcp_conn(SET, conn)?;
        let linger = (sec >= 0).then(|| Duration::from_secs(sec.min(i32::MAX as i64) as u64));
        fd.socket()
            .set_linger(linger)
            .syscall("setsockopt")
            .map_err(|c| fd.error(SET, c))?;
        Ok(0)
    })
}

fn set_buffer(h: i64, bytes: i64, read: bool) -> crate::error::Result<i64> {
    let fd = lookup_conn(SET, h)?;
    if bytes < 0 {
        return Err(fd.error(SET, Cause::Invalid(format!("negative buffer size {bytes}"))));
    }
    let bytes = bytes.min(i32::MAX as i64) as usize;
    let sock = fd.socket();
    let done = if read {
        sock.set_recv_buffer_size(bytes)
    } else {
        sock.set_send_buffer_size(bytes)
    };
    done.syscall("setsockopt").map_err(|c| fd.error(SET, c))?;
    Ok(0)
}

/// Go's `SetReadBuffer`: asks for a receive buffer (SO_RCVBUF) of `bytes`
/// on a stream or packet connection. The kernel doubles the value for its
/// bookkeeping and caps it at `net.core.rmem_max`. `NET_EINVAL` for a
/// negative size or a listener.
#[unsafe(no_mangle)]
pub extern "C" fn net_set_read_buffer(h: i64, bytes: i64) -> i64 {
    call(SET, || set_buffer(h, bytes, true))
}

/// Go's `SetWriteBuffer`: as `net_set_read_buffer`, for the send buffer
/// (SO_SNDBUF, capped at `net.core.wmem_max`).
#[unsafe(no_mangle)]
pub extern "C" fn net_set_write_buffer(h: i64, bytes: i64) -> i64 {
    call(SET, || set_buffer(h, bytes, false))
}

/// Go 1.23's `TCPConn.SetKeepAliveConfig`: turns keep-alive on with an
/// idle time before the first probe (TCP_KEEPIDLE), an interval between
/// probes (TCP_KEEPINTVL) and a number of unanswered probes after which
/// the connection is dropped (TCP_KEEPCNT). The times are `*_ms`
/// arguments, rounded up to whole seconds (the kernel's unit, at least
/// one): `NET_DEFAULT` is Go's 15 s, and any other negative value leaves
/// the system's setting as it is (Go's negative). The count: 0 or
/// `NET_DEFAULT` is Go's 9; another negative value leaves it as it is.
/// `NET_EINVAL` on anything but a TCP connection.
#[unsafe(no_mangle)]
pub extern "C" fn net_set_keepalive_config(
    conn: i64,
    idle_ms: i64,
    interval_ms: i64,
    count: i64,
) -> i64 {
    call(SET, || {
        let fd = tcp_conn(SET, conn)?;
        KeepAliveConfig {
            idle_ms,
            interval_ms,
            count,
        }
        .apply(fd.socket())
        .syscall("setsockopt")
        .map_err(|c| fd.error(SET, c))?;
        Ok(0)
    })
}
