//! Deadlines: pending and future I/O fails with NET_ETIMEOUT once one
//! passes; moving it back into the future makes I/O work again.

use crate::common::*;
use gonet::*;
use std::thread;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

/// Asserts `elapsed` is within 50 ms after `target`.
fn near(elapsed: Duration, target_ms: i64) {
    let e = ms(elapsed);
    assert!(
        e >= target_ms - 2 && e <= target_ms + 50,
        "took {e} ms, deadline was {target_ms} ms"
    );
}

#[test]
fn a_read_times_out_near_its_deadline_and_works_once_cleared() {
    let (l, c, s) = tcp_pair();
    assert_eq!(net_set_read_deadline(s, 150), 0);
    let start = Instant::now();
    let mut buf = [0u8; 16];
    assert_eq!(read(s, &mut buf), NET_ETIMEOUT);
    near(start.elapsed(), 150);
    let msg = last_error();
    assert_eq!(
        msg,
        format!(
            "read tcp {}->{}: i/o timeout",
            local_addr(s),
            remote_addr(s)
        )
    );
    // Future reads fail too, until the deadline is moved.
    assert_eq!(read(s, &mut buf), NET_ETIMEOUT);
    assert_eq!(write(c, b"after"), 5);
    assert_eq!(net_set_read_deadline(s, -1), 0);
    assert_eq!(read_exact(s, 5), b"after", "no data was lost");
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn an_expired_deadline_fails_reads_even_with_data_waiting() {
    let (l, c, s) = tcp_pair();
    assert_eq!(write(c, b"waiting"), 7);
    thread::sleep(Duration::from_millis(20));
    assert_eq!(net_set_read_deadline(s, 0), 0);
    let mut buf = [0u8; 16];
    assert_eq!(read(s, &mut buf), NET_ETIMEOUT);
    assert_eq!(net_set_read_deadline(s, 10_000), 0);
    assert_eq!(read_exact(s, 7), b"waiting");
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn a_past_deadline_set_from_another_thread_interrupts_a_read() {
    let (l, c, s) = tcp_pair();
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 16];
        (read(s, &mut buf), Instant::now())
    });
    thread::sleep(Duration::from_millis(200));
    assert!(!reader.is_finished());
    let set_at = Instant::now();
    assert_eq!(net_set_read_deadline(s, 0), 0);
    let (rc, woke_at) = reader.join().unwrap();
    assert_eq!(rc, NET_ETIMEOUT);
    assert!(woke_at.duration_since(set_at) < Duration::from_millis(50));
    // Cleared, the connection reads again.
    assert_eq!(net_set_read_deadline(s, -1), 0);
    assert_eq!(write(c, b"go on"), 5);
    assert_eq!(read_exact(s, 5), b"go on");
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn extending_a_deadline_while_blocked_takes_effect() {
    let (l, c, s) = tcp_pair();
    assert_eq!(net_set_read_deadline(s, 100), 0);
    let start = Instant::now();
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 16];
        read(s, &mut buf)
    });
    thread::sleep(Duration::from_millis(50));
    assert_eq!(net_set_read_deadline(s, 250), 0);
    assert_eq!(reader.join().unwrap(), NET_ETIMEOUT);
    near(start.elapsed(), 300);
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn a_write_on_a_full_buffer_times_out_and_works_once_cleared() {
    let (l, c, s) = tcp_pair();
    let big = vec![3u8; 64 << 20];
    assert_eq!(net_set_write_deadline(c, 200), 0);
    let start = Instant::now();
    assert_eq!(write(c, &big), NET_ETIMEOUT);
    near(start.elapsed(), 200);
    assert!(last_error().starts_with("write tcp 127.0.0.1:"));
    assert!(last_error().ends_with(": i/o timeout"));
    assert_eq!(write(c, b"x"), NET_ETIMEOUT, "future writes fail too");
    // Drain what the failed write left in flight, then clear the deadline.
    let drain = thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0usize;
        loop {
            let n = read(s, &mut buf);
            if n <= 0 {
                return total;
            }
            total += n as usize;
            if buf[..n as usize].contains(&9) {
                return total;
            }
        }
    });
    assert_eq!(net_set_write_deadline(c, -1), 0);
    assert_eq!(write(c, &[9u8; 1000]), 1000);
    assert!(drain.join().unwrap() > 0);
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn a_write_blocked_on_a_full_buffer_is_interrupted_by_a_deadline() {
    let (l, c, s) = tcp_pair();
    let writer = thread::spawn(move || write(c, &vec![3u8; 64 << 20]));
    thread::sleep(Duration::from_millis(200));
    assert!(!writer.is_finished());
    assert_eq!(net_set_deadline(c, 0), 0);
    assert_eq!(writer.join().unwrap(), NET_ETIMEOUT);
    for h in [c, s, l] {
        net_close(h);
    }
}

/// A write deadline interrupts blocked writers only: a reader blocked on
/// the same connection stays blocked, and setting it does not wait on it.
#[test]
fn a_write_deadline_leaves_a_blocked_reader_alone() {
    let (l, c, s) = tcp_pair();
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 8];
        read(c, &mut buf)
    });
    thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    assert_eq!(net_set_write_deadline(c, 0), 0);
    assert!(
        start.elapsed() < Duration::from_millis(100),
        "{:?}",
        start.elapsed()
    );
    thread::sleep(Duration::from_millis(50));
    assert!(!reader.is_finished());
    assert_eq!(write(s, b"x"), 1);
    assert_eq!(reader.join().unwrap(), 1);
    for h in [c, s, l] {
        net_close(h);
    }
}

/// An accept blocked without a deadline (in accept4 itself) is
/// interrupted by a deadline set from another thread, on TCP and Unix
/// listeners, and accepts again once it is cleared.
#[test]
fn a_deadline_set_from_another_thread_interrupts_an_accept() {
    let path = scratch("accept_deadline").join("l.sock");
    for l in [
        listen("tcp", "127.0.0.1:0"),
        listen("unix", path.to_str().unwrap()),
    ] {
        let t = thread::spawn(move || (net_accept(l), last_error()));
        thread::sleep(Duration::from_millis(150));
        assert!(!t.is_finished(), "accept should still be blocked");
        let start = Instant::now();
        assert_eq!(net_set_deadline(l, 0), 0);
        let (rc, msg) = t.join().unwrap();
        assert_eq!(rc, NET_ETIMEOUT, "{msg}");
        assert!(msg.ends_with("i/o timeout"), "{msg}");
        assert!(
            start.elapsed() < Duration::from_millis(100),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(net_set_deadline(l, -1), 0);
        let network = if local_addr(l).starts_with('/') {
            "unix"
        } else {
            "tcp"
        };
        let c = dial(network, &local_addr(l));
        let s = net_accept(l);
        assert!(s > 0, "{}", last_error());
        for h in [c, s, l] {
            net_close(h);
        }
    }
}

#[test]
fn accept_times_out_and_works_once_cleared() {
    let l = listen("tcp", "127.0.0.1:0");
    assert_eq!(net_set_deadline(l, 100), 0);
    let start = Instant::now();
    assert_eq!(net_accept(l), NET_ETIMEOUT);
    near(start.elapsed(), 100);
    assert_eq!(
        last_error(),
        format!("accept tcp {}: i/o timeout", local_addr(l))
    );
    assert_eq!(net_set_deadline(l, -1), 0);
    let c = dial("tcp", &local_addr(l));
    let s = net_accept(l);
    assert!(s > 0, "{}", last_error());
    for h in [c, s, l] {
        net_close(h);
    }
}

/// A loopback listener whose accept queue is full drops further SYNs, so
/// a dial to it never completes: a non-answering address that sends no
/// packet off this machine.
#[test]
fn dial_timeout_to_a_non_answering_address() {
    let hang = full_accept_queue();
    let addr = hang.addr.clone();
    let start = Instant::now();
    // SAFETY: NUL-terminated strings.
    let rc = unsafe { net_dial_timeout(cstr("tcp").as_ptr(), cstr(&addr).as_ptr(), 200) };
    let elapsed = start.elapsed();
    assert_eq!(rc, NET_ETIMEOUT, "{}", last_error());
    assert_eq!(last_error(), format!("dial tcp {addr}: i/o timeout"));
    let e = ms(elapsed);
    assert!(
        (150..=250).contains(&e),
        "dial took {e} ms for a 200 ms timeout"
    );
}

/// Reads block in `recv` itself unless the wake signal cannot be had; the
/// polling way that replaces them then must keep every promise above too.
#[test]
fn the_same_tests_pass_with_polling_reads() {
    rerun_with_polling_reads(module_path!(), "the_same_tests_pass_with_polling_reads");
}

/// Deadlines moved from another thread reach a holder of a biased lock
/// through membarrier; without the bias, through the lock word.
#[test]
fn the_same_tests_pass_without_biased_locks() {
    rerun_without_biased_locks(module_path!(), "the_same_tests_pass_without_biased_locks");
}

/// Deadline changes interrupt a blocked reader with the wake signal; the
/// signal must reach it only inside gonet, never in the program's own code
/// between reads, where it would surface as EINTR. The reader alternates
/// blocking reads with nanosleep (which reports EINTR) while another thread
/// keeps setting and clearing its read deadline.
#[test]
fn the_wake_signal_never_lands_outside_gonet() {
    let (l, c, s) = tcp_pair();
    const BYTES: usize = 2000;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = thread::spawn(move || {
        let mut interrupted_sleeps = 0;
        let mut buf = [0u8; 1];
        for i in 0..BYTES {
            let n = read(s, &mut buf);
            assert_eq!(n, 1, "read {i}: {}", last_error());
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: 50_000,
            };
            // SAFETY: pause is a live timespec; no remainder is asked for.
            if unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) } != 0 {
                interrupted_sleeps += 1;
            }
        }
        interrupted_sleeps
    });
    let toggler = {
        let done = done.clone();
        thread::spawn(move || {
            let mut toggles = 0u64;
            let until = Instant::now() + Duration::from_secs(20);
            while !done.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < until {
                assert_eq!(net_set_read_deadline(s, 10_000), 0);
                assert_eq!(net_set_read_deadline(s, -1), 0);
                toggles += 1;
            }
            toggles
        })
    };
    let started = Instant::now();
    for _ in 0..BYTES {
        assert_eq!(write(c, b"x"), 1);
        thread::sleep(Duration::from_micros(100));
    }
    let interrupted_sleeps = reader.join().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let toggles = toggler.join().unwrap();
    assert!(
        toggles > 100,
        "only {toggles} deadline changes in {:?}",
        started.elapsed()
    );
    assert_eq!(
        interrupted_sleeps, 0,
        "the wake signal interrupted the program's own nanosleep"
    );
    for h in [c, s, l] {
        net_close(h);
    }
}
