// PLACEHOLDER until tools/gen-syscall-tables writes this file.
use super::Arch;

static COMMON: &[(&str, i64)] = &[("EPERM", 1)];

pub fn constants(_arch: Arch) -> &'static [(&'static str, i64)] {
    COMMON
}
