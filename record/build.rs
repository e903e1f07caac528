//! Compiles `bpf/quadtrace.bpf.c` and generates its Rust skeleton into `OUT_DIR`.

use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

fn main() {
    // Read at run time, not with env!(): cargo reuses this script's binary across clones of the
    // workspace that share a target directory, and a path baked in at compile time would make a
    // clone build another clone's BPF code.
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let bpf_dir = PathBuf::from(manifest_dir).join("../bpf");
    let src = bpf_dir.join("quadtrace.bpf.c");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("quadtrace.skel.rs");
    SkeletonBuilder::new()
        .source(&src)
        .clang_args([
            "-I",
            bpf_dir.to_str().expect("utf-8 path"),
            "-O2",
            "-g",
            "-Wall",
        ])
        .build_and_generate(&out)
        .unwrap_or_else(|e| panic!("building {}: {e:#}", src.display()));
    // Relative paths (to this package) so that the check follows whichever clone is built.
    for f in ["quadtrace.bpf.c", "event.h", "vmlinux.h"] {
        println!("cargo:rerun-if-changed=../bpf/{f}");
    }
}
