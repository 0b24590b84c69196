/* Writing into another process's memory: the parent (under `run`, the supervisor that
 * decides notified calls), or the process argv[2] names (a sibling: another process of the
 * same user, outside the sandbox). argv[1]: "procmem" opens /proc/PID/mem for writing and
 * writes a byte back over itself; "pvm" does the same with process_vm_readv/writev. The
 * address is the start of the target's first writable private mapping, from
 * /proc/PID/maps. */
#include "escape.h"
#include <fcntl.h>
#include <sys/uio.h>

static unsigned long writable_addr(pid_t pp) {
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", pp);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0x10000; /* unreadable maps: the attempt itself will say why */
    unsigned long lo, hi;
    char perms[8];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && strcmp(perms, "rw-p") == 0) {
            fclose(f);
            return lo;
        }
    fclose(f);
    return 0x10000;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    pid_t pp = argc > 2 ? atoi(argv[2]) : parent_pid();
    char b;
    if (strcmp(argv[1], "procmem") == 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/mem", pp);
        attempting("open /proc/PID/mem O_RDWR");
        int fd = open(path, O_RDWR);
        if (fd < 0)
            contained("open /proc/PID/mem", errno);
        unsigned long addr = writable_addr(pp);
        if (pread(fd, &b, 1, (off_t)addr) != 1)
            contained("pread /proc/PID/mem", errno);
        if (pwrite(fd, &b, 1, (off_t)addr) != 1)
            contained("pwrite /proc/PID/mem", errno);
        escaped("wrote into another process's memory through /proc/PID/mem");
    }
    struct iovec l = {&b, 1}, r = {(void *)writable_addr(pp), 1};
    attempting("process_vm_readv/process_vm_writev");
    if (process_vm_readv(pp, &l, 1, &r, 1, 0) != 1)
        contained("process_vm_readv", errno);
    if (process_vm_writev(pp, &l, 1, &r, 1, 0) != 1)
        contained("process_vm_writev", errno);
    escaped("wrote into another process's memory with process_vm_writev");
}
