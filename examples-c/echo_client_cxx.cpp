// echo_client_cxx: the client of echo_client.c, written with the C++
// header gonet.hpp. Sends each line of standard input to an echo server
// and prints the line it sends back.
//
//     echo_client_cxx [address]        (default "127.0.0.1:8088")
//
// Exits 0 at the end of input, 1 when the server cannot be reached or goes
// away.
#include <gonet.hpp>

#include <cstdio>
#include <iostream>
#include <string>

int main(int argc, char **argv) {
    const char *address = argc > 1 ? argv[1] : "127.0.0.1:8088";
    try {
        gonet::Conn conn = gonet::dial("tcp", address);
        std::string line, inbox;
        while (std::getline(std::cin, line)) {
            while (!line.empty() && line.back() == '\r')
                line.pop_back();
            conn.write(line + '\n');
            std::size_t nl;
            while ((nl = inbox.find('\n')) == std::string::npos) {
                std::string got = conn.read(4096);
                if (got.empty()) {
                    std::fprintf(stderr, "echo_client_cxx: the server closed the connection\n");
                    return 1;
                }
                inbox += got;
            }
            std::cout << inbox.substr(0, nl + 1) << std::flush;
            inbox.erase(0, nl + 1);
        }
        conn.close();
    } catch (const gonet::error &e) {
        std::fprintf(stderr, "echo_client_cxx: %s\n", e.what());
        return 1;
    }
    return 0;
}
