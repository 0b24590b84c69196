//! `import` and `export`: other formats to and from the policy language.

use std::path::{Path, PathBuf};

use straitjacket_policy::export::oci as export_oci;
use straitjacket_policy::import::{ftrace, minijail, oci, ImportError, Imported};
use straitjacket_policy::resolve::Options;

use crate::call::parse_arch;
use crate::failure::Failure;
use straitjacket::load::{self, host_kernel, io_reason};

/// Formats `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum From {
    Oci,
    K8s,
    Minijail,
    Ftrace,
}

/// Formats `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum To {
    Oci,
    K8s,
}

fn read(file: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(file)
        .map_err(|e| Failure::input(format!("{}: {}", file.display(), io_reason(&e))))?;
    String::from_utf8(bytes).map_err(|_| Failure::input(format!("{}: not UTF-8", file.display())))
}

fn write_out(text: &str, output: Option<&PathBuf>) -> Result<(), Failure> {
    match output {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| Failure::input(format!("{}: {}", p.display(), io_reason(&e)))),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Options of `import`.
#[derive(Debug)]
pub struct ImportArgs<'a> {
    pub file: &'a Path,
    pub from: From,
    pub arch: Option<&'a str>,
    pub caps: Option<&'a str>,
    pub kernel: Option<&'a str>,
    /// `--profile`: which SeccompProfile of a multi-document YAML.
    pub profile: Option<&'a str>,
    /// `--include-dir`: where minijail `@include`s with absolute paths are looked up too.
    pub include_dir: Option<&'a Path>,
    pub output: Option<&'a PathBuf>,
}

pub fn import_cmd(a: &ImportArgs) -> Result<(), Failure> {
    let text = read(a.file)?;
    let native = parse_arch(a.arch)?;
    let name = a.file.display().to_string();
    let fail = |e: ImportError| Failure::input(format!("{name}: {e}"));
    let kernel = match a.kernel {
        None => host_kernel(),
        Some(k) => Some(oci::parse_uname_release(k).ok_or_else(|| {
            Failure::input(format!("--kernel `{k}`: expected MAJOR.MINOR, e.g. 6.1"))
        })?),
    };
    let caps = a.caps.map(|c| {
        c.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "none")
            .map(|s| {
                let s = s.to_ascii_uppercase();
                if s.starts_with("CAP_") {
                    s
                } else {
                    format!("CAP_{s}")
                }
            })
            .collect()
    });
    let opts = oci::Options {
        native,
        caps,
        kernel,
    };
    let imported: Imported = match a.from {
        From::Oci => oci::import(&text, &name, &opts).map_err(fail)?,
        From::K8s => {
            let json =
                straitjacket_policy::import::k8s::to_oci_json(&text, a.profile).map_err(fail)?;
            oci::import(&json, &name, &opts).map_err(fail)?
        }
        From::Minijail => {
            let base = a.file.parent().map(Path::to_path_buf).unwrap_or_default();
            let dir = a.include_dir.map(Path::to_path_buf);
            let mut include = |p: &str| -> Result<(String, String), String> {
                let mut path = if Path::new(p).is_absolute() {
                    PathBuf::from(p)
                } else {
                    base.join(p)
                };
                // ChromeOS policies include installed paths (/usr/share/policy/…): look for
                // the file name in --include-dir when the path itself is absent.
                if let (false, Some(d), Some(f)) = (path.exists(), &dir, Path::new(p).file_name()) {
                    path = d.join(f);
                }
                let t = std::fs::read_to_string(&path).map_err(|e| io_reason(&e))?;
                Ok((path.display().to_string(), t))
            };
            minijail::import(&text, &name, native, &mut include).map_err(fail)?
        }
        From::Ftrace => ftrace::import(&text, &name).map_err(fail)?,
    };
    for w in &imported.warnings {
        eprintln!("straitjacket: warning: {w}");
    }
    // What we print must be a valid policy: resolve it before writing.
    let pf = load::load_bytes(
        &format!("{name} (imported)"),
        imported.text.as_bytes(),
        &Options { native },
    )?;
    let _ = pf;
    write_out(&imported.text, a.output)
}

pub fn export_cmd(
    file: &Path,
    to: To,
    arch: Option<&str>,
    listener_path: Option<String>,
    name: Option<String>,
    output: Option<&PathBuf>,
) -> Result<(), Failure> {
    let native = parse_arch(arch)?;
    let pf = load::load(file, &Options { native })?;
    eprint!("{}", pf.render_warnings());
    let mut policy = pf.resolved.policy.clone();
    // `--arch A` on a policy covering several ABIs exports A's filter alone.
    if arch.is_some() && policy.filters.len() > 1 {
        if policy.filter(native).is_none() {
            return Err(Failure::input(format!(
                "{}: the policy does not cover {native}",
                file.display()
            )));
        }
        policy.filters.retain(|f| f.arch == native);
    }
    let opts = export_oci::Options {
        listener_path,
        name: name.or_else(|| {
            file.file_stem()
                .map(|s| s.to_string_lossy().to_ascii_lowercase().replace('_', "-"))
        }),
    };
    let res = match to {
        To::Oci => export_oci::oci(&policy, &opts),
        To::K8s => export_oci::k8s(&policy, &opts),
    };
    let (text, warnings) =
        res.map_err(|e| Failure::input(format!("{}: cannot export: {e}", file.display())))?;
    for w in warnings {
        eprintln!("straitjacket: warning: {w}");
    }
    write_out(&text, output)
}
