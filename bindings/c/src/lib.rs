//! The C ABI of flowai: opaque handles, status codes and JSON strings over `flowai-core`.
//!
//! Conventions shared by every export (the header repeats them):
//! - every fallible function returns a `FlowaiStatus` and writes results to out-parameters
//!   only on `FLOWAI_OK`;
//! - strings passed in are borrowed for the call and copied; strings handed out are owned by
//!   the caller and freed with `flowai_string_free`;
//! - a panic inside the library becomes `FLOWAI_INTERNAL`, it never unwinds into C.

mod aida;
mod event;
mod ffi;
mod rest;
mod session;
mod webhook;

use std::ffi::{CString, c_char, c_int};

pub use aida::*;
pub use event::{FlowaiEvent, FlowaiEventCallback, FlowaiEventKind};
pub use ffi::{FlowaiFreeCallback, FlowaiStatus};
pub use rest::*;
pub use session::*;
pub use webhook::*;

/// The library version, e.g. "0.1.0". The string is static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn flowai_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The stable code string of `status`, e.g. "FLOWAI_AUTH" for `FLOWAI_AUTH`, or
/// "FLOWAI_UNKNOWN" for a number that is no status. The string is static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn flowai_error_code_string(status: c_int) -> *const c_char {
    ffi::guard_value(c"FLOWAI_INTERNAL".as_ptr(), || {
        FlowaiStatus::code(status).as_ptr()
    })
}

/// The message of the last failed flowai call on this thread ("" after a successful one),
/// e.g. "FLOWAI_AUTH: HTTP 401: unauthorized". The string is borrowed: it stays valid
/// until the next flowai call on this thread; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn flowai_last_error_message() -> *const c_char {
    ffi::guard_value(c"".as_ptr(), ffi::last_error_ptr)
}

/// Free a string that a flowai function handed out. NULL is ignored. Each such string must
/// be freed exactly once, and only with this function: freeing it twice is undefined
/// behaviour and is not detected.
///
/// # Safety
/// `s` must be NULL or a string returned by a flowai function and not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_string_free(s: *mut c_char) {
    ffi::guard_value((), || {
        if !s.is_null() {
            // SAFETY: every string flowai hands out comes from CString::into_raw, and the
            // caller frees it once.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}
