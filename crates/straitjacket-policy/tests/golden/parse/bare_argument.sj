allow read if fd
allow write if fd && count < 10
allow close if (fd)
