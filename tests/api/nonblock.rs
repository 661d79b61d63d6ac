//! The non-blocking calls (`net_try_read`, `net_try_write`,
//! `net_try_accept`, `net_try_read_from`, `net_try_write_to`): one attempt
//! each, `NET_EAGAIN` with Go's wording where the blocking call would wait,
//! close and deadlines checked first, and the documented codes for bad
//! arguments.

use crate::common::*;
use gonet::*;
use std::ffi::c_char;
use std::ptr::{null, null_mut};
use std::time::{Duration, Instant};

fn try_read(h: i64, buf: &mut [u8]) -> i64 {
    // SAFETY: buf is valid for writes of its length.
    unsafe { net_try_read(h, buf.as_mut_ptr().cast(), buf.len()) }
}

fn try_write(h: i64, data: &[u8]) -> i64 {
    // SAFETY: data is valid for reads of its length.
    unsafe { net_try_write(h, data.as_ptr().cast(), data.len()) }
}

fn try_read_from(h: i64, buf: &mut [u8]) -> (i64, String) {
    let mut addr = [0u8; NET_ADDR_MAX];
    // SAFETY: both buffers are valid for writes of their lengths.
    let n = unsafe {
        net_try_read_from(
            h,
            buf.as_mut_ptr().cast(),
            buf.len(),
            addr.as_mut_ptr().cast::<c_char>(),
            addr.len(),
        )
    };
    let end = addr.iter().position(|&b| b == 0).unwrap_or(0);
    (n, String::from_utf8_lossy(&addr[..end]).into_owned())
}

fn try_write_to(h: i64, data: &[u8], to: &str) -> i64 {
    let to = cstr(to);
    // SAFETY: data is valid for reads; to is NUL-terminated.
    unsafe { net_try_write_to(h, data.as_ptr().cast(), data.len(), to.as_ptr()) }
}

/// Calls `f` until it stops saying `NET_EAGAIN` (bounded).
fn until_ready(mut f: impl FnMut() -> i64) -> i64 {
    let start = Instant::now();
    loop {
        let r = f();
        if r != NET_EAGAIN || start.elapsed() > Duration::from_secs(10) {
            return r;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn stream_reads_and_writes_without_waiting() {
    let (l, c, s) = tcp_pair();
    let mut buf = [0u8; 64];
    let start = Instant::now();
    assert_eq!(try_read(s, &mut buf), NET_EAGAIN);
    assert!(start.elapsed() < Duration::from_millis(500));
    let text = last_error();
    assert!(
        text.starts_with("read tcp ") && text.ends_with(": read: resource temporarily unavailable"),
        "{text}"
    );
    assert_eq!(try_read(s, &mut []), 0, "an empty buffer reads nothing");
    assert_eq!(try_write(c, b"hello"), 5);
    assert_eq!(until_ready(|| try_read(s, &mut buf)), 5);
    assert_eq!(&buf[..5], b"hello");

    // Fill the send buffer: writes go in part, then not at all.
    let chunk = vec![7u8; 1 << 20];
    let mut sent = 0i64;
    let mut partial = false;
    for _ in 0..1000 {
        let r = try_write(c, &chunk);
        if r == NET_EAGAIN {
            break;
        }
        assert!(r > 0, "{r}: {}", last_error());
        partial |= (r as usize) < chunk.len();
        sent += r;
    }
    assert_eq!(try_write(c, &chunk), NET_EAGAIN);
    assert!(last_error().ends_with(": write: resource temporarily unavailable"));
    assert!(partial, "a full buffer takes part of a write");
    // Everything written arrives, in order.
    let mut got = 0i64;
    let mut big = vec![0u8; 1 << 16];
    while got < sent {
        let r = until_ready(|| try_read(s, &mut big));
        assert!(r > 0, "{r}: {}", last_error());
        assert!(big[..r as usize].iter().all(|&b| b == 7));
        got += r;
    }
    assert_eq!(got, sent);

    // End of stream is 0, not NET_EAGAIN.
    assert_eq!(net_close_write(c), 0);
    assert_eq!(until_ready(|| try_read(s, &mut buf)), 0);
    close_all(&[c, s, l]);
}

#[test]
fn deadlines_and_close_come_first() {
    let (l, c, s) = tcp_pair();
    assert_eq!(write(c, b"x"), 1);
    let mut buf = [0u8; 8];
    // Data is there, yet the expired deadline fails the read, as in Go.
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(net_set_read_deadline(s, 0), 0);
    assert_eq!(try_read(s, &mut buf), NET_ETIMEOUT);
    assert!(last_error().ends_with(": i/o timeout"), "{}", last_error());
    assert_eq!(net_set_read_deadline(s, -1), 0);
    assert_eq!(try_read(s, &mut buf), 1);
    assert_eq!(net_set_write_deadline(c, 0), 0);
    assert_eq!(try_write(c, b"y"), NET_ETIMEOUT);
    assert_eq!(net_set_deadline(l, 0), 0);
    assert_eq!(net_try_accept(l), NET_ETIMEOUT);
    close_all(&[c, s, l]);
    assert_eq!(try_read(s, &mut buf), NET_ECLOSED);
    assert_eq!(try_write(c, b"y"), NET_ECLOSED);
    assert_eq!(net_try_accept(l), NET_ECLOSED);
}

#[test]
fn accept_without_waiting() {
    let l = listen("tcp", "127.0.0.1:0");
    assert_eq!(net_try_accept(l), NET_EAGAIN);
    assert!(
        last_error().ends_with(": accept: resource temporarily unavailable"),
        "{}",
        last_error()
    );
    let c = dial("tcp", &local_addr(l));
    let s = until_ready(|| net_try_accept(l));
    assert!(s > 0, "{}", last_error());
    assert_eq!(remote_addr(s), local_addr(c));
    // The listener is blocking again for net_accept.
    let c2 = dial("tcp", &local_addr(l));
    let s2 = net_accept(l);
    assert!(s2 > 0);
    assert_eq!(net_try_accept(c), NET_EINVAL, "not a listener");
    close_all(&[c, s, c2, s2, l]);
}

#[test]
fn datagrams_without_waiting() {
    let pc = listen_packet("udp", "127.0.0.1:0");
    let u = dial("udp", &local_addr(pc));
    let mut buf = [0u8; 16];
    assert_eq!(try_read_from(pc, &mut buf).0, NET_EAGAIN);
    assert!(last_error().ends_with(": recvfrom: resource temporarily unavailable"));
    assert_eq!(try_read(u, &mut buf), NET_EAGAIN);
    assert_eq!(try_write(u, b"dgram"), 5);
    let (n, from) = {
        let mut r = (NET_EAGAIN, String::new());
        for _ in 0..1000 {
            r = try_read_from(pc, &mut buf);
            if r.0 != NET_EAGAIN {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        r
    };
    assert_eq!((n, from.as_str()), (5, local_addr(u).as_str()));
    assert_eq!(try_write_to(pc, b"back", &from), 4);
    assert_eq!(until_ready(|| try_read(u, &mut buf)), 4);
    assert_eq!(&buf[..4], b"back");
    // Too long for the buffer: consumed, NET_EMSGSIZE, as the blocking call.
    assert_eq!(try_write(u, b"much too long"), 13);
    let mut small = [0u8; 4];
    let r = until_ready(|| try_read_from(pc, &mut small).0);
    assert_eq!(r, NET_EMSGSIZE);
    assert_eq!(&small, b"much");
    // A host name would need a lookup: refused, not waited on.
    assert_eq!(try_write_to(pc, b"x", "localhost:9"), NET_EINVAL);
    assert!(
        last_error().contains("would need a lookup"),
        "{}",
        last_error()
    );
    assert_eq!(
        try_write_to(u, b"x", &local_addr(pc)),
        NET_EINVAL,
        "pre-connected"
    );
    assert_eq!(try_write_to(pc, b"x", "127.0.0.1"), NET_EADDR);
    let (_, c, s) = tcp_pair();
    assert_eq!(try_read_from(s, &mut buf).0, NET_EINVAL, "a stream");
    close_all(&[pc, u, c, s]);
}

#[test]
fn bad_arguments_get_codes() {
    let (l, c, s) = tcp_pair();
    // SAFETY: NULL buffers with lengths, and absurd lengths, are what is tested.
    unsafe {
        assert_eq!(net_try_read(c, null_mut(), 5), NET_EINVAL);
        assert_eq!(net_try_write(c, null(), 5), NET_EINVAL);
        assert_eq!(net_try_read(c, null_mut(), 0), 0);
        assert_eq!(net_try_write(c, null(), 0), 0);
        let mut b = [0u8; 4];
        assert_eq!(
            net_try_read(c, b.as_mut_ptr().cast(), usize::MAX),
            NET_EINVAL
        );
        assert_eq!(net_try_write(c, b.as_ptr().cast(), usize::MAX), NET_EINVAL);
        assert_eq!(
            net_try_read_from(s, b.as_mut_ptr().cast(), 4, null_mut(), 5),
            NET_EINVAL
        );
        assert_eq!(
            net_try_write_to(s, b.as_ptr().cast(), 4, null()),
            NET_EINVAL
        );
        assert_eq!(
            net_try_read(l, b.as_mut_ptr().cast(), 4),
            NET_EINVAL,
            "a listener"
        );
        for h in [0, -1, i64::MAX] {
            assert_eq!(net_try_read(h, b.as_mut_ptr().cast(), 4), NET_ECLOSED);
            assert_eq!(net_try_write(h, b.as_ptr().cast(), 4), NET_ECLOSED);
            assert_eq!(net_try_accept(h), NET_ECLOSED);
        }
    }
    let d = net_dialer_new();
    assert_eq!(try_write(d, b"x"), NET_EINVAL, "a dialer");
    // SAFETY: net_strerror returns a static NUL-terminated string.
    let text = unsafe { std::ffi::CStr::from_ptr(net_strerror(NET_EAGAIN)) };
    assert_eq!(text, c"resource temporarily unavailable");
    close_all(&[c, s, l, d]);
}

/// A raw IPv4 socket's datagrams come without their IP header, as from
/// `net_read_from` (Go's `IPConn.ReadFrom`): the ICMP message the socket
/// itself sends over loopback, as it hears it.
#[test]
fn raw_ip_datagrams_lose_their_header() {
    let pc = try_listen_packet("ip4:icmp", "127.0.0.1");
    if pc < 0 {
        // Without CAP_NET_RAW (rawip.rs checks that error).
        assert_eq!(pc, NET_ESYSTEM, "{}", last_error());
        return;
    }
    let mut buf = [0u8; 256];
    // ICMP type 42 (unassigned): nobody answers it, only raw sockets hear it.
    let mut msg = vec![42u8, 0, 0, 0, 0x47, 0x4f, 0, 1];
    msg.extend_from_slice(b"nonblock");
    let sum = {
        let mut s: u32 = msg
            .chunks(2)
            .map(|c| u32::from(c[0]) << 8 | u32::from(c[1]))
            .sum();
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    };
    msg[2..4].copy_from_slice(&sum.to_be_bytes());
    assert_eq!(
        try_write_to(pc, &msg, "127.0.0.1"),
        msg.len() as i64,
        "{}",
        last_error()
    );
    let start = Instant::now();
    loop {
        let (n, from) = try_read_from(pc, &mut buf);
        if n == NET_EAGAIN && start.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        assert!(n >= 0, "{n}: {}", last_error());
        if buf[..n as usize] == msg[..] {
            assert_eq!(from, "127.0.0.1");
            break;
        }
        // Another test's ICMP: look further.
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "our message never came"
        );
    }
    close_all(&[pc]);
}
