/* straitjacket_guest.h — the C side of the strict-mode guest SDK (x86_64 Linux).
 *
 * A guest runs under seccomp strict mode: read, write, exit and rt_sigreturn only; any
 * other system call (including exit_group, which libc's exit() uses) kills it. Build
 * static, without libc:
 *
 *     gcc -O2 -static -nostdlib -nostartfiles -fno-stack-protector guest.c -o guest
 *     (or -static-pie -fPIE for a position-independent guest)
 *
 * and define `int sj_main(int argc, char **argv)` with SJ_ENTRY() once in the program.
 * The monitor protocol (fd 3, with `straitjacket strict --serve POLICY`) is described in
 * docs/strict-protocol.md; the constants below match the Rust SDK's `proto` module.
 */
#ifndef STRAITJACKET_GUEST_H
#define STRAITJACKET_GUEST_H

#include <stddef.h>
#include <stdint.h>

#define SJ_SYS_READ 0
#define SJ_SYS_WRITE 1
#define SJ_SYS_EXIT 60 /* not exit_group (231): strict mode kills that */

#define SJ_CONTROL_FD 3
#define SJ_VERSION 1
#define SJ_HEADER_LEN 12
#define SJ_OP_READ_FILE 1
#define SJ_OP_WRITE_OUTPUT 2
#define SJ_OP_TIME 3
#define SJ_OP_RANDOM 4
#define SJ_MAX_PATH 4096
#define SJ_MAX_WRITE 65536
#define SJ_MAX_RANDOM 4096
#define SJ_STATUS_OK 0
#define SJ_STATUS_DENIED 1
#define SJ_STATUS_NOT_FOUND 2
#define SJ_STATUS_TOO_LARGE 3
#define SJ_STATUS_IO_ERROR 4

static inline long sj_syscall3(long n, long a, long b, long c) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

/* Bytes read, 0 at end of file, or -errno. */
static inline long sj_read(int fd, void *buf, size_t n) { return sj_syscall3(SJ_SYS_READ, fd, (long)buf, (long)n); }
/* Bytes written or -errno. */
static inline long sj_write(int fd, const void *buf, size_t n) { return sj_syscall3(SJ_SYS_WRITE, fd, (long)buf, (long)n); }
static inline __attribute__((noreturn)) void sj_exit(int code) {
    sj_syscall3(SJ_SYS_EXIT, code, 0, 0);
    __builtin_unreachable();
}

static inline int sj_write_all(int fd, const void *buf, size_t n) {
    const char *p = (const char *)buf;
    while (n > 0) {
        long w = sj_write(fd, p, n);
        if (w == -4) continue; /* EINTR */
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static inline int sj_read_full(int fd, void *buf, size_t n) {
    char *p = (char *)buf;
    while (n > 0) {
        long r = sj_read(fd, p, n);
        if (r == -4) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static inline size_t sj_strlen(const char *s) {
    size_t n = 0;
    while (((const volatile char *)s)[n]) n++;
    return n;
}

/* Sends a request header for `op` with a payload of `len` bytes (the caller writes it). */
static inline int sj_request(uint8_t op, uint32_t len) {
    uint8_t h[SJ_HEADER_LEN] = {'S', 'J', 'R', 'Q', SJ_VERSION, op, 0, 0,
                                (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    return sj_write_all(SJ_CONTROL_FD, h, sizeof h);
}

/* Reads a response header: its status, or -1; *len gets the payload length. */
static inline int sj_response(uint32_t *len) {
    uint8_t h[SJ_HEADER_LEN];
    if (sj_read_full(SJ_CONTROL_FD, h, sizeof h) < 0) return -1;
    if (h[0] != 'S' || h[1] != 'J' || h[2] != 'R' || h[3] != 'S' || h[4] != SJ_VERSION) return -1;
    *len = (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
    return h[5];
}

/* Process entry: _start passes the initial stack pointer to sj_start_c. */
#define SJ_ENTRY()                                                                    \
    int sj_main(int argc, char **argv);                                               \
    __attribute__((used, noreturn)) void sj_start_c(long *sp) {                       \
        sj_exit(sj_main((int)sp[0], (char **)(sp + 1)));                              \
    }                                                                                 \
    __asm__(".globl _start\n_start:\n xor %ebp, %ebp\n mov %rsp, %rdi\n"              \
            " and $-16, %rsp\n call sj_start_c\n ud2\n");

#endif
