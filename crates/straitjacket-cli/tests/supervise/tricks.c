/* Ways to reach a forbidden file through an allowed one. DIR holds `allowed/` (readable:
 * `allowed/file`), `w/` (writable) and `secret` (outside every rule). Each case prints
 * "NAME ERRNO" (0: it worked) and, where it read something, the content after it. Changes
 * that worked are undone, so the program can run bare and leave DIR as it was.
 * Usage: tricks DIR */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char path[4096], path2[4096];

static const char *at(const char *dir, const char *name) {
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static const char *at2(const char *dir, const char *name) {
    snprintf(path2, sizeof path2, "%s/%s", dir, name);
    return path2;
}

/* Reports an open: its errno, or 0 and what it read. */
static void report_open(const char *name, int fd) {
    if (fd < 0) {
        printf("%s %d\n", name, errno);
        return;
    }
    char got[64];
    ssize_t n = read(fd, got, sizeof got - 1);
    got[n > 0 ? n : 0] = 0;
    close(fd);
    printf("%s 0 %s\n", name, got);
}

static void report(const char *name, int rc) { printf("%s %d\n", name, rc < 0 ? errno : 0); }

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    const char *d = argv[1];
    char w[4096], allowed[4096], secret[4096];
    snprintf(w, sizeof w, "%s/w", d);
    snprintf(allowed, sizeof allowed, "%s/allowed", d);
    snprintf(secret, sizeof secret, "%s/secret", d);

    /* The control: the allowed file itself. */
    report_open("control", open(at(allowed, "file"), O_RDONLY));

    /* `..` from a dirfd of an allowed directory. */
    int dfd = open(allowed, O_RDONLY | O_DIRECTORY);
    report_open("dirfd_dotdot", openat(dfd, "../secret", O_RDONLY));
    /* `..` from the working directory. */
    if (chdir(allowed) == 0) report_open("cwd_dotdot", open("../secret", O_RDONLY));
    else printf("cwd_dotdot chdir-%d\n", errno);

    /* An O_PATH handle on the directory above the rule: refused (or, bare, it leads out). */
    int pfd = open(d, O_PATH | O_DIRECTORY);
    if (pfd < 0) report("opath_parent", pfd);
    else report_open("opath_parent", openat(pfd, "secret", O_RDONLY));
    /* An O_PATH handle on the allowed directory: it works as a dirfd, but not for `..`. */
    int afd = open(allowed, O_PATH | O_DIRECTORY);
    report_open("opath_allowed", openat(afd, "file", O_RDONLY));
    report_open("opath_dotdot", openat(afd, "../secret", O_RDONLY));

    /* Symlinks planted in the writable directory, pointing out. */
    report("symlink_abs_create", symlink(secret, at(w, "abs")));
    report_open("symlink_abs", open(at(w, "abs"), O_RDONLY));
    report("symlink_rel_create", symlink("../secret", at(w, "rel")));
    report_open("symlink_rel", open(at(w, "rel"), O_RDONLY));
    int wfd = open(w, O_RDONLY | O_DIRECTORY);
    report_open("symlink_rel_dirfd", openat(wfd, "rel", O_RDONLY));
    unlink(at(w, "abs"));
    unlink(at(w, "rel"));

    /* A hard link of the forbidden file into the writable directory. */
    int rc = link(secret, at(w, "hard"));
    report("link", rc);
    if (rc == 0) unlink(at(w, "hard"));
    /* The same through a planted symlink, followed. */
    symlink(secret, at(w, "abs2"));
    rc = linkat(AT_FDCWD, at(w, "abs2"), AT_FDCWD, at2(w, "hard2"), AT_SYMLINK_FOLLOW);
    report("linkat_follow", rc);
    if (rc == 0) unlink(at(w, "hard2"));
    unlink(at(w, "abs2"));

    /* Moving the forbidden file into the writable directory. */
    rc = rename(secret, at(w, "moved"));
    report("rename", rc);
    if (rc == 0) rename(at(w, "moved"), secret);

    /* procfs magic links. */
    snprintf(path2, sizeof path2, "/proc/self/root%s", secret);
    report_open("proc_root", open(path2, O_RDONLY));
    snprintf(path2, sizeof path2, "/proc/self/fd/%d/../secret", dfd);
    report_open("proc_fd_dir", open(path2, O_RDONLY));
    report_open("proc_cwd", open("/proc/self/cwd/../secret", O_RDONLY));
    /* Reopening a read-only fd of the allowed file for writing. */
    int rfd = open(at(allowed, "file"), O_RDONLY);
    snprintf(path2, sizeof path2, "/proc/self/fd/%d", rfd);
    int wr = open(path2, O_WRONLY | O_APPEND);
    report("proc_fd_reopen_write", wr);
    if (wr >= 0) close(wr);
    /* The same through /proc/thread-self. */
    snprintf(path2, sizeof path2, "/proc/thread-self/fd/%d", rfd);
    wr = open(path2, O_WRONLY | O_APPEND);
    report("thread_self_reopen_write", wr);
    if (wr >= 0) close(wr);
    return 0;
}
