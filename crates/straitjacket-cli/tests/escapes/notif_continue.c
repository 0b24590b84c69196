/* A user-notification trick from inside: the program installs its own filter that sends
 * unshare to a listener it holds, and a second thread answers CONTINUE, hoping to override
 * the outer filter's EPERM. An outer ERRNO takes precedence over an inner USER_NOTIF
 * (kernel/seccomp.c: the lowest action value wins), so the notification never happens. */
#include "escape.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static int listener;

static void *answer(void *arg) {
    (void)arg;
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    memset(&req, 0, sizeof req);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
        return 0;
    memset(&resp, 0, sizeof resp);
    resp.id = req.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    return 0;
}

int main(void) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {4, f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        setup("no_new_privs");
    listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (listener < 0) /* EBUSY: a listener already exists up the chain (the supervisor's) */
        contained("install a filter with a listener", errno);
    pthread_t t;
    if (pthread_create(&t, 0, answer, 0))
        setup("pthread_create");
    attempting("unshare(0), answered CONTINUE by our own listener");
    if (unshare(0) < 0)
        contained("unshare(0)", errno);
    escaped("unshare ran");
}
