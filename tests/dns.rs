//! gonet's resolver against a real name server: dnsmasq, started by each
//! outer test on a loopback address of a network namespace the test made,
//! with that namespace's own resolv.conf, hosts and nsswitch.conf (bound
//! over /etc in a mount namespace of their own: see tests/common/netns.rs).
//! The checks run in the test binary itself, re-executed inside the
//! namespace; they are marked ignored so that a plain run lists them as
//! such, and their outer test fails unless they ran and passed. Nothing is sent off loopback,
//! and the machine's own resolver is never asked anything.

mod common;
use common::*;
use gonet::*;
use std::ffi::c_char;
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A network namespace (tests/common/netns.rs) and the dnsmasq instances
/// started in it, ended before the namespace is removed.
struct Ns {
    ns: Netns,
    servers: Vec<Child>,
}

impl Ns {
    fn new(tag: &str, resolv: &str, hosts: &str, nsswitch: &str) -> Ns {
        let mut ns = Netns::new(tag);
        ns.set_etc("resolv.conf", resolv);
        ns.set_etc("hosts", hosts);
        ns.set_etc("nsswitch.conf", nsswitch);
        Ns {
            ns,
            servers: Vec::new(),
        }
    }

    fn set_nsswitch(&mut self, text: &str) {
        self.ns.set_etc("nsswitch.conf", text);
    }

    /// Starts dnsmasq on `addr`:53 with `records` (its flags), serving
    /// `.test` and the reverse zones itself (NXDOMAIN for what it lacks),
    /// forwarding nothing; returns once it answers.
    fn dnsmasq(&mut self, addr: &str, records: &[String]) {
        let child = self
            .ns
            .command("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--no-poll",
                "--user=root",
                "--pid-file=",
                "--bind-interfaces",
                "--port=53",
                "--local=/test/",
                "--local=/in-addr.arpa/",
                "--log-facility=/dev/null",
            ])
            .arg(format!("--listen-address={addr}"))
            .args(records)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dnsmasq (Debian's dnsmasq-base)");
        self.servers.push(child);
        // Ready when its port is bound in the namespace: at most 5 s.
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let out = self.ns.command("ss").arg("-Hlun").output().expect("run ss");
            if String::from_utf8_lossy(&out.stdout).contains(&format!("{addr}:53")) {
                return;
            }
            assert!(Instant::now() < until, "dnsmasq did not start on {addr}");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs the ignored test `test` of this binary in the namespace, with
    /// its /etc files, and fails unless it ran and passed.
    fn run(&self, test: &str) {
        self.ns.run_test(module_path!(), test);
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        for child in &mut self.servers {
            // `ip netns exec` execs dnsmasq: the child is dnsmasq itself.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The name, as DNS writes it, of `name` (for `--dns-rr`).
fn wire_name_hex(name: &str) -> String {
    let mut hex = String::new();
    for label in name.split('.').filter(|l| !l.is_empty()) {
        hex.push_str(&format!("{:02x}", label.len()));
        for b in label.bytes() {
            hex.push_str(&format!("{b:02x}"));
        }
    }
    hex + "00"
}

fn records() -> Vec<String> {
    let mut r: Vec<String> = [
        "--host-record=www.gonet.test,10.0.0.1,fd00::1",
        "--host-record=v4only.gonet.test,10.0.0.2",
        "--host-record=lo.gonet.test,127.0.0.1",
        "--cname=alias.gonet.test,www.gonet.test",
        "--mx-host=gonet.test,mail2.gonet.test,20",
        "--mx-host=gonet.test,mail1.gonet.test,10",
        "--srv-host=_http._tcp.gonet.test,web.gonet.test,8080,1,10",
        "--srv-host=_http._tcp.gonet.test,backup.gonet.test,8081,2,0",
        "--ptr-record=5.0.0.10.in-addr.arpa,ptr.gonet.test",
        "--host-record=host.search.test,10.0.0.9",
        "--host-record=inhosts.gonet.test,10.0.0.99",
        "--edns-packet-max=512",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // Non-ASCII bytes and a backslash in a TXT record.
    r.push("--txt-record=txt.gonet.test,v=1 w\u{f6}rld,a\\b".to_owned());
    r.push(format!(
        "--dns-rr=gonet.test,2,{}",
        wire_name_hex("ns1.gonet.test")
    ));
    // 60 A records: over 512 bytes, so truncated over UDP.
    for i in 1..=60 {
        r.push(format!("--host-record=big.gonet.test,10.1.0.{i}"));
    }
    r
}

const RESOLV: &str =
    "nameserver 127.0.0.1\nsearch search.test\noptions ndots:1 timeout:1 attempts:2\n";
const HOSTS: &str = "127.0.0.1 localhost\n10.0.0.50 inhosts.gonet.test\n";
const FILES_DNS: &str = "hosts: files dns\n";

/// Calls an `snprintf`-style lookup; its lines, or its code and message.
fn text_of(f: impl Fn(*mut c_char, usize) -> i64) -> Result<Vec<String>, (i64, String)> {
    let mut buf = vec![0 as c_char; 8192];
    let n = f(buf.as_mut_ptr(), buf.len());
    if n < 0 {
        return Err((n, last_error()));
    }
    assert!((n as usize) < buf.len(), "answer of {n} bytes does not fit");
    let bytes: Vec<u8> = buf[..n as usize].iter().map(|&c| c as u8).collect();
    let text = String::from_utf8(bytes).expect("lookups write UTF-8");
    Ok(if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n').map(str::to_owned).collect()
    })
}

fn lookup_ip(r: i64, network: &str, host: &str) -> Result<Vec<String>, (i64, String)> {
    let (network, host) = (cstr(network), cstr(host));
    // SAFETY: NUL-terminated strings; buf is writable for len bytes.
    text_of(|buf, len| unsafe { net_lookup_ip(r, network.as_ptr(), host.as_ptr(), buf, len) })
}

fn lookup_1(
    f: unsafe extern "C" fn(i64, *const c_char, *mut c_char, usize) -> i64,
    r: i64,
    name: &str,
) -> Result<Vec<String>, (i64, String)> {
    let name = cstr(name);
    // SAFETY: a NUL-terminated string; buf is writable for len bytes.
    text_of(|buf, len| unsafe { f(r, name.as_ptr(), buf, len) })
}

fn lookup_srv(
    r: i64,
    service: &str,
    proto: &str,
    name: &str,
) -> Result<Vec<String>, (i64, String)> {
    let (s, p, n) = (cstr(service), cstr(proto), cstr(name));
    // SAFETY: NUL-terminated strings; buf is writable for len bytes.
    text_of(|buf, len| unsafe { net_lookup_srv(r, s.as_ptr(), p.as_ptr(), n.as_ptr(), buf, len) })
}

fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// Asserts that this process is back to `before` threads. A joined thread
/// can stay listed in /proc/self/task for a moment: `pthread_join` returns
/// once the kernel clears the thread's id, which it does before the thread
/// leaves its group (seen: one thread more right after the joins in 5 of
/// 13 runs of this file, with its tests in parallel, on the library of
/// both before and after the change then being tested). A thread really
/// left behind is still there after a second.
fn assert_no_thread_left(before: usize) {
    let give_up = Instant::now() + Duration::from_secs(1);
    while threads_now() != before && Instant::now() < give_up {
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(threads_now(), before, "a thread was left behind");
}

#[test]
fn every_record_type_from_dnsmasq() {
    if !root_or_sandbox(module_path!(), "every_record_type_from_dnsmasq") {
        return;
    }
    let mut ns = Ns::new("rec", RESOLV, HOSTS, FILES_DNS);
    ns.dnsmasq("127.0.0.1", &records());
    ns.run("netns_every_record_type");
    ns.run("netns_listen_and_write_to_ask_the_resolver");
    // A source only libc knows sends lookups to getaddrinfo;
    // GONET_RESOLVER=go keeps gonet's resolver there.
    ns.set_nsswitch("hosts: files ldap dns\n");
    ns.run("netns_nsswitch_sends_lookups_to_the_system");
    ns.run("netns_forced_go_resolver");
}

#[test]
#[ignore = "runs inside a network namespace made by every_record_type_from_dnsmasq"]
fn netns_every_record_type() {
    assert_eq!(
        lookup_ip(0, "ip", "www.gonet.test").unwrap(),
        ["10.0.0.1", "fd00::1"]
    );
    assert_eq!(lookup_ip(0, "ip4", "www.gonet.test").unwrap(), ["10.0.0.1"]);
    assert_eq!(lookup_ip(0, "ip6", "www.gonet.test").unwrap(), ["fd00::1"]);
    assert_eq!(
        lookup_ip(0, "ip", "v4only.gonet.test").unwrap(),
        ["10.0.0.2"]
    );
    assert_eq!(lookup_ip(0, "ip", "10.9.8.7").unwrap(), ["10.9.8.7"]);
    assert_eq!(
        lookup_ip(0, "tcp", "www.gonet.test").unwrap_err(),
        (NET_EADDR, "lookup_ip: unknown network tcp".to_owned())
    );
    // The hosts file comes before DNS (nsswitch: files dns).
    assert_eq!(
        lookup_ip(0, "ip", "inhosts.gonet.test").unwrap(),
        ["10.0.0.50"]
    );
    // The search list: one dot is under ndots:1... zero dots are.
    assert_eq!(lookup_ip(0, "ip", "host").unwrap(), ["10.0.0.9"]);
    // Not found, in Go's words, with its own code.
    assert_eq!(
        lookup_ip(0, "ip", "nosuchhost.gonet.test").unwrap_err(),
        (
            NET_ENOHOST,
            "lookup_ip: lookup nosuchhost.gonet.test on 127.0.0.1:53: no such host".to_owned()
        )
    );
    // 60 addresses: truncated over UDP (512 bytes), completed over TCP.
    let big = lookup_ip(0, "ip4", "big.gonet.test").unwrap();
    assert_eq!(big.len(), 60, "{big:?}");
    assert!(big.contains(&"10.1.0.60".to_owned()));

    assert_eq!(
        lookup_1(net_lookup_cname, 0, "alias.gonet.test").unwrap(),
        ["www.gonet.test."]
    );
    assert_eq!(
        lookup_1(net_lookup_cname, 0, "www.gonet.test").unwrap(),
        ["www.gonet.test."]
    );
    assert_eq!(
        lookup_1(net_lookup_mx, 0, "gonet.test").unwrap(),
        ["10 mail1.gonet.test.", "20 mail2.gonet.test."]
    );
    assert_eq!(
        lookup_1(net_lookup_ns, 0, "gonet.test").unwrap(),
        ["ns1.gonet.test."]
    );
    assert_eq!(
        lookup_srv(0, "http", "tcp", "gonet.test").unwrap(),
        ["1 10 8080 web.gonet.test.", "2 0 8081 backup.gonet.test."]
    );
    assert_eq!(
        lookup_srv(0, "", "", "_http._tcp.gonet.test").unwrap(),
        lookup_srv(0, "http", "tcp", "gonet.test").unwrap()
    );
    // Strings joined as Go joins them; the backslash and the non-ASCII
    // bytes escaped.
    assert_eq!(
        lookup_1(net_lookup_txt, 0, "txt.gonet.test").unwrap(),
        ["v=1 w\\195\\182rlda\\092b"]
    );
    assert_eq!(
        lookup_1(net_lookup_addr, 0, "10.0.0.5").unwrap(),
        ["ptr.gonet.test."]
    );
    // The hosts file answers reverse lookups too.
    assert_eq!(
        lookup_1(net_lookup_addr, 0, "10.0.0.50").unwrap(),
        ["inhosts.gonet.test."]
    );
    assert_eq!(
        lookup_1(net_lookup_addr, 0, "not-an-address").unwrap_err(),
        (
            NET_EADDR,
            "lookup_addr: lookup not-an-address: unrecognized address".to_owned()
        )
    );
    // net_lookup_host and dials resolve through the same resolver.
    let name = cstr("www.gonet.test");
    // SAFETY: a NUL-terminated string; buf is writable for len bytes.
    let host = text_of(|buf, len| unsafe { net_lookup_host(name.as_ptr(), buf, len) });
    assert_eq!(host.unwrap(), ["10.0.0.1", "fd00::1"]);
    assert_eq!(try_dial("tcp", "nosuchhost.gonet.test:80"), NET_ENOHOST);
    assert_eq!(
        last_error(),
        "dial tcp: lookup nosuchhost.gonet.test on 127.0.0.1:53: no such host"
    );
    assert_eq!(try_dial("udp", "nosuchhost.gonet.test:53"), NET_ENOHOST);
    assert_eq!(
        last_error(),
        "dial udp: lookup nosuchhost.gonet.test on 127.0.0.1:53: no such host"
    );
    // A name that resolves, then is dialed (nothing listens: refused).
    let l = listen("tcp", "127.0.0.1:0");
    let port = local_addr(l).rsplit(':').next().unwrap().to_owned();
    let c = dial("tcp", &format!("localhost:{port}"));
    net_close(c);
    net_close(l);

    // Eight threads at once, 200 lookups each.
    let before = threads_now();
    let workers: Vec<_> = (0..8)
        .map(|_| {
            thread::spawn(|| {
                for _ in 0..200 {
                    assert_eq!(
                        lookup_ip(0, "ip", "www.gonet.test").unwrap(),
                        ["10.0.0.1", "fd00::1"]
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_no_thread_left(before);

    // The Python binding, against the same server.
    let out = Command::new("python3")
        .arg(repo_dir().join("python").join("dns_check.py"))
        .env("PYTHONPATH", repo_dir().join("python"))
        .env("GONET_LIBRARY", lib_dir().join("libgonet.so"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python3");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("checks passed"),
        "python/dns_check.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Listening and `write_to` look names up as dialing does, with gonet's
/// resolver (its failures name the server asked; getaddrinfo's do not),
/// as Go's `Listen` and `ResolveUDPAddr` use its `DefaultResolver`.
#[test]
#[ignore = "runs inside a network namespace made by every_record_type_from_dnsmasq"]
fn netns_listen_and_write_to_ask_the_resolver() {
    let missing = "lookup nosuchhost.gonet.test on 127.0.0.1:53: no such host";
    // SAFETY: NUL-terminated literals and strings; buffers valid for their
    // lengths.
    unsafe {
        assert_eq!(
            net_listen(c"tcp".as_ptr(), c"nosuchhost.gonet.test:0".as_ptr()),
            NET_ENOHOST
        );
        assert_eq!(last_error(), format!("listen tcp: {missing}"));
        assert_eq!(
            net_listen_packet(c"udp".as_ptr(), c"nosuchhost.gonet.test:0".as_ptr()),
            NET_ENOHOST
        );
        assert_eq!(last_error(), format!("listen udp: {missing}"));

        let l = net_listen(c"tcp".as_ptr(), c"lo.gonet.test:0".as_ptr());
        assert!(l > 0, "{}", last_error());
        assert!(local_addr(l).starts_with("127.0.0.1:"), "{}", local_addr(l));
        assert_eq!(net_close(l), 0);

        let peer = net_listen_packet(c"udp".as_ptr(), c"lo.gonet.test:0".as_ptr());
        assert!(peer > 0, "{}", last_error());
        let port = local_addr(peer).rsplit_once(':').unwrap().1.to_owned();
        let h = net_listen_packet(c"udp".as_ptr(), c"127.0.0.1:0".as_ptr());
        assert!(h > 0, "{}", last_error());
        let to = cstr(&format!("lo.gonet.test:{port}"));
        assert_eq!(
            net_write_to(h, b"z".as_ptr().cast(), 1, to.as_ptr()),
            1,
            "{}",
            last_error()
        );
        let mut buf = [0u8; 8];
        assert_eq!(net_set_read_deadline(peer, 5_000), 0);
        assert_eq!(
            net_read(peer, buf.as_mut_ptr().cast(), buf.len()),
            1,
            "{}",
            last_error()
        );
        assert_eq!(buf[0], b'z');
        let rc = net_write_to(
            h,
            b"z".as_ptr().cast(),
            1,
            c"nosuchhost.gonet.test:9".as_ptr(),
        );
        assert_eq!(rc, NET_ENOHOST);
        let msg = last_error();
        assert!(
            msg.starts_with("write udp 127.0.0.1:") && msg.ends_with(&format!(": {missing}")),
            "{msg}"
        );
        assert_eq!(net_close(h), 0);
        assert_eq!(net_close(peer), 0);
    }
}

#[test]
#[ignore = "runs inside a network namespace made by every_record_type_from_dnsmasq"]
fn netns_nsswitch_sends_lookups_to_the_system() {
    // "ldap" is a source only libc knows: getaddrinfo answers, so the
    // error carries no server (glibc asked dnsmasq, which said NXDOMAIN).
    assert_eq!(
        lookup_ip(0, "ip", "nosuchhost.gonet.test").unwrap_err(),
        (
            NET_ENOHOST,
            "lookup_ip: lookup nosuchhost.gonet.test: no such host".to_owned()
        )
    );
    assert_eq!(lookup_ip(0, "ip4", "www.gonet.test").unwrap(), ["10.0.0.1"]);
}

#[test]
#[ignore = "runs inside a network namespace made by every_record_type_from_dnsmasq"]
fn netns_forced_go_resolver() {
    // SAFETY: this process runs this one test, on this thread, and nothing
    // has read the environment concurrently: gonet reads it on the first
    // lookup, below.
    unsafe { std::env::set_var("GONET_RESOLVER", "go") };
    assert_eq!(
        lookup_ip(0, "ip", "nosuchhost.gonet.test").unwrap_err(),
        (
            NET_ENOHOST,
            "lookup_ip: lookup nosuchhost.gonet.test on 127.0.0.1:53: no such host".to_owned()
        )
    );
}

/// A name no server can hold ("1.2.3.4.5", "bad name", "127.0.0.1:9" as
/// a raw IP destination) fails with Go's "no such host" and is never sent to the
/// configured name server, which getaddrinfo would do; the hosts file
/// still answers for it, as Go's resolver reads it first.
#[test]
fn names_no_server_can_hold_are_never_sent() {
    if !root_or_sandbox(module_path!(), "names_no_server_can_hold_are_never_sent") {
        return;
    }
    let resolv = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
    let hosts = "127.0.0.1 localhost\n127.0.0.9 odd!name\n";
    let ns = Ns::new("odd", resolv, hosts, FILES_DNS);
    ns.run("netns_names_no_server_can_hold");
}

#[test]
#[ignore = "runs inside a network namespace made by names_no_server_can_hold_are_never_sent"]
fn netns_names_no_server_can_hold() {
    // The namespace's name server: whatever reaches it is a query sent.
    let server = UdpSocket::bind("127.0.0.1:53").unwrap();
    server.set_nonblocking(true).unwrap();
    let peer = UdpSocket::bind("127.0.0.9:9").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // SAFETY: NUL-terminated literals; the buffer is valid for its length.
    unsafe {
        let h = net_listen_packet(c"udp".as_ptr(), c"127.0.0.1:0".as_ptr());
        assert!(h > 0, "{}", last_error());
        // glibc's getaddrinfo asks the server about an all-numeric name
        // that is no address ("1.2.3.4.5", checked with strace); Go's
        // resolver does not, nor about one with characters DNS names lack.
        for (to, name) in [(c"1.2.3.4.5:9", "1.2.3.4.5"), (c"bad name:9", "bad name")] {
            let rc = net_write_to(h, b"x".as_ptr().cast(), 1, to.as_ptr());
            let msg = last_error();
            assert_eq!(rc, NET_ENOHOST, "{msg}");
            assert!(
                msg.starts_with("write udp 127.0.0.1:")
                    && msg.ends_with(&format!(": lookup {name}: no such host")),
                "{msg}"
            );
        }
        // From the hosts file, not from a server.
        assert_eq!(
            net_write_to(h, b"y".as_ptr().cast(), 1, c"odd!name:9".as_ptr()),
            1,
            "{}",
            last_error()
        );
        let mut buf = [0u8; 8];
        assert_eq!(
            peer.recv_from(&mut buf).map(|(n, _)| &buf[..n]).unwrap(),
            b"y"
        );
        assert_eq!(net_close(h), 0);
    }
    assert_eq!(
        lookup_ip(0, "ip", "1.2.3.4.5").unwrap_err(),
        (
            NET_ENOHOST,
            "lookup_ip: lookup 1.2.3.4.5: no such host".to_owned()
        )
    );
    // Had a query been sent, it would be here by now (it goes out before
    // getaddrinfo waits for an answer).
    let mut buf = [0u8; 512];
    let got = server.recv_from(&mut buf);
    assert!(
        matches!(&got, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a query reached the name server: {got:?}"
    );
}

/// A name server of the test's own on `addr`:53 over UDP, answering every
/// A query for `fail.gonet.test` after `lies` (replies with a wrong ID,
/// then with a wrong question) with 10.7.7.7; with `rcode` (SERVFAIL=2)
/// instead when it is not 0. Ends after `queries` queries or 10 s.
fn own_server(addr: &str, rcode: u8, lies: bool, queries: usize) -> thread::JoinHandle<()> {
    let sock = UdpSocket::bind((addr, 53)).expect("bind the test's name server");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 1500];
        let mut served = 0;
        while served < queries && Instant::now() < until {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            served += 1;
            let q = &buf[..n];
            // The question ends 4 bytes after its name's terminating zero.
            let Some(zero) = q[12..].iter().position(|&b| b == 0) else {
                continue;
            };
            let qend = 12 + zero + 5;
            let qtype = u16::from_be_bytes([q[qend - 4], q[qend - 3]]);
            let reply = |id: [u8; 2], question: &[u8], answer: bool| {
                let mut r = id.to_vec();
                r.extend_from_slice(&[0x81, 0x80 | rcode, 0, 1, 0, u8::from(answer), 0, 0, 0, 0]);
                r.extend_from_slice(question);
                if answer {
                    r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 7, 7, 7]);
                }
                r
            };
            let id = [q[0], q[1]];
            let question = &q[12..qend];
            let answer = qtype == 1 && rcode == 0;
            if lies {
                let _ = sock.send_to(&reply([id[0] ^ 0xff, id[1]], question, answer), from);
                let mut other = question.to_vec();
                other[1] ^= 0x20 ^ 0x01; // another name: x → y
                let _ = sock.send_to(&reply(id, &other, answer), from);
            }
            let _ = sock.send_to(&reply(id, question, answer), from);
        }
    })
}

#[test]
fn servers_that_fail_lie_or_keep_silent() {
    if !root_or_sandbox(module_path!(), "servers_that_fail_lie_or_keep_silent") {
        return;
    }
    let resolv = "nameserver 127.0.0.3\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
    let mut ns = Ns::new("fail", resolv, HOSTS, FILES_DNS);
    ns.dnsmasq("127.0.0.1", &records());
    ns.run("netns_failover_deadlines_and_cancels");
}

#[test]
#[ignore = "runs inside a network namespace made by servers_that_fail_lie_or_keep_silent"]
fn netns_failover_deadlines_and_cancels() {
    // 127.0.0.3 takes queries and never answers.
    let _silent = UdpSocket::bind("127.0.0.3:53").unwrap();
    let _silent4 = UdpSocket::bind("127.0.0.4:53").unwrap();

    // The first server silent, the second answers within timeout × attempts.
    let start = Instant::now();
    assert_eq!(lookup_ip(0, "ip4", "www.gonet.test").unwrap(), ["10.0.0.1"]);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_millis(1500),
        "failover took {took:?}"
    );

    // SERVFAIL moves on to the next server.
    let r = net_resolver_new();
    let servfail = own_server("127.0.0.5", 2, false, 2);
    // SAFETY: NUL-terminated strings.
    assert_eq!(
        unsafe { net_resolver_set_servers(r, cstr("127.0.0.5:53,127.0.0.1:53").as_ptr()) },
        0
    );
    assert_eq!(lookup_ip(r, "ip4", "www.gonet.test").unwrap(), ["10.0.0.1"]);
    servfail.join().unwrap();
    // SERVFAIL alone: a temporary failure, not "no such host".
    let servfail = own_server("127.0.0.5", 2, false, 1);
    // SAFETY: a NUL-terminated string.
    assert_eq!(
        unsafe { net_resolver_set_servers(r, cstr("127.0.0.5:53").as_ptr()) },
        0
    );
    assert_eq!(
        lookup_ip(r, "ip4", "www.gonet.test").unwrap_err(),
        (
            NET_EDNS,
            "lookup_ip: lookup www.gonet.test on 127.0.0.5:53: server misbehaving".to_owned()
        )
    );
    servfail.join().unwrap();

    // Replies with a wrong ID or question are dropped; the right one wins.
    let liar = own_server("127.0.0.6", 0, true, 1);
    // SAFETY: a NUL-terminated string.
    assert_eq!(
        unsafe { net_resolver_set_servers(r, cstr("127.0.0.6:53").as_ptr()) },
        0
    );
    assert_eq!(
        lookup_ip(r, "ip4", "fail.gonet.test").unwrap(),
        ["10.7.7.7"]
    );
    liar.join().unwrap();

    // A lookup ends at the resolver's timeout, within 50 ms.
    // SAFETY: a NUL-terminated string.
    assert_eq!(
        unsafe { net_resolver_set_servers(r, cstr("127.0.0.3:53").as_ptr()) },
        0
    );
    assert_eq!(net_resolver_set_timeout(r, 300), 0);
    let start = Instant::now();
    let (code, msg) = lookup_ip(r, "ip", "www.gonet.test").unwrap_err();
    let took = start.elapsed();
    assert_eq!(code, NET_ETIMEOUT, "{msg}");
    assert!(
        msg.starts_with("lookup_ip: lookup www.gonet.test on 127.0.0.3:53: read udp 127.0.0.1:")
            && msg.ends_with("->127.0.0.3:53: i/o timeout"),
        "{msg}"
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(350),
        "bounded lookup took {took:?}"
    );
    // A dial's timeout bounds its lookup the same way.
    let d = net_dialer_new();
    assert_eq!(net_dialer_set_resolver(d, r), 0);
    // 0 has already run out; NET_FOREVER is no bound of its own.
    assert_eq!(net_resolver_set_timeout(r, 0), 0);
    let start = Instant::now();
    assert_eq!(
        lookup_ip(r, "ip", "www.gonet.test").unwrap_err().0,
        NET_ETIMEOUT
    );
    assert!(start.elapsed() < Duration::from_millis(50));
    assert_eq!(net_resolver_set_timeout(r, NET_FOREVER), 0);
    assert_eq!(net_dialer_set_timeout(d, 200), 0);
    let start = Instant::now();
    // SAFETY: NUL-terminated strings.
    let rc =
        unsafe { net_dialer_dial(d, cstr("tcp").as_ptr(), cstr("www.gonet.test:80").as_ptr()) };
    let took = start.elapsed();
    assert_eq!(rc, NET_ETIMEOUT, "{}", last_error());
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_millis(250),
        "bounded dial took {took:?}"
    );

    // Cancelled from another thread: back within 50 ms, no thread left.
    let before = threads_now();
    let canceller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        let at = Instant::now();
        assert_eq!(net_resolver_cancel(r), 0);
        at
    });
    let (code, msg) = lookup_ip(r, "ip", "www.gonet.test").unwrap_err();
    let ended = Instant::now();
    let cancelled_at = canceller.join().unwrap();
    assert_eq!(code, NET_ECANCELED, "{msg}");
    assert_eq!(
        msg,
        "lookup_ip: lookup www.gonet.test on 127.0.0.3:53: operation was canceled"
    );
    assert!(ended.duration_since(cancelled_at) < Duration::from_millis(50));
    assert_no_thread_left(before);
    // Later lookups fail at once; the dialer's lookups too.
    assert_eq!(
        lookup_ip(r, "ip", "www.gonet.test").unwrap_err().0,
        NET_ECANCELED
    );
    // SAFETY: NUL-terminated strings.
    let rc =
        unsafe { net_dialer_dial(d, cstr("tcp").as_ptr(), cstr("www.gonet.test:80").as_ptr()) };
    assert_eq!(rc, NET_ECANCELED, "{}", last_error());

    // A dialer's cancel stops its lookup too.
    let d2 = net_dialer_new();
    let r2 = net_resolver_new();
    // SAFETY: a NUL-terminated string.
    assert_eq!(
        unsafe { net_resolver_set_servers(r2, cstr("127.0.0.4:53").as_ptr()) },
        0
    );
    assert_eq!(net_dialer_set_resolver(d2, r2), 0);
    let canceller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        let at = Instant::now();
        assert_eq!(net_dialer_cancel(d2), 0);
        at
    });
    // SAFETY: NUL-terminated strings.
    let rc =
        unsafe { net_dialer_dial(d2, cstr("tcp").as_ptr(), cstr("www.gonet.test:80").as_ptr()) };
    let ended = Instant::now();
    let cancelled_at = canceller.join().unwrap();
    assert_eq!(rc, NET_ECANCELED, "{}", last_error());
    assert!(ended.duration_since(cancelled_at) < Duration::from_millis(50));
    // Closing a resolver cancels too, and its handle is then closed.
    assert_eq!(net_close(r2), 0);
    assert_eq!(
        lookup_ip(r2, "ip", "www.gonet.test").unwrap_err().0,
        NET_ECLOSED
    );
    assert_eq!(net_resolver_cancel(0), NET_EINVAL);
    for h in [r, d, d2] {
        assert_eq!(net_close(h), 0);
    }
}
