//! The Go version and build ID written into the binary by the Go linker. The version decides the
//! ABI and the offsets table row, so it must come from the binary, never from the machine's `go`.

use std::fmt;

use object::{Object, ObjectSection};

use super::image::{read_word, Image};

/// The `.go.buildinfo` magic: 14 bytes, then pointer size and flags complete a 16-byte prefix.
const MAGIC: &[u8] = b"\xff Go buildinf:";
/// The header is 32 bytes; in Go ≥1.18 the version string follows it inline.
const HEADER_LEN: usize = 32;
/// Flag bit 0: big-endian pointers (Go ≤1.17 form only).
const FLAG_BIG_ENDIAN: u8 = 1;
/// Flag bit 1: version and module info are inline, length-prefixed strings (Go ≥1.18).
const FLAG_INLINE_STRINGS: u8 = 2;
/// No real version string comes near this; a larger length means we are reading garbage.
const MAX_VERSION_LEN: u64 = 1024;

/// A Go toolchain version as recorded in a binary, e.g. `go1.21.13` or `go1.22rc1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoVersion {
    /// `1` in `go1.21.13`.
    pub major: u32,
    /// `21` in `go1.21.13`.
    pub minor: u32,
    /// `13` in `go1.21.13`; 0 for `go1.21`, `go1.22rc1` or a development build.
    pub patch: u32,
    /// The string exactly as the binary holds it (may carry suffixes like ` X:boringcrypto`).
    pub raw: String,
}

impl GoVersion {
    /// Parses `go1.21.13`, `go1.21`, `go1.22rc1`, `go1.22beta2`, `go1.23.0 X:boringcrypto` and
    /// `devel go1.23-abcdef …`; `None` if no `goN.M` can be found.
    pub fn parse(raw: &str) -> Option<GoVersion> {
        let token = raw.split_whitespace().find(|t| {
            t.strip_prefix("go")
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        })?;
        let rest = token.strip_prefix("go")?;
        let (major, rest) = leading_number(rest)?;
        let (minor, rest) = leading_number(rest.strip_prefix('.')?)?;
        // A third component only counts when it is a plain `.N`; `rc1`, `beta2`, `-hash` are
        // pre-releases or development builds, which share the offsets of their major.minor.
        let patch = rest
            .strip_prefix('.')
            .and_then(leading_number)
            .map_or(0, |(n, _)| n);
        Some(GoVersion {
            major,
            minor,
            patch,
            raw: raw.to_string(),
        })
    }

    /// True when this version is `major.minor` or newer.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// `"1.21"`: the key of the offsets table.
    pub fn major_minor(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

fn leading_number(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    Some((s.get(..end)?.parse().ok()?, s.get(end..)?))
}

/// Reads the version string out of `.go.buildinfo`'s bytes. Go ≥1.18 stores it inline after the
/// header; Go ≤1.17 stores a pointer to `runtime.buildVersion` (a Go string header), which must
/// be followed through the loaded image.
pub(super) fn read_version(section: &[u8], image: &Image<'_>) -> Result<String, String> {
    if section.len() < HEADER_LEN || !section.starts_with(MAGIC) {
        return Err("missing the \"\\xff Go buildinf:\" header".to_string());
    }
    let ptr_size = section[14];
    let flags = section[15];
    if flags & FLAG_INLINE_STRINGS != 0 {
        let (len, used) = uvarint(section.get(HEADER_LEN..).unwrap_or_default())
            .ok_or("truncated version length")?;
        if len > MAX_VERSION_LEN {
            return Err(format!("implausible version length {len}"));
        }
        let start = HEADER_LEN + used;
        let bytes = usize::try_from(len)
            .ok()
            .and_then(|len| section.get(start..start.checked_add(len)?))
            .ok_or("version string runs past the section")?;
        return String::from_utf8(bytes.to_vec()).map_err(|_| "version is not UTF-8".to_string());
    }
    if ptr_size != 4 && ptr_size != 8 {
        return Err(format!("pointer size {ptr_size} is neither 4 nor 8"));
    }
    let big_endian = flags & FLAG_BIG_ENDIAN != 0;
    let header_ptr = read_word(section, 16, ptr_size, big_endian).ok_or("truncated header")?;
    let data = image
        .read_word(header_ptr, ptr_size, big_endian)
        .ok_or_else(|| format!("version string header at {header_ptr:#x} is not in the file"))?;
    let len = image
        .read_word(header_ptr + u64::from(ptr_size), ptr_size, big_endian)
        .ok_or_else(|| format!("version string header at {header_ptr:#x} is truncated"))?;
    if len > MAX_VERSION_LEN {
        return Err(format!("implausible version length {len}"));
    }
    let bytes = image
        .read(data, len)
        .ok_or_else(|| format!("version string at {data:#x} is not in the file"))?;
    String::from_utf8(bytes.to_vec()).map_err(|_| "version is not UTF-8".to_string())
}

/// Unsigned LEB128 as Go's `encoding/binary.Uvarint`: value and bytes used.
fn uvarint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The Go build ID (`.note.go.buildid`, e.g. `abc/def/ghi/jkl`), which identifies the exact
/// build even when stripped; else the GNU build ID as hex (external linking adds one).
pub(super) fn build_id<'d, R: object::ReadRef<'d>>(file: &object::File<'d, R>) -> Option<String> {
    let go_note = file
        .section_by_name(".note.go.buildid")
        .and_then(|s| s.data().ok())
        .and_then(go_note_desc);
    go_note.or_else(|| {
        let gnu = file.build_id().ok()??;
        Some(gnu.iter().map(|b| format!("{b:02x}")).collect())
    })
}

/// The descriptor of an ELF note named "Go" of type 4 (the Go linker's `ELF_NOTE_GOBUILDID_TAG`).
fn go_note_desc(note: &[u8]) -> Option<String> {
    const GO_BUILD_ID_TAG: u32 = 4;
    let namesz = usize::try_from(super::image::read_u32(note, 0)?).ok()?;
    let descsz = usize::try_from(super::image::read_u32(note, 4)?).ok()?;
    let kind = super::image::read_u32(note, 8)?;
    let name = note.get(12..12 + namesz)?;
    if kind != GO_BUILD_ID_TAG || trim_nuls(name) != b"Go" {
        return None;
    }
    let desc_at = 12 + namesz.next_multiple_of(4);
    let desc = note.get(desc_at..desc_at.checked_add(descsz)?)?;
    String::from_utf8(trim_nuls(desc).to_vec()).ok()
}

/// Note names are padded with NULs to 4 bytes (the Go linker writes `Go\0\0`, size 4).
fn trim_nuls(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    bytes.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::image::Segment;
    use super::*;

    #[test]
    fn parses_release_prerelease_and_devel_versions() {
        let v = GoVersion::parse("go1.21.13").expect("parses");
        assert_eq!((v.major, v.minor, v.patch), (1, 21, 13));
        assert_eq!(v.to_string(), "go1.21.13");
        assert_eq!(v.major_minor(), "1.21");
        let v = GoVersion::parse("go1.22rc1").expect("parses");
        assert_eq!((v.major, v.minor, v.patch), (1, 22, 0));
        let v = GoVersion::parse("go1.21").expect("parses");
        assert_eq!((v.major, v.minor, v.patch), (1, 21, 0));
        let v = GoVersion::parse("go1.23.4 X:boringcrypto").expect("parses");
        assert_eq!((v.major, v.minor, v.patch), (1, 23, 4));
        assert_eq!(v.raw, "go1.23.4 X:boringcrypto");
        let v =
            GoVersion::parse("devel go1.24-abcdef0 Tue Jan 2 15:04:05 2024 +0000").expect("parses");
        assert_eq!((v.major, v.minor), (1, 24));
        assert!(v.at_least(1, 17) && !v.at_least(1, 25));
        assert!(GoVersion::parse("devel +abcdef").is_none());
        assert!(GoVersion::parse("").is_none());
        assert!(GoVersion::parse("gox.y").is_none());
    }

    fn header(ptr_size: u8, flags: u8) -> Vec<u8> {
        let mut h = MAGIC.to_vec();
        h.extend([ptr_size, flags]);
        h.resize(HEADER_LEN, 0);
        h
    }

    #[test]
    fn reads_inline_version_of_go_1_18_and_later() {
        let mut section = header(8, FLAG_INLINE_STRINGS);
        section.push(8);
        section.extend(b"go1.27.3");
        section.push(0); // modinfo length
        let img = Image::from_parts(&[], vec![]);
        assert_eq!(read_version(&section, &img).as_deref(), Ok("go1.27.3"));
        section.truncate(HEADER_LEN + 4);
        assert!(read_version(&section, &img).is_err());
        assert!(read_version(b"\x7fELF", &img).is_err());
    }

    #[test]
    fn follows_pointers_in_go_1_17_buildinfo() {
        // File: [buildinfo header (32)] [string header at 0x20: ptr, len] [bytes at 0x30].
        let mut file = header(8, 0);
        file[16..24].copy_from_slice(&0x4020u64.to_le_bytes());
        file.extend(0x4030u64.to_le_bytes());
        file.extend(9u64.to_le_bytes());
        file.extend(b"go1.17.13");
        let seg = Segment {
            vaddr: 0x4000,
            memsz: 0x1000,
            offset: 0,
            filesz: file.len() as u64,
            executable: false,
        };
        let img = Image::from_parts(&file, vec![seg]);
        assert_eq!(
            read_version(&file[..HEADER_LEN], &img).as_deref(),
            Ok("go1.17.13")
        );
        // A pointer outside the image is an error, not a panic.
        let mut bad = file.clone();
        bad[16..24].copy_from_slice(&0x9000u64.to_le_bytes());
        assert!(read_version(&bad[..HEADER_LEN], &img).is_err());
    }

    #[test]
    fn reads_go_build_id_note() {
        let mut note = Vec::new();
        note.extend(4u32.to_le_bytes());
        note.extend(8u32.to_le_bytes());
        note.extend(4u32.to_le_bytes());
        note.extend(b"Go\0\0");
        note.extend(b"abc/def\0");
        assert_eq!(go_note_desc(&note).as_deref(), Some("abc/def"));
        note[8] = 3;
        assert_eq!(go_note_desc(&note), None);
    }
}
