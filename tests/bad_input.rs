//! Bad input never crashes: NULL pointers, non-UTF-8 strings, absurd
//! lengths, handles of the wrong kind, stale handles. Each gets a clear
//! code and message, and nothing leaks. The tests of this binary take
//! `SERIAL` in turn, so the handle and descriptor counts checked are the
//! leak test's own (the source scan opens files too).

mod common;
use common::*;
use gonet::*;
use std::ffi::{CStr, c_char};
use std::ptr::{null, null_mut};

fn expect(rc: i64, code: i64, message: &str) {
    assert_eq!(rc, code, "{}", last_error());
    assert_eq!(last_error(), message);
}

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn bad_input_gets_a_clear_code_and_leaks_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A first connection makes this thread's waker (one eventfd per thread
    // that ever waits, kept until the thread ends), so that it is not
    // counted as a leak below.
    let (l, c, s) = tcp_pair();
    for h in [c, s, l] {
        net_close(h);
    }
    let handles_before = gonet::testing::open_handles();
    let fds_before = open_fds();
    let tcp = cstr("tcp");
    let addr = cstr("127.0.0.1:1");
    let not_utf8: &CStr = c"127.0.0.1:\xff\xfe";
    // SAFETY: every pointer is NULL, or valid for the length given.
    unsafe {
        expect(
            net_dial(null(), addr.as_ptr()),
            NET_EINVAL,
            "dial: network is NULL",
        );
        expect(
            net_dial(tcp.as_ptr(), null()),
            NET_EINVAL,
            "dial: address is NULL",
        );
        expect(
            net_dial_timeout(tcp.as_ptr(), null(), 10),
            NET_EINVAL,
            "dial: address is NULL",
        );
        expect(
            net_dial(tcp.as_ptr(), not_utf8.as_ptr()),
            NET_EINVAL,
            "dial: address is not valid UTF-8",
        );
        expect(
            net_listen(null(), null()),
            NET_EINVAL,
            "listen: network is NULL",
        );
        expect(
            net_listen(c"\xc3\x28".as_ptr(), addr.as_ptr()),
            NET_EINVAL,
            "listen: network is not valid UTF-8",
        );
        expect(
            net_dial(c"".as_ptr(), c"".as_ptr()),
            NET_EADDR,
            "dial: unknown network ",
        );
        expect(
            net_dial(c"unix".as_ptr(), c"".as_ptr()),
            NET_EADDR,
            "dial unix: missing address",
        );
    }

    let (l, c, s) = tcp_pair();
    let mut buf = [0u8; 8];
    // SAFETY: as above; the lengths that are not backed by memory are
    // rejected before any access.
    unsafe {
        expect(
            net_read(c, null_mut(), 8),
            NET_EINVAL,
            "read: buffer is NULL",
        );
        expect(net_write(c, null(), 8), NET_EINVAL, "write: buffer is NULL");
        let huge = isize::MAX as usize + 1;
        expect(
            net_read(c, buf.as_mut_ptr().cast(), huge),
            NET_EINVAL,
            &format!("read: length {huge} is too large"),
        );
        expect(
            net_write(c, buf.as_ptr().cast(), usize::MAX),
            NET_EINVAL,
            &format!("write: length {} is too large", usize::MAX),
        );
        assert_eq!(net_read(c, null_mut(), 0), 0, "NULL with length 0 is fine");
        assert_eq!(net_write(c, null(), 0), 0);
        expect(
            net_local_addr(c, null_mut(), 5),
            NET_EINVAL,
            "local_addr: buffer is NULL",
        );
        // NULL with length 0 asks for the length only, like snprintf.
        assert_eq!(net_local_addr(c, null_mut(), 0), local_addr(c).len() as i64);
        // Truncation keeps the NUL and reports the full length.
        let mut small = [0x55 as c_char; 4];
        assert_eq!(
            net_remote_addr(c, small.as_mut_ptr(), 4),
            remote_addr(c).len() as i64
        );
        assert_eq!(CStr::from_ptr(small.as_ptr()).to_bytes(), b"127");

        // Handles of the wrong kind.
        let laddr = local_addr(l);
        expect(
            net_read(l, buf.as_mut_ptr().cast(), 8),
            NET_EINVAL,
            &format!("read tcp {laddr}: handle {l} is a listener, not a connection"),
        );
        expect(
            net_write(l, buf.as_ptr().cast(), 8),
            NET_EINVAL,
            &format!("write tcp {laddr}: handle {l} is a listener, not a connection"),
        );
        assert_eq!(net_accept(c), NET_EINVAL);
        assert!(last_error().ends_with(&format!("handle {c} is a connection, not a listener")));
        assert_eq!(net_close_write(l), NET_EINVAL);
        assert_eq!(net_remote_addr(l, buf.as_mut_ptr().cast(), 8), NET_EINVAL);
        assert_eq!(net_set_nodelay(l, 1), NET_EINVAL);
    }
    // Stale and made-up handles.
    for h in [c, s, l] {
        assert_eq!(net_close(h), 0);
    }
    for h in [c, s, l, 0, -5, i64::MAX] {
        assert_eq!(read(h, &mut buf), NET_ECLOSED);
        assert_eq!(net_accept(h), NET_ECLOSED);
        assert_eq!(net_set_deadline(h, 1), NET_ECLOSED);
        assert_eq!(net_set_keepalive(h, 1), NET_ECLOSED);
        assert_eq!(net_close(h), NET_ECLOSED);
    }
    // Unix sockets have no TCP options.
    let path = scratch("bad_input").join("u.sock");
    let lu = listen("unix", path.to_str().unwrap());
    let cu = dial("unix", path.to_str().unwrap());
    let su = net_accept(lu);
    assert_eq!(net_set_nodelay(cu, 1), NET_EINVAL);
    assert!(
        last_error().ends_with("not a TCP connection"),
        "{}",
        last_error()
    );
    assert_eq!(net_set_keepalive(cu, 1000), NET_EINVAL);
    for h in [cu, su, lu] {
        assert_eq!(net_close(h), 0);
    }

    // Every code has a description.
    for code in 0..=13 {
        // SAFETY: net_strerror returns a static NUL-terminated string.
        let text = unsafe { CStr::from_ptr(net_strerror(-code)) };
        assert!(!text.to_bytes().is_empty());
    }
    // SAFETY: as above.
    assert_eq!(
        unsafe { CStr::from_ptr(net_strerror(-999)) },
        c"unknown error code"
    );
    // SAFETY: net_version returns a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(net_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));

    assert_eq!(
        gonet::testing::open_handles(),
        handles_before,
        "handles leaked"
    );
    assert_eq!(open_fds(), fds_before, "descriptors leaked");
}

/// Every exported function that returns a code runs inside the panic
/// boundary (`call`), so a panic can never unwind into C. The boundary
/// itself is tested in `src/capi/boundary.rs`.
#[test]
fn every_exported_function_is_behind_the_panic_boundary() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(repo_dir().join("src/capi")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        for (i, _) in source.match_indices("extern \"C\" fn ") {
            let rest = &source[i..];
            let function: String = rest["extern \"C\" fn ".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let body_start = rest.find('{').unwrap();
            let signature = &rest[..body_start];
            let body_end = rest.find("\n}\n").unwrap();
            let body = &rest[body_start..body_end];
            if signature.contains("-> i64") {
                assert!(
                    body.contains("call(") || body.contains("call_io("),
                    "{function} in {name} is not behind the panic boundary"
                );
                checked.push(function);
            }
        }
    }
    // Every function of the header that returns a code was found.
    let header = std::fs::read_to_string(include_dir().join("gonet.h")).unwrap();
    let declared = header
        .lines()
        .filter(|l| l.starts_with("int64_t net_"))
        .count();
    assert_eq!(checked.len(), declared, "checked {checked:?}");
}
