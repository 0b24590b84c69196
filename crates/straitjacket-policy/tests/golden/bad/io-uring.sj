default allow
allow io_uring_setup
