//! The README's recipes, followed literally: its C example and the
//! commands around it are read out of README.md and run as written, so
//! the two cannot drift apart. Also its claims about the license and the
//! minimum Rust version.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn readme() -> String {
    std::fs::read_to_string(common::repo_dir().join("README.md")).expect("README.md")
}

/// The fenced code blocks (language, text) of the README section that
/// starts with the heading `title`, in order.
fn blocks(title: &str) -> Vec<(String, String)> {
    let text = readme();
    let start = text
        .find(&format!("\n{title}\n"))
        .unwrap_or_else(|| panic!("no section {title:?} in README.md"));
    let section = &text[start + title.len() + 2..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut out = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            out.push((lang.to_owned(), body.join("\n") + "\n"));
        }
    }
    out
}

/// Runs `script` with sh -e in `dir`; panics with its output on failure.
fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh")
        .args(["-ec", script])
        .current_dir(dir)
        // The README's paths are the default target/ of the repository.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `program args` (at most 20 s): exit status, stdout, stderr.
fn run(program: &Path, args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the program");
    for _ in 0..2000 {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if child.try_wait().expect("try_wait").is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{} hung", program.display());
    }
    let out = child.wait_with_output().expect("collect output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_c_example_builds_and_runs_as_written() {
    let blocks = blocks("## A short C example");
    let [(c_lang, program), (sh1, build), (sh2, compile)] = &blocks[..] else {
        panic!("expected a C block and two sh blocks, got {blocks:?}");
    };
    assert_eq!(
        (c_lang.as_str(), sh1.as_str(), sh2.as_str()),
        ("c", "sh", "sh")
    );
    assert!(build.contains("cargo build --release"), "{build}");

    // "in any directory": a scratch directory outside the repository.
    let dir = common::scratch("readme-example");
    std::fs::write(dir.join("demo.c"), program).unwrap();
    let script = format!(
        "cd '{}'\n{build}cd '{}'\n{compile}",
        common::repo_dir().display(),
        dir.display()
    );
    sh(&dir, &script);
    let demo = dir.join("demo");

    // It starts (the soname resolves through the rpath) and talks to an
    // echo server.
    let ln = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = ln.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (s, _) = ln.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut line = String::new();
        BufReader::new(&s).read_line(&mut line).unwrap();
        (&s).write_all(line.as_bytes()).unwrap();
        line
    });
    let (code, out, err) = run(&demo, &[&addr]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "hello\n", ""));
    assert_eq!(server.join().unwrap(), "hello\n");

    // Nobody listening: Go's message and exit status 1.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    let (code, out, err) = run(&demo, &[&addr]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        format!("dial tcp {addr}: connect: connection refused\n")
    );
}

#[test]
fn the_license_files_are_there() {
    let manifest = std::fs::read_to_string(common::repo_dir().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\nlicense = \"MIT OR Apache-2.0\"\n"));
    let mit = std::fs::read_to_string(common::repo_dir().join("LICENSE-MIT")).unwrap();
    assert!(mit.starts_with("MIT License\n"), "{mit}");
    let apache = std::fs::read_to_string(common::repo_dir().join("LICENSE-APACHE")).unwrap();
    assert!(apache.contains("Apache License\n") && apache.contains("Version 2.0, January 2004"));
    let text = readme();
    assert!(
        text.contains("MIT license or the Apache License 2.0"),
        "README says the license"
    );
}

/// `rust-version` in Cargo.toml is what the README states, and no
/// dependency needs a newer compiler. (The standard library's side is
/// clippy's `incompatible_msrv` lint, on in CI.)
#[test]
fn the_minimum_rust_version_holds() {
    let manifest = std::fs::read_to_string(common::repo_dir().join("Cargo.toml")).unwrap();
    let msrv = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("rust-version in Cargo.toml");
    assert!(
        readme().contains(&format!("Rust {msrv} or newer")),
        "README names Rust {msrv}"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Each package with the rust-version it declares ("-" for none).
    let script = "import json, sys\n\
        for p in json.load(sys.stdin)['packages']:\n\
        \x20   print(p['name'], p.get('rust_version') or '-')\n";
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{cargo}' metadata --format-version 1 --offline --locked | python3 -c \"{script}\""
        ))
        .current_dir(common::repo_dir())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "1.85" and "1.85.0" are the same version.
    let parse = |v: &str| -> [u32; 3] {
        let mut parts = v.split('.').map(|p| p.parse().unwrap_or(0));
        [(); 3].map(|()| parts.next().unwrap_or(0))
    };
    let ours = parse(msrv);
    let mut checked = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (name, theirs) = line.split_once(' ').expect("name and version");
        if theirs != "-" {
            assert!(
                parse(theirs) <= ours,
                "{name} needs Rust {theirs}, newer than {msrv}"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 5,
        "read the rust_version of only {checked} packages"
    );
}
