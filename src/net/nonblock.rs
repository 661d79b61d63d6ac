//! Non-blocking reads, writes and accepts, for event loops (`asyncio`,
//! `epoll`) that wait on the descriptor themselves (`net_fd`) and call in
//! only when it is ready. Each call makes one attempt: it does what can be
//! done now, or fails with `Cause::WouldBlock` (`NET_EAGAIN`) and leaves
//! the waiting to the caller. Close and deadlines are checked first, as
//! Go's `prepareRead`/`prepareWrite` do for the blocking calls, so an
//! expired deadline fails the call even when data is ready.
//!
//! Locks: a single `recv` or datagram `send` is whole by itself, so reads
//! and datagram writes take no lock. A stream write that goes in pieces
//! takes the write lock for its one attempt, and fails with `WouldBlock`
//! rather than wait when a blocking `net_write` on another thread holds it
//! (between two attempts another writer may get in: callers that need a
//! message kept whole serialise their own writers). Accept makes the
//! listener non-blocking for its one `accept4`, so that a connection taken
//! by another thread first never leaves it waiting.

use super::addr::{Addr, to_net_addr};
use super::fd::{NetFd, Role};
use super::packet::Datagram;
use crate::error::{Cause, Result, SyscallResult};
use crate::poll::{Direction, sys};

impl NetFd {
    /// One attempt at `conn::read`: the bytes there are now (at least one,
    /// or 0 at end of stream or for an empty datagram), or `WouldBlock`.
    pub fn try_read(&self, buf: &mut [u8]) -> Result<usize> {
        const OP: &str = "read";
        self.check(OP, Direction::Read)?;
        if self.role == Role::Packet {
            let datagram = self.try_recv_datagram("read", buf)?;
            return self.fit(&datagram, buf.len());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match sys::recv(self.raw(), buf) {
                Ok(n) => return Ok(n),
                Err(libc::EAGAIN) => return Err(self.error(OP, Cause::WouldBlock(OP))),
                Err(libc::EINTR) => {}
                Err(e) => return Err(self.error(OP, Cause::syscall(OP, e))),
            }
        }
    }

    /// One attempt at a write: on a stream, as much of `buf` as the send
    /// buffer takes now (at least one byte, 0 only for an empty `buf`); on
    /// a packet handle, `buf` as one whole datagram. `WouldBlock` when none
    /// of it could go.
    pub fn try_write(&self, buf: &[u8]) -> Result<usize> {
        const OP: &str = "write";
        if self.role == Role::Packet {
            self.check(OP, Direction::Write)?;
            return self.try_send_datagram("write", buf, None);
        }
        let _guard = match self.try_lock_write() {
            Some(guard) => guard,
            None => {
                self.check(OP, Direction::Write)?;
                return Err(self.error(OP, Cause::WouldBlock(OP)));
            }
        };
        self.check(OP, Direction::Write)?;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match sys::send(self.raw(), buf) {
                Ok(n) => return Ok(n),
                Err(libc::EAGAIN) => return Err(self.error(OP, Cause::WouldBlock(OP))),
                Err(libc::EINTR) => {}
                Err(e) => return Err(self.error(OP, Cause::syscall(OP, e))),
            }
        }
    }

    /// One attempt at `accept`: a connection waiting now, or `WouldBlock`.
    pub fn try_accept(&self) -> Result<NetFd> {
        const OP: &str = "accept";
        self.check(OP, Direction::Read)?;
        // A listener asked to accept without waiting stays non-blocking
        // (its blocking accepts then poll: see `NetFd::accept`).
        self.make_accepts_nonblocking()
            .syscall("fcntl")
            .map_err(|c| self.error(OP, c))?;
        let result = loop {
            match sys::accept(self.raw()) {
                // A connection that died in the queue: try the next one.
                Err(libc::EINTR | libc::ECONNABORTED) => {}
                other => break other,
            }
        };
        match result {
            Ok((fd, peer)) => Ok(self.accepted(fd, &peer)),
            Err(libc::EAGAIN) => Err(self.error(OP, Cause::WouldBlock(OP))),
            Err(e) => Err(self.error(OP, Cause::syscall(OP, e))),
        }
    }

    /// One attempt at taking a datagram; `syscall` names the call in
    /// messages (`read` or `recvfrom`). Checks close and the deadline.
    pub(crate) fn try_recv_datagram(
        &self,
        syscall: &'static str,
        buf: &mut [u8],
    ) -> Result<Datagram> {
        const OP: &str = "read";
        self.check(OP, Direction::Read)?;
        loop {
            match self.receive_once(buf) {
                Ok((size, from)) => {
                    return Ok(Datagram {
                        size,
                        from: to_net_addr(self.net, &from),
                    });
                }
                Err(libc::EAGAIN) => return Err(self.error(OP, Cause::WouldBlock(syscall))),
                Err(libc::EINTR) => {}
                Err(e) => return Err(self.error(OP, Cause::syscall(syscall, e))),
            }
        }
    }

    /// One attempt at Go's `WriteTo`. `dest` needs no name lookup (an IP
    /// address, a Unix path or name): a host name is refused rather than
    /// waited on, which an event loop cannot afford.
    pub fn try_write_to(&self, buf: &[u8], dest: &str) -> Result<usize> {
        const OP: &str = "write";
        self.check(OP, Direction::Write)?;
        if self.raddr.is_some() {
            return Err(self
                .error(
                    OP,
                    Cause::Invalid("use of WriteTo with pre-connected connection".to_owned()),
                )
                .with_addr(dest));
        }
        let refuse = |host: &str| {
            Err(Cause::Invalid(format!(
                "host name {host:?} would need a lookup: give an IP address, or use net_write_to"
            )))
        };
        let (to, text): (_, Addr) = self.destination_with(dest, &refuse)?;
        self.try_send_datagram("sendto", buf, Some(&to))
            .map_err(|e| e.with_addr(text))
    }

    fn try_send_datagram(
        &self,
        syscall: &'static str,
        buf: &[u8],
        to: Option<&socket2::SockAddr>,
    ) -> Result<usize> {
        const OP: &str = "write";
        if to.is_none() && self.raddr.is_none() {
            return Err(self.error(OP, Cause::syscall(syscall, libc::EDESTADDRREQ)));
        }
        loop {
            match sys::send_datagram(self.raw(), buf, to) {
                Ok(_) => return Ok(buf.len()),
                Err(libc::EAGAIN) => return Err(self.error(OP, Cause::WouldBlock(syscall))),
                Err(libc::EINTR) => {}
                Err(e) => return Err(self.error(OP, Cause::syscall(syscall, e))),
            }
        }
    }
}
