//! What servers need beyond listen and accept: listen configurations
//! (SO_REUSEPORT across processes, backlog, keep-alive), control functions
//! on listens and dials, `net_control` racing `net_close`, and the
//! per-connection options (linger, buffer sizes, keep-alive
//! configuration), each checked with `getsockopt` on the real socket.
//! Its own binary: the tests count this process's descriptors, and take
//! `SERIAL` in turn so that the counts are theirs alone.

mod common;
use common::*;
use gonet::*;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` with the descriptor of handle `h` through `net_control`.
fn with_fd<R>(h: i64, f: impl FnOnce(c_int) -> R) -> R {
    unsafe extern "C" fn tramp(fd: c_int, arg: *mut c_void) {
        // SAFETY: arg is the `&mut dyn FnMut` passed below, alive for the call.
        let f = unsafe { &mut *arg.cast::<&mut dyn FnMut(c_int)>() };
        f(fd);
    }
    let mut f = Some(f);
    let mut out = None;
    let mut call = |fd: c_int| out = f.take().map(|f| f(fd));
    let mut dynf: &mut dyn FnMut(c_int) = &mut call;
    // SAFETY: tramp matches the callback type; the argument outlives the call.
    let rc = unsafe {
        net_control(
            h,
            Some(tramp),
            (&mut dynf as *mut &mut dyn FnMut(c_int)).cast(),
        )
    };
    assert_eq!(rc, 0, "net_control: {}", last_error());
    out.expect("the control function ran")
}

fn getsockopt_int(fd: c_int, level: c_int, name: c_int) -> c_int {
    let mut v: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: v and len are live and sized for an int option.
    let rc = unsafe { libc::getsockopt(fd, level, name, (&mut v as *mut c_int).cast(), &mut len) };
    assert_eq!(
        rc,
        0,
        "getsockopt({level}, {name}): {}",
        std::io::Error::last_os_error()
    );
    v
}

fn sockopt(h: i64, level: c_int, name: c_int) -> c_int {
    with_fd(h, |fd| getsockopt_int(fd, level, name))
}

fn lc_listen(lc: i64, network: &str, address: &str) -> i64 {
    // SAFETY: NUL-terminated strings.
    unsafe { net_listen_config_listen(lc, cstr(network).as_ptr(), cstr(address).as_ptr()) }
}

fn lc_listen_packet(lc: i64, network: &str, address: &str) -> i64 {
    // SAFETY: NUL-terminated strings.
    unsafe { net_listen_config_listen_packet(lc, cstr(network).as_ptr(), cstr(address).as_ptr()) }
}

fn dialer_dial(d: i64, network: &str, address: &str) -> i64 {
    // SAFETY: NUL-terminated strings.
    unsafe { net_dialer_dial(d, cstr(network).as_ptr(), cstr(address).as_ptr()) }
}

/// Serves `listener` on a thread: each accepted connection gets `reply`
/// and is closed; ends when the listener is closed.
fn serve(listener: i64, reply: &'static [u8]) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut served = 0;
        loop {
            let c = net_accept(listener);
            if c < 0 {
                return served;
            }
            write(c, reply);
            net_close(c);
            served += 1;
        }
    })
}

/// The child half of `two_processes_share_a_port_with_reuseport`: listens
/// with SO_REUSEPORT on GONET_TEST_PORT, says so, and serves for a while.
#[test]
#[ignore = "run by two_processes_share_a_port_with_reuseport"]
fn reuseport_child() {
    let addr = std::env::var("GONET_TEST_ADDR").expect("GONET_TEST_ADDR");
    let lc = net_listen_config_new();
    assert_eq!(net_listen_config_set_reuseport(lc, 1), 0);
    let l = lc_listen(lc, "tcp", &addr);
    assert!(l > 0, "child listen: {}", last_error());
    println!("listening");
    let server = serve(l, b"child");
    std::thread::sleep(Duration::from_secs(2));
    net_close(l);
    let served = server.join().unwrap();
    println!("served {served}");
}

#[test]
fn two_processes_share_a_port_with_reuseport() {
    let _serial = serial();
    let lc = net_listen_config_new();
    assert!(lc > 0);
    assert_eq!(net_listen_config_set_reuseport(lc, 1), 0);
    let l = lc_listen(lc, "tcp", "127.0.0.1:0");
    assert!(l > 0, "{}", last_error());
    let addr = local_addr(l);
    assert_eq!(sockopt(l, libc::SOL_SOCKET, libc::SO_REUSEPORT), 1);

    // Without SO_REUSEPORT the port is taken, with Go's message.
    // SAFETY: NUL-terminated strings.
    let plain = unsafe { net_listen(c"tcp".as_ptr(), cstr(&addr).as_ptr()) };
    assert_eq!(plain, NET_EADDRINUSE, "{}", last_error());
    assert_eq!(
        last_error(),
        format!("listen tcp {addr}: bind: address already in use")
    );

    let mut child = test_child(&[], "reuseport_child", true)
        .env("GONET_TEST_ADDR", &addr)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the child");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .take(20)
        .map_while(Result::ok)
        .any(|l| l.contains("listening"));
    assert!(ready, "the child never listened");

    let server = serve(l, b"parent");
    let (mut parent, mut other) = (0, 0);
    for _ in 0..64 {
        let c = dial("tcp", &addr);
        let mut buf = [0u8; 16];
        let n = read(c, &mut buf);
        assert!(n > 0, "{}", last_error());
        match &buf[..n as usize] {
            b"parent" => parent += 1,
            b"child" => other += 1,
            got => panic!("unexpected reply {got:?}"),
        }
        net_close(c);
        if parent > 0 && other > 0 {
            break;
        }
    }
    net_close(l);
    server.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(
        parent > 0 && other > 0,
        "parent served {parent}, child {other}"
    );
    assert_eq!(net_close(lc), 0);
}

unsafe extern "C" fn set_mark_and_rcvbuf(
    network: *const c_char,
    address: *const c_char,
    fd: c_int,
    arg: *mut c_void,
) -> i64 {
    // SAFETY: gonet passes NUL-terminated strings and, here, a Mutex.
    let seen = unsafe { &*arg.cast::<Mutex<Vec<(String, String)>>>() };
    // SAFETY: as above.
    let (network, address) = unsafe {
        (
            CStr::from_ptr(network).to_string_lossy().into_owned(),
            CStr::from_ptr(address).to_string_lossy().into_owned(),
        )
    };
    seen.lock().unwrap().push((network, address));
    let mark: c_int = 42;
    let rcvbuf: c_int = 65536;
    // SAFETY: fd is the new socket; the values are live ints.
    unsafe {
        if libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_MARK,
            (&mark as *const c_int).cast(),
            4,
        ) != 0
        {
            return NET_ESYSTEM;
        }
        if libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&rcvbuf as *const c_int).cast(),
            4,
        ) != 0
        {
            return NET_ESYSTEM;
        }
    }
    0
}

unsafe extern "C" fn refuse(_: *const c_char, _: *const c_char, _: c_int, arg: *mut c_void) -> i64 {
    // SAFETY: arg is a live AtomicUsize.
    unsafe { &*arg.cast::<AtomicUsize>() }.fetch_add(1, Ordering::SeqCst);
    NET_EREFUSED
}

unsafe extern "C" fn refuse_oddly(
    _: *const c_char,
    _: *const c_char,
    _: c_int,
    _: *mut c_void,
) -> i64 {
    -1000
}

#[test]
fn control_functions_set_options_before_bind_and_connect() {
    let _serial = serial();
    let seen: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let arg = (&seen as *const Mutex<Vec<(String, String)>>)
        .cast_mut()
        .cast();
    let lc = net_listen_config_new();
    // SAFETY: the function matches net_control_fn; seen outlives lc's use.
    assert_eq!(
        unsafe { net_listen_config_set_control(lc, Some(set_mark_and_rcvbuf), arg) },
        0
    );
    let l = lc_listen(lc, "tcp", "127.0.0.1:0");
    assert!(l > 0, "{}", last_error());
    assert_eq!(sockopt(l, libc::SOL_SOCKET, libc::SO_MARK), 42);
    // The kernel doubles SO_RCVBUF for its bookkeeping.
    assert_eq!(sockopt(l, libc::SOL_SOCKET, libc::SO_RCVBUF), 2 * 65536);
    let addr = local_addr(l);
    assert_eq!(
        seen.lock().unwrap().last().unwrap(),
        &("tcp4".to_owned(), "127.0.0.1:0".to_owned())
    );

    let p = lc_listen_packet(lc, "udp", "127.0.0.1:0");
    assert!(p > 0, "{}", last_error());
    assert_eq!(sockopt(p, libc::SOL_SOCKET, libc::SO_MARK), 42);
    assert_eq!(seen.lock().unwrap().last().unwrap().0, "udp4");

    let d = net_dialer_new();
    // SAFETY: as above.
    assert_eq!(
        unsafe { net_dialer_set_control(d, Some(set_mark_and_rcvbuf), arg) },
        0
    );
    let c = dialer_dial(d, "tcp", &addr);
    assert!(c > 0, "{}", last_error());
    assert_eq!(sockopt(c, libc::SOL_SOCKET, libc::SO_MARK), 42);
    assert_eq!(
        seen.lock().unwrap().last().unwrap(),
        &("tcp4".to_owned(), addr.clone())
    );
    // A NULL function removes it.
    // SAFETY: NULL is allowed.
    assert_eq!(
        unsafe { net_dialer_set_control(d, None, std::ptr::null_mut()) },
        0
    );
    let c2 = dialer_dial(d, "tcp", &addr);
    assert!(c2 > 0, "{}", last_error());
    assert_eq!(sockopt(c2, libc::SOL_SOCKET, libc::SO_MARK), 0);
    close_all(&[c, c2, p, l, d, lc]);
}

#[test]
fn a_failing_control_aborts_with_its_code_and_leaks_nothing() {
    let _serial = serial();
    // A first connection makes this thread's waker, kept for the thread's
    // life, before counting.
    warm_waker();
    let (l0, c0, s0) = tcp_pair();
    let target = local_addr(l0);
    close_all(&[c0, s0]);
    let calls = AtomicUsize::new(0);
    let arg = (&calls as *const AtomicUsize).cast_mut().cast();
    let fds = open_fds();

    let lc = net_listen_config_new();
    // SAFETY: refuse matches net_control_fn; calls outlives every use.
    assert_eq!(
        unsafe { net_listen_config_set_control(lc, Some(refuse), arg) },
        0
    );
    assert_eq!(lc_listen(lc, "tcp", "127.0.0.1:0"), NET_EREFUSED);
    assert_eq!(
        last_error(),
        "listen tcp 127.0.0.1:0: control: returned -6 (connection refused)"
    );
    let dir = scratch("servers_control");
    let path = dir.join("s").display().to_string();
    assert_eq!(lc_listen(lc, "unix", &path), NET_EREFUSED);
    assert_eq!(
        last_error(),
        format!("listen unix {path}: control: returned -6 (connection refused)")
    );
    assert!(
        !std::path::Path::new(&path).exists(),
        "no socket file is left"
    );
    assert_eq!(lc_listen_packet(lc, "udp", "127.0.0.1:0"), NET_EREFUSED);

    let d = net_dialer_new();
    // SAFETY: as above.
    assert_eq!(unsafe { net_dialer_set_control(d, Some(refuse), arg) }, 0);
    assert_eq!(dialer_dial(d, "tcp", &target), NET_EREFUSED);
    assert_eq!(
        last_error(),
        format!("dial tcp {target}: control: returned -6 (connection refused)")
    );
    assert_eq!(dialer_dial(d, "udp", "127.0.0.1:9"), NET_EREFUSED);
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    // A return that is no NET_E* code is an operating-system error.
    // SAFETY: as above.
    assert_eq!(
        unsafe { net_dialer_set_control(d, Some(refuse_oddly), arg) },
        0
    );
    assert_eq!(dialer_dial(d, "tcp", &target), NET_ESYSTEM);
    assert_eq!(
        last_error(),
        format!("dial tcp {target}: control: returned -1000 (unknown error code)")
    );
    close_all(&[d, lc]);
    assert_eq!(open_fds(), fds, "a refused socket leaked");
    close_all(&[l0]);
}

#[test]
fn a_listen_config_sets_backlog_and_keepalive() {
    let _serial = serial();
    let lc = net_listen_config_new();
    assert_eq!(net_listen_config_set_backlog(lc, 3), 0);
    assert_eq!(
        net_listen_config_set_keepalive_config(lc, 30_000, 5_000, 4),
        0
    );
    let l = lc_listen(lc, "tcp", "127.0.0.1:0");
    assert!(l > 0, "{}", last_error());
    let c = dial("tcp", &local_addr(l));
    let s = net_accept(l);
    assert!(s > 0);
    assert_eq!(sockopt(s, libc::SOL_SOCKET, libc::SO_KEEPALIVE), 1);
    assert_eq!(sockopt(s, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE), 30);
    assert_eq!(sockopt(s, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL), 5);
    assert_eq!(sockopt(s, libc::IPPROTO_TCP, libc::TCP_KEEPCNT), 4);
    // The backlog is the listening socket's queue limit, which `ss`
    // shows as its Send-Q; without one set it is net.core.somaxconn.
    assert_eq!(listen_queue_limit(&local_addr(l)), 3);
    let plain = listen("tcp", "127.0.0.1:0");
    let somaxconn: u64 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(listen_queue_limit(&local_addr(plain)), somaxconn);
    close_all(&[c, s, l, plain]);

    assert_eq!(net_listen_config_set_keepalive(lc, NET_FOREVER), 0);
    let lc2 = net_listen_config_new();
    assert_eq!(net_listen_config_set_keepalive(lc2, NET_FOREVER), 0);
    let l = lc_listen(lc2, "tcp", "127.0.0.1:0");
    let c = dial("tcp", &local_addr(l));
    let s = net_accept(l);
    assert_eq!(sockopt(s, libc::SOL_SOCKET, libc::SO_KEEPALIVE), 0);
    close_all(&[c, s, l, lc, lc2]);
    // Closed: every setter says so.
    assert_eq!(net_listen_config_set_reuseport(lc, 1), NET_ECLOSED);
    assert_eq!(lc_listen(lc, "tcp", "127.0.0.1:0"), NET_ECLOSED);
}

/// The accept queue limit of the TCP listener on `addr`, as `ss` reports it.
fn listen_queue_limit(addr: &str) -> u64 {
    let port = addr.rsplit(':').next().unwrap();
    let out = Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .output()
        .expect("run ss (iproute2)");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .next()
        .unwrap_or_else(|| panic!("ss found no listener on {addr}"));
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

#[test]
fn net_control_racing_close_never_sees_a_closed_descriptor() {
    let _serial = serial();
    warm_waker();
    let fds = open_fds();
    unsafe extern "C" fn check_open(fd: c_int, arg: *mut c_void) {
        // SAFETY: arg is a live AtomicBool.
        let bad = unsafe { &*arg.cast::<AtomicBool>() };
        // Long enough for a close to arrive meanwhile.
        std::thread::sleep(Duration::from_micros(200));
        let mut t: c_int = 0;
        let mut len = 4 as libc::socklen_t;
        // SAFETY: t and len are live.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_TYPE,
                (&mut t as *mut c_int).cast(),
                &mut len,
            )
        };
        if rc != 0 || t != libc::SOCK_STREAM {
            bad.store(true, Ordering::SeqCst);
        }
    }
    let bad = Arc::new(AtomicBool::new(false));
    let until = Instant::now() + Duration::from_secs(3);
    let mut rounds = 0;
    while rounds < 200 && Instant::now() < until {
        rounds += 1;
        let l = listen("tcp", "127.0.0.1:0");
        let controls: Vec<_> = (0..4)
            .map(|_| {
                let bad = Arc::clone(&bad);
                std::thread::spawn(move || {
                    let mut ok = 0;
                    for _ in 0..50 {
                        // SAFETY: check_open matches; bad outlives the call.
                        let rc = unsafe {
                            net_control(l, Some(check_open), Arc::as_ptr(&bad).cast_mut().cast())
                        };
                        match rc {
                            0 => ok += 1,
                            NET_ECLOSED => break,
                            rc => panic!("net_control: {rc} {}", last_error()),
                        }
                    }
                    ok
                })
            })
            .collect();
        std::thread::sleep(Duration::from_micros(300));
        assert_eq!(net_close(l), 0);
        // Once close has returned, no control function is running, so the
        // descriptor is gone: sockets made now may reuse its number.
        let others: Vec<i64> = (0..4).map(|_| listen("tcp", "127.0.0.1:0")).collect();
        for t in controls {
            t.join().unwrap();
        }
        close_all(&others);
    }
    assert!(
        !bad.load(Ordering::SeqCst),
        "a control function saw a closed or reused descriptor"
    );
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(open_fds(), fds);
    // A NULL function and a closed handle get their codes.
    // SAFETY: NULL is allowed.
    assert_eq!(
        unsafe { net_control(1, None, std::ptr::null_mut()) },
        NET_EINVAL
    );
}

#[test]
fn a_control_function_may_close_its_own_handle() {
    let _serial = serial();
    unsafe extern "C" fn close_it(_fd: c_int, arg: *mut c_void) {
        // SAFETY: arg holds the handle.
        let h = unsafe { *arg.cast::<i64>() };
        assert_eq!(net_close(h), 0);
    }
    let mut l = listen("tcp", "127.0.0.1:0");
    // SAFETY: close_it matches; l outlives the call.
    let rc = unsafe { net_control(l, Some(close_it), (&mut l as *mut i64).cast()) };
    assert_eq!(rc, 0);
    assert_eq!(net_close(l), NET_ECLOSED);
}

#[test]
fn close_waits_for_a_running_control_function() {
    let _serial = serial();
    static DONE: AtomicBool = AtomicBool::new(false);
    unsafe extern "C" fn slow(_fd: c_int, _arg: *mut c_void) {
        std::thread::sleep(Duration::from_millis(300));
        DONE.store(true, Ordering::SeqCst);
    }
    let (l, c, s) = tcp_pair();
    let t = std::thread::spawn(move || {
        // SAFETY: slow matches and ignores its argument.
        unsafe { net_control(s, Some(slow), std::ptr::null_mut()) }
    });
    std::thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    assert_eq!(net_close(s), 0);
    assert!(
        DONE.load(Ordering::SeqCst),
        "close returned while the control function ran"
    );
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(t.join().unwrap(), 0);
    // SAFETY: as above.
    assert_eq!(
        unsafe { net_control(s, Some(slow), std::ptr::null_mut()) },
        NET_ECLOSED
    );
    close_all(&[c, l]);
}

#[test]
fn linger_zero_resets_the_peer() {
    let _serial = serial();
    let (l, c, s) = tcp_pair();
    assert_eq!(net_set_linger(s, 0), 0);
    let lg = with_fd(s, |fd| {
        let mut v = libc::linger {
            l_onoff: 0,
            l_linger: 0,
        };
        let mut len = std::mem::size_of::<libc::linger>() as libc::socklen_t;
        // SAFETY: v and len are live and sized for the option.
        unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&mut v as *mut libc::linger).cast(),
                &mut len,
            )
        };
        (v.l_onoff, v.l_linger)
    });
    assert_eq!(lg, (1, 0));
    assert_eq!(net_close(s), 0);
    let mut buf = [0u8; 8];
    assert_eq!(read(c, &mut buf), NET_ERESET, "{}", last_error());
    assert!(
        last_error().ends_with("read: connection reset by peer"),
        "{}",
        last_error()
    );
    close_all(&[c, l]);
    // Negative is the default again.
    let (l, c, s) = tcp_pair();
    assert_eq!(net_set_linger(s, 5), 0);
    assert_eq!(net_set_linger(s, -1), 0);
    assert_eq!(sockopt(s, libc::SOL_SOCKET, libc::SO_LINGER), 0);
    // Unix and packet handles have no linger; listeners neither.
    let p = listen_packet("udp", "127.0.0.1:0");
    assert_eq!(net_set_linger(p, 0), NET_EINVAL);
    assert_eq!(net_set_linger(l, 0), NET_EINVAL);
    close_all(&[c, s, l, p]);
}

#[test]
fn buffer_sizes_and_keepalive_config_reach_the_socket() {
    let _serial = serial();
    let (l, c, s) = tcp_pair();
    assert_eq!(net_set_read_buffer(c, 32768), 0);
    assert_eq!(net_set_write_buffer(c, 65536), 0);
    assert_eq!(sockopt(c, libc::SOL_SOCKET, libc::SO_RCVBUF), 65536);
    assert_eq!(sockopt(c, libc::SOL_SOCKET, libc::SO_SNDBUF), 131072);
    assert_eq!(net_set_read_buffer(c, -1), NET_EINVAL);
    assert_eq!(net_set_read_buffer(l, 4096), NET_EINVAL);

    assert_eq!(net_set_keepalive_config(c, 10_500, 2_000, 3), 0);
    assert_eq!(sockopt(c, libc::SOL_SOCKET, libc::SO_KEEPALIVE), 1);
    assert_eq!(sockopt(c, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE), 11);
    assert_eq!(sockopt(c, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL), 2);
    assert_eq!(sockopt(c, libc::IPPROTO_TCP, libc::TCP_KEEPCNT), 3);
    // NET_DEFAULT: Go's defaults; NET_FOREVER (any other negative): left
    // as it was.
    assert_eq!(net_set_keepalive_config(c, NET_DEFAULT, NET_FOREVER, 0), 0);
    assert_eq!(sockopt(c, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE), 15);
    assert_eq!(sockopt(c, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL), 2);
    assert_eq!(sockopt(c, libc::IPPROTO_TCP, libc::TCP_KEEPCNT), 9);
    // 0 ms is the kernel's least, one second.
    assert_eq!(net_set_keepalive_config(c, 0, 1, NET_DEFAULT), 0);
    assert_eq!(sockopt(c, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE), 1);
    assert_eq!(sockopt(c, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL), 1);
    assert_eq!(sockopt(c, libc::IPPROTO_TCP, libc::TCP_KEEPCNT), 9);

    let p = listen_packet("udp", "127.0.0.1:0");
    assert_eq!(net_set_read_buffer(p, 100_000), 0);
    let rmem_max: c_int = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        sockopt(p, libc::SOL_SOCKET, libc::SO_RCVBUF),
        2 * rmem_max.min(100_000)
    );
    assert_eq!(net_set_keepalive_config(p, 1, 1, 1), NET_EINVAL);

    let d = net_dialer_new();
    assert_eq!(net_dialer_set_keepalive_config(d, 20_000, 7_000, 5), 0);
    let c2 = dialer_dial(d, "tcp", &local_addr(l));
    assert!(c2 > 0, "{}", last_error());
    assert_eq!(sockopt(c2, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE), 20);
    assert_eq!(sockopt(c2, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL), 7);
    assert_eq!(sockopt(c2, libc::IPPROTO_TCP, libc::TCP_KEEPCNT), 5);
    let s2 = net_accept(l);
    close_all(&[c, s, c2, s2, p, l, d]);
    assert_eq!(net_set_read_buffer(c, 1), NET_ECLOSED);
}

fn expect_err(rc: i64, code: i64, message: &str) {
    assert_eq!(rc, code, "{}", last_error());
    assert_eq!(last_error(), message);
}

#[test]
fn sockets_made_elsewhere_become_handles_and_stay_the_callers() {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    let _serial = serial();
    warm_waker();
    let fds = open_fds();
    {
        // A TCP listener: adopted, accepting; the caller's copy still works.
        let std_l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let l = net_file_listener(std_l.as_raw_fd());
        assert!(l > 0, "{}", last_error());
        let addr = std_l.local_addr().unwrap().to_string();
        assert_eq!(local_addr(l), addr);
        let c = dial("tcp", &addr);
        let s = net_accept(l);
        assert!(s > 0, "{}", last_error());
        assert_eq!(write(c, b"ping"), 4);
        assert_eq!(read_exact(s, 4), b"ping");
        assert_eq!(sockopt(s, libc::IPPROTO_TCP, libc::TCP_NODELAY), 1);
        close_all(&[c, s, l]);
        let mut other = std::net::TcpStream::connect(&addr).unwrap();
        let (mut got, _) = std_l.accept().unwrap();
        other.write_all(b"x").unwrap();
        let mut b = [0u8; 1];
        got.read_exact(&mut b).unwrap();

        // A TCP connection: the handle and the caller's stream are one socket.
        let c = net_file_conn(other.as_raw_fd());
        assert!(c > 0, "{}", last_error());
        assert_eq!(remote_addr(c), got.local_addr().unwrap().to_string());
        assert_eq!(write(c, b"from gonet"), 10);
        let mut b = [0u8; 10];
        got.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"from gonet");
        assert_eq!(net_close(c), 0);
        other.write_all(b"still open").unwrap();
        let mut b = [0u8; 10];
        got.read_exact(&mut b).unwrap();

        // Wrong kinds, with Go's message.
        let lfd = std_l.as_raw_fd();
        expect_err(
            net_file_conn(lfd),
            NET_EINVAL,
            &format!("file file+net fd {lfd}: invalid argument"),
        );
        let cfd = other.as_raw_fd();
        expect_err(
            net_file_listener(cfd),
            NET_EINVAL,
            &format!("file file+net fd {cfd}: invalid argument"),
        );
        expect_err(
            net_file_packet_conn(cfd),
            NET_EINVAL,
            &format!("file file+net fd {cfd}: invalid argument"),
        );
    }
    {
        // Unix: a listener whose file stays when the handle closes, and a
        // connection.
        let dir = scratch("servers_file_unix");
        let path = dir.join("s");
        let std_l = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let l = net_file_listener(std_l.as_raw_fd());
        assert!(l > 0, "{}", last_error());
        let p = path.display().to_string();
        let c = dial("unix", &p);
        let s = net_accept(l);
        assert!(s > 0, "{}", last_error());
        assert_eq!(write(s, b"hi"), 2);
        assert_eq!(read_exact(c, 2), b"hi");
        close_all(&[c, s, l]);
        assert!(path.exists(), "the caller's socket file stays");
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let h = net_file_conn(b.as_raw_fd());
        assert!(h > 0, "{}", last_error());
        a.write_all(b"unix").unwrap();
        assert_eq!(read_exact(h, 4), b"unix");
        assert_eq!(net_close(h), 0);
    }
    {
        // UDP and unixgram: packet handles, from both functions.
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let uaddr = u.local_addr().unwrap().to_string();
        let p = net_file_packet_conn(u.as_raw_fd());
        assert!(p > 0, "{}", last_error());
        let q = listen_packet("udp", "127.0.0.1:0");
        assert_eq!(write_to(q, b"dgram", &uaddr), 5);
        let mut buf = [0u8; 16];
        let (n, from) = read_from(p, &mut buf);
        assert_eq!((n, from), (5, local_addr(q)));
        let pc = net_file_conn(u.as_raw_fd());
        assert!(pc > 0, "{}", last_error());
        assert_eq!(write_to(pc, b"back", &local_addr(q)), 4);
        assert_eq!(read_from(q, &mut buf).0, 4);
        expect_err(
            net_file_listener(u.as_raw_fd()),
            NET_EINVAL,
            &format!("file file+net fd {}: invalid argument", u.as_raw_fd()),
        );
        close_all(&[p, pc, q]);
        let (a, b) = std::os::unix::net::UnixDatagram::pair().unwrap();
        let g = net_file_packet_conn(b.as_raw_fd());
        assert!(g > 0, "{}", last_error());
        a.send(b"gram").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(read(g, &mut buf), 4);
        assert_eq!(write(g, b"back"), 4);
        assert_eq!(a.recv(&mut buf).unwrap(), 4);
        assert_eq!(net_close(g), 0);
    }
    {
        // A pipe and a regular file are refused with Go's message, and
        // stay open.
        let mut pipe = [0 as c_int; 2];
        // SAFETY: pipe has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0);
        let not_socket = |fd: c_int| {
            format!("file file+net fd {fd}: getsockopt: socket operation on non-socket")
        };
        expect_err(net_file_conn(pipe[0]), NET_ESYSTEM, &not_socket(pipe[0]));
        expect_err(
            net_file_listener(pipe[1]),
            NET_ESYSTEM,
            &not_socket(pipe[1]),
        );
        // SAFETY: pipe[1] is open; the byte is live.
        assert_eq!(unsafe { libc::write(pipe[1], b"p".as_ptr().cast(), 1) }, 1);
        let file = std::fs::File::open("/proc/self/status").unwrap();
        expect_err(
            net_file_packet_conn(file.as_raw_fd()),
            NET_ESYSTEM,
            &not_socket(file.as_raw_fd()),
        );
        // SAFETY: both are open and this test's.
        unsafe {
            libc::close(pipe[0]);
            libc::close(pipe[1]);
        }
        expect_err(
            net_file_conn(-1),
            NET_ESYSTEM,
            "file file+net fd -1: fcntl: bad file descriptor",
        );
    }
    {
        // Out: net_file gives a close-on-exec copy that outlives the handle.
        let (l, c, s) = tcp_pair();
        let f = net_file(c);
        assert!(f >= 0, "{}", last_error());
        let f = f as c_int;
        // SAFETY: f is open.
        let flags = unsafe { libc::fcntl(f, libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        assert_eq!(net_close(c), 0);
        // SAFETY: f is open; the bytes are live.
        assert_eq!(unsafe { libc::write(f, b"after".as_ptr().cast(), 5) }, 5);
        assert_eq!(read_exact(s, 5), b"after");
        // SAFETY: f is this test's.
        unsafe { libc::close(f) };
        assert_eq!(net_file(c), NET_ECLOSED);
        let lf = net_file(l);
        assert!(lf >= 0);
        // SAFETY: lf is this test's.
        unsafe { libc::close(lf as c_int) };
        close_all(&[s, l]);
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(open_fds(), fds, "a descriptor leaked");
}

/// Makes this thread's waker (one eventfd per thread that ever waits in
/// poll, kept until the thread ends) before a test counts descriptors:
/// a read that times out waits once.
fn warm_waker() {
    let (l, c, s) = tcp_pair();
    assert_eq!(net_set_read_deadline(c, 5), 0);
    assert_eq!(read(c, &mut [0u8; 1]), NET_ETIMEOUT);
    close_all(&[c, s, l]);
}

fn unix_pair(network: &str, name: &str) -> (i64, i64, Option<i64>) {
    let dir = scratch(name);
    let path = dir.join("s").display().to_string();
    if network == "unix" {
        let l = listen("unix", &path);
        let c = dial("unix", &path);
        let s = net_accept(l);
        assert!(s > 0, "{}", last_error());
        (c, s, Some(l))
    } else {
        let server = listen_packet("unixgram", &path);
        let client = dial("unixgram", &path);
        (client, server, None)
    }
}

fn send_fds(h: i64, data: &[u8], fds: &[c_int]) -> i64 {
    // SAFETY: data and fds are live for their lengths.
    unsafe { net_write_msg_unix(h, data.as_ptr().cast(), data.len(), fds.as_ptr(), fds.len()) }
}

fn recv_fds(h: i64, len: usize, cap: usize) -> (i64, Vec<u8>, Vec<c_int>) {
    let mut buf = vec![0u8; len];
    let mut fds = vec![-1 as c_int; cap];
    let mut n: usize = 0;
    // SAFETY: buf, fds and n are live for their lengths.
    let rc = unsafe {
        net_read_msg_unix(
            h,
            buf.as_mut_ptr().cast(),
            buf.len(),
            fds.as_mut_ptr(),
            cap,
            &mut n,
        )
    };
    buf.truncate(rc.max(0) as usize);
    fds.truncate(n);
    (rc, buf, fds)
}

/// A pipe whose write end goes through a socket: what the receiver reads
/// from its copy of the read end shows it is the same pipe.
fn check_same_pipe(sent_write_end: c_int, got: c_int, tag: u8) {
    // SAFETY: both descriptors are open; the byte is live.
    unsafe {
        assert_eq!(libc::write(sent_write_end, [tag].as_ptr().cast(), 1), 1);
        let flags = libc::fcntl(got, libc::F_GETFD);
        assert_eq!(
            flags & libc::FD_CLOEXEC,
            libc::FD_CLOEXEC,
            "received descriptors are close-on-exec"
        );
    }
}

#[test]
fn descriptors_pass_over_unix_sockets_and_none_leak() {
    let _serial = serial();
    warm_waker();
    let fds_before = open_fds();
    for network in ["unix", "unixgram"] {
        let (c, s, l) = unix_pair(network, &format!("servers_fds_{network}"));
        // One descriptor: a pipe's write end.
        let mut pipe = [0 as c_int; 2];
        // SAFETY: pipe has room for two.
        assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0);
        assert_eq!(send_fds(c, b"one", &[pipe[1]]), 3, "{}", last_error());
        let (n, data, got) = recv_fds(s, 16, 4);
        assert_eq!(
            (n, &data[..], got.len()),
            (3, &b"one"[..], 1),
            "{}",
            last_error()
        );
        check_same_pipe(got[0], got[0], b'x');
        let mut b = [0u8; 1];
        // SAFETY: pipe[0] is open; b is live.
        assert_eq!(unsafe { libc::read(pipe[0], b.as_mut_ptr().cast(), 1) }, 1);
        assert_eq!(b[0], b'x');
        // SAFETY: these are this test's.
        unsafe {
            libc::close(got[0]);
        }

        // 253, the most one message carries.
        let many: Vec<c_int> = vec![pipe[1]; 253];
        assert_eq!(send_fds(c, b"many", &many), 4, "{}", last_error());
        let (n, _, got) = recv_fds(s, 16, 253);
        assert_eq!((n, got.len()), (4, 253), "{}", last_error());
        for fd in got {
            // SAFETY: received, so this test's.
            unsafe { libc::close(fd) };
        }
        // More is refused before anything is sent.
        let too_many: Vec<c_int> = vec![pipe[1]; 254];
        assert_eq!(send_fds(c, b"x", &too_many), NET_EINVAL);

        // Room for fewer: the rest are closed, and the call says so.
        assert_eq!(send_fds(c, b"some", &[pipe[1]; 5]), 4);
        let before = open_fds();
        let (n, _, got) = recv_fds(s, 16, 2);
        assert_eq!(n, NET_EMSGSIZE);
        assert!(
            last_error()
                .ends_with("5 descriptors received did not fit in room for 2, and were closed"),
            "{}",
            last_error()
        );
        assert_eq!(got.len(), 2);
        assert_eq!(open_fds(), before + 2, "only the two that fit are open");
        for fd in got {
            // SAFETY: received, so this test's.
            unsafe { libc::close(fd) };
        }
        // No room at all: every one closed.
        assert_eq!(send_fds(c, b"none", &[pipe[1]; 3]), 4);
        let before = open_fds();
        // SAFETY: NULL fds with no room, NULL nfds.
        let rc = unsafe {
            let mut buf = [0u8; 8];
            net_read_msg_unix(
                s,
                buf.as_mut_ptr().cast(),
                8,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rc, NET_EMSGSIZE);
        assert_eq!(open_fds(), before);
        // Plain data with no descriptors.
        assert_eq!(send_fds(c, b"plain", &[]), 5);
        let (n, data, got) = recv_fds(s, 16, 4);
        assert_eq!((n, &data[..], got.len()), (5, &b"plain"[..], 0));
        // A descriptor that is not open.
        assert_eq!(send_fds(c, b"x", &[9999]), NET_ESYSTEM);
        assert!(
            last_error().ends_with("sendmsg: bad file descriptor"),
            "{}",
            last_error()
        );
        // SAFETY: these are this test's.
        unsafe {
            libc::close(pipe[0]);
            libc::close(pipe[1]);
        }
        // Peer credentials: this process, both ends.
        if network == "unix" {
            let (mut pid, mut uid, mut gid) = (0i64, -1i64, -1i64);
            // SAFETY: the out pointers are live.
            assert_eq!(
                unsafe { net_unix_peer_cred(s, &mut pid, &mut uid, &mut gid) },
                0
            );
            // SAFETY: plain queries.
            let me = unsafe { (libc::getpid(), libc::getuid(), libc::getgid()) };
            assert_eq!((pid, uid, gid), (me.0 as i64, me.1 as i64, me.2 as i64));
            // SAFETY: NULL pointers are allowed.
            assert_eq!(
                unsafe {
                    net_unix_peer_cred(
                        c,
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                    )
                },
                0
            );
        }
        close_all(&[c, s]);
        if let Some(l) = l {
            close_all(&[l]);
        }
    }
    // Not Unix: refused.
    let (l, c, s) = tcp_pair();
    assert_eq!(send_fds(c, b"x", &[0]), NET_EINVAL);
    let mut pid = 0i64;
    // SAFETY: pid is live.
    assert_eq!(
        unsafe { net_unix_peer_cred(c, &mut pid, std::ptr::null_mut(), std::ptr::null_mut()) },
        NET_EINVAL
    );
    close_all(&[l, c, s]);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(open_fds(), fds_before, "a descriptor leaked");
}

#[test]
fn writev_from_eight_threads_never_interleaves() {
    let _serial = serial();
    const THREADS: usize = 8;
    const RECORDS: usize = 50;
    let (l, c, s) = tcp_pair();
    let reader = std::thread::spawn(move || {
        let total = THREADS * RECORDS;
        let mut records = Vec::new();
        for _ in 0..total {
            let head = read_exact(s, 5);
            let len = u32::from_le_bytes(head[1..5].try_into().unwrap()) as usize;
            let body = read_exact(s, len);
            assert!(
                body.iter().all(|&b| b == head[0]),
                "record of thread {} interleaved",
                head[0]
            );
            records.push(head[0]);
        }
        records
    });
    let writers: Vec<_> = (0..THREADS as u8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..RECORDS {
                    // Up to 400 kB: more than the socket takes at once,
                    // so that a record goes in several sendmsg calls.
                    let len = 1000 + (i * 7919 * 53) % 400_000;
                    let body = vec![t; len];
                    let mut head = vec![t];
                    head.extend_from_slice(&(len as u32).to_le_bytes());
                    // Three pieces: header, and the body in two.
                    let iov = [
                        libc::iovec {
                            iov_base: head.as_ptr().cast_mut().cast(),
                            iov_len: head.len(),
                        },
                        libc::iovec {
                            iov_base: body.as_ptr().cast_mut().cast(),
                            iov_len: len / 2,
                        },
                        libc::iovec {
                            iov_base: body[len / 2..].as_ptr().cast_mut().cast(),
                            iov_len: len - len / 2,
                        },
                    ];
                    // SAFETY: the iovecs point into live buffers.
                    let n = unsafe { net_writev(c, iov.as_ptr(), 3) };
                    assert_eq!(n, (5 + len) as i64, "{}", last_error());
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let records = reader.join().unwrap();
    for t in 0..THREADS as u8 {
        assert_eq!(records.iter().filter(|&&r| r == t).count(), RECORDS);
    }
    // Bad arguments.
    // SAFETY: each call passes NULL or live pointers as documented.
    unsafe {
        assert_eq!(net_writev(c, std::ptr::null(), 1), NET_EINVAL);
        assert_eq!(net_writev(c, std::ptr::null(), -1), NET_EINVAL);
        assert_eq!(net_writev(c, std::ptr::null(), 0), 0);
        let bad = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 4,
        }];
        assert_eq!(net_writev(c, bad.as_ptr(), 1), NET_EINVAL);
        assert_eq!(net_writev(l, std::ptr::null(), 0), NET_EINVAL);
    }
    // A packet handle: the pieces are one datagram.
    let p = listen_packet("udp", "127.0.0.1:0");
    let q = dial("udp", &local_addr(p));
    let parts: [&[u8]; 3] = [b"one ", b"data", b"gram"];
    let iov: Vec<libc::iovec> = parts
        .iter()
        .map(|b| libc::iovec {
            iov_base: b.as_ptr().cast_mut().cast(),
            iov_len: b.len(),
        })
        .collect();
    // SAFETY: the iovecs point into live buffers.
    assert_eq!(unsafe { net_writev(q, iov.as_ptr(), 3) }, 12);
    let mut buf = [0u8; 32];
    assert_eq!(read_from(p, &mut buf).0, 12);
    assert_eq!(&buf[..12], b"one datagram");
    close_all(&[c, s, l, p, q]);
}
