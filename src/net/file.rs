//! Descriptors in and out (Go's `FileConn`, `FileListener`,
//! `FilePacketConn` and `File`): a socket made elsewhere (by systemd, by
//! inetd, by another process that passed it) becomes a gonet handle, and
//! a handle's socket can be handed on. Either way the descriptor is
//! duplicated, so each side closes its own.

use super::addr::{Network, to_addr};
use super::fd::{NetFd, Role};
use super::sock::apply_tcp_defaults;
use crate::error::{Cause, NetError, Result, SyscallResult};
use socket2::Socket;
use std::os::fd::{FromRawFd, RawFd};

/// What the caller asked the descriptor to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `FileConn`: a connected stream socket, or a datagram socket.
    Conn,
    /// `FileListener`: a listening stream socket.
    Listener,
    /// `FilePacketConn`: a datagram socket.
    Packet,
}

/// A close-on-exec duplicate of `fd` (Go's `poll.DupCloseOnExec`).
pub fn dup_cloexec(fd: RawFd) -> std::result::Result<RawFd, Cause> {
    // SAFETY: fcntl with F_DUPFD_CLOEXEC reads no memory; a bad descriptor
    // is reported as EBADF.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new < 0 {
        return Err(Cause::syscall("fcntl", crate::poll::errno()));
    }
    Ok(new)
}

fn int_option(sock: &Socket, name: libc::c_int) -> std::result::Result<libc::c_int, Cause> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len are live and sized for an int option; the
    // descriptor is owned by `sock`.
    let rc = unsafe {
        libc::getsockopt(
            std::os::fd::AsRawFd::as_raw_fd(sock),
            libc::SOL_SOCKET,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(Cause::syscall("getsockopt", crate::poll::errno()));
    }
    Ok(value)
}

/// Makes a handle's descriptor from `fd`, a socket of `kind`, as Go's
/// `newFileFD` does: duplicated (close-on-exec), its network found from
/// the socket itself (SO_TYPE, SO_DOMAIN, SO_ACCEPTCONN). Errors are Go's:
/// `file file+net fd 5: getsockopt: socket operation on non-socket` for
/// something that is not a socket, `... invalid argument` for a socket of
/// another kind.
pub fn from_fd(fd: RawFd, kind: FileKind) -> Result<NetFd> {
    let fail = |cause| NetError::new("file", "file+net", cause).with_addr(format!("fd {fd}"));
    let dup = dup_cloexec(fd).map_err(fail)?;
    // SAFETY: dup was just made and nothing else owns it; the Socket
    // closes it on every path below that fails.
    let sock = unsafe { Socket::from_raw_fd(dup) };
    let sotype = int_option(&sock, libc::SO_TYPE).map_err(fail)?;
    let domain = int_option(&sock, libc::SO_DOMAIN).map_err(fail)?;
    let listening = int_option(&sock, libc::SO_ACCEPTCONN).map_err(fail)? != 0;
    let net = match (domain, sotype) {
        (libc::AF_INET | libc::AF_INET6, libc::SOCK_STREAM) => Network::Tcp,
        (libc::AF_INET | libc::AF_INET6, libc::SOCK_DGRAM) => Network::Udp,
        (libc::AF_UNIX, libc::SOCK_STREAM) => Network::Unix,
        (libc::AF_UNIX, libc::SOCK_DGRAM) => Network::Unixgram,
        // Sequenced packets, raw sockets, other families: gonet speaks none.
        _ => return Err(fail(Cause::Errno(libc::EPROTONOSUPPORT))),
    };
    let role = match (kind, net.is_packet(), listening) {
        (FileKind::Conn, false, false) => Role::Conn,
        (FileKind::Conn | FileKind::Packet, true, _) => Role::Packet,
        (FileKind::Listener, false, true) => Role::Listener,
        _ => return Err(fail(Cause::Errno(libc::EINVAL))),
    };
    // gonet's modes (see `sock.rs`): streams block, listeners and
    // datagram sockets do not. The mode belongs to the open file the
    // descriptors share, so the caller's descriptor changes too, as Go's
    // `FileConn` makes the caller's non-blocking.
    sock.set_nonblocking(role != Role::Conn)
        .syscall("setnonblock")
        .map_err(fail)?;
    if net == Network::Tcp {
        // Go's defaults; a listener passes them to what it accepts (see
        // `listen.rs`).
        apply_tcp_defaults(&sock);
    }
    let raddr = match role {
        Role::Listener => None,
        _ => sock.peer_addr().ok().map(|a| to_addr(&a)),
    };
    let fd = NetFd::new(sock, net, role, None, raddr);
    // The caller keeps its own descriptor: closing ours must not end the
    // socket for it.
    fd.mark_shared();
    Ok(fd)
}

impl NetFd {
    /// Go's `File`: a close-on-exec duplicate of the descriptor, which the
    /// caller owns. Taken under the control lock, so a concurrent close
    /// cannot pull the descriptor away mid-way.
    pub fn file(&self) -> Result<RawFd> {
        const OP: &str = "file";
        let mut dup = Err(Cause::Closed);
        self.control(OP, |raw| dup = dup_cloexec(raw))?;
        if dup.is_ok() {
            self.mark_shared();
        }
        dup.map_err(|c| self.error(OP, c))
    }
}
