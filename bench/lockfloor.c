/*
 * What a lock around a system call costs, whatever the library: `recv` of
 * one byte with data waiting (and `send` of one byte) on a TCP loopback
 * pair, bare and wrapped as a library's read could be wrapped:
 *
 *   plain stores  a flag set before the call and cleared after (what a
 *                 lock biased to its thread costs, src/poll/lock.rs)
 *   1 CAS         a compare-and-swap before, a plain store after
 *   2 CAS         a compare-and-swap before and after (a mutex)
 *
 * Each round times a batch of each, in an order that turns from round to
 * round (the first batch after the untimed set-up runs colder), and keeps
 * each wrapper's difference from the bare batch; the medians are printed.
 *
 *   cc -O2 -o lockfloor bench/lockfloor.c && taskset -c 0 ./lockfloor
 *   ./lockfloor [rounds [calls-per-batch]]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* The lock, on a cache line of its own, as a descriptor's would be. */
static struct {
    _Atomic long word;
    _Atomic int closed;
} __attribute__((aligned(64))) lock;

enum wrap { BARE, STORES, CAS1, CAS2, WRAPS };
static const char *wrap_name[WRAPS] = {"bare", "plain stores", "1 CAS", "2 CAS"};

static long io(int fd, int sending, char *b) {
    return sending ? syscall(SYS_sendto, fd, b, 1, MSG_NOSIGNAL, NULL, 0)
                   : syscall(SYS_recvfrom, fd, b, 1, 0, NULL, NULL);
}

static __attribute__((noinline)) long wrapped(enum wrap w, int fd, int sending, char *b) {
    long expected = 0, r;
    switch (w) {
    case STORES:
        atomic_store_explicit(&lock.word, 1, memory_order_relaxed);
        atomic_signal_fence(memory_order_seq_cst);
        if (atomic_load_explicit(&lock.closed, memory_order_relaxed))
            abort();
        r = io(fd, sending, b);
        atomic_store_explicit(&lock.word, 0, memory_order_release);
        return r;
    case CAS1:
    case CAS2:
        if (!atomic_compare_exchange_strong(&lock.word, &expected, 1) || atomic_load(&lock.closed))
            abort();
        r = io(fd, sending, b);
        expected = 1;
        if (w == CAS2)
            atomic_compare_exchange_strong(&lock.word, &expected, 0);
        else
            atomic_store_explicit(&lock.word, 0, memory_order_release);
        return r;
    default:
        return io(fd, sending, b);
    }
}

static int cmp(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 301, n = argc > 2 ? atoi(argv[2]) : 200;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s;
    if (bind(l, (void *)&a, al) || listen(l, 1) || getsockname(l, (void *)&a, &al) ||
        connect(c, (void *)&a, al) || (s = accept(l, NULL, NULL)) < 0) {
        perror("lockfloor: loopback pair");
        return 1;
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char *big = calloc(1, n), b = 'x', drain[4096];
    double *diff[2][WRAPS];
    for (int io_kind = 0; io_kind < 2; io_kind++)
        for (int w = 0; w < WRAPS; w++)
            diff[io_kind][w] = calloc(rounds, sizeof(double));
    for (int r = 0; r < rounds; r++) {
        for (int sending = 0; sending < 2; sending++) {
            double t[WRAPS];
            for (int k = 0; k < WRAPS; k++) {
                int w = (k + r) % WRAPS;
                if (sending) /* empty the receiver, untimed */
                    while (recv(s, drain, sizeof drain, MSG_DONTWAIT) > 0)
                        ;
                else /* put n bytes there to be read, untimed */
                    send(c, big, n, 0);
                usleep(200);
                double t0 = now_ns();
                for (int i = 0; i < n; i++)
                    if (wrapped(w, sending ? c : s, sending, &b) != 1)
                        abort();
                t[w] = (now_ns() - t0) / n;
            }
            diff[sending][BARE][r] = t[BARE];
            for (int w = STORES; w < WRAPS; w++)
                diff[sending][w][r] = t[w] - t[BARE];
        }
    }
    for (int sending = 0; sending < 2; sending++)
        for (int w = 0; w < WRAPS; w++) {
            qsort(diff[sending][w], rounds, sizeof(double), cmp);
            printf("%s %-13s %s%7.1f ns\n", sending ? "send" : "recv", wrap_name[w],
                   w == BARE ? "" : "+", diff[sending][w][rounds / 2]);
        }
    return 0;
}
