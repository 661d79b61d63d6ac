/*
 * A prefork server, as in Go and in plain C: the master listens, forks
 * workers that accept, and closes its own copy of the listener. Closing
 * it closes the master's descriptor only, so the workers keep accepting:
 * every one of the connections made afterwards is served. (A Unix
 * listener's close removes its socket file, as Go's does, so a Unix
 * prefork master keeps its listener open.)
 * Run with and without the wake signal (GONET_WAKE_SIGNAL=0).
 * Prints "ok" and exits 0 when every check passes.
 */
#define _GNU_SOURCE
#include <gonet.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define WORKERS 3
#define CONNECTIONS 30

/* A worker: accepts until no connection has come for 500 ms, answering
 * each byte with the byte + 1; exits 0 if it served all it accepted
 * without error. */
static int worker(int64_t l) {
    int ok = 1;
    for (int served = 0; served < 2 * CONNECTIONS; served++) {
        net_set_deadline(l, 500);
        int64_t s = net_accept(l);
        if (s == NET_ETIMEOUT)
            break;
        if (s < 0)
            return 2;
        char b = 0;
        net_set_deadline(s, 2000);
        ok = ok && net_read(s, &b, 1) == 1;
        b = (char)(b + 1);
        ok = ok && net_write(s, &b, 1) == 1;
        ok = ok && net_close(s) == 0;
    }
    return ok ? 0 : 1;
}

static void prefork(const char *network, const char *address) {
    int64_t l = net_listen(network, address);
    CHECK(l > 0);
    char addr[256];
    CHECK(net_local_addr(l, addr, sizeof addr) > 0);
    pid_t pids[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(worker(l));
        CHECK(pids[i] > 0);
    }
    /* The master keeps no copy. */
    CHECK(net_close(l) == 0);
    int served = 0;
    for (int i = 0; i < CONNECTIONS; i++) {
        int64_t c = net_dial(network, addr);
        CHECK(c > 0);
        if (c < 0)
            continue;
        net_set_deadline(c, 5000);
        char b = (char)i;
        CHECK(net_write(c, &b, 1) == 1);
        char got = 0;
        if (net_read(c, &got, 1) == 1 && got == (char)(i + 1))
            served++;
        CHECK(net_close(c) == 0);
    }
    CHECK(served == CONNECTIONS);
    for (int i = 0; i < WORKERS; i++) {
        int status = 0;
        CHECK(waitpid(pids[i], &status, 0) == pids[i]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

int main(void) {
    prefork("tcp", "127.0.0.1:0");
    prefork("tcp6", "[::1]:0");
    return checks_passed();
}
