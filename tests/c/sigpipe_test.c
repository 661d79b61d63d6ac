/*
 * SIGPIPE keeps its default action here, which ends the process. Writing
 * to a connection whose peer has gone, with net_write, net_sendfile
 * (sendfile(2)) and net_copy (splice(2), which has no MSG_NOSIGNAL), must
 * fail with NET_EPIPE or NET_ERESET and never raise it. A SIGPIPE the
 * program itself holds blocked and pending stays pending.
 * Prints "ok" and exits 0 when every check passes.
 */
#define _GNU_SOURCE /* usleep */
#include <gonet.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define TRIES 20

static char chunk[1 << 16];

/* A connection whose peer has closed: *l and the result to close. */
static int64_t gone_peer(int64_t *l) {
    int64_t c, s;
    tcp_pair(l, &c, &s);
    CHECK(net_close(c) == 0);
    usleep(20 * 1000);
    return s;
}

/* A connection with a chunk waiting to be read, then end of stream. */
static int64_t filled_source(int64_t *l) {
    int64_t c, s;
    tcp_pair(l, &c, &s);
    CHECK(net_write(c, chunk, sizeof chunk) == (int64_t)sizeof chunk);
    CHECK(net_close(c) == 0);
    return s;
}

static int is_gone(int64_t code) { return code == NET_EPIPE || code == NET_ERESET; }

enum how { BY_WRITE, BY_SENDFILE, BY_COPY };
static const char *const names[] = {"net_write", "net_sendfile", "net_copy"};

/* Writes into a connection whose peer has gone until the write fails
 * (the first may still be taken by the kernel: the peer's reset comes
 * back with it); the failure must say the peer is gone. */
static void write_to_gone_peer(enum how how, int file) {
    int64_t l, s = gone_peer(&l);
    int64_t result = 0;
    for (int i = 0; i < TRIES && result >= 0; i++) {
        if (how == BY_WRITE) {
            result = net_write(s, chunk, sizeof chunk);
        } else if (how == BY_SENDFILE) {
            result = net_sendfile(s, file, 0, sizeof chunk);
        } else {
            int64_t sl, src = filled_source(&sl);
            result = net_copy(s, src, -1);
            CHECK(net_close(src) == 0);
            CHECK(net_close(sl) == 0);
        }
    }
    if (!is_gone(result)) {
        fprintf(stderr, "%s to a gone peer: %lld (%s)\n", names[how], (long long)result,
                net_last_error());
        failures++;
    }
    CHECK(net_close(s) == 0);
    CHECK(net_close(l) == 0);
}

static int sigpipe_pending(void) {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1;
}

/* The program blocks SIGPIPE and has one pending of its own: gonet's
 * failing sendfile leaves it pending, and the mask as it was. */
static void own_pending_sigpipe_stays(int file) {
    sigset_t set, mask;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
    CHECK(pthread_kill(pthread_self(), SIGPIPE) == 0);
    CHECK(sigpipe_pending());
    write_to_gone_peer(BY_SENDFILE, file);
    CHECK(sigpipe_pending());
    CHECK(pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0);
    CHECK(sigismember(&mask, SIGPIPE) == 1);
    struct timespec zero = {0, 0};
    CHECK(sigtimedwait(&set, NULL, &zero) == SIGPIPE);
    CHECK(!sigpipe_pending());
    CHECK(pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0);
}

int main(void) {
    CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    char path[] = "/tmp/gonet-sigpipe-XXXXXX";
    int file = mkstemp(path);
    CHECK(file >= 0);
    unlink(path);
    CHECK(write(file, chunk, sizeof chunk) == (ssize_t)sizeof chunk);
    write_to_gone_peer(BY_WRITE, file);
    write_to_gone_peer(BY_SENDFILE, file);
    write_to_gone_peer(BY_COPY, file);
    /* The mask is as it was: SIGPIPE unblocked, nothing pending. */
    sigset_t mask;
    CHECK(pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0);
    CHECK(sigismember(&mask, SIGPIPE) == 0);
    CHECK(!sigpipe_pending());
    own_pending_sigpipe_stays(file);
    close(file);
    return checks_passed();
}
