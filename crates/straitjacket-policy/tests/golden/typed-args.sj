# Width and signedness from the argument types.
default errno(EPERM)
allow write if fd == 1                       # unsigned int: one 32-bit compare
allow lseek if offset < 0                    # off_t: signed 64-bit
allow kill if pid < 0                        # pid_t: signed 32-bit
allow openat if dfd == AT_FDCWD && !(flags & O_CREAT)
allow read if count <= 0x1_0000_0000         # size_t: unsigned 64-bit
allow fcntl if cmd in F_GETFD | F_SETFD | F_GETFL
allow close if arg0 != 0xffffffffffffffff    # raw register, all 64 bits
