//! `flowai_emulator_start` / `flowai_emulator_stop`: an emulator in the app's own process in one call each, for the app's offline tests; shorthands over `flowai_open("emulator")` and its `info` method.

use std::ffi::c_char;
use std::ptr;

use flowai_ffi::{Case, Handle};
use serde_json::Value;

use crate::ffi::{self, Listener, guard, json, owned};
use crate::{FlowaiHandle, FlowaiStatus, flowai_close, flowai_free};

/// Start a local Flow.ai + AIDA emulator in this process, on a free 127.0.0.1 port, with
/// `settings_json` (NULL or "" for the defaults; the emulator kind's settings, e.g.
/// `{"time_scale": 0.01}` or `{"project": "flows.json"}`). Blocks until it listens.
///
/// Ownership: on FLOWAI_OK `*out` is the emulator, which the caller stops with
/// `flowai_emulator_stop`, and `*out_settings_json` is a JSON object with the settings
/// that point every client kind at it (api_url, messaging_key, management_key, client_id,
/// aida_url, aida_bot, aida_token): pass it as it is to `flowai_open`; free it with
/// `flowai_string_free`.
///
/// # Safety
/// `settings_json` must be NULL or NUL-terminated; `out` and `out_settings_json` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_emulator_start(
    settings_json: *const c_char,
    out: *mut *mut FlowaiHandle,
    out_settings_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        let out = ffi::out(out, "out")?;
        let out_settings = ffi::out(out_settings_json, "out_settings_json")?;
        // SAFETY: the caller's contract on the string.
        let settings = unsafe { json(settings_json, "settings_json")? };
        let emulator = Handle::open_blocking("emulator", settings, Case::Snake)?;
        // A failure here drops `emulator`, which shuts it down in the background.
        let info = emulator
            .call_blocking("info", Value::Null)?
            .into_value()
            .to_string();
        // The emulator has no events an app needs: they are taken and dropped.
        let boxed = FlowaiHandle::boxed(emulator, Listener::new(None, ptr::null_mut(), None))?;
        // SAFETY: both checked non-NULL above; writable by the caller's contract.
        unsafe {
            out.write(boxed);
            out_settings.write(owned(&info));
        }
        Ok(())
    })
}

/// Stop an emulator from `flowai_emulator_start` and release its handle; NULL is ignored.
/// Returns once its port is closed. Blocks: call it from an app thread.
///
/// Ownership: takes the handle back, as `flowai_free`: call exactly once per emulator.
///
/// # Safety
/// `emulator` must be NULL or a live handle from `flowai_emulator_start`, not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_emulator_stop(emulator: *mut FlowaiHandle) -> FlowaiStatus {
    if emulator.is_null() {
        return FlowaiStatus::FLOWAI_OK;
    }
    // SAFETY: a live handle by the caller's contract; freed once, after the close returned.
    unsafe {
        let status = flowai_close(emulator);
        flowai_free(emulator);
        status
    }
}
