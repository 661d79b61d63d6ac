//! The C ABI of Go's `net.ListenConfig` and of control functions (Go's
//! `ListenConfig.Control` and `Dialer.Control`).

use super::boundary::network_and_address;
use super::boundary::{call, duration_ms};
use crate::error::{Cause, NetError, Result};
use crate::handle::{self, DIALERS, LISTEN_CONFIGS};
use crate::net::{Control, ListenConfig};
use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

/// A control function (Go's `ListenConfig.Control` and `Dialer.Control`):
/// called with each new socket `fd` after gonet has set its own options
/// and before the socket is bound or connected, with Go's names for the
/// network (`"tcp4"`, `"tcp6"`, `"udp4"`, `"udp6"`, `"unix"`,
/// `"unixgram"`) and the address (`"127.0.0.1:8080"`, `"[::]:8080"`, a
/// path). Return 0 (or any non-negative value) to go on; a negative value
/// aborts the listen or dial with that code (`NET_ESYSTEM` when it is not
/// a `NET_E*` code) and the message `... control: returned <code> (...)`,
/// and the socket is closed. The function may be called from any thread,
/// and must not close `fd`.
#[allow(non_camel_case_types)]
pub type net_control_fn = Option<
    unsafe extern "C" fn(
        network: *const c_char,
        address: *const c_char,
        fd: c_int,
        arg: *mut c_void,
    ) -> i64,
>;

pub(crate) fn lookup_listen_config(op: &'static str, h: i64) -> Result<Arc<ListenConfig>> {
    LISTEN_CONFIGS.get(h).ok_or_else(|| {
        if handle::get(h).is_some() || DIALERS.get(h).is_some() {
            NetError::invalid(op, format!("handle {h} is not a listen config"))
        } else {
            NetError::new(op, "", Cause::Closed)
        }
    })
}

pub(crate) fn control_of(func: net_control_fn, arg: *mut c_void) -> Option<Control> {
    func.map(|func| Control { func, arg })
}

/// Makes a listen configuration (Go's `net.ListenConfig`) with Go's
/// defaults: no SO_REUSEPORT, the backlog from
/// `/proc/sys/net/core/somaxconn`, keep-alive at 15 s on accepted
/// connections, no control function. Free it with `net_close`; listeners
/// made from it live on.
#[unsafe(no_mangle)]
pub extern "C" fn net_listen_config_new() -> i64 {
    call("listen_config_new", || {
        Ok(LISTEN_CONFIGS.insert(ListenConfig::default()))
    })
}

/// Sets SO_REUSEPORT (`on` non-zero) on the sockets `lc` makes, so that
/// several sockets, in one process or several, can listen on one port;
/// the kernel spreads connections among them.
#[unsafe(no_mangle)]
pub extern "C" fn net_listen_config_set_reuseport(lc: i64, on: i64) -> i64 {
    const OP: &str = "listen_config_set_reuseport";
    call(OP, || {
        lookup_listen_config(OP, lc)?.set_reuseport(on != 0);
        Ok(0)
    })
}

/// Sets the length of the accept queue of listeners `lc` makes; 0 or less
/// is Go's default, `/proc/sys/net/core/somaxconn` (which the kernel also
/// caps any value at).
#[unsafe(no_mangle)]
pub extern "C" fn net_listen_config_set_backlog(lc: i64, n: i64) -> i64 {
    const OP: &str = "listen_config_set_backlog";
    call(OP, || {
        lookup_listen_config(OP, lc)?.set_backlog(n);
        Ok(0)
    })
}

/// Sets the keep-alive period of connections accepted by listeners `lc`
/// makes (Go's `ListenConfig.KeepAlive`), rounded up to whole seconds as
/// `net_set_keepalive`'s. `NET_DEFAULT` is Go's 15 s, as a new listen
/// config has; `NET_FOREVER` turns keep-alive off.
#[unsafe(no_mangle)]
pub extern "C" fn net_listen_config_set_keepalive(lc: i64, period_ms: i64) -> i64 {
    const OP: &str = "listen_config_set_keepalive";
    call(OP, || {
        let period = duration_ms(period_ms, Some(crate::net::KEEPALIVE_PERIOD));
        lookup_listen_config(OP, lc)?.set_keepalive(period);
        Ok(0)
    })
}

/// Sets Go 1.23's `ListenConfig.KeepAliveConfig` for connections accepted
/// by listeners `lc` makes; the arguments are as `net_set_keepalive_config`.
#[unsafe(no_mangle)]
pub extern "C" fn net_listen_config_set_keepalive_config(
    lc: i64,
    idle_ms: i64,
    interval_ms: i64,
    count: i64,
) -> i64 {
    const OP: &str = "listen_config_set_keepalive_config";
    call(OP, || {
        lookup_listen_config(OP, lc)?.set_keepalive_config(crate::net::KeepAliveConfig {
            idle_ms,
            interval_ms,
            count,
        });
        Ok(0)
    })
}

/// Sets the control function `fn`, called with `arg` for each socket `lc`
/// makes (see `net_control_fn`); NULL removes it. `arg` must stay valid
/// for as long as `lc` may listen.
///
/// # Safety
/// `fn` is NULL or a function of the `net_control_fn` type that may be
/// called with `arg` from any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_listen_config_set_control(
    lc: i64,
    r#fn: net_control_fn,
    arg: *mut c_void,
) -> i64 {
    const OP: &str = "listen_config_set_control";
    call(OP, || {
        lookup_listen_config(OP, lc)?.set_control(control_of(r#fn, arg));
        Ok(0)
    })
}

/// Listens as `net_listen` does, with `lc`'s options (Go's
/// `ListenConfig.Listen`). Returns a listener handle, or a negative code:
/// without SO_REUSEPORT a port in use fails with `NET_EADDRINUSE`
/// (`listen tcp 127.0.0.1:8080: bind: address already in use`); a
/// control function's failure with its code.
///
/// # Safety
/// `network` and `address` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_listen_config_listen(
    lc: i64,
    network: *const c_char,
    address: *const c_char,
) -> i64 {
    const OP: &str = "listen";
    call(OP, || {
        // SAFETY: the caller promises valid strings or NULL.
        let (network, address) = unsafe { network_and_address(OP, network, address)? };
        let config = lookup_listen_config(OP, lc)?;
        config.listen(network, address).map(handle::insert)
    })
}

/// As `net_listen_packet`, with `lc`'s options (Go's
/// `ListenConfig.ListenPacket`): SO_REUSEPORT and the control function
/// apply; the backlog and keep-alive settings do not.
///
/// # Safety
/// `network` and `address` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_listen_config_listen_packet(
    lc: i64,
    network: *const c_char,
    address: *const c_char,
) -> i64 {
    const OP: &str = "listen";
    call(OP, || {
        // SAFETY: the caller promises valid strings or NULL.
        let (network, address) = unsafe { network_and_address(OP, network, address)? };
        let config = lookup_listen_config(OP, lc)?;
        config.listen_packet(network, address).map(handle::insert)
    })
}
