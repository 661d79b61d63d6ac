/*
 * echo_server: a line echo server on gonet, one thread per client.
 *
 *     echo_server [address]        (default ":8088")
 *
 * Under systemd's socket activation (LISTEN_FDS and LISTEN_PID set for
 * this process, as systemd or systemd-socket-activate set them) it serves
 * the listener passed as descriptor 3 instead, and the address is not
 * used.
 *
 * Every line a client sends (terminated by '\n') is printed as
 * "GET MESSAGE: <text>" and sent back. SIGINT or SIGTERM closes the
 * listener; the server then gives open connections a short grace period,
 * closes those still open and exits 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gonet.h"

#define MAX_LINE (1 << 20) /* a longer line ends the connection */
#define GRACE_MS 1000      /* how long shutdown waits for clients */

/* What the threads share; it lives on main's stack. */
struct server {
    int64_t listener;
    sigset_t signals;
    pthread_mutex_t lock;
    pthread_cond_t idle; /* signalled when a client thread ends */
    int64_t *conns;      /* connections not yet closed */
    size_t nconns, cap;
    size_t nthreads; /* client threads still running */
};

struct client {
    struct server *srv;
    int64_t conn;
    char peer[128];
};

/* Records conn as open; returns -1 when out of memory. */
static int track(struct server *srv, int64_t conn) {
    int rc = 0;
    pthread_mutex_lock(&srv->lock);
    if (srv->nconns == srv->cap) {
        size_t cap = srv->cap ? srv->cap * 2 : 16;
        int64_t *p = (int64_t *)realloc(srv->conns, cap * sizeof *p);
        if (p == NULL) {
            rc = -1;
        } else {
            srv->conns = p;
            srv->cap = cap;
        }
    }
    if (rc == 0) {
        srv->conns[srv->nconns++] = conn;
        srv->nthreads++;
    }
    pthread_mutex_unlock(&srv->lock);
    return rc;
}

/* Forgets conn and closes it, unless shutdown closed it already; then marks
 * the calling client thread as finished. */
static void finish(struct server *srv, int64_t conn) {
    int mine = 0;
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->nconns; i++) {
        if (srv->conns[i] == conn) {
            srv->conns[i] = srv->conns[--srv->nconns];
            mine = 1;
            break;
        }
    }
    if (mine && net_close(conn) < 0)
        fprintf(stderr, "close: %s\n", net_last_error());
    srv->nthreads--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
}

/* Sends back one line (without its '\n'); returns 0 or a NET_E* code. */
static int64_t echo_line(struct client *c, const char *line, size_t len) {
    printf("GET MESSAGE: %.*s\n", (int)len, line);
    /* The line is followed by its '\n' in the buffer: send both at once. */
    int64_t n = net_write(c->conn, line, len + 1);
    return n < 0 ? n : 0;
}

static void *serve_client(void *arg) {
    struct client *c = (struct client *)arg;
    size_t cap = 4096, used = 0;
    char *buf = (char *)malloc(cap);
    if (buf == NULL) {
        fprintf(stderr, "%s: out of memory\n", c->peer);
        goto out;
    }
    for (;;) {
        if (used == cap) {
            if (cap >= MAX_LINE) {
                printf("client %s: line longer than %d bytes, closing\n", c->peer, MAX_LINE);
                break;
            }
            char *p = (char *)realloc(buf, cap * 2);
            if (p == NULL) {
                fprintf(stderr, "%s: out of memory\n", c->peer);
                break;
            }
            buf = p;
            cap *= 2;
        }
        int64_t n = net_read(c->conn, buf + used, cap - used);
        if (n == 0) {
            if (used > 0)
                printf("client %s left mid-line (%zu bytes dropped)\n", c->peer, used);
            else
                printf("client %s left\n", c->peer);
            break;
        }
        if (n < 0) {
            printf("client %s: %s\n", c->peer, net_last_error());
            break;
        }
        /* Echo every complete line, keep the incomplete rest. */
        size_t start = 0, end = used + (size_t)n;
        for (size_t i = used; i < end; i++) {
            if (buf[i] != '\n')
                continue;
            if (echo_line(c, buf + start, i - start) < 0) {
                printf("client %s: %s\n", c->peer, net_last_error());
                goto out;
            }
            start = i + 1;
        }
        memmove(buf, buf + start, end - start);
        used = end - start;
    }
out:
    free(buf);
    finish(c->srv, c->conn);
    free(c);
    return NULL;
}

/* Waits for SIGINT or SIGTERM, then closes the listener, which wakes
 * net_accept in main. gonet is not called from a signal handler. */
static void *wait_for_signal(void *arg) {
    struct server *srv = (struct server *)arg;
    int sig = 0;
    if (sigwait(&srv->signals, &sig) != 0) {
        perror("sigwait");
        return NULL;
    }
    printf("received %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    if (net_close(srv->listener) < 0)
        fprintf(stderr, "close listener: %s\n", net_last_error());
    return NULL;
}

/* After the listener closed: waits up to GRACE_MS for the clients, then
 * closes the connections still open and waits for their threads. */
static void drain(struct server *srv) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GRACE_MS / 1000;
    until.tv_nsec += (long)(GRACE_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&srv->lock);
    while (srv->nthreads > 0) {
        if (pthread_cond_timedwait(&srv->idle, &srv->lock, &until) == ETIMEDOUT)
            break;
    }
    if (srv->nconns > 0)
        printf("closing %zu open connection(s)\n", srv->nconns);
    for (size_t i = 0; i < srv->nconns; i++)
        if (net_close(srv->conns[i]) < 0)
            fprintf(stderr, "close: %s\n", net_last_error());
    srv->nconns = 0;
    /* Closing woke every blocked client thread; let them finish. */
    while (srv->nthreads > 0)
        pthread_cond_wait(&srv->idle, &srv->lock);
    pthread_mutex_unlock(&srv->lock);
}

/* The listener systemd passed (socket activation: LISTEN_FDS descriptors
 * from 3 on, for the process LISTEN_PID), adopted as a gonet handle; 0
 * when none was passed. The variables are then unset, so that programs
 * this one starts do not take them as theirs. */
static int64_t activated_listener(void) {
    const char *fds = getenv("LISTEN_FDS");
    const char *pid = getenv("LISTEN_PID");
    if (fds == NULL || pid == NULL || atol(fds) < 1 || atol(pid) != (long)getpid())
        return 0;
    int64_t l = net_file_listener(3);
    close(3); /* gonet has its own copy */
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDNAMES");
    return l;
}

int main(int argc, char **argv) {
    const char *address = argc > 1 ? argv[1] : ":8088";
    struct server srv;
    memset(&srv, 0, sizeof srv);
    pthread_mutex_init(&srv.lock, NULL);
    pthread_cond_init(&srv.idle, NULL);

    /* Log lines appear as they happen, even when stdout is a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Block the signals in every thread; wait_for_signal receives them. */
    sigemptyset(&srv.signals);
    sigaddset(&srv.signals, SIGINT);
    sigaddset(&srv.signals, SIGTERM);
    int err = pthread_sigmask(SIG_BLOCK, &srv.signals, NULL);
    if (err != 0) {
        fprintf(stderr, "pthread_sigmask: %s\n", strerror(err));
        return 1;
    }

    srv.listener = activated_listener();
    if (srv.listener == 0)
        srv.listener = net_listen("tcp", address);
    if (srv.listener < 0) {
        fprintf(stderr, "echo_server: %s\n", net_last_error());
        return 1;
    }
    char local[128];
    if (net_local_addr(srv.listener, local, sizeof local) < 0) {
        fprintf(stderr, "echo_server: %s\n", net_last_error());
        return 1;
    }
    printf("listening on %s\n", local);

    pthread_t signal_thread;
    err = pthread_create(&signal_thread, NULL, wait_for_signal, &srv);
    if (err != 0) {
        fprintf(stderr, "pthread_create: %s\n", strerror(err));
        return 1;
    }

    for (;;) {
        int64_t conn = net_accept(srv.listener);
        if (conn == NET_ECLOSED)
            break; /* the signal thread closed the listener */
        if (conn < 0) {
            fprintf(stderr, "accept: %s\n", net_last_error());
            struct timespec pause = {0, 100 * 1000000L}; /* e.g. out of fds */
            nanosleep(&pause, NULL);
            continue;
        }
        struct client *c = (struct client *)calloc(1, sizeof *c);
        if (c == NULL || track(&srv, conn) < 0) {
            fprintf(stderr, "out of memory, dropping a connection\n");
            free(c);
            net_close(conn);
            continue;
        }
        c->srv = &srv;
        c->conn = conn;
        if (net_remote_addr(conn, c->peer, sizeof c->peer) < 0)
            snprintf(c->peer, sizeof c->peer, "#%lld", (long long)conn);
        printf("client %s connected\n", c->peer);

        pthread_t t;
        err = pthread_create(&t, NULL, serve_client, c);
        if (err != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            finish(&srv, conn);
            free(c);
            continue;
        }
        pthread_detach(t);
    }

    drain(&srv);
    pthread_join(signal_thread, NULL);
    free(srv.conns);
    printf("server stopped\n");
    return 0;
}
