//! Datagram I/O on a packet socket (`udp*`, `unixgram`): every read takes
//! one whole datagram and every write sends one, with the same promises
//! about close, deadlines and errors as streams (the locks, checks and
//! waits are `fd.rs`'s).
//!
//! A datagram longer than the reader's buffer is never cut short silently:
//! what fits is copied, the datagram is consumed, and the read fails with
//! `NET_EMSGSIZE` naming the datagram's real length. Go truncates without a
//! word; a C caller would have no way to notice.
//!
//! System call names in messages follow Go: `read`/`write` for `Read` and
//! `Write`, `recvfrom`/`sendto` for `ReadFrom` and `WriteTo`.

use super::addr::{Addr, Network, to_net_addr};
use super::dns::resolver::default_lookup;
use super::fd::NetFd;
use super::lookup::{Purpose, Resolved, resolve_with};
use super::sock::unix_sockaddr;
use crate::error::{Cause, Result, SyscallResult};
use crate::poll::{self, Direction, now_ns, sys};
use socket2::SockAddr;
use std::net::SocketAddr;

/// How long a send to an unconnected Unix datagram peer whose queue is full
/// waits before trying again. Linux reports such a socket writable (only a
/// connected peer's queue counts), so there is no readiness to wait for.
const FULL_PEER_RETRY_NS: i64 = 1_000_000;

/// The longest IPv4 header (IHL 15).
const MAX_IPV4_HEADER: usize = 60;

/// What Go's `IPConn.ReadFrom` returns of a raw datagram: an IPv4 packet
/// without its header (`stripIPv4Header`); anything else (IPv6, whose
/// header the kernel never passes up) whole. The datagram arrived split:
/// its first `head.len()` bytes in `head`, the rest in `buf`. This moves
/// what follows the header to the start of `buf`, as much as fits, and
/// returns the payload's real length (`size` is the datagram's, header
/// included), so that a buffer of the payload's size is enough.
fn strip_ipv4_header(head: &[u8], buf: &mut [u8], size: usize, from: &SockAddr) -> usize {
    let got = size.min(head.len() + buf.len());
    let in_head = got.min(head.len());
    let header = match head.first() {
        Some(&b) if from.is_ipv4() && b >> 4 == 4 => usize::from(b & 0x0f) << 2,
        _ => 0,
    };
    // Only a plausible header, all of it received, as Go checks.
    let header = if (20..=in_head).contains(&header) {
        header
    } else {
        0
    };
    // Payload bytes in head, then in buf; buf's move right to make room.
    let from_head = in_head - header;
    let in_buf = got - in_head;
    if from_head < buf.len() {
        let keep = in_buf.min(buf.len() - from_head);
        buf.copy_within(..keep, from_head);
    }
    let n = from_head.min(buf.len());
    buf[..n].copy_from_slice(&head[header..header + n]);
    size - header
}

/// One datagram taken from the socket.
pub(crate) struct Datagram {
    /// Its real length, more than the buffer's when it did not fit.
    pub(crate) size: usize,
    /// The sender, as Go prints it; empty for an unnamed Unix socket.
    pub(crate) from: Addr,
}

impl NetFd {
    /// Waits for one datagram and copies what fits of it into `buf`.
    /// `syscall` names the call in messages: `read` or `recvfrom`.
    pub(crate) fn recv_datagram(&self, syscall: &'static str, buf: &mut [u8]) -> Result<Datagram> {
        const OP: &str = "read";
        let _guard = self.lock_read();
        loop {
            self.check(OP, Direction::Read)?;
            match self.receive_once(buf) {
                Ok((size, from)) => {
                    return Ok(Datagram {
                        size,
                        from: to_net_addr(self.net, &from),
                    });
                }
                Err(libc::EAGAIN) => self.wait(OP, libc::POLLIN, Direction::Read)?,
                Err(libc::EINTR) => {}
                // A connected UDP socket learns of an ICMP port-unreachable
                // here (ECONNREFUSED), as Go reports it.
                Err(e) => return Err(self.error(OP, Cause::syscall(syscall, e))),
            }
        }
    }

    /// One `recvmsg` of one datagram, without waiting: its length (a raw
    /// IPv4 datagram's without its header, as Go gives it) and its sender,
    /// or the errno. `recv_datagram` and `try_recv_datagram` share it.
    pub(crate) fn receive_once(
        &self,
        buf: &mut [u8],
    ) -> std::result::Result<(usize, SockAddr), i32> {
        if self.net.is_ip() {
            let mut head = [0u8; MAX_IPV4_HEADER];
            sys::recv_datagram_split(self.raw(), &mut head, buf)
                .map(|(size, from)| (strip_ipv4_header(&head, buf, size, &from), from))
        } else {
            sys::recv_datagram(self.raw(), buf)
        }
    }

    /// The truncation rule: the length of a datagram that fit in a buffer
    /// of `cap` bytes, or `NET_EMSGSIZE` saying how long it really was.
    pub(crate) fn fit(&self, datagram: &Datagram, cap: usize) -> Result<usize> {
        if datagram.size > cap {
            return Err(self.error(
                "read",
                Cause::Truncated {
                    size: datagram.size,
                    cap,
                },
            ));
        }
        Ok(datagram.size)
    }

    /// Go's `Read` on a packet connection: one datagram, its sender
    /// dropped. 0 is an empty datagram, never end of stream.
    pub(crate) fn read_datagram(&self, buf: &mut [u8]) -> Result<usize> {
        let datagram = self.recv_datagram("read", buf)?;
        self.fit(&datagram, buf.len())
    }

    /// Go's `Write` on a packet connection: `buf` as one datagram to the
    /// connected peer.
    pub(crate) fn write_datagram(&self, buf: &[u8]) -> Result<usize> {
        self.send_datagram("write", buf, None)
    }

    /// Go's `WriteTo`: `buf` as one datagram to `dest`, an address in Go's
    /// syntax for this socket's network (names are resolved). Errors name
    /// the destination, as Go's do.
    pub(crate) fn write_to(&self, buf: &[u8], dest: &str) -> Result<usize> {
        const OP: &str = "write";
        if self.raddr.is_some() {
            return Err(self
                .error(
                    OP,
                    Cause::Invalid("use of WriteTo with pre-connected connection".to_owned()),
                )
                .with_addr(dest));
        }
        let (to, text) = self.destination(dest)?;
        self.send_datagram("sendto", buf, Some(&to))
            .map_err(|e| e.with_addr(text))
    }

    fn send_datagram(
        &self,
        syscall: &'static str,
        buf: &[u8],
        to: Option<&SockAddr>,
    ) -> Result<usize> {
        const OP: &str = "write";
        let _guard = self.lock_write();
        loop {
            self.check(OP, Direction::Write)?;
            if to.is_none() && self.raddr.is_none() {
                // What Linux says for UDP; a Unix socket would say ENOTCONN,
                // but one error for one mistake is kinder to callers.
                return Err(self.error(OP, Cause::syscall(syscall, libc::EDESTADDRREQ)));
            }
            match sys::send_datagram(self.raw(), buf, to) {
                Ok(_) => return Ok(buf.len()),
                Err(libc::EAGAIN) if to.is_some() && self.net == Network::Unixgram => {
                    self.pause_for_full_peer(OP)?
                }
                Err(libc::EAGAIN) => self.wait(OP, libc::POLLOUT, Direction::Write)?,
                Err(libc::EINTR) => {}
                Err(e) => return Err(self.error(OP, Cause::syscall(syscall, e))),
            }
        }
    }

    /// Sleeps `FULL_PEER_RETRY_NS` or until the deadline, a deadline change
    /// or close, whichever is first. Polling for no events waits on this
    /// thread's waker alone.
    fn pause_for_full_peer(&self, op: &'static str) -> Result<()> {
        let deadline = self
            .deadline(Direction::Write)
            .min(now_ns().saturating_add(FULL_PEER_RETRY_NS));
        poll::wait(self.raw(), 0, deadline, &self.waiters, || {
            self.check(op, Direction::Write).is_ok()
        })
        .syscall("poll")
        .map_err(|c| self.error(op, c))
    }

    /// Resolves a destination for `write_to`, and its text for messages.
    fn destination(&self, dest: &str) -> Result<(SockAddr, Addr)> {
        // Bounded by the write deadline: the lookup is part of the write.
        let lookup = default_lookup(self.net.name(), self.deadline(Direction::Write));
        self.destination_with(dest, &lookup)
    }

    /// As `destination`, with `lookup` turning a host name into addresses
    /// (`net_try_write_to` refuses names rather than wait on a resolver).
    pub(crate) fn destination_with(
        &self,
        dest: &str,
        lookup: &dyn Fn(&str) -> std::result::Result<Vec<std::net::IpAddr>, Cause>,
    ) -> Result<(SockAddr, Addr)> {
        let fail = |cause| self.error("write", cause);
        match resolve_with(self.net, dest, Purpose::Dial, lookup).map_err(fail)? {
            Resolved::Unix(path) => {
                let sa = unix_sockaddr(&path).map_err(fail)?;
                Ok((sa, Addr::Unix(path.into())))
            }
            Resolved::Inet(addrs) => {
                let addr = self.reachable(&addrs).map_err(fail)?;
                let text = if self.net.is_ip() {
                    Addr::Ip(addr)
                } else {
                    Addr::Inet(addr)
                };
                Ok((SockAddr::from(addr), text))
            }
            Resolved::Wildcard(_) => Err(fail(Cause::MissingAddress)),
        }
    }

    /// The first of `addrs` this socket can send to. An IPv4 socket takes
    /// IPv4 only, as Go's `ipToSockaddr` does. A dual-stack socket bound to
    /// every address prefers IPv4, as Go's resolver does for names,
    /// written as an IPv4-mapped address; an IPv6-only socket, or one bound
    /// to one IPv6 address, prefers IPv6.
    fn reachable(&self, addrs: &[SocketAddr]) -> std::result::Result<SocketAddr, Cause> {
        let first_v4 = addrs.iter().find(|a| a.is_ipv4());
        let first_v6 = addrs.iter().find(|a| a.is_ipv6());
        let mapped = |a: &SocketAddr| match a {
            SocketAddr::V4(v4) => SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port()),
            v6 => *v6,
        };
        let local = match self.laddr() {
            Some(Addr::Inet(SocketAddr::V6(a)) | Addr::Ip(SocketAddr::V6(a))) => a,
            _ => {
                return match (first_v4, first_v6) {
                    (Some(v4), _) => Ok(*v4),
                    (None, Some(v6)) => Err(Cause::addr("non-IPv4 address", &v6.ip().to_string())),
                    (None, None) => Err(Cause::MissingAddress),
                };
            }
        };
        let dual_stack = local.ip().is_unspecified() && !self.socket().only_v6().unwrap_or(false);
        let pick = if !dual_stack {
            first_v6.or(first_v4)
        } else {
            first_v4.or(first_v6)
        };
        pick.map(mapped).ok_or(Cause::MissingAddress)
    }
}
