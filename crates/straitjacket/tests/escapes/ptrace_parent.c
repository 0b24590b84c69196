/* ptrace of the parent (under `run`, the straitjacket supervisor): attach, then detach at
 * once so an unconfined run leaves the parent as it was. */
#include "escape.h"
#include <sys/ptrace.h>
#include <sys/wait.h>

int main(void) {
    pid_t pp = getppid();
    attempting("PTRACE_ATTACH to the parent");
    if (ptrace(PTRACE_ATTACH, pp, 0, 0) < 0)
        contained("PTRACE_ATTACH", errno);
    waitpid(pp, 0, __WALL);
    ptrace(PTRACE_DETACH, pp, 0, 0);
    escaped("attached to the parent");
}
