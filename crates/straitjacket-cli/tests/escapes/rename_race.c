/* A rename racing the supervisor's walk of a path. The path W/a/b/c/d/../../secret names a
 * FIFO the program made in its write tree W (so the supervisor hands the open to a worker,
 * which walks it again), while another thread moves d up to W/d and back: the two `..` then
 * lead out of W, to the file `secret` beside it, which no rule allows. The supervisor must
 * judge where the walk really is, not where the names said it went.
 * Usage: rename_race W TRIES */
#include "escape.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

static char deep[4096], high[4096];
static atomic_int stop;

static void *renamer(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        rename(deep, high);
        rename(high, deep);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3)
        setup("usage: rename_race W TRIES");
    const char *w = argv[1];
    long tries = atol(argv[2]);
    char dir[4096], path[4096], fifo[4096];
    const char *levels[] = {"a", "a/b", "a/b/c", "a/b/c/d"};
    for (int i = 0; i < 4; i++) {
        snprintf(dir, sizeof dir, "%s/%s", w, levels[i]);
        if (mkdir(dir, 0755) && errno != EEXIST)
            setup("mkdir");
    }
    snprintf(deep, sizeof deep, "%s/a/b/c/d", w);
    snprintf(high, sizeof high, "%s/d", w);
    snprintf(path, sizeof path, "%s/a/b/c/d/../../secret", w);
    snprintf(fifo, sizeof fifo, "%s/a/b/secret", w);
    if (mkfifo(fifo, 0600) && errno != EEXIST)
        setup("mkfifo");
    pthread_t t;
    if (pthread_create(&t, NULL, renamer, NULL))
        setup("pthread_create");
    attempting("open through a directory moved up mid-walk");
    long refused = 0;
    for (long i = 0; i < tries && refused < 20; i++) {
        int fd = open(path, O_RDONLY | O_NONBLOCK);
        if (fd < 0) {
            refused += errno == EACCES;
            continue;
        }
        char buf[64];
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n > 0)
            escaped("read the file beside the write tree");
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    if (refused)
        contained("every open that the race led out of the write tree", EACCES);
    errno = 0;
    setup("the race was never won");
}
