//! The C ABI of flowai: open an object of a kind, call its methods by name with JSON, take its events through a callback; a conversion of flowai-ffi and nothing more.
//!
//! Every capability of every kind comes through `flowai_call`, checked against
//! flowai-ffi's method table, so C offers exactly what Python and Node offer.
//! `include/flowai_methods.h` (generated from that table) lists the kinds and methods.

mod emulator;
mod ffi;
#[rustfmt::skip]
mod generated;

use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::Arc;

use flowai_ffi::api::{self, Type};
use flowai_ffi::errors::to_value;
use flowai_ffi::runtime::on_sdk_thread;
use flowai_ffi::{Case, Error, Handle, Reply};

pub use crate::emulator::{flowai_emulator_start, flowai_emulator_stop};
use crate::ffi::{
    AppPtr, Listener, Released, Result, c_string, guard, guard_value, json, last_error, owned,
    status_of, text,
};
pub use crate::ffi::{FlowaiEvent, FlowaiEventCallback, FlowaiFreeCallback, FlowaiResultCallback};
pub use crate::generated::{FlowaiEventKind, FlowaiStatus};

/// An open object of one of the kinds in flowai_methods.h. Opaque.
#[derive(Debug)]
pub struct FlowaiHandle {
    handle: Handle,
    released: Arc<Released>,
}

impl FlowaiHandle {
    /// Give `handle`'s events to `listener` and box the pair for C.
    fn boxed(handle: Handle, listener: Listener) -> Result<*mut FlowaiHandle> {
        let released = listener.listen(&handle)?;
        Ok(Box::into_raw(Box::new(FlowaiHandle { handle, released })))
    }

    /// Whether `method` of this object makes a new object (`None`: not in the table, and
    /// the call itself says so with the table's message).
    fn makes_object(&self, method: &str) -> Option<bool> {
        api::method(self.handle.kind(), method).map(|m| matches!(m.returns, Type::Handle(_)))
    }

    fn refuse_object_method(&self, method: &str) -> Result {
        match self.makes_object(method) {
            Some(true) => Err(Error::invalid(format!(
                "{method} makes a new object: call it with flowai_call_open"
            ))),
            _ => Ok(()),
        }
    }
}

/// The handle, method name and arguments of a call, checked.
///
/// # Safety
/// `handle` must be NULL or live; strings NULL or NUL-terminated.
unsafe fn call_args<'a>(
    handle: *const FlowaiHandle,
    method: *const c_char,
    args_json: *const c_char,
) -> Result<(&'a FlowaiHandle, &'a str, serde_json::Value)> {
    // SAFETY: the caller passes on the export's contract.
    unsafe {
        Ok((
            ffi::handle(handle, "handle")?,
            text(method, "method")?,
            json(args_json, "args_json")?,
        ))
    }
}

/// Open an object of `kind` (a FLOWAI_KIND_... name) with `settings_json` (one JSON object;
/// NULL or "" for none: missing settings come from the FLOWAI_* environment). Sessions,
/// AIDA clients and receivers connect or bind before this returns. Blocks: FLOWAI_MISUSE
/// inside a callback. `on_event` (may be NULL: events are then dropped) gets the object's
/// events until FLOWAI_EVENT_CLOSED.
///
/// Ownership: the library owns `user_data` from this call on, whatever it returns, and runs
/// `free_user_data` (may be NULL) on it exactly once (after the CLOSED event, or before
/// returning when the open fails); on FLOWAI_OK `*out` is a new handle that the caller
/// releases with `flowai_free`.
///
/// # Safety
/// Strings must be NULL or NUL-terminated; `out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_open(
    kind: *const c_char,
    settings_json: *const c_char,
    on_event: FlowaiEventCallback,
    user_data: *mut c_void,
    free_user_data: FlowaiFreeCallback,
    out: *mut *mut FlowaiHandle,
) -> FlowaiStatus {
    guard(|| {
        let listener = Listener::new(on_event, user_data, free_user_data);
        let out = ffi::out(out, "out")?;
        // SAFETY: the caller's contract on the strings.
        let (kind, settings) =
            unsafe { (text(kind, "kind")?, json(settings_json, "settings_json")?) };
        let opened = Handle::open_blocking(kind, settings, Case::Snake)?;
        let boxed = FlowaiHandle::boxed(opened, listener)?;
        // SAFETY: checked non-NULL above; writable by the caller's contract.
        unsafe { out.write(boxed) };
        Ok(())
    })
}

/// Call `method` of `handle` with `args_json` (one JSON object; NULL or "" for none) and
/// wait for the result. Blocks: FLOWAI_MISUSE inside a callback (use flowai_call_async
/// there). A method that makes an object needs flowai_call_open.
///
/// Ownership: strings in are borrowed for the call; on FLOWAI_OK `*out_json` (when
/// `out_json` is not NULL) is the result as JSON text (`null` for nothing), owned by the
/// caller and freed with `flowai_string_free`.
///
/// # Safety
/// `handle` must be NULL or live; strings NULL or NUL-terminated; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_call(
    handle: *const FlowaiHandle,
    method: *const c_char,
    args_json: *const c_char,
    out_json: *mut *mut c_char,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller's contract on the handle and the strings.
        let (h, method, args) = unsafe { call_args(handle, method, args_json)? };
        h.refuse_object_method(method)?;
        let value = h.handle.call_blocking(method, args)?.into_value();
        if !out_json.is_null() {
            // SAFETY: not NULL; writable by the caller's contract.
            unsafe { out_json.write(owned(&value.to_string())) };
        }
        Ok(())
    })
}

/// Start `method` of `handle` with `args_json` and return at once; never blocks, so it
/// works inside callbacks. On FLOWAI_OK, `done` runs exactly once later, on a library thread
/// (maybe while the object's event callback runs on another), with the result or the
/// error; on any other status it never runs.
///
/// Ownership: strings in are borrowed for the call; `user_data` stays the caller's and is
/// handed to `done`; the JSON given to `done` is borrowed for that call only.
///
/// # Safety
/// `handle` must be NULL or live until this returns; strings NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_call_async(
    handle: *const FlowaiHandle,
    method: *const c_char,
    args_json: *const c_char,
    done: FlowaiResultCallback,
    user_data: *mut c_void,
) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller's contract on the handle and the strings.
        let (h, method, args) = unsafe { call_args(handle, method, args_json)? };
        let done = done.ok_or_else(|| Error::invalid("done must not be NULL"))?;
        h.refuse_object_method(method)?;
        let user = AppPtr::new(user_data);
        h.handle.call_spawn(method, args, move |result| {
            let (status, json) = match result {
                Ok(reply) => (FlowaiStatus::FLOWAI_OK, reply.into_value().to_string()),
                Err(e) => (status_of(&e), to_value(&e).to_string()),
            };
            let json = c_string(&json);
            // SAFETY: the app gave `done` for this user data; `json` outlives the call.
            unsafe { done(user.get(), status, json.as_ptr()) };
        });
        Ok(())
    })
}

/// Call `method` of `handle` that makes a new object (aida `new_session`, `session`) and
/// wait for it; its events go to `on_event` (may be NULL) until FLOWAI_EVENT_CLOSED. Blocks:
/// FLOWAI_MISUSE inside a callback.
///
/// Ownership: as flowai_open: the library owns `user_data` from this call on and runs
/// `free_user_data` exactly once; on FLOWAI_OK `*out` is a new handle that the caller
/// releases with `flowai_free`.
///
/// # Safety
/// As for flowai_call; `out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_call_open(
    handle: *const FlowaiHandle,
    method: *const c_char,
    args_json: *const c_char,
    on_event: FlowaiEventCallback,
    user_data: *mut c_void,
    free_user_data: FlowaiFreeCallback,
    out: *mut *mut FlowaiHandle,
) -> FlowaiStatus {
    guard(|| {
        let listener = Listener::new(on_event, user_data, free_user_data);
        let out = ffi::out(out, "out")?;
        // SAFETY: the caller's contract on the handle and the strings.
        let (h, method, args) = unsafe { call_args(handle, method, args_json)? };
        if h.makes_object(method) == Some(false) {
            return Err(Error::invalid(format!(
                "{method} gives a value, not an object: call it with flowai_call"
            )));
        }
        let Reply::Handle(made) = h.handle.call_blocking(method, args)? else {
            return Err(Error::internal(format!("{method} made no object")));
        };
        let boxed = FlowaiHandle::boxed(made, listener)?;
        // SAFETY: checked non-NULL above; writable by the caller's contract.
        unsafe { out.write(boxed) };
        Ok(())
    })
}

/// End the object: its events end with FLOWAI_EVENT_CLOSED, later calls give FLOWAI_CLOSED,
/// and closing again is FLOWAI_OK. From an app thread it returns once the CLOSED event was
/// delivered and `free_user_data` ran (so do not hold a lock the callback needs); inside a
/// callback it starts the close in the background and returns FLOWAI_OK at once.
///
/// Ownership: the handle stays the caller's: release it with `flowai_free`.
///
/// # Safety
/// `handle` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_close(handle: *const FlowaiHandle) -> FlowaiStatus {
    guard(|| {
        // SAFETY: the caller's contract on the handle.
        let h = unsafe { ffi::handle(handle, "handle")? };
        let closed = h.handle.close_blocking();
        if !on_sdk_thread() {
            h.released.wait();
        }
        closed
    })
}

/// Release a handle; NULL is ignored. An object still open is closed in the background
/// (its CLOSED event and `free_user_data` still come). Never blocks; works in callbacks.
///
/// Ownership: takes the handle back; call exactly once per handle, after every other call
/// on it has returned (using it afterwards is undefined behaviour).
///
/// # Safety
/// `handle` must be NULL or a live handle not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_free(handle: *mut FlowaiHandle) {
    guard_value((), || {
        if !handle.is_null() {
            // SAFETY: made by Box::into_raw in this library and freed only here, once.
            drop(unsafe { Box::from_raw(handle) });
        }
    })
}

/// Free a string that a flowai function handed out; NULL is ignored.
///
/// Ownership: takes the string back; call exactly once per string (a double free is
/// undefined behaviour and is not detected).
///
/// # Safety
/// `s` must be NULL or a string from this library not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn flowai_string_free(s: *mut c_char) {
    guard_value((), || {
        if !s.is_null() {
            // SAFETY: every string handed out comes from CString::into_raw, freed once.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

/// The message of the last failed flowai call on this thread ("" after a successful one),
/// exactly the core's text, e.g. "timeout_ms must be greater than 0". Never holds a key.
///
/// Ownership: borrowed: valid until the next flowai call on this thread; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn flowai_last_error_message() -> *const c_char {
    guard_value(c"".as_ptr(), || last_error().1)
}

/// The status of the last flowai call on this thread that returns one (FLOWAI_OK after a
/// successful one).
///
/// Ownership: a plain value; nothing to free.
#[unsafe(no_mangle)]
pub extern "C" fn flowai_last_error_code() -> FlowaiStatus {
    guard_value(FlowaiStatus::FLOWAI_INTERNAL, || last_error().0)
}

/// The stable code string of `status`, e.g. "FLOWAI_AUTH", or "FLOWAI_UNKNOWN" for a number
/// that is no status.
///
/// Ownership: static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn flowai_error_code_string(status: c_int) -> *const c_char {
    guard_value(c"FLOWAI_UNKNOWN".as_ptr(), || {
        usize::try_from(status)
            .ok()
            .and_then(|i| generated::CODES.get(i))
            .map_or(c"FLOWAI_UNKNOWN".as_ptr(), |c| c.as_ptr())
    })
}

/// The library version, e.g. "0.1.0".
///
/// Ownership: static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn flowai_version() -> *const c_char {
    guard_value(c"".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}
