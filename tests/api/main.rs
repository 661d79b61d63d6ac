//! The fast tests of the C ABI, in one binary so that `cargo test` links
//! one program for all of them: each module is one area (addresses,
//! dialing, reads and writes, close, deadlines, defaults, copies,
//! datagrams, readiness). They share the process, so none of them may
//! count the process's descriptors or gonet's handles: tests that do
//! (`bad_input`, `soak`, `stress`), or that change the process
//! (`exhaustion`, `memory`, `restart`), or need network namespaces of
//! their own (`faults`), are binaries of their own.

#[path = "../common/mod.rs"]
mod common;

mod addresses;
mod close;
mod copy;
mod datagram_interop;
mod datagrams;
mod deadlines;
mod defaults;
mod dialing;
mod durations;
mod interfaces;
mod io;
mod layers;
mod nonblock;
mod rawip;
mod readiness;
mod sandbox;
mod unixgram;
mod zero_length;
