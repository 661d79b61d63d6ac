//! Go's `net.Dialer` as a handle: settings shared by its dials, and a
//! cancel that reaches every dial in progress (see `dialop.rs`).

use super::dial::{self, DialOptions};
use super::dialop::DialOp;
use super::dns::resolver::Resolver;
use super::fd::NetFd;
use super::sock::{Control, KEEPALIVE_PERIOD, KeepAliveConfig};
use crate::error::Result;
use crate::poll::{NO_DEADLINE, now_ns};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

/// Settings of a dialer handle. `None` is "never": no timeout, no race
/// of the address families, no keep-alive.
#[derive(Clone, Debug)]
struct Settings {
    timeout: Option<Duration>,
    local_addr: Option<String>,
    fallback_delay: Option<Duration>,
    keepalive: Option<Duration>,
    resolver: Option<Arc<Resolver>>,
    keepalive_config: Option<KeepAliveConfig>,
    control: Option<Control>,
}

impl Default for Settings {
    /// Go's zero `Dialer`: no timeout, the 300 ms fallback delay, 15 s
    /// keep-alive.
    fn default() -> Settings {
        Settings {
            timeout: None,
            local_addr: None,
            fallback_delay: Some(dial::DEFAULT_FALLBACK_DELAY),
            keepalive: Some(KEEPALIVE_PERIOD),
            resolver: None,
            keepalive_config: None,
            control: None,
        }
    }
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

    pub fn set_timeout(&self, timeout: Option<Duration>) {
        self.settings().timeout = timeout;
    }

    pub fn set_local_addr(&self, addr: Option<String>) {
        self.settings().local_addr = addr;
    }

    pub fn set_fallback_delay(&self, delay: Option<Duration>) {
        self.settings().fallback_delay = delay;
    }

    pub fn set_keepalive(&self, period: Option<Duration>) {
        self.settings().keepalive = period;
    }

    /// Names are looked up through `resolver` (`None`: the default one).
    pub fn set_resolver(&self, resolver: Option<Arc<Resolver>>) {
        self.settings().resolver = resolver;
    }

    pub fn set_keepalive_config(&self, config: KeepAliveConfig) {
        self.settings().keepalive_config = Some(config);
    }

    pub fn set_control(&self, control: Option<Control>) {
        self.settings().control = control;
    }

    fn options(&self) -> DialOptions {
        let s = self.settings().clone();
        let deadline = s.timeout.map_or(NO_DEADLINE, |t| {
            let ns = i64::try_from(t.as_nanos()).unwrap_or(i64::MAX);
            now_ns().saturating_add(ns).min(NO_DEADLINE - 1)
        });
        DialOptions {
            deadline,
            local_addr: s.local_addr,
            fallback_delay: s.fallback_delay,
            keepalive: s.keepalive,
            resolver: s.resolver,
            keepalive_config: s.keepalive_config,
            control: s.control,
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
