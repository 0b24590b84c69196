# A misspelt action, a misspelt keyword, and a word that is close to nothing.
default kill-process
alow read
defualt allow
frobnicate write
kill_process ptrace
