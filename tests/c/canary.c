/*
 * Deliberate faults, one per checker, so that the sanitizer tests show the
 * checkers are really on: each run must be caught.
 *     canary overflow   reads past the end of a heap block (ASan, valgrind)
 *     canary race       two threads increment one counter unlocked (TSan)
 *     canary leak       loses the only pointer to a block (LSan, valgrind)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int counter;

static void *bump(void *arg) {
    (void)arg;
    for (int i = 0; i < 100000; i++)
        counter = counter + 1;
    return NULL;
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "overflow") == 0) {
        char *p = calloc(8, 1);
        int c = p[strlen(what)]; /* "overflow" has 8 letters: one past */
        free(p);
        return c == 'x';
    }
    if (strcmp(what, "race") == 0) {
        pthread_t a, b;
        pthread_create(&a, NULL, bump, NULL);
        pthread_create(&b, NULL, bump, NULL);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        return 0;
    }
    if (strcmp(what, "leak") == 0) {
        void *volatile p = malloc(64);
        p = NULL;
        (void)p;
        return 0;
    }
    fprintf(stderr, "usage: canary overflow|race|leak\n");
    return 2;
}
