//! Constant expressions and actions: values as the argument's type reads them.
//!
//! A constant is evaluated exactly (in i128), `~` and `|` work on the bit pattern of the
//! argument's width, and [`fit`] refuses a value the argument cannot hold (`fd == -1` for
//! `unsigned int fd`) before reducing it to that width's bit pattern.

use crate::action::{Action, MAX_ERRNO};
use crate::arch::{Arch, ArgKind, Width};
use crate::diag::{suggest, Diagnostic, Span};
use crate::syntax::ast::{self, ConstExpr};

const MAX_DEPTH: usize = 256;

/// Evaluates a constant expression for an argument of `width` on `arch`.
pub fn eval_const(e: &ConstExpr, arch: Arch, width: Width) -> Result<i128, Diagnostic> {
    eval(e, arch, width, 0)
}

fn pattern(v: i128, width: Width) -> i128 {
    v.rem_euclid(1i128 << width.bits())
}

fn eval(e: &ConstExpr, arch: Arch, width: Width, depth: usize) -> Result<i128, Diagnostic> {
    if depth > MAX_DEPTH {
        return Err(Diagnostic::error(
            e.span(),
            "constant expression nests too deeply",
        ));
    }
    Ok(match e {
        ConstExpr::Num(n, _) => i128::from(*n),
        ConstExpr::Null(_) => 0,
        ConstExpr::Name(id) => match arch.constant(&id.name) {
            Some(v) => i128::from(v),
            None => {
                let mut d = Diagnostic::error(id.span, format!("unknown constant `{}`", id.name));
                if let Some(s) = suggest(&id.name, arch.constants().iter().map(|(n, _)| *n)) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                return Err(d);
            }
        },
        ConstExpr::Neg(x, _) => -eval(x, arch, width, depth + 1)?,
        ConstExpr::BitNot(x, _) => {
            pattern(eval(x, arch, width, depth + 1)?, width) ^ (width.mask() as i128)
        }
        ConstExpr::BitOr(xs, _) => {
            let mut acc = 0i128;
            for x in xs {
                acc |= pattern(eval(x, arch, width, depth + 1)?, width);
            }
            acc
        }
    })
}

/// Checks that `v` fits an argument of `kind` and returns its bit pattern at that width.
/// Masks (`as_mask`) may be written signed or unsigned; values must fit the type's range,
/// except that a signed type also takes its unsigned bit pattern (`0xffffff9c` for an `int`).
pub fn fit(
    v: i128,
    kind: ArgKind,
    as_mask: bool,
    span: Span,
    what: &str,
) -> Result<u64, Diagnostic> {
    let bits = kind.width.bits();
    let umax = (1i128 << bits) - 1;
    let smin = -(1i128 << (bits - 1));
    let min = if kind.signed || as_mask { smin } else { 0 };
    if v < min || v > umax {
        let range = if kind.signed {
            format!("{smin} to {umax}")
        } else {
            format!("0 to {umax}")
        };
        let mut d = Diagnostic::error(span, format!("constant {v} does not fit `{what}`"))
            .with_note(format!(
                "a {}-bit {} argument holds {range}",
                bits,
                if kind.signed { "signed" } else { "unsigned" }
            ));
        if v < 0 && !kind.signed {
            d = d.with_help(format!(
                "`{what}` is unsigned; write the bit pattern {:#x} if that is what you mean",
                pattern(v, kind.width)
            ));
        }
        return Err(d);
    }
    Ok(pattern(v, kind.width) as u64)
}

/// Resolves an action as written (`errno(EACCES)`, `trap(3)`, `kill`).
pub fn action(spec: &ast::ActionSpec, arch: Arch) -> Result<Action, Diagnostic> {
    let name = spec.name.name.as_str();
    let datum = |max: u64| -> Result<Option<u16>, Diagnostic> {
        let Some(arg) = &spec.arg else {
            return Ok(None);
        };
        let v = eval_const(arg, arch, Width::W64)?;
        if v < 0 || v > i128::from(max) {
            return Err(Diagnostic::error(
                arg.span(),
                format!("`{name}` takes a value from 0 to {max}, not {v}"),
            ));
        }
        Ok(Some(v as u16))
    };
    let no_datum = |a: Action| -> Result<Action, Diagnostic> {
        match &spec.arg {
            Some(arg) => Err(Diagnostic::error(
                arg.span(),
                format!("`{name}` takes no value"),
            )),
            None => Ok(a),
        }
    };
    match name {
        "allow" => no_datum(Action::Allow),
        "log" => no_datum(Action::Log),
        "notify" => no_datum(Action::Notify),
        "kill" | "kill-process" => no_datum(Action::KillProcess),
        "kill-thread" => no_datum(Action::KillThread),
        "trap" => Ok(Action::Trap(datum(0xffff)?.unwrap_or(0))),
        "trace" => match datum(0xffff)? {
            Some(d) => Ok(Action::Trace(d)),
            None => Err(Diagnostic::error(
                spec.span,
                "`trace` needs a value: `trace(N)`",
            )),
        },
        "errno" => match datum(u64::from(MAX_ERRNO))? {
            Some(d) => Ok(Action::Errno(d)),
            None => Err(Diagnostic::error(
                spec.span,
                "`errno` needs a value: `errno(EPERM)` or `errno(1)`",
            )),
        },
        other => {
            let names = [
                "allow",
                "log",
                "notify",
                "kill",
                "kill-process",
                "kill-thread",
                "trap",
                "trace",
                "errno",
            ];
            let mut d = Diagnostic::error(spec.name.span, format!("unknown action `{other}`"));
            if let Some(s) = suggest(other, names) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            Err(d)
        }
    }
}
