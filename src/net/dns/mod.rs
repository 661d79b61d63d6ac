//! gonet's own stub resolver, modelled on Go's pure-Go resolver
//! (`dnsclient_unix.go`, `dnsconfig_unix.go`, `conf.go`, `hosts.go`,
//! `addrselect.go`): configuration, the hosts file, messages on the wire,
//! the exchange with name servers, and the ordering of addresses.

pub mod addrselect;
pub mod client;
pub mod conf;
pub mod hosts;
pub mod msg;
pub mod resolver;
