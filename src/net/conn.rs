//! What a read or a write is on each kind of descriptor: Go's `conn.Read`
//! and `conn.Write` over a stream (`fd.rs`) or one datagram (`packet.rs`).

use super::fd::{NetFd, Role};
use crate::error::Result;
use crate::poll::Caller;

/// Reads at most `buf.len()` bytes: at least one, or 0 at end of stream.
/// On a packet socket, one datagram (see `NetFd::read_datagram`).
/// `caller` is the calling thread.
#[inline]
pub fn read(fd: &NetFd, buf: &mut [u8], caller: Caller) -> Result<usize> {
    match fd.role {
        Role::Packet => fd.read_datagram(buf),
        _ => fd.read_as(buf, caller),
    }
}

/// Writes all of `buf` or fails; concurrent writers never interleave. On a
/// packet socket, `buf` is one datagram (see `NetFd::write_datagram`).
/// `caller` is the calling thread.
#[inline]
pub fn write(fd: &NetFd, buf: &[u8], caller: Caller) -> Result<usize> {
    match fd.role {
        Role::Packet => fd.write_datagram(buf),
        _ => fd.write_as(buf, caller),
    }
}
