{ "sys_read", "fd == 0" },
{ "sys_write", "fd ==" },
{ "sys_close", "fd == 1 fd" },
{ "sys_open", "" },
{ "sys_mmap", "prot & $" },
{ "sys_ioctl" "fd == 1" },
{ "sys_sigreturn", "1" }
{ "sys_exit", "(fd == 1" },
