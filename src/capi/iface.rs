//! The C ABI of Go's interface functions: `net.Interfaces`,
//! `Interface.Addrs` and `net.InterfaceAddrs`, as text.

use super::boundary::{arg_str, call, check_len, write_text};
use crate::error::NetError;
use crate::net;
use std::ffi::c_char;

/// Go's `net.Interfaces`: every network interface, one a line in index
/// order, `INDEX NAME MTU FLAGS HWADDR` (`2 eth0 1500
/// up|broadcast|multicast|running 52:54:00:12:34:56`), written
/// NUL-terminated into `buf` like `snprintf`; returns the full length of
/// that text. FLAGS are Go's words (`up`, `broadcast`, `loopback`,
/// `pointtopoint`, `multicast`, `running`) joined by `|`, or `0`; HWADDR
/// is left out, with its space, when the interface has none (loopback),
/// as Go's is then empty. `NET_ESYSTEM` if the system cannot list them.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_interfaces(buf: *mut c_char, len: usize) -> i64 {
    const OP: &str = "route";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        let list = net::interfaces().map_err(|c| NetError::new(OP, "ip+net", c))?;
        let lines: Vec<String> = list
            .iter()
            .map(|i| {
                let mut line = format!(
                    "{} {} {} {}",
                    i.index,
                    i.name,
                    i.mtu,
                    net::flag_words(i.flags)
                );
                if !i.hardware_addr.is_empty() {
                    line.push(' ');
                    line.push_str(&net::hardware_text(&i.hardware_addr));
                }
                line
            })
            .collect();
        write_text(OP, &lines.join("\n"), buf, len)
    })
}

/// Go's `Interface.Addrs`: the addresses of the interface called `name`,
/// one a line in Go's CIDR form (`127.0.0.1/8`, `::1/128`), IPv4 first as
/// the kernel lists them, written NUL-terminated into `buf` like
/// `snprintf`; returns the full length. `name` NULL gives every
/// interface's addresses (Go's `InterfaceAddrs`). An interface with no
/// address gives the empty string; a name no interface has fails with
/// `NET_EADDR` (`route ip+net: no such network interface`).
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `buf` is NULL (with `len`
/// 0) or valid for writes of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_interface_addrs(
    name: *const c_char,
    buf: *mut c_char,
    len: usize,
) -> i64 {
    const OP: &str = "route";
    call(OP, || {
        check_len(OP, buf.is_null(), len)?;
        let name = if name.is_null() {
            None
        } else {
            // SAFETY: non-NULL, and the caller promises NUL termination.
            Some(unsafe { arg_str(OP, "name", name) }?)
        };
        let addrs = net::interface_addrs(name).map_err(|c| NetError::new(OP, "ip+net", c))?;
        write_text(OP, &addrs.join("\n"), buf, len)
    })
}
