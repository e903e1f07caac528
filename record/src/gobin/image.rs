//! The loaded image of an ELF file: its `PT_LOAD` segments, so that virtual addresses found inside
//! the binary (pointers in `.go.buildinfo`, the module data, function entries) can be turned into
//! bytes of the file and into the file offsets that uprobes attach to.

use object::{Object, ObjectSegment};

/// One `PT_LOAD` segment: `[vaddr, vaddr + memsz)` in memory, of which the first `filesz` bytes
/// come from the file at `offset` (the rest, `.bss`, is zero-filled and has no file bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    pub executable: bool,
}

impl Segment {
    fn contains(&self, vaddr: u64) -> bool {
        vaddr >= self.vaddr && vaddr - self.vaddr < self.memsz
    }
}

/// Reads virtual addresses of a mapped-but-not-running ELF image.
#[derive(Debug)]
pub(super) struct Image<'data> {
    data: &'data [u8],
    segments: Vec<Segment>,
}

impl<'data> Image<'data> {
    pub fn new(file: &object::File<'data>, data: &'data [u8]) -> Image<'data> {
        let segments = file
            .segments()
            .map(|s| {
                let (offset, filesz) = s.file_range();
                Segment {
                    vaddr: s.address(),
                    memsz: s.size(),
                    offset,
                    filesz,
                    executable: s.permissions().executable(),
                }
            })
            .collect();
        Image { data, segments }
    }

    #[cfg(test)]
    pub fn from_parts(data: &'data [u8], segments: Vec<Segment>) -> Image<'data> {
        Image { data, segments }
    }

    /// The file offset holding the byte at `vaddr`: what `perf_event_open`-based uprobes take.
    /// `None` for an address outside every segment or in a segment's zero-filled tail.
    pub fn file_offset(&self, vaddr: u64) -> Option<u64> {
        let seg = self.segments.iter().find(|s| s.contains(vaddr))?;
        let delta = vaddr - seg.vaddr;
        (delta < seg.filesz).then(|| seg.offset + delta)
    }

    /// `len` bytes at `vaddr`, only if all of them come from the file (a read crossing into `.bss`
    /// or past a segment's end would need zeros or another segment; Go never needs that here).
    pub fn read(&self, vaddr: u64, len: u64) -> Option<&'data [u8]> {
        let seg = self.segments.iter().find(|s| s.contains(vaddr))?;
        let delta = vaddr - seg.vaddr;
        let end = delta.checked_add(len)?;
        if end > seg.filesz {
            return None;
        }
        let start = usize::try_from(seg.offset.checked_add(delta)?).ok()?;
        let len = usize::try_from(len).ok()?;
        self.data.get(start..start.checked_add(len)?)
    }

    /// A little-endian word of `ptr_size` (4 or 8) bytes at `vaddr`.
    pub fn read_word(&self, vaddr: u64, ptr_size: u8, big_endian: bool) -> Option<u64> {
        let bytes = self.read(vaddr, u64::from(ptr_size))?;
        read_word(bytes, 0, ptr_size, big_endian)
    }
}

/// A word of `ptr_size` bytes at `at` inside `bytes`; `None` when out of range or an odd size.
pub(super) fn read_word(bytes: &[u8], at: usize, ptr_size: u8, big_endian: bool) -> Option<u64> {
    let raw = bytes.get(at..at.checked_add(usize::from(ptr_size))?)?;
    match (ptr_size, big_endian) {
        (4, false) => Some(u64::from(u32::from_le_bytes(raw.try_into().ok()?))),
        (4, true) => Some(u64::from(u32::from_be_bytes(raw.try_into().ok()?))),
        (8, false) => Some(u64::from_le_bytes(raw.try_into().ok()?)),
        (8, true) => Some(u64::from_be_bytes(raw.try_into().ok()?)),
        _ => None,
    }
}

/// A little-endian `u32` at `at` inside `bytes`.
pub(super) fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(raw.try_into().ok()?))
}

/// The executable segments' bytes, kept after the file is closed so that functions can be
/// disassembled later without holding the whole binary (data and DWARF are most of its size).
#[derive(Debug, Clone)]
pub(super) struct Text {
    segments: Vec<(Segment, Vec<u8>)>,
}

impl Text {
    pub fn copy_from(image: &Image<'_>) -> Text {
        let segments = image
            .segments
            .iter()
            .filter(|s| s.executable)
            .filter_map(|s| Some((*s, image.read(s.vaddr, s.filesz)?.to_vec())))
            .collect();
        Text { segments }
    }

    /// The bytes of `[vaddr, vaddr + len)`, when they lie wholly inside one executable segment.
    pub fn bytes(&self, vaddr: u64, len: u64) -> Option<&[u8]> {
        let (seg, bytes) = self.segments.iter().find(|(s, _)| s.contains(vaddr))?;
        let start = usize::try_from(vaddr - seg.vaddr).ok()?;
        let len = usize::try_from(len).ok()?;
        bytes.get(start..start.checked_add(len)?)
    }

    /// File offset of a text address (same rule as [`Image::file_offset`]).
    pub fn file_offset(&self, vaddr: u64) -> Option<u64> {
        let (seg, _) = self.segments.iter().find(|(s, _)| s.contains(vaddr))?;
        let delta = vaddr - seg.vaddr;
        (delta < seg.filesz).then(|| seg.offset + delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(data: &[u8]) -> Image<'_> {
        Image::from_parts(
            data,
            vec![Segment {
                vaddr: 0x1000,
                memsz: 0x20,
                offset: 4,
                filesz: 8,
                executable: true,
            }],
        )
    }

    #[test]
    fn maps_vaddr_to_file_bytes_and_offsets() {
        let data = [0u8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        let img = image(&data);
        assert_eq!(img.file_offset(0x1000), Some(4));
        assert_eq!(img.file_offset(0x1007), Some(11));
        // Zero-filled tail and outside: no file bytes.
        assert_eq!(img.file_offset(0x1008), None);
        assert_eq!(img.file_offset(0x2000), None);
        assert_eq!(img.read(0x1002, 3), Some(&[3u8, 4, 5][..]));
        assert_eq!(img.read(0x1006, 4), None);
        assert_eq!(img.read_word(0x1000, 4, false), Some(0x0403_0201));
        assert_eq!(img.read_word(0x1000, 4, true), Some(0x0102_0304));
        assert_eq!(img.read_word(0x1000, 8, false), Some(0x0807_0605_0403_0201));
        let text = Text::copy_from(&img);
        assert_eq!(text.bytes(0x1004, 2), Some(&[5u8, 6][..]));
        assert_eq!(text.file_offset(0x1001), Some(5));
    }
}
