//! Generates `include/gonet.h` from the crate's `extern "C"` items with
//! cbindgen. A copy also goes to OUT_DIR, where the header-drift test finds
//! what the current source generates.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets this"));
    println!("cargo:rerun-if-changed=src");
    // The ABI version: programs record libgonet.so.0 and keep working when a
    // compatible libgonet.so.0.x replaces it.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgonet.so.0");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    soname_link(&out_dir);

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    // The version macros come from Cargo.toml's version, the one
    // net_version() returns, so the two cannot disagree.
    let version =
        |part: &str| std::env::var(format!("CARGO_PKG_VERSION_{part}")).expect("cargo sets this");
    config.after_includes = Some(format!(
        "\n/** The version of this header: net_version() returns the same, as \"MAJOR.MINOR.PATCH\". */\n\
         #define GONET_VERSION_MAJOR {}\n#define GONET_VERSION_MINOR {}\n#define GONET_VERSION_PATCH {}",
        version("MAJOR"),
        version("MINOR"),
        version("PATCH")
    ));
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can parse the crate");

    let mut raw = Vec::new();
    bindings.write(&mut raw);
    let text =
        parenthesize_negative_macros(&String::from_utf8(raw).expect("cbindgen writes UTF-8"));
    let text = text.into_bytes();
    std::fs::write(out_dir.join("gonet.h"), &text).expect("OUT_DIR is writable");

    // Rewrite the committed header only when it changed, so that builds do
    // not touch its timestamp needlessly.
    let header = crate_dir.join("include").join("gonet.h");
    if std::fs::read(&header).ok().as_deref() != Some(&text[..]) {
        std::fs::create_dir_all(header.parent().expect("has a parent"))
            .expect("include/ can be made");
        std::fs::write(&header, &text).expect("include/gonet.h is writable");
    }
}

/// Puts the soname link `libgonet.so.0 -> libgonet.so` beside the library
/// cargo is about to write, so that a program linked with
/// `-L target/release -lgonet` and an rpath there starts without a
/// `make` step. OUT_DIR is `<target>/<profile>/build/gonet-<hash>/out`;
/// the library goes to `<target>/<profile>`. Best effort: where the layout
/// differs (a separate `build-dir`), nothing is made and nothing fails.
fn soname_link(out_dir: &std::path::Path) {
    let Some(profile_dir) = out_dir.ancestors().nth(3) else {
        return;
    };
    if out_dir
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.ends_with("build"))
        != Some(true)
    {
        return;
    }
    let link = profile_dir.join("libgonet.so.0");
    let ours =
        std::fs::read_link(&link).ok().as_deref() == Some(std::path::Path::new("libgonet.so"));
    // Only for release builds, which the README's recipe uses. `cargo
    // test` puts target/debug on its test programs' library path but does
    // not rewrite target/debug/libgonet.so, so a link there would hand the
    // C and C++ programs the tests start an older library than the one
    // they were linked against. One made there before goes.
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        if ours {
            let _ = std::fs::remove_file(&link);
        }
        return;
    }
    if ours {
        return;
    }
    let _ = std::fs::remove_file(&link);
    // A dangling link until cargo writes libgonet.so, moments later.
    let _ = std::os::unix::fs::symlink("libgonet.so", &link);
}

/// `#define NET_EINVAL -1` becomes `#define NET_EINVAL (-1)`: unparenthesized,
/// `x-NET_EINVAL` would read as `x--1`, which does not compile, and other
/// expressions could bind the minus differently from what was meant.
fn parenthesize_negative_macros(header: &str) -> String {
    header
        .lines()
        .map(|line| {
            let mut words = line.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("#define"), Some(name), Some(value))
                    if value.starts_with('-') && value[1..].bytes().all(|b| b.is_ascii_digit()) =>
                {
                    format!("#define {name} ({value})\n")
                }
                _ => format!("{line}\n"),
            }
        })
        .collect()
}
