//! Dialing like Go: Happy Eyeballs between address families, timeouts that
//! bound the whole dial (lookup included), cancellation from another
//! thread, and the lookup and host:port helpers.
//!
//! Tests that need a host name with two families, an address that never
//! answers, or a resolver that hangs run inside a network namespace that
//! the outer test makes (`Netns` of tests/common, in a sandbox when not
//! root), which shows the process its own /etc/hosts and
//! /etc/resolv.conf; a veth pair
//! whose far end drops everything is the black hole: the silent addresses
//! (192.0.2.53, 2001:db8::99) have permanent neighbour entries with a MAC
//! that nothing owns, so packets to them leave one end, reach the other
//! end of the pair in the same namespace, and are discarded there without
//! an answer. No packet leaves the namespace. The inner tests are
//! marked ignored so that a plain run lists them as such; their outer test
//! runs them in the namespace and fails if they do.

use crate::common::*;
use gonet::*;
use std::thread;
use std::time::{Duration, Instant};

/// An address in the namespaces' black hole (the dummy interface).
const BLACK_HOLE_V6: &str = "2001:db8::99";

/// A network namespace with loopback up, a black hole, and its own hosts
/// and resolver files (for the tests that `Netns::run_test` runs in it).
fn black_hole_netns(tag: &str, hosts: &str, resolv: &str) -> Netns {
    let mut ns = Netns::new(tag);
    ns.ip(&[
        "link", "add", "hole0", "type", "veth", "peer", "name", "hole1",
    ]);
    ns.ip(&["link", "set", "hole0", "up"]);
    ns.ip(&["link", "set", "hole1", "up"]);
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", "hole0"]);
    ns.ip(&[
        "-6",
        "addr",
        "add",
        "2001:db8::1/64",
        "dev",
        "hole0",
        "nodad",
    ]);
    for silent in ["192.0.2.53", BLACK_HOLE_V6] {
        #[rustfmt::skip]
        ns.ip(&["neigh", "add", silent, "lladdr", "02:00:00:00:00:99", "dev", "hole0",
                "nud", "permanent"]);
    }
    ns.set_etc("hosts", hosts);
    ns.set_etc("resolv.conf", resolv);
    ns
}

const NO_DNS: &str = "# names come from the namespace's hosts file only\n";

fn lookup(host: &str) -> Vec<String> {
    let mut buf = [0 as std::ffi::c_char; 512];
    // SAFETY: NUL-terminated host; buf writable for its length.
    let n = unsafe { net_lookup_host(cstr(host).as_ptr(), buf.as_mut_ptr(), buf.len()) };
    assert!(n >= 0, "lookup {host}: {}", last_error());
    // SAFETY: NUL-terminated by net_lookup_host.
    let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    text.lines().map(str::to_owned).collect()
}

fn port_of(h: i64) -> String {
    local_addr(h).rsplit_once(':').unwrap().1.to_owned()
}

#[test]
fn localhost_with_two_families_and_one_listener() {
    if !root_or_sandbox(
        module_path!(),
        "localhost_with_two_families_and_one_listener",
    ) {
        return;
    }
    let ns = black_hole_netns("lh", "::1 localhost\n127.0.0.1 localhost\n", NO_DNS);
    ns.run_test(module_path!(), "netns_localhost_with_one_family_listening");
}

#[test]
#[ignore = "runs inside a network namespace made by localhost_with_two_families_and_one_listener"]
fn netns_localhost_with_one_family_listening() {
    assert_eq!(lookup("localhost"), ["::1", "127.0.0.1"]);
    for only in ["127.0.0.1:0", "[::1]:0"] {
        let l = listen("tcp", only);
        let start = Instant::now();
        let c = dial("tcp", &format!("localhost:{}", port_of(l)));
        let took = start.elapsed();
        // The refused family fails at once, so the other starts at once
        // rather than after the 300 ms fallback delay.
        assert!(took < Duration::from_millis(150), "took {took:?}");
        assert_eq!(remote_addr(c), local_addr(l));
        let s = net_accept(l);
        assert!(s > 0);
        for h in [c, s, l] {
            net_close(h);
        }
    }
}

#[test]
fn first_address_never_answers_second_does() {
    if !root_or_sandbox(module_path!(), "first_address_never_answers_second_does") {
        return;
    }
    let hosts = format!("{BLACK_HOLE_V6} twofamilies\n127.0.0.1 twofamilies\n");
    let ns = black_hole_netns("he", &hosts, NO_DNS);
    ns.run_test(
        module_path!(),
        "netns_happy_eyeballs_falls_back_after_300ms",
    );
}

#[test]
#[ignore = "runs inside a network namespace made by first_address_never_answers_second_does"]
fn netns_happy_eyeballs_falls_back_after_300ms() {
    assert_eq!(lookup("twofamilies"), [BLACK_HOLE_V6, "127.0.0.1"]);
    let l = listen("tcp", "127.0.0.1:0");
    let start = Instant::now();
    let c = dial_timeout(&format!("twofamilies:{}", port_of(l)), 10_000);
    let took = start.elapsed();
    assert!(c > 0, "{}", last_error());
    println!("connected over the second family after {took:?}");
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(450),
        "expected the 300 ms fallback delay, took {took:?}"
    );
    assert_eq!(remote_addr(c), local_addr(l));
    // Without the race (fallback off) the dial waits on the silent address
    // until its share of the timeout runs out.
    let d = net_dialer_new();
    assert_eq!(net_dialer_set_fallback_delay(d, -1), 0);
    assert_eq!(net_dialer_set_timeout(d, 400), 0);
    let start = Instant::now();
    // SAFETY: NUL-terminated strings.
    let rc = unsafe {
        net_dialer_dial(
            d,
            cstr("tcp").as_ptr(),
            cstr(&format!("twofamilies:{}", port_of(l))).as_ptr(),
        )
    };
    assert_eq!(rc, NET_ETIMEOUT, "{}", last_error());
    assert!(start.elapsed() < Duration::from_millis(500));
    for h in [c, l, d] {
        net_close(h);
    }
}

#[test]
fn timeouts_bound_black_holes_and_hanging_resolvers() {
    if !root_or_sandbox(
        module_path!(),
        "timeouts_bound_black_holes_and_hanging_resolvers",
    ) {
        return;
    }
    // The only name server sits in the black hole: every lookup of a name
    // not in the hosts file hangs until the resolver gives up (5 s).
    let resolv = "nameserver 192.0.2.53\noptions timeout:5 attempts:1\n";
    let ns = black_hole_netns("to", "127.0.0.1 localhost\n", resolv);
    ns.run_test(module_path!(), "netns_timeouts_bound_the_whole_dial");
}

#[test]
#[ignore = "runs inside a network namespace made by timeouts_bound_black_holes_and_hanging_resolvers"]
fn netns_timeouts_bound_the_whole_dial() {
    let start = Instant::now();
    let rc = dial_timeout(&format!("[{BLACK_HOLE_V6}]:80"), 200);
    let took = start.elapsed().as_millis() as i64;
    assert_eq!(rc, NET_ETIMEOUT, "{}", last_error());
    assert_eq!(
        last_error(),
        format!("dial tcp [{BLACK_HOLE_V6}]:80: i/o timeout")
    );
    assert!(
        (150..=250).contains(&took),
        "black-holed dial took {took} ms"
    );

    let start = Instant::now();
    let rc = dial_timeout("hangs.example:80", 200);
    let took = start.elapsed().as_millis() as i64;
    assert_eq!(rc, NET_ETIMEOUT, "{}", last_error());
    let msg = last_error();
    assert!(
        msg.starts_with("dial tcp: lookup hangs.example on 192.0.2.53:53: read udp 192.0.2.1:")
            && msg.ends_with("->192.0.2.53:53: i/o timeout"),
        "{msg}"
    );
    assert!((150..=250).contains(&took), "hanging lookup took {took} ms");

    // A hanging lookup is cancellable too.
    let d = net_dialer_new();
    let dialing = thread::spawn(move || {
        // SAFETY: NUL-terminated strings.
        let rc =
            unsafe { net_dialer_dial(d, cstr("tcp").as_ptr(), cstr("hangs.example:80").as_ptr()) };
        (rc, last_error(), Instant::now())
    });
    thread::sleep(Duration::from_millis(100));
    let cancelled_at = Instant::now();
    assert_eq!(net_dialer_cancel(d), 0);
    let (rc, msg, ended) = dialing.join().unwrap();
    assert_eq!(rc, NET_ECANCELED, "{msg}");
    assert_eq!(
        msg,
        "dial tcp: lookup hangs.example on 192.0.2.53:53: operation was canceled"
    );
    assert!(ended.duration_since(cancelled_at) < Duration::from_millis(50));
    net_close(d);
}

#[test]
fn a_dial_cancelled_midway_returns_promptly() {
    let hang = full_accept_queue();
    let addr = hang.addr.clone();
    let d = net_dialer_new();
    assert!(d > 0);
    let target = addr.clone();
    let dialing = thread::spawn(move || {
        // SAFETY: NUL-terminated strings.
        let rc = unsafe { net_dialer_dial(d, cstr("tcp").as_ptr(), cstr(&target).as_ptr()) };
        (rc, last_error(), Instant::now())
    });
    thread::sleep(Duration::from_millis(200));
    assert!(
        !dialing.is_finished(),
        "the dial should hang on the full queue"
    );
    let cancelled_at = Instant::now();
    assert_eq!(net_dialer_cancel(d), 0);
    let (rc, msg, ended) = dialing.join().unwrap();
    assert_eq!(rc, NET_ECANCELED, "{msg}");
    assert_eq!(msg, format!("dial tcp {addr}: operation was canceled"));
    assert!(ended.duration_since(cancelled_at) < Duration::from_millis(50));
    // Cancelled for good, like a Go context.
    // SAFETY: NUL-terminated strings.
    let again = unsafe { net_dialer_dial(d, cstr("tcp").as_ptr(), cstr(&addr).as_ptr()) };
    assert_eq!(again, NET_ECANCELED);
    assert_eq!(net_close(d), 0);
    // SAFETY: as above.
    let closed = unsafe { net_dialer_dial(d, cstr("tcp").as_ptr(), cstr(&addr).as_ptr()) };
    assert_eq!(closed, NET_ECLOSED);
}

#[test]
fn closing_a_dialer_cancels_its_dials() {
    let hang = full_accept_queue();
    let addr = hang.addr.clone();
    let d = net_dialer_new();
    let dialing = thread::spawn(move || {
        // SAFETY: NUL-terminated strings.
        unsafe { net_dialer_dial(d, cstr("tcp").as_ptr(), cstr(&addr).as_ptr()) }
    });
    thread::sleep(Duration::from_millis(100));
    assert_eq!(net_close(d), 0);
    assert_eq!(dialing.join().unwrap(), NET_ECANCELED);
}

#[test]
fn dialer_settings_apply() {
    let l = listen("tcp", "127.0.0.1:0");
    let d = net_dialer_new();
    // SAFETY: NUL-terminated string.
    assert_eq!(
        unsafe { net_dialer_set_local_addr(d, cstr("127.0.0.2:0").as_ptr()) },
        0
    );
    assert_eq!(net_dialer_set_keepalive(d, -1), 0);
    assert_eq!(net_dialer_set_timeout(d, 5000), 0);
    // SAFETY: NUL-terminated strings.
    let c = unsafe { net_dialer_dial(d, cstr("tcp").as_ptr(), cstr(&local_addr(l)).as_ptr()) };
    assert!(c > 0, "{}", last_error());
    assert!(local_addr(c).starts_with("127.0.0.2:"), "{}", local_addr(c));
    let s = net_accept(l);
    assert!(remote_addr(s).starts_with("127.0.0.2:"));
    // A dialer is not a connection, nor the reverse.
    assert_eq!(write(d, b"x"), NET_EINVAL);
    assert_eq!(last_error(), format!("write: handle {d} is a dialer"));
    assert_eq!(net_dialer_cancel(c), NET_EINVAL);
    for h in [c, s, l, d] {
        assert_eq!(net_close(h), 0);
    }
}

#[test]
fn lookups_for_c_users() {
    // SAFETY: NUL-terminated strings.
    unsafe {
        assert_eq!(
            net_lookup_port(cstr("tcp").as_ptr(), cstr("http").as_ptr()),
            80
        );
        assert_eq!(
            net_lookup_port(cstr("tcp").as_ptr(), cstr("8080").as_ptr()),
            8080
        );
        assert_eq!(
            net_lookup_port(cstr("tcp").as_ptr(), cstr("nope-nope").as_ptr()),
            NET_EADDR
        );
        assert_eq!(
            last_error(),
            "lookup_port: lookup tcp/nope-nope: unknown port"
        );
        assert_eq!(
            net_lookup_port(cstr("tcp").as_ptr(), cstr("65536").as_ptr()),
            NET_EADDR
        );
        let mut buf = [0 as std::ffi::c_char; 8];
        assert_eq!(
            net_lookup_host(cstr("nosuchhost.onion").as_ptr(), buf.as_mut_ptr(), 8),
            NET_ENOHOST
        );
        assert_eq!(
            last_error(),
            "lookup_host: lookup nosuchhost.onion: no such host"
        );
    }
    assert!(lookup("localhost").contains(&"127.0.0.1".to_owned()));
    assert_eq!(lookup("::1"), ["::1"]);
    // Named ports work in addresses.
    let l = listen("tcp", "127.0.0.1:0");
    assert_eq!(try_dial("tcp", "localhost:http"), NET_EREFUSED);
    assert_eq!(
        last_error(),
        "dial tcp 127.0.0.1:80: connect: connection refused"
    );
    net_close(l);
}

#[test]
fn split_and_join_host_port_through_the_abi() {
    let split = |hp: &str| -> Result<(String, String), String> {
        let mut host = [0 as std::ffi::c_char; 64];
        let mut port = [0 as std::ffi::c_char; 64];
        // SAFETY: NUL-terminated input; buffers writable for their lengths.
        let rc = unsafe {
            net_split_host_port(
                cstr(hp).as_ptr(),
                host.as_mut_ptr(),
                64,
                port.as_mut_ptr(),
                64,
            )
        };
        if rc != 0 {
            assert_eq!(rc, NET_EADDR);
            return Err(last_error());
        }
        // SAFETY: both NUL-terminated by the call.
        unsafe {
            Ok((
                std::ffi::CStr::from_ptr(host.as_ptr())
                    .to_string_lossy()
                    .into_owned(),
                std::ffi::CStr::from_ptr(port.as_ptr())
                    .to_string_lossy()
                    .into_owned(),
            ))
        }
    };
    assert_eq!(
        split("[fe80::1%lo0]:80"),
        Ok(("fe80::1%lo0".into(), "80".into()))
    );
    assert_eq!(split(":http"), Ok(("".into(), "http".into())));
    assert_eq!(
        split("::1"),
        Err("split_host_port: address ::1: too many colons in address".into())
    );
    let mut tiny = [0 as std::ffi::c_char; 2];
    let mut port = [0 as std::ffi::c_char; 8];
    // SAFETY: buffers writable for the lengths given.
    let rc = unsafe {
        net_split_host_port(
            cstr("host:80").as_ptr(),
            tiny.as_mut_ptr(),
            2,
            port.as_mut_ptr(),
            8,
        )
    };
    assert_eq!(rc, NET_EINVAL);
    let mut out = [0 as std::ffi::c_char; 64];
    // SAFETY: NUL-terminated inputs; out writable for 64 bytes.
    let n = unsafe {
        net_join_host_port(
            cstr("::1").as_ptr(),
            cstr("80").as_ptr(),
            out.as_mut_ptr(),
            64,
        )
    };
    assert_eq!(n, 8);
    // SAFETY: NUL-terminated by the call.
    assert_eq!(
        unsafe { std::ffi::CStr::from_ptr(out.as_ptr()) },
        c"[::1]:80"
    );
}

/// An empty or unspecified host dials the local system; Go reports the
/// peer the kernel connected to (`getpeername`), not `0.0.0.0:PORT`.
#[test]
fn dialing_the_unspecified_address_reports_the_real_peer() {
    let l4 = listen("tcp4", "127.0.0.1:0");
    let p4 = port_of(l4);
    for (net, address) in [
        ("tcp", format!(":{p4}")),
        ("tcp4", format!(":{p4}")),
        ("tcp", format!("0.0.0.0:{p4}")),
    ] {
        let c = dial(net, &address);
        assert_eq!(remote_addr(c), format!("127.0.0.1:{p4}"), "{net} {address}");
        let s = net_accept(l4);
        assert_eq!(remote_addr(s), local_addr(c));
        close_all(&[c, s]);
    }
    let l6 = listen("tcp6", "[::1]:0");
    let p6 = port_of(l6);
    for (net, address) in [("tcp6", format!(":{p6}")), ("tcp", format!("[::]:{p6}"))] {
        let c = dial(net, &address);
        assert_eq!(remote_addr(c), format!("[::1]:{p6}"), "{net} {address}");
        let s = net_accept(l6);
        close_all(&[c, s]);
    }
    // Datagrams too: the connected peer is the kernel's.
    let u = listen_packet("udp4", "127.0.0.1:0");
    let pu = port_of(u);
    let c = dial("udp", &format!(":{pu}"));
    assert_eq!(remote_addr(c), format!("127.0.0.1:{pu}"));
    close_all(&[c, u, l4, l6]);
}
