//! gonet's own bookkeeping per open handle stays within 512 bytes: the
//! heap this process holds for open connections, divided by their number
//! (the kernel's socket buffers are not gonet's and are not counted here).

mod common;
use common::*;
use gonet::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout as asked.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: ptr came from alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn bookkeeping_per_open_handle_is_at_most_512_bytes() {
    const PAIRS: usize = 200;
    let l = listen("tcp", "127.0.0.1:0");
    let addr = local_addr(l);
    // Warm up: the thread's waker and the table's first allocations.
    let c0 = dial("tcp", &addr);
    let s0 = net_accept(l);
    let addr_c = cstr(&addr);
    let tcp = cstr("tcp");
    let mut handles = Vec::with_capacity(2 * PAIRS);
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    for _ in 0..PAIRS {
        // SAFETY: NUL-terminated strings.
        let c = unsafe { net_dial(tcp.as_ptr(), addr_c.as_ptr()) };
        let s = net_accept(l);
        assert!(c > 0 && s > 0, "{}", last_error());
        handles.push(c);
        handles.push(s);
    }
    let after = LIVE_BYTES.load(Ordering::Relaxed);
    // The test's own vector was allocated before `before`.
    let per_handle = (after - before) as f64 / (2 * PAIRS) as f64;
    println!("gonet heap per open connection handle: {per_handle:.0} bytes");
    assert!(per_handle <= 512.0, "{per_handle} bytes per handle");
    for h in handles {
        assert_eq!(net_close(h), 0);
    }
    let closed = LIVE_BYTES.load(Ordering::Relaxed);
    // What stays: table capacity, and what gonet remembers of closed
    // handles for their messages, at most 1024 entries of at most 128
    // bytes (see net_close).
    let remembered = (2 * PAIRS).min(1024) as isize * 128;
    assert!(
        closed - before < 16 * 1024 + remembered,
        "closing returns the memory (table capacity may stay): {} bytes left",
        closed - before
    );
    for h in [c0, s0, l] {
        net_close(h);
    }
    // Closing many more handles than are remembered keeps that memory
    // bounded.
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    for _ in 0..3000 {
        let p = listen_packet("udp", "127.0.0.1:0");
        assert_eq!(net_close(p), 0);
    }
    let grown = LIVE_BYTES.load(Ordering::Relaxed) - before;
    assert!(
        grown <= 16 * 1024 + 1024 * 128,
        "3000 closed handles kept {grown} bytes"
    );
}
