//! One meaning for every `*_ms` argument (README, "Durations"): 0 or more
//! is that many milliseconds, 0 being no time at all; `NET_FOREVER` (and
//! any other negative value) is without end; `NET_DEFAULT` is Go's default
//! for the setting. And the header's macros: negative values
//! parenthesized, the version matching `net_version()`.

use crate::common::*;
use gonet::*;
use socket2::SockRef;
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

/// The keep-alive idle time of connection `c`'s socket, `None` when off.
fn keepalive_of(c: i64) -> Option<Duration> {
    let fd = fd_of(&local_addr(c), Some(&remote_addr(c)));
    // SAFETY: the descriptor is open while the test holds `c`.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let sock = SockRef::from(&borrowed);
    sock.keepalive()
        .unwrap()
        .then(|| sock.tcp_keepalive_time().unwrap())
}

fn dial_ms(address: &str, ms: i64) -> (i64, String, Duration) {
    let started = Instant::now();
    // SAFETY: NUL-terminated strings.
    let rc = unsafe { net_dial_timeout(c"tcp".as_ptr(), cstr(address).as_ptr(), ms) };
    (rc, last_error(), started.elapsed())
}

#[test]
fn zero_is_no_time_and_forever_and_default_are_none() {
    let l = listen("tcp", "127.0.0.1:0");
    let addr = local_addr(l);
    // A dial timeout of 0 has run out before the dial starts, as a Go
    // dial with a past deadline.
    let (rc, msg, took) = dial_ms(&addr, 0);
    assert_eq!(rc, NET_ETIMEOUT, "{msg}");
    assert_eq!(msg, format!("dial tcp {addr}: i/o timeout"));
    assert!(took < Duration::from_millis(100), "{took:?}");
    // NET_FOREVER, any other negative value, and NET_DEFAULT: no timeout.
    for ms in [NET_FOREVER, -7, NET_DEFAULT, 5_000] {
        let (c, msg, _) = dial_ms(&addr, ms);
        assert!(c > 0, "timeout {ms}: {msg}");
        let s = net_accept(l);
        assert!(s > 0);
        close_all(&[c, s]);
    }
    // Deadlines: 0 has passed; NET_FOREVER and NET_DEFAULT clear.
    let (c, s) = (dial("tcp", &addr), net_accept(l));
    assert_eq!(write(c, b"ab"), 2);
    let mut buf = [0u8; 1];
    for clear in [NET_FOREVER, NET_DEFAULT] {
        assert_eq!(net_set_read_deadline(s, 0), 0);
        assert_eq!(read(s, &mut buf), NET_ETIMEOUT);
        assert_eq!(net_set_read_deadline(s, clear), 0);
        assert_eq!(read(s, &mut buf), 1);
    }
    close_all(&[c, s, l]);
}

#[test]
fn keepalive_periods() {
    let l = listen("tcp", "127.0.0.1:0");
    let addr = local_addr(l);
    let (c, s) = (dial("tcp", &addr), net_accept(l));
    assert_eq!(
        keepalive_of(c),
        Some(Duration::from_secs(15)),
        "Go's default"
    );
    for (ms, want) in [
        (1_500, Some(2)), // whole seconds, rounded up
        (0, Some(1)),     // no time at all: the kernel's least
        (NET_FOREVER, None),
        (NET_DEFAULT, Some(15)),
        (-9, None),
    ] {
        assert_eq!(net_set_keepalive(c, ms), 0, "{}", last_error());
        assert_eq!(keepalive_of(c), want.map(Duration::from_secs), "{ms}");
    }
    close_all(&[c, s]);
    // The same values through a dialer.
    for (ms, want) in [
        (NET_DEFAULT, Some(15)),
        (NET_FOREVER, None),
        (0, Some(1)),
        (20_000, Some(20)),
    ] {
        let d = net_dialer_new();
        assert_eq!(net_dialer_set_keepalive(d, ms), 0);
        // SAFETY: NUL-terminated strings.
        let c = unsafe { net_dialer_dial(d, c"tcp".as_ptr(), cstr(&addr).as_ptr()) };
        assert!(c > 0, "{}", last_error());
        let s = net_accept(l);
        assert_eq!(
            keepalive_of(c),
            want.map(Duration::from_secs),
            "dialer {ms}"
        );
        close_all(&[c, s, d]);
    }
    net_close(l);
}

#[test]
fn dialer_timeouts_and_fallback_delays() {
    let l = listen("tcp", "127.0.0.1:0");
    let addr = local_addr(l);
    let dial_with = |d: i64| {
        // SAFETY: NUL-terminated strings.
        unsafe { net_dialer_dial(d, c"tcp".as_ptr(), cstr(&addr).as_ptr()) }
    };
    let d = net_dialer_new();
    assert_eq!(net_dialer_set_timeout(d, 0), 0);
    assert_eq!(dial_with(d), NET_ETIMEOUT, "{}", last_error());
    assert_eq!(last_error(), format!("dial tcp {addr}: i/o timeout"));
    for ms in [NET_FOREVER, NET_DEFAULT, 1_000] {
        assert_eq!(net_dialer_set_timeout(d, ms), 0);
        let c = dial_with(d);
        assert!(c > 0, "timeout {ms}: {}", last_error());
        close_all(&[c, net_accept(l)]);
    }
    // Every value is taken; none of them stops a one-address dial.
    for ms in [NET_DEFAULT, NET_FOREVER, 0, 50] {
        assert_eq!(net_dialer_set_fallback_delay(d, ms), 0);
        let c = dial_with(d);
        assert!(c > 0, "fallback {ms}: {}", last_error());
        close_all(&[c, net_accept(l)]);
    }
    close_all(&[d, l]);
}

#[test]
fn header_macros_are_parenthesized_and_versioned() {
    let header = std::fs::read_to_string(include_dir().join("gonet.h")).unwrap();
    let mut negative = 0;
    for line in header.lines().filter(|l| l.starts_with("#define NET_")) {
        let value = line.split_whitespace().nth(2).unwrap();
        assert!(!value.starts_with('-'), "not parenthesized: {line}");
        negative += usize::from(value.starts_with("(-"));
    }
    assert!(negative >= 16, "only {negative} negative macros");
    let macro_value = |name: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("no {name}"))
            .to_owned()
    };
    let version = format!(
        "{}.{}.{}",
        macro_value("GONET_VERSION_MAJOR"),
        macro_value("GONET_VERSION_MINOR"),
        macro_value("GONET_VERSION_PATCH")
    );
    // SAFETY: net_version returns a static NUL-terminated string.
    let lib = unsafe { std::ffi::CStr::from_ptr(net_version()) };
    assert_eq!(version, lib.to_str().unwrap());
    assert_eq!(macro_value("NET_FOREVER"), format!("({NET_FOREVER})"));
    assert_eq!(macro_value("NET_DEFAULT"), format!("({NET_DEFAULT})"));
}
