default kill
allow write if fd == -1
