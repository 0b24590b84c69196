/* Calls the supervisor does not carry out, which must not run in the kernel either while its
 * rules are in force. A file outside the `fs` rules, reached by:
 *   stat64 PATH        the i386 ABI's own stat (195) through `int $0x80`, under a policy
 *                      that admits the i386 ABI;
 *   truncate64 PATH    the i386 ABI's own truncate (193), the same way: a write;
 *   file_getattr PATH  the path form of FS_IOC_FSGETXATTR (Linux 6.17, x86_64 468).
 * Any of them, let through by the filter, would reach a file around every path check. And an
 * address outside the `net` rules, reached by:
 *   socketcall_connect PORT  the i386 ABI's multiplexed socket call (102, SYS_CONNECT) to
 *                            127.0.0.1:PORT, on a UDP socket made by the 64-bit socket()
 *                            (UDP: Landlock restricts TCP ports only, so nothing else would
 *                            stop it). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "escape.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* A copy of `path` below 4 GiB (int $0x80 passes 32-bit registers), with a page after it for a
 * result buffer. */
static char *low_copy(const char *path) {
    char *low = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                     -1, 0);
    if (low == MAP_FAILED)
        setup("mmap MAP_32BIT");
    strncpy(low, path, 4000);
    return low;
}

int main(int argc, char **argv) {
    if (argc != 3)
        setup("usage: abi_calls stat64|truncate64|file_getattr PATH | socketcall_connect PORT");
    if (strcmp(argv[1], "stat64") == 0) {
        char *low = low_copy(argv[2]);
        attempting("i386 stat64 via int $0x80");
        long r;
        __asm__ volatile("int $0x80"
                         : "=a"(r)
                         : "a"(195L), "b"((long)low), "c"((long)(low + 4096))
                         : "memory");
        if (r >= 0)
            escaped("i386 stat64 read the file's metadata");
        contained("i386 stat64", (int)-r);
    }
    if (strcmp(argv[1], "truncate64") == 0) {
        char *low = low_copy(argv[2]);
        attempting("i386 truncate64 via int $0x80");
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(193L), "b"((long)low), "c"(0L), "d"(0L) : "memory");
        if (r >= 0)
            escaped("i386 truncate64 emptied the file");
        contained("i386 truncate64", (int)-r);
    }
    if (strcmp(argv[1], "socketcall_connect") == 0) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0)
            setup("socket");
        unsigned int *low = (unsigned int *)low_copy("");
        struct sockaddr_in *sin = (struct sockaddr_in *)(low + 16);
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)atoi(argv[2]));
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        low[0] = (unsigned int)fd;
        low[1] = (unsigned int)(unsigned long)sin;
        low[2] = sizeof(*sin);
        attempting("i386 socketcall(SYS_CONNECT) via int $0x80");
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(102L), "b"(3L), "c"((long)low) : "memory");
        if (r >= 0)
            escaped("i386 socketcall connected");
        contained("i386 socketcall", (int)-r);
    }
    if (strcmp(argv[1], "file_getattr") == 0) {
        unsigned char attr[64] = {0};
        attempting("file_getattr");
        long r = syscall(468, AT_FDCWD, argv[2], attr, (size_t)24, 0);
        if (r >= 0)
            escaped("file_getattr read the file's attributes");
        contained("file_getattr", errno);
    }
    setup("unknown case");
}
