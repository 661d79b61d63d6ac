/* Lookups per second of net_lookup_ip(0, "ip", name) beside glibc's
 * getaddrinfo(name, AF_UNSPEC) in the same process, against the same name
 * server, and how far past its deadline a bounded lookup returns. Run by
 * bench/dns.sh inside a network namespace with dnsmasq on 127.0.0.1.
 *
 *   dns NAME THREADS SECONDS ROUNDS
 *
 * Each round runs gonet then getaddrinfo (the order alternating between
 * rounds) for SECONDS each with THREADS threads; it prints each round's
 * rates and their ratio, then the median ratio. Then 20 lookups through a
 * resolver whose only server (127.0.0.3:53, a socket this program binds
 * and never answers on) is silent, bounded by net_resolver_set_timeout at
 * 100 ms: the largest overshoot past 100 ms is printed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <gonet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *name;
static double seconds;
static volatile int stop;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *gonet_worker(void *arg)
{
    long *count = arg;
    char buf[256];
    while (!stop) {
        int64_t n = net_lookup_ip(0, "ip", name, buf, sizeof buf);
        if (n <= 0) {
            fprintf(stderr, "net_lookup_ip: %s\n", net_last_error());
            exit(1);
        }
        (*count)++;
    }
    return NULL;
}

static void *gai_worker(void *arg)
{
    long *count = arg;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    while (!stop) {
        struct addrinfo *res;
        int rc = getaddrinfo(name, NULL, &hints, &res);
        if (rc != 0) {
            fprintf(stderr, "getaddrinfo: %s\n", gai_strerror(rc));
            exit(1);
        }
        freeaddrinfo(res);
        (*count)++;
    }
    return NULL;
}

static double rate(void *(*fn)(void *), int threads)
{
    pthread_t t[64];
    long counts[64] = {0};
    stop = 0;
    double start = now();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, fn, &counts[i]);
    usleep((useconds_t)(seconds * 1e6));
    stop = 1;
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += counts[i];
    }
    return total / (now() - start);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: dns NAME THREADS SECONDS ROUNDS\n");
        return 2;
    }
    name = argv[1];
    int threads = atoi(argv[2]);
    seconds = atof(argv[3]);
    int rounds = atoi(argv[4]);
    if (threads < 1 || threads > 64 || rounds < 1 || rounds > 100)
        return 2;
    double ratios[100];
    for (int r = 0; r < rounds; r++) {
        double g, c;
        if (r % 2 == 0) {
            g = rate(gonet_worker, threads);
            c = rate(gai_worker, threads);
        } else {
            c = rate(gai_worker, threads);
            g = rate(gonet_worker, threads);
        }
        ratios[r] = g / c;
        printf("round %d: net_lookup_ip %.0f/s getaddrinfo %.0f/s ratio %.2f\n", r, g, c, g / c);
    }
    qsort(ratios, rounds, sizeof ratios[0], cmp);
    printf("threads %d: median ratio net_lookup_ip/getaddrinfo %.2f (min %.2f, max %.2f)\n",
           threads, ratios[rounds / 2], ratios[0], ratios[rounds - 1]);

    /* The deadline: a silent server, a 100 ms bound. */
    int silent = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, "127.0.0.3", &sin.sin_addr);
    if (bind(silent, (struct sockaddr *)&sin, sizeof sin) != 0) {
        perror("bind 127.0.0.3:53");
        return 1;
    }
    int64_t res = net_resolver_new();
    net_resolver_set_servers(res, "127.0.0.3:53");
    net_resolver_set_timeout(res, 100);
    double worst = 0;
    for (int i = 0; i < 20; i++) {
        char buf[64];
        double start = now();
        int64_t rc = net_lookup_ip(res, "ip", name, buf, sizeof buf);
        double over = (now() - start) * 1000 - 100;
        if (rc != NET_ETIMEOUT) {
            fprintf(stderr, "bounded lookup: %lld %s\n", (long long)rc, net_last_error());
            return 1;
        }
        if (over > worst)
            worst = over;
    }
    printf("deadline: 20 lookups bounded at 100 ms returned at most %.2f ms after it\n", worst);
    net_close(res);
    close(silent);
    return 0;
}
