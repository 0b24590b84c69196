default kill-process
allow reed
allow write if fd == "one"
