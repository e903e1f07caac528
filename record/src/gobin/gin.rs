//! gin's route templates: where `gin.Context` keeps the route that matched (`fullPath`).
//!
//! gin's layout follows gin's version, not Go's, so the per-Go-version table cannot hold it.
//! DWARF gives it exactly; a stripped binary still has the code of `(*Context).FullPath`, which
//! is nothing but `return c.fullPath`: its first load through the receiver (RAX) names the
//! field's offset. gin keeps exported methods because it links `text/template`, whose
//! `MethodByName` stops the linker from dropping them.

use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic, OpKind, Register};

use super::dwarf::Members;
use super::GoBinary;

/// gin's request dispatcher: it matches the route and runs the handlers on the request's
/// goroutine, with the `*gin.Context` as its argument.
pub const HANDLE_HTTP_REQUEST: &str = "github.com/gin-gonic/gin.(*Engine).handleHTTPRequest";
/// The DWARF struct holding the route, and its member.
pub(super) const CONTEXT_STRUCT: &str = "github.com/gin-gonic/gin.Context";
const FULL_PATH_MEMBER: &str = "fullPath";
const FULL_PATH_METHOD: &str = "github.com/gin-gonic/gin.(*Context).FullPath";

/// How many instructions of `FullPath` to look at before giving up (a stack check, a frame
/// set-up, then the load).
const MAX_INSTRUCTIONS: usize = 16;

impl GoBinary {
    /// Offset of `gin.Context.fullPath`, when the binary uses gin and the offset can be found.
    pub fn gin_full_path_offset(&self) -> Option<u64> {
        self.gin_full_path
    }
}

/// The offset from DWARF members when present, else from the code of `FullPath`.
pub(super) fn full_path_offset(members: Option<&Members>, bin: &GoBinary) -> Option<u64> {
    bin.function(HANDLE_HTTP_REQUEST)?;
    if let Some(offset) = members
        .and_then(|m| m.get(CONTEXT_STRUCT))
        .and_then(|fields| fields.get(FULL_PATH_MEMBER))
    {
        return Some(*offset);
    }
    let f = bin.function(FULL_PATH_METHOD)?;
    first_load_through_receiver(bin.code(f).ok()?, f.addr)
}

/// The displacement of the first 64-bit `MOV reg, [RAX+disp]` in `code`: how a Go ≥ 1.17
/// method reads a field of its pointer receiver. `None` when the code reads none early on.
pub(super) fn first_load_through_receiver(code: &[u8], addr: u64) -> Option<u64> {
    let mut decoder = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let mut instr = Instruction::default();
    for _ in 0..MAX_INSTRUCTIONS {
        if !decoder.can_decode() {
            return None;
        }
        decoder.decode_out(&mut instr);
        if instr.is_invalid() || instr.mnemonic() == Mnemonic::Ret {
            return None;
        }
        if instr.mnemonic() == Mnemonic::Mov
            && instr.op_count() == 2
            && instr.op1_kind() == OpKind::Memory
            && instr.memory_base() == Register::RAX
            && instr.memory_index() == Register::None
            && is_gpr64(instr.op0_register())
        {
            return Some(instr.memory_displacement64());
        }
    }
    None
}

/// RAX..R15: iced-x86 numbers the 64-bit general registers contiguously.
fn is_gpr64(r: Register) -> bool {
    (Register::RAX as u32..=Register::R15 as u32).contains(&(r as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every gin_demo built by scripts/build-demos.sh: the offset read from the stripped build's
    /// code must be the one its DWARF twin states.
    #[test]
    fn stripped_gin_binaries_give_their_dwarf_offset() {
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
            let open = |variant: &str| GoBinary::open(&v.join(variant).join("gin_demo"));
            let (Ok(dwarf), Ok(stripped)) = (open("dwarf"), open("stripped")) else {
                continue;
            };
            let from_dwarf = dwarf.gin_full_path_offset();
            assert!(from_dwarf.is_some(), "{}: no offset", v.display());
            assert_eq!(
                full_path_offset(None, &stripped),
                from_dwarf,
                "{}",
                v.display()
            );
        }
    }

    #[test]
    fn reads_the_offset_of_a_field_getter() {
        // mov rcx, [rax+0x98]; mov rbx, [rax+0xa0]; mov rax, rcx; ret
        let code = [
            0x48, 0x8b, 0x88, 0x98, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x98, 0xa0, 0x00, 0x00, 0x00,
            0x48, 0x89, 0xc8, 0xc3,
        ];
        assert_eq!(first_load_through_receiver(&code, 0x1000), Some(0x98));
    }

    #[test]
    fn skips_the_stack_check_and_stops_at_ret() {
        // cmp rsp, [r14+0x10]; jbe +0x20; mov rdx, [rax+0x10]; ret
        let code = [
            0x49, 0x3b, 0x66, 0x10, 0x76, 0x20, 0x48, 0x8b, 0x50, 0x10, 0xc3,
        ];
        assert_eq!(first_load_through_receiver(&code, 0x1000), Some(0x10));
        // xor eax, eax; ret: no load
        assert_eq!(first_load_through_receiver(&[0x31, 0xc0, 0xc3], 0), None);
        assert_eq!(first_load_through_receiver(&[], 0), None);
    }
}
