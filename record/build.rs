//! Compiles the BPF objects (`bpf/quadtrace.bpf.c`: the uprobes, one per binary;
//! `bpf/host.bpf.c`: socket and exec tracepoints, one per recording) and generates their Rust
//! skeletons into `OUT_DIR`.

use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

fn main() {
    // Read at run time, not with env!(): cargo reuses this script's binary across clones of the
    // workspace that share a target directory, and a path baked in at compile time would make a
    // clone build another clone's BPF code.
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let bpf_dir = PathBuf::from(manifest_dir).join("../bpf");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for name in ["quadtrace", "host"] {
        let src = bpf_dir.join(format!("{name}.bpf.c"));
        SkeletonBuilder::new()
            .source(&src)
            .clang_args([
                "-I",
                bpf_dir.to_str().expect("utf-8 path"),
                "-O2",
                "-g",
                "-Wall",
            ])
            .build_and_generate(out_dir.join(format!("{name}.skel.rs")))
            .unwrap_or_else(|e| panic!("building {}: {e:#}", src.display()));
    }
    // Relative paths (to this package) so that the check follows whichever clone is built.
    for f in ["quadtrace.bpf.c", "host.bpf.c", "event.h", "vmlinux.h"] {
        println!("cargo:rerun-if-changed=../bpf/{f}");
    }
}
