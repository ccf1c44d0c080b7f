//! The event struct handed to C callbacks, and the dispatcher that owns a callback and its user data.

use std::ffi::{CString, c_char, c_void};

use crate::ffi::{Failure, FfiResult, FlowaiFreeCallback, FlowaiStatus, UserData, in_callback};

/// What an event is about; `FlowaiEvent.type` has the exact wire type.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowaiEventKind {
    /// The session is connected (again); json holds details when there are any.
    FLOWAI_EVENT_CONNECTED = 0,
    /// The connection dropped; the session reconnects by itself.
    FLOWAI_EVENT_DISCONNECTED = 1,
    /// The service confirmed a sent message (`message.delivered`); trace_id is set.
    FLOWAI_EVENT_DELIVERED = 2,
    /// A reply from the bot (`message.received`, webhook `message.reply`, AIDA `btu_msg`).
    FLOWAI_EVENT_REPLY = 3,
    /// An agent or the bot is typing.
    FLOWAI_EVENT_TYPING = 4,
    /// The engine handed the thread over to the app (`control.handover`).
    FLOWAI_EVENT_HANDOVER = 5,
    /// The service reported an error; status and json say which.
    FLOWAI_EVENT_ERROR = 6,
    /// Any other event, passed through unchanged (json is the raw payload or frame).
    FLOWAI_EVENT_OTHER = 7,
    /// The last event of a session: nothing follows, and free_user_data runs after it.
    /// status is FLOWAI_OK after a normal close, else why the session ended.
    FLOWAI_EVENT_CLOSED = 8,
}

/// One event, borrowed for the duration of the callback: the struct and every string in
/// it are valid only until the callback returns. Copy what you keep.
#[repr(C)]
#[derive(Debug)]
pub struct FlowaiEvent {
    /// What the event is about.
    pub kind: FlowaiEventKind,
    /// The wire type, e.g. "message.received", "message.reply", "btu_msg", "closed". Never NULL.
    pub type_name: *const c_char,
    /// The event's JSON (the payload in the shape of the Flow.ai / AIDA APIs). Never NULL.
    pub json: *const c_char,
    /// The traceId the event refers to, or NULL.
    pub trace_id: *const c_char,
    /// The thread id (Flow socket) or session id (AIDA) the event belongs to, or NULL.
    pub session_id: *const c_char,
    /// FLOWAI_OK, or for ERROR / CLOSED events the status that describes the cause.
    pub status: FlowaiStatus,
}

/// Receives every event of one session or receiver, on a library thread, one at a time.
/// `user_data` is what was passed when the object was made; `event` is borrowed for the call.
pub type FlowaiEventCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const FlowaiEvent)>;

/// An event with owned strings, turned into a borrowed [`FlowaiEvent`] for one call.
#[derive(Debug)]
pub(crate) struct OwnedEvent {
    pub(crate) kind: FlowaiEventKind,
    pub(crate) type_name: String,
    pub(crate) json: String,
    pub(crate) trace_id: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) status: FlowaiStatus,
}

impl OwnedEvent {
    pub(crate) fn new(kind: FlowaiEventKind, type_name: &str, json: String) -> Self {
        OwnedEvent {
            kind,
            type_name: type_name.to_string(),
            json,
            trace_id: None,
            session_id: None,
            status: FlowaiStatus::FLOWAI_OK,
        }
    }

    pub(crate) fn trace_id(mut self, trace_id: Option<String>) -> Self {
        self.trace_id = trace_id;
        self
    }

    pub(crate) fn session_id(mut self, session_id: Option<String>) -> Self {
        self.session_id = session_id;
        self
    }

    pub(crate) fn status(mut self, status: FlowaiStatus) -> Self {
        self.status = status;
        self
    }
}

fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "")).unwrap_or_default()
}

/// A C callback plus its user data; dropping it runs `free_user_data` once.
#[derive(Debug)]
pub(crate) struct Dispatcher {
    callback: unsafe extern "C" fn(*mut c_void, *const FlowaiEvent),
    user: UserData,
}

impl Dispatcher {
    /// The dispatcher, or INVALID_ARGUMENT when `callback` is NULL. Ownership of
    /// `user_data` passes here in every case: on failure `free_user_data` runs at once.
    pub(crate) fn new(
        callback: FlowaiEventCallback,
        user_data: *mut c_void,
        free_user_data: FlowaiFreeCallback,
    ) -> FfiResult<Self> {
        let user = UserData::new(user_data, free_user_data);
        match callback {
            Some(callback) => Ok(Dispatcher { callback, user }),
            None => Err(Failure::invalid("callback must not be NULL")),
        }
    }

    /// Call the app with `event`, flagged as inside a callback.
    pub(crate) fn dispatch(&self, event: &OwnedEvent) {
        let type_name = c_text(&event.type_name);
        let json = c_text(&event.json);
        let trace_id = event.trace_id.as_deref().map(c_text);
        let session_id = event.session_id.as_deref().map(c_text);
        let raw = FlowaiEvent {
            kind: event.kind,
            type_name: type_name.as_ptr(),
            json: json.as_ptr(),
            trace_id: trace_id.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            session_id: session_id.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            status: event.status,
        };
        let callback = self.callback;
        let user_data = self.user.ptr();
        // SAFETY: the app registered this callback for this user_data; the event and its
        // strings outlive the call, as the header promises.
        in_callback(|| unsafe { callback(user_data, &raw) });
    }
}
