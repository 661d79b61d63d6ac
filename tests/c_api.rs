//! The ABI as C and C++ see it: a C program compiled against the generated
//! header and the shared library, and the committed header kept in step
//! with what the build generates.

mod common;
use common::*;
use std::process::Command;

fn run_program(compiler: &str, extra: &[&str], name: &str) {
    let dir = scratch(name);
    let exe = dir.join("api_test");
    let src = repo_dir().join("tests/c/api_test.c");
    compile_c(compiler, &[&src], &exe, extra);
    let out = Command::new(&exe).output().expect("run api_test");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A death by SIGPIPE would show as no exit code.
    assert_eq!(out.status.code(), Some(0), "api_test failed: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
}

#[test]
fn c_program_uses_the_abi() {
    run_program("cc", &["-std=c11"], "c_api_c");
}

#[test]
fn the_header_compiles_as_cpp() {
    run_program("c++", &["-x", "c++", "-std=c++17"], "c_api_cpp");
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
