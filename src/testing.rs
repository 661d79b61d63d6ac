//! The integration tests' one door into gonet's internals. Not part of the
//! C ABI, not in the header, and not a stable interface: each item is here
//! because a test checks something the C ABI cannot reach.

use crate::net::{self, Network};
use std::net::SocketAddr;

pub use crate::error::NetError;

/// How many connection and listener handles are open: leak checks compare
/// it before and after.
pub fn open_handles() -> usize {
    crate::handle::open_count()
}

/// Dials `addrs` in turn, as a dial does after resolving a name (the test
/// machine's names resolve to one address; this feeds the list directly).
/// Returns the peer's address as Go prints it.
pub fn dial_serial(network: &str, addrs: &[SocketAddr]) -> Result<String, NetError> {
    let net = Network::parse(network).map_err(|c| NetError::new("dial", network, c))?;
    let fd = net::dial_serial(net, addrs, i64::MAX)?;
    Ok(fd
        .raddr
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default())
}

/// Go's `SplitHostPort`, with its error text.
pub fn split_host_port(hostport: &str) -> Result<(String, String), String> {
    net::split_host_port(hostport)
        .map(|(h, p)| (h.to_owned(), p.to_owned()))
        .map_err(|c| c.to_string())
}

/// Go's `JoinHostPort`.
pub fn join_host_port(host: &str, port: &str) -> String {
    net::join_host_port(host, port)
}

/// `net_copy` with the read/write relay forced instead of `splice`, so
/// that both relays are tested on the same cases.
pub fn copy_with_loop(dst: i64, src: i64, max_bytes: i64) -> Result<u64, NetError> {
    let lookup = |h| {
        crate::handle::get(h).ok_or_else(|| NetError::new("copy", "", crate::error::Cause::Closed))
    };
    let (dst, src) = (lookup(dst)?, lookup(src)?);
    net::copy(&dst, &src, max_bytes, net::Strategy::Loop)
}
