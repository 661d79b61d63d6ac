//! The waiting layer, below `net` (as Go's `internal/poll` is below `net`):
//! blocking that another thread can interrupt, the system calls on the hot
//! paths, and the guards gonet keeps on the process it runs in. Nothing
//! here knows about addresses, networks or handles.
//!
//! - `lock`: the lock of each direction of a socket, which also names the
//!   thread that may be blocked in a system call on it;
//! - `signal`: the wake signal, which interrupts a thread blocked in a
//!   system call;
//! - `wait`: wait lists, the wake signal, deadlines' time base
//!   (`NO_DEADLINE`), and `Direction`, the read or write side a wait or a
//!   deadline is for;
//! - `sys`: thin wrappers over `recv`, `send`, `accept4` and the datagram
//!   calls;
//! - `process`: `pthread_cancel` held off during calls, sockets inherited
//!   through fork, SIGPIPE from `splice` and `sendfile`.

mod lock;
mod process;
mod signal;
pub(crate) mod sys;
mod wait;

pub(crate) use lock::{Caller, DirLock, Held, barrier_for};
pub(crate) use process::{CancelHeldOff, SigpipeHeldOff, fork_generation, forks_made};
pub(crate) use sys::{errno, now_ns};
pub(crate) use wait::{Direction, NO_DEADLINE, WaitList, interrupt_blocked, wait, wait_also};
