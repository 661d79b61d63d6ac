//! Randomized stress of the C ABI: eight threads make a seeded, reproducible
//! stream of calls over one pool of handles (connections, listeners,
//! packet handles, dialers, closed and stale ones, made-up numbers), with
//! NULL and non-UTF-8 arguments, zero and random lengths within real
//! buffers, and closes racing reads, writes, accepts and deadline changes.
//!
//! What must hold for every call: it returns (a watchdog fails the run,
//! printing the seed, when one call or the whole run overruns), its result
//! is a documented code (`>= 0`, or `NET_EINVAL..=NET_EAGAIN` but never
//! `NET_EINTERNAL`, which would mean a panic reached the boundary), and a
//! failure leaves a message in `net_last_error`. Afterwards every handle
//! and descriptor the run made is gone.
//!
//! The order in which threads interleave is up to the scheduler, so a seed
//! replays each thread's choices, not the exact race. Replay with
//! `GONET_STRESS_SEED=<seed> cargo test --test stress -- --nocapture`.
//!
//! Every address dialed is on loopback or fails before any lookup (not
//! UTF-8, malformed, unknown network), so no packet leaves the machine.

mod common;
use common::*;
use gonet::*;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const THREADS: usize = 8;
/// Calls per thread; 8 x 131,072 = 1,048,576 calls per run.
const CALLS_PER_THREAD: u64 = 1 << 17;
const SLOTS: usize = 48;
const JANITOR_PERIOD: Duration = Duration::from_millis(20);
const LISTENERS: usize = 4;
/// The whole run must end within this, or the watchdog fails it.
const RUN_BUDGET: Duration = Duration::from_secs(240);
/// No single call may take longer than this: every blocking call has a
/// deadline of a few milliseconds or a dial timeout of at most 200 ms, so
/// this is a hang, not slowness. A read or accept with no deadline waits
/// for another thread to set one or to close the handle; the janitor sets
/// one on every handle in the pool every `JANITOR_PERIOD`, so that a
/// thread is not left waiting once the others have finished.
const CALL_BUDGET: Duration = Duration::from_secs(20);

/// splitmix64: small, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Where everything the threads share lives.
struct Pool {
    /// Handles of any kind, live or closed; 0 is an empty slot.
    slots: Vec<AtomicI64>,
    /// Listener handles, each also in `listener_addrs`.
    listeners: Vec<AtomicI64>,
    /// The address each listener had; a closed one refuses dials at once.
    listener_addrs: Mutex<Vec<String>>,
    /// Handles this run closed, to be used again as stale handles.
    closed: Mutex<Vec<i64>>,
    /// The highest handle seen, to make up handles that were never issued.
    highest: AtomicI64,
    unix_dir: String,
}

impl Pool {
    fn note(&self, h: i64) {
        if h > 0 {
            self.highest.fetch_max(h, Ordering::Relaxed);
        }
    }

    /// Puts a new handle in a slot and closes the one it replaces, so the
    /// pool never holds more than `SLOTS` open handles.
    fn place(&self, rng: &mut Rng, h: i64, calls: &mut Calls) {
        self.note(h);
        let old = self.slots[rng.below(SLOTS as u64) as usize].swap(h, Ordering::AcqRel);
        if old > 0 {
            calls.check("close", net_close(old));
            self.remember_closed(old);
        }
    }

    fn remember_closed(&self, h: i64) {
        let mut closed = self.closed.lock().unwrap();
        if closed.len() < 4096 {
            closed.push(h);
        }
    }

    /// A handle to use: mostly from the pool, sometimes stale or made up.
    fn pick(&self, rng: &mut Rng) -> i64 {
        match rng.below(100) {
            0..=79 => self.slots[rng.below(SLOTS as u64) as usize].load(Ordering::Acquire),
            80..=87 => self.listeners[rng.below(LISTENERS as u64) as usize].load(Ordering::Acquire),
            88..=92 => {
                let closed = self.closed.lock().unwrap();
                if closed.is_empty() {
                    0
                } else {
                    closed[rng.below(closed.len() as u64) as usize]
                }
            }
            // Far past the highest handle noted: handles are issued in
            // order, so one just above it may be one another thread was
            // just given and has not noted yet (a made-up close then
            // closed a new resolver under its maker). A run makes about a
            // million calls, so it never issues this many handles.
            93..=95 => self.highest.load(Ordering::Relaxed) + 100_000_000 + rng.below(1000) as i64,
            _ => match rng.below(5) {
                0 => 0,
                1 => -1,
                2 => i64::MIN,
                3 => i64::MAX,
                _ => rng.next() as i64,
            },
        }
    }

    fn listener_addr(&self, rng: &mut Rng) -> String {
        let addrs = self.listener_addrs.lock().unwrap();
        addrs[rng.below(addrs.len() as u64) as usize].clone()
    }
}

/// Checks each result and counts the calls of one thread.
struct Calls {
    count: u64,
    seed: u64,
    thread: usize,
    codes: [u64; 17],
}

/// Whether `name` is made of what DNS names are (letters, digits, '-',
/// '_' and dots) and is not all digits and dots: a name gonet would send
/// to a name server.
fn could_be_in_dns(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.bytes().any(|b| !b.is_ascii_digit() && b != b'.')
}

impl Calls {
    fn check(&mut self, op: &str, rc: i64) -> i64 {
        self.count += 1;
        let documented = rc >= 0 || (NET_EAGAIN..=NET_EINVAL).contains(&rc);
        assert!(
            documented && rc != NET_EINTERNAL,
            "seed {}: thread {} call {}: {op} returned {rc} ({})",
            self.seed,
            self.thread,
            self.count,
            last_error()
        );
        // Every name given is an IP literal, a path or not UTF-8: a failed
        // lookup of a name DNS could hold would mean it reached the
        // system's resolver, which this test must never make happen. A
        // raw IP socket takes "127.0.0.1:9" or a path as a host name, one
        // no server can hold, which fails without asking one
        // (tests/dns.rs, names_no_server_can_hold_are_never_sent).
        if rc == NET_ENOHOST {
            let msg = last_error();
            let asked = msg
                .split_once(": lookup ")
                .and_then(|(_, rest)| rest.strip_suffix(": no such host"));
            assert!(
                asked.is_some_and(|name| !could_be_in_dns(name)),
                "seed {}: {op} looked a name up: {msg}",
                self.seed
            );
        }
        if rc < 0 {
            self.codes[(-rc) as usize] += 1;
            let msg = last_error();
            assert!(
                !msg.is_empty(),
                "seed {}: thread {} call {}: {op} failed with {rc} and no message",
                self.seed,
                self.thread,
                self.count
            );
        } else {
            self.codes[0] += 1;
        }
        rc
    }
}

/// Strings to pass where the ABI takes one: valid, malformed, not UTF-8,
/// and NULL. None of them makes a lookup leave the machine.
fn some_string(rng: &mut Rng, pool: &Pool, scratch: &mut Vec<u8>) -> *const c_char {
    scratch.clear();
    match rng.below(12) {
        0 => return null(),
        1..=4 => scratch.extend_from_slice(pool.listener_addr(rng).as_bytes()),
        5 => scratch.extend_from_slice(b"127.0.0.1:1"),
        6 => scratch.extend_from_slice(b"127.0.0.1"),
        7 => scratch.extend_from_slice(b"[::1"),
        8 => scratch.extend_from_slice(b"\xff\xfe127.0.0.1:80"),
        9 => scratch.extend_from_slice(format!("{}/s{}", pool.unix_dir, rng.below(4)).as_bytes()),
        10 => scratch.extend_from_slice(format!("@gonet-stress-{}", rng.below(4)).as_bytes()),
        _ => {
            // Random bytes, made invalid UTF-8 by their first byte (0xff
            // starts no UTF-8 sequence), so they never reach a lookup.
            scratch.push(0xff);
            for _ in 0..rng.below(40) {
                scratch.push((rng.below(255) + 1) as u8);
            }
        }
    }
    scratch.push(0);
    scratch.as_ptr().cast()
}

fn some_network(rng: &mut Rng) -> *const c_char {
    let n: &CStr = match rng.below(16) {
        0 => return null(),
        1 => c"tcp6",
        2 => c"unix",
        3 => c"udp",
        4 => c"t\xffcp",
        5 => c"",
        6 => c"tcp4",
        _ => c"tcp",
    };
    n.as_ptr()
}

/// A deadline: mostly already passing, never long.
fn some_deadline(rng: &mut Rng) -> i64 {
    match rng.below(10) {
        0..=3 => 0,
        4..=7 => 1 + rng.below(3) as i64,
        8 => -1,
        _ => rng.below(10) as i64,
    }
}

/// A count, size or time for the option setters: small, zero, negative
/// or absurd.
fn some_count(rng: &mut Rng) -> i64 {
    match rng.below(6) {
        0 => 0,
        1 => -1,
        2 => rng.below(100_000) as i64,
        3 => i64::MAX,
        4 => i64::MIN,
        _ => rng.next() as i64,
    }
}

type ControlFn = unsafe extern "C" fn(*const c_char, *const c_char, c_int, *mut c_void) -> i64;
type FdFn = unsafe extern "C" fn(c_int, *mut c_void);

static CONTROL_CALLS: AtomicU64 = AtomicU64::new(0);

/// A control function for listen configs and dialers: checks what gonet
/// passes, and refuses every third socket (with a code, or with a value
/// that is no code) to exercise the failure paths.
unsafe extern "C" fn stress_control(
    network: *const c_char,
    address: *const c_char,
    fd: c_int,
    _arg: *mut c_void,
) -> i64 {
    assert!(!network.is_null() && !address.is_null());
    // SAFETY: the function only queries the descriptor.
    unsafe { stress_fd_check(fd, null_mut()) };
    match CONTROL_CALLS.fetch_add(1, Ordering::Relaxed) % 6 {
        0 => NET_ESYSTEM,
        3 => -1000,
        _ => 0,
    }
}

/// What `net_control` runs: the descriptor must be an open socket.
unsafe extern "C" fn stress_fd_check(fd: c_int, _arg: *mut c_void) {
    let mut t: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: t and len are live and sized for SO_TYPE.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut t as *mut c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(
        rc, 0,
        "a control function got descriptor {fd}, which is no open socket"
    );
}

/// The thread's share of the run.
fn worker(
    pool: &Pool,
    seed: u64,
    thread: usize,
    progress: &AtomicU64,
    busy_since: &AtomicI64,
    busy_what: &AtomicU64,
) -> u64 {
    let mut rng = Rng(seed ^ (thread as u64 + 1).wrapping_mul(0xa076_1d64_78bd_642f));
    let mut calls = Calls {
        count: 0,
        seed,
        thread,
        codes: [0; 17],
    };
    let mut buf = vec![0u8; 65536];
    let out: Vec<u8> = (0..65536).map(|i| i as u8).collect();
    let mut s1 = Vec::new();
    let mut s2 = Vec::new();
    let start = Instant::now();
    let tcp = c"tcp";
    while calls.count < CALLS_PER_THREAD {
        busy_since.store(start.elapsed().as_millis() as i64, Ordering::Relaxed);
        let h = pool.pick(&mut rng);
        let choice = rng.below(140);
        busy_what.store(
            choice * 1_000_000_000_000 + h.rem_euclid(1_000_000_000_000) as u64,
            Ordering::Relaxed,
        );
        let len = match rng.below(4) {
            0 => 0,
            1 => 1 + rng.below(16) as usize,
            _ => rng.below(buf.len() as u64 + 1) as usize,
        };
        // SAFETY (for every call below): pointers are NULL or point into
        // live buffers valid for the length passed, and strings are
        // NUL-terminated.
        unsafe {
            match choice {
                0..=17 => {
                    if rng.chance(80) {
                        calls.check(
                            "set_read_deadline",
                            net_set_read_deadline(h, some_deadline(&mut rng)),
                        );
                    }
                    let p = if len == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        buf.as_mut_ptr()
                    };
                    calls.check("read", net_read(h, p.cast(), len));
                }
                18..=31 => {
                    if rng.chance(80) {
                        calls.check(
                            "set_write_deadline",
                            net_set_write_deadline(h, some_deadline(&mut rng)),
                        );
                    }
                    let p = if len == 0 && rng.chance(50) {
                        null()
                    } else {
                        out.as_ptr()
                    };
                    calls.check("write", net_write(h, p.cast(), len));
                }
                32..=37 => {
                    if rng.chance(80) {
                        calls.check("set_deadline", net_set_deadline(h, some_deadline(&mut rng)));
                    }
                    let c = calls.check("accept", net_accept(h));
                    if c > 0 {
                        pool.place(&mut rng, c, &mut calls);
                    }
                }
                38..=43 => {
                    let addr = pool.listener_addr(&mut rng);
                    let addr = cstr(&addr);
                    let c = calls.check(
                        "dial_timeout",
                        net_dial_timeout(tcp.as_ptr(), addr.as_ptr(), 1 + rng.below(200) as i64),
                    );
                    if c > 0 {
                        pool.place(&mut rng, c, &mut calls);
                    }
                }
                44..=46 => {
                    // Arbitrary arguments: most fail before any socket.
                    let net = some_network(&mut rng);
                    let addr = some_string(&mut rng, pool, &mut s1);
                    let c = calls.check(
                        "dial_timeout",
                        net_dial_timeout(net, addr, 1 + rng.below(50) as i64),
                    );
                    if c > 0 {
                        pool.place(&mut rng, c, &mut calls);
                    }
                }
                47..=48 => {
                    let net = some_network(&mut rng);
                    let addr = some_string(&mut rng, pool, &mut s1);
                    let l = calls.check("listen", net_listen(net, addr));
                    if l > 0 {
                        pool.place(&mut rng, l, &mut calls);
                    }
                }
                49..=54 => {
                    // Closes race everything else; often a listener, which
                    // is then replaced so that dials have somewhere to go.
                    if rng.chance(20) {
                        let i = rng.below(LISTENERS as u64) as usize;
                        let old = pool.listeners[i].load(Ordering::Acquire);
                        if calls.check("close", net_close(old)) == 0 {
                            pool.remember_closed(old);
                        }
                        let l = calls
                            .check("listen", net_listen(tcp.as_ptr(), c"127.0.0.1:0".as_ptr()));
                        assert!(
                            l > 0,
                            "seed {seed}: listen on loopback failed: {}",
                            last_error()
                        );
                        pool.note(l);
                        let addr = local_addr(l);
                        calls.count += 1;
                        if pool.listeners[i]
                            .compare_exchange(old, l, Ordering::AcqRel, Ordering::Acquire)
                            .is_ok()
                        {
                            pool.listener_addrs.lock().unwrap()[i] = addr;
                        } else {
                            calls.check("close", net_close(l));
                        }
                    } else if calls.check("close", net_close(h)) == 0 {
                        pool.remember_closed(h);
                    }
                }
                55..=58 => {
                    let p = if len == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        buf.as_mut_ptr()
                    };
                    match rng.below(3) {
                        0 => {
                            calls.check("local_addr", net_local_addr(h, p.cast(), len.min(300)));
                        }
                        1 => {
                            calls.check("remote_addr", net_remote_addr(h, p.cast(), len.min(300)));
                        }
                        _ => {
                            // A descriptor, or a documented code for a
                            // dialer, a closed or a made-up handle.
                            let fd = calls.check("fd", net_fd(h));
                            assert!(
                                fd >= 0 || fd == NET_ECLOSED || fd == NET_EINVAL,
                                "seed {seed}: net_fd({h}) returned {fd}"
                            );
                        }
                    }
                }
                59..=62 => match rng.below(4) {
                    0 => {
                        calls.check("close_read", net_close_read(h));
                    }
                    1 => {
                        calls.check("close_write", net_close_write(h));
                    }
                    2 => {
                        calls.check("set_nodelay", net_set_nodelay(h, rng.below(2) as i32));
                    }
                    _ => {
                        calls.check(
                            "set_keepalive",
                            net_set_keepalive(h, rng.below(3000) as i64 - 1000),
                        );
                    }
                },
                63..=67 => {
                    if rng.chance(70) {
                        calls.check("set_deadline", net_set_deadline(h, some_deadline(&mut rng)));
                    } else {
                        calls.check(
                            "set_write_deadline",
                            net_set_write_deadline(h, some_deadline(&mut rng)),
                        );
                    }
                }
                68..=71 => {
                    let d = calls.check("dialer_new", net_dialer_new());
                    assert!(d > 0, "seed {seed}: dialer_new failed");
                    pool.place(&mut rng, d, &mut calls);
                }
                72..=79 => match rng.below(6) {
                    0 => {
                        calls.check(
                            "dialer_set_timeout",
                            net_dialer_set_timeout(h, 1 + rng.below(200) as i64),
                        );
                    }
                    1 => {
                        let a = match rng.below(4) {
                            0 => null(),
                            1 => c"127.0.0.1:0".as_ptr(),
                            2 => c"[::1]:0".as_ptr(),
                            _ => some_string(&mut rng, pool, &mut s1),
                        };
                        calls.check("dialer_set_local_addr", net_dialer_set_local_addr(h, a));
                    }
                    2 => {
                        calls.check(
                            "dialer_set_fallback_delay",
                            net_dialer_set_fallback_delay(h, rng.below(600) as i64 - 100),
                        );
                    }
                    3 => {
                        calls.check(
                            "dialer_set_keepalive",
                            net_dialer_set_keepalive(h, rng.below(30000) as i64 - 1000),
                        );
                    }
                    4 => {
                        calls.check("dialer_cancel", net_dialer_cancel(h));
                    }
                    _ => {
                        // A dial through a dialer is bounded by the timeout
                        // this thread sets first; other threads only ever
                        // set positive ones, so none is unbounded.
                        if calls.check(
                            "dialer_set_timeout",
                            net_dialer_set_timeout(h, 1 + rng.below(200) as i64),
                        ) == 0
                        {
                            let addr = cstr(&pool.listener_addr(&mut rng));
                            let net = if rng.chance(90) {
                                tcp.as_ptr()
                            } else {
                                some_network(&mut rng)
                            };
                            let c =
                                calls.check("dialer_dial", net_dialer_dial(h, net, addr.as_ptr()));
                            if c > 0 {
                                pool.place(&mut rng, c, &mut calls);
                            }
                        }
                    }
                },
                80..=85 => {
                    let a = some_string(&mut rng, pool, &mut s1);
                    let hl = rng.below(64) as usize;
                    let pl = rng.below(64) as usize;
                    let (hb, pb) = buf.split_at_mut(64);
                    let hp = if hl == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        hb.as_mut_ptr()
                    };
                    let pp = if pl == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        pb.as_mut_ptr()
                    };
                    calls.check(
                        "split_host_port",
                        net_split_host_port(a, hp.cast(), hl, pp.cast(), pl),
                    );
                }
                86..=90 => {
                    let host = some_string(&mut rng, pool, &mut s1);
                    let port = some_string(&mut rng, pool, &mut s2);
                    let p = if len == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        buf.as_mut_ptr()
                    };
                    calls.check(
                        "join_host_port",
                        net_join_host_port(host, port, p.cast(), len.min(128)),
                    );
                }
                91..=93 => {
                    // Only literals, NULL and non-UTF-8: a name would be
                    // looked up by the system's resolver.
                    let host: *const c_char = match rng.below(5) {
                        0 => null(),
                        1 => c"127.0.0.1".as_ptr(),
                        2 => c"::1".as_ptr(),
                        3 => c"fe80::1%lo".as_ptr(),
                        _ => c"\xff\xfe".as_ptr(),
                    };
                    let p = if len == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        buf.as_mut_ptr()
                    };
                    calls.check("lookup_host", net_lookup_host(host, p.cast(), len.min(64)));
                }
                94..=95 => {
                    let service: *const c_char = match rng.below(5) {
                        0 => null(),
                        1 => c"http".as_ptr(),
                        2 => c"65536".as_ptr(),
                        3 => c"\xff".as_ptr(),
                        _ => c"8080".as_ptr(),
                    };
                    calls.check(
                        "lookup_port",
                        net_lookup_port(some_network(&mut rng), service),
                    );
                }
                100..=102 => {
                    // Packet handles (udp, unixgram) join the pool.
                    let (net, addr) = match rng.below(4) {
                        0 => (c"udp".as_ptr(), c"127.0.0.1:0".as_ptr()),
                        1 => (c"udp6".as_ptr(), c"[::1]:0".as_ptr()),
                        2 => (c"unixgram".as_ptr(), c"".as_ptr()),
                        _ => (some_network(&mut rng), some_string(&mut rng, pool, &mut s1)),
                    };
                    let p = calls.check("listen_packet", net_listen_packet(net, addr));
                    if p > 0 {
                        pool.place(&mut rng, p, &mut calls);
                    }
                }
                103..=105 => {
                    if rng.chance(80) {
                        calls.check(
                            "set_read_deadline",
                            net_set_read_deadline(h, some_deadline(&mut rng)),
                        );
                    }
                    let p = if len == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        buf.as_mut_ptr()
                    };
                    let mut from = [0 as c_char; 80];
                    let from_len = rng.below(81) as usize;
                    let f = if from_len == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        from.as_mut_ptr()
                    };
                    calls.check("read_from", net_read_from(h, p.cast(), len, f, from_len));
                }
                106..=108 => {
                    // Destinations are on loopback, local paths, or fail
                    // before any lookup.
                    let to = some_string(&mut rng, pool, &mut s1);
                    let p = if len == 0 && rng.chance(50) {
                        null()
                    } else {
                        out.as_ptr()
                    };
                    calls.check("write_to", net_write_to(h, p.cast(), len, to));
                }
                109 => {
                    // Interfaces and their addresses, of every interface,
                    // of one, of none, of a name that is not UTF-8.
                    let p = if len == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        buf.as_mut_ptr()
                    };
                    let len = len.min(512);
                    if rng.chance(40) {
                        calls.check("interfaces", net_interfaces(p.cast(), len));
                    } else {
                        let name: *const c_char = match rng.below(5) {
                            0 => null(),
                            1 => c"lo".as_ptr(),
                            2 => c"nosuchif0".as_ptr(),
                            3 => c"\xff\xfe".as_ptr(),
                            _ => some_string(&mut rng, pool, &mut s1),
                        };
                        calls.check("interface_addrs", net_interface_addrs(name, p.cast(), len));
                    }
                }
                110 => {
                    // Raw IP handles, made and used here only with IP
                    // literals (a host with a port would be looked up as
                    // a name), then closed: they never join the pool.
                    let (net, host): (&CStr, &CStr) = match rng.below(6) {
                        0 => (c"ip4:icmp", c"127.0.0.1"),
                        1 => (c"ip6:ipv6-icmp", c"::1"),
                        2 => (c"ip4:1", c""),
                        3 => (c"ip4", c"127.0.0.1"),
                        4 => (c"ip4:nope", c"127.0.0.1"),
                        _ => (c"ip6:58", c"127.0.0.1"),
                    };
                    let r = if rng.chance(50) {
                        calls.check("dial", net_dial(net.as_ptr(), host.as_ptr()))
                    } else {
                        calls.check(
                            "listen_packet",
                            net_listen_packet(net.as_ptr(), host.as_ptr()),
                        )
                    };
                    if r > 0 {
                        calls.check("set_deadline", net_set_deadline(r, rng.below(3) as i64));
                        let p = if len == 0 && rng.chance(50) {
                            null()
                        } else {
                            out.as_ptr()
                        };
                        calls.check("write", net_write(r, p.cast(), len.min(2048)));
                        let to = [
                            c"127.0.0.1".as_ptr(),
                            c"::1".as_ptr(),
                            null(),
                            c"\xff".as_ptr(),
                        ][rng.below(4) as usize];
                        calls.check("write_to", net_write_to(r, p.cast(), len.min(2048), to));
                        let q = if len == 0 && rng.chance(50) {
                            null_mut()
                        } else {
                            buf.as_mut_ptr()
                        };
                        calls.check("read", net_read(r, q.cast(), len));
                        let mut from = [0 as c_char; 64];
                        let fl = rng.below(65) as usize;
                        calls.check(
                            "read_from",
                            net_read_from(r, q.cast(), len, from.as_mut_ptr(), fl),
                        );
                        calls.check("close", net_close(r));
                    }
                }
                112..=117 => {
                    // The non-blocking calls: never wait, whatever the
                    // handle; NET_EAGAIN is one of their answers.
                    let p = if len == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        buf.as_mut_ptr()
                    };
                    let q = if len == 0 && rng.chance(50) {
                        null()
                    } else {
                        out.as_ptr()
                    };
                    let len = if rng.chance(2) { usize::MAX - len } else { len };
                    match rng.below(5) {
                        0 => {
                            calls.check("try_read", net_try_read(h, p.cast(), len));
                        }
                        1 => {
                            calls.check("try_write", net_try_write(h, q.cast(), len));
                        }
                        2 => {
                            let c = calls.check("try_accept", net_try_accept(h));
                            if c > 0 {
                                pool.place(&mut rng, c, &mut calls);
                            }
                        }
                        3 => {
                            let mut from = [0 as c_char; 80];
                            let from_len = rng.below(81) as usize;
                            let f = if from_len == 0 && rng.chance(50) {
                                null_mut()
                            } else {
                                from.as_mut_ptr()
                            };
                            calls.check(
                                "try_read_from",
                                net_try_read_from(h, p.cast(), len, f, from_len),
                            );
                        }
                        _ => {
                            let to = some_string(&mut rng, pool, &mut s1);
                            calls.check("try_write_to", net_try_write_to(h, q.cast(), len, to));
                        }
                    }
                }
                118..=119 => {
                    let lc = calls.check("listen_config_new", net_listen_config_new());
                    assert!(lc > 0, "seed {seed}: listen_config_new failed");
                    pool.place(&mut rng, lc, &mut calls);
                }
                120..=122 => match rng.below(7) {
                    0 => {
                        calls.check(
                            "listen_config_set_reuseport",
                            net_listen_config_set_reuseport(h, rng.below(3) as i64 - 1),
                        );
                    }
                    1 => {
                        calls.check(
                            "listen_config_set_backlog",
                            net_listen_config_set_backlog(h, rng.next() as i64),
                        );
                    }
                    2 => {
                        calls.check(
                            "listen_config_set_keepalive",
                            net_listen_config_set_keepalive(h, rng.next() as i64),
                        );
                    }
                    3 => {
                        calls.check(
                            "listen_config_set_keepalive_config",
                            net_listen_config_set_keepalive_config(
                                h,
                                some_count(&mut rng),
                                some_count(&mut rng),
                                some_count(&mut rng),
                            ),
                        );
                    }
                    4 => {
                        let f = if rng.chance(70) {
                            Some(stress_control as ControlFn)
                        } else {
                            None
                        };
                        if rng.chance(50) {
                            calls.check(
                                "listen_config_set_control",
                                net_listen_config_set_control(h, f, null_mut()),
                            );
                        } else {
                            calls.check(
                                "dialer_set_control",
                                net_dialer_set_control(h, f, null_mut()),
                            );
                        }
                    }
                    5 => {
                        calls.check(
                            "dialer_set_keepalive_config",
                            net_dialer_set_keepalive_config(
                                h,
                                some_count(&mut rng),
                                some_count(&mut rng),
                                some_count(&mut rng),
                            ),
                        );
                    }
                    _ => {
                        let (net, addr) = match rng.below(4) {
                            0 => (tcp.as_ptr(), c"127.0.0.1:0".as_ptr()),
                            1 => (c"udp".as_ptr(), c"127.0.0.1:0".as_ptr()),
                            _ => (some_network(&mut rng), some_string(&mut rng, pool, &mut s1)),
                        };
                        let l = if rng.chance(50) {
                            calls.check(
                                "listen_config_listen",
                                net_listen_config_listen(h, net, addr),
                            )
                        } else {
                            calls.check(
                                "listen_config_listen_packet",
                                net_listen_config_listen_packet(h, net, addr),
                            )
                        };
                        if l > 0 {
                            pool.place(&mut rng, l, &mut calls);
                        }
                    }
                },
                128..=131 => match rng.below(4) {
                    // Descriptor passing, credentials and vectored writes:
                    // on any handle, with NULL arrays and absurd counts.
                    0 => {
                        let fds: [c_int; 3] = [0, 1, 2];
                        let (f, n) = match rng.below(4) {
                            0 => (null(), 0),
                            1 => (null(), 1 + rng.below(300) as usize),
                            2 => (fds.as_ptr(), rng.below(4) as usize),
                            _ => (fds.as_ptr(), 254 + rng.below(1000) as usize),
                        };
                        let p = if len == 0 && rng.chance(50) {
                            null()
                        } else {
                            out.as_ptr()
                        };
                        if rng.chance(80) {
                            calls.check(
                                "set_write_deadline",
                                net_set_write_deadline(h, some_deadline(&mut rng)),
                            );
                        }
                        calls.check(
                            "write_msg_unix",
                            net_write_msg_unix(h, p.cast(), len.min(4096), f, n),
                        );
                    }
                    1 => {
                        let mut fds = [-1 as c_int; 4];
                        let mut n: usize = 0;
                        let (f, cap) = match rng.below(3) {
                            0 => (null_mut(), 0),
                            1 => (null_mut(), 1 + rng.below(8) as usize),
                            _ => (fds.as_mut_ptr(), rng.below(5) as usize),
                        };
                        let np = if rng.chance(20) {
                            null_mut()
                        } else {
                            &mut n as *mut usize
                        };
                        if rng.chance(80) {
                            calls.check(
                                "set_read_deadline",
                                net_set_read_deadline(h, some_deadline(&mut rng)),
                            );
                        }
                        let p = if len == 0 && rng.chance(50) {
                            null_mut()
                        } else {
                            buf.as_mut_ptr()
                        };
                        let rc = calls.check(
                            "read_msg_unix",
                            net_read_msg_unix(h, p.cast(), len, f, cap, np),
                        );
                        // Received descriptors are this thread's to close.
                        if !np.is_null() && !f.is_null() && (rc >= 0 || rc == NET_EMSGSIZE) {
                            for fd in &fds[..n.min(cap)] {
                                libc::close(*fd);
                            }
                        }
                    }
                    2 => {
                        let (mut a, mut b) = (0i64, 0i64);
                        let (pa, pb) = if rng.chance(30) {
                            (null_mut(), null_mut())
                        } else {
                            (&mut a as *mut i64, &mut b as *mut i64)
                        };
                        calls.check("unix_peer_cred", net_unix_peer_cred(h, pa, pb, null_mut()));
                    }
                    _ => {
                        let half = len / 2;
                        let iov = [
                            libc::iovec {
                                iov_base: out.as_ptr().cast_mut().cast(),
                                iov_len: half,
                            },
                            libc::iovec {
                                iov_base: if rng.chance(10) {
                                    null_mut()
                                } else {
                                    out[half..].as_ptr().cast_mut().cast()
                                },
                                iov_len: len - half,
                            },
                        ];
                        let (v, n) = match rng.below(5) {
                            0 => (null(), 0),
                            1 => (null(), 1 + rng.below(3) as c_int),
                            2 => (iov.as_ptr(), -1 - rng.below(5) as c_int),
                            _ => (iov.as_ptr(), rng.below(3) as c_int),
                        };
                        if rng.chance(80) {
                            calls.check(
                                "set_write_deadline",
                                net_set_write_deadline(h, some_deadline(&mut rng)),
                            );
                        }
                        calls.check("writev", net_writev(h, v, n));
                    }
                },
                126..=127 => {
                    // Descriptors in: the pool's own (duplicated by net_file),
                    // and numbers that are no socket or not open.
                    let fd = match rng.below(4) {
                        0 => -1,
                        1 => c_int::MAX,
                        _ => calls.check("file", net_file(h)) as c_int,
                    };
                    let adopted = match rng.below(3) {
                        0 => calls.check("file_conn", net_file_conn(fd)),
                        1 => calls.check("file_listener", net_file_listener(fd)),
                        _ => calls.check("file_packet_conn", net_file_packet_conn(fd)),
                    };
                    if fd >= 0 && fd != c_int::MAX {
                        // The copy net_file gave is this thread's to close.
                        libc::close(fd);
                    }
                    if adopted > 0 {
                        pool.place(&mut rng, adopted, &mut calls);
                    }
                }
                123..=125 => match rng.below(5) {
                    0 => {
                        let f = if rng.chance(95) {
                            Some(stress_fd_check as FdFn)
                        } else {
                            None
                        };
                        calls.check("control", net_control(h, f, null_mut()));
                    }
                    1 => {
                        calls.check("set_linger", net_set_linger(h, some_count(&mut rng)));
                    }
                    2 => {
                        calls.check(
                            "set_read_buffer",
                            net_set_read_buffer(h, some_count(&mut rng)),
                        );
                    }
                    3 => {
                        calls.check(
                            "set_write_buffer",
                            net_set_write_buffer(h, some_count(&mut rng)),
                        );
                    }
                    _ => {
                        calls.check(
                            "set_keepalive_config",
                            net_set_keepalive_config(
                                h,
                                some_count(&mut rng),
                                some_count(&mut rng),
                                some_count(&mut rng),
                            ),
                        );
                    }
                },
                132..=139 => {
                    // Resolvers: made with a loopback name server that
                    // nothing answers on, and given only loopback ones, so
                    // no lookup leaves the machine; names are literals,
                    // rooted .onion names (never sent to DNS), NULL and
                    // not UTF-8. Any handle may be passed, 0 (the default
                    // resolver) included.
                    let servers: *const c_char = match rng.below(5) {
                        0 => c"127.0.0.1:9".as_ptr(),
                        1 => c"[::1]:9,127.0.0.1:9".as_ptr(),
                        2 => c"ns.example:53".as_ptr(),
                        3 => c"\xff".as_ptr(),
                        _ => c"127.0.0.1".as_ptr(),
                    };
                    let name: *const c_char = match rng.below(5) {
                        0 => null(),
                        1 => c"x.onion.".as_ptr(),
                        2 => c"\xff\xfe".as_ptr(),
                        3 => c"_a._b.onion.".as_ptr(),
                        _ => c"nope.onion.".as_ptr(),
                    };
                    let p = if len == 0 && rng.chance(50) {
                        null_mut()
                    } else {
                        buf.as_mut_ptr()
                    };
                    let l = len.min(64);
                    // A .onion name is "no such host" without a query.
                    let mut lookup = |op: &str, rc: i64| {
                        if rc != NET_ENOHOST {
                            calls.check(op, rc);
                        } else {
                            calls.count += 1;
                        }
                    };
                    match rng.below(12) {
                        0 => {
                            let r = net_resolver_new();
                            assert!(r > 0, "seed {seed}: resolver_new failed");
                            assert_eq!(net_resolver_set_servers(r, c"127.0.0.1:9".as_ptr()), 0);
                            assert_eq!(net_resolver_set_timeout(r, 50), 0);
                            calls.count += 3;
                            pool.place(&mut rng, r, &mut calls);
                        }
                        1 if h != 0 => {
                            lookup("resolver_set_servers", net_resolver_set_servers(h, servers))
                        }
                        2 if h != 0 => lookup(
                            "resolver_set_timeout",
                            net_resolver_set_timeout(h, 1 + rng.below(100) as i64),
                        ),
                        3 => lookup("resolver_cancel", net_resolver_cancel(h)),
                        4 => lookup(
                            "dialer_set_resolver",
                            net_dialer_set_resolver(h, pool.pick(&mut rng)),
                        ),
                        5 => {
                            let host: *const c_char = match rng.below(4) {
                                0 => null(),
                                1 => c"127.0.0.1".as_ptr(),
                                2 => c"::1".as_ptr(),
                                _ => c"\xff".as_ptr(),
                            };
                            let net = match rng.below(4) {
                                0 => c"ip".as_ptr(),
                                1 => c"ip6".as_ptr(),
                                2 => c"tcp".as_ptr(),
                                _ => null(),
                            };
                            lookup("lookup_ip", net_lookup_ip(h, net, host, p.cast(), l));
                        }
                        6 => {
                            let addr = if rng.chance(50) {
                                null()
                            } else {
                                c"not-an-ip".as_ptr()
                            };
                            lookup("lookup_addr", net_lookup_addr(h, addr, p.cast(), l));
                        }
                        7 => lookup("lookup_cname", net_lookup_cname(h, name, p.cast(), l)),
                        8 => lookup("lookup_mx", net_lookup_mx(h, name, p.cast(), l)),
                        9 => lookup("lookup_ns", net_lookup_ns(h, name, p.cast(), l)),
                        10 => {
                            let (svc, proto) = if rng.chance(50) {
                                (c"".as_ptr(), c"".as_ptr())
                            } else {
                                (some_string(&mut rng, pool, &mut s1), some_network(&mut rng))
                            };
                            lookup(
                                "lookup_srv",
                                net_lookup_srv(h, svc, proto, name, p.cast(), l),
                            );
                        }
                        _ => lookup("lookup_txt", net_lookup_txt(h, name, p.cast(), l)),
                    }
                }
                _ => {
                    let code = match rng.below(3) {
                        0 => -(rng.below(16) as i64),
                        1 => rng.next() as i64,
                        _ => i64::MIN,
                    };
                    let text = net_strerror(code);
                    calls.count += 1;
                    assert!(
                        !text.is_null() && !CStr::from_ptr(text).to_bytes().is_empty(),
                        "seed {seed}: net_strerror({code}) empty"
                    );
                    assert!(!net_version().is_null());
                }
            }
        }
        progress.fetch_add(1, Ordering::Relaxed);
        busy_since.store(-1, Ordering::Relaxed);
    }
    let mut summary = format!(
        "thread {thread}: {} calls in {:?}; results",
        calls.count,
        start.elapsed()
    );
    for (i, n) in calls.codes.iter().enumerate() {
        if *n > 0 {
            summary += &format!(" {}:{n}", -(i as i64));
        }
    }
    println!("{summary}");
    calls.count
}

fn seed() -> u64 {
    match std::env::var("GONET_STRESS_SEED") {
        Ok(s) => s.trim().parse().expect("GONET_STRESS_SEED is a u64"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

/// The two tests here run one after the other: the second's child
/// process would otherwise show up in the first's descriptor count.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn a_million_random_calls_from_eight_threads() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let seed = seed();
    println!("stress seed {seed} (replay with GONET_STRESS_SEED={seed})");
    // Print the seed with any failure, whichever thread it is in.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("stress run failed; replay with GONET_STRESS_SEED={seed}");
        default_hook(info);
    }));

    // Warm up this thread's waker so it is not counted as left open.
    let (l, c, s) = tcp_pair();
    for h in [c, s, l] {
        net_close(h);
    }
    let handles_before = gonet::testing::open_handles();
    let fds_before = open_fds();

    let unix_dir = scratch("stress_unix");
    // Unix listens on arbitrary strings ("127.0.0.1", "[::1") make socket
    // files relative to the working directory: keep them out of the tree.
    // The two tests of this binary never run at once (ONE_AT_A_TIME).
    std::env::set_current_dir(&unix_dir).expect("enter the scratch directory");
    let listeners: Vec<i64> = (0..LISTENERS)
        .map(|_| listen("tcp", "127.0.0.1:0"))
        .collect();
    let pool = Arc::new(Pool {
        slots: (0..SLOTS).map(|_| AtomicI64::new(0)).collect(),
        listener_addrs: Mutex::new(listeners.iter().map(|&l| local_addr(l)).collect()),
        listeners: listeners.iter().map(|&l| AtomicI64::new(l)).collect(),
        closed: Mutex::new(Vec::new()),
        highest: AtomicI64::new(*listeners.iter().max().unwrap()),
        unix_dir: unix_dir.display().to_string(),
    });

    let progress: Arc<Vec<AtomicU64>> = Arc::new((0..THREADS).map(|_| AtomicU64::new(0)).collect());
    let busy: Arc<Vec<AtomicI64>> = Arc::new((0..THREADS).map(|_| AtomicI64::new(-1)).collect());
    let failed = Arc::new(AtomicBool::new(false));
    // What each thread is doing: the operation's number (see `worker`)
    // times 10^12 plus the handle it picked.
    let what: Arc<Vec<AtomicU64>> = Arc::new((0..THREADS).map(|_| AtomicU64::new(0)).collect());
    let start = Instant::now();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (pool, progress, busy, failed, what) = (
                pool.clone(),
                progress.clone(),
                busy.clone(),
                failed.clone(),
                what.clone(),
            );
            thread::Builder::new()
                .name(format!("stress-{t}"))
                .spawn(move || {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        worker(&pool, seed, t, &progress[t], &busy[t], &what[t])
                    }));
                    r.unwrap_or_else(|_| {
                        failed.store(true, Ordering::Relaxed);
                        0
                    })
                })
                .unwrap()
        })
        .collect();

    let done = Arc::new(AtomicBool::new(false));
    let janitor = {
        let (pool, done) = (pool.clone(), done.clone());
        thread::spawn(move || {
            let mut rng = Rng(seed);
            while !done.load(Ordering::Relaxed) {
                for slot in pool.slots.iter().chain(pool.listeners.iter()) {
                    let rc = net_set_deadline(slot.load(Ordering::Acquire), rng.below(5) as i64);
                    assert!(
                        rc == 0 || rc == NET_ECLOSED || rc == NET_EINVAL,
                        "set_deadline: {rc}"
                    );
                }
                thread::sleep(JANITOR_PERIOD);
            }
        })
    };

    // The watchdog: a run or a call that overruns is a hang. Hung threads
    // cannot be joined, so it reports and exits the process, which fails
    // the test.
    while !workers.iter().all(|w| w.is_finished()) {
        thread::sleep(Duration::from_millis(100));
        let elapsed = start.elapsed();
        let stuck = busy.iter().enumerate().find(|(_, b)| {
            let since = b.load(Ordering::Relaxed);
            since >= 0 && elapsed.as_millis() as i64 - since > CALL_BUDGET.as_millis() as i64
        });
        if elapsed > RUN_BUDGET || stuck.is_some() {
            let done: Vec<u64> = progress.iter().map(|p| p.load(Ordering::Relaxed)).collect();
            eprintln!(
                "stress run hung (seed {seed}): after {elapsed:?}, calls done per thread {done:?}, stuck thread {:?} (operation {:?}); replay with GONET_STRESS_SEED={seed}",
                stuck.map(|(t, _)| t),
                stuck.map(|(t, _)| {
                    let w = what[t].load(Ordering::Relaxed);
                    (w / 1_000_000_000_000, w % 1_000_000_000_000)
                })
            );
            std::process::exit(101);
        }
    }
    done.store(true, Ordering::Relaxed);
    janitor.join().unwrap();
    let total: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let took = start.elapsed();
    assert!(
        !failed.load(Ordering::Relaxed),
        "seed {seed}: a worker failed (see above)"
    );
    println!("{total} calls by {THREADS} threads in {took:?}");
    assert!(total >= THREADS as u64 * CALLS_PER_THREAD);

    // Everything the run opened is closed now; nothing is left behind.
    for slot in pool.slots.iter().chain(pool.listeners.iter()) {
        let h = slot.swap(0, Ordering::AcqRel);
        if h > 0 {
            let rc = net_close(h);
            assert!(rc == 0 || rc == NET_ECLOSED, "close: {rc}");
        }
    }
    assert_eq!(
        gonet::testing::open_handles(),
        handles_before,
        "seed {seed}: handles left open"
    );
    // Descriptors of closed handles go once the last call lets go of them,
    // and each worker's waker went with its thread.
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_fds() != fds_before && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(open_fds(), fds_before, "seed {seed}: descriptors left open");
}

/// The same run with the wake signal off (`GONET_WAKE_SIGNAL=0`), so that
/// reads without a deadline poll instead of blocking in `recv`. The signal
/// is chosen once per process, hence the child process.
#[test]
fn a_million_random_calls_with_the_wake_signal_off() {
    rerun_with_zero("GONET_WAKE_SIGNAL");
}

/// The same run without biased locks (`GONET_BIASED_LOCKS=0`), so that
/// every direction lock is taken with a compare-and-swap (src/poll/lock.rs).
#[test]
fn a_million_random_calls_without_biased_locks() {
    rerun_with_zero("GONET_BIASED_LOCKS");
}

/// The eight-thread run in a child process with `var=0` and this run's seed.
fn rerun_with_zero(var: &str) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let seed = seed();
    expect_one_passed(
        test_child(&[], "a_million_random_calls_from_eight_threads", false)
            .env(var, "0")
            .env("GONET_STRESS_SEED", seed.to_string()),
        &format!("with {var}=0 (replay with GONET_STRESS_SEED={seed})"),
    );
}
