//! The handle tables: map the integers C holds to live objects.
//!
//! Handles come from one counter that only goes up, so a number is never
//! issued twice in a process: a stale handle finds nothing, never a newer
//! connection. Descriptors (connections, listeners), dialers and listen
//! configurations live in
//! separate tables that share the counter, so the hot path looks in a
//! table of descriptors only. Each table is sharded so that threads working
//! on different connections rarely touch the same lock.

use crate::net::{Dialer, Ends, FdRef, ListenConfig, NetFd, Resolver};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Once, RwLock};

const SHARDS: usize = 16;

/// Handles are consecutive integers that nobody outside chooses, so a
/// multiplicative hash spreads them well; SipHash's resistance to chosen
/// keys would cost every read and write a hundred instructions for nothing.
#[derive(Default)]
struct HandleHasher(u64);

impl Hasher for HandleHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_i64(&mut self, n: i64) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type Map<T> = HashMap<i64, Arc<T>, BuildHasherDefault<HandleHasher>>;

static NEXT_HANDLE: AtomicI64 = AtomicI64::new(1);

/// One shard on cache lines of its own. Every read and write takes its
/// shard's lock for reading, which writes the lock word; shards packed
/// together put the handles of neighbouring connections (consecutive
/// numbers, consecutive shards) on one line, which then bounces between
/// the CPUs of threads that share nothing else (bench/neighbours.c:
/// 159-187 ns a call packed, 78-98 padded).
#[repr(align(128))]
struct Shard<T>(RwLock<Map<T>>);

pub struct Table<T> {
    shards: [Shard<T>; SHARDS],
    /// Entries each shard holds before its map first grows.
    per_shard: usize,
    sized: Once,
}

impl<T> Table<T> {
    /// A constant, so that the hot look-up reads the shard directly rather
    /// than first asking a lazy static whether it is made (a cache line of
    /// its own on every call).
    const fn new(per_shard: usize) -> Table<T> {
        Table {
            shards: [const { Shard(RwLock::new(Map::with_hasher(BuildHasherDefault::new()))) };
                SHARDS],
            per_shard,
            sized: Once::new(),
        }
    }

    fn shard(&self, handle: i64) -> &RwLock<Map<T>> {
        &self.shards[(handle as u64 % SHARDS as u64) as usize].0
    }

    /// Gives every shard's map its room at the first insert, all at once:
    /// maps made together sit together, away from the descriptors
    /// allocated later. A map read by every look-up next to another
    /// connection's reference count (written by every call on it) would
    /// share its cache line.
    fn size_maps(&self) {
        self.sized.call_once(|| {
            for shard in &self.shards {
                shard
                    .0
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .reserve(self.per_shard);
            }
        });
    }

    /// Stores `value` and returns its new handle, always greater than 0.
    pub fn insert(&self, value: T) -> i64 {
        self.size_maps();
        let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
        self.shard(handle)
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(handle, Arc::new(value));
        handle
    }

    /// The object behind `handle`, if it is open.
    #[inline]
    pub fn get(&self, handle: i64) -> Option<Arc<T>> {
        if handle <= 0 {
            return None;
        }
        self.shard(handle)
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&handle)
            .cloned()
    }

    /// Takes `handle` out of the table; later look-ups of it find nothing.
    pub fn remove(&self, handle: i64) -> Option<Arc<T>> {
        self.remove_with(handle, |_| {})
    }

    /// As `remove`, running `on_removal` with the object before the
    /// shard's lock is let go: a look-up that finds the handle gone then
    /// sees whatever `on_removal` recorded.
    fn remove_with(&self, handle: i64, on_removal: impl FnOnce(&T)) -> Option<Arc<T>> {
        if handle <= 0 {
            return None;
        }
        let mut shard = self
            .shard(handle)
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let removed = shard.remove(&handle)?;
        on_removal(&removed);
        Some(removed)
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.0.read().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

/// Connections and listeners.
pub static FDS: Table<NetFd> = Table::new(16);
/// Dialers (`net_dialer_new`).
pub static DIALERS: Table<Dialer> = Table::new(0);
/// Resolvers (`net_resolver_new`).
pub static RESOLVERS: Table<Resolver> = Table::new(0);
/// Listen configurations (`net_listen_config_new`).
pub static LISTEN_CONFIGS: Table<ListenConfig> = Table::new(0);

/// Stores a descriptor and returns its new handle.
pub fn insert(fd: NetFd) -> i64 {
    FDS.insert(fd)
}

/// The descriptor behind `handle`, if it is open, with a use of its
/// socket (see `NetFd::enter`).
#[inline]
pub fn get(handle: i64) -> Option<FdRef> {
    FDS.get(handle).and_then(NetFd::enter)
}

/// How many handles of any kind are open, for tests and leak checks.
pub fn open_count() -> usize {
    FDS.len() + DIALERS.len() + RESOLVERS.len() + LISTEN_CONFIGS.len()
}

/// How many closed descriptors are remembered, for the messages of calls
/// made on their handles after `net_close` (see `close`).
const CLOSED_MEMORY: usize = 1024;

/// One slot of the memory of closed descriptors: the handle it holds and
/// what its errors named.
type ClosedSlot = Mutex<Option<(i64, Box<Ends>)>>;

/// Closed descriptors, in slot `handle % CLOSED_MEMORY`. Handles are
/// issued in order and never twice, so a closed handle's slot is taken
/// only by one issued at least `CLOSED_MEMORY` later: a handle is
/// remembered until one of those is closed too. At most `CLOSED_MEMORY`
/// entries of a hundred-odd bytes each, whatever the program does.
static CLOSED: [ClosedSlot; CLOSED_MEMORY] = [const { Mutex::new(None) }; CLOSED_MEMORY];

fn closed_slot(handle: i64) -> &'static ClosedSlot {
    &CLOSED[(handle as u64 % CLOSED_MEMORY as u64) as usize]
}

/// Closes the descriptor behind `handle` and remembers what it was, so
/// that later calls on the handle fail as Go's do on a closed connection
/// (`read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network
/// connection`). `None` when no descriptor has that handle.
pub fn close(handle: i64) -> Option<()> {
    // Remembered while the shard is still locked, so that a call that
    // misses the handle there finds it here: one pass through the shard's
    // lock rather than a look-up and then a removal. The slot's lock is
    // only ever taken after a shard's, or alone.
    let remember = |fd: &NetFd| {
        let ends = Box::new(fd.ends());
        *closed_slot(handle)
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some((handle, ends));
    };
    NetFd::close_last(FDS.remove_with(handle, remember)?);
    Some(())
}

/// The network and addresses of the closed descriptor `handle`, if it is
/// still remembered.
pub fn closed(handle: i64) -> Option<Ends> {
    if handle <= 0 {
        return None;
    }
    match &*closed_slot(handle)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
    {
        Some((h, ends)) if *h == handle => Some((**ends).clone()),
        _ => None,
    }
}
