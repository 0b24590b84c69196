/* The umask is shared by the threads of a process: one thread switches it between 022 and
 * 077 while another creates files in DIR in a loop and checks each file's mode against the
 * mask in force for the whole of its open (files made while it changed are not counted).
 * Prints "checked=N bad=M".
 * Usage: umask_race DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static atomic_int expect = 022, stop, gen;

static void *creator(void *arg) {
    (void)arg;
    long n = 0, bad = 0, checked = 0;
    char p[4096];
    while (!stop) {
        int g1 = gen, e = expect;
        snprintf(p, sizeof p, "%s/f%ld", dir, n++);
        int fd = open(p, O_CREAT | O_WRONLY | O_EXCL, 0666);
        int g2 = gen;
        if (fd < 0) {
            perror("open");
            bad++;
            continue;
        }
        struct stat st;
        fstat(fd, &st);
        close(fd);
        unlink(p);
        if (g1 != g2 || (g1 & 1)) continue; /* the mask changed meanwhile */
        checked++;
        if ((st.st_mode & 0777) != (0666 & ~e) && bad++ < 3)
            printf("mode %o, want %o\n", st.st_mode & 0777, 0666 & ~e);
    }
    printf("checked=%ld bad=%ld\n", checked, bad);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    dir = argv[1];
    umask(022);
    pthread_t t;
    pthread_create(&t, NULL, creator, NULL);
    for (int i = 0; i < 150; i++) {
        int next = (i & 1) ? 022 : 077;
        gen++; /* odd: changing */
        umask(next);
        expect = next;
        gen++; /* even: settled */
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    stop = 1;
    pthread_join(t, NULL);
    return 0;
}
