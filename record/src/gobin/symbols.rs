//! The function index: Go symbol name → address, size and the file offset a uprobe attaches to.
//! `.symtab` is used when the binary has one; stripped binaries fall back to `.gopclntab`.

use std::collections::HashMap;

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

use super::image::Image;
use super::pclntab::{self, RawFunc};

/// A function of the traced binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Exact Go symbol name, e.g. `net/http.(*Transport).roundTrip`.
    pub name: String,
    /// Virtual address of the entry as linked (before any PIE load bias).
    pub addr: u64,
    /// Bytes from `addr` to the end of the function. From `.symtab` this is the linker's size;
    /// from `.gopclntab` it runs to the next function and so includes the alignment padding.
    pub size: u64,
    /// Offset of the entry in the file: what a uprobe attach takes.
    pub file_offset: u64,
}

/// Functions by exact name; when a name repeats, the lowest address wins.
///
/// In `.gopclntab` a name repeats for an ABI wrapper and the function it wraps (`.symtab` tells
/// them apart with an `.abi0` suffix). The linker emits all wrappers after the real code, so the
/// lowest address is the function body: for Go functions that is what `.symtab`'s plain name
/// gives too; for assembly functions the plain name in `.symtab` is the ABIInternal wrapper while
/// this gives the ABI0 body. The probes only target Go functions.
pub(super) type Index = HashMap<String, Function>;

/// Text symbols of `.symtab`, or `None` when the binary has none (stripped) or not Go's.
pub(super) fn from_symtab(file: &object::File<'_>) -> Option<Vec<RawFunc>> {
    let mut syms: Vec<(u64, u64, &str)> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.address() != 0)
        .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?)))
        .collect();
    // A table without the runtime's entry point is not Go's (e.g. one a tool cut down to a few C
    // symbols); the pclntab is then the complete source.
    if !syms.iter().any(|&(_, _, name)| name == "runtime.main") {
        return None;
    }
    syms.sort_by_key(|&(addr, size, _)| (addr, size));
    // A zero size (marker symbols such as `runtime.text`, or a linker that left sizes out)
    // becomes the distance to the next higher address, as the pclntab does.
    let next_addr: Vec<u64> = syms
        .iter()
        .map(|&(addr, _, _)| {
            let after = syms.partition_point(|&(a, _, _)| a <= addr);
            syms.get(after).map_or(addr, |&(a, _, _)| a)
        })
        .collect();
    Some(
        syms.iter()
            .zip(next_addr)
            .map(|(&(addr, size, name), next)| RawFunc {
                name: name.to_string(),
                entry: addr,
                end: if size == 0 {
                    next
                } else {
                    addr.saturating_add(size)
                },
            })
            .collect(),
    )
}

/// Every function in `.gopclntab` (`.data.rel.ro.gopclntab` in PIE builds). External linkers
/// may fold it into `.data.rel.ro` (Go 1.19 `-buildmode=pie -linkmode=external`), where it is
/// found by its header and kept only if its functions lie inside `.text`.
pub(super) fn from_pclntab(file: &object::File<'_>) -> Result<Vec<RawFunc>, String> {
    let named = [".gopclntab", ".data.rel.ro.gopclntab"]
        .iter()
        .find_map(|name| file.section_by_name(name));
    if let Some(section) = named {
        let data = section
            .data()
            .map_err(|e| format!("cannot read .gopclntab: {e}"))?;
        return read_pclntab(file, section.address(), data).map_err(|e| format!(".gopclntab: {e}"));
    }
    folded_pclntab(file)
        .map(|(_, funcs)| funcs)
        .ok_or_else(|| "neither .symtab nor .gopclntab is present".to_string())
}

/// Where the pclntab is: its section, or where an external linker folded it.
pub(super) fn pclntab_address(file: &object::File<'_>) -> Option<u64> {
    [".gopclntab", ".data.rel.ro.gopclntab"]
        .iter()
        .find_map(|name| file.section_by_name(name))
        .map(|s| s.address())
        .or_else(|| folded_pclntab(file).map(|(vaddr, _)| vaddr))
}

/// A pclntab without a section of its own, found by its header: its address and functions.
fn folded_pclntab(file: &object::File<'_>) -> Option<(u64, Vec<RawFunc>)> {
    let text = file
        .section_by_name(".text")
        .map(|t| t.address()..t.address().saturating_add(t.size()));
    for name in [".data.rel.ro", ".rodata"] {
        let Some(section) = file.section_by_name(name) else {
            continue;
        };
        let Ok(data) = section.data() else {
            continue;
        };
        for at in pclntab::header_candidates(data) {
            let Some(table) = data.get(at..) else {
                continue;
            };
            let vaddr = section.address().saturating_add(at as u64);
            let Ok(funcs) = read_pclntab(file, vaddr, table) else {
                continue;
            };
            let inside = |f: &RawFunc| text.as_ref().is_some_and(|t| t.contains(&f.entry));
            if funcs.first().is_some_and(inside) && funcs.last().is_some_and(inside) {
                return Some((vaddr, funcs));
            }
        }
    }
    None
}

/// The functions of the pclntab at `vaddr`, whose bytes (to the end of its section) are `data`.
fn read_pclntab(file: &object::File<'_>, vaddr: u64, data: &[u8]) -> Result<Vec<RawFunc>, String> {
    let header = pclntab::parse_header(data)?;
    let text_start = if header.absolute_entries || header.text_start != 0 {
        header.text_start
    } else {
        text_start_fallback(file, vaddr, data, &header)?
    };
    pclntab::functions(data, &header, text_start)
}

/// Go ≥1.26 stores 0 as the pclntab's text start: find `runtime.text` in the module data, and
/// only when that fails assume it is the start of `.text` (true for Go's internal linker).
fn text_start_fallback(
    file: &object::File<'_>,
    pclntab_vaddr: u64,
    data: &[u8],
    header: &pclntab::Header,
) -> Result<u64, String> {
    let first = pclntab::first_entry_off(data, header).ok_or("empty functab")?;
    let candidates: Vec<&[u8]> = pclntab::MODULEDATA_SECTIONS
        .iter()
        .filter_map(|name| file.section_by_name(name)?.data().ok())
        .collect();
    if let Some(text) = pclntab::text_from_moduledata(&candidates, pclntab_vaddr, header, first) {
        return Ok(text);
    }
    file.section_by_name(".text")
        .map(|s| s.address())
        .ok_or_else(|| "cannot find the text start (no module data, no .text section)".to_string())
}

/// Turns raw functions into the index, attaching each entry's file offset. Functions whose entry
/// is not backed by the file cannot be probed and are left out.
pub(super) fn index(funcs: Vec<RawFunc>, image: &Image<'_>) -> Index {
    let mut index = Index::with_capacity(funcs.len());
    for f in funcs {
        let Some(file_offset) = image.file_offset(f.entry) else {
            continue;
        };
        let existing = index.get(&f.name).map(|e| e.addr);
        if existing.is_some_and(|addr| addr <= f.entry) {
            continue;
        }
        index.insert(
            f.name.clone(),
            Function {
                size: f.end.saturating_sub(f.entry),
                addr: f.entry,
                file_offset,
                name: f.name,
            },
        );
    }
    index
}

#[cfg(test)]
mod tests {
    use super::super::testbin;
    use super::*;

    /// Functions that `record` hooks; they must resolve identically with and without `.symtab`.
    const HOOKED: [&str; 4] = [
        "net/http.(*Transport).roundTrip",
        "net/http.serverHandler.ServeHTTP",
        "net/http.(*response).finishRequest",
        "runtime.newproc1",
    ];

    /// Cross-checks both sources on one binary that has a `.symtab`.
    fn check_pclntab_against_symtab(path: &std::path::Path) {
        let data = std::fs::read(path).expect("read probe");
        let file = object::File::parse(&*data).expect("parse probe");
        let image = Image::new(&file, &data);
        let symtab = index(from_symtab(&file).expect("probe has .symtab"), &image);
        let pcln = index(from_pclntab(&file).expect("pclntab parses"), &image);
        let at = path.display();
        assert!(
            pcln.len() > 1000,
            "{at}: only {} functions in pclntab",
            pcln.len()
        );
        for name in HOOKED {
            let s = symtab
                .get(name)
                .unwrap_or_else(|| panic!("{at}: {name} not in .symtab"));
            let p = pcln
                .get(name)
                .unwrap_or_else(|| panic!("{at}: {name} not in .gopclntab"));
            assert_eq!(
                (s.addr, s.file_offset),
                (p.addr, p.file_offset),
                "{at}: {name}"
            );
            // The pclntab size includes padding up to the next function.
            assert!(
                p.size >= s.size && p.size < s.size + 64,
                "{at}: {name}: {p:?} vs {s:?}"
            );
        }
        // Every pclntab function that .symtab also names sits at the same address there, save
        // assembly functions, whose body .symtab calls `NAME.abi0` (see `Index`).
        let same = |p: &Function, name: &str| symtab.get(name).is_some_and(|s| s.addr == p.addr);
        let mismatched: Vec<&str> = pcln
            .values()
            .filter(|p| symtab.contains_key(&p.name))
            .filter(|p| !same(p, &p.name) && !same(p, &format!("{}.abi0", p.name)))
            .map(|p| p.name.as_str())
            .collect();
        assert!(
            mismatched.is_empty(),
            "{at}: addresses differ: {mismatched:?}"
        );
    }

    #[test]
    fn pclntab_agrees_with_symtab() {
        for probe in testbin::ProbeBuild::all() {
            check_pclntab_against_symtab(&probe.full);
            if let Some(external) = &probe.external {
                check_pclntab_against_symtab(external);
            }
        }
    }

    #[test]
    fn stripped_binary_resolves_through_pclntab() {
        for probe in testbin::ProbeBuild::all() {
            let data = std::fs::read(&probe.stripped).expect("read probe");
            let file = object::File::parse(&*data).expect("parse probe");
            assert!(from_symtab(&file).is_none(), "-s -w left a .symtab");
            let image = Image::new(&file, &data);
            let pcln = index(from_pclntab(&file).expect("pclntab parses"), &image);
            for name in HOOKED {
                let f = pcln
                    .get(name)
                    .unwrap_or_else(|| panic!("{name} not in .gopclntab"));
                assert!(f.size > 0 && f.file_offset > 0, "{f:?}");
            }
        }
    }
}
