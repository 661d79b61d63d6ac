/*
 * pthread_cancel against threads inside gonet calls. gonet's functions are
 * not cancellation points: a cancel that arrives while a thread is inside
 * one (blocked in a read, a write or an accept, or making a dial or a
 * close) lets the call run to its end, as if the cancel had not come, and
 * acts at the thread's next cancellation point after it. A blocked call
 * still ends as in Go, by closing its handle or by a deadline.
 *
 * Before this was so, the cancel unwound into the library and took the
 * whole process down ("FATAL: exception not rethrown").
 *
 * Prints "ok" and exits 0 when every check passes.
 */
#define _GNU_SOURCE /* pthread_tryjoin_np, usleep */
#include <gonet.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum op { OP_READ, OP_WRITE, OP_ACCEPT };

/* One blocked call: what it ran on, what it returned (written by the
 * thread before its next cancellation point, read by main after join). */
struct job {
    enum op op;
    int64_t handle;
    volatile int64_t result;
    volatile int returned;
};

static void *blocked_call(void *arg) {
    struct job *j = (struct job *)arg;
    static char big[1 << 20];
    char small[16];
    switch (j->op) {
    case OP_READ:
        j->result = net_read(j->handle, small, sizeof small);
        break;
    case OP_WRITE:
        /* Nobody reads the other end: fills both buffers, then blocks. */
        for (int i = 0; i < 512; i++) {
            j->result = net_write(j->handle, big, sizeof big);
            if (j->result < 0)
                break;
        }
        break;
    case OP_ACCEPT:
        j->result = net_accept(j->handle);
        break;
    }
    j->returned = 1;
    pthread_testcancel(); /* the cancel acts here */
    return NULL;
}

/* Whether the thread is still running, after waiting `ms` for it to end. */
static int still_running(pthread_t t, int ms) {
    usleep((useconds_t)ms * 1000);
    int rc = pthread_tryjoin_np(t, NULL);
    CHECK(rc == EBUSY); /* a join here would lose the thread's result */
    return rc == EBUSY;
}

/* A thread blocked in `op` is cancelled: the process lives, the call stays
 * blocked, and ending it (`end_by_deadline`: a deadline already passed;
 * otherwise closing the handle) returns the usual error, after which the
 * thread is cancelled. */
static void cancel_blocked(enum op op, int end_by_deadline) {
    int64_t l, c, s;
    tcp_pair(&l, &c, &s);
    struct job j = {.op = op, .handle = op == OP_ACCEPT ? l : s};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, blocked_call, &j) == 0);
    usleep(100 * 1000);
    CHECK(pthread_cancel(t) == 0);
    if (still_running(t, 100))
        CHECK(!j.returned);
    if (end_by_deadline)
        CHECK(net_set_deadline(j.handle, 0) == 0);
    else
        CHECK(net_close(j.handle) == 0);
    void *exit_value = NULL;
    CHECK(pthread_join(t, &exit_value) == 0);
    CHECK(exit_value == PTHREAD_CANCELED);
    CHECK(j.returned);
    int64_t want = end_by_deadline ? NET_ETIMEOUT : NET_ECLOSED;
    if (j.result != want) {
        fprintf(stderr, "op %d: returned %lld, want %lld\n", (int)op, (long long)j.result,
                (long long)want);
        failures++;
    }
    if (end_by_deadline)
        CHECK(net_close(j.handle) == 0);
    if (j.handle != s)
        CHECK(net_close(s) == 0);
    CHECK(net_close(c) == 0);
    if (j.handle != l)
        CHECK(net_close(l) == 0);
}

/* Calls made with a cancel already pending: each completes and its result
 * is kept; the cancel acts only at the pthread_testcancel after them. */
struct pending {
    const char *addr;
    pthread_barrier_t cancelled;
    int64_t conn;
    int64_t wrote;
    int64_t closed;
};

static void *with_cancel_pending(void *arg) {
    struct pending *p = (struct pending *)arg;
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_barrier_wait(&p->cancelled); /* main cancels before this returns */
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
    p->conn = net_dial("tcp", p->addr);
    p->wrote = net_write(p->conn, "x", 1);
    int64_t second = net_dial("tcp", p->addr);
    p->closed = net_close(second);
    pthread_testcancel();
    return NULL;
}

static void cancel_pending(const char *host) {
    int64_t l = net_listen("tcp", "127.0.0.1:0");
    CHECK(l > 0);
    char local[128], addr[160];
    CHECK(net_local_addr(l, local, sizeof local) > 0);
    const char *port = strrchr(local, ':');
    snprintf(addr, sizeof addr, "%s%s", host, port ? port : ":0");
    struct pending p = {.addr = addr, .conn = -1};
    CHECK(pthread_barrier_init(&p.cancelled, NULL, 2) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, with_cancel_pending, &p) == 0);
    CHECK(pthread_cancel(t) == 0);
    pthread_barrier_wait(&p.cancelled);
    void *exit_value = NULL;
    CHECK(pthread_join(t, &exit_value) == 0);
    CHECK(exit_value == PTHREAD_CANCELED);
    CHECK(p.conn > 0);
    CHECK(p.wrote == 1);
    CHECK(p.closed == 0);
    int64_t s = net_accept(l);
    CHECK(s > 0);
    char b = 0;
    CHECK(net_read(s, &b, 1) == 1 && b == 'x');
    CHECK(net_close(s) == 0);
    CHECK(net_close(p.conn) == 0);
    CHECK(net_close(l) == 0);
    pthread_barrier_destroy(&p.cancelled);
}

int main(void) {
    cancel_blocked(OP_READ, 0);
    cancel_blocked(OP_READ, 1);
    cancel_blocked(OP_WRITE, 0);
    cancel_blocked(OP_WRITE, 1);
    cancel_blocked(OP_ACCEPT, 0);
    cancel_blocked(OP_ACCEPT, 1);
    cancel_pending("127.0.0.1");
    cancel_pending("localhost");
    return checks_passed();
}
