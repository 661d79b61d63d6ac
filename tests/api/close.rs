//! Close from any thread wakes blocked reads, writes and accepts; closed,
//! made-up and stale handles are never mistaken for live ones.

use crate::common::*;
use gonet::*;
use std::thread;
use std::time::Duration;

#[test]
fn close_wakes_a_blocked_read() {
    let (l, c, s) = tcp_pair();
    assert_close_wakes(s, move || {
        let mut buf = [0u8; 64];
        (read(s, &mut buf), last_error())
    });
    net_close(c);
    net_close(l);
}

#[test]
fn close_wakes_a_blocked_accept() {
    let l = listen("tcp", "127.0.0.1:0");
    assert_close_wakes(l, move || (net_accept(l), last_error()));
    let u = scratch("close_accept").join("l.sock");
    let lu = listen("unix", u.to_str().unwrap());
    assert_close_wakes(lu, move || (net_accept(lu), last_error()));
}

#[test]
fn close_wakes_a_write_blocked_on_a_full_buffer() {
    let (l, c, s) = tcp_pair();
    assert_close_wakes(c, move || {
        // Nobody reads s, so this fills both socket buffers and blocks.
        let big = vec![1u8; 64 << 20];
        (write(c, &big), last_error())
    });
    net_close(s);
    net_close(l);
}

/// A thread keeps the connections it read or wrote lately at hand and
/// finds them again without the handle table (`capi/boundary.rs`): calls
/// on a kept connection must be woken by a close as the first call is.
#[test]
fn close_wakes_a_read_and_a_write_on_connections_their_thread_kept() {
    let (l, c, s) = tcp_pair();
    assert_eq!(write(c, b"1"), 1);
    assert_close_wakes(s, move || {
        let mut buf = [0u8; 64];
        // The first call looks the handle up and keeps it; the second,
        // which blocks, finds it kept.
        assert_eq!(read(s, &mut buf), 1);
        (read(s, &mut buf), last_error())
    });
    close_all(&[c, l]);
    let (l, c, s) = tcp_pair();
    assert_close_wakes(c, move || {
        assert_eq!(write(c, b"2"), 1);
        // Nobody reads: fills both socket buffers and blocks.
        (write(c, &vec![1u8; 64 << 20]), last_error())
    });
    close_all(&[s, l]);
}

/// What a thread keeps is memory, not the socket: a connection closed by
/// another thread while the one that used it sleeps is closed at once
/// (its peer reads end of stream), and later calls from the sleeping
/// thread are refused as on any closed handle.
#[test]
fn a_kept_connection_closed_by_another_thread_ends_at_once() {
    let (l, c, s) = tcp_pair();
    let (used_tx, used) = std::sync::mpsc::channel();
    let (go_on, go_on_rx) = std::sync::mpsc::channel::<()>();
    let user = thread::spawn(move || {
        assert_eq!(write(s, b"ping"), 4);
        assert_eq!(read_exact(s, 4), b"pong");
        used_tx.send(()).unwrap();
        go_on_rx.recv().unwrap();
        let mut buf = [0u8; 4];
        let read_rc = (read(s, &mut buf), last_error());
        let write_rc = (write(s, b"x"), last_error());
        (read_rc, write_rc)
    });
    assert_eq!(read_exact(c, 4), b"ping");
    assert_eq!(write(c, b"pong"), 4);
    used.recv().unwrap();
    let ends = format!("tcp {}->{}", local_addr(s), remote_addr(s));
    assert_eq!(net_close(s), 0);
    assert_eq!(net_set_read_deadline(c, 2000), 0);
    let mut buf = [0u8; 4];
    assert_eq!(read(c, &mut buf), 0, "end of stream: {}", last_error());
    go_on.send(()).unwrap();
    let ((read_rc, read_msg), (write_rc, write_msg)) = user.join().unwrap();
    assert_eq!(read_rc, NET_ECLOSED, "{read_msg}");
    assert_eq!(
        read_msg,
        format!("read {ends}: use of closed network connection")
    );
    assert_eq!(write_rc, NET_ECLOSED, "{write_msg}");
    assert_eq!(
        write_msg,
        format!("write {ends}: use of closed network connection")
    );
    net_close(c);
    net_close(l);
}

#[test]
fn close_wakes_every_thread_blocked_on_the_handle() {
    let (l, c, s) = tcp_pair();
    let readers: Vec<_> = (0..3)
        .map(|_| {
            thread::spawn(move || {
                let mut buf = [0u8; 8];
                read(s, &mut buf)
            })
        })
        .collect();
    let writer = thread::spawn(move || write(s, &vec![0u8; 64 << 20]));
    thread::sleep(Duration::from_millis(200));
    assert_eq!(net_close(s), 0);
    for r in readers {
        assert_eq!(r.join().unwrap(), NET_ECLOSED);
    }
    assert_eq!(writer.join().unwrap(), NET_ECLOSED);
    net_close(c);
    net_close(l);
}

#[test]
fn closed_and_made_up_handles_are_eclosed() {
    let (l, c, s) = tcp_pair();
    let ends = format!("tcp {}->{}", local_addr(c), remote_addr(c));
    assert_eq!(net_close(c), 0);
    assert_eq!(net_close(c), NET_ECLOSED, "double close");
    assert_eq!(
        last_error(),
        format!("close {ends}: use of closed network connection")
    );
    let mut buf = [0u8; 4];
    assert_eq!(read(c, &mut buf), NET_ECLOSED);
    assert_eq!(write(c, b"x"), NET_ECLOSED);
    assert_eq!(net_set_deadline(c, 10), NET_ECLOSED);
    assert_eq!(net_close_write(c), NET_ECLOSED);
    for made_up in [0, -1, i64::MIN, i64::MAX, 1 << 40] {
        assert_eq!(read(made_up, &mut buf), NET_ECLOSED);
        assert_eq!(net_accept(made_up), NET_ECLOSED);
        assert_eq!(net_close(made_up), NET_ECLOSED);
    }
    net_close(s);
    net_close(l);
}

#[test]
fn a_stale_handle_never_reaches_a_newer_connection() {
    let (l, c, s) = tcp_pair();
    net_close(c);
    net_close(s);
    // New connections take the descriptor numbers the old ones freed, but
    // never their handles.
    let (l2, c2, s2) = tcp_pair();
    assert!(c2 > c && s2 > s);
    assert_eq!(write(c, b"stale"), NET_ECLOSED);
    assert_eq!(write(s, b"stale"), NET_ECLOSED);
    assert_eq!(write(c2, b"fresh"), 5);
    assert_eq!(read_exact(s2, 5), b"fresh");
    for h in [c2, s2, l2, l] {
        assert_eq!(net_close(h), 0);
    }
}

/// Reads block in `recv` itself unless the wake signal cannot be had; the
/// polling way that replaces them then must keep every promise above too.
#[test]
fn the_same_tests_pass_with_polling_reads() {
    rerun_with_polling_reads(module_path!(), "the_same_tests_pass_with_polling_reads");
}

/// A direction lock is biased to the first thread that takes it, which
/// then takes it with plain stores; without the bias (a kernel without
/// membarrier, or `GONET_BIASED_LOCKS=0`) every promise above holds too.
#[test]
fn the_same_tests_pass_without_biased_locks() {
    rerun_without_biased_locks(module_path!(), "the_same_tests_pass_without_biased_locks");
}

/// Go names the connection in the error of every call made on it after it
/// is closed: `read tcp L->R: use of closed network connection`.
#[test]
fn calls_on_a_closed_handle_name_it_as_go_does() {
    let (l, c, s) = tcp_pair();
    let (local, peer) = (local_addr(c), remote_addr(c));
    let listener = local_addr(l);
    assert_eq!(net_close(c), 0);
    let closed = |op: &str| format!("{op} tcp {local}->{peer}: use of closed network connection");
    let mut buf = [0u8; 4];
    assert_eq!(read(c, &mut buf), NET_ECLOSED);
    assert_eq!(last_error(), closed("read"));
    assert_eq!(write(c, b"x"), NET_ECLOSED);
    assert_eq!(last_error(), closed("write"));
    assert_eq!(net_close(c), NET_ECLOSED);
    assert_eq!(last_error(), closed("close"));
    assert_eq!(net_set_deadline(c, 10), NET_ECLOSED);
    assert_eq!(last_error(), closed("set_deadline"));
    // A listener names its own address, as its accepts did.
    assert_eq!(net_close(l), 0);
    assert_eq!(net_accept(l), NET_ECLOSED);
    assert_eq!(
        last_error(),
        format!("accept tcp {listener}: use of closed network connection")
    );
    // An unconnected packet handle names its own address.
    let p = listen_packet("udp", "127.0.0.1:0");
    let paddr = local_addr(p);
    assert_eq!(net_close(p), 0);
    assert_eq!(read_from(p, &mut buf).0, NET_ECLOSED);
    assert_eq!(
        last_error(),
        format!("read udp {paddr}: use of closed network connection")
    );
    // A Unix connection names its path.
    let path = scratch("closed_names").join("s.sock");
    let path = path.to_str().unwrap();
    let lu = listen("unix", path);
    let cu = dial("unix", path);
    assert_eq!(net_close(cu), 0);
    assert_eq!(write(cu, b"x"), NET_ECLOSED);
    assert_eq!(
        last_error(),
        format!("write unix ->{path}: use of closed network connection")
    );
    close_all(&[s, lu]);
}

/// A handle that was never issued has no connection to name.
#[test]
fn a_never_issued_handle_gets_the_short_form() {
    let mut buf = [0u8; 4];
    let not_yet = {
        let p = listen_packet("udp", "127.0.0.1:0");
        net_close(p);
        p + (1 << 30)
    };
    for h in [0, -1, i64::MAX, not_yet] {
        assert_eq!(read(h, &mut buf), NET_ECLOSED);
        assert_eq!(last_error(), "read: use of closed network connection");
        assert_eq!(net_close(h), NET_ECLOSED);
        assert_eq!(last_error(), "close: use of closed network connection");
    }
}

/// The memory of closed handles is bounded: a closed handle's slot is
/// taken by one closed 1024 handles (or a multiple) later, and the older
/// one falls back to the short form.
#[test]
fn closed_handles_are_forgotten_after_1024_more() {
    let first = listen_packet("udp", "127.0.0.1:0");
    let addr = local_addr(first);
    assert_eq!(net_close(first), 0);
    let mut buf = [0u8; 1];
    assert_eq!(read(first, &mut buf), NET_ECLOSED);
    assert_eq!(
        last_error(),
        format!("read udp {addr}: use of closed network connection")
    );
    // Other tests take handles too, so the one in `first`'s slot may go to
    // them: keep making handles until one of ours lands there. Bounded:
    // ten times round the slots.
    let mut reused = false;
    for _ in 0..10 * 1024 {
        let h = listen_packet("udp", "127.0.0.1:0");
        assert_eq!(net_close(h), 0);
        if h % 1024 == first % 1024 {
            reused = true;
            break;
        }
    }
    assert!(reused, "no handle of ours took the slot of {first}");
    assert_eq!(read(first, &mut buf), NET_ECLOSED);
    assert_eq!(last_error(), "read: use of closed network connection");
}

/// A connection whose local address nobody asked for is remembered
/// without it: after the close its calls name the peer alone, as Go's
/// `OpError` prints one without a source. Asking for it at close would
/// cost every connection a system call.
#[test]
fn a_closed_handle_whose_local_address_was_never_asked_names_the_peer() {
    let l = listen("tcp", "127.0.0.1:0");
    let peer = local_addr(l);
    let c = dial("tcp", &peer);
    let s = net_accept(l);
    assert_eq!(net_close(c), 0);
    let mut buf = [0u8; 1];
    assert_eq!(read(c, &mut buf), NET_ECLOSED);
    assert_eq!(
        last_error(),
        format!("read tcp {peer}: use of closed network connection")
    );
    close_all(&[s, l]);
}
