//! Moving bytes without bringing them into user space: `net_copy` relays
//! one connection into another with `splice(2)` through a pipe, as Go's
//! `io.Copy` between TCP connections does, and `net_sendfile` sends part
//! of a file with `sendfile(2)`, as Go's `TCPConn.ReadFrom(*os.File)` does.
//!
//! Neither system call has a per-call "do not block" flag for a socket
//! (`SPLICE_F_NONBLOCK` only covers the pipe), and gonet's connections are
//! blocking sockets. So for the length of the call the sockets are put in
//! non-blocking mode (`NetFd::begin_nonblocking`), and a call that would
//! block waits in `NetFd::wait`, where `close` and deadline changes from
//! other threads reach it, exactly as `net_write` does.

use super::fd::NetFd;
use crate::error::{Cause, NetError, Result, os_errno};
use crate::poll::{Direction, SigpipeHeldOff, errno, sys};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// How `copy` moves the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `splice` through a pipe where both ends are stream sockets, the
    /// read/write loop otherwise.
    Auto,
    /// Always the read/write loop (for tests and comparisons).
    Loop,
}

/// What one `splice` or `sendfile` moves at most, as Go's
/// `maxSpliceSize`/`maxSendfileSize` bound theirs; also the pipe's size.
const CHUNK: usize = 1 << 20;

/// The buffer of the read/write loop.
const LOOP_BUF: usize = 64 * 1024;

/// The failure of a copy is reported as Go reports it from `io.Copy`
/// between connections: by the TCP destination's `ReadFrom`
/// (`readfrom tcp ...`), or, when only the source is TCP, by its
/// `WriteTo` (`writeto tcp ...`).
struct Reporter<'a> {
    fd: &'a NetFd,
    op: &'static str,
}

impl Reporter<'_> {
    fn for_copy<'a>(dst: &'a NetFd, src: &'a NetFd) -> Reporter<'a> {
        if dst.net.is_unix() && !src.net.is_unix() {
            Reporter {
                fd: src,
                op: "writeto",
            }
        } else {
            Reporter {
                fd: dst,
                op: "readfrom",
            }
        }
    }

    /// Restates a failure of one end (`read tcp ...: i/o timeout`) as the
    /// copy's (`readfrom tcp ...: i/o timeout`).
    fn restate(&self, e: NetError) -> NetError {
        self.fd.error(self.op, e.cause.clone())
    }

    fn syscall(&self, syscall: &'static str, errno: i32) -> NetError {
        self.fd.error(self.op, Cause::syscall(syscall, errno))
    }
}

/// The limit a C caller passes: negative means none.
fn limit_of(max_bytes: i64) -> u64 {
    u64::try_from(max_bytes).unwrap_or(u64::MAX)
}

/// Copies from `src` to `dst` until end of stream on `src` or `max_bytes`
/// (negative: no limit) and returns the count. Holds `src`'s read lock and
/// `dst`'s write lock throughout, so the copy does not interleave with
/// other readers of `src` or writers to `dst`.
pub fn copy(dst: &NetFd, src: &NetFd, max_bytes: i64, strategy: Strategy) -> Result<u64> {
    let rep = Reporter::for_copy(dst, src);
    let limit = limit_of(max_bytes);
    let _read = src.lock_read();
    let _write = dst.lock_write();
    // Closed and expired ends fail before anything moves, even with a
    // limit of 0, as a read or write would.
    check_ends(dst, src, &rep)?;
    if strategy == Strategy::Auto {
        // Only stream connections get here (`net_copy` and
        // `net_sendfile` refuse packet handles), and splice takes them
        // all; the loop is for when no pipe can be had.
        if let Some(mut pipe) = Pipe::new() {
            let _no_sigpipe = SigpipeHeldOff::new();
            return NonBlocking::both(dst, src)
                .map_err(|e| rep.syscall("fcntl", os_errno(&e)))
                .and_then(|_guard| relay(dst, src, limit, &mut pipe, &rep));
        }
    }
    relay(dst, src, limit, &mut Buffer(vec![0; LOOP_BUF]), &rep)
}

/// Either end closed, or past its deadline (the source's for reading, the
/// destination's for writing), fails the copy.
fn check_ends(dst: &NetFd, src: &NetFd, rep: &Reporter) -> Result<()> {
    src.check("read", Direction::Read)
        .map_err(|e| rep.restate(e))?;
    dst.check("write", Direction::Write)
        .map_err(|e| rep.restate(e))
}

/// Waits until `src` is readable, woken by either end closing.
fn wait_readable(dst: &NetFd, src: &NetFd, rep: &Reporter) -> Result<()> {
    src.wait_also("read", libc::POLLIN, Direction::Read, dst)
        .map_err(|e| rep.restate(e))
}

/// Waits until `dst` is writable, woken by either end closing.
fn wait_writable(dst: &NetFd, src: &NetFd, rep: &Reporter) -> Result<()> {
    dst.wait_also("write", libc::POLLOUT, Direction::Write, src)
        .map_err(|e| rep.restate(e))
}

/// Where a copy holds the bytes between taking them from `src` and handing
/// them to `dst`: a buffer (the read/write loop) or a pipe (splice). Both
/// fill and drain the same way; only the system calls differ.
trait Stage {
    /// The system call that fills the stage, and the one that drains it,
    /// as failures name them.
    const FILL: &'static str;
    const DRAIN: &'static str;
    /// The most one fill takes.
    fn capacity(&self) -> usize;
    /// Takes up to `want` bytes from `src`; 0 at end of stream.
    fn fill(&mut self, src: RawFd, want: usize) -> std::result::Result<usize, i32>;
    /// Hands on the bytes `from..to` of what the last fill took.
    fn drain(&mut self, dst: RawFd, from: usize, to: usize) -> std::result::Result<usize, i32>;
}

/// The read/write loop's stage: for ends that cannot splice, and when no
/// pipe can be had (out of descriptors).
struct Buffer(Vec<u8>);

impl Stage for Buffer {
    const FILL: &'static str = "read";
    const DRAIN: &'static str = "write";

    fn capacity(&self) -> usize {
        self.0.len()
    }

    // Not a blocking recv: a copy must also wake when `dst` closes, which
    // only the polling wait can see.
    fn fill(&mut self, src: RawFd, want: usize) -> std::result::Result<usize, i32> {
        sys::recv(src, &mut self.0[..want])
    }

    fn drain(&mut self, dst: RawFd, from: usize, to: usize) -> std::result::Result<usize, i32> {
        sys::send(dst, &self.0[from..to])
    }
}

/// Go's copy loops: fill the stage from `src`, drain it into `dst`, until
/// end of stream or `limit`. A count is returned only for bytes that
/// reached `dst`.
fn relay<S: Stage>(
    dst: &NetFd,
    src: &NetFd,
    limit: u64,
    stage: &mut S,
    rep: &Reporter,
) -> Result<u64> {
    let mut total: u64 = 0;
    while total < limit {
        let cap = stage.capacity();
        let want = usize::try_from(limit - total).map_or(cap, |n| n.min(cap));
        check_ends(dst, src, rep)?;
        let taken = match stage.fill(src.raw(), want) {
            Ok(0) => break,
            Ok(n) => n,
            Err(libc::EAGAIN) => {
                wait_readable(dst, src, rep)?;
                continue;
            }
            Err(libc::EINTR) => continue,
            Err(e) => return Err(rep.syscall(S::FILL, e)),
        };
        let mut done = 0;
        while done < taken {
            check_ends(dst, src, rep)?;
            match stage.drain(dst.raw(), done, taken) {
                Ok(n) => {
                    done += n;
                    total += n as u64;
                }
                Err(libc::EAGAIN) => wait_writable(dst, src, rep)?,
                Err(libc::EINTR) => {}
                Err(e) => return Err(rep.syscall(S::DRAIN, e)),
            }
        }
    }
    Ok(total)
}

/// A pipe for splicing, closed when dropped.
struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    size: usize,
}

impl Pipe {
    fn new() -> Option<Pipe> {
        let mut fds = [-1 as RawFd; 2];
        // SAFETY: fds is a live array of two ints for pipe2 to fill.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return None;
        }
        // SAFETY: pipe2 succeeded, so both descriptors are new and ours.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // A larger pipe moves more per system call; where the system
        // refuses (pipe-max-size, per-user limits) the default will do.
        // SAFETY: F_SETPIPE_SZ and F_GETPIPE_SZ take and return ints.
        let size = unsafe {
            libc::fcntl(write.as_raw_fd(), libc::F_SETPIPE_SZ, CHUNK as libc::c_int);
            libc::fcntl(write.as_raw_fd(), libc::F_GETPIPE_SZ)
        };
        let size = usize::try_from(size).ok().filter(|&s| s > 0)?;
        Some(Pipe { read, write, size })
    }
}

/// Both ends in non-blocking mode for as long as it lives.
struct NonBlocking<'a>(&'a NetFd, Option<&'a NetFd>);

impl<'a> NonBlocking<'a> {
    fn one(fd: &'a NetFd) -> std::io::Result<NonBlocking<'a>> {
        fd.begin_nonblocking()?;
        Ok(NonBlocking(fd, None))
    }

    fn both(a: &'a NetFd, b: &'a NetFd) -> std::io::Result<NonBlocking<'a>> {
        let mut guard = NonBlocking::one(a)?;
        b.begin_nonblocking()?;
        guard.1 = Some(b);
        Ok(guard)
    }
}

impl Drop for NonBlocking<'_> {
    fn drop(&mut self) {
        self.0.end_nonblocking();
        if let Some(b) = self.1 {
            b.end_nonblocking();
        }
    }
}

fn splice(from: RawFd, to: RawFd, len: usize) -> std::result::Result<usize, i32> {
    // SAFETY: no offsets (both ends are sockets or pipes); splice reads
    // and writes no memory of ours.
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 { Err(errno()) } else { Ok(n as usize) }
}

impl Stage for Pipe {
    const FILL: &'static str = "splice";
    const DRAIN: &'static str = "splice";

    fn capacity(&self) -> usize {
        self.size
    }

    fn fill(&mut self, src: RawFd, want: usize) -> std::result::Result<usize, i32> {
        splice(src, self.write.as_raw_fd(), want)
    }

    fn drain(&mut self, dst: RawFd, from: usize, to: usize) -> std::result::Result<usize, i32> {
        splice(self.read.as_raw_fd(), dst, to - from)
    }
}

/// Sends `count` bytes (negative: to the end of the file) of the file `fd`
/// from `offset` over `conn` with `sendfile(2)` and returns the count sent,
/// which is short only when the file ends first. The file's own offset is
/// not moved. Holds the write lock throughout, as a write does; failures
/// read as Go's `TCPConn.ReadFrom` gives them (`readfrom tcp ...`).
pub fn sendfile(conn: &NetFd, fd: RawFd, offset: i64, count: i64) -> Result<u64> {
    let rep = Reporter {
        fd: conn,
        op: "readfrom",
    };
    if fd < 0 {
        return Err(conn.error(rep.op, Cause::Invalid(format!("bad file descriptor {fd}"))));
    }
    if offset < 0 {
        return Err(conn.error(rep.op, Cause::Invalid(format!("negative offset {offset}"))));
    }
    let limit = limit_of(count);
    let _write = conn.lock_write();
    conn.check("write", Direction::Write)
        .map_err(|e| rep.restate(e))?;
    let _nonblocking = NonBlocking::one(conn).map_err(|e| rep.syscall("fcntl", os_errno(&e)))?;
    let _no_sigpipe = SigpipeHeldOff::new();
    let mut off: libc::off_t = offset;
    let mut total: u64 = 0;
    while total < limit {
        conn.check("write", Direction::Write)
            .map_err(|e| rep.restate(e))?;
        let want = usize::try_from(limit - total).map_or(CHUNK, |n| n.min(CHUNK));
        // SAFETY: off is a live off_t that sendfile reads and advances; no
        // other memory of ours is touched.
        let n = unsafe { libc::sendfile(conn.raw(), fd, &mut off, want) };
        match n {
            0 => break,
            n if n > 0 => total += n as u64,
            _ => match errno() {
                libc::EAGAIN => conn
                    .wait("write", libc::POLLOUT, Direction::Write)
                    .map_err(|e| rep.restate(e))?,
                libc::EINTR => {}
                e => return Err(rep.syscall("sendfile", e)),
            },
        }
    }
    Ok(total)
}
