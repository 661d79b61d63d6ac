//! A network descriptor with Go's semantics: full writes serialised among
//! threads, deadlines, and a close that wakes every blocked thread.
//!
//! The socket is owned by the `NetFd`, which the handle table shares through
//! an `Arc`. `close` marks it closed and wakes its waiters; the descriptor
//! is released when the last call using it lets go, so a thread inside a
//! system call never sees its descriptor number handed to a newer socket.
//! A call uses the descriptor while it holds a direction lock (reads,
//! writes, accepts) or an `FdRef` (everything else): the `Arc` keeps the
//! memory, not the descriptor, so that a thread may keep a stream's `Arc`
//! between calls (`capi/boundary.rs`) without keeping its socket open.

use super::addr::{Addr, Network, to_addr, to_net_addr};
use crate::error::{Cause, NetError, OpError, Result, SyscallResult};
use crate::poll::{
    self, Caller, CancelHeldOff, DirLock, Direction, Held, NO_DEADLINE, WaitList, barrier_for,
    fork_generation, forks_made, interrupt_blocked, now_ns, sys,
};
use socket2::Socket;
use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A stream connection.
    Conn,
    Listener,
    /// A datagram socket, connected (dialed) or not (Go's `ListenPacket`);
    /// its reads and writes are in `packet.rs`.
    Packet,
}

/// Laid out in order: the fields every read and write touches come first,
/// so that with the reference count before them they share one or two
/// cache lines instead of being spread over the whole object (a call on a
/// connection that has just been switched to pays for each line it
/// touches).
#[repr(C)]
pub struct NetFd {
    /// Closed by `Drop for NetFd`, not by `Socket`'s own drop.
    sock: ManuallyDrop<Socket>,
    pub role: Role,
    pub net: Network,
    closed: AtomicBool,
    /// Held for a whole read (and accept), as Go's `fd.readLock`, so
    /// concurrent reads each get a contiguous piece of the stream; it also
    /// names the thread that may be blocked in `recv` or `accept4`.
    pub(crate) read_lock: DirLock,
    /// Held for a whole write, so writes from several threads never
    /// interleave; names the thread that may be blocked in `send`.
    pub(crate) write_lock: DirLock,
    read_deadline: AtomicI64,
    write_deadline: AtomicI64,
    pub(crate) waiters: WaitList,
    /// How many `net_copy`/`net_sendfile` calls need the socket in
    /// non-blocking mode (splice and sendfile have no per-call flag for
    /// it); the last one to finish makes it blocking again.
    nonblock_users: Mutex<u32>,
    /// The local address, asked of the socket on first use when it was
    /// not known at creation: most connections never need it, and the
    /// getsockname it costs is a tenth of the system calls of a short one.
    laddr: OnceLock<Option<Addr>>,
    pub raddr: Option<Addr>,
    /// The socket file a Unix listener created, removed on close as Go does.
    unlink_on_close: Option<Box<str>>,
    /// `fork_generation()` when the descriptor was made: a forked
    /// child shares the sockets it inherited with its parent.
    fork_generation: u32,
    /// Held for reading by each `net_control` call while its function
    /// runs; `close` takes it for writing, so it returns only once they
    /// are done (Go's `RawConn.Control` holds a reference `Close` waits
    /// for).
    control_lock: RwLock<()>,
    /// `forks_made()` when the descriptor was made: a listener made
    /// before a `fork` may have workers in the children.
    forks_made: u32,
    /// Set when the socket is known to be shared with its maker or
    /// another program: adopted (`net_file_*`) or handed out (`net_file`).
    shared: AtomicBool,
    /// A listener made non-blocking for good (see `accept`).
    nonblocking_listener: AtomicBool,
    /// Calls using the socket through an `FdRef`.
    users: AtomicUsize,
    /// Set once the socket is closed (`release_if_unused`).
    released: AtomicBool,
}

thread_local! {
    /// The descriptors whose control functions are running on this
    /// thread: a function that closes its own handle must not wait for
    /// itself.
    static IN_CONTROL: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Go's `OpError` for `op` on a descriptor of this network, role and
/// addresses: connections name both ends (an unconnected packet socket
/// only its own), listeners their own address.
fn op_error(
    op: &'static str,
    net: Network,
    role: Role,
    laddr: Option<&Addr>,
    raddr: Option<&Addr>,
    cause: Cause,
) -> NetError {
    // The text can need the name of an IPv6 zone's interface, which glibc
    // finds through a socket it then closes: a cancellation point, on the
    // error path of calls that do not hold cancel off.
    let _cancel = CancelHeldOff::new();
    let text = |a: Option<&Addr>| a.map(Addr::to_string);
    let (source, addr) = match role {
        Role::Conn | Role::Packet => (text(laddr), text(raddr)),
        Role::Listener => (None, text(laddr)),
    };
    NetError::from(OpError {
        op,
        net: net.name().to_owned(),
        source,
        addr,
        cause,
    })
}

/// The network and addresses of a descriptor, all its errors need.
#[derive(Clone, Debug)]
pub struct Ends {
    net: Network,
    role: Role,
    laddr: Option<Addr>,
    raddr: Option<Addr>,
}

impl Ends {
    /// The error `NetFd::error` gives for `op`.
    pub fn error(&self, op: &'static str, cause: Cause) -> NetError {
        op_error(
            op,
            self.net,
            self.role,
            self.laddr.as_ref(),
            self.raddr.as_ref(),
            cause,
        )
    }
}

impl NetFd {
    /// `laddr` is the local address when the caller knows it; `None`
    /// leaves it to be asked of the socket on first use.
    pub fn new(
        sock: Socket,
        net: Network,
        role: Role,
        laddr: Option<Addr>,
        raddr: Option<Addr>,
    ) -> NetFd {
        let known_laddr = match laddr {
            Some(addr) => OnceLock::from(Some(addr)),
            None => OnceLock::new(),
        };
        NetFd {
            sock: ManuallyDrop::new(sock),
            net,
            role,
            laddr: known_laddr,
            raddr,
            closed: AtomicBool::new(false),
            read_deadline: AtomicI64::new(NO_DEADLINE),
            write_deadline: AtomicI64::new(NO_DEADLINE),
            read_lock: DirLock::default(),
            write_lock: DirLock::default(),
            nonblock_users: Mutex::new(0),
            waiters: WaitList::default(),
            unlink_on_close: None,
            fork_generation: fork_generation(),
            control_lock: RwLock::new(()),
            forks_made: forks_made(),
            shared: AtomicBool::new(false),
            nonblocking_listener: AtomicBool::new(false),
            users: AtomicUsize::new(0),
            released: AtomicBool::new(false),
        }
    }

    /// Starts a use of the socket by a call that holds no direction lock;
    /// `None` once it is closed. The socket stays open until the `FdRef`
    /// is dropped.
    pub fn enter(self: Arc<NetFd>) -> Option<FdRef> {
        // SeqCst, and the closed flag looked at after: against
        // `release_if_unused`, which looks at the count after the flag is
        // set. Either it sees this use, or this use sees the flag.
        self.users.fetch_add(1, Ordering::SeqCst);
        if self.is_closed() {
            self.leave();
            return None;
        }
        Some(FdRef(self))
    }

    fn leave(&self) {
        if self.users.fetch_sub(1, Ordering::SeqCst) == 1 && self.is_closed() {
            self.release_if_unused();
        }
    }

    /// Closes the socket once it is marked closed and no call uses it:
    /// called by `close` and by each call that lets go after it. Each of
    /// them changes its own word (the flag; the count or a lock) and then
    /// looks at the others, all SeqCst, so the last one to let go always
    /// sees everything let go; the `released` flag makes it happen once.
    fn release_if_unused(&self) {
        // An owner of a biased lock let go with a plain store: ordered
        // before the looks below, against the other users' (their own
        // releases are read-modify-writes, or this same fence).
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.is_closed()
            && self.users.load(Ordering::SeqCst) == 0
            && self.read_lock.is_free()
            && self.write_lock.is_free()
            && !self.released.swap(true, Ordering::SeqCst)
        {
            sys::close(self.sock.as_raw_fd());
        }
    }

    /// Whether the socket has been closed for good.
    fn is_released(&self) -> bool {
        self.released.load(Ordering::SeqCst)
    }

    /// `held`, one of this descriptor's direction locks, as an `FdHeld`:
    /// letting go of it after a close may close the socket.
    fn hold<'a>(&'a self, held: Held<'a>) -> FdHeld<'a> {
        FdHeld {
            fd: self,
            held: ManuallyDrop::new(held),
        }
    }

    /// The write lock if it is free now.
    pub(crate) fn try_lock_write(&self) -> Option<FdHeld<'_>> {
        self.write_lock.try_lock().map(|held| self.hold(held))
    }

    /// Go's `RawConn.Control`: runs `f` with the descriptor, which stays
    /// open and is not reused meanwhile (a concurrent `close` waits for
    /// `f` to return). Fails with "use of closed network connection" once
    /// the descriptor is closed.
    pub fn control(&self, op: &'static str, f: impl FnOnce(RawFd)) -> Result<()> {
        let me = self as *const NetFd as usize;
        // A control function calling `net_control` on its own handle holds
        // the lock already; taking it again could wait behind a `close`
        // that waits for it.
        let _held = (!self.in_control_here())
            .then(|| self.control_lock.read().unwrap_or_else(|e| e.into_inner()));
        // Checked under the lock: `close` marks the descriptor closed and
        // then takes the lock, so a control that gets in after the mark
        // sees it, and one that got in before is waited for.
        if self.is_closed() {
            return Err(self.error(op, Cause::Closed));
        }
        IN_CONTROL.with(|c| c.borrow_mut().push(me));
        struct Leave(usize);
        impl Drop for Leave {
            fn drop(&mut self) {
                let _ = IN_CONTROL.try_with(|c| {
                    let mut c = c.borrow_mut();
                    if let Some(i) = c.iter().rposition(|&p| p == self.0) {
                        c.remove(i);
                    }
                });
            }
        }
        let _leave = Leave(me);
        f(self.raw());
        Ok(())
    }

    /// Whether a control function of this descriptor is running on the
    /// calling thread.
    fn in_control_here(&self) -> bool {
        let me = self as *const NetFd as usize;
        IN_CONTROL
            .try_with(|c| c.borrow().contains(&me))
            .unwrap_or(false)
    }

    /// Waits for control functions running on other threads to return.
    fn wait_for_controls(&self) {
        if !self.in_control_here() {
            drop(self.control_lock.write().unwrap_or_else(|e| e.into_inner()));
        }
    }

    pub fn unlink_on_close(mut self, path: Option<String>) -> NetFd {
        self.unlink_on_close = path.map(String::into_boxed_str);
        self
    }

    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// The local address (`None` for an unnamed Unix socket whose name
    /// the system cannot give).
    pub fn laddr(&self) -> Option<&Addr> {
        self.laddr
            .get_or_init(|| {
                self.sock
                    .local_addr()
                    .ok()
                    .map(|a| to_net_addr(self.net, &a))
            })
            .as_ref()
    }

    /// The error Go's `OpError` would give for `op` on this descriptor:
    /// connections name both ends (an unconnected packet socket only its
    /// own), listeners their own address.
    pub fn error(&self, op: &'static str, cause: Cause) -> NetError {
        op_error(
            op,
            self.net,
            self.role,
            self.laddr(),
            self.raddr.as_ref(),
            cause,
        )
    }

    /// What this descriptor's errors name, kept after it is closed (see
    /// `handle::close`). The local address only if it is known already:
    /// asking the socket for it here would add a `getsockname` to every
    /// close of a connection whose local address nobody asked for, 2 % of
    /// a connect/exchange/close cycle (`bench/compare.sh ... churn
    /// conns=1`, 40 rounds pinned: 0.977 with it, 0.998 without, of the
    /// library before closed handles were remembered).
    pub fn ends(&self) -> Ends {
        Ends {
            net: self.net,
            role: self.role,
            laddr: self.laddr.get().cloned().flatten(),
            raddr: self.raddr.clone(),
        }
    }

    /// SeqCst, as the deadlines' loads: `Held::block_in` relies on
    /// these loads, made after it registers, being ordered after its
    /// registration (on x86 a SeqCst load is a plain load, as an Acquire
    /// one is).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub(crate) fn deadline(&self, dir: Direction) -> i64 {
        match dir {
            Direction::Read => self.read_deadline.load(Ordering::SeqCst),
            _ => self.write_deadline.load(Ordering::SeqCst),
        }
    }

    /// Go's `prepareRead`/`prepareWrite`: closed first, then the deadline,
    /// which fails the call even when data is ready. Inlined into every
    /// read and write, with the failures out of line: two loads and two
    /// compares when neither applies.
    #[inline]
    pub(crate) fn check(&self, op: &'static str, dir: Direction) -> Result<()> {
        if self.is_closed() {
            return Err(self.failed(op, Cause::Closed));
        }
        let deadline = self.deadline(dir);
        if deadline != NO_DEADLINE && deadline <= now_ns() {
            return Err(self.failed(op, Cause::Timeout));
        }
        Ok(())
    }

    /// `error`, kept off the paths of calls that work.
    #[cold]
    #[inline(never)]
    fn failed(&self, op: &'static str, cause: Cause) -> NetError {
        self.error(op, cause)
    }

    pub(crate) fn wait(
        &self,
        op: &'static str,
        events: libc::c_short,
        dir: Direction,
    ) -> Result<()> {
        poll::wait(
            self.raw(),
            events,
            self.deadline(dir),
            &self.waiters,
            || self.check(op, dir).is_ok(),
        )
        .syscall("poll")
        .map_err(|c| self.error(op, c))
    }

    /// `wait` for a holder of `dir`'s lock that may block in system calls:
    /// records that it came out of the wait, for an interrupter waiting to
    /// see its signal taken (`poll::interrupt_blocked`).
    fn wait_held(
        &self,
        op: &'static str,
        events: libc::c_short,
        dir: Direction,
        held: &Held<'_>,
    ) -> Result<()> {
        let waited = self.wait(op, events, dir);
        held.interrupted();
        waited
    }

    /// As `wait`, and woken as well when `other` is closed (`net_copy`
    /// waits on one end and must notice the other closing).
    pub(crate) fn wait_also(
        &self,
        op: &'static str,
        events: libc::c_short,
        dir: Direction,
        other: &NetFd,
    ) -> Result<()> {
        poll::wait_also(
            self.raw(),
            events,
            self.deadline(dir),
            [&self.waiters, &other.waiters],
            || self.check(op, dir).is_ok() && !other.is_closed(),
        )
        .syscall("poll")
        .map_err(|c| self.error(op, c))
    }

    /// Takes the read lock, for a caller that reads several times as one
    /// operation (`net_copy`) and never blocks in a system call.
    pub(crate) fn lock_read(&self) -> FdHeld<'_> {
        self.hold(self.read_lock.lock(false))
    }

    /// Takes the write lock, as `lock_read`.
    pub(crate) fn lock_write(&self) -> FdHeld<'_> {
        self.hold(self.write_lock.lock(false))
    }

    /// Reads at most `buf.len()` bytes from a stream: at least one, or 0 at
    /// end of stream (`conn.rs` sends a packet socket's reads elsewhere).
    /// `caller` is the calling thread.
    pub fn read_as(&self, buf: &mut [u8], caller: Caller) -> Result<usize> {
        const OP: &str = "read";
        let held = self.hold(self.read_lock.lock_as(caller, true));
        loop {
            self.check(OP, Direction::Read)?;
            if buf.is_empty() {
                return Ok(0);
            }
            let no_deadline = || self.deadline(Direction::Read) == NO_DEADLINE;
            let result = if no_deadline() && held.may_block() {
                // The common case: block in recv itself (see `poll/wait.rs`).
                let blocked = held.block_in(
                    || !self.is_closed() && no_deadline(),
                    || sys::recv_blocking(self.raw(), buf),
                );
                match blocked {
                    None => continue,
                    // Woken by close: it shut the socket down.
                    Some(Ok(0) | Err(_)) if self.is_closed() => {
                        return Err(self.error(OP, Cause::Closed));
                    }
                    Some(result) => result,
                }
            } else {
                sys::recv(self.raw(), buf)
            };
            match result {
                Ok(n) => return Ok(n),
                Err(libc::EAGAIN) => self.wait_held(OP, libc::POLLIN, Direction::Read, &held)?,
                Err(libc::EINTR) => held.interrupted(),
                Err(e) => return Err(self.error(OP, Cause::syscall(OP, e))),
            }
        }
    }

    /// Writes all of `buf` to a stream or fails; concurrent writers never
    /// interleave.
    /// `caller` is the calling thread.
    pub fn write_as(&self, buf: &[u8], caller: Caller) -> Result<usize> {
        const OP: &str = "write";
        let held = self.hold(self.write_lock.lock_as(caller, true));
        let mut done = 0;
        loop {
            self.check(OP, Direction::Write)?;
            if done == buf.len() {
                return Ok(done);
            }
            let no_deadline = || self.deadline(Direction::Write) == NO_DEADLINE;
            let result = if no_deadline() && held.may_block() {
                // As reads do: without a deadline, block in send itself,
                // as a plain blocking socket would, rather than poll and
                // send again each time the buffer fills (see `poll/wait.rs`).
                let blocked = held.block_in(
                    || !self.is_closed() && no_deadline(),
                    || sys::send_blocking(self.raw(), &buf[done..]),
                );
                match blocked {
                    None => continue,
                    // Woken by close: it shut the socket down.
                    Some(Err(_)) if self.is_closed() => {
                        return Err(self.error(OP, Cause::Closed));
                    }
                    Some(result) => result,
                }
            } else {
                sys::send(self.raw(), &buf[done..])
            };
            match result {
                // Done: no second look at the closed flag and deadline.
                Ok(n) if done + n == buf.len() => return Ok(buf.len()),
                Ok(n) => done += n,
                Err(libc::EAGAIN) => self.wait_held(OP, libc::POLLOUT, Direction::Write, &held)?,
                Err(libc::EINTR) => held.interrupted(),
                Err(e) => return Err(self.error(OP, Cause::syscall(OP, e))),
            }
        }
    }

    /// Accepts one connection; the read deadline bounds the wait, as Go's
    /// `SetDeadline` on a listener does.
    pub fn accept(&self) -> Result<NetFd> {
        const OP: &str = "accept";
        let held = self.hold(self.read_lock.lock(true));
        loop {
            self.check(OP, Direction::Read)?;
            let no_deadline = || self.deadline(Direction::Read) == NO_DEADLINE;
            let result = if no_deadline() && held.may_block() && !self.accepts_without_blocking() {
                // A listener only this process uses, without a deadline:
                // wait in accept4 itself, as a plain blocking server does
                // (one system call a connection, where trying accept4,
                // polling and trying again is three: 6 % of
                // connect/exchange/close churn, bench/compare.sh churn
                // conns=1, pinned), woken by close (shutdown, or the wake
                // signal once the socket may be shared) and by a deadline
                // (the wake signal).
                let blocked = held.block_in(
                    || !self.is_closed() && no_deadline(),
                    || sys::accept(self.raw()),
                );
                match blocked {
                    None => continue,
                    Some(Err(_)) if self.is_closed() => {
                        return Err(self.error(OP, Cause::Closed));
                    }
                    Some(result) => result,
                }
            } else {
                // With a deadline, or where another process may accept
                // on the socket too (one of them can take a connection
                // between this one's poll and its accept4, which on a
                // blocking socket would then wait past any deadline), the
                // listener is non-blocking, as Go's always are: accept4
                // takes a queued connection or says EAGAIN, and the wait
                // is in poll, woken by close and deadline changes.
                self.make_accepts_nonblocking()
                    .syscall("fcntl")
                    .map_err(|c| self.error(OP, c))?;
                sys::accept(self.raw())
            };
            match result {
                Ok((fd, peer)) => return Ok(self.accepted(fd, &peer)),
                Err(libc::EAGAIN) => self.wait_held(OP, libc::POLLIN, Direction::Read, &held)?,
                Err(libc::EINTR) => held.interrupted(),
                // A connection that died in the queue is not the listener's
                // failure: Go retries these too.
                Err(libc::ECONNABORTED) => {}
                Err(e) => return Err(self.error(OP, Cause::syscall(OP, e))),
            }
        }
    }

    pub(crate) fn accepted(&self, fd: RawFd, peer: &socket2::SockAddr) -> NetFd {
        // SAFETY: accept4 just returned fd, which nothing else owns.
        let sock = unsafe { <Socket as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        // Go's TCP defaults (no Nagle, keep-alive at 15 s) came with the
        // socket: the listener has them, and accept4 copies them. The
        // local address is asked of the socket when first needed, as a
        // dialed connection's is, except on a Unix socket, whose local
        // name is its listener's.
        let laddr = if self.net.is_unix() {
            self.laddr().cloned()
        } else {
            None
        };
        NetFd::new(sock, self.net, Role::Conn, laddr, Some(to_addr(peer)))
    }

    /// Puts the socket in non-blocking mode until the matching
    /// `end_nonblocking`, counting users so that overlapping copies (one
    /// each way through a relay) leave it as the last one needs. Readers
    /// that find it non-blocking get EAGAIN and poll, which is correct,
    /// only slower.
    pub(crate) fn begin_nonblocking(&self) -> std::io::Result<()> {
        let mut users = self
            .nonblock_users
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *users == 0 {
            self.sock.set_nonblocking(true)?;
        }
        *users += 1;
        Ok(())
    }

    /// Ends one `begin_nonblocking`.
    pub(crate) fn end_nonblocking(&self) {
        let mut users = self
            .nonblock_users
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *users = users.saturating_sub(1);
        if *users == 0 {
            // Failing leaves reads polling, which still works.
            let _ = self.sock.set_nonblocking(false);
        }
    }

    /// Whether accepts on this listener go through poll rather than wait
    /// in `accept4`: it was made non-blocking, or another process may
    /// accept on it too.
    fn accepts_without_blocking(&self) -> bool {
        self.nonblocking_listener.load(Ordering::Relaxed)
            || self.may_be_shared()
            || self.inherited()
    }

    /// Makes the listener non-blocking for good (the mode belongs to the
    /// open file, which a forked process shares), once.
    pub(crate) fn make_accepts_nonblocking(&self) -> std::io::Result<()> {
        if self.nonblocking_listener.load(Ordering::Acquire) {
            return Ok(());
        }
        self.sock.set_nonblocking(true)?;
        self.nonblocking_listener.store(true, Ordering::Release);
        Ok(())
    }

    /// Marks the socket as shared with another program (see `close`).
    pub(crate) fn mark_shared(&self) {
        self.shared.store(true, Ordering::Release);
    }

    /// Whether another process may hold the socket on purpose and go on
    /// using it: it was adopted or handed out, or this process has forked
    /// since it was made (a prefork master's workers).
    fn may_be_shared(&self) -> bool {
        self.shared.load(Ordering::Acquire) || self.forks_made != forks_made()
    }

    /// Whether this process got the socket by forking from the one that
    /// made it, and so shares it with that process.
    fn inherited(&self) -> bool {
        self.fork_generation != fork_generation()
    }

    /// Marks the descriptor closed and wakes every thread blocked on it.
    /// The socket itself is closed when the last user drops its reference.
    pub fn close(&self) {
        // A use of its own, so that the socket stays open while this
        // shuts it down; the last user to let go closes it.
        self.users.fetch_add(1, Ordering::SeqCst);
        struct Leave<'a>(&'a NetFd);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.leave();
            }
        }
        let _leave = Leave(self);
        // SeqCst: see `release_if_unused`.
        self.closed.store(true, Ordering::SeqCst);
        self.wait_for_controls();
        self.waiters.wake_all();
        // A biased lock's owner takes it with plain stores; see poll/lock.rs.
        barrier_for(&[&self.read_lock, &self.write_lock]);
        let blocked = self.read_lock.held_blocking() || self.write_lock.held_blocking();
        if self.inherited() {
            // A socket shared with the parent (a server that forks a
            // child per connection, which closes its copy of the
            // listener): shutting it down or removing its file would end
            // it for the parent too. Close this process's copy only, and
            // wake its blocked threads with the wake signal (without one,
            // none blocks in a system call: they poll, and are woken).
            if blocked {
                interrupt_blocked(&[&self.read_lock, &self.write_lock]);
            }
            return;
        }
        if self.role == Role::Listener && self.may_be_shared() {
            // Another process may be using the socket on purpose: prefork
            // workers this process forked, or the program it was adopted
            // from or handed to. Close this process's descriptor only, as
            // Go does, and wake its blocked accepts with the wake signal;
            // `close_last` then waits for them to let go. The port stays
            // busy while a child forked meanwhile has not exec'd yet (the
            // window Go has too).
            if blocked {
                interrupt_blocked(&[&self.read_lock, &self.write_lock]);
            }
        } else if self.role == Role::Listener || blocked {
            // A listener nobody else uses on purpose stops listening now,
            // not when its descriptor goes: a child that another thread is
            // starting with `posix_spawn` or `vfork` (which count no fork)
            // holds a copy of it until it execs, and meanwhile the port
            // could not be listened on again. Shutting it down also wakes
            // threads blocked in recv or send; a thread that registers
            // after this look sees the closed flag and does not block.
            let _ = self.sock.shutdown(std::net::Shutdown::Both);
        }
        if let Some(path) = &self.unlink_on_close {
            let _ = std::fs::remove_file(&**path);
        }
    }

    /// `close`, and for a listener, as Go's `Close` does, a wait (of at
    /// most a second) for the threads still using it to let go, so that
    /// its descriptor is closed when this returns. The threads in accept
    /// were woken by `close` and leave at once; anything else holds the
    /// descriptor for the length of one call.
    pub fn close_last(fd: Arc<NetFd>) {
        fd.close();
        if fd.role != Role::Listener || fd.in_control_here() {
            return;
        }
        let give_up = now_ns() + 1_000_000_000;
        let mut pause = 10_u64;
        while !fd.is_released() && now_ns() < give_up {
            std::thread::sleep(std::time::Duration::from_micros(pause));
            pause = (pause * 2).min(1000);
        }
    }

    /// Sets an absolute deadline (monotonic ns; `NO_DEADLINE` clears it) and
    /// wakes blocked threads so that they see it at once.
    pub fn set_deadline(&self, dir: Direction, deadline: i64) {
        if dir != Direction::Write {
            self.read_deadline.store(deadline, Ordering::Release);
        }
        if dir != Direction::Read {
            self.write_deadline.store(deadline, Ordering::Release);
        }
        self.waiters.wake_all();
        // A reader or writer blocked in recv or send without a deadline
        // must now poll with one.
        if deadline != NO_DEADLINE {
            match dir {
                Direction::Read => interrupt_blocked(&[&self.read_lock]),
                Direction::Write => interrupt_blocked(&[&self.write_lock]),
                Direction::Both => interrupt_blocked(&[&self.read_lock, &self.write_lock]),
            }
        }
    }

    /// Half-closes the connection: `Shutdown::Read` or `Shutdown::Write`.
    pub fn shutdown(&self, how: std::net::Shutdown) -> Result<()> {
        let op = match how {
            std::net::Shutdown::Read => "close_read",
            _ => "close_write",
        };
        if self.is_closed() {
            return Err(self.error(op, Cause::Closed));
        }
        self.sock
            .shutdown(how)
            .syscall("shutdown")
            .map_err(|c| self.error(op, c))
    }
}

impl Drop for NetFd {
    /// A descriptor never closed (one made and dropped on an error path)
    /// is closed here. The last user of a closed one closes it in
    /// `release_if_unused`, and that can be a `net_read` or `net_write`,
    /// which do not hold cancel off: both close through `syscall(2)`,
    /// which is not a cancellation point, as glibc's `close` is.
    fn drop(&mut self) {
        if !*self.released.get_mut() {
            sys::close(self.sock.as_raw_fd());
        }
    }
}

/// A use of a descriptor's socket by a call that holds no direction lock
/// (options, addresses, control functions, files, copies): the socket
/// stays open until it is dropped, even if another thread closes the
/// handle meanwhile (see `NetFd::enter`).
pub struct FdRef(Arc<NetFd>);

impl FdRef {
    /// The descriptor's `Arc`, to keep its memory past this use.
    pub fn arc(&self) -> &Arc<NetFd> {
        &self.0
    }
}

impl std::ops::Deref for FdRef {
    type Target = NetFd;
    fn deref(&self) -> &NetFd {
        &self.0
    }
}

impl Drop for FdRef {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// A held direction lock of a descriptor. Letting go of it after the
/// descriptor was closed closes the socket if nothing else uses it.
pub(crate) struct FdHeld<'a> {
    fd: &'a NetFd,
    held: ManuallyDrop<Held<'a>>,
}

impl<'a> std::ops::Deref for FdHeld<'a> {
    type Target = Held<'a>;
    fn deref(&self) -> &Held<'a> {
        &self.held
    }
}

impl Drop for FdHeld<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: dropped once, here, and not used after.
        unsafe { ManuallyDrop::drop(&mut self.held) };
        // After the lock's release (a SeqCst compare-and-swap, or a
        // biased owner's plain store, which `release_if_unused` fences
        // after): see `release_if_unused`.
        if self.fd.is_closed() {
            self.fd.release_if_unused();
        }
    }
}
