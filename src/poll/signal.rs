//! The wake signal: a private real-time signal whose handler does
//! nothing, sent to a thread blocked in `recv`, `send` or `accept4` so
//! that the call returns EINTR and the thread re-checks its socket (see
//! `wait.rs`).

use std::cell::Cell;
use std::sync::OnceLock;

/// The wake signal, installed on first use: `GONET_WAKE_SIGNAL` picks its
/// number (0 turns blocking reads off); by default SIGRTMAX - 4. Only
/// installed where the process has no handler of its own for it.
pub(super) fn wake_signal() -> Option<libc::c_int> {
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
