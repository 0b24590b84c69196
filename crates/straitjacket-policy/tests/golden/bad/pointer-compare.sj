default kill
allow openat if filename == 0x1000
