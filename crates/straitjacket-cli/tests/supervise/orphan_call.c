/* Killing the supervisor while a call waits on it. The program forks a grandchild (the direct
 * child dies of its parent-death signal with the supervisor; the grandchild does not) that
 * prints "ready PID", then opens FIFO (the supervisor's worker blocks in that open: nobody
 * writes). The test kills straitjacket meanwhile. The grandchild then tries FORBIDDEN and
 * ALLOWED and prints every errno (0: it succeeded, and what it read).
 * Usage: orphan_call FIFO FORBIDDEN ALLOWED */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int try_open(const char *path, char *got, size_t size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return errno;
    ssize_t n = read(fd, got, size - 1);
    got[n > 0 ? n : 0] = 0;
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t pid = fork();
    if (pid < 0) return 3;
    if (pid > 0) {
        /* The direct child: wait for the supervisor's death (and so our own). */
        for (;;) pause();
    }
    printf("ready %d\n", (int)getpid());
    char got[64] = "", got2[64] = "";
    int pending = 0;
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) pending = errno; else close(fd);
    int forbidden = try_open(argv[2], got, sizeof got);
    int allowed = try_open(argv[3], got2, sizeof got2);
    printf("pending=%d forbidden=%d allowed=%d content=%s%s\n", pending, forbidden, allowed,
           got, got2);
    return 0;
}
