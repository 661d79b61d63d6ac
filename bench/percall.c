/*
 * gonet's own cost per call: nanoseconds per net_read and net_write on a
 * connected TCP pair with data ready, beside plain recv and send on the
 * very same sockets, so that what differs is gonet's work around the
 * system call and nothing else.
 *
 *   percall [iterations-per-batch [rounds [threads]]]
 *
 * Each round times one batch of every case, gonet and plain back to back
 * (in an order that alternates from round to round), and keeps the
 * difference: the added cost per call is the median of those differences,
 * paired, so that load that comes and goes on a shared machine hits both
 * sides of a pair alike. Cases:
 *   write      net_write(c, 1 byte)   vs send(fd, 1 byte, MSG_NOSIGNAL)
 *   read       net_read(s, 1 byte)    vs recv(fd, 1 byte), data waiting
 *   write0     net_write(c, len 0)    (no system call: gonet's work alone)
 *   read0      net_read(s, len 0)     (no system call: gonet's work alone)
 * With threads = 2 a second thread does the same on a pair of its own
 * (another handle) the whole time: what the two share (handle table,
 * process-wide state) shows as extra cost.
 *
 * Bytes written by a batch are drained, and bytes read are put there,
 * outside the timed part. The descriptors behind gonet's handles are found
 * in /proc/self/fd by their addresses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <gonet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "percall: %s: %s\n", what, net_last_error());
    exit(1);
}

struct pair {
    int64_t c, s; /* gonet handles: dialed and accepted */
    int cfd, sfd; /* the same sockets' descriptors */
};

/* The descriptor whose local address is `local` and peer `peer`. */
static int fd_for(const char *local, const char *peer) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1;
    while (d && (e = readdir(d)) != NULL && found < 0) {
        int fd = atoi(e->d_name);
        struct sockaddr_in a, b;
        socklen_t al = sizeof a, bl = sizeof b;
        char la[64], pa[64];
        if (fd <= 2 || getsockname(fd, (struct sockaddr *)&a, &al) != 0 ||
            getpeername(fd, (struct sockaddr *)&b, &bl) != 0 || a.sin_family != AF_INET)
            continue;
        snprintf(la, sizeof la, "%s:%d", inet_ntoa(a.sin_addr), ntohs(a.sin_port));
        snprintf(pa, sizeof pa, "%s:%d", inet_ntoa(b.sin_addr), ntohs(b.sin_port));
        if (strcmp(la, local) == 0 && strcmp(pa, peer) == 0)
            found = fd;
    }
    if (d)
        closedir(d);
    return found;
}

static struct pair make_pair(void) {
    struct pair p;
    char laddr[NET_ADDR_MAX], caddr[NET_ADDR_MAX];
    int64_t l = net_listen("tcp", "127.0.0.1:0");
    if (l < 0)
        die("listen");
    net_local_addr(l, laddr, sizeof laddr);
    p.c = net_dial("tcp", laddr);
    if (p.c < 0)
        die("dial");
    p.s = net_accept(l);
    if (p.s < 0)
        die("accept");
    net_close(l);
    net_local_addr(p.c, caddr, sizeof caddr);
    p.cfd = fd_for(caddr, laddr);
    p.sfd = fd_for(laddr, caddr);
    if (p.cfd < 0 || p.sfd < 0) {
        fprintf(stderr, "percall: no descriptor for %s <-> %s\n", caddr, laddr);
        exit(1);
    }
    return p;
}

/* Moves `n` bytes from one end to the other, untimed. */
static void drain(int fd, long n) {
    char buf[65536];
    while (n > 0) {
        ssize_t r = recv(fd, buf, n < (long)sizeof buf ? n : (long)sizeof buf, 0);
        if (r <= 0) {
            perror("percall: drain");
            exit(1);
        }
        n -= r;
    }
}

static void fill(int fd, long n) {
    char buf[65536];
    memset(buf, 'x', sizeof buf);
    while (n > 0) {
        ssize_t w = send(fd, buf, n < (long)sizeof buf ? n : (long)sizeof buf, MSG_NOSIGNAL);
        if (w <= 0) {
            perror("percall: fill");
            exit(1);
        }
        n -= w;
    }
}

enum kind { WRITE, READ, WRITE0, READ0, KINDS };
static const char *kind_name[KINDS] = {"write", "read", "write0", "read0"};

/* ns per call of one batch of `n` calls. */
static double batch(const struct pair *p, enum kind k, int gonet, long n) {
    char b = 'x';
    double t0 = 0, t1 = 0;
    int64_t bad = 0;
    switch (k) {
    case WRITE:
        t0 = now_ns();
        for (long i = 0; i < n; i++) {
            if (gonet)
                bad |= net_write(p->c, &b, 1) != 1;
            else
                bad |= send(p->cfd, &b, 1, MSG_NOSIGNAL) != 1;
        }
        t1 = now_ns();
        drain(p->sfd, n);
        break;
    case READ:
        fill(p->cfd, n);
        /* Wait until all of it is queued at the reader. */
        for (int i = 0; i < 1000; i++) {
            int queued = 0;
            if (recv(p->sfd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
                queued = 1;
            if (queued)
                break;
            usleep(100);
        }
        t0 = now_ns();
        for (long i = 0; i < n; i++) {
            if (gonet)
                bad |= net_read(p->s, &b, 1) != 1;
            else
                bad |= recv(p->sfd, &b, 1, 0) != 1;
        }
        t1 = now_ns();
        break;
    case WRITE0:
        if (!gonet)
            return 0;
        t0 = now_ns();
        for (long i = 0; i < n; i++)
            bad |= net_write(p->c, &b, 0) != 0;
        t1 = now_ns();
        break;
    case READ0:
        if (!gonet)
            return 0;
        t0 = now_ns();
        for (long i = 0; i < n; i++)
            bad |= net_read(p->s, &b, 0) != 0;
        t1 = now_ns();
        break;
    default:
        break;
    }
    if (bad) {
        fprintf(stderr, "percall: a %s call failed: %s\n", kind_name[k], net_last_error());
        exit(1);
    }
    return (t1 - t0) / n;
}

static atomic_int stop;

/* The second thread: its own pair, one byte written and read back, over
 * and over, until told to stop. */
static void *neighbour(void *arg) {
    (void)arg;
    struct pair p = make_pair();
    char b = 'y';
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        if (net_write(p.c, &b, 1) != 1 || net_read(p.s, &b, 1) != 1)
            die("neighbour");
    }
    net_close(p.c);
    net_close(p.s);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200;
    int rounds = argc > 2 ? atoi(argv[2]) : 1001;
    int threads = argc > 3 ? atoi(argv[3]) : 1;
    if (n < 1 || n > 1000000 || rounds < 1 || rounds > 10000 || threads < 1 || threads > 2) {
        fprintf(stderr, "usage: percall [iterations 1..1000000 [rounds [threads 1|2]]]\n");
        return 2;
    }
    struct pair p = make_pair();
    pthread_t t;
    if (threads == 2 && pthread_create(&t, NULL, neighbour, NULL) != 0)
        die("pthread_create");
    double *g[KINDS], *pl[KINDS], *d[KINDS];
    for (int k = 0; k < KINDS; k++) {
        g[k] = calloc(rounds, sizeof(double));
        pl[k] = calloc(rounds, sizeof(double));
        d[k] = calloc(rounds, sizeof(double));
    }
    /* A warm-up round, not counted. */
    for (int k = 0; k < KINDS; k++) {
        batch(&p, k, 1, n);
        batch(&p, k, 0, n);
    }
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < KINDS; k++) {
            if (r % 2) {
                g[k][r] = batch(&p, k, 1, n);
                pl[k][r] = batch(&p, k, 0, n);
            } else {
                pl[k][r] = batch(&p, k, 0, n);
                g[k][r] = batch(&p, k, 1, n);
            }
            d[k][r] = g[k][r] - pl[k][r];
        }
    }
    if (threads == 2) {
        atomic_store(&stop, 1);
        pthread_join(t, NULL);
    }
    printf("percall: %ld calls a batch, %d rounds, %d thread%s\n", n, rounds, threads,
           threads > 1 ? "s" : "");
    printf("%-8s %12s %12s %14s\n", "call", "gonet ns", "plain ns", "added ns (paired)");
    for (int k = 0; k < KINDS; k++) {
        double mg = median(g[k], rounds);
        if (k == WRITE0 || k == READ0)
            printf("%-8s %12.1f %12s %14.1f\n", kind_name[k], mg, "-", mg);
        else
            printf("%-8s %12.1f %12.1f %14.1f\n", kind_name[k], mg, median(pl[k], rounds),
                   median(d[k], rounds));
    }
    net_close(p.c);
    net_close(p.s);
    return 0;
}
