//! Waiting for a socket to become ready, in a way that another thread can
//! interrupt: every blocked thread polls its socket together with its own
//! eventfd, and `close` or a deadline change signals the eventfds of the
//! threads waiting on that socket. The socket descriptor itself is never
//! closed under a waiting thread (see `fd.rs`), so it cannot be reused under
//! it either.

use crate::sys::{errno, now_ns};
use std::os::fd::RawFd;
use std::sync::Mutex;

/// A deadline that never comes.
pub(crate) const NO_DEADLINE: i64 = i64::MAX;

/// The eventfd of one thread, made on its first wait and closed when the
/// thread ends. One per thread rather than one per socket keeps idle
/// connections at one descriptor each.
struct ThreadWaker(RawFd);

impl ThreadWaker {
    fn new() -> ThreadWaker {
        // SAFETY: eventfd has no pointer arguments.
        ThreadWaker(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })
    }
}

impl Drop for ThreadWaker {
    fn drop(&mut self) {
        if self.0 >= 0 {
            // SAFETY: the eventfd is owned by this value alone.
            unsafe { libc::close(self.0) };
        }
    }
}

thread_local! {
    static WAKER: ThreadWaker = ThreadWaker::new();
}

/// The eventfds of the threads waiting on one socket.
#[derive(Default)]
pub struct WaitList {
    waiters: Mutex<Vec<RawFd>>,
}

impl WaitList {
    /// Interrupts every thread waiting on the socket; they re-check the
    /// socket's state (closed, deadlines) before waiting again.
    pub fn wake_all(&self) {
        let waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        for &efd in waiters.iter() {
            signal(efd);
        }
    }

    fn add(&self, efd: RawFd) {
        self.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(efd);
    }

    fn remove(&self, efd: RawFd) {
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = waiters.iter().position(|&w| w == efd) {
            waiters.swap_remove(i);
        }
    }
}

fn signal(efd: RawFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to an eventfd. A full counter
    // (EAGAIN) already means "wake up", so the result needs no check.
    unsafe { libc::write(efd, (&one as *const u64).cast(), 8) };
}

fn drain(efd: RawFd) {
    let mut count: u64 = 0;
    // SAFETY: reads 8 bytes into a live u64 from a non-blocking eventfd.
    unsafe { libc::read(efd, (&mut count as *mut u64).cast(), 8) };
}

/// Blocks until `fd` is ready for `events`, `deadline` (monotonic ns)
/// passes, or a thread calls `list.wake_all()`. `still_valid` is checked
/// after this thread is registered, so a wake-up that races with the start
/// of the wait is never lost. Returns `Err(errno)` only when polling itself
/// fails; the caller re-checks its state and retries its operation.
pub fn wait(
    fd: RawFd,
    events: libc::c_short,
    deadline: i64,
    list: &WaitList,
    still_valid: impl Fn() -> bool,
) -> Result<(), i32> {
    match WAKER.try_with(|w| w.0) {
        Ok(efd) if efd >= 0 => wait_with(efd, fd, events, deadline, list, still_valid),
        // The thread's waker could not be made (or the thread is ending):
        // fall back to a waker for this wait alone.
        _ => {
            let waker = ThreadWaker::new();
            if waker.0 < 0 {
                return Err(errno());
            }
            wait_with(waker.0, fd, events, deadline, list, still_valid)
        }
    }
}

fn wait_with(
    efd: RawFd,
    fd: RawFd,
    events: libc::c_short,
    deadline: i64,
    list: &WaitList,
    still_valid: impl Fn() -> bool,
) -> Result<(), i32> {
    list.add(efd);
    let result = poll_two(efd, fd, events, deadline, still_valid);
    list.remove(efd);
    result
}

fn poll_two(
    efd: RawFd,
    fd: RawFd,
    events: libc::c_short,
    deadline: i64,
    still_valid: impl Fn() -> bool,
) -> Result<(), i32> {
    if !still_valid() {
        return Ok(());
    }
    let timeout = if deadline == NO_DEADLINE {
        None
    } else {
        let left = deadline - now_ns();
        if left <= 0 {
            return Ok(());
        }
        Some(libc::timespec {
            tv_sec: left / 1_000_000_000,
            tv_nsec: left % 1_000_000_000,
        })
    };
    let mut fds = [
        libc::pollfd {
            fd,
            events,
            revents: 0,
        },
        libc::pollfd {
            fd: efd,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let ts_ptr = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: fds is a live array of two pollfds; ts_ptr is null or points
    // to a live timespec; a null signal mask leaves the mask unchanged.
    let rc = unsafe { libc::ppoll(fds.as_mut_ptr(), 2, ts_ptr, std::ptr::null()) };
    if rc < 0 {
        let e = errno();
        return if e == libc::EINTR { Ok(()) } else { Err(e) };
    }
    if fds[1].revents != 0 {
        drain(efd);
    }
    Ok(())
}
