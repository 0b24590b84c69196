/* Killing the supervisor: SIGKILL to the parent, then, if still alive a moment later, a call
 * the policy kills (under `run`, a notified call: with no supervisor to answer, it must fail,
 * never run). Unconfined, the program outlives its parent and the call runs. */
#include "escape.h"
#include <sched.h>
#include <signal.h>

int main(void) {
    pid_t pp = parent_pid();
    attempting("kill(getppid(), SIGKILL)");
    if (kill(pp, SIGKILL) < 0)
        contained("kill parent", errno);
    usleep(500 * 1000);
    printf("SURVIVED the parent\n");
    fflush(stdout);
    if (unshare(0) < 0)
        contained("unshare(0) after the parent died", errno);
    escaped("outlived the parent and ran a killed call");
}
