//! A small reader for `.gopclntab`, the runtime's own function table, which survives
//! `-ldflags="-s -w"` (the runtime needs it for stack traces), so stripped production binaries
//! still tell where each function starts.
//!
//! Layout (all offsets relative to the start of the table, words are `ptr_size` bytes, amd64 is
//! little-endian):
//!
//! ```text
//! magic u32 | 0 u8 | 0 u8 | min_lc u8 | ptr_size u8 | nfunc word | nfiles word |
//!   [text_start word: Go ≥1.18 only] | funcname_off | cu_off | filetab_off | pctab_off | pcln_off
//! at pcln_off, the functab: nfunc + 1 pairs, the last one's entry being the end of the text:
//!   Go 1.16–1.17: (entry word, func_off word)   entry is an absolute address
//!   Go ≥1.18:     (entry_off u32, func_off u32)  entry_off is relative to text_start
//! at pcln_off + func_off, the _func record: entry (word, or u32 in ≥1.18), then name_off i32
//!   into the NUL-terminated names at funcname_off.
//! ```

use super::image::{read_u32, read_word};

/// Go 1.16 and 1.17.
const MAGIC_GO116: u32 = 0xffff_fffa;
/// Go 1.18 and 1.19.
const MAGIC_GO118: u32 = 0xffff_fff0;
/// Go 1.20 and later (same layout as 1.18; the magic marks a change in the runtime's use).
const MAGIC_GO120: u32 = 0xffff_fff1;
/// Go 1.2–1.15: a different layout, and those versions use the stack ABI anyway.
const MAGIC_GO12: u32 = 0xffff_fffb;

/// A function as the runtime knows it: `[entry, end)`, `end` being the next function's entry
/// (so the size includes alignment padding) or the end of the text for the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawFunc {
    pub name: String,
    pub entry: u64,
    pub end: u64,
}

/// The fields of the pclntab header that locating functions needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    /// True for the Go 1.16–1.17 layout (absolute word entries, no `text_start`).
    pub absolute_entries: bool,
    pub ptr_size: u8,
    pub nfunc: u64,
    /// As found in the file: Go ≥1.26 leaves it 0 (the runtime uses the module data's `text`
    /// instead), so the caller must then find the text start another way.
    pub text_start: u64,
    pub funcname_off: u64,
    pub pcln_off: u64,
}

pub(super) fn parse_header(data: &[u8]) -> Result<Header, String> {
    let magic = read_u32(data, 0).ok_or("shorter than its header")?;
    let absolute_entries = match magic {
        MAGIC_GO116 => true,
        MAGIC_GO118 | MAGIC_GO120 => false,
        MAGIC_GO12 => return Err("Go 1.2–1.15 layout (magic 0xfffffffb) is not supported".into()),
        other => return Err(format!("unknown magic {other:#010x}")),
    };
    let (pad, ptr_size) = (data.get(4..6), data.get(7).copied());
    if pad != Some(&[0, 0][..]) || !matches!(ptr_size, Some(4 | 8)) {
        return Err("malformed header (padding or pointer size)".into());
    }
    let ps = ptr_size.unwrap_or(8);
    let word = |i: usize| {
        read_word(data, 8 + i * usize::from(ps), ps, false).ok_or("truncated header".to_string())
    };
    // Go ≥1.18 inserted text_start after nfiles, shifting the offsets by one word.
    let shift = usize::from(!absolute_entries);
    Ok(Header {
        absolute_entries,
        ptr_size: ps,
        nfunc: word(0)?,
        text_start: if absolute_entries { 0 } else { word(2)? },
        funcname_off: word(2 + shift)?,
        pcln_off: word(6 + shift)?,
    })
}

/// Offsets in `data` where a pclntab header may start: a known magic, then two zero bytes, on
/// an 8-byte boundary (the linker aligns the table). For tables whose section was renamed away.
pub(super) fn header_candidates(data: &[u8]) -> impl Iterator<Item = usize> + '_ {
    (0..data.len().saturating_sub(8)).step_by(8).filter(|&at| {
        let magic = read_u32(data, at);
        matches!(magic, Some(MAGIC_GO116 | MAGIC_GO118 | MAGIC_GO120))
            && data.get(at + 4..at + 6) == Some(&[0, 0][..])
    })
}

/// The entry offset of the first function (Go ≥1.18 layout), used to validate a text start
/// found in the module data: `minpc` must equal `text + first entry offset`.
pub(super) fn first_entry_off(data: &[u8], header: &Header) -> Option<u64> {
    if header.absolute_entries {
        return None;
    }
    read_u32(data, usize::try_from(header.pcln_off).ok()?).map(u64::from)
}

/// Every function in the table. `text_start` is only used by the Go ≥1.18 layout.
pub(super) fn functions(
    data: &[u8],
    header: &Header,
    text_start: u64,
) -> Result<Vec<RawFunc>, String> {
    let ps = header.ptr_size;
    let to_usize =
        |v: u64, what: &str| usize::try_from(v).map_err(|_| format!("{what} {v:#x} is too large"));
    let pcln = to_usize(header.pcln_off, "functab offset")?;
    let names = to_usize(header.funcname_off, "name table offset")?;
    let nfunc = to_usize(header.nfunc, "function count")?;
    let pair = if header.absolute_entries {
        2 * usize::from(ps)
    } else {
        8
    };
    // Reject counts the table cannot hold before allocating for them.
    let fits = nfunc
        .checked_add(1)
        .and_then(|n| n.checked_mul(pair))
        .and_then(|len| len.checked_add(pcln))
        .is_some_and(|end| end <= data.len());
    if !fits {
        return Err(format!("functab of {nfunc} functions runs past the table"));
    }

    // (entry, func_off) of functab row `i`.
    let row = |i: usize| -> Option<(u64, u64)> {
        let at = pcln + i * pair;
        if header.absolute_entries {
            Some((
                read_word(data, at, ps, false)?,
                read_word(data, at + usize::from(ps), ps, false)?,
            ))
        } else {
            let entry_off = u64::from(read_u32(data, at)?);
            Some((
                text_start.checked_add(entry_off)?,
                u64::from(read_u32(data, at + 4)?),
            ))
        }
    };
    // In the _func record the name offset follows the entry field.
    let name_field = if header.absolute_entries {
        usize::from(ps)
    } else {
        4
    };

    let mut out = Vec::with_capacity(nfunc);
    for i in 0..nfunc {
        let bad = || format!("functab row {i} is out of range");
        let (entry, func_off) = row(i).ok_or_else(bad)?;
        let (end, _) = row(i + 1).ok_or_else(bad)?;
        let func_at = pcln
            .checked_add(to_usize(func_off, "func offset")?)
            .and_then(|at| at.checked_add(name_field))
            .ok_or_else(bad)?;
        let name_off =
            read_u32(data, func_at).ok_or_else(|| format!("_func of row {i} is out of range"))?;
        let name_off = usize::try_from(i32::from_le_bytes(name_off.to_le_bytes()))
            .map_err(|_| format!("negative name offset in row {i}"))?;
        let name = cstr(data, names.saturating_add(name_off))
            .ok_or_else(|| format!("name of row {i} is out of range or not UTF-8"))?;
        out.push(RawFunc {
            name: name.to_string(),
            entry,
            end: end.max(entry),
        });
    }
    Ok(out)
}

fn cstr(data: &[u8], at: usize) -> Option<&str> {
    let rest = data.get(at..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    std::str::from_utf8(rest.get(..len)?).ok()
}

/// Finds `runtime.text` through the module data (`runtime.firstmoduledata`), for Go ≥1.26 whose
/// pclntab header leaves `text_start` at 0. Externally linked binaries put C start-up code at the
/// start of `.text`, so the section address alone would shift every function.
///
/// The module data starts with `pcHeader *`, then the `funcnametab` slice whose pointer is
/// `pclntab + funcname_off`; `minpc` is word 20 and `text` word 22 (Go 1.18 through at least
/// 1.27). A candidate counts only when `minpc == text + first_entry_off`.
pub(super) fn text_from_moduledata(
    sections: &[&[u8]],
    pclntab_vaddr: u64,
    header: &Header,
    first_entry_off: u64,
) -> Option<u64> {
    const MINPC_WORD: usize = 20;
    const TEXT_WORD: usize = 22;
    let ps = header.ptr_size;
    let w = usize::from(ps);
    let funcnames = pclntab_vaddr.checked_add(header.funcname_off)?;
    moduledata_candidates(sections, pclntab_vaddr, ps)
        .filter(|md| read_word(md, w, ps, false) == Some(funcnames))
        .find_map(|md| {
            let text = read_word(md, TEXT_WORD * w, ps, false)?;
            let minpc = read_word(md, MINPC_WORD * w, ps, false)?;
            (text != 0 && text.checked_add(first_entry_off) == Some(minpc)).then_some(text)
        })
}

/// The sections the module data may be in: `.go.module` (Go ≥1.26) holds only it; older
/// linkers put it in `.noptrdata`, external ones elsewhere among the data.
pub(super) const MODULEDATA_SECTIONS: [&str; 4] =
    [".go.module", ".noptrdata", ".data", ".data.rel.ro"];

/// Every pointer-aligned place in `sections` whose first word is `pclntab_vaddr`, as the
/// bytes from there on: the candidates for the module data, which begins with `pcHeader *`.
pub(super) fn moduledata_candidates<'a>(
    sections: &'a [&'a [u8]],
    pclntab_vaddr: u64,
    ptr_size: u8,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    let w = usize::from(ptr_size);
    sections.iter().flat_map(move |data| {
        (0..data.len())
            .step_by(w)
            .filter(move |&at| read_word(data, at, ptr_size, false) == Some(pclntab_vaddr))
            .map(move |at| &data[at..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a table with functions `a` at +0 and `bb` at +0x40 from `base`, text ending at +0x70.
    fn table(magic: u32, text_start: u64) -> Vec<u8> {
        let old = magic == MAGIC_GO116;
        let mut t = Vec::new();
        t.extend(magic.to_le_bytes());
        t.extend([0, 0, 1, 8]);
        let header_words = if old { 7 } else { 8 };
        let header_len = 8 + 8 * header_words;
        let funcname_off = header_len as u64;
        let names = b"a\0bb\0";
        let pcln_off = funcname_off + names.len() as u64;
        let pair = if old { 16 } else { 8 };
        let funcs_at = 3 * pair; // _func records follow the 3 functab rows
        let func_len = if old { 12 } else { 8 };
        let mut words = vec![2u64, 0];
        if !old {
            words.push(text_start);
        }
        words.extend([funcname_off, 0, 0, 0, pcln_off]);
        words.iter().for_each(|w| t.extend(w.to_le_bytes()));
        t.extend(names);
        let rows = [(0u64, funcs_at), (0x40, funcs_at + func_len), (0x70, 0)];
        for (entry, func_off) in rows {
            if old {
                t.extend((text_start + entry).to_le_bytes());
                t.extend((func_off as u64).to_le_bytes());
            } else {
                t.extend((entry as u32).to_le_bytes());
                t.extend((func_off as u32).to_le_bytes());
            }
        }
        for (entry, name_off) in [(0u64, 0i32), (0x40, 2)] {
            if old {
                t.extend((text_start + entry).to_le_bytes());
            } else {
                t.extend((entry as u32).to_le_bytes());
            }
            t.extend(name_off.to_le_bytes());
        }
        t
    }

    fn expected(base: u64) -> Vec<RawFunc> {
        vec![
            RawFunc {
                name: "a".into(),
                entry: base,
                end: base + 0x40,
            },
            RawFunc {
                name: "bb".into(),
                entry: base + 0x40,
                end: base + 0x70,
            },
        ]
    }

    #[test]
    fn reads_go_1_16_layout() {
        let t = table(MAGIC_GO116, 0x40_1000);
        let h = parse_header(&t).expect("header");
        assert!(h.absolute_entries);
        assert_eq!(
            functions(&t, &h, 0).expect("functions"),
            expected(0x40_1000)
        );
    }

    #[test]
    fn reads_go_1_18_and_1_20_layouts() {
        for magic in [MAGIC_GO118, MAGIC_GO120] {
            let t = table(magic, 0x40_1000);
            let h = parse_header(&t).expect("header");
            assert_eq!(h.text_start, 0x40_1000);
            assert_eq!(
                functions(&t, &h, h.text_start).expect("functions"),
                expected(0x40_1000)
            );
        }
    }

    #[test]
    fn rejects_bad_tables_without_panicking() {
        assert!(parse_header(&[]).is_err());
        assert!(parse_header(&MAGIC_GO12.to_le_bytes()).is_err());
        let t = table(MAGIC_GO120, 0);
        let h = parse_header(&t).expect("header");
        for cut in [10, 80, t.len() - 3] {
            let _ = parse_header(&t[..cut]).and_then(|h| functions(&t[..cut], &h, 0));
        }
        let huge = Header {
            nfunc: u64::MAX / 2,
            ..h
        };
        assert!(functions(&t, &huge, 0).is_err());
    }

    #[test]
    fn finds_headers_by_magic_on_aligned_offsets() {
        let t = table(MAGIC_GO120, 0x40_1000);
        let mut data = vec![0xffu8; 16];
        data.extend(&t);
        data.extend(MAGIC_GO118.to_le_bytes()); // unaligned noise below
        let mut shifted = vec![0u8; 4];
        shifted.extend(MAGIC_GO118.to_le_bytes());
        data.extend(shifted);
        assert_eq!(header_candidates(&data).collect::<Vec<_>>(), vec![16]);
    }

    #[test]
    fn finds_text_start_in_module_data() {
        let t = table(MAGIC_GO120, 0);
        let h = parse_header(&t).expect("header");
        let pclntab = 0x70_0000u64;
        let mut md = vec![0u64; 30];
        md[3] = pclntab; // noise before the module data
        md[5] = pclntab;
        md[6] = pclntab + h.funcname_off;
        md[5 + 20] = 0x40_2440 + 0x20; // minpc
        md[5 + 22] = 0x40_2440; // text
        let bytes: Vec<u8> = md.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(
            text_from_moduledata(&[&bytes], pclntab, &h, 0x20),
            Some(0x40_2440)
        );
        assert_eq!(text_from_moduledata(&[&bytes], pclntab, &h, 0x10), None);
    }
}
