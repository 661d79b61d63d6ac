//! The layers of `src/` depend one way (README, "Layout"): each folder
//! uses only the layers below it, and no two files import each other,
//! directly or around a cycle. Read from the source, so that a `use` that
//! breaks the rule fails here rather than in review.

use crate::common::repo_dir;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each layer and the layers it may use.
const LAYERS: [(&str, &[&str]); 6] = [
    ("capi", &["handle", "net", "poll", "error"]),
    ("handle", &["net", "error"]),
    ("net", &["poll", "error"]),
    ("poll", &["error"]),
    ("error", &[]),
    ("testing", &["handle", "net", "error"]),
];

/// `src/net/dial.rs` -> `net::dial`; `src/net/mod.rs` -> `net`.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(repo_dir().join("src")).unwrap();
    let text = rel.with_extension("").to_string_lossy().replace('/', "::");
    text.strip_suffix("::mod").unwrap_or(&text).to_owned()
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules `module`'s source names through `crate::` or `super::`,
/// leaving out its unit tests.
fn imports(module: &str, source: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let source = source.split("#[cfg(test)]").next().unwrap_or(source);
    let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
    let mut found = BTreeSet::new();
    for (base, prefix) in [
        ("crate::", String::new()),
        ("super::", format!("{parent}::")),
    ] {
        for (i, _) in source.match_indices(base) {
            let path: String = source[i + base.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut parts = path.split("::").filter(|p| !p.is_empty());
            let first = parts.next().unwrap_or_default();
            let prefix = if base == "super::" && parent.is_empty() {
                ""
            } else {
                prefix.as_str()
            };
            let one = format!("{prefix}{first}");
            let two = parts.next().map(|second| format!("{one}::{second}"));
            if let Some(two) = two.filter(|m| known.contains(m)) {
                found.insert(two);
            } else if known.contains(&one) {
                found.insert(one);
            }
        }
    }
    found.remove(module);
    found
}

#[test]
fn layers_depend_one_way_and_files_have_no_cycles() {
    let mut files = Vec::new();
    sources(&repo_dir().join("src"), &mut files);
    let known: BTreeSet<String> = files.iter().map(|p| module_of(p)).collect();
    let mut graph = BTreeMap::new();
    for path in &files {
        let module = module_of(path);
        let source = std::fs::read_to_string(path).unwrap();
        graph.insert(module.clone(), imports(&module, &source, &known));
    }
    let layer = |m: &str| m.split("::").next().unwrap().to_owned();
    let mut checked = 0;
    for (module, deps) in &graph {
        let Some((_, allowed)) = LAYERS.iter().find(|(l, _)| *l == layer(module)) else {
            continue; // lib.rs
        };
        for dep in deps {
            let to = layer(dep);
            assert!(
                to == layer(module) || allowed.contains(&to.as_str()),
                "{module} uses {dep}: the {} layer may use only {allowed:?}",
                layer(module)
            );
            checked += 1;
        }
    }
    assert!(
        checked > 40,
        "only {checked} imports found: is the parser blind?"
    );
    // No cycles: a depth-first search finds no edge back to a module on
    // the current path.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(i) = path.iter().position(|p| *p == m) {
            panic!("import cycle: {}", path[i..].join(" -> ") + " -> " + m);
        }
        if !done.insert(m) {
            return;
        }
        path.push(m);
        for dep in &graph[m] {
            visit(dep, graph, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}

/// `net_read` and `net_write` do not hold `pthread_cancel` off (two
/// atomic updates a call saved): their system calls, in `poll/sys.rs`, go
/// through `syscall(2)` or, on x86-64, the `syscall` instruction
/// (`syscall6`), because glibc's wrappers are cancellation points.
/// A wrapper written the usual way there would let a cancel unwind
/// through Rust frames and abort the process.
#[test]
fn the_hot_system_calls_are_not_cancellation_points() {
    let sys = std::fs::read_to_string(repo_dir().join("src/poll/sys.rs")).unwrap();
    let sys = sys.split("#[cfg(test)]").next().unwrap_or(&sys);
    for call in [
        "recv", "recvfrom", "recvmsg", "send", "sendto", "sendmsg", "close",
    ] {
        assert!(
            !sys.contains(&format!("libc::{call}(")),
            "src/poll/sys.rs calls libc::{call}, a cancellation point; use libc::syscall"
        );
    }
    let raw = sys.matches("libc::syscall(").count() + sys.matches("syscall6(").count();
    assert!(raw >= 4, "the hot calls go through raw system calls");
}
