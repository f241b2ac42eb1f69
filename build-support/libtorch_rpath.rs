//! Shared build script of the crates that link libtorch or may (embed, keywords through embed,
//! sasrec, the facade). An rpath to a library that a binary does not use is harmless.
//!
//! torch-sys links libtorch dynamically but records no search path in the binaries, so test,
//! example and bench executables would need `LD_LIBRARY_PATH`. This script adds an rpath to
//! libtorch's `lib/` folder (resolved through the `.libtorch` link, so that the wheel's own
//! `$ORIGIN`-relative paths to its CUDA libraries keep working).

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");
    let Some(libtorch) = std::env::var_os("LIBTORCH") else {
        return;
    };
    let lib = std::path::Path::new(&libtorch).join("lib");
    let lib = std::fs::canonicalize(&lib).unwrap_or(lib);
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}
