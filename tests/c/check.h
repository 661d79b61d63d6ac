/*
 * CHECK for the C test programs: counts a failed condition and reports it
 * with the calling thread's last gonet error, without stopping, so that one
 * run shows every failure. main returns non-zero when `failures` is not 0.
 */
#ifndef GONET_TEST_CHECK_H
#define GONET_TEST_CHECK_H

#include <gonet.h>
#include <stdio.h>

static int failures = 0;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n",   \
                    __FILE__, __LINE__, #cond, net_last_error());           \
            failures++;                                                     \
        }                                                                   \
    } while (0)

#endif
