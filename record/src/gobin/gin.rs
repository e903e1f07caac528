//! gin's route templates, read where gin's router returns them.
//!
//! gin matches a request with `(*node).getValue(path, ...) (value nodeValue)`, whose result
//! holds the handlers and the route (`fullPath`). Go ≥ 1.17 returns a struct in registers,
//! one per word, so at each `RET` of getValue the route is a (pointer, length) pair in two
//! registers, and no struct offset has to be known: only which registers. gin ≥ 1.7's
//! `nodeValue{handlers []HandlerFunc; params *Params; tsr bool; fullPath string}` puts it in
//! R8/R9 (the 6th and 7th result registers); gin 1.6's `params Params` (a slice) moved it two
//! further. DWARF, when present, says which layout the binary has; without it gin ≥ 1.7 is
//! assumed (gin 1.7 is from 2021, and Debian's is 1.8).

use super::dwarf::Members;

/// gin's router lookup, whose `RET`s are probed.
pub const GET_VALUE: &str = "github.com/gin-gonic/gin.(*node).getValue";
/// The DWARF struct of its result.
pub(super) const NODE_VALUE: &str = "github.com/gin-gonic/gin.nodeValue";

/// Index among the result registers (RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11) of the
/// route's pointer, for gin ≥ 1.7; its length is in the next one.
const DEFAULT_ROUTE_REGISTER: u64 = 5;
/// The last index whose next register still holds a result.
const MAX_ROUTE_REGISTER: u64 = 7;

/// Which result register holds the route's pointer: from DWARF when the binary has it, else
/// gin ≥ 1.7's. `None` when DWARF shows a layout whose route is not in registers.
pub(super) fn route_register(members: Option<&Members>) -> Option<u64> {
    let Some(fields) = members.and_then(|m| m.get(NODE_VALUE)) else {
        return Some(DEFAULT_ROUTE_REGISTER);
    };
    // Every field before fullPath is word-sized or padded to a word (the bool), and each word
    // of a register-assigned result takes one register: the word index is the register index.
    let offset = *fields.get("fullPath")?;
    let index = offset / 8;
    (offset % 8 == 0 && index <= MAX_ROUTE_REGISTER).then_some(index)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn layout(full_path: u64) -> Members {
        let mut m = Members::new();
        m.insert(
            NODE_VALUE.to_string(),
            HashMap::from([
                ("handlers".to_string(), 0),
                ("fullPath".to_string(), full_path),
            ]),
        );
        m
    }

    #[test]
    fn register_follows_the_layout() {
        assert_eq!(route_register(None), Some(5));
        assert_eq!(route_register(Some(&Members::new())), Some(5));
        // gin ≥ 1.7: handlers (3 words), params pointer, tsr (padded): fullPath at 40.
        assert_eq!(route_register(Some(&layout(40))), Some(5));
        // gin 1.6: params is a slice (3 words): fullPath at 56.
        assert_eq!(route_register(Some(&layout(56))), Some(7));
        assert_eq!(route_register(Some(&layout(80))), None);
    }

    /// Every gin_demo built by scripts/build-demos.sh has the layout assumed for stripped
    /// binaries, which is what makes the assumption safe for them.
    #[test]
    fn demo_builds_have_the_assumed_layout() {
        let bin_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/bin");
        let versions: Vec<_> = std::fs::read_dir(&bin_dir)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        if versions.is_empty() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "no demo builds under {}",
                bin_dir.display()
            );
            eprintln!("skipped: no demo builds (run scripts/build-demos.sh)");
            return;
        }
        for v in versions {
            let path = v.join("dwarf/gin_demo");
            let Ok(data) = std::fs::read(&path) else {
                continue;
            };
            let file = object::File::parse(&*data).expect("parse gin_demo");
            let members = super::super::dwarf::struct_members(&file, &[NODE_VALUE])
                .expect("DWARF parses")
                .expect("has DWARF");
            assert_eq!(
                route_register(Some(&members)),
                Some(DEFAULT_ROUTE_REGISTER),
                "{}",
                path.display()
            );
            assert!(members[NODE_VALUE].contains_key("fullPath"));
        }
    }
}
