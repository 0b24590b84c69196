# seccomp's original strict mode (mode 1) as a filter: read, write, exit and sigreturn.
# Anything else kills the process. For pure computations over inherited descriptors, usually
# statically linked: a dynamically linked program cannot even load its libraries.
default kill-process
allow read, write, exit, rt_sigreturn
