//! Struct layouts from the runtime's type descriptors: what a binary stripped of DWARF (`-s -w`,
//! as most shipped Go programs are) still holds about its structs.
//!
//! Every struct that the program allocates on the heap, converts to an interface or reflects on
//! has a descriptor, because the garbage collector, interfaces and `reflect` need one: its kind,
//! its name, the import path of its package, and per field a name and a byte offset. They are
//! exact for the build, whatever its Go or library version, which is why they come before any
//! table keyed on versions (a GOPATH or Bazel build records no library versions at all).
//!
//! Where they are: the module data (`runtime.firstmoduledata`, found by its first word, the
//! address of `.gopclntab`) bounds the descriptors with `types` and `etypes`; names are stored
//! as offsets from `types`. Rather than follow the typelink table (its form changed in Go 1.27),
//! the whole range is scanned at pointer alignment for struct descriptors whose name and
//! package are wanted; a candidate counts only when its package path and its fields read back
//! consistently, and a struct found twice with different layouts is dropped, never guessed.
//!
//! Layout facts (amd64, Go 1.17 through 1.27): a descriptor (`abi.Type`) is 48 bytes with
//! `tflag` at 20, `kind` at 23 (low 5 bits; 25 is a struct) and `str` (a name offset) at 40. A
//! struct's descriptor continues with its package path (a name pointer) and its fields slice
//! (pointer, length); then, when `tflag` has bit 0, the "uncommon" part whose first word is the
//! package path of the named type (a name offset). A field is (name pointer, type pointer,
//! offset). A name is a flags byte, a uvarint length and the bytes. `tflag` bit 1 says the
//! stored string has a `*` to drop.

use super::buildinfo::GoVersion;
use super::dwarf::Members;
use super::image::{read_u32, read_word, Image};
use super::pclntab::{moduledata_candidates, MODULEDATA_SECTIONS};
use object::{Object, ObjectSection};

const TYPE_SIZE: usize = 48;
const TFLAG_AT: usize = 20;
const KIND_AT: usize = 23;
const STR_AT: usize = 40;
const KIND_MASK: u8 = 31;
const KIND_STRUCT: u8 = 25;
const TFLAG_UNCOMMON: u8 = 1 << 0;
const TFLAG_EXTRA_STAR: u8 = 1 << 1;
/// After the descriptor: package path name (8) and fields slice (pointer, length, capacity).
const FIELDS_AT: usize = TYPE_SIZE + 8;
const UNCOMMON_AT: usize = TYPE_SIZE + 8 + 24;
const FIELD_SIZE: u64 = 24;
/// No struct we read has more; a larger count is not a field slice.
const MAX_FIELDS: u64 = 4096;

/// The module data's words for `types` and `etypes`: Go 1.20 added two words before them
/// (coverage counters) and Go 1.27 one between them (`typedesclen`).
fn types_words(version: &GoVersion) -> (usize, usize) {
    if !version.at_least(1, 20) {
        (35, 36)
    } else if !version.at_least(1, 27) {
        (37, 38)
    } else {
        (37, 39)
    }
}

/// Member offsets of the `wanted` structs (full names, `import/path.Name`) found among the
/// binary's type descriptors; an error says why the descriptors could not be read at all.
pub(super) fn struct_members(
    file: &object::File<'_>,
    image: &Image<'_>,
    version: &GoVersion,
    wanted: &[&str],
) -> Result<Members, String> {
    let (types, etypes) = types_range(file, image, version)?;
    let region = image
        .read(types, etypes - types)
        .ok_or("the type descriptors are not in the file")?;
    let reader = Descriptors {
        image,
        types,
        region,
    };
    Ok(reader.find(wanted))
}

/// `[types, etypes)` from the module data.
fn types_range(
    file: &object::File<'_>,
    image: &Image<'_>,
    version: &GoVersion,
) -> Result<(u64, u64), String> {
    let pclntab = super::symbols::pclntab_address(file).ok_or("no .gopclntab found")?;
    let (types_word, etypes_word) = types_words(version);
    let sections: Vec<&[u8]> = MODULEDATA_SECTIONS
        .iter()
        .filter_map(|name| file.section_by_name(name)?.data().ok())
        .collect();
    let found = moduledata_candidates(&sections, pclntab, 8).find_map(|md| {
        let types = read_word(md, types_word * 8, 8, false)?;
        let etypes = read_word(md, etypes_word * 8, 8, false)?;
        let plausible = types != 0
            && etypes > types
            && etypes - types < 1 << 31
            && image.read(types, etypes - types).is_some();
        plausible.then_some((types, etypes))
    });
    found.ok_or_else(|| "no module data (runtime.firstmoduledata) found".to_string())
}

struct Descriptors<'a, 'data> {
    image: &'a Image<'data>,
    types: u64,
    region: &'data [u8],
}

impl Descriptors<'_, '_> {
    fn find(&self, wanted: &[&str]) -> Members {
        // Type strings hold the package's name, not its path: `transport.Stream`.
        let short: Vec<(String, &str)> = wanted
            .iter()
            .filter_map(|full| Some((short_name(full)?, *full)))
            .collect();
        let mut found = Members::new();
        let mut conflicting = Vec::new();
        let end = self.region.len().saturating_sub(UNCOMMON_AT + 8);
        for at in (0..end).step_by(8) {
            let d = &self.region[at..];
            if d[KIND_AT] & KIND_MASK != KIND_STRUCT || d[TFLAG_AT] & TFLAG_UNCOMMON == 0 {
                continue;
            }
            let Some(name) = self.type_string(d) else {
                continue;
            };
            // Several packages may share a name (`http2` is x/net's and net/http's own).
            if !short.iter().any(|(s, _)| s.as_str() == name) {
                continue;
            }
            let Some(pkg) = self.name_at_offset(read_u32(d, UNCOMMON_AT)) else {
                continue;
            };
            let Some((_, full)) = short.iter().find(|(s, full)| {
                s.as_str() == name && **full == format!("{pkg}.{}", short_type(full))
            }) else {
                continue;
            };
            let Some(fields) = self.fields(d) else {
                continue;
            };
            match found.get(*full) {
                Some(existing) if *existing != fields => conflicting.push(full.to_string()),
                _ => {
                    found.insert(full.to_string(), fields);
                }
            }
        }
        for c in conflicting {
            found.remove(&c);
        }
        found
    }

    /// The descriptor's type string (`transport.Stream`).
    fn type_string(&self, d: &[u8]) -> Option<String> {
        let s = self.name_at_offset(read_u32(d, STR_AT))?;
        Some(if d[TFLAG_AT] & TFLAG_EXTRA_STAR != 0 {
            s.strip_prefix('*')?.to_string()
        } else {
            s
        })
    }

    /// Field name → offset, when the fields read back whole and fit in the struct's size.
    fn fields(&self, d: &[u8]) -> Option<std::collections::HashMap<String, u64>> {
        let size = read_word(d, 0, 8, false)?;
        let ptr = read_word(d, FIELDS_AT, 8, false)?;
        let len = read_word(d, FIELDS_AT + 8, 8, false)?;
        if len == 0 || len > MAX_FIELDS {
            return None;
        }
        let bytes = self.image.read(ptr, len * FIELD_SIZE)?;
        let mut fields = std::collections::HashMap::new();
        for f in bytes.chunks_exact(FIELD_SIZE as usize) {
            let name = self.name_at(read_word(f, 0, 8, false)?)?;
            let offset = read_word(f, 16, 8, false)?;
            if offset > size {
                return None;
            }
            fields.insert(name, offset);
        }
        Some(fields)
    }

    /// The name `off` bytes past `types`.
    fn name_at_offset(&self, off: Option<u32>) -> Option<String> {
        let off = off.filter(|&o| o != 0 && (o as usize) < self.region.len())?;
        self.name_at(self.types + u64::from(off))
    }

    /// A name: flags byte, uvarint length, bytes.
    fn name_at(&self, vaddr: u64) -> Option<String> {
        let head = self.image.read(vaddr, 1 + 10)?;
        let (len, used) = uvarint(&head[1..])?;
        if len > 1 << 16 {
            return None;
        }
        let bytes = self.image.read(vaddr + 1 + used as u64, len)?;
        String::from_utf8(bytes.to_vec()).ok()
    }
}

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// `Stream` of `google.golang.org/grpc/internal/transport.Stream`.
fn short_type(full: &str) -> &str {
    full.rsplit_once('.').map_or(full, |(_, t)| t)
}

/// `transport.Stream` of `google.golang.org/grpc/internal/transport.Stream`.
fn short_name(full: &str) -> Option<String> {
    let (path, ty) = full.rsplit_once('.')?;
    let pkg = path.rsplit('/').next()?;
    Some(format!("{pkg}.{ty}"))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::gobin::{dwarf, extra_structs, offsets::table_structs, testbin::ProbeBuild};

    fn wanted() -> Vec<&'static str> {
        let mut w = table_structs();
        w.extend(extra_structs());
        w.sort_unstable();
        w.dedup();
        w
    }

    /// `(version, descriptors' members)` of the binary at `path`.
    fn from_descriptors(path: &Path) -> (GoVersion, Members) {
        let data = std::fs::read(path).expect("read binary");
        let file = object::File::parse(&*data).expect("parse");
        let image = Image::new(&file, &data);
        let section = file.section_by_name(".go.buildinfo").expect("buildinfo");
        let raw = super::super::buildinfo::read_version(section.data().expect("data"), &image)
            .expect("version");
        let version = GoVersion::parse(&raw).expect("parses");
        let members = struct_members(&file, &image, &version, &wanted())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        (version, members)
    }

    fn from_dwarf(path: &Path) -> Members {
        let data = std::fs::read(path).expect("read binary");
        let file = object::File::parse(&*data).expect("parse");
        dwarf::struct_members(&file, &wanted())
            .expect("DWARF reads")
            .expect("has DWARF")
    }

    /// Every struct the descriptors give has the layout the same build's DWARF gives (blank
    /// `_` fields aside: several share the name), and `must` are all found.
    fn assert_agree(dwarf: &Members, path: &Path, must: &[&str]) {
        let (version, found) = from_descriptors(path);
        let label = format!("{} ({})", path.display(), version.raw);
        for name in must {
            assert!(
                found.contains_key(*name),
                "{label}: no descriptor for {name}"
            );
        }
        for (name, fields) in &found {
            let expected = dwarf
                .get(name)
                .unwrap_or_else(|| panic!("{label}: {name} not in DWARF"));
            let named = |m: &std::collections::HashMap<String, u64>| {
                let mut v: Vec<(String, u64)> = m
                    .iter()
                    .filter(|(k, _)| *k != "_")
                    .map(|(k, v)| (k.clone(), *v))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(named(fields), named(expected), "{label}: {name}");
        }
        let absent: Vec<&str> = wanted()
            .into_iter()
            .filter(|w| dwarf.contains_key(*w) && !found.contains_key(*w))
            .collect();
        eprintln!(
            "{label}: {} structs from type descriptors agree with DWARF; no descriptor: {absent:?}",
            found.len()
        );
    }

    #[test]
    fn net_http_layouts_agree_with_dwarf() {
        for probe in ProbeBuild::all() {
            let dwarf = from_dwarf(&probe.full);
            let must = ["net/http.Request", "net/http.Server", "net/url.URL"];
            let external = probe.external.as_ref();
            for path in [&probe.full, &probe.stripped].into_iter().chain(external) {
                assert_agree(&dwarf, path, &must);
            }
        }
    }

    /// grpc-go's structs in `testdata/grpc_demo` (scripts/build-demos.sh), with DWARF and
    /// stripped, of every Go version built.
    #[test]
    fn grpc_layouts_agree_with_dwarf() {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/bin");
        let versions: Vec<PathBuf> = std::fs::read_dir(&bin)
            .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
            .unwrap_or_default();
        if versions.is_empty() {
            let why = "no testdata/bin: run scripts/build-demos.sh";
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but {why}"
            );
            eprintln!("skipping: {why}");
        }
        let must = [
            "google.golang.org/grpc/internal/transport.Stream",
            "google.golang.org/grpc.ClientConn",
            "google.golang.org/genproto/googleapis/rpc/status.Status",
            "google.golang.org/grpc/internal/transport.http2Server",
            "net.TCPAddr",
        ];
        for dir in versions {
            let dwarf = from_dwarf(&dir.join("dwarf/grpc_demo"));
            assert_agree(&dwarf, &dir.join("dwarf/grpc_demo"), &must);
            assert_agree(&dwarf, &dir.join("stripped/grpc_demo"), &must);
        }
    }
}
