//! The man pages in `man/man3`: generated from `include/gonet.h` by
//! `tools/manpages.py` (so from the same doc comments as the header), one
//! per function in the header plus `gonet.3`, and each renders cleanly.
//! `tests/install.rs` checks that both install paths install them.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

/// The functions the header declares.
fn header_functions() -> BTreeSet<String> {
    let text = std::fs::read_to_string(common::include_dir().join("gonet.h")).unwrap();
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with(' ') || line.starts_with('*') || line.starts_with('#') {
            continue;
        }
        if let Some(open) = line.find('(') {
            if let Some(name) = line[..open].rsplit([' ', '*']).next() {
                if name.starts_with("net_") {
                    names.insert(name.to_owned());
                }
            }
        }
    }
    assert!(names.len() > 30, "read only {names:?} from gonet.h");
    names
}

fn pages() -> BTreeSet<String> {
    std::fs::read_dir(common::repo_dir().join("man/man3"))
        .expect("man/man3")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_pages_are_what_the_header_generates() {
    let out = Command::new("python3")
        .arg(common::repo_dir().join("tools/manpages.py"))
        .arg("--check")
        .output()
        .expect("run tools/manpages.py");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_function_has_a_page_and_every_page_a_function() {
    let mut want: BTreeSet<String> = header_functions()
        .into_iter()
        .map(|f| format!("{f}.3"))
        .collect();
    want.insert("gonet.3".into());
    assert_eq!(pages(), want);
    // The overview lists every function.
    let overview = std::fs::read_to_string(common::repo_dir().join("man/man3/gonet.3")).unwrap();
    for f in header_functions() {
        assert!(
            overview.contains(&format!(".BR {f} (3)\n")),
            "gonet.3 lacks {f}"
        );
    }
}

#[test]
fn every_page_renders_without_warnings() {
    for page in pages() {
        let path = common::repo_dir().join("man/man3").join(&page);
        let out = Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .env_remove("MAN_KEEP_FORMATTING")
            .output()
            .expect("run man");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{page}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let name = page.trim_end_matches(".3");
        assert!(
            text.contains("NAME") && text.contains(name),
            "{page}: {text}"
        );
    }
}
