//! The handle tables: map the integers C holds to live objects.
//!
//! Handles come from one counter that only goes up, so a number is never
//! issued twice in a process: a stale handle finds nothing, never a newer
//! connection. Descriptors (connections, listeners) and dialers live in
//! separate tables that share the counter, so the hot path looks in a
//! table of descriptors only. Each table is sharded so that threads working
//! on different connections rarely touch the same lock.

use crate::dialer::Dialer;
use crate::fd::NetFd;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

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
}

impl<T> Table<T> {
    /// `per_shard`: entries each shard holds before its map first grows.
    /// Maps made up front sit together, away from the descriptors
    /// allocated later: a map read by every look-up next to another
    /// connection's reference count (written by every call on it) would
    /// share its cache line.
    fn new(per_shard: usize) -> Table<T> {
        Table {
            shards: std::array::from_fn(|_| {
                Shard(RwLock::new(Map::with_capacity_and_hasher(
                    per_shard,
                    Default::default(),
                )))
            }),
        }
    }

    fn shard(&self, handle: i64) -> &RwLock<Map<T>> {
        &self.shards[(handle as u64 % SHARDS as u64) as usize].0
    }

    /// Stores `value` and returns its new handle, always greater than 0.
    pub fn insert(&self, value: T) -> i64 {
        let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
        self.shard(handle)
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(handle, Arc::new(value));
        handle
    }

    /// The object behind `handle`, if it is open.
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
        if handle <= 0 {
            return None;
        }
        self.shard(handle)
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&handle)
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.0.read().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Connections and listeners.
pub static FDS: LazyLock<Table<NetFd>> = LazyLock::new(|| Table::new(16));
/// Dialers (`net_dialer_new`).
pub static DIALERS: LazyLock<Table<Dialer>> = LazyLock::new(|| Table::new(0));

/// Stores a descriptor and returns its new handle.
pub fn insert(fd: NetFd) -> i64 {
    FDS.insert(fd)
}

/// The descriptor behind `handle`, if it is open.
pub fn get(handle: i64) -> Option<Arc<NetFd>> {
    FDS.get(handle)
}

/// Takes a descriptor's handle out of the table.
pub fn remove(handle: i64) -> Option<Arc<NetFd>> {
    FDS.remove(handle)
}

/// How many handles of any kind are open, for tests and leak checks.
pub fn open_count() -> usize {
    FDS.len() + DIALERS.len()
}
