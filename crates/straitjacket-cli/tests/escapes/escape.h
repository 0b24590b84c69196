/* Shared by the escape cases: each program tries ONE way out and says how it went.
 *   exit 0, "ESCAPED: ..."              it got out
 *   exit 1, "CONTAINED: ... errno=N"   the attempt failed with errno N
 *   exit 2, "SETUP: ..."               the case could not be set up (a test failure)
 * A case the filter kills prints nothing after its attempt (status 159 under straitjacket). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void escaped(const char *what) {
    printf("ESCAPED: %s\n", what);
    fflush(stdout);
    exit(0);
}

static void contained(const char *what, int err) {
    printf("CONTAINED: %s errno=%d\n", what, err);
    fflush(stdout);
    exit(1);
}

/* The parent's pid, the target of the cases that attack whoever started them. In a pid
 * namespace of its own the program's parent lies outside and getppid() answers 0: there is
 * no pid to name it by, so the attack is contained before it starts (ESRCH). */
static pid_t parent_pid(void) {
    pid_t pp = getppid();
    if (pp == 0)
        contained("getppid: the parent is outside this pid namespace", ESRCH);
    return pp;
}

static void setup(const char *what) {
    printf("SETUP: %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(2);
}

/* Marks that the program got as far as its attempt (so a kill is not mistaken for a crash). */
static void attempting(const char *what) {
    printf("TRYING: %s\n", what);
    fflush(stdout);
}
