//! What gonet does about the process it runs in, beyond its sockets: a
//! C program may cancel threads, fork, and keep SIGPIPE's default action,
//! and none of these may end it or reach into another process's sockets
//! through gonet.

use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

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
    static WATCHING: Once = Once::new();
    WATCHING.call_once(|| {
        // SAFETY: registers a handler that only increments an atomic,
        // which is async-signal-safe as a forked child's handlers must be.
        // Registered before the first descriptor exists, so no fork that
        // copies one goes uncounted. Failure (ENOMEM) leaves every socket
        // counted as the process's own, as before there was a count.
        unsafe { libc::pthread_atfork(None, Some(count_fork_made), Some(count_fork)) };
    });
    FORKS.load(Ordering::Relaxed)
}

/// How many times this process has called `fork` (not `vfork` or
/// `posix_spawn`, which run no fork handlers: their children exec at
/// once). A listener made before such a fork may be shared with a child
/// that goes on using it: a prefork server's worker.
pub(crate) fn forks_made() -> u32 {
    fork_generation();
    FORKS_MADE.load(Ordering::Relaxed)
}

static FORKS: AtomicU32 = AtomicU32::new(0);
static FORKS_MADE: AtomicU32 = AtomicU32::new(0);

unsafe extern "C" fn count_fork_made() {
    FORKS_MADE.fetch_add(1, Ordering::Relaxed);
}

unsafe extern "C" fn count_fork() {
    FORKS.fetch_add(1, Ordering::Relaxed);
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
