allow read if fd == $1
allow write; allow close if fd == 1 ^ 2
allow mmap if prot & PROT_EXEC €
@basic-io
