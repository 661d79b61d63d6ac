//! Calls given a length of 0, with a NULL buffer: what each kind of handle
//! does, as the header documents it. Only reads of packet handles wait
//! (for a datagram, which they consume); everything else answers at once.

use crate::common::*;
use gonet::*;
use std::ptr;
use std::thread;
use std::time::{Duration, Instant};

fn read_null(h: i64) -> i64 {
    // SAFETY: a NULL buffer with length 0 is allowed.
    unsafe { net_read(h, ptr::null_mut(), 0) }
}

fn write_null(h: i64) -> i64 {
    // SAFETY: a NULL buffer with length 0 is allowed.
    unsafe { net_write(h, ptr::null(), 0) }
}

/// `f` answers within a second although nothing is ever sent.
fn at_once(what: &str, f: impl FnOnce() -> i64) -> i64 {
    let start = Instant::now();
    let rc = f();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{what} waited {:?}",
        start.elapsed()
    );
    rc
}

#[test]
fn on_streams_a_zero_length_read_or_write_returns_at_once() {
    let (l, c, s) = tcp_pair();
    let path = scratch("zero_length").join("s.sock");
    let lu = listen("unix", path.to_str().unwrap());
    let cu = dial("unix", path.to_str().unwrap());
    let su = net_accept(lu);
    for (kind, h, peer) in [("tcp", c, s), ("unix", cu, su)] {
        // Nothing to read: 0 at once, not a wait.
        assert_eq!(
            at_once(kind, || read_null(h)),
            0,
            "{kind}: {}",
            last_error()
        );
        // Data waiting: still 0, and the data stays for the next read.
        assert_eq!(write(peer, b"kept"), 4);
        thread::sleep(Duration::from_millis(20));
        assert_eq!(read_null(h), 0, "{kind}");
        assert_eq!(read_exact(h, 4), b"kept", "{kind}");
        // A zero-length write sends nothing and succeeds.
        assert_eq!(
            at_once(kind, || write_null(h)),
            0,
            "{kind}: {}",
            last_error()
        );
        // Closed and past-deadline checks still come first, as in Go.
        assert_eq!(net_set_read_deadline(h, 0), 0);
        assert_eq!(read_null(h), NET_ETIMEOUT, "{kind}");
        assert_eq!(net_set_read_deadline(h, -1), 0);
    }
    // A listener is not a connection, whatever the length.
    assert_eq!(read_null(l), NET_EINVAL);
    assert_eq!(write_null(l), NET_EINVAL);
    close_all(&[c, s, cu, su, lu, l]);
    assert_eq!(read_null(c), NET_ECLOSED);
    assert_eq!(write_null(c), NET_ECLOSED);
}

#[test]
fn on_packet_handles_a_zero_length_read_takes_one_datagram() {
    let a = listen_packet("udp", "127.0.0.1:0");
    let b = dial("udp", &local_addr(a));
    let ua = listen_packet("unixgram", "");
    let ub = dial("unixgram", &local_addr(ua));
    for (kind, reader, writer) in [("udp", a, b), ("unixgram", ua, ub)] {
        // A zero-length write sends an empty datagram, which a
        // zero-length read takes: 0.
        assert_eq!(write_null(writer), 0, "{kind}: {}", last_error());
        assert_eq!(read_null(reader), 0, "{kind}: {}", last_error());
        // A datagram with bytes in it does not fit: it is consumed and the
        // read says how long it was.
        assert_eq!(write(writer, b"12345"), 5);
        assert_eq!(read_null(reader), NET_EMSGSIZE, "{kind}");
        assert!(
            last_error().ends_with("datagram of 5 bytes did not fit in a buffer of 0 bytes"),
            "{kind}: {}",
            last_error()
        );
        // Consumed: with nothing queued, the next one waits, until the
        // deadline.
        assert_eq!(net_set_read_deadline(reader, 100), 0);
        let start = Instant::now();
        assert_eq!(read_null(reader), NET_ETIMEOUT, "{kind}");
        assert!(start.elapsed() >= Duration::from_millis(90), "{kind}");
        assert_eq!(net_set_read_deadline(reader, -1), 0);
        // net_read_from with length 0 too, its address buffer NULL.
        assert_eq!(write_null(writer), 0);
        // SAFETY: NULL buffers with lengths 0 are allowed.
        let rc = unsafe { net_read_from(reader, ptr::null_mut(), 0, ptr::null_mut(), 0) };
        assert_eq!(rc, 0, "{kind}: {}", last_error());
    }
    // A waiting zero-length read wakes on close, as any read does.
    assert_close_wakes(a, move || (read_null(a), last_error()));
    close_all(&[b, ua, ub]);
}
