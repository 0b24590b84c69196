allow read if
allow write if fd == 1
allow close if
