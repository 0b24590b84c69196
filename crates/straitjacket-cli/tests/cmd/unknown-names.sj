default kill-process
allow reed
allow write if fdd == 1
allow read if fd == 0x1ffffffff
