// echo_server_cxx: the line echo server of echo_server.c, written with the
// C++ header gonet.hpp; one thread per client.
//
//     echo_server_cxx [address]        (default ":8088")
//
// Every line a client sends ('\n'-terminated) is printed as
// "GET MESSAGE: <text>" and sent back. SIGINT or SIGTERM closes the
// listener; open connections get one second to finish, are then closed,
// and the server exits 0.
#include <gonet.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <pthread.h>

namespace {

constexpr std::size_t max_line = 1 << 20; // a longer line ends the connection

// The connections being served, so that shutdown can close them.
struct clients {
    std::mutex lock;
    std::condition_variable idle;
    std::map<std::int64_t, std::shared_ptr<gonet::Conn>> open;
};

// Serves one client; id is its handle, the key in all.open (the Conn is
// empty once shutdown has closed it).
void serve(clients &all, std::int64_t id, std::shared_ptr<gonet::Conn> conn, std::string peer) {
    std::string pending;
    try {
        for (;;) {
            std::string got = conn->read(4096);
            if (got.empty()) {
                if (pending.empty())
                    std::printf("client %s left\n", peer.c_str());
                else
                    std::printf("client %s left mid-line (%zu bytes dropped)\n", peer.c_str(),
                                pending.size());
                break;
            }
            pending += got;
            std::size_t start = 0;
            for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos;
                 start = nl + 1) {
                std::string_view line(pending.data() + start, nl - start);
                std::printf("GET MESSAGE: %.*s\n", static_cast<int>(line.size()), line.data());
                conn->write(pending.data() + start, line.size() + 1); // with its '\n'
            }
            pending.erase(0, start);
            if (pending.size() > max_line) {
                std::printf("client %s: line longer than %zu bytes, closing\n", peer.c_str(),
                            max_line);
                break;
            }
        }
    } catch (const gonet::error &e) {
        std::printf("client %s: %s\n", peer.c_str(), e.what());
    }
    std::lock_guard<std::mutex> hold(all.lock);
    all.open.erase(id);
    all.idle.notify_all();
} // the last owner closes the connection

} // namespace

int main(int argc, char **argv) {
    const char *address = argc > 1 ? argv[1] : ":8088";
    std::setvbuf(stdout, nullptr, _IOLBF, 0);

    // Block the signals in every thread; one thread waits for them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (int err = pthread_sigmask(SIG_BLOCK, &signals, nullptr); err != 0) {
        std::fprintf(stderr, "pthread_sigmask: %s\n", std::strerror(err));
        return 1;
    }

    gonet::Listener ln;
    try {
        ln = gonet::listen("tcp", address);
        std::printf("listening on %s\n", ln.local_addr().c_str());
    } catch (const gonet::error &e) {
        std::fprintf(stderr, "echo_server_cxx: %s\n", e.what());
        return 1;
    }

    // Closing the listener from this thread wakes accept in main.
    std::thread waiter([&ln, &signals] {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0)
            return;
        std::printf("received %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        std::error_code ec;
        ln.close(ec);
    });

    clients all;
    for (;;) {
        std::error_code ec;
        gonet::Conn c = ln.accept(ec);
        if (ec == gonet::errc::closed)
            break;
        if (ec) {
            std::fprintf(stderr, "accept: %s\n", gonet::last_error().c_str());
            std::this_thread::sleep_for(std::chrono::milliseconds(100)); // e.g. out of fds
            continue;
        }
        std::string peer = c.remote_addr(ec);
        std::printf("client %s connected\n", peer.c_str());
        const std::int64_t id = c.native_handle();
        auto conn = std::make_shared<gonet::Conn>(std::move(c));
        {
            std::lock_guard<std::mutex> hold(all.lock);
            all.open.emplace(id, conn);
        }
        std::thread(serve, std::ref(all), id, conn, std::move(peer)).detach();
    }

    // A grace period, then close what is still open; closing wakes the
    // client threads, which then finish.
    std::unique_lock<std::mutex> hold(all.lock);
    if (!all.idle.wait_for(hold, std::chrono::seconds(1), [&] { return all.open.empty(); })) {
        std::printf("closing %zu open connection(s)\n", all.open.size());
        for (auto &entry : all.open) {
            std::error_code ec;
            entry.second->close(ec);
        }
    }
    all.idle.wait(hold, [&] { return all.open.empty(); });
    hold.unlock();
    waiter.join();
    std::printf("server stopped\n");
    return 0;
}
