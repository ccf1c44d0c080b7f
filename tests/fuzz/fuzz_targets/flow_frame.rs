//! Fuzz target: inbound Flow socket frames never panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = flowai_core::socket::frames::parse_inbound(text);
    }
});
