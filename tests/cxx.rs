//! The C++ header, `include/gonet.hpp`: `tests/c/cxx_test.cpp` built with
//! g++ and clang++ at `-std=c++17 -Wall -Wextra -Werror -pedantic` (and
//! the conversion and shadowing warnings), run plain and under
//! AddressSanitizer with UBSan; and the C++ echo examples in `examples-c/`,
//! built by its Makefile, talking to the C ones.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const STRICT: &[&str] = &[
    "-std=c++17",
    "-pedantic",
    "-Wconversion",
    "-Wsign-conversion",
    "-Wshadow",
    "-pthread",
];
const SANITIZE: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
];

/// Waits for `child` at most 60 s, then kills it and panics.
fn finish(mut child: Child, what: &str) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("collect output")
}

fn run(program: &Path, args: &[&str]) -> Output {
    let child = Command::new(program)
        .args(args)
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=0:exitcode=98",
        )
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the test program");
    finish(child, &program.display().to_string())
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn build_and_run(compiler: &str, sanitized: bool) {
    let tag = format!("{compiler}{}", if sanitized { "-san" } else { "" });
    let dir = common::scratch(&format!("cxx-{tag}"));
    let exe = dir.join("cxx_test");
    let src = common::repo_dir().join("tests/c/cxx_test.cpp");
    let mut extra: Vec<&str> = STRICT.to_vec();
    if sanitized {
        extra.extend_from_slice(SANITIZE);
    }
    common::compile_c(compiler, &[&src], &exe, &extra);
    let out = run(&exe, &[]);
    assert!(
        out.status.success() && out.stdout == b"ok\n",
        "{tag}: {}",
        text(&out)
    );
    if sanitized {
        // The checkers are on: each deliberate fault is caught.
        let out = run(&exe, &["canary", "overflow"]);
        assert!(
            text(&out).contains("heap-buffer-overflow"),
            "{tag}: ASan missed the canary: {}",
            text(&out)
        );
        let out = run(&exe, &["canary", "ub"]);
        assert!(
            !out.status.success() && text(&out).contains("signed integer overflow"),
            "{tag}: UBSan missed the canary: {}",
            text(&out)
        );
    }
}

#[test]
fn gxx_builds_the_header_strictly_and_its_test_passes() {
    build_and_run("g++", false);
}

#[test]
fn clangxx_builds_the_header_strictly_and_its_test_passes() {
    build_and_run("clang++", false);
}

#[test]
fn gxx_sanitized() {
    build_and_run("g++", true);
}

#[test]
fn clangxx_sanitized() {
    build_and_run("clang++", true);
}

/// A running echo server, killed on drop unless it exited.
struct Server(Option<Child>, String);

impl Server {
    fn start(program: &Path) -> Server {
        let mut child = Command::new(program)
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        // The first line says where it listens; a server that fails
        // closes stdout, which ends the read.
        out.read_line(&mut line)
            .expect("read the server's first line");
        let addr = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("server said {line:?}"))
            .trim_end()
            .to_owned();
        child.stdout = Some(out.into_inner());
        Server(Some(child), addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn client(program: &Path, addr: &str, input: &str) -> Output {
    let mut child = Command::new(program)
        .arg(addr)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write the client's input");
    finish(child, "client")
}

#[test]
fn cxx_examples_talk_to_the_c_ones() {
    let bin = common::scratch("cxx-examples");
    common::make(
        &common::repo_dir().join("examples-c"),
        &[
            &format!("BUILDDIR={}", bin.display()),
            "CFLAGS=-O1 -g -Wall -Wextra -Werror",
            "CXXFLAGS=-O1 -g -std=c++17 -Wall -Wextra -Werror -pedantic",
        ],
    );
    let lines = "hello\nhéllo wörld ✓\n\nbye\n";
    for (server, client_prog) in [
        ("echo_server_cxx", "echo_client"),
        ("echo_server", "echo_client_cxx"),
        ("echo_server_cxx", "echo_client_cxx"),
    ] {
        let mut srv = Server::start(&bin.join(server));
        let out = client(&bin.join(client_prog), &srv.1, lines);
        assert!(out.status.success(), "{client_prog}: {}", text(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), lines);

        // A client left connected: SIGTERM closes the listener, the grace
        // period passes, the server closes it and exits 0.
        let mut idle = Command::new(bin.join(client_prog))
            .arg(&srv.1)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the idle client");
        idle.stdin
            .as_mut()
            .expect("stdin")
            .write_all(b"ping\n")
            .expect("write");
        let mut reply = String::new();
        BufReader::new(idle.stdout.as_mut().expect("stdout"))
            .read_line(&mut reply)
            .expect("read the reply");
        assert_eq!(reply, "ping\n");
        let child = srv.0.take().expect("server");
        // SAFETY: kill(2) on our own child's pid, which has not been reaped.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        let out = finish(child, server);
        let log = text(&out);
        assert!(out.status.success(), "{server}: {log}");
        assert!(log.contains("GET MESSAGE: héllo wörld ✓\n"), "{log}");
        assert!(log.contains("received SIGTERM, shutting down\n"), "{log}");
        assert!(log.contains("closing 1 open connection(s)\n"), "{log}");
        assert!(log.ends_with("server stopped\n"), "{log}");
        // Its next line finds the connection closed.
        let mut stdin = idle.stdin.take().expect("stdin");
        let _ = stdin.write_all(b"again\n");
        drop(stdin);
        let out = finish(idle, "idle client");
        assert!(
            !out.status.success(),
            "the server closed it: {}",
            text(&out)
        );
    }
}
