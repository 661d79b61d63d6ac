//! Raw IP networks (Go's `IPConn`): `"ip4:icmp"`, `"ip6:58"` and the like,
//! dialed and listened on over loopback with ICMP echo, Go's error texts,
//! and the permission error of a process without CAP_NET_RAW (checked in a
//! child that drops it, when this one has it). Without CAP_NET_RAW (not
//! root), the echo tests check the permission error, then run again in a
//! sandbox where they have it (`root_or_sandbox`).

use crate::common::*;
use gonet::*;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

const CAP_NET_RAW: u32 = 13;

/// Whether this process may open raw sockets.
fn privileged() -> bool {
    // SAFETY: socket has no pointer arguments.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) };
    if fd < 0 {
        return false;
    }
    // SAFETY: fd was just opened here and is closed once.
    unsafe { libc::close(fd) };
    true
}

/// The Internet checksum.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMP echo request: type 8 on IPv4, 128 on IPv6 (whose checksum the
/// kernel fills in).
fn echo_request(v6: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(payload);
    if !v6 {
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
    }
    p
}

fn is_reply(v6: bool, id: u16, msg: &[u8]) -> bool {
    msg.len() >= 8 && msg[0] == if v6 { 129 } else { 0 } && msg[4..6] == id.to_be_bytes()
}

/// Reads with `read` until the echo reply for `id` comes (a raw ICMP
/// socket also hears the request itself, and other tests' traffic), at
/// most 2 s; returns the reply and what `read` gave with it.
fn await_reply(
    v6: bool,
    id: u16,
    mut read: impl FnMut(&mut [u8]) -> (i64, String),
) -> (Vec<u8>, String) {
    let start = Instant::now();
    let mut buf = [0u8; 1500];
    while start.elapsed() < Duration::from_secs(2) {
        let (n, extra) = read(&mut buf);
        assert!(n >= 0, "read: {}", last_error());
        let msg = &buf[..n as usize];
        if is_reply(v6, id, msg) {
            return (msg.to_vec(), extra);
        }
    }
    panic!("no echo reply for id {id}");
}

fn next_id() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    (std::process::id() as u16).wrapping_mul(31) ^ NEXT.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn dialed_ip_handles_echo_over_loopback() {
    if !privileged() {
        // The permission error here, then the echo in the sandbox, where
        // the test has CAP_NET_RAW.
        unprivileged_dials_fail_as_go_says();
        if !root_or_sandbox(module_path!(), "dialed_ip_handles_echo_over_loopback") {
            return;
        }
    }
    for (network, host, v6) in [
        ("ip4:icmp", "127.0.0.1", false),
        ("ip4:1", "127.0.0.1", false),
        ("ip6:ipv6-icmp", "::1", true),
        ("ip6:58", "::1", true),
        ("ip:icmp", "127.0.0.1", false),
    ] {
        let h = dial(network, host);
        assert_eq!(local_addr(h), host, "{network}");
        assert_eq!(remote_addr(h), host, "{network}");
        let id = next_id();
        let payload = b"gonet raw ip echo";
        let req = echo_request(v6, id, 1, payload);
        assert_eq!(write(h, &req), req.len() as i64, "{}", last_error());
        assert_eq!(net_set_read_deadline(h, 2000), 0);
        let (reply, _) = await_reply(v6, id, |buf| (read(h, buf), String::new()));
        // Go's IPConn hands back the ICMP message: no IPv4 header.
        assert_eq!(reply.len(), req.len(), "{network}");
        assert_eq!(&reply[8..], payload, "{network}");
        // A buffer of the message's size is enough: the header is not
        // asked to fit too.
        let req = echo_request(v6, id, 2, payload);
        assert_eq!(write(h, &req), req.len() as i64);
        let mut exact = vec![0u8; req.len()];
        let start = Instant::now();
        loop {
            assert!(start.elapsed() < Duration::from_secs(2), "no reply");
            assert_eq!(read(h, &mut exact), req.len() as i64, "{}", last_error());
            if is_reply(v6, id, &exact) {
                break;
            }
        }
        assert_eq!(&exact[8..], payload);
        // One byte short: the message is consumed, its real length said.
        let req = echo_request(v6, id, 3, payload);
        assert_eq!(write(h, &req), req.len() as i64);
        let mut short = vec![0u8; req.len() - 1];
        assert_eq!(read(h, &mut short), NET_EMSGSIZE);
        assert!(
            last_error().ends_with(&format!(
                "datagram of {} bytes did not fit in a buffer of {} bytes",
                req.len(),
                req.len() - 1
            )),
            "{}",
            last_error()
        );
        // Deadlines and errors name the family and both addresses.
        let family = &network[..3];
        let family = if family == "ip:" { "ip" } else { family };
        assert_eq!(net_set_read_deadline(h, 0), 0);
        assert_eq!(read(h, &mut short), NET_ETIMEOUT);
        assert_eq!(
            last_error(),
            format!("read {family} {host}->{host}: i/o timeout")
        );
        assert_eq!(write_to(h, &req, host), NET_EINVAL);
        assert_eq!(net_close(h), 0);
        assert_eq!(read(h, &mut short), NET_ECLOSED);
        assert_eq!(
            last_error(),
            format!("read {family} {host}->{host}: use of closed network connection")
        );
    }
}

#[test]
fn listened_ip_handles_read_from_and_write_to_without_ports() {
    if !privileged() {
        // The permission error here, then the echo in the sandbox, where
        // the test has CAP_NET_RAW.
        unprivileged_dials_fail_as_go_says();
        if !root_or_sandbox(
            module_path!(),
            "listened_ip_handles_read_from_and_write_to_without_ports",
        ) {
            return;
        }
    }
    for (network, bind, host, v6) in [
        ("ip4:icmp", "127.0.0.1", "127.0.0.1", false),
        ("ip4:icmp", "", "127.0.0.1", false),
        ("ip6:ipv6-icmp", "::1", "::1", true),
        ("ip6:58", "", "::1", true),
    ] {
        let h = listen_packet(network, bind);
        let expect_local = match (bind, v6) {
            ("", false) => "0.0.0.0",
            ("", true) => "::",
            (b, _) => b,
        };
        assert_eq!(local_addr(h), expect_local, "{network} {bind:?}");
        assert_eq!(remote_addr(h), "");
        let id = next_id();
        let req = echo_request(v6, id, 1, b"to and from");
        assert_eq!(
            write_to(h, &req, host),
            req.len() as i64,
            "{}",
            last_error()
        );
        assert_eq!(net_set_read_deadline(h, 2000), 0);
        let (reply, from) = await_reply(v6, id, |buf| read_from(h, buf));
        assert_eq!(reply.len(), req.len());
        assert_eq!(from, host, "{network}: the sender, without a port");
        // net_write has no destination on a listened handle.
        assert_eq!(write(h, &req), NET_EINVAL);
        net_close(h);
    }
    // A blocked read_from wakes on close.
    let h = listen_packet("ip4:icmp", "127.0.0.2");
    assert_close_wakes(h, move || {
        let mut buf = [0u8; 64];
        (read_from(h, &mut buf).0, last_error())
    });
}

#[test]
fn ip_networks_fail_in_gos_words() {
    let dial_err = |network: &str, address: &str| {
        let rc = try_dial(network, address);
        assert!(rc < 0, "{network} {address} dialed");
        (rc, last_error())
    };
    let expect = [
        (
            "ip4",
            "127.0.0.1",
            NET_EADDR,
            "dial ip4: unknown network ip4",
        ),
        ("ip", "127.0.0.1", NET_EADDR, "dial ip: unknown network ip"),
        ("ip6", "::1", NET_EADDR, "dial ip6: unknown network ip6"),
        (
            "ip4:nope",
            "127.0.0.1",
            NET_EADDR,
            "dial ip4:nope: address nope: unknown IP protocol specified",
        ),
        (
            "ip4:",
            "127.0.0.1",
            NET_EADDR,
            "dial ip4:: unknown IP protocol specified",
        ),
        (
            "ip4:16777215",
            "127.0.0.1",
            NET_EADDR,
            "dial ip4:16777215: address 16777215: unknown IP protocol specified",
        ),
        (
            "tcp:6",
            "127.0.0.1",
            NET_EADDR,
            "dial tcp:6: unknown network tcp:6",
        ),
        ("ip4:icmp", "", NET_EADDR, "dial ip4:icmp: missing address"),
        (
            "ip6:58",
            "127.0.0.1",
            NET_EADDR,
            "dial ip6:58: address 127.0.0.1: no suitable address found",
        ),
    ];
    for (network, address, code, text) in expect {
        assert_eq!(dial_err(network, address), (code, text.to_owned()));
    }
    // Stream listeners take no IP network, as Go's Listen says.
    // SAFETY: both strings are NUL-terminated.
    let rc = unsafe { net_listen(cstr("ip4:icmp").as_ptr(), cstr("127.0.0.1").as_ptr()) };
    assert_eq!(rc, NET_EADDR);
    assert_eq!(
        last_error(),
        "listen ip4:icmp 127.0.0.1: address 127.0.0.1: unexpected address type"
    );
    assert_eq!(try_listen_packet("ip4", ""), NET_EADDR);
    assert_eq!(last_error(), "listen ip4: unknown network ip4");
}

/// What a process without CAP_NET_RAW gets: `socket: operation not
/// permitted`, as Go reports it, with `NET_ESYSTEM`.
fn unprivileged_dials_fail_as_go_says() {
    assert!(
        !privileged(),
        "this check needs a process without CAP_NET_RAW"
    );
    let cases = [
        (
            "ip4:icmp",
            "127.0.0.1",
            "dial ip4:icmp 127.0.0.1: socket: operation not permitted",
        ),
        (
            "ip6:ipv6-icmp",
            "::1",
            "dial ip6:ipv6-icmp ::1: socket: operation not permitted",
        ),
    ];
    for (network, address, text) in cases {
        assert_eq!(try_dial(network, address), NET_ESYSTEM);
        assert_eq!(last_error(), text);
    }
    assert_eq!(try_listen_packet("ip4:icmp", "127.0.0.1"), NET_ESYSTEM);
    assert_eq!(
        last_error(),
        "listen ip4:icmp 127.0.0.1: socket: operation not permitted"
    );
    // Go prints the empty address of an empty host as nothing.
    assert_eq!(try_listen_packet("ip4:icmp", ""), NET_ESYSTEM);
    assert_eq!(
        last_error(),
        "listen ip4:icmp : socket: operation not permitted"
    );
}

/// Run by `without_cap_net_raw_dials_fail_as_go_says` in a child that
/// has dropped CAP_NET_RAW.
#[test]
#[ignore = "run in a child without CAP_NET_RAW"]
fn child_without_cap_net_raw() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    assert_eq!(
        eff & (1 << CAP_NET_RAW),
        0,
        "CAP_NET_RAW is still effective"
    );
    unprivileged_dials_fail_as_go_says();
}

#[test]
fn without_cap_net_raw_dials_fail_as_go_says() {
    if !privileged() {
        return unprivileged_dials_fail_as_go_says();
    }
    let test = test_name(module_path!(), "child_without_cap_net_raw");
    let mut cmd = test_child(&[], &test, true);
    // SAFETY: the closure runs in the child between fork and exec and
    // makes one system call, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            // Out of the bounding set, the capability is not given back
            // by the exec, even to root.
            if libc::prctl(libc::PR_CAPBSET_DROP, CAP_NET_RAW as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    expect_one_passed(&mut cmd, "the unprivileged child");
}
