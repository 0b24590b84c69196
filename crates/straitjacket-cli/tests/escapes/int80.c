/* i386 system calls through `int $0x80` from a 64-bit process. The x86_64 getuid is denied;
 * the i386 getuid32 (199) is the same call under another ABI. A filter that dispatched on the
 * number without checking the architecture would let it through. */
#include "escape.h"

int main(void) {
    attempting("i386 getuid32 via int $0x80");
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(199L) : "memory");
    if (r >= 0)
        escaped("i386 getuid32 ran");
    contained("i386 getuid32", (int)-r);
}
