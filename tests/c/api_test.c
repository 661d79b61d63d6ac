/*
 * Exercises the C ABI through the generated header: listen, dial, accept,
 * read, write, close, error paths, a write to a vanished peer with the
 * default SIGPIPE disposition (the process must not be killed), and UDP
 * datagrams.
 * Prints "ok" and exits 0 when every check passes.
 */
#define _DEFAULT_SOURCE /* usleep */
#include <gonet.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static int64_t read_full(int64_t conn, char *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        int64_t n = net_read(conn, buf + got, len - got);
        if (n <= 0) {
            return n;
        }
        got += (size_t)n;
    }
    return (int64_t)got;
}

int main(void) {
    char addr[128];
    char buf[64];

    /* The default disposition: a SIGPIPE would kill this process. */
    signal(SIGPIPE, SIG_DFL);

    int64_t ln = net_listen("tcp", "127.0.0.1:0");
    CHECK(ln > 0);
    int64_t alen = net_local_addr(ln, addr, sizeof addr);
    CHECK(alen > 0 && (size_t)alen == strlen(addr));
    CHECK(strncmp(addr, "127.0.0.1:", 10) == 0);

    int64_t client = net_dial("tcp", addr);
    CHECK(client > 0);
    int64_t server = net_accept(ln);
    CHECK(server > 0);

    CHECK(net_write(client, "hello, gonet", 12) == 12);
    memset(buf, 0, sizeof buf);
    CHECK(read_full(server, buf, 12) == 12);
    CHECK(memcmp(buf, "hello, gonet", 12) == 0);

    CHECK(net_write(server, "pong", 4) == 4);
    CHECK(read_full(client, buf, 4) == 4);
    CHECK(memcmp(buf, "pong", 4) == 0);

    /* Error path: a refused dial, with Go's message. */
    int64_t refused = net_dial("tcp", "127.0.0.1:1");
    CHECK(refused == NET_EREFUSED);
    CHECK(strcmp(net_last_error(),
                 "dial tcp 127.0.0.1:1: connect: connection refused") == 0);
    CHECK(strcmp(net_strerror(NET_EREFUSED), "connection refused") == 0);

    /* A deadline: the read times out. */
    CHECK(net_set_read_deadline(client, 20) == 0);
    CHECK(net_read(client, buf, sizeof buf) == NET_ETIMEOUT);
    CHECK(strstr(net_last_error(), "i/o timeout") != NULL);

    /* The peer goes away: writes fail with EPIPE or ERESET, no SIGPIPE. */
    CHECK(net_close(server) == 0);
    int64_t rc = 0;
    for (int i = 0; i < 1000 && rc >= 0; i++) {
        rc = net_write(client, "x", 1);
        if (rc >= 0) {
            usleep(1000);
        }
    }
    CHECK(rc == NET_EPIPE || rc == NET_ERESET);

    CHECK(net_close(client) == 0);
    CHECK(net_close(client) == NET_ECLOSED);
    CHECK(strstr(net_last_error(), "use of closed network connection") != NULL);
    CHECK(net_close(ln) == 0);
    CHECK(net_accept(ln) == NET_ECLOSED);

    /* Datagrams: one each way, the sender's address, the truncation rule. */
    int64_t pk = net_listen_packet("udp", "127.0.0.1:0");
    CHECK(pk > 0);
    CHECK(net_local_addr(pk, addr, sizeof addr) > 0);
    int64_t udp = net_dial("udp", addr);
    CHECK(udp > 0);
    char from[NET_ADDR_MAX];
    char udp_local[NET_ADDR_MAX];
    CHECK(net_local_addr(udp, udp_local, sizeof udp_local) > 0);
    CHECK(net_write(udp, "datagram", 8) == 8);
    CHECK(net_read_from(pk, buf, sizeof buf, from, sizeof from) == 8);
    CHECK(memcmp(buf, "datagram", 8) == 0);
    CHECK(strcmp(from, udp_local) == 0);
    CHECK(net_write_to(pk, "reply", 5, from) == 5);
    CHECK(net_read(udp, buf, sizeof buf) == 5);
    CHECK(net_write(udp, "0123456789", 10) == 10);
    CHECK(net_read_from(pk, buf, 4, NULL, 0) == NET_EMSGSIZE);
    CHECK(memcmp(buf, "0123", 4) == 0);
    CHECK(strstr(net_last_error(), "datagram of 10 bytes") != NULL);
    CHECK(net_close(udp) == 0);
    CHECK(net_close(pk) == 0);

    if (failures != 0) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
