/* ptrace of the parent (under `run`, the straitjacket supervisor), or of the process argv[1]
 * names (a sibling outside the sandbox): attach, then detach at once so an unconfined run
 * leaves the target as it was. */
#include "escape.h"
#include <sys/ptrace.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
    pid_t pp = argc > 1 ? atoi(argv[1]) : parent_pid();
    attempting("PTRACE_ATTACH");
    if (ptrace(PTRACE_ATTACH, pp, 0, 0) < 0)
        contained("PTRACE_ATTACH", errno);
    waitpid(pp, 0, __WALL);
    ptrace(PTRACE_DETACH, pp, 0, 0);
    escaped("attached to the target");
}
