/*
 * relay.c: a relay through gonet, client -> proxy -> server, moving
 * `bytes` (default 1 GiB): net_copy (splice in the kernel) against a
 * read/write loop over net_read/net_write.
 *
 *   gcc -O2 -Iinclude bench/relay.c -Lpath -lgonet -lpthread
 *   relay mode=copy|loop [bytes=B] [buf=B]
 *
 * Three processes: this one is the client; it forks the server (a sink
 * that counts what it reads and acknowledges the count) and the proxy
 * (accepts the client, dials the server, relays the stream up and the
 * 8-byte acknowledgement down). The proxy measures its own CPU time with
 * getrusage. Output: one line, as bench.c prints them:
 *   impl=gonet-copy workload=relay bytes=... secs=... mib_per_s=... proxy_cpu_ms=...
 * Every process arms alarm() so that a stuck run ends by itself.
 */
#define _GNU_SOURCE
#include "gonet.h"
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *mode = "copy";
static size_t loop_buf = 64 * 1024;

static void die(const char *what)
{
    fprintf(stderr, "relay(%s, pid %d): %s: %s\n", mode, (int)getpid(), what, net_last_error());
    exit(2);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t listen_any(char *addr, size_t len)
{
    int64_t l = net_listen("tcp", "127.0.0.1:0");
    if (l < 0 || net_local_addr(l, addr, len) < 0)
        die("listen");
    return l;
}

/* Sends an address to the parent and closes the pipe. */
static void tell(int fd, const char *addr)
{
    char buf[64] = {0};
    snprintf(buf, sizeof buf, "%s", addr);
    if (write(fd, buf, sizeof buf) != sizeof buf)
        die("pipe");
    close(fd);
}

static void hear(int fd, char *addr)
{
    if (read(fd, addr, 64) != 64)
        die("child did not start");
    close(fd);
}

static void server(int fd)
{
    char addr[64];
    int64_t l = listen_any(addr, sizeof addr);
    tell(fd, addr);
    int64_t c = net_accept(l);
    if (c < 0)
        die("server accept");
    char *buf = malloc(1 << 20);
    uint64_t got = 0;
    for (;;) {
        int64_t n = net_read(c, buf, 1 << 20);
        if (n == 0)
            break;
        if (n < 0)
            die("server read");
        got += (uint64_t)n;
    }
    if (net_write(c, &got, sizeof got) < 0)
        die("server ack");
    net_close(c);
    net_close(l);
}

/* The loop a program would write without net_copy. */
static int64_t loop_copy(int64_t dst, int64_t src, char *buf)
{
    int64_t total = 0;
    for (;;) {
        int64_t n = net_read(src, buf, loop_buf);
        if (n == 0)
            return total;
        if (n < 0 || net_write(dst, buf, (size_t)n) < 0)
            return -1;
        total += n;
    }
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void proxy(int fd, const char *upstream, int reportfd)
{
    char addr[64];
    int64_t l = listen_any(addr, sizeof addr);
    tell(fd, addr);
    int64_t in = net_accept(l);
    int64_t out = net_dial("tcp", upstream);
    if (in < 0 || out < 0)
        die("proxy connect");
    char *buf = malloc(loop_buf);
    double c0 = cpu_ms();
    int copy = strcmp(mode, "copy") == 0;
    int64_t up = copy ? net_copy(out, in, -1) : loop_copy(out, in, buf);
    if (up < 0)
        die("proxy up");
    net_close_write(out);
    int64_t down = copy ? net_copy(in, out, -1) : loop_copy(in, out, buf);
    if (down < 0)
        die("proxy down");
    double cpu = cpu_ms() - c0;
    if (write(reportfd, &cpu, sizeof cpu) != sizeof cpu)
        die("report");
    net_close(in);
    net_close(out);
    net_close(l);
}

int main(int argc, char **argv)
{
    uint64_t bytes = 1ULL << 30;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "mode=", 5) == 0)
            mode = argv[i] + 5;
        else if (strncmp(argv[i], "bytes=", 6) == 0)
            bytes = strtoull(argv[i] + 6, NULL, 10);
        else if (strncmp(argv[i], "buf=", 4) == 0)
            loop_buf = strtoull(argv[i] + 4, NULL, 10);
        else if (strncmp(argv[i], "secs=", 5) != 0) { /* run.sh passes secs */
            fprintf(stderr, "usage: relay mode=copy|loop [bytes=B] [buf=B]\n");
            return 2;
        }
    }
    if ((strcmp(mode, "copy") && strcmp(mode, "loop")) || loop_buf < 1 || loop_buf > (64u << 20))
        return 2;
    signal(SIGPIPE, SIG_IGN);
    alarm(120);
    int sp[2], pp[2], rp[2];
    if (pipe(sp) || pipe(pp) || pipe(rp))
        die("pipe");
    /* Fork before any network call: children start with no library state. */
    pid_t srv = fork();
    if (srv == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        server(sp[1]);
        _exit(0);
    }
    char saddr[64], paddr[64];
    pid_t prx = fork();
    if (prx == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        hear(sp[0], saddr);
        proxy(pp[1], saddr, rp[1]);
        _exit(0);
    }
    close(sp[0]);
    close(sp[1]);
    close(pp[1]);
    close(rp[1]);
    hear(pp[0], paddr);
    int64_t c = net_dial("tcp", paddr);
    if (c < 0)
        die("dial");
    size_t chunk = 256 * 1024;
    char *buf = calloc(1, chunk);
    int64_t t0 = now_ns();
    uint64_t sent = 0;
    while (sent < bytes) {
        size_t n = bytes - sent < chunk ? (size_t)(bytes - sent) : chunk;
        if (net_write(c, buf, n) < 0)
            die("write");
        sent += n;
    }
    net_close_write(c);
    uint64_t acked = 0;
    for (size_t got = 0; got < sizeof acked;) {
        int64_t n = net_read(c, (char *)&acked + got, sizeof acked - got);
        if (n <= 0)
            die("ack");
        got += (size_t)n;
    }
    double secs = (now_ns() - t0) / 1e9;
    double cpu = 0;
    if (read(rp[0], &cpu, sizeof cpu) != sizeof cpu)
        die("proxy report");
    int st1 = 0, st2 = 0;
    waitpid(prx, &st1, 0);
    waitpid(srv, &st2, 0);
    if (acked != sent || st1 || st2) {
        fprintf(stderr, "relay: sent %llu, server got %llu\n", (unsigned long long)sent,
                (unsigned long long)acked);
        return 2;
    }
    net_close(c);
    printf("impl=gonet-%s workload=relay bytes=%llu secs=%.2f mib_per_s=%.1f proxy_cpu_ms=%.1f\n",
           mode, (unsigned long long)sent, secs, sent / 1048576.0 / secs, cpu);
    return 0;
}
