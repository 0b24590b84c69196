allow read if 5 == fd
allow read if (fd == 1) == 2
allow read if fd == 1 && && count > 0
allow read if !
allow read if fd == 1 fd == 2
allow read if fd in
