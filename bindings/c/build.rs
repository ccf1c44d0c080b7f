//! Writes include/flowai.h from the exported functions with cbindgen.
//!
//! The header is committed; it is rewritten only when its text changes, so an unchanged
//! API leaves the file (and its timestamp) alone and CI can check it with `git diff`. The
//! `include/flowai_methods.h` it includes and `src/generated.rs` come from flowai-ffi's
//! method and error tables instead (`FLOWAI_BLESS=1 cargo test -p flowai-ffi --test generated`).
//! Without the `header` feature (the packages of bindings/dist.sh) the committed header is
//! used as it is.

#[cfg(not(feature = "header"))]
fn main() {}

#[cfg(feature = "header")]
fn main() {
    use std::path::PathBuf;

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let crate_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let header = crate_dir.join("../../include/flowai.h");
    let config = match cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")) {
        Ok(config) => config,
        Err(err) => {
            println!("cargo:warning=cbindgen.toml: {err}");
            std::process::exit(1);
        }
    };
    let bindings = match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => bindings,
        Err(err) => {
            println!("cargo:warning=cbindgen could not generate flowai.h: {err}");
            std::process::exit(1);
        }
    };
    let mut text = Vec::new();
    bindings.write(&mut text);
    if std::fs::read(&header).ok().as_deref() != Some(text.as_slice()) {
        if let Some(dir) = header.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // A read-only source tree (vendored builds) still gets a library; the committed
        // header is then used as it is, and tests/c/run.sh catches a stale one.
        if let Err(err) = std::fs::write(&header, &text) {
            println!("cargo:warning=cannot write {}: {err}", header.display());
        }
    }
}
