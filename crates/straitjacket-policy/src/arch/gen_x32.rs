// PLACEHOLDER until tools/gen-syscall-tables writes this file.
use super::{ArgDef, SyscallDef};

pub static SYSCALLS: &[SyscallDef] = &[
    SyscallDef {
        name: "read",
        nr: 0x4000_0000,
        args: &[
            ArgDef {
                name: "fd",
                c_type: "unsigned int",
            },
            ArgDef {
                name: "buf",
                c_type: "char *",
            },
            ArgDef {
                name: "count",
                c_type: "size_t",
            },
        ],
    },
    SyscallDef {
        name: "write",
        nr: 0x4000_0001,
        args: &[
            ArgDef {
                name: "fd",
                c_type: "unsigned int",
            },
            ArgDef {
                name: "buf",
                c_type: "const char *",
            },
            ArgDef {
                name: "count",
                c_type: "size_t",
            },
        ],
    },
];
