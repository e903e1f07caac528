//! Compiles `bpf/quadtrace.bpf.c` and generates its Rust skeleton into `OUT_DIR`.

use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

fn main() {
    let bpf_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bpf");
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
    for f in ["quadtrace.bpf.c", "event.h", "vmlinux.h"] {
        println!("cargo:rerun-if-changed={}", bpf_dir.join(f).display());
    }
}
