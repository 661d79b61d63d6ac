//! One dial in progress, as Go's dial holds a context and its racers'
//! results channel.
//!
//! A `DialOp`'s threads connecting for it poll through its wait list, and
//! the thread coordinating it (Happy Eyeballs, a bounded name lookup)
//! sleeps on its condition variable, so that one `cancel` stops all of
//! them at once.

use super::fd::NetFd;
use crate::error::{Cause, Result};
use crate::poll::{NO_DEADLINE, WaitList, now_ns};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// What the helper threads of one dial report to its coordinator.
#[derive(Default)]
pub struct Events {
    pub lookup: Option<std::result::Result<Vec<IpAddr>, Cause>>,
    /// Finished racers: whether it dialed the primary addresses, and how it
    /// went. A connection left here when the dial is over is closed when
    /// the `DialOp` is dropped.
    pub racers: VecDeque<(bool, Result<NetFd>)>,
}

pub struct DialOp {
    /// Set by `cancel`: the dial fails with "operation was canceled".
    cancelled: AtomicBool,
    /// Set when the dial has its answer: racers still connecting give up.
    over: AtomicBool,
    /// Whether anyone can cancel this dial (it came from a dialer handle).
    cancellable: bool,
    pub waiters: WaitList,
    events: Mutex<Events>,
    cond: Condvar,
}

impl DialOp {
    pub fn new(cancellable: bool) -> DialOp {
        DialOp {
            cancelled: AtomicBool::new(false),
            over: AtomicBool::new(false),
            cancellable,
            waiters: WaitList::default(),
            events: Mutex::new(Events::default()),
            cond: Condvar::new(),
        }
    }

    pub fn cancellable(&self) -> bool {
        self.cancellable
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Whether connecting threads should give up.
    pub fn stopped(&self) -> bool {
        self.is_cancelled() || self.over.load(Ordering::Acquire)
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.wake();
    }

    /// The dial has its answer: stop the racers that lost.
    pub fn finish(&self) {
        self.over.store(true, Ordering::Release);
        self.wake();
    }

    fn wake(&self) {
        self.waiters.wake_all();
        // Taking the lock orders this notify after a waiter's check of the
        // flags, so the wake-up cannot fall between its check and its sleep.
        let _events = self.lock();
        self.cond.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, Events> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records what a helper thread found and wakes the coordinator.
    pub fn post(&self, record: impl FnOnce(&mut Events)) {
        record(&mut self.lock());
        self.cond.notify_all();
    }

    /// Waits until `take` finds something in the events, `until` (monotonic
    /// ns) passes, or the dial is cancelled; `None` for the last two.
    pub fn wait_for<T>(
        &self,
        until: i64,
        mut take: impl FnMut(&mut Events) -> Option<T>,
    ) -> Option<T> {
        let mut events = self.lock();
        loop {
            if let Some(found) = take(&mut events) {
                return Some(found);
            }
            if self.is_cancelled() {
                return None;
            }
            if until == NO_DEADLINE {
                events = self.cond.wait(events).unwrap_or_else(|e| e.into_inner());
            } else {
                let left = until - now_ns();
                if left <= 0 {
                    return None;
                }
                events = self
                    .cond
                    .wait_timeout(events, Duration::from_nanos(left as u64))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }
}
