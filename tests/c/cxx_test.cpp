// The C++ header, include/gonet.hpp: ownership, reads and writes,
// deadlines as durations and time points, errors thrown and returned,
// datagrams and dialers. Prints "ok" when every check passed; built by
// tests/cxx.rs with g++ and clang++, warnings as errors, and under
// AddressSanitizer and UBSan.
#include <gonet.hpp>
#include <poll.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

using namespace std::chrono_literals;

static int failures = 0;

#define EXPECT(cond)                                                                       \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond);        \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

// Runs f, which must throw gonet::error with code e; returns its what().
template <class F> static std::string expect_throw(F f, gonet::errc e, int line) {
    try {
        f();
    } catch (const gonet::error &err) {
        if (err.code() != e) {
            std::fprintf(stderr, "line %d: code %d (%s), not %d\n", line, err.code().value(),
                         err.what(), static_cast<int>(e));
            failures++;
        }
        return err.what();
    }
    std::fprintf(stderr, "line %d: nothing thrown\n", line);
    failures++;
    return std::string();
}
#define EXPECT_THROW(expr, e) expect_throw([&] { (void)(expr); }, e, __LINE__)

static double ms_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

static void streams() {
    gonet::Listener ln = gonet::listen("tcp", "127.0.0.1:0");
    const std::string addr = ln.local_addr();
    EXPECT(addr.rfind("127.0.0.1:", 0) == 0);
    gonet::Conn c = gonet::dial("tcp", addr);
    gonet::Conn s = ln.accept();
    EXPECT(c.remote_addr() == addr);
    EXPECT(s.remote_addr() == c.local_addr());

    // Pointer and size, string_view, std::string, a literal.
    EXPECT(c.write("ab", 2) == 2);
    EXPECT(c.write(std::string_view("cd")) == 2);
    EXPECT(c.write(std::string("ef")) == 2);
    EXPECT(c.write("gh") == 2);
    std::string got;
    while (got.size() < 8) {
        std::string part = s.read(8 - got.size());
        EXPECT(!part.empty());
        if (part.empty())
            break;
        got += part;
    }
    EXPECT(got == "abcdefgh");

    // fd(): a descriptor poll(2) sees as readable once data waits.
    EXPECT(c.write("x") == 1);
    struct pollfd pfd = {s.fd(), POLLIN, 0};
    EXPECT(pfd.fd > 2 && poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN));
    EXPECT(s.read(1) == "x");
    char buf[16];
    EXPECT(s.write("xyz") == 3);
    std::size_t n = 0;
    while (n < 3) {
        std::size_t r = c.read(buf + n, sizeof buf - n);
        EXPECT(r > 0);
        if (r == 0)
            break;
        n += r;
    }
    EXPECT(std::memcmp(buf, "xyz", 3) == 0);

    // The non-blocking calls: errc::would_block, which is EAGAIN's
    // condition, until data waits.
    std::error_code wb;
    EXPECT(s.try_read(buf, sizeof buf, wb) == 0 && wb == gonet::errc::would_block);
    EXPECT(wb == std::errc::resource_unavailable_try_again);
    EXPECT(ln.try_accept(wb).native_handle() == 0 && wb == gonet::errc::would_block);
    wb.clear();
    EXPECT(c.try_write("tw", 2, wb) == 2 && !wb);
    pfd = {s.fd(), POLLIN, 0};
    EXPECT(poll(&pfd, 1, 5000) == 1);
    EXPECT(s.try_read(buf, sizeof buf, wb) == 2 && !wb && std::memcmp(buf, "tw", 2) == 0);

    c.set_nodelay(false);
    c.set_keepalive(30s);
    c.set_keepalive(0s); // rounded up to the kernel's least, 1 s
    c.set_keepalive(gonet::go_default);
    c.set_keepalive(gonet::forever); // off

    // Half-close: the peer reads end of stream.
    c.close_write();
    EXPECT(s.read(buf, sizeof buf) == 0);
    EXPECT(s.read(16).empty());

    // Closing empties the object; a second close is errc::closed.
    c.close();
    EXPECT(!c);
    EXPECT(c.native_handle() == 0);
    std::error_code ec;
    c.close(ec);
    EXPECT(ec == gonet::errc::closed);
}

static void ownership() {
    gonet::Listener ln = gonet::listen("tcp", "127.0.0.1:0");
    std::int64_t h = 0;
    {
        gonet::Conn c = gonet::dial("tcp", ln.local_addr());
        h = c.native_handle();
        EXPECT(h > 0);
        gonet::Conn moved(std::move(c));
        EXPECT(!c); // NOLINT: a moved-from object is empty
        EXPECT(moved.native_handle() == h);
        gonet::Conn assigned;
        assigned = std::move(moved);
        EXPECT(assigned.native_handle() == h);
        gonet::Conn a = ln.accept();
        // Move-assigning over a live object closes what it held.
        const std::int64_t accepted = a.native_handle();
        a = gonet::dial("tcp", ln.local_addr());
        EXPECT(net_close(accepted) == NET_ECLOSED);
    } // the destructors close
    EXPECT(net_close(h) == NET_ECLOSED);

    // release() hands the handle over; the object no longer closes it.
    gonet::Conn c = gonet::dial("tcp", ln.local_addr());
    const std::int64_t raw = c.release();
    EXPECT(!c);
    EXPECT(net_close(raw) == 0);

    static_assert(!std::is_copy_constructible_v<gonet::Conn>);
    static_assert(!std::is_copy_assignable_v<gonet::Listener>);
    static_assert(std::is_nothrow_move_constructible_v<gonet::PacketConn>);
    static_assert(std::is_nothrow_move_assignable_v<gonet::Dialer>);
}

static void errors() {
    gonet::Listener gone = gonet::listen("tcp", "127.0.0.1:0");
    const std::string addr = gone.local_addr();
    gone.close();

    std::string what = EXPECT_THROW(gonet::dial("tcp", addr), gonet::errc::connection_refused);
    EXPECT(what == "dial tcp " + addr + ": connect: connection refused");
    try {
        gonet::dial("tcp", addr);
    } catch (const std::system_error &e) { // catchable as the standard type
        EXPECT(e.code() == std::errc::connection_refused);
        EXPECT(std::string(e.code().category().name()) == "gonet");
        EXPECT(e.code().value() == NET_EREFUSED);
        EXPECT(e.code().message() == net_strerror(NET_EREFUSED));
    }

    // The non-throwing forms set the code and leave Go's message.
    std::error_code ec = gonet::errc::internal;
    gonet::Conn c = gonet::dial("tcp", addr, ec);
    EXPECT(ec == gonet::errc::connection_refused);
    EXPECT(ec == std::errc::connection_refused);
    EXPECT(!c);
    EXPECT(gonet::last_error() == "dial tcp " + addr + ": connect: connection refused");
    gonet::Listener ln = gonet::listen("tcp", "127.0.0.1:0", ec);
    EXPECT(!ec && ln);

    EXPECT_THROW(gonet::dial("tcp", "127.0.0.1"), gonet::errc::bad_address);
    EXPECT_THROW(gonet::dial("foo", "x:1"), gonet::errc::bad_address);
    EXPECT_THROW(gonet::listen("tcp", std::string_view("127.0.0.1:0\0x", 13)),
                 gonet::errc::invalid_argument);
    gonet::listen(std::string_view("tcp\0", 4), "127.0.0.1:0", ec);
    EXPECT(ec == gonet::errc::invalid_argument);
    EXPECT(ec == std::errc::invalid_argument);

    // A read on a listener's handle, through a Conn that adopted it.
    gonet::Conn wrong(ln.native_handle());
    char b[4];
    EXPECT_THROW(wrong.read(b, sizeof b), gonet::errc::invalid_argument);
    (void)wrong.release();

    // Every code has a message and maps as promised.
    EXPECT(std::error_code(gonet::errc::timeout) == std::errc::timed_out);
    EXPECT(std::error_code(gonet::errc::canceled) == std::errc::operation_canceled);
    EXPECT(std::error_code(gonet::errc::closed) != std::errc::timed_out);
    EXPECT(gonet::category().message(NET_ECLOSED) == net_strerror(NET_ECLOSED));
    EXPECT(gonet::version() == net_version());
}

static void deadlines() {
    gonet::Listener ln = gonet::listen("tcp", "127.0.0.1:0");
    gonet::Conn c = gonet::dial("tcp", ln.local_addr());
    gonet::Conn s = ln.accept();
    char buf[8];

    auto t = std::chrono::steady_clock::now();
    s.set_read_deadline(50ms);
    std::string what = EXPECT_THROW(s.read(buf, sizeof buf), gonet::errc::timeout);
    EXPECT(what.find("i/o timeout") != std::string::npos);
    EXPECT(ms_since(t) >= 45 && ms_since(t) < 2000);

    // A time point of the steady clock, then of the system clock.
    t = std::chrono::steady_clock::now();
    s.set_read_deadline(t + 60ms);
    EXPECT_THROW(s.read(buf, sizeof buf), gonet::errc::timeout);
    EXPECT(ms_since(t) >= 55 && ms_since(t) < 2000);
    t = std::chrono::steady_clock::now();
    s.set_deadline(std::chrono::system_clock::now() + 40ms);
    EXPECT_THROW(s.read(buf, sizeof buf), gonet::errc::timeout);
    EXPECT(ms_since(t) >= 30 && ms_since(t) < 2000);

    // Zero, negative and past deadlines are already expired, even with
    // data waiting; clearing makes reads work again.
    EXPECT(c.write("x") == 1);
    for (auto d : {0ms, -5ms}) {
        s.set_read_deadline(d);
        std::error_code ec;
        EXPECT(s.read(buf, sizeof buf, ec) == 0);
        EXPECT(ec == gonet::errc::timeout);
    }
    s.set_read_deadline(std::chrono::steady_clock::now() - 1s);
    EXPECT_THROW(s.read(buf, sizeof buf), gonet::errc::timeout);
    s.clear_read_deadline();
    EXPECT(s.read(buf, sizeof buf) == 1);

    // Durations too long for int64_t milliseconds mean "far away".
    s.set_deadline(std::chrono::hours::max());
    s.set_write_deadline(std::chrono::nanoseconds(1)); // rounds up, not to "now"
    EXPECT(c.write("y") == 1);
    EXPECT(s.read(buf, sizeof buf) == 1);
    s.clear_deadline();
    s.clear_write_deadline();

    // A listener's deadline bounds accept.
    ln.set_deadline(30ms);
    EXPECT_THROW(ln.accept(), gonet::errc::timeout);
    std::error_code ec;
    gonet::Conn none = ln.accept(ec);
    EXPECT(ec == gonet::errc::timeout && !none);

    // Closing from another thread wakes a blocked read on the same object.
    ln.clear_deadline();
    std::thread closer([&] {
        std::this_thread::sleep_for(50ms);
        s.close();
    });
    std::error_code rec;
    s.read(buf, sizeof buf, rec);
    closer.join();
    EXPECT(rec == gonet::errc::closed);
}

static void datagrams() {
    gonet::PacketConn a = gonet::listen_packet("udp", "127.0.0.1:0");
    gonet::PacketConn b = gonet::listen_packet("udp", "127.0.0.1:0");
    EXPECT(b.remote_addr().empty());
    EXPECT(a.write_to("hello", b.local_addr()) == 5);
    char buf[64];
    std::string from;
    b.set_read_deadline(5s);
    std::size_t n = b.read_from(buf, sizeof buf, from);
    EXPECT(n == 5 && std::memcmp(buf, "hello", 5) == 0);
    EXPECT(from == a.local_addr());

    // Too long for the buffer: what fit, and errc::message_size.
    EXPECT(a.write_to(std::string(100, 'z'), b.local_addr()) == 100);
    std::error_code ec;
    from.clear();
    n = b.read_from(buf, 10, from, ec);
    EXPECT(ec == gonet::errc::message_size && ec == std::errc::message_size);
    EXPECT(from == a.local_addr());
    EXPECT(gonet::last_error().find("datagram of 100 bytes") != std::string::npos);

    // Without waiting: nothing queued, then one datagram; names refused.
    std::error_code wb;
    EXPECT(b.try_read_from(buf, sizeof buf, from, wb) == 0 && wb == gonet::errc::would_block);
    wb.clear();
    EXPECT(a.try_write_to("try", 3, b.local_addr(), wb) == 3 && !wb);
    struct pollfd pfd = {b.fd(), POLLIN, 0};
    EXPECT(poll(&pfd, 1, 5000) == 1);
    EXPECT(b.try_read_from(buf, sizeof buf, from, wb) == 3 && !wb && from == a.local_addr());
    a.try_write_to("x", 1, "localhost:9", wb);
    EXPECT(wb == gonet::errc::invalid_argument);

    // A dialed UDP connection: read and write one datagram each.
    gonet::Conn c = gonet::dial("udp", b.local_addr());
    EXPECT(c.write("dgram") == 5);
    EXPECT(b.read(buf, sizeof buf) == 5);
    EXPECT(b.write_to("back", c.local_addr()) == 4);
    c.set_read_deadline(5s);
    EXPECT(c.read(64) == "back");
    EXPECT_THROW(b.write("x"), gonet::errc::invalid_argument); // not connected
    EXPECT_THROW(b.write_to("x", std::string_view("a\0b", 3)), gonet::errc::invalid_argument);
}

static void dialers() {
    gonet::Listener ln = gonet::listen("tcp", "127.0.0.1:0");
    gonet::Dialer d;
    d.set_timeout(5s);
    d.set_fallback_delay(gonet::forever); // no race
    d.set_fallback_delay(gonet::go_default);
    d.set_keepalive(20s);
    d.set_local_addr("127.0.0.1:0");
    gonet::Conn c = d.dial("tcp", ln.local_addr());
    gonet::Conn s = ln.accept();

    // One meaning for a duration everywhere: zero has already run out.
    {
        gonet::Dialer expired;
        expired.set_timeout(0s);
        EXPECT_THROW(expired.dial("tcp", ln.local_addr()), gonet::errc::timeout);
        expired.set_timeout(gonet::forever);
        gonet::Conn c2 = expired.dial("tcp", ln.local_addr());
        gonet::Conn s2 = ln.accept();
        EXPECT_THROW(gonet::dial("tcp", ln.local_addr(), 0ms), gonet::errc::timeout);
        EXPECT_THROW(gonet::dial("tcp", ln.local_addr(), -5s), gonet::errc::timeout);
        gonet::Conn c3 = gonet::dial("tcp", ln.local_addr(), gonet::go_default);
        gonet::Conn s3 = ln.accept();
    }
    EXPECT(s.remote_addr() == c.local_addr());
    d.clear_local_addr();
    EXPECT_THROW(d.set_local_addr(std::string_view("1\0", 2)), gonet::errc::invalid_argument);

    d.cancel();
    std::string what = EXPECT_THROW(d.dial("tcp", ln.local_addr()), gonet::errc::canceled);
    EXPECT(what.find("operation was canceled") != std::string::npos);
    std::error_code ec;
    gonet::Conn none = d.dial("tcp", ln.local_addr(), ec);
    EXPECT(ec == std::errc::operation_canceled && !none);

    // DialTimeout with a duration.
    gonet::Conn t = gonet::dial("tcp", ln.local_addr(), 2s);
    EXPECT(t);
    gonet::Conn t2 = gonet::dial("tcp", ln.local_addr(), 2s, ec);
    EXPECT(!ec && t2);
}

// Deliberate faults, so the sanitized builds show their checkers are on.
static int canary(const char *what) {
    if (std::strcmp(what, "overflow") == 0) { // AddressSanitizer
        std::string *s = new std::string[2];
        volatile std::size_t i = 2;
        int r = static_cast<int>(s[i].size());
        delete[] s;
        return r;
    }
    if (std::strcmp(what, "ub") == 0) { // UBSan
        volatile int big = INT32_MAX;
        volatile int sum = big + 1;
        return sum > 0 ? 0 : 1;
    }
    return 2;
}

int main(int argc, char **argv) {
    if (argc > 2 && std::strcmp(argv[1], "canary") == 0)
        return canary(argv[2]);
    try {
        streams();
        ownership();
        errors();
        deadlines();
        datagrams();
        dialers();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        return 1;
    }
    if (failures != 0) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::puts("ok");
    return 0;
}
