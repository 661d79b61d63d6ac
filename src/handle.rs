//! The handle table: maps the integers C holds to live descriptors.
//!
//! Handles come from a counter that only goes up, so a number is never
//! issued twice in a process: a stale handle finds nothing, never a newer
//! connection. The table is sharded so that threads working on different
//! connections rarely touch the same lock.

use crate::fd::NetFd;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

const SHARDS: usize = 16;

type Shard = RwLock<HashMap<i64, Arc<NetFd>>>;

static TABLE: LazyLock<[Shard; SHARDS]> = LazyLock::new(Default::default);
static NEXT_HANDLE: AtomicI64 = AtomicI64::new(1);

fn shard(handle: i64) -> &'static Shard {
    &TABLE[(handle as u64 % SHARDS as u64) as usize]
}

/// Stores `fd` and returns its new handle, always greater than 0.
pub fn insert(fd: NetFd) -> i64 {
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    shard(handle)
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(handle, Arc::new(fd));
    handle
}

/// The descriptor behind `handle`, if it is open.
pub fn get(handle: i64) -> Option<Arc<NetFd>> {
    if handle <= 0 {
        return None;
    }
    shard(handle)
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&handle)
        .cloned()
}

/// Takes `handle` out of the table; later look-ups of it find nothing.
pub fn remove(handle: i64) -> Option<Arc<NetFd>> {
    if handle <= 0 {
        return None;
    }
    shard(handle)
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&handle)
}

/// How many handles are open, for tests and leak checks.
pub fn open_count() -> usize {
    TABLE
        .iter()
        .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).len())
        .sum()
}
