//! Waiting for a socket in a way that another thread can interrupt.
//!
//! Two ways to wait, both registered in the socket's `WaitList`:
//! - With a deadline (or for accept, connect, and sockets that `net_copy`
//!   has made non-blocking), a thread polls its socket together with its
//!   own eventfd; `close` and deadline changes signal the eventfds.
//! - A read or write without a deadline, the common case, blocks in
//!   `recv` or `send` itself, as on a plain blocking socket: one system
//!   call, no poll. `close` wakes it by shutting the socket down; a
//!   deadline set from another thread for its direction wakes it with a
//!   private real-time signal whose handler does nothing, so the call
//!   returns EINTR (or a partial count) and the thread re-checks its
//!   state. When the signal cannot be had (the host program already
//!   handles it, or `GONET_WAKE_SIGNAL=0`), they use the polling way too.
//!
//! The socket descriptor itself is never closed under a waiting thread
//! (see `net/fd.rs`), so its number cannot be reused under it either.

use super::process::{self, CancelHeldOff};
use super::sys::{errno, now_ns};
use std::cell::{Cell, RefCell};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::sync::{Mutex, OnceLock};

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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Waiter {
    /// A thread polling, woken through its eventfd.
    Polling(RawFd),
    /// A thread blocked in a system call on the socket itself, reading
    /// or writing.
    Blocked(libc::pthread_t, Direction),
}

/// The thread blocked in a system call in one direction of a socket.
/// Reads and accepts are serialised by the socket's read lock and writes
/// by its write lock, so there is at most one per direction, and one atomic
/// word holds it: the thread's id with the slot's state in its two low
/// bits. A `pthread_t` is the address of the thread's control block,
/// aligned far beyond 4 (a thread whose id is not uses the list instead),
/// so the path every blocking read and write takes registers with one
/// compare-and-swap and leaves with another, and no lock.
#[derive(Default)]
struct BlockedSlot(AtomicUsize);

const EMPTY: usize = 0;
const OCCUPIED: usize = 1;
/// An interrupter is signalling the thread, which waits for it to finish
/// before leaving, so the signal never lands in the caller's own code (a
/// stray EINTR there) or on a thread that has ended.
const SIGNALLING: usize = 2;
const STATE_BITS: usize = 3;

impl BlockedSlot {
    /// Takes the slot for `me`; false, changing nothing, when it is taken
    /// or `me` does not fit.
    fn enter(&self, me: libc::pthread_t) -> bool {
        let me = me as usize;
        me != 0
            && me & STATE_BITS == 0
            && self
                .0
                .compare_exchange(EMPTY, me | OCCUPIED, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
    }

    /// Empties the slot `me` holds, once no interrupter is signalling it.
    fn leave(&self, me: libc::pthread_t) {
        let held = me as usize | OCCUPIED;
        let mut spins = 0u32;
        while self
            .0
            .compare_exchange(held, EMPTY, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            // SIGNALLING lasts one pthread_kill; yield in case the
            // interrupter was preempted on this CPU.
            spins += 1;
            if spins < 100 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    fn occupied(&self) -> bool {
        self.0.load(Ordering::SeqCst) != EMPTY
    }

    /// Signals the thread in the slot, if any; whether one was there.
    fn interrupt(&self, sig: libc::c_int) -> bool {
        let word = self.0.load(Ordering::SeqCst);
        if word == EMPTY {
            return false;
        }
        if word & STATE_BITS != OCCUPIED {
            // Another interrupter is at it: still blocked.
            return true;
        }
        let thread = word & !STATE_BITS;
        match self.0.compare_exchange(
            word,
            thread | SIGNALLING,
            Ordering::SeqCst,
            Ordering::SeqCst,
        ) {
            Ok(_) => {
                // SAFETY: the thread is in the slot and cannot leave it (nor
                // block_in) while it is SIGNALLING, so it is alive and
                // inside gonet; the handler does nothing.
                unsafe { libc::pthread_kill(thread as libc::pthread_t, sig) };
                self.0.store(word, Ordering::SeqCst);
                true
            }
            Err(now) => now != EMPTY,
        }
    }
}

/// The threads waiting on one socket. The slots come first: they sit next
/// to the descriptor's other hot fields (see `NetFd`).
#[derive(Default)]
#[repr(C)]
pub struct WaitList {
    /// Threads blocked in recv or accept4, and in send.
    reader: BlockedSlot,
    writer: BlockedSlot,
    /// Polling threads, and blocked ones should a slot be taken.
    waiters: Mutex<Vec<Waiter>>,
}

impl WaitList {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiter>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every polling thread; they re-check the socket's state
    /// (closed, deadlines) before waiting again.
    pub fn wake_all(&self) {
        // The same pass close makes; the blocked threads it finds are for
        // the caller to interrupt (see set_deadline), or not.
        self.wake_all_and_find_blocked();
    }

    fn slot(&self, dir: Direction) -> &BlockedSlot {
        match dir {
            Direction::Write => &self.writer,
            _ => &self.reader,
        }
    }

    /// `wake_all` for `close`, which also needs to know whether a thread
    /// is blocked in a system call on the socket (only shutting the socket
    /// down wakes those): one pass over the list for both.
    pub fn wake_all_and_find_blocked(&self) -> bool {
        // Orders the caller's store (closed) before these loads, against
        // block_in's registration before its check (see there).
        fence(Ordering::SeqCst);
        let mut blocked = self.reader.occupied() || self.writer.occupied();
        for waiter in self.lock().iter() {
            match waiter {
                Waiter::Polling(efd) => signal(*efd),
                Waiter::Blocked(..) => blocked = true,
            }
        }
        blocked
    }

    /// Interrupts the threads blocked in a system call on the socket in
    /// direction `dir` (`Both`: all) with the wake signal, and repeats
    /// until they have left it: a signal that lands just before a thread
    /// enters `recv` is spent on nothing. Each signal is sent while its
    /// target cannot unregister (its slot is SIGNALLING, or the list is
    /// locked), so it is still inside gonet, never in the caller's code.
    pub fn interrupt_blocked(&self, dir: Direction) {
        let Some(sig) = wake_signal() else { return };
        let give_up = now_ns() + 1_000_000_000;
        loop {
            fence(Ordering::SeqCst);
            let mut any = false;
            for slot in [Direction::Read, Direction::Write] {
                if dir == Direction::Both || dir == slot {
                    any |= self.slot(slot).interrupt(sig);
                }
            }
            for waiter in self.lock().iter() {
                if let Waiter::Blocked(thread, d) = waiter
                    && (dir == Direction::Both || *d == dir)
                {
                    // SAFETY: the thread is registered, so it is alive and
                    // inside `block_in`; the handler does nothing.
                    unsafe { libc::pthread_kill(*thread, sig) };
                    any = true;
                }
            }
            if !any || now_ns() > give_up {
                return;
            }
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }

    /// Runs `call`, a blocking system call on the socket, registered so
    /// that `close` and deadline changes can interrupt it. `still_valid` is
    /// checked after registering, so an interruption that races with the
    /// start is not lost; its loads must be SeqCst (see below). `None` when
    /// it fails and `call` was not made.
    pub fn block_in<T>(
        &self,
        dir: Direction,
        still_valid: impl Fn() -> bool,
        call: impl FnOnce() -> T,
    ) -> Option<T> {
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() };
        let slot = self.slot(dir);
        if !slot.enter(me) {
            // Only if a caller blocks without its direction's lock.
            let waiter = Waiter::Blocked(me, dir);
            self.add(waiter);
            let result = still_valid().then(call);
            self.remove(waiter);
            return result;
        }
        // Registered before checking: a close or deadline change after the
        // check sees this thread (wake_all_and_find_blocked,
        // interrupt_blocked). The registration is a SeqCst read-modify-
        // write and `still_valid`'s loads are SeqCst, so with the fence
        // the other side makes between its store and its look at the slot,
        // one of the two always sees the other: no fence is needed here
        // (an mfence on x86, on every blocking read and write).
        let result = still_valid().then(call);
        slot.leave(me);
        result
    }

    fn add(&self, waiter: Waiter) {
        self.lock().push(waiter);
    }

    fn remove(&self, waiter: Waiter) {
        let mut waiters = self.lock();
        if let Some(i) = waiters.iter().position(|&w| w == waiter) {
            waiters.swap_remove(i);
        }
    }
}

/// The wake signal, installed on first use: `GONET_WAKE_SIGNAL` picks its
/// number (0 turns blocking reads off); by default SIGRTMAX - 4. Only
/// installed where the process has no handler of its own for it.
fn wake_signal() -> Option<libc::c_int> {
    static WAKE_SIGNAL: OnceLock<Option<libc::c_int>> = OnceLock::new();
    *WAKE_SIGNAL.get_or_init(|| {
        let sig = match std::env::var("GONET_WAKE_SIGNAL") {
            Ok(v) => v.trim().parse().ok().filter(|&n| n > 0)?,
            Err(_) => libc::SIGRTMAX() - 4,
        };
        // SAFETY: sigaction with a NULL new action only reads the current
        // one into `old`; the new action has a handler that does nothing
        // and is async-signal-safe. No SA_RESTART: the interrupted `recv`
        // must return EINTR.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction != libc::SIG_DFL
            {
                return None;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_wake_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            (libc::sigaction(sig, &action, std::ptr::null_mut()) == 0).then_some(sig)
        }
    })
}

extern "C" fn on_wake_signal(_: libc::c_int) {}

thread_local! {
    static WAKE_SIGNAL_UNBLOCKED: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread may block in a system call, that is, whether the
/// wake signal can reach it. The signal is private to gonet, so it is
/// unblocked in each thread that reads (a program that blocks every
/// signal in its workers does not mean to block this one).
pub fn can_block() -> bool {
    let Some(sig) = wake_signal() else {
        return false;
    };
    WAKE_SIGNAL_UNBLOCKED
        .try_with(|unblocked| {
            if !unblocked.get() {
                // SAFETY: the set is initialised before use; unblocking one
                // signal in the calling thread has no memory effects.
                let ok = unsafe {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, sig);
                    libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) == 0
                };
                unblocked.set(ok);
            }
            unblocked.get()
        })
        .unwrap_or(false)
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
        list.add(Waiter::Polling(efd));
    }
    let result = poll_two(efd, fd, events, deadline, still_valid);
    for list in lists {
        list.remove(Waiter::Polling(efd));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_slot_keeps_its_thread() {
        let (first, second) = (0x7000 as libc::pthread_t, 0x9000 as libc::pthread_t);
        let slot = BlockedSlot::default();
        assert!(!slot.occupied());
        assert!(slot.enter(first));
        assert!(slot.occupied());
        // A second thread cannot take it, nor overwrite whom it holds.
        assert!(!slot.enter(second));
        assert_eq!(slot.0.load(Ordering::Relaxed), 0x7000 | OCCUPIED);
        // An interrupter holding it keeps it taken; leaving then empties it.
        slot.0.store(0x7000 | SIGNALLING, Ordering::SeqCst);
        assert!(
            slot.interrupt(0),
            "a slot being signalled counts as blocked"
        );
        slot.0.store(0x7000 | OCCUPIED, Ordering::SeqCst);
        slot.leave(first);
        assert!(!slot.occupied());
        assert!(!slot.interrupt(0), "an empty slot signals nobody");
        // An id that does not leave the state bits free is never taken in.
        assert!(!slot.enter(0x7001 as libc::pthread_t));
        assert!(!slot.enter(0));
        assert!(!slot.occupied());
    }
}
