//! The SDK's `tracing` records (targets `flowai*`) handed to the language's own logger: Python's `logging`, Node's `setLogger`.
//!
//! A binding sets one sink with [`set_sink`]; the first call installs a global subscriber
//! whose only layer formats each record of a `flowai*` target with the fields of its spans
//! (`flow_rest{method=POST path=/rest/v1/messages}: ok attempt=1 status=200`) and calls the
//! sink on the thread that logged. Records of other targets (hyper, reqwest) are never even
//! built. The core never puts a key in a field, so none reaches a logger. An app that
//! installed a global subscriber of its own keeps it, and this sink then gets nothing.

use std::fmt::Write;
use std::sync::{Arc, Once, RwLock};

use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::Registry;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One record as a logger gets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogRecord {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: &'static str,
    /// The level as Python's `logging` numbers it (40, 30, 20, 10, 5).
    pub level_number: u8,
    /// The module that logged (`flowai_core::v1::client`).
    pub target: String,
    /// The spans' names and fields, the message and the record's fields.
    pub message: String,
}

/// Where records go.
pub type LogSink = Arc<dyn Fn(&LogRecord) + Send + Sync>;

static SINK: RwLock<Option<LogSink>> = RwLock::new(None);

/// Send every later record to `sink` (None: to nobody).
pub fn set_sink(sink: Option<LogSink>) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Fails only when the app installed its own subscriber, which then keeps the records.
        let _ = tracing::subscriber::set_global_default(Registry::default().with(Forward));
    });
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = sink;
}

fn sink() -> Option<LogSink> {
    SINK.read().unwrap_or_else(|e| e.into_inner()).clone()
}

fn ours(metadata: &Metadata<'_>) -> bool {
    metadata.target().starts_with("flowai")
}

/// `name=value` pairs of a record or span; the `message` field apart.
#[derive(Default)]
struct Fields {
    message: String,
    pairs: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.pairs, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.pairs, " {}={value:?}", field.name());
        }
    }
}

/// The formatted fields of a span, kept in its extensions.
struct SpanFields(String);

/// The layer that hands records to the sink.
struct Forward;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Forward {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if ours(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        ours(metadata)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut()
                .insert(SpanFields(fields.pairs.trim_start().to_string()));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            if let Some(kept) = span.extensions_mut().get_mut::<SpanFields>() {
                kept.0.push_str(&fields.pairs);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(sink) = sink() else {
            return;
        };
        let mut message = String::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let fields = extensions.get::<SpanFields>().map_or("", |f| f.0.as_str());
                let _ = write!(message, "{}{{{fields}}}: ", span.name());
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        message.push_str(&fields.message);
        message.push_str(&fields.pairs);
        let level = *event.metadata().level();
        let record = LogRecord {
            level: level_name(level),
            level_number: level_number(level),
            target: event.metadata().target().to_string(),
            message,
        };
        sink(&record);
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

fn level_number(level: Level) -> u8 {
    match level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn records_of_flowai_targets_reach_the_sink_with_their_span_fields() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        set_sink(Some(Arc::new(move |r: &LogRecord| {
            log.lock().unwrap().push(r.clone());
        })));
        {
            let span = tracing::debug_span!(target: "flowai_core::v1", "flow_rest", method = "GET", path = "/rest/v1/threads");
            let _entered = span.enter();
            tracing::debug!(target: "flowai_core::v1", attempt = 1, status = 200, "ok");
            tracing::debug!(target: "hyper::client", "not ours");
        }
        set_sink(None);
        tracing::warn!(target: "flowai_core", "after the sink went");
        // Other tests of this binary may log meanwhile: look at this test's records only.
        let seen = seen.lock().unwrap();
        let mine: Vec<&LogRecord> = seen
            .iter()
            .filter(|r| r.target == "flowai_core::v1" || r.message.contains("not ours"))
            .collect();
        assert_eq!(mine.len(), 1, "{seen:?}");
        assert_eq!(mine[0].level_number, 10);
        assert_eq!(
            mine[0].message,
            "flow_rest{method=GET path=/rest/v1/threads}: ok attempt=1 status=200"
        );
        assert!(
            !seen
                .iter()
                .any(|r| r.message.contains("after the sink went"))
        );
    }
}
