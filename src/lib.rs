//! gonet: Go's `net` package semantics for C, C++ and Python, over a C ABI.
//!
//! Layers, from the C boundary down; each uses only those below it:
//! - `capi/`: the exported `net_*` functions and nothing else: argument
//!   checks, the panic boundary, the per-thread last error;
//! - `handle.rs`: the tables from C's integer handles to descriptors and
//!   dialers;
//! - `net/`: Go's `net`: addresses and resolution, sockets and their
//!   options, dialing (Happy Eyeballs, cancellation), listening, the
//!   descriptor with Go's semantics, datagrams, copies;
//! - `poll/`: Go's `internal/poll`: blocking that close and deadlines can
//!   interrupt, the hot system calls, the guards on the process (cancel,
//!   fork, SIGPIPE);
//! - `error.rs`: the codes and Go-worded messages, used by every layer.
//!
//! `testing` is the one door into the internals, for the integration
//! tests; it is not part of the C ABI.

#![deny(clippy::undocumented_unsafe_blocks)]

// `error` first, apart: cbindgen writes the constants in the order it
// meets them, and the header lists the codes before anything else.
mod error;

mod capi;
mod handle;
mod net;
mod poll;
#[doc(hidden)]
pub mod testing;

pub use capi::*;
pub use error::{
    NET_EADDR, NET_EADDRINUSE, NET_EAGAIN, NET_ECANCELED, NET_ECLOSED, NET_EDNS, NET_EINTERNAL,
    NET_EINVAL, NET_EMSGSIZE, NET_ENOHOST, NET_EPIPE, NET_EREFUSED, NET_ERESET, NET_ESYSTEM,
    NET_ETIMEOUT, NET_EUNREACH,
};
