//! The ABI as C and C++ see it: a C program compiled against the generated
//! header and the shared library, and the committed header kept in step
//! with what the build generates.

mod common;
use common::*;
use std::process::Command;

/// Compiles `tests/c/{program}.c` and runs it once per environment in
/// `envs`; each run must exit 0 and print "ok".
fn run_program_with(
    program: &str,
    compiler: &str,
    extra: &[&str],
    name: &str,
    envs: &[&[(&str, &str)]],
) {
    let dir = scratch(name);
    let exe = dir.join(program);
    let src = repo_dir().join(format!("tests/c/{program}.c"));
    compile_c(compiler, &[&src], &exe, extra);
    for env in envs {
        let out = Command::new(&exe)
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        // A death by a signal (SIGPIPE, SIGABRT) would show as no exit code.
        assert_eq!(
            out.status.code(),
            Some(0),
            "{program} {env:?} failed: {stderr}"
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    }
}

fn run_program(program: &str, compiler: &str, extra: &[&str], name: &str) {
    run_program_with(program, compiler, extra, name, &[&[]]);
}

#[test]
fn c_program_uses_the_abi() {
    run_program("api_test", "cc", &["-std=c11"], "c_api_c");
}

#[test]
fn the_header_compiles_as_cpp() {
    run_program("api_test", "c++", &["-x", "c++", "-std=c++17"], "c_api_cpp");
}

/// A thread cancelled with pthread_cancel while inside a call (blocked in
/// a read, write or accept, or dialing and closing with a cancel pending)
/// leaves the process running: the call ends as it would have, and the
/// cancel acts after it (tests/c/cancel_test.c).
#[test]
fn pthread_cancel_waits_for_the_call_to_end() {
    run_program("cancel_test", "cc", &["-std=c11"], "c_api_cancel");
}

/// Writing to a peer that has gone, with net_write, net_sendfile and
/// net_copy (whose splice has no MSG_NOSIGNAL), fails with NET_EPIPE or
/// NET_ERESET and never raises SIGPIPE, whose default action would end the
/// program (tests/c/sigpipe_test.c).
#[test]
fn writes_to_a_gone_peer_never_raise_sigpipe() {
    run_program("sigpipe_test", "cc", &["-std=c11"], "c_api_sigpipe");
}

/// A server that forks a child per connection, the child closing its copy
/// of the listener, keeps listening (TCP and Unix, whose socket file
/// stays); a child's close still wakes its own thread blocked in accept,
/// with the wake signal and without (tests/c/fork_test.c).
#[test]
fn a_forked_child_closes_only_its_copy() {
    run_program_with(
        "fork_test",
        "cc",
        &["-std=c11"],
        "c_api_fork",
        &[&[], &[("GONET_WAKE_SIGNAL", "0")]],
    );
}

/// A prefork server: the master listens, forks 3 workers and closes its
/// copy of the listener; the workers serve all 30 connections made after
/// (TCP over IPv4 and IPv6), with the wake signal and without
/// (tests/c/prefork_test.c).
#[test]
fn prefork_workers_keep_accepting_after_the_master_closes() {
    run_program_with(
        "prefork_test",
        "cc",
        &["-std=c11"],
        "c_api_prefork",
        &[&[], &[("GONET_WAKE_SIGNAL", "0")]],
    );
}

/// The header in `include/` is committed; it must be what the current
/// source generates. build.rs writes the generated text to OUT_DIR and
/// rewrites `include/gonet.h`, so the committed version is read from git.
#[test]
fn committed_header_matches_the_generated_one() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/gonet.h"));
    let on_disk = std::fs::read_to_string(include_dir().join("gonet.h")).unwrap();
    assert_eq!(on_disk, generated, "include/gonet.h differs from the build");
    let committed = Command::new("git")
        .args(["show", ":include/gonet.h"])
        .current_dir(repo_dir())
        .output()
        .expect("git is needed to compare the committed header");
    assert!(
        committed.status.success(),
        "include/gonet.h is not in git: {}",
        String::from_utf8_lossy(&committed.stderr)
    );
    assert!(
        String::from_utf8_lossy(&committed.stdout) == generated,
        "include/gonet.h changed: the committed header is stale; commit the regenerated one"
    );
}
