/*
 * Races through the C ABI, for ThreadSanitizer (and any other checker):
 *   - closes racing blocked reads: every reader wakes with NET_ECLOSED;
 *   - deadlines set from another thread end blocked reads: NET_ETIMEOUT;
 *   - concurrent writers on one connection: records never interleave;
 *   - a close racing writers blocked on a full buffer: they wake.
 * Prints "ok" and exits 0 when every check passes.
 */
#define _DEFAULT_SOURCE /* usleep */
#include <gonet.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* One thread's call and what it returned; written by the thread, read by
 * main after pthread_join. */
struct job {
    int64_t conn;
    int64_t result;
    int id;
    char error[256];
};

static void *read_once(void *arg) {
    struct job *j = (struct job *)arg;
    char buf[64];
    j->result = net_read(j->conn, buf, sizeof buf);
    if (j->result < 0)
        snprintf(j->error, sizeof j->error, "%s", net_last_error());
    return NULL;
}

#define READERS 4

/* Readers block in net_read; main closes the connection (or sets a past
 * deadline) at a random moment; every reader must wake with that code. */
static void blocked_readers(int rounds, int by_deadline) {
    for (int r = 0; r < rounds; r++) {
        int64_t l, c, s;
        tcp_pair(&l, &c, &s);
        pthread_t t[READERS];
        struct job jobs[READERS];
        memset(jobs, 0, sizeof jobs);
        for (int i = 0; i < READERS; i++) {
            jobs[i].conn = s;
            CHECK(pthread_create(&t[i], NULL, read_once, &jobs[i]) == 0);
        }
        usleep((useconds_t)(rand() % 2000));
        if (by_deadline)
            CHECK(net_set_read_deadline(s, 0) == 0);
        else
            CHECK(net_close(s) == 0);
        for (int i = 0; i < READERS; i++) {
            pthread_join(t[i], NULL);
            int64_t want = by_deadline ? NET_ETIMEOUT : NET_ECLOSED;
            if (jobs[i].result != want) {
                fprintf(stderr, "round %d reader %d: %lld (%s), want %lld\n", r, i,
                        (long long)jobs[i].result, jobs[i].error, (long long)want);
                failures++;
            }
        }
        if (by_deadline)
            net_close(s);
        net_close(c);
        net_close(l);
    }
}

#define WRITERS 4
#define RECORDS 400
#define RECORD 512

/* Each record is one writer's id, its sequence number and filler, all in
 * one net_write: the reader must find every record whole and each
 * writer's records in order. */
static void *write_records(void *arg) {
    struct job *j = (struct job *)arg;
    unsigned char rec[RECORD];
    for (int n = 0; n < RECORDS; n++) {
        memset(rec, j->id, sizeof rec);
        rec[1] = (unsigned char)(n & 0xff);
        rec[2] = (unsigned char)(n >> 8);
        if (net_write(j->conn, rec, sizeof rec) != RECORD) {
            j->result = -1;
            snprintf(j->error, sizeof j->error, "%s", net_last_error());
            return NULL;
        }
    }
    return NULL;
}

static void concurrent_writers(void) {
    int64_t l, c, s;
    tcp_pair(&l, &c, &s);
    pthread_t t[WRITERS];
    struct job jobs[WRITERS];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < WRITERS; i++) {
        jobs[i].conn = c;
        jobs[i].id = 'A' + i;
        CHECK(pthread_create(&t[i], NULL, write_records, &jobs[i]) == 0);
    }
    static unsigned char got[WRITERS * RECORDS * RECORD];
    size_t have = 0;
    CHECK(net_set_read_deadline(s, 20000) == 0);
    while (have < sizeof got) {
        int64_t n = net_read(s, got + have, sizeof got - have);
        if (n <= 0) {
            CHECK(n > 0);
            break;
        }
        have += (size_t)n;
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(t[i], NULL);
        CHECK(jobs[i].result == 0);
    }
    int next[WRITERS] = {0};
    for (size_t off = 0; off + RECORD <= have; off += RECORD) {
        unsigned char *rec = got + off;
        int id = rec[0] - 'A';
        if (id < 0 || id >= WRITERS) {
            fprintf(stderr, "record at %zu: bad writer %d\n", off, rec[0]);
            failures++;
            break;
        }
        int seq = rec[1] | (rec[2] << 8);
        CHECK(seq == next[id]);
        next[id] = seq + 1;
        for (size_t k = 3; k < RECORD; k++) {
            if (rec[k] != rec[0]) {
                fprintf(stderr, "record at %zu interleaved at byte %zu\n", off, k);
                failures++;
                break;
            }
        }
    }
    for (int i = 0; i < WRITERS; i++)
        CHECK(next[i] == RECORDS);
    net_close(c);
    net_close(s);
    net_close(l);
}

static void *write_until_error(void *arg) {
    struct job *j = (struct job *)arg;
    static const char chunk[65536];
    for (int n = 0; n < 100000; n++) {
        int64_t rc = net_write(j->conn, chunk, sizeof chunk);
        if (rc < 0) {
            j->result = rc;
            snprintf(j->error, sizeof j->error, "%s", net_last_error());
            return NULL;
        }
    }
    return NULL;
}

/* Writers fill the buffers of a peer that never reads, then block; a
 * close wakes each of them with NET_ECLOSED. */
static void close_racing_writers(int rounds) {
    for (int r = 0; r < rounds; r++) {
        int64_t l, c, s;
        tcp_pair(&l, &c, &s);
        pthread_t t[WRITERS];
        struct job jobs[WRITERS];
        memset(jobs, 0, sizeof jobs);
        for (int i = 0; i < WRITERS; i++) {
            jobs[i].conn = c;
            CHECK(pthread_create(&t[i], NULL, write_until_error, &jobs[i]) == 0);
        }
        usleep((useconds_t)(20000 + rand() % 20000));
        CHECK(net_close(c) == 0);
        for (int i = 0; i < WRITERS; i++) {
            pthread_join(t[i], NULL);
            if (jobs[i].result != NET_ECLOSED) {
                fprintf(stderr, "round %d writer %d: %lld (%s)\n", r, i,
                        (long long)jobs[i].result, jobs[i].error);
                failures++;
            }
        }
        net_close(s);
        net_close(l);
    }
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 50;
    srand(1);
    blocked_readers(rounds, 0);
    blocked_readers(rounds, 1);
    concurrent_writers();
    close_racing_writers(rounds / 5 + 1);
    return checks_passed();
}
