//! Go's `net.Dialer` as a handle: settings shared by its dials, and a
//! cancel that reaches every dial in progress (see `dialop.rs`).

use super::dial::{self, DialOptions};
use super::dialop::DialOp;
use super::fd::NetFd;
use super::sock::KEEPALIVE_PERIOD;
use crate::error::Result;
use crate::poll::{NO_DEADLINE, now_ns};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

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
                0 => Some(KEEPALIVE_PERIOD),
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
