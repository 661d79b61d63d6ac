//! The lock of one direction of a socket, which is also the registration
//! of the thread that may be blocked in a system call on it.
//!
//! Go's `fd.readLock` and `fd.writeLock` serialise reads and writes so
//! that each gets a contiguous piece of the stream; while a thread holds
//! one, it is the only thread that can be blocked in `recv` (or `accept4`,
//! or `send`) on that side, so the lock can name it too, for `close` and
//! deadline changes to interrupt.
//!
//! Most directions are only ever used by one thread, and a locked
//! instruction next to a system call is dear: on this kind of machine (a
//! virtual Xeon) a compare-and-swap before a `recv` and another after it
//! add 47 ns to the call, and plain stores 6 ns (`bench/lockfloor.c`, 301
//! rounds, pinned); taking and letting go by compare-and-swap, gonet
//! added 67 ns to a one-byte read, biased 22-26 (`bench/percall.sh`).
//! So a lock is *biased* to the first thread that takes it, as Java's
//! locks once were: that thread, the owner, takes and lets go with plain
//! stores to `busy`, and all the ordering those stores lack is paid by
//! the rare other side with `membarrier(2)`, which runs a full barrier
//! on every CPU running a thread of the process. Whoever changes what a holder
//! checks (the closed flag, a deadline) and then looks at `busy` makes
//! such a barrier between the two (`barrier_for`), so either it sees the
//! owner inside, or the owner sees its change. A second thread that wants
//! the lock revokes the bias for good: it marks the lock shared, makes the
//! barrier, waits for the owner to let go, and from then on every taker
//! uses `word`, one compare-and-swap to take and one to let go, with a
//! futex for contended takers as glibc's mutexes have. The process
//! registers for membarrier when the library is loaded; where membarrier
//! cannot be had, where the process had more than one thread by then
//! (registering would wait for an RCU grace period, see
//! `biasing_allowed`), or with `GONET_BIASED_LOCKS=0`, no lock is ever
//! biased.
//!
//! In both ways the holder's word is its `pthread_t` with the lock's state
//! in the low bits.

use super::process::fork_generation;
use super::signal::can_block;
use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering, compiler_fence, fence};

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

/// `owner` before anyone took the lock.
const NO_OWNER: usize = 0;
/// `owner` once the bias was revoked: every taker uses `word`. Never a
/// thread's word, which always has LOCKED.
const SHARED: usize = CONTENDED;

/// One direction's lock.
#[derive(Default)]
pub struct DirLock {
    /// The lock of shared (unbiased) use: 0 when free; otherwise the
    /// holder's word with the state bits.
    word: AtomicUsize,
    /// The thread the lock is biased to (its word), `NO_OWNER`, or
    /// `SHARED`. Set to a thread once, under `word`, and to `SHARED` once.
    owner: AtomicUsize,
    /// The owner's word while it holds the lock by bias, 0 otherwise.
    /// Written by the owner alone, with plain stores.
    busy: AtomicUsize,
    /// Interrupters signalling the owner: it waits for none to be left
    /// before it leaves (see SIGNALLING).
    signalling: AtomicU32,
    /// A thread revoking the bias waits for the owner to let go.
    wanted: AtomicBool,
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
    /// Held by bias (through `busy`), not through `word`.
    biased: bool,
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

/// membarrier(2) commands (linux/membarrier.h).
const MEMBARRIER_CMD_QUERY: libc::c_int = 0;
const MEMBARRIER_CMD_GLOBAL: libc::c_int = 1;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_int = 8;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 16;

fn membarrier_call(cmd: libc::c_int) -> libc::c_long {
    // SAFETY: membarrier takes no pointers.
    unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) }
}

/// Whether locks may be biased: the kernel has the expedited private
/// membarrier, this process registered for it while it had one thread
/// (see `REGISTER_AT_LOAD`), and `GONET_BIASED_LOCKS` is not 0.
///
/// Registering a process that has more than one thread waits for an RCU
/// grace period: 27.6 ms here (`strace -T`), against 3 us with one
/// thread. Registering at the first lock, as this did at first, put that
/// wait into the first call of every multi-threaded program, and inside
/// the timed window of `bench/compare.sh`'s runs, where it read as a
/// 5 % slower ping-pong. A process that already has threads when it
/// first asks is left unbiased instead: its locks work by
/// compare-and-swap, as they would without membarrier.
fn biasing_allowed() -> bool {
    static ALLOWED: OnceLock<bool> = OnceLock::new();
    // Named here so that the linker keeps the constructor (and its
    // `.init_array` entry) wherever this is linked in.
    let _ = std::hint::black_box(&REGISTER_AT_LOAD);
    *ALLOWED.get_or_init(|| {
        if std::env::var("GONET_BIASED_LOCKS").is_ok_and(|v| v.trim() == "0") {
            return false;
        }
        let query = membarrier_call(MEMBARRIER_CMD_QUERY);
        let wanted = (MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)
            as libc::c_long;
        query >= 0 && query & wanted == wanted && single_threaded() && register_membarrier()
    })
}

/// Whether the process has one thread now; false if that cannot be read.
fn single_threaded() -> bool {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| threads_in_stat(&stat))
        == Some(1)
}

/// The thread count in a `/proc/PID/stat` line (its 20th field).
fn threads_in_stat(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces
    // and parentheses itself: the fields after it follow the last ')'.
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(17)?.parse().ok()
}

/// Decides `biasing_allowed` when the library is loaded, before `main`
/// for a program linked with it (or at `dlopen`), while most processes
/// still have one thread and registering for membarrier is cheap. A
/// forked child inherits the registration.
// SAFETY: the loader calls each pointer in `.init_array` once, with no
// arguments, before `main` or at `dlopen`; this one is an `extern "C"`
// function of no arguments that cannot unwind, and it needs nothing of
// Rust's runtime that is not ready then (the environment, a file read).
#[used]
#[unsafe(link_section = ".init_array")]
static REGISTER_AT_LOAD: extern "C" fn() = {
    extern "C" fn register_at_load() {
        // Nothing may unwind out of a constructor.
        let _ = std::panic::catch_unwind(biasing_allowed);
    }
    register_at_load
};

/// The fork generation this process registered for the expedited
/// membarrier in. A forked child inherits the registration, and asking
/// again when registered returns at once, with threads or without (3 us
/// here), so a child asks again before its first barrier, in case a
/// kernel does not pass it on.
static REGISTERED_IN: AtomicU32 = AtomicU32::new(u32::MAX);

fn register_membarrier() -> bool {
    let ok = membarrier_call(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
    if ok {
        REGISTERED_IN.store(fork_generation(), Ordering::Release);
    }
    ok
}

/// A full memory barrier on every CPU that runs a thread of this process
/// (and on this one), which is what an owner's plain stores need to be
/// ordered against the caller's. Takes a few microseconds when other
/// threads are running (an interrupt on each of their CPUs).
fn membarrier() {
    if REGISTERED_IN.load(Ordering::Acquire) != fork_generation() {
        register_membarrier();
    }
    if membarrier_call(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 {
        // Not registered after all: the slow global barrier does the same
        // (for every process), and failing that, nothing can, so wait
        // for the owners' store buffers to drain by time.
        if membarrier_call(MEMBARRIER_CMD_GLOBAL) != 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    fence(Ordering::SeqCst);
}

/// The barrier a thread makes between storing what lock holders check
/// (the closed flag, a deadline) and looking at the locks (`is_free`,
/// `held_blocking`, `blocking_holder`): a fence, and a membarrier too if
/// one of them is biased to another thread.
pub fn barrier_for(locks: &[&DirLock]) {
    fence(Ordering::SeqCst);
    let me = my_word(true);
    if locks.iter().any(|lock| {
        let owner = lock.owner.load(Ordering::SeqCst);
        owner != NO_OWNER && owner != SHARED && owner != me
    }) {
        membarrier();
    }
}

/// Sleeps while the u32 at `addr` is `expected`, at most `timeout` if
/// given (woken by `futex_wake`, a signal, or spuriously; callers check).
fn futex_wait(addr: *const u32, expected: u32, timeout: Option<libc::timespec>) {
    let ts = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: addr points to a live, aligned u32 inside a DirLock; ts is
    // NULL or points to a live timespec.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            addr,
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            ts,
        )
    };
}

/// Wakes up to `threads` sleepers on `addr`.
fn futex_wake(addr: *const u32, threads: i32) {
    // SAFETY: as in futex_wait; waking touches no memory of ours.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            addr,
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            threads,
        )
    };
}

/// The low 32 bits of a word, where the state bits (and LOCKED) live.
fn low_half(word: &AtomicUsize) -> *const u32 {
    let base = word.as_ptr() as *const u32;
    if cfg!(target_endian = "little") {
        base
    } else {
        // SAFETY: the word is a usize of at least 4 bytes; on a big-endian
        // 64-bit machine its low half is the second u32 (on a 32-bit one,
        // offset 0 is the whole word).
        unsafe { base.add(std::mem::size_of::<usize>() / 4 - 1) }
    }
}

impl DirLock {
    /// Takes the lock, waiting for it as long as it takes. `blocking`: the
    /// holder means to block in a system call (`Held::block_in`), which it
    /// may do if the wake signal can reach it (`Held::may_block`), and an
    /// interrupter is then to signal it. The holder's checks of the
    /// socket's state (SeqCst loads) come after this; the other side
    /// stores, makes `barrier_for`, and then looks at the lock.
    #[inline]
    pub fn lock(&self, blocking: bool) -> Held<'_> {
        self.lock_as(Caller::current(), blocking)
    }

    /// `lock` for `caller`, which must be the calling thread.
    #[inline]
    pub fn lock_as(&self, caller: Caller, blocking: bool) -> Held<'_> {
        let me = caller.0;
        let word = if blocking { me } else { me & !BLOCKING };
        if self.owner.load(Ordering::Relaxed) == me {
            // Plain stores and loads: the other side's membarrier orders
            // them (see the module's comment). The compiler must not move
            // the look at `owner` (or the caller's checks) above the store.
            self.busy.store(word, Ordering::Relaxed);
            compiler_fence(Ordering::SeqCst);
            if self.owner.load(Ordering::Relaxed) == me {
                return Held {
                    lock: self,
                    word,
                    biased: true,
                };
            }
            // Revoked meanwhile: the revoker waits for this.
            self.leave_bias();
        }
        self.lock_slow(word, me)
    }

    /// Takes the lock if it is free now.
    pub fn try_lock(&self) -> Option<Held<'_>> {
        let me = my_word(true);
        let word = me & !BLOCKING;
        if self.owner.load(Ordering::Relaxed) == me {
            self.busy.store(word, Ordering::Relaxed);
            compiler_fence(Ordering::SeqCst);
            if self.owner.load(Ordering::Relaxed) == me {
                return Some(Held {
                    lock: self,
                    word,
                    biased: true,
                });
            }
            self.leave_bias();
        }
        self.word
            .compare_exchange(0, word, Ordering::SeqCst, Ordering::Relaxed)
            .ok()?;
        let held = Held {
            lock: self,
            word,
            biased: false,
        };
        if self.owner.load(Ordering::SeqCst) != SHARED {
            self.revoke();
        }
        // A revoked owner still inside: busy, as a held lock is.
        let free = self.busy.load(Ordering::SeqCst) == 0;
        self.wanted.store(false, Ordering::SeqCst);
        free.then_some(held)
    }

    #[cold]
    fn lock_slow(&self, word: usize, me: usize) -> Held<'_> {
        let taken = self.lock_shared(word);
        match self.owner.load(Ordering::SeqCst) {
            NO_OWNER if me & !STATE_BITS != 0 && biasing_allowed() => {
                // The first taker: the lock is biased to it from now on.
                // The release of `word` below is a full barrier, so this
                // first hold's checks come after these stores.
                self.owner.store(me, Ordering::SeqCst);
                self.busy.store(word, Ordering::SeqCst);
                drop(Held {
                    lock: self,
                    word: taken,
                    biased: false,
                });
                return Held {
                    lock: self,
                    word,
                    biased: true,
                };
            }
            NO_OWNER | SHARED => {}
            _ => self.revoke(),
        }
        self.wait_for_owner();
        Held {
            lock: self,
            word: taken,
            biased: false,
        }
    }

    /// Takes `word`, the lock of shared use; what it holds (with
    /// CONTENDED if it waited: letting go then wakes a sleeper).
    fn lock_shared(&self, word: usize) -> usize {
        if self
            .word
            .compare_exchange(0, word, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
        {
            return word;
        }
        for _ in 0..100 {
            std::hint::spin_loop();
            if self.word.load(Ordering::Relaxed) == 0
                && self
                    .word
                    .compare_exchange(0, word | CONTENDED, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
            {
                return word | CONTENDED;
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
                    return word | CONTENDED;
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
            futex_wait(low_half(&self.word), (now | CONTENDED) as u32, None);
        }
    }

    /// Ends the bias for good, holding `word`: later takers all use it.
    #[cold]
    fn revoke(&self) {
        self.wanted.store(true, Ordering::SeqCst);
        self.owner.store(SHARED, Ordering::SeqCst);
        // After this, the owner either shows in `busy` or sees SHARED at
        // its next look and backs off.
        membarrier();
    }

    /// Waits, holding `word`, for a revoked owner still inside to let go.
    fn wait_for_owner(&self) {
        let mut pause_ns = 1_000_000;
        loop {
            let busy = self.busy.load(Ordering::SeqCst);
            if busy == 0 {
                self.wanted.store(false, Ordering::SeqCst);
                return;
            }
            self.wanted.store(true, Ordering::SeqCst);
            // Woken by the owner's leaving (it looks at `wanted`, which
            // `revoke` set before its barrier). The timeout, from 1 ms up
            // to 100 ms, covers an owner that only looked in and backed
            // off after an earlier revoker had cleared the flag.
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: pause_ns,
            };
            futex_wait(low_half(&self.busy), busy as u32, Some(pause));
            pause_ns = (pause_ns * 2).min(100_000_000);
        }
    }

    /// The owner lets go: a plain store, and nothing else unless an
    /// interrupter or a revoker is at the lock.
    #[inline]
    fn leave_bias(&self) {
        self.busy.store(0, Ordering::Release);
        compiler_fence(Ordering::SeqCst);
        if self.signalling.load(Ordering::Relaxed) != 0 || self.wanted.load(Ordering::Relaxed) {
            self.leave_bias_slow();
        }
    }

    #[cold]
    fn leave_bias_slow(&self) {
        let mut spins = 0u32;
        while self.signalling.load(Ordering::SeqCst) != 0 {
            spins += 1;
            if spins < 100 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        if self.wanted.load(Ordering::SeqCst) {
            futex_wake(low_half(&self.busy), i32::MAX);
        }
    }

    /// Whether no thread holds the lock. After `barrier_for`.
    pub fn is_free(&self) -> bool {
        self.word.load(Ordering::SeqCst) == 0 && self.busy.load(Ordering::SeqCst) == 0
    }

    /// Whether a thread holds the lock and may be blocked in a system
    /// call on the socket. After `barrier_for`.
    pub fn held_blocking(&self) -> bool {
        (self.word.load(Ordering::SeqCst) | self.busy.load(Ordering::SeqCst)) & BLOCKING != 0
    }

    /// How many of the holder's blocking calls were interrupted so far,
    /// and the holder, if one holds the lock to block in a system call.
    /// After `barrier_for`.
    pub(super) fn blocking_holder(&self) -> Option<(usize, u32)> {
        let exits = self.exits.load(Ordering::SeqCst);
        // The owner first: while it is inside, a thread in `word` is a
        // revoker waiting for it to leave, not a holder.
        let busy = self.busy.load(Ordering::SeqCst);
        if busy & BLOCKING != 0 {
            return Some((busy & !STATE_BITS, exits));
        }
        let word = self.word.load(Ordering::SeqCst);
        (word & BLOCKING != 0).then_some((word & !STATE_BITS, exits))
    }

    /// Signals `holder` (from `blocking_holder`) if it still holds the
    /// lock and no call of its was interrupted since `exits`; whether it
    /// did (or another interrupter is at it), that is, whether the holder
    /// may still be blocked. Once `exits` has moved, the holder has
    /// re-checked the socket's state after the caller's store (see
    /// `Held::interrupted`).
    pub(super) fn interrupt(&self, holder: usize, exits: u32, sig: libc::c_int) -> bool {
        if self.exits.load(Ordering::SeqCst) != exits {
            return false;
        }
        let word = self.word.load(Ordering::SeqCst);
        if word & !STATE_BITS == holder && word & BLOCKING != 0 {
            if word & SIGNALLING != 0 {
                return true;
            }
            if self
                .word
                .compare_exchange(word, word | SIGNALLING, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                // SAFETY: the thread holds the lock and cannot let go of
                // it while it is SIGNALLING, so it is alive and inside
                // gonet; the handler does nothing.
                unsafe { libc::pthread_kill(holder as libc::pthread_t, sig) };
                self.word.fetch_and(!SIGNALLING, Ordering::SeqCst);
            }
            // Changed meanwhile (a waiter marked it contended, or it was
            // let go): the caller looks again.
            return true;
        }
        let busy = self.busy.load(Ordering::SeqCst);
        if busy & !STATE_BITS != holder || busy & BLOCKING == 0 {
            return false;
        }
        // The owner leaves with a plain store and then looks at
        // `signalling`: with the barrier between this count and the look
        // at `busy`, either this sees it gone or it waits for this.
        self.signalling.fetch_add(1, Ordering::SeqCst);
        membarrier();
        let busy = self.busy.load(Ordering::SeqCst);
        let inside = busy & !STATE_BITS == holder
            && busy & BLOCKING != 0
            && self.exits.load(Ordering::SeqCst) == exits;
        if inside {
            // SAFETY: the owner is inside and waits for `signalling` to
            // drop before it leaves, so it is alive and inside gonet; the
            // handler does nothing.
            unsafe { libc::pthread_kill(holder as libc::pthread_t, sig) };
        }
        self.signalling.fetch_sub(1, Ordering::SeqCst);
        inside
    }
}

impl Held<'_> {
    /// Runs `call`, a blocking system call on the socket, which `close` and
    /// deadline changes can interrupt: the holder registered when it took
    /// the lock (`DirLock::lock(true)`). `still_valid` is checked first, so
    /// an interruption that came before is not lost; its loads must be
    /// SeqCst (see `DirLock::lock`). `None` when it fails and `call` was
    /// not made. A call that fails with EINTR is to be followed by
    /// `interrupted`.
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
        if self.biased {
            self.lock.leave_bias();
            return;
        }
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
                    futex_wake(low_half(&self.lock.word), 1);
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
        assert!(held.may_block() == (my_word(true) & BLOCKING != 0));
        if held.may_block() {
            assert_eq!(lock.blocking_holder(), Some((me, 0)));
            held.interrupted();
            assert_eq!(lock.blocking_holder(), Some((me, 1)));
            // A stale snapshot (a call interrupted since) is not signalled.
            assert!(!lock.interrupt(me, 0, 0));
        }
        assert!(!lock.is_free());
        drop(held);
        assert!(lock.blocking_holder().is_none());
        assert!(!lock.held_blocking());
        assert!(lock.is_free());
        let held = lock.lock(false);
        assert!(!held.may_block());
        assert!(
            !lock.held_blocking(),
            "a non-blocking holder is not signalled"
        );
        // Held: another thread cannot take it without waiting.
        std::thread::scope(|s| {
            s.spawn(|| assert!(lock.try_lock().is_none(), "a held lock is not taken twice"));
        });
        drop(held);
        assert!(lock.is_free());
    }

    #[test]
    fn biasing_is_decided_at_load_while_the_process_has_one_thread() {
        let query = membarrier_call(MEMBARRIER_CMD_QUERY);
        let wanted = (MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)
            as libc::c_long;
        let kernel_has_it = query >= 0 && query & wanted == wanted;
        let turned_off = std::env::var("GONET_BIASED_LOCKS").is_ok_and(|v| v.trim() == "0");
        // The test harness runs this on a thread of its own: registering
        // now would be refused (see `biasing_allowed`), so a yes here
        // means the constructor registered before `main`.
        assert!(!single_threaded(), "the harness has more than one thread");
        assert_eq!(biasing_allowed(), kernel_has_it && !turned_off);
    }

    #[test]
    fn the_thread_count_is_read_past_any_parentheses_in_the_name() {
        let stat =
            "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 7 0 99 1000 200";
        assert_eq!(threads_in_stat(stat), Some(7));
        assert_eq!(threads_in_stat("4242 (x) S 1"), None);
        assert_eq!(threads_in_stat("no parenthesis"), None);
    }

    #[test]
    fn a_biased_lock_is_taken_with_plain_stores_until_another_thread_comes() {
        if !biasing_allowed() {
            return;
        }
        let lock = DirLock::default();
        drop(lock.lock(true));
        let me = my_word(true);
        assert_eq!(
            lock.owner.load(Ordering::SeqCst),
            me,
            "biased to its first taker"
        );
        let held = lock.lock(true);
        assert!(held.biased);
        assert_eq!(lock.word.load(Ordering::SeqCst), 0, "no compare-and-swap");
        assert_eq!(lock.busy.load(Ordering::SeqCst), me);
        drop(held);
        assert_eq!(lock.busy.load(Ordering::SeqCst), 0);
        // Another thread takes it: the bias is gone for good.
        std::thread::scope(|s| {
            s.spawn(|| {
                let held = lock.lock(true);
                assert!(!held.biased);
            });
        });
        assert_eq!(lock.owner.load(Ordering::SeqCst), SHARED);
        let held = lock.lock(true);
        assert!(!held.biased);
        assert_ne!(lock.word.load(Ordering::SeqCst), 0);
        drop(held);
        assert!(lock.is_free());
    }

    #[test]
    fn a_revoker_waits_for_the_owner_inside() {
        if !biasing_allowed() {
            return;
        }
        let lock = Arc::new(DirLock::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let held = lock.lock(false);
        inside.store(1, Ordering::SeqCst);
        let (l, i) = (lock.clone(), inside.clone());
        let other = std::thread::spawn(move || {
            let _held = l.lock(false);
            i.load(Ordering::SeqCst)
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!other.is_finished(), "the revoker waits");
        inside.store(0, Ordering::SeqCst);
        drop(held);
        assert_eq!(other.join().expect("revoker"), 0, "never both inside");
        assert!(lock.is_free());
    }

    #[test]
    fn while_a_revoker_waits_the_owner_inside_is_the_one_to_interrupt() {
        if !biasing_allowed() || my_word(true) & BLOCKING == 0 {
            return;
        }
        let lock = Arc::new(DirLock::default());
        drop(lock.lock(true));
        let held = lock.lock(true);
        assert!(held.biased);
        let l = lock.clone();
        let revoker = std::thread::spawn(move || drop(l.lock(true)));
        // The revoker takes `word` and waits for this owner to let go: an
        // interrupter must still signal the owner (a close or a deadline
        // would otherwise never reach a recv it is blocked in).
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while lock.word.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < give_up {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_ne!(
            lock.word.load(Ordering::SeqCst),
            0,
            "the revoker holds word"
        );
        let me = my_word(true) & !STATE_BITS;
        assert_eq!(lock.blocking_holder().map(|(thread, _)| thread), Some(me));
        drop(held);
        revoker.join().expect("revoker");
        assert!(lock.is_free());
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
                        let held = if i % 3 == 2 {
                            match lock.try_lock() {
                                Some(held) => held,
                                None => continue,
                            }
                        } else {
                            lock.lock(i % 2 == 0)
                        };
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        if i % 1000 == 0 {
                            std::thread::sleep(std::time::Duration::from_micros(50));
                        }
                        inside.fetch_sub(1, Ordering::SeqCst);
                        total.fetch_add(1, Ordering::Relaxed);
                        drop(held);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("taker");
        }
        assert!(total.load(Ordering::Relaxed) >= 4 * 13_334);
        assert!(lock.is_free());
    }
}
