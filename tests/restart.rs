//! Listening again on the port of a listener just closed. `net_close`
//! returns once no thread of the process uses the listener, so the port is
//! free at once: even while another thread was blocked in `net_accept` on
//! it. A listener made before the process called `fork` may have workers
//! in the children (a prefork server), so its close closes this process's
//! descriptor only, as Go's does; then, as in Go, a child between fork and
//! exec holds a copy of every descriptor, close-on-exec ones included, and
//! the port stays busy until the child execs.

mod common;
use common::*;
use gonet::*;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

/// The tests take turns: a child forked by one would hold copies of the
/// other's listeners.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn try_listen(addr: &str) -> i64 {
    // SAFETY: NUL-terminated strings.
    unsafe { net_listen(c"tcp".as_ptr(), cstr(addr).as_ptr()) }
}

#[test]
fn a_listener_closed_while_accepting_frees_its_port_at_once() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut l = listen("tcp", "127.0.0.1:0");
    let addr = local_addr(l);
    for round in 0..50 {
        let accepting = std::thread::spawn(move || net_accept(l));
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(net_close(l), 0);
        let again = try_listen(&addr);
        assert!(
            again > 0,
            "round {round}: listening again on {addr}: {}",
            last_error()
        );
        assert_eq!(accepting.join().unwrap(), NET_ECLOSED);
        l = again;
    }
    let c = dial("tcp", &addr);
    let s = net_accept(l);
    assert!(s > 0, "{}", last_error());
    close_all(&[c, s, l]);
}

#[test]
fn a_listener_closed_during_a_fork_is_free_once_the_child_execs() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let l = listen("tcp", "127.0.0.1:0");
    let addr = local_addr(l);
    let mut cmd = Command::new("true");
    // SAFETY: the hook only sleeps, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            // Holds the copied descriptors, the listener's among them, for
            // a while before exec closes them.
            libc::usleep(1_500_000);
            Ok(())
        });
    }
    let child = std::thread::spawn(move || cmd.status().expect("run true"));
    // Let the child fork and start its sleep.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(net_close(l), 0);
    // The window Go has too: the child's copy still listens.
    assert_eq!(try_listen(&addr), NET_EADDRINUSE, "{}", last_error());
    assert_eq!(
        last_error(),
        format!("listen tcp {addr}: bind: address already in use")
    );
    assert!(child.join().unwrap().success());
    let again = try_listen(&addr);
    assert!(again > 0, "listening again on {addr}: {}", last_error());
    let c = dial("tcp", &addr);
    let s = net_accept(again);
    assert!(s > 0, "{}", last_error());
    close_all(&[c, s, again]);
}
