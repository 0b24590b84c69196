default allow
errno(EPERM) open
