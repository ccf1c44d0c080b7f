//! Fuzz target: webhook bodies are verified and parsed without a panic, errors are typed.
#![no_main]
use flowai_core::webhook::{KeyCheck, Verifier};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(v) = Verifier::new(flowai_core::Secret::new("fuzz-verify-key")) else { return };
    for check in [KeyCheck::Verified, KeyCheck::Absent] {
        if let Err(e) = v.parse_checked(check, data) {
            assert!(matches!(e.kind(), flowai_core::ErrorKind::Protocol | flowai_core::ErrorKind::Verification));
        }
    }
});
