//! Making sockets with Go's defaults, and the options gonet sets on them:
//! the one place that says how a stream, listening or datagram socket is
//! made (close-on-exec, blocking mode, TCP defaults, keep-alive, dual
//! stack) and how a Unix address is spelled to the kernel.

use super::addr::{Addr, Network, to_addr};
use crate::error::{Cause, NetError, SyscallResult};
use socket2::{Domain, SockAddr, Socket, TcpKeepalive, Type};
use std::net::SocketAddr;
use std::time::Duration;

/// Go's default keep-alive idle time and probe interval.
pub const KEEPALIVE_PERIOD: Duration = Duration::from_secs(15);

/// Go's defaults for a TCP connection: no Nagle delay, keep-alive on.
/// Failures are ignored as Go ignores them: the connection still works.
pub fn apply_tcp_defaults(sock: &Socket) {
    let _ = sock.set_tcp_nodelay(true);
    let _ = set_keepalive(sock, Some(KEEPALIVE_PERIOD));
}

/// Turns keep-alive on with `period` as idle time and interval, or off.
/// The kernel counts both in whole seconds, at least one: the period is
/// rounded up to that.
pub fn set_keepalive(sock: &Socket, period: Option<Duration>) -> std::io::Result<()> {
    match period {
        Some(period) => {
            let secs = Duration::from_secs(period.as_millis().div_ceil(1000).max(1) as u64);
            sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(secs).with_interval(secs))
        }
        None => sock.set_keepalive(false),
    }
}

/// A stream socket for dialing, non-blocking so that its connect can be
/// stopped (see `dial.rs`).
pub(crate) fn stream_socket(domain: Domain) -> std::io::Result<Socket> {
    // socket2 sets close-on-exec on every socket it makes.
    Socket::new(domain, stream_type(false), None)
}

/// A listening socket is blocking: an accept without a deadline blocks in
/// `accept4` itself, as reads do in `recv` (see `NetFd::accept`).
pub(crate) fn listener_socket(domain: Domain) -> std::io::Result<Socket> {
    Socket::new(domain, stream_type(true), None)
}

/// A stream socket, non-blocking unless its connect may block.
pub(crate) fn stream_type(blocking: bool) -> Type {
    if blocking {
        Type::STREAM
    } else {
        Type::STREAM.nonblocking()
    }
}

/// Connections are blocking sockets: a read or write without a deadline
/// blocks in `recv` or `send`, and every other call passes MSG_DONTWAIT
/// (see `poll/wait.rs`). Only a connect that may be stopped early needs the
/// non-blocking mode.
pub(crate) fn into_blocking(sock: &Socket) -> std::result::Result<(), Cause> {
    sock.set_nonblocking(false).syscall("ioctl")
}

/// A Unix socket address; a leading `@` names a Linux abstract socket.
pub(crate) fn unix_sockaddr(path: &str) -> std::result::Result<SockAddr, Cause> {
    let bytes = match path.strip_prefix('@') {
        Some(name) => [&[0u8][..], name.as_bytes()].concat(),
        None => path.as_bytes().to_vec(),
    };
    let os_path = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&bytes);
    SockAddr::unix(os_path).map_err(|_| Cause::addr("path too long", path))
}

/// Whether a failure means the host has no IPv6 (no such family, or no
/// such address): a wildcard listener then falls back to IPv4.
pub(crate) fn no_ipv6(e: &NetError) -> bool {
    matches!(
        e.cause,
        Cause::Syscall {
            syscall: "socket",
            errno: libc::EAFNOSUPPORT
        } | Cause::Syscall {
            errno: libc::EADDRNOTAVAIL,
            ..
        }
    )
}

/// A datagram socket, non-blocking: its reads and writes pass
/// MSG_DONTWAIT or wait in poll (see `packet.rs`).
pub(crate) fn datagram_socket(domain: Domain) -> std::io::Result<Socket> {
    // socket2 sets close-on-exec on every socket it makes.
    Socket::new(domain, Type::DGRAM.nonblocking(), None)
}

/// A UDP socket with Go's defaults: IPV6_V6ONLY only for `udp6` (Go's
/// `favoriteAddrFamily`), and SO_BROADCAST on, as Go sets it on every IP
/// datagram socket.
pub(crate) fn new_udp_socket(net: Network, addr: SocketAddr) -> std::result::Result<Socket, Cause> {
    let sock = datagram_socket(Domain::for_address(addr)).syscall("socket")?;
    if addr.is_ipv6() {
        sock.set_only_v6(net == Network::Udp6)
            .syscall("setsockopt")?;
    }
    // Sending to a broadcast address is the only thing it changes.
    let _ = sock.set_broadcast(true);
    Ok(sock)
}

pub(crate) fn local_addr(sock: &Socket) -> Option<Addr> {
    sock.local_addr().ok().map(|a| to_addr(&a))
}

/// A raw IP socket for protocol `proto` (Go's `IPConn`), non-blocking as
/// datagram sockets are, with Go's defaults: SO_BROADCAST on IPv4 (Go
/// leaves IPV6_V6ONLY alone on raw sockets). Making one needs
/// CAP_NET_RAW: without it, `socket: operation not permitted`.
pub(crate) fn raw_socket(domain: Domain, proto: i32) -> std::result::Result<Socket, Cause> {
    let sock = Socket::new(
        domain,
        Type::RAW.nonblocking(),
        Some(socket2::Protocol::from(proto)),
    )
    .syscall("socket")?;
    if domain == Domain::IPV4 {
        let _ = sock.set_broadcast(true);
    }
    Ok(sock)
}

/// The peer a socket connected to `addr` reached. An unspecified address
/// (`":80"`, `"0.0.0.0:80"`) reaches the local system, and Go reports the
/// address the kernel chose (its dial asks `getpeername`), `127.0.0.1:80`
/// or `[::1]:80`; any other address is the peer itself, so the system call
/// is saved.
pub(crate) fn connected_peer(sock: &Socket, addr: SocketAddr) -> Addr {
    if addr.ip().is_unspecified()
        && let Ok(Some(peer)) = sock.peer_addr().map(|a| a.as_socket())
    {
        return Addr::Inet(peer);
    }
    Addr::Inet(addr)
}
