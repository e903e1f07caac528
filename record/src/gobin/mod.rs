//! What `record` must know about a Go executable before attaching uprobes to it: its Go version
//! (which decides the ABI), where its functions are, where each `RET` of a function is, and the
//! struct field offsets the BPF programs read. Only amd64 ELF binaries of Go ≥1.17 (register
//! ABI) are supported; everything comes from the file itself, never from the machine's `go`.

mod buildinfo;
mod callsites;
mod dwarf;
mod gin;
mod grpc;
mod image;
mod offsets;
mod pclntab;
mod prologue;
mod rets;
mod symbols;
#[cfg(test)]
mod testbin;
mod typedesc;
mod xnet;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use object::{Architecture, BinaryFormat, Object, ObjectSection};

pub use buildinfo::GoVersion;
pub use gin::GET_VALUE as GIN_GET_VALUE;
pub use grpc::{
    GrpcOffsets, HANDLE_STREAM as GRPC_HANDLE_STREAM,
    HTTP2_SERVER_CLOSE as GRPC_HTTP2_SERVER_CLOSE, INVOKE as GRPC_INVOKE,
    NEW_STREAM as GRPC_NEW_STREAM, STREAM_FINISH as GRPC_STREAM_FINISH,
    WRITE_STATUS as GRPC_WRITE_STATUS,
};
pub use offsets::{offsets_tsv_row, Offsets, OffsetsSource, OFFSETS_TSV_HEADER};
pub use symbols::Function;
pub use xnet::XnetOffsets;
pub use xnet::{
    HANDLER_DONE as XNET_HANDLER_DONE, ROUND_TRIP_OPT as XNET_ROUND_TRIP_OPT,
    RUN_HANDLER as XNET_RUN_HANDLER, SERVE_CONN as XNET_SERVE_CONN,
};

use image::{Image, Text};

/// What [`GoBinary::peek`] learns of a Go program without reading it whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peek {
    /// As [`GoBinary::build_id`].
    pub build_id: Option<String>,
}

/// The functions through which a program serves or sends HTTP with net/http; a binary with
/// neither has nothing for record to observe.
pub const HTTP_ENTRY_POINTS: [&str; 2] = [
    "net/http.serverHandler.ServeHTTP",
    "net/http.(*Transport).roundTrip",
];

/// Structs read besides the offsets table's: third-party packages' layouts.
fn extra_structs() -> Vec<&'static str> {
    let mut v = vec![gin::NODE_VALUE];
    v.extend(xnet::STRUCTS);
    v.extend(grpc::STRUCTS);
    v
}

/// Why a binary cannot be traced. Every message names the binary and says what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum GoBinError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not an ELF file (a script, a Mach-O or PE binary, garbage).
    #[error("{} is not an ELF executable ({reason})", path.display())]
    NotElf { path: PathBuf, reason: String },
    /// An ELF file for another architecture.
    #[error("{} is built for {arch}; only amd64 (x86-64) Go binaries are supported", path.display())]
    NotAmd64 { path: PathBuf, arch: String },
    /// An ELF file that is not a Go program.
    #[error("{} is not a Go binary (no .go.buildinfo section)", path.display())]
    NotGo { path: PathBuf },
    /// `.go.buildinfo` exists but cannot be read.
    #[error("{}: cannot read the Go version from .go.buildinfo: {reason}", path.display())]
    BuildInfo { path: PathBuf, reason: String },
    /// Go ≤1.16 passes arguments on the stack and keeps `g` in TLS; the probes read registers.
    #[error(
        "{} was built with {version}: Go ≤1.16 uses the stack ABI, which is not supported yet \
         (Go ≥1.17 required)",
        path.display()
    )]
    StackAbi { path: PathBuf, version: GoVersion },
    /// A Go program that neither serves nor sends HTTP with net/http: nothing to probe.
    #[error(
        "{} does not use net/http (no {} nor {}): nothing to record",
        path.display(), HTTP_ENTRY_POINTS[0], HTTP_ENTRY_POINTS[1]
    )]
    NoNetHttp { path: PathBuf },
    /// Neither `.symtab` nor `.gopclntab` yields the functions.
    #[error("{}: cannot list functions: {reason}", path.display())]
    Symbols { path: PathBuf, reason: String },
    /// The DWARF sections exist but cannot be parsed.
    #[error("{}: {reason}", path.display())]
    Dwarf { path: PathBuf, reason: String },
    /// DWARF lacks a struct the probes need (e.g. a program that does not use net/http).
    #[error("{}: DWARF has no struct type {structure} (does the program use that package?)", path.display())]
    MissingStruct { path: PathBuf, structure: String },
    /// DWARF has the struct but not the field.
    #[error("{}: DWARF struct {structure} has no field {field}", path.display())]
    MissingField {
        path: PathBuf,
        structure: String,
        field: String,
    },
    /// No DWARF, type descriptors that lack a struct, and no table row for this Go version.
    #[error(
        "{}: no DWARF, its type descriptors fall short ({descriptors}), and no offsets for Go \
         {}.{} ({version}) in record/offsets/offsets.tsv (it has {}); run \
         `scripts/gen-offsets.sh {}.{}` to add them",
        path.display(), version.major, version.minor, offsets::table_versions().join(", "),
        version.major, version.minor
    )]
    UnknownOffsets {
        path: PathBuf,
        version: GoVersion,
        descriptors: String,
    },
    /// The embedded table is malformed: a build problem, not the binary's.
    #[error("the built-in offsets table is malformed: {reason}")]
    OffsetsTable { reason: String },
    /// A function's bytes are not all inside an executable segment of the file.
    #[error("{}: function {function} at {addr:#x} (+{size:#x}) is outside the executable segments", path.display())]
    OutsideText {
        path: PathBuf,
        function: String,
        addr: u64,
        size: u64,
    },
    /// Disassembly found no `RET`, so return events could not be observed.
    #[error("{}: no RET instruction found in {function}", path.display())]
    NoRet { path: PathBuf, function: String },
}

/// A Go executable, opened and indexed; the file is not kept open.
#[derive(Debug, Clone)]
pub struct GoBinary {
    /// The path it was opened from.
    pub path: PathBuf,
    /// From `.go.buildinfo`.
    pub version: GoVersion,
    /// The Go build ID (`.note.go.buildid`), else the GNU build ID in hex.
    pub build_id: Option<String>,
    /// Struct field offsets for the probes.
    pub offsets: Offsets,
    /// Whether `offsets` came from DWARF or the table.
    pub offsets_source: OffsetsSource,
    /// Which result register of gin's router lookup holds the route (see `gin`); `None`
    /// when the binary's gin returns it otherwise.
    pub gin_route_register: Option<u64>,
    /// golang.org/x/net/http2's server structs (zeros when unknown).
    pub xnet: XnetOffsets,
    /// grpc-go's structs; an error names the ones missing.
    pub grpc: Result<GrpcOffsets, String>,
    functions: HashMap<String, Function>,
    text: Text,
}

impl GoBinary {
    /// Reads and indexes the binary at `path`.
    pub fn open(path: &Path) -> Result<GoBinary, GoBinError> {
        let owned = || path.to_path_buf();
        let data = std::fs::read(path).map_err(|source| GoBinError::Read {
            path: owned(),
            source,
        })?;
        let file = object::File::parse(&*data).map_err(|e| GoBinError::NotElf {
            path: owned(),
            reason: e.to_string(),
        })?;
        if file.format() != BinaryFormat::Elf {
            let reason = format!("{:?} format", file.format());
            return Err(GoBinError::NotElf {
                path: owned(),
                reason,
            });
        }
        if file.architecture() != Architecture::X86_64 {
            let arch = format!("{:?}", file.architecture());
            return Err(GoBinError::NotAmd64 {
                path: owned(),
                arch,
            });
        }
        let image = Image::new(&file, &data);

        let section = file
            .section_by_name(".go.buildinfo")
            .ok_or_else(|| GoBinError::NotGo { path: owned() })?;
        let bad_buildinfo = |reason: String| GoBinError::BuildInfo {
            path: owned(),
            reason,
        };
        let bytes = section.data().map_err(|e| bad_buildinfo(e.to_string()))?;
        let raw = buildinfo::read_version(bytes, &image).map_err(bad_buildinfo)?;
        let version = GoVersion::parse(&raw)
            .ok_or_else(|| bad_buildinfo(format!("unrecognised version string {raw:?}")))?;
        if !version.at_least(1, 17) {
            return Err(GoBinError::StackAbi {
                path: owned(),
                version,
            });
        }

        // Stripped binaries (-s -w) have no .symtab; the runtime's own table is always there.
        let raw_funcs = match symbols::from_symtab(&file) {
            Some(funcs) => funcs,
            None => symbols::from_pclntab(&file).map_err(|reason| GoBinError::Symbols {
                path: owned(),
                reason,
            })?,
        };
        let functions = symbols::index(raw_funcs, &image);
        // Checked before the offsets, whose absence would otherwise be the confusing symptom.
        if !HTTP_ENTRY_POINTS.iter().any(|f| functions.contains_key(*f)) {
            return Err(GoBinError::NoNetHttp { path: owned() });
        }
        let resolved = offsets::resolve(path, &file, &image, &version, &extra_structs())?;
        let members = &resolved.members;
        let grpc = match (
            &resolved.members_source,
            grpc::unsupported_generation(functions.keys().map(String::as_str)),
        ) {
            (_, Some(why)) => Err(why),
            (Ok(_), None) => grpc::offsets(members),
            (Err(e), None) => Err(format!("no DWARF and unreadable type descriptors: {e}")),
        };

        Ok(GoBinary {
            path: owned(),
            build_id: buildinfo::build_id(&file),
            version,
            offsets: resolved.offsets,
            offsets_source: resolved.source,
            gin_route_register: gin::route_register(Some(members)),
            xnet: xnet::offsets(Some(members)),
            grpc,
            functions,
            text: Text::copy_from(&image),
        })
    }

    /// Whether the file at `path` is a Go program, and its build id, read from its section
    /// headers and notes only (not the whole file): cheap enough to ask of every program that
    /// starts on a host. `None`: not an ELF Go program (or unreadable).
    pub fn peek(path: &Path) -> Option<Peek> {
        let file = std::fs::File::open(path).ok()?;
        let cache = object::ReadCache::new(file);
        let elf = object::File::parse(&cache).ok()?;
        if elf.format() != BinaryFormat::Elf || elf.section_by_name(".go.buildinfo").is_none() {
            return None;
        }
        Some(Peek {
            build_id: buildinfo::build_id(&elf),
        })
    }

    /// The function with this exact Go symbol name, e.g. `net/http.serverHandler.ServeHTTP`.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.get(name)
    }

    /// The machine code of `f`, for the disassembling helpers (RETs, prologue).
    fn code(&self, f: &Function) -> Result<&[u8], GoBinError> {
        self.text
            .bytes(f.addr, f.size)
            .ok_or_else(|| self.outside_text(f))
    }

    /// File offset of an address inside `f`'s code.
    fn code_file_offset(&self, f: &Function, addr: u64) -> Result<u64, GoBinError> {
        self.text
            .file_offset(addr)
            .ok_or_else(|| self.outside_text(f))
    }

    fn outside_text(&self, f: &Function) -> GoBinError {
        GoBinError::OutsideText {
            path: self.path.clone(),
            function: f.name.clone(),
            addr: f.addr,
            size: f.size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_go_elf_is_rejected_by_name() {
        let path = Path::new("/bin/ls");
        match GoBinary::open(path) {
            Err(e @ GoBinError::NotGo { .. }) => {
                assert_eq!(
                    e.to_string(),
                    "/bin/ls is not a Go binary (no .go.buildinfo section)"
                );
            }
            other => panic!("expected NotGo, got {other:?}"),
        }
    }

    #[test]
    fn non_elf_and_missing_files_are_rejected() {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = dir.path().join("run.sh");
        std::fs::write(&script, "#!/bin/sh\necho hi\n").expect("write script");
        let err = GoBinary::open(&script).expect_err("a script is not ELF");
        assert!(matches!(err, GoBinError::NotElf { .. }), "{err:?}");
        assert!(err
            .to_string()
            .starts_with(&format!("{} is not an ELF", script.display())));
        let missing = dir.path().join("nope");
        let err = GoBinary::open(&missing).expect_err("missing file");
        assert!(matches!(err, GoBinError::Read { .. }), "{err:?}");
    }

    #[test]
    fn opens_probe_with_version_build_id_and_sources() {
        for probe in testbin::ProbeBuild::all() {
            let out = std::process::Command::new(&probe.go)
                .arg("version")
                .output();
            let go_version = String::from_utf8_lossy(&out.expect("go version").stdout).to_string();
            for path in [&probe.full, &probe.stripped] {
                let bin = GoBinary::open(path).unwrap_or_else(|e| panic!("{e}"));
                // `go version` prints "go version go1.19.8 linux/amd64".
                assert!(
                    go_version.contains(&format!("{} ", bin.version.raw)),
                    "{go_version}"
                );
                let id = bin.build_id.as_deref().expect("Go writes a build ID");
                assert_eq!(id.split('/').count(), 4, "{id}");
                assert!(bin.function("main.main").is_some());
                assert!(bin.function("no.such.function").is_none());
            }
            let full = GoBinary::open(&probe.full).expect("open");
            let stripped = GoBinary::open(&probe.stripped).expect("open");
            assert_eq!(full.offsets_source, OffsetsSource::Dwarf);
            assert_eq!(stripped.offsets_source, OffsetsSource::TypeDescriptors);
        }
    }

    /// No toolchain older than 1.17 can be installed here, so a real binary's version string
    /// is rewritten to a stack-ABI one (same length), as an old build would carry it.
    #[test]
    fn stack_abi_binaries_are_refused_by_version() {
        let Some(probe) = testbin::ProbeBuild::new() else {
            return;
        };
        let mut data = std::fs::read(&probe.full).expect("read probe");
        let range = {
            let file = object::File::parse(&*data).expect("parse probe");
            let section = file.section_by_name(".go.buildinfo").expect("buildinfo");
            let (start, len) = section.file_range().expect("in the file");
            start as usize..(start + len) as usize
        };
        let at = data[range.clone()]
            .windows(4)
            .position(|w| w == b"go1.")
            .expect("version string in .go.buildinfo")
            + range.start;
        // "go1.NN" → "go1.16": the minor is two digits for every toolchain tested.
        data[at + 4..at + 6].copy_from_slice(b"16");
        let dir = tempfile::tempdir().expect("temp dir");
        let old = dir.path().join("old-service");
        std::fs::write(&old, &data).expect("write patched binary");
        let err = GoBinary::open(&old).expect_err("Go 1.16 is refused");
        assert!(matches!(err, GoBinError::StackAbi { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{} was built with go1.16", old.display()))
                && msg.contains("stack ABI")
                && msg.contains("Go ≥1.17 required"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_offsets_error_says_how_to_fix() {
        let version = GoVersion::parse("go1.99.1").expect("parses");
        let err = GoBinError::UnknownOffsets {
            path: PathBuf::from("/srv/app"),
            version,
            descriptors: "no struct type runtime.g".to_string(),
        };
        let msg = err.to_string();
        assert!(
            msg.contains("Go 1.99 (go1.99.1)") && msg.contains("scripts/gen-offsets.sh 1.99"),
            "{msg}"
        );
    }
}
