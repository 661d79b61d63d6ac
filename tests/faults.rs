//! Faults on an emulated network: two network namespaces that each test
//! makes for itself, a client side and a server side, joined by a veth
//! pair (192.0.2.1 on the client side, 192.0.2.2 on the server side).
//! Each test thread moves itself into one namespace with `setns`, which
//! changes the network namespace of that thread alone, so a client and a
//! server in different namespaces run in one process. No packet leaves the
//! two namespaces. As root the namespaces are the machine's (`ip netns`);
//! as another user each test runs in a sandbox of its own (see
//! `root_or_sandbox` in tests/common/netns.rs).
//!
//! Cases: the link goes down mid-transfer (reads and writes end at their
//! deadlines), a black-holed destination (the dial timeout holds), a peer
//! that resets (NET_ERESET with Go's message), a server restarted on the
//! same port (clients reconnect), and 30% packet loss (every byte arrives
//! intact). Loss comes from `tc netem` where the kernel has it; where it
//! has not, from an nftables rule that drops 30% of TCP packets at random.

mod common;
use common::*;
use gonet::*;
use std::io::{Read, Write};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const CLIENT_IP: &str = "192.0.2.1";
const SERVER_IP: &str = "192.0.2.2";
/// On the client side's subnet, with a neighbour entry whose MAC nothing
/// owns: packets to it cross the veth and are dropped on the other side.
const BLACK_HOLE: &str = "192.0.2.99";

/// A client namespace and a server namespace joined by veth; both removed
/// on drop.
struct Link {
    client: Netns,
    server: Netns,
}

impl Link {
    fn new(tag: &str) -> Link {
        let link = Link {
            client: Netns::new(&format!("{tag}-c")),
            server: Netns::new(&format!("{tag}-s")),
        };
        let (c, s) = (&link.client, &link.server);
        c.ip(&[
            "link",
            "add",
            "vc",
            "type",
            "veth",
            "peer",
            "name",
            "vs",
            "netns",
            s.name(),
        ]);
        for (ns, dev, addr) in [(c, "vc", CLIENT_IP), (s, "vs", SERVER_IP)] {
            ns.ip(&["addr", "add", &format!("{addr}/24"), "dev", dev]);
            ns.ip(&["link", "set", dev, "up"]);
        }
        c.ip(&[
            "neigh",
            "add",
            BLACK_HOLE,
            "lladdr",
            "02:00:00:00:00:99",
            "dev",
            "vc",
            "nud",
            "permanent",
        ]);
        link
    }

    fn in_client<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> thread::JoinHandle<T> {
        self.client.spawn(f)
    }

    fn in_server<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> thread::JoinHandle<T> {
        self.server.spawn(f)
    }
}

#[test]
fn link_down_mid_transfer_ends_reads_and_writes_at_their_deadlines() {
    if !root_or_sandbox(
        module_path!(),
        "link_down_mid_transfer_ends_reads_and_writes_at_their_deadlines",
    ) {
        return;
    }
    let link = Link::new("down");
    let (tx, rx) = mpsc::channel();
    let server = link.in_server(move || {
        let l = listen("tcp", &format!("{SERVER_IP}:0"));
        tx.send(local_addr(l)).unwrap();
        let s = net_accept(l);
        assert!(s > 0, "{}", last_error());
        let mut buf = vec![0u8; 65536];
        let mut total = 0u64;
        let mut last = Instant::now();
        let rc = loop {
            net_set_read_deadline(s, 1000);
            let n = read(s, &mut buf);
            if n <= 0 {
                break n;
            }
            total += n as u64;
            last = Instant::now();
        };
        let msg = last_error();
        for h in [s, l] {
            net_close(h);
        }
        (rc, msg, total, last.elapsed())
    });
    let addr = rx.recv().unwrap();
    let client = link.in_client(move || {
        let c = dial_timeout(&addr, 5000);
        assert!(c > 0, "{}", last_error());
        let chunk = vec![1u8; 16384];
        let mut total = 0u64;
        let mut last = Instant::now();
        let rc = loop {
            net_set_write_deadline(c, 1000);
            let n = write(c, &chunk);
            if n < 0 {
                break n;
            }
            total += n as u64;
            last = Instant::now();
            assert!(total < 1 << 34, "the link never went down");
        };
        let msg = last_error();
        net_close(c);
        (rc, msg, total, last.elapsed())
    });
    thread::sleep(Duration::from_millis(300));
    let down_at = Instant::now();
    link.server.ip(&["link", "set", "vs", "down"]);

    let (rc, msg, total, idle) = client.join().unwrap();
    println!("client: wrote {total} bytes, then after {idle:?}: {msg}");
    assert_eq!(rc, NET_ETIMEOUT, "{msg}");
    assert!(msg.ends_with("i/o timeout"), "{msg}");
    assert!(idle >= Duration::from_millis(990) && idle < Duration::from_secs(3));
    let (rc, msg, received, idle) = server.join().unwrap();
    println!("server: read {received} bytes, then after {idle:?}: {msg}");
    assert_eq!(rc, NET_ETIMEOUT, "{msg}");
    assert!(msg.ends_with("i/o timeout"), "{msg}");
    assert!(idle >= Duration::from_millis(990) && idle < Duration::from_secs(3));
    assert!(received > 0 && total > 0);
    assert!(down_at.elapsed() < Duration::from_secs(10));
}

#[test]
fn dial_to_a_black_hole_ends_at_its_timeout() {
    if !root_or_sandbox(module_path!(), "dial_to_a_black_hole_ends_at_its_timeout") {
        return;
    }
    let link = Link::new("hole");
    let result = link.in_client(|| {
        let start = Instant::now();
        let rc = dial_timeout(&format!("{BLACK_HOLE}:80"), 300);
        (rc, last_error(), start.elapsed())
    });
    let (rc, msg, took) = result.join().unwrap();
    println!("{msg} after {took:?}");
    assert_eq!(rc, NET_ETIMEOUT, "{msg}");
    assert_eq!(msg, format!("dial tcp {BLACK_HOLE}:80: i/o timeout"));
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_millis(800),
        "{took:?}"
    );
}

#[test]
fn a_peer_that_resets_gives_net_ereset() {
    if !root_or_sandbox(module_path!(), "a_peer_that_resets_gives_net_ereset") {
        return;
    }
    let link = Link::new("rst");
    let (tx, rx) = mpsc::channel();
    let server = link.in_server(move || {
        let l = std::net::TcpListener::bind((SERVER_IP, 0)).unwrap();
        tx.send(l.local_addr().unwrap().to_string()).unwrap();
        let (mut s, _) = l.accept().unwrap();
        s.write_all(b"hi").unwrap();
        let mut ok = [0u8; 2];
        s.read_exact(&mut ok).unwrap();
        // Linger 0: closing sends RST instead of FIN.
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    });
    let addr = rx.recv().unwrap();
    let client = link.in_client(move || {
        let c = dial_timeout(&addr, 5000);
        assert!(c > 0, "{}", last_error());
        assert_eq!(read_exact(c, 2), b"hi");
        assert_eq!(write(c, b"ok"), 2);
        net_set_read_deadline(c, 5000);
        let rc = read(c, &mut [0u8; 16]);
        let msg = last_error();
        let expected = format!(
            "read tcp {}->{}: read: connection reset by peer",
            local_addr(c),
            remote_addr(c)
        );
        net_close(c);
        (rc, msg, expected)
    });
    server.join().unwrap();
    let (rc, msg, expected) = client.join().unwrap();
    assert_eq!(rc, NET_ERESET, "{msg}");
    assert_eq!(msg, expected);
}

#[test]
fn a_server_restarted_on_the_same_port_takes_its_clients_back() {
    if !root_or_sandbox(
        module_path!(),
        "a_server_restarted_on_the_same_port_takes_its_clients_back",
    ) {
        return;
    }
    const CLIENTS: usize = 4;
    const RESTARTS: usize = 3;
    let link = Link::new("restart");
    let (tx, rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let server_ns = link.server.name().to_owned();
    let server = link.in_server(move || {
        let mut addr = format!("{SERVER_IP}:0");
        for round in 0..RESTARTS {
            // Listening again at once on the port just closed works: the
            // old connections' TIME_WAIT does not block it (SO_REUSEADDR).
            // SAFETY: NUL-terminated strings.
            let l = unsafe { net_listen(c"tcp".as_ptr(), cstr(&addr).as_ptr()) };
            if l < 0 {
                let err = last_error();
                let sockets = Command::new("ip")
                    .args(["netns", "exec", &server_ns, "ss", "-tanoe"])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                panic!("round {round}: {err}; sockets in the server's namespace:\n{sockets}");
            }
            addr = local_addr(l);
            tx.send(addr.clone()).unwrap();
            let mut conns = Vec::new();
            for _ in 0..CLIENTS {
                net_set_deadline(l, 5000);
                let s = net_accept(l);
                assert!(s > 0, "round {round}: {}", last_error());
                let got = read_exact(s, 6);
                assert_eq!(write(s, &got), 6);
                conns.push(s);
            }
            go_rx.recv().unwrap();
            // The server closes first, then its listener.
            for s in conns {
                assert_eq!(net_close(s), 0);
            }
            assert_eq!(net_close(l), 0);
        }
    });
    let client = link.in_client(move || {
        let mut port = None;
        for round in 0..RESTARTS {
            let addr: String = rx.recv().unwrap();
            let p = addr.rsplit_once(':').unwrap().1.to_owned();
            assert_eq!(*port.get_or_insert(p.clone()), p, "the port changed");
            let mut conns = Vec::new();
            for i in 0..CLIENTS {
                let c = dial_timeout(&addr, 5000);
                assert!(c > 0, "round {round}: {}", last_error());
                let msg = format!("r{round}-c{i}\n");
                assert_eq!(write(c, msg.as_bytes()), 6);
                assert_eq!(read_exact(c, 6), msg.as_bytes());
                conns.push(c);
            }
            go_tx.send(()).unwrap();
            // The restart ends each connection cleanly: end of stream.
            for c in conns {
                net_set_read_deadline(c, 5000);
                assert_eq!(read(c, &mut [0u8; 8]), 0, "{}", last_error());
                assert_eq!(net_close(c), 0);
            }
        }
    });
    client.join().unwrap();
    server.join().unwrap();
}

/// Loses 30% of the packets that `sender` sends out of `dev` towards
/// `receiver`: with `tc netem` on `dev` if the kernel has it, otherwise
/// with an nftables rule in `receiver` that drops 30% of the TCP packets
/// coming in. Returns how, and whether the drops can be counted (the
/// nftables rule counts them).
fn lose_30_percent(sender: &Netns, dev: &str, receiver: &Netns) -> (String, bool) {
    let netem = sender
        .command("tc")
        .args(["qdisc", "add", "dev", dev])
        .args(["root", "netem", "loss", "30%"])
        .output();
    match netem {
        Ok(out) if out.status.success() => return ("tc netem loss 30%".to_owned(), false),
        Ok(out) => println!(
            "tc netem is not available: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => println!("tc is not available: {e}"),
    }
    let rule = "table inet gonet_loss {\n  chain input {\n    type filter hook input priority 0;\n    \
                meta l4proto tcp counter\n    \
                meta l4proto tcp numgen random mod 100 < 30 counter drop\n  }\n}\n";
    let mut nft = receiver
        .command("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run nft (Debian package nftables)");
    nft.stdin
        .take()
        .unwrap()
        .write_all(rule.as_bytes())
        .unwrap();
    let out = nft.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "cannot make packet loss with tc netem or nftables: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        "nftables: drop 30% of incoming TCP packets at random".to_owned(),
        true,
    )
}

/// The TCP packets that came in to `ns`, and those of them the nftables
/// rule dropped.
fn counted(ns: &Netns) -> (u64, u64) {
    let out = ns
        .command("nft")
        .args(["list", "table", "inet", "gonet_loss"])
        .output()
        .expect("run nft");
    let text = String::from_utf8_lossy(&out.stdout);
    let counts: Vec<u64> = text
        .split("counter packets ")
        .skip(1)
        .map(|rest| rest.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 2, "two counters in {text}");
    (counts[0], counts[1])
}

#[test]
fn thirty_percent_packet_loss_loses_no_byte() {
    if !root_or_sandbox(module_path!(), "thirty_percent_packet_loss_loses_no_byte") {
        return;
    }
    const SIZE: usize = 1024 * 1024;
    let link = Link::new("loss");
    // 30% of what the client sends is lost on the way: its data, and its
    // acknowledgements of the echo, as `tc qdisc add dev vc root netem
    // loss 30%` would do. (Loss both ways makes a retransmission and its
    // acknowledgement both arrive only half the time, and TCP's backoff
    // then stretches a transfer to minutes.)
    // One packet per segment, as on a wire: without this the veth passes
    // TCP's 64 KiB offload packets, and a loss is a loss of 45 segments.
    link.client
        .ip(&["link", "set", "vc", "gso_max_size", "1500"]);
    let (how, countable) = lose_30_percent(&link.client, "vc", &link.server);
    println!("loss: {how}, client to server");
    let data: Vec<u8> = (0..SIZE as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let expected = data.clone();
    let (tx, rx) = mpsc::channel();
    let server = link.in_server(move || {
        let l = listen("tcp", &format!("{SERVER_IP}:0"));
        tx.send(local_addr(l)).unwrap();
        net_set_deadline(l, 60_000);
        let s = net_accept(l);
        assert!(s > 0, "{}", last_error());
        net_set_deadline(s, 150_000);
        // Echo everything back until the client half-closes.
        let mut buf = vec![0u8; 65536];
        loop {
            let n = read(s, &mut buf);
            assert!(n >= 0, "server read: {}", last_error());
            if n == 0 {
                break;
            }
            assert_eq!(write(s, &buf[..n as usize]), n, "{}", last_error());
        }
        for h in [s, l] {
            net_close(h);
        }
    });
    let addr = rx.recv().unwrap();
    let start = Instant::now();
    let client = link.in_client(move || {
        let c = dial_timeout(&addr, 30_000);
        assert!(c > 0, "{}", last_error());
        net_set_deadline(c, 150_000);
        let writer = {
            thread::spawn(move || {
                for chunk in data.chunks(4096) {
                    assert_eq!(write(c, chunk), chunk.len() as i64, "{}", last_error());
                }
                assert_eq!(net_close_write(c), 0);
            })
        };
        let mut got = Vec::with_capacity(SIZE);
        let mut buf = vec![0u8; 65536];
        loop {
            let n = read(c, &mut buf);
            assert!(n >= 0, "client read: {}", last_error());
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n as usize]);
        }
        writer.join().unwrap();
        net_close(c);
        got
    });
    let got = client.join().unwrap();
    server.join().unwrap();
    println!(
        "{SIZE} bytes there and back through 30% loss in {:?}",
        start.elapsed()
    );
    assert_eq!(got.len(), SIZE);
    assert!(got == expected, "the echoed bytes differ");
    if countable {
        let (all, dropped) = counted(&link.server);
        let share = dropped as f64 / all as f64;
        println!(
            "TCP packets to the server: {all}, dropped: {dropped} ({:.0}%)",
            share * 100.0
        );
        // A megabyte is over 700 segments of 1448 bytes; of that many,
        // 20% to 40% is over six standard deviations either side of 30%.
        assert!(all >= 700, "only {all} packets");
        assert!((0.20..=0.40).contains(&share), "{dropped} of {all} dropped");
    }
}
