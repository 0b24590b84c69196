/* One thing, four ways: open, openat, openat2 and creat all open a file. The program opens
 * argv[1] (read-only; creat on argv[2]) through each and reports which got through, as
 * "open=OK openat=1 ..." (OK or the errno). ESCAPED if any got through. */
#include "escape.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

static int any;

static void report(const char *name, long r) {
    if (r >= 0) {
        printf("%s=OK ", name);
        any = 1;
    } else {
        printf("%s=%d ", name, errno);
    }
}

int main(int argc, char **argv) {
    if (argc < 3)
        return 2;
    struct open_how how = {.flags = O_RDONLY};
    report("open", syscall(SYS_open, argv[1], O_RDONLY));
    report("openat", syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY));
    report("openat2", syscall(SYS_openat2, AT_FDCWD, argv[1], &how, sizeof how));
    report("creat", syscall(SYS_creat, argv[2], 0600));
    printf("\n");
    if (any)
        escaped("the file was opened");
    contained("every alias", EPERM);
}
