//! Fuzz target: Phoenix frames parse or fail with a protocol error, and what parses round-trips.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match flowai_core::phoenix::Frame::parse(text) {
            Ok(frame) => assert_eq!(flowai_core::phoenix::Frame::parse(&frame.to_json()).ok(), Some(frame)),
            Err(e) => assert_eq!(e.kind(), flowai_core::ErrorKind::Protocol),
        }
    }
});
