//! The shapes the Flow socket gives back of a sent message: the `message.delivered` echo and the history entries, as the official clients read them.
//!
//! What the clients taught us (flow-ai/flowai-js, flow-ai/flowai-swift):
//! - flowai-js `Message.build` rebuilds the delivered message from `threadId`, `traceId`,
//!   `speech`, `originator`, `metadata` and `attachment` and reads `metadata.language`, so the
//!   echo is the message as it was sent, not a summary of it.
//! - flowai-swift `LiveClient.requestHistory` wants `payload` to be an array of reply-shaped
//!   objects (`threadId`, `originator`, `messages[]` each with a `fallback`), and shows an
//!   entry as the user's own when its originator's role is `external`. Seed 003 says the
//!   same: sent messages and replies share one format.

use serde_json::{Map, Value, json};

/// Fields a client puts beside a message to authenticate or route it (the nonce on
/// `message.send`; clientId and sessionId on a `thread.upload` payload): they are not part
/// of the message, so they are neither echoed nor kept. A nonce in a history or an echo
/// would also land in every app's logs.
const NOT_MESSAGE: [&str; 3] = ["nonce", "clientId", "sessionId"];

/// Make a sent payload into the message as the service keeps it, in place: the fields of
/// [`NOT_MESSAGE`] removed, `threadId` set to the thread it went to, and `speech` set the
/// way the official JS client sets it (`"<type> attachment"`) when an attachment came
/// without one. Everything else stays exactly as sent, in the order sent.
pub(crate) fn normalize_sent(message: &mut Map<String, Value>, thread_id: &str) {
    for key in NOT_MESSAGE {
        message.remove(key);
    }
    match message.get_mut("threadId") {
        Some(Value::String(t)) if t == thread_id => {}
        Some(slot) => *slot = Value::String(thread_id.to_string()),
        None => {
            // Keep threadId first, where every client writes it.
            let rest = std::mem::take(message);
            message.insert("threadId".into(), Value::String(thread_id.to_string()));
            message.extend(rest);
        }
    }
    let has_speech = message
        .get("speech")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    if !has_speech && let Some(kind) = attachment_type(message) {
        message.insert("speech".into(), Value::String(format!("{kind} attachment")));
    }
}

/// Refuse an attachment the service would: the seed's tables require `type` and
/// `payload`, and an event's `name`; flowai-js builds flow and step attachments with a
/// `flowImmutableId` and a `stepId`. Other types pass, as a newer client may send them.
/// The error is the text of the `error` frame.
pub(crate) fn check_attachment(message: &Map<String, Value>) -> Result<(), String> {
    let attachment = match message.get("attachment") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(a)) => a,
        Some(_) => return Err("attachment must be an object".into()),
    };
    let kind = match attachment.get("type").and_then(Value::as_str) {
        Some(k) if !k.trim().is_empty() => k,
        _ => return Err("attachment.type is required".into()),
    };
    let Some(payload) = attachment.get("payload").and_then(Value::as_object) else {
        return Err("attachment.payload is required".into());
    };
    let required = match kind {
        "event" => "name",
        "flow" => "flowImmutableId",
        "step" => "stepId",
        _ => return Ok(()),
    };
    match payload.get(required).and_then(Value::as_str) {
        Some(v) if !v.trim().is_empty() => Ok(()),
        _ => Err(format!("attachment.payload.{required} is required")),
    }
}

/// The `type` of the message's attachment, if it has one.
pub(crate) fn attachment_type(message: &Map<String, Value>) -> Option<&str> {
    message
        .get("attachment")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
}

/// Who a history entry of a sent message is from when the message named nobody: the
/// default both official clients give a user (`Anonymous`, `external`), so that a client
/// shows the entry as the user's own and not as the bot's.
fn default_user() -> Value {
    json!({ "name": "Anonymous", "role": "external" })
}

/// A kept sent message as a history entry: the reply shape (`threadId`, `originator`,
/// `messages`) with the message's own fields beside it (`traceId`, `metadata`,
/// `attachment`). A text message shows as one text response; a message that carries an
/// attachment has none, as it is an instruction (an event, a flow) rather than something
/// the user said, except an uploaded file, which shows as its media.
pub(crate) fn sent_entry(message: &Map<String, Value>) -> Value {
    let speech = message
        .get("speech")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let originator = message
        .get("originator")
        .filter(|o| o.is_object())
        .cloned()
        .unwrap_or_else(default_user);
    let responses = match message.get("attachment") {
        None => vec![json!({ "type": "text", "payload": { "text": speech }, "delay": 0 })],
        Some(attachment) => upload_response(attachment).into_iter().collect(),
    };
    let mut entry = Map::new();
    entry.insert(
        "threadId".into(),
        message.get("threadId").cloned().unwrap_or(Value::Null),
    );
    if let Some(trace) = message.get("traceId") {
        entry.insert("traceId".into(), trace.clone());
    }
    entry.insert(
        "messages".into(),
        json!([{
            "fallback": speech,
            "silent": false,
            "originator": originator,
            "actions": [],
            "responses": responses,
        }]),
    );
    entry.insert("originator".into(), originator);
    for key in ["metadata", "attachment"] {
        if let Some(v) = message.get(key) {
            entry.insert(key.into(), v.clone());
        }
    }
    Value::Object(entry)
}

/// The media response template of an uploaded file's attachment (`{type: image|file|audio|video,
/// payload: {url, name, ...}}`), None for any other attachment.
fn upload_response(attachment: &Value) -> Option<Value> {
    let kind = attachment.get("type").and_then(Value::as_str)?;
    if !matches!(kind, "image" | "file" | "audio" | "video") {
        return None;
    }
    let payload = attachment.get("payload")?;
    let url = payload.get("url")?.clone();
    let title = payload.get("name").cloned().unwrap_or(Value::Null);
    Some(json!({ "type": kind, "payload": { "title": title, "url": url }, "delay": 0 }))
}

/// The media type of an upload from its content type, as the Messaging API names them.
pub(crate) fn media_type(content_type: Option<&str>) -> &'static str {
    let main = content_type
        .and_then(|c| c.split('/').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match main.as_str() {
        "image" => "image",
        "audio" => "audio",
        "video" => "video",
        _ => "file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn normalizing_keeps_the_message_and_drops_credentials() {
        let sent = json!({
            "threadId": "t", "traceId": 5, "speech": "hi",
            "originator": {"name": "Jane", "role": "external", "profile": {"locale": "en-US"}},
            "metadata": {"language": "en-US", "timezone": -5, "params": {"a": [{"value": "1"}]}},
            "nonce": "secret-nonce",
        });
        let mut m = object(sent.clone());
        normalize_sent(&mut m, "t");
        let mut expected = object(sent);
        expected.remove("nonce");
        assert_eq!(m, expected);
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["threadId", "traceId", "speech", "originator", "metadata"]
        );
    }

    #[test]
    fn normalizing_fills_thread_and_speech_as_the_js_client_does() {
        let mut m =
            object(json!({"attachment": {"type": "flow", "payload": {"flowImmutableId": "f"}}}));
        normalize_sent(&mut m, "default-thread");
        assert_eq!(m.keys().next().map(String::as_str), Some("threadId"));
        assert_eq!(m["threadId"], "default-thread");
        assert_eq!(m["speech"], "flow attachment");

        let mut m =
            object(json!({"threadId": "t", "speech": "kept", "attachment": {"type": "event"}}));
        normalize_sent(&mut m, "t");
        assert_eq!(m["speech"], "kept");
    }

    #[test]
    fn history_entry_of_a_text_is_reply_shaped_and_the_users() {
        let m = object(json!({"threadId": "t", "traceId": 9, "speech": "hello"}));
        let e = sent_entry(&m);
        assert_eq!(e["threadId"], "t");
        assert_eq!(e["traceId"], 9);
        assert_eq!(e["originator"]["role"], "external");
        assert_eq!(e["messages"][0]["fallback"], "hello");
        assert_eq!(e["messages"][0]["responses"][0]["payload"]["text"], "hello");
    }

    #[test]
    fn history_entry_keeps_originator_metadata_and_attachment() {
        let m = object(json!({
            "threadId": "t", "speech": "event attachment",
            "attachment": {"type": "event", "payload": {"name": "INTRO"}},
            "originator": {"name": "Jane", "role": "external"},
            "metadata": {"language": "nl"},
        }));
        let e = sent_entry(&m);
        assert_eq!(e["originator"], m["originator"]);
        assert_eq!(e["messages"][0]["originator"], m["originator"]);
        assert_eq!(e["metadata"], m["metadata"]);
        assert_eq!(e["attachment"], m["attachment"]);
        assert_eq!(e["messages"][0]["responses"], json!([]));
    }

    #[test]
    fn an_uploaded_file_shows_as_its_media() {
        let m = object(json!({
            "threadId": "t", "speech": "file attachment",
            "attachment": {"type": "image", "payload": {"url": "http://x/1", "name": "a.png"}},
        }));
        let r = &sent_entry(&m)["messages"][0]["responses"][0];
        assert_eq!(r["type"], "image");
        assert_eq!(r["payload"]["url"], "http://x/1");
        assert_eq!(r["payload"]["title"], "a.png");
    }

    #[test]
    fn attachments_missing_a_required_field_are_refused() {
        let check = |v: Value| check_attachment(&object(json!({ "attachment": v })));
        assert_eq!(
            check(json!({"type": "event", "payload": {"name": "INTRO"}})),
            Ok(())
        );
        assert_eq!(
            check(json!({"type": "flow", "payload": {"flowImmutableId": "f"}})),
            Ok(())
        );
        assert_eq!(
            check(json!({"type": "step", "payload": {"stepId": "s"}})),
            Ok(())
        );
        assert_eq!(check(json!({"type": "future", "payload": {}})), Ok(()));
        assert_eq!(check(Value::Null), Ok(()));
        assert!(check(json!({"payload": {"name": "INTRO"}})).is_err_and(|e| e.contains("type")));
        assert!(check(json!({"type": "event"})).is_err_and(|e| e.contains("payload")));
        assert!(check(json!({"type": "event", "payload": {}})).is_err_and(|e| e.contains("name")));
        assert!(check(json!({"type": "flow", "payload": {"name": "x"}})).is_err());
        assert!(check(json!("event")).is_err());
        assert_eq!(check_attachment(&Map::new()), Ok(()));
    }

    #[test]
    fn media_types_from_content_types() {
        assert_eq!(media_type(Some("image/png")), "image");
        assert_eq!(media_type(Some("Video/mp4")), "video");
        assert_eq!(media_type(Some("audio/ogg")), "audio");
        assert_eq!(media_type(Some("application/pdf")), "file");
        assert_eq!(media_type(None), "file");
    }
}
