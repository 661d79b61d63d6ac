//! Datagrams between gonet and another implementation: Python's `socket`
//! module as the peer, on both sides, over UDP (IPv4 and IPv6) and Unix
//! datagram sockets. Every Python peer kills itself after 20 s (SIGALRM)
//! and gives up on a silent socket after 10 s, so no test can hang.

use crate::common::*;
use gonet::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Sizes every exchange covers: empty, small, and the largest IPv4 UDP
/// datagram.
const SIZES: [usize; 4] = [0, 5, 1400, 65_507];

fn payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 + 3) as u8).collect()
}

/// An echo peer: binds, prints its address, then returns each datagram
/// reversed to its sender.
const PY_ECHO: &str = r#"
import signal, socket, sys
signal.alarm(20)
family, bind_to, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
if family == "unix":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(bind_to)
    print(bind_to, flush=True)
else:
    s = socket.socket(socket.AF_INET6 if family == "6" else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind_to, 0))
    print(s.getsockname()[1], flush=True)
s.settimeout(10)
for _ in range(count):
    data, peer = s.recvfrom(70000)
    s.sendto(data[::-1], peer)
print("done", flush=True)
"#;

/// A client peer: sends each size to gonet, checks the reply (the payload
/// reversed, from gonet's address), then reports.
const PY_CLIENT: &str = r#"
import signal, socket, sys
signal.alarm(20)
family, server, sizes = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
if family == "unix":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sys.argv[4])
    print(sys.argv[4], flush=True)
    dest = server
else:
    host, port = server.rsplit(":", 1)
    fam = socket.AF_INET6 if family == "6" else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host.strip("[]"), 0))
    print(s.getsockname()[1], flush=True)
    dest = (host.strip("[]"), int(port))
s.settimeout(10)
for n in sizes:
    data = bytes((i * 7 + 3) % 256 for i in range(n))
    s.sendto(data, dest)
    reply, peer = s.recvfrom(70000)
    assert reply == data[::-1], "reply of %d bytes is wrong" % n
    peer = peer if family == "unix" else peer[:2]
    assert peer == dest, "reply from %r, not %r" % (peer, dest)
print("ok", flush=True)
"#;

struct Peer {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Peer {
    fn spawn(script: &str, args: &[&str]) -> Peer {
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed for the interop tests");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Peer { child, stdout }
    }

    /// The next line the peer prints; its alarm bounds the wait.
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim_end().to_owned()
    }

    fn finish(mut self, last_line: &str) {
        assert_eq!(self.line(), last_line);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "python peer failed: {status}");
    }
}

/// gonet's side of a Python client exchange: echo each datagram reversed.
fn echo(h: i64, count: usize, expected_from: &str) {
    assert_eq!(net_set_read_deadline(h, 10_000), 0);
    let mut buf = vec![0u8; 70_000];
    for &size in &SIZES[..count] {
        let (n, from) = read_from(h, &mut buf);
        assert_eq!(n, size as i64, "{}", last_error());
        assert!(buf[..size] == payload(size)[..]);
        assert_eq!(from, expected_from);
        let reply: Vec<u8> = buf[..size].iter().rev().copied().collect();
        assert_eq!(write_to(h, &reply, &from), size as i64, "{}", last_error());
    }
}

fn sizes_arg(count: usize) -> String {
    SIZES[..count]
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn python_client_gonet_server_over_udp() {
    for (family, host, net) in [("4", "127.0.0.1", "udp4"), ("6", "[::1]", "udp6")] {
        let h = listen_packet(net, &format!("{host}:0"));
        let server = local_addr(h);
        let mut peer = Peer::spawn(PY_CLIENT, &[family, &server, &sizes_arg(SIZES.len())]);
        let port = peer.line();
        echo(h, SIZES.len(), &format!("{host}:{port}"));
        peer.finish("ok");
        net_close(h);
    }
}

#[test]
fn gonet_client_python_server_over_udp() {
    for (family, host) in [("4", "127.0.0.1"), ("6", "::1")] {
        let mut peer = Peer::spawn(PY_ECHO, &[family, host, &SIZES.len().to_string()]);
        let port = peer.line();
        let c = dial("udp", &join_host_port(host, &port));
        assert_eq!(net_set_read_deadline(c, 10_000), 0);
        let mut buf = vec![0u8; 70_000];
        for size in SIZES {
            let data = payload(size);
            assert_eq!(write(c, &data), size as i64, "{}", last_error());
            let n = read(c, &mut buf);
            assert_eq!(n, size as i64, "{}", last_error());
            assert!(buf[..size].iter().rev().eq(data.iter()));
        }
        peer.finish("done");
        net_close(c);
    }
}

fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[test]
fn python_and_gonet_over_unix_datagrams() {
    let dir = scratch("datagram_interop_unix");
    let gonet_path = dir.join("gonet.sock");
    let py_path = dir.join("python.sock");
    let (gp, pp) = (gonet_path.to_str().unwrap(), py_path.to_str().unwrap());
    let h = listen_packet("unixgram", gp);

    // Python as the client.
    let mut peer = Peer::spawn(PY_CLIENT, &["unix", gp, &sizes_arg(3), pp]);
    assert_eq!(peer.line(), pp);
    echo(h, 3, pp);
    peer.finish("ok");
    std::fs::remove_file(&py_path).unwrap();

    // Python as the server: gonet sends from its bound path and reads the
    // replies with their sender.
    let mut peer = Peer::spawn(PY_ECHO, &["unix", pp, "3"]);
    assert_eq!(peer.line(), pp);
    let mut buf = vec![0u8; 70_000];
    for &size in &SIZES[..3] {
        let data = payload(size);
        assert_eq!(write_to(h, &data, pp), size as i64, "{}", last_error());
        let (n, from) = read_from(h, &mut buf);
        assert_eq!(n, size as i64, "{}", last_error());
        assert_eq!(from, pp);
        assert!(buf[..size].iter().rev().eq(data.iter()));
    }
    peer.finish("done");
    net_close(h);
}
