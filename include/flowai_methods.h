/*
 * flowai_methods.h: every kind of object of the C API and every method of each, as
 * documented string macros. Included by flowai.h.
 *
 * Generated from the method table (crates/flowai-ffi/src/api.rs) by
 * crates/flowai-ffi/src/codegen/c.rs: do not edit.
 * `FLOWAI_BLESS=1 cargo test -p flowai-ffi --test generated` rewrites it.
 *
 * Open an object with flowai_open(FLOWAI_KIND_..., settings_json, ...): settings_json is
 * one JSON object with the settings listed for the kind (snake_case; missing ones come
 * from the FLOWAI_* environment). Call a method with
 * flowai_call(handle, FLOWAI_<KIND>_<METHOD>, args_json, &out_json): args_json is one
 * JSON object with the arguments shown (optional ones in brackets), and out_json gets
 * the result as JSON text. A method that makes a new object goes through
 * flowai_call_open instead. Every kind also has close: flowai_close(handle).
 */

#ifndef FLOWAI_METHODS_H
#define FLOWAI_METHODS_H

/* ---------- messaging ---------- */

/**
 * "messaging": The Messaging REST API (text, event, location, media) and webhook
 * subscriptions.
 * Settings: api_url, messaging_key, timeout_ms, ca_cert.
 */
#define FLOWAI_KIND_MESSAGING "messaging"

/**
 * messaging.send_text {"thread_id": string, "text": string, ["trace_id": integer],
 * ["lang": string], ["timezone": number], ["params": object]} -> null
 *   Send a text message (at most 255 characters); replies come through webhooks.
 */
#define FLOWAI_MESSAGING_SEND_TEXT "send_text"

/**
 * messaging.send_event {"thread_id": string, "event_name": string, ["trace_id": integer],
 * ["lang": string], ["timezone": number], ["params": object]} -> null
 *   Trigger an event.
 */
#define FLOWAI_MESSAGING_SEND_EVENT "send_event"

/**
 * messaging.send_location {"thread_id": string, "lat": number or string, "lng": number or
 * string, ["trace_id": integer], ["lang": string], ["timezone": number], ["params":
 * object]} -> null
 *   Send a location.
 */
#define FLOWAI_MESSAGING_SEND_LOCATION "send_location"

/**
 * messaging.send_media {"thread_id": string, "path": string (a file path), "media_type":
 * string, ["mime_type": string], ["trace_id": integer], ["lang": string], ["timezone":
 * number], ["params": object]} -> null
 *   Send a file (image, file, audio or video, at most 250 MB), streamed; progress comes
 *   as progress events.
 */
#define FLOWAI_MESSAGING_SEND_MEDIA "send_media"

/**
 * messaging.send {"message": object} -> null
 *   Send a message given as the Messaging API's own JSON: threadId, type (text, event or
 *   location) and its fields, traceId, lang, timezone, params.
 */
#define FLOWAI_MESSAGING_SEND "send"

/**
 * messaging.create_webhook {"url": string, "verify_key": string, "events": [string, ...]}
 * -> Webhook
 *   Subscribe a URL to events; the service first calls it with a GET.
 */
#define FLOWAI_MESSAGING_CREATE_WEBHOOK "create_webhook"

/**
 * messaging.get_webhook {"webhook_id": string} -> Webhook
 *   One subscription.
 */
#define FLOWAI_MESSAGING_GET_WEBHOOK "get_webhook"

/**
 * messaging.update_webhook {"webhook_id": string, ["url": string], ["verify_key":
 * string], ["events": [string, ...]]} -> Webhook
 *   Change a subscription.
 */
#define FLOWAI_MESSAGING_UPDATE_WEBHOOK "update_webhook"

/**
 * messaging.list_webhooks {} -> [Webhook, ...]
 *   Every subscription, newest first.
 */
#define FLOWAI_MESSAGING_LIST_WEBHOOKS "list_webhooks"

/**
 * messaging.delete_webhook {"webhook_id": string} -> null
 *   Remove a subscription.
 */
#define FLOWAI_MESSAGING_DELETE_WEBHOOK "delete_webhook"

/* ---------- management ---------- */

/**
 * "management": The Management API: flows, intents, entity types, projects, members.
 * Settings: api_url, management_key, timeout_ms, ca_cert.
 */
#define FLOWAI_KIND_MANAGEMENT "management"

/**
 * management.list_flows {} -> [Flow, ...]
 *   Every flow.
 */
#define FLOWAI_MANAGEMENT_LIST_FLOWS "list_flows"

/**
 * management.get_flow {"flow_id": string} -> Flow
 *   One flow with its steps.
 */
#define FLOWAI_MANAGEMENT_GET_FLOW "get_flow"

/**
 * management.list_intents {} -> [Intent, ...]
 *   Every intent.
 */
#define FLOWAI_MANAGEMENT_LIST_INTENTS "list_intents"

/**
 * management.get_intent {"intent_id": string} -> Intent
 *   One intent with its examples.
 */
#define FLOWAI_MANAGEMENT_GET_INTENT "get_intent"

/**
 * management.list_entity_types {} -> [Resource, ...]
 *   Every entity type.
 */
#define FLOWAI_MANAGEMENT_LIST_ENTITY_TYPES "list_entity_types"

/**
 * management.get_entity_type {"entity_type_id": string} -> Resource
 *   One entity type.
 */
#define FLOWAI_MANAGEMENT_GET_ENTITY_TYPE "get_entity_type"

/**
 * management.list_projects {} -> [Resource, ...]
 *   Every project.
 */
#define FLOWAI_MANAGEMENT_LIST_PROJECTS "list_projects"

/**
 * management.get_project {"project_id": string} -> Resource
 *   One project.
 */
#define FLOWAI_MANAGEMENT_GET_PROJECT "get_project"

/**
 * management.list_members {} -> [Resource, ...]
 *   Every member.
 */
#define FLOWAI_MANAGEMENT_LIST_MEMBERS "list_members"

/* ---------- rest ---------- */

/**
 * "rest": The Flow REST API v1: messages with the bot's replies in the answer (sync),
 * threads, handover, bot pause, events, business hours, broadcasts. Only safe calls are
 * retried.
 * Settings: api_url, rest_url, messaging_key, timeout_ms, max_retries, retry_base_ms,
 * retry_max_ms, proxy, ca_cert.
 */
#define FLOWAI_KIND_REST "rest"

/**
 * rest.send {"message": object, ["thread_id": string], ["sync": boolean],
 * ["write_concern": boolean], ["timeout_ms": integer]} -> SendReceipt
 *   Send a message given as the API's JSON (`payload` with `type` and its fields,
 *   `originator`, `metadata`) to a thread, or to a new one when `thread_id` is not given;
 *   with `sync`, the answer carries the bot's replies. Never retried.
 */
#define FLOWAI_REST_SEND "send"

/**
 * rest.send_text {"text": string, ["thread_id": string], ["sync": boolean],
 * ["write_concern": boolean], ["timeout_ms": integer]} -> SendReceipt
 *   Send a text (at most 255 characters) as the external user; with `sync`, the answer
 *   carries the bot's replies. Never retried.
 */
#define FLOWAI_REST_SEND_TEXT "send_text"

/**
 * rest.messages_page {"thread_id": string, ["page": integer], ["timeout_ms": integer]} ->
 * MessagesPage
 *   One page (20 messages) of a thread's messages; pages count from 1.
 */
#define FLOWAI_REST_MESSAGES_PAGE "messages_page"

/**
 * rest.messages {"thread_id": string} -> a new page_cursor object (flowai_call_open)
 *   Every message of a thread, a page fetched when iteration reaches it.
 */
#define FLOWAI_REST_MESSAGES "messages"

/**
 * rest.threads_page {["page": integer], ["timeout_ms": integer]} -> ThreadsPage
 *   One page (20 threads) of the threads; pages count from 1.
 */
#define FLOWAI_REST_THREADS_PAGE "threads_page"

/**
 * rest.threads {} -> a new page_cursor object (flowai_call_open)
 *   Every thread, a page fetched when iteration reaches it.
 */
#define FLOWAI_REST_THREADS "threads"

/**
 * rest.handover {"thread_id": string, ["seconds": integer], ["timeout_ms": integer]} ->
 * JSON
 *   Hand the thread over to a human agent, pausing the bot (for `seconds`, else the
 *   service's default). Never retried.
 */
#define FLOWAI_REST_HANDOVER "handover"

/**
 * rest.takeover {"thread_id": string, ["timeout_ms": integer]} -> JSON
 *   Deprecated by the service: use handover.
 */
#define FLOWAI_REST_TAKEOVER "takeover"

/**
 * rest.resolve {"thread_id": string, ["timeout_ms": integer]} -> JSON
 *   Mark the thread resolved.
 */
#define FLOWAI_REST_RESOLVE "resolve"

/**
 * rest.trigger_events {["timeout_ms": integer]} -> [TriggerEvent, ...]
 *   The events the project's flows can be triggered with.
 */
#define FLOWAI_REST_TRIGGER_EVENTS "trigger_events"

/**
 * rest.trigger_event {"thread_id": string, "event_name": string, ["timeout_ms": integer]}
 * -> JSON
 *   Trigger an event in a thread. Never retried.
 */
#define FLOWAI_REST_TRIGGER_EVENT "trigger_event"

/**
 * rest.business_hours {["timeout_ms": integer]} -> BusinessHours
 *   The project's business hours.
 */
#define FLOWAI_REST_BUSINESS_HOURS "business_hours"

/**
 * rest.pause {"thread_id": string, ["seconds": integer], ["timeout_ms": integer]} ->
 * PauseStatus
 *   Pause the bot for a thread (for `seconds`, else until resumed).
 */
#define FLOWAI_REST_PAUSE "pause"

/**
 * rest.resume {"thread_id": string, ["timeout_ms": integer]} -> PauseStatus
 *   Let the bot answer a paused thread again.
 */
#define FLOWAI_REST_RESUME "resume"

/**
 * rest.pause_status {"thread_id": string, ["timeout_ms": integer]} -> PauseStatus
 *   Whether the bot is paused for a thread.
 */
#define FLOWAI_REST_PAUSE_STATUS "pause_status"

/**
 * rest.broadcast {"request": object, ["timeout_ms": integer]} -> JSON
 *   Send one message to many threads at once (the API's broadcast JSON). Never retried.
 */
#define FLOWAI_REST_BROADCAST "broadcast"

/**
 * rest.broadcast_segment {"request": object, ["timeout_ms": integer]} -> JSON
 *   Send one message to every thread of a segment (the API's JSON with `segmentId`).
 *   Never retried.
 */
#define FLOWAI_REST_BROADCAST_SEGMENT "broadcast_segment"

/**
 * rest.segments {["timeout_ms": integer]} -> [Segment, ...]
 *   The project's segments.
 */
#define FLOWAI_REST_SEGMENTS "segments"

/* ---------- page_cursor ---------- */

/**
 * "page_cursor": A listing read a page at a time: `next` fetches the following page.
 * Not opened directly: made by flowai_call_open with rest.messages or rest.threads.
 */
#define FLOWAI_KIND_PAGE_CURSOR "page_cursor"

/**
 * page_cursor.next {} -> Page or null
 *   The following page as `{items, has_more}` (fetched now), or null after the last.
 */
#define FLOWAI_PAGE_CURSOR_NEXT "next"

/* ---------- session ---------- */

/**
 * "session": A real-time Flow Socket session of one thread; opening it connects.
 * Settings: api_url, client_id, thread_id, session_id, originator, ping_interval_ms,
 * pong_timeout_ms, send_timeout_ms, connect_timeout_ms, queue_capacity, event_capacity,
 * backoff_base_ms, backoff_cap_ms, ca_cert.
 */
#define FLOWAI_KIND_SESSION "session"

/**
 * session.info {} -> SessionInfo
 *   The thread id, the session id and whether the session is closed.
 */
#define FLOWAI_SESSION_INFO "info"

/**
 * session.send {["text": string], ["event": string], ["trace_id": integer], ["lang":
 * string], ["timezone": number], ["params": object], ["originator": object],
 * ["attachment": object]} -> Delivered
 *   Send a message (text, or an event to trigger) and wait for its delivery; queued while
 *   offline.
 */
#define FLOWAI_SESSION_SEND "send"

/**
 * session.send_text {"text": string} -> Delivered
 *   Send a text and wait for its delivery.
 */
#define FLOWAI_SESSION_SEND_TEXT "send_text"

/**
 * session.send_event {"event_name": string} -> Delivered
 *   Trigger an event and wait for its delivery.
 */
#define FLOWAI_SESSION_SEND_EVENT "send_event"

/**
 * session.typing {} -> null
 *   Tell the agents that the user is typing.
 */
#define FLOWAI_SESSION_TYPING "typing"

/**
 * session.noticed {} -> null
 *   Mark the thread's messages as seen.
 */
#define FLOWAI_SESSION_NOTICED "noticed"

/**
 * session.history {} -> JSON
 *   The thread's earlier messages.
 */
#define FLOWAI_SESSION_HISTORY "history"

/**
 * session.unnoticed {} -> JSON
 *   Messages the user has not seen yet.
 */
#define FLOWAI_SESSION_UNNOTICED "unnoticed"

/**
 * session.upload {"path": string (a file path)} -> JSON
 *   Upload a file to the thread, streamed; progress comes as progress events.
 */
#define FLOWAI_SESSION_UPLOAD "upload"

/* ---------- aida ---------- */

/**
 * "aida": A connection to one AIDA bot over Phoenix channels; its events carry every
 * session's replies.
 * Settings: aida_url, aida_bot, aida_token, timeout_ms, push_timeout_ms,
 * heartbeat_interval_ms, connect_timeout_ms, ca_cert.
 */
#define FLOWAI_KIND_AIDA "aida"

/**
 * aida.info {} -> AidaInfo
 *   The bot id and whether the socket is connected.
 */
#define FLOWAI_AIDA_INFO "info"

/**
 * aida.new_session {["data": object]} -> a new aida_session object (flowai_call_open)
 *   Start a conversation with the bot.
 */
#define FLOWAI_AIDA_NEW_SESSION "new_session"

/**
 * aida.session {"session_id": string} -> a new aida_session object (flowai_call_open)
 *   Resume a conversation by its id.
 */
#define FLOWAI_AIDA_SESSION "session"

/**
 * aida.fetch_image {"image_id": string} -> Image
 *   An image from the bot's store, base64 in `data`.
 */
#define FLOWAI_AIDA_FETCH_IMAGE "fetch_image"

/* ---------- aida_session ---------- */

/**
 * "aida_session": One conversation with an AIDA bot; its events carry this session's
 * replies only.
 * Not opened directly: made by flowai_call_open with aida.new_session or aida.session.
 */
#define FLOWAI_KIND_AIDA_SESSION "aida_session"

/**
 * aida_session.info {} -> AidaSessionInfo
 *   The session id.
 */
#define FLOWAI_AIDA_SESSION_INFO "info"

/**
 * aida_session.send_text {"text": string} -> JSON
 *   Send the user's text; resolves when the server acknowledged it.
 */
#define FLOWAI_AIDA_SESSION_SEND_TEXT "send_text"

/**
 * aida_session.put_data {"data": object} -> JSON
 *   Merge data into the session.
 */
#define FLOWAI_AIDA_SESSION_PUT_DATA "put_data"

/**
 * aida_session.send_image {"path": string (a file path), ["filename": string],
 * ["content_type": string]} -> ImageId
 *   Upload an image and send it.
 */
#define FLOWAI_AIDA_SESSION_SEND_IMAGE "send_image"

/**
 * aida_session.delete {} -> null
 *   Delete the session on the server; its events end with closed.
 */
#define FLOWAI_AIDA_SESSION_DELETE "delete"

/* ---------- receiver ---------- */

/**
 * "receiver": An embedded webhook receiver: verified calls arrive as events.
 * Settings: verify_key, host, port, path, verify_header, max_body_bytes, queue_capacity,
 * dedupe_capacity, dedup_url, dedup_claim_ttl_ms, dedup_done_ttl_ms, dedup_fail_open.
 */
#define FLOWAI_KIND_RECEIVER "receiver"

/**
 * receiver.info {} -> ReceiverInfo
 *   The URL to register and the port.
 */
#define FLOWAI_RECEIVER_INFO "info"

/* ---------- verifier ---------- */

/**
 * "verifier": Verifies and parses webhook calls received by the app's own server.
 * Settings: verify_key, verify_header.
 */
#define FLOWAI_KIND_VERIFIER "verifier"

/**
 * verifier.verify {"headers": JSON, "body": string, ["query": string]} -> Event
 *   Verify a call the app received (headers as an object or a list of pairs) and parse it
 *   into an event.
 */
#define FLOWAI_VERIFIER_VERIFY "verify"

/* ---------- emulator ---------- */

/**
 * "emulator": A local Flow.ai + AIDA server in this process, for offline tests; with
 * `record` and `upstream`, a recorder in front of a real service instead; with `replay`,
 * a recording served again. `info()` gives the settings that point clients at it.
 * Settings: project, time_scale, record, upstream, replay.
 */
#define FLOWAI_KIND_EMULATOR "emulator"

/**
 * emulator.info {} -> EmulatorSettings
 *   The settings that point every client kind at this object: api_url, aida_url and
 *   credentials it accepts (a replay adds aida_bot only when the recording has one); a
 *   recorder gives api_url and aida_url only, to lay over the real service's settings, as
 *   keys pass through to it.
 */
#define FLOWAI_EMULATOR_INFO "info"

/**
 * emulator.env {} -> object
 *   The settings of `info()` as the `FLOWAI_*` environment variables every client reads,
 *   e.g. `FLOWAI_API_URL`, for code that reads its environment or runs in a subprocess.
 */
#define FLOWAI_EMULATOR_ENV "env"

/**
 * emulator.post_webhook {"url": string, "body": string, ["verify_key": string],
 * ["delivery_id": string]} -> WebhookStatus
 *   Make a webhook call to a receiver as the service would, and give the HTTP status it
 *   answered.
 */
#define FLOWAI_EMULATOR_POST_WEBHOOK "post_webhook"

/**
 * emulator.set_faults {"faults": object} -> JSON
 *   Change some of the emulator's fault knobs, by their camelCase names
 *   (`{"restV1Failures": 1, "restV1Status": 500}` answers the next Flow REST API v1 call
 *   with 500), and give them all.
 */
#define FLOWAI_EMULATOR_SET_FAULTS "set_faults"

/* ---------- bench ---------- */

/**
 * "bench": A source of synthetic events for the binding benchmarks.
 * Settings: none ({}).
 */
#define FLOWAI_KIND_BENCH "bench"

/**
 * bench.run {"count": integer, ["interval_us": integer]} -> null
 *   Emit `count` progress events stamped with `at_ns` (monotonic ns), then closed.
 */
#define FLOWAI_BENCH_RUN "run"

#endif /* FLOWAI_METHODS_H */
