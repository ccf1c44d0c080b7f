//! The generated binding files on disk match what the method table gives; FLOWAI_BLESS=1 rewrites them.

use std::path::Path;

#[test]
fn generated_files_are_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bless = std::env::var_os("FLOWAI_BLESS").is_some();
    let mut stale = Vec::new();
    for (path, content) in flowai_ffi::codegen::files() {
        let file = root.join(path);
        let on_disk = std::fs::read_to_string(&file).unwrap_or_default();
        if on_disk != content {
            if bless {
                std::fs::write(&file, content).expect("write a generated file");
            } else {
                stale.push(path);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run FLOWAI_BLESS=1 cargo test -p flowai-ffi --test generated"
    );
}
