allow openat if flags & O_ACCMODE O_RDONLY
allow openat if flags & O_CREAT & O_EXCL
allow read if fd = 0
allow read fd == 0
