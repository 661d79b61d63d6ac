//! The lock of one direction of a socket, which is also the registration
//! of the thread that may be blocked in a system call on it.
//!
//! Go's `fd.readLock` and `fd.writeLock` serialise reads and writes so
//! that each gets a contiguous piece of the stream; while a thread holds
//! one, it is the only thread that can be blocked in `recv` (or `accept4`,
//! or `send`) on that side, so the lock word can name it too: the holder's
//! `pthread_t` with the lock's state in the low bits. Taking the lock is
//! one compare-and-swap and registers the thread for `close` and deadline
//! changes at the same time; letting go is another. Before, a `Mutex` and
//! a separate blocked-thread slot took two each: on this kind of machine
//! (a virtual Xeon, 8 ns per locked instruction in a dependent chain,
//! 14 ns per load and compare-and-swap) every one of them shows in the
//! cost of a call (`bench/percall.sh`).
//!
//! Contended takers spin briefly and then sleep on a futex on the word's
//! low half (the state bits live there), as glibc's own mutexes do.
//!
//! Those two compare-and-swaps are most of what a read or write still
//! costs beyond its system call (`bench/lockfloor.c`). A lock biased to
//! its first thread, taken with plain stores and revoked with
//! `membarrier(2)`, made calls cheaper but blocking workloads slower, and
//! was dropped (BENCHMARKS.md, "Tried and dropped").

use super::signal::can_block;
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering, fence};

/// Taken.
const LOCKED: usize = 1;
/// Taken, and another thread may be asleep waiting for it.
const CONTENDED: usize = 2;
/// An interrupter is signalling the holder, which waits for it to finish
/// before letting go, so the signal never lands in the caller's own code
/// (a stray EINTR there) or on a thread that has ended.
const SIGNALLING: usize = 4;
/// The holder may block in a system call on the socket and is to be
/// woken with the wake signal (see `wait.rs`).
const BLOCKING: usize = 8;
const STATE_BITS: usize = 15;

/// One direction's lock. `word` is 0 when free; otherwise the holder's
/// `pthread_t` (0 if the id does not leave the state bits free, and such
/// a thread never blocks in a system call) with the state bits.
#[derive(Default)]
pub struct DirLock {
    word: AtomicUsize,
    /// Bumped by the holder each time a blocking system call of its is
    /// interrupted or a wait of its returns, so that an interrupter can
    /// tell that its signal was taken (see `interrupt`). Written by the
    /// holder alone.
    exits: AtomicU32,
}

/// A held `DirLock`; lets go when dropped.
pub struct Held<'a> {
    lock: &'a DirLock,
    word: usize,
}

thread_local! {
    /// This thread's lock word (see `my_word`), 0 until first needed. No
    /// destructor, so reading it is one look-up of the thread's block.
    static MY_WORD: Cell<usize> = const { Cell::new(0) };
}

/// The calling thread's word as a holder: its id and LOCKED, with
/// BLOCKING if it asked for it and the wake signal can reach it. Found
/// once per thread: a call into libc for the id and two thread-local
/// look-ups for the signal were a tenth of a read's instructions
/// (callgrind, `bench/percall.sh`'s calls).
#[inline]
fn my_word(blocking: bool) -> usize {
    let word = match MY_WORD.try_with(Cell::get) {
        Ok(word) if word != 0 => word,
        _ => find_my_word(),
    };
    if blocking { word } else { word & !BLOCKING }
}

/// The calling thread as a lock holder (its word, see `my_word`). A
/// caller that keeps it in a thread-local of its own passes it down
/// (`DirLock::lock_as`): each thread-local of a shared library is a call
/// to `__tls_get_addr`, 11 instructions, on every read and write.
#[derive(Clone, Copy)]
pub struct Caller(usize);

impl Caller {
    /// The calling thread.
    #[inline]
    pub fn current() -> Caller {
        Caller(my_word(true))
    }
}

#[cold]
fn find_my_word() -> usize {
    // SAFETY: pthread_self has no preconditions.
    let thread = unsafe { libc::pthread_self() } as usize;
    let word = if thread & STATE_BITS == 0 && thread != 0 {
        // A thread the wake signal cannot reach never blocks in a system
        // call: it polls, and close and deadlines wake it through its
        // eventfd.
        thread | LOCKED | if can_block() { BLOCKING } else { 0 }
    } else {
        LOCKED
    };
    let _ = MY_WORD.try_with(|w| w.set(word));
    word
}

impl DirLock {
    /// Takes the lock, waiting for it as long as it takes. `blocking`: the
    /// holder means to block in a system call (`Held::block_in`), which it
    /// may do if the wake signal can reach it (`Held::may_block`), and an
    /// interrupter is then to signal it.
    #[inline]
    pub fn lock(&self, blocking: bool) -> Held<'_> {
        self.lock_as(Caller::current(), blocking)
    }

    /// `lock` for `caller`, which must be the calling thread.
    #[inline]
    pub fn lock_as(&self, caller: Caller, blocking: bool) -> Held<'_> {
        let word = if blocking {
            caller.0
        } else {
            caller.0 & !BLOCKING
        };
        // SeqCst: the holder's check of the socket's state (closed,
        // deadlines; SeqCst loads) after this must be ordered after it,
        // against an interrupter's store then look at the word.
        if self
            .word
            .compare_exchange(0, word, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended(word);
            // Taken with CONTENDED set (others may be asleep): letting go
            // takes the slow way, which wakes one.
            return Held {
                lock: self,
                word: word | CONTENDED,
            };
        }
        Held { lock: self, word }
    }

    /// Takes the lock if it is free now.
    pub fn try_lock(&self) -> Option<Held<'_>> {
        let word = my_word(false);
        self.word
            .compare_exchange(0, word, Ordering::SeqCst, Ordering::Relaxed)
            .ok()
            .map(|_| Held { lock: self, word })
    }

    #[cold]
    fn lock_contended(&self, word: usize) {
        for _ in 0..100 {
            std::hint::spin_loop();
            if self.word.load(Ordering::Relaxed) == 0
                && self
                    .word
                    .compare_exchange(0, word | CONTENDED, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
        }
        loop {
            let now = self.word.load(Ordering::Relaxed);
            if now == 0 {
                // Taken as contended: others may be asleep too.
                if self
                    .word
                    .compare_exchange(0, word | CONTENDED, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
                {
                    return;
                }
                continue;
            }
            if now & CONTENDED == 0
                && self
                    .word
                    .compare_exchange(now, now | CONTENDED, Ordering::SeqCst, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            self.futex_wait(now | CONTENDED);
        }
    }

    /// The word's low 32 bits, which hold the state bits.
    fn futex_word(&self) -> *const u32 {
        let base = self.word.as_ptr() as *const u32;
        if cfg!(target_endian = "little") {
            base
        } else {
            // SAFETY: the word is a usize of at least 4 bytes; on a
            // big-endian 64-bit machine its low half is the second u32
            // (on a 32-bit one, offset 0 is the whole word).
            unsafe { base.add(std::mem::size_of::<usize>() / 4 - 1) }
        }
    }

    /// Sleeps while the word's low half is `expected`'s (woken by
    /// `futex_wake`, a signal, or a spurious wake-up; the caller checks).
    fn futex_wait(&self, expected: usize) {
        // SAFETY: the futex word is a live, aligned u32 inside `self`;
        // a NULL timeout waits without end.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.futex_word(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                expected as u32,
                std::ptr::null::<libc::timespec>(),
            )
        };
    }

    fn futex_wake(&self) {
        // SAFETY: as in futex_wait; waking touches no memory of ours.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.futex_word(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                1,
            )
        };
    }

    /// Whether no thread holds the lock. SeqCst: see `NetFd::release_if_unused`.
    pub fn is_free(&self) -> bool {
        self.word.load(Ordering::SeqCst) == 0
    }

    /// Whether a thread holds the lock and may be blocked in a system
    /// call on the socket. SeqCst, for `close`: it stores the closed flag
    /// and then looks here, as the holder registers and then checks it.
    pub fn held_blocking(&self) -> bool {
        self.word.load(Ordering::SeqCst) & BLOCKING != 0
    }

    /// The holder, if one holds the lock to block in a system call, and
    /// how many of its blocking calls and waits have returned so far.
    pub(super) fn blocking_holder(&self) -> Option<(usize, u32)> {
        let word = self.word.load(Ordering::SeqCst);
        (word & BLOCKING != 0).then(|| (word & !STATE_BITS, self.exits.load(Ordering::SeqCst)))
    }

    /// Signals `holder` (from `blocking_holder`, taken after the caller's
    /// store and a fence) if it still holds the lock and no call of its
    /// was interrupted since `exits`; whether it did (or another
    /// interrupter is at it), that is, whether the holder may still be
    /// blocked. Once `exits` has moved, the holder has re-checked the
    /// socket's state after the caller's store (see `Held::interrupted`).
    pub(super) fn interrupt(&self, holder: usize, exits: u32, sig: libc::c_int) -> bool {
        let word = self.word.load(Ordering::SeqCst);
        if word & !STATE_BITS != holder
            || word & BLOCKING == 0
            || self.exits.load(Ordering::SeqCst) != exits
        {
            return false;
        }
        if word & SIGNALLING != 0 {
            return true;
        }
        if self
            .word
            .compare_exchange(word, word | SIGNALLING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            // SAFETY: the thread holds the lock and cannot let go of it
            // while it is SIGNALLING, so it is alive and inside gonet; the
            // handler does nothing.
            unsafe { libc::pthread_kill(holder as libc::pthread_t, sig) };
            self.word.fetch_and(!SIGNALLING, Ordering::SeqCst);
        }
        // Changed meanwhile (a waiter marked it contended, or it was let
        // go): the caller looks again.
        true
    }
}

impl Held<'_> {
    /// Runs `call`, a blocking system call on the socket, which `close` and
    /// deadline changes can interrupt: the holder registered when it took
    /// the lock (`DirLock::lock(true)`). `still_valid` is checked first, so
    /// an interruption that came before is not lost; its loads must be
    /// SeqCst (the lock's compare-and-swap orders them after the
    /// registration, and the other side stores, fences and then looks at
    /// the word). `None` when it fails and `call` was not made. A call
    /// that fails with EINTR is to be followed by `interrupted`.
    #[inline]
    pub fn block_in<T>(
        &self,
        still_valid: impl Fn() -> bool,
        call: impl FnOnce() -> T,
    ) -> Option<T> {
        still_valid().then(call)
    }

    /// Whether this holder may block in a system call: it said so when it
    /// took the lock, and it can be signalled.
    #[inline]
    pub fn may_block(&self) -> bool {
        self.word & BLOCKING != 0
    }

    /// Records that a blocking call of the holder's was interrupted, or
    /// that a wait of its returned, before the holder looks at the
    /// socket's state again (see `DirLock::interrupt`). The fence puts
    /// that look after the record: an interrupter that sees the record
    /// saw it after its own store, so the look sees the store. Only on
    /// these paths: a call that returns data records nothing, and the
    /// interrupter goes on signalling until the holder lets go or is
    /// interrupted.
    #[cold]
    pub fn interrupted(&self) {
        let exits = &self.lock.exits;
        exits.store(
            exits.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::SeqCst,
        );
        fence(Ordering::SeqCst);
    }
}

impl Drop for Held<'_> {
    #[inline]
    fn drop(&mut self) {
        // A holder that took the lock contended lets go the slow way, which
        // wakes a sleeper: its word says CONTENDED, and were this exchange
        // to match it, nobody would wake them.
        if self.word & CONTENDED != 0
            || self
                .lock
                .word
                .compare_exchange(self.word, 0, Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
        {
            self.release_slow();
        }
    }
}

impl Held<'_> {
    #[cold]
    fn release_slow(&self) {
        let mut spins = 0u32;
        loop {
            let word = self.lock.word.load(Ordering::SeqCst);
            if word & SIGNALLING != 0 {
                // SIGNALLING lasts one pthread_kill; yield in case the
                // interrupter was preempted on this CPU.
                spins += 1;
                if spins < 100 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
                continue;
            }
            if self
                .lock
                .word
                .compare_exchange(word, 0, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                if word & CONTENDED != 0 {
                    self.lock.futex_wake();
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_held_lock_names_its_holder_until_let_go() {
        let lock = DirLock::default();
        assert!(lock.blocking_holder().is_none());
        let held = lock.lock(true);
        let me = my_word(true) & !STATE_BITS;
        assert!(held.may_block() == (me != 0));
        if me != 0 {
            assert_eq!(lock.blocking_holder(), Some((me, 0)));
            held.interrupted();
            assert_eq!(lock.blocking_holder(), Some((me, 1)));
            // A stale snapshot (a call returned since) is not signalled.
            assert!(!lock.interrupt(me, 0, 0));
        }
        assert!(lock.try_lock().is_none(), "a held lock is not taken twice");
        drop(held);
        assert!(lock.blocking_holder().is_none());
        assert!(!lock.held_blocking());
        let held = lock.lock(false);
        assert!(!held.may_block());
        assert!(
            !lock.held_blocking(),
            "a non-blocking holder is not signalled"
        );
        drop(held);
        assert_eq!(lock.word.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn contended_takers_all_get_it_one_at_a_time() {
        let lock = Arc::new(DirLock::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let total = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (lock, inside, total) = (lock.clone(), inside.clone(), total.clone());
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        let _held = lock.lock(i % 2 == 0);
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        if i % 1000 == 0 {
                            std::thread::sleep(std::time::Duration::from_micros(50));
                        }
                        inside.fetch_sub(1, Ordering::SeqCst);
                        total.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("taker");
        }
        assert_eq!(total.load(Ordering::Relaxed), 80_000);
        assert_eq!(lock.word.load(Ordering::SeqCst), 0);
    }
}
