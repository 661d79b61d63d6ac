//! Interfaces and their addresses (Go's `Interfaces`, `Interface.Addrs`,
//! `InterfaceAddrs`), compared exactly with what a network namespace this
//! test makes holds: loopback, a veth pair with the MTUs, hardware and
//! IP addresses it assigns, and a second pair left down.

use crate::common::*;
use gonet::*;
use std::ffi::{CStr, c_char};
use std::time::{Duration, Instant};

#[test]
fn interfaces_match_a_namespace_the_test_made() {
    if !root_or_sandbox(module_path!(), "interfaces_match_a_namespace_the_test_made") {
        return;
    }
    let ns = Netns::new("if");
    #[rustfmt::skip]
    ns.ip(&["link", "add", "veth0", "mtu", "1400", "address", "02:00:00:00:00:01",
            "type", "veth", "peer", "name", "veth1", "mtu", "1500", "address", "02:00:00:00:00:02"]);
    #[rustfmt::skip]
    ns.ip(&["link", "add", "veth2", "address", "02:00:00:00:00:03",
            "type", "veth", "peer", "name", "veth3", "address", "02:00:00:00:00:04"]);
    for dev in ["veth0", "veth1"] {
        // Only the addresses given here: no link-local one of the kernel's.
        ns.ip(&["link", "set", dev, "addrgenmode", "none"]);
    }
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", "veth0"]);
    ns.ip(&["addr", "add", "2001:db8::1/64", "dev", "veth0", "nodad"]);
    ns.ip(&["addr", "add", "198.51.100.2/25", "dev", "veth1"]);
    ns.ip(&["link", "set", "veth0", "up"]);
    ns.ip(&["link", "set", "veth1", "up"]);
    ns.run_test(module_path!(), "in_the_namespace");
}

fn text(f: impl Fn(*mut c_char, usize) -> i64) -> (i64, String) {
    let mut buf = [0 as c_char; 4096];
    let n = f(buf.as_mut_ptr(), buf.len());
    // SAFETY: the functions NUL-terminate what they write.
    let s = unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    (n, s)
}

fn interfaces() -> String {
    // SAFETY: buf is writable for len bytes.
    let (n, s) = text(|buf, len| unsafe { net_interfaces(buf, len) });
    assert_eq!(n, s.len() as i64, "{}", last_error());
    s
}

fn addrs(name: Option<&str>) -> (i64, String) {
    let name = name.map(cstr);
    let ptr = name.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: ptr is NULL or NUL-terminated; buf is writable for len bytes.
    text(|buf, len| unsafe { net_interface_addrs(ptr, buf, len) })
}

fn index(name: &str) -> u32 {
    // SAFETY: a NUL-terminated name.
    let i = unsafe { libc::if_nametoindex(cstr(name).as_ptr()) };
    assert!(i > 0, "no {name}");
    i
}

#[test]
#[ignore = "run inside the namespace by interfaces_match_a_namespace_the_test_made"]
fn in_the_namespace() {
    let mut lines = vec![
        (1, "1 lo 65536 up|loopback|running".to_owned()),
        (
            index("veth0"),
            format!(
                "{} veth0 1400 up|broadcast|multicast|running 02:00:00:00:00:01",
                index("veth0")
            ),
        ),
        (
            index("veth1"),
            format!(
                "{} veth1 1500 up|broadcast|multicast|running 02:00:00:00:00:02",
                index("veth1")
            ),
        ),
        (
            index("veth2"),
            format!(
                "{} veth2 1500 broadcast|multicast 02:00:00:00:00:03",
                index("veth2")
            ),
        ),
        (
            index("veth3"),
            format!(
                "{} veth3 1500 broadcast|multicast 02:00:00:00:00:04",
                index("veth3")
            ),
        ),
    ];
    lines.sort();
    let expect: Vec<String> = lines.into_iter().map(|(_, l)| l).collect();
    let expect = expect.join("\n");
    // The kernel marks a link running once it has seen its carrier, which
    // can take it a moment after the link is up.
    let start = Instant::now();
    let mut got = interfaces();
    while got != expect && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
        got = interfaces();
    }
    assert_eq!(got, expect);
    // Every interface's: IPv4 then IPv6, each in the order of the
    // interfaces' indexes, as the kernel lists them to Go too.
    let (first, second) = if index("veth0") < index("veth1") {
        ("192.0.2.1/24", "198.51.100.2/25")
    } else {
        ("198.51.100.2/25", "192.0.2.1/24")
    };
    let all = format!("127.0.0.1/8\n{first}\n{second}\n::1/128\n2001:db8::1/64");
    assert_eq!(addrs(None), (all.len() as i64, all));
    assert_eq!(addrs(Some("veth0")).1, "192.0.2.1/24\n2001:db8::1/64");
    assert_eq!(addrs(Some("lo")).1, "127.0.0.1/8\n::1/128");
    assert_eq!(addrs(Some("veth2")), (0, String::new()));
    assert_eq!(addrs(Some("eth9")).0, NET_EADDR);
    assert_eq!(last_error(), "route ip+net: no such network interface");
    // snprintf-style: the full length, whatever fits, always terminated.
    let mut small = [0x55 as c_char; 8];
    // SAFETY: small is writable for its length; the name is terminated.
    let n = unsafe { net_interface_addrs(cstr("veth0").as_ptr(), small.as_mut_ptr(), small.len()) };
    assert_eq!(n, 27);
    // SAFETY: terminated within small.
    assert_eq!(
        unsafe { CStr::from_ptr(small.as_ptr()) }.to_str().unwrap(),
        "192.0.2"
    );
    // SAFETY: a NULL buffer with length 0 asks for the length alone.
    assert_eq!(
        unsafe { net_interfaces(std::ptr::null_mut(), 0) },
        expect.len() as i64
    );
}
