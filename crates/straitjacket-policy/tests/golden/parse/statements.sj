arch x86_64 i386
arch
default
fs reed /usr
fs read
fs write /tmp,
limit mem 512M,, procs 64
timeout
allow
allow read,
allow @
