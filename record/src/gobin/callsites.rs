//! Call sites of runtime functions in code that can carry a request.
//!
//! Every goroutine of a program goes through `runtime.newproc1` and the channel functions,
//! most of them for the runtime's and the standard library's own plumbing (a connection's read
//! and write loops, the server's background read, timers): a probe on the runtime function
//! pays for all of them. A `go` statement compiles to `CALL runtime.newproc` and a channel
//! operation to a call of `chansend1`, `chanrecv1`, `chanrecv2` or `selectgo` in the function
//! that wrote it, so a probe on that CALL (arguments in registers) and on the instruction after
//! it (results) sees exactly the operations of the code chosen: the program's own packages and
//! its third-party libraries, where a request can be handed to another goroutine, and not the
//! packages that only move bytes. Standard-library code inlined into the program's functions
//! comes along with them, as it should.

use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic, OpKind};

use super::{Function, GoBinError, GoBinary};

/// One `CALL` of a watched function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSite {
    /// The function called, e.g. `runtime.newproc`.
    pub callee: &'static str,
    /// The function holding the call.
    pub caller: String,
    /// File offset of the `CALL` instruction (arguments are in registers there).
    pub call: u64,
    /// File offset of the instruction after it (results are in registers there).
    pub after: u64,
}

/// Standard-library functions that run request code on another goroutine or deliver a
/// program's work, whose call sites are kept although their package is left out: the
/// handler goroutine of `http.TimeoutHandler`, and the goroutine that runs a
/// `time.AfterFunc` callback.
const KEPT_STD_FUNCTIONS: &[&str] = &["net/http.(*timeoutHandler).ServeHTTP", "time.goFunc"];

/// Third-party packages (and their subpackages) that only move bytes between connections and
/// the goroutines that serve them: their channel operations and goroutines carry frames and
/// messages, never a request into user code (that happens on the handler goroutine, which the
/// server probes see). grpc-go's transport passes every message through channels.
const BYTE_MOVING_PACKAGES: &[&str] = &["golang.org/x/net/http2", "google.golang.org/grpc"];

/// The package of a Go symbol: the import path up to the first `.` after its last `/`
/// (`github.com/gin-gonic/gin.(*Context).Next` → `github.com/gin-gonic/gin`).
pub fn package_of(symbol: &str) -> &str {
    let after_slash = symbol.rfind('/').map_or(0, |i| i + 1);
    match symbol[after_slash..].find('.') {
        Some(dot) => &symbol[..after_slash + dot],
        None => symbol,
    }
}

/// Whether code of `function` can carry a request: the program's own packages and its
/// third-party libraries, not the standard library (whose import paths have no dot in their
/// first element, including its `vendor/` copies) nor the byte-moving libraries above.
pub fn carries_requests(function: &str) -> bool {
    if KEPT_STD_FUNCTIONS.contains(&function) {
        return true;
    }
    let package = package_of(function);
    let first = package.split('/').next().unwrap_or_default();
    // `main` and other dotless first elements are the standard library, except `main` and
    // packages of GOPATH builds without a domain (`myapp/handlers`), told apart below.
    let std = !first.contains('.') && is_std_root(first);
    let byte_moving = BYTE_MOVING_PACKAGES.iter().any(|p| {
        package == *p
            || package
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    });
    !std && !byte_moving
}

/// Top-level directories of the Go standard library (and its `vendor` and `internal` trees):
/// a dotless import path that starts with one of these is the standard library's; any other
/// dotless path (`main`, `myapp/handlers` in a GOPATH build) is the program's own.
fn is_std_root(first: &str) -> bool {
    const STD_ROOTS: &[&str] = &[
        "archive",
        "bufio",
        "bytes",
        "cmp",
        "compress",
        "container",
        "context",
        "crypto",
        "database",
        "debug",
        "embed",
        "encoding",
        "errors",
        "expvar",
        "flag",
        "fmt",
        "go",
        "hash",
        "html",
        "image",
        "index",
        "internal",
        "io",
        "iter",
        "log",
        "maps",
        "math",
        "mime",
        "net",
        "os",
        "path",
        "plugin",
        "reflect",
        "regexp",
        "runtime",
        "slices",
        "sort",
        "strconv",
        "strings",
        "structs",
        "sync",
        "syscall",
        "testing",
        "text",
        "time",
        "type",
        "unicode",
        "unique",
        "unsafe",
        "vendor",
        "weak",
        "gcWriteBarrier",
    ];
    STD_ROOTS.contains(&first)
}

impl GoBinary {
    /// Every call of the functions in `callees` made by functions that carry requests. A
    /// callee the binary lacks (the linker drops what a program never uses) has no sites.
    pub fn call_sites(&self, callees: &[&'static str]) -> Result<Vec<CallSite>, GoBinError> {
        let targets: Vec<(u64, &'static str)> = callees
            .iter()
            .filter_map(|name| self.function(name).map(|f| (f.addr, *name)))
            .collect();
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let mut sites = Vec::new();
        for f in self.functions() {
            if !carries_requests(&f.name) {
                continue;
            }
            for (call, after, callee) in calls_to(self.code(f)?, f.addr, &targets) {
                sites.push(CallSite {
                    callee,
                    caller: f.name.clone(),
                    call: self.code_file_offset(f, call)?,
                    after: self.code_file_offset(f, after)?,
                });
            }
        }
        sites.sort_by_key(|s| s.call);
        Ok(sites)
    }

    fn functions(&self) -> impl Iterator<Item = &Function> {
        self.functions.values()
    }
}

/// (address of the CALL, address after it, callee) for each direct call in `code` (starting
/// at `addr`) to one of `targets`. Decoding stops at bytes that do not decode, as for RETs.
fn calls_to(
    code: &[u8],
    addr: u64,
    targets: &[(u64, &'static str)],
) -> Vec<(u64, u64, &'static str)> {
    let mut decoder = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let mut instr = Instruction::default();
    let mut out = Vec::new();
    while decoder.can_decode() {
        decoder.decode_out(&mut instr);
        if instr.is_invalid() {
            break;
        }
        if instr.mnemonic() != Mnemonic::Call || instr.op0_kind() != OpKind::NearBranch64 {
            continue;
        }
        let to = instr.near_branch64();
        if let Some((_, name)) = targets.iter().find(|(a, _)| *a == to) {
            out.push((instr.ip(), instr.next_ip(), *name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testbin;
    use super::*;

    #[test]
    fn packages_and_what_carries_requests() {
        assert_eq!(
            package_of("github.com/gin-gonic/gin.(*Context).Next"),
            "github.com/gin-gonic/gin"
        );
        assert_eq!(package_of("main.handle.func1"), "main");
        assert_eq!(package_of("net/http.(*conn).serve"), "net/http");
        assert_eq!(
            package_of("golang.org/x/net/http2.(*serverConn).serve"),
            "golang.org/x/net/http2"
        );
        for yes in [
            "main.handle",
            "main.main.func1",
            "github.com/gin-gonic/gin.(*Context).Next",
            "myapp/handlers.Serve",
            "net/http.(*timeoutHandler).ServeHTTP",
            "time.goFunc",
            "google.golang.org/grpcx.Handler",
        ] {
            assert!(carries_requests(yes), "{yes}");
        }
        for no in [
            "runtime.gcBgMarkWorker",
            "net/http.(*persistConn).readLoop",
            "net/http.(*conn).serve",
            "net.(*Resolver).lookupIPAddr",
            "crypto/tls.(*Conn).Handshake",
            "vendor/golang.org/x/net/http2/hpack.(*Decoder).Write",
            "internal/poll.(*FD).Read",
            "golang.org/x/net/http2.(*serverConn).serve",
            "golang.org/x/net/http2/hpack.(*Decoder).Write",
            "google.golang.org/grpc/internal/transport.(*loopyWriter).run",
            "google.golang.org/grpc.(*Server).serveStreams.func1",
            "time.Sleep",
        ] {
            assert!(!carries_requests(no), "{no}");
        }
    }

    #[test]
    fn finds_direct_calls_only() {
        // call rel32 to 0x2000, nop, call rel32 to 0x3000, call rax (indirect), ret
        let code = [
            0xe8, 0xfb, 0x0f, 0x00, 0x00, // 0x1000: call 0x2000
            0x90, // 0x1005: nop
            0xe8, 0xf5, 0x1f, 0x00, 0x00, // 0x1006: call 0x3000
            0xff, 0xd0, // 0x100b: call rax
            0xc3, // 0x100d: ret
        ];
        let found = calls_to(&code, 0x1000, &[(0x2000, "a"), (0x4000, "b")]);
        assert_eq!(found, vec![(0x1000, 0x1005, "a")]);
    }

    #[test]
    fn the_probe_programs_go_statements_and_channel_operations_are_found() {
        for probe in testbin::ProbeBuild::all() {
            for path in [&probe.full, &probe.stripped] {
                let bin = GoBinary::open(path).expect("open probe");
                let sites = bin
                    .call_sites(&["runtime.newproc", "runtime.chanrecv1", "runtime.chansend1"])
                    .expect("sites");
                let file = std::fs::read(path).expect("read probe");
                assert!(
                    sites
                        .iter()
                        .any(|s| s.caller.starts_with("main.") && s.callee == "runtime.newproc"),
                    "{}: {sites:?}",
                    path.display()
                );
                assert!(sites.iter().all(|s| carries_requests(&s.caller)));
                for s in &sites {
                    // A CALL rel32 is five bytes starting with 0xE8.
                    assert_eq!(file.get(s.call as usize), Some(&0xe8), "{s:?}");
                    assert_eq!(s.after, s.call + 5, "{s:?}");
                }
            }
        }
    }
}
