/*
 * Servers that fork. A child shares the sockets it inherited with its
 * parent, so closing its copy must not end them for the parent:
 *   - a server forking a child per connection, each child closing its copy
 *     of the listener (TCP and Unix), keeps accepting, and the Unix
 *     listener's socket file stays;
 *   - in a child, closing an inherited listener still wakes the child's
 *     own thread blocked in net_accept on it (NET_ECLOSED), and the
 *     parent's listener keeps working;
 *   - a child polling with the wake-up descriptor it inherited never takes
 *     the parent's wake-up: a close still wakes the parent's read at once.
 * Run with and without the wake signal (GONET_WAKE_SIGNAL=0).
 * Prints "ok" and exits 0 when every check passes.
 */
#define _GNU_SOURCE /* usleep */
#include <gonet.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define CONNECTIONS 3

/* A child's exit status (128 + the signal if a signal ended it). */
static int child_status(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The classic concurrent server: accept, fork, the child closes the
 * listener and serves the connection, the parent closes the connection
 * and accepts the next. */
static void fork_per_connection(const char *network, const char *address) {
    int64_t l = net_listen(network, address);
    CHECK(l > 0);
    char addr[256];
    CHECK(net_local_addr(l, addr, sizeof addr) > 0);
    for (int i = 0; i < CONNECTIONS; i++) {
        int64_t c = net_dial(network, addr);
        CHECK(c > 0);
        int64_t s = net_accept(l);
        CHECK(s > 0);
        pid_t pid = fork();
        if (pid == 0) {
            int ok = net_close(l) == 0;
            char b = 0;
            ok = ok && net_read(s, &b, 1) == 1;
            b = (char)(b + 1);
            ok = ok && net_write(s, &b, 1) == 1;
            ok = ok && net_close(s) == 0;
            _exit(ok ? 0 : 1);
        }
        CHECK(pid > 0);
        CHECK(net_close(s) == 0);
        char b = (char)('a' + i);
        CHECK(net_write(c, &b, 1) == 1);
        CHECK(net_set_read_deadline(c, 5000) == 0);
        CHECK(net_read(c, &b, 1) == 1);
        CHECK(b == 'a' + i + 1);
        CHECK(net_close(c) == 0);
        int status = child_status(pid);
        if (status != 0) {
            fprintf(stderr, "%s connection %d: child exited %d\n", network, i, status);
            failures++;
        }
        if (strcmp(network, "unix") == 0) {
            struct stat st;
            CHECK(stat(addr, &st) == 0); /* the child left the file alone */
        }
    }
    CHECK(net_close(l) == 0);
    if (strcmp(network, "unix") == 0) {
        struct stat st;
        CHECK(stat(addr, &st) != 0); /* the parent's close removes it */
    }
}

struct accept_job {
    int64_t listener;
    int64_t result;
};

static void *accept_once(void *arg) {
    struct accept_job *j = (struct accept_job *)arg;
    j->result = net_accept(j->listener);
    return NULL;
}

/* A child's thread blocked in accept on the inherited listener is woken by
 * the child's close; the parent's listener is untouched. */
static void child_close_wakes_its_accept(void) {
    int64_t l = net_listen("tcp", "127.0.0.1:0");
    CHECK(l > 0);
    char addr[128];
    CHECK(net_local_addr(l, addr, sizeof addr) > 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct accept_job j = {.listener = l, .result = 0};
        pthread_t t;
        if (pthread_create(&t, NULL, accept_once, &j) != 0)
            _exit(2);
        usleep(100 * 1000);
        int closed = net_close(l) == 0;
        pthread_join(t, NULL);
        _exit(closed && j.result == NET_ECLOSED ? 0 : 1);
    }
    CHECK(pid > 0);
    int status = child_status(pid);
    if (status != 0) {
        fprintf(stderr, "blocked accept in the child: child exited %d\n", status);
        failures++;
    }
    int64_t c = net_dial("tcp", addr);
    CHECK(c > 0);
    int64_t s = net_accept(l);
    CHECK(s > 0);
    CHECK(net_close(s) == 0);
    CHECK(net_close(c) == 0);
    CHECK(net_close(l) == 0);
}

struct closer {
    int64_t conn;
    int delay_ms;
};

static void *close_later(void *arg) {
    struct closer *c = (struct closer *)arg;
    usleep((useconds_t)c->delay_ms * 1000);
    net_close(c->conn);
    return NULL;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define POLL_ROUNDS 40

/* A read with a deadline waits in poll(2) beside its thread's wake-up
 * descriptor, which a close from another thread signals. A child forked
 * from that thread starts with a copy of the descriptor: were both
 * processes to use it, the child could take the parent's wake-up, and the
 * parent's read would wait out its deadline. The child, polling all the
 * while, must not delay the parent's close. */
static void child_polls_while_parent_closes(void) {
    int64_t l, c, s;
    char addr[128];
    l = net_listen("tcp", "127.0.0.1:0");
    CHECK(l > 0);
    CHECK(net_local_addr(l, addr, sizeof addr) > 0);
    c = net_dial("tcp", addr);
    s = net_accept(l);
    CHECK(c > 0 && s > 0);
    char b;
    /* This thread's wake-up descriptor is made by its first poll. */
    CHECK(net_set_read_deadline(s, 1) == 0);
    CHECK(net_read(s, &b, 1) == NET_ETIMEOUT);
    CHECK(net_close(s) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* Poll on a connection of the child's own, in 1 ms slices. */
        char own[128];
        int64_t cl = net_listen("tcp", "127.0.0.1:0");
        int ok = cl > 0 && net_local_addr(cl, own, sizeof own) > 0;
        int64_t cc = ok ? net_dial("tcp", own) : -1;
        int64_t cs = cc > 0 ? net_accept(cl) : -1;
        ok = ok && cc > 0 && cs > 0;
        int64_t end = now_ms() + 3000;
        while (ok && now_ms() < end) {
            ok = net_set_read_deadline(cc, 1) == 0 && net_read(cc, &b, 1) == NET_ETIMEOUT;
        }
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0);
    int slow = 0;
    for (int i = 0; i < POLL_ROUNDS; i++) {
        int64_t pc = net_dial("tcp", addr);
        int64_t ps = net_accept(l);
        CHECK(pc > 0 && ps > 0);
        CHECK(net_set_read_deadline(ps, 5000) == 0);
        struct closer closer = {.conn = ps, .delay_ms = 20};
        pthread_t t;
        CHECK(pthread_create(&t, NULL, close_later, &closer) == 0);
        int64_t start = now_ms();
        CHECK(net_read(ps, &b, 1) == NET_ECLOSED);
        if (now_ms() - start > 1000)
            slow++;
        pthread_join(t, NULL);
        CHECK(net_close(pc) == 0);
    }
    if (slow) {
        fprintf(stderr, "%d of %d closes took over 1 s to wake the parent's read\n", slow,
                POLL_ROUNDS);
        failures++;
    }
    int status = child_status(pid);
    if (status != 0) {
        fprintf(stderr, "polling child exited %d\n", status);
        failures++;
    }
    CHECK(net_close(c) == 0);
    CHECK(net_close(l) == 0);
}

int main(void) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/gonet-fork-test-%ld.sock", (long)getpid());
    unlink(path);
    fork_per_connection("tcp", "127.0.0.1:0");
    fork_per_connection("unix", path);
    child_close_wakes_its_accept();
    child_polls_while_parent_closes();
    unlink(path);
    return checks_passed();
}
