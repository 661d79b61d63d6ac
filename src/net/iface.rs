//! Network interfaces and their addresses (Go's `Interfaces`,
//! `Interface.Addrs`, `InterfaceAddrs`), read with `getifaddrs`, which
//! asks the kernel over netlink as Go does: links in index order, then
//! addresses in the kernel's order (IPv4, then IPv6).

use crate::error::{Cause, SyscallResult};
use std::ffi::CStr;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One interface, as Go's `net.Interface` has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub index: u32,
    pub name: String,
    pub mtu: i32,
    /// The kernel's `IFF_*` flags.
    pub flags: u32,
    /// Empty when the interface has none, or only zeros (loopback), as Go
    /// leaves it.
    pub hardware_addr: Vec<u8>,
}

/// Go's `Flags.String`: the names of the flags Go knows, joined by `|`,
/// or `0`.
pub fn flag_words(flags: u32) -> String {
    let names = [
        (libc::IFF_UP, "up"),
        (libc::IFF_BROADCAST, "broadcast"),
        (libc::IFF_LOOPBACK, "loopback"),
        (libc::IFF_POINTOPOINT, "pointtopoint"),
        (libc::IFF_MULTICAST, "multicast"),
        (libc::IFF_RUNNING, "running"),
    ];
    let words: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| flags & *bit as u32 != 0)
        .map(|(_, name)| *name)
        .collect();
    if words.is_empty() {
        "0".to_owned()
    } else {
        words.join("|")
    }
}

/// Go's `HardwareAddr.String`: lower-case hex bytes joined by `:`.
pub fn hardware_text(addr: &[u8]) -> String {
    let mut out = String::new();
    for (i, b) in addr.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `getifaddrs`' list, freed on drop.
struct IfAddrs(*mut libc::ifaddrs);

impl IfAddrs {
    fn get() -> Result<IfAddrs, Cause> {
        let mut list = std::ptr::null_mut();
        // SAFETY: list receives a list that Drop frees.
        if unsafe { libc::getifaddrs(&mut list) } != 0 {
            return Err(Cause::syscall("getifaddrs", crate::poll::errno()));
        }
        Ok(IfAddrs(list))
    }

    fn iter(&self) -> impl Iterator<Item = &libc::ifaddrs> + '_ {
        let mut cur = self.0;
        std::iter::from_fn(move || {
            // SAFETY: cur is NULL or a node of the list, which lives until
            // self is dropped.
            let node = unsafe { cur.as_ref() }?;
            cur = node.ifa_next;
            Some(node)
        })
    }
}

impl Drop for IfAddrs {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the list came from getifaddrs and is freed once.
            unsafe { libc::freeifaddrs(self.0) }
        }
    }
}

fn name_of(node: &libc::ifaddrs) -> String {
    // SAFETY: getifaddrs gives every node a NUL-terminated name.
    unsafe { CStr::from_ptr(node.ifa_name) }
        .to_string_lossy()
        .into_owned()
}

fn family(node: &libc::ifaddrs) -> Option<i32> {
    // SAFETY: ifa_addr is NULL or points to a socket address.
    unsafe { node.ifa_addr.as_ref() }.map(|sa| i32::from(sa.sa_family))
}

/// The MTU of interface `name`, asked with SIOCGIFMTU on `sock`.
fn mtu(sock: &socket2::Socket, name: &str) -> i32 {
    use std::os::fd::AsRawFd;
    // SAFETY: ifreq is a plain C struct; all zeros is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req
        .ifr_name
        .iter_mut()
        .zip(name.bytes().take(libc::IF_NAMESIZE - 1))
    {
        *dst = src as libc::c_char;
    }
    // SAFETY: req is a valid ifreq with a NUL-terminated name; the ioctl
    // writes the MTU into it.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFMTU, &mut req) };
    if rc != 0 {
        return 0;
    }
    // SAFETY: SIOCGIFMTU succeeded, so the union holds the MTU.
    unsafe { req.ifr_ifru.ifru_mtu }
}

/// Go's `Interfaces`: every interface, in index order.
pub fn interfaces() -> Result<Vec<Interface>, Cause> {
    let list = IfAddrs::get()?;
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
        .syscall("socket")?;
    let mut out = Vec::new();
    for node in list.iter() {
        // One AF_PACKET entry per link; address entries come after them.
        if family(node) != Some(libc::AF_PACKET) {
            continue;
        }
        // SAFETY: an AF_PACKET entry's address is a sockaddr_ll.
        let ll = unsafe { &*(node.ifa_addr as *const libc::sockaddr_ll) };
        let len = usize::from(ll.sll_halen).min(ll.sll_addr.len());
        let hw = &ll.sll_addr[..len];
        let name = name_of(node);
        out.push(Interface {
            index: ll.sll_ifindex as u32,
            mtu: mtu(&sock, &name),
            name,
            flags: node.ifa_flags,
            hardware_addr: if hw.iter().any(|&b| b != 0) {
                hw.to_vec()
            } else {
                Vec::new()
            },
        });
    }
    out.sort_by_key(|i| i.index);
    Ok(out)
}

/// The prefix length of a netmask.
fn prefix_len(mask: Option<IpAddr>) -> u32 {
    match mask {
        Some(IpAddr::V4(m)) => u32::from(m).count_ones(),
        Some(IpAddr::V6(m)) => u128::from(m).count_ones(),
        None => 0,
    }
}

/// # Safety
/// `sa` is NULL or points to a socket address of its family's size.
unsafe fn ip_of(sa: *const libc::sockaddr) -> Option<IpAddr> {
    // SAFETY: the caller's promise; the family says which struct it is.
    unsafe {
        let family = i32::from(sa.as_ref()?.sa_family);
        match family {
            libc::AF_INET => {
                let sin = &*(sa as *const libc::sockaddr_in);
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))))
            }
            libc::AF_INET6 => {
                let sin6 = &*(sa as *const libc::sockaddr_in6);
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

/// Go's `Interface.Addrs` for the interface called `name`, or
/// `InterfaceAddrs` for `None`: each address in CIDR form (`127.0.0.1/8`,
/// `::1/128`), in the kernel's order.
pub fn interface_addrs(name: Option<&str>) -> Result<Vec<String>, Cause> {
    let list = IfAddrs::get()?;
    if let Some(name) = name
        && !list
            .iter()
            .any(|n| family(n) == Some(libc::AF_PACKET) && name_of(n) == name)
    {
        return Err(Cause::NoSuchInterface);
    }
    let mut out = Vec::new();
    for node in list.iter() {
        if name.is_some_and(|want| name_of(node) != want) {
            continue;
        }
        // SAFETY: getifaddrs' addresses and netmasks are NULL or socket
        // addresses of their family's size.
        let (ip, mask) = unsafe { (ip_of(node.ifa_addr), ip_of(node.ifa_netmask)) };
        if let Some(ip) = ip {
            out.push(format!("{ip}/{}", prefix_len(mask)));
        }
    }
    Ok(out)
}
