//! Finds every `RET` of a function. Go moves goroutine stacks, so a uretprobe's rewritten return
//! address would crash the target; return events instead come from plain uprobes placed on each
//! `RET` instruction, which this finds by disassembling the function.

use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic};

use super::{Function, GoBinError, GoBinary};

impl GoBinary {
    /// File offsets of every `RET` in `f`: where its return uprobes go. A function without any
    /// `RET` is an error, since its return events could never be seen.
    pub fn ret_offsets(&self, f: &Function) -> Result<Vec<u64>, GoBinError> {
        let offsets = ret_addrs(self.code(f)?, f.addr)
            .into_iter()
            .map(|addr| self.code_file_offset(f, addr))
            .collect::<Result<Vec<u64>, GoBinError>>()?;
        if offsets.is_empty() {
            return Err(GoBinError::NoRet {
                path: self.path.clone(),
                function: f.name.clone(),
            });
        }
        Ok(offsets)
    }
}

/// Virtual addresses of the `RET` instructions in `code`, which starts at `addr`.
///
/// Decoding is linear from the entry. That is sound for Go: the compiler puts no data in the
/// text (jump tables live in `.rodata`), and functions are padded with `INT3`, which decodes.
/// Bytes that do not decode mean we have walked past the code (e.g. a size that overshoots into
/// something that is not Go code), so decoding stops there rather than trusting what follows.
pub(super) fn ret_addrs(code: &[u8], addr: u64) -> Vec<u64> {
    let mut decoder = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let mut instr = Instruction::default();
    let mut rets = Vec::new();
    while decoder.can_decode() {
        decoder.decode_out(&mut instr);
        if instr.is_invalid() {
            break;
        }
        if instr.mnemonic() == Mnemonic::Ret {
            rets.push(instr.ip());
        }
    }
    rets
}

#[cfg(test)]
mod tests {
    use super::super::testbin;
    use super::*;

    #[test]
    fn finds_rets_skips_padding_and_stops_at_garbage() {
        let code = [
            0x48, 0x89, 0xc3, // mov rbx, rax (contains a 0xC3 byte that is not a RET)
            0xc3, // ret
            0x90, // nop
            0xc2, 0x08, 0x00, // ret 8
            0xc3, // ret
            0xcc, 0xcc, // int3 padding
        ];
        assert_eq!(ret_addrs(&code, 0x1000), vec![0x1003, 0x1005, 0x1008]);
        // 0x06 (push es) is invalid in 64-bit mode: nothing after it counts.
        assert_eq!(ret_addrs(&[0xc3, 0x06, 0xc3], 0x2000), vec![0x2000]);
        assert_eq!(ret_addrs(&[], 0x2000), Vec::<u64>::new());
        // A RET cut short by the end of the buffer is not reported.
        assert_eq!(ret_addrs(&[0xc2, 0x08], 0x3000), Vec::<u64>::new());
    }

    #[test]
    fn every_hooked_function_has_rets_on_c3_bytes() {
        let hooked = [
            "net/http.(*Transport).roundTrip",
            "net/http.serverHandler.ServeHTTP",
            "net/http.(*response).finishRequest",
            "runtime.newproc1",
        ];
        for probe in testbin::ProbeBuild::all() {
            for path in [&probe.full, &probe.stripped] {
                let bin = GoBinary::open(path).expect("open probe");
                let file = std::fs::read(path).expect("read probe");
                for name in hooked {
                    let f = bin
                        .function(name)
                        .unwrap_or_else(|| panic!("{name} missing"));
                    let offsets = bin.ret_offsets(f).expect("disassemble");
                    assert!(!offsets.is_empty(), "{name}: no RET");
                    for off in offsets {
                        let byte = usize::try_from(off).ok().and_then(|o| file.get(o));
                        assert_eq!(byte, Some(&0xc3), "{name} at file offset {off:#x}");
                        assert!(off > f.file_offset && off < f.file_offset + f.size);
                    }
                }
            }
        }
    }
}
