//! The exchange with name servers, as Go's `dnsclient_unix.go`: a query
//! over UDP (A and AAAA together on one socket, unless `single-request`),
//! a truncated reply asked again over TCP, replies accepted only when
//! their ID, question and source match, servers tried in turn for each of
//! `attempts` rounds, SERVFAIL, REFUSED and lame replies moving on to the
//! next server and NXDOMAIN ending the search.
//!
//! Everything runs on the calling thread. Waits go through `poll::wait`
//! on the lookup's `DialOp`, so cancelling it (a resolver or dialer
//! cancel, or a close) wakes them at once.

use super::conf::DnsConfig;
use super::msg::{self, Question, RCODE_NXDOMAIN, RCODE_SERVFAIL, RCODE_SUCCESS, Reply};
use crate::error::os_errno;
use crate::error::{Cause, Code, NetError};
use crate::net::dialop::DialOp;
use crate::poll;
use crate::poll::now_ns;
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU32, Ordering};

/// How a lookup is bounded and cancelled.
pub struct Ctx<'a> {
    /// Monotonic ns by which the lookup must be over, or `NO_DEADLINE`.
    pub deadline: i64,
    pub op: &'a DialOp,
}

impl Ctx<'_> {
    fn cancelled(&self) -> bool {
        self.op.is_cancelled()
    }
}

/// Go's `DNSError`: `lookup NAME on SERVER: ERR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsError {
    pub err: String,
    pub name: String,
    pub server: String,
    pub code: Code,
}

pub const NO_SUCH_HOST: &str = "no such host";
const SERVER_MISBEHAVING: &str = "server misbehaving";
const CANNOT_UNMARSHAL: &str = "cannot unmarshal DNS message";
const INVALID_RESPONSE: &str = "invalid DNS response";
const LAME_REFERRAL: &str = "lame referral";
const NO_ANSWER: &str = "no answer from DNS server";

impl DnsError {
    pub fn new(err: impl Into<String>, name: &str, server: &str, code: Code) -> DnsError {
        DnsError {
            err: err.into(),
            name: name.to_owned(),
            server: server.to_owned(),
            code,
        }
    }

    pub fn not_found(name: &str, server: &str) -> DnsError {
        DnsError::new(NO_SUCH_HOST, name, server, Code::NoHost)
    }

    /// The lookup was stopped from outside (deadline, cancel): nothing
    /// more is tried.
    fn stops(&self) -> bool {
        self.code == Code::Canceled
    }

    pub fn into_cause(self) -> Cause {
        let name = if self.server.is_empty() {
            self.name
        } else {
            format!("{} on {}", self.name, self.server)
        };
        Cause::Lookup {
            name,
            err: self.err,
            code: self.code,
        }
    }
}

/// Why one exchange with one server failed.
enum Failure {
    /// A network error or a bad reply: the next server is tried.
    Server(String, Code),
    /// The lookup's deadline passed or it was cancelled.
    Stop(String, Code),
}

fn random_u16() -> u16 {
    let mut b = [0u8; 2];
    // SAFETY: getrandom writes at most 2 bytes into the 2-byte buffer.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 2, libc::GRND_NONBLOCK) };
    if n != 2 {
        // No entropy yet (early boot): the clock's low bits will do for an
        // ID that only has to be hard to guess, not secret.
        return (now_ns() as u64 ^ (now_ns() as u64 >> 17)) as u16;
    }
    u16::from_ne_bytes(b)
}

/// A random number below `n` (n > 0), for Go's shuffles.
pub fn random_below(n: usize) -> usize {
    let mut b = [0u8; 8];
    // SAFETY: getrandom writes at most 8 bytes into the 8-byte buffer.
    let got = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 8, libc::GRND_NONBLOCK) };
    let x = if got == 8 {
        u64::from_ne_bytes(b)
    } else {
        now_ns() as u64
    };
    (x % n as u64) as usize
}

/// Whether a reply answers `q` with `id` (Go's `checkResponse`).
fn matches(reply: &Reply, id: u16, q: &Question) -> bool {
    reply.response
        && reply.id == id
        && reply.question.qtype == q.qtype
        && reply.qclass == 1
        && reply.question.name.eq_ignore_ascii_case(&q.name)
}

/// One question of an exchange, its query, and what came of it.
struct Pending<'q> {
    q: &'q Question,
    id: u16,
    wire: Vec<u8>,
    outcome: Option<Result<Reply, Failure>>,
}

/// Waits until `fd` is ready for `events`, `until` passes, or the lookup
/// is cancelled; `Err` for the last two.
fn wait(fd: i32, events: libc::c_short, until: i64, ctx: &Ctx<'_>) -> Result<(), Code> {
    if ctx.cancelled() {
        return Err(Code::Canceled);
    }
    if now_ns() >= until {
        return Err(Code::Timeout);
    }
    let _ = poll::wait(fd, events, until, &ctx.op.waiters, || !ctx.cancelled());
    if ctx.cancelled() {
        return Err(Code::Canceled);
    }
    Ok(())
}

fn stop_or_fail(code: Code, text: String, ctx: &Ctx<'_>) -> Failure {
    if code == Code::Canceled {
        return Failure::Stop("operation was canceled".to_owned(), Code::Canceled);
    }
    if now_ns() >= ctx.deadline {
        Failure::Stop(text, code)
    } else {
        Failure::Server(text, code)
    }
}

/// The text of a failed operation on the socket, as Go's `OpError`.
fn op_text(
    op: &'static str,
    net: &str,
    local: Option<SocketAddr>,
    server: SocketAddr,
    cause: Cause,
) -> String {
    NetError::new(op, net, cause)
        .with_source(local.map(|l| crate::net::addr::Addr::Inet(l).to_string()))
        .with_addr(crate::net::addr::Addr::Inet(server))
        .to_string()
}

fn new_socket(server: SocketAddr, ty: Type) -> std::io::Result<Socket> {
    Socket::new(Domain::for_address(server), ty.nonblocking(), None)
}

/// Asks `server` every pending question over UDP, on one socket, and
/// waits for all the answers until `until`.
fn udp_exchange(server: SocketAddr, pending: &mut [Pending<'_>], until: i64, ctx: &Ctx<'_>) {
    let fail_all = |pending: &mut [Pending<'_>], f: &dyn Fn() -> Failure| {
        for p in pending.iter_mut().filter(|p| p.outcome.is_none()) {
            p.outcome = Some(Err(f()));
        }
    };
    let sock = match new_socket(server, Type::DGRAM).and_then(|s| {
        s.connect(&SockAddr::from(server))?;
        Ok(s)
    }) {
        Ok(s) => s,
        Err(e) => {
            let errno = os_errno(&e);
            let text = op_text(
                "dial",
                "udp",
                None,
                server,
                Cause::syscall("connect", errno),
            );
            return fail_all(pending, &|| Failure::Server(text.clone(), Code::Dns));
        }
    };
    let local = sock.local_addr().ok().and_then(|a| a.as_socket());
    for i in 0..pending.len() {
        if let Err(e) = sock.send(&pending[i].wire) {
            // Most often the ICMP refusal of the query sent just before,
            // reported here and so no longer to the read: the server is
            // out for every question.
            let text = op_text(
                "write",
                "udp",
                local,
                server,
                Cause::syscall("write", os_errno(&e)),
            );
            return fail_all(pending, &|| Failure::Server(text.clone(), Code::Dns));
        }
    }
    let mut buf = vec![0u8; usize::from(msg::EDNS_PAYLOAD)];
    while pending.iter().any(|p| p.outcome.is_none()) {
        match sock.recv(unsafe_uninit(&mut buf)) {
            Ok(n) => {
                // Anything that is not an answer to one of our questions,
                // from this server, is dropped and the wait goes on (Go's
                // golang.org/issue/13281): a forger must guess the ID and
                // the port, and repeat the question.
                let Ok(reply) = msg::parse_reply(&buf[..n]) else {
                    continue;
                };
                if let Some(p) = pending
                    .iter_mut()
                    .find(|p| p.outcome.is_none() && matches(&reply, p.id, p.q))
                {
                    p.outcome = Some(Ok(reply));
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                if let Err(code) = wait(sock.as_raw_fd(), libc::POLLIN, until, ctx) {
                    let text = op_text("read", "udp", local, server, Cause::Timeout);
                    let f = stop_or_fail(code, text, ctx);
                    let (text, code, stop) = match f {
                        Failure::Server(t, c) => (t, c, false),
                        Failure::Stop(t, c) => (t, c, true),
                    };
                    return fail_all(pending, &|| {
                        if stop {
                            Failure::Stop(text.clone(), code)
                        } else {
                            Failure::Server(text.clone(), code)
                        }
                    });
                }
            }
            Err(e) => {
                // ICMP port unreachable and the like: this server is out.
                let text = op_text(
                    "read",
                    "udp",
                    local,
                    server,
                    Cause::syscall("read", os_errno(&e)),
                );
                return fail_all(pending, &|| Failure::Server(text.clone(), Code::Dns));
            }
        }
    }
}

/// socket2's `recv` takes uninitialised memory; an initialised buffer is
/// a valid one.
fn unsafe_uninit(buf: &mut [u8]) -> &mut [std::mem::MaybeUninit<u8>] {
    // SAFETY: MaybeUninit<u8> has the layout of u8, and recv only writes
    // initialised bytes into it.
    unsafe { &mut *(buf as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) }
}

/// Asks `server` one question over TCP (RFC 7766 framing).
fn tcp_exchange(
    server: SocketAddr,
    p: &Pending<'_>,
    until: i64,
    ctx: &Ctx<'_>,
) -> Result<Reply, Failure> {
    let dial_fail = |errno: i32| {
        Failure::Server(
            op_text(
                "dial",
                "tcp",
                None,
                server,
                Cause::syscall("connect", errno),
            ),
            Code::Dns,
        )
    };
    let sock = new_socket(server, Type::STREAM).map_err(|e| dial_fail(os_errno(&e)))?;
    let fd = sock.as_raw_fd();
    let timed_out = |code: Code, op: &'static str, local: Option<SocketAddr>| {
        stop_or_fail(code, op_text(op, "tcp", local, server, Cause::Timeout), ctx)
    };
    match sock.connect(&SockAddr::from(server)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => loop {
            wait(fd, libc::POLLOUT, until, ctx).map_err(|c| timed_out(c, "dial", None))?;
            match sock.take_error() {
                Ok(Some(e)) => return Err(dial_fail(os_errno(&e))),
                Err(e) => return Err(dial_fail(os_errno(&e))),
                Ok(None) => {}
            }
            if sock.peer_addr().is_ok() {
                break;
            }
        },
        Err(e) => return Err(dial_fail(os_errno(&e))),
    }
    let local = sock.local_addr().ok().and_then(|a| a.as_socket());
    let io_fail = |op: &'static str, e: &std::io::Error| {
        Failure::Server(
            op_text(op, "tcp", local, server, Cause::syscall(op, os_errno(e))),
            Code::Dns,
        )
    };
    let mut framed = Vec::with_capacity(p.wire.len() + 2);
    framed.extend_from_slice(&(p.wire.len() as u16).to_be_bytes());
    framed.extend_from_slice(&p.wire);
    let mut sent = 0;
    while sent < framed.len() {
        match sock.send_with_flags(&framed[sent..], libc::MSG_NOSIGNAL) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                wait(fd, libc::POLLOUT, until, ctx).map_err(|c| timed_out(c, "write", local))?;
            }
            Err(e) => return Err(io_fail("write", &e)),
        }
    }
    let read_exact = |buf: &mut [u8]| -> Result<(), Failure> {
        let mut got = 0;
        while got < buf.len() {
            match sock.recv(unsafe_uninit(&mut buf[got..])) {
                Ok(0) => {
                    return Err(Failure::Server(
                        op_text("read", "tcp", local, server, Cause::Invalid("EOF".into())),
                        Code::Dns,
                    ));
                }
                Ok(n) => got += n,
                Err(e)
                    if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted =>
                {
                    wait(fd, libc::POLLIN, until, ctx).map_err(|c| timed_out(c, "read", local))?;
                }
                Err(e) => return Err(io_fail("read", &e)),
            }
        }
        Ok(())
    };
    let mut len = [0u8; 2];
    read_exact(&mut len)?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    read_exact(&mut body)?;
    let reply = msg::parse_reply(&body)
        .map_err(|_| Failure::Server(CANNOT_UNMARSHAL.to_owned(), Code::Dns))?;
    if !matches(&reply, p.id, p.q) {
        return Err(Failure::Server(INVALID_RESPONSE.to_owned(), Code::Dns));
    }
    Ok(reply)
}

/// Go's `exchange` for several questions at once: UDP (then TCP for a
/// truncated reply), or TCP alone with `use-vc`. Each network gets
/// `timeout`, within the lookup's deadline.
fn exchange(server: SocketAddr, pending: &mut [Pending<'_>], conf: &DnsConfig, ctx: &Ctx<'_>) {
    let timeout_ns = i64::try_from(conf.timeout.as_nanos()).unwrap_or(i64::MAX);
    let until = || now_ns().saturating_add(timeout_ns).min(ctx.deadline);
    if !conf.use_tcp {
        udp_exchange(server, pending, until(), ctx);
    }
    for p in pending.iter_mut() {
        let retry = match &p.outcome {
            None => true,
            // RFC 5966: a truncated UDP reply means "ask over TCP".
            Some(Ok(r)) => r.truncated && !conf.use_tcp,
            Some(Err(_)) => false,
        };
        if retry {
            p.outcome = Some(tcp_exchange(server, p, until(), ctx));
        }
    }
}

/// Go's `checkHeader` and `skipToAnswer`: `Ok` for a reply to use, or the
/// error, and whether it is final (the name does not exist).
fn check(reply: &Reply, qtype: u16) -> Result<(), (&'static str, Code, bool)> {
    if reply.rcode == RCODE_NXDOMAIN {
        return Err((NO_SUCH_HOST, Code::NoHost, true));
    }
    let Ok(answers) = &reply.answers else {
        return Err((CANNOT_UNMARSHAL, Code::Dns, false));
    };
    // libresolv moves on after an invalid referral (golang.org/issue/15434).
    if reply.rcode == RCODE_SUCCESS
        && !reply.authoritative
        && !reply.recursion_available
        && answers.is_empty()
        && !reply.has_additional
    {
        return Err((LAME_REFERRAL, Code::Dns, false));
    }
    if reply.rcode != RCODE_SUCCESS {
        // SERVFAIL, REFUSED and the rest: temporary trouble, or a server
        // behaving badly; either way, the next server may do better.
        let _ = RCODE_SERVFAIL;
        return Err((SERVER_MISBEHAVING, Code::Dns, false));
    }
    if !answers.iter().any(|a| a.rtype == qtype) {
        return Err((NO_SUCH_HOST, Code::NoHost, true));
    }
    Ok(())
}

static ROTATION: AtomicU32 = AtomicU32::new(0);

/// Go's `tryOneName` for each of `qtypes` at once: every server, for
/// `attempts` rounds, until each question has a usable reply or a final
/// answer. `fqdn` is rooted.
pub fn try_one_name(
    conf: &DnsConfig,
    fqdn: &str,
    qtypes: &[u16],
    ctx: &Ctx<'_>,
) -> Vec<Result<(Reply, String), DnsError>> {
    let n = qtypes.len();
    let questions: Vec<Question> = qtypes
        .iter()
        .map(|&qtype| Question {
            name: fqdn.to_owned(),
            qtype,
        })
        .collect();
    let mut done: Vec<Option<Result<(Reply, String), DnsError>>> = (0..n).map(|_| None).collect();
    let mut last: Vec<Option<DnsError>> = (0..n).map(|_| None).collect();
    let servers: Vec<(String, Option<SocketAddr>)> = conf
        .servers
        .iter()
        .map(|s| (s.clone(), s.parse().ok()))
        .collect();
    let offset = if conf.rotate && !servers.is_empty() {
        ROTATION.fetch_add(1, Ordering::Relaxed) as usize
    } else {
        0
    };
    'rounds: for _ in 0..conf.attempts {
        for j in 0..servers.len() {
            let (server_text, server) = &servers[(offset + j) % servers.len()];
            let open: Vec<usize> = (0..n).filter(|&i| done[i].is_none()).collect();
            if open.is_empty() {
                break 'rounds;
            }
            let Some(server) = *server else {
                for &i in &open {
                    last[i] = Some(DnsError::new(
                        format!("address {server_text}: bad name server address"),
                        fqdn,
                        server_text,
                        Code::Dns,
                    ));
                }
                continue;
            };
            let groups: Vec<Vec<usize>> = if conf.single_request {
                open.iter().map(|&i| vec![i]).collect()
            } else {
                vec![open]
            };
            for group in groups {
                let mut pending: Vec<Pending<'_>> = Vec::with_capacity(group.len());
                for &i in &group {
                    match msg::build_query(random_u16(), &questions[i], conf.trust_ad) {
                        Some(wire) => {
                            pending.push(Pending {
                                q: &questions[i],
                                id: u16::from_be_bytes([wire[0], wire[1]]),
                                wire,
                                outcome: None,
                            });
                        }
                        None => {
                            done[i] = Some(Err(DnsError::new(
                                "cannot marshal DNS message",
                                fqdn,
                                "",
                                Code::Dns,
                            )));
                        }
                    }
                }
                let targets: Vec<usize> = group
                    .iter()
                    .copied()
                    .filter(|&i| done[i].is_none())
                    .collect();
                exchange(server, &mut pending, conf, ctx);
                for (i, p) in targets.into_iter().zip(pending) {
                    match p.outcome {
                        Some(Ok(reply)) => match check(&reply, qtypes[i]) {
                            Ok(()) => done[i] = Some(Ok((reply, server_text.clone()))),
                            Err((err, code, true)) => {
                                done[i] = Some(Err(DnsError::new(err, fqdn, server_text, code)))
                            }
                            Err((err, code, false)) => {
                                last[i] = Some(DnsError::new(err, fqdn, server_text, code))
                            }
                        },
                        Some(Err(Failure::Server(err, code))) => {
                            last[i] = Some(DnsError::new(err, fqdn, server_text, code))
                        }
                        Some(Err(Failure::Stop(err, code))) => {
                            let e = DnsError::new(err, fqdn, server_text, code);
                            for slot in done.iter_mut().filter(|d| d.is_none()) {
                                *slot = Some(Err(e.clone()));
                            }
                            break 'rounds;
                        }
                        None => {}
                    }
                }
            }
        }
    }
    done.into_iter()
        .zip(last)
        .map(|(d, l)| {
            d.unwrap_or_else(|| {
                Err(l.unwrap_or_else(|| DnsError::new(NO_ANSWER, fqdn, "", Code::Dns)))
            })
        })
        .collect()
}

/// Whether an error ends a search: the lookup was cancelled or its
/// deadline passed.
pub fn stops(e: &DnsError, ctx: &Ctx<'_>) -> bool {
    e.stops() || ctx.cancelled() || now_ns() >= ctx.deadline
}
