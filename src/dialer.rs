//! Cancellation for dials, and Go's `net.Dialer` as a handle.
//!
//! A `DialOp` is one dial in progress: the threads connecting for it poll
//! through its wait list, and the thread coordinating it (Happy Eyeballs,
//! a bounded name lookup) sleeps on its condition variable, so that one
//! `cancel` stops all of them at once.

use crate::dial::{self, DialOptions};
use crate::error::{Cause, Result};
use crate::fd::NetFd;
use crate::poll::{NO_DEADLINE, WaitList};
use crate::sys::now_ns;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
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

/// Settings of a dialer handle, in the C API's units.
#[derive(Clone, Debug, Default)]
struct Settings {
    timeout_ms: i64,
    local_addr: Option<String>,
    fallback_delay_ms: i64,
    keepalive_ms: i64,
}

/// Go's `net.Dialer`, as a handle: settings shared by its dials, and a
/// cancel that stops every dial in progress and every later one, as
/// cancelling a Go context does.
#[derive(Default)]
pub struct Dialer {
    settings: Mutex<Settings>,
    cancelled: AtomicBool,
    active: Mutex<Vec<Weak<DialOp>>>,
}

impl Dialer {
    fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_timeout(&self, ms: i64) {
        self.settings().timeout_ms = ms;
    }

    pub fn set_local_addr(&self, addr: Option<String>) {
        self.settings().local_addr = addr;
    }

    pub fn set_fallback_delay(&self, ms: i64) {
        self.settings().fallback_delay_ms = ms;
    }

    pub fn set_keepalive(&self, ms: i64) {
        self.settings().keepalive_ms = ms;
    }

    fn options(&self) -> DialOptions {
        let s = self.settings().clone();
        DialOptions {
            deadline: if s.timeout_ms > 0 {
                now_ns().saturating_add(s.timeout_ms.saturating_mul(1_000_000))
            } else {
                NO_DEADLINE
            },
            local_addr: s.local_addr,
            fallback_delay: match s.fallback_delay_ms {
                0 => Some(dial::DEFAULT_FALLBACK_DELAY),
                ms if ms < 0 => None,
                ms => Some(Duration::from_millis(ms as u64)),
            },
            keepalive: match s.keepalive_ms {
                0 => Some(dial::KEEPALIVE_PERIOD),
                ms if ms < 0 => None,
                ms => Some(Duration::from_millis(ms as u64)),
            },
        }
    }

    pub fn dial(&self, network: &str, address: &str) -> Result<NetFd> {
        let op = Arc::new(DialOp::new(true));
        {
            let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
            active.retain(|w| w.strong_count() > 0);
            active.push(Arc::downgrade(&op));
        }
        // Checked after registering, so a concurrent cancel is never missed.
        if self.cancelled.load(Ordering::Acquire) {
            op.cancel();
        }
        dial::dial(network, address, &self.options(), &op)
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        for op in active.iter().filter_map(Weak::upgrade) {
            op.cancel();
        }
    }
}
