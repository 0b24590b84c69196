allow read if fd ==
allow write if fd == 1 ||
allow mmap if prot & PROT_EXEC == ~
