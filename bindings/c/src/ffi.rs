//! FFI plumbing shared by every export: status codes, the thread-local last error, panic
//! catching, string and pointer conversion, handles, user data and the one runtime.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock};

use flowai_core::{Error, ErrorKind};

/// The result of every fallible call. `FLOWAI_OK` is 0; the others follow the SDK's error
/// codes in their stable order, so `flowai_error_code_string` gives the same `FLOWAI_...`
/// string as every other language. `FLOWAI_MISUSE` is C only: a blocking call was made
/// from inside a library callback (it would deadlock), or a handle was used wrongly.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowaiStatus {
    /// Success; out-parameters are set.
    FLOWAI_OK = 0,
    /// Bad input (NULL, invalid UTF-8, bad JSON, text too long, ...), refused before sending.
    FLOWAI_INVALID_ARGUMENT = 1,
    /// The service refused the credentials.
    FLOWAI_AUTH = 2,
    /// The service answered with an HTTP error status.
    FLOWAI_HTTP = 3,
    /// The service asked the client to slow down.
    FLOWAI_RATE_LIMITED = 4,
    /// A deadline passed.
    FLOWAI_TIMEOUT = 5,
    /// The network connection failed or dropped.
    FLOWAI_CONNECTION = 6,
    /// The peer broke the protocol.
    FLOWAI_PROTOCOL = 7,
    /// The object was closed before or during the call.
    FLOWAI_CLOSED = 8,
    /// A webhook call failed verification.
    FLOWAI_VERIFICATION = 9,
    /// A bounded queue is full.
    FLOWAI_QUEUE_FULL = 10,
    /// A bug inside the library (including a caught panic).
    FLOWAI_INTERNAL = 11,
    /// A blocking call was made from inside a library callback, where it would deadlock.
    FLOWAI_MISUSE = 12,
}

impl FlowaiStatus {
    pub(crate) fn from_kind(kind: ErrorKind) -> FlowaiStatus {
        match kind {
            ErrorKind::InvalidArgument => FlowaiStatus::FLOWAI_INVALID_ARGUMENT,
            ErrorKind::Auth => FlowaiStatus::FLOWAI_AUTH,
            ErrorKind::Http => FlowaiStatus::FLOWAI_HTTP,
            ErrorKind::RateLimited => FlowaiStatus::FLOWAI_RATE_LIMITED,
            ErrorKind::Timeout => FlowaiStatus::FLOWAI_TIMEOUT,
            ErrorKind::Connection => FlowaiStatus::FLOWAI_CONNECTION,
            ErrorKind::Protocol => FlowaiStatus::FLOWAI_PROTOCOL,
            ErrorKind::Closed => FlowaiStatus::FLOWAI_CLOSED,
            ErrorKind::Verification => FlowaiStatus::FLOWAI_VERIFICATION,
            ErrorKind::QueueFull => FlowaiStatus::FLOWAI_QUEUE_FULL,
            _ => FlowaiStatus::FLOWAI_INTERNAL,
        }
    }

    /// The code string as a static C string.
    pub(crate) fn code(raw: i32) -> &'static CStr {
        match raw {
            0 => c"FLOWAI_OK",
            1 => c"FLOWAI_INVALID_ARGUMENT",
            2 => c"FLOWAI_AUTH",
            3 => c"FLOWAI_HTTP",
            4 => c"FLOWAI_RATE_LIMITED",
            5 => c"FLOWAI_TIMEOUT",
            6 => c"FLOWAI_CONNECTION",
            7 => c"FLOWAI_PROTOCOL",
            8 => c"FLOWAI_CLOSED",
            9 => c"FLOWAI_VERIFICATION",
            10 => c"FLOWAI_QUEUE_FULL",
            11 => c"FLOWAI_INTERNAL",
            12 => c"FLOWAI_MISUSE",
            _ => c"FLOWAI_UNKNOWN",
        }
    }
}

/// A failed call on its way out: the status and the message for `flowai_last_error_message`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: FlowaiStatus,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: FlowaiStatus, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Failure::new(FlowaiStatus::FLOWAI_INVALID_ARGUMENT, message)
    }

    pub(crate) fn closed(what: &str) -> Self {
        Failure::new(FlowaiStatus::FLOWAI_CLOSED, format!("the {what} is closed"))
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure {
            status: FlowaiStatus::from_kind(err.kind()),
            message: err.to_string(),
        }
    }
}

impl From<serde_json::Error> for Failure {
    fn from(err: serde_json::Error) -> Self {
        Failure::invalid(format!("invalid JSON argument: {err}"))
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

fn set_last_error(message: &str) {
    // A message never holds NUL in practice; drop any rather than lose the message.
    let clean: Vec<u8> = message.bytes().filter(|b| *b != 0).collect();
    let text = CString::new(clean).unwrap_or_default();
    LAST_ERROR.with(|cell| *cell.borrow_mut() = text);
}

/// A pointer to this thread's last error message, valid until the next library call on
/// this thread.
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|cell| cell.borrow().as_ptr())
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Run one export: clear the last error, catch any panic, turn the outcome into a status.
pub(crate) fn guard(body: impl FnOnce() -> FfiResult) -> FlowaiStatus {
    set_last_error("");
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => FlowaiStatus::FLOWAI_OK,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(payload) => {
            set_last_error(&format!(
                "FLOWAI_INTERNAL: panic inside flowai: {}",
                panic_text(payload.as_ref())
            ));
            FlowaiStatus::FLOWAI_INTERNAL
        }
    }
}

/// Run an export that cannot fail but must still never unwind; `fallback` on panic.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Borrow a required C string argument as UTF-8.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(Failure::invalid(format!("{name} must not be NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let raw = unsafe { CStr::from_ptr(ptr) };
    raw.to_str()
        .map_err(|_| Failure::invalid(format!("{name} is not valid UTF-8")))
}

/// Like [`str_arg`] but NULL means "not given".
///
/// # Safety
/// As for [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(ptr: *const c_char, name: &str) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: same contract as the caller's.
        unsafe { str_arg(ptr, name) }.map(Some)
    }
}

/// Parse an optional JSON argument; NULL or "" means `null`.
///
/// # Safety
/// As for [`str_arg`].
pub(crate) unsafe fn json_arg(ptr: *const c_char, name: &str) -> FfiResult<serde_json::Value> {
    // SAFETY: same contract as the caller's.
    match unsafe { opt_str_arg(ptr, name) }? {
        None => Ok(serde_json::Value::Null),
        Some(s) if s.trim().is_empty() => Ok(serde_json::Value::Null),
        Some(s) => serde_json::from_str(s)
            .map_err(|e| Failure::invalid(format!("{name} is not valid JSON: {e}"))),
    }
}

/// Parse a required JSON argument: like [`json_arg`], but NULL is refused by name.
///
/// # Safety
/// As for [`str_arg`].
pub(crate) unsafe fn required_json_arg(
    ptr: *const c_char,
    name: &str,
) -> FfiResult<serde_json::Value> {
    if ptr.is_null() {
        return Err(Failure::invalid(format!("{name} must not be NULL")));
    }
    // SAFETY: same contract as the caller's.
    unsafe { json_arg(ptr, name) }
}

/// Borrow `len` bytes; NULL is allowed only when `len` is 0.
///
/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes valid for `'a`.
pub(crate) unsafe fn bytes_arg<'a>(ptr: *const u8, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    if ptr.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Failure::invalid(format!("{name} must not be NULL")));
    }
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Check an out-parameter before doing any work, so a NULL one fails fast.
pub(crate) fn check_out<T>(out: *mut T, name: &str) -> FfiResult {
    if out.is_null() {
        Err(Failure::invalid(format!("{name} must not be NULL")))
    } else {
        Ok(())
    }
}

/// Write `value` into a checked out-parameter.
///
/// # Safety
/// `out` must be a valid, writable pointer (checked non-NULL by [`check_out`]).
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: the caller checked `out` and owns the memory it points to.
    unsafe { out.write(value) }
}

/// A Rust string as a heap C string the caller frees with `flowai_string_free`.
pub(crate) fn owned_c_string(text: impl Into<Vec<u8>>) -> *mut c_char {
    let mut bytes: Vec<u8> = text.into();
    bytes.retain(|b| *b != 0);
    CString::new(bytes).unwrap_or_default().into_raw()
}

/// Serialize `value` as JSON into a new C string.
pub(crate) fn json_out<T: serde::Serialize + ?Sized>(value: &T) -> FfiResult<*mut c_char> {
    let text = serde_json::to_string(value).map_err(|e| {
        Failure::new(
            FlowaiStatus::FLOWAI_INTERNAL,
            format!("cannot encode JSON: {e}"),
        )
    })?;
    Ok(owned_c_string(text))
}

/// Write JSON for `value` into `out` (checked by the caller).
///
/// # Safety
/// As for [`write_out`].
pub(crate) unsafe fn write_json<T: serde::Serialize + ?Sized>(
    out: *mut *mut c_char,
    value: &T,
) -> FfiResult {
    let text = json_out(value)?;
    // SAFETY: forwarded contract.
    unsafe { write_out(out, text) };
    Ok(())
}

/// Borrow a handle argument.
///
/// # Safety
/// `ptr` must be NULL or a live handle created by this library and not yet freed.
pub(crate) unsafe fn handle_arg<'a, T>(ptr: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: non-NULL handles are live boxes by the caller's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::invalid(format!("{name} must not be NULL")))
}

/// The state behind an opaque handle: open (holding the object) or closed.
#[derive(Debug)]
pub(crate) struct Slot<T> {
    inner: Mutex<Option<Arc<T>>>,
    what: &'static str,
}

impl<T> Slot<T> {
    pub(crate) fn new(value: T, what: &'static str) -> Self {
        Slot {
            inner: Mutex::new(Some(Arc::new(value))),
            what,
        }
    }

    /// A slot holding an object shared with a background task.
    pub(crate) fn from_arc(value: Arc<T>, what: &'static str) -> Self {
        Slot {
            inner: Mutex::new(Some(value)),
            what,
        }
    }

    /// The object, or `FLOWAI_CLOSED` after close.
    pub(crate) fn get(&self) -> FfiResult<Arc<T>> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.clone().ok_or_else(|| Failure::closed(self.what))
    }

    /// Mark closed and hand back the object (once).
    pub(crate) fn take(&self) -> Option<Arc<T>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Box a handle for C.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Reclaim a handle made by [`into_handle`]; NULL is ignored.
///
/// # Safety
/// `ptr` must be NULL or come from [`into_handle`] and not have been freed.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) -> Option<Box<T>> {
    if ptr.is_null() {
        None
    } else {
        // SAFETY: made by Box::into_raw and freed only here, once, by the caller's contract.
        Some(unsafe { Box::from_raw(ptr) })
    }
}

/// The single runtime of the C binding.
pub(crate) fn runtime() -> FfiResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("flowai-worker")
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| {
            Failure::new(
                FlowaiStatus::FLOWAI_INTERNAL,
                format!("cannot start the runtime: {e}"),
            )
        })
}

/// Run `future` to completion from a caller's thread; refuses (instead of deadlocking)
/// when called from inside a library callback or a runtime thread.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> FfiResult<F::Output> {
    check_may_block()?;
    Ok(runtime()?.block_on(future))
}

/// `FLOWAI_MISUSE` when the calling thread must not block on the runtime.
pub(crate) fn check_may_block() -> FfiResult {
    if IN_CALLBACK.with(Cell::get) {
        return Err(Failure::new(
            FlowaiStatus::FLOWAI_MISUSE,
            "FLOWAI_MISUSE: blocking flowai call made from inside a flowai callback; \
             call it from another thread",
        ));
    }
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Failure::new(
            FlowaiStatus::FLOWAI_MISUSE,
            "FLOWAI_MISUSE: blocking flowai call made from a library thread",
        ));
    }
    Ok(())
}

/// Whether the calling thread is inside a library callback or on a runtime thread, where
/// waiting for the runtime would deadlock; closes there start in the background instead.
pub(crate) fn must_not_block() -> bool {
    IN_CALLBACK.with(Cell::get) || tokio::runtime::Handle::try_current().is_ok()
}

/// Run a C callback with the in-callback flag set, so blocking calls from it fail fast.
pub(crate) fn in_callback<R>(body: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_CALLBACK.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(IN_CALLBACK.with(|c| c.replace(true)));
    body()
}

/// Frees user data. `user_data` is whatever the app passed in.
pub type FlowaiFreeCallback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// The app's `user_data` plus its free function, run exactly once on drop.
#[derive(Debug)]
pub(crate) struct UserData {
    ptr: *mut c_void,
    free: FlowaiFreeCallback,
}

// SAFETY: the header documents that user_data is used from a library thread, so the app
// promises it may be sent there; the library never touches what it points to.
unsafe impl Send for UserData {}
// SAFETY: as above; the library only passes the pointer back, one call at a time per owner.
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(ptr: *mut c_void, free: FlowaiFreeCallback) -> Self {
        UserData { ptr, free }
    }

    pub(crate) fn ptr(&self) -> *mut c_void {
        self.ptr
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(free) = self.free.take() {
            let ptr = self.ptr;
            // SAFETY: the app gave this function for exactly this pointer; it runs once.
            in_callback(|| unsafe { free(ptr) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_numbers_follow_error_kind_order() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            let status = FlowaiStatus::from_kind(*kind);
            assert_eq!(status as i32, i as i32 + 1);
            assert_eq!(
                FlowaiStatus::code(status as i32).to_str().unwrap(),
                kind.code()
            );
        }
        assert_eq!(FlowaiStatus::code(0).to_str().unwrap(), "FLOWAI_OK");
        assert_eq!(FlowaiStatus::code(99).to_str().unwrap(), "FLOWAI_UNKNOWN");
    }

    #[test]
    fn guard_turns_panic_into_internal() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, FlowaiStatus::FLOWAI_INTERNAL);
        // SAFETY: the pointer is this thread's last error, valid until the next call.
        let msg = unsafe { CStr::from_ptr(last_error_ptr()) };
        assert!(msg.to_str().unwrap().contains("boom"));
    }

    #[test]
    fn blocking_inside_callback_is_misuse() {
        let err = in_callback(|| block_on(async {})).unwrap_err();
        assert_eq!(err.status, FlowaiStatus::FLOWAI_MISUSE);
        assert!(block_on(async { 1 }).is_ok());
    }
}
