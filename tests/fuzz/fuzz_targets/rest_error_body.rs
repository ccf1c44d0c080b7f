//! Fuzz target: REST error bodies become bounded error messages.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let detail = flowai_core::http::error_detail(data);
    let e = flowai_core::Error::from_status(500, &detail);
    assert!(e.message().chars().count() <= 320);
});
