//! Errors: one enum of codes for C, and messages built the way Go's `net`
//! package builds them (`dial tcp 127.0.0.1:1: connect: connection refused`).

use std::fmt;

/// Invalid argument: a NULL pointer, a string that is not UTF-8, a handle of
/// the wrong kind (reading from a listener), a length over `isize::MAX`.
pub const NET_EINVAL: i64 = -1;
/// Use of closed network connection: the handle was closed or never issued.
pub const NET_ECLOSED: i64 = -2;
/// I/O timeout: a deadline passed or a dial timed out.
pub const NET_ETIMEOUT: i64 = -3;
/// Bad address or unknown network: missing or bad port, bad syntax, an
/// unknown network name.
pub const NET_EADDR: i64 = -4;
/// The host name could not be resolved (no such host).
pub const NET_ENOHOST: i64 = -5;
/// Connection refused.
pub const NET_EREFUSED: i64 = -6;
/// Connection reset by peer.
pub const NET_ERESET: i64 = -7;
/// Broken pipe: the peer is gone.
pub const NET_EPIPE: i64 = -8;
/// Address already in use.
pub const NET_EADDRINUSE: i64 = -9;
/// Network or host unreachable.
pub const NET_EUNREACH: i64 = -10;
/// Message too long: a datagram too large to send, or larger than the
/// buffer it was read into (see `net_read_from`).
pub const NET_EMSGSIZE: i64 = -11;
/// Internal error: a bug in gonet, caught before it reached the caller.
pub const NET_EINTERNAL: i64 = -12;
/// Any other operating-system error.
pub const NET_ESYSTEM: i64 = -13;
/// Operation was canceled: the dial's dialer was cancelled
/// (`net_dialer_cancel`) or closed.
pub const NET_ECANCELED: i64 = -14;
/// A name lookup failed in a way that may pass if tried again (Go's
/// `DNSError.IsTemporary`): the name server failed (SERVFAIL) or refused,
/// its reply was malformed or truncated, or no server answered. Never used
/// for a name that does not exist, which is `NET_ENOHOST`.
pub const NET_EDNS: i64 = -15;
/// Would block: a non-blocking call (`net_try_read`, `net_try_write`,
/// `net_try_accept`, `net_try_read_from`, `net_try_write_to`) found
/// nothing to read, no room to write or no connection waiting. Not a
/// failure of the handle: wait until its descriptor (`net_fd`) is ready
/// and call again.
pub const NET_EAGAIN: i64 = -16;

/// The codes as one table: each `Code` variant, the constant above that
/// is its value (the only place a value is written), and the static text
/// `net_strerror` gives for it. The constants themselves stay plain
/// items, as cbindgen needs them to write the header.
macro_rules! codes {
    ($($variant:ident = $value:ident, $text:literal;)*) => {
        /// The class of a failure; each maps to one `NET_E*` code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(i64)]
        pub enum Code {
            $($variant = $value,)*
        }

        impl Code {
            /// The code whose value is `value`; `None` for anything that
            /// is not a `NET_E*` code.
            pub fn from_value(value: i64) -> Option<Code> {
                match value {
                    $($value => Some(Code::$variant),)*
                    _ => None,
                }
            }
        }

        /// A static description of a code, for `net_strerror`.
        pub fn describe(code: i64) -> &'static std::ffi::CStr {
            match code {
                0 => c"success",
                $($value => $text,)*
                _ => c"unknown error code",
            }
        }
    };
}

codes! {
    Inval = NET_EINVAL, c"invalid argument";
    Closed = NET_ECLOSED, c"use of closed network connection";
    Timeout = NET_ETIMEOUT, c"i/o timeout";
    Addr = NET_EADDR, c"bad address or unknown network";
    NoHost = NET_ENOHOST, c"no such host";
    Refused = NET_EREFUSED, c"connection refused";
    Reset = NET_ERESET, c"connection reset by peer";
    Pipe = NET_EPIPE, c"broken pipe";
    AddrInUse = NET_EADDRINUSE, c"address already in use";
    Unreach = NET_EUNREACH, c"network or host unreachable";
    MsgSize = NET_EMSGSIZE, c"message too long";
    Internal = NET_EINTERNAL, c"internal error";
    System = NET_ESYSTEM, c"operating system error";
    Canceled = NET_ECANCELED, c"operation was canceled";
    Dns = NET_EDNS, c"temporary name resolution failure";
    Again = NET_EAGAIN, c"resource temporarily unavailable";
}

impl Code {
    pub fn value(self) -> i64 {
        self as i64
    }

    fn from_errno(errno: i32) -> Code {
        match errno {
            libc::ECONNREFUSED => Code::Refused,
            libc::ECONNRESET | libc::ECONNABORTED => Code::Reset,
            libc::EPIPE => Code::Pipe,
            libc::EADDRINUSE => Code::AddrInUse,
            libc::EADDRNOTAVAIL => Code::Addr,
            libc::ENETUNREACH | libc::EHOSTUNREACH | libc::ENETDOWN | libc::EHOSTDOWN => {
                Code::Unreach
            }
            libc::EMSGSIZE => Code::MsgSize,
            // A write without a destination on an unconnected packet socket.
            libc::EDESTADDRREQ => Code::Inval,
            // Go reports ETIMEDOUT (keep-alive or connect timing out) as a timeout too.
            libc::ETIMEDOUT => Code::Timeout,
            libc::EINVAL => Code::Inval,
            _ => Code::System,
        }
    }
}

fn describe_code(code: i64) -> String {
    describe(code).to_string_lossy().into_owned()
}

/// The innermost cause of a failure, printed as Go prints it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Cause {
    /// A failed system call, as Go's `os.SyscallError`: `connect: connection refused`.
    #[error("{syscall}: {}", errno_text(*.errno))]
    Syscall { syscall: &'static str, errno: i32 },
    #[error("use of closed network connection")]
    Closed,
    #[error("i/o timeout")]
    Timeout,
    /// Go's `errCanceled`, for a dial whose context was cancelled.
    #[error("operation was canceled")]
    Canceled,
    /// A non-blocking call that would have had to wait: `read: resource
    /// temporarily unavailable`, as EAGAIN reads in Go's messages. Apart
    /// from `Syscall`, so that EAGAIN from other calls keeps its code.
    #[error("{0}: resource temporarily unavailable")]
    WouldBlock(&'static str),
    /// Go's `AddrError`: `address 127.0.0.1: missing port in address`, or
    /// the bare text when there is no address.
    #[error("{}", addr_error(err, addr))]
    Addr { err: &'static str, addr: String },
    #[error("missing address")]
    MissingAddress,
    /// Go's `UnknownNetworkError`.
    #[error("unknown network {0}")]
    UnknownNetwork(String),
    /// Go's `DNSError`: `lookup nosuchhost.invalid: no such host`.
    #[error("lookup {name}: {err}")]
    Lookup {
        name: String,
        err: String,
        code: Code,
    },
    /// A datagram longer than the buffer it was read into. Go truncates
    /// silently; gonet copies what fits and fails, so nothing is lost
    /// unnoticed.
    #[error("datagram of {size} bytes did not fit in a buffer of {cap} bytes")]
    Truncated { size: usize, cap: usize },
    /// A misuse of the API that Go's type system would have rejected.
    #[error("{0}")]
    Invalid(String),
    /// A control function (`net_control_fn`) refused the socket: the
    /// listen or dial fails with the code it returned (`NET_ESYSTEM` when
    /// that is not a `NET_E*` code).
    #[error("control: returned {code} ({})", describe_code(*.code))]
    Control { code: i64 },
    /// A descriptor given to gonet that is no socket of the kind asked
    /// for, as Go's `FileConn` says: `invalid argument` and the like.
    #[error("{}", errno_text(*.0))]
    Errno(i32),
    /// Descriptors received beyond the room the reader gave, which gonet
    /// closed (`net_read_msg_unix`).
    #[error("{received} descriptors received did not fit in room for {room}, and were closed")]
    FdsClosed { received: usize, room: usize },
    /// The kernel cut a message's control data short, dropping
    /// descriptors sent with it (MSG_CTRUNC).
    #[error("control data truncated: descriptors sent were lost")]
    ControlTruncated,
    /// A bug in gonet caught at the C boundary (a panic).
    #[error("internal error: {0}")]
    Internal(String),
    /// Go's `errNoSuchInterface`.
    #[error("no such network interface")]
    NoSuchInterface,
}

impl Cause {
    pub fn code(&self) -> Code {
        match self {
            Cause::Syscall { errno, .. } => Code::from_errno(*errno),
            Cause::Closed => Code::Closed,
            Cause::Timeout => Code::Timeout,
            Cause::Canceled => Code::Canceled,
            Cause::WouldBlock(_) => Code::Again,
            Cause::Addr { .. }
            | Cause::MissingAddress
            | Cause::UnknownNetwork(_)
            | Cause::NoSuchInterface => Code::Addr,
            Cause::Lookup { code, .. } => *code,
            Cause::Truncated { .. } => Code::MsgSize,
            Cause::Invalid(_) => Code::Inval,
            Cause::Control { code } => Code::from_value(*code)
                .filter(|c| *c != Code::Internal)
                .unwrap_or(Code::System),
            Cause::Errno(errno) => Code::from_errno(*errno),
            Cause::FdsClosed { .. } | Cause::ControlTruncated => Code::MsgSize,
            Cause::Internal(_) => Code::Internal,
        }
    }

    pub fn syscall(syscall: &'static str, errno: i32) -> Cause {
        Cause::Syscall { syscall, errno }
    }

    pub fn addr(err: &'static str, addr: &str) -> Cause {
        Cause::Addr {
            err,
            addr: addr.to_owned(),
        }
    }
}

fn addr_error(err: &str, addr: &str) -> String {
    if addr.is_empty() {
        err.to_owned()
    } else {
        format!("address {addr}: {err}")
    }
}

/// The errno of an I/O error from the standard library or socket2 (EIO
/// when it carries none).
pub fn os_errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// Go's `wrapSyscallError`: names the system call a failure came from, so
/// that every failed call reads as Go's `os.SyscallError` does
/// (`connect: connection refused`). For results that carry an
/// `std::io::Error` and for gonet's own wrappers, which return the errno.
pub trait SyscallResult<T> {
    fn syscall(self, name: &'static str) -> std::result::Result<T, Cause>;
}

impl<T> SyscallResult<T> for std::io::Result<T> {
    fn syscall(self, name: &'static str) -> std::result::Result<T, Cause> {
        self.map_err(|e| Cause::syscall(name, os_errno(&e)))
    }
}

impl<T> SyscallResult<T> for std::result::Result<T, i32> {
    fn syscall(self, name: &'static str) -> std::result::Result<T, Cause> {
        self.map_err(|errno| Cause::syscall(name, errno))
    }
}

/// Go's `OpError`: the operation, the network, the addresses involved, and
/// the cause.
#[derive(Debug, Clone)]
pub struct OpError {
    pub op: &'static str,
    pub net: String,
    pub source: Option<String>,
    pub addr: Option<String>,
    pub cause: Cause,
}

/// What every gonet failure carries: an `OpError`, boxed so that results
/// stay small on the success path.
#[derive(Debug, Clone)]
pub struct NetError(Box<OpError>);

impl From<OpError> for NetError {
    fn from(e: OpError) -> NetError {
        NetError(Box::new(e))
    }
}

impl std::ops::Deref for NetError {
    type Target = OpError;
    fn deref(&self) -> &OpError {
        &self.0
    }
}

impl NetError {
    pub fn new(op: &'static str, net: &str, cause: Cause) -> NetError {
        OpError {
            op,
            net: net.to_owned(),
            source: None,
            addr: None,
            cause,
        }
        .into()
    }

    /// A bad argument passed to `op`: not a network failure.
    pub fn invalid(op: &'static str, message: impl Into<String>) -> NetError {
        NetError::new(op, "", Cause::Invalid(message.into()))
    }

    pub fn with_addr(mut self, addr: impl fmt::Display) -> NetError {
        self.0.addr = Some(addr.to_string());
        self
    }

    pub fn with_source(mut self, source: Option<String>) -> NetError {
        self.0.source = source;
        self
    }

    pub fn code(&self) -> i64 {
        self.cause.code().value()
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op)?;
        if !self.net.is_empty() {
            write!(f, " {}", self.net)?;
        }
        if let Some(source) = &self.source {
            write!(f, " {source}")?;
        }
        if let Some(addr) = &self.addr {
            let sep = if self.source.is_some() { "->" } else { " " };
            write!(f, "{sep}{addr}")?;
        }
        write!(f, ": {}", self.cause)
    }
}

impl std::error::Error for NetError {}

pub type Result<T> = std::result::Result<T, NetError>;

/// The operating system's text for an errno, lower-cased at the start as
/// Go's own errno table has it ("connection refused").
pub fn errno_text(errno: i32) -> String {
    let mut buf = [0 as libc::c_char; 128];
    // SAFETY: buf is writable for its whole length; the XSI strerror_r that
    // libc binds NUL-terminates within it on success.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return format!("errno {errno}");
    }
    // SAFETY: strerror_r succeeded, so buf holds a NUL-terminated string.
    let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if !text.starts_with("I/O") => first.to_lowercase().chain(chars).collect(),
        _ => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value from NET_EINVAL to NET_EAGAIN is a code with a text of
    /// its own; anything else is unknown.
    #[test]
    fn every_code_has_one_text() {
        let texts: Vec<_> = (NET_EAGAIN..=NET_EINVAL).map(describe).collect();
        for (i, text) in texts.iter().enumerate() {
            assert_ne!(
                *text,
                c"unknown error code",
                "code {}",
                NET_EAGAIN + i as i64
            );
            assert!(!texts[..i].contains(text), "{text:?} twice");
        }
        assert_eq!(describe(0), c"success");
        assert_eq!(describe(NET_EAGAIN - 1), c"unknown error code");
        assert_eq!(describe(1), c"unknown error code");
        assert_eq!(Code::Canceled.value(), NET_ECANCELED);
        assert_eq!(Code::Dns.value(), NET_EDNS);
        assert_eq!(Code::Again.value(), NET_EAGAIN);
        assert_eq!(describe(NET_EAGAIN), c"resource temporarily unavailable");
        assert_eq!(describe(Code::Refused.value()), c"connection refused");
    }
}
