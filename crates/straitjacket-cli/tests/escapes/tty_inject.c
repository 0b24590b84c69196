/* TIOCSTI / TIOCLINUX into the caller's terminal (fd 0): pushing "id\n" into the input queue
 * of the terminal the caller's shell reads runs a command outside the sandbox when the
 * program exits. argv[1] is "sti" or "linux" (TIOCLINUX subcode 2, set selection: only
 * virtual consoles implement it, a pty answers ENOTTY/EINVAL). */
#include "escape.h"
#include <sys/ioctl.h>

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    if (strcmp(argv[1], "sti") == 0) {
        char c = '#';
        attempting("ioctl(0, TIOCSTI)");
        if (ioctl(0, TIOCSTI, &c) == 0)
            escaped("TIOCSTI injected a byte into the caller's terminal");
        contained("TIOCSTI", errno);
    }
    char sel[1 + 5 * sizeof(short)] = {2}; /* TIOCL_SETSEL, a zero selection */
    attempting("ioctl(0, TIOCLINUX)");
    if (ioctl(0, TIOCLINUX, sel) == 0)
        escaped("TIOCLINUX set the console selection");
    contained("TIOCLINUX", errno);
}
