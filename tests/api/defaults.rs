//! Go's defaults on every socket gonet makes, and EINTR retried inside.

use crate::common::*;
use gonet::*;
use socket2::SockRef;
use std::os::fd::{BorrowedFd, RawFd};
use std::thread;
use std::time::Duration;

fn assert_cloexec(fd: RawFd) {
    // SAFETY: F_GETFD on an open descriptor has no memory effects.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert!(
        flags >= 0 && flags & libc::FD_CLOEXEC != 0,
        "fd {fd} lacks FD_CLOEXEC"
    );
}

#[test]
fn connections_have_nodelay_keepalive_and_cloexec() {
    let (l, c, s) = tcp_pair();
    for h in [c, s] {
        let fd = fd_of(&local_addr(h), Some(&remote_addr(h)));
        // SAFETY: see fd_of.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let sock = SockRef::from(&borrowed);
        assert!(sock.tcp_nodelay().unwrap(), "TCP_NODELAY on");
        assert!(sock.keepalive().unwrap(), "SO_KEEPALIVE on");
        assert_eq!(sock.tcp_keepalive_time().unwrap(), Duration::from_secs(15));
        assert_eq!(
            sock.tcp_keepalive_interval().unwrap(),
            Duration::from_secs(15)
        );
        assert_cloexec(fd);
    }
    // The setters change them.
    assert_eq!(net_set_nodelay(c, 0), 0);
    assert_eq!(net_set_keepalive(c, 30_000), 0);
    let fd = fd_of(&local_addr(c), Some(&remote_addr(c)));
    // SAFETY: see fd_of.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let sock = SockRef::from(&borrowed);
    assert!(!sock.tcp_nodelay().unwrap());
    assert_eq!(sock.tcp_keepalive_time().unwrap(), Duration::from_secs(30));
    assert_eq!(net_set_keepalive(c, NET_FOREVER), 0);
    assert!(!sock.keepalive().unwrap());
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn listeners_reuse_addresses_and_are_cloexec() {
    let l = listen("tcp", "127.0.0.1:0");
    let addr = local_addr(l);
    let fd = fd_of(&addr, None);
    // SAFETY: see fd_of.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    assert!(SockRef::from(&borrowed).reuse_address().unwrap());
    assert_cloexec(fd);
    // A restarted server gets its port back at once, even with a
    // connection of the old one in TIME_WAIT.
    let c = dial("tcp", &addr);
    let s = net_accept(l);
    net_close(s);
    net_close(l);
    net_close(c);
    let again = listen("tcp", &addr);
    net_close(again);
}

extern "C" fn on_signal(_: libc::c_int) {}

/// Signals arrive at threads blocked in gonet calls without breaking them:
/// the interrupted system call is retried inside.
#[test]
fn interrupted_system_calls_are_retried() {
    // SAFETY: installs a handler that does nothing, without SA_RESTART, so
    // blocked system calls see EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_flags = 0;
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
    let (l, c, s) = tcp_pair();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = thread::spawn(move || {
        // SAFETY: pthread_self has no preconditions.
        tx.send(unsafe { libc::pthread_self() }).unwrap();
        read_exact(s, 5)
    });
    let acceptor_l = l;
    let (atx, arx) = std::sync::mpsc::channel();
    let acceptor = thread::spawn(move || {
        // SAFETY: pthread_self has no preconditions.
        atx.send(unsafe { libc::pthread_self() }).unwrap();
        net_accept(acceptor_l)
    });
    let reader_id = rx.recv().unwrap();
    let acceptor_id = arx.recv().unwrap();
    for _ in 0..20 {
        thread::sleep(Duration::from_millis(10));
        // SAFETY: both threads are alive until they get their data.
        unsafe {
            libc::pthread_kill(reader_id, libc::SIGUSR1);
            libc::pthread_kill(acceptor_id, libc::SIGUSR1);
        }
    }
    assert_eq!(write(c, b"intr!"), 5);
    assert_eq!(reader.join().unwrap(), b"intr!");
    let c2 = dial("tcp", &local_addr(l));
    let s2 = acceptor.join().unwrap();
    assert!(s2 > 0, "{}", last_error());
    for h in [c, s, c2, s2, l] {
        net_close(h);
    }
}

/// An accepted connection gets Go's keep-alive from its listener, timer
/// included: /proc/net/tcp shows the keep-alive timer (2) armed for it,
/// due in about 15 s.
#[test]
fn accepted_connections_have_a_keepalive_timer_armed() {
    let (l, c, s) = tcp_pair();
    let port = |a: String| a.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    let (local, remote) = (port(local_addr(s)), port(remote_addr(s)));
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let line = table
        .lines()
        .find(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 5
                && f[1].ends_with(&format!(":{local:04X}"))
                && f[2].ends_with(&format!(":{remote:04X}"))
        })
        .unwrap_or_else(|| panic!("no /proc/net/tcp line for {local}->{remote}"));
    let timer = line.split_whitespace().nth(5).unwrap();
    assert!(
        timer.starts_with("02:"),
        "keep-alive timer not armed: {line}"
    );
    // Due in clock ticks (USER_HZ, 100 a second): 15 s, less the moments
    // since it was armed.
    let due = u64::from_str_radix(&timer[3..], 16).unwrap();
    assert!(
        (1300..=1500).contains(&due),
        "keep-alive timer due in {due} ticks, not about 15 s: {line}"
    );
    for h in [c, s, l] {
        net_close(h);
    }
}
