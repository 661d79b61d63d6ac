//! Unix datagram sockets: paths (removed on close when gonet bound them),
//! Linux abstract names, autobind, unnamed dialed clients, truncation, and
//! close and deadlines waking blocked calls, including a send blocked on a
//! peer whose queue is full.

use crate::common::*;
use gonet::*;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// CPU time used by the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// An abstract name no other test process uses.
fn abstract_name(tag: &str) -> String {
    format!("@gonet-test-{}-{tag}", std::process::id())
}

#[test]
fn paths_carry_the_sender_and_are_removed_on_close() {
    let dir = scratch("unixgram_paths");
    let server_path = dir.join("server.sock");
    let client_path = dir.join("client.sock");
    let (sp, cp) = (server_path.to_str().unwrap(), client_path.to_str().unwrap());
    let server = listen_packet("unixgram", sp);
    let client = listen_packet("unixgram", cp);
    assert_eq!(local_addr(server), sp);
    assert_eq!(remote_addr(server), "");
    assert!(server_path.exists() && client_path.exists());

    // 100 kB fits in one Unix datagram (the limit is the send buffer).
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    for data in [&b"ping"[..], b"", &big] {
        assert_eq!(
            write_to(client, data, sp),
            data.len() as i64,
            "{}",
            last_error()
        );
        let mut buf = vec![0u8; 200_000];
        let (n, from) = read_from(server, &mut buf);
        assert_eq!(n, data.len() as i64, "{}", last_error());
        assert!(buf[..data.len()] == *data);
        assert_eq!(from, cp);
        assert_eq!(write_to(server, b"pong", &from), 4, "{}", last_error());
        let (n, from) = read_from(client, &mut buf);
        assert_eq!((n, from.as_str()), (4, sp));
    }
    // Too large for the send buffer: refused whole.
    assert_eq!(write_to(client, &vec![0u8; 8 << 20], sp), NET_EMSGSIZE);
    assert_eq!(
        last_error(),
        format!("write unixgram {cp}->{sp}: sendto: message too long")
    );

    // The truncation rule holds here too.
    assert_eq!(write_to(client, b"0123456789", sp), 10);
    let mut small = [0u8; 4];
    let (n, from) = read_from(server, &mut small);
    assert_eq!((n, from.as_str()), (NET_EMSGSIZE, cp));
    assert_eq!(&small, b"0123");
    assert_eq!(
        last_error(),
        format!("read unixgram {sp}: datagram of 10 bytes did not fit in a buffer of 4 bytes")
    );

    // A second socket on the same path is refused; closing removes the
    // files gonet created.
    assert_eq!(try_listen_packet("unixgram", sp), NET_EADDRINUSE);
    assert_eq!(
        last_error(),
        format!("listen unixgram {sp}: bind: address already in use")
    );
    close_all(&[server, client]);
    assert!(!server_path.exists() && !client_path.exists());
}

#[test]
fn abstract_names_and_autobind() {
    let server_name = abstract_name("server");
    let server = listen_packet("unixgram", &server_name);
    assert_eq!(local_addr(server), server_name);
    // An empty address lets Linux pick an abstract name, which can be
    // replied to.
    let client = listen_packet("unixgram", "");
    let client_name = local_addr(client);
    assert!(
        client_name.starts_with('@') && client_name.len() > 1,
        "{client_name}"
    );
    assert_eq!(
        write_to(client, b"hello", &server_name),
        5,
        "{}",
        last_error()
    );
    let mut buf = [0u8; 16];
    let (n, from) = read_from(server, &mut buf);
    assert_eq!((n, from.as_str()), (5, client_name.as_str()));
    assert_eq!(write_to(server, b"hi", &from), 2, "{}", last_error());
    assert_eq!(read_from(client, &mut buf), (2, server_name.clone()));
    close_all(&[server, client]);
    // The name is free again once closed.
    close_all(&[listen_packet("unixgram", &server_name)]);
}

#[test]
fn a_dialed_client_is_unnamed_and_cannot_be_replied_to() {
    let dir = scratch("unixgram_dial");
    let path = dir.join("server.sock");
    let sp = path.to_str().unwrap();
    let server = listen_packet("unixgram", sp);
    let client = dial("unixgram", sp);
    assert_eq!(remote_addr(client), sp);
    assert_eq!(local_addr(client), "", "unnamed, as in Go");
    assert_eq!(write(client, b"one-way"), 7, "{}", last_error());
    let mut buf = [0u8; 16];
    let (n, from) = read_from(server, &mut buf);
    assert_eq!((n, from.as_str()), (7, ""));
    assert_eq!(write_to(server, b"reply", &from), NET_EADDR);
    assert_eq!(
        last_error(),
        format!("write unixgram {sp}: missing address")
    );
    // Connected: net_write_to is refused, net_read waits for the peer.
    assert_eq!(write_to(client, b"x", sp), NET_EINVAL);
    assert_eq!(net_set_read_deadline(client, 50), 0);
    assert_eq!(read(client, &mut buf), NET_ETIMEOUT);
    assert_eq!(last_error(), format!("read unixgram ->{sp}: i/o timeout"));
    close_all(&[client, server]);

    // Nobody there.
    let missing = dir.join("missing.sock");
    let mp = missing.to_str().unwrap();
    assert_eq!(try_dial("unixgram", mp), NET_ESYSTEM);
    assert_eq!(
        last_error(),
        format!("dial unixgram {mp}: connect: no such file or directory")
    );
    // unixgram has no listeners and unix no packet sockets, in Go's words.
    // SAFETY: NUL-terminated strings.
    let rc = unsafe { net_listen(cstr("unixgram").as_ptr(), cstr(mp).as_ptr()) };
    assert_eq!(rc, NET_EADDR);
    assert_eq!(
        last_error(),
        format!("listen unixgram {mp}: unknown network unixgram")
    );
    assert_eq!(try_listen_packet("unix", mp), NET_EADDR);
    assert_eq!(
        last_error(),
        format!("listen unix {mp}: unknown network unix")
    );
    assert!(!Path::new(mp).exists());
}

#[test]
fn close_and_deadlines_wake_blocked_unixgram_calls() {
    let name = abstract_name("wake");
    let h = listen_packet("unixgram", &name);
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 8];
        let rc = read_from(h, &mut buf).0;
        (rc, last_error(), Instant::now())
    });
    thread::sleep(Duration::from_millis(200));
    assert!(!reader.is_finished());
    let set_at = Instant::now();
    assert_eq!(net_set_read_deadline(h, 0), 0);
    let (rc, msg, woke) = reader.join().unwrap();
    assert_eq!(rc, NET_ETIMEOUT);
    assert_eq!(msg, format!("read unixgram {name}: i/o timeout"));
    assert!(woke.duration_since(set_at) < Duration::from_millis(100));

    assert_eq!(net_set_read_deadline(h, -1), 0);
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 8];
        let rc = read(h, &mut buf);
        (rc, Instant::now())
    });
    thread::sleep(Duration::from_millis(200));
    assert!(!reader.is_finished());
    let closed_at = Instant::now();
    assert_eq!(net_close(h), 0);
    let (rc, woke) = reader.join().unwrap();
    assert_eq!(rc, NET_ECLOSED);
    assert!(woke.duration_since(closed_at) < Duration::from_millis(100));
}

/// Linux says an unconnected Unix datagram socket is writable even when
/// the peer it sends to has a full queue; the send still waits (without
/// spinning), and deadlines and close still end it.
#[test]
fn a_send_to_a_full_peer_waits_and_deadlines_and_close_end_it() {
    let server_name = abstract_name("full-server");
    let server = listen_packet("unixgram", &server_name);
    let client = listen_packet("unixgram", "");
    let client_name = local_addr(client);
    assert_eq!(net_set_write_deadline(client, 200), 0);
    let start = Instant::now();
    let cpu_start = thread_cpu();
    let mut sent = 0;
    let rc = loop {
        let rc = write_to(client, b"fill", &server_name);
        if rc < 0 || sent >= 100_000 {
            break rc;
        }
        sent += 1;
    };
    assert_eq!(rc, NET_ETIMEOUT, "{} after {sent} datagrams", last_error());
    assert_eq!(
        last_error(),
        format!("write unixgram {client_name}->{server_name}: i/o timeout")
    );
    let ms = start.elapsed().as_millis();
    assert!((195..=300).contains(&ms), "timed out after {ms} ms");
    let cpu = thread_cpu() - cpu_start;
    assert!(cpu < Duration::from_millis(100), "spun: {cpu:?} of CPU");

    // Reading one datagram makes room; a waiting send then goes through.
    assert_eq!(net_set_write_deadline(client, -1), 0);
    let writer = thread::spawn(move || write_to(client, b"last", &server_name));
    thread::sleep(Duration::from_millis(50));
    assert!(!writer.is_finished(), "the queue is still full");
    let mut buf = [0u8; 8];
    assert_eq!(read_from(server, &mut buf).0, 4);
    assert_eq!(writer.join().unwrap(), 4, "{}", last_error());

    // Full again: close ends the wait.
    let writer = thread::spawn(move || {
        let server_name = abstract_name("full-server");
        for _ in 0..100_000 {
            let rc = write_to(client, b"more", &server_name);
            if rc < 0 {
                return (rc, Instant::now());
            }
        }
        (0, Instant::now())
    });
    thread::sleep(Duration::from_millis(200));
    assert!(!writer.is_finished());
    let closed_at = Instant::now();
    assert_eq!(net_close(client), 0);
    let (rc, woke) = writer.join().unwrap();
    assert_eq!(rc, NET_ECLOSED);
    assert!(woke.duration_since(closed_at) < Duration::from_millis(100));
    net_close(server);
}

/// A dialer with a local address binds the dialed socket first, as Go's
/// `Dialer.LocalAddr` does: the peer can then reply to it. A path bound
/// this way is removed on close.
#[test]
fn a_dialer_with_a_local_path_can_be_replied_to() {
    let dir = scratch("unixgram_dialer");
    let (server_path, client_path) = (dir.join("server.sock"), dir.join("client.sock"));
    let (sp, cp) = (server_path.to_str().unwrap(), client_path.to_str().unwrap());
    let server = listen_packet("unixgram", sp);
    let d = net_dialer_new();
    assert!(d > 0, "{}", last_error());
    // SAFETY: NUL-terminated strings.
    let client = unsafe {
        assert_eq!(net_dialer_set_local_addr(d, cstr(cp).as_ptr()), 0);
        net_dialer_dial(d, cstr("unixgram").as_ptr(), cstr(sp).as_ptr())
    };
    assert!(client > 0, "{}", last_error());
    assert_eq!(local_addr(client), cp);
    assert_eq!(write(client, b"hello"), 5);
    let mut buf = [0u8; 16];
    let (n, from) = read_from(server, &mut buf);
    assert_eq!((n, from.as_str()), (5, cp));
    assert_eq!(write_to(server, b"reply", &from), 5, "{}", last_error());
    assert_eq!(read(client, &mut buf), 5);
    assert_eq!(&buf[..5], b"reply");
    close_all(&[client, server, d]);
    assert!(!client_path.exists() && !server_path.exists());
}
