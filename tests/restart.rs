//! A listener closed while another thread of the process is starting a
//! program: between fork and exec the child holds a copy of every
//! descriptor, close-on-exec ones included, so closing the listener's
//! descriptor alone would leave it listening, and listening again on its
//! port would fail with "address already in use" until the child execs.
//! Closing a listener stops it listening at once.

mod common;
use common::*;
use gonet::*;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

#[test]
fn a_listener_closed_during_a_fork_frees_its_port_at_once() {
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
    // SAFETY: NUL-terminated strings.
    let again = unsafe { net_listen(c"tcp".as_ptr(), cstr(&addr).as_ptr()) };
    let err = last_error();
    let child_status = child.join().unwrap();
    assert!(child_status.success());
    assert!(again > 0, "listening again on {addr}: {err}");
    let c = dial("tcp", &addr);
    let s = net_accept(again);
    assert!(s > 0, "{}", last_error());
    for h in [c, s, again] {
        assert_eq!(net_close(h), 0);
    }
}
