/*
 * CHECK for the C test programs: counts a failed condition and reports it
 * with the calling thread's last gonet error, without stopping, so that one
 * run shows every failure. main ends with `return checks_passed();`.
 * Also tcp_pair, the connected pair most of them start from.
 */
#ifndef GONET_TEST_CHECK_H
#define GONET_TEST_CHECK_H

#include <gonet.h>
#include <stdio.h>

static int failures = 0;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n",   \
                    __FILE__, __LINE__, #cond, net_last_error());           \
            failures++;                                                     \
        }                                                                   \
    } while (0)

/* main's result: prints "ok" and gives 0 when every check passed, else
 * reports the count on stderr and gives 1. */
static inline int checks_passed(void) {
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}

/* A connected pair over loopback: a listener, the client end dialed to
 * it, and the server end it accepted. */
static inline void tcp_pair(int64_t *listener, int64_t *client, int64_t *server) {
    char addr[128];
    *listener = net_listen("tcp", "127.0.0.1:0");
    CHECK(*listener > 0);
    CHECK(net_local_addr(*listener, addr, sizeof addr) > 0);
    *client = net_dial("tcp", addr);
    CHECK(*client > 0);
    *server = net_accept(*listener);
    CHECK(*server > 0);
}

#endif
