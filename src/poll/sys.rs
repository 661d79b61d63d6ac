//! Thin wrappers over the system calls gonet makes on its hot paths.
//!
//! The reads and writes here go through `syscall(2)` rather than glibc's
//! `recv`, `send`, `recvmsg` and `sendto`, which are cancellation points:
//! with no cancellation point on their paths, `net_read` and `net_write`
//! need not hold `pthread_cancel` off (two atomic updates of the thread's
//! cancel state a call, see `capi/boundary.rs`), and glibc's wrappers in a
//! threaded program also switch the thread to asynchronous cancellation
//! around each call and back (two more). A thread blocked here that is
//! cancelled stays blocked (the cancel only marks it) until a close or a
//! deadline ends the call; the cancel acts at its next cancellation point.

use std::os::fd::RawFd;

/// The result of a raw system call: the count, or the errno.
#[cfg(not(target_arch = "x86_64"))]
fn counted(n: libc::c_long) -> Result<usize, i32> {
    if n < 0 { Err(errno()) } else { Ok(n as usize) }
}

/// A system call with six arguments: the count, or the errno. On x86-64
/// the `syscall` instruction itself, inline: glibc's `syscall(2)` is a
/// call, a shuffle of seven registers and, on failure, a write to the
/// thread's `errno`, and every instruction after the kernel returns runs
/// with the caches the kernel left (`bench/percall.sh`).
///
/// # Safety
/// The arguments are valid for system call `nr`.
#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn syscall6(nr: libc::c_long, args: [usize; 6]) -> Result<usize, i32> {
    let ret: isize;
    // SAFETY: the x86-64 Linux system call convention: number in rax,
    // arguments in rdi, rsi, rdx, r10, r8, r9; the kernel returns in rax
    // and clobbers rcx and r11; no stack is used. The caller vouches for
    // the arguments.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        )
    };
    // -4095..-1 is an errno; anything else a count.
    if (-4095..0).contains(&ret) {
        Err(-ret as i32)
    } else {
        Ok(ret as usize)
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn syscall6(nr: libc::c_long, args: [usize; 6]) -> Result<usize, i32> {
    // SAFETY: passed on from the caller.
    counted(unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]) })
}

/// `recvfrom(fd, buf, len, flags, NULL, NULL)`, not a cancellation point.
///
/// # Safety
/// `buf` is valid for writes of `len` bytes.
unsafe fn raw_recv(fd: RawFd, buf: *mut u8, len: usize, flags: libc::c_int) -> Result<usize, i32> {
    // SAFETY: the caller's promise on buf; NULL address and length ask for
    // no sender.
    unsafe {
        syscall6(
            libc::SYS_recvfrom,
            [fd as usize, buf as usize, len, flags as usize, 0, 0],
        )
    }
}

/// `sendto(fd, buf, len, flags, addr, addr_len)`, not a cancellation point.
///
/// # Safety
/// `buf` is valid for reads of `len` bytes; `addr` is NULL with `addr_len`
/// 0 or points to a socket address of `addr_len` bytes.
unsafe fn raw_send(
    fd: RawFd,
    buf: *const u8,
    len: usize,
    flags: libc::c_int,
    addr: *const libc::sockaddr,
    addr_len: libc::socklen_t,
) -> Result<usize, i32> {
    // SAFETY: passed on from the caller.
    unsafe {
        syscall6(
            libc::SYS_sendto,
            [
                fd as usize,
                buf as usize,
                len,
                flags as usize,
                addr as usize,
                addr_len as usize,
            ],
        )
    }
}

/// Closes a descriptor without being a cancellation point (the last user
/// of a socket closes it, which can be inside `net_read`).
pub fn close(fd: RawFd) {
    // SAFETY: the caller owns fd and gives it up.
    unsafe { libc::syscall(libc::SYS_close, fd) };
}

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
    unsafe { raw_recv(fd, buf.as_mut_ptr(), len, libc::MSG_DONTWAIT) }
}

/// `recv` on a blocking socket: waits in the kernel for data.
pub fn recv_blocking(fd: RawFd, buf: &mut [u8]) -> Result<usize, i32> {
    let len = buf.len().min(MAX_RW);
    // SAFETY: buf is valid for writes of len bytes.
    unsafe { raw_recv(fd, buf.as_mut_ptr(), len, 0) }
}

/// `send` without blocking and without SIGPIPE; `Err(errno)` on failure.
pub fn send(fd: RawFd, buf: &[u8]) -> Result<usize, i32> {
    let len = buf.len().min(MAX_RW);
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    // SAFETY: buf is valid for reads of len bytes; no address.
    unsafe { raw_send(fd, buf.as_ptr(), len, flags, std::ptr::null(), 0) }
}

/// `send` on a blocking socket, without SIGPIPE: waits in the kernel for
/// room in the send buffer.
pub fn send_blocking(fd: RawFd, buf: &[u8]) -> Result<usize, i32> {
    let len = buf.len().min(MAX_RW);
    // SAFETY: buf is valid for reads of len bytes; no address.
    unsafe {
        raw_send(
            fd,
            buf.as_ptr(),
            len,
            libc::MSG_NOSIGNAL,
            std::ptr::null(),
            0,
        )
    }
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
    recv_datagram_split(fd, &mut [], buf)
}

/// As `recv_datagram`, with the datagram's first `head.len()` bytes going
/// to `head` and the rest to `buf` (a raw IPv4 socket's header, which the
/// caller strips without asking the caller's buffer to hold it too).
pub fn recv_datagram_split(
    fd: RawFd,
    head: &mut [u8],
    buf: &mut [u8],
) -> Result<(usize, socket2::SockAddr), i32> {
    let mut iov = [
        libc::iovec {
            iov_base: head.as_mut_ptr().cast(),
            iov_len: head.len(),
        },
        libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len().min(MAX_RW),
        },
    ];
    // An empty head is left out rather than passed with length 0.
    let iov = if head.is_empty() {
        &mut iov[1..]
    } else {
        &mut iov[..]
    };
    // SAFETY: try_init hands us zeroed address storage and its length;
    // recvmsg writes at most that many address bytes and at most each
    // iov_len bytes into head and buf, valid for writes of that many.
    let res = unsafe {
        socket2::SockAddr::try_init(|storage, addr_len| {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_name = storage.cast();
            msg.msg_namelen = *addr_len;
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = iov.len();
            // Through syscall(2): not a cancellation point (see above).
            let flags = libc::MSG_DONTWAIT | libc::MSG_TRUNC;
            let n = libc::syscall(libc::SYS_recvmsg, fd, &mut msg, flags);
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
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    // SAFETY: buf is valid for reads of its length; addr is NULL with
    // length 0, or points to a socket address of addr_len bytes.
    unsafe { raw_send(fd, buf.as_ptr(), buf.len(), flags, addr.cast(), addr_len) }
}
