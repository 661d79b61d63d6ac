//! `make install` into a temporary prefix, then programs built the way a
//! user would: C through pkg-config (shared and static), C++ with the
//! installed header, and a CMake project through `find_package(gonet)`
//! (shared and static); then `make uninstall`. And `cargo cinstall`
//! (cargo-c) installs the same files, which the same CMake project uses.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Runs `script` with sh, PKG_CONFIG_PATH at the prefix's pkgconfig dir.
fn sh(prefix: &Path, dir: &Path, script: &str) -> Output {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .env_remove("PKG_CONFIG_LIBDIR")
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs a test program (at most 20 s) and checks it printed "ok".
fn run_ok(program: &Path, ld_library_path: Option<&Path>) {
    let mut cmd = Command::new(program);
    cmd.env_remove("LD_LIBRARY_PATH");
    if let Some(dir) = ld_library_path {
        cmd.env("LD_LIBRARY_PATH", dir);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the test program");
    let start = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} hung", program.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("collect output");
    assert!(
        out.status.success(),
        "{} failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
}

fn needed(program: &Path) -> String {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(program)
        .output()
        .expect("readelf");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const C_PROGRAM: &str = r#"
#include <gonet.h>
#include <stdio.h>
#include <string.h>

#define CHECK(expr) do { if ((expr) < 0) { \
    fprintf(stderr, "%s: %s\n", #expr, net_last_error()); return 1; } } while (0)

int main(void) {
    int64_t ln = net_listen("tcp", "127.0.0.1:0");
    CHECK(ln);
    char addr[64];
    CHECK(net_local_addr(ln, addr, sizeof addr));
    int64_t c = net_dial("tcp", addr);
    CHECK(c);
    int64_t s = net_accept(ln);
    CHECK(s);
    CHECK(net_write(c, "ping", 4));
    char buf[8] = {0};
    int64_t n = net_read(s, buf, sizeof buf);
    CHECK(n);
    if (n != 4 || memcmp(buf, "ping", 4) != 0) { fprintf(stderr, "read %lld\n", (long long)n); return 1; }
    CHECK(net_close(c));
    if (net_read(s, buf, sizeof buf) != 0) { fprintf(stderr, "no end of stream\n"); return 1; }
    CHECK(net_close(s));
    CHECK(net_close(ln));
    if (net_accept(ln) != NET_ECLOSED) { fprintf(stderr, "accept after close\n"); return 1; }
    if (strcmp(net_version(), "0.1.0") != 0) { fprintf(stderr, "version %s\n", net_version()); return 1; }
    printf("ok\n");
    return 0;
}
"#;

const CXX_PROGRAM: &str = r#"
#include <gonet.h>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

static int64_t check(int64_t r, const char *what) {
    if (r < 0) throw std::runtime_error(std::string(what) + ": " + net_last_error());
    return r;
}

int main() {
    try {
        int64_t ln = check(net_listen("tcp", "127.0.0.1:0"), "listen");
        char addr[64];
        check(net_local_addr(ln, addr, sizeof addr), "local_addr");
        std::thread server([ln] {
            int64_t s = check(net_accept(ln), "accept");
            char buf[64];
            int64_t n = check(net_read(s, buf, sizeof buf), "read");
            check(net_write(s, buf, static_cast<size_t>(n)), "write");
            check(net_close(s), "close");
        });
        int64_t c = check(net_dial("tcp", addr), "dial");
        std::string msg = "hello from C++";
        check(net_write(c, msg.data(), msg.size()), "write");
        std::string got;
        char buf[64];
        for (int64_t n; (n = check(net_read(c, buf, sizeof buf), "read")) > 0;)
            got.append(buf, static_cast<size_t>(n));
        server.join();
        check(net_close(c), "close");
        check(net_close(ln), "close");
        if (got != msg) throw std::runtime_error("echoed " + got);
        std::puts("ok");
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
"#;

const INSTALLED: [&str; 11] = [
    "lib/libgonet.so.0.1.0",
    "lib/libgonet.so.0",
    "lib/libgonet.so",
    "lib/libgonet.a",
    "include/gonet.h",
    "include/gonet.hpp",
    "lib/pkgconfig/gonet.pc",
    "share/man/man3/gonet.3",
    "share/man/man3/net_dial.3",
    "lib/cmake/gonet/gonetConfig.cmake",
    "lib/cmake/gonet/gonetConfigVersion.cmake",
];

const CMAKE_PROJECT: &str = r#"
cmake_minimum_required(VERSION 3.11)
project(consumer C CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)

# The version file refuses a release newer than the installed one.
find_package(gonet 1.0 QUIET)
if(gonet_FOUND)
  message(FATAL_ERROR "gonet 1.0 found, but 0.1.0 is installed")
endif()
find_package(gonet 0.1 REQUIRED)

add_executable(app_shared app.c)
target_link_libraries(app_shared PRIVATE gonet::gonet)
add_executable(app_static app.c)
target_link_libraries(app_static PRIVATE gonet::gonet_static)
add_executable(app_hpp app_hpp.cpp)
target_link_libraries(app_hpp PRIVATE gonet::gonet)
"#;

/// A C++ program on the installed gonet.hpp.
const HPP_PROGRAM: &str = r#"
#include <gonet.hpp>
#include <cstdio>
int main() {
    try {
        gonet::Listener ln = gonet::listen("tcp", "127.0.0.1:0");
        gonet::Conn c = gonet::dial("tcp", ln.local_addr());
        gonet::Conn s = ln.accept();
        c.write("ping");
        s.set_read_deadline(std::chrono::seconds(5));
        if (s.read(4) != "ping") return 1;
        std::puts("ok");
        return 0;
    } catch (const gonet::error &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
"#;

/// Configures, builds and runs the CMake consumer against `prefix`: the
/// shared program records the soname and finds the library through the
/// rpath CMake gives it; the static one needs no libgonet at run time.
fn cmake_consumer(prefix: &Path, dir: &Path) {
    let src = dir.join("consumer");
    let build = dir.join("consumer-build");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("CMakeLists.txt"), CMAKE_PROJECT).unwrap();
    std::fs::write(src.join("app.c"), C_PROGRAM).unwrap();
    std::fs::write(src.join("app_hpp.cpp"), HPP_PROGRAM).unwrap();
    sh(
        prefix,
        dir,
        &format!(
            "cmake -S '{}' -B '{}' -DCMAKE_PREFIX_PATH='{}' -DCMAKE_BUILD_TYPE=Debug >/dev/null \
             && cmake --build '{}' >/dev/null",
            src.display(),
            build.display(),
            prefix.display(),
            build.display()
        ),
    );
    assert!(needed(&build.join("app_shared")).contains("[libgonet.so.0]"));
    run_ok(&build.join("app_shared"), None);
    run_ok(&build.join("app_hpp"), None);
    assert!(!needed(&build.join("app_static")).contains("libgonet"));
    run_ok(&build.join("app_static"), None);
}

/// The files under `root`, relative to it, links included.
fn files_under(root: &Path) -> std::collections::BTreeSet<PathBuf> {
    let mut out = std::collections::BTreeSet::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                dirs.push(path);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out
}

/// Every man page in the tree is installed, and `man 3 net_dial` finds the
/// installed one through MANPATH.
fn check_man_pages(prefix: &Path) {
    let man3 = common::repo_dir().join("man/man3");
    let mut pages = 0;
    for entry in std::fs::read_dir(&man3).unwrap() {
        let name = entry.unwrap().file_name();
        assert_eq!(
            std::fs::read(prefix.join("share/man/man3").join(&name)).ok(),
            std::fs::read(man3.join(&name)).ok(),
            "{name:?} not installed as it is"
        );
        pages += 1;
    }
    assert!(pages > 30, "{pages} pages");
    let out = Command::new("man")
        .args(["-w", "3", "net_dial"])
        .env("MANPATH", prefix.join("share/man"))
        .output()
        .expect("run man");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        prefix
            .join("share/man/man3/net_dial.3")
            .display()
            .to_string(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn install_link_and_uninstall() {
    let dir = common::scratch("install");
    let prefix = dir.join("prefix");
    let prefix_arg = format!("PREFIX={}", prefix.display());
    common::make(&common::repo_dir(), &["install", &prefix_arg]);

    for file in INSTALLED {
        assert!(prefix.join(file).exists(), "{file} not installed");
    }
    let link = |name: &str| std::fs::read_link(prefix.join("lib").join(name)).unwrap();
    assert_eq!(link("libgonet.so"), Path::new("libgonet.so.0"));
    assert_eq!(link("libgonet.so.0"), Path::new("libgonet.so.0.1.0"));
    assert_eq!(
        std::fs::read(prefix.join("include/gonet.h")).unwrap(),
        std::fs::read(common::include_dir().join("gonet.h")).unwrap()
    );
    check_man_pages(&prefix);
    let pc = std::fs::read_to_string(prefix.join("lib/pkgconfig/gonet.pc")).unwrap();
    assert!(
        pc.contains(&format!("prefix={}\n", prefix.display())),
        "{pc}"
    );
    assert!(pc.contains("Libs: -L${libdir} -lgonet\n"), "{pc}");
    assert!(pc.contains("Version: 0.1.0\n"), "{pc}");

    std::fs::write(dir.join("app.c"), C_PROGRAM).unwrap();
    std::fs::write(dir.join("app.cpp"), CXX_PROGRAM).unwrap();

    // C, shared: the program records the soname and finds the installed
    // library through LD_LIBRARY_PATH.
    sh(
        &prefix,
        &dir,
        "cc -Wall -Wextra -Werror app.c -o app_shared $(pkg-config --cflags --libs gonet)",
    );
    assert!(needed(&dir.join("app_shared")).contains("[libgonet.so.0]"));
    run_ok(&dir.join("app_shared"), Some(&prefix.join("lib")));

    // C++ with the installed header, shared.
    sh(
        &prefix,
        &dir,
        "g++ -Wall -Wextra -Werror -pthread app.cpp -o app_cxx $(pkg-config --cflags --libs gonet)",
    );
    run_ok(&dir.join("app_cxx"), Some(&prefix.join("lib")));

    // C, static: libgonet.a plus the system libraries from Libs.private;
    // runs without the installed shared library.
    sh(
        &prefix,
        &dir,
        "cc -Wall -Werror app.c -o app_static -Wl,-Bstatic $(pkg-config --static --cflags --libs gonet)",
    );
    assert!(!needed(&dir.join("app_static")).contains("libgonet"));
    run_ok(&dir.join("app_static"), None);

    cmake_consumer(&prefix, &dir);

    // The CMake package's version is the crate's.
    let version_file =
        std::fs::read_to_string(prefix.join("lib/cmake/gonet/gonetConfigVersion.cmake")).unwrap();
    assert!(
        version_file.contains(&format!(
            "set(PACKAGE_VERSION \"{}\")",
            env!("CARGO_PKG_VERSION")
        )),
        "{version_file}"
    );

    common::make(&common::repo_dir(), &["uninstall", &prefix_arg]);
    for file in INSTALLED {
        assert!(
            std::fs::symlink_metadata(prefix.join(file)).is_err(),
            "{file} left behind"
        );
    }
}

/// `cargo cinstall --prefix=P` (cargo-c) installs the files `make install`
/// does, with the same contents where they are not built; on Debian its
/// library directory is the multiarch one (lib/x86_64-linux-gnu), which
/// gonetConfig.cmake finds too.
#[test]
fn cargo_cinstall_installs_what_make_install_does() {
    let dir = common::scratch("cinstall");
    let cprefix = dir.join("cargo-c");
    let mprefix = dir.join("make");
    common::make(
        &common::repo_dir(),
        &["install", &format!("PREFIX={}", mprefix.display())],
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(["cinstall", "--release", "--prefix"])
        .arg(&cprefix)
        .current_dir(common::repo_dir())
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo cinstall failed (cargo-c comes from `cargo install cargo-c`, as .ci/run does):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let libdir = |prefix: &Path| -> PathBuf {
        let lib = prefix.join("lib");
        if lib.join("libgonet.so").exists() {
            return PathBuf::from("lib");
        }
        let multiarch = std::fs::read_dir(&lib)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.join("libgonet.so").exists())
            .expect("a directory holding libgonet.so");
        multiarch.strip_prefix(prefix).unwrap().to_path_buf()
    };
    let normalized = |prefix: &Path| -> std::collections::BTreeSet<PathBuf> {
        let lib = libdir(prefix);
        files_under(prefix)
            .into_iter()
            .map(|f| match f.strip_prefix(&lib) {
                Ok(rest) if !f.starts_with("lib/cmake") => Path::new("LIBDIR").join(rest),
                _ => f,
            })
            .collect()
    };
    assert_eq!(normalized(&cprefix), normalized(&mprefix));
    for file in files_under(&mprefix) {
        let text = file
            .extension()
            .is_some_and(|e| ["h", "hpp", "3", "cmake"].contains(&e.to_str().unwrap_or("")));
        if text {
            assert_eq!(
                std::fs::read(cprefix.join(&file)).unwrap(),
                std::fs::read(mprefix.join(&file)).unwrap(),
                "{} differs",
                file.display()
            );
        }
    }
    let clib = cprefix.join(libdir(&cprefix));
    let link = |name: &str| std::fs::read_link(clib.join(name)).unwrap();
    assert_eq!(link("libgonet.so.0"), Path::new("libgonet.so.0.1.0"));
    assert!(needed(&clib.join("libgonet.so.0.1.0")).contains("Library soname: [libgonet.so.0]"));
    let pc = std::fs::read_to_string(clib.join("pkgconfig/gonet.pc")).unwrap();
    assert!(pc.contains("Version: 0.1.0\n"), "{pc}");

    cmake_consumer(&cprefix, &dir);
}

#[test]
fn install_honours_destdir() {
    let dir = common::scratch("install-destdir");
    let stage = dir.join("stage");
    let destdir = format!("DESTDIR={}", stage.display());
    common::make(
        &common::repo_dir(),
        &["install", "PREFIX=/opt/gonet", &destdir],
    );
    for file in INSTALLED {
        assert!(
            stage.join("opt/gonet").join(file).exists(),
            "{file} not staged"
        );
    }
    let pc = std::fs::read_to_string(stage.join("opt/gonet/lib/pkgconfig/gonet.pc")).unwrap();
    assert!(pc.starts_with("prefix=/opt/gonet\n"), "{pc}");
    common::make(
        &common::repo_dir(),
        &["uninstall", "PREFIX=/opt/gonet", &destdir],
    );
    for file in INSTALLED {
        assert!(std::fs::symlink_metadata(stage.join("opt/gonet").join(file)).is_err());
    }
}
