//! Waiting for a socket in a way that another thread can interrupt.
//!
//! Two ways to wait:
//! - With a deadline (or for accept, connect, and sockets that `net_copy`
//!   has made non-blocking), a thread polls its socket together with its
//!   own eventfd, registered in the socket's `WaitList`; `close` and
//!   deadline changes signal the eventfds.
//! - A read or write without a deadline, the common case, blocks in
//!   `recv` or `send` itself, as on a plain blocking socket: one system
//!   call, no poll, registered by the direction lock it holds (`lock.rs`).
//!   `close` wakes it by shutting the socket down; a
//!   deadline set from another thread for its direction wakes it with a
//!   private real-time signal whose handler does nothing, so the call
//!   returns EINTR (or a partial count) and the thread re-checks its
//!   state. When the signal cannot be had (the host program already
//!   handles it, or `GONET_WAKE_SIGNAL=0`), they use the polling way too.
//!
//! The socket descriptor itself is never closed under a waiting thread
//! (see `net/fd.rs`), so its number cannot be reused under it either.

use super::lock::{DirLock, barrier_for};
use super::process::{self, CancelHeldOff};
use super::signal::wake_signal;
use super::sys::{errno, now_ns};
use std::cell::{Cell, RefCell};
use std::os::fd::RawFd;
use std::sync::Mutex;
use std::sync::atomic::{Ordering, fence};

/// Which side of a socket a wait or a deadline is for: Go's `mode` of
/// `internal/poll` (`'r'`, `'w'`, or both for `SetDeadline`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Read,
    Write,
    Both,
}

/// A deadline that never comes.
pub(crate) const NO_DEADLINE: i64 = i64::MAX;

/// How long a wait that cannot be woken (no eventfd to be had) polls
/// before re-checking whether it was closed or its deadline moved.
const UNWAKEABLE_SLICE_NS: i64 = 10_000_000;

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

/// This thread's waker, with the fork generation it was made in.
struct ThisThreadsWaker {
    waker: RefCell<ThreadWaker>,
    made_in: Cell<u32>,
}

impl ThisThreadsWaker {
    fn new() -> ThisThreadsWaker {
        ThisThreadsWaker {
            waker: RefCell::new(ThreadWaker::new()),
            made_in: Cell::new(process::fork_generation()),
        }
    }

    /// The thread's eventfd. A child forked from this thread starts with a
    /// copy of it, which the parent's thread goes on using: were both to
    /// poll and drain it, one could take a wake-up meant for the other,
    /// and a close would then wait for a deadline. So the child makes its
    /// own the first time it waits.
    fn current(&self) -> RawFd {
        let generation = process::fork_generation();
        if self.made_in.get() != generation {
            // Dropping the inherited value closes the child's copy only.
            *self.waker.borrow_mut() = ThreadWaker::new();
            self.made_in.set(generation);
        }
        self.waker.borrow().0
    }
}

thread_local! {
    static WAKER: ThisThreadsWaker = ThisThreadsWaker::new();
}

/// The threads polling on one socket (or on a dial in progress), each
/// through its thread's eventfd. Threads blocked in a system call are not
/// here: the socket's direction locks name them (`lock.rs`).
#[derive(Default)]
pub struct WaitList {
    pollers: Mutex<Vec<RawFd>>,
}

impl WaitList {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RawFd>> {
        self.pollers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every polling thread; they re-check the socket's state
    /// (closed, deadlines) before waiting again. The fence orders the
    /// caller's store (closed, a deadline) before its next look at the
    /// direction locks (`DirLock::held_blocking`), against a holder's
    /// registration (the lock's compare-and-swap) before its check.
    pub fn wake_all(&self) {
        fence(Ordering::SeqCst);
        for &efd in self.lock().iter() {
            signal(efd);
        }
    }

    fn add(&self, efd: RawFd) {
        self.lock().push(efd);
    }

    fn remove(&self, efd: RawFd) {
        let mut pollers = self.lock();
        if let Some(i) = pollers.iter().position(|&w| w == efd) {
            pollers.swap_remove(i);
        }
    }
}

/// Interrupts the threads that hold `locks` to block in a system call
/// with the wake signal, and repeats until each has come out of a call
/// or let go: a signal that lands just before a thread enters `recv` is
/// spent on nothing. Each signal is sent while its target cannot let go
/// (see `DirLock::interrupt`), so it is still inside gonet, never in the
/// caller's code.
pub fn interrupt_blocked(locks: &[&DirLock]) {
    let Some(sig) = wake_signal() else { return };
    barrier_for(locks);
    let holders: Vec<_> = locks
        .iter()
        .filter_map(|lock| lock.blocking_holder().map(|h| (*lock, h)))
        .filter(|(_, (thread, _))| *thread != 0)
        .collect();
    let give_up = now_ns() + 1_000_000_000;
    loop {
        let mut any = false;
        for (lock, (thread, exits)) in &holders {
            any |= lock.interrupt(*thread, *exits, sig);
        }
        if !any || now_ns() > give_up {
            return;
        }
        std::thread::sleep(std::time::Duration::from_micros(50));
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
    wait_listed(fd, events, deadline, &[list], still_valid)
}

/// As `wait`, woken also through a second socket's list: a copy waiting
/// on one end must wake when the other end is closed.
pub fn wait_also(
    fd: RawFd,
    events: libc::c_short,
    deadline: i64,
    lists: [&WaitList; 2],
    still_valid: impl Fn() -> bool,
) -> Result<(), i32> {
    wait_listed(fd, events, deadline, &lists, still_valid)
}

/// `wait`, registered in every one of `lists`.
fn wait_listed(
    fd: RawFd,
    events: libc::c_short,
    deadline: i64,
    lists: &[&WaitList],
    still_valid: impl Fn() -> bool,
) -> Result<(), i32> {
    // poll and the eventfd's read are cancellation points, and a read or
    // write (which does not hold cancel off for its fast path) can get
    // here.
    let _cancel = CancelHeldOff::new();
    let thread_efd = WAKER
        .try_with(ThisThreadsWaker::current)
        .ok()
        .filter(|&efd| efd >= 0);
    // The thread's waker could not be made (or the thread is ending): a
    // waker for this wait alone.
    let own = thread_efd.is_none().then(ThreadWaker::new);
    let efd = match (thread_efd, &own) {
        (Some(efd), _) => efd,
        (None, Some(w)) if w.0 >= 0 => w.0,
        // Out of descriptors: nothing can wake this wait, but the wait
        // needs no descriptor of its own. Poll the socket alone for a
        // short slice (poll skips a negative descriptor); the caller
        // re-checks closes and deadlines after each, so they still take
        // effect, within a slice, and a read or write ends at its deadline
        // instead of failing with EMFILE.
        _ => {
            let slice_end = now_ns().saturating_add(UNWAKEABLE_SLICE_NS);
            return poll_two(-1, fd, events, slice_end.min(deadline), still_valid);
        }
    };
    for list in lists {
        list.add(efd);
    }
    let result = poll_two(efd, fd, events, deadline, still_valid);
    for list in lists {
        list.remove(efd);
    }
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
