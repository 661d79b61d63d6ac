//! The C ABI, and nothing else: argument checks, the panic boundary and
//! the per-thread last error (`boundary.rs`), then one file per area of
//! the header. Each exported function checks its arguments, looks its
//! handle up in `handle.rs`, and calls into `net`.

mod boundary;
mod conn;
mod copy;
mod dial;
mod dns;
mod file;
mod iface;
mod listen_config;
mod nonblock;
mod options;
mod packet;
mod unixmsg;

pub use boundary::{NET_DEFAULT, NET_FOREVER, net_last_error, net_strerror, net_version};
pub use conn::*;
pub use copy::*;
pub use dial::*;
pub use dns::*;
pub use file::*;
pub use iface::*;
pub use listen_config::*;
pub use nonblock::*;
pub use options::*;
pub use packet::*;
pub use unixmsg::*;
