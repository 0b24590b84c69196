default kill
allow read if (fd == 0
