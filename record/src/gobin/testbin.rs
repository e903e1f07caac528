//! Test fixture: builds `scripts/offsets-probe` with real Go toolchains into a temporary
//! directory, so the parsers are checked against what the Go linker really writes.
//!
//! The machine's toolchain is `/usr/bin/go` (else `go` on `PATH`); when neither exists the tests
//! skip with a printed reason, except under `CI=true` where that is a failure. More toolchains
//! can be added with `QUADTRACE_TEST_GO=/path/to/go1.27/bin/go:/path/to/go1.21/bin/go`, e.g.
//! from `scripts/install-go.sh`, to check newer linkers (DWARF 5 since Go 1.25, no pclntab text
//! start since Go 1.26).

use std::path::{Path, PathBuf};
use std::process::Command;

const PROBE_SOURCE: &str = include_str!("../../../scripts/offsets-probe/main.go");

/// The probe built by one toolchain: with symbols and DWARF, stripped, and (when a C compiler is
/// there) a PIE linked by the system linker: `.text` starts with C start-up code before
/// `runtime.text`, and Go 1.19's pclntab loses its section name there.
pub(super) struct ProbeBuild {
    _dir: tempfile::TempDir,
    pub go: PathBuf,
    pub full: PathBuf,
    pub stripped: PathBuf,
    pub external: Option<PathBuf>,
}

impl ProbeBuild {
    /// The probe built by the machine's toolchain, or `None` (test skipped) without one.
    pub fn new() -> Option<ProbeBuild> {
        let go = machine_go()?;
        Some(ProbeBuild::build(&go))
    }

    /// The machine's build followed by one for each toolchain in `QUADTRACE_TEST_GO`.
    pub fn all() -> Vec<ProbeBuild> {
        let extra = std::env::var_os("QUADTRACE_TEST_GO").unwrap_or_default();
        let extra = std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty());
        ProbeBuild::new()
            .into_iter()
            .chain(extra.map(|go| ProbeBuild::build(&go)))
            .collect()
    }

    fn build(go: &Path) -> ProbeBuild {
        let dir = tempfile::tempdir().expect("create temp dir");
        let src = dir.path().join("main.go");
        std::fs::write(&src, PROBE_SOURCE).expect("write probe source");
        let full = dir.path().join("probe");
        let stripped = dir.path().join("probe-stripped");
        let external = dir.path().join("probe-external");
        go_build(go, dir.path(), &full, &[], false).expect("build probe");
        go_build(go, dir.path(), &stripped, &["-ldflags=-s -w"], false).expect("build stripped");
        let ext_flags = ["-buildmode=pie", "-ldflags=-linkmode=external"];
        let external = match go_build(go, dir.path(), &external, &ext_flags, true) {
            Ok(()) => Some(external),
            Err(why) => {
                eprintln!("skipping the externally linked probe: {why}");
                None
            }
        };
        ProbeBuild {
            _dir: dir,
            go: go.to_path_buf(),
            full,
            stripped,
            external,
        }
    }
}

fn machine_go() -> Option<PathBuf> {
    let candidates = [PathBuf::from("/usr/bin/go"), PathBuf::from("go")];
    let found = candidates.into_iter().find(|go| {
        Command::new(go)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        let why = "no Go toolchain (/usr/bin/go or go on PATH)";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but {why}"
        );
        eprintln!("skipping: {why}");
    }
    found
}

/// `go build` in GOPATH mode, offline, with the toolchain it is given (never a download).
fn go_build(go: &Path, dir: &Path, out: &Path, flags: &[&str], cgo: bool) -> Result<(), String> {
    let output = Command::new(go)
        .current_dir(dir)
        .env_remove("GOROOT")
        .env("GO111MODULE", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env("GOPATH", dir.join("gopath"))
        .env("CGO_ENABLED", if cgo { "1" } else { "0" })
        .arg("build")
        .arg("-o")
        .arg(out)
        .args(flags)
        .arg("main.go")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", go.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} build {flags:?} failed: {}",
            go.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
