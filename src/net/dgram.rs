//! Making datagram sockets: `net_dial` on `udp`, `udp4`, `udp6` or
//! `unixgram` connects one; `net_listen_packet` (Go's `ListenPacket`) binds
//! one that talks to anybody. Their reads and writes are in `packet.rs`.

use super::addr::{Addr, Network, to_net_addr};
use super::dns::resolver::default_lookup;
use super::fd::{NetFd, Role};
use super::lookup::{Purpose, Resolved, ip_network, local_and_targets, resolve_with};
use super::sock::{
    Control, ListenOptions, bind_and_connect, connected_peer, datagram_socket, local_addr,
    new_udp_socket, no_ipv6, raw_socket, unix_sockaddr,
};
use crate::error::{Cause, NetError, Result, SyscallResult};
use crate::poll::NO_DEADLINE;
use socket2::{Domain, SockAddr, Socket};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Dials a packet network: resolves `address` (with `lookup`, which the
/// dialer bounds and can cancel) and connects a datagram socket to it, so
/// that it sends to and hears from that peer alone. Connecting sends
/// nothing, so every address but the first is tried only when making a
/// socket for it fails (say, no IPv6), as in Go. `local`, a dialer's local
/// address, is bound first: the peer can then reply, even on `unixgram`.
pub fn dial(
    net: Network,
    address: &str,
    local: Option<&str>,
    control: Option<&Control>,
    lookup: &dyn Fn(&str) -> std::result::Result<Vec<IpAddr>, Cause>,
) -> Result<NetFd> {
    const OP: &str = "dial";
    let fail = |c| NetError::new(OP, net.name(), c);
    match resolve_with(net, address, Purpose::Dial, lookup).map_err(fail)? {
        Resolved::Unix(path) => dial_unixgram(&path, local, control),
        Resolved::Inet(addrs) => {
            let (local, addrs) =
                local_and_targets(net, local, addrs, address, lookup).map_err(fail)?;
            let mut first_err = None;
            for addr in addrs {
                match dial_udp(net, addr, local, control) {
                    Ok(fd) => return Ok(fd),
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            Err(first_err.unwrap_or_else(|| NetError::new(OP, net.name(), Cause::MissingAddress)))
        }
        Resolved::Wildcard(_) => Err(NetError::new(OP, net.name(), Cause::MissingAddress)),
    }
}

fn dial_udp(
    net: Network,
    addr: SocketAddr,
    local: Option<SocketAddr>,
    control: Option<&Control>,
) -> Result<NetFd> {
    let raddr = Addr::Inet(addr);
    let fail = |cause| NetError::new("dial", net.name(), cause).with_addr(&raddr);
    let sock = new_udp_socket(net, addr).map_err(fail)?;
    if let Some(control) = control {
        control.run(net, &raddr.to_string(), &sock).map_err(fail)?;
    }
    bind_and_connect(&sock, local, addr).map_err(fail)?;
    let laddr = local_addr(&sock);
    let raddr = connected_peer(&sock, addr);
    Ok(NetFd::new(sock, net, Role::Packet, laddr, Some(raddr)))
}

/// Connects a Unix datagram socket. Without a local address it stays
/// unnamed, as Go's `DialUnix` leaves it (Linux does not autobind it), so
/// the peer can read from it but has no address to reply to. A local path
/// it binds is removed on close, as `net_listen_packet`'s are.
fn dial_unixgram(path: &str, local: Option<&str>, control: Option<&Control>) -> Result<NetFd> {
    let net = Network::Unixgram;
    let raddr = Addr::Unix(path.into());
    let fail = |cause| NetError::new("dial", net.name(), cause).with_addr(&raddr);
    let sa = unix_sockaddr(path).map_err(fail)?;
    let sock = datagram_socket(Domain::UNIX)
        .syscall("socket")
        .map_err(fail)?;
    if let Some(control) = control {
        control.run(net, path, &sock).map_err(fail)?;
    }
    if let Some(local) = local {
        sock.bind(&unix_sockaddr(local).map_err(fail)?)
            .syscall("bind")
            .map_err(fail)?;
    }
    let created_file = local
        .filter(|p| !p.starts_with('@') && !p.is_empty())
        .map(str::to_owned);
    let fd = |sock: Socket| {
        let laddr = local_addr(&sock);
        NetFd::new(sock, net, Role::Packet, laddr, Some(raddr.clone()))
            .unlink_on_close(created_file.clone())
    };
    match sock.connect(&sa) {
        Ok(()) => Ok(fd(sock)),
        Err(e) => {
            // Closing the handle-to-be removes the file bound above.
            fd(sock).close();
            Err(fail(Cause::syscall("connect", crate::error::os_errno(&e))))
        }
    }
}

/// Go's `ListenPacket`: binds a datagram socket to `address` without
/// connecting it. An empty or unspecified host on `udp` binds every
/// address, IPv6 and IPv4; an empty `unixgram` address lets Linux pick an
/// abstract name (autobind), which peers can reply to.
pub fn listen_packet(network: &str, address: &str) -> Result<NetFd> {
    listen_packet_with(network, address, &ListenOptions::default())
}

/// `listen_packet` with a listen configuration's options (Go's
/// `ListenConfig.ListenPacket`): SO_REUSEPORT and the control function
/// apply; backlog and keep-alive mean nothing to a datagram socket.
pub fn listen_packet_with(network: &str, address: &str, opts: &ListenOptions) -> Result<NetFd> {
    const OP: &str = "listen";
    if let Some(parsed) = ip_network(network) {
        let (net, proto) = parsed.map_err(|c| NetError::new(OP, network, c))?;
        return listen_ip(network, net, proto, address);
    }
    let net = Network::parse(network).map_err(|c| NetError::new(OP, network, c))?;
    if !net.is_packet() {
        return Err(wrong_kind(net, address));
    }
    let lookup = default_lookup(network, NO_DEADLINE);
    let resolved = resolve_with(net, address, Purpose::Listen, &lookup)
        .map_err(|c| NetError::new(OP, net.name(), c))?;
    match resolved {
        Resolved::Unix(path) => bind_unixgram(&path, opts),
        Resolved::Inet(addrs) => match addrs.first() {
            Some(addr) => bind_udp(net, *addr, opts),
            None => Err(NetError::new(OP, net.name(), Cause::MissingAddress)),
        },
        Resolved::Wildcard(port) => {
            let any6 = SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port);
            match bind_udp(net, any6, opts) {
                Err(e) if no_ipv6(&e) => {
                    bind_udp(net, SocketAddr::new([0, 0, 0, 0].into(), port), opts)
                }
                other => other,
            }
        }
    }
}

/// The error for listening on a network of the wrong kind, in Go's words:
/// `Listen` on a packet network or `ListenPacket` on a stream one. Go's
/// Unix functions call the network unknown; its IP ones, the address of
/// the wrong type.
pub fn wrong_kind(net: Network, address: &str) -> NetError {
    let cause = if net.is_unix() {
        Cause::UnknownNetwork(net.name().to_owned())
    } else {
        Cause::addr("unexpected address type", address)
    };
    let err = NetError::new("listen", net.name(), cause);
    if address.is_empty() {
        err
    } else {
        err.with_addr(address)
    }
}

fn bind_udp(net: Network, addr: SocketAddr, opts: &ListenOptions) -> Result<NetFd> {
    let fail = |cause| NetError::new("listen", net.name(), cause).with_addr(Addr::Inet(addr));
    let sock = new_udp_socket(net, addr).map_err(fail)?;
    opts.before_bind(net, &Addr::Inet(addr).to_string(), &sock)
        .map_err(fail)?;
    sock.bind(&SockAddr::from(addr))
        .syscall("bind")
        .map_err(fail)?;
    let laddr = local_addr(&sock);
    Ok(NetFd::new(sock, net, Role::Packet, laddr, None))
}

/// Binds a Unix datagram socket. gonet removes the socket file it created
/// when the handle is closed, as it does for Unix listeners (Go leaves a
/// packet socket's file behind).
fn bind_unixgram(path: &str, opts: &ListenOptions) -> Result<NetFd> {
    let net = Network::Unixgram;
    let given = Addr::Unix(path.into());
    let fail = |cause| NetError::new("listen", net.name(), cause).with_addr(&given);
    let sa = unix_sockaddr(path).map_err(fail)?;
    let sock = datagram_socket(Domain::UNIX)
        .syscall("socket")
        .map_err(fail)?;
    opts.before_bind(net, path, &sock).map_err(fail)?;
    sock.bind(&sa).syscall("bind").map_err(fail)?;
    // The kernel's name for it: the one chosen by autobind for "".
    let laddr = local_addr(&sock).unwrap_or(given);
    let created_file = (!path.starts_with('@') && !path.is_empty()).then(|| path.to_owned());
    Ok(NetFd::new(sock, net, Role::Packet, Some(laddr), None).unlink_on_close(created_file))
}

/// Go's `DialIP`: a raw IP socket for protocol `proto`, connected to the
/// first address of `address` (a host alone, no port) it can be made for.
/// Errors name the network as given (`dial ip4:icmp 127.0.0.1: socket:
/// operation not permitted`); later ones, the family alone (`ip4`), as
/// Go's do.
pub fn dial_ip(
    network: &str,
    net: Network,
    proto: i32,
    address: &str,
    local: Option<&str>,
    lookup: &dyn Fn(&str) -> std::result::Result<Vec<IpAddr>, Cause>,
) -> Result<NetFd> {
    let fail = |c| NetError::new("dial", network, c);
    let addrs = match resolve_with(net, address, Purpose::Dial, lookup).map_err(fail)? {
        Resolved::Inet(addrs) => addrs,
        _ => return Err(fail(Cause::MissingAddress)),
    };
    let (local, addrs) = local_and_targets(net, local, addrs, address, lookup).map_err(fail)?;
    let mut first_err = None;
    for addr in addrs {
        match connect_ip(network, net, proto, addr, local) {
            Ok(fd) => return Ok(fd),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| fail(Cause::MissingAddress)))
}

fn connect_ip(
    network: &str,
    net: Network,
    proto: i32,
    addr: SocketAddr,
    local: Option<SocketAddr>,
) -> Result<NetFd> {
    let fail = |cause| {
        NetError::new("dial", network, cause)
            .with_source(local.map(|l| Addr::Ip(l).to_string()))
            .with_addr(Addr::Ip(addr))
    };
    let sock = raw_socket(Domain::for_address(addr), proto).map_err(fail)?;
    bind_and_connect(&sock, local, addr).map_err(fail)?;
    // Connecting chose the source address, which getsockname now gives.
    let laddr = sock.local_addr().ok().map(|a| to_net_addr(net, &a));
    let raddr = match connected_peer(&sock, addr) {
        Addr::Inet(peer) => Addr::Ip(peer),
        other => other,
    };
    Ok(NetFd::new(sock, net, Role::Packet, laddr, Some(raddr)))
}

/// Go's `ListenIP` (`ListenPacket("ip4:icmp", "0.0.0.0")`): a raw IP
/// socket bound to `address`, a host alone; empty is every address (on
/// `ip`, as in Go, a dual-stack IPv6 socket, or IPv4 where the host has no
/// IPv6).
fn listen_ip(network: &str, net: Network, proto: i32, address: &str) -> Result<NetFd> {
    const OP: &str = "listen";
    let fail = |c| NetError::new(OP, network, c);
    let lookup = default_lookup(network, NO_DEADLINE);
    match resolve_with(net, address, Purpose::Listen, &lookup).map_err(fail)? {
        Resolved::Inet(addrs) => match addrs.first() {
            Some(addr) => bind_ip(network, net, proto, *addr, address),
            None => Err(fail(Cause::MissingAddress)),
        },
        Resolved::Wildcard(_) => {
            let any6 = SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0);
            match bind_ip(network, net, proto, any6, address) {
                Err(e) if no_ipv6(&e) => {
                    let any4 = SocketAddr::new([0, 0, 0, 0].into(), 0);
                    bind_ip(network, net, proto, any4, address)
                }
                other => other,
            }
        }
        Resolved::Unix(_) => Err(fail(Cause::MissingAddress)),
    }
}

/// `given` is the address as the caller wrote it: Go's errors print the
/// resolved address, which for an empty host is empty
/// (`listen ip4:icmp : socket: operation not permitted`).
fn bind_ip(
    network: &str,
    net: Network,
    proto: i32,
    addr: SocketAddr,
    given: &str,
) -> Result<NetFd> {
    let shown = if given.is_empty() {
        String::new()
    } else {
        Addr::Ip(addr).to_string()
    };
    let fail = |cause| NetError::new("listen", network, cause).with_addr(&shown);
    let sock = raw_socket(Domain::for_address(addr), proto).map_err(fail)?;
    sock.bind(&SockAddr::from(addr))
        .syscall("bind")
        .map_err(fail)?;
    let laddr = sock.local_addr().ok().map(|a| to_net_addr(net, &a));
    Ok(NetFd::new(sock, net, Role::Packet, laddr, None))
}
