//! UDP packet handles: datagram boundaries kept, the truncation rule, IPv6,
//! ICMP refusal on connected sockets, close and deadlines waking blocked
//! reads, Go's messages, and stream-only calls refused.

use crate::common::*;
use gonet::*;
use socket2::SockRef;
use std::os::fd::BorrowedFd;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

fn payload(seq: u32, size: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..size)
        .map(|i| (seq as usize * 131 + i * 7) as u8)
        .collect();
    if size >= 4 {
        p[..4].copy_from_slice(&seq.to_le_bytes());
    }
    p
}

/// An address on loopback where no UDP socket listens (just freed).
fn unused_udp_addr() -> String {
    let h = listen_packet("udp", "127.0.0.1:0");
    let addr = local_addr(h);
    net_close(h);
    addr
}

#[test]
fn a_thousand_datagrams_keep_their_boundaries_and_content() {
    const COUNT: u32 = 1000;
    const MAX: usize = 65_507;
    // At most this many datagrams in flight: with the receive buffer
    // raised, loopback never drops them.
    const WINDOW: usize = 8;
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut sizes: Vec<usize> = (0..COUNT)
        .map(|_| (rng.next() % (MAX as u64 + 1)) as usize)
        .collect();
    sizes[..6].copy_from_slice(&[0, MAX, 1, 2, 3, 4]);

    let server = listen_packet("udp", "127.0.0.1:0");
    let server_addr = local_addr(server);
    // SAFETY: the descriptor stays open while the test holds `server`.
    let server_fd = unsafe { BorrowedFd::borrow_raw(fd_of(&server_addr, None)) };
    SockRef::from(&server_fd)
        .set_recv_buffer_size(4 << 20)
        .unwrap();
    let client = dial("udp", &server_addr);
    let client_addr = local_addr(client);
    assert_eq!(net_set_read_deadline(server, 20_000), 0);

    let (credit_tx, credit_rx) = mpsc::channel::<()>();
    let expected = sizes.clone();
    let reader = thread::spawn(move || {
        let mut seen = vec![false; expected.len()];
        let mut buf = vec![0u8; MAX + 1];
        for _ in 0..expected.len() {
            let (n, from) = read_from(server, &mut buf);
            assert!(n >= 0, "read_from: {}", last_error());
            assert_eq!(from, client_addr);
            let got = &buf[..n as usize];
            // Loopback may reorder across CPUs: find the datagram by its
            // sequence number, or (under 4 bytes) by its content.
            let seq = if got.len() >= 4 {
                u32::from_le_bytes(got[..4].try_into().unwrap()) as usize
            } else {
                (0..expected.len())
                    .find(|&s| !seen[s] && payload(s as u32, expected[s]) == got)
                    .expect("a short datagram nobody sent")
            };
            assert!(!seen[seq], "datagram {seq} twice");
            assert_eq!(got.len(), expected[seq], "datagram {seq} lost its boundary");
            assert!(
                got == payload(seq as u32, expected[seq]),
                "datagram {seq} corrupt"
            );
            seen[seq] = true;
            let _ = credit_tx.send(());
        }
    });
    let start = Instant::now();
    for (seq, &size) in sizes.iter().enumerate() {
        if seq >= WINDOW {
            credit_rx
                .recv_timeout(Duration::from_secs(10))
                .expect("the reader fell silent: a datagram was lost");
        }
        let data = payload(seq as u32, size);
        assert_eq!(write(client, &data), size as i64, "{}", last_error());
    }
    reader.join().unwrap();
    println!("{COUNT} datagrams in {:?}", start.elapsed());
    close_all(&[client, server]);
}

#[test]
fn ipv6_loopback_and_the_largest_datagrams() {
    let server = listen_packet("udp6", "[::1]:0");
    let server_addr = local_addr(server);
    assert!(server_addr.starts_with("[::1]:"), "{server_addr}");
    let client = dial("udp6", &server_addr);
    assert_eq!(remote_addr(client), server_addr);
    let big = payload(7, 65_527);
    assert_eq!(write(client, &big), 65_527, "{}", last_error());
    let mut buf = vec![0u8; 70_000];
    let (n, from) = read_from(server, &mut buf);
    assert_eq!(n, 65_527, "{}", last_error());
    assert!(buf[..65_527] == big[..]);
    assert_eq!(from, local_addr(client));
    assert_eq!(write_to(server, b"reply", &from), 5, "{}", last_error());
    assert_eq!(read(client, &mut buf), 5);
    assert_eq!(&buf[..5], b"reply");
    // One byte more than IPv6 carries without jumbograms.
    assert_eq!(write(client, &vec![0u8; 65_528]), NET_EMSGSIZE);
    assert_eq!(
        last_error(),
        format!(
            "write udp6 {}->{server_addr}: write: message too long",
            local_addr(client)
        )
    );
    close_all(&[client, server]);
}

#[test]
fn an_empty_host_binds_ipv6_and_ipv4() {
    let server = listen_packet("udp", ":0");
    let server_addr = local_addr(server);
    assert!(server_addr.starts_with("[::]:"), "{server_addr}");
    let port = server_addr.rsplit_once(':').unwrap().1;
    let mut buf = [0u8; 16];
    for target in [format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        let client = dial("udp", &target);
        assert_eq!(write(client, b"hi"), 2);
        let (n, from) = read_from(server, &mut buf);
        assert_eq!(n, 2, "{}", last_error());
        // IPv4 senders print as IPv4 on a dual-stack socket, as in Go, and
        // that text is a good reply address.
        assert_eq!(from, local_addr(client));
        assert_eq!(write_to(server, b"back", &from), 4, "{}", last_error());
        assert_eq!(read(client, &mut buf), 4);
        net_close(client);
    }
    // A name resolves on every write_to.
    let client = listen_packet("udp", "127.0.0.1:0");
    let client_port = local_addr(client).rsplit_once(':').unwrap().1.to_owned();
    assert_eq!(
        write_to(server, b"by name", &format!("localhost:{client_port}")),
        7,
        "{}",
        last_error()
    );
    assert_eq!(net_set_read_deadline(client, 5000), 0);
    assert_eq!(read_from(client, &mut buf).0, 7, "{}", last_error());
    close_all(&[client, server]);
}

#[test]
fn a_datagram_longer_than_the_buffer_fails_with_emsgsize_and_keeps_what_fits() {
    let server = listen_packet("udp", "127.0.0.1:0");
    let server_addr = local_addr(server);
    let client = dial("udp", &server_addr);
    let client_addr = local_addr(client);
    let data: Vec<u8> = (0..100u8).collect();
    assert_eq!(write(client, &data), 100);
    assert_eq!(write(client, b"next"), 4);
    let mut small = [0xeeu8; 10];
    let (n, from) = read_from(server, &mut small);
    assert_eq!(n, NET_EMSGSIZE);
    assert_eq!(
        last_error(),
        format!(
            "read udp {server_addr}: datagram of 100 bytes did not fit in a buffer of 10 bytes"
        )
    );
    assert_eq!(small, data[..10], "what fits is copied");
    assert_eq!(from, client_addr, "the sender is still reported");
    // The truncated datagram is gone; the next read takes the next one.
    let mut buf = [0u8; 64];
    assert_eq!(read_from(server, &mut buf).0, 4);
    assert_eq!(&buf[..4], b"next");

    // net_read on a connected handle follows the same rule.
    assert_eq!(write_to(server, &data, &client_addr), 100);
    assert_eq!(read(client, &mut small), NET_EMSGSIZE);
    assert_eq!(
        last_error(),
        format!(
            "read udp {client_addr}->{server_addr}: datagram of 100 bytes did not fit in a buffer of 10 bytes"
        )
    );
    assert_eq!(small, data[..10]);

    // A zero-length buffer takes one datagram: 0 if it was empty.
    assert_eq!(write(client, b""), 0);
    assert_eq!(write(client, b"xyz"), 3);
    // SAFETY: NULL buffers with length 0 are allowed.
    unsafe {
        assert_eq!(
            net_read_from(server, std::ptr::null_mut(), 0, std::ptr::null_mut(), 0),
            0
        );
        assert_eq!(
            net_read_from(server, std::ptr::null_mut(), 0, std::ptr::null_mut(), 0),
            NET_EMSGSIZE
        );
    }
    assert!(last_error().ends_with("datagram of 3 bytes did not fit in a buffer of 0 bytes"));

    // A datagram too large to send is refused whole.
    assert_eq!(write(client, &vec![0u8; 65_508]), NET_EMSGSIZE);
    assert_eq!(
        last_error(),
        format!("write udp {client_addr}->{server_addr}: write: message too long")
    );
    assert_eq!(
        write_to(server, &vec![0u8; 65_508], &client_addr),
        NET_EMSGSIZE
    );
    assert_eq!(
        last_error(),
        format!("write udp {server_addr}->{client_addr}: sendto: message too long")
    );
    close_all(&[client, server]);
}

#[test]
fn a_connected_socket_learns_of_icmp_port_unreachable() {
    let target = unused_udp_addr();
    let client = dial("udp", &target);
    let local = local_addr(client);
    assert_eq!(net_set_deadline(client, 5000), 0);
    assert_eq!(write(client, b"anyone?"), 7, "{}", last_error());
    let mut buf = [0u8; 16];
    assert_eq!(read(client, &mut buf), NET_EREFUSED, "{}", last_error());
    assert_eq!(
        last_error(),
        format!("read udp {local}->{target}: read: connection refused")
    );
    // The error is reported once; ReadFrom names its own system call.
    assert_eq!(write(client, b"again"), 5, "{}", last_error());
    assert_eq!(read_from(client, &mut buf).0, NET_EREFUSED);
    assert_eq!(
        last_error(),
        format!("read udp {local}->{target}: recvfrom: connection refused")
    );
    // A write after an unreported refusal fails too.
    assert_eq!(write(client, b"one"), 3, "{}", last_error());
    let deadline = Instant::now() + Duration::from_secs(5);
    let rc = loop {
        let rc = write(client, b"two");
        if rc < 0 || Instant::now() > deadline {
            break rc;
        }
        thread::sleep(Duration::from_millis(1));
    };
    assert_eq!(rc, NET_EREFUSED, "{}", last_error());
    assert_eq!(
        last_error(),
        format!("write udp {local}->{target}: write: connection refused")
    );
    net_close(client);
}

/// Runs `blocked` on a thread, lets it block, does `interrupt`, and checks
/// that the call ends with `code` within 100 ms.
fn assert_interrupted(
    blocked: impl FnOnce() -> (i64, String) + Send + 'static,
    interrupt: impl FnOnce(),
    code: i64,
) -> String {
    let t = thread::spawn(move || {
        let (rc, msg) = blocked();
        (rc, msg, Instant::now())
    });
    thread::sleep(Duration::from_millis(200));
    assert!(!t.is_finished(), "the call should still be blocked");
    let at = Instant::now();
    interrupt();
    let (rc, msg, woke_at) = t.join().unwrap();
    let delay = woke_at.saturating_duration_since(at);
    assert_eq!(rc, code, "{msg}");
    assert!(delay < Duration::from_millis(100), "woke after {delay:?}");
    msg
}

#[test]
fn close_wakes_a_blocked_read_from() {
    let h = listen_packet("udp", "127.0.0.1:0");
    let addr = local_addr(h);
    let msg = assert_interrupted(
        move || {
            let mut buf = [0u8; 64];
            (read_from(h, &mut buf).0, last_error())
        },
        || assert_eq!(net_close(h), 0),
        NET_ECLOSED,
    );
    assert_eq!(
        msg,
        format!("read udp {addr}: use of closed network connection")
    );
    // The handle is stale now, and stays so.
    let mut buf = [0u8; 4];
    assert_eq!(read_from(h, &mut buf).0, NET_ECLOSED);
    assert_eq!(
        last_error(),
        format!("read udp {addr}: use of closed network connection")
    );
    assert_eq!(write_to(h, b"x", &addr), NET_ECLOSED);
    let newer = listen_packet("udp", "127.0.0.1:0");
    assert!(newer > h);
    assert_eq!(read(h, &mut buf), NET_ECLOSED);
    net_close(newer);
}

#[test]
fn a_deadline_wakes_a_blocked_read_from_and_times_reads() {
    let h = listen_packet("udp", "127.0.0.1:0");
    let addr = local_addr(h);
    let msg = assert_interrupted(
        move || {
            let mut buf = [0u8; 64];
            (read_from(h, &mut buf).0, last_error())
        },
        || assert_eq!(net_set_read_deadline(h, 0), 0),
        NET_ETIMEOUT,
    );
    // Unconnected: Go names the local address only.
    assert_eq!(msg, format!("read udp {addr}: i/o timeout"));

    // A deadline in the future ends the wait near it, for net_read too.
    assert_eq!(net_set_read_deadline(h, 150), 0);
    let start = Instant::now();
    let mut buf = [0u8; 8];
    assert_eq!(read(h, &mut buf), NET_ETIMEOUT);
    let ms = start.elapsed().as_millis();
    assert!((148..=200).contains(&ms), "timed out after {ms} ms");
    // Cleared, the handle reads again, and no datagram was lost.
    let client = dial("udp", &addr);
    assert_eq!(write(client, b"late"), 4);
    assert_eq!(net_set_read_deadline(h, -1), 0);
    let (n, from) = read_from(h, &mut buf);
    assert_eq!(n, 4);
    assert_eq!(from, local_addr(client));
    close_all(&[client, h]);
}

#[test]
fn go_style_messages_for_packet_handles() {
    let h = listen_packet("udp", "127.0.0.1:0");
    let addr = local_addr(h);
    let peer = listen_packet("udp", "127.0.0.1:0");
    let peer_addr = local_addr(peer);
    let client = dial("udp", &peer_addr);
    let client_addr = local_addr(client);
    let cases: Vec<((i64, String), i64, String)> = vec![
        (
            outcome(write(h, b"x")),
            NET_EINVAL,
            format!("write udp {addr}: write: destination address required"),
        ),
        (
            outcome(write_to(client, b"x", &addr)),
            NET_EINVAL,
            format!(
                "write udp {client_addr}->{addr}: use of WriteTo with pre-connected connection"
            ),
        ),
        (
            outcome(write_to(h, b"x", "nohost")),
            NET_EADDR,
            format!("write udp {addr}: address nohost: missing port in address"),
        ),
        (
            outcome(write_to(h, b"x", "[::1]:9")),
            NET_EADDR,
            format!("write udp {addr}: address ::1: non-IPv4 address"),
        ),
        (
            outcome(try_dial("udp", "127.0.0.1")),
            NET_EADDR,
            "dial udp: address 127.0.0.1: missing port in address".to_owned(),
        ),
        (
            // Never sent to DNS (RFC 7686): no name server is asked.
            outcome(try_dial("udp", "nosuchhost.onion:53")),
            NET_ENOHOST,
            "dial udp: lookup nosuchhost.onion: no such host".to_owned(),
        ),
        (
            outcome(try_listen_packet("udp", &addr)),
            NET_EADDRINUSE,
            format!("listen udp {addr}: bind: address already in use"),
        ),
        (
            outcome(try_listen_packet("tcp", "127.0.0.1:0")),
            NET_EADDR,
            "listen tcp 127.0.0.1:0: address 127.0.0.1:0: unexpected address type".to_owned(),
        ),
        (
            outcome(try_listen_packet("udp7", "127.0.0.1:0")),
            NET_EADDR,
            "listen udp7: unknown network udp7".to_owned(),
        ),
    ];
    for (got, code, msg) in cases {
        assert_eq!(got, (code, msg));
    }
    // SAFETY: NUL-terminated strings.
    let rc = unsafe { net_listen(cstr("udp").as_ptr(), cstr("127.0.0.1:0").as_ptr()) };
    assert_eq!(rc, NET_EADDR);
    assert_eq!(
        last_error(),
        "listen udp 127.0.0.1:0: address 127.0.0.1:0: unexpected address type"
    );
    assert_eq!(remote_addr(h), "", "an unconnected handle has no peer");
    assert_eq!(remote_addr(client), peer_addr);
    close_all(&[client, peer, h]);
}

/// A call's result with its message, read before the next call can
/// overwrite it.
fn outcome(rc: i64) -> (i64, String) {
    (rc, last_error())
}

#[test]
fn stream_only_calls_on_a_packet_handle_are_einval() {
    let p = listen_packet("udp", "127.0.0.1:0");
    let paddr = local_addr(p);
    let (l, c, s) = tcp_pair();
    let mut buf = [0u8; 8];
    let checks: Vec<((i64, String), String)> = vec![
        (
            outcome(net_accept(p)),
            format!("accept udp {paddr}: handle {p} is a packet connection, not a listener"),
        ),
        (
            outcome(net_close_write(p)),
            format!(
                "close_write udp {paddr}: handle {p} is a packet connection, not a stream connection"
            ),
        ),
        (
            outcome(net_close_read(p)),
            format!(
                "close_read udp {paddr}: handle {p} is a packet connection, not a stream connection"
            ),
        ),
        (
            outcome(net_set_nodelay(p, 1)),
            format!(
                "set_nodelay udp {paddr}: handle {p} is a packet connection, not a stream connection"
            ),
        ),
        (
            outcome(net_set_keepalive(p, 1000)),
            format!(
                "set_keepalive udp {paddr}: handle {p} is a packet connection, not a stream connection"
            ),
        ),
        (
            outcome(read_from(c, &mut buf).0),
            format!(
                "read tcp {}->{}: handle {c} is a stream connection, not a packet connection",
                local_addr(c),
                remote_addr(c)
            ),
        ),
        (
            outcome(write_to(l, b"x", &paddr)),
            format!(
                "write tcp {}: handle {l} is a listener, not a packet connection",
                local_addr(l)
            ),
        ),
    ];
    for (got, msg) in checks {
        assert_eq!(got, (NET_EINVAL, msg));
    }
    close_all(&[p, c, s, l]);
}

#[test]
fn bad_input_to_packet_calls_gets_einval() {
    use std::ptr::{null, null_mut};
    let h = listen_packet("udp", "127.0.0.1:0");
    let addr = cstr(&local_addr(h));
    let mut buf = [0u8; 8];
    // SAFETY: every pointer is NULL, or valid for the length given; the
    // bad lengths are rejected before any access.
    let cases = unsafe {
        [
            (
                outcome(net_listen_packet(null(), addr.as_ptr())),
                "listen: network is NULL",
            ),
            (
                outcome(net_listen_packet(c"udp".as_ptr(), null())),
                "listen: address is NULL",
            ),
            (
                outcome(net_read_from(h, null_mut(), 8, null_mut(), 0)),
                "read: buffer is NULL",
            ),
            (
                outcome(net_read_from(h, buf.as_mut_ptr().cast(), 8, null_mut(), 16)),
                "read: address buffer is NULL",
            ),
            (
                outcome(net_write_to(h, null(), 8, addr.as_ptr())),
                "write: buffer is NULL",
            ),
            (
                outcome(net_write_to(h, buf.as_ptr().cast(), 8, null())),
                "write: address is NULL",
            ),
            (
                outcome(net_write_to(h, buf.as_ptr().cast(), 8, c"\xff:1".as_ptr())),
                "write: address is not valid UTF-8",
            ),
        ]
    };
    for (got, msg) in cases {
        assert_eq!(got, (NET_EINVAL, msg.to_owned()));
    }
    // The address text is written like snprintf: cut, NUL-terminated, and
    // the datagram's length still returned.
    let client = dial("udp", &local_addr(h));
    assert_eq!(write(client, b"abc"), 3);
    let mut small = [0x55 as std::ffi::c_char; 4];
    // SAFETY: buf and small are writable for their lengths.
    let n = unsafe { net_read_from(h, buf.as_mut_ptr().cast(), 8, small.as_mut_ptr(), 4) };
    assert_eq!(n, 3);
    // SAFETY: net_read_from NUL-terminated it.
    assert_eq!(unsafe { std::ffi::CStr::from_ptr(small.as_ptr()) }, c"127");
    close_all(&[client, h]);
}

#[test]
fn a_dialer_binds_its_local_address_and_dials_udp() {
    let server = listen_packet("udp", "127.0.0.1:0");
    let server_addr = local_addr(server);
    let local = unused_udp_addr();
    let d = net_dialer_new();
    assert!(d > 0, "{}", last_error());
    // SAFETY: NUL-terminated strings.
    let client = unsafe {
        assert_eq!(net_dialer_set_local_addr(d, cstr(&local).as_ptr()), 0);
        net_dialer_dial(d, cstr("udp").as_ptr(), cstr(&server_addr).as_ptr())
    };
    assert!(client > 0, "{}", last_error());
    assert_eq!(local_addr(client), local);
    assert_eq!(write(client, b"hi"), 2);
    let mut buf = [0u8; 8];
    assert_eq!(read_from(server, &mut buf), (2, local.clone()));
    // Only addresses of the local address's family are dialed.
    // SAFETY: NUL-terminated strings.
    let rc = unsafe { net_dialer_dial(d, cstr("udp").as_ptr(), cstr("[::1]:9").as_ptr()) };
    assert_eq!(rc, NET_EADDR);
    assert_eq!(
        last_error(),
        "dial udp: address [::1]:9: no suitable address found"
    );
    close_all(&[client, server, d]);
}
