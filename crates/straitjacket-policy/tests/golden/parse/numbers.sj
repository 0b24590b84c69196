allow read if fd == 18446744073709551616
allow read if fd == 0x1_0000_0000_0000_0000
allow read if fd == 09
allow read if fd == 0b102
allow read if fd == 0x
allow read if count > 10k
