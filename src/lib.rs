//! gonet: Go's `net` package semantics for C, C++ and Python, over a C ABI.
//!
//! Layers, from the C boundary down:
//! - `ffi`: the exported `net_*` functions, the panic boundary and the
//!   per-thread last error;
//! - `handle`: the table from C's integer handles to descriptors;
//! - `dial`, `fd`, `poll`, `sys`: sockets, blocking with wake-ups, deadlines;
//! - `addr`: Go's address syntax and name resolution;
//! - `error`: the codes and Go-worded messages.

pub mod addr;
pub mod dial;
pub mod error;
pub mod fd;
pub mod ffi;
pub mod handle;
mod poll;
mod sys;

pub use error::*;
pub use ffi::*;
