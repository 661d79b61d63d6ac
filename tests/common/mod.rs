//! Helpers shared by the integration tests: where the built library is,
//! compiling C programs against it, and small wrappers over the C ABI.
#![allow(dead_code)]

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

mod netns;
#[allow(unused_imports)] // Not every test binary makes namespaces.
pub use netns::*;

/// The directory holding the `libgonet.so` and `libgonet.a` that this test
/// binary was built with: `target/<profile>/deps`, where cargo always
/// writes them (`cargo test` does not copy them up to `target/<profile>`,
/// so a copy there may be stale or missing).
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf();
    assert!(
        dir.join("libgonet.so").exists(),
        "no libgonet.so beside the test binary in {}",
        dir.display()
    );
    static LINK: Once = Once::new();
    LINK.call_once(|| {
        // The library's soname is libgonet.so.0; in the build tree that name
        // is a link to the file cargo wrote.
        let link = dir.join("libgonet.so.0");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("libgonet.so", &link).expect("soname link");
    });
    dir
}

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn include_dir() -> PathBuf {
    repo_dir().join("include")
}

/// A scratch directory for one test, under cargo's target tmp dir. A
/// module's tests rerun in a child (`rerun_with`) while the parent runs
/// the same tests get directories of their own, named after the rerun:
/// the two would otherwise remove and bind each other's Unix sockets.
pub fn scratch(name: &str) -> PathBuf {
    let name = match std::env::var("GONET_TEST_RERUN") {
        Ok(rerun) => format!("{name}-{rerun}"),
        Err(_) => name.to_owned(),
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Compiles C (or C++ with `compiler` = "c++") `sources` into `out`,
/// linked against the shared library with an rpath; panics with the
/// compiler's output on failure.
pub fn compile_c(compiler: &str, sources: &[&Path], out: &Path, extra: &[&str]) {
    let lib = lib_dir();
    let mut cmd = Command::new(compiler);
    cmd.args(["-Wall", "-Wextra", "-Werror", "-O1", "-g"])
        .arg("-I")
        .arg(include_dir())
        .args(sources)
        .arg("-o")
        .arg(out)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lgonet")
        .arg("-lpthread")
        .args(extra);
    let output = cmd.output().expect("run the C compiler");
    assert!(
        output.status.success(),
        "compiling {:?} failed:\n{}",
        sources,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `net_last_error()` as a Rust string.
pub fn last_error() -> String {
    // SAFETY: net_last_error always returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(gonet::net_last_error()) }
        .to_string_lossy()
        .into_owned()
}

pub fn cstr(s: &str) -> CString {
    CString::new(s).expect("no NUL in test strings")
}

pub fn listen(network: &str, address: &str) -> i64 {
    // SAFETY: both strings are NUL-terminated.
    let h = unsafe { gonet::net_listen(cstr(network).as_ptr(), cstr(address).as_ptr()) };
    assert!(h > 0, "listen {network} {address}: {}", last_error());
    h
}

pub fn dial(network: &str, address: &str) -> i64 {
    // SAFETY: both strings are NUL-terminated.
    let h = unsafe { gonet::net_dial(cstr(network).as_ptr(), cstr(address).as_ptr()) };
    assert!(h > 0, "dial {network} {address}: {}", last_error());
    h
}

pub fn try_dial(network: &str, address: &str) -> i64 {
    // SAFETY: both strings are NUL-terminated.
    unsafe { gonet::net_dial(cstr(network).as_ptr(), cstr(address).as_ptr()) }
}

pub fn local_addr(h: i64) -> String {
    let mut buf = [0 as std::ffi::c_char; 256];
    // SAFETY: buf is writable for its length.
    let n = unsafe { gonet::net_local_addr(h, buf.as_mut_ptr(), buf.len()) };
    assert!(n >= 0, "local_addr: {}", last_error());
    // SAFETY: net_local_addr NUL-terminated it.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

pub fn remote_addr(h: i64) -> String {
    let mut buf = [0 as std::ffi::c_char; 256];
    // SAFETY: buf is writable for its length.
    let n = unsafe { gonet::net_remote_addr(h, buf.as_mut_ptr(), buf.len()) };
    assert!(n >= 0, "remote_addr: {}", last_error());
    // SAFETY: net_remote_addr NUL-terminated it.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

pub fn write(h: i64, data: &[u8]) -> i64 {
    // SAFETY: data is readable for its length.
    unsafe { gonet::net_write(h, data.as_ptr().cast(), data.len()) }
}

pub fn read(h: i64, buf: &mut [u8]) -> i64 {
    // SAFETY: buf is writable for its length.
    unsafe { gonet::net_read(h, buf.as_mut_ptr().cast(), buf.len()) }
}

/// Reads exactly `n` bytes or panics.
pub fn read_exact(h: i64, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let r = read(h, &mut out[got..]);
        assert!(
            r > 0,
            "read_exact: got {r} after {got} of {n}: {}",
            last_error()
        );
        got += r as usize;
    }
    out
}

/// A connected pair over TCP loopback: (listener, client, server side).
pub fn tcp_pair() -> (i64, i64, i64) {
    let l = listen("tcp", "127.0.0.1:0");
    let c = dial("tcp", &local_addr(l));
    let s = gonet::net_accept(l);
    assert!(s > 0, "accept: {}", last_error());
    (l, c, s)
}

pub fn try_listen_packet(network: &str, address: &str) -> i64 {
    // SAFETY: both strings are NUL-terminated.
    unsafe { gonet::net_listen_packet(cstr(network).as_ptr(), cstr(address).as_ptr()) }
}

pub fn listen_packet(network: &str, address: &str) -> i64 {
    let h = try_listen_packet(network, address);
    assert!(h > 0, "listen_packet {network} {address}: {}", last_error());
    h
}

/// `net_read_from` into `buf`: the result and the sender's address.
pub fn read_from(h: i64, buf: &mut [u8]) -> (i64, String) {
    let mut addr = [0 as std::ffi::c_char; gonet::NET_ADDR_MAX];
    // SAFETY: buf and addr are writable for their lengths.
    let n = unsafe {
        gonet::net_read_from(
            h,
            buf.as_mut_ptr().cast(),
            buf.len(),
            addr.as_mut_ptr(),
            addr.len(),
        )
    };
    // SAFETY: net_read_from always leaves addr NUL-terminated.
    let from = unsafe { CStr::from_ptr(addr.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    (n, from)
}

pub fn write_to(h: i64, data: &[u8], addr: &str) -> i64 {
    // SAFETY: data is readable for its length; addr is NUL-terminated.
    unsafe { gonet::net_write_to(h, data.as_ptr().cast(), data.len(), cstr(addr).as_ptr()) }
}

/// A loopback address that never answers: a listener whose accept queue is
/// full drops further SYNs, so a dial to it hangs until its timeout. No
/// packet leaves the machine. Keep the returned values alive while using it.
pub struct FullListener {
    _listener: socket2::Socket,
    _queued: Vec<std::net::TcpStream>,
    pub addr: String,
}

pub fn full_accept_queue() -> FullListener {
    use socket2::{Domain, Socket, Type};
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    listener.bind(&any.into()).expect("bind");
    listener.listen(0).expect("listen");
    let addr = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("bound address");
    // Connections complete until the queue is full, then hang.
    let mut queued = Vec::new();
    for _ in 0..8 {
        match std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200)) {
            Ok(s) => queued.push(s),
            Err(_) => break,
        }
    }
    FullListener {
        _listener: listener,
        _queued: queued,
        addr: addr.to_string(),
    }
}

/// The name the test harness gives test `test` of module `module` (the
/// caller's `module_path!()`): test names leave out the binary's own name,
/// so `api::close`'s tests run as `close::...`.
pub fn test_name(module: &str, test: &str) -> String {
    match module.split_once("::") {
        Some((_, inner)) => format!("{inner}::{test}"),
        None => test.to_owned(),
    }
}

/// Runs every other test of the calling module again with
/// `GONET_WAKE_SIGNAL=0`, where reads poll instead of blocking in `recv`
/// (see src/poll/wait.rs), and fails unless they pass. `module` is the
/// caller's `module_path!()`; `me` is the calling test, skipped in the
/// rerun.
pub fn rerun_with_polling_reads(module: &str, me: &str) {
    rerun_with(module, me, "GONET_WAKE_SIGNAL");
}

/// As `rerun_with_polling_reads`, with `GONET_BIASED_LOCKS=0`: every
/// direction lock is then taken with a compare-and-swap, never by a bias
/// to its first thread (see src/poll/lock.rs).
pub fn rerun_without_biased_locks(module: &str, me: &str) {
    rerun_with(module, me, "GONET_BIASED_LOCKS");
}

/// Runs every other test of `module` again with `var=0`.
fn rerun_with(module: &str, me: &str, var: &str) {
    if std::env::var_os(var).is_some() {
        return; // This is the rerun, where `me` is skipped anyway.
    }
    let prefix = test_name(module, "");
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .env(var, "0")
        .env("GONET_TEST_RERUN", var)
        .arg(&prefix)
        .args(["--skip", &format!("{prefix}{me}")])
        .output()
        .expect("rerun the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A filter that matched nothing also ends "ok": some must have run.
    assert!(
        out.status.success()
            && stdout.contains("test result: ok")
            && !stdout.contains("ok. 0 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `make -C dir args` against the library this test run built
/// (LIBDIR), so that no nested cargo build happens; panics with its output
/// on failure.
pub fn make(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("make")
        .arg("-C")
        .arg(dir)
        .arg(format!("LIBDIR={}", lib_dir().display()))
        .args(args)
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .output()
        .expect("run make");
    assert!(
        out.status.success(),
        "make {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A small deterministic generator (xorshift), so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Runs `blocked` on a thread, lets it block, closes `handle` from this
/// thread, and checks that the blocked call ends with NET_ECLOSED and
/// Go's message within 100 ms.
pub fn assert_close_wakes(handle: i64, blocked: impl FnOnce() -> (i64, String) + Send + 'static) {
    use std::time::{Duration, Instant};
    let t = std::thread::spawn(move || {
        let (rc, msg) = blocked();
        (rc, msg, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(200));
    assert!(!t.is_finished(), "the call should still be blocked");
    let closed_at = Instant::now();
    assert_eq!(gonet::net_close(handle), 0);
    let (rc, msg, woke_at) = t.join().expect("the blocked thread");
    let delay = woke_at.saturating_duration_since(closed_at);
    assert_eq!(rc, gonet::NET_ECLOSED, "{msg}");
    assert!(msg.ends_with("use of closed network connection"), "{msg}");
    assert!(delay < Duration::from_millis(100), "woke after {delay:?}");
}

/// The number of descriptors this process has open: leak checks compare
/// it before and after.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Dials `address` over TCP with a timeout: the code or handle.
pub fn dial_timeout(address: &str, ms: i64) -> i64 {
    // SAFETY: NUL-terminated strings.
    unsafe { gonet::net_dial_timeout(c"tcp".as_ptr(), cstr(address).as_ptr(), ms) }
}

/// Closes every handle, each of which must still be open.
pub fn close_all(handles: &[i64]) {
    for &h in handles {
        assert_eq!(gonet::net_close(h), 0, "{}", last_error());
    }
}

/// This process's descriptor for the socket bound to `local` and
/// connected to `peer` (`None`: not connected), found in /proc/self/fd.
pub fn fd_of(local: &str, peer: Option<&str>) -> std::os::fd::RawFd {
    use std::net::SocketAddr;
    use std::os::fd::BorrowedFd;
    let local: SocketAddr = local.parse().unwrap();
    let peer: Option<SocketAddr> = peer.map(|p| p.parse().unwrap());
    for entry in std::fs::read_dir("/proc/self/fd").unwrap() {
        let Ok(fd) = entry.unwrap().file_name().to_string_lossy().parse() else {
            continue;
        };
        // SAFETY: the descriptor is open for as long as the test holds its
        // handle; it is only borrowed for queries.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&borrowed);
        let bound = sock.local_addr().ok().and_then(|a| a.as_socket());
        let them = sock.peer_addr().ok().and_then(|a| a.as_socket());
        if bound == Some(local) && them == peer {
            return fd;
        }
    }
    panic!("no descriptor for {local} -> {peer:?}");
}

/// Waits (at most `within`) for `file` to hold a line starting with
/// `prefix`, and returns the rest of that line.
pub fn wait_for_line(file: &Path, prefix: &str, within: Duration) -> Option<String> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if let Some(rest) = text.lines().find_map(|l| l.strip_prefix(prefix)) {
            return Some(rest.to_owned());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Builds the C examples into scratch directory `name` against this
/// build's library, with extra make variables (`CFLAGS=...`).
pub fn build_examples(name: &str, vars: &[&str]) -> PathBuf {
    let dir = scratch(name);
    let builddir = format!("BUILDDIR={}", dir.display());
    let mut args = vec![builddir.as_str()];
    args.extend_from_slice(vars);
    make(&repo_dir().join("examples-c"), &args);
    dir
}

/// A command that runs test `test` of this binary alone in a child process
/// (an ignored test when `ignored`), under `wrapper` when it is not empty
/// (`["ip", "netns", "exec", name]`); run it with `expect_one_passed`.
pub fn test_child(wrapper: &[&str], test: &str, ignored: bool) -> Command {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(exe);
            cmd
        }
        None => Command::new(exe),
    };
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"]);
    if ignored {
        cmd.arg("--ignored");
    }
    cmd
}

/// Runs a `test_child` command and fails, saying `context` and showing
/// its output, unless its one test ran and passed; prints that output.
pub fn expect_one_passed(cmd: &mut Command, context: &str) {
    let out = cmd.output().expect("run the child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{context}:\n{stdout}\n{stderr}"
    );
    print!("{stdout}");
}
