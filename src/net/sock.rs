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

/// A listening socket starts blocking: an accept without a deadline
/// blocks in `accept4` itself, as reads do in `recv`. It is made
/// non-blocking for good when an accept has a deadline or another process
/// may accept on it too (see `NetFd::accept`).
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

/// Connects a datagram socket to `addr`, first binding it to `local` when
/// given (a dialer's local address): connecting sends nothing, it only
/// fixes the peer, so a failure here is the address's, not the network's.
pub(crate) fn bind_and_connect(
    sock: &Socket,
    local: Option<SocketAddr>,
    addr: SocketAddr,
) -> std::result::Result<(), Cause> {
    if let Some(local) = local {
        sock.bind(&SockAddr::from(local)).syscall("bind")?;
    }
    sock.connect(&SockAddr::from(addr)).syscall("connect")
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

/// A control function, as C passes it: Go's `ListenConfig.Control` and
/// `Dialer.Control`.
pub type ControlFn = unsafe extern "C" fn(
    network: *const std::ffi::c_char,
    address: *const std::ffi::c_char,
    fd: std::ffi::c_int,
    arg: *mut std::ffi::c_void,
) -> i64;

/// A control function and the argument C gave with it, called with each
/// new socket after gonet's own options and before `bind` or `connect`.
#[derive(Clone, Copy, Debug)]
pub struct Control {
    pub func: ControlFn,
    pub arg: *mut std::ffi::c_void,
}

// SAFETY: the argument is the C caller's, who promises (as the header
// says) that the function may be called with it from any thread gonet
// dials or listens on; gonet never dereferences it.
unsafe impl Send for Control {}
// SAFETY: as for Send: gonet only passes the pointer back to C.
unsafe impl Sync for Control {}

impl Control {
    /// Calls the function with `sock` and Go's names for the network
    /// (`tcp4`, `tcp6`, `udp4`, `udp6`, `unix`, `unixgram`: Go's
    /// `ctrlNetwork`) and the address; a negative return is the failure.
    pub fn run(
        &self,
        net: Network,
        address: &str,
        sock: &Socket,
    ) -> std::result::Result<(), Cause> {
        use std::os::fd::AsRawFd;
        let network = match (net, sock.domain()) {
            (n, _) if n.is_unix() => n.name().to_owned(),
            (n, _) if n.name().ends_with(['4', '6']) => n.name().to_owned(),
            (n, Ok(d)) if d == Domain::IPV4 => format!("{}4", n.name()),
            (n, _) => format!("{}6", n.name()),
        };
        let network = std::ffi::CString::new(network).unwrap_or_default();
        let address = std::ffi::CString::new(address).unwrap_or_default();
        // SAFETY: both strings are NUL-terminated and outlive the call;
        // the descriptor is open (owned by `sock`) for the whole call; the
        // function and its argument are the caller's, who promised they
        // may be called so.
        let rc = unsafe {
            (self.func)(
                network.as_ptr(),
                address.as_ptr(),
                sock.as_raw_fd(),
                self.arg,
            )
        };
        if rc < 0 {
            return Err(Cause::Control { code: rc });
        }
        Ok(())
    }
}

/// Go 1.23's `KeepAliveConfig`, in the C API's units: the idle time and
/// the probe interval are `*_ms` arguments (`NET_DEFAULT`: Go's 15 s; any
/// other negative value: the system's setting is left as it is, Go's
/// negative; milliseconds rounded up to whole seconds, at least one), and
/// the probe count is a count (`NET_DEFAULT` or 0: Go's 9; negative: left
/// as it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepAliveConfig {
    pub idle_ms: i64,
    pub interval_ms: i64,
    pub count: i64,
}

/// Go's default keep-alive probe count.
const KEEPALIVE_COUNT: u32 = 9;

/// `NET_DEFAULT`'s value (`capi/boundary.rs`), which the keep-alive
/// configuration reads itself, field by field.
const DEFAULT: i64 = -2;

impl KeepAliveConfig {
    /// Turns keep-alive on with these settings. Times go to the kernel in
    /// whole seconds, rounded up, as Go rounds them.
    pub fn apply(&self, sock: &Socket) -> std::io::Result<()> {
        let secs = |ms: i64| match ms {
            DEFAULT => Some(KEEPALIVE_PERIOD),
            ms if ms < 0 => None,
            ms => Some(Duration::from_secs(
                (ms as u64).div_ceil(1000).clamp(1, i32::MAX as u64),
            )),
        };
        let mut ka = TcpKeepalive::new();
        if let Some(idle) = secs(self.idle_ms) {
            ka = ka.with_time(idle);
        }
        if let Some(interval) = secs(self.interval_ms) {
            ka = ka.with_interval(interval);
        }
        match self.count {
            0 | DEFAULT => ka = ka.with_retries(KEEPALIVE_COUNT),
            n if n > 0 => ka = ka.with_retries(n.min(i32::MAX as i64) as u32),
            _ => {}
        }
        sock.set_tcp_keepalive(&ka)
    }
}

/// The backlog Go gives every listener: `net.core.somaxconn`, read once
/// (Go's `maxListenerBacklog`), or `SOMAXCONN` when it cannot be read.
pub fn default_backlog() -> i32 {
    static BACKLOG: std::sync::OnceLock<i32> = std::sync::OnceLock::new();
    *BACKLOG.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .map_or(libc::SOMAXCONN, |n| n.min(i32::MAX as i64) as i32)
    })
}

/// What a listen configuration adds to a plain listen, applied to each
/// new socket before `bind`.
#[derive(Clone, Debug, Default)]
pub struct ListenOptions {
    pub reuseport: bool,
    /// 0: `default_backlog()`.
    pub backlog: i32,
    /// Keep-alive of accepted connections: `None` is Go's default (on,
    /// 15 s), `Some(None)` off, `Some(Some(period))` that period.
    pub keepalive: Option<Option<Duration>>,
    pub keepalive_config: Option<KeepAliveConfig>,
    pub control: Option<Control>,
}

impl ListenOptions {
    pub fn backlog(&self) -> i32 {
        if self.backlog > 0 {
            self.backlog
        } else {
            default_backlog()
        }
    }

    /// SO_REUSEPORT, then the control function, on a socket about to be
    /// bound to `address`.
    pub fn before_bind(
        &self,
        net: Network,
        address: &str,
        sock: &Socket,
    ) -> std::result::Result<(), Cause> {
        if self.reuseport {
            sock.set_reuse_port(true).syscall("setsockopt")?;
        }
        match &self.control {
            Some(control) => control.run(net, address, sock),
            None => Ok(()),
        }
    }
}
