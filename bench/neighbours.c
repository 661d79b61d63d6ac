/* Two threads, each calling net_read(h, buf, 0) on its own end of one
 * loopback connection: no system call, only the library's bookkeeping
 * (handle look-up, reference count, read lock). The two ends are made one
 * after the other, so this shows whether neighbouring descriptors or
 * handle-table shards share cache lines that bounce between CPUs.
 *
 *   cargo build --release
 *   cc -O2 -Iinclude bench/neighbours.c -Ltarget/release \
 *      -Wl,-rpath,$PWD/target/release -lgonet -lpthread -o /tmp/neighbours
 *   /tmp/neighbours [calls per thread, default 3000000]
 *
 * Compare two builds of the library with LD_PRELOAD=path/libgonet.so.
 * Prints ns per call (wall time of the two threads together / calls). */
#include <gonet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long calls = 3000000;

static void *reader(void *arg)
{
    int64_t h = *(const int64_t *)arg;
    char b;
    for (long i = 0; i < calls; i++) {
        if (net_read(h, &b, 0) != 0) {
            fprintf(stderr, "net_read: %s\n", net_last_error());
            exit(1);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        calls = atol(argv[1]);
    if (calls < 1 || calls > 1000000000L) {
        fprintf(stderr, "usage: neighbours [calls per thread]\n");
        return 2;
    }
    char addr[NET_ADDR_MAX];
    int64_t l = net_listen("tcp", "127.0.0.1:0");
    if (l < 0 || net_local_addr(l, addr, sizeof addr) < 0) {
        fprintf(stderr, "listen: %s\n", net_last_error());
        return 1;
    }
    int64_t ends[2];
    ends[0] = net_dial("tcp", addr);
    ends[1] = ends[0] < 0 ? -1 : net_accept(l);
    if (ends[1] < 0) {
        fprintf(stderr, "connect: %s\n", net_last_error());
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&threads[i], NULL, reader, &ends[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    printf("handles %lld and %lld: %.1f ns per call\n", (long long)ends[0], (long long)ends[1],
           ns / (double)calls);
    net_close(ends[0]);
    net_close(ends[1]);
    net_close(l);
    return 0;
}
