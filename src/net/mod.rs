//! The network layer, Go's `net` package: addresses and resolution, making
//! sockets, dialing and listening, the descriptor with Go's semantics, and
//! what is done on it (stream and datagram reads and writes, copies). It
//! uses `poll` for waiting and knows nothing of C or of handles.
//!
//! Files depend on one another in this order only (each on those before
//! it): `addr` (syntax), `lookup` (resolution), `sock` (socket creation
//! and options), `fd` (the descriptor: locks, deadlines, close, stream
//! reads and writes, accept), `packet` (datagram reads and writes on it),
//! `nonblock` (one-attempt reads, writes and accepts for event loops),
//! `conn` (what a read or write is for each kind of descriptor), `copy`,
//! `dgram` (datagram sockets), `listen`, `listen_config`, `dialop` (one
//! dial in progress), `dns` (gonet's own resolver, bounded and cancelled
//! through a `DialOp`), `dial`, `dialer`. `iface` (interfaces and their
//! addresses) stands apart, on `error` alone; `unixmsg` (descriptor
//! passing, peer credentials, vectored writes) comes after `fd`.

mod addr;
mod conn;
mod copy;
mod dgram;
mod dial;
mod dialer;
mod dialop;
pub(crate) mod dns;
mod fd;
mod file;
mod iface;
mod listen;
mod listen_config;
mod lookup;
mod nonblock;
mod packet;
mod sock;
mod unixmsg;

pub(crate) use addr::{Network, join_host_port, split_host_port};
pub(crate) use conn::{read, write};
pub(crate) use copy::{Strategy, copy, sendfile};
pub(crate) use dgram::listen_packet;
pub(crate) use dial::DEFAULT_FALLBACK_DELAY;
pub(crate) use dial::{DialOptions, dial, dial_literal, dial_serial};
pub(crate) use dialer::Dialer;
pub(crate) use dialop::DialOp;
pub(crate) use dns::resolver::{Resolver, default_resolver, parse_servers};
pub(crate) use fd::{Ends, FdRef, NetFd, Role};
pub(crate) use file::{FileKind, from_fd};
pub(crate) use iface::{flag_words, hardware_text, interface_addrs, interfaces};
pub(crate) use listen::listen;
pub(crate) use listen_config::ListenConfig;
pub(crate) use lookup::lookup_port;
pub(crate) use packet::Datagram;
pub(crate) use sock::{Control, KEEPALIVE_PERIOD, KeepAliveConfig, set_keepalive};
pub(crate) use unixmsg::MAX_FDS;
