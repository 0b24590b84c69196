/* TOCTOU against the supervisor: one thread flips a path buffer between an allowed file and
 * a forbidden one as fast as it can, while three threads open() the buffer in a loop and read
 * what they got. Prints how many opens succeeded and how often each content was read.
 * Usage: toctou GOOD BAD SECONDS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char buf[4096];
static const char *good, *bad;
static size_t glen, blen;
static atomic_int stop;
static atomic_long opened, secret, allowed, refused;

static void *flipper(void *a) {
    (void)a;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        memcpy(buf, bad, blen + 1);
        memcpy(buf, good, glen + 1);
    }
    return NULL;
}

static void *opener(void *a) {
    (void)a;
    char got[64];
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        int fd = open(buf, O_RDONLY);
        if (fd < 0) { atomic_fetch_add(&refused, 1); continue; }
        atomic_fetch_add(&opened, 1);
        ssize_t n = read(fd, got, sizeof got - 1);
        close(fd);
        if (n <= 0) continue;
        got[n] = 0;
        if (strstr(got, "SECRET")) atomic_fetch_add(&secret, 1);
        else if (strstr(got, "ALLOWED")) atomic_fetch_add(&allowed, 1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: toctou GOOD BAD SECONDS\n"); return 2; }
    good = argv[1]; bad = argv[2];
    glen = strlen(good); blen = strlen(bad);
    memcpy(buf, good, glen + 1);
    pthread_t t[4];
    pthread_create(&t[0], NULL, flipper, NULL);
    for (int i = 1; i < 4; i++) pthread_create(&t[i], NULL, opener, NULL);
    struct timespec ts = { atoi(argv[3]), 0 };
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    printf("opened=%ld allowed=%ld secret=%ld refused=%ld\n", opened, allowed, secret, refused);
    return 0;
}
