//! The panic boundary and the per-thread last error, and the argument
//! checks every exported function shares: C strings, buffer lengths,
//! handles of the right kind, timeouts.
//!
//! Threads: every function may be called from any thread, and any handle may
//! be used by several threads at once. Writes on one connection never
//! interleave; reads each take a contiguous piece of the stream; `net_close`
//! from any thread wakes the others blocked on that handle.

use crate::error::{Cause, NET_EINTERNAL, NetError, Result, describe};
use crate::handle;
use crate::net::{FdRef, NetFd, Role};
use crate::poll::{Caller, CancelHeldOff, NO_DEADLINE, now_ns};
use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString, c_char, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(err: &NetError) {
    let text = err.to_string().replace('\0', " ");
    let text = CString::new(text).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = text);
}

/// The panic boundary: runs `f`, turns its error into a code and a message,
/// and a panic into `NET_EINTERNAL`, so that nothing unwinds into C. It
/// holds `pthread_cancel` off while `f` runs (see `CancelHeldOff`).
pub(crate) fn call(op: &'static str, f: impl FnOnce() -> Result<i64>) -> i64 {
    let _cancel = CancelHeldOff::new();
    boundary(op, f)
}

/// `call` without holding cancel off, for `net_read` and `net_write`,
/// whose paths have no cancellation point of their own: their system
/// calls go through `syscall(2)` (`poll/sys.rs`), and where they can reach
/// one (a wait in poll, an error's text) they hold cancel off there. That
/// saves two atomic updates of the thread's cancel state a call: 4.3 ns of
/// the 17.6 a zero-length `net_read` cost (`bench/percall.c`, pinned).
#[inline]
pub(crate) fn call_io(op: &'static str, f: impl FnOnce() -> Result<i64>) -> i64 {
    boundary(op, f)
}

#[inline]
fn boundary(op: &'static str, f: impl FnOnce() -> Result<i64>) -> i64 {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => {
            set_last_error(&err);
            err.code()
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_owned());
            set_last_error(&NetError::new(op, "", Cause::Internal(what)));
            NET_EINTERNAL
        }
    }
}

/// Reads a C string argument: NULL and non-UTF-8 are `NET_EINVAL`.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string.
pub(crate) unsafe fn arg_str<'a>(
    op: &'static str,
    what: &str,
    ptr: *const c_char,
) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(NetError::invalid(op, format!("{what} is NULL")));
    }
    // SAFETY: non-NULL, and the caller promises NUL termination.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| NetError::invalid(op, format!("{what} is not valid UTF-8")))
}

#[inline]
pub(crate) fn check_len(op: &'static str, ptr_is_null: bool, len: usize) -> Result<()> {
    if len > isize::MAX as usize || (ptr_is_null && len > 0) {
        return Err(bad_len(op, len));
    }
    Ok(())
}

/// The errors of `check_len`, out of line: they are never on the path of a
/// call that works.
#[cold]
#[inline(never)]
fn bad_len(op: &'static str, len: usize) -> NetError {
    if len > isize::MAX as usize {
        NetError::invalid(op, format!("length {len} is too large"))
    } else {
        NetError::invalid(op, "buffer is NULL")
    }
}

/// The `network` and `address` strings most calls take, each read as
/// `arg_str` reads it (NULL and non-UTF-8 are `NET_EINVAL`).
///
/// # Safety
/// `network` and `address` are NULL or NUL-terminated strings.
pub(crate) unsafe fn network_and_address<'a>(
    op: &'static str,
    network: *const c_char,
    address: *const c_char,
) -> Result<(&'a str, &'a str)> {
    // SAFETY: the caller's promises are passed on.
    unsafe {
        Ok((
            arg_str(op, "network", network)?,
            arg_str(op, "address", address)?,
        ))
    }
}

/// A buffer C passes for gonet to fill: `NET_EINVAL` for a length over
/// `isize::MAX` or NULL with a length; NULL with length 0 is empty.
///
/// # Safety
/// `buf` is NULL or valid for writes of `len` bytes while `'a` lasts.
#[inline]
pub(crate) unsafe fn out_buf<'a>(
    op: &'static str,
    buf: *mut c_void,
    len: usize,
) -> Result<&'a mut [u8]> {
    check_len(op, buf.is_null(), len)?;
    if len == 0 {
        return Ok(&mut []);
    }
    // SAFETY: non-NULL, len <= isize::MAX, and the caller promises len
    // writable bytes.
    Ok(unsafe { std::slice::from_raw_parts_mut(buf.cast(), len) })
}

/// A buffer C passes for gonet to read, checked as `out_buf`'s.
///
/// # Safety
/// `buf` is NULL or valid for reads of `len` bytes while `'a` lasts.
#[inline]
pub(crate) unsafe fn in_buf<'a>(
    op: &'static str,
    buf: *const c_void,
    len: usize,
) -> Result<&'a [u8]> {
    check_len(op, buf.is_null(), len)?;
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: non-NULL, len <= isize::MAX, and the caller promises len
    // readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(buf.cast(), len) })
}

/// An address buffer C passes (`addr`, `addr_len`, `snprintf`-style):
/// checked, and holding the empty string until an address is written, so
/// that a call failing before it has one leaves `""` there.
///
/// # Safety
/// `addr` is NULL (with `addr_len` 0) or valid for writes of `addr_len`
/// bytes.
pub(crate) unsafe fn addr_buf(op: &'static str, addr: *mut c_char, addr_len: usize) -> Result<()> {
    if addr.is_null() && addr_len > 0 {
        return Err(NetError::invalid(op, "address buffer is NULL"));
    }
    check_len(op, false, addr_len)?;
    if addr_len > 0 {
        // SAFETY: addr is non-NULL and writable for addr_len >= 1 bytes.
        unsafe { *addr = 0 };
    }
    Ok(())
}

/// The open descriptor behind `h`; `NET_ECLOSED` when there is none.
#[inline]
pub(crate) fn lookup(op: &'static str, h: i64) -> Result<FdRef> {
    match handle::get(h) {
        Some(fd) => Ok(fd),
        None => Err(not_open(op, h)),
    }
}

#[cold]
#[inline(never)]
fn not_open(op: &'static str, h: i64) -> NetError {
    if handle::DIALERS.get(h).is_some() {
        NetError::invalid(op, format!("handle {h} is a dialer"))
    } else if handle::RESOLVERS.get(h).is_some() {
        NetError::invalid(op, format!("handle {h} is a resolver"))
    } else if handle::LISTEN_CONFIGS.get(h).is_some() {
        NetError::invalid(op, format!("handle {h} is a listen config"))
    } else {
        closed_error(op, h)
    }
}

/// The error for a call on handle `h`, which is not open: Go's full
/// message when it is a closed descriptor gonet still remembers, else the
/// short form (`read: use of closed network connection`).
#[cold]
#[inline(never)]
pub(crate) fn closed_error(op: &'static str, h: i64) -> NetError {
    match handle::closed(h) {
        Some(ends) => ends.error(op, Cause::Closed),
        None => NetError::new(op, "", Cause::Closed),
    }
}

pub(crate) fn lookup_role(op: &'static str, h: i64, role: Role) -> Result<FdRef> {
    let fd = lookup(op, h)?;
    if fd.role != role {
        let what = match (fd.role, role) {
            (Role::Conn, Role::Packet) => "a stream connection, not a packet connection",
            (Role::Conn, _) => "a connection, not a listener",
            (Role::Listener, Role::Packet) => "a listener, not a packet connection",
            (Role::Listener, _) => "a listener, not a connection",
            (Role::Packet, Role::Listener) => "a packet connection, not a listener",
            (Role::Packet, _) => "a packet connection, not a stream connection",
        };
        return Err(fd.error(op, Cause::Invalid(format!("handle {h} is {what}"))));
    }
    Ok(fd)
}

/// A handle that reads and writes: a stream or a packet connection.
#[inline]
pub(crate) fn lookup_conn(op: &'static str, h: i64) -> Result<FdRef> {
    let fd = lookup(op, h)?;
    if fd.role == Role::Listener {
        return Err(not_a_conn(op, h, &fd));
    }
    Ok(fd)
}

/// How many stream connections each thread keeps at hand (`with_stream`).
const STREAMS_KEPT: usize = 4;

type KeptStream = Cell<Option<(i64, Arc<NetFd>)>>;

/// What a thread keeps for its reads and writes, in one thread-local:
/// each is a call to `__tls_get_addr` in a shared library.
struct ThisThread {
    streams: [KeptStream; STREAMS_KEPT],
    /// The thread as a lock holder (`poll::Caller`), once asked.
    caller: Cell<Option<Caller>>,
}

thread_local! {
    /// The stream connections this thread read or wrote lately, each in
    /// slot `handle % STREAMS_KEPT`. Handles are never issued twice, so a
    /// kept handle names the same connection for good; once it is closed,
    /// it is dropped from here at the next look. What is kept is memory
    /// only: a closed connection's socket is closed by its last user, not
    /// by its last `Arc` (see `net/fd.rs`), so a thread that keeps one
    /// and then sleeps does not keep the socket open.
    static STREAMS: ThisThread = const {
        ThisThread {
            streams: [const { Cell::new(None) }; STREAMS_KEPT],
            caller: Cell::new(None),
        }
    };
}

/// Runs `f` with the open connection `h`, for `net_read` and `net_write`,
/// which take a direction lock before they touch the socket (the lock,
/// not an `FdRef`, keeps the socket open during the call). A connection
/// this thread used lately is found without the handle table: the table's
/// shard lock and the `Arc`'s reference count are four atomic updates a
/// call, a third of gonet's own cost per call (`bench/percall.sh`).
#[inline]
pub(crate) fn with_stream(
    op: &'static str,
    h: i64,
    f: impl FnOnce(&NetFd, Caller) -> Result<i64>,
) -> Result<i64> {
    let slot = (h as u64 % STREAMS_KEPT as u64) as usize;
    let mut f = Some(f);
    // One look-up of the thread-local for the whole call.
    let kept = STREAMS.try_with(|this| {
        let caller = match this.caller.get() {
            Some(caller) => caller,
            None => {
                let caller = Caller::current();
                this.caller.set(Some(caller));
                caller
            }
        };
        // SAFETY: only this thread reaches its slots, and nothing between
        // here and the end of `f` (a read or a write: no user code, no
        // other gonet call) sets one, so the entry is neither moved nor
        // dropped while borrowed. Borrowed in place rather than taken out
        // and put back: the put-back was a write to this thread's block
        // after the system call, and that line costs to bring back.
        let kept = unsafe { &*this.streams[slot].as_ptr() };
        match kept {
            Some((k, fd)) if *k == h && !fd.is_closed() => f.take().map(|f| f(fd, caller)),
            _ => None,
        }
    });
    if let Ok(Some(result)) = kept {
        return result;
    }
    match f {
        Some(f) => with_stream_looked_up(op, h, slot, f),
        None => Err(NetError::new(op, "", Cause::Internal("no call".to_owned()))),
    }
}

/// `with_stream` for a connection not kept: looked up, and kept.
#[inline(never)]
fn with_stream_looked_up(
    op: &'static str,
    h: i64,
    slot: usize,
    f: impl FnOnce(&NetFd, Caller) -> Result<i64>,
) -> Result<i64> {
    let fd = lookup_conn(op, h)?;
    if fd.role == Role::Conn {
        let _ = STREAMS.try_with(|this| this.streams[slot].set(Some((h, fd.arc().clone()))));
    }
    f(&fd, Caller::current())
}

/// Drops `h` from this thread's kept connections (`net_close`), so that
/// its memory goes with it when no other thread keeps it.
pub(crate) fn forget_stream(h: i64) {
    let slot = (h as u64 % STREAMS_KEPT as u64) as usize;
    let _ = STREAMS.try_with(|this| {
        let kept = this.streams[slot].take();
        if matches!(&kept, Some((k, _)) if *k != h) {
            this.streams[slot].set(kept);
        }
    });
}

#[cold]
#[inline(never)]
fn not_a_conn(op: &'static str, h: i64, fd: &NetFd) -> NetError {
    let what = format!("handle {h} is a listener, not a connection");
    fd.error(op, Cause::Invalid(what))
}

/// For any `*_ms` argument: a duration without end. A deadline set to it
/// is cleared; a timeout is none; a keep-alive period is keep-alive off; a
/// fallback delay is no race (every address in turn). Every negative value
/// other than `NET_DEFAULT` means the same.
pub const NET_FOREVER: i64 = -1;

/// For any `*_ms` argument: Go's default for that setting. For deadlines
/// and timeouts that is none (as `NET_FOREVER`); keep-alive probes every
/// 15 s; the fallback delay is 300 ms.
pub const NET_DEFAULT: i64 = -2;

/// Reads a `*_ms` argument, the same way for every function: 0 or more is
/// that many milliseconds (0 is no time at all: a deadline already passed,
/// a timeout already over, a fallback started at once), `NET_DEFAULT` is
/// `default`, and any other negative value (`NET_FOREVER`) is `None`.
pub(crate) fn duration_ms(ms: i64, default: Option<Duration>) -> Option<Duration> {
    match ms {
        NET_DEFAULT => default,
        ms if ms < 0 => None,
        ms => Some(Duration::from_millis(ms as u64)),
    }
}

/// The deadline (monotonic ns) `timeout_ms` from now; `NO_DEADLINE` for
/// `NET_FOREVER` and `NET_DEFAULT` (deadlines and timeouts default to none).
pub(crate) fn deadline_from_timeout(timeout_ms: i64) -> i64 {
    match duration_ms(timeout_ms, None) {
        None => NO_DEADLINE,
        Some(_) => now_ns()
            .saturating_add(timeout_ms.saturating_mul(1_000_000))
            .min(NO_DEADLINE - 1),
    }
}

pub(crate) fn as_count(n: usize) -> i64 {
    n as i64
}

/// The version of the library, such as `"0.1.0"`.
#[unsafe(no_mangle)]
pub extern "C" fn net_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A static, NUL-terminated description of a `NET_E*` code (or 0).
#[unsafe(no_mangle)]
pub extern "C" fn net_strerror(code: i64) -> *const c_char {
    describe(code).as_ptr()
}

/// The message of the last failure on the calling thread, in Go's words
/// (`dial tcp 127.0.0.1:1: connect: connection refused`), or `""` if there
/// was none. The text stays valid until the next failing gonet call on the
/// same thread.
#[unsafe(no_mangle)]
pub extern "C" fn net_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// Copies `text` into `buf` like `snprintf`: at most `len - 1` bytes and a
/// NUL; returns the full length of `text`.
pub(crate) fn write_text(
    op: &'static str,
    text: &str,
    buf: *mut c_char,
    len: usize,
) -> Result<i64> {
    check_len(op, buf.is_null(), len)?;
    if len > 0 {
        let n = text.len().min(len - 1);
        // SAFETY: buf is non-NULL and, as the caller promises, writable for
        // len bytes; n + 1 <= len.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    Ok(as_count(text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_einternal_with_a_message() {
        let prev = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        let rc = call("read", || panic!("boom"));
        panic::set_hook(prev);
        assert_eq!(rc, NET_EINTERNAL);
        // SAFETY: net_last_error returns a valid NUL-terminated string.
        let msg = unsafe { CStr::from_ptr(net_last_error()) }
            .to_str()
            .unwrap();
        assert_eq!(msg, "read: internal error: boom");
    }
}
