//! Struct member offsets from the binary's own DWARF: exact for that build, whatever its Go
//! version, so it wins over the generated table whenever the binary was not built with `-w`.

use std::borrow::Cow;
use std::collections::HashMap;

use gimli::{EndianSlice, LittleEndian};
use object::{Object, ObjectSection};

/// Struct name → member name → byte offset, for the structs that were asked for and found.
pub(super) type Members = HashMap<String, HashMap<String, u64>>;

/// Member offsets of the `wanted` struct types (exact DWARF names such as `net/http.Request`),
/// or `None` when the binary carries no `.debug_info` (built with `-w` or stripped).
///
/// Go ≥1.19 compresses DWARF with `SHF_COMPRESSED` and older linkers write `.zdebug_*`
/// sections; `object` finds and inflates both.
pub(super) fn struct_members(
    file: &object::File<'_>,
    wanted: &[&str],
) -> Result<Option<Members>, String> {
    if file.section_by_name(".debug_info").is_none() {
        return Ok(None);
    }
    let load = |id: gimli::SectionId| -> Result<Cow<'_, [u8]>, String> {
        match file.section_by_name(id.name()) {
            Some(section) => section
                .uncompressed_data()
                .map_err(|e| format!("cannot read {}: {e}", id.name())),
            None => Ok(Cow::Borrowed(&[])),
        }
    };
    let sections = gimli::DwarfSections::load(load)?;
    let dwarf = sections.borrow(|s| EndianSlice::new(s, LittleEndian));
    collect(&dwarf, wanted)
        .map(Some)
        .map_err(|e| format!("malformed DWARF: {e}"))
}

fn collect(
    dwarf: &gimli::Dwarf<EndianSlice<'_, LittleEndian>>,
    wanted: &[&str],
) -> gimli::Result<Members> {
    let mut found = Members::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next()? {
        let unit = dwarf.unit(header)?;
        let mut entries = unit.entries();
        // The wanted struct whose members are being read, and the depth of its DIE.
        let mut current: Option<(String, isize)> = None;
        while let Some(entry) = entries.next_dfs()? {
            let depth = entry.depth();
            if current.as_ref().is_some_and(|(_, d)| depth <= *d) {
                current = None;
            }
            let tag = entry.tag();
            if tag == gimli::DW_TAG_structure_type {
                let Some(name) = name_of(dwarf, &unit, entry)? else {
                    continue;
                };
                // Go emits each type once; should one repeat, the first definition stands.
                if wanted.contains(&name.as_str()) && !found.contains_key(&name) {
                    found.insert(name.clone(), HashMap::new());
                    current = Some((name, depth));
                }
            } else if tag == gimli::DW_TAG_member {
                let Some((structure, struct_depth)) = &current else {
                    continue;
                };
                if depth != struct_depth + 1 {
                    continue;
                }
                let (Some(name), Some(offset)) =
                    (name_of(dwarf, &unit, entry)?, member_offset(entry))
                else {
                    continue;
                };
                if let Some(members) = found.get_mut(structure) {
                    members.entry(name).or_insert(offset);
                }
            }
        }
        if found.len() == wanted.len() {
            break;
        }
    }
    Ok(found)
}

fn name_of(
    dwarf: &gimli::Dwarf<EndianSlice<'_, LittleEndian>>,
    unit: &gimli::Unit<EndianSlice<'_, LittleEndian>>,
    entry: &gimli::DebuggingInformationEntry<EndianSlice<'_, LittleEndian>>,
) -> gimli::Result<Option<String>> {
    let Some(value) = entry.attr_value(gimli::DW_AT_name) else {
        return Ok(None);
    };
    let name = dwarf.attr_string(unit, value)?;
    Ok(Some(name.to_string_lossy().into_owned()))
}

/// Go writes `DW_AT_data_member_location` as a plain constant; a location expression (which
/// no Go version emits) is treated as absent, which then surfaces as a missing field.
fn member_offset(
    entry: &gimli::DebuggingInformationEntry<EndianSlice<'_, LittleEndian>>,
) -> Option<u64> {
    entry.attr(gimli::DW_AT_data_member_location)?.udata_value()
}

#[cfg(test)]
mod tests {
    use super::super::testbin;
    use super::*;

    #[test]
    fn reads_struct_members_from_go_dwarf() {
        for probe in testbin::ProbeBuild::all() {
            let data = std::fs::read(&probe.full).expect("read probe");
            let file = object::File::parse(&*data).expect("parse probe");
            let wanted = ["runtime.hchan", "net/url.URL", "no/such.Type"];
            let members = struct_members(&file, &wanted)
                .expect("DWARF parses")
                .expect("probe has DWARF");
            // hchan's first field has been qcount since Go 1.0; URL.Scheme likewise.
            assert_eq!(members["runtime.hchan"].get("qcount"), Some(&0));
            assert_eq!(members["net/url.URL"].get("Scheme"), Some(&0));
            assert!(members["net/url.URL"]["Path"] > 0);
            assert!(!members.contains_key("no/such.Type"));

            let data = std::fs::read(&probe.stripped).expect("read probe");
            let file = object::File::parse(&*data).expect("parse probe");
            assert_eq!(struct_members(&file, &wanted), Ok(None));
        }
    }
}
