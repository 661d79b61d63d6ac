//! The Python package as a user installs it: `pip wheel` builds it from a
//! copy of the sources (cargo included), the wheel goes into a fresh venv
//! with nothing else, and the Python tests run from outside the repository
//! against that installed package: no PYTHONPATH, no GONET_LIBRARY.
//!
//! The build runs without pip's build isolation, with the setuptools,
//! setuptools-rust and wheel that `.ci/run` installs, so that the test
//! itself downloads nothing; the install uses `--no-index`, which shows the
//! wheel needs nothing from PyPI at run time.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// What the sdist holds (MANIFEST.in) and the build reads.
const SOURCES: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "build.rs",
    "cbindgen.toml",
    "README.md",
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "src",
    "include",
    "python/gonet",
];

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("make a directory");
        for entry in std::fs::read_dir(from).expect("read a source directory") {
            let entry = entry.expect("a directory entry");
            let name = entry.file_name();
            if name == "__pycache__" {
                continue;
            }
            copy_tree(&entry.path(), &to.join(name));
        }
    } else {
        std::fs::create_dir_all(to.parent().expect("a file's parent")).expect("make a directory");
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

fn run(what: &str, cmd: &mut Command) -> Output {
    // Nothing from the caller's environment may point Python at the
    // source tree or at a library outside the package.
    cmd.env_remove("PYTHONPATH")
        .env_remove("GONET_LIBRARY")
        .env_remove("CARGO_TARGET_DIR")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

#[test]
fn wheel_installs_into_a_fresh_venv_and_passes_the_tests() {
    let started = Instant::now();
    let repo = common::repo_dir();
    let scratch = common::scratch("python_wheel");

    // A source tree with only what the sdist carries: no build/ or
    // egg-info left over from an earlier in-tree build can leak in.
    let tree = scratch.join("source");
    for item in SOURCES {
        copy_tree(&repo.join(item), &tree.join(item));
    }
    // Cargo's output stays out of scratch (which is emptied each run) but
    // apart from the test's own profile directory, which this cargo holds.
    let cargo_target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("python_wheel_cargo");
    let wheels = scratch.join("wheels");
    let build = Instant::now();
    run(
        "pip wheel",
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "-w",
            ])
            .arg(&wheels)
            .arg(&tree)
            .env("CARGO_TARGET_DIR", &cargo_target),
    );
    let build_time = build.elapsed();
    let wheel: Vec<PathBuf> = std::fs::read_dir(&wheels)
        .expect("the wheel directory")
        .map(|e| e.expect("an entry").path())
        .collect();
    assert_eq!(wheel.len(), 1, "one wheel: {wheel:?}");
    let wheel = &wheel[0];
    let name = wheel
        .file_name()
        .expect("a name")
        .to_string_lossy()
        .into_owned();
    let version = gonet_version();
    assert!(
        name.starts_with(&format!("gonet-{version}-py3-none-linux_")),
        "wheel name {name}"
    );

    let venv = scratch.join("venv");
    run(
        "python3 -m venv",
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
    );
    let python = venv.join("bin").join("python");
    run(
        "pip install the wheel",
        Command::new(&python)
            .args(["-m", "pip", "install", "--no-index", "--no-deps"])
            .arg(wheel),
    );

    // The tests and the echo examples they start, without the package.
    let outside = scratch.join("outside");
    copy_tree(&repo.join("python/tests"), &outside.join("python/tests"));
    for example in ["echo_server.py", "echo_client.py"] {
        copy_tree(
            &repo.join("python").join(example),
            &outside.join("python").join(example),
        );
    }
    copy_tree(
        &repo.join("include/gonet.h"),
        &outside.join("include/gonet.h"),
    );
    // The README, whose asyncio example test_aio.py runs.
    copy_tree(&repo.join("README.md"), &outside.join("README.md"));
    assert!(!outside.join("python/gonet").exists());

    let output = run(
        "the Python tests against the installed wheel",
        Command::new(&python)
            .args(["-m", "unittest", "discover", "-s", "python/tests", "-v"])
            .current_dir(&outside)
            .env("GONET_TEST_INSTALLED", "1"),
    );
    let report = String::from_utf8_lossy(&output.stderr);
    println!("{report}");
    // Only the C examples need a library outside the package to link
    // against (tests/python.rs runs them); every other test applies.
    let skips: Vec<&str> = report
        .lines()
        .filter(|l| l.contains("... skipped"))
        .collect();
    for line in &skips {
        assert!(
            line.contains("CInteropTest") && line.contains("not an installed package"),
            "a test was skipped against the wheel: {line}"
        );
    }
    let summary = if skips.is_empty() {
        "\nOK\n".to_string()
    } else {
        format!("\nOK (skipped={})", skips.len())
    };
    assert!(
        report.contains(&summary),
        "unittest did not report {summary:?}"
    );
    println!(
        "wheel built in {build_time:?}, whole test {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(600),
        "the wheel test took {:?}",
        started.elapsed()
    );
}

/// The crate's version, which the wheel's name must carry.
fn gonet_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
