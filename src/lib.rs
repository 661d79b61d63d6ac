//! gonet: Go's `net` package semantics for C, C++ and Python, over a C ABI.
//!
//! Layers, from the C boundary down:
//! - `ffi`, `ffi_dial`, `ffi_copy`: the exported `net_*` functions, the
//!   panic boundary and the per-thread last error;
//! - `ffi_packet`: the exported functions for datagrams (`net_listen_packet`,
//!   `net_read_from`, `net_write_to`);
//! - `handle`: the table from C's integer handles to descriptors;
//! - `dial`, `dialer`, `fd`, `poll`, `sys`: dialing (Happy Eyeballs,
//!   cancellation), sockets, blocking with wake-ups, deadlines;
//! - `process`: pthread_cancel held off during calls, sockets inherited
//!   through fork, SIGPIPE from splice and sendfile;
//! - `dgram`, `packet`: datagram sockets and their reads and writes;
//! - `copy`: relaying with `splice` and sending files with `sendfile`;
//! - `addr`: Go's address syntax and name resolution;
//! - `error`: the codes and Go-worded messages.

pub mod addr;
pub mod copy;
pub mod dgram;
pub mod dial;
pub mod dialer;
pub mod error;
pub mod fd;
pub mod ffi;
pub mod ffi_copy;
pub mod ffi_dial;
pub mod ffi_packet;
pub mod handle;
mod packet;
mod poll;
mod process;
mod sys;

pub use error::{
    NET_EADDR, NET_EADDRINUSE, NET_ECANCELED, NET_ECLOSED, NET_EINTERNAL, NET_EINVAL, NET_EMSGSIZE,
    NET_ENOHOST, NET_EPIPE, NET_EREFUSED, NET_ERESET, NET_ESYSTEM, NET_ETIMEOUT, NET_EUNREACH,
    NetError,
};
pub use ffi::*;
pub use ffi_copy::*;
pub use ffi_dial::*;
pub use ffi_packet::*;
