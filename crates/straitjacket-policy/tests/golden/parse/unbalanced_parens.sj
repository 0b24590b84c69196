allow read if (fd == 0 ||
    fd == 1
allow write if fd == 1)
errno(EPERM socket
allow ioctl if (request & 0xff00 == 0x5400
