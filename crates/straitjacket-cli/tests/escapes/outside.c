/* Reaching what lies outside the sandbox through calls no fs or net rule names: another
 * process (its resource limits, nice value, CPU affinity), the host's System V IPC, and
 * socket families the policy refuses. Usage:
 *   outside prlimit PID | setpriority PID | affinity PID   act on an outside process
 *   outside mkshm                                          (setup) a 0600 segment holding a secret; prints its id
 *   outside readshm ID                                     read that segment
 *   outside rmshm ID                                       (cleanup)
 *   outside vsock                                          create an AF_VSOCK socket */
#include "escape.h"
#include <sched.h>
#include <sys/ipc.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define SECRET "outside-secret"

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    const char *m = argv[1];
    int id = argc > 2 ? atoi(argv[2]) : 0;
    if (strcmp(m, "prlimit") == 0) {
        struct rlimit r = {1, 1};
        attempting("prlimit64(outside pid, RLIMIT_CPU, 1 s)");
        if (syscall(SYS_prlimit64, id, RLIMIT_CPU, &r, NULL) < 0)
            contained("prlimit64", errno);
        escaped("lowered an outside process's CPU limit");
    } else if (strcmp(m, "setpriority") == 0) {
        attempting("setpriority(PRIO_PROCESS, outside pid, 19)");
        if (setpriority(PRIO_PROCESS, id, 19) < 0)
            contained("setpriority", errno);
        escaped("re-niced an outside process");
    } else if (strcmp(m, "affinity") == 0) {
        cpu_set_t s;
        CPU_ZERO(&s);
        CPU_SET(0, &s);
        attempting("sched_setaffinity(outside pid, cpu 0)");
        if (sched_setaffinity(id, sizeof s, &s) < 0)
            contained("sched_setaffinity", errno);
        escaped("re-pinned an outside process");
    } else if (strcmp(m, "mkshm") == 0) {
        int s = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        if (s < 0)
            setup("shmget");
        char *p = shmat(s, NULL, 0);
        if (p == (void *)-1)
            setup("shmat");
        strcpy(p, SECRET);
        printf("%d\n", s);
        return 0;
    } else if (strcmp(m, "readshm") == 0) {
        attempting("shmat(outside segment)");
        char *p = shmat(id, NULL, SHM_RDONLY);
        if (p == (void *)-1)
            contained("shmat", errno);
        if (strcmp(p, SECRET) == 0)
            escaped("read an outside process's shared memory");
        contained("shmat: not the secret", 0);
    } else if (strcmp(m, "rmshm") == 0) {
        return shmctl(id, IPC_RMID, NULL) < 0;
    } else if (strcmp(m, "vsock") == 0) {
        attempting("socket(AF_VSOCK)");
        int s = socket(40 /* AF_VSOCK */, SOCK_STREAM, 0);
        if (s < 0)
            contained("socket(AF_VSOCK)", errno);
        escaped("created an AF_VSOCK socket");
    }
    return 2;
}
