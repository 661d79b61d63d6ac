//! Exhaustion: out of descriptors, `net_accept` fails at once with a clear
//! error instead of spinning, the listener stays usable and accepts again
//! once descriptors are free; the C echo server rides it out the same way;
//! and a writer whose peer never reads ends at its write deadline.
//!
//! Lowering RLIMIT_NOFILE would also starve the test harness, so the test
//! that does it runs in a child process: the outer test re-runs this
//! binary's ignored inner test with `GONET_EXHAUSTION_CHILD` set.

mod common;
use common::*;
use gonet::*;

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "GONET_EXHAUSTION_CHILD";

#[test]
fn accept_out_of_descriptors_fails_clearly_and_recovers() {
    expect_one_passed(
        test_child(&[], "child_accept_with_rlimit_nofile_lowered", true).env(CHILD_ENV, "1"),
        "the child failed",
    );
}

#[test]
#[ignore = "lowers RLIMIT_NOFILE; run by accept_out_of_descriptors_fails_clearly_and_recovers"]
fn child_accept_with_rlimit_nofile_lowered() {
    assert_eq!(
        std::env::var(CHILD_ENV).as_deref(),
        Ok("1"),
        "run only as a child of accept_out_of_descriptors_fails_clearly_and_recovers"
    );
    // A wait with a deadline makes this thread's waker (an eventfd) now,
    // while descriptors are still to be had.
    let (l0, c0, s0) = tcp_pair();
    net_set_read_deadline(c0, 1);
    assert_eq!(read(c0, &mut [0u8; 8]), NET_ETIMEOUT);
    for h in [c0, s0, l0] {
        net_close(h);
    }

    let limit = open_fds() as u64 + 32;
    let rl = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: setrlimit reads a live rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) }, 0);

    let l = listen("tcp", "127.0.0.1:0");
    let laddr = local_addr(l);
    // A connection on which nothing is sent, made while descriptors last.
    let quiet = dial("tcp", &laddr);
    let quiet_peer = net_accept(l);
    assert!(quiet_peer > 0, "{}", last_error());
    let clients: Vec<i64> = (0..3).map(|_| dial("tcp", &laddr)).collect();

    // Use up every descriptor left.
    let mut hogs = Vec::new();
    loop {
        // SAFETY: dup of standard input has no memory effects.
        let fd = unsafe { libc::dup(0) };
        if fd < 0 {
            assert_eq!(
                std::io::Error::last_os_error().raw_os_error(),
                Some(libc::EMFILE)
            );
            break;
        }
        hogs.push(fd);
        assert!(
            hogs.len() < 64,
            "the limit of {limit} descriptors does not bite"
        );
    }

    // Three connections wait in the queue; each accept fails at once.
    for _ in 0..3 {
        let start = Instant::now();
        assert_eq!(net_accept(l), NET_ESYSTEM);
        let took = start.elapsed();
        assert_eq!(
            last_error(),
            format!("accept tcp {laddr}: accept: too many open files")
        );
        assert!(took < Duration::from_millis(500), "accept took {took:?}");
    }
    // Dialing says so too.
    assert_eq!(try_dial("tcp", &laddr), NET_ESYSTEM);
    assert!(
        last_error().ends_with("too many open files"),
        "{}",
        last_error()
    );

    // A thread that first waits now cannot make its waker (an eventfd):
    // its read still ends at its deadline, and a close from another thread
    // still wakes it.
    let waiter = thread::spawn(move || {
        net_set_read_deadline(quiet, 200);
        let start = Instant::now();
        let timed_out = (read(quiet, &mut [0u8; 8]), last_error(), start.elapsed());
        net_set_read_deadline(quiet, 10_000);
        let start = Instant::now();
        let closed = (read(quiet, &mut [0u8; 8]), last_error(), start.elapsed());
        (timed_out, closed)
    });
    thread::sleep(Duration::from_millis(500));
    assert_eq!(net_close(quiet), 0);
    let ((rc, msg, took), (rc2, msg2, took2)) = waiter.join().unwrap();
    assert_eq!(rc, NET_ETIMEOUT, "{msg}");
    assert!(
        took >= Duration::from_millis(190) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(rc2, NET_ECLOSED, "{msg2}");
    assert!(took2 < Duration::from_secs(2), "{took2:?}");
    assert_eq!(net_close(quiet_peer), 0);

    // Take the two descriptors the close freed as well.
    // SAFETY: dup of standard input has no memory effects.
    while let fd @ 0.. = unsafe { libc::dup(0) } {
        hogs.push(fd);
        assert!(hogs.len() < 64);
    }

    // One descriptor free: the listener accepts the first waiting client,
    // and the connection works.
    // SAFETY: closes a descriptor this test dup'ed and owns.
    unsafe { libc::close(hogs.pop().unwrap()) };
    let s = net_accept(l);
    assert!(s > 0, "accept after freeing one: {}", last_error());
    assert_eq!(write(clients[0], b"ping"), 4);
    assert_eq!(read_exact(s, 4), b"ping");
    assert_eq!(write(s, b"pong"), 4);
    assert_eq!(read_exact(clients[0], 4), b"pong");

    // All free: the rest are accepted.
    for fd in hogs {
        // SAFETY: as above.
        unsafe { libc::close(fd) };
    }
    let rest: Vec<i64> = (0..2).map(|_| net_accept(l)).collect();
    assert!(rest.iter().all(|&h| h > 0), "{}", last_error());
    for h in clients.into_iter().chain(rest).chain([s, l]) {
        assert_eq!(net_close(h), 0);
    }
}

/// Sends one line and waits up to `ms` for its echo; true when it came.
fn echoed(conn: i64, line: &str, ms: i64) -> bool {
    assert_eq!(write(conn, line.as_bytes()), line.len() as i64);
    net_set_read_deadline(conn, ms);
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < line.len() {
        let n = read(conn, &mut buf);
        if n <= 0 {
            return false;
        }
        got.extend_from_slice(&buf[..n as usize]);
    }
    assert_eq!(got, line.as_bytes());
    true
}

/// The server, killed on drop if the test fails before stopping it.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn echo_server_rides_out_descriptor_exhaustion() {
    let dir = build_examples("exhaustion_examples", &[]);
    let (out_log, err_log) = (dir.join("server.out"), dir.join("server.err"));
    // 16 descriptors: the standard three, the listener, and room for a
    // few clients; the rest must wait.
    let mut server = Server(
        Command::new("prlimit")
            .arg("--nofile=16:16")
            .arg("--")
            .arg(dir.join("echo_server"))
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_log).unwrap())
            .stderr(std::fs::File::create(&err_log).unwrap())
            .spawn()
            .expect("run prlimit (util-linux) and echo_server"),
    );
    let addr = wait_for_line(&out_log, "listening on ", Duration::from_secs(10))
        .expect("the server did not start");

    // Connect clients one by one until the server cannot take one more.
    let mut served = Vec::new();
    let mut waiting = None;
    for i in 0..24 {
        let c = dial("tcp", &addr);
        if echoed(c, &format!("client {i}\n"), 1000) {
            served.push(c);
        } else {
            waiting = Some(c);
            break;
        }
    }
    let waiting = waiting.expect("16 descriptors never ran out");
    println!("the server served {} clients, then ran out", served.len());
    assert!(!served.is_empty());
    wait_for_line(
        &err_log,
        &format!("accept: accept tcp {addr}: accept: too many open files"),
        Duration::from_secs(5),
    )
    .expect("the server did not report running out of descriptors");
    assert!(server.0.try_wait().unwrap().is_none(), "the server exited");

    // Free descriptors: the waiting client is served, and new ones too.
    for c in served {
        assert_eq!(net_close(c), 0);
    }
    net_set_read_deadline(waiting, 5000);
    let mut buf = [0u8; 64];
    let n = read(waiting, &mut buf);
    assert!(n > 0, "the waiting client got no echo: {}", last_error());
    let fresh = dial("tcp", &addr);
    assert!(echoed(fresh, "after recovery\n", 5000), "{}", last_error());
    for c in [waiting, fresh] {
        net_close(c);
    }

    // SAFETY: the pid is our child's (prlimit execs the server in place).
    assert_eq!(
        unsafe { libc::kill(server.0.id() as i32, libc::SIGTERM) },
        0
    );
    let until = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < until, "the server did not stop");
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "server exit");
}

#[test]
fn writer_to_a_peer_that_never_reads_times_out() {
    let (l, c, s) = tcp_pair();
    let chunk = vec![7u8; 64 * 1024];
    net_set_write_deadline(c, 300);
    let start = Instant::now();
    let mut written = 0u64;
    let rc = loop {
        let rc = write(c, &chunk);
        if rc < 0 {
            break rc;
        }
        written += rc as u64;
        // Loopback buffers hold a few megabytes at most.
        assert!(
            written < 1 << 30,
            "1 GiB written to a peer that never reads"
        );
    };
    let took = start.elapsed();
    println!("{written} bytes buffered, then the write timed out after {took:?}");
    assert_eq!(rc, NET_ETIMEOUT);
    assert_eq!(
        last_error(),
        format!(
            "write tcp {}->{}: i/o timeout",
            local_addr(c),
            remote_addr(c)
        )
    );
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(3),
        "{took:?}"
    );
    for h in [c, s, l] {
        net_close(h);
    }
}
