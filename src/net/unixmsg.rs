//! Go's `WriteMsgUnix` and `ReadMsgUnix` with `SCM_RIGHTS`: data and
//! descriptors together on a Unix socket, stream or datagram; and
//! `SO_PEERCRED`, who is at the other end.
//!
//! No received descriptor ever leaks: all arrive close-on-exec
//! (MSG_CMSG_CLOEXEC), the control buffer always has room for the most one
//! message can carry (253, the kernel's SCM_MAX_FD), and those beyond the
//! caller's room are closed here; the call then fails and says so.

use super::addr::Network;
use super::fd::{NetFd, Role};
use crate::error::{Cause, Result};
use crate::poll::{Direction, errno};
use std::os::fd::RawFd;

/// The most descriptors one message carries (Linux's SCM_MAX_FD).
pub const MAX_FDS: usize = 253;

/// Control space for `MAX_FDS` descriptors and one set of credentials,
/// in u64s so that it is aligned for `cmsghdr`.
const CONTROL_WORDS: usize = 160;

fn cmsg_space(bytes: usize) -> usize {
    // SAFETY: CMSG_SPACE only computes a size.
    unsafe { libc::CMSG_SPACE(bytes as u32) as usize }
}

/// What `read_msg_unix` took from the socket.
pub struct UnixMsg {
    /// The bytes read: for a datagram, its real length, more than the
    /// buffer's when it was cut off.
    pub n: usize,
    /// How many descriptors were stored for the caller.
    pub nfds: usize,
    /// How many more arrived and were closed for want of room.
    pub closed: usize,
    /// The kernel cut the control data short (descriptors were lost).
    pub ctrunc: bool,
}

impl NetFd {
    fn check_unix(&self, op: &'static str) -> Result<()> {
        if !self.net.is_unix() || self.role == Role::Listener {
            return Err(self.error(
                op,
                Cause::Invalid("not a Unix connection or packet socket".to_owned()),
            ));
        }
        Ok(())
    }

    /// Go's `WriteMsgUnix` to the connected peer: `buf` and the
    /// descriptors `fds` (duplicated into the receiver by the kernel). On
    /// a stream, every byte is written (the descriptors go with the
    /// first); a datagram goes whole or not at all.
    pub fn write_msg_unix(&self, buf: &[u8], fds: &[RawFd]) -> Result<usize> {
        const OP: &str = "write";
        self.check_unix(OP)?;
        if fds.len() > MAX_FDS {
            return Err(self.error(
                OP,
                Cause::Invalid(format!(
                    "{} descriptors: at most {MAX_FDS} go in one message",
                    fds.len()
                )),
            ));
        }
        let stream = self.net == Network::Unix;
        if stream && buf.is_empty() && !fds.is_empty() {
            return Err(self.error(
                OP,
                Cause::Invalid(
                    "descriptors on a stream need at least one byte with them".to_owned(),
                ),
            ));
        }
        let _guard = self.lock_write();
        let mut control = [0u64; CONTROL_WORDS];
        let mut done = 0;
        let mut first = true;
        loop {
            self.check(OP, Direction::Write)?;
            if self.net == Network::Unixgram && self.raddr.is_none() {
                return Err(self.error(OP, Cause::syscall("sendmsg", libc::EDESTADDRREQ)));
            }
            if !first && done == buf.len() {
                return Ok(done);
            }
            let rest = &buf[done..];
            let mut iov = libc::iovec {
                iov_base: rest.as_ptr().cast_mut().cast(),
                iov_len: rest.len(),
            };
            // SAFETY: an all-zero msghdr is valid (no name, no control).
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            if first && !fds.is_empty() {
                let bytes = std::mem::size_of_val(fds);
                msg.msg_control = control.as_mut_ptr().cast();
                msg.msg_controllen = cmsg_space(bytes);
                // SAFETY: the control buffer is aligned and has room for
                // one header and MAX_FDS descriptors (CONTROL_WORDS), and
                // fds has fds.len() <= MAX_FDS entries to copy.
                unsafe {
                    let cmsg = libc::CMSG_FIRSTHDR(&msg);
                    (*cmsg).cmsg_level = libc::SOL_SOCKET;
                    (*cmsg).cmsg_type = libc::SCM_RIGHTS;
                    (*cmsg).cmsg_len = libc::CMSG_LEN(bytes as u32) as usize;
                    std::ptr::copy_nonoverlapping(
                        fds.as_ptr().cast::<u8>(),
                        libc::CMSG_DATA(cmsg),
                        bytes,
                    );
                }
            }
            // SAFETY: msg points at live buffers of the lengths it gives.
            let n =
                unsafe { libc::sendmsg(self.raw(), &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
            if n >= 0 {
                first = false;
                done += n as usize;
                if !stream {
                    return Ok(buf.len());
                }
                continue;
            }
            match errno() {
                libc::EAGAIN => self.wait(OP, libc::POLLOUT, Direction::Write)?,
                libc::EINTR => {}
                e => return Err(self.error(OP, Cause::syscall("sendmsg", e))),
            }
        }
    }

    /// Go's `ReadMsgUnix`: reads into `buf` (at least one byte, 0 at end
    /// of a stream; one datagram) and stores up to `fds.len()` received
    /// descriptors, close-on-exec, in `fds`. The rest are closed.
    pub fn read_msg_unix(&self, buf: &mut [u8], fds: &mut [RawFd]) -> Result<UnixMsg> {
        const OP: &str = "read";
        self.check_unix(OP)?;
        let _guard = self.lock_read();
        let mut control = [0u64; CONTROL_WORDS];
        loop {
            self.check(OP, Direction::Read)?;
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            // SAFETY: an all-zero msghdr is valid (no name, no control).
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = std::mem::size_of_val(&control);
            let mut flags = libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC;
            if self.net == Network::Unixgram {
                flags |= libc::MSG_TRUNC;
            }
            // SAFETY: msg points at live buffers of the lengths it gives.
            let n = unsafe { libc::recvmsg(self.raw(), &mut msg, flags) };
            if n < 0 {
                match errno() {
                    libc::EAGAIN => self.wait(OP, libc::POLLIN, Direction::Read)?,
                    libc::EINTR => {}
                    e => return Err(self.error(OP, Cause::syscall("recvmsg", e))),
                }
                continue;
            }
            let mut out = UnixMsg {
                n: n as usize,
                nfds: 0,
                closed: 0,
                ctrunc: msg.msg_flags & libc::MSG_CTRUNC != 0,
            };
            // SAFETY: the kernel filled msg_controllen bytes of control
            // with well-formed headers; CMSG_NXTHDR stays within them.
            unsafe {
                let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
                while !cmsg.is_null() {
                    if (*cmsg).cmsg_level == libc::SOL_SOCKET
                        && (*cmsg).cmsg_type == libc::SCM_RIGHTS
                    {
                        let data = libc::CMSG_DATA(cmsg);
                        let bytes = (*cmsg).cmsg_len - (data as usize - cmsg as usize);
                        let count = bytes / std::mem::size_of::<RawFd>();
                        for i in 0..count {
                            let fd = std::ptr::read_unaligned(data.cast::<RawFd>().add(i));
                            if out.nfds < fds.len() {
                                fds[out.nfds] = fd;
                                out.nfds += 1;
                            } else {
                                libc::close(fd);
                                out.closed += 1;
                            }
                        }
                    }
                    cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
                }
            }
            return Ok(out);
        }
    }

    /// `SO_PEERCRED`: the process, user and group at the other end, as
    /// they were when the connection was made.
    pub fn peer_cred(&self) -> Result<libc::ucred> {
        const OP: &str = "peer_cred";
        self.check_unix(OP)?;
        if self.is_closed() {
            return Err(self.error(OP, Cause::Closed));
        }
        let mut cred = libc::ucred {
            pid: 0,
            uid: 0,
            gid: 0,
        };
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: cred and len are live and sized for SO_PEERCRED.
        let rc = unsafe {
            libc::getsockopt(
                self.raw(),
                libc::SOL_SOCKET,
                libc::SO_PEERCRED,
                (&mut cred as *mut libc::ucred).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(self.error(OP, Cause::syscall("getsockopt", errno())));
        }
        Ok(cred)
    }

    /// Go's `net.Buffers.WriteTo`: every byte of `bufs`, in order, never
    /// interleaved with another thread's write, with `sendmsg` (one call
    /// when the kernel takes it all). On a packet socket, one datagram.
    pub fn writev(&self, bufs: &[&[u8]]) -> Result<usize> {
        const OP: &str = "write";
        if self.role == Role::Listener {
            return Err(self.error(
                OP,
                Cause::Invalid("a listener, not a connection".to_owned()),
            ));
        }
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let _guard = self.lock_write();
        let mut iovs: Vec<libc::iovec> = bufs
            .iter()
            .filter(|b| !b.is_empty())
            .map(|b| libc::iovec {
                iov_base: b.as_ptr().cast_mut().cast(),
                iov_len: b.len(),
            })
            .collect();
        let mut start = 0;
        let mut done = 0;
        loop {
            self.check(OP, Direction::Write)?;
            if self.role == Role::Packet && self.raddr.is_none() {
                return Err(self.error(OP, Cause::syscall("sendmsg", libc::EDESTADDRREQ)));
            }
            // A stream has nothing to send for no bytes; a packet socket
            // sends an empty datagram.
            if self.role == Role::Conn && done == total {
                return Ok(done);
            }
            let chunk = &mut iovs[start..];
            // SAFETY: an all-zero msghdr is valid (no name, no control).
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = chunk.as_mut_ptr();
            // A stream takes the rest in later calls; a datagram must be
            // one call, and the kernel refuses more than IOV_MAX pieces.
            msg.msg_iovlen = if self.role == Role::Packet {
                chunk.len()
            } else {
                chunk.len().min(1024)
            };
            // SAFETY: msg points at msg_iovlen live iovecs over the
            // caller's buffers.
            let n =
                unsafe { libc::sendmsg(self.raw(), &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
            if n < 0 {
                match errno() {
                    libc::EAGAIN => self.wait(OP, libc::POLLOUT, Direction::Write)?,
                    libc::EINTR => {}
                    e => return Err(self.error(OP, Cause::syscall("sendmsg", e))),
                }
                continue;
            }
            if self.role == Role::Packet {
                return Ok(total);
            }
            // Skips what was sent: whole pieces, then part of one.
            let mut sent = n as usize;
            done += sent;
            while start < iovs.len() && sent >= iovs[start].iov_len {
                sent -= iovs[start].iov_len;
                start += 1;
            }
            if sent > 0 {
                let iov = &mut iovs[start];
                // SAFETY: sent < iov_len, so the new base is inside the
                // same buffer.
                iov.iov_base = unsafe { iov.iov_base.cast::<u8>().add(sent).cast() };
                iov.iov_len -= sent;
            }
        }
    }
}
