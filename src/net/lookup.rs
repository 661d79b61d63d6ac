//! Name resolution through the system resolver (getaddrinfo) and Go's
//! `resolveAddrList`: from an address text to the endpoints to dial or the
//! one to listen on.

use super::addr::{Network, parse_ip, parse_port, split_host_port};
use super::dns::conf::is_domain_name;
use super::dns::hosts;
use crate::error::{Cause, Code};
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::OnceLock;

/// Go's `LookupPort`: a number, or a service name looked up in the system's
/// services database.
pub fn lookup_port(network: Network, service: &str) -> Result<u16, Cause> {
    let port = match parse_port(service) {
        Some(p) => p,
        None => lookup_service(network, service)?,
    };
    u16::try_from(port).map_err(|_| Cause::addr("invalid port", service))
}

fn lookup_service(network: Network, service: &str) -> Result<i64, Cause> {
    let unknown = || Cause::Lookup {
        name: format!("{}/{}", network.name(), service),
        err: "unknown port".to_owned(),
        code: Code::Addr,
    };
    let c_service = CString::new(service).map_err(|_| unknown())?;
    let hints = libc::addrinfo {
        ai_flags: libc::AI_PASSIVE,
        ai_family: libc::AF_INET,
        ai_socktype: libc::SOCK_STREAM,
        ..zeroed_addrinfo()
    };
    let list = AddrInfoList::get(None, &c_service, &hints).map_err(|_| unknown())?;
    list.iter()
        .next()
        .map(|a| i64::from(a.port()))
        .ok_or_else(unknown)
}

/// Go's `parseNetwork` for the raw IP networks: `"ip"`, `"ip4"` or
/// `"ip6"`, a colon, and a protocol number or name (`"ip4:1"`,
/// `"ip6:ipv6-icmp"`). `None` when `name` is not an IP network at all;
/// an IP network without its protocol is an unknown network to Go's
/// `Dial` and `ListenPacket`, and an unknown protocol fails as Go's
/// `lookupProtocol` does.
pub fn ip_network(name: &str) -> Option<Result<(Network, i32), Cause>> {
    let ip = |afnet: &str| match afnet {
        "ip" => Some(Network::Ip),
        "ip4" => Some(Network::Ip4),
        "ip6" => Some(Network::Ip6),
        _ => None,
    };
    let Some((afnet, proto)) = name.rsplit_once(':') else {
        return ip(name).map(|_| Err(Cause::UnknownNetwork(name.to_owned())));
    };
    let net = ip(afnet)?;
    Some(match dtoi(proto) {
        Some(number) => Ok((net, number)),
        None => lookup_protocol(proto).map(|number| (net, number)),
    })
}

/// Go's `dtoi` as `parseNetwork` uses it: decimal digits only, at least
/// one, below 0xFFFFFF.
fn dtoi(s: &str) -> Option<i32> {
    const BIG: i32 = 0xFF_FFFF;
    if s.is_empty() {
        return None;
    }
    let mut n: i32 = 0;
    for d in s.bytes() {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i32::from(d - b'0');
        if n >= BIG {
            return None;
        }
    }
    Some(n)
}

/// Go's `lookupProtocol`: the number of an IP protocol name, from
/// /etc/protocols (names and aliases, the first line to give one wins) on
/// top of Go's built-in few, read once. The name is matched without regard
/// to ASCII case; names longer than Go's limit of 25 bytes are unknown.
pub fn lookup_protocol(name: &str) -> Result<i32, Cause> {
    const MAX_PROTO_LENGTH: usize = "RSVP-E2E-IGNORE".len() + 10;
    static PROTOCOLS: OnceLock<HashMap<String, i32>> = OnceLock::new();
    let protocols = PROTOCOLS.get_or_init(|| {
        let mut map: HashMap<String, i32> = [
            ("icmp", 1),
            ("igmp", 2),
            ("tcp", 6),
            ("udp", 17),
            ("ipv6-icmp", 58),
        ]
        .into_iter()
        .map(|(n, p)| (n.to_owned(), p))
        .collect();
        if let Ok(text) = std::fs::read_to_string("/etc/protocols") {
            read_protocols(&text, &mut map);
        }
        map
    });
    let unknown = || Cause::addr("unknown IP protocol specified", name);
    if name.len() > MAX_PROTO_LENGTH {
        return Err(unknown());
    }
    protocols
        .get(&name.to_ascii_lowercase())
        .copied()
        .ok_or_else(unknown)
}

/// Go's `readProtocols`: `name number aliases... # comment` lines.
fn read_protocols(text: &str, map: &mut HashMap<String, i32>) {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.len() < 2 {
            continue;
        }
        // Go's dtoi: leading digits, at least one.
        let digits: String = fields[1].chars().take_while(char::is_ascii_digit).collect();
        let Ok(number) = digits.parse::<i32>() else {
            continue;
        };
        for name in std::iter::once(fields[0]).chain(fields[2..].iter().copied()) {
            map.entry(name.to_owned()).or_insert(number);
        }
    }
}

fn zeroed_addrinfo() -> libc::addrinfo {
    // SAFETY: addrinfo is a plain C struct for which all-zero bytes (null
    // pointers, zero integers) is a valid value.
    unsafe { std::mem::zeroed() }
}

/// Owns a list from `getaddrinfo` and frees it on drop.
struct AddrInfoList(*mut libc::addrinfo);

impl AddrInfoList {
    /// Returns the list, or the resolver's `EAI_*` code.
    fn get(
        node: Option<&CStr>,
        service: &CStr,
        hints: &libc::addrinfo,
    ) -> Result<AddrInfoList, i32> {
        let mut res = std::ptr::null_mut();
        let node_ptr = node.map_or(std::ptr::null(), CStr::as_ptr);
        // SAFETY: the strings are NUL-terminated, hints is a valid addrinfo,
        // and res receives a list that we free in Drop.
        let rc = unsafe { libc::getaddrinfo(node_ptr, service.as_ptr(), hints, &mut res) };
        if rc != 0 {
            return Err(rc);
        }
        Ok(AddrInfoList(res))
    }

    fn iter(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        let mut cur = self.0;
        std::iter::from_fn(move || {
            while !cur.is_null() {
                // SAFETY: cur is a node of the list that getaddrinfo returned
                // and that lives until self is dropped.
                let ai = unsafe { &*cur };
                cur = ai.ai_next;
                // SAFETY: ai_addr points to ai_addrlen bytes of a sockaddr of
                // family ai_family.
                if let Some(a) = unsafe { sockaddr_to_inet(ai.ai_addr, ai.ai_addrlen) } {
                    return Some(a);
                }
            }
            None
        })
    }
}

impl Drop for AddrInfoList {
    fn drop(&mut self) {
        // SAFETY: self.0 came from a successful getaddrinfo and is freed once.
        unsafe { libc::freeaddrinfo(self.0) }
    }
}

/// # Safety
/// `sa` must point to `len` readable bytes of a socket address.
pub unsafe fn sockaddr_to_inet(
    sa: *const libc::sockaddr,
    len: libc::socklen_t,
) -> Option<SocketAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: the caller promises sa is readable; the family decides the
    // concrete type and its size is checked against len.
    unsafe {
        match i32::from((*sa).sa_family) {
            libc::AF_INET if len as usize >= std::mem::size_of::<libc::sockaddr_in>() => {
                let sin = &*(sa as *const libc::sockaddr_in);
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 if len as usize >= std::mem::size_of::<libc::sockaddr_in6>() => {
                let sin6 = &*(sa as *const libc::sockaddr_in6);
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

/// Looks a host name up with the system resolver (getaddrinfo), keeping the
/// resolver's order. Fails as Go does: `lookup NAME: no such host`.
pub fn lookup_host(host: &str) -> Result<Vec<IpAddr>, Cause> {
    let lookup_err = |err: String, code: Code| Cause::Lookup {
        name: host.to_owned(),
        err,
        code,
    };
    if !is_domain_name(host) && parse_ip(host).is_none() {
        // No name server can hold it ("a:1", "a b"), but getaddrinfo would
        // ask the configured one all the same. Go's resolver looks in the
        // hosts file and then fails without asking anyone; so does this.
        return match hosts::read(hosts::SYSTEM).lookup_host(host) {
            Some((ips, _)) if !ips.is_empty() => Ok(ips.to_vec()),
            _ => Err(lookup_err("no such host".to_owned(), Code::NoHost)),
        };
    }
    let c_host =
        CString::new(host).map_err(|_| lookup_err("no such host".to_owned(), Code::NoHost))?;
    let hints = libc::addrinfo {
        ai_family: libc::AF_UNSPEC,
        ai_socktype: libc::SOCK_STREAM,
        ..zeroed_addrinfo()
    };
    let list = AddrInfoList::get(Some(&c_host), c"0", &hints).map_err(|rc| match rc {
        libc::EAI_NONAME | libc::EAI_NODATA | libc::EAI_FAMILY => {
            lookup_err("no such host".to_owned(), Code::NoHost)
        }
        libc::EAI_SYSTEM => lookup_err(errno_now(), Code::System),
        other => {
            // SAFETY: gai_strerror returns a static NUL-terminated string.
            let text = unsafe { CStr::from_ptr(libc::gai_strerror(other)) };
            lookup_err(text.to_string_lossy().to_lowercase(), Code::NoHost)
        }
    })?;
    let mut ips: Vec<IpAddr> = Vec::new();
    for sa in list.iter() {
        if !ips.contains(&sa.ip()) {
            ips.push(sa.ip());
        }
    }
    if ips.is_empty() {
        return Err(lookup_err("no such host".to_owned(), Code::NoHost));
    }
    Ok(ips)
}

fn errno_now() -> String {
    crate::error::errno_text(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

/// Whether an address is for listening or for dialing; they differ in how
/// an empty host and multiple results are treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Dial,
    Listen,
}

/// What an address text resolves to.
pub enum Resolved {
    /// Candidate IP endpoints, in the order they should be tried.
    Inet(Vec<SocketAddr>),
    /// Listen on every address of the host: dual-stack where possible.
    Wildcard(u16),
    /// A Unix socket path, or `@name` for a Linux abstract socket.
    Unix(String),
}

/// As `resolve`, with `lookup` turning a host name into addresses (so that
/// a dial can bound or cancel the lookup).
pub fn resolve_with(
    network: Network,
    address: &str,
    purpose: Purpose,
    lookup: &dyn Fn(&str) -> Result<Vec<IpAddr>, Cause>,
) -> Result<Resolved, Cause> {
    if network.is_unix() {
        if address.is_empty() && purpose == Purpose::Dial {
            return Err(Cause::MissingAddress);
        }
        return Ok(Resolved::Unix(address.to_owned()));
    }
    if network.is_ip() {
        return resolve_ip(network, address, purpose, lookup);
    }
    let (host, service) = split_host_port(address)?;
    let port = lookup_port(network, service)?;
    let socket_addr = |(ip, scope): (IpAddr, u32)| match ip {
        IpAddr::V4(v4) => SocketAddr::V4(SocketAddrV4::new(v4, port)),
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, scope)),
    };
    let listen_wildcard =
        purpose == Purpose::Listen && matches!(network, Network::Tcp | Network::Udp);
    let mut addrs: Vec<SocketAddr> = if host.is_empty() {
        if listen_wildcard {
            return Ok(Resolved::Wildcard(port));
        }
        // An empty host: listen on, or dial, the unspecified address of the
        // network's family; dialing it reaches the local system.
        let unspecified = match network {
            Network::Tcp6 | Network::Udp6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        vec![socket_addr((unspecified, 0))]
    } else if let Some(ip) = parse_ip(host) {
        // A literal, the common case: one address, no lookup.
        if listen_wildcard && ip.0.is_unspecified() {
            return Ok(Resolved::Wildcard(port));
        }
        if network.admits(&ip.0) {
            vec![socket_addr(ip)]
        } else {
            Vec::new()
        }
    } else {
        let ips = lookup(host)?;
        if listen_wildcard && ips.iter().all(IpAddr::is_unspecified) {
            return Ok(Resolved::Wildcard(port));
        }
        ips.into_iter()
            .filter(|ip| network.admits(ip))
            .map(|ip| socket_addr((ip, 0)))
            .collect()
    };
    if addrs.is_empty() {
        return Err(Cause::addr("no suitable address found", host));
    }
    if purpose == Purpose::Listen {
        // Go listens on the first IPv4 address of a name, else the first.
        let pick = addrs.iter().position(SocketAddr::is_ipv4).unwrap_or(0);
        addrs = vec![addrs[pick]];
    }
    Ok(Resolved::Inet(addrs))
}

/// Go's `internetAddrList` on the raw IP networks: the address is a host
/// alone, an IP literal (with a zone on IPv6) or a name. An empty host (or
/// an unspecified one, listening on `ip`) is every address; Go listens
/// there on a dual-stack IPv6 socket. Endpoints carry port 0.
fn resolve_ip(
    network: Network,
    host: &str,
    purpose: Purpose,
    lookup: &dyn Fn(&str) -> Result<Vec<IpAddr>, Cause>,
) -> Result<Resolved, Cause> {
    let wildcard_on_ip = purpose == Purpose::Listen && network == Network::Ip;
    let endpoint = |(ip, scope): (IpAddr, u32)| match ip {
        IpAddr::V4(v4) => SocketAddr::V4(SocketAddrV4::new(v4, 0)),
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, scope)),
    };
    let ips: Vec<(IpAddr, u32)> = if host.is_empty() {
        if purpose == Purpose::Dial {
            return Err(Cause::MissingAddress);
        }
        if wildcard_on_ip {
            return Ok(Resolved::Wildcard(0));
        }
        let unspecified = match network {
            Network::Ip6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        vec![(unspecified, 0)]
    } else if let Some(ip) = parse_ip(host) {
        if wildcard_on_ip && ip.0.is_unspecified() {
            return Ok(Resolved::Wildcard(0));
        }
        vec![ip]
    } else {
        lookup(host)?.into_iter().map(|ip| (ip, 0)).collect()
    };
    let mut addrs: Vec<SocketAddr> = ips
        .into_iter()
        .filter(|(ip, _)| network.admits(ip))
        .map(endpoint)
        .collect();
    if addrs.is_empty() {
        return Err(Cause::addr("no suitable address found", host));
    }
    if purpose == Purpose::Listen {
        let pick = addrs.iter().position(SocketAddr::is_ipv4).unwrap_or(0);
        addrs = vec![addrs[pick]];
    }
    Ok(Resolved::Inet(addrs))
}

/// A dialer's local address, and the targets it can reach: a local address
/// decides the family, as in Go. An empty or unspecified host with port 0
/// constrains nothing; with another port it takes IPv4's unspecified
/// address.
pub(crate) fn local_and_targets(
    net: Network,
    local: Option<&str>,
    targets: Vec<SocketAddr>,
    address: &str,
    lookup: &dyn Fn(&str) -> Result<Vec<IpAddr>, Cause>,
) -> std::result::Result<(Option<SocketAddr>, Vec<SocketAddr>), Cause> {
    let local = match local {
        None => None,
        Some(text) => match resolve_with(net, text, Purpose::Listen, lookup)? {
            Resolved::Inet(addrs) => addrs.first().copied(),
            Resolved::Wildcard(0) => None,
            Resolved::Wildcard(port) => Some(SocketAddr::new([0, 0, 0, 0].into(), port)),
            Resolved::Unix(_) => return Err(Cause::addr("unexpected address type", text)),
        },
    };
    let targets: Vec<SocketAddr> = targets
        .into_iter()
        .filter(|a| local.is_none_or(|l| l.is_ipv4() == a.is_ipv4()))
        .collect();
    if targets.is_empty() {
        return Err(Cause::addr("no suitable address found", address));
    }
    Ok((local, targets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_networks_parse_as_gos_parse_network() {
        let parse = |s: &str| ip_network(s).map(|r| r.map_err(|c| c.to_string()));
        assert_eq!(parse("ip4:1"), Some(Ok((Network::Ip4, 1))));
        assert_eq!(parse("ip4:icmp"), Some(Ok((Network::Ip4, 1))));
        assert_eq!(parse("ip4:ICMP"), Some(Ok((Network::Ip4, 1))));
        assert_eq!(parse("ip6:ipv6-icmp"), Some(Ok((Network::Ip6, 58))));
        assert_eq!(parse("ip6:58"), Some(Ok((Network::Ip6, 58))));
        assert_eq!(parse("ip:017"), Some(Ok((Network::Ip, 17))));
        assert_eq!(parse("ip4"), Some(Err("unknown network ip4".into())));
        assert_eq!(
            parse("ip4:nope"),
            Some(Err("address nope: unknown IP protocol specified".into()))
        );
        assert_eq!(
            parse("ip4:"),
            Some(Err("unknown IP protocol specified".into()))
        );
        assert_eq!(
            parse("ip4:16777215"),
            Some(Err("address 16777215: unknown IP protocol specified".into()))
        );
        assert_eq!(parse("tcp"), None);
        assert_eq!(parse("tcp:6"), None);
        assert_eq!(parse("ip4:icmp:1"), None);
    }
}
