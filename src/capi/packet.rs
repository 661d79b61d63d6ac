//! The C ABI for datagrams: Go's `ListenPacket`, `ReadFrom` and `WriteTo`.
//! Connected packet handles come from `net_dial` and use `net_read` and
//! `net_write`. Every function here runs inside the panic boundary of
//! `boundary.rs` (`call`) and reports failures the same way.

use super::boundary::network_and_address;
use super::boundary::{addr_buf, in_buf, out_buf};
use super::boundary::{arg_str, as_count, call, lookup_role, write_text};
use crate::error::Result;
use crate::handle;
use crate::net::{self, Role};
use crate::net::{Datagram, NetFd};
use std::ffi::{c_char, c_void};

/// A buffer of this many bytes holds any address gonet writes, with its
/// NUL: an IPv6 address with zone and port, or a Unix path or abstract
/// name (of UTF-8 text). The functions that write addresses return the full
/// length, so a longer one is never cut off unnoticed.
pub const NET_ADDR_MAX: usize = 128;

/// Go's `ListenPacket`: binds a datagram socket to `address` on `network`
/// and returns a packet handle that sends to and receives from anybody
/// (`net_read_from`, `net_write_to`).
///
/// - `"udp"`, `"udp4"`, `"udp6"`: `"127.0.0.1:9000"`, `"[::1]:0"`; port 0
///   picks one; an empty host (`":9000"`) binds every address, IPv6 and
///   IPv4, on `"udp"`.
/// - `"unixgram"`: a path, which gonet removes when the handle is closed;
///   `@name` for a Linux abstract name; `""` lets Linux choose an abstract
///   name (see `net_local_addr`), one that peers can reply to.
///
/// - `"ip"`, `"ip4"`, `"ip6"` with a protocol (`"ip4:icmp"`, `"ip6:58"`),
///   as for `net_dial`: a raw IP socket (Go's `ListenIP`) bound to a host
///   without a port; `""` binds every address (on `"ip"`, as in Go, a
///   dual-stack IPv6 socket). Reads give each payload without the IPv4
///   header and the sender without a port (`127.0.0.1`); `net_write_to`
///   takes a host alone. Needs CAP_NET_RAW: without it `NET_ESYSTEM`
///   (`listen ip4:icmp 127.0.0.1: socket: operation not permitted`).
///
/// Stream networks fail with `NET_EADDR` (`listen tcp ...: unexpected
/// address type`, as in Go).
///
/// # Safety
/// `network` and `address` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_listen_packet(network: *const c_char, address: *const c_char) -> i64 {
    const OP: &str = "listen";
    call(OP, || {
        // SAFETY: the caller promises valid strings or NULL.
        let (network, address) = unsafe { network_and_address(OP, network, address)? };
        net::listen_packet(network, address).map(handle::insert)
    })
}

/// Go's `ReadFrom`: waits for one datagram, copies it into `buf` and
/// returns its length (0 for an empty datagram). The sender's address is
/// written into `addr` in Go's text form (`127.0.0.1:9000`, `[::1]:9000`, a
/// Unix path, `@name`; empty for an unnamed Unix socket), NUL-terminated and
/// truncated to `addr_len` bytes like `snprintf`. `addr` may be NULL when
/// `addr_len` is 0. Works on connected packet handles too.
///
/// A datagram longer than `len` is never cut short silently: its first
/// `len` bytes are copied into `buf`, the sender is written into `addr`,
/// the datagram is consumed, and the call fails with `NET_EMSGSIZE`, the
/// message giving the datagram's real length (`read udp 127.0.0.1:9000:
/// datagram of 1500 bytes did not fit in a buffer of 512 bytes`). A buffer
/// of 65,507 bytes fits any IPv4 UDP datagram; 65,527, any IPv6 one. With
/// `len` 0 the call still takes one datagram: 0 if it was empty, otherwise
/// `NET_EMSGSIZE`.
///
/// On a raw IP handle the length is the payload's: an IPv4 packet's header
/// (20 to 60 bytes) is taken off before it is copied, and `buf` need not
/// have room for it.
///
/// Deadlines and close work as for `net_read`. When the call fails before
/// a datagram arrives, `addr` (if `addr_len` > 0) holds the empty string.
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for writes of `len` bytes; `addr`
/// is NULL (with `addr_len` 0) or valid for writes of `addr_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_read_from(
    h: i64,
    buf: *mut c_void,
    len: usize,
    addr: *mut c_char,
    addr_len: usize,
) -> i64 {
    const OP: &str = "read";
    call(OP, || {
        // SAFETY: the caller's promises on buf and addr are passed on.
        unsafe {
            read_from_with(OP, h, buf, len, addr, addr_len, |fd, b| {
                fd.recv_datagram("recvfrom", b)
            })
        }
    })
}

/// `net_read_from`'s work, with `recv` taking the datagram (waiting for
/// one, or not): the arguments checked, the sender written, the
/// truncation rule applied. `net_try_read_from` shares it.
///
/// # Safety
/// As `net_read_from`'s arguments.
pub(super) unsafe fn read_from_with(
    op: &'static str,
    h: i64,
    buf: *mut c_void,
    len: usize,
    addr: *mut c_char,
    addr_len: usize,
    recv: impl FnOnce(&NetFd, &mut [u8]) -> Result<Datagram>,
) -> Result<i64> {
    // SAFETY: the caller's promises on buf and addr are passed on.
    let buf = unsafe { out_buf(op, buf, len)? };
    // SAFETY: as above.
    unsafe { addr_buf(op, addr, addr_len)? };
    let fd = lookup_role(op, h, Role::Packet)?;
    let datagram = recv(&fd, buf)?;
    write_text(op, &datagram.from.to_string(), addr, addr_len)?;
    fd.fit(&datagram, len).map(as_count)
}

/// Go's `WriteTo`: sends `buf` as one datagram to `addr` (`"127.0.0.1:9000"`,
/// `"[::1]:9000"`, `"localhost:9000"`, a Unix path or `@name`) and returns
/// `len`. The datagram goes whole or not at all: `NET_EMSGSIZE` when it is
/// too large. Host names are resolved on every call, by gonet's resolver
/// and within the write deadline; an IP address avoids the lookup. A
/// handle from `net_dial` has its peer already and fails with `NET_EINVAL`
/// (`use of WriteTo with pre-connected connection`).
///
/// # Safety
/// `buf` is NULL (with `len` 0) or valid for reads of `len` bytes; `addr`
/// is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_write_to(
    h: i64,
    buf: *const c_void,
    len: usize,
    addr: *const c_char,
) -> i64 {
    const OP: &str = "write";
    call(OP, || {
        // SAFETY: the caller's promises on buf and addr are passed on.
        unsafe { write_to_with(OP, h, buf, len, addr, |fd, b, d| fd.write_to(b, d)) }
    })
}

/// `net_write_to`'s argument checks, with `send` sending the datagram
/// (waiting for room, or not). `net_try_write_to` shares it.
///
/// # Safety
/// As `net_write_to`'s arguments.
pub(super) unsafe fn write_to_with(
    op: &'static str,
    h: i64,
    buf: *const c_void,
    len: usize,
    addr: *const c_char,
    send: impl FnOnce(&NetFd, &[u8], &str) -> Result<usize>,
) -> Result<i64> {
    // SAFETY: the caller's promise on buf is passed on.
    let buf = unsafe { in_buf(op, buf, len)? };
    // SAFETY: the caller promises a valid string or NULL.
    let dest = unsafe { arg_str(op, "address", addr)? };
    let fd = lookup_role(op, h, Role::Packet)?;
    send(&fd, buf, dest).map(as_count)
}
