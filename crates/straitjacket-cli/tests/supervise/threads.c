/* Many supervised calls in flight at once: THREADS threads each make ITERS rounds of
 * open+read+close and stat of the files DIR/f0..f7 (file fI holds "file-I"), checking every
 * answer. Prints "ok=N bad=M" (bad: a call failed or returned another file's content).
 * Usage: threads DIR THREADS ITERS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;
static int iters;
static atomic_long ok, bad;

static void *worker(void *arg) {
    long me = (long)arg;
    char path[4096], want[32], got[32];
    for (int j = 0; j < iters; j++) {
        int k = (int)((me + j) % 8);
        snprintf(path, sizeof path, "%s/f%d", dir, k);
        snprintf(want, sizeof want, "file-%d", k);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, got, sizeof got - 1);
        if (fd >= 0) close(fd);
        if (n == (ssize_t)strlen(want) && memcmp(got, want, n) == 0) ok++;
        else {
            if (bad++ < 5) fprintf(stderr, "open %s: fd=%d n=%zd errno=%d\n", path, fd, n, errno);
        }
        struct stat st;
        if (stat(path, &st) == 0 && st.st_size == (off_t)strlen(want)) ok++;
        else {
            if (bad++ < 5) fprintf(stderr, "stat %s: errno=%d\n", path, errno);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    dir = argv[1];
    int n = atoi(argv[2]);
    iters = atoi(argv[3]);
    pthread_t t[64];
    if (n > 64) n = 64;
    for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    printf("ok=%ld bad=%ld\n", (long)ok, (long)bad);
    return bad != 0;
}
