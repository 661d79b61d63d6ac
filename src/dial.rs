//! Dialing and listening: resolve the address, make the socket with Go's
//! defaults, and connect or bind.

use crate::addr::{Addr, Network, Purpose, Resolved, resolve};
use crate::error::{Cause, NetError, Result};
use crate::fd::{NetFd, Role, os_errno, to_addr};
use crate::poll::{self, NO_DEADLINE, WaitList};
use crate::sys::now_ns;
use socket2::{Domain, SockAddr, Socket, TcpKeepalive, Type};
use std::net::{Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// Go's default keep-alive idle time and probe interval.
const KEEPALIVE_PERIOD: Duration = Duration::from_secs(15);

/// Go gives each address of a serial dial at least this much time, unless
/// less remains.
const SANE_MINIMUM_NS: i64 = 2_000_000_000;

/// Go's defaults for a TCP connection: no Nagle delay, keep-alive on.
/// Failures are ignored as Go ignores them: the connection still works.
pub fn apply_tcp_defaults(sock: &Socket) {
    let _ = sock.set_tcp_nodelay(true);
    let _ = set_keepalive(sock, Some(KEEPALIVE_PERIOD));
}

/// Turns keep-alive on with `period` as idle time and interval, or off.
pub fn set_keepalive(sock: &Socket, period: Option<Duration>) -> std::io::Result<()> {
    match period {
        Some(period) => {
            sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(period).with_interval(period))
        }
        None => sock.set_keepalive(false),
    }
}

fn new_socket(domain: Domain) -> std::io::Result<Socket> {
    // socket2 sets close-on-exec on every socket it makes.
    Socket::new(domain, Type::STREAM.nonblocking(), None)
}

/// Dials `address` on `network`; `deadline` (monotonic ns or `NO_DEADLINE`)
/// bounds the whole dial.
pub fn dial(network: &str, address: &str, deadline: i64) -> Result<NetFd> {
    const OP: &str = "dial";
    let net = Network::parse(network).map_err(|c| NetError::new(OP, network, c))?;
    let resolved =
        resolve(net, address, Purpose::Dial).map_err(|c| NetError::new(OP, net.name(), c))?;
    match resolved {
        Resolved::Unix(path) => dial_unix(net, &path, deadline),
        Resolved::Inet(addrs) => dial_serial(net, &addrs, deadline),
        Resolved::Wildcard(_) => Err(NetError::new(OP, net.name(), Cause::MissingAddress)),
    }
}

/// Go's `dialSerial`: tries each address in turn, giving each a fair share
/// of the time left, and reports the first failure if all fail.
pub fn dial_serial(net: Network, addrs: &[SocketAddr], deadline: i64) -> Result<NetFd> {
    let mut first_err = None;
    for (i, addr) in addrs.iter().enumerate() {
        let remaining = (addrs.len() - i) as i64;
        let attempt = match partial_deadline(now_ns(), deadline, remaining) {
            Some(d) => d,
            None => {
                return Err(first_err.unwrap_or_else(|| {
                    NetError::new("dial", net.name(), Cause::Timeout).with_addr(Addr::Inet(*addr))
                }));
            }
        };
        match dial_one(net, *addr, attempt) {
            Ok(fd) => return Ok(fd),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| NetError::new("dial", net.name(), Cause::MissingAddress)))
}

/// Go's `partialDeadline`; `None` when the time is already up.
fn partial_deadline(now: i64, deadline: i64, addrs_remaining: i64) -> Option<i64> {
    if deadline == NO_DEADLINE {
        return Some(NO_DEADLINE);
    }
    let left = deadline - now;
    if left <= 0 {
        return None;
    }
    let mut share = left / addrs_remaining.max(1);
    if share < SANE_MINIMUM_NS {
        share = left.min(SANE_MINIMUM_NS);
    }
    Some(now + share)
}

fn dial_one(net: Network, addr: SocketAddr, deadline: i64) -> Result<NetFd> {
    let raddr = Addr::Inet(addr);
    let fail = |cause| NetError::new("dial", net.name(), cause).with_addr(&raddr);
    let sock = new_socket(Domain::for_address(addr))
        .map_err(|e| fail(Cause::syscall("socket", os_errno(&e))))?;
    connect(&sock, &SockAddr::from(addr), deadline).map_err(fail)?;
    apply_tcp_defaults(&sock);
    let laddr = sock.local_addr().ok().map(|a| to_addr(&a));
    Ok(NetFd::new(sock, net, Role::Conn, laddr, Some(raddr)))
}

fn dial_unix(net: Network, path: &str, deadline: i64) -> Result<NetFd> {
    let raddr = Addr::Unix(path.into());
    let fail = |cause| NetError::new("dial", net.name(), cause).with_addr(&raddr);
    let sa = unix_sockaddr(path).map_err(fail)?;
    let sock =
        new_socket(Domain::UNIX).map_err(|e| fail(Cause::syscall("socket", os_errno(&e))))?;
    connect(&sock, &sa, deadline).map_err(fail)?;
    let laddr = sock.local_addr().ok().map(|a| to_addr(&a));
    Ok(NetFd::new(sock, net, Role::Conn, laddr, Some(raddr)))
}

/// A Unix socket address; a leading `@` names a Linux abstract socket.
fn unix_sockaddr(path: &str) -> std::result::Result<SockAddr, Cause> {
    let bytes = match path.strip_prefix('@') {
        Some(name) => [&[0u8][..], name.as_bytes()].concat(),
        None => path.as_bytes().to_vec(),
    };
    let os_path = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&bytes);
    SockAddr::unix(os_path).map_err(|_| Cause::addr("path too long", path))
}

/// Connects a non-blocking socket, waiting for the handshake until
/// `deadline`.
fn connect(sock: &Socket, sa: &SockAddr, deadline: i64) -> std::result::Result<(), Cause> {
    match sock.connect(sa) {
        Ok(()) => return Ok(()),
        Err(e) => match os_errno(&e) {
            // An interrupted connect goes on in the background on Linux.
            libc::EINPROGRESS | libc::EINTR => {}
            errno => return Err(Cause::syscall("connect", errno)),
        },
    }
    let waiters = WaitList::default();
    loop {
        if deadline != NO_DEADLINE && deadline <= now_ns() {
            return Err(Cause::Timeout);
        }
        poll::wait(sock.as_raw_fd(), libc::POLLOUT, deadline, &waiters, || true)
            .map_err(|e| Cause::syscall("poll", e))?;
        match sock.take_error() {
            Ok(None) => {}
            Ok(Some(e)) => return Err(Cause::syscall("connect", os_errno(&e))),
            Err(e) => return Err(Cause::syscall("getsockopt", os_errno(&e))),
        }
        // Writable with no pending error means connected; otherwise the
        // wait ended early (a deadline) and we look again.
        if sock.peer_addr().is_ok() {
            return Ok(());
        }
    }
}

/// Listens on `address`: an empty or unspecified host on `tcp` listens on
/// every address, IPv6 and IPv4, as Go does.
pub fn listen(network: &str, address: &str) -> Result<NetFd> {
    const OP: &str = "listen";
    let net = Network::parse(network).map_err(|c| NetError::new(OP, network, c))?;
    let resolved =
        resolve(net, address, Purpose::Listen).map_err(|c| NetError::new(OP, net.name(), c))?;
    match resolved {
        Resolved::Unix(path) => listen_unix(net, &path),
        Resolved::Inet(addrs) => listen_inet(net, addrs[0], false),
        Resolved::Wildcard(port) => {
            let any6 = SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port);
            match listen_inet(net, any6, true) {
                Err(e) if no_ipv6(&e) => {
                    listen_inet(net, SocketAddr::new([0, 0, 0, 0].into(), port), false)
                }
                other => other,
            }
        }
    }
}

fn no_ipv6(e: &NetError) -> bool {
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

/// The kernel clamps this to `net.core.somaxconn`, which is what Go asks for.
const BACKLOG: i32 = i32::MAX;

fn listen_inet(net: Network, addr: SocketAddr, dual_stack: bool) -> Result<NetFd> {
    let fail = |cause| NetError::new("listen", net.name(), cause).with_addr(Addr::Inet(addr));
    let sock = new_socket(Domain::for_address(addr))
        .map_err(|e| fail(Cause::syscall("socket", os_errno(&e))))?;
    if addr.is_ipv6() {
        sock.set_only_v6(!dual_stack)
            .map_err(|e| fail(Cause::syscall("setsockopt", os_errno(&e))))?;
    }
    sock.set_reuse_address(true)
        .map_err(|e| fail(Cause::syscall("setsockopt", os_errno(&e))))?;
    sock.bind(&SockAddr::from(addr))
        .map_err(|e| fail(Cause::syscall("bind", os_errno(&e))))?;
    sock.listen(BACKLOG)
        .map_err(|e| fail(Cause::syscall("listen", os_errno(&e))))?;
    let laddr = sock.local_addr().ok().map(|a| to_addr(&a));
    Ok(NetFd::new(sock, net, Role::Listener, laddr, None))
}

fn listen_unix(net: Network, path: &str) -> Result<NetFd> {
    let laddr = Addr::Unix(path.into());
    let fail = |cause| NetError::new("listen", net.name(), cause).with_addr(&laddr);
    let sa = unix_sockaddr(path).map_err(fail)?;
    let sock =
        new_socket(Domain::UNIX).map_err(|e| fail(Cause::syscall("socket", os_errno(&e))))?;
    sock.bind(&sa)
        .map_err(|e| fail(Cause::syscall("bind", os_errno(&e))))?;
    sock.listen(BACKLOG)
        .map_err(|e| fail(Cause::syscall("listen", os_errno(&e))))?;
    let created_file = (!path.starts_with('@') && !path.is_empty()).then(|| path.to_owned());
    Ok(
        NetFd::new(sock, net, Role::Listener, Some(laddr.clone()), None)
            .unlink_on_close(created_file),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_deadline_matches_go() {
        let s = 1_000_000_000;
        assert_eq!(partial_deadline(0, NO_DEADLINE, 3), Some(NO_DEADLINE));
        assert_eq!(partial_deadline(10, 5, 1), None);
        // 9 s over 3 addresses: 3 s each.
        assert_eq!(partial_deadline(0, 9 * s, 3), Some(3 * s));
        // 3 s over 3 addresses: the 2 s minimum applies.
        assert_eq!(partial_deadline(0, 3 * s, 3), Some(2 * s));
        // Under 2 s left: all of it.
        assert_eq!(partial_deadline(0, s, 3), Some(s));
    }
}
