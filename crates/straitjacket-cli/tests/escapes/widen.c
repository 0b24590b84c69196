/* A second filter installed by the program, allowing everything, then a call the outer
 * policy denies (unshare(0): does nothing, but the default preset answers EPERM). The kernel
 * runs every filter and takes the most restrictive answer, so the new filter cannot widen. */
#include "escape.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

int main(void) {
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog prog = {1, allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        setup("no_new_privs");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
        setup("install the allow-all filter");
    attempting("unshare(0) under an allow-all filter of our own");
    if (unshare(0) < 0)
        contained("unshare(0)", errno);
    escaped("unshare ran");
}
