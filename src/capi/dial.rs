//! The C ABI of Go's `net.Dialer` and of the lookup and address helpers
//! (`LookupHost`, `LookupPort`, `SplitHostPort`, `JoinHostPort`).

use super::boundary::network_and_address;
use super::boundary::{arg_str, call, check_len, duration_ms, write_text};
use super::listen_config::{control_of, net_control_fn};
use crate::error::{Cause, NetError, Result};
use crate::handle::{self, DIALERS};
use crate::net::{self, Dialer, Network};
use std::ffi::{c_char, c_void};
use std::sync::Arc;

fn lookup_dialer(op: &'static str, h: i64) -> Result<Arc<Dialer>> {
    DIALERS.get(h).ok_or_else(|| {
        if handle::get(h).is_some() || handle::LISTEN_CONFIGS.get(h).is_some() {
            NetError::invalid(op, format!("handle {h} is not a dialer"))
        } else {
            NetError::new(op, "", Cause::Closed)
        }
    })
}

/// Makes a dialer (Go's `net.Dialer`) with Go's defaults: no timeout, no
/// local address, a 300 ms Happy Eyeballs fallback delay, keep-alive at
/// 15 s. Free it with `net_close`, which also cancels its dials.
#[unsafe(no_mangle)]
pub extern "C" fn net_dialer_new() -> i64 {
    call("dialer_new", || Ok(DIALERS.insert(Dialer::default())))
}

/// Bounds each dial of `dialer`, name lookup included, to `timeout_ms`
/// milliseconds (Go's `Dialer.Timeout`). `NET_FOREVER` or `NET_DEFAULT`:
/// no timeout, as a new dialer has; 0 has already run out (every dial
/// fails with `NET_ETIMEOUT` at once). `NET_ECLOSED` for a closed or
/// unknown handle, `NET_EINVAL` for one that is not a dialer.
#[unsafe(no_mangle)]
pub extern "C" fn net_dialer_set_timeout(dialer: i64, timeout_ms: i64) -> i64 {
    const OP: &str = "dialer_set_timeout";
    call(OP, || {
        lookup_dialer(OP, dialer)?.set_timeout(duration_ms(timeout_ms, None));
        Ok(0)
    })
}

/// Binds dials of `dialer` to a local address (`"127.0.0.2:0"`); only
/// remote addresses of the same family are then dialed. NULL clears it.
///
/// # Safety
/// `address` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_dialer_set_local_addr(dialer: i64, address: *const c_char) -> i64 {
    const OP: &str = "dialer_set_local_addr";
    call(OP, || {
        let d = lookup_dialer(OP, dialer)?;
        let local = if address.is_null() {
            None
        } else {
            // SAFETY: non-NULL, and the caller promises NUL termination.
            Some(unsafe { arg_str(OP, "address", address) }?.to_owned())
        };
        d.set_local_addr(local);
        Ok(0)
    })
}

/// Sets how long a dial waits on the first address family before racing
/// the other (Go's `FallbackDelay`). `NET_DEFAULT` is Go's 300 ms, as a
/// new dialer has; 0 starts both families at once; `NET_FOREVER` never
/// starts the other family early: every address is tried in turn.
#[unsafe(no_mangle)]
pub extern "C" fn net_dialer_set_fallback_delay(dialer: i64, delay_ms: i64) -> i64 {
    const OP: &str = "dialer_set_fallback_delay";
    call(OP, || {
        let default = Some(net::DEFAULT_FALLBACK_DELAY);
        lookup_dialer(OP, dialer)?.set_fallback_delay(duration_ms(delay_ms, default));
        Ok(0)
    })
}

/// Sets the keep-alive period of connections the dialer makes (Go's
/// `Dialer.KeepAlive`), rounded up to whole seconds as
/// `net_set_keepalive`'s. `NET_DEFAULT` is Go's 15 s, as a new dialer has;
/// `NET_FOREVER` turns keep-alive off.
#[unsafe(no_mangle)]
pub extern "C" fn net_dialer_set_keepalive(dialer: i64, period_ms: i64) -> i64 {
    const OP: &str = "dialer_set_keepalive";
    call(OP, || {
        let default = Some(net::KEEPALIVE_PERIOD);
        lookup_dialer(OP, dialer)?.set_keepalive(duration_ms(period_ms, default));
        Ok(0)
    })
}

/// Sets Go 1.23's `Dialer.KeepAliveConfig` for connections the dialer
/// makes; the arguments are as `net_set_keepalive_config`. It applies
/// after `net_dialer_set_keepalive`'s period.
#[unsafe(no_mangle)]
pub extern "C" fn net_dialer_set_keepalive_config(
    dialer: i64,
    idle_ms: i64,
    interval_ms: i64,
    count: i64,
) -> i64 {
    const OP: &str = "dialer_set_keepalive_config";
    call(OP, || {
        lookup_dialer(OP, dialer)?.set_keepalive_config(net::KeepAliveConfig {
            idle_ms,
            interval_ms,
            count,
        });
        Ok(0)
    })
}

/// Sets the control function `fn` (Go's `Dialer.Control`, see
/// `net_control_fn`), called with `arg` for each socket a dial of `dialer`
/// makes (once per address tried), before it is bound or connected; NULL
/// removes it. `arg` must stay valid for as long as `dialer` may dial.
///
/// # Safety
/// `fn` is NULL or a function of the `net_control_fn` type that may be
/// called with `arg` from any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_dialer_set_control(
    dialer: i64,
    r#fn: net_control_fn,
    arg: *mut c_void,
) -> i64 {
    const OP: &str = "dialer_set_control";
    call(OP, || {
        lookup_dialer(OP, dialer)?.set_control(control_of(r#fn, arg));
        Ok(0)
    })
}

/// Dials with the dialer's settings, as `net_dial` does: the name is looked
/// up within the timeout, and where a host has IPv6 and IPv4 addresses the
/// families are raced (Happy Eyeballs). Returns a connection handle, or
/// `NET_ECANCELED` promptly once `net_dialer_cancel` is called.
///
/// # Safety
/// `network` and `address` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_dialer_dial(
    dialer: i64,
    network: *const c_char,
    address: *const c_char,
) -> i64 {
    const OP: &str = "dial";
    call(OP, || {
        // SAFETY: the caller promises valid strings or NULL.
        let (network, address) = unsafe { network_and_address(OP, network, address)? };
        let d = lookup_dialer(OP, dialer)?;
        d.dial(network, address).map(handle::insert)
    })
}

/// Cancels every dial of `dialer` in progress, from any thread, and every
/// later one, as cancelling a Go context does: they fail promptly with
/// `NET_ECANCELED` ("operation was canceled"). Connections already made
/// are not affected. Make a new dialer to dial again.
#[unsafe(no_mangle)]
pub extern "C" fn net_dialer_cancel(dialer: i64) -> i64 {
    const OP: &str = "dialer_cancel";
    call(OP, || {
        lookup_dialer(OP, dialer)?.cancel();
        Ok(0)
    })
}

/// Looks `host` up with the default resolver (as `net_lookup_ip` with
/// resolver 0 and `"ip"`) and writes every address, one
/// per line (`"::1\n127.0.0.1"`), NUL-terminated into `buf` like
/// `snprintf`; returns the full length of that text. An IP literal is
/// returned as is. `NET_ENOHOST` when the name does not resolve.
///
/// # Safety
/// `host` is NULL or a NUL-terminated string; `buf` is NULL (with `len` 0)
/// or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_lookup_host(host: *const c_char, buf: *mut c_char, len: usize) -> i64 {
    const OP: &str = "lookup_host";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        // SAFETY: the caller promises a valid string or NULL.
        let host = unsafe { arg_str(OP, "host", host) }?;
        let ips = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => net::default_resolver()
                .lookup_ip("ip", host, crate::poll::NO_DEADLINE, None)
                .map_err(|c| NetError::new(OP, "", c))?,
        };
        let text: Vec<String> = ips.iter().map(ToString::to_string).collect();
        write_text(OP, &text.join("\n"), buf, len)
    })
}

/// Go's `LookupPort`: the port number of `service` (`"http"` → 80, `"8080"`
/// → 8080) on `network` (`"tcp"`, `"tcp4"`, `"tcp6"`).
///
/// # Safety
/// `network` and `service` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_lookup_port(network: *const c_char, service: *const c_char) -> i64 {
    const OP: &str = "lookup_port";
    call(OP, || {
        // SAFETY: the caller promises valid strings or NULL.
        let (network, service) = unsafe {
            (
                arg_str(OP, "network", network)?,
                arg_str(OP, "service", service)?,
            )
        };
        let net = Network::parse(network).map_err(|c| NetError::new(OP, network, c))?;
        net::lookup_port(net, service)
            .map(i64::from)
            .map_err(|c| NetError::new(OP, "", c))
    })
}

/// Go's `SplitHostPort`: splits `"host:port"`, `"[v6]:port"` or
/// `"[v6%zone]:port"` into host and port, each written NUL-terminated.
/// Both are parts of `hostport`, so buffers of `strlen(hostport) + 1`
/// bytes always suffice; a shorter buffer gets `NET_EINVAL`. Returns 0, or
/// `NET_EADDR` with Go's message (`address x: missing port in address`).
///
/// # Safety
/// `hostport` is NULL or a NUL-terminated string; `host` and `port` are
/// valid for writes of `host_len` and `port_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_split_host_port(
    hostport: *const c_char,
    host: *mut c_char,
    host_len: usize,
    port: *mut c_char,
    port_len: usize,
) -> i64 {
    const OP: &str = "split_host_port";
    call(OP, || {
        // SAFETY: the caller promises a valid string or NULL.
        let hostport = unsafe { arg_str(OP, "hostport", hostport) }?;
        let (h, p) = net::split_host_port(hostport).map_err(|c| NetError::new(OP, "", c))?;
        for (part, buf, len, what) in [(h, host, host_len, "host"), (p, port, port_len, "port")] {
            if buf.is_null() || len <= part.len() {
                return Err(NetError::invalid(
                    OP,
                    format!("{what} buffer needs {} bytes", part.len() + 1),
                ));
            }
            write_text(OP, part, buf, len)?;
        }
        Ok(0)
    })
}

/// Go's `JoinHostPort`: `"host:port"`, or `"[host]:port"` when the host
/// has a colon (IPv6). Written NUL-terminated into `buf` like `snprintf`;
/// returns the full length.
///
/// # Safety
/// `host` and `port` are NULL or NUL-terminated strings; `buf` is NULL
/// (with `len` 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_join_host_port(
    host: *const c_char,
    port: *const c_char,
    buf: *mut c_char,
    len: usize,
) -> i64 {
    const OP: &str = "join_host_port";
    call(OP, || {
        // SAFETY: the caller promises valid strings or NULL.
        let (host, port) = unsafe { (arg_str(OP, "host", host)?, arg_str(OP, "port", port)?) };
        write_text(OP, &net::join_host_port(host, port), buf, len)
    })
}
