//! Runs the Python binding's tests (`python/tests`, standard `unittest`)
//! against the library this build produced.

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
