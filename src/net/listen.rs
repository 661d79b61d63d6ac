//! Listening on streams (Go's `Listen`): TCP, dual stack on a wildcard
//! host, and Unix sockets whose file goes with the listener.

use super::addr::{Addr, Network, to_addr};
use super::dgram::wrong_kind;
use super::dns::resolver::default_lookup;
use super::fd::{NetFd, Role};
use super::lookup::{Purpose, Resolved, ip_network, resolve_with};
use super::sock::{
    ListenOptions, apply_tcp_defaults, listener_socket, no_ipv6, set_keepalive, unix_sockaddr,
};
use crate::error::{Cause, NetError, Result, SyscallResult};
use crate::poll::NO_DEADLINE;
use socket2::{Domain, SockAddr};
use std::net::{Ipv6Addr, SocketAddr};

/// Listens on `address`: an empty or unspecified host on `tcp` listens on
/// every address, IPv6 and IPv4, as Go does.
pub fn listen(network: &str, address: &str) -> Result<NetFd> {
    listen_with(network, address, &ListenOptions::default())
}

/// `listen` with a listen configuration's options (Go's
/// `ListenConfig.Listen`).
pub fn listen_with(network: &str, address: &str, opts: &ListenOptions) -> Result<NetFd> {
    const OP: &str = "listen";
    if let Some(parsed) = ip_network(network) {
        // Go's `Listen` resolves the address first, then finds an IP
        // address is no stream's.
        let (net, _) = parsed.map_err(|c| NetError::new(OP, network, c))?;
        resolve_with(
            net,
            address,
            Purpose::Listen,
            &default_lookup(network, NO_DEADLINE),
        )
        .map_err(|c| NetError::new(OP, network, c))?;
        let cause = Cause::addr("unexpected address type", address);
        return Err(NetError::new(OP, network, cause).with_addr(address));
    }
    let net = Network::parse(network).map_err(|c| NetError::new(OP, network, c))?;
    if net.is_packet() {
        return Err(wrong_kind(net, address));
    }
    let lookup = default_lookup(network, NO_DEADLINE);
    let resolved = resolve_with(net, address, Purpose::Listen, &lookup)
        .map_err(|c| NetError::new(OP, net.name(), c))?;
    match resolved {
        Resolved::Unix(path) => listen_unix(net, &path, opts),
        Resolved::Inet(addrs) => listen_inet(net, addrs[0], false, opts),
        Resolved::Wildcard(port) => {
            let any6 = SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port);
            match listen_inet(net, any6, true, opts) {
                Err(e) if no_ipv6(&e) => {
                    listen_inet(net, SocketAddr::new([0, 0, 0, 0].into(), port), false, opts)
                }
                other => other,
            }
        }
    }
}

fn listen_inet(
    net: Network,
    addr: SocketAddr,
    dual_stack: bool,
    opts: &ListenOptions,
) -> Result<NetFd> {
    let fail = |cause| NetError::new("listen", net.name(), cause).with_addr(Addr::Inet(addr));
    let sock = listener_socket(Domain::for_address(addr))
        .syscall("socket")
        .map_err(fail)?;
    if addr.is_ipv6() {
        sock.set_only_v6(!dual_stack)
            .syscall("setsockopt")
            .map_err(fail)?;
    }
    sock.set_reuse_address(true)
        .syscall("setsockopt")
        .map_err(fail)?;
    // Accepted connections inherit TCP_NODELAY and the keep-alive settings
    // (and an armed keep-alive timer) from their listener on Linux, so Go's
    // defaults are set once here rather than four times per accept.
    apply_tcp_defaults(&sock);
    if let Some(period) = opts.keepalive {
        let _ = set_keepalive(&sock, period);
    }
    if let Some(config) = &opts.keepalive_config {
        config.apply(&sock).syscall("setsockopt").map_err(fail)?;
    }
    opts.before_bind(net, &Addr::Inet(addr).to_string(), &sock)
        .map_err(fail)?;
    sock.bind(&SockAddr::from(addr))
        .syscall("bind")
        .map_err(fail)?;
    sock.listen(opts.backlog())
        .syscall("listen")
        .map_err(fail)?;
    let laddr = sock.local_addr().ok().map(|a| to_addr(&a));
    Ok(NetFd::new(sock, net, Role::Listener, laddr, None))
}

fn listen_unix(net: Network, path: &str, opts: &ListenOptions) -> Result<NetFd> {
    let laddr = Addr::Unix(path.into());
    let fail = |cause| NetError::new("listen", net.name(), cause).with_addr(&laddr);
    let sa = unix_sockaddr(path).map_err(fail)?;
    let sock = listener_socket(Domain::UNIX)
        .syscall("socket")
        .map_err(fail)?;
    opts.before_bind(net, path, &sock).map_err(fail)?;
    sock.bind(&sa).syscall("bind").map_err(fail)?;
    sock.listen(opts.backlog())
        .syscall("listen")
        .map_err(fail)?;
    let created_file = (!path.starts_with('@') && !path.is_empty()).then(|| path.to_owned());
    Ok(
        NetFd::new(sock, net, Role::Listener, Some(laddr.clone()), None)
            .unlink_on_close(created_file),
    )
}
