//! The C echo examples in `examples-c/`, built with their Makefile against
//! this build's library, run against each other and against peers written
//! with Python's `socket` and `socketserver` modules.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Kills the child on drop unless it has exited.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The directory holding echo_server and echo_client, built once per run
/// with warnings as errors.
fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::scratch("examples-bin");
        common::make(
            &common::repo_dir().join("examples-c"),
            &[
                &format!("BUILDDIR={}", dir.display()),
                "CFLAGS=-O1 -g -Werror",
            ],
        );
        dir
    })
}

/// Waits for `child` at most `limit`; kills it and panics past that.
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Collects everything `r` yields on a thread of its own.
fn collect(mut r: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    thread::spawn(move || {
        let mut reader = BufReader::new(&mut r);
        let mut line = Vec::new();
        // Bounded by the child: its exit closes the pipe.
        while reader
            .read_until(b'\n', &mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&line));
            line.clear();
        }
    });
    text
}

/// A running echo_server, killed on drop if the test did not stop it.
struct Server {
    child: Child,
    addr: String,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(bin_dir().join("echo_server"))
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start echo_server");
        let out = collect(child.stdout.take().expect("stdout"));
        let err = collect(child.stderr.take().expect("stderr"));
        let start = Instant::now();
        let addr = loop {
            let text = out.lock().unwrap().clone();
            if let Some(rest) = text.strip_prefix("listening on ") {
                if let Some(end) = rest.find('\n') {
                    break rest[..end].to_owned();
                }
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("echo_server did not start: {text} {}", err.lock().unwrap());
            }
            thread::sleep(Duration::from_millis(10));
        };
        Server {
            child,
            addr,
            out,
            err,
        }
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill has no memory-safety preconditions; pid is our child,
        // not yet waited for.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    }

    /// Sends `sig` and checks the server exits 0 within 2 s.
    fn stop_with(mut self, sig: libc::c_int) -> String {
        let start = Instant::now();
        self.signal(sig);
        let status = wait_bounded(&mut self.child, Duration::from_secs(5), "echo_server");
        let took = start.elapsed();
        // Let the readers drain the closed pipes.
        thread::sleep(Duration::from_millis(50));
        let out = self.output();
        assert!(
            status.success(),
            "echo_server exited with {status}:\n{out}\n{}",
            self.err.lock().unwrap()
        );
        assert!(took < Duration::from_secs(2), "stopping took {took:?}");
        assert!(out.ends_with("server stopped\n"), "{out}");
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs echo_client on `addr` with `input`; returns its output once it
/// exits (within 30 s).
fn run_client(addr: &str, input: &[u8]) -> Output {
    let mut child = Command::new(bin_dir().join("echo_client"))
        .arg(addr)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start echo_client");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // The client may exit before reading it all (server gone): ignore EPIPE.
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = collect(child.stdout.take().expect("stdout"));
    let err = collect(child.stderr.take().expect("stderr"));
    let status = wait_bounded(&mut child, Duration::from_secs(30), "echo_client");
    writer.join().expect("stdin writer");
    thread::sleep(Duration::from_millis(50));
    let stdout = out.lock().unwrap().clone().into_bytes();
    let stderr = err.lock().unwrap().clone().into_bytes();
    Output {
        status,
        stdout,
        stderr,
    }
}

fn python(script: &str, name: &str) -> Command {
    let dir = common::scratch(name);
    let path = dir.join("peer.py");
    std::fs::write(&path, script).expect("write the python script");
    let mut cmd = Command::new("python3");
    cmd.arg(path);
    cmd
}

/// Lines that exercise the framing: empty, long, Unicode, CRLF.
fn tricky_lines() -> (String, String) {
    let long: String = (0..60 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let lines = [
        "hello, gonet",
        "",
        "second line",
        &long,
        "héllo wörld ✓ 日本語 🙂",
        "ends with CRLF\r",
        "  spaces  ",
        "bye",
    ];
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let expected: String = lines
        .iter()
        .map(|l| format!("{}\n", l.trim_end_matches(['\r', '\n'])))
        .collect();
    (input, expected)
}

#[test]
fn examples_compile_as_cxx_without_warnings() {
    let dir = common::scratch("examples-cxx");
    for name in ["echo_server", "echo_client", "ping"] {
        let src = common::repo_dir()
            .join("examples-c")
            .join(format!("{name}.c"));
        let out = Command::new("g++")
            .args(["-x", "c++", "-Wall", "-Wextra", "-Werror", "-pthread", "-I"])
            .arg(common::include_dir())
            .arg(&src)
            .arg("-x")
            .arg("none")
            .arg("-o")
            .arg(dir.join(name))
            .arg(format!("-L{}", common::lib_dir().display()))
            .arg("-lgonet")
            .output()
            .expect("run g++");
        assert!(
            out.status.success(),
            "g++ {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn client_and_server_echo_each_other() {
    let server = Server::start();
    let (input, expected) = tricky_lines();
    let out = run_client(&server.addr, input.as_bytes());
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");

    // The client has left; wait for the server to log it, then stop it.
    let start = Instant::now();
    while !server.output().contains(" left\n") && start.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(10));
    }
    let log = server.stop_with(libc::SIGINT);
    let messages: String = log
        .lines()
        .filter_map(|l| l.strip_prefix("GET MESSAGE: "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(messages, expected);
    assert!(log.contains("received SIGINT"), "{log}");
}

#[test]
fn client_with_empty_input_exits_zero() {
    let server = Server::start();
    let out = run_client(&server.addr, b"");
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    server.stop_with(libc::SIGTERM);
}

#[test]
fn make_run_shows_both_sides() {
    let dir = common::scratch("examples-run");
    let out = common::make(
        &common::repo_dir().join("examples-c"),
        &[&format!("BUILDDIR={}", dir.display()), "run"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("GET MESSAGE: hello, gonet\n"), "{text}");
    assert!(text.contains("\nhello, gonet\n"), "{text}");
    assert!(text.contains("exit status 0"), "{text}");
    assert!(text.contains("server stopped"), "{text}");
}

#[test]
fn static_build_echoes() {
    let dir = common::scratch("examples-static");
    common::make(
        &common::repo_dir().join("examples-c"),
        &[
            &format!("BUILDDIR={}", dir.display()),
            "STATIC=1",
            "CFLAGS=-O1 -Werror",
        ],
    );
    let dynamic = Command::new("readelf")
        .arg("-d")
        .arg(dir.join("echo_client"))
        .output()
        .expect("readelf");
    let dynamic = String::from_utf8_lossy(&dynamic.stdout);
    assert!(!dynamic.contains("libgonet"), "{dynamic}");

    let mut child = Reaped(
        Command::new(dir.join("echo_server"))
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the static echo_server"),
    );
    let mut first = String::new();
    BufReader::new(child.0.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .expect("read the address");
    let addr = first.trim().strip_prefix("listening on ").expect("address");
    let mut client = Reaped(
        Command::new(dir.join("echo_client"))
            .arg(addr)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run the static echo_client"),
    );
    client
        .0
        .stdin
        .take()
        .unwrap()
        .write_all(b"static\n")
        .unwrap();
    let status = wait_bounded(&mut client.0, Duration::from_secs(10), "echo_client");
    let mut echoed = String::new();
    client
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut echoed)
        .unwrap();
    drop(child);
    assert!(status.success());
    assert_eq!(echoed, "static\n");
}

const PY_CLIENTS: &str = r#"
import socket, sys, threading
host, port = sys.argv[1].rsplit(":", 1)
failures = []

def client(i):
    try:
        with socket.create_connection((host, int(port)), timeout=30) as s:
            f = s.makefile("rb")
            for j in range(100):
                line = f"client {i} line {j} " + "ü" * (j % 7) + "x" * (i * j % 300)
                s.sendall(line.encode() + b"\n")
                reply = f.readline()
                if reply != line.encode() + b"\n":
                    failures.append(f"client {i} line {j}: got {reply[:80]!r}")
                    return
    except Exception as e:
        failures.append(f"client {i}: {e!r}")

threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
for t in threads: t.start()
for t in threads: t.join(60)
if failures or any(t.is_alive() for t in threads):
    print("\n".join(failures[:10]) or "threads hung")
    sys.exit(1)
print("ok")
"#;

#[test]
fn fifty_python_clients_at_once() {
    let server = Server::start();
    let mut child = Reaped(
        python(PY_CLIENTS, "examples-py-clients")
            .arg(&server.addr)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start python3"),
    );
    let out = collect(child.0.stdout.take().unwrap());
    let err = collect(child.0.stderr.take().unwrap());
    let status = wait_bounded(&mut child.0, Duration::from_secs(90), "python clients");
    thread::sleep(Duration::from_millis(50));
    assert!(
        status.success(),
        "python clients: {}{}",
        out.lock().unwrap(),
        err.lock().unwrap()
    );
    assert_eq!(*out.lock().unwrap(), "ok\n");
    let log = server.stop_with(libc::SIGTERM);
    assert_eq!(log.matches("GET MESSAGE: ").count(), 50 * 100);
    assert_eq!(log.matches(" connected\n").count(), 50);
}

const PY_SERVER: &str = r#"
import socketserver, sys

class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)
            self.wfile.flush()

class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

with Server(("127.0.0.1", 0), Echo) as srv:
    print(f"127.0.0.1:{srv.server_address[1]}", flush=True)
    srv.serve_forever()
"#;

#[test]
fn client_against_python_socketserver() {
    let mut child = Reaped(
        python(PY_SERVER, "examples-py-server")
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3"),
    );
    let mut addr = String::new();
    // Bounded: python prints the address or exits, closing the pipe.
    BufReader::new(child.0.stdout.as_mut().unwrap())
        .read_line(&mut addr)
        .expect("read the python server's address");
    let addr = addr.trim().to_owned();
    let (input, expected) = tricky_lines();
    let out = run_client(&addr, input.as_bytes());
    drop(child);
    assert!(!addr.is_empty(), "the python server did not start");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
fn client_reports_connection_refused() {
    // A port nothing listens on: bind one, then let it go.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run_client(&format!("127.0.0.1:{port}"), b"hello\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        format!("echo_client: dial tcp 127.0.0.1:{port}: connect: connection refused\n")
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn client_reports_server_going_away() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    // A server that answers one line, then hangs up.
    let peer = thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        (&conn).write_all(line.as_bytes()).unwrap();
        line.clear();
        reader.read_line(&mut line).unwrap();
        conn.shutdown(Shutdown::Both).unwrap();
    });
    let out = run_client(&addr, b"one\ntwo\nthree\n");
    peer.join().unwrap();
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("echo_client: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn server_survives_rude_clients() {
    let server = Server::start();
    let addr = server.addr.clone();

    // Half a line, then gone.
    let mut half = TcpStream::connect(&addr).unwrap();
    half.write_all(b"half a li").unwrap();
    drop(half);
    // Connects, says nothing, leaves.
    drop(TcpStream::connect(&addr).unwrap());
    // A line, then a reset (SO_LINGER 0) without reading the reply.
    let reset = TcpStream::connect(&addr).unwrap();
    (&reset).write_all(b"then reset\n").unwrap();
    let reset = socket2::Socket::from(reset);
    reset.set_linger(Some(Duration::ZERO)).unwrap();
    drop(reset);
    // A reset while the server is blocked reading.
    let idle_reset = socket2::Socket::from(TcpStream::connect(&addr).unwrap());
    thread::sleep(Duration::from_millis(50));
    idle_reset.set_linger(Some(Duration::ZERO)).unwrap();
    drop(idle_reset);

    // The server still serves.
    let out = run_client(&addr, b"still here\n");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "still here\n");

    let start = Instant::now();
    while server.output().matches(" left").count() < 3 && start.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(10));
    }
    let log = server.stop_with(libc::SIGTERM);
    assert!(log.contains(" left mid-line (9 bytes dropped)\n"), "{log}");
    assert_eq!(log.matches(" connected\n").count(), 5, "{log}");
}

#[test]
fn server_stops_on_sigterm_with_clients_connected() {
    let server = Server::start();
    // One client mid-conversation and one that never sends: the server waits
    // its grace period, then closes them.
    let mut busy = TcpStream::connect(&server.addr).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    busy.write_all(b"ping\n").unwrap();
    let mut reply = [0u8; 5];
    busy.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"ping\n");
    let mut silent = TcpStream::connect(&server.addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let start = Instant::now();
    while server.output().matches(" connected\n").count() < 2
        && start.elapsed() < Duration::from_secs(5)
    {
        thread::sleep(Duration::from_millis(10));
    }

    let log = server.stop_with(libc::SIGTERM);
    assert!(log.contains("received SIGTERM"), "{log}");
    assert!(log.contains("closing 2 open connection(s)"), "{log}");
    // Both see end of stream (or a reset), not a hang.
    for conn in [&mut busy, &mut silent] {
        let mut buf = [0u8; 16];
        match conn.read(&mut buf) {
            Ok(n) => assert_eq!(n, 0),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        }
    }
}

/// Whether this process may open raw sockets, as ping needs.
fn may_open_raw_sockets() -> bool {
    // SAFETY: socket has no pointer arguments.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) };
    if fd < 0 {
        return false;
    }
    // SAFETY: fd was just opened here and is closed once.
    unsafe { libc::close(fd) };
    true
}

fn run_ping(wrapper: &[&str], args: &[&str]) -> Output {
    let ping = bin_dir().join("ping");
    let mut cmd = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut cmd = Command::new(program);
            cmd.args(rest).arg(&ping);
            cmd
        }
        None => Command::new(&ping),
    };
    let mut child = cmd
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ping");
    // Read to the end of each pipe on threads of their own, and joined
    // after the exit: a snapshot taken at the exit could miss the last
    // lines still in the pipe.
    let drain = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = r.read_to_end(&mut bytes);
            bytes
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let status = wait_bounded(&mut child, Duration::from_secs(20), "ping");
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// The lines ping prints, with the times taken out.
fn without_times(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| match (l.find(" time="), l.find(", time ")) {
            (Some(i), _) => l[..i].to_owned(),
            (_, Some(i)) => l[..i].to_owned(),
            _ if l.starts_with("rtt min/avg/max/mdev = ") => "rtt".to_owned(),
            _ => l.to_owned(),
        })
        .collect()
}

#[test]
fn ping_echoes_over_ipv4_and_ipv6_loopback() {
    if !may_open_raw_sockets() {
        let out = run_ping(&[], &["-c", "1", "127.0.0.1"]);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "ping: dial ip4:icmp 127.0.0.1: socket: operation not permitted\n"
        );
        // The echoes themselves in the sandbox, where raw sockets open.
        if !common::root_or_sandbox(module_path!(), "ping_echoes_over_ipv4_and_ipv6_loopback") {
            return;
        }
    }
    for (host, header) in [("127.0.0.1", 20), ("::1", 40)] {
        let out = run_ping(&[], &["-c", "3", "-i", "0.1", "-W", "2", host]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expect: Vec<String> = vec![
            format!("PING {host} ({host}) 56({}) data bytes", 64 + header),
            format!("64 bytes from {host}: icmp_seq=1"),
            format!("64 bytes from {host}: icmp_seq=2"),
            format!("64 bytes from {host}: icmp_seq=3"),
            String::new(),
            format!("--- {host} ping statistics ---"),
            "3 packets transmitted, 3 received, 0% packet loss".to_owned(),
            "rtt".to_owned(),
        ];
        assert_eq!(without_times(&stdout), expect, "{stdout}");
        // The times are numbers, as ping prints them.
        for line in stdout.lines().filter(|l| l.contains(" time=")) {
            let ms = line.rsplit_once(" time=").unwrap().1;
            let ms = ms.strip_suffix(" ms").expect("ms");
            assert!(ms.parse::<f64>().unwrap() >= 0.0, "{line}");
        }
        let rtt = stdout.lines().find(|l| l.starts_with("rtt")).unwrap();
        let values = rtt["rtt min/avg/max/mdev = ".len()..]
            .strip_suffix(" ms")
            .unwrap();
        let values: Vec<f64> = values.split('/').map(|v| v.parse().unwrap()).collect();
        assert_eq!(values.len(), 4, "{rtt}");
        assert!(values[0] <= values[1] && values[1] <= values[2], "{rtt}");
    }
}

/// In a network namespace of its own whose loopback ignores echo
/// requests, every reply's deadline passes, and ping says so.
#[test]
fn ping_reports_each_missing_reply_after_its_deadline() {
    if !common::root_or_sandbox(
        module_path!(),
        "ping_reports_each_missing_reply_after_its_deadline",
    ) {
        return;
    }
    let script = "ip link set lo up && echo 1 > /proc/sys/net/ipv4/icmp_echo_ignore_all && exec \"$0\" \"$@\"";
    let ping = bin_dir().join("ping");
    let started = Instant::now();
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", script])
        .arg(&ping)
        .args(["-c", "2", "-i", "0.1", "-W", "0.3", "127.0.0.1"])
        .output()
        .expect("run unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert_eq!(
        without_times(&stdout),
        vec![
            "PING 127.0.0.1 (127.0.0.1) 56(84) data bytes",
            "no reply for icmp_seq=1 within 0.3 s",
            "no reply for icmp_seq=2 within 0.3 s",
            "",
            "--- 127.0.0.1 ping statistics ---",
            "2 packets transmitted, 0 received, 100% packet loss",
        ]
    );
}

/// Socket activation: systemd-socket-activate (systemd's tool for running
/// a service as systemd would) listens, and on the first connection starts
/// echo_server with the listener as descriptor 3 and LISTEN_FDS and
/// LISTEN_PID set; the server adopts it (net_file_listener) instead of
/// listening itself, and serves that first connection and later ones.
#[test]
fn echo_server_serves_a_socket_activated_listener() {
    // A free loopback port for the activator to listen on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new("systemd-socket-activate")
        .args(["-l", &addr])
        .arg(bin_dir().join("echo_server"))
        .arg("127.0.0.1:1") // ignored under activation
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run systemd-socket-activate (Debian's systemd package)");
    let out = collect(child.stdout.take().expect("stdout"));
    let err = collect(child.stderr.take().expect("stderr"));
    let start = Instant::now();
    let first = loop {
        match TcpStream::connect(&addr) {
            Ok(s) => break s,
            Err(e) if start.elapsed() > Duration::from_secs(10) => {
                let _ = child.kill();
                panic!(
                    "the activator never listened on {addr}: {e}; {}",
                    err.lock().unwrap()
                );
            }
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    };
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut lines = Vec::new();
    for i in 0..3 {
        let mut conn = if i == 0 {
            first.try_clone().unwrap()
        } else {
            let c = TcpStream::connect(&addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            c
        };
        let msg = format!("activated {i}\n");
        conn.write_all(msg.as_bytes()).unwrap();
        let mut reader = BufReader::new(conn);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, msg, "stderr: {}", err.lock().unwrap());
        lines.push(line);
    }
    drop(first);
    // The activator exec'd the server: its pid is the server's.
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill has no memory-safety preconditions; pid is our child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = wait_bounded(&mut child, Duration::from_secs(5), "echo_server");
    thread::sleep(Duration::from_millis(50));
    let text = out.lock().unwrap().clone();
    assert!(
        status.success(),
        "{status}: {text}\n{}",
        err.lock().unwrap()
    );
    assert!(
        text.starts_with(&format!("listening on {addr}\n")),
        "the server listened itself instead: {text}"
    );
    assert!(text.contains("GET MESSAGE: activated 2"), "{text}");
}
