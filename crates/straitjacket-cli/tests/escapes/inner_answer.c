/* Dodging a `kill` rule: under `run`, kill rules are enforced by the supervisor (the filter
 * returns USER_NOTIF). The program installs its own filter that answers unshare first:
 * argv[1] "errno" with ERRNO(EAGAIN), which outranks USER_NOTIF; "notif" with USER_NOTIF and
 * no listener, which ties and goes to the newest filter, answering ENOSYS. Either way the
 * program survives the rule; what must hold is that unshare still does not run. */
#include "escape.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    unsigned answer = strcmp(argv[1], "errno") == 0 ? SECCOMP_RET_ERRNO | EAGAIN : SECCOMP_RET_USER_NOTIF;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, answer),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {4, f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        setup("no_new_privs");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
        setup("install the answering filter");
    attempting("unshare(0) under a kill rule, answered by our own filter");
    if (unshare(0) < 0)
        contained("unshare(0)", errno);
    escaped("unshare ran");
}
