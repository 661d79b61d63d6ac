//! The C ABI of descriptor passing and peer credentials on Unix sockets
//! (Go's `WriteMsgUnix`, `ReadMsgUnix`, `SO_PEERCRED`) and of vectored
//! writes (Go's `net.Buffers`).

use super::boundary::{as_count, call, check_len, lookup};
use crate::error::{Cause, NetError};
use crate::net::MAX_FDS;
use std::ffi::{c_int, c_void};

/// Go's `UnixConn.WriteMsgUnix` with `SCM_RIGHTS`: writes `len` bytes of
/// `buf` and passes the `nfds` descriptors of `fds` to the peer of Unix
/// handle `h` (stream or connected `unixgram`); the caller keeps its own.
/// On a stream every byte is written, or the call fails, and the
/// descriptors travel with the first; then `len` must be at least 1. A
/// datagram goes whole. Returns `len`. `NET_EINVAL` for more than 253
/// descriptors (the kernel's limit per message), for a handle that is not
/// Unix, and (`sendmsg: bad file descriptor`) for a descriptor that is not
/// open.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for reads of `len` bytes; `fds`
/// is NULL (with `nfds` 0) or valid for reads of `nfds` ints.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_write_msg_unix(
    h: i64,
    buf: *const c_void,
    len: usize,
    fds: *const c_int,
    nfds: usize,
) -> i64 {
    const OP: &str = "write";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        if fds.is_null() && nfds > 0 {
            return Err(NetError::invalid(OP, "fds is NULL"));
        }
        if nfds > MAX_FDS {
            return Err(NetError::invalid(
                OP,
                format!("{nfds} descriptors: at most {MAX_FDS} go in one message"),
            ));
        }
        let fd = lookup(OP, h)?;
        let buf: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: non-NULL, len <= isize::MAX, and the caller promises
            // len readable bytes.
            unsafe { std::slice::from_raw_parts(buf.cast(), len) }
        };
        let fds: &[c_int] = if nfds == 0 {
            &[]
        } else {
            // SAFETY: non-NULL, nfds <= 253, and the caller promises nfds
            // readable ints.
            unsafe { std::slice::from_raw_parts(fds, nfds) }
        };
        fd.write_msg_unix(buf, fds).map(as_count)
    })
}

/// Go's `UnixConn.ReadMsgUnix` with `SCM_RIGHTS`: reads into `buf` as
/// `net_read` does (at least 1 byte, 0 at end of stream; one datagram)
/// and stores the descriptors that came with the data, close-on-exec and
/// now the caller's, in `fds`, their count in `*nfds`. Returns the bytes
/// read. Descriptors beyond `fds_cap` are closed by gonet, and the call
/// then fails with `NET_EMSGSIZE` (`... 3 descriptors received did not
/// fit in room for 1, and were closed`); those that fit are still in
/// `fds` and counted in `*nfds`, and the data read in `buf`: close them.
/// Likewise when the kernel had to drop descriptors (MSG_CTRUNC). A
/// datagram longer than `len` fails with `NET_EMSGSIZE` as `net_read`
/// does, its descriptors delivered all the same.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for writes of `len` bytes; `fds`
/// is NULL (with `fds_cap` 0) or valid for writes of `fds_cap` ints;
/// `nfds` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_read_msg_unix(
    h: i64,
    buf: *mut c_void,
    len: usize,
    fds: *mut c_int,
    fds_cap: usize,
    nfds: *mut usize,
) -> i64 {
    const OP: &str = "read";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        if !nfds.is_null() {
            // SAFETY: the caller promises nfds is valid for a write.
            unsafe { *nfds = 0 };
        }
        if fds.is_null() && fds_cap > 0 {
            return Err(NetError::invalid(OP, "fds is NULL"));
        }
        if fds_cap > isize::MAX as usize / 4 {
            return Err(NetError::invalid(
                OP,
                format!("fds_cap {fds_cap} is too large"),
            ));
        }
        let fd = lookup(OP, h)?;
        let buf: &mut [u8] = if len == 0 {
            &mut []
        } else {
            // SAFETY: non-NULL, len <= isize::MAX, and the caller promises
            // len writable bytes.
            unsafe { std::slice::from_raw_parts_mut(buf.cast(), len) }
        };
        let room: &mut [c_int] = if fds_cap == 0 {
            &mut []
        } else {
            // SAFETY: non-NULL, and the caller promises fds_cap writable
            // ints (checked not to overflow above).
            unsafe { std::slice::from_raw_parts_mut(fds, fds_cap) }
        };
        let got = fd.read_msg_unix(buf, room)?;
        if !nfds.is_null() {
            // SAFETY: as above.
            unsafe { *nfds = got.nfds };
        }
        if got.closed > 0 {
            let cause = Cause::FdsClosed {
                received: got.nfds + got.closed,
                room: fds_cap,
            };
            return Err(fd.error(OP, cause));
        }
        if got.ctrunc {
            return Err(fd.error(OP, Cause::ControlTruncated));
        }
        if got.n > len && fd.net.is_packet() {
            return Err(fd.error(
                OP,
                Cause::Truncated {
                    size: got.n,
                    cap: len,
                },
            ));
        }
        Ok(as_count(got.n))
    })
}

/// The credentials of the process at the other end of Unix handle `h`
/// (`SO_PEERCRED`), as they were when the connection was made: its
/// process, user and group ids into `*pid`, `*uid`, `*gid` (each may be
/// NULL). A server can decide by them who may talk to it. Returns 0, or
/// `NET_EINVAL` for a handle that is not Unix.
///
/// # Safety
/// `pid`, `uid` and `gid` are each NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_unix_peer_cred(
    h: i64,
    pid: *mut i64,
    uid: *mut i64,
    gid: *mut i64,
) -> i64 {
    const OP: &str = "peer_cred";
    call(OP, || {
        let fd = lookup(OP, h)?;
        let cred = fd.peer_cred()?;
        for (out, value) in [
            (pid, i64::from(cred.pid)),
            (uid, i64::from(cred.uid)),
            (gid, i64::from(cred.gid)),
        ] {
            if !out.is_null() {
                // SAFETY: the caller promises each non-NULL pointer is
                // valid for a write.
                unsafe { *out = value };
            }
        }
        Ok(0)
    })
}

/// Go's `net.Buffers.WriteTo`: writes the `iovcnt` buffers of `iov` in
/// order, every byte or an error, never interleaved with another thread's
/// write, with `sendmsg` (one call when the kernel takes it all). Returns
/// the total length. On a connected packet handle they go as one
/// datagram. `NET_EINVAL` for a negative `iovcnt`, a NULL `iov` with
/// `iovcnt` > 0, a NULL base with a non-zero length, or lengths that add
/// up to more than `SSIZE_MAX`.
///
/// # Safety
/// `iov` is NULL (with `iovcnt` 0) or valid for reads of `iovcnt`
/// `struct iovec`s, each of whose bases is valid for reads of its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_writev(h: i64, iov: *const libc::iovec, iovcnt: c_int) -> i64 {
    const OP: &str = "write";
    call(OP, || {
        if iovcnt < 0 {
            return Err(NetError::invalid(
                OP,
                format!("iovcnt {iovcnt} is negative"),
            ));
        }
        if iov.is_null() && iovcnt > 0 {
            return Err(NetError::invalid(OP, "iov is NULL"));
        }
        let iovs: &[libc::iovec] = if iovcnt == 0 {
            &[]
        } else {
            // SAFETY: non-NULL, and the caller promises iovcnt iovecs.
            unsafe { std::slice::from_raw_parts(iov, iovcnt as usize) }
        };
        let mut total: usize = 0;
        let mut bufs = Vec::with_capacity(iovs.len());
        for v in iovs {
            check_len(OP, v.iov_base.is_null(), v.iov_len)?;
            total = total
                .checked_add(v.iov_len)
                .filter(|t| *t <= isize::MAX as usize)
                .ok_or_else(|| NetError::invalid(OP, "the lengths add up to too much"))?;
            if v.iov_len > 0 {
                // SAFETY: non-NULL, and the caller promises iov_len
                // readable bytes.
                bufs.push(unsafe {
                    std::slice::from_raw_parts(v.iov_base.cast::<u8>(), v.iov_len)
                });
            }
        }
        let fd = lookup(OP, h)?;
        fd.writev(&bufs).map(as_count)
    })
}
