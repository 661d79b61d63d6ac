//! Dialing (Go's `Dialer.DialContext` and `dialSingle`): resolve the
//! address within the deadline, then race the two address families (Happy
//! Eyeballs) or try every address in turn; datagram networks go to
//! `dgram.rs`.

use super::addr::{Addr, Network, parse_ipv4_port};
use super::dgram;
use super::dialop::DialOp;
use super::dns::resolver::{Resolver, default_resolver, lookup_family};
use super::fd::{NetFd, Role};
use super::lookup::{Purpose, Resolved, ip_network, local_and_targets, resolve_with};
use super::sock::{
    Control, KEEPALIVE_PERIOD, KeepAliveConfig, connected_peer, into_blocking, set_keepalive,
    stream_socket, stream_type, unix_sockaddr,
};
use crate::error::{Cause, NetError, Result, SyscallResult, os_errno};
use crate::poll::{self, NO_DEADLINE, now_ns};
use socket2::{Domain, SockAddr, Socket};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

/// Go gives each address of a serial dial at least this much time, unless
/// less remains.
const SANE_MINIMUM_NS: i64 = 2_000_000_000;

/// Go's default delay before racing the other address family.
pub const DEFAULT_FALLBACK_DELAY: Duration = Duration::from_millis(300);

/// How one dial goes: Go's `net.Dialer` fields.
#[derive(Clone, Debug)]
pub struct DialOptions {
    /// Monotonic ns by which the whole dial, lookup included, must be done.
    pub deadline: i64,
    /// The local address to bind before connecting.
    pub local_addr: Option<String>,
    /// The Happy Eyeballs delay; `None` dials every address in turn.
    pub fallback_delay: Option<Duration>,
    /// Keep-alive period; `None` turns keep-alive off.
    pub keepalive: Option<Duration>,
    /// The resolver names are looked up with; `None`, the default one.
    pub resolver: Option<Arc<Resolver>>,
    /// Go 1.23's `KeepAliveConfig`, applied after `keepalive`.
    pub keepalive_config: Option<KeepAliveConfig>,
    /// Go's `Dialer.Control`: called with each socket before it connects.
    pub control: Option<Control>,
}

impl DialOptions {
    /// Go's defaults, with a deadline.
    pub fn with_deadline(deadline: i64) -> DialOptions {
        DialOptions {
            deadline,
            local_addr: None,
            fallback_delay: Some(DEFAULT_FALLBACK_DELAY),
            keepalive: Some(KEEPALIVE_PERIOD),
            resolver: None,
            keepalive_config: None,
            control: None,
        }
    }
}

/// Dials `address` on `network` as Go's `Dialer.DialContext` does: looks
/// the host up (within the deadline, and cancellably), then races the two
/// address families, or tries every address in turn.
pub fn dial(network: &str, address: &str, opts: &DialOptions, op: &Arc<DialOp>) -> Result<NetFd> {
    const OP: &str = "dial";
    // Go's resolveAddrList asks for the network's family only.
    let family = lookup_family(network);
    let resolver = opts
        .resolver
        .as_deref()
        .unwrap_or_else(|| default_resolver());
    let lookup = |host: &str| resolver.lookup_ip(family, host, opts.deadline, Some(op));
    if let Some(parsed) = ip_network(network) {
        let (net, proto) = parsed.map_err(|c| NetError::new(OP, network, c))?;
        if op.is_cancelled() {
            return Err(NetError::new(OP, network, Cause::Canceled));
        }
        let local = opts.local_addr.as_deref();
        return dgram::dial_ip(network, net, proto, address, local, &lookup);
    }
    let net = Network::parse(network).map_err(|c| NetError::new(OP, network, c))?;
    let fail = |c| NetError::new(OP, net.name(), c);
    if op.is_cancelled() {
        return Err(fail(Cause::Canceled));
    }
    if net.is_packet() {
        return dgram::dial(
            net,
            address,
            opts.local_addr.as_deref(),
            opts.control.as_ref(),
            &lookup,
        );
    }
    let resolved = resolve_with(net, address, Purpose::Dial, &lookup).map_err(fail)?;
    let addrs = match resolved {
        Resolved::Unix(path) => return dial_unix(net, &path, opts, op),
        Resolved::Inet(addrs) => addrs,
        Resolved::Wildcard(_) => return Err(fail(Cause::MissingAddress)),
    };
    let (local, addrs) =
        local_and_targets(net, opts.local_addr.as_deref(), addrs, address, &lookup)
            .map_err(fail)?;
    let plan = Plan {
        net,
        local,
        keepalive: opts.keepalive,
        keepalive_config: opts.keepalive_config,
        control: opts.control,
        deadline: opts.deadline,
        racing: false,
    };
    match opts.fallback_delay {
        // Both families: race them.
        Some(delay) if net == Network::Tcp && !one_family(&addrs) => {
            let (primaries, fallbacks) = partition(&addrs);
            dial_parallel(&plan, primaries, fallbacks, delay, op)
        }
        _ => plan.dial_serial(&addrs, op),
    }
}

fn one_family(addrs: &[SocketAddr]) -> bool {
    addrs.windows(2).all(|w| w[0].is_ipv4() == w[1].is_ipv4())
}

/// Go's `addrList.partition`: the addresses of the first one's family, and
/// the rest, each in their original order.
fn partition(addrs: &[SocketAddr]) -> (Vec<SocketAddr>, Vec<SocketAddr>) {
    let first_is_v4 = addrs.first().is_some_and(SocketAddr::is_ipv4);
    addrs.iter().partition(|a| a.is_ipv4() == first_is_v4)
}

/// Go's `dialParallel`: dials the primaries at once and the fallbacks
/// after `delay` (or as soon as the primaries fail); the first connection
/// wins, the other racer is stopped and anything it connects is closed.
/// When both fail, the primaries' error is the answer.
fn dial_parallel(
    plan: &Plan,
    primaries: Vec<SocketAddr>,
    fallbacks: Vec<SocketAddr>,
    delay: Duration,
    op: &Arc<DialOp>,
) -> Result<NetFd> {
    let start_racer = |primary: bool, addrs: Vec<SocketAddr>| {
        let racer_op = Arc::clone(op);
        let racer_plan = Plan {
            racing: true,
            ..plan.clone()
        };
        let spawned = std::thread::Builder::new()
            .name("gonet-dial".to_owned())
            .spawn(move || {
                let result = racer_plan.dial_serial(&addrs, &racer_op);
                racer_op.post(|e| e.racers.push_back((primary, result)));
            });
        if let Err(e) = spawned {
            let err = NetError::new("dial", plan.net.name(), Cause::Invalid(e.to_string()));
            op.post(|ev| ev.racers.push_back((primary, Err(err))));
        }
    };
    start_racer(true, primaries);
    let fallback_at = now_ns().saturating_add(delay.as_nanos() as i64);
    let mut fallbacks = Some(fallbacks);
    let mut primary_err = None;
    let mut fallback_err = None;
    loop {
        let until = if fallbacks.is_some() {
            fallback_at
        } else {
            NO_DEADLINE
        };
        match op.wait_for(until, |e| e.racers.pop_front()) {
            Some((_, Ok(conn))) => {
                op.finish();
                return Ok(conn);
            }
            Some((primary, Err(err))) => {
                if primary {
                    primary_err = Some(err);
                } else {
                    fallback_err = Some(err);
                }
            }
            // Cancelled: the racers see it too and stop; their late results
            // are dropped with the operation.
            None if op.is_cancelled() => {
                op.finish();
                return Err(NetError::new("dial", plan.net.name(), Cause::Canceled));
            }
            None => {}
        }
        if let Some(f) = fallbacks.take_if(|_| primary_err.is_some() || now_ns() >= fallback_at) {
            start_racer(false, f);
        }
        if fallbacks.is_none() && primary_err.is_some() && fallback_err.is_some() {
            op.finish();
            return Err(primary_err
                .or(fallback_err)
                .unwrap_or_else(|| NetError::new("dial", plan.net.name(), Cause::MissingAddress)));
        }
    }
}

/// What a serial dial needs, cloned into racer threads.
#[derive(Clone)]
struct Plan {
    net: Network,
    local: Option<SocketAddr>,
    keepalive: Option<Duration>,
    keepalive_config: Option<KeepAliveConfig>,
    control: Option<Control>,
    deadline: i64,
    /// A racer of `dial_parallel`, which the winner may stop at any time.
    racing: bool,
}

impl Plan {
    /// Go's `dialSerial`: tries each address in turn, giving each a fair
    /// share of the time left, and reports the first failure if all fail.
    fn dial_serial(&self, addrs: &[SocketAddr], op: &DialOp) -> Result<NetFd> {
        let net = self.net.name();
        let mut first_err = None;
        for (i, addr) in addrs.iter().enumerate() {
            if op.stopped() {
                return Err(first_err.unwrap_or_else(|| {
                    NetError::new("dial", net, Cause::Canceled).with_addr(Addr::Inet(addrs[0]))
                }));
            }
            let remaining = (addrs.len() - i) as i64;
            // Without a deadline the clock is not read at all.
            let attempt = match self.deadline {
                NO_DEADLINE => Some(NO_DEADLINE),
                deadline => partial_deadline(now_ns(), deadline, remaining),
            };
            let Some(attempt) = attempt else {
                return Err(first_err.unwrap_or_else(|| {
                    NetError::new("dial", net, Cause::Timeout).with_addr(Addr::Inet(*addr))
                }));
            };
            match self.dial_one(*addr, attempt, op) {
                Ok(fd) => return Ok(fd),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or_else(|| NetError::new("dial", net, Cause::MissingAddress)))
    }

    fn dial_one(&self, addr: SocketAddr, deadline: i64, op: &DialOp) -> Result<NetFd> {
        let raddr = Addr::Inet(addr);
        let fail = |cause| {
            NetError::new("dial", self.net.name(), cause)
                .with_source(self.local.map(|l| Addr::Inet(l).to_string()))
                .with_addr(&raddr)
        };
        // With no deadline, nobody to cancel it and no race to lose,
        // nothing can end the connect early, so it may block in the kernel
        // as a plain connect does: that saves a poll, SO_ERROR,
        // getpeername and the switch back to blocking mode.
        let may_block = deadline == NO_DEADLINE && !op.cancellable() && !self.racing;
        let sock = Socket::new(Domain::for_address(addr), stream_type(may_block), None)
            .syscall("socket")
            .map_err(fail)?;
        // Options before the handshake: the kernel then arms the
        // keep-alive timer once, when the connection is established, where
        // setting them afterwards re-arms it for each option.
        let _ = sock.set_tcp_nodelay(true);
        let _ = set_keepalive(&sock, self.keepalive);
        if let Some(config) = &self.keepalive_config {
            config.apply(&sock).syscall("setsockopt").map_err(fail)?;
        }
        // After gonet's own options, so that the control function has the
        // last word on any of them; before bind, as Go calls it.
        if let Some(control) = &self.control {
            control
                .run(self.net, &raddr.to_string(), &sock)
                .map_err(fail)?;
        }
        if let Some(local) = self.local {
            sock.bind(&SockAddr::from(local))
                .syscall("bind")
                .map_err(fail)?;
        }
        let sa = SockAddr::from(addr);
        if may_block {
            connect_blocking(&sock, &sa, op).map_err(fail)?;
        } else {
            connect(&sock, &sa, deadline, op).map_err(fail)?;
            into_blocking(&sock).map_err(fail)?;
        }
        // The local address is asked of the socket when first needed.
        let raddr = connected_peer(&sock, addr);
        Ok(NetFd::new(sock, self.net, Role::Conn, None, Some(raddr)))
    }
}

/// Dials a literal `ip:port` on a TCP network, the common case, without
/// what names need: no lookup, no address list, no state shared with
/// helper threads (one address has nobody to race). The arguments are the
/// C strings' bytes: a plain IPv4 literal needs no UTF-8 check. `None` when
/// `address` is not such a literal (a name, a zone, a service name, a
/// family the network excludes, not UTF-8): the full `dial` then handles
/// it, errors included.
pub fn dial_literal(network: &[u8], address: &[u8], deadline: i64) -> Option<Result<NetFd>> {
    let net = Network::from_name(network)?;
    let addr = match parse_ipv4_port(address) {
        Some(v4) => SocketAddr::V4(v4),
        None => std::str::from_utf8(address).ok()?.parse().ok()?,
    };
    let zoned = matches!(addr, SocketAddr::V6(a) if a.scope_id() != 0);
    if !matches!(net, Network::Tcp | Network::Tcp4 | Network::Tcp6)
        || !net.admits(&addr.ip())
        || zoned
    {
        return None;
    }
    Some(dial_serial(net, &[addr], deadline))
}

/// Dials the given addresses in turn with Go's defaults: the dialer's
/// serial strategy, for callers that already hold resolved addresses.
pub fn dial_serial(net: Network, addrs: &[SocketAddr], deadline: i64) -> Result<NetFd> {
    let plan = Plan {
        net,
        local: None,
        keepalive: Some(KEEPALIVE_PERIOD),
        keepalive_config: None,
        control: None,
        deadline,
        racing: false,
    };
    plan.dial_serial(addrs, &DialOp::new(false))
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

fn dial_unix(net: Network, path: &str, opts: &DialOptions, op: &DialOp) -> Result<NetFd> {
    let raddr = Addr::Unix(path.into());
    let fail = |cause| NetError::new("dial", net.name(), cause).with_addr(&raddr);
    let sa = unix_sockaddr(path).map_err(fail)?;
    let sock = stream_socket(Domain::UNIX)
        .syscall("socket")
        .map_err(fail)?;
    if let Some(control) = &opts.control {
        control.run(net, path, &sock).map_err(fail)?;
    }
    connect(&sock, &sa, opts.deadline, op).map_err(fail)?;
    into_blocking(&sock).map_err(fail)?;
    // Never bound, so unnamed: its local address is known without asking.
    let laddr = Addr::Unix("".into());
    Ok(NetFd::new(sock, net, Role::Conn, Some(laddr), Some(raddr)))
}

/// Connects a blocking socket. A connect interrupted by a signal goes on
/// in the background; it is then waited for as a non-blocking one is.
fn connect_blocking(sock: &Socket, sa: &SockAddr, op: &DialOp) -> std::result::Result<(), Cause> {
    match sock.connect(sa) {
        Ok(()) => Ok(()),
        Err(e) if os_errno(&e) == libc::EINTR => {
            sock.set_nonblocking(true).syscall("ioctl")?;
            wait_connected(sock, NO_DEADLINE, op)?;
            into_blocking(sock)
        }
        Err(e) => Err(Cause::syscall("connect", os_errno(&e))),
    }
}

/// Connects a non-blocking socket, waiting for the handshake until
/// `deadline`.
fn connect(
    sock: &Socket,
    sa: &SockAddr,
    deadline: i64,
    op: &DialOp,
) -> std::result::Result<(), Cause> {
    match sock.connect(sa) {
        Ok(()) => return Ok(()),
        Err(e) => match os_errno(&e) {
            // An interrupted connect goes on in the background on Linux.
            libc::EINPROGRESS | libc::EINTR => {}
            errno => return Err(Cause::syscall("connect", errno)),
        },
    }
    wait_connected(sock, deadline, op)
}

/// Waits for a connect in progress on a non-blocking socket.
fn wait_connected(sock: &Socket, deadline: i64, op: &DialOp) -> std::result::Result<(), Cause> {
    loop {
        if op.stopped() {
            return Err(Cause::Canceled);
        }
        if deadline != NO_DEADLINE && deadline <= now_ns() {
            return Err(Cause::Timeout);
        }
        poll::wait(
            sock.as_raw_fd(),
            libc::POLLOUT,
            deadline,
            &op.waiters,
            || !op.stopped(),
        )
        .syscall("poll")?;
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

    /// The full dial, as net_dial makes it when the literal path declines.
    fn full_dial(network: &str, address: &str) -> Result<NetFd> {
        let opts = DialOptions::with_deadline(NO_DEADLINE);
        dial(network, address, &opts, &Arc::new(DialOp::new(false)))
    }

    #[test]
    fn the_literal_path_takes_only_literals_its_network_admits() {
        for (network, address) in [
            ("tcp", "localhost:80"),
            ("tcp", "127.0.0.1:http"),
            ("tcp", "127.0.0.1:+80"),
            ("tcp", "127.0.0.1:65536"),
            ("tcp", ":80"),
            ("tcp", "[fe80::1%1]:80"),
            ("tcp4", "[::1]:80"),
            ("tcp6", "127.0.0.1:80"),
            ("udp", "127.0.0.1:80"),
            ("unix", "127.0.0.1:80"),
            ("tcp", "127.0.0.1"),
            ("tcp", "127.0.0.1:80\u{e9}"),
            ("tcp\u{e9}", "127.0.0.1:80"),
        ] {
            assert!(
                dial_literal(network.as_bytes(), address.as_bytes(), NO_DEADLINE).is_none(),
                "{network} {address}"
            );
        }
    }

    #[test]
    fn the_literal_path_connects_and_fails_as_the_full_dial_does() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("local_addr").to_string();
        for network in ["tcp", "tcp4"] {
            let fd = dial_literal(network.as_bytes(), address.as_bytes(), NO_DEADLINE)
                .expect("a literal")
                .expect("dial");
            assert_eq!(fd.raddr, Some(Addr::Inet(address.parse().expect("addr"))));
            assert_eq!(fd.net.name(), network);
        }
        // A port nothing listens on: the listener's, once it is gone.
        drop(listener);
        let literal = dial_literal(b"tcp", address.as_bytes(), NO_DEADLINE).expect("a literal");
        let (Err(literal), Err(full)) = (literal, full_dial("tcp", &address)) else {
            panic!("a closed port accepted a connection");
        };
        assert_eq!(literal.to_string(), full.to_string());
        assert_eq!(literal.code(), full.code());
    }
}
