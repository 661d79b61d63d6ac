//! Leak soak: 100,000 dial / accept / exchange / close cycles over loopback,
//! run by several threads at once, leave the process as they found it:
//! the same open descriptors, the same number of open handles, and a
//! resident set that stays flat once warmed up. One test in this binary,
//! so the counts it checks are its own.

mod common;
use common::*;
use gonet::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const THREADS: usize = 4;
const CYCLES: u64 = 100_000;
/// Cycles before the resident set is first measured: the handle table's
/// shards, each thread's waker and the allocator's arenas reach their
/// working size in the first few thousand.
const WARM_UP: u64 = 10_000;
/// How much the resident set may move after warm-up. A leak of even one
/// 300-byte descriptor record per cycle would grow it by 27 MiB over the
/// remaining 90,000 cycles.
const RSS_TOLERANCE_KB: i64 = 1024;
const TIME_BUDGET: Duration = Duration::from_secs(180);

fn rss_kb() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// One cycle: dial, accept, a request and its answer, both ends closed.
fn cycle(l: i64, addr: &std::ffi::CStr, n: u64) {
    // SAFETY: NUL-terminated strings.
    let c = unsafe { net_dial_timeout(c"tcp".as_ptr(), addr.as_ptr(), 10_000) };
    assert!(c > 0, "cycle {n}: dial: {}", last_error());
    let s = net_accept(l);
    assert!(s > 0, "cycle {n}: accept: {}", last_error());
    let request = n.to_le_bytes();
    assert_eq!(write(c, &request), 8, "{}", last_error());
    assert_eq!(read_exact(s, 8), request);
    assert_eq!(write(s, b"answer"), 6, "{}", last_error());
    assert_eq!(read_exact(c, 6), b"answer");
    // The server closes first: its side keeps the TIME_WAIT state, so the
    // client's ephemeral ports stay free for the next dials.
    assert_eq!(net_close(s), 0);
    assert_eq!(net_close(c), 0);
}

/// Runs cycles on `THREADS` threads, each with its own listener, until
/// `upto` cycles have been run in all.
fn run(done: &Arc<AtomicU64>, upto: u64, started: Instant) {
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let done = done.clone();
            thread::spawn(move || {
                let l = listen("tcp", "127.0.0.1:0");
                let addr = cstr(&local_addr(l));
                loop {
                    let n = done.fetch_add(1, Ordering::Relaxed);
                    if n >= upto {
                        done.fetch_sub(1, Ordering::Relaxed);
                        break;
                    }
                    assert!(
                        started.elapsed() < TIME_BUDGET,
                        "only {n} cycles in {TIME_BUDGET:?}"
                    );
                    cycle(l, &addr, n);
                }
                assert_eq!(net_close(l), 0);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn a_hundred_thousand_connections_leave_nothing_behind() {
    // This thread's first wait makes its waker; do it before counting.
    let (l, c, s) = tcp_pair();
    for h in [c, s, l] {
        net_close(h);
    }
    let fds_before = open_fds();
    let handles_before = gonet::testing::open_handles();
    let rss_start = rss_kb();
    let started = Instant::now();
    let done = Arc::new(AtomicU64::new(0));

    run(&done, WARM_UP, started);
    let rss_warm = rss_kb();
    let warm_took = started.elapsed();
    run(&done, CYCLES, started);
    let took = started.elapsed();
    let rss_end = rss_kb();

    let cycles = done.load(Ordering::Relaxed);
    let fds_after = open_fds();
    let handles_after = gonet::testing::open_handles();
    println!(
        "{cycles} cycles on {THREADS} threads in {took:?} ({:.0} per second; warm-up {WARM_UP} in {warm_took:?})",
        cycles as f64 / took.as_secs_f64()
    );
    println!("open descriptors: {fds_before} before, {fds_after} after");
    println!("open handles: {handles_before} before, {handles_after} after");
    println!(
        "VmRSS: {rss_start} kB at start, {rss_warm} kB after warm-up, {rss_end} kB at the end ({:+} kB)",
        rss_end - rss_warm
    );
    assert_eq!(cycles, CYCLES);
    assert_eq!(fds_after, fds_before, "descriptors leaked");
    assert_eq!(handles_after, handles_before, "handles leaked");
    assert!(
        (rss_end - rss_warm).abs() <= RSS_TOLERANCE_KB,
        "resident set moved by {} kB after warm-up (tolerance {RSS_TOLERANCE_KB} kB)",
        rss_end - rss_warm
    );
}
