//! Network namespaces for tests, with or without root.
//!
//! A test that needs network namespaces (or raw sockets, or anything else
//! root may do to a network) starts with
//!
//! ```ignore
//! if !root_or_sandbox(module_path!(), "the_test_s_own_name") {
//!     return;
//! }
//! ```
//!
//! As root this returns true at once. As another user it runs the same
//! test again in a child process inside a sandbox: `unshare --user
//! --map-root-user --net --mount`, a user namespace where the test is root,
//! with a network namespace of its own (loopback up) and a private tmpfs on
//! /run for `ip netns` to keep its namespaces in; the child's verdict is the
//! test's. Where the kernel allows no unprivileged user namespace, the test
//! says that it did not run (`did_not_run`) and passes, unless
//! `GONET_REQUIRE_ALL_TESTS` is set (CI sets it), where it fails.
//!
//! Then `Netns::new` makes a namespace (`ip netns add`), `Netns::ip`
//! configures it, `Netns::spawn` runs a thread inside it, `Netns::command`
//! a program (seeing the files given to `Netns::set_etc` in place of
//! /etc/hosts, /etc/resolv.conf...), and `Netns::run_test` an ignored test
//! of the same binary. Nothing is written outside the build tree: not
//! /etc/netns, and as non-root not even /run/netns.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::thread;

/// Set (to anything but "0") by .ci/run: a test that cannot run here
/// fails instead of saying so and passing.
pub const REQUIRE_ALL_TESTS: &str = "GONET_REQUIRE_ALL_TESTS";

/// Says that `test` did not run, and why, on this process's standard
/// error, which the test harness does not capture, so that `cargo test`
/// shows it beside the test's `ok`; or fails, saying the same, when
/// `GONET_REQUIRE_ALL_TESTS` is set.
pub fn did_not_run(test: &str, why: &str) {
    let msg = format!("NOT RUN: {test}: {why}");
    let required = std::env::var_os(REQUIRE_ALL_TESTS).is_some_and(|v| v != "0");
    assert!(!required, "{msg} ({REQUIRE_ALL_TESTS} is set)");
    // Straight to the descriptor: eprintln! would be captured, and shown
    // only if the test failed.
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// CAP_NET_ADMIN and CAP_SYS_ADMIN.
const ADMIN_CAPS: u64 = 1 << 12 | 1 << 21;

/// Whether this process may make and enter network namespaces: it holds
/// CAP_NET_ADMIN and CAP_SYS_ADMIN, as root does, and as the sandbox's
/// root does in its own namespaces.
pub fn namespace_admin() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    eff & ADMIN_CAPS == ADMIN_CAPS
}

/// What the sandbox's shell does before it runs the test: /run of its own
/// (for /run/netns), and loopback up, as on a machine.
const SANDBOX_SETUP: &str = "mount -t tmpfs -o mode=755 gonet-run /run && ip link set lo up";

/// `unshare ... sh -c script sh`: the sandbox, and a shell in it running
/// `script` (with arguments appended after these as "$@").
fn sandbox_wrapper(script: &str) -> [&str; 9] {
    [
        "unshare",
        "--user",
        "--map-root-user",
        "--net",
        "--mount",
        "sh",
        "-c",
        script,
        "sh",
    ]
}

/// Whether this kernel lets this user make the sandbox, and in it a veth
/// pair: `Err` says why not. Asked once per process.
pub fn sandbox_available() -> Result<(), String> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let script = format!(
                "{SANDBOX_SETUP} && ip link add gonet-probe0 type veth peer name gonet-probe1"
            );
            let [program, args @ ..] = sandbox_wrapper(&script);
            let probe = Command::new(program)
                .args(args)
                .env("PATH", sbin_path())
                .output();
            match probe {
                Ok(out) if out.status.success() => Ok(()),
                Ok(out) => Err(format!(
                    "cannot make an unprivileged user and network namespace here \
                     (unshare --user --map-root-user --net --mount: {})",
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
                Err(e) => Err(format!("cannot run unshare (util-linux): {e}")),
            }
        })
        .clone()
}

/// Makes sure the calling test, `test` of module `module` (the caller's
/// `module_path!()`), runs where it may make network namespaces and open
/// raw sockets. True: go on, this process may (it is root, or inside the
/// sandbox). False: return at once; the test has been run in the sandbox
/// in a child process, and passed (this panics if it did not), or it could
/// not be, and `did_not_run` said so.
pub fn root_or_sandbox(module: &str, test: &str) -> bool {
    if namespace_admin() {
        return true;
    }
    let name = super::test_name(module, test);
    if let Err(why) = sandbox_available() {
        did_not_run(&name, &why);
        return false;
    }
    let script = format!("{SANDBOX_SETUP} && exec \"$@\"");
    let mut cmd = super::test_child(&sandbox_wrapper(&script), &name, false);
    cmd.env("PATH", sbin_path());
    super::expect_one_passed(&mut cmd, &format!("{name} failed in the sandbox"));
    false
}

/// $PATH with the system's sbin directories after it: a user's $PATH
/// often lacks them, and ip, tc, nft and dnsmasq live there.
pub fn sbin_path() -> std::ffi::OsString {
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    let have: Vec<PathBuf> = std::env::split_paths(&path).collect();
    for dir in ["/usr/local/sbin", "/usr/sbin", "/sbin"] {
        if !have.iter().any(|d| d == std::path::Path::new(dir)) {
            path.push(format!(":{dir}"));
        }
    }
    path
}

/// `program` found in `sbin_path`, as an absolute path (or the bare name
/// when it is nowhere there). Started by its absolute path, a command
/// whose environment sets PATH is spawned with posix_spawn; by its bare
/// name it would be forked, and a fork makes every listener the process
/// has look shared with the child until it execs (their close then leaves
/// the port to it: see `NetFd::close`), which the restart tests' re-listen
/// would meet as "address already in use".
pub fn sbin_program(program: &str) -> std::ffi::OsString {
    std::env::split_paths(&sbin_path())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .map_or_else(|| program.into(), PathBuf::into_os_string)
}

/// Runs `ip args`; the error says the command and what ip said.
pub fn run_ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new(sbin_program("ip"))
        .env("PATH", sbin_path())
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip (iproute2): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A network namespace `gonet-<pid>-<tag>` with loopback up, made with
/// `ip netns add` (call `root_or_sandbox` first); deleted on drop.
pub struct Netns {
    name: String,
    /// Files bound over /etc/<name> for `command`: (name, file holding it).
    etc: Vec<(String, PathBuf)>,
}

impl Netns {
    /// Panics, saying what failed, if the namespace cannot be made.
    pub fn new(tag: &str) -> Netns {
        let ns = Netns {
            name: format!("gonet-{}-{tag}", std::process::id()),
            etc: Vec::new(),
        };
        if let Err(e) = run_ip(&["netns", "add", &ns.name]) {
            panic!(
                "cannot make network namespace {} ({e}); it takes root, or \
                 root_or_sandbox first, and iproute2",
                ns.name
            );
        }
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where `ip netns` keeps it (for `setns`).
    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// `ip -n <name> args`.
    pub fn try_ip(&self, args: &[&str]) -> Result<(), String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run_ip(&all)
    }

    /// `ip -n <name> args`; panics with what ip said if it fails.
    pub fn ip(&self, args: &[&str]) {
        if let Err(e) = self.try_ip(args) {
            panic!("setting up network namespace {}: {e}", self.name);
        }
    }

    /// Programs that `command` runs see `contents` as /etc/`file` (for
    /// example "hosts" or "resolv.conf"), as `ip netns exec` shows
    /// /etc/netns/<name>/<file>; but nothing is written to /etc: the file
    /// is kept in the build tree and bind-mounted in a mount namespace of
    /// the program's own. /etc/`file` must exist.
    pub fn set_etc(&mut self, file: &str, contents: &str) {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("netns-etc")
            .join(&self.name);
        std::fs::create_dir_all(&dir).expect("a directory for the namespace's files");
        let path = dir.join(file);
        std::fs::write(&path, contents).expect("write the namespace's file");
        self.etc.retain(|(f, _)| f != file);
        self.etc.push((file.to_owned(), path));
    }

    /// A command that runs `program` inside the namespace (with `ip netns
    /// exec`, which also shows it the namespace's /sys) and its /etc files;
    /// `program` is looked for in the sbin directories too.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(sbin_program("ip"));
        cmd.env("PATH", sbin_path())
            .args(["netns", "exec", &self.name])
            .arg(program);
        self.bind_etc(&mut cmd);
        cmd
    }

    /// Has `cmd` start in a mount namespace of its own, in which the
    /// namespace's files are bound over those in /etc.
    fn bind_etc(&self, cmd: &mut Command) {
        if self.etc.is_empty() {
            return;
        }
        let binds: Vec<(CString, CString)> = self
            .etc
            .iter()
            .map(|(file, path)| {
                let target = CString::new(format!("/etc/{file}")).expect("no NUL");
                let source = CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL");
                (source, target)
            })
            .collect();
        // SAFETY: the closure runs in the child between fork and exec; it
        // only makes system calls (async-signal-safe) on strings prepared
        // before the fork.
        unsafe {
            cmd.pre_exec(move || {
                let fail = || Err(std::io::Error::last_os_error());
                if libc::unshare(libc::CLONE_NEWNS) != 0 {
                    return fail();
                }
                // Private first, so that the binds below stay in this
                // mount namespace and never reach the machine's /etc.
                let root = c"/";
                let flags = libc::MS_REC | libc::MS_PRIVATE;
                if libc::mount(
                    std::ptr::null(),
                    root.as_ptr(),
                    std::ptr::null(),
                    flags,
                    std::ptr::null(),
                ) != 0
                {
                    return fail();
                }
                for (source, target) in &binds {
                    if libc::mount(
                        source.as_ptr(),
                        target.as_ptr(),
                        std::ptr::null(),
                        libc::MS_BIND,
                        std::ptr::null(),
                    ) != 0
                    {
                        return fail();
                    }
                }
                Ok(())
            });
        }
    }

    /// Runs the ignored test `test` of module `module` (the caller's
    /// `module_path!()`) of this binary inside the namespace, and fails
    /// unless it ran and passed.
    pub fn run_test(&self, module: &str, test: &str) {
        let name = super::test_name(module, test);
        let ip = sbin_program("ip");
        let ip = ip.to_str().unwrap_or("ip");
        let mut cmd = super::test_child(&[ip, "netns", "exec", &self.name], &name, true);
        cmd.env("PATH", sbin_path());
        self.bind_etc(&mut cmd);
        super::expect_one_passed(
            &mut cmd,
            &format!("{name} failed inside network namespace {}", self.name),
        );
    }

    /// Runs `f` on a new thread inside the namespace: `setns` moves that
    /// thread alone, so threads in different namespaces share a process.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> thread::JoinHandle<T> {
        let path = self.path();
        thread::spawn(move || {
            let file = std::fs::File::open(&path).expect("open the namespace");
            // SAFETY: setns with a namespace descriptor held open; it
            // changes this thread's network namespace only.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(
                rc,
                0,
                "setns {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            );
            f()
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = run_ip(&["netns", "del", &self.name]);
        if let Some((_, path)) = self.etc.first() {
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}
