//! The C side under checkers: the C API test and the echo examples run
//! clean under AddressSanitizer with UBSan and under valgrind's memcheck
//! (no errors, no bytes definitely lost), and a race test of
//! close-during-read and concurrent writers runs clean under
//! ThreadSanitizer.
//!
//! libgonet itself is Rust and is not instrumented: ASan and TSan check the
//! C programs and what crosses the interface (buffers gonet reads and
//! writes, descriptors, threads); valgrind checks everything, library
//! included. A canary with a deliberate fault per checker shows that each
//! checker is really on.

mod common;
use common::*;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const ASAN_FLAGS: &[&str] = &["-fsanitize=address,undefined", "-fno-omit-frame-pointer"];
const VALGRIND: &[&str] = &[
    "--error-exitcode=99",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite",
];

fn asan_env(cmd: &mut Command) -> &mut Command {
    cmd.env(
        "ASAN_OPTIONS",
        "detect_leaks=1:abort_on_error=0:exitcode=98",
    )
    .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
}

fn tsan_env(cmd: &mut Command) -> &mut Command {
    let supp = repo_dir().join("tests/c/tsan.supp");
    cmd.env(
        "TSAN_OPTIONS",
        format!(
            "suppressions={}:halt_on_error=1:exitcode=66:report_signal_unsafe=1",
            supp.display()
        ),
    )
}

fn c_source(name: &str) -> PathBuf {
    repo_dir().join("tests/c").join(name)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd` and fails unless it exits 0 and prints "ok".
fn expect_ok(what: &str, cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{what} failed:\n{all}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok\n",
        "{what}:\n{all}"
    );
    all
}

/// Asserts valgrind's leak summary shows nothing definitely lost.
fn assert_no_definite_leak(what: &str, log: &str) {
    let clean = log.contains("All heap blocks were freed")
        || log.contains("definitely lost: 0 bytes in 0 blocks");
    assert!(clean, "{what}: leak summary not clean:\n{log}");
    assert!(
        log.contains("ERROR SUMMARY: 0 errors"),
        "{what}: valgrind errors:\n{log}"
    );
}

#[test]
fn each_checker_catches_its_canary() {
    let dir = scratch("san_canary");
    let src = c_source("canary.c");
    let asan = dir.join("canary_asan");
    compile_c("cc", &[&src], &asan, ASAN_FLAGS);
    for fault in ["overflow", "leak"] {
        let out = asan_env(&mut Command::new(&asan))
            .arg(fault)
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0), "ASan missed the {fault}");
        let all = text(&out);
        // The overflow may be caught first by UBSan's object-size check.
        assert!(
            all.contains("ERROR: AddressSanitizer")
                || all.contains("ERROR: LeakSanitizer")
                || all.contains("runtime error"),
            "{all}"
        );
    }
    let tsan = dir.join("canary_tsan");
    compile_c("cc", &[&src], &tsan, &["-fsanitize=thread"]);
    let out = tsan_env(&mut Command::new(&tsan))
        .arg("race")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66), "TSan missed the race");
    assert!(text(&out).contains("ThreadSanitizer: data race"));
    let plain = dir.join("canary");
    compile_c("cc", &[&src], &plain, &[]);
    for fault in ["overflow", "leak"] {
        let out = Command::new("valgrind")
            .args(VALGRIND)
            .arg(&plain)
            .arg(fault)
            .output()
            .expect("run valgrind");
        assert_eq!(out.status.code(), Some(99), "valgrind missed the {fault}");
    }
}

#[test]
fn api_test_is_clean_under_asan_and_ubsan() {
    let dir = scratch("san_api_asan");
    let exe = dir.join("api_test");
    compile_c("cc", &[&c_source("api_test.c")], &exe, ASAN_FLAGS);
    let all = expect_ok("api_test (ASan+UBSan)", asan_env(&mut Command::new(&exe)));
    assert!(!all.contains("runtime error"), "{all}");
}

#[test]
fn api_test_is_clean_under_valgrind() {
    let dir = scratch("san_api_valgrind");
    let exe = dir.join("api_test");
    compile_c("cc", &[&c_source("api_test.c")], &exe, &[]);
    let log = expect_ok(
        "api_test (valgrind)",
        Command::new("valgrind").args(VALGRIND).arg(&exe),
    );
    assert_no_definite_leak("api_test", &log);
}

#[test]
fn race_test_is_clean_under_tsan() {
    let dir = scratch("san_race_tsan");
    let exe = dir.join("race_test");
    compile_c(
        "cc",
        &[&c_source("race_test.c")],
        &exe,
        &["-fsanitize=thread"],
    );
    let all = expect_ok(
        "race_test (TSan)",
        tsan_env(&mut Command::new(&exe)).arg("100"),
    );
    assert!(!all.contains("WARNING: ThreadSanitizer"), "{all}");
}

#[test]
fn race_test_is_clean_under_asan_and_valgrind() {
    let dir = scratch("san_race_other");
    let asan = dir.join("race_test_asan");
    compile_c("cc", &[&c_source("race_test.c")], &asan, ASAN_FLAGS);
    expect_ok(
        "race_test (ASan+UBSan)",
        asan_env(&mut Command::new(&asan)).arg("100"),
    );
    let plain = dir.join("race_test");
    compile_c("cc", &[&c_source("race_test.c")], &plain, &[]);
    let log = expect_ok(
        "race_test (valgrind)",
        Command::new("valgrind")
            .args(VALGRIND)
            .arg(&plain)
            .arg("20"),
    );
    assert_no_definite_leak("race_test", &log);
}

#[test]
fn examples_are_clean_under_asan_and_ubsan() {
    let san = ASAN_FLAGS.join(" ");
    let dir = build_examples(
        "san_examples_asan",
        &[&format!("CFLAGS=-O1 -g {san}"), &format!("LDFLAGS={san}")],
    );
    let out = asan_env(&mut Command::new("sh"))
        .arg(repo_dir().join("examples-c/demo.sh"))
        .arg(&dir)
        .output()
        .expect("run demo.sh");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "demo failed:\n{all}");
    assert!(all.contains("GET MESSAGE: bye"), "{all}");
    assert!(all.contains("server stopped"), "{all}");
    assert!(
        !all.contains("ERROR: ") && !all.contains("runtime error"),
        "{all}"
    );
}

#[test]
fn examples_are_clean_under_valgrind() {
    let dir = build_examples("san_examples_valgrind", &["CFLAGS=-O1 -g", "LDFLAGS="]);
    let (out_log, vg_log) = (dir.join("server.out"), dir.join("server.valgrind"));
    let mut server = Command::new("valgrind")
        .args(VALGRIND)
        .arg(format!("--log-file={}", vg_log.display()))
        .arg(dir.join("echo_server"))
        .arg("127.0.0.1:0")
        .stdout(std::fs::File::create(&out_log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("run valgrind");
    let addr = wait_for_line(&out_log, "listening on ", Duration::from_secs(30))
        .expect("the server says where it listens");

    let mut client = Command::new("valgrind")
        .args(VALGRIND)
        .arg(dir.join("echo_client"))
        .arg(&addr)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run valgrind");
    client
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello\nunder valgrind\n")
        .unwrap();
    let out = client.wait_with_output().unwrap();
    let client_text = text(&out);
    assert_eq!(out.status.code(), Some(0), "client:\n{client_text}");
    assert!(client_text.contains("under valgrind"), "{client_text}");
    assert_no_definite_leak("echo_client", &client_text);

    // valgrind runs the server in its own process: SIGTERM reaches it.
    // SAFETY: kill of our own child's pid.
    assert_eq!(unsafe { libc::kill(server.id() as i32, libc::SIGTERM) }, 0);
    let until = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            let _ = server.kill();
            let _ = server.wait();
            panic!("the server did not stop under valgrind");
        }
        thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(&vg_log).unwrap();
    assert_eq!(status.code(), Some(0), "server:\n{log}");
    assert_no_definite_leak("echo_server", &log);
    assert!(
        std::fs::read_to_string(&out_log)
            .unwrap()
            .contains("GET MESSAGE: under valgrind")
    );
}
