//! Addresses with Go's rules: the networks, endpoints as Go prints them,
//! `SplitHostPort`, `JoinHostPort`, port and IP literal parsing.

use crate::error::Cause;
use std::ffi::{CStr, CString};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

/// The networks gonet speaks, named as in Go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    Tcp,
    Tcp4,
    Tcp6,
    Unix,
    Udp,
    Udp4,
    Udp6,
    Unixgram,
    /// Raw IP (Go's `IPConn`), named with a protocol: `"ip4:icmp"`. The
    /// protocol is not part of the network: it is given to the socket
    /// when it is made (see `lookup::ip_network`).
    Ip,
    Ip4,
    Ip6,
}

impl Network {
    pub fn parse(name: &str) -> Result<Network, Cause> {
        Network::from_name(name.as_bytes()).ok_or_else(|| Cause::UnknownNetwork(name.to_owned()))
    }

    /// The network called `name`, taken as bytes so that a C string can be
    /// matched before it is checked for UTF-8 (every name is ASCII).
    pub fn from_name(name: &[u8]) -> Option<Network> {
        match name {
            b"tcp" => Some(Network::Tcp),
            b"tcp4" => Some(Network::Tcp4),
            b"tcp6" => Some(Network::Tcp6),
            b"unix" => Some(Network::Unix),
            b"udp" => Some(Network::Udp),
            b"udp4" => Some(Network::Udp4),
            b"udp6" => Some(Network::Udp6),
            b"unixgram" => Some(Network::Unixgram),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Network::Tcp => "tcp",
            Network::Tcp4 => "tcp4",
            Network::Tcp6 => "tcp6",
            Network::Unix => "unix",
            Network::Udp => "udp",
            Network::Udp4 => "udp4",
            Network::Udp6 => "udp6",
            Network::Unixgram => "unixgram",
            Network::Ip => "ip",
            Network::Ip4 => "ip4",
            Network::Ip6 => "ip6",
        }
    }

    /// Whether this is a raw IP network (`ip`, `ip4`, `ip6`).
    pub fn is_ip(self) -> bool {
        matches!(self, Network::Ip | Network::Ip4 | Network::Ip6)
    }

    pub fn is_unix(self) -> bool {
        matches!(self, Network::Unix | Network::Unixgram)
    }

    /// Whether sockets on this network carry datagrams rather than streams.
    pub fn is_packet(self) -> bool {
        matches!(
            self,
            Network::Udp
                | Network::Udp4
                | Network::Udp6
                | Network::Unixgram
                | Network::Ip
                | Network::Ip4
                | Network::Ip6
        )
    }

    /// Whether an address of this IP family may be used on this network.
    pub(crate) fn admits(self, ip: &IpAddr) -> bool {
        match self {
            Network::Tcp4 | Network::Udp4 | Network::Ip4 => ip.is_ipv4(),
            Network::Tcp6 | Network::Udp6 | Network::Ip6 => ip.is_ipv6(),
            Network::Tcp | Network::Udp | Network::Ip => true,
            Network::Unix | Network::Unixgram => false,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An endpoint as Go prints it: `127.0.0.1:80`, `[::1]:80`, a Unix path, or
/// `@name` for a Linux abstract socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addr {
    Inet(SocketAddr),
    Unix(Box<str>),
    /// An endpoint of a raw IP network: Go's `IPAddr`, printed without a
    /// port (`127.0.0.1`, `::1`, `fe80::1%eth0`). The port of the socket
    /// address means nothing here.
    Ip(SocketAddr),
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Inet(SocketAddr::V4(a)) => write!(f, "{}:{}", a.ip(), a.port()),
            Addr::Inet(SocketAddr::V6(a)) => {
                // Go prints IPv4-mapped addresses (seen on dual-stack sockets)
                // in dotted form.
                if let Some(v4) = a.ip().to_ipv4_mapped() {
                    return write!(f, "{}:{}", v4, a.port());
                }
                match zone_name(a.scope_id()) {
                    Some(zone) => write!(f, "[{}%{}]:{}", a.ip(), zone, a.port()),
                    None => write!(f, "[{}]:{}", a.ip(), a.port()),
                }
            }
            Addr::Unix(path) => f.write_str(path),
            Addr::Ip(SocketAddr::V4(a)) => write!(f, "{}", a.ip()),
            Addr::Ip(SocketAddr::V6(a)) => {
                if let Some(v4) = a.ip().to_ipv4_mapped() {
                    return write!(f, "{v4}");
                }
                match zone_name(a.scope_id()) {
                    Some(zone) => write!(f, "{}%{}", a.ip(), zone),
                    None => write!(f, "{}", a.ip()),
                }
            }
        }
    }
}

fn zone_name(scope_id: u32) -> Option<String> {
    if scope_id == 0 {
        return None;
    }
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has room for IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(scope_id, buf.as_mut_ptr()) };
    if p.is_null() {
        return Some(scope_id.to_string());
    }
    // SAFETY: on success the name is NUL-terminated inside buf.
    Some(
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// `a.b.c.d:port` in its plain form (decimal, no leading zeros, no sign),
/// read straight from bytes: the address nearly every dial is given, in a
/// fraction of the instructions of the general parser and its UTF-8 check.
/// Anything else is `None` and goes to that parser, so this never accepts
/// what it would refuse, nor reads anything differently.
pub fn parse_ipv4_port(s: &[u8]) -> Option<SocketAddrV4> {
    // One pass, a byte at a time: four octets, each ended by its
    // separator, then the port.
    let mut octets = [0u8; 4];
    let mut done = 0;
    let mut number = 0u32;
    let mut digits = 0;
    for &b in s {
        let digit = b.wrapping_sub(b'0');
        if digit < 10 {
            // No leading zeros; five digits at most, so no overflow.
            if digits == 5 || (digits == 1 && number == 0) {
                return None;
            }
            number = number * 10 + u32::from(digit);
            digits += 1;
        } else if digits > 0 && ((b == b'.' && done < 3) || (b == b':' && done == 3)) {
            octets[done] = u8::try_from(number).ok()?;
            done += 1;
            number = 0;
            digits = 0;
        } else {
            return None;
        }
    }
    if done != 4 || digits == 0 {
        return None;
    }
    Some(SocketAddrV4::new(
        Ipv4Addr::from(octets),
        u16::try_from(number).ok()?,
    ))
}

const MISSING_PORT: &str = "missing port in address";
const TOO_MANY_COLONS: &str = "too many colons in address";

/// Go's `net.SplitHostPort`, rule for rule.
pub fn split_host_port(hostport: &str) -> Result<(&str, &str), Cause> {
    let err = |why: &'static str| Err(Cause::addr(why, hostport));
    let Some(i) = hostport.rfind(':') else {
        return err(MISSING_PORT);
    };
    let (host, j, k);
    if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else {
            return err("missing ']' in address");
        };
        if end + 1 == hostport.len() {
            return err(MISSING_PORT);
        } else if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return err(TOO_MANY_COLONS);
            }
            return err(MISSING_PORT);
        }
        host = &hostport[1..end];
        j = 1;
        k = end + 1;
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return err(TOO_MANY_COLONS);
        }
        j = 0;
        k = 0;
    }
    if hostport[j..].contains('[') {
        return err("unexpected '[' in address");
    }
    if hostport[k..].contains(']') {
        return err("unexpected ']' in address");
    }
    Ok((host, &hostport[i + 1..]))
}

/// Go's `net.JoinHostPort`.
pub fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go's `parsePort`: a decimal port, saturating on overflow, or `None` when
/// the text is a service name that needs a lookup.
pub(crate) fn parse_port(service: &str) -> Option<i64> {
    const CUTOFF: i64 = 1 << 30;
    let (neg, digits) = match service.as_bytes().first() {
        Some(b'+') => (false, &service[1..]),
        Some(b'-') => (true, &service[1..]),
        _ => (false, service),
    };
    let mut n: i64 = 0;
    for d in digits.bytes() {
        if !d.is_ascii_digit() {
            return None;
        }
        n = (n * 10 + i64::from(d - b'0')).min(CUTOFF);
    }
    Some(if neg { -n } else { n })
}

/// Parses an IP literal, with an optional `%zone` on IPv6 as Go allows.
pub(crate) fn parse_ip(host: &str) -> Option<(IpAddr, u32)> {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Some((IpAddr::V4(ip), 0));
    }
    let (ip, zone) = match host.split_once('%') {
        Some((ip, zone)) => (ip, Some(zone)),
        None => (host, None),
    };
    let ip: Ipv6Addr = ip.parse().ok()?;
    let scope = match zone {
        None => 0,
        Some(z) => z.parse::<u32>().ok().or_else(|| {
            let c = CString::new(z).ok()?;
            // SAFETY: c is a NUL-terminated interface name.
            let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
            (idx != 0).then_some(idx)
        })?,
    };
    Some((IpAddr::V6(ip), scope))
}

/// `to_addr` for a socket of network `net`: on raw IP networks, endpoints
/// without ports.
pub fn to_net_addr(net: Network, sa: &socket2::SockAddr) -> Addr {
    match to_addr(sa) {
        Addr::Inet(a) if net.is_ip() => Addr::Ip(a),
        other => other,
    }
}

/// The text form of a socket address: IP endpoints as Go prints them,
/// Unix paths as given, abstract names with a leading `@`.
pub fn to_addr(sa: &socket2::SockAddr) -> Addr {
    if let Some(inet) = sa.as_socket() {
        return Addr::Inet(inet);
    }
    if let Some(name) = sa.as_abstract_namespace() {
        return Addr::Unix(format!("@{}", String::from_utf8_lossy(name)).into());
    }
    let path = sa
        .as_pathname()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    Addr::Unix(path.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_port_saturates_like_go() {
        assert_eq!(parse_port("80"), Some(80));
        assert_eq!(parse_port(""), Some(0));
        assert_eq!(parse_port("+80"), Some(80));
        assert_eq!(parse_port("-1"), Some(-1));
        assert_eq!(parse_port("99999999999999999999"), Some(1 << 30));
        assert_eq!(parse_port("http"), None);
    }

    #[test]
    fn the_ipv4_shortcut_reads_what_the_general_parser_reads() {
        let v4 = |s: &str| parse_ipv4_port(s.as_bytes());
        assert_eq!(
            v4("127.0.0.1:8088"),
            Some("127.0.0.1:8088".parse().unwrap())
        );
        assert_eq!(v4("0.0.0.0:0"), Some("0.0.0.0:0".parse().unwrap()));
        assert_eq!(
            v4("255.255.255.255:65535"),
            Some("255.255.255.255:65535".parse().unwrap())
        );
        for declined in [
            "",
            "127.0.0.1",
            "127.0.0.1:",
            "127.0.0:80",
            "127.0.0.1.1:80",
            "256.0.0.1:80",
            "01.0.0.1:80",
            "127.0.0.1:080",
            "127.0.0.1:65536",
            "127.0.0.1:+80",
            "127.0.0.1:80 ",
            " 127.0.0.1:80",
            "1234.0.0.1:80",
            "127.0.0.1:123456",
            "[::1]:80",
            "localhost:80",
            "127.0.0.1:http",
        ] {
            assert_eq!(v4(declined), None, "{declined:?}");
        }
        // Near-addresses: five numbers in an address's shape, each picked
        // from edge cases, each separator usually right: whatever the
        // shortcut takes, the general parser takes the same.
        let numbers = [
            "0", "1", "9", "10", "99", "100", "255", "65535", "00", "01", "256", "999", "1000",
            "65536", "080", "+1", "-1", "", "a", " 1", "1 ", "\u{e9}", "[1]",
        ];
        let separators = [".", ".", ".", ".", ":", "", "..", ":"];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut taken = 0;
        for _ in 0..100_000 {
            let mut text = String::new();
            for i in 0..5 {
                // Half the time one of the first eight, which are valid.
                let pick = if next(2) == 0 {
                    next(8)
                } else {
                    next(numbers.len())
                };
                text.push_str(numbers[pick]);
                if i < 4 {
                    let right = if i < 3 { "." } else { ":" };
                    let wrong = separators[next(separators.len())];
                    text.push_str(if next(4) == 0 { wrong } else { right });
                }
            }
            if let Some(addr) = v4(&text) {
                taken += 1;
                assert_eq!(text.parse(), Ok(SocketAddr::V4(addr)), "{text:?}");
            }
        }
        assert!(taken > 1000, "only {taken} near-addresses were taken");
        // Every address printed the standard way is taken.
        for i in 0..10_000u32 {
            let addr =
                SocketAddrV4::new(Ipv4Addr::from(i.wrapping_mul(0x9e37_79b9)), (i * 7) as u16);
            assert_eq!(v4(&addr.to_string()), Some(addr));
        }
    }

    #[test]
    fn mapped_addresses_print_dotted() {
        let a: SocketAddr = "[::ffff:127.0.0.1]:80".parse().unwrap();
        assert_eq!(Addr::Inet(a).to_string(), "127.0.0.1:80");
        let b: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(Addr::Inet(b).to_string(), "[::1]:80");
    }
}
