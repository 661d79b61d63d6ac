//! Thin wrappers over the system calls gonet makes on its hot paths.

use std::os::fd::RawFd;

/// The calling thread's `errno`.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Nanoseconds on the monotonic clock, the time base of every deadline.
pub fn now_ns() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write; CLOCK_MONOTONIC always exists
    // on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Caps one system call's transfer size as Go does (1 GiB), so a huge
/// buffer becomes several calls rather than an error.
const MAX_RW: usize = 1 << 30;

/// `recv` without blocking; `Err(errno)` on failure.
pub fn recv(fd: RawFd, buf: &mut [u8]) -> Result<usize, i32> {
    let len = buf.len().min(MAX_RW);
    // SAFETY: buf is valid for writes of len bytes.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), len, libc::MSG_DONTWAIT) };
    if n < 0 { Err(errno()) } else { Ok(n as usize) }
}

/// `recv` on a blocking socket: waits in the kernel for data.
pub fn recv_blocking(fd: RawFd, buf: &mut [u8]) -> Result<usize, i32> {
    let len = buf.len().min(MAX_RW);
    // SAFETY: buf is valid for writes of len bytes.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), len, 0) };
    if n < 0 { Err(errno()) } else { Ok(n as usize) }
}

/// `send` without blocking and without SIGPIPE; `Err(errno)` on failure.
pub fn send(fd: RawFd, buf: &[u8]) -> Result<usize, i32> {
    let len = buf.len().min(MAX_RW);
    // SAFETY: buf is valid for reads of len bytes.
    let n = unsafe {
        libc::send(
            fd,
            buf.as_ptr().cast(),
            len,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 { Err(errno()) } else { Ok(n as usize) }
}

/// `send` on a blocking socket, without SIGPIPE: waits in the kernel for
/// room in the send buffer.
pub fn send_blocking(fd: RawFd, buf: &[u8]) -> Result<usize, i32> {
    let len = buf.len().min(MAX_RW);
    // SAFETY: buf is valid for reads of len bytes.
    let n = unsafe { libc::send(fd, buf.as_ptr().cast(), len, libc::MSG_NOSIGNAL) };
    if n < 0 { Err(errno()) } else { Ok(n as usize) }
}

/// Whether `fd` has something to read (for a listener: a connection
/// queued) at this moment, without waiting.
pub fn readable(fd: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: pfd is one live pollfd; a zero timeout never blocks.
    let rc = unsafe { libc::poll(&mut pfd, 1, 0) };
    rc > 0 && pfd.revents != 0
}

/// `accept4` giving a blocking, close-on-exec descriptor (reads and
/// writes without a deadline block in `recv` and `send`; everything else
/// passes MSG_DONTWAIT) and the peer's address.
pub fn accept(fd: RawFd) -> Result<(RawFd, socket2::SockAddr), i32> {
    // SAFETY: try_init hands us zeroed storage and its length to fill, as
    // accept4 does.
    let res = unsafe {
        socket2::SockAddr::try_init(|storage, len| {
            let nfd = libc::accept4(fd, storage.cast(), len, libc::SOCK_CLOEXEC);
            if nfd < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(nfd)
            }
        })
    };
    res.map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
}

/// Receives one datagram with `recvmsg`, without blocking. Returns the
/// datagram's real length, which is more than `buf.len()` when the rest was
/// cut off (MSG_TRUNC asks the kernel for it), and the sender's address
/// (empty when the sender is an unnamed Unix socket).
pub fn recv_datagram(fd: RawFd, buf: &mut [u8]) -> Result<(usize, socket2::SockAddr), i32> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len().min(MAX_RW),
    };
    // SAFETY: try_init hands us zeroed address storage and its length;
    // recvmsg writes at most that many address bytes and at most iov_len
    // bytes into buf, which is valid for writes of that many.
    let res = unsafe {
        socket2::SockAddr::try_init(|storage, addr_len| {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_name = storage.cast();
            msg.msg_namelen = *addr_len;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            let n = libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT | libc::MSG_TRUNC);
            if n < 0 {
                return Err(std::io::Error::last_os_error());
            }
            *addr_len = msg.msg_namelen;
            Ok(n as usize)
        })
    };
    res.map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
}

/// Sends `buf` as one datagram, to `to` or to the connected peer, without
/// blocking and without SIGPIPE. Unlike `send`, never caps the length: a
/// datagram is sent whole or not at all.
pub fn send_datagram(fd: RawFd, buf: &[u8], to: Option<&socket2::SockAddr>) -> Result<usize, i32> {
    // The kernel would silently clamp a longer length to INT_MAX, which no
    // datagram socket accepts anyway.
    if buf.len() > i32::MAX as usize {
        return Err(libc::EMSGSIZE);
    }
    let (addr, addr_len) = to.map_or((std::ptr::null(), 0), |a| (a.as_ptr(), a.len()));
    // SAFETY: buf is valid for reads of its length; addr is NULL with
    // length 0, or points to a socket address of addr_len bytes.
    let n = unsafe {
        libc::sendto(
            fd,
            buf.as_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            addr.cast(),
            addr_len,
        )
    };
    if n < 0 { Err(errno()) } else { Ok(n as usize) }
}

// Not in the libc crate for Linux; the values are glibc's and musl's.
const PTHREAD_CANCEL_ENABLE: libc::c_int = 0;
const PTHREAD_CANCEL_DISABLE: libc::c_int = 1;

unsafe extern "C" {
    fn pthread_setcancelstate(state: libc::c_int, oldstate: *mut libc::c_int) -> libc::c_int;
}

/// Holds off `pthread_cancel` for the calling thread while it lives.
///
/// A cancel acts at the next cancellation point (recv, send, connect,
/// close, poll, ...) by unwinding the thread, which inside gonet would run
/// into Rust frames that cannot be unwound that way: the process aborts.
/// With cancellation held off, a cancel that arrives during a call waits
/// for it to end and acts at the thread's next cancellation point outside
/// gonet. A blocked call still ends as in Go: by a close or a deadline.
pub(crate) struct CancelHeldOff {
    was_enabled: bool,
}

impl CancelHeldOff {
    #[inline]
    pub(crate) fn new() -> CancelHeldOff {
        let mut old = PTHREAD_CANCEL_DISABLE;
        // SAFETY: a valid state and a live int to write the old one to;
        // no other effect than on the calling thread's cancel state.
        unsafe { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &mut old) };
        CancelHeldOff {
            was_enabled: old == PTHREAD_CANCEL_ENABLE,
        }
    }
}

impl Drop for CancelHeldOff {
    #[inline]
    fn drop(&mut self) {
        if self.was_enabled {
            let mut old = 0;
            // SAFETY: as in `new`. A pending cancel does not act here
            // (deferred cancellation acts only at cancellation points).
            unsafe { pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &mut old) };
        }
    }
}

/// How many forks separate this process from the one that loaded gonet:
/// 0 there, 1 in its children, and so on. A descriptor records the count
/// it was made under, so a child can tell the sockets it inherited (shared
/// with its parent) from its own.
pub(crate) fn fork_generation() -> u32 {
    static WATCHING: std::sync::Once = std::sync::Once::new();
    WATCHING.call_once(|| {
        // SAFETY: registers a handler that only increments an atomic,
        // which is async-signal-safe as a forked child's handlers must be.
        // Registered before the first descriptor exists, so no fork that
        // copies one goes uncounted. Failure (ENOMEM) leaves every socket
        // counted as the process's own, as before there was a count.
        unsafe { libc::pthread_atfork(None, None, Some(count_fork)) };
    });
    FORKS.load(std::sync::atomic::Ordering::Relaxed)
}

static FORKS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

unsafe extern "C" fn count_fork() {
    FORKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Keeps SIGPIPE from the calling thread while it lives.
///
/// `splice(2)` and `sendfile(2)` into a socket whose peer has gone raise
/// SIGPIPE as well as failing with EPIPE, and unlike `send` they have no
/// MSG_NOSIGNAL; its default action would end a C program. So the signal
/// is blocked in this thread for the call, and one the call raised (the
/// kernel sends it to the calling thread) is taken back before it is
/// unblocked. A SIGPIPE already pending when the call began, which only a
/// program blocking it can have, is left pending.
pub(crate) struct SigpipeHeldOff {
    was_blocked: bool,
    was_pending: bool,
}

fn sigpipe_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before sigaddset reads it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        set
    }
}

fn sigpipe_pending() -> bool {
    // SAFETY: sigpending fills the live set it is given.
    unsafe {
        let mut pending: libc::sigset_t = std::mem::zeroed();
        libc::sigpending(&mut pending) == 0 && libc::sigismember(&pending, libc::SIGPIPE) == 1
    }
}

impl SigpipeHeldOff {
    pub(crate) fn new() -> SigpipeHeldOff {
        let set = sigpipe_set();
        // SAFETY: live sets; changes only the calling thread's mask.
        let was_blocked = unsafe {
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) == 0
                && libc::sigismember(&old, libc::SIGPIPE) == 1
        };
        SigpipeHeldOff {
            was_blocked,
            was_pending: sigpipe_pending(),
        }
    }
}

impl Drop for SigpipeHeldOff {
    fn drop(&mut self) {
        let set = sigpipe_set();
        if !self.was_pending && sigpipe_pending() {
            let now = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: live set and timespec; a zero timeout never blocks.
            unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &now) };
        }
        if !self.was_blocked {
            // SAFETY: as in `new`.
            unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
        }
    }
}
