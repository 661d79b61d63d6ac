//! Addresses as Go parses them, and address errors in Go's words.

use crate::common::*;
use gonet::*;

#[test]
fn host_port_and_ephemeral_port() {
    let l = listen("tcp", "127.0.0.1:0");
    let addr = local_addr(l);
    let (host, port) = addr.rsplit_once(':').unwrap();
    assert_eq!(host, "127.0.0.1");
    assert!(
        port.parse::<u16>().unwrap() > 0,
        "port 0 became a real port"
    );
    let c = dial("tcp", &addr);
    let s = net_accept(l);
    assert!(s > 0);
    assert_eq!(remote_addr(c), addr);
    assert_eq!(local_addr(s), addr);
    assert_eq!(remote_addr(s), local_addr(c));
    for h in [c, s, l] {
        assert_eq!(net_close(h), 0);
    }
}

#[test]
fn bracketed_ipv6() {
    let l = listen("tcp", "[::1]:0");
    let addr = local_addr(l);
    assert!(addr.starts_with("[::1]:"), "{addr}");
    let c = dial("tcp6", &addr);
    assert_eq!(remote_addr(c), addr);
    let s = net_accept(l);
    assert!(s > 0);
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn empty_host_listens_on_every_address_dual_stack() {
    let l = listen("tcp", ":0");
    let addr = local_addr(l);
    assert!(addr.starts_with("[::]:"), "dual-stack wildcard, got {addr}");
    let port = addr.rsplit_once(':').unwrap().1;
    for target in [format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        let c = dial("tcp", &target);
        let s = net_accept(l);
        assert!(s > 0, "{}", last_error());
        assert_eq!(write(c, b"x"), 1);
        assert_eq!(read_exact(s, 1), b"x");
        // IPv4 peers of a dual-stack listener print as IPv4, as in Go.
        let peer = remote_addr(s);
        assert_eq!(peer.starts_with('['), target.starts_with('['), "{peer}");
        net_close(c);
        net_close(s);
    }
    net_close(l);
    let l4 = listen("tcp4", ":0");
    assert!(local_addr(l4).starts_with("0.0.0.0:"));
    net_close(l4);
}

#[test]
fn names_resolve_through_the_system_resolver() {
    let l = listen("tcp", "localhost:0");
    let port = local_addr(l).rsplit_once(':').unwrap().1.to_owned();
    let c = dial("tcp", &format!("localhost:{port}"));
    let s = net_accept(l);
    assert!(s > 0);
    for h in [c, s, l] {
        net_close(h);
    }
}

/// Every resolved address is tried in turn until one connects; when all
/// fail, the first failure is reported. The resolver's list is fed to the
/// dialer directly, since this machine's "localhost" has one address.
#[test]
fn dial_tries_every_address() {
    use gonet::testing::dial_serial;
    use std::net::SocketAddr;
    let l = listen("tcp", "127.0.0.1:0");
    let good: SocketAddr = local_addr(l).parse().unwrap();
    let refused: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let refused6: SocketAddr = "[::1]:1".parse().unwrap();
    let raddr = dial_serial("tcp", &[refused6, refused, good]).unwrap();
    assert_eq!(raddr, good.to_string());
    let s = net_accept(l);
    assert!(s > 0);
    let err = dial_serial("tcp", &[refused6, refused]).err().unwrap();
    assert_eq!(err.code(), NET_EREFUSED);
    assert_eq!(
        err.to_string(),
        "dial tcp [::1]:1: connect: connection refused"
    );
    net_close(s);
    net_close(l);
}

fn dial_err(network: &str, address: &str) -> (i64, String) {
    let rc = try_dial(network, address);
    (rc, last_error())
}

#[test]
fn address_errors_in_gos_words() {
    let cases = [
        (
            "tcp",
            "127.0.0.1",
            "dial tcp: address 127.0.0.1: missing port in address",
        ),
        (
            "tcp",
            "127.0.0.1:70000",
            "dial tcp: address 70000: invalid port",
        ),
        ("tcp", "127.0.0.1:-1", "dial tcp: address -1: invalid port"),
        ("foo", "127.0.0.1:80", "dial foo: unknown network foo"),
        (
            "tcp",
            "1:2:3",
            "dial tcp: address 1:2:3: too many colons in address",
        ),
        (
            "tcp",
            "[::1:80",
            "dial tcp: address [::1:80: missing ']' in address",
        ),
        (
            "tcp",
            "127.0.0.1:nosuchservice",
            "dial tcp: lookup tcp/nosuchservice: unknown port",
        ),
    ];
    for (net, addr, want) in cases {
        let (rc, msg) = dial_err(net, addr);
        assert_eq!(rc, NET_EADDR, "{net} {addr}: {msg}");
        assert_eq!(msg, want);
    }
    // SAFETY: NUL-terminated strings.
    let rc = unsafe { net_listen(cstr("tcp").as_ptr(), cstr("127.0.0.1").as_ptr()) };
    assert_eq!(rc, NET_EADDR);
    assert_eq!(
        last_error(),
        "listen tcp: address 127.0.0.1: missing port in address"
    );
}

#[test]
fn unknown_host_is_enohost() {
    // A .onion name is never sent to DNS (RFC 7686), so this asks no name
    // server; tests/dns.rs has the names a server says do not exist.
    let (rc, msg) = dial_err("tcp", "nosuchhost.onion:80");
    assert_eq!(rc, NET_ENOHOST);
    assert_eq!(msg, "dial tcp: lookup nosuchhost.onion: no such host");
}

#[test]
fn named_ports_resolve() {
    // "http" is port 80 in the services database; nothing listens there, so
    // the dial is refused at port 80, which shows the name was looked up.
    let (rc, msg) = dial_err("tcp", "127.0.0.1:http");
    assert_eq!(rc, NET_EREFUSED, "{msg}");
    assert_eq!(msg, "dial tcp 127.0.0.1:80: connect: connection refused");
}

#[test]
fn unix_paths_and_abstract_names() {
    let dir = scratch("unix_paths");
    let path = dir.join("s.sock");
    let path = path.to_str().unwrap();
    let l = listen("unix", path);
    assert_eq!(local_addr(l), path);
    assert!(std::path::Path::new(path).exists());
    let c = dial("unix", path);
    let s = net_accept(l);
    assert!(s > 0);
    assert_eq!(write(c, b"hi"), 2);
    assert_eq!(read_exact(s, 2), b"hi");
    assert_eq!(remote_addr(c), path);
    for h in [c, s] {
        net_close(h);
    }
    assert_eq!(net_close(l), 0);
    assert!(
        !std::path::Path::new(path).exists(),
        "a Unix listener removes its socket file on close"
    );

    let name = format!("@gonet-test-{}", std::process::id());
    let l = listen("unix", &name);
    assert_eq!(local_addr(l), name);
    let c = dial("unix", &name);
    let s = net_accept(l);
    assert!(s > 0);
    assert_eq!(write(s, b"ok"), 2);
    assert_eq!(read_exact(c, 2), b"ok");
    for h in [c, s, l] {
        net_close(h);
    }
}

#[test]
fn go_split_host_port_cases() {
    use gonet::testing::{join_host_port, split_host_port};
    // From Go's net/ipsock_test.go and net_test.go.
    let ok = [
        ("localhost:http", "localhost", "http"),
        ("localhost:80", "localhost", "80"),
        ("golang.org:http", "golang.org", "http"),
        ("[::ffff:127.0.0.1]:http", "::ffff:127.0.0.1", "http"),
        ("[::1]:80", "::1", "80"),
        ("[fe80::1%lo0]:80", "fe80::1%lo0", "80"),
        ("[localhost%lo0]:80", "localhost%lo0", "80"),
        ("localhost%lo0:80", "localhost%lo0", "80"),
        (":80", "", "80"),
        ("[]:80", "", "80"),
        ("[::1]:", "::1", ""),
        ("localhost:", "localhost", ""),
        (":", "", ""),
    ];
    for (hp, host, port) in ok {
        let (h, p) = split_host_port(hp).unwrap();
        assert_eq!((h.as_str(), p.as_str()), (host, port), "{hp}");
    }
    let bad = [
        ("golang.org", "missing port in address"),
        ("127.0.0.1", "missing port in address"),
        ("[::1]", "missing port in address"),
        ("[fe80::1%lo0]", "missing port in address"),
        ("[localhost%lo0]", "missing port in address"),
        ("localhost%lo0", "missing port in address"),
        ("::1", "too many colons in address"),
        ("fe80::1%lo0", "too many colons in address"),
        ("fe80::1%lo0:80", "too many colons in address"),
        ("[foo:bar]", "missing port in address"),
        ("[foo:bar]baz", "missing port in address"),
        ("[foo]bar:baz", "missing port in address"),
        ("[foo]:[bar]:baz", "too many colons in address"),
        ("[foo]:[bar]baz", "unexpected '[' in address"),
        ("foo[bar]:baz", "unexpected '[' in address"),
        ("foo]bar:baz", "unexpected ']' in address"),
    ];
    for (hp, why) in bad {
        let err = split_host_port(hp).unwrap_err();
        assert_eq!(err, format!("address {hp}: {why}"));
    }
    assert_eq!(join_host_port("::1", "80"), "[::1]:80");
    assert_eq!(join_host_port("fe80::1%lo0", "80"), "[fe80::1%lo0]:80");
    assert_eq!(join_host_port("localhost", "80"), "localhost:80");
    assert_eq!(join_host_port("", "80"), ":80");
}
