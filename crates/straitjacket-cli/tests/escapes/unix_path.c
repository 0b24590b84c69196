/* A unix socket named by path, outside the fs rules (a stand-in for ssh-agent, the D-Bus bus,
 * docker.sock, /dev/log): reaching it is reaching a file. Usage:
 *   unix_path serve PATH     (setup, outside) a stream listener and a datagram socket at
 *                            PATH and PATH.d; answers "hi" to each connect, until killed
 *   unix_path connect PATH   connect to the listener and read its answer
 *   unix_path sendto PATH    a datagram to PATH.d with sendto
 *   unix_path sendmsg PATH   the same with sendmsg
 *   unix_path sendmmsg PATH  the same with sendmmsg
 *   unix_path swap PATH HOST replace the socket at PATH (the one a rule allows) with a
 *                            symlink to HOST's socket, then connect to PATH */
#include "escape.h"
#include <sys/socket.h>
#include <sys/un.h>

static struct sockaddr_un at(const char *path, const char *suffix) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s%s", path, suffix);
    return a;
}

int main(int argc, char **argv) {
    if (argc < 3)
        return 2;
    const char *m = argv[1], *path = argv[2];
    if (strcmp(m, "serve") == 0) {
        struct sockaddr_un s = at(path, ""), d = at(path, ".d");
        int l = socket(AF_UNIX, SOCK_STREAM, 0), g = socket(AF_UNIX, SOCK_DGRAM, 0);
        if (bind(l, (void *)&s, sizeof s) || listen(l, 8) || bind(g, (void *)&d, sizeof d))
            setup("serve");
        printf("ready\n");
        fflush(stdout);
        for (;;) {
            int c = accept(l, 0, 0);
            if (c >= 0) {
                write(c, "hi", 2);
                close(c);
            }
        }
    }
    if (strcmp(m, "swap") == 0) {
        if (argc < 4 || unlink(path) < 0 || symlink(argv[3], path) < 0)
            setup("swap");
        m = "connect";
    }
    int dgram = strcmp(m, "connect") != 0;
    int s = socket(AF_UNIX, dgram ? SOCK_DGRAM : SOCK_STREAM, 0);
    struct sockaddr_un a = at(path, dgram ? ".d" : "");
    char msg[] = "outside";
    if (!dgram) {
        attempting("connect(unix path outside the rules)");
        if (connect(s, (void *)&a, sizeof a) < 0)
            contained("connect", errno);
        char b[3] = {0};
        if (read(s, b, 2) == 2 && strcmp(b, "hi") == 0)
            escaped("talked to a host socket outside the rules");
        contained("connect: no answer", 0);
    }
    struct iovec iov = {msg, sizeof msg};
    struct msghdr h = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov, .msg_iovlen = 1};
    long r;
    if (strcmp(m, "sendto") == 0) {
        attempting("sendto(unix path outside the rules)");
        r = sendto(s, msg, sizeof msg, 0, (void *)&a, sizeof a);
    } else if (strcmp(m, "sendmsg") == 0) {
        attempting("sendmsg(unix path outside the rules)");
        r = sendmsg(s, &h, 0);
    } else {
        struct mmsghdr mm[2] = {{.msg_hdr = h}, {.msg_hdr = h}};
        attempting("sendmmsg(unix path outside the rules)");
        r = sendmmsg(s, mm, 2, 0);
        if (r == 2 && (mm[0].msg_len != sizeof msg || mm[1].msg_len != sizeof msg))
            setup("sendmmsg: msg_len not written");
    }
    if (r < 0)
        contained(m, errno);
    escaped("sent a datagram to a host socket outside the rules");
}
