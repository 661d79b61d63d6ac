/*
 * bench.c: gonet against plain blocking POSIX sockets, from one source.
 *
 *   gcc -O2 -DUSE_GONET -Iinclude bench/bench.c -Lpath -lgonet -lpthread
 *   gcc -O2             bench/bench.c -lpthread
 *
 * The only difference between the two builds is the thin layer below
 * (bn_listen, bn_accept, bn_dial, bn_read, bn_write, bn_close_write,
 * bn_close); every workload is written once against it.
 *
 * Shape of a run: the process forks before any network call. The child is
 * the server (it listens on 127.0.0.1 port 0 and sends the port to the
 * parent through a pipe), the parent is the client. Each side runs one
 * thread per connection, so with conns=1 there is one busy thread on each
 * side, in two processes, as with a real client and server. Pinning (taskset)
 * is inherited by both processes.
 *
 * Usage: bench WORKLOAD [key=value ...]
 *   pingpong  conns=N secs=S size=B   B-byte request, B-byte echo, repeated
 *   stream    conns=N secs=S size=B   B-byte writes one way; the server
 *                                     acknowledges the byte count at the end
 *   churn     conns=N secs=S          dial, 1-byte exchange, close, repeated
 *   hold      conns=N size=B          N connections up at once (default
 *                                     10000), one B-byte echo on each, all
 *                                     held open; reports the time to bring
 *                                     them up and the server's memory
 *   max=K caps the operations per connection (default: large).
 *   keepalive=1 has the plain build set Go's default keep-alive too (gonet
 *     and Go set it on every TCP connection already).
 *
 * Output: one line per run, key=value pairs separated by spaces, e.g.
 *   impl=gonet workload=pingpong conns=1 secs=2.00 size=64 rtts=... ...
 *
 * Every loop is bounded by both a duration and a count, and both processes
 * arm alarm() as a last resort, so a stuck run ends by itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The abstraction layer: the only part that differs between builds.  */
/* Handles are int64_t in both; a negative value is a failure.        */
/* ------------------------------------------------------------------ */

#ifdef USE_GONET
#include "gonet.h"

#define IMPL_NAME "gonet"

static int64_t bn_listen(int *port)
{
    int64_t l = net_listen("tcp", "127.0.0.1:0");
    if (l < 0)
        return l;
    char addr[64];
    if (net_local_addr(l, addr, sizeof addr) < 0)
        return -1;
    const char *colon = strrchr(addr, ':');
    *port = colon ? atoi(colon + 1) : 0;
    return l;
}

static int64_t bn_accept(int64_t l) { return net_accept(l); }

static int64_t bn_dial(int port)
{
    /* A program dials an address it already holds as text; formatting it
     * on every dial would charge gonet for the benchmark's snprintf. */
    static _Thread_local int formatted_port = -1;
    static _Thread_local char addr[32];
    if (port != formatted_port) {
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        formatted_port = port;
    }
    return net_dial("tcp", addr);
}

/* At most len bytes, at least 1; 0 at end of stream; < 0 on failure. */
static int64_t bn_read(int64_t c, void *buf, size_t len) { return net_read(c, buf, len); }

/* All len bytes, or < 0. */
static int64_t bn_write(int64_t c, const void *buf, size_t len) { return net_write(c, buf, len); }

static int64_t bn_close_write(int64_t c) { return net_close_write(c); }
static int64_t bn_close(int64_t c) { return net_close(c); }

static const char *bn_error(void) { return net_last_error(); }

/* gonet sets Go's keep-alive on every TCP connection already. */
static void set_go_keepalive(void) {}

#else /* plain blocking POSIX sockets */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define IMPL_NAME "plain"

/* keepalive=1: also Go's default keep-alive (on, 15 s idle and interval),
 * which gonet and Go set on every TCP connection; separates what that
 * default costs the kernel from what the library costs. */
static int go_keepalive;
static void set_go_keepalive(void) { go_keepalive = 1; }

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (go_keepalive) {
        int secs = 15;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &secs, sizeof secs);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &secs, sizeof secs);
    }
}

static int64_t bn_listen(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static int64_t bn_accept(int64_t l)
{
    for (;;) {
        int fd = accept4((int)l, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            set_nodelay(fd);
            return fd;
        }
        if (errno != EINTR && errno != ECONNABORTED)
            return -1;
    }
}

static int64_t bn_dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        /* An interrupted connect goes on in the background; no signal
         * handlers are installed here, so treat it as a failure. */
        close(fd);
        return -1;
    }
    set_nodelay(fd);
    return fd;
}

static int64_t bn_read(int64_t c, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv((int)c, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return -1;
    }
}

static int64_t bn_write(int64_t c, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send((int)c, (const char *)buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)n;
    }
    return (int64_t)len;
}

static int64_t bn_close_write(int64_t c) { return shutdown((int)c, SHUT_WR); }
static int64_t bn_close(int64_t c) { return close((int)c); }

static const char *bn_error(void) { return strerror(errno); }

#endif

/* ------------------------------------------------------------------ */
/* Shared helpers                                                      */
/* ------------------------------------------------------------------ */

static void die(const char *what)
{
    fprintf(stderr, "bench(%s, pid %d): %s: %s\n", IMPL_NAME, (int)getpid(), what, bn_error());
    exit(2);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads exactly len bytes: 1 done, 0 end of stream first, -1 failure. */
static int read_full(int64_t c, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        int64_t n = bn_read(c, (char *)buf + got, len - got);
        if (n == 0)
            return 0;
        if (n < 0)
            return -1;
        got += (size_t)n;
    }
    return 1;
}

/* Run parameters, parsed from key=value arguments. */
struct params {
    const char *workload;
    int conns;
    double secs;
    size_t size;
    long max_ops; /* per connection */
};

/* Per-connection state shared by the client threads of all workloads. */
struct client {
    const struct params *p;
    int port;
    int64_t conn;
    pthread_barrier_t *start;
    int64_t t_start, t_end;
    long ops;
    uint64_t bytes;
    uint32_t *lat_ns; /* pingpong: one sample per round trip */
    long lat_cap;
};

/* Per-connection state of the server threads. */
struct server {
    const struct params *p;
    int64_t conn; /* the connection, or the listener for churn */
};

typedef void *(*thread_fn)(void *);

/* A workload: what one client thread and one server thread do, and how
 * the results are printed. Adding one is adding a row to WORKLOADS. */
struct workload {
    const char *name;
    int dials_upfront;     /* connections made before the clock starts */
    size_t default_size;
    thread_fn client;
    thread_fn server;
    void (*report)(const struct params *, struct client *, int n);
};

/* Waits for everybody, then takes the start time. */
static void start_clock(struct client *c)
{
    pthread_barrier_wait(c->start);
    c->t_start = now_ns();
}

static int64_t deadline_of(const struct client *c)
{
    return c->t_start + (int64_t)(c->p->secs * 1e9);
}

/* ------------------------------------------------------------------ */
/* pingpong                                                            */
/* ------------------------------------------------------------------ */

static void *pingpong_client(void *arg)
{
    struct client *c = arg;
    size_t size = c->p->size;
    char *buf = calloc(1, size);
    if (!buf)
        die("calloc");
    long cap = c->lat_cap < c->p->max_ops ? c->lat_cap : c->p->max_ops;
    start_clock(c);
    int64_t deadline = deadline_of(c), t0 = c->t_start, t1 = t0;
    long i = 0;
    while (i < cap && t1 < deadline) {
        if (bn_write(c->conn, buf, size) < 0)
            die("pingpong write");
        if (read_full(c->conn, buf, size) != 1)
            die("pingpong read");
        t1 = now_ns();
        c->lat_ns[i++] = (uint32_t)((t1 - t0) > UINT32_MAX ? UINT32_MAX : (t1 - t0));
        t0 = t1;
    }
    c->t_end = t1;
    c->ops = i;
    bn_close(c->conn);
    free(buf);
    return NULL;
}

static void *pingpong_server(void *arg)
{
    struct server *s = arg;
    char *buf = calloc(1, s->p->size);
    if (!buf)
        die("calloc");
    for (long i = 0; i <= s->p->max_ops; i++) {
        int r = read_full(s->conn, buf, s->p->size);
        if (r == 0)
            break;
        if (r < 0 || bn_write(s->conn, buf, s->p->size) < 0)
            die("pingpong echo");
    }
    bn_close(s->conn);
    free(buf);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Wall time from the first client's start to the last one's end. */
static double span_secs(const struct client *cs, int n)
{
    int64_t t0 = INT64_MAX, t1 = 0;
    for (int i = 0; i < n; i++) {
        if (cs[i].t_start < t0)
            t0 = cs[i].t_start;
        if (cs[i].t_end > t1)
            t1 = cs[i].t_end;
    }
    return (double)(t1 - t0) / 1e9;
}

static void pingpong_report(const struct params *p, struct client *cs, int n)
{
    long total = 0;
    for (int i = 0; i < n; i++)
        total += cs[i].ops;
    uint32_t *all = malloc(sizeof *all * (size_t)(total ? total : 1));
    if (!all)
        die("malloc");
    long k = 0;
    for (int i = 0; i < n; i++) {
        memcpy(all + k, cs[i].lat_ns, sizeof *all * (size_t)cs[i].ops);
        k += cs[i].ops;
    }
    qsort(all, (size_t)total, sizeof *all, cmp_u32);
    double secs = span_secs(cs, n);
    double p50 = total ? all[(total - 1) * 50 / 100] / 1e3 : 0;
    double p99 = total ? all[(total - 1) * 99 / 100] / 1e3 : 0;
    printf("impl=%s workload=%s conns=%d secs=%.2f size=%zu rtts=%ld rtt_per_s=%.0f "
           "p50_us=%.2f p99_us=%.2f\n",
           IMPL_NAME, p->workload, n, secs, p->size, total, secs > 0 ? total / secs : 0,
           p50, p99);
    free(all);
}

/* ------------------------------------------------------------------ */
/* stream                                                              */
/* ------------------------------------------------------------------ */

/* The client writes for the duration, half-closes, and stops the clock
 * when the server has acknowledged every byte: what sits in socket buffers
 * is counted only once it has arrived. */
static void *stream_client(void *arg)
{
    struct client *c = arg;
    size_t size = c->p->size;
    char *buf = malloc(size);
    if (!buf)
        die("malloc");
    memset(buf, 'x', size);
    start_clock(c);
    int64_t deadline = deadline_of(c);
    long i = 0;
    while (i < c->p->max_ops && now_ns() < deadline) {
        if (bn_write(c->conn, buf, size) < 0)
            die("stream write");
        i++;
    }
    if (bn_close_write(c->conn) < 0)
        die("stream close_write");
    uint64_t acked = 0;
    if (read_full(c->conn, &acked, sizeof acked) != 1)
        die("stream ack");
    c->t_end = now_ns();
    c->ops = i;
    c->bytes = (uint64_t)i * size;
    if (acked != c->bytes) {
        fprintf(stderr, "stream: sent %llu, server got %llu\n", (unsigned long long)c->bytes,
                (unsigned long long)acked);
        exit(2);
    }
    bn_close(c->conn);
    free(buf);
    return NULL;
}

static void *stream_server(void *arg)
{
    struct server *s = arg;
    size_t size = s->p->size;
    char *buf = malloc(size);
    if (!buf)
        die("malloc");
    uint64_t got = 0;
    /* Bounded: at most max_ops full buffers (reads may be short, so allow
     * as many reads as bytes in the largest possible stream). */
    for (uint64_t reads = 0; reads <= (uint64_t)s->p->max_ops * size; reads++) {
        int64_t n = bn_read(s->conn, buf, size);
        if (n == 0)
            break;
        if (n < 0)
            die("stream read");
        got += (uint64_t)n;
    }
    if (bn_write(s->conn, &got, sizeof got) < 0)
        die("stream ack write");
    bn_close(s->conn);
    free(buf);
    return NULL;
}

static void stream_report(const struct params *p, struct client *cs, int n)
{
    uint64_t bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += cs[i].bytes;
    double secs = span_secs(cs, n);
    printf("impl=%s workload=%s conns=%d secs=%.2f size=%zu bytes=%llu mib_per_s=%.1f\n",
           IMPL_NAME, p->workload, n, secs, p->size, (unsigned long long)bytes,
           secs > 0 ? bytes / 1048576.0 / secs : 0);
}

/* ------------------------------------------------------------------ */
/* churn                                                               */
/* ------------------------------------------------------------------ */

/* Each round: dial, send 1 byte, read the 1-byte echo, close. A final
 * connection per server thread carrying 'Q' tells that thread to stop. */
static void *churn_client(void *arg)
{
    struct client *c = arg;
    start_clock(c);
    int64_t deadline = deadline_of(c);
    long i = 0;
    char b = 'x';
    while (i < c->p->max_ops && now_ns() < deadline) {
        int64_t conn = bn_dial(c->port);
        if (conn < 0)
            die("churn dial");
        if (bn_write(conn, &b, 1) < 0 || read_full(conn, &b, 1) != 1)
            die("churn exchange");
        bn_close(conn);
        i++;
    }
    c->t_end = now_ns();
    c->ops = i;
    return NULL;
}

static void *churn_server(void *arg)
{
    struct server *s = arg;
    for (long i = 0; i <= s->p->max_ops + 1; i++) {
        int64_t conn = bn_accept(s->conn);
        if (conn < 0)
            die("churn accept");
        char b;
        int r = read_full(conn, &b, 1);
        if (r < 0)
            die("churn read");
        if (r == 1 && b != 'Q' && bn_write(conn, &b, 1) < 0)
            die("churn write");
        bn_close(conn);
        if (r == 1 && b == 'Q')
            break;
    }
    return NULL;
}

static void churn_stop(int port, int nservers)
{
    for (int i = 0; i < nservers; i++) {
        int64_t conn = bn_dial(port);
        if (conn < 0)
            die("churn stop dial");
        char q = 'Q';
        if (bn_write(conn, &q, 1) < 0)
            die("churn stop write");
        char b;
        read_full(conn, &b, 1); /* wait for the server's close */
        bn_close(conn);
    }
}

static void churn_report(const struct params *p, struct client *cs, int n)
{
    long total = 0;
    for (int i = 0; i < n; i++)
        total += cs[i].ops;
    double secs = span_secs(cs, n);
    printf("impl=%s workload=%s conns=%d secs=%.2f conns_total=%ld conns_per_s=%.0f\n",
           IMPL_NAME, p->workload, n, secs, total, secs > 0 ? total / secs : 0);
}

/* ------------------------------------------------------------------ */
/* hold                                                                */
/* ------------------------------------------------------------------ */

/* N connections open at once in one server process. The server accepts
 * them all, then a pool of HOLD_THREADS threads echoes one message on each
 * (every thread takes a slice and serves it in turn: a thread per
 * connection would make 10,000 stacks the story), measures its memory and
 * holds everything open until the client closes. The same structure in
 * both builds, so the difference in memory is the library's. */
#define HOLD_THREADS 4

/* The server's measurements, sent to the client through the port pipe. */
struct hold_report {
    long base_kb; /* VmRSS with the listener up, before any connection */
    long hwm_kb;  /* VmHWM with every connection open and echoed */
};

static int g_report_fd = -1; /* server: the pipe to the client */

/* A "Key:   123 kB" line of a /proc file, in kB; -1 if missing. */
static long proc_kb(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = atol(line + klen + 1);
            break;
        }
    fclose(f);
    return v;
}

static void raise_nofile(long n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || (long)rl.rlim_cur >= n)
        return;
    /* Raising the hard limit needs CAP_SYS_RESOURCE; the soft one may go
     * up to the hard one regardless. */
    struct rlimit want = {(rlim_t)n, (long)rl.rlim_max < n ? (rlim_t)n : rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
        rl.rlim_cur = rl.rlim_max;
        if ((long)rl.rlim_max < n || setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            fprintf(stderr, "bench: need %ld descriptors, the hard limit is %ld\n", n,
                    (long)rl.rlim_max);
            exit(2);
        }
    }
}

struct hold_slice {
    const struct params *p;
    int64_t *conns;
    int from, to;
};

static void *hold_worker(void *arg)
{
    struct hold_slice *h = arg;
    char buf[4096];
    for (int i = h->from; i < h->to; i++) {
        if (read_full(h->conns[i], buf, h->p->size) != 1 ||
            bn_write(h->conns[i], buf, h->p->size) < 0)
            die("hold echo");
    }
    return NULL;
}

static void hold_server(const struct params *p, int64_t l, long base_kb)
{
    int n = p->conns;
    int64_t *conns = calloc((size_t)n, sizeof *conns);
    if (!conns)
        die("calloc");
    for (int i = 0; i < n; i++)
        if ((conns[i] = bn_accept(l)) < 0)
            die("hold accept");
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    struct hold_slice sl[HOLD_THREADS];
    pthread_t th[HOLD_THREADS];
    for (int t = 0; t < HOLD_THREADS; t++) {
        sl[t] = (struct hold_slice){p, conns, n * t / HOLD_THREADS, n * (t + 1) / HOLD_THREADS};
        if (pthread_create(&th[t], &attr, hold_worker, &sl[t]) != 0)
            die("pthread_create");
    }
    for (int t = 0; t < HOLD_THREADS; t++)
        pthread_join(th[t], NULL);
    struct hold_report r = {base_kb, proc_kb("/proc/self/status", "VmHWM")};
    if (write(g_report_fd, &r, sizeof r) != sizeof r)
        die("report pipe");
    /* Held until the client closes each one (bounded: one read each). */
    char b;
    for (int i = 0; i < n; i++) {
        bn_read(conns[i], &b, 1);
        bn_close(conns[i]);
    }
    free(conns);
}

static void hold_client(const struct params *p, int port, int reportfd)
{
    int n = p->conns;
    int64_t *conns = calloc((size_t)n, sizeof *conns);
    char *buf = calloc(1, p->size);
    if (!conns || !buf)
        die("calloc");
    long slab0 = proc_kb("/proc/meminfo", "Slab");
    int64_t t0 = now_ns();
    for (int i = 0; i < n; i++)
        if ((conns[i] = bn_dial(port)) < 0)
            die("hold dial");
    int64_t t_up = now_ns();
    for (int i = 0; i < n; i++)
        if (bn_write(conns[i], buf, p->size) < 0)
            die("hold write");
    for (int i = 0; i < n; i++)
        if (read_full(conns[i], buf, p->size) != 1)
            die("hold read");
    int64_t t_echo = now_ns();
    long slab1 = proc_kb("/proc/meminfo", "Slab");
    struct hold_report r;
    if (read(reportfd, &r, sizeof r) != sizeof r)
        die("hold report");
    for (int i = 0; i < n; i++)
        bn_close(conns[i]);
    /* The kernel's share: slab growth over the whole machine (so noisy
     * when others are busy), per socket; both ends live on this host. */
    printf("impl=%s workload=hold conns=%d size=%zu up_ms=%.1f echo_ms=%.1f server_hwm_kb=%ld "
           "bytes_per_conn=%.0f kernel_slab_per_socket=%.0f\n",
           IMPL_NAME, n, p->size, (t_up - t0) / 1e6, (t_echo - t0) / 1e6, r.hwm_kb,
           (r.hwm_kb - r.base_kb) * 1024.0 / n, (slab1 - slab0) * 1024.0 / (2.0 * n));
    free(conns);
    free(buf);
}

/* ------------------------------------------------------------------ */
/* Driver                                                              */
/* ------------------------------------------------------------------ */

static const struct workload WORKLOADS[] = {
    {"pingpong", 1, 64, pingpong_client, pingpong_server, pingpong_report},
    {"stream", 1, 65536, stream_client, stream_server, stream_report},
    {"churn", 0, 1, churn_client, churn_server, churn_report},
    {"hold", 0, 64, NULL, NULL, NULL},
};

#define MAX_CONNS 1024
#define MAX_HOLD 100000
#define LAT_CAP (4L << 20) /* samples per connection, 16 MiB */

static void usage(void)
{
    fprintf(stderr, "usage: bench pingpong|stream|churn|hold [conns=N] [secs=S] [size=B] [max=K] [keepalive=1]\n");
    exit(2);
}

static void parse(int argc, char **argv, struct params *p, const struct workload **w)
{
    if (argc < 2)
        usage();
    p->workload = argv[1];
    *w = NULL;
    for (size_t i = 0; i < sizeof WORKLOADS / sizeof WORKLOADS[0]; i++)
        if (strcmp(argv[1], WORKLOADS[i].name) == 0)
            *w = &WORKLOADS[i];
    if (!*w)
        usage();
    p->conns = strcmp(p->workload, "hold") == 0 ? 10000 : 1;
    p->secs = 2.0;
    p->size = (*w)->default_size;
    p->max_ops = 100L * 1000 * 1000;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "conns=", 6) == 0)
            p->conns = atoi(a + 6);
        else if (strncmp(a, "secs=", 5) == 0)
            p->secs = atof(a + 5);
        else if (strncmp(a, "size=", 5) == 0)
            p->size = (size_t)atol(a + 5);
        else if (strncmp(a, "max=", 4) == 0)
            p->max_ops = atol(a + 4);
        else if (strcmp(a, "keepalive=1") == 0)
            set_go_keepalive();
        else
            usage();
    }
    int max_conns = strcmp(p->workload, "hold") == 0 ? MAX_HOLD : MAX_CONNS;
    if (p->conns < 1 || p->conns > max_conns || p->secs <= 0 || p->secs > 600 ||
        p->size < 1 || p->size > (64u << 20) || p->max_ops < 1 ||
        (strcmp(p->workload, "hold") == 0 && p->size > 4096))
        usage();
}

static void run_server(const struct params *p, const struct workload *w, int portfd)
{
    int port = 0;
    int64_t l = bn_listen(&port);
    if (l < 0)
        die("listen");
    long base_kb = proc_kb("/proc/self/status", "VmRSS");
    if (write(portfd, &port, sizeof port) != sizeof port)
        die("port pipe");
    if (w->client == NULL) {
        g_report_fd = portfd;
        hold_server(p, l, base_kb);
        bn_close(l);
        return;
    }
    close(portfd);
    struct server ss[MAX_CONNS];
    pthread_t th[MAX_CONNS];
    for (int i = 0; i < p->conns; i++) {
        ss[i].p = p;
        ss[i].conn = l;
        if (w->dials_upfront && (ss[i].conn = bn_accept(l)) < 0)
            die("accept");
    }
    for (int i = 0; i < p->conns; i++)
        if (pthread_create(&th[i], NULL, w->server, &ss[i]) != 0)
            die("pthread_create");
    for (int i = 0; i < p->conns; i++)
        pthread_join(th[i], NULL);
    bn_close(l);
}

static void run_client(const struct params *p, const struct workload *w, int port)
{
    struct client *cs = calloc((size_t)p->conns, sizeof *cs);
    pthread_t *th = calloc((size_t)p->conns, sizeof *th);
    pthread_barrier_t start;
    if (!cs || !th)
        die("calloc");
    pthread_barrier_init(&start, NULL, (unsigned)p->conns);
    for (int i = 0; i < p->conns; i++) {
        cs[i].p = p;
        cs[i].port = port;
        cs[i].start = &start;
        if (w->dials_upfront && (cs[i].conn = bn_dial(port)) < 0)
            die("dial");
        if (w->report == pingpong_report) {
            cs[i].lat_cap = LAT_CAP;
            cs[i].lat_ns = malloc(sizeof(uint32_t) * LAT_CAP);
            if (!cs[i].lat_ns)
                die("malloc");
            memset(cs[i].lat_ns, 0, sizeof(uint32_t) * LAT_CAP); /* fault it in now */
        }
    }
    for (int i = 0; i < p->conns; i++)
        if (pthread_create(&th[i], NULL, w->client, &cs[i]) != 0)
            die("pthread_create");
    for (int i = 0; i < p->conns; i++)
        pthread_join(th[i], NULL);
    if (w->server == churn_server)
        churn_stop(port, p->conns);
    w->report(p, cs, p->conns);
    for (int i = 0; i < p->conns; i++)
        free(cs[i].lat_ns);
    free(cs);
    free(th);
}

int main(int argc, char **argv)
{
    struct params p;
    const struct workload *w;
    parse(argc, argv, &p, &w);
    signal(SIGPIPE, SIG_IGN);
    if (w->client == NULL)
        raise_nofile(p.conns + 256L); /* each side holds one end; the server inherits it */
    /* Last resort: neither process outlives its run by much. */
    unsigned limit = (unsigned)p.secs + 30;

    /* Fork before any network call, so the child starts with no library
     * state and no threads. */
    int fds[2];
    if (pipe(fds) < 0)
        die("pipe");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(limit);
        close(fds[0]);
        run_server(&p, w, fds[1]);
        _exit(0);
    }
    alarm(limit);
    close(fds[1]);
    int port = 0;
    if (read(fds[0], &port, sizeof port) != sizeof port || port <= 0) {
        fprintf(stderr, "bench: server did not start\n");
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        return 2;
    }
    if (w->client == NULL)
        hold_client(&p, port, fds[0]);
    else
        run_client(&p, w, port);
    close(fds[0]);
    fflush(stdout);
    int status = 0;
    if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench: server failed (status %d)\n", status);
        return 2;
    }
    return 0;
}
