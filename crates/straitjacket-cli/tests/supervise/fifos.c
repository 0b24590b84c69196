/* Many notified calls blocked at once, each waiting for a later one: N threads open
 * DIR/fifoI for reading (each open waits in a supervisor's worker for its writer), then the
 * main thread opens each for writing. Unconfined it ends at once. Prints "done N", or the
 * errno of an open that failed.
 * Usage: fifos DIR N */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *dir;

static void *reader(void *arg) {
    char p[4096];
    snprintf(p, sizeof p, "%s/fifo%ld", dir, (long)arg);
    int fd = open(p, O_RDONLY);
    if (fd < 0) printf("reader %ld errno=%d\n", (long)arg, errno);
    else close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    dir = argv[1];
    int n = atoi(argv[2]);
    pthread_t t[256];
    if (n > 256) n = 256;
    for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, reader, (void *)i);
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    for (long i = 0; i < n; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/fifo%ld", dir, i);
        int fd = open(p, O_WRONLY);
        if (fd < 0) printf("writer %ld errno=%d\n", i, errno);
        else close(fd);
    }
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    printf("done %d\n", n);
    return 0;
}
