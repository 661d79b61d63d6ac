//! The library's ABI. It exports exactly the functions `include/gonet.h`
//! declares (no more, no fewer), and it stays compatible with the baseline
//! in `abi/libgonet.abi` (libabigail's `abidw`): `abidiff` may find
//! functions added, but none removed or changed, unless the soname
//! (`libgonet.so.0`, set in build.rs) changed with them.
//!
//! After a deliberate change, refresh the baseline with
//! `GONET_ABI_UPDATE=1 cargo test --test abi` and commit it.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn library() -> PathBuf {
    common::lib_dir().join("libgonet.so")
}

fn baseline() -> PathBuf {
    common::repo_dir().join("abi/libgonet.abi")
}

fn output(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("run the ABI tool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The functions gonet.h declares.
fn header_functions() -> BTreeSet<String> {
    let text = std::fs::read_to_string(common::include_dir().join("gonet.h")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with([' ', '*', '#', '/']))
        .filter_map(|l| l.split_once('(').map(|(head, _)| head))
        .filter_map(|head| head.rsplit([' ', '*']).next())
        .filter(|name| name.starts_with("net_"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_library_exports_exactly_the_header_functions() {
    let (rc, text) = output(
        Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(library()),
    );
    assert_eq!(rc, 0, "{text}");
    let exported: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_owned)
        .collect();
    let declared = header_functions();
    assert!(declared.len() > 30, "{declared:?}");
    assert_eq!(exported, declared, "exported (left) vs declared in gonet.h");
}

fn soname_of_baseline() -> String {
    let text = std::fs::read_to_string(baseline()).expect("abi/libgonet.abi");
    let start = text.find("soname='").expect("a soname in the baseline") + 8;
    text[start..start + text[start..].find('\'').unwrap()].to_owned()
}

fn soname_of(lib: &Path) -> String {
    let (rc, text) = output(Command::new("readelf").arg("-d").arg(lib));
    assert_eq!(rc, 0, "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("(SONAME)"))
        .expect("a SONAME");
    line[line.find('[').unwrap() + 1..line.find(']').unwrap()].to_owned()
}

/// abidiff's verdict on `old` against `new`: Err with its report when a
/// function or variable was removed or changed.
fn compatible(old: &Path, new: &Path) -> Result<String, String> {
    let (rc, report) = output(Command::new("abidiff").arg(old).arg(new));
    // Bits of abidiff's status: 1 error, 2 usage error, 4 a change, 8 an
    // incompatible change.
    assert_eq!(rc & 3, 0, "abidiff failed ({rc}): {report}");
    let count = |what: &str| -> usize {
        // "Functions changes summary: 1 Removed, 0 Changed, 1 Added functions"
        report
            .lines()
            .filter(|l| l.contains("changes summary:"))
            .filter_map(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                let at = words.iter().position(|w| w.trim_end_matches(',') == what)?;
                words.get(at.checked_sub(1)?)?.parse::<usize>().ok()
            })
            .sum()
    };
    if rc & 8 != 0 || count("Removed") > 0 || count("Changed") > 0 {
        Err(report)
    } else {
        Ok(report)
    }
}

#[test]
fn the_abi_is_compatible_with_the_baseline() {
    let lib = library();
    if std::env::var_os("GONET_ABI_UPDATE").is_some() {
        let (rc, text) = output(
            Command::new("abidw")
                .args(["--no-corpus-path", "--no-comp-dir-path", "--no-show-locs"])
                .arg("--out-file")
                .arg(baseline())
                .arg(&lib),
        );
        assert_eq!(rc, 0, "{text}");
    }
    match compatible(&baseline(), &lib) {
        Ok(report) if report.trim().is_empty() => {}
        Ok(report) => eprintln!(
            "compatible additions to the ABI; refresh abi/libgonet.abi \
             (GONET_ABI_UPDATE=1 cargo test --test abi):\n{report}"
        ),
        Err(report) => assert_ne!(
            soname_of(&lib),
            soname_of_baseline(),
            "an incompatible ABI change without a new soname:\n{report}"
        ),
    }
}

/// The check above catches a removed function and a changed one: the
/// baseline with a function renamed (so the library lost it), and with a
/// parameter's type changed.
#[test]
fn the_check_catches_incompatible_changes() {
    let text = std::fs::read_to_string(baseline()).unwrap();
    let dir = common::scratch("abi");
    let removed = dir.join("removed.abi");
    std::fs::write(&removed, text.replace("'net_accept'", "'net_accept_gone'")).unwrap();
    let report = compatible(&removed, &library()).expect_err("a removed function");
    assert!(report.contains("net_accept_gone"), "{report}");

    // net_set_nodelay(i64, i32): make the baseline's second parameter the
    // type of its first.
    let start = text
        .find("<function-decl name='net_set_nodelay'")
        .expect("net_set_nodelay in the baseline");
    let end = start + text[start..].find("</function-decl>").unwrap();
    let decl = &text[start..end];
    let types: Vec<&str> = decl
        .match_indices("type-id='")
        .map(|(i, _)| {
            let rest = &decl[i + 9..];
            &rest[..rest.find('\'').unwrap()]
        })
        .collect();
    assert!(types.len() >= 3, "{decl}");
    assert_ne!(types[0], types[1], "{decl}");
    let second = decl
        .match_indices("<parameter ")
        .nth(1)
        .map(|(i, _)| i)
        .expect("two parameters");
    let mut changed_decl = decl.to_owned();
    let param_end = second + decl[second..].find("/>").unwrap();
    changed_decl.replace_range(
        second..param_end,
        &decl[second..param_end].replace(types[1], types[0]),
    );
    let changed = dir.join("changed.abi");
    std::fs::write(&changed, text.replacen(decl, &changed_decl, 1)).unwrap();
    let report = compatible(&changed, &library()).expect_err("a changed parameter");
    assert!(report.contains("net_set_nodelay"), "{report}");
}
