//! The C ABI of Go's `net.Resolver`: resolver handles, and lookups of
//! addresses, names and records through them.

use super::boundary::{arg_str, call, check_len, duration_ms, write_text};
use crate::error::{Cause, NetError, Result};
use crate::handle::{self, DIALERS, RESOLVERS};
use crate::net::{Resolver, default_resolver, parse_servers};
use crate::poll::NO_DEADLINE;
use std::ffi::c_char;
use std::sync::Arc;

/// The resolver behind `h`: 0 is the default one.
fn lookup_resolver(op: &'static str, h: i64) -> Result<Option<Arc<Resolver>>> {
    if h == 0 {
        return Ok(None);
    }
    RESOLVERS.get(h).map(Some).ok_or_else(|| {
        if handle::get(h).is_some() || DIALERS.get(h).is_some() {
            NetError::invalid(op, format!("handle {h} is not a resolver"))
        } else {
            NetError::new(op, "", Cause::Closed)
        }
    })
}

/// Runs `f` with the resolver behind `h` (0: the default one).
fn with_resolver<T>(op: &'static str, h: i64, f: impl FnOnce(&Resolver) -> T) -> Result<T> {
    let r = lookup_resolver(op, h)?;
    Ok(f(r.as_deref().unwrap_or_else(|| default_resolver())))
}

fn lookup_failed(op: &'static str) -> impl Fn(Cause) -> NetError {
    move |c| NetError::new(op, "", c)
}

/// Makes a resolver (Go's `&net.Resolver{}`): resolv.conf's name servers,
/// no timeout of its own. Free it with `net_close`, which also cancels its
/// lookups. In every `resolver` argument, 0 means the default resolver
/// (Go's `net.DefaultResolver`).
#[unsafe(no_mangle)]
pub extern "C" fn net_resolver_new() -> i64 {
    call("resolver_new", || Ok(RESOLVERS.insert(Resolver::default())))
}

/// Makes `resolver` ask `servers`, a comma-separated list of `ip:port`
/// name servers (`"127.0.0.1:53,[::1]:53"`), instead of resolv.conf's, as
/// Go programs do with `Resolver.Dial`. NULL or `""` goes back to
/// resolv.conf's. `NET_EADDR` when an entry is not an IP literal with a
/// port; `NET_EINVAL` for a string that is not UTF-8.
///
/// # Safety
/// `servers` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_resolver_set_servers(resolver: i64, servers: *const c_char) -> i64 {
    const OP: &str = "resolver_set_servers";
    call(OP, || {
        let list = if servers.is_null() {
            None
        } else {
            // SAFETY: non-NULL, and the caller promises NUL termination.
            let text = unsafe { arg_str(OP, "servers", servers) }?;
            let list = parse_servers(text).map_err(|bad| {
                NetError::new(
                    OP,
                    "",
                    Cause::Addr {
                        err: "not an IP address and port",
                        addr: bad,
                    },
                )
            })?;
            (!list.is_empty()).then_some(list)
        };
        with_resolver(OP, resolver, |r| r.set_servers(list))?;
        Ok(0)
    })
}

/// Bounds each lookup of `resolver`, as a whole, to `ms` milliseconds (it
/// then fails with `NET_ETIMEOUT`). `NET_FOREVER` or `NET_DEFAULT`: no
/// bound of its own (resolv.conf's `timeout` per exchange and `attempts`
/// still apply), as a new resolver has; 0 has already run out (every
/// lookup that asks a name server fails with `NET_ETIMEOUT` at once).
#[unsafe(no_mangle)]
pub extern "C" fn net_resolver_set_timeout(resolver: i64, ms: i64) -> i64 {
    const OP: &str = "resolver_set_timeout";
    call(OP, || {
        with_resolver(OP, resolver, |r| r.set_timeout(duration_ms(ms, None)))?;
        Ok(0)
    })
}

/// Cancels every lookup of `resolver` in progress, from any thread, and
/// every later one: they fail promptly with `NET_ECANCELED`. The default
/// resolver (0) cannot be cancelled: `NET_EINVAL`.
#[unsafe(no_mangle)]
pub extern "C" fn net_resolver_cancel(resolver: i64) -> i64 {
    const OP: &str = "resolver_cancel";
    call(OP, || match lookup_resolver(OP, resolver)? {
        Some(r) => {
            r.cancel();
            Ok(0)
        }
        None => Err(NetError::invalid(
            OP,
            "the default resolver cannot be cancelled",
        )),
    })
}

/// Makes `dialer` look names up through `resolver` (0: the default one).
/// A cancel of either stops a lookup in progress.
#[unsafe(no_mangle)]
pub extern "C" fn net_dialer_set_resolver(dialer: i64, resolver: i64) -> i64 {
    const OP: &str = "dialer_set_resolver";
    call(OP, || {
        let d = DIALERS.get(dialer).ok_or_else(|| {
            if handle::get(dialer).is_some() || RESOLVERS.get(dialer).is_some() {
                NetError::invalid(OP, format!("handle {dialer} is not a dialer"))
            } else {
                NetError::new(OP, "", Cause::Closed)
            }
        })?;
        d.set_resolver(lookup_resolver(OP, resolver)?);
        Ok(0)
    })
}

/// Go's `Resolver.LookupIP`: the addresses of `host` on `network`
/// (`"ip"`, `"ip4"` or `"ip6"`), one a line, in Go's order (RFC 6724),
/// written NUL-terminated into `buf` like `snprintf`; returns the full
/// length. Errors: `NET_ENOHOST` (no such host), `NET_EDNS` (a failure
/// that may pass: server failure or refusal, bad reply, no server
/// answered), `NET_ETIMEOUT`, `NET_ECANCELED`, `NET_EADDR` (unknown
/// network), `NET_EINVAL`, `NET_ECLOSED` (closed resolver).
///
/// # Safety
/// `network` and `host` are NULL or NUL-terminated strings; `buf` is NULL
/// (with `len` 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_lookup_ip(
    resolver: i64,
    network: *const c_char,
    host: *const c_char,
    buf: *mut c_char,
    len: usize,
) -> i64 {
    const OP: &str = "lookup_ip";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        // SAFETY: the caller promises valid strings or NULL.
        let (network, host) =
            unsafe { (arg_str(OP, "network", network)?, arg_str(OP, "host", host)?) };
        if !matches!(network, "ip" | "ip4" | "ip6") {
            return Err(NetError::new(
                OP,
                "",
                Cause::UnknownNetwork(network.to_owned()),
            ));
        }
        let ips = with_resolver(OP, resolver, |r| {
            r.lookup_ip(network, host, NO_DEADLINE, None)
        })?
        .map_err(lookup_failed(OP))?;
        let text: Vec<String> = ips.iter().map(ToString::to_string).collect();
        write_text(OP, &text.join("\n"), buf, len)
    })
}

/// Go's `Resolver.LookupAddr`: the names of `addr` (PTR records, or the
/// hosts file), one a line, each with its trailing dot. Errors as
/// `net_lookup_ip`; `NET_EADDR` when `addr` is not an IP address.
///
/// # Safety
/// `addr` is NULL or a NUL-terminated string; `buf` is NULL (with `len`
/// 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_lookup_addr(
    resolver: i64,
    addr: *const c_char,
    buf: *mut c_char,
    len: usize,
) -> i64 {
    const OP: &str = "lookup_addr";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        // SAFETY: the caller promises a valid string or NULL.
        let addr = unsafe { arg_str(OP, "addr", addr) }?;
        let names =
            with_resolver(OP, resolver, |r| r.lookup_addr(addr))?.map_err(lookup_failed(OP))?;
        write_text(OP, &names.join("\n"), buf, len)
    })
}

/// Go's `Resolver.LookupCNAME`: the canonical name of `host`, with its
/// trailing dot. Errors as `net_lookup_ip`.
///
/// # Safety
/// `host` is NULL or a NUL-terminated string; `buf` is NULL (with `len`
/// 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_lookup_cname(
    resolver: i64,
    host: *const c_char,
    buf: *mut c_char,
    len: usize,
) -> i64 {
    const OP: &str = "lookup_cname";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        // SAFETY: the caller promises a valid string or NULL.
        let host = unsafe { arg_str(OP, "host", host) }?;
        let cname =
            with_resolver(OP, resolver, |r| r.lookup_cname(host))?.map_err(lookup_failed(OP))?;
        write_text(OP, &cname, buf, len)
    })
}

/// Go's `Resolver.LookupMX`: lines `PREF HOST`, by preference (equal
/// preferences in random order, as Go's `byPref.sort`). Errors as
/// `net_lookup_ip`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `buf` is NULL (with `len`
/// 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_lookup_mx(
    resolver: i64,
    name: *const c_char,
    buf: *mut c_char,
    len: usize,
) -> i64 {
    const OP: &str = "lookup_mx";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        // SAFETY: the caller promises a valid string or NULL.
        let name = unsafe { arg_str(OP, "name", name) }?;
        let mx = with_resolver(OP, resolver, |r| r.lookup_mx(name))?.map_err(lookup_failed(OP))?;
        let lines: Vec<String> = mx
            .iter()
            .map(|(pref, host)| format!("{pref} {host}"))
            .collect();
        write_text(OP, &lines.join("\n"), buf, len)
    })
}

/// Go's `Resolver.LookupNS`: the name servers of `name`, one a line.
/// Errors as `net_lookup_ip`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `buf` is NULL (with `len`
/// 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_lookup_ns(
    resolver: i64,
    name: *const c_char,
    buf: *mut c_char,
    len: usize,
) -> i64 {
    const OP: &str = "lookup_ns";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        // SAFETY: the caller promises a valid string or NULL.
        let name = unsafe { arg_str(OP, "name", name) }?;
        let ns = with_resolver(OP, resolver, |r| r.lookup_ns(name))?.map_err(lookup_failed(OP))?;
        write_text(OP, &ns.join("\n"), buf, len)
    })
}

/// Go's `Resolver.LookupSRV`: the SRV records of `_service._proto.name`
/// (of `name` as given when `service` and `proto` are both `""`), lines
/// `PRIORITY WEIGHT PORT TARGET`, by priority and, within one, shuffled by
/// weight (RFC 2782, as Go's `byPriorityWeight.sort`). Errors as
/// `net_lookup_ip`.
///
/// # Safety
/// `service`, `proto` and `name` are NULL or NUL-terminated strings; `buf`
/// is NULL (with `len` 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_lookup_srv(
    resolver: i64,
    service: *const c_char,
    proto: *const c_char,
    name: *const c_char,
    buf: *mut c_char,
    len: usize,
) -> i64 {
    const OP: &str = "lookup_srv";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        // SAFETY: the caller promises valid strings or NULL.
        let (service, proto, name) = unsafe {
            (
                arg_str(OP, "service", service)?,
                arg_str(OP, "proto", proto)?,
                arg_str(OP, "name", name)?,
            )
        };
        let srvs = with_resolver(OP, resolver, |r| r.lookup_srv(service, proto, name))?
            .map_err(lookup_failed(OP))?;
        let lines: Vec<String> = srvs
            .iter()
            .map(|s| format!("{} {} {} {}", s.priority, s.weight, s.port, s.target))
            .collect();
        write_text(OP, &lines.join("\n"), buf, len)
    })
}

/// One TXT record as a line: a backslash, a line feed and every byte below
/// 0x20 or above 0x7e written as `\DDD` (three decimal digits).
fn escape_txt(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if b == b'\\' || !(0x20..=0x7e).contains(&b) {
            s.push_str(&format!("\\{b:03}"));
        } else {
            s.push(char::from(b));
        }
    }
    s
}

/// Go's `Resolver.LookupTXT`: one record a line, its strings joined as Go
/// joins them (with nothing between); a backslash, a line feed and every
/// byte below 0x20 or above 0x7e written as `\DDD` (three decimal digits),
/// so nothing is lost. Errors as `net_lookup_ip`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `buf` is NULL (with `len`
/// 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_lookup_txt(
    resolver: i64,
    name: *const c_char,
    buf: *mut c_char,
    len: usize,
) -> i64 {
    const OP: &str = "lookup_txt";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        // SAFETY: the caller promises a valid string or NULL.
        let name = unsafe { arg_str(OP, "name", name) }?;
        let txt =
            with_resolver(OP, resolver, |r| r.lookup_txt(name))?.map_err(lookup_failed(OP))?;
        let lines: Vec<String> = txt.iter().map(|t| escape_txt(t)).collect();
        write_text(OP, &lines.join("\n"), buf, len)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_lines_escape_what_is_not_printable() {
        assert_eq!(escape_txt(b"v=spf1 -all"), "v=spf1 -all");
        assert_eq!(
            escape_txt(b"a\\b\nc\x7f\xff\x1f"),
            "a\\092b\\010c\\127\\255\\031"
        );
    }
}
