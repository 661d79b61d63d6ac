//! Destination address selection, RFC 6724, as Go's `sortByRFC6724`:
//! rules 1 (usable), 2 (matching scope), 5 (matching label), 6 (higher
//! precedence), 8 (smaller scope) and 9 (longest matching prefix, IPv6
//! only, as Go), the rest left in order. The source address for each
//! destination is the one the kernel would pick, found by connecting a UDP
//! socket (which sends nothing).

use socket2::{Domain, SockAddr, Socket, Type};
use std::net::{IpAddr, SocketAddr};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Attr {
    scope: u8,
    precedence: u8,
    label: u8,
}

const SCOPE_LINK_LOCAL: u8 = 0x2;
const SCOPE_SITE_LOCAL: u8 = 0x5;
const SCOPE_GLOBAL: u8 = 0xe;

/// RFC 6724's default policy table, longest prefix first: (prefix, length,
/// precedence, label).
const POLICY: [([u8; 16], u32, u8, u8); 9] = [
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, 50, 0),
    (
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0],
        96,
        35,
        4,
    ),
    ([0; 16], 96, 1, 3),
    (
        [0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        32,
        5,
        5,
    ),
    (
        [0x20, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        16,
        30,
        2,
    ),
    (
        [0x3f, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        16,
        1,
        12,
    ),
    (
        [0xfe, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        10,
        1,
        11,
    ),
    (
        [0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        7,
        3,
        13,
    ),
    ([0; 16], 0, 40, 1),
];

fn as16(ip: &IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn prefix_matches(addr: &[u8; 16], prefix: &[u8; 16], len: u32) -> bool {
    let (whole, bits) = ((len / 8) as usize, len % 8);
    if addr[..whole] != prefix[..whole] {
        return false;
    }
    bits == 0 || {
        let mask = 0xffu8 << (8 - bits);
        addr[whole] & mask == prefix[whole] & mask
    }
}

fn classify_scope(ip: &IpAddr) -> u8 {
    let b = as16(ip);
    let v6 = matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none());
    let link_local = match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_loopback() || v4.is_link_local(),
            None => v6.is_loopback() || (b[0] == 0xfe && b[1] & 0xc0 == 0x80),
        },
    };
    if link_local {
        return SCOPE_LINK_LOCAL;
    }
    if v6 && b[0] == 0xff {
        return b[1] & 0xf;
    }
    if v6 && b[0] == 0xfe && b[1] & 0xc0 == 0xc0 {
        return SCOPE_SITE_LOCAL;
    }
    SCOPE_GLOBAL
}

fn attr_of(ip: &IpAddr) -> Attr {
    let b = as16(ip);
    let (_, _, precedence, label) = POLICY
        .iter()
        .find(|(prefix, len, _, _)| prefix_matches(&b, prefix, *len))
        .copied()
        .unwrap_or(([0; 16], 0, 40, 1));
    Attr {
        scope: classify_scope(ip),
        precedence,
        label,
    }
}

/// Go's `commonPrefixLen`: bits in common, over the first 64 at most.
fn common_prefix_len(a: &IpAddr, b: &IpAddr) -> u32 {
    let (x, y) = match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => (x.octets().to_vec(), y.octets().to_vec()),
        _ => (as16(a)[..8].to_vec(), as16(b)[..8].to_vec()),
    };
    let mut n = 0;
    for (p, q) in x.iter().zip(&y) {
        let d = p ^ q;
        if d == 0 {
            n += 8;
        } else {
            return n + d.leading_zeros();
        }
    }
    n
}

/// The source address the kernel would use to reach `dst`, if any.
fn source_for(dst: &IpAddr) -> Option<IpAddr> {
    let sock = Socket::new(
        Domain::for_address(SocketAddr::new(*dst, 9)),
        Type::DGRAM,
        None,
    )
    .ok()?;
    sock.connect(&SockAddr::from(SocketAddr::new(*dst, 9)))
        .ok()?;
    let local = sock.local_addr().ok()?.as_socket()?.ip();
    Some(match local {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(local, IpAddr::V4),
        v4 => v4,
    })
}

/// Whether `a` (with source `sa`) goes before `b` (with source `sb`).
fn prefer(a: &IpAddr, sa: Option<IpAddr>, b: &IpAddr, sb: Option<IpAddr>) -> std::cmp::Ordering {
    use std::cmp::Ordering::{Equal, Greater, Less};
    // Rule 1: avoid unusable destinations.
    let (sa, sb) = match (sa, sb) {
        (None, None) => return Equal,
        (Some(_), None) => return Less,
        (None, Some(_)) => return Greater,
        (Some(x), Some(y)) => (x, y),
    };
    let (da, db, s_a, s_b) = (attr_of(a), attr_of(b), attr_of(&sa), attr_of(&sb));
    // Rule 2: prefer matching scope.
    match (da.scope == s_a.scope, db.scope == s_b.scope) {
        (true, false) => return Less,
        (false, true) => return Greater,
        _ => {}
    }
    // Rule 5: prefer matching label.
    match (s_a.label == da.label, s_b.label == db.label) {
        (true, false) => return Less,
        (false, true) => return Greater,
        _ => {}
    }
    // Rule 6: prefer higher precedence.
    if da.precedence != db.precedence {
        return db.precedence.cmp(&da.precedence);
    }
    // Rule 8: prefer smaller scope.
    if da.scope != db.scope {
        return da.scope.cmp(&db.scope);
    }
    // Rule 9: longest matching prefix, for IPv6 destinations only.
    let is_v6 = |ip: &IpAddr| matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none());
    if is_v6(a) && is_v6(b) {
        let (ca, cb) = (common_prefix_len(&sa, a), common_prefix_len(&sb, b));
        if ca != cb {
            return cb.cmp(&ca);
        }
    }
    // Rule 10: leave the order unchanged.
    Equal
}

/// Sorts `addrs` in place as Go's `sortByRFC6724`.
pub fn sort_by_rfc6724(addrs: &mut Vec<IpAddr>) {
    if addrs.len() < 2 {
        return;
    }
    let srcs: Vec<Option<IpAddr>> = addrs.iter().map(source_for).collect();
    sort_with_sources(addrs, &srcs);
}

fn sort_with_sources(addrs: &mut Vec<IpAddr>, srcs: &[Option<IpAddr>]) {
    let mut paired: Vec<(IpAddr, Option<IpAddr>)> =
        addrs.iter().copied().zip(srcs.iter().copied()).collect();
    // Stable, as Go's sort.Stable.
    paired.sort_by(|(a, sa), (b, sb)| prefer(a, *sa, b, *sb));
    *addrs = paired.into_iter().map(|(a, _)| a).collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Cases from Go's addrselect_test.go (facts about the RFC's rules).
    #[test]
    fn sorts_as_rfc_6724() {
        // Prefer IPv6 with a global IPv6 source over IPv4 with an IPv4 source
        // (precedence 40 over 35).
        let mut addrs = vec![ip("192.168.1.1"), ip("2001:db8:1::1")];
        let srcs = [Some(ip("192.168.1.2")), Some(ip("2001:db8:1::2"))];
        sort_with_sources(&mut addrs, &srcs);
        assert_eq!(addrs, [ip("2001:db8:1::1"), ip("192.168.1.1")]);
        // Unusable destinations go last.
        let mut addrs = vec![ip("2001:db8:1::1"), ip("10.0.0.1")];
        sort_with_sources(&mut addrs, &[None, Some(ip("10.0.0.2"))]);
        assert_eq!(addrs, [ip("10.0.0.1"), ip("2001:db8:1::1")]);
        // Matching scope: a link-local IPv6 source cannot reach a global
        // destination well; IPv4 with a matching scope wins.
        let mut addrs = vec![ip("2001:db8:1::1"), ip("198.51.100.121")];
        sort_with_sources(
            &mut addrs,
            &[Some(ip("fe80::1")), Some(ip("198.51.100.117"))],
        );
        assert_eq!(addrs, [ip("198.51.100.121"), ip("2001:db8:1::1")]);
        // Loopback first: ::1 has the highest precedence.
        let mut addrs = vec![ip("127.0.0.1"), ip("::1")];
        sort_with_sources(&mut addrs, &[Some(ip("127.0.0.1")), Some(ip("::1"))]);
        assert_eq!(addrs, [ip("::1"), ip("127.0.0.1")]);
        // Longest matching prefix among IPv6 destinations.
        let mut addrs = vec![ip("2001:db8:2::1"), ip("2001:db8:1::1")];
        let srcs = [Some(ip("2001:db8:1::2")), Some(ip("2001:db8:1::2"))];
        sort_with_sources(&mut addrs, &srcs);
        assert_eq!(addrs, [ip("2001:db8:1::1"), ip("2001:db8:2::1")]);
        // Equal IPv4 addresses keep their order (no rule 9 for IPv4).
        let mut addrs = vec![ip("10.9.0.1"), ip("10.0.0.1")];
        sort_with_sources(&mut addrs, &[Some(ip("10.0.0.2")), Some(ip("10.0.0.2"))]);
        assert_eq!(addrs, [ip("10.9.0.1"), ip("10.0.0.1")]);
        assert_eq!(
            common_prefix_len(&ip("2001:db8::1"), &ip("2001:db8::2")),
            64
        );
        assert_eq!(common_prefix_len(&ip("10.0.0.1"), &ip("10.0.0.3")), 30);
        assert_eq!(classify_scope(&ip("ff02::1")), 2);
        assert_eq!(classify_scope(&ip("fec0::1")), SCOPE_SITE_LOCAL);
    }
}
