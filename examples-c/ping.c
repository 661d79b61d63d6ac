/*
 * ping: sends ICMP echo requests over gonet's raw IP networks and prints
 * the replies as ping(8) does.
 *
 *     ping [-c count] [-i interval] [-W timeout] [-s size] host
 *
 * count: requests to send (default 4); interval: seconds between them
 * (default 1); timeout: seconds to wait for each reply (default 1); size:
 * data bytes after the 8-byte ICMP header (default 56). host: an IPv4 or
 * IPv6 address ("127.0.0.1", "::1") or a name (IPv4 unless it has only
 * IPv6 addresses). Needs CAP_NET_RAW (root). Exits 0 when a reply came, 1
 * when none did, 2 on an error.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gonet.h"

#define MAX_DATA 65000

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The Internet checksum, which IPv4's ICMP needs from us (the kernel
 * fills it in for ICMPv6). */
static uint16_t checksum(const uint8_t *p, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)(p[n - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Square root by Newton's method: no libm to link for one call. */
static double root(double x) {
    if (x <= 0)
        return 0;
    double r = x > 1 ? x : 1;
    for (int i = 0; i < 60; i++)
        r = (r + x / r) / 2;
    return r;
}

static int64_t dial_icmp(const char *host, int *v6) {
    /* An IPv6 literal, or a name with IPv6 addresses only, needs ip6. */
    *v6 = strchr(host, ':') != NULL;
    int64_t h = net_dial(*v6 ? "ip6:ipv6-icmp" : "ip4:icmp", host);
    if (h == NET_EADDR && !*v6) {
        int64_t h6 = net_dial("ip6:ipv6-icmp", host);
        if (h6 > 0) {
            *v6 = 1;
            return h6;
        }
    }
    return h;
}

static void usage(void) {
    fprintf(stderr, "usage: ping [-c count] [-i interval] [-W timeout] [-s size] host\n");
    exit(2);
}

int main(int argc, char **argv) {
    long count = 4, size = 56;
    double interval = 1, timeout = 1;
    int opt;
    while ((opt = getopt(argc, argv, "c:i:W:s:")) != -1) {
        switch (opt) {
        case 'c': count = strtol(optarg, NULL, 10); break;
        case 'i': interval = strtod(optarg, NULL); break;
        case 'W': timeout = strtod(optarg, NULL); break;
        case 's': size = strtol(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (optind != argc - 1 || count < 1 || size < 0 || size > MAX_DATA ||
        interval < 0 || timeout <= 0)
        usage();
    const char *host = argv[optind];

    int v6;
    int64_t conn = dial_icmp(host, &v6);
    if (conn < 0) {
        fprintf(stderr, "ping: %s\n", net_last_error());
        return 2;
    }
    char peer[NET_ADDR_MAX];
    net_remote_addr(conn, peer, sizeof peer);
    printf("PING %s (%s) %ld(%ld) data bytes\n", host, peer, size, size + 8 + (v6 ? 40 : 20));

    static uint8_t req[8 + MAX_DATA], reply[8 + MAX_DATA];
    uint16_t id = (uint16_t)getpid();
    long sent = 0, received = 0;
    double min = 0, max = 0, sum = 0, sum2 = 0, start = now_ms();
    int status = 0;
    for (long seq = 1; seq <= count; seq++) {
        memset(req, 0, 8);
        req[0] = v6 ? 128 : 8; /* echo request */
        req[4] = (uint8_t)(id >> 8);
        req[5] = (uint8_t)id;
        req[6] = (uint8_t)(seq >> 8);
        req[7] = (uint8_t)seq;
        for (long i = 0; i < size; i++)
            req[8 + i] = (uint8_t)i;
        if (!v6) {
            uint16_t c = checksum(req, 8 + (size_t)size);
            req[2] = (uint8_t)(c >> 8);
            req[3] = (uint8_t)c;
        }
        double sent_at = now_ms();
        if (net_write(conn, req, 8 + (size_t)size) < 0) {
            fprintf(stderr, "ping: %s\n", net_last_error());
            status = 2;
            break;
        }
        sent++;
        /* One deadline per reply: whatever else arrives meanwhile (the
         * request itself, echoed to raw sockets on loopback, or another
         * ping's replies) does not extend it. */
        net_set_read_deadline(conn, (int64_t)(timeout * 1000));
        for (;;) {
            int64_t n = net_read(conn, reply, sizeof reply);
            if (n == NET_ETIMEOUT) {
                printf("no reply for icmp_seq=%ld within %g s\n", seq, timeout);
                break;
            }
            if (n < 0) {
                fprintf(stderr, "ping: %s\n", net_last_error());
                status = 2;
                break;
            }
            int is_reply = n >= 8 && reply[0] == (v6 ? 129 : 0) &&
                           reply[4] == req[4] && reply[5] == req[5] &&
                           reply[6] == req[6] && reply[7] == req[7];
            if (!is_reply)
                continue;
            double rtt = now_ms() - sent_at;
            printf("%lld bytes from %s: icmp_seq=%ld time=%.3f ms\n", (long long)n, peer, seq, rtt);
            fflush(stdout);
            if (received == 0 || rtt < min)
                min = rtt;
            if (rtt > max)
                max = rtt;
            sum += rtt;
            sum2 += rtt * rtt;
            received++;
            break;
        }
        if (status)
            break;
        if (seq < count) {
            double wait = sent_at + interval * 1000 - now_ms();
            if (wait > 0) {
                struct timespec ts = {(time_t)(wait / 1000), (long)((wait - (double)(long)(wait / 1000) * 1000) * 1e6)};
                nanosleep(&ts, NULL);
            }
        }
    }
    net_close(conn);

    printf("\n--- %s ping statistics ---\n", host);
    printf("%ld packets transmitted, %ld received, %ld%% packet loss, time %.0fms\n", sent,
           received, sent ? (sent - received) * 100 / sent : 0, now_ms() - start);
    if (received > 0) {
        double avg = sum / (double)received;
        printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", min, avg, max,
               root(sum2 / (double)received - avg * avg));
    }
    fflush(stdout);
    if (status)
        return status;
    return received > 0 ? 0 : 1;
}
