default kill
allow read
allow read if fd == 0
allow write if fd == 1 && fd == 2
