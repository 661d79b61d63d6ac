/*
 * echo_client: sends each line of standard input to an echo server and
 * prints the line the server sends back.
 *
 *     echo_client [address]        (default "127.0.0.1:8088")
 *
 * Exits 0 at the end of input, 1 when the server cannot be reached or
 * goes away.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "gonet.h"

/* A growing buffer of bytes received but not yet printed. */
struct inbox {
    char *data;
    size_t used, cap;
};

/* Reads from conn until inbox holds a whole line; returns its length
 * (without the '\n'), or -1 after printing why there is none. */
static ssize_t read_line(int64_t conn, struct inbox *in) {
    size_t scanned = 0;
    for (;;) {
        /* The inbox starts empty with no buffer: memchr must not be given
         * NULL, even with a length of 0. */
        char *nl = in->used > scanned
                       ? (char *)memchr(in->data + scanned, '\n', in->used - scanned)
                       : NULL;
        if (nl != NULL)
            return nl - in->data;
        scanned = in->used;
        if (in->used == in->cap) {
            size_t cap = in->cap ? in->cap * 2 : 4096;
            char *p = (char *)realloc(in->data, cap);
            if (p == NULL) {
                fprintf(stderr, "echo_client: out of memory\n");
                return -1;
            }
            in->data = p;
            in->cap = cap;
        }
        int64_t n = net_read(conn, in->data + in->used, in->cap - in->used);
        if (n == 0) {
            fprintf(stderr, "echo_client: the server closed the connection\n");
            return -1;
        }
        if (n < 0) {
            fprintf(stderr, "echo_client: %s\n", net_last_error());
            return -1;
        }
        in->used += (size_t)n;
    }
}

int main(int argc, char **argv) {
    const char *address = argc > 1 ? argv[1] : "127.0.0.1:8088";

    int64_t conn = net_dial("tcp", address);
    if (conn < 0) {
        fprintf(stderr, "echo_client: %s\n", net_last_error());
        return 1;
    }

    int status = 0;
    struct inbox in = {NULL, 0, 0};
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    while ((len = getline(&line, &line_cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        line[len] = '\n'; /* getline left room: it wrote a '\n' or a NUL here */
        if (net_write(conn, line, (size_t)len + 1) < 0) {
            fprintf(stderr, "echo_client: %s\n", net_last_error());
            status = 1;
            break;
        }
        ssize_t reply = read_line(conn, &in);
        if (reply < 0) {
            status = 1;
            break;
        }
        fwrite(in.data, 1, (size_t)reply + 1, stdout);
        fflush(stdout);
        in.used -= (size_t)reply + 1;
        memmove(in.data, in.data + reply + 1, in.used);
    }
    if (status == 0 && ferror(stdin)) {
        perror("echo_client: stdin");
        status = 1;
    }

    free(line);
    free(in.data);
    if (net_close(conn) < 0) {
        fprintf(stderr, "echo_client: %s\n", net_last_error());
        status = 1;
    }
    return status;
}
