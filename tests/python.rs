//! Runs the Python binding's tests (`python/tests`, standard `unittest`)
//! against the library this build produced; and their raw IP tests once
//! more where raw sockets open (as another user than root, where the full
//! run checked the permission error instead, in the sandbox).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn python_binding() {
    let lib = common::lib_dir().join("libgonet.so");
    assert!(lib.exists(), "{} was not built", lib.display());
    let started = Instant::now();
    let output = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "python/tests", "-v"])
        .current_dir(common::repo_dir())
        .env("GONET_LIBRARY", &lib)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs (is it installed?)");
    // unittest reports on stderr.
    println!("{}", String::from_utf8_lossy(&output.stdout));
    println!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the Python tests failed ({})",
        output.status
    );
    // With GONET_LIBRARY set every test applies; a skip here is a test
    // that silently stopped checking.
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(
        !report.contains("skipped"),
        "a Python test was skipped under cargo test"
    );
    assert!(
        started.elapsed() < Duration::from_secs(300),
        "the Python tests took {:?}",
        started.elapsed()
    );
}

/// The binding's raw IP tests (`test_iface.RawIPTest`) where this process
/// may open raw sockets: as root here, otherwise in the sandbox
/// (`root_or_sandbox`), so that their echoes over loopback run as any user.
#[test]
fn python_raw_ip_with_cap_net_raw() {
    if !common::root_or_sandbox(module_path!(), "python_raw_ip_with_cap_net_raw") {
        return;
    }
    let lib = common::lib_dir().join("libgonet.so");
    let output = Command::new("python3")
        .args([
            "-c",
            "import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, 1).close()",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "no raw sockets here: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = Command::new("python3")
        .args(["-m", "unittest", "-v", "test_iface.RawIPTest"])
        .current_dir(common::repo_dir().join("python/tests"))
        .env("GONET_LIBRARY", &lib)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&output.stderr);
    println!("{report}");
    assert!(output.status.success(), "the raw IP tests failed");
    assert!(!report.contains("skipped"), "a raw IP test was skipped");
    assert!(report.contains("\nOK"), "{report}");
}
