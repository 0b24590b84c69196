/* x32 system call numbers: nr | 0x40000000 (__X32_SYSCALL_BIT). The x86_64 getuid (102) is
 * denied; on a kernel with CONFIG_X86_X32_ABI, 0x40000000|102 is getuid under the x32 ABI,
 * which reports AUDIT_ARCH_X86_64 too: only the number's bit 30 tells them apart. */
#include "escape.h"

int main(void) {
    attempting("x32 getuid (0x40000066)");
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(0x40000000L | 102) : "rcx", "r11", "memory");
    if (r >= 0)
        escaped("x32 getuid ran");
    contained("x32 getuid", (int)-r);
}
