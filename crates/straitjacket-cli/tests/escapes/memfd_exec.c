/* A program that exec rules would refuse, run from an anonymous file: copy PROG into a
 * memfd and execveat(fd, "", AT_EMPTY_PATH). Landlock does not judge the exec of such an
 * internal file. Usage: memfd_exec PROG (PROG prints "RAN" and exits 0 when it runs). */
#include "escape.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    int src = open(argv[1], O_RDONLY);
    if (src < 0)
        setup("open PROG");
    attempting("memfd_create + execveat(AT_EMPTY_PATH)");
    int fd = memfd_create("payload", MFD_CLOEXEC);
    if (fd < 0)
        contained("memfd_create", errno);
    char buf[65536];
    ssize_t n;
    while ((n = read(src, buf, sizeof buf)) > 0)
        if (write(fd, buf, n) != n)
            setup("write memfd");
    char *args[] = {"payload", NULL}, *env[] = {NULL};
    syscall(SYS_execveat, fd, "", args, env, AT_EMPTY_PATH);
    contained("execveat", errno);
}
