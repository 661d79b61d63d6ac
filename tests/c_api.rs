//! The ABI as C and C++ see it: a C program compiled against the generated
//! header and the shared library, and the committed header kept in step
//! with what the build generates.

mod common;
use common::*;
use std::process::Command;

/// Compiles `tests/c/{program}.c` and runs it; it must exit 0 and print
/// "ok".
fn run_program(program: &str, compiler: &str, extra: &[&str], name: &str) {
    let dir = scratch(name);
    let exe = dir.join(program);
    let src = repo_dir().join(format!("tests/c/{program}.c"));
    compile_c(compiler, &[&src], &exe, extra);
    let out = Command::new(&exe)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A death by a signal (SIGPIPE, SIGABRT) would show as no exit code.
    assert_eq!(out.status.code(), Some(0), "{program} failed: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
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
