/* clone3 with CLONE_NEWUSER when clone's flags are restricted: clone3 passes its flags in a
 * struct behind a pointer, which a filter cannot read, so it must answer ENOSYS (libc then
 * falls back to clone, whose flags the filter sees). */
#include "escape.h"
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int main(void) {
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_NEWUSER;
    a.exit_signal = SIGCHLD;
    attempting("clone3(CLONE_NEWUSER)");
    long pid = syscall(SYS_clone3, &a, sizeof a);
    if (pid == 0)
        _exit(0);
    if (pid < 0)
        contained("clone3(CLONE_NEWUSER)", errno);
    waitpid((pid_t)pid, 0, 0);
    escaped("clone3 made a child in a new user namespace");
}
