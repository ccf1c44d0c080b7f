//! What every export shares: the panic guard, the thread-local last error, C strings in and out, and the app's callback with its user data.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};

use flowai_ffi::errors::{from_panic, number};
use flowai_ffi::{Error, Handle, Queued, pump};
use serde_json::Value;

use crate::generated::{EVENT_KINDS, EVENT_NAMES, FlowaiEventKind, FlowaiStatus};

/// One event, borrowed for the duration of the callback: the struct and its strings are
/// valid only until the callback returns. Copy what you keep.
#[repr(C)]
#[derive(Debug)]
pub struct FlowaiEvent {
    /// What the event is.
    pub kind: FlowaiEventKind,
    /// The event's name, e.g. "reply" (the same as `kind`, as text). Never NULL.
    pub name: *const c_char,
    /// The payload: a JSON object with the event's fields (README "Threads and events").
    /// Never NULL.
    pub payload_json: *const c_char,
}

/// Receives every event of one object, in order, one at a time, on a library thread.
pub type FlowaiEventCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const FlowaiEvent)>;

/// Releases the user data given with a callback.
pub type FlowaiFreeCallback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Receives the outcome of `flowai_call_async`, once, on a library thread: `json` is the
/// result (status `FLOWAI_OK`) or the error as `{"code", "message", "status"}`, borrowed
/// for the call.
pub type FlowaiResultCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: FlowaiStatus, json: *const c_char)>;

pub(crate) type Result<T = ()> = std::result::Result<T, Error>;

thread_local! {
    static LAST_ERROR: RefCell<(FlowaiStatus, CString)> =
        RefCell::new((FlowaiStatus::FLOWAI_OK, CString::default()));
}

/// The status of an error: its number in the error table.
pub(crate) fn status_of(error: &Error) -> FlowaiStatus {
    FlowaiStatus::from_number(number(error.kind()))
}

fn set_last_error(status: FlowaiStatus, message: &str) {
    LAST_ERROR.with(|cell| *cell.borrow_mut() = (status, c_string(message)));
}

/// This thread's last error: its status and a pointer valid until the next export runs here.
pub(crate) fn last_error() -> (FlowaiStatus, *const c_char) {
    LAST_ERROR.with(|cell| {
        let last = cell.borrow();
        (last.0, last.1.as_ptr())
    })
}

/// Run one export: clear the last error, catch any panic, turn the outcome into a status.
/// The message is the core's own, without a prefix, so it is the same in every language.
pub(crate) fn guard(body: impl FnOnce() -> Result) -> FlowaiStatus {
    set_last_error(FlowaiStatus::FLOWAI_OK, "");
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|panic| Err(from_panic(panic.as_ref())));
    match outcome {
        Ok(()) => FlowaiStatus::FLOWAI_OK,
        Err(error) => {
            let status = status_of(&error);
            set_last_error(status, error.message());
            status
        }
    }
}

/// Run an export that cannot fail but must still never unwind; `fallback` on panic.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn null(name: &str) -> Error {
    Error::invalid(format!("{name} must not be NULL"))
}

/// Borrow a required string argument as UTF-8. The message names the parameter only: the
/// text itself may hold a key.
///
/// # Safety
/// `ptr` must be NULL or a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| Error::invalid(format!("{name} is not valid UTF-8")))
}

/// Parse an optional JSON argument: NULL or blank text is `null` (nothing given).
///
/// # Safety
/// As for [`text`].
pub(crate) unsafe fn json(ptr: *const c_char, name: &str) -> Result<Value> {
    if ptr.is_null() {
        return Ok(Value::Null);
    }
    // SAFETY: the caller's contract, forwarded.
    let given = unsafe { text(ptr, name) }?;
    if given.trim().is_empty() {
        return Ok(Value::Null);
    }
    // serde_json's syntax errors give a position, never the text, so no key can leak.
    serde_json::from_str(given)
        .map_err(|e| Error::invalid(format!("{name} is not valid JSON: {e}")))
}

/// Borrow a handle argument.
///
/// # Safety
/// `ptr` must be NULL or a live handle from this library.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: a non-NULL handle is a live box by the caller's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| null(name))
}

/// Check an out-parameter before any work, so a NULL one fails before anything happens.
pub(crate) fn out<T>(ptr: *mut T, name: &str) -> Result<*mut T> {
    if ptr.is_null() {
        Err(null(name))
    } else {
        Ok(ptr)
    }
}

/// A C string of `text`. JSON and the core's messages hold no NUL; one would be dropped
/// rather than lose the text.
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text).unwrap_or_else(|_| CString::new(text.replace('\0', "")).unwrap_or_default())
}

/// `text` as a string the app frees with `flowai_string_free`.
pub(crate) fn owned(text: &str) -> *mut c_char {
    c_string(text).into_raw()
}

/// A pointer the app gave to be handed back on a library thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AppPtr(*mut c_void);

// SAFETY: the header tells the app that user data is used on a library thread; the
// library never reads what it points to, it only passes it back.
unsafe impl Send for AppPtr {}

impl AppPtr {
    pub(crate) fn new(ptr: *mut c_void) -> Self {
        AppPtr(ptr)
    }

    /// The pointer (a method, so closures capture the whole `AppPtr`, which is Send).
    pub(crate) fn get(self) -> *mut c_void {
        self.0
    }
}

/// Set once the listener of an object was released: its last event delivered and its user
/// data freed. `flowai_close` waits for it so that the app may free what the callback uses.
#[derive(Debug, Default)]
pub(crate) struct Released {
    done: Mutex<bool>,
    changed: Condvar,
}

impl Released {
    pub(crate) fn wait(&self) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            done = self.changed.wait(done).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Marks [`Released`] when dropped; the last field of [`Listener`], so it drops last.
#[derive(Debug)]
struct ReleaseOnDrop(Arc<Released>);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        *self.0.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.0.changed.notify_all();
    }
}

/// The app's callback and user data for one object. Dropping it runs `free_user_data`
/// once: the pump drops it after `closed`, and any failed open drops it before returning,
/// so user data is always released exactly once.
#[derive(Debug)]
pub(crate) struct Listener {
    on_event: FlowaiEventCallback,
    free: FlowaiFreeCallback,
    user: AppPtr,
    released: ReleaseOnDrop,
}

impl Listener {
    pub(crate) fn new(
        on_event: FlowaiEventCallback,
        user_data: *mut c_void,
        free: FlowaiFreeCallback,
    ) -> Self {
        Listener {
            on_event,
            free,
            user: AppPtr::new(user_data),
            released: ReleaseOnDrop(Arc::default()),
        }
    }

    /// Hand `handle`'s events to the app on the pump; gives what `flowai_close` waits for.
    pub(crate) fn listen(self, handle: &Handle) -> Result<Arc<Released>> {
        let released = self.released.0.clone();
        pump::spawn_pump(handle.events().clone(), move |batch| self.deliver(batch))?;
        Ok(released)
    }

    fn deliver(&self, batch: &[Queued]) {
        // Without a callback the events are still taken, so a session never stalls on them.
        let Some(callback) = self.on_event else {
            return;
        };
        for queued in batch {
            let i = queued.index();
            let (Some(kind), Some(name)) = (EVENT_KINDS.get(i), EVENT_NAMES.get(i)) else {
                continue;
            };
            let payload = c_string(&queued.payload);
            let event = FlowaiEvent {
                kind: *kind,
                name: name.as_ptr(),
                payload_json: payload.as_ptr(),
            };
            // SAFETY: the app registered this callback for this user data; the event and
            // its strings outlive the call, as the header promises.
            unsafe { callback(self.user.get(), &event) };
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(free) = self.free.take() {
            // SAFETY: the app gave this function for exactly this pointer; it runs once.
            unsafe { free(self.user.get()) };
        }
    }
}
