/* 32-bit argument truncation: ioctl's `cmd` is an unsigned int, so the kernel reads only its
 * low 32 bits. TIOCSTI (0x5412) with junk in the upper half (0x1_0000_5412) is still TIOCSTI
 * to the kernel; a filter comparing all 64 bits against `cmd != TIOCSTI` would allow it.
 * The program makes a pty its own controlling terminal, so TIOCSTI works unconfined for any
 * user, and checks the master really received the injected byte. */
#include "escape.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <poll.h>

int main(void) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m))
        setup("posix_openpt");
    setsid(); /* fails harmlessly when already a session leader (under `run`) */
    int s = open(ptsname(m), O_RDWR);
    if (s < 0)
        setup("open slave");
    if (ioctl(s, TIOCSCTTY, 0) < 0)
        setup("TIOCSCTTY");
    char c = 'Z';
    attempting("ioctl(tty, 0x100005412, \"Z\")");
    long r = syscall(SYS_ioctl, (long)s, 0x100005412L, (long)&c);
    if (r < 0)
        contained("TIOCSTI with upper-half junk", errno);
    /* The injected byte is echoed on the master. */
    struct pollfd p = {.fd = m, .events = POLLIN};
    char buf[16] = {0};
    if (poll(&p, 1, 1000) == 1 && read(m, buf, sizeof buf) > 0 && memchr(buf, 'Z', sizeof buf))
        escaped("TIOCSTI with upper-half junk injected a byte");
    escaped("TIOCSTI with upper-half junk returned 0");
}
