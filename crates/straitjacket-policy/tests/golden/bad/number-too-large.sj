default kill
allow read if fd == 18446744073709551616
