//! `net_fd`: the descriptor behind a handle, for waiting on readiness with
//! poll (or an event loop) before a call that then does not wait.

use crate::common::*;
use gonet::*;

/// poll(2) on `fd` for `events`, at most `ms` milliseconds; the revents.
fn poll_fd(fd: i64, events: libc::c_short, ms: i32) -> libc::c_short {
    let mut p = libc::pollfd {
        fd: fd as i32,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    assert!(n >= 0, "poll failed");
    p.revents
}

#[test]
fn descriptor_reports_readiness() {
    let (l, c, s) = tcp_pair();
    let (cfd, sfd, lfd) = (net_fd(c), net_fd(s), net_fd(l));
    assert!(cfd >= 0 && sfd >= 0 && lfd >= 0, "{}", last_error());
    assert_ne!(cfd, sfd);
    assert_eq!(net_fd(c), cfd, "the same handle, the same descriptor");

    // Nothing to read yet; room to write at once.
    assert_eq!(poll_fd(sfd, libc::POLLIN, 0) & libc::POLLIN, 0);
    assert_ne!(poll_fd(cfd, libc::POLLOUT, 1000) & libc::POLLOUT, 0);
    assert_eq!(write(c, b"ready"), 5);
    assert_ne!(poll_fd(sfd, libc::POLLIN, 5000) & libc::POLLIN, 0);
    assert_eq!(read_exact(s, 5), b"ready");

    // A listener is readable when a connection waits in its queue.
    assert_eq!(poll_fd(lfd, libc::POLLIN, 0) & libc::POLLIN, 0);
    let c2 = dial("tcp", &local_addr(l));
    assert_ne!(poll_fd(lfd, libc::POLLIN, 5000) & libc::POLLIN, 0);
    let s2 = net_accept(l);
    assert!(s2 > 0, "{}", last_error());

    // Packet handles have one too.
    let pc = listen_packet("udp", "127.0.0.1:0");
    let pfd = net_fd(pc);
    assert!(pfd >= 0);
    let u = dial("udp", &local_addr(pc));
    assert_eq!(write(u, b"dgram"), 5);
    assert_ne!(poll_fd(pfd, libc::POLLIN, 5000) & libc::POLLIN, 0);

    for h in [c, s, c2, s2, pc, u, l] {
        assert_eq!(net_close(h), 0);
        assert_eq!(net_fd(h), NET_ECLOSED, "closed handle");
    }
}

#[test]
fn bad_handles() {
    assert_eq!(net_fd(0), NET_ECLOSED);
    assert_eq!(net_fd(-5), NET_ECLOSED);
    assert_eq!(net_fd(i64::MAX), NET_ECLOSED);
    assert!(
        last_error().contains("use of closed network connection"),
        "{}",
        last_error()
    );
    let d = net_dialer_new();
    assert!(d > 0);
    assert_eq!(net_fd(d), NET_EINVAL);
    assert!(last_error().contains("is a dialer"), "{}", last_error());
    assert_eq!(net_close(d), 0);
}

#[test]
fn close_from_another_thread_makes_a_blocked_socket_ready() {
    // A watcher polling the descriptor of a handle that another thread
    // closes (with a reader blocked on it) wakes: the socket is shut down.
    let (l, c, s) = tcp_pair();
    let sfd = net_fd(s);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 8];
        read(s, &mut buf)
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    let watcher = std::thread::spawn(move || poll_fd(sfd, libc::POLLIN, 5000));
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(net_close(s), 0);
    assert_eq!(reader.join().unwrap(), NET_ECLOSED);
    assert_ne!(watcher.join().unwrap(), 0, "the watcher saw the close");
    net_close(c);
    net_close(l);
}
