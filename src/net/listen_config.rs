//! Go's `net.ListenConfig` as a handle: options applied to each socket
//! before it is bound (SO_REUSEPORT, a control function), the backlog, and
//! the keep-alive of the connections a listener accepts.

use super::dgram::listen_packet_with;
use super::fd::NetFd;
use super::listen::listen_with;
use super::sock::{Control, KeepAliveConfig, ListenOptions};
use crate::error::Result;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

#[derive(Default)]
pub struct ListenConfig {
    options: Mutex<ListenOptions>,
}

impl ListenConfig {
    fn options(&self) -> MutexGuard<'_, ListenOptions> {
        self.options.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_reuseport(&self, on: bool) {
        self.options().reuseport = on;
    }

    /// `n` <= 0 is the default, `net.core.somaxconn`; larger values are
    /// clamped to what `listen(2)` takes (the kernel clamps them again to
    /// `net.core.somaxconn`).
    pub fn set_backlog(&self, n: i64) {
        self.options().backlog = n.clamp(0, i32::MAX as i64) as i32;
    }

    /// As a dialer's: `None` turns keep-alive off.
    pub fn set_keepalive(&self, period: Option<Duration>) {
        self.options().keepalive = Some(period);
    }

    pub fn set_keepalive_config(&self, config: KeepAliveConfig) {
        self.options().keepalive_config = Some(config);
    }

    pub fn set_control(&self, control: Option<Control>) {
        self.options().control = control;
    }

    pub fn listen(&self, network: &str, address: &str) -> Result<NetFd> {
        let opts = self.options().clone();
        listen_with(network, address, &opts)
    }

    pub fn listen_packet(&self, network: &str, address: &str) -> Result<NetFd> {
        let opts = self.options().clone();
        listen_packet_with(network, address, &opts)
    }
}
