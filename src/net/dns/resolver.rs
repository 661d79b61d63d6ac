//! Go's `net.Resolver` as gonet has it: lookups of every record type,
//! through the hosts file and name servers as nsswitch.conf orders them,
//! or through the system resolver where Go would use cgo; bounded by a
//! deadline and the resolver's timeout, cancellable through the lookup's
//! `DialOp`.

use super::addrselect::sort_by_rfc6724;
use super::client::{self, Ctx, DnsError, stops, try_one_name};
use super::conf::{self, DnsConfig, HostOrder, NssSource};
use super::hosts;
use super::msg::{
    RData, Reply, TYPE_A, TYPE_AAAA, TYPE_CNAME, TYPE_MX, TYPE_NS, TYPE_PTR, TYPE_SRV, TYPE_TXT,
};
use crate::error::{Cause, Code};
use crate::net::dialop::DialOp;
use crate::poll::NO_DEADLINE;
use crate::poll::now_ns;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

const RESOLV_CONF: &str = "/etc/resolv.conf";
const HOSTS: &str = hosts::SYSTEM;
const NSSWITCH: &str = "/etc/nsswitch.conf";
const MDNS_ALLOW: &str = "/etc/mdns.allow";

/// How often the system's files are looked at again, as Go.
const RECHECK: Duration = Duration::from_secs(5);

/// What the system's files and environment say, re-read at most every
/// 5 seconds.
struct SystemConf {
    dns: Arc<DnsConfig>,
    nss_hosts: Result<Option<Vec<NssSource>>, ()>,
    has_mdns_allow: bool,
    hostname: String,
    forced: Option<String>,
    env_overrides: bool,
    checked: Instant,
}

impl SystemConf {
    fn read() -> SystemConf {
        let nss_hosts = match std::fs::read(NSSWITCH) {
            Ok(text) => conf::parse_nsswitch_hosts(&String::from_utf8_lossy(&text))
                .map(Some)
                .ok_or(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(_) => Err(()),
        };
        let env = |name: &str| std::env::var_os(name);
        let nonempty = |name: &str| env(name).is_some_and(|v| !v.is_empty());
        SystemConf {
            dns: Arc::new(DnsConfig::read(RESOLV_CONF)),
            nss_hosts,
            has_mdns_allow: std::fs::metadata(MDNS_ALLOW).is_ok(),
            hostname: conf::hostname(),
            forced: std::env::var("GONET_RESOLVER")
                .ok()
                .filter(|v| v == "go" || v == "system"),
            env_overrides: env("LOCALDOMAIN").is_some()
                || nonempty("RES_OPTIONS")
                || nonempty("HOSTALIASES"),
            checked: Instant::now(),
        }
    }

    fn order(&self, host: &str) -> HostOrder {
        conf::host_order(
            &conf::System {
                forced: self.forced.as_deref(),
                env_overrides: self.env_overrides,
                resolv_unknown_opt: self.dns.unknown_opt,
                nss_hosts: self.nss_hosts.clone(),
                has_mdns_allow: self.has_mdns_allow,
                this_hostname: &self.hostname,
            },
            host,
        )
    }
}

static SYSTEM: Mutex<Option<Arc<SystemConf>>> = Mutex::new(None);

fn system() -> Arc<SystemConf> {
    let mut cached = SYSTEM.lock().unwrap_or_else(|e| e.into_inner());
    match cached.as_ref() {
        Some(c) if c.checked.elapsed() < RECHECK => c.clone(),
        _ => {
            let fresh = Arc::new(SystemConf::read());
            *cached = Some(fresh.clone());
            fresh
        }
    }
}

/// Go's `net.Resolver`, as a handle: name servers that replace
/// resolv.conf's, a timeout for each lookup as a whole, and a cancel.
#[derive(Default)]
pub struct Resolver {
    servers: Mutex<Option<Vec<String>>>,
    /// Bounds each lookup as a whole; `None`, no bound of its own.
    timeout: Mutex<Option<Duration>>,
    cancelled: AtomicBool,
    active: Mutex<Vec<Weak<DialOp>>>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("timeout", &self.timeout)
            .field("cancelled", &self.cancelled)
            .finish_non_exhaustive()
    }
}

/// The default resolver (Go's `net.DefaultResolver`).
pub fn default_resolver() -> &'static Resolver {
    static DEFAULT: std::sync::OnceLock<Resolver> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(Resolver::default)
}

/// Go's `ipVersion` as `Resolver::lookup_ip` takes it: "ip4" or "ip6" for
/// a network whose name ends in 4 or 6 (before any ":proto"), else "ip".
pub fn lookup_family(network: &str) -> &'static str {
    match network.split(':').next().and_then(|n| n.chars().last()) {
        Some('4') => "ip4",
        Some('6') => "ip6",
        _ => "ip",
    }
}

/// The default resolver as `lookup::resolve_with` takes it: the addresses
/// of a host on `network`'s family, looked up by `deadline` (Go's
/// `Listen` and `ResolveUDPAddr` go through `DefaultResolver` too).
pub fn default_lookup(
    network: &str,
    deadline: i64,
) -> impl Fn(&str) -> Result<Vec<IpAddr>, Cause> + use<> {
    let family = lookup_family(network);
    move |host| default_resolver().lookup_ip(family, host, deadline, None)
}

/// A lookup registered with its resolver, so that `cancel` reaches it.
struct Registration<'a> {
    resolver: &'a Resolver,
    op: Arc<DialOp>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let mut active = self.resolver.lock_active();
        active.retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.op)));
    }
}

impl Resolver {
    fn lock_active(&self) -> MutexGuard<'_, Vec<Weak<DialOp>>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Name servers (`host:port`, IP literals) to use instead of
    /// resolv.conf's; `None` goes back to resolv.conf.
    pub fn set_servers(&self, servers: Option<Vec<String>>) {
        *self.servers.lock().unwrap_or_else(|e| e.into_inner()) = servers;
    }

    pub fn set_timeout(&self, timeout: Option<Duration>) {
        *self.timeout.lock().unwrap_or_else(|e| e.into_inner()) = timeout;
    }

    /// Fails the lookups in flight, and every later one, with
    /// `operation was canceled`.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        for op in self.lock_active().iter().filter_map(Weak::upgrade) {
            op.cancel();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Registers `op` for the duration of a lookup; a cancel of this
    /// resolver then cancels it.
    fn register(&self, op: &Arc<DialOp>) -> Registration<'_> {
        {
            let mut active = self.lock_active();
            active.retain(|w| w.strong_count() > 0);
            active.push(Arc::downgrade(op));
        }
        // After registering, so a concurrent cancel is never missed.
        if self.is_cancelled() {
            op.cancel();
        }
        Registration {
            resolver: self,
            op: op.clone(),
        }
    }

    /// The configuration of one lookup: the system's, with this
    /// resolver's servers.
    fn config(&self, sys: &SystemConf) -> Arc<DnsConfig> {
        match &*self.servers.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(servers) => Arc::new(DnsConfig {
                servers: servers.clone(),
                ..(*sys.dns).clone()
            }),
            None => sys.dns.clone(),
        }
    }

    /// The deadline of a lookup that must end by `deadline`, bounded by
    /// this resolver's timeout.
    fn deadline(&self, deadline: i64) -> i64 {
        match *self.timeout.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(t) => {
                let ns = i64::try_from(t.as_nanos()).unwrap_or(i64::MAX);
                deadline.min(now_ns().saturating_add(ns))
            }
            None => deadline,
        }
    }

    /// Runs `f` with the lookup's context: `op` (a dial's, or a new one),
    /// registered with this resolver, and the deadline.
    fn with_ctx<T>(
        &self,
        name: &str,
        deadline: i64,
        op: Option<&Arc<DialOp>>,
        f: impl FnOnce(&Ctx<'_>) -> Result<T, DnsError>,
    ) -> Result<T, Cause> {
        let own;
        let op = match op {
            Some(op) => op,
            None => {
                own = Arc::new(DialOp::new(true));
                &own
            }
        };
        let _registered = self.register(op);
        let ctx = Ctx {
            deadline: self.deadline(deadline),
            op,
        };
        if op.is_cancelled() {
            return Err(
                DnsError::new("operation was canceled", name, "", Code::Canceled).into_cause(),
            );
        }
        f(&ctx).map_err(DnsError::into_cause)
    }

    /// Go's `LookupIPAddr` (`network` "ip", "ip4" or "ip6"): the addresses
    /// of `host`, ordered by RFC 6724.
    pub fn lookup_ip(
        &self,
        network: &str,
        host: &str,
        deadline: i64,
        op: Option<&Arc<DialOp>>,
    ) -> Result<Vec<IpAddr>, Cause> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let sys = system();
        let order = sys.order(host);
        if order == HostOrder::System {
            return self.lookup_ip_system(network, host, deadline, op);
        }
        let conf = self.config(&sys);
        self.with_ctx(host, deadline, op, |ctx| {
            lookup_ip_cname(&conf, network, host, order, ctx).map(|(ips, _)| ips)
        })
    }

    /// Through getaddrinfo, where Go would use cgo. A lookup that may be
    /// bounded or cancelled runs on a helper thread, which finishes on its
    /// own: the system resolver cannot be interrupted.
    fn lookup_ip_system(
        &self,
        network: &str,
        host: &str,
        deadline: i64,
        op: Option<&Arc<DialOp>>,
    ) -> Result<Vec<IpAddr>, Cause> {
        let keep = |ips: Vec<IpAddr>| -> Result<Vec<IpAddr>, Cause> {
            let ips: Vec<IpAddr> = ips
                .into_iter()
                .filter(|ip| match network {
                    "ip4" => ip.is_ipv4(),
                    "ip6" => ip.is_ipv6(),
                    _ => true,
                })
                .collect();
            if ips.is_empty() {
                return Err(DnsError::not_found(host, "").into_cause());
            }
            Ok(ips)
        };
        let deadline = self.deadline(deadline);
        // Nothing can end this lookup early (no deadline, no dialer to
        // cancel it, the default resolver, which cannot be cancelled): it
        // may block on the calling thread, as a plain getaddrinfo does.
        let unstoppable = deadline == NO_DEADLINE
            && op.is_none_or(|o| !o.cancellable())
            && std::ptr::eq(self, default_resolver());
        if unstoppable {
            return keep(crate::net::lookup::lookup_host(host)?);
        }
        let own;
        let op = match op {
            Some(op) => op,
            None => {
                own = Arc::new(DialOp::new(true));
                &own
            }
        };
        let _registered = self.register(op);
        let lookup_failed = |err: &str, code| Cause::Lookup {
            name: host.to_owned(),
            err: err.to_owned(),
            code,
        };
        let helper_op = Arc::clone(op);
        let helper_host = host.to_owned();
        std::thread::Builder::new()
            .name("gonet-lookup".to_owned())
            .spawn(move || {
                let answer = crate::net::lookup::lookup_host(&helper_host);
                helper_op.post(|e| e.lookup = Some(answer));
            })
            .map_err(|e| lookup_failed(&e.to_string(), Code::System))?;
        match op.wait_for(deadline, |e| e.lookup.take()) {
            Some(answer) => keep(answer?),
            None if op.is_cancelled() => {
                Err(lookup_failed("operation was canceled", Code::Canceled))
            }
            None => Err(lookup_failed("i/o timeout", Code::Timeout)),
        }
    }

    /// Go's `LookupCNAME`: the canonical name, rooted.
    pub fn lookup_cname(&self, host: &str) -> Result<String, Cause> {
        let sys = system();
        let order = match sys.order(host) {
            HostOrder::System => HostOrder::FilesDns,
            o => o,
        };
        let conf = self.config(&sys);
        self.with_ctx(host, NO_DEADLINE, None, |ctx| {
            lookup_ip_cname(&conf, "CNAME", host, order, ctx).map(|(_, cname)| cname)
        })
    }

    /// Go's `LookupAddr`: the names of an address, rooted.
    pub fn lookup_addr(&self, addr: &str) -> Result<Vec<String>, Cause> {
        let Ok(ip) = addr.parse::<IpAddr>() else {
            return Err(Cause::Lookup {
                name: addr.to_owned(),
                err: "unrecognized address".to_owned(),
                code: Code::Addr,
            });
        };
        let sys = system();
        let order = sys.order("");
        if matches!(
            order,
            HostOrder::FilesDns | HostOrder::Files | HostOrder::System
        ) {
            let names = hosts::read(HOSTS).lookup_addr(&ip).to_vec();
            if !names.is_empty() {
                return Ok(names);
            }
            if order == HostOrder::Files {
                return Err(DnsError::not_found(addr, "").into_cause());
            }
        }
        let conf = self.config(&sys);
        let arpa = reverse_name(&ip);
        let result = self.with_ctx(addr, NO_DEADLINE, None, |ctx| {
            let (reply, _) = lookup(&conf, &arpa, TYPE_PTR, ctx).map_err(|mut e| {
                e.name = addr.to_owned();
                e
            })?;
            Ok(names_of(&reply, TYPE_PTR))
        });
        if order == HostOrder::DnsFiles
            && matches!(
                &result,
                Err(Cause::Lookup {
                    code: Code::NoHost,
                    ..
                })
            )
        {
            let names = hosts::read(HOSTS).lookup_addr(&ip).to_vec();
            if !names.is_empty() {
                return Ok(names);
            }
        }
        result
    }

    /// Go's `LookupMX`, ordered by preference (equal ones shuffled).
    pub fn lookup_mx(&self, name: &str) -> Result<Vec<(u16, String)>, Cause> {
        let conf = self.config(&system());
        self.with_ctx(name, NO_DEADLINE, None, |ctx| {
            let (reply, _) = lookup(&conf, name, TYPE_MX, ctx)?;
            let mut mx: Vec<(u16, String)> = answers(&reply)
                .filter_map(|r| match &r.data {
                    RData::Mx { pref, host } => Some((*pref, host.clone())),
                    _ => None,
                })
                .collect();
            sort_by_pref(&mut mx);
            Ok(mx)
        })
    }

    /// Go's `LookupNS`.
    pub fn lookup_ns(&self, name: &str) -> Result<Vec<String>, Cause> {
        let conf = self.config(&system());
        self.with_ctx(name, NO_DEADLINE, None, |ctx| {
            let (reply, _) = lookup(&conf, name, TYPE_NS, ctx)?;
            Ok(names_of(&reply, TYPE_NS))
        })
    }

    /// Go's `LookupSRV`: `_service._proto.name`, or `name` as given when
    /// both are empty; ordered by priority, shuffled by weight (RFC 2782).
    pub fn lookup_srv(&self, service: &str, proto: &str, name: &str) -> Result<Vec<Srv>, Cause> {
        let target = if service.is_empty() && proto.is_empty() {
            name.to_owned()
        } else {
            format!("_{service}._{proto}.{name}")
        };
        let conf = self.config(&system());
        self.with_ctx(&target, NO_DEADLINE, None, |ctx| {
            let (reply, _) = lookup(&conf, &target, TYPE_SRV, ctx)?;
            let mut srvs: Vec<Srv> = answers(&reply)
                .filter_map(|r| match &r.data {
                    RData::Srv {
                        priority,
                        weight,
                        port,
                        target,
                    } => Some(Srv {
                        priority: *priority,
                        weight: *weight,
                        port: *port,
                        target: target.clone(),
                    }),
                    _ => None,
                })
                .collect();
            sort_by_priority_weight(&mut srvs);
            Ok(srvs)
        })
    }

    /// Go's `LookupTXT`: each record's strings joined, as bytes.
    pub fn lookup_txt(&self, name: &str) -> Result<Vec<Vec<u8>>, Cause> {
        let conf = self.config(&system());
        self.with_ctx(name, NO_DEADLINE, None, |ctx| {
            let (reply, _) = lookup(&conf, name, TYPE_TXT, ctx)?;
            Ok(answers(&reply)
                .filter_map(|r| match &r.data {
                    RData::Txt(strings) => Some(strings.concat()),
                    _ => None,
                })
                .collect())
        })
    }
}

/// An SRV record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

fn answers(reply: &Reply) -> impl Iterator<Item = &super::msg::Record> {
    reply
        .answers
        .as_ref()
        .map(|a| a.iter())
        .into_iter()
        .flatten()
}

fn names_of(reply: &Reply, rtype: u16) -> Vec<String> {
    answers(reply)
        .filter(|r| r.rtype == rtype)
        .filter_map(|r| match &r.data {
            RData::Name(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// Go's `byPref.sort`: shuffled, then ordered by preference.
fn sort_by_pref(mx: &mut [(u16, String)]) {
    for i in 1..mx.len() {
        mx.swap(i, client::random_below(i + 1));
    }
    mx.sort_by_key(|(pref, _)| *pref);
}

/// Go's `byPriorityWeight.sort`: by priority, then within each priority a
/// weighted shuffle (RFC 2782).
fn sort_by_priority_weight(srvs: &mut [Srv]) {
    srvs.sort_by_key(|s| (s.priority, s.weight));
    let mut i = 0;
    while i < srvs.len() {
        let j = srvs[i..]
            .iter()
            .position(|s| s.priority != srvs[i].priority)
            .map_or(srvs.len(), |k| i + k);
        shuffle_by_weight(&mut srvs[i..j]);
        i = j;
    }
}

fn shuffle_by_weight(mut srvs: &mut [Srv]) {
    let mut sum: usize = srvs.iter().map(|s| usize::from(s.weight)).sum();
    while sum > 0 && srvs.len() > 1 {
        let n = client::random_below(sum);
        let mut acc = 0;
        for i in 0..srvs.len() {
            acc += usize::from(srvs[i].weight);
            if acc > n {
                srvs.swap(0, i);
                break;
            }
        }
        sum -= usize::from(srvs[0].weight);
        srvs = &mut srvs[1..];
    }
}

/// The reverse-lookup name of an address (Go's `reverseaddr`).
pub fn reverse_name(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(73);
            for b in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s.push_str("ip6.arpa.");
            s
        }
    }
}

/// Go's `Resolver.lookup`: `name` under the search list, until one
/// fully qualified name gives a usable reply for `qtype`.
fn lookup(
    conf: &DnsConfig,
    name: &str,
    qtype: u16,
    ctx: &Ctx<'_>,
) -> Result<(Reply, String), DnsError> {
    if !conf::is_domain_name(name) {
        return Err(DnsError::not_found(name, ""));
    }
    let mut last = None;
    for fqdn in conf.name_list(name) {
        match try_one_name(conf, &fqdn, &[qtype], ctx).pop() {
            Some(Ok(found)) => return Ok(found),
            Some(Err(e)) => {
                let stop = stops(&e, ctx);
                last = Some(e);
                if stop {
                    break;
                }
            }
            None => {}
        }
    }
    let mut e = last.unwrap_or_else(|| DnsError::not_found(name, ""));
    // The name asked, not the last suffixed one (golang.org/issue/6324).
    e.name = name.to_owned();
    Err(e)
}

/// Go's `goLookupIPCNAME`: the addresses of `name` and its canonical name,
/// from the hosts file and DNS in `order`. `network` "CNAME" asks for the
/// CNAME record too.
fn lookup_ip_cname(
    conf: &DnsConfig,
    network: &str,
    name: &str,
    order: HostOrder,
    ctx: &Ctx<'_>,
) -> Result<(Vec<IpAddr>, String), DnsError> {
    let from_files = |network: &str| -> Option<(Vec<IpAddr>, String)> {
        let h = hosts::read(HOSTS);
        let (ips, canonical) = h.lookup_host(name)?;
        let ips: Vec<IpAddr> = ips
            .iter()
            .copied()
            .filter(|ip| family_ok(network, ip))
            .collect();
        (!ips.is_empty()).then(|| (ips, canonical.to_owned()))
    };
    if matches!(order, HostOrder::FilesDns | HostOrder::Files) {
        if let Some((mut ips, canonical)) = from_files(network) {
            sort_by_rfc6724(&mut ips);
            return Ok((ips, canonical));
        }
        if order == HostOrder::Files {
            return Err(DnsError::not_found(name, ""));
        }
    }
    if !conf::is_domain_name(name) {
        return Err(DnsError::not_found(name, ""));
    }
    let qtypes: &[u16] = match network {
        "ip4" => &[TYPE_A],
        "ip6" => &[TYPE_AAAA],
        "CNAME" => &[TYPE_A, TYPE_AAAA, TYPE_CNAME],
        _ => &[TYPE_A, TYPE_AAAA],
    };
    let mut addrs: Vec<IpAddr> = Vec::new();
    let mut cname = String::new();
    let mut last: Option<DnsError> = None;
    let rooted = format!("{name}.");
    'names: for fqdn in conf.name_list(name) {
        for result in try_one_name(conf, &fqdn, qtypes, ctx) {
            let (reply, server) = match result {
                Ok(found) => found,
                Err(e) => {
                    let stop = stops(&e, ctx);
                    // Prefer the error for the name as given.
                    if last.is_none() || fqdn == rooted || stop {
                        last = Some(e);
                    }
                    if stop {
                        break 'names;
                    }
                    continue;
                }
            };
            let Ok(records) = &reply.answers else {
                last = Some(DnsError::new(
                    "cannot unmarshal DNS message",
                    name,
                    &server,
                    Code::Dns,
                ));
                continue;
            };
            for r in records {
                match &r.data {
                    RData::A(v4) => {
                        addrs.push(IpAddr::V4(*v4));
                        if cname.is_empty() {
                            cname = r.name.clone();
                        }
                    }
                    RData::Aaaa(v6) => {
                        addrs.push(IpAddr::V6(*v6));
                        if cname.is_empty() {
                            cname = r.name.clone();
                        }
                    }
                    RData::Name(target) if r.rtype == TYPE_CNAME && cname.is_empty() => {
                        cname = target.clone();
                    }
                    _ => {}
                }
            }
        }
        if !addrs.is_empty() || (network == "CNAME" && !cname.is_empty()) {
            break;
        }
    }
    if let Some(e) = last.as_mut() {
        e.name = name.to_owned();
    }
    if addrs.is_empty() && (network != "CNAME" || cname.is_empty()) {
        if order == HostOrder::DnsFiles
            && let Some((mut ips, canonical)) = from_files(network)
        {
            sort_by_rfc6724(&mut ips);
            return Ok((ips, canonical));
        }
        return Err(last.unwrap_or_else(|| DnsError::not_found(name, "")));
    }
    sort_by_rfc6724(&mut addrs);
    Ok((addrs, cname))
}

fn family_ok(network: &str, ip: &IpAddr) -> bool {
    match network {
        "ip4" => ip.is_ipv4(),
        "ip6" => ip.is_ipv6(),
        _ => true,
    }
}

/// Parses a comma-separated list of `ip:port` name servers.
pub fn parse_servers(text: &str) -> Result<Vec<String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<SocketAddr>()
                .map(|a| crate::net::addr::Addr::Inet(a).to_string())
                .map_err(|_| s.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names_as_go() {
        assert_eq!(
            reverse_name(&"192.0.2.1".parse().unwrap()),
            "1.2.0.192.in-addr.arpa."
        );
        assert_eq!(
            reverse_name(&"2001:db8::567:89ab".parse().unwrap()),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
        );
    }

    #[test]
    fn mx_and_srv_orders_as_go() {
        let mut mx = vec![
            (20, "b.".to_owned()),
            (10, "a.".to_owned()),
            (20, "c.".to_owned()),
        ];
        sort_by_pref(&mut mx);
        assert_eq!(mx[0], (10, "a.".to_owned()));
        assert!(mx[1..].iter().all(|(p, _)| *p == 20));
        let srv = |priority, weight| Srv {
            priority,
            weight,
            port: 1,
            target: format!("{priority}-{weight}."),
        };
        let mut s = vec![srv(20, 0), srv(10, 5), srv(10, 0), srv(10, 50)];
        sort_by_priority_weight(&mut s);
        assert!(s[..3].iter().all(|x| x.priority == 10));
        assert_eq!(s[3], srv(20, 0));
        // Weight 0 among weighted ones comes last once the weights are used up.
        assert_eq!(s[2].weight, 0);
    }

    #[test]
    fn servers_lists_parse() {
        assert_eq!(
            parse_servers("127.0.0.1:53, [::1]:5353").unwrap(),
            ["127.0.0.1:53", "[::1]:5353"]
        );
        assert_eq!(
            parse_servers("ns.example:53"),
            Err("ns.example:53".to_owned())
        );
        assert_eq!(parse_servers("").unwrap(), Vec::<String>::new());
    }
}
