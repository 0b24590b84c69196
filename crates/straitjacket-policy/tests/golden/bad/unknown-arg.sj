default kill
allow read if fdd == 0
