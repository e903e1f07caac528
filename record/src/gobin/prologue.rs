//! Where to put a function's entry probe.
//!
//! A Go function (unless NOSPLIT) starts with a stack check: it compares SP with the goroutine's
//! stack guard (`g.stackguard0`, addressed through R14) and, when the stack must grow, calls
//! `runtime.morestack`, which copies the stack and jumps back to the function's first
//! instruction. A probe on that first instruction then fires twice for one call. The instruction
//! right after the check's conditional jump runs exactly once per call, and nothing before it
//! touches the argument registers or R14, so the entry probe goes there.

use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic, OpKind, Register};

use super::{Function, GoBinError, GoBinary};

impl GoBinary {
    /// File offset for the entry probe of `f`: just past its stack check, so that a call whose
    /// stack had to grow is seen once, not twice.
    pub fn entry_offset(&self, f: &Function) -> Result<u64, GoBinError> {
        let addr = entry_after_stack_check(self.code(f)?, f.addr);
        self.code_file_offset(f, addr)
    }
}

/// How many instructions the stack check may take at most (the huge-frame variant is the
/// longest: mov, sub, jb, cmp, jbe).
const MAX_PROLOGUE_INSTRUCTIONS: usize = 8;

/// Virtual address of the first instruction past the stack check of the function whose code
/// starts at `addr`; `addr` itself when there is no check (NOSPLIT functions).
pub(super) fn entry_after_stack_check(code: &[u8], addr: u64) -> u64 {
    let mut decoder = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let mut instr = Instruction::default();
    let mut saw_guard_cmp = false;
    for _ in 0..MAX_PROLOGUE_INSTRUCTIONS {
        if !decoder.can_decode() {
            break;
        }
        decoder.decode_out(&mut instr);
        if instr.is_invalid() {
            break;
        }
        if instr.mnemonic() == Mnemonic::Cmp && compares_against_g(&instr) {
            saw_guard_cmp = true;
            continue;
        }
        if saw_guard_cmp {
            if is_conditional_jump(instr.mnemonic()) {
                return instr.next_ip();
            }
            break;
        }
    }
    addr
}

/// The unsigned comparisons the Go compiler emits for stack checks (JLS/JCS and their inverses).
fn is_conditional_jump(m: Mnemonic) -> bool {
    matches!(
        m,
        Mnemonic::Jbe | Mnemonic::Jb | Mnemonic::Ja | Mnemonic::Jae
    )
}

/// `CMP x, [R14+disp]` (or the operands swapped): a comparison with a field of the current g.
fn compares_against_g(instr: &Instruction) -> bool {
    (0..instr.op_count())
        .any(|i| instr.op_kind(i) == OpKind::Memory && instr.memory_base() == Register::R14)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_the_small_frame_stack_check() {
        let code = [
            0x49, 0x3b, 0x66, 0x10, // cmp rsp, [r14+0x10]
            0x76, 0x20, // jbe +0x20 (morestack trailer)
            0x55, // push rbp
            0x48, 0x89, 0xe5, // mov rbp, rsp
        ];
        assert_eq!(entry_after_stack_check(&code, 0x1000), 0x1006);
    }

    #[test]
    fn skips_the_large_frame_stack_check() {
        let code = [
            0x4c, 0x8d, 0xa4, 0x24, 0x00, 0xfe, 0xff, 0xff, // lea r12, [rsp-0x200]
            0x4d, 0x3b, 0x66, 0x10, // cmp r12, [r14+0x10]
            0x0f, 0x86, 0x00, 0x01, 0x00, 0x00, // jbe +0x100
            0x55, // push rbp
        ];
        assert_eq!(entry_after_stack_check(&code, 0x1000), 0x1012);
    }

    #[test]
    fn nosplit_functions_keep_their_entry() {
        let code = [0x55, 0x48, 0x89, 0xe5, 0xc3]; // push rbp; mov rbp, rsp; ret
        assert_eq!(entry_after_stack_check(&code, 0x2000), 0x2000);
        assert_eq!(entry_after_stack_check(&[], 0x2000), 0x2000);
    }
}
