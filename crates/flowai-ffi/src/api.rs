//! The one list of what every binding offers: each object kind, its settings and its methods with typed parameters.
//!
//! Calls are checked against this table before an object sees them (unknown methods and
//! arguments, missing or mistyped ones), and the Python wrappers and stubs, the Node
//! wrappers and declarations and the C documentation are generated from it, so no
//! language can offer more or less than another.

use flowai_core::settings::{
    AidaSettings, ManagementSettings, MessagingSettings, ReceiverSettings, RestSettings,
    SessionSettings,
};

/// The type of a parameter or a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Text.
    Str,
    /// A whole number.
    Int,
    /// Any number.
    Float,
    /// true or false.
    Bool,
    /// A list of texts.
    StrList,
    /// A file path (text).
    Path,
    /// A latitude or longitude: a number or its text.
    Coordinate,
    /// A JSON object.
    Object,
    /// Any JSON value.
    Json,
    /// Nothing (a result only).
    Nothing,
    /// A new object of the named kind (a result only).
    Handle(&'static str),
    /// A JSON value of the named shape, documented in README (a result only).
    Model(&'static str),
    /// A list of values of the named shape (a result only).
    ModelList(&'static str),
    /// A value of the named shape or null (a result only).
    MaybeModel(&'static str),
}

/// One parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// snake_case name.
    pub name: &'static str,
    /// Its type.
    pub ty: Type,
    /// Whether it must be given.
    pub required: bool,
}

/// One method of a kind.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    /// The kind it belongs to.
    pub kind: &'static str,
    /// snake_case name.
    pub name: &'static str,
    /// Parameters, required ones first.
    pub params: &'static [Param],
    /// What it returns.
    pub returns: Type,
    /// One sentence on what it does.
    pub doc: &'static str,
    /// Whether it opens a [`PAGE_CURSOR`] over a listing: the bindings then offer it as an
    /// iterator of the listing's items (Python: `for` and `async for`; Node: `for await`),
    /// fetching each page when iteration reaches it.
    pub paged: bool,
}

/// The kind a paged method makes: `next` gives the following page, null after the last.
pub const PAGE_CURSOR: &str = "page_cursor";

/// One kind of object.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// snake_case name, passed to `open`.
    pub name: &'static str,
    /// The class name in Python and Node (`MessagingClient`).
    pub class: &'static str,
    /// Its settings' fields; None when only another object's method makes one.
    pub settings: Option<&'static [&'static str]>,
    /// What it is.
    pub doc: &'static str,
}

const fn req(name: &'static str, ty: Type) -> Param {
    Param {
        name,
        ty,
        required: true,
    }
}

const fn opt(name: &'static str, ty: Type) -> Param {
    Param {
        name,
        ty,
        required: false,
    }
}

/// Settings of the verifier: the receiver's key and header.
const VERIFIER_SETTINGS: &[&str] = &["verify_key", "verify_header"];
/// Settings of the event benchmark source.
const BENCH_SETTINGS: &[&str] = &[];

/// Every kind.
pub const KINDS: &[Kind] = &[
    Kind {
        name: "messaging",
        class: "MessagingClient",
        settings: Some(MessagingSettings::FIELDS),
        doc: "The Messaging REST API (text, event, location, media) and webhook subscriptions.",
    },
    Kind {
        name: "management",
        class: "ManagementClient",
        settings: Some(ManagementSettings::FIELDS),
        doc: "The Management API: flows, intents, entity types, projects, members.",
    },
    Kind {
        name: "rest",
        class: "RestClient",
        settings: Some(RestSettings::FIELDS),
        doc: "The Flow REST API v1: messages with the bot's replies in the answer (sync), threads, handover, bot pause, events, business hours, broadcasts. Only safe calls are retried.",
    },
    Kind {
        name: PAGE_CURSOR,
        class: "PageCursor",
        settings: None,
        doc: "A listing read a page at a time: `next` fetches the following page.",
    },
    Kind {
        name: "session",
        class: "Session",
        settings: Some(SessionSettings::FIELDS),
        doc: "A real-time Flow Socket session of one thread; opening it connects.",
    },
    Kind {
        name: "aida",
        class: "AidaClient",
        settings: Some(AidaSettings::FIELDS),
        doc: "A connection to one AIDA bot over Phoenix channels; its events carry every session's replies.",
    },
    Kind {
        name: "aida_session",
        class: "AidaSession",
        settings: None,
        doc: "One conversation with an AIDA bot; its events carry this session's replies only.",
    },
    Kind {
        name: "receiver",
        class: "WebhookReceiver",
        settings: Some(ReceiverSettings::FIELDS),
        doc: "An embedded webhook receiver: verified calls arrive as events.",
    },
    Kind {
        name: "verifier",
        class: "WebhookVerifier",
        settings: Some(VERIFIER_SETTINGS),
        doc: "Verifies and parses webhook calls received by the app's own server.",
    },
    Kind {
        name: "emulator",
        class: "Emulator",
        settings: Some(crate::objects::emulator::FIELDS),
        doc: "A local Flow.ai + AIDA server in this process, for offline tests; with `record` and `upstream`, a recorder in front of a real service instead; with `replay`, a recording served again. `info()` gives the settings that point clients at it.",
    },
    Kind {
        name: "bench",
        class: "EventBench",
        settings: Some(BENCH_SETTINGS),
        doc: "A source of synthetic events for the binding benchmarks.",
    },
];

const MESSAGE_OPTIONS: [Param; 4] = [
    opt("trace_id", Type::Int),
    opt("lang", Type::Str),
    opt("timezone", Type::Float),
    opt("params", Type::Object),
];

macro_rules! with_options {
    ($($p:expr),*) => {
        &[$($p,)* MESSAGE_OPTIONS[0], MESSAGE_OPTIONS[1], MESSAGE_OPTIONS[2], MESSAGE_OPTIONS[3]]
    };
}

const fn m(
    kind: &'static str,
    name: &'static str,
    params: &'static [Param],
    returns: Type,
    doc: &'static str,
) -> Method {
    Method {
        kind,
        name,
        params,
        returns,
        doc,
        paged: false,
    }
}

/// A paged method of the REST client: it opens a [`PAGE_CURSOR`].
const fn paged(name: &'static str, params: &'static [Param], doc: &'static str) -> Method {
    Method {
        kind: "rest",
        name,
        params,
        returns: Type::Handle(PAGE_CURSOR),
        doc,
        paged: true,
    }
}

/// The per-call deadline of a REST v1 call (the client's `timeout_ms` when not given).
const TIMEOUT: Param = opt("timeout_ms", Type::Int);

use Type::*;

/// Every method of every kind. Every kind also has `close()`, which ends its events with
/// `closed`; it is not listed.
pub const METHODS: &[Method] = &[
    // Messaging REST API.
    m(
        "messaging",
        "send_text",
        with_options!(req("thread_id", Str), req("text", Str)),
        Nothing,
        "Send a text message (at most 255 characters); replies come through webhooks.",
    ),
    m(
        "messaging",
        "send_event",
        with_options!(req("thread_id", Str), req("event_name", Str)),
        Nothing,
        "Trigger an event.",
    ),
    m(
        "messaging",
        "send_location",
        with_options!(
            req("thread_id", Str),
            req("lat", Coordinate),
            req("lng", Coordinate)
        ),
        Nothing,
        "Send a location.",
    ),
    m(
        "messaging",
        "send_media",
        with_options!(
            req("thread_id", Str),
            req("path", Path),
            req("media_type", Str),
            opt("mime_type", Str)
        ),
        Nothing,
        "Send a file (image, file, audio or video, at most 250 MB), streamed; progress comes as progress events.",
    ),
    m(
        "messaging",
        "send",
        &[req("message", Object)],
        Nothing,
        "Send a message given as the Messaging API's own JSON: threadId, type (text, event or location) and its fields, traceId, lang, timezone, params.",
    ),
    m(
        "messaging",
        "create_webhook",
        &[
            req("url", Str),
            req("verify_key", Str),
            req("events", StrList),
        ],
        Model("Webhook"),
        "Subscribe a URL to events; the service first calls it with a GET.",
    ),
    m(
        "messaging",
        "get_webhook",
        &[req("webhook_id", Str)],
        Model("Webhook"),
        "One subscription.",
    ),
    m(
        "messaging",
        "update_webhook",
        &[
            req("webhook_id", Str),
            opt("url", Str),
            opt("verify_key", Str),
            opt("events", StrList),
        ],
        Model("Webhook"),
        "Change a subscription.",
    ),
    m(
        "messaging",
        "list_webhooks",
        &[],
        ModelList("Webhook"),
        "Every subscription, newest first.",
    ),
    m(
        "messaging",
        "delete_webhook",
        &[req("webhook_id", Str)],
        Nothing,
        "Remove a subscription.",
    ),
    // Management API.
    m(
        "management",
        "list_flows",
        &[],
        ModelList("Flow"),
        "Every flow.",
    ),
    m(
        "management",
        "get_flow",
        &[req("flow_id", Str)],
        Model("Flow"),
        "One flow with its steps.",
    ),
    m(
        "management",
        "list_intents",
        &[],
        ModelList("Intent"),
        "Every intent.",
    ),
    m(
        "management",
        "get_intent",
        &[req("intent_id", Str)],
        Model("Intent"),
        "One intent with its examples.",
    ),
    m(
        "management",
        "list_entity_types",
        &[],
        ModelList("Resource"),
        "Every entity type.",
    ),
    m(
        "management",
        "get_entity_type",
        &[req("entity_type_id", Str)],
        Model("Resource"),
        "One entity type.",
    ),
    m(
        "management",
        "list_projects",
        &[],
        ModelList("Resource"),
        "Every project.",
    ),
    m(
        "management",
        "get_project",
        &[req("project_id", Str)],
        Model("Resource"),
        "One project.",
    ),
    m(
        "management",
        "list_members",
        &[],
        ModelList("Resource"),
        "Every member.",
    ),
    // Flow REST API v1.
    m(
        "rest",
        "send",
        &[
            req("message", Object),
            opt("thread_id", Str),
            opt("sync", Bool),
            opt("write_concern", Bool),
            TIMEOUT,
        ],
        Model("SendReceipt"),
        "Send a message given as the API's JSON (`payload` with `type` and its fields, `originator`, `metadata`) to a thread, or to a new one when `thread_id` is not given; with `sync`, the answer carries the bot's replies. Never retried.",
    ),
    m(
        "rest",
        "send_text",
        &[
            req("text", Str),
            opt("thread_id", Str),
            opt("sync", Bool),
            opt("write_concern", Bool),
            TIMEOUT,
        ],
        Model("SendReceipt"),
        "Send a text (at most 255 characters) as the external user; with `sync`, the answer carries the bot's replies. Never retried.",
    ),
    m(
        "rest",
        "messages_page",
        &[req("thread_id", Str), opt("page", Int), TIMEOUT],
        Model("MessagesPage"),
        "One page (20 messages) of a thread's messages; pages count from 1.",
    ),
    paged(
        "messages",
        &[req("thread_id", Str)],
        "Every message of a thread, a page fetched when iteration reaches it.",
    ),
    m(
        "rest",
        "threads_page",
        &[opt("page", Int), TIMEOUT],
        Model("ThreadsPage"),
        "One page (20 threads) of the threads; pages count from 1.",
    ),
    paged(
        "threads",
        &[],
        "Every thread, a page fetched when iteration reaches it.",
    ),
    m(
        "rest",
        "handover",
        &[req("thread_id", Str), opt("seconds", Int), TIMEOUT],
        Json,
        "Hand the thread over to a human agent, pausing the bot (for `seconds`, else the service's default). Never retried.",
    ),
    m(
        "rest",
        "takeover",
        &[req("thread_id", Str), TIMEOUT],
        Json,
        "Deprecated by the service: use handover.",
    ),
    m(
        "rest",
        "resolve",
        &[req("thread_id", Str), TIMEOUT],
        Json,
        "Mark the thread resolved.",
    ),
    m(
        "rest",
        "trigger_events",
        &[TIMEOUT],
        ModelList("TriggerEvent"),
        "The events the project's flows can be triggered with.",
    ),
    m(
        "rest",
        "trigger_event",
        &[req("thread_id", Str), req("event_name", Str), TIMEOUT],
        Json,
        "Trigger an event in a thread. Never retried.",
    ),
    m(
        "rest",
        "business_hours",
        &[TIMEOUT],
        Model("BusinessHours"),
        "The project's business hours.",
    ),
    m(
        "rest",
        "pause",
        &[req("thread_id", Str), opt("seconds", Int), TIMEOUT],
        Model("PauseStatus"),
        "Pause the bot for a thread (for `seconds`, else until resumed).",
    ),
    m(
        "rest",
        "resume",
        &[req("thread_id", Str), TIMEOUT],
        Model("PauseStatus"),
        "Let the bot answer a paused thread again.",
    ),
    m(
        "rest",
        "pause_status",
        &[req("thread_id", Str), TIMEOUT],
        Model("PauseStatus"),
        "Whether the bot is paused for a thread.",
    ),
    m(
        "rest",
        "broadcast",
        &[req("request", Object), TIMEOUT],
        Json,
        "Send one message to many threads at once (the API's broadcast JSON). Never retried.",
    ),
    m(
        "rest",
        "broadcast_segment",
        &[req("request", Object), TIMEOUT],
        Json,
        "Send one message to every thread of a segment (the API's JSON with `segmentId`). Never retried.",
    ),
    m(
        "rest",
        "segments",
        &[TIMEOUT],
        ModelList("Segment"),
        "The project's segments.",
    ),
    m(
        PAGE_CURSOR,
        "next",
        &[],
        MaybeModel("Page"),
        "The following page as `{items, has_more}` (fetched now), or null after the last.",
    ),
    // Flow Socket session.
    m(
        "session",
        "info",
        &[],
        Model("SessionInfo"),
        "The thread id, the session id and whether the session is closed.",
    ),
    m(
        "session",
        "send",
        &[
            opt("text", Str),
            opt("event", Str),
            opt("trace_id", Int),
            opt("lang", Str),
            opt("timezone", Float),
            opt("params", Object),
            opt("originator", Object),
            opt("attachment", Object),
        ],
        Model("Delivered"),
        "Send a message (text, or an event to trigger) and wait for its delivery; queued while offline.",
    ),
    m(
        "session",
        "send_text",
        &[req("text", Str)],
        Model("Delivered"),
        "Send a text and wait for its delivery.",
    ),
    m(
        "session",
        "send_event",
        &[req("event_name", Str)],
        Model("Delivered"),
        "Trigger an event and wait for its delivery.",
    ),
    m(
        "session",
        "typing",
        &[],
        Nothing,
        "Tell the agents that the user is typing.",
    ),
    m(
        "session",
        "noticed",
        &[],
        Nothing,
        "Mark the thread's messages as seen.",
    ),
    m(
        "session",
        "history",
        &[],
        Json,
        "The thread's earlier messages.",
    ),
    m(
        "session",
        "unnoticed",
        &[],
        Json,
        "Messages the user has not seen yet.",
    ),
    m(
        "session",
        "upload",
        &[req("path", Path)],
        Json,
        "Upload a file to the thread, streamed; progress comes as progress events.",
    ),
    // AIDA.
    m(
        "aida",
        "info",
        &[],
        Model("AidaInfo"),
        "The bot id and whether the socket is connected.",
    ),
    m(
        "aida",
        "new_session",
        &[opt("data", Object)],
        Handle("aida_session"),
        "Start a conversation with the bot.",
    ),
    m(
        "aida",
        "session",
        &[req("session_id", Str)],
        Handle("aida_session"),
        "Resume a conversation by its id.",
    ),
    m(
        "aida",
        "fetch_image",
        &[req("image_id", Str)],
        Model("Image"),
        "An image from the bot's store, base64 in `data`.",
    ),
    m(
        "aida_session",
        "info",
        &[],
        Model("AidaSessionInfo"),
        "The session id.",
    ),
    m(
        "aida_session",
        "send_text",
        &[req("text", Str)],
        Json,
        "Send the user's text; resolves when the server acknowledged it.",
    ),
    m(
        "aida_session",
        "put_data",
        &[req("data", Object)],
        Json,
        "Merge data into the session.",
    ),
    m(
        "aida_session",
        "send_image",
        &[
            req("path", Path),
            opt("filename", Str),
            opt("content_type", Str),
        ],
        Model("ImageId"),
        "Upload an image and send it.",
    ),
    m(
        "aida_session",
        "delete",
        &[],
        Nothing,
        "Delete the session on the server; its events end with closed.",
    ),
    // Webhook receiving.
    m(
        "receiver",
        "info",
        &[],
        Model("ReceiverInfo"),
        "The URL to register and the port.",
    ),
    m(
        "verifier",
        "verify",
        &[req("headers", Json), req("body", Str), opt("query", Str)],
        Model("Event"),
        "Verify a call the app received (headers as an object or a list of pairs) and parse it into an event.",
    ),
    // The embedded emulator.
    m(
        "emulator",
        "info",
        &[],
        Model("EmulatorSettings"),
        "The settings that point every client kind at this object: api_url, aida_url and credentials it accepts (a replay adds aida_bot only when the recording has one); a recorder gives api_url and aida_url only, to lay over the real service's settings, as keys pass through to it.",
    ),
    m(
        "emulator",
        "env",
        &[],
        Object,
        "The settings of `info()` as the `FLOWAI_*` environment variables every client reads, e.g. `FLOWAI_API_URL`, for code that reads its environment or runs in a subprocess.",
    ),
    m(
        "emulator",
        "post_webhook",
        &[
            req("url", Str),
            req("body", Str),
            opt("verify_key", Str),
            opt("delivery_id", Str),
        ],
        Model("WebhookStatus"),
        "Make a webhook call to a receiver as the service would, and give the HTTP status it answered.",
    ),
    m(
        "emulator",
        "set_faults",
        &[req("faults", Object)],
        Json,
        "Change some of the emulator's fault knobs, by their camelCase names (`{\"restV1Failures\": 1, \"restV1Status\": 500}` answers the next Flow REST API v1 call with 500), and give them all.",
    ),
    // Benchmarks.
    m(
        "bench",
        "run",
        &[req("count", Int), opt("interval_us", Int)],
        Nothing,
        "Emit `count` progress events stamped with `at_ns` (monotonic ns), then closed.",
    ),
];

/// The kind called `name`.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// The method `name` of `kind`.
pub fn method(kind: &str, name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.kind == kind && m.name == name)
}

/// The methods of `kind`, in table order.
pub fn methods_of(kind: &str) -> impl Iterator<Item = &'static Method> + '_ {
    METHODS.iter().filter(move |m| m.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for method in METHODS {
            assert!(kind(method.kind).is_some(), "{}", method.kind);
            assert!(
                seen.insert((method.kind, method.name)),
                "twice: {}",
                method.name
            );
            assert_ne!(method.name, "close", "close is implicit");
            let first_optional = method.params.iter().position(|p| !p.required);
            if let Some(i) = first_optional {
                assert!(
                    method.params[i..].iter().all(|p| !p.required),
                    "{}: required after optional",
                    method.name
                );
            }
            if let Type::Handle(k) = method.returns {
                assert!(kind(k).is_some());
            }
        }
        for k in KINDS {
            assert!(
                k.settings.is_some() || METHODS.iter().any(|m| m.returns == Type::Handle(k.name))
            );
        }
    }
}
