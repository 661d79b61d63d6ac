//! The test helpers for running without root (tests/common/netns.rs): a
//! test that cannot run says so, or fails where every test must run (CI);
//! and the namespace and raw socket tests pass as a user without
//! privileges, through the sandbox, even when the suite itself runs as
//! root (as CI does), so that path is checked there too.

use crate::common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
#[ignore = "run by did_not_run_says_so_or_fails_where_all_tests_are_required"]
fn child_that_cannot_run() {
    did_not_run("child_that_cannot_run", "a reason given by the test");
}

#[test]
fn did_not_run_says_so_or_fails_where_all_tests_are_required() {
    let name = test_name(module_path!(), "child_that_cannot_run");
    let mut cmd = test_child(&[], &name, true);
    let out = cmd
        .env_remove(REQUIRE_ALL_TESTS)
        .output()
        .expect("run child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("NOT RUN: child_that_cannot_run: a reason given by the test"),
        "{stderr}"
    );
    let mut cmd = test_child(&[], &name, true);
    let out = cmd.env(REQUIRE_ALL_TESTS, "1").output().expect("run child");
    // The panic's message (on stderr: the child runs with --nocapture).
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("NOT RUN: child_that_cannot_run: a reason given by the test")
            && stderr.contains("GONET_REQUIRE_ALL_TESTS is set"),
        "{stderr}"
    );
}

/// A copy of this test binary that any user may run: the build tree may
/// lie under a home directory others cannot enter. Removed on drop.
struct SharedCopy(std::path::PathBuf);

impl SharedCopy {
    fn new() -> SharedCopy {
        let dir = std::env::temp_dir().join(format!("gonet-sandbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("a directory in the temp dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let exe = dir.join("api");
        std::fs::copy(std::env::current_exe().unwrap(), &exe).expect("copy the test binary");
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        SharedCopy(dir)
    }
}

impl Drop for SharedCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn namespace_and_raw_socket_tests_pass_without_privileges() {
    // SAFETY: geteuid has no arguments and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let copy = SharedCopy::new();
    for test in [
        "interfaces::interfaces_match_a_namespace_the_test_made",
        "rawip::dialed_ip_handles_echo_over_loopback",
    ] {
        // As root: as user nobody, without capabilities (a uid change
        // drops them); as another user: as this one.
        let mut cmd = if root {
            let mut cmd = Command::new("setpriv");
            cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
            cmd.arg(copy.0.join("api"));
            cmd
        } else {
            Command::new(copy.0.join("api"))
        };
        cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
            .current_dir(&copy.0);
        let out = cmd.output().expect("run the test binary");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("test result: ok. 1 passed"),
            "{test} without privileges:\n{stdout}\n{stderr}"
        );
        if stderr.contains("NOT RUN:") {
            // The sandbox is not available: said, and fatal in CI.
            did_not_run(
                &test_name(
                    module_path!(),
                    "namespace_and_raw_socket_tests_pass_without_privileges",
                ),
                &format!("{test} did not run without privileges: {stderr}"),
            );
            return;
        }
        // It went through the sandbox: the inner run's verdict is there.
        assert!(
            stdout.matches("test result: ok. 1 passed").count() >= 2,
            "{test} did not run in the sandbox:\n{stdout}"
        );
        println!("{test} without privileges:\n{stdout}");
    }
}
