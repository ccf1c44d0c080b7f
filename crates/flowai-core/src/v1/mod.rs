//! The Flow REST API v1 (`https://api.flow.ai/rest/v1`): messages with a sync mode that
//! answers with the bot's replies, paged thread and message listings, human handover, bot
//! pause and resume, triggered events, business hours and broadcasts.
//!
//! Every call sends the messaging key raw in `Authorization` (no `Bearer`). Answers are
//! JSON objects in camelCase; this client reads them tolerantly (every field it does not
//! name is kept in `raw`) and the emulator serves these shapes:
//!
//! | Call | Answer |
//! |---|---|
//! | `POST messages[/:threadId]?sync=&writeConcern=` | `{status, threadId, messages: [reply message]}` (`messages` only with `sync=true`) |
//! | `GET messages/:threadId?sync=true&page=N` | `{status, threadId, page, pageSize, total, pages, hasMore, items: [{id, threadId, direction, createdAt, originator, payload}]}` |
//! | `GET threads?sync=true&page=N` | `{status, page, pageSize, total, pages, hasMore, items: [{threadId, messageCount, lastMessageAt, isPaused}]}` |
//! | `POST handover/:threadId {secondsToPause?}` | `{status, threadId, isPaused: true, secondsToPause?}` |
//! | `POST takeover {threadId}` (deprecated) | as handover |
//! | `POST resolve/:threadId` | `{status, threadId, isPaused: false}` |
//! | `GET trigger/event?sync=true` | `{status, events: [{name, flowId, flowTitle}]}` |
//! | `POST trigger/event/:threadId?eventName=` | `{status, threadId, eventName}` (replies go to `message` webhooks) |
//! | `GET businesshours?sync=true` | `{status, businessHours: {timezone, days: [{day, open, close}], holidays}}` |
//! | `POST / DELETE / GET pause/:threadId` | `{status, threadId, isPaused, secondsToPause?}` (`isPaued` accepted) |
//! | `POST broadcast/instant` | `{status, recipients, threads}` |
//! | `POST broadcast/instant/segment` | `{status, segments, recipients}` |
//! | `GET broadcast/segments?sync=true` | `{status, segments: [{id, name, description, size}]}` |
//!
//! Page numbers start at 1; a page holds 20 items; the listings fetch lazily ([`Pages`]).
//! Reply messages have the socket's reply format ([`crate::models::ReplyMessage`]). Reads
//! are sent with `sync=true`: without it the service answers `{status: "ok"}` and sends
//! the data to webhooks instead ([`webhook`]).
//!
//! Settings ([`crate::settings::RestSettings`]): the base URL is `rest_url`
//! (`FLOWAI_REST_URL`) when given, else `{api_url}/rest/v1`; `timeout_ms` bounds each
//! attempt; `max_retries`, `retry_base_ms`, `retry_max_ms` shape the retries; `proxy`
//! routes every request (else the usual `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` /
//! `NO_PROXY` environment applies).
//!
//! Calls that are safe to repeat (reads, pause, resume, resolve) are retried after a
//! connection error, a timeout, a 429 or a 5xx, honouring `Retry-After`; sends,
//! broadcasts, handovers and triggered events never are ([`retry`]). Every error from an
//! answer carries its status and the `x-request-id` the service gave. Requests are logged
//! through `tracing` (method, path, attempt, status, request id), never with the key.

pub mod client;
pub mod pages;
pub mod retry;
pub mod types;
pub mod webhook;

pub use client::{DEFAULT_REST_URL, REQUEST_ID_HEADER, RestClient, RestOptions};
pub use pages::{FIRST_PAGE, PageFetcher, PageGauge, Pages, page_after};
pub use retry::{RetryPolicy, Safety};
pub use types::{
    Broadcast, BroadcastChannel, BusinessDay, BusinessHours, CallOptions, MAX_SPEECH_CHARS,
    PAGE_SIZE, Page, PauseStatus, Recipient, RestMessage, RestOriginator, RestPayload, Role,
    Segment, SegmentBroadcast, SegmentRef, SendOptions, SendReceipt, ThreadSummary, TriggerEvent,
};
pub use webhook::RestWebhookEvent;
