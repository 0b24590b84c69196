/* A notified call that waits: open(FIFO, O_RDONLY), which the supervisor's worker carries out
 * and which blocks until a writer comes.
 * - "kill FIFO": prints "ready PID" and waits in the open (the test kills it there).
 * - "alarm FIFO" / "alarm-restart FIFO": SIGALRM (handler without / with SA_RESTART) arrives a
 *   second into the open; a second thread, SIGALRM blocked, opens the FIFO for writing at 1.5 s
 *   so the open can end either way. Prints "open=FD errno=E alarms=N" and exits 0.
 * Usage: fifo_wait MODE FIFO */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;
static const char *fifo;

static void on_alarm(int sig) { (void)sig; alarms++; }

static void *writer(void *arg) {
    (void)arg;
    struct timespec ts = {1, 500000000};
    nanosleep(&ts, NULL);
    /* Non-blocking: a reader waiting in its open (the supervisor's worker) is met; with none
     * the open fails at once (ENXIO) instead of waiting forever. */
    int fd = open(fifo, O_WRONLY | O_NONBLOCK);
    if (fd >= 0) close(fd);
    else fprintf(stderr, "writer: errno=%d\n", errno);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    fifo = argv[2];
    if (strcmp(argv[1], "kill") == 0) {
        printf("ready %d\n", (int)getpid());
        int fd = open(fifo, O_RDONLY);
        printf("opened fd=%d errno=%d\n", fd, fd < 0 ? errno : 0);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = strcmp(argv[1], "alarm-restart") == 0 ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_t t;
    pthread_create(&t, NULL, writer, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    alarm(1);
    int fd = open(fifo, O_RDONLY);
    int e = fd < 0 ? errno : 0;
    pthread_join(t, NULL);
    /* The handler has run by now whichever way the open ended. */
    printf("open=%d errno=%d alarms=%d\n", fd, e, (int)alarms);
    return 0;
}
