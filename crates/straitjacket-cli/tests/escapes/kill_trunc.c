/* 32-bit argument truncation against a deny rule on a signed int: kill's `pid` is a pid_t,
 * so the kernel reads 0x1_0000_0001 as pid 1. A filter comparing all 64 bits against
 * `pid == 1` would let it through. Signal 0 only checks that pid 1 may be signalled. */
#include "escape.h"
#include <sys/syscall.h>

int main(void) {
    attempting("kill(0x100000001, 0)");
    if (syscall(SYS_kill, 0x100000001L, 0L) < 0)
        contained("kill(pid 1 with upper-half junk)", errno);
    escaped("signalled pid 1");
}
