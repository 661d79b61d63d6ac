/*
 * gonet.hpp: the C++17 face of gonet, header-only, over the C ABI of
 * gonet.h (link with -lgonet as for C).
 *
 *     gonet::Listener ln = gonet::listen("tcp", "127.0.0.1:0");
 *     gonet::Conn c = gonet::dial("tcp", ln.local_addr());
 *     gonet::Conn s = ln.accept();
 *     c.write("ping");
 *     s.set_read_deadline(std::chrono::seconds(2));
 *     std::string got = s.read(100);
 *
 * Conn, Listener, PacketConn and Dialer own one handle each: they are
 * move-only and close it in their destructor. Every call that can fail
 * throws gonet::error, a std::system_error whose code() is the NET_E*
 * value in gonet::category() and whose what() is Go's message
 * ("dial tcp 127.0.0.1:1: connect: connection refused"). Each has an
 * overload taking std::error_code& that throws nothing of gonet's own
 * instead: it sets the code (cleared on success; Go's message is then
 * gonet::last_error()). Codes compare equal to the std::errc conditions
 * that fit (gonet::errc::timeout == std::errc::timed_out).
 *
 * Deadlines take a std::chrono duration (from now; zero or negative: already
 * expired) or a time point of any clock; clear_*deadline() removes them.
 * Every object may be used from several threads at once, as its handle may;
 * closing it (close(), or the destructor) wakes the threads blocked on it.
 */
#ifndef GONET_HPP
#define GONET_HPP

#include <gonet.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace gonet {

/// The NET_E* codes, as a std::error_code enumeration.
enum class errc : int {
    invalid_argument = NET_EINVAL,
    closed = NET_ECLOSED,
    timeout = NET_ETIMEOUT,
    bad_address = NET_EADDR,
    no_such_host = NET_ENOHOST,
    connection_refused = NET_EREFUSED,
    connection_reset = NET_ERESET,
    broken_pipe = NET_EPIPE,
    address_in_use = NET_EADDRINUSE,
    unreachable = NET_EUNREACH,
    message_size = NET_EMSGSIZE,
    internal = NET_EINTERNAL,
    system = NET_ESYSTEM,
    canceled = NET_ECANCELED,
    /// A lookup failure that may pass (server failure, bad reply, no
    /// server answered); never a name that does not exist (no_such_host).
    dns_temporary = NET_EDNS,
    would_block = NET_EAGAIN,
};

} // namespace gonet

namespace std {
template <> struct is_error_code_enum<gonet::errc> : true_type {};
} // namespace std

namespace gonet {

/// A duration without end, for any setting that takes one (NET_FOREVER):
/// no deadline, no timeout, keep-alive off, no fallback race.
struct forever_t {
    explicit constexpr forever_t(int) noexcept {}
};
inline constexpr forever_t forever{0};

/// Go's default for a setting that takes a duration (NET_DEFAULT): none
/// for deadlines and timeouts, 15 s keep-alive, a 300 ms fallback delay.
struct go_default_t {
    explicit constexpr go_default_t(int) noexcept {}
};
inline constexpr go_default_t go_default{0};

namespace detail {

class category_impl final : public std::error_category {
public:
    const char *name() const noexcept override { return "gonet"; }
    std::string message(int code) const override { return net_strerror(code); }
    std::error_condition default_error_condition(int code) const noexcept override {
        switch (code) {
        case NET_EINVAL: return std::errc::invalid_argument;
        case NET_ETIMEOUT: return std::errc::timed_out;
        case NET_EREFUSED: return std::errc::connection_refused;
        case NET_ERESET: return std::errc::connection_reset;
        case NET_EPIPE: return std::errc::broken_pipe;
        case NET_EADDRINUSE: return std::errc::address_in_use;
        case NET_EUNREACH: return std::errc::network_unreachable;
        case NET_EMSGSIZE: return std::errc::message_size;
        case NET_ECANCELED: return std::errc::operation_canceled;
        case NET_EDNS: return std::errc::resource_unavailable_try_again;
        case NET_EAGAIN: return std::errc::resource_unavailable_try_again;
        default: return std::error_condition(code, *this);
        }
    }
};

} // namespace detail

/// The category of gonet's codes: name() "gonet", message() net_strerror.
inline const std::error_category &category() noexcept {
    static const detail::category_impl instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept {
    return std::error_code(static_cast<int>(e), category());
}

/// The calling thread's last failure in Go's words (net_last_error).
inline std::string last_error() { return net_last_error(); }

/// The library's version, such as "0.1.0".
inline std::string version() { return net_version(); }

/// What every throwing call throws: code() is the NET_E* value in
/// category(), what() Go's message.
class error : public std::system_error {
public:
    error(std::error_code code, const std::string &message)
        : std::system_error(code, message), message_(message) {}
    const char *what() const noexcept override { return message_.what(); }

private:
    std::runtime_error message_; // copies without throwing
};

namespace detail {

/// Throws gonet::error for a negative result, with the thread's message.
inline std::int64_t check(std::int64_t rc) {
    if (rc < 0)
        throw error(std::error_code(static_cast<int>(rc), category()), net_last_error());
    return rc;
}

/// Sets ec from a result: cleared when it is not negative.
inline std::int64_t check(std::int64_t rc, std::error_code &ec) noexcept {
    if (rc < 0)
        ec.assign(static_cast<int>(rc), category());
    else
        ec.clear();
    return rc;
}

/// A NUL-terminated copy of a string argument. A NUL inside it would cut
/// it short in C without anyone noticing, so it is refused (NET_EINVAL).
class cstring {
public:
    explicit cstring(std::string_view s) : text_(s), ok_(s.find('\0') == std::string_view::npos) {}
    const char *get() const noexcept { return ok_ ? text_.c_str() : nullptr; }
    bool ok() const noexcept { return ok_; }

private:
    std::string text_;
    bool ok_;
};

inline error nul_error(const char *what) {
    return error(make_error_code(errc::invalid_argument),
                 std::string(what) + ": argument contains a NUL byte");
}

/// Milliseconds from now for a C deadline: 0 (already expired) for a
/// duration of zero or less, rounded up otherwise, and at most INT64_MAX.
template <class Rep, class Period>
std::int64_t deadline_ms(std::chrono::duration<Rep, Period> d) noexcept {
    using fms = std::chrono::duration<long double, std::milli>;
    const long double ms = std::chrono::duration_cast<fms>(d).count();
    if (!(ms > 0))
        return 0;
    if (ms >= 9.2e18L)
        return INT64_MAX;
    const auto whole = static_cast<std::int64_t>(ms);
    return static_cast<long double>(whole) < ms ? whole + 1 : whole;
}

/// The same for a time point: the time left until it on its own clock.
template <class Clock, class Duration>
std::int64_t deadline_ms(std::chrono::time_point<Clock, Duration> t) noexcept {
    return deadline_ms(t - Clock::now());
}

/// A `*_ms` argument from a duration or time point (0 when it is zero,
/// negative or past: no time at all), or from gonet::forever or
/// gonet::go_default: one convention for every setting, as in C.
template <class T> std::int64_t ms_of(T t) noexcept { return deadline_ms(t); }
inline std::int64_t ms_of(forever_t) noexcept { return NET_FOREVER; }
inline std::int64_t ms_of(go_default_t) noexcept { return NET_DEFAULT; }

/// Reads an address with a function of the net_local_addr kind.
template <class F>
std::string address(std::int64_t h, F f, std::error_code *ec) {
    std::string out(NET_ADDR_MAX, '\0');
    for (int tries = 0; tries < 2; tries++) {
        std::int64_t n = f(h, &out[0], out.size());
        if (n < 0) {
            if (ec) {
                check(n, *ec);
                return std::string();
            }
            check(n);
        }
        const auto len = static_cast<std::size_t>(n);
        if (len < out.size()) {
            out.resize(len);
            if (ec)
                ec->clear();
            return out;
        }
        out.assign(len + 1, '\0'); // longer than NET_ADDR_MAX: once more
    }
    throw error(make_error_code(errc::internal), "address changed length while read");
}

/// What Conn, Listener, PacketConn and Dialer share: one owned handle.
/// It is atomic so that close() from one thread may race with calls on
/// the same object in others, which it wakes (their calls then fail with
/// errc::closed).
class handle {
public:
    handle() noexcept = default;
    explicit handle(std::int64_t h) noexcept : h_(h) {}
    handle(const handle &) = delete;
    handle &operator=(const handle &) = delete;
    handle(handle &&o) noexcept : h_(o.release()) {}
    handle &operator=(handle &&o) noexcept {
        if (this != &o)
            reset(o.release());
        return *this;
    }
    ~handle() { reset(0); }

    /// The C handle, still owned by this object (0 when empty).
    std::int64_t native_handle() const noexcept { return h_.load(std::memory_order_relaxed); }
    /// Gives up ownership: the caller must net_close the result.
    std::int64_t release() noexcept { return h_.exchange(0, std::memory_order_relaxed); }
    explicit operator bool() const noexcept { return native_handle() > 0; }

    /// Closes the handle now, waking the threads blocked on it; empty
    /// afterwards. Closing an empty object is errc::closed.
    void close() { check(net_close(release())); }
    void close(std::error_code &ec) noexcept { check(net_close(release()), ec); }

private:
    void reset(std::int64_t to) noexcept {
        const std::int64_t old = h_.exchange(to, std::memory_order_relaxed);
        if (old > 0)
            net_close(old);
    }
    std::atomic<std::int64_t> h_{0};
};

/// Deadlines and addresses, for every kind that has them.
template <class Self>
class deadlines {
public:
    template <class T> void set_deadline(T t) { check(net_set_deadline(h(), ms_of(t))); }
    template <class T> void set_deadline(T t, std::error_code &ec) noexcept {
        check(net_set_deadline(h(), ms_of(t)), ec);
    }
    template <class T> void set_read_deadline(T t) {
        check(net_set_read_deadline(h(), ms_of(t)));
    }
    template <class T> void set_read_deadline(T t, std::error_code &ec) noexcept {
        check(net_set_read_deadline(h(), ms_of(t)), ec);
    }
    template <class T> void set_write_deadline(T t) {
        check(net_set_write_deadline(h(), ms_of(t)));
    }
    template <class T> void set_write_deadline(T t, std::error_code &ec) noexcept {
        check(net_set_write_deadline(h(), ms_of(t)), ec);
    }
    void clear_deadline() { check(net_set_deadline(h(), NET_FOREVER)); }
    void clear_deadline(std::error_code &ec) noexcept { check(net_set_deadline(h(), -1), ec); }
    void clear_read_deadline() { check(net_set_read_deadline(h(), NET_FOREVER)); }
    void clear_read_deadline(std::error_code &ec) noexcept {
        check(net_set_read_deadline(h(), -1), ec);
    }
    void clear_write_deadline() { check(net_set_write_deadline(h(), NET_FOREVER)); }
    void clear_write_deadline(std::error_code &ec) noexcept {
        check(net_set_write_deadline(h(), -1), ec);
    }

    /// The local address ("127.0.0.1:8088", "[::1]:8088", a Unix path).
    std::string local_addr() const { return address(h(), net_local_addr, nullptr); }
    std::string local_addr(std::error_code &ec) const { return address(h(), net_local_addr, &ec); }

    /// The socket's descriptor, to wait for readiness with poll(2) or an
    /// event loop (net_fd). It stays gonet's: do not close, read or write
    /// it; it is valid until the handle is closed.
    int fd() const { return static_cast<int>(check(net_fd(h()))); }
    int fd(std::error_code &ec) const noexcept { return static_cast<int>(check(net_fd(h()), ec)); }

protected:
    deadlines() = default;

private:
    std::int64_t h() const noexcept { return static_cast<const Self &>(*this).native_handle(); }
};

/// Reading and writing, for Conn and PacketConn.
template <class Self>
class stream_io {
public:
    /// Reads up to len bytes: the number read, 0 only at end of stream (or
    /// for len 0, or an empty datagram on a packet connection).
    std::size_t read(void *buf, std::size_t len) {
        return static_cast<std::size_t>(check(net_read(h(), buf, len)));
    }
    std::size_t read(void *buf, std::size_t len, std::error_code &ec) noexcept {
        const std::int64_t n = check(net_read(h(), buf, len), ec);
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    /// Reads up to max bytes into a string: empty at end of stream.
    std::string read(std::size_t max) {
        std::string out(max, '\0');
        out.resize(read(&out[0], max));
        return out;
    }
    std::string read(std::size_t max, std::error_code &ec) {
        std::string out(max, '\0');
        out.resize(read(&out[0], max, ec));
        return out;
    }
    /// Writes every byte (returns len) or throws; never raises SIGPIPE.
    std::size_t write(const void *buf, std::size_t len) {
        return static_cast<std::size_t>(check(net_write(h(), buf, len)));
    }
    std::size_t write(const void *buf, std::size_t len, std::error_code &ec) noexcept {
        const std::int64_t n = check(net_write(h(), buf, len), ec);
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    /// Writes a string_view (or a std::string, or a string literal).
    std::size_t write(std::string_view s) { return write(s.data(), s.size()); }
    std::size_t write(std::string_view s, std::error_code &ec) noexcept {
        return write(s.data(), s.size(), ec);
    }

    /// Non-blocking reads and writes for event loops (net_try_read,
    /// net_try_write): one attempt, errc::would_block in ec where read or
    /// write would wait (wait until fd() is ready, then call again).
    /// try_write may write less than len: call again with the rest.
    std::size_t try_read(void *buf, std::size_t len, std::error_code &ec) noexcept {
        const std::int64_t n = check(net_try_read(h(), buf, len), ec);
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    std::size_t try_write(const void *buf, std::size_t len, std::error_code &ec) noexcept {
        const std::int64_t n = check(net_try_write(h(), buf, len), ec);
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }

    /// The peer's address ("" for an unconnected packet connection).
    std::string remote_addr() const { return address(h(), net_remote_addr, nullptr); }
    std::string remote_addr(std::error_code &ec) const {
        return address(h(), net_remote_addr, &ec);
    }

protected:
    stream_io() = default;

private:
    std::int64_t h() const noexcept { return static_cast<const Self &>(*this).native_handle(); }
};

} // namespace detail

/// A connection (Go's net.Conn): from dial, Dialer::dial or
/// Listener::accept. On "udp" and "unixgram" dials it is a connected
/// packet handle: each read and write moves one datagram.
class Conn : public detail::handle,
             public detail::deadlines<Conn>,
             public detail::stream_io<Conn> {
public:
    Conn() noexcept = default;
    /// Takes ownership of a connection handle from the C API.
    explicit Conn(std::int64_t h) noexcept : handle(h) {}

    /// Half-closes (TCPConn.CloseRead, CloseWrite).
    void close_read() { detail::check(net_close_read(native_handle())); }
    void close_read(std::error_code &ec) noexcept {
        detail::check(net_close_read(native_handle()), ec);
    }
    void close_write() { detail::check(net_close_write(native_handle())); }
    void close_write(std::error_code &ec) noexcept {
        detail::check(net_close_write(native_handle()), ec);
    }
    /// TCP_NODELAY (on by default).
    void set_nodelay(bool on) { detail::check(net_set_nodelay(native_handle(), on)); }
    void set_nodelay(bool on, std::error_code &ec) noexcept {
        detail::check(net_set_nodelay(native_handle(), on), ec);
    }
    /// Keep-alive with this period (Go's SetKeepAlivePeriod), rounded up
    /// to whole seconds: a duration, gonet::go_default (15 s) or
    /// gonet::forever (off), as net_set_keepalive.
    template <class T> void set_keepalive(T period) {
        detail::check(net_set_keepalive(native_handle(), detail::ms_of(period)));
    }
    template <class T> void set_keepalive(T period, std::error_code &ec) noexcept {
        detail::check(net_set_keepalive(native_handle(), detail::ms_of(period)), ec);
    }
};

/// A listener (Go's net.Listener): from listen. Deadlines bound accept.
class Listener : public detail::handle, public detail::deadlines<Listener> {
public:
    Listener() noexcept = default;
    explicit Listener(std::int64_t h) noexcept : handle(h) {}

    /// Waits for the next connection; closing the listener from another
    /// thread ends the wait with errc::closed.
    Conn accept() { return Conn(detail::check(net_accept(native_handle()))); }
    Conn accept(std::error_code &ec) noexcept {
        const std::int64_t h = detail::check(net_accept(native_handle()), ec);
        return h < 0 ? Conn() : Conn(h);
    }
    /// A connection already waiting, or errc::would_block in ec
    /// (net_try_accept): for event loops that wait on fd() themselves.
    Conn try_accept(std::error_code &ec) noexcept {
        const std::int64_t h = detail::check(net_try_accept(native_handle()), ec);
        return h < 0 ? Conn() : Conn(h);
    }
};

/// An unconnected datagram socket (Go's net.PacketConn): from
/// listen_packet. read and write also work (write only when connected).
class PacketConn : public detail::handle,
                   public detail::deadlines<PacketConn>,
                   public detail::stream_io<PacketConn> {
public:
    PacketConn() noexcept = default;
    explicit PacketConn(std::int64_t h) noexcept : handle(h) {}

    /// Waits for one datagram: its length, the sender into from. A
    /// datagram longer than len throws errc::message_size after copying
    /// what fit (from is set then too).
    std::size_t read_from(void *buf, std::size_t len, std::string &from) {
        std::error_code ec;
        const std::size_t n = read_from(buf, len, from, ec);
        if (ec)
            throw error(ec, net_last_error());
        return n;
    }
    std::size_t read_from(void *buf, std::size_t len, std::string &from, std::error_code &ec) {
        char addr[NET_ADDR_MAX];
        const std::int64_t n =
            detail::check(net_read_from(native_handle(), buf, len, addr, sizeof addr), ec);
        from.assign(addr);
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    /// Sends buf as one datagram to addr ("127.0.0.1:9000", a Unix path);
    /// a host name is looked up within the write deadline.
    std::size_t write_to(const void *buf, std::size_t len, std::string_view addr) {
        const detail::cstring a(addr);
        if (!a.ok())
            throw detail::nul_error("write_to");
        return static_cast<std::size_t>(
            detail::check(net_write_to(native_handle(), buf, len, a.get())));
    }
    std::size_t write_to(const void *buf, std::size_t len, std::string_view addr,
                         std::error_code &ec) {
        const detail::cstring a(addr);
        const std::int64_t n = detail::check(net_write_to(native_handle(), buf, len, a.get()), ec);
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    /// read_from and write_to without waiting (net_try_read_from,
    /// net_try_write_to): errc::would_block in ec where they would wait.
    /// addr must be an IP address or a Unix name: a host name is
    /// errc::invalid_argument (it would need a lookup).
    std::size_t try_read_from(void *buf, std::size_t len, std::string &from,
                              std::error_code &ec) {
        char addr[NET_ADDR_MAX];
        const std::int64_t n =
            detail::check(net_try_read_from(native_handle(), buf, len, addr, sizeof addr), ec);
        from.assign(addr);
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    std::size_t try_write_to(const void *buf, std::size_t len, std::string_view addr,
                             std::error_code &ec) {
        const detail::cstring a(addr);
        if (!a.ok()) {
            ec = make_error_code(errc::invalid_argument);
            return 0;
        }
        const std::int64_t n =
            detail::check(net_try_write_to(native_handle(), buf, len, a.get()), ec);
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    std::size_t write_to(std::string_view data, std::string_view addr) {
        return write_to(data.data(), data.size(), addr);
    }
    std::size_t write_to(std::string_view data, std::string_view addr, std::error_code &ec) {
        return write_to(data.data(), data.size(), addr, ec);
    }
};

namespace detail {

/// Calls f(network, address) with NUL-terminated copies; a NUL inside
/// either is NET_EINVAL.
template <class F>
std::int64_t with_strings(const char *what, std::string_view network, std::string_view address,
                          F f, std::error_code *ec) {
    const cstring n(network), a(address);
    if (!n.ok() || !a.ok()) {
        if (!ec)
            throw nul_error(what);
        *ec = make_error_code(errc::invalid_argument);
        return NET_EINVAL;
    }
    const std::int64_t h = f(n.get(), a.get());
    return ec ? check(h, *ec) : check(h);
}

} // namespace detail

/// Go's net.Dial: "tcp", "tcp4", "tcp6", "unix"; "udp", "udp4", "udp6",
/// "unixgram" give a connected packet connection.
inline Conn dial(std::string_view network, std::string_view address) {
    return Conn(detail::with_strings("dial", network, address, net_dial, nullptr));
}
inline Conn dial(std::string_view network, std::string_view address, std::error_code &ec) {
    const std::int64_t h = detail::with_strings("dial", network, address, net_dial, &ec);
    return h < 0 ? Conn() : Conn(h);
}

/// Go's net.DialTimeout: the timeout bounds the whole dial, as for
/// net_dial_timeout: a duration (zero or less has already run out),
/// gonet::forever or gonet::go_default (none).
template <class T>
Conn dial(std::string_view network, std::string_view address, T timeout) {
    const std::int64_t ms = detail::ms_of(timeout);
    return Conn(detail::with_strings(
        "dial", network, address,
        [ms](const char *n, const char *a) { return net_dial_timeout(n, a, ms); }, nullptr));
}
template <class T>
Conn dial(std::string_view network, std::string_view address, T timeout, std::error_code &ec) {
    const std::int64_t ms = detail::ms_of(timeout);
    const std::int64_t h = detail::with_strings(
        "dial", network, address,
        [ms](const char *n, const char *a) { return net_dial_timeout(n, a, ms); }, &ec);
    return h < 0 ? Conn() : Conn(h);
}

/// Go's net.Listen: "tcp", "tcp4", "tcp6", "unix".
inline Listener listen(std::string_view network, std::string_view address) {
    return Listener(detail::with_strings("listen", network, address, net_listen, nullptr));
}
inline Listener listen(std::string_view network, std::string_view address, std::error_code &ec) {
    const std::int64_t h = detail::with_strings("listen", network, address, net_listen, &ec);
    return h < 0 ? Listener() : Listener(h);
}

/// Go's net.ListenPacket: "udp", "udp4", "udp6", "unixgram".
inline PacketConn listen_packet(std::string_view network, std::string_view address) {
    return PacketConn(
        detail::with_strings("listen", network, address, net_listen_packet, nullptr));
}
inline PacketConn listen_packet(std::string_view network, std::string_view address,
                                std::error_code &ec) {
    const std::int64_t h =
        detail::with_strings("listen", network, address, net_listen_packet, &ec);
    return h < 0 ? PacketConn() : PacketConn(h);
}

/// Go's net.Dialer, with cancel() for cancelling its context. Closing it
/// (or destroying it) cancels its dials too.
class Dialer : public detail::handle {
public:
    /// A dialer with Go's defaults.
    Dialer() : handle(detail::check(net_dialer_new())) {}
    /// Takes ownership of a dialer handle from the C API.
    explicit Dialer(std::int64_t h) noexcept : handle(h) {}

    /// Bounds each dial, name lookup included: a duration (zero or less
    /// has already run out), gonet::forever or gonet::go_default (none).
    template <class T> void set_timeout(T d) {
        detail::check(net_dialer_set_timeout(native_handle(), detail::ms_of(d)));
    }
    /// Binds dials to a local address ("127.0.0.2:0").
    void set_local_addr(std::string_view address) {
        const detail::cstring a(address);
        if (!a.ok())
            throw detail::nul_error("set_local_addr");
        detail::check(net_dialer_set_local_addr(native_handle(), a.get()));
    }
    /// Removes the local address.
    void clear_local_addr() {
        detail::check(net_dialer_set_local_addr(native_handle(), nullptr));
    }
    /// Happy Eyeballs' fallback delay (Go's FallbackDelay): a duration
    /// (zero: both families at once), gonet::go_default (300 ms) or
    /// gonet::forever (no race: every address in turn).
    template <class T> void set_fallback_delay(T d) {
        detail::check(net_dialer_set_fallback_delay(native_handle(), detail::ms_of(d)));
    }
    /// The keep-alive period of the connections it makes (Go's
    /// Dialer.KeepAlive), rounded up to whole seconds: a duration,
    /// gonet::go_default (15 s) or gonet::forever (off).
    template <class T> void set_keepalive(T d) {
        detail::check(net_dialer_set_keepalive(native_handle(), detail::ms_of(d)));
    }

    /// Dials with this dialer's settings; errc::canceled after cancel().
    Conn dial(std::string_view network, std::string_view address) {
        const std::int64_t d = native_handle();
        return Conn(detail::with_strings(
            "dial", network, address,
            [d](const char *n, const char *a) { return net_dialer_dial(d, n, a); }, nullptr));
    }
    Conn dial(std::string_view network, std::string_view address, std::error_code &ec) {
        const std::int64_t d = native_handle();
        const std::int64_t h = detail::with_strings(
            "dial", network, address,
            [d](const char *n, const char *a) { return net_dialer_dial(d, n, a); }, &ec);
        return h < 0 ? Conn() : Conn(h);
    }

    /// Cancels the dials in progress, from any thread, and every later one.
    void cancel() { detail::check(net_dialer_cancel(native_handle())); }
    void cancel(std::error_code &ec) noexcept {
        detail::check(net_dialer_cancel(native_handle()), ec);
    }
};

} // namespace gonet

#endif /* GONET_HPP */
