//! `net_copy` and `net_sendfile`: bytes arrive exactly, limits hold,
//! close and deadlines interrupt them, bad input gets a clear code.

use crate::common::*;
use gonet::*;
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::thread;
use std::time::{Duration, Instant};

/// Deterministic bytes that are not a repeating pattern (xorshift).
fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A connected pair on `network` ("tcp" or "unix"): (listener, client,
/// server side).
fn pair(network: &str, name: &str) -> (i64, i64, i64) {
    if network == "tcp" {
        return tcp_pair();
    }
    let path = scratch(&format!("copy_{name}")).join("s.sock");
    let l = listen("unix", path.to_str().unwrap());
    let c = dial("unix", path.to_str().unwrap());
    let s = net_accept(l);
    assert!(s > 0, "accept: {}", last_error());
    (l, c, s)
}

/// Copies through `relay` from one pair into another: `data` is written
/// into the first pair and half-closed, `relay(dst, src)` runs, and what
/// arrives at the far end of the second pair is returned together with
/// the relay's result. Anything past `max` is left unread in `src`, and is
/// checked to be there.
fn relay_through(
    nets: (&str, &str),
    name: &str,
    data: &[u8],
    max: i64,
    relay: impl FnOnce(i64, i64, i64) -> i64,
) {
    let (l1, in_c, in_s) = pair(nets.0, &format!("{name}_in"));
    let (l2, out_c, out_s) = pair(nets.1, &format!("{name}_out"));
    let expect = if max < 0 {
        data.len()
    } else {
        data.len().min(max as usize)
    };
    let to_send = data.to_vec();
    let writer = thread::spawn(move || {
        assert_eq!(
            write(in_c, &to_send),
            to_send.len() as i64,
            "{}",
            last_error()
        );
        assert_eq!(net_close_write(in_c), 0);
        in_c
    });
    let reader = thread::spawn(move || read_exact(out_s, expect));
    let n = relay(out_c, in_s, max);
    assert_eq!(n, expect as i64, "{name}: {}", last_error());
    let got = reader.join().unwrap();
    assert!(got == data[..expect], "{name}: bytes differ");
    if expect < data.len() {
        let rest = read_exact(in_s, data.len() - expect);
        assert!(
            rest == data[expect..],
            "{name}: the rest was not left in src"
        );
    }
    let in_c = writer.join().unwrap();
    for h in [in_c, in_s, out_c, out_s, l1, l2] {
        net_close(h);
    }
}

fn net_copy_ffi(dst: i64, src: i64, max: i64) -> i64 {
    net_copy(dst, src, max)
}

/// The read/write loop, through the crate's API: `(count or code,
/// message)`.
fn copy_loop_with_error(dst: i64, src: i64, max: i64) -> (i64, String) {
    match gonet::testing::copy_with_loop(dst, src, max) {
        Ok(n) => (n as i64, String::new()),
        Err(e) => (e.code(), e.to_string()),
    }
}

fn copy_loop(dst: i64, src: i64, max: i64) -> i64 {
    copy_loop_with_error(dst, src, max).0
}

fn net_copy_with_error(dst: i64, src: i64, max: i64) -> (i64, String) {
    (net_copy(dst, src, max), last_error())
}

const SIZES: [usize; 5] = [0, 1, 1000, 65536 + 17, 3 << 20];

fn relays_exactly(nets: (&str, &str), relay: fn(i64, i64, i64) -> i64, label: &str) {
    for (i, &size) in SIZES.iter().enumerate() {
        let data = random_bytes(size, i as u64 + 7);
        relay_through(nets, &format!("{label}_{i}_all"), &data, -1, relay);
        if size > 0 {
            let name = format!("{label}_{i}_max");
            relay_through(nets, &name, &data, (size / 2) as i64 + 1, relay);
        }
    }
}

#[test]
fn net_copy_relays_exactly_between_tcp_connections() {
    relays_exactly(("tcp", "tcp"), net_copy_ffi, "tcp");
}

#[test]
fn net_copy_relays_exactly_between_unix_connections() {
    relays_exactly(("unix", "unix"), net_copy_ffi, "unix");
}

#[test]
fn net_copy_relays_exactly_between_tcp_and_unix() {
    relays_exactly(("tcp", "unix"), net_copy_ffi, "tcp_unix");
    relays_exactly(("unix", "tcp"), net_copy_ffi, "unix_tcp");
}

#[test]
fn the_read_write_loop_relays_exactly() {
    relays_exactly(("tcp", "tcp"), copy_loop, "loop_tcp");
    relays_exactly(("unix", "tcp"), copy_loop, "loop_unix_tcp");
}

#[test]
fn a_limit_of_zero_copies_nothing() {
    let (l1, c1, s1) = tcp_pair();
    let (l2, c2, s2) = tcp_pair();
    assert_eq!(write(c1, b"abc"), 3);
    assert_eq!(net_copy(c2, s1, 0), 0);
    assert_eq!(read_exact(s1, 3), b"abc");
    for h in [c1, s1, c2, s2, l1, l2] {
        net_close(h);
    }
}

/// A relay in both directions at once, as a proxy runs one: the two
/// copies share both sockets.
#[test]
fn two_copies_relay_both_ways_at_once() {
    let (l1, client, proxy_in) = tcp_pair();
    let (l2, proxy_out, server) = tcp_pair();
    // Each direction passes its end of stream on, as a proxy does.
    let up = thread::spawn(move || {
        let n = net_copy(proxy_out, proxy_in, -1);
        net_close_write(proxy_out);
        n
    });
    let down = thread::spawn(move || {
        let n = net_copy(proxy_in, proxy_out, -1);
        net_close_write(proxy_in);
        n
    });
    let echo = thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            let n = read(server, &mut buf);
            if n <= 0 {
                break;
            }
            assert_eq!(write(server, &buf[..n as usize]), n);
        }
        net_close_write(server);
    });
    for round in 0..20u64 {
        let data = random_bytes(10_000 + round as usize * 3001, round);
        assert_eq!(write(client, &data), data.len() as i64);
        assert!(read_exact(client, data.len()) == data, "round {round}");
    }
    net_close_write(client);
    let mut buf = [0u8; 8];
    assert_eq!(read(client, &mut buf), 0, "{}", last_error());
    echo.join().unwrap();
    assert!(up.join().unwrap() > 0);
    assert!(down.join().unwrap() > 0);
    for h in [client, proxy_in, proxy_out, server, l1, l2] {
        net_close(h);
    }
}

#[test]
fn close_of_either_end_wakes_a_copy_waiting_for_data() {
    type Relay = fn(i64, i64, i64) -> (i64, String);
    for relay in [net_copy_with_error as Relay, copy_loop_with_error] {
        for close_src in [true, false] {
            let (l1, c1, s1) = tcp_pair();
            let (l2, c2, s2) = tcp_pair();
            assert_close_wakes(if close_src { s1 } else { c2 }, move || relay(c2, s1, -1));
            for h in [c1, s1, c2, s2, l1, l2] {
                net_close(h);
            }
        }
    }
}

/// Writes up to 64 MiB into `conn` on a thread, stopping at the first
/// failure (the peer closing), so that a copy from its peer never runs dry.
fn feed(conn: i64) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let big = vec![5u8; 1 << 20];
        for _ in 0..64 {
            if write(conn, &big) < 0 {
                break;
            }
        }
    })
}

#[test]
fn close_wakes_a_copy_blocked_on_a_full_destination() {
    let (l1, c1, s1) = tcp_pair();
    let (l2, c2, s2) = tcp_pair();
    // Plenty to send, and nobody reads s2: the copy fills c2's buffers.
    let feeder = feed(c1);
    assert_close_wakes(c2, move || (net_copy(c2, s1, -1), last_error()));
    net_close(s1);
    net_close(c1);
    feeder.join().unwrap();
    for h in [s2, l1, l2] {
        net_close(h);
    }
}

#[test]
fn a_read_deadline_on_the_source_times_the_copy_out() {
    let (l1, c1, s1) = tcp_pair();
    let (l2, c2, s2) = tcp_pair();
    assert_eq!(write(c1, b"early"), 5);
    assert_eq!(net_set_read_deadline(s1, 150), 0);
    let start = Instant::now();
    assert_eq!(net_copy(c2, s1, -1), NET_ETIMEOUT, "{}", last_error());
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(140) && took < Duration::from_secs(2),
        "{took:?}"
    );
    let expect = format!(
        "readfrom tcp {}->{}: i/o timeout",
        local_addr(c2),
        remote_addr(c2)
    );
    assert_eq!(last_error(), expect);
    // What came before the deadline went through.
    assert_eq!(read_exact(s2, 5), b"early");
    // A deadline set from another thread interrupts a copy already waiting.
    assert_eq!(net_set_read_deadline(s1, -1), 0);
    let t = thread::spawn(move || net_copy(c2, s1, -1));
    thread::sleep(Duration::from_millis(100));
    assert_eq!(net_set_read_deadline(s1, 0), 0);
    assert_eq!(t.join().unwrap(), NET_ETIMEOUT);
    for h in [c1, s1, c2, s2, l1, l2] {
        net_close(h);
    }
}

#[test]
fn a_write_deadline_on_the_destination_times_the_copy_out() {
    let (l1, c1, s1) = tcp_pair();
    let (l2, c2, s2) = tcp_pair();
    let feeder = feed(c1);
    assert_eq!(net_set_write_deadline(c2, 300), 0);
    assert_eq!(net_copy(c2, s1, -1), NET_ETIMEOUT, "{}", last_error());
    assert!(
        last_error().starts_with("readfrom tcp "),
        "{}",
        last_error()
    );
    net_close(s1);
    net_close(c1);
    feeder.join().unwrap();
    for h in [c2, s2, l1, l2] {
        net_close(h);
    }
}

#[test]
fn an_error_of_a_tcp_source_into_a_unix_destination_is_a_writeto() {
    let (l1, c1, s1) = tcp_pair();
    let (l2, c2, s2) = pair("unix", "writeto");
    assert_eq!(net_set_read_deadline(s1, 0), 0);
    assert_eq!(net_copy(c2, s1, -1), NET_ETIMEOUT);
    let expect = format!(
        "writeto tcp {}->{}: i/o timeout",
        local_addr(s1),
        remote_addr(s1)
    );
    assert_eq!(last_error(), expect);
    for h in [c1, s1, c2, s2, l1, l2] {
        net_close(h);
    }
}

#[test]
fn bad_handles_get_clear_codes() {
    let (l, c, s) = tcp_pair();
    assert_eq!(net_copy(c, l, -1), NET_EINVAL, "{}", last_error());
    assert_eq!(net_copy(l, s, -1), NET_EINVAL, "{}", last_error());
    assert_eq!(net_copy(c, 0, -1), NET_ECLOSED);
    assert_eq!(net_copy(-5, s, -1), NET_ECLOSED);
    assert_eq!(net_copy(c, i64::MAX, -1), NET_ECLOSED);
    assert_eq!(last_error(), "readfrom: use of closed network connection");
    let d = net_dialer_new();
    assert_eq!(net_copy(c, d, -1), NET_EINVAL);
    net_close(d);
    net_close(s);
    assert_eq!(net_copy(c, s, -1), NET_ECLOSED);
    assert_eq!(net_sendfile(s, 0, 0, 1), NET_ECLOSED);
    assert_eq!(net_sendfile(l, 0, 0, 1), NET_EINVAL);
    net_close(c);
    net_close(l);
}

fn temp_file(name: &str, data: &[u8]) -> std::fs::File {
    let path = scratch(&format!("sendfile_{name}")).join("data");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(data).unwrap();
    std::fs::File::open(&path).unwrap()
}

#[test]
fn net_sendfile_sends_the_bytes_asked_for() {
    let data = random_bytes(3 << 20, 99);
    let file = temp_file("exact", &data);
    let fd = file.as_raw_fd();
    let (l, c, s) = tcp_pair();
    for (offset, count) in [
        (0usize, data.len() as i64),
        (12345, 70_000),
        (1, -1),
        (0, 0),
        (data.len() - 10, 100),
        (data.len() + 5, 100),
    ] {
        let expect = if count < 0 {
            data.len().saturating_sub(offset)
        } else {
            (count as usize).min(data.len().saturating_sub(offset))
        };
        let reader = thread::spawn(move || read_exact(s, expect));
        let n = net_sendfile(c, fd, offset as i64, count);
        assert_eq!(n, expect as i64, "{offset}/{count}: {}", last_error());
        let got = reader.join().unwrap();
        let from = offset.min(data.len());
        assert!(got == data[from..from + expect], "{offset}/{count}");
    }
    // The file's own offset did not move.
    // SAFETY: lseek on a descriptor this test owns.
    assert_eq!(unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) }, 0);
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn net_sendfile_rejects_bad_descriptors_and_offsets() {
    let (l, c, s) = tcp_pair();
    assert_eq!(net_sendfile(c, -1, 0, 10), NET_EINVAL);
    let file = temp_file("bad", b"hello");
    assert_eq!(net_sendfile(c, file.as_raw_fd(), -3, 10), NET_EINVAL);
    // A descriptor number that is not open.
    assert_eq!(net_sendfile(c, 1 << 20, 0, 10), NET_ESYSTEM);
    let expect = format!(
        "readfrom tcp {}->{}: sendfile: bad file descriptor",
        local_addr(c),
        remote_addr(c)
    );
    assert_eq!(last_error(), expect);
    // The connection still works afterwards, in blocking mode again.
    assert_eq!(net_sendfile(c, file.as_raw_fd(), 0, -1), 5);
    assert_eq!(read_exact(s, 5), b"hello");
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn a_write_deadline_times_net_sendfile_out() {
    let data = vec![3u8; 32 << 20];
    let file = temp_file("deadline", &data);
    let (l, c, s) = tcp_pair();
    assert_eq!(net_set_write_deadline(c, 200), 0);
    // Nobody reads s, so the buffers fill and the deadline passes.
    assert_eq!(
        net_sendfile(c, file.as_raw_fd(), 0, -1),
        NET_ETIMEOUT,
        "{}",
        last_error()
    );
    for h in [c, s, l] {
        net_close(h);
    }
}
