//! The flow engine: runs a project of Flows (Management API JSON) and answers every channel.
//!
//! Matching rules, in order of preference for a text:
//! 1. an INTENT step one of whose examples equals the normalised text (lowercase,
//!    punctuation removed, whitespace collapsed);
//! 2. a SLOT (or ANYTHING) step that follows the thread's previous step: it takes the whole
//!    text and stores it as a parameter under the slot's label;
//! 3. the INTENT step whose best example shares the most tokens with the text (Jaccard
//!    similarity of the token sets, at least [`FUZZY_THRESHOLD`]);
//! 4. an UNKNOWN step (the fallback), which leaves the thread's context as it was.
//!
//! A step with `contexts` is only reachable right after one of those steps, and such a
//! follow-up wins over a top-level step that matches equally well. Events match EVENT steps
//! by title; an event nothing listens to gets no reply. Locations and media match the
//! LOCATION / IMAGE / FILE / AUDIO / VIDEO steps, else the fallback.
//!
//! Everything that does not depend on the input is computed once at load, so
//! [`Engine::respond`] costs a normalisation, a hash lookup and a few clones.
//!
//! The bot can be paused for a thread (a human handover, a pause call, a moderator's
//! message): while it is, [`Engine::respond`] gives no reply on any channel. A pause ends
//! when resumed or when its deadline passes. A project file given as an object keeps its
//! other top-level fields (e.g. `businessHours`, `segments`) for [`Engine::project_setting`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use flowai_core::models::{
    ActionRef, Flow, FlowRef, IntentRef, Originator, Param, Params, Profile, QuickReply,
    ReplyMessage, Response, Step, StepRef, StepType, Template,
};
use serde_json::{Map, Value, json};

/// What a user sent, from any channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Text or speech.
    Text(String),
    /// An event by name.
    Event(String),
    /// A location.
    Location { lat: String, lng: String },
    /// A media upload (`image`, `file`, `audio`, `video`).
    Media { media_type: String },
}

impl Input {
    /// The message's speech when its sender gave none: the text of a text, else
    /// `"<type> attachment"`, the speech the official JS client gives a message that only
    /// carries an attachment (and the `replyTo` of the reference's reply to such a message).
    pub fn speech(&self) -> String {
        match self {
            Input::Text(text) => text.clone(),
            Input::Event(_) => "event attachment".into(),
            Input::Location { .. } => "location attachment".into(),
            Input::Media { .. } => "media attachment".into(),
        }
    }
}

/// Minimum token overlap (Jaccard similarity) for an inexact intent match.
pub const FUZZY_THRESHOLD: f64 = 0.5;

/// Default number of threads whose conversation state is kept.
pub const DEFAULT_MAX_THREADS: usize = 100_000;

/// Picture of the bot originator on every reply.
pub const BOT_PICTURE: &str = "https://flow.ai/img/brains/flowai.svg";

const DEMO_PROJECT: &str = include_str!("demo_project.json");

/// The originator of every bot reply: `flowai|system`, role `bot`.
pub fn bot_originator() -> Originator {
    Originator {
        user_id: Some("flowai|system".into()),
        name: Some("system".into()),
        role: Some("bot".into()),
        profile: Some(Profile {
            picture: Some(BOT_PICTURE.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Lowercase, drop punctuation, collapse whitespace.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else if c.is_alphanumeric() {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The sorted, deduplicated tokens of a normalised text.
fn tokens(normalized: &str) -> Vec<&str> {
    let mut t: Vec<&str> = normalized.split(' ').filter(|s| !s.is_empty()).collect();
    t.sort_unstable();
    t.dedup();
    t
}

/// Jaccard similarity of two sorted, deduplicated token lists.
fn overlap<S: AsRef<str>, T: AsRef<str>>(a: &[S], b: &[T]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].as_ref().cmp(b[j].as_ref()) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

/// A step prepared for matching.
#[derive(Debug)]
struct Prepared {
    kind: StepType,
    /// Indices of the steps this one follows; empty for a top-level step.
    contexts: Vec<usize>,
    /// Whether the step declared contexts (even ones that do not resolve).
    contextual: bool,
    /// Token lists of the intent examples.
    examples: Vec<Vec<String>>,
    /// Parameter name a SLOT step fills.
    slot_label: Option<String>,
    /// The reply without `replyTo` and params.
    reply: ReplyMessage,
    /// Whether any text holds a `{param}` placeholder.
    templated: bool,
}

#[derive(Debug, Default)]
struct ThreadState {
    prev: Option<usize>,
    params: Params,
}

#[derive(Debug, Default)]
struct Threads {
    map: HashMap<String, ThreadState>,
    order: VecDeque<String>,
}

/// The engine: a project and the conversation state of every thread.
pub struct Engine {
    flows: Vec<Flow>,
    steps: Vec<Prepared>,
    /// Normalised example -> INTENT steps having it.
    exact: HashMap<String, Vec<usize>>,
    /// Event name -> EVENT steps.
    events: HashMap<String, Vec<usize>>,
    /// Upper-cased event name -> EVENT steps, for a case-insensitive second try.
    events_upper: HashMap<String, Vec<usize>>,
    intents: Vec<usize>,
    threads: Mutex<Threads>,
    max_threads: usize,
    /// Paused threads and when each pause ends (`None`: until resumed).
    paused: Mutex<HashMap<String, Option<Instant>>>,
    /// The project file's top-level fields besides `flows`.
    project: Map<String, Value>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("flows", &self.flows.len())
            .field("steps", &self.steps.len())
            .field("threads", &self.lock().map.len())
            .finish_non_exhaustive()
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::from_flows(Vec::new())
    }
}

impl Engine {
    /// The built-in demo project: greeting, an INTRO event with quick replies, a weather
    /// flow that asks for a city, attachments and a fallback.
    pub fn demo() -> Engine {
        // The demo project is part of the crate and checked by a unit test.
        Engine::from_json(DEMO_PROJECT).unwrap_or_default()
    }

    /// A project read from a JSON file (a list of flows, or `{"flows": [...]}`).
    pub fn from_file(path: &std::path::Path) -> Result<Engine, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Engine::from_json(&text)
    }

    /// A project from JSON text (a list of flows, or `{"flows": [...]}`).
    pub fn from_json(text: &str) -> Result<Engine, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let (list, project) = match value {
            Value::Object(mut m) if m.contains_key("flows") => {
                let flows = m.remove("flows").unwrap_or(Value::Null);
                (flows, m)
            }
            other => (other, Map::new()),
        };
        let flows: Vec<Flow> = serde_json::from_value(list).map_err(|e| e.to_string())?;
        let mut engine = Engine::from_flows(flows);
        engine.project = project;
        Ok(engine)
    }

    /// A project from flows (ids left empty are filled in).
    pub fn from_flows(mut flows: Vec<Flow>) -> Engine {
        fill_ids(&mut flows);
        let mut index_of: HashMap<&str, usize> = HashMap::new();
        let mut located: Vec<(usize, usize)> = Vec::new();
        for (fi, flow) in flows.iter().enumerate() {
            if flow.disabled {
                continue;
            }
            for (si, step) in flow.steps.iter().enumerate() {
                index_of
                    .entry(step.step_id.as_str())
                    .or_insert(located.len());
                located.push((fi, si));
            }
        }
        let mut engine = Engine {
            steps: Vec::with_capacity(located.len()),
            exact: HashMap::new(),
            events: HashMap::new(),
            events_upper: HashMap::new(),
            intents: Vec::new(),
            threads: Mutex::new(Threads::default()),
            max_threads: DEFAULT_MAX_THREADS,
            paused: Mutex::new(HashMap::new()),
            project: Map::new(),
            flows: Vec::new(),
        };
        for (idx, &(fi, si)) in located.iter().enumerate() {
            let flow = &flows[fi];
            let step = &flow.steps[si];
            let contexts = step
                .contexts
                .iter()
                .filter_map(|c| index_of.get(c.as_str()).copied())
                .collect();
            let mut examples = Vec::new();
            if step.kind == StepType::Intent {
                if let Some(IntentRef::Full(intent)) = &step.intent {
                    for ex in &intent.examples {
                        let norm = normalize(&ex.query);
                        if norm.is_empty() {
                            continue;
                        }
                        examples.push(tokens(&norm).into_iter().map(String::from).collect());
                        let slot = engine.exact.entry(norm).or_default();
                        if !slot.contains(&idx) {
                            slot.push(idx);
                        }
                    }
                }
                engine.intents.push(idx);
            }
            if step.kind == StepType::Event {
                engine
                    .events
                    .entry(step.title.clone())
                    .or_default()
                    .push(idx);
                engine
                    .events_upper
                    .entry(step.title.to_uppercase())
                    .or_default()
                    .push(idx);
            }
            let reply = prepare_reply(flow, step);
            let templated = reply.responses.iter().any(|r| match &r.template {
                Template::Text { text, .. } => text.contains('{'),
                _ => false,
            });
            engine.steps.push(Prepared {
                kind: step.kind.clone(),
                contexts,
                contextual: !step.contexts.is_empty(),
                examples,
                slot_label: step
                    .slot
                    .as_ref()
                    .map(|s| s.label.clone())
                    .filter(|l| !l.is_empty()),
                reply,
                templated,
            });
        }
        drop(index_of);
        engine.flows = flows;
        engine
    }

    /// Keep the state of at most `max` threads (the oldest are forgotten first).
    pub fn with_max_threads(mut self, max: usize) -> Engine {
        self.max_threads = max.max(1);
        self
    }

    /// The flows of the project.
    pub fn flows(&self) -> &[Flow] {
        &self.flows
    }

    /// One flow by id.
    pub fn flow(&self, flow_id: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.flow_id == flow_id)
    }

    /// A top-level field of the project file besides `flows` (`businessHours`, `segments`).
    pub fn project_setting(&self, key: &str) -> Option<&Value> {
        self.project.get(key)
    }

    /// Pause the bot for a thread until `until` (`None`: until resumed), replacing any
    /// earlier pause of it.
    pub fn pause(&self, thread_id: &str, until: Option<Instant>) {
        self.paused_lock().insert(thread_id.to_string(), until);
    }

    /// End a thread's pause; whether it was paused.
    pub fn resume(&self, thread_id: &str) -> bool {
        let mut paused = self.paused_lock();
        let was = live_pause(&paused, thread_id);
        paused.remove(thread_id);
        was
    }

    /// Whether the bot is paused for a thread now.
    pub fn is_paused(&self, thread_id: &str) -> bool {
        live_pause(&self.paused_lock(), thread_id)
    }

    /// End the pause that was set to end at `deadline`, if it is still that one; whether
    /// it ended (a later pause or a resume in between leaves it alone).
    pub fn expire_pause(&self, thread_id: &str, deadline: Instant) -> bool {
        let mut paused = self.paused_lock();
        if paused.get(thread_id) == Some(&Some(deadline)) {
            paused.remove(thread_id);
            return true;
        }
        false
    }

    fn paused_lock(&self) -> MutexGuard<'_, HashMap<String, Option<Instant>>> {
        // A poisoned lock still holds valid plain data.
        self.paused.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The parameters collected so far in a thread (slot values).
    pub fn thread_params(&self, thread_id: &str) -> Params {
        self.lock()
            .map
            .get(thread_id)
            .map(|t| t.params.clone())
            .unwrap_or_default()
    }

    /// Forget a thread's context and parameters.
    pub fn reset_thread(&self, thread_id: &str) {
        let mut threads = self.lock();
        if threads.map.remove(thread_id).is_some() {
            threads.order.retain(|t| t != thread_id);
        }
    }

    /// Number of threads whose state is kept.
    pub fn thread_count(&self) -> usize {
        self.lock().map.len()
    }

    /// The bot's reply messages to `input` in thread `thread_id` (empty when silent); their
    /// `replyTo` is the input's default speech ([`Input::speech`]).
    pub fn respond(&self, thread_id: &str, input: &Input) -> Vec<ReplyMessage> {
        self.respond_to(thread_id, input, None)
    }

    /// Like [`Engine::respond`], with the speech the message was sent with as `replyTo`
    /// (the reference's reply to an event sent with speech "event attachment" says so).
    pub fn respond_to(
        &self,
        thread_id: &str,
        input: &Input,
        speech: Option<&str>,
    ) -> Vec<ReplyMessage> {
        if self.is_paused(thread_id) {
            return Vec::new();
        }
        let reply_to = speech.map_or_else(|| input.speech(), str::to_string);
        let mut threads = self.lock();
        let prev = threads.map.get(thread_id).and_then(|t| t.prev);
        let (matched, slot_value) = match input {
            Input::Text(text) => self.match_text(prev, text),
            Input::Event(name) => (self.match_event(prev, name), None),
            Input::Location { .. } => (
                self.match_kind(prev, &StepType::Location)
                    .or_else(|| self.fallback(prev)),
                None,
            ),
            Input::Media { media_type } => {
                let kind = match media_type.to_ascii_lowercase().as_str() {
                    "image" => StepType::Image,
                    "file" => StepType::File,
                    "audio" => StepType::Audio,
                    "video" => StepType::Video,
                    _ => StepType::Other(String::new()),
                };
                (
                    self.match_kind(prev, &kind).or_else(|| self.fallback(prev)),
                    None,
                )
            }
        };
        let Some(idx) = matched else {
            return Vec::new();
        };
        let step = &self.steps[idx];
        let state = self.thread_mut(&mut threads, thread_id);
        if step.kind != StepType::Unknown {
            state.prev = Some(idx);
        }
        if let (Some(label), Some(value)) = (&step.slot_label, slot_value) {
            state.params.insert(label.clone(), vec![Param::new(value)]);
        }
        let mut reply = step.reply.clone();
        reply.reply_to = Some(reply_to);
        let mut params = state.params.clone();
        drop(threads);
        if let Input::Event(name) = input {
            let mut p = Param::new(json!({ "name": name }));
            p.extra
                .insert("type".into(), Value::String("custom".into()));
            params.insert("event".into(), vec![p]);
        }
        if step.templated && !params.is_empty() {
            fill_placeholders(&mut reply, &params);
        }
        // Always present, `{}` when nothing matched: the API reference lists params among a
        // reply message's fields, and the official JS client's own fixtures show `{}`.
        reply.params = Some(params);
        vec![reply]
    }

    /// The matched step and, for a slot, the value it takes.
    fn match_text(&self, prev: Option<usize>, text: &str) -> (Option<usize>, Option<String>) {
        let norm = normalize(text);
        if norm.is_empty() {
            if let Some(i) = self.match_kind(prev, &StepType::Nothing) {
                return (Some(i), None);
            }
        }
        if let Some(cands) = self.exact.get(&norm) {
            if let Some(i) = self.prefer(prev, cands.iter().copied()) {
                return (Some(i), None);
            }
        }
        if let Some(p) = prev {
            let slot = self.steps.iter().enumerate().find(|(_, s)| {
                matches!(s.kind, StepType::Slot | StepType::Anything) && s.contexts.contains(&p)
            });
            if let Some((i, _)) = slot {
                return (Some(i), Some(text.trim().to_string()));
            }
        }
        let input_tokens = tokens(&norm);
        let mut best: Option<(f64, bool, usize)> = None;
        for &i in &self.intents {
            let step = &self.steps[i];
            let Some(contextual) = self.eligible(prev, i) else {
                continue;
            };
            let score = step
                .examples
                .iter()
                .map(|ex| overlap(&input_tokens, ex))
                .fold(0.0, f64::max);
            if score < FUZZY_THRESHOLD {
                continue;
            }
            let better = match best {
                None => true,
                Some((s, c, _)) => score > s || (score == s && contextual && !c),
            };
            if better {
                best = Some((score, contextual, i));
            }
        }
        if let Some((_, _, i)) = best {
            return (Some(i), None);
        }
        if let Some(i) = self.match_kind(prev, &StepType::Anything) {
            return (Some(i), None);
        }
        (self.fallback(prev), None)
    }

    fn match_event(&self, prev: Option<usize>, name: &str) -> Option<usize> {
        let found = self
            .events
            .get(name)
            .and_then(|c| self.prefer(prev, c.iter().copied()));
        found.or_else(|| {
            self.events_upper
                .get(&name.to_uppercase())
                .and_then(|c| self.prefer(prev, c.iter().copied()))
        })
    }

    fn match_kind(&self, prev: Option<usize>, kind: &StepType) -> Option<usize> {
        self.prefer(
            prev,
            self.steps
                .iter()
                .enumerate()
                .filter(|(_, s)| &s.kind == kind)
                .map(|(i, _)| i),
        )
    }

    fn fallback(&self, prev: Option<usize>) -> Option<usize> {
        self.match_kind(prev, &StepType::Unknown)
    }

    /// `Some(true)` for a follow-up of `prev`, `Some(false)` for a top-level step, `None`
    /// when the step is out of context.
    fn eligible(&self, prev: Option<usize>, idx: usize) -> Option<bool> {
        let step = &self.steps[idx];
        if !step.contextual {
            return Some(false);
        }
        match prev {
            Some(p) if step.contexts.contains(&p) => Some(true),
            _ => None,
        }
    }

    /// The first follow-up of `prev` among the candidates, else the first top-level one.
    fn prefer(&self, prev: Option<usize>, cands: impl Iterator<Item = usize>) -> Option<usize> {
        let mut top = None;
        for i in cands {
            match self.eligible(prev, i) {
                Some(true) => return Some(i),
                Some(false) if top.is_none() => top = Some(i),
                _ => {}
            }
        }
        top
    }

    fn thread_mut<'a>(&self, threads: &'a mut Threads, thread_id: &str) -> &'a mut ThreadState {
        if !threads.map.contains_key(thread_id) {
            while threads.map.len() >= self.max_threads {
                match threads.order.pop_front() {
                    Some(old) => {
                        threads.map.remove(&old);
                    }
                    None => break,
                }
            }
            threads.order.push_back(thread_id.to_string());
        }
        threads.map.entry(thread_id.to_string()).or_default()
    }

    fn lock(&self) -> MutexGuard<'_, Threads> {
        // A poisoned lock still holds valid plain data.
        self.threads.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether `thread_id` has a pause that has not ended.
fn live_pause(paused: &HashMap<String, Option<Instant>>, thread_id: &str) -> bool {
    match paused.get(thread_id) {
        Some(None) => true,
        Some(Some(until)) => Instant::now() < *until,
        None => false,
    }
}

/// Give every flow, step, intent and action an id, so lists and references work.
fn fill_ids(flows: &mut [Flow]) {
    for flow in flows {
        if flow.flow_id.is_empty() {
            flow.flow_id = uuid::Uuid::new_v4().to_string();
        }
        for step in &mut flow.steps {
            if step.step_id.is_empty() {
                step.step_id = uuid::Uuid::new_v4().to_string();
            }
            if let Some(IntentRef::Full(intent)) = &mut step.intent {
                if intent.intent_id.is_empty() {
                    intent.intent_id = uuid::Uuid::new_v4().to_string();
                }
            }
            for action in &mut step.actions {
                if let ActionRef::Full(a) = action {
                    if a.action_id.is_none() {
                        a.action_id = Some(uuid::Uuid::new_v4().simple().to_string());
                    }
                }
            }
        }
    }
}

/// The reply a step sends, without the parts that depend on the input.
fn prepare_reply(flow: &Flow, step: &Step) -> ReplyMessage {
    let mut responses = Vec::new();
    for action in &step.actions {
        let ActionRef::Full(action) = action else {
            continue;
        };
        let delay = action.payload.get("delay").and_then(Value::as_f64);
        let template = if action.kind.eq_ignore_ascii_case("TEXT") {
            let text = action
                .payload
                .get("texts")
                .and_then(Value::as_array)
                .and_then(|t| t.iter().find_map(Value::as_str))
                .or_else(|| action.payload.get("text").and_then(Value::as_str))
                .unwrap_or_default()
                .to_string();
            let quick_replies = action
                .payload
                .get("quickReplies")
                .and_then(|q| serde_json::from_value::<Vec<QuickReply>>(q.clone()).ok())
                .unwrap_or_default();
            Template::Text {
                text,
                quick_replies,
            }
        } else {
            Template::from_parts(&action.kind.to_ascii_lowercase(), action.payload.clone())
        };
        let mut response = Response::new(template);
        // The reference's advanced reply gives every response its delay and the JS client
        // reads a missing one as 0: always send it.
        response.delay = Some(delay.unwrap_or(0.0));
        responses.push(response);
    }
    let fallback = responses
        .iter()
        .filter_map(|r| match &r.template {
            Template::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ");
    ReplyMessage {
        fallback,
        silent: responses.is_empty(),
        originator: Some(bot_originator()),
        responses,
        flow: Some(FlowRef {
            flow_id: flow.flow_id.clone(),
            title: flow.title.clone(),
            ..Default::default()
        }),
        step: Some(StepRef {
            step_id: step.step_id.clone(),
            title: step.title.clone(),
            kind: step.kind.as_str().to_string(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Replace `{name}` with the first value of parameter `name` in every text.
fn fill_placeholders(reply: &mut ReplyMessage, params: &Params) {
    let fill = |text: &str| -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let value = after.find('}').and_then(|close| {
                let name = &after[..close];
                let v = params.get(name)?.first()?;
                let s = match &v.value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Some((s, close))
            });
            match value {
                Some((s, close)) => {
                    out.push_str(&s);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    };
    for r in &mut reply.responses {
        if let Template::Text { text, .. } = &mut r.template {
            *text = fill(text);
        }
    }
    reply.fallback = fill(&reply.fallback);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: &Engine, thread: &str, t: &str) -> String {
        let r = e.respond(thread, &Input::Text(t.into()));
        r.first().map(|m| m.fallback.clone()).unwrap_or_default()
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize("  Hello,   World!! "), "hello world");
        assert_eq!(
            normalize("What's the WEATHER like?"),
            "whats the weather like"
        );
        assert_eq!(normalize("?!"), "");
    }

    #[test]
    fn overlap_is_jaccard() {
        assert_eq!(overlap(&["a", "b"], &["a", "b"]), 1.0);
        assert_eq!(overlap(&["a", "b"], &["b", "c"]), 1.0 / 3.0);
        assert_eq!(overlap::<&str, &str>(&[], &["a"]), 0.0);
    }

    #[test]
    fn demo_loads() {
        let e = Engine::demo();
        assert!(e.flows().len() >= 3);
        assert!(e.flows().iter().any(|f| f.title == "Hello World"));
    }

    #[test]
    fn demo_project_keeps_business_hours_and_segments() {
        let e = Engine::demo();
        assert!(
            e.project_setting("businessHours")
                .is_some_and(Value::is_object)
        );
        assert!(e.project_setting("segments").is_some_and(Value::is_array));
        assert!(e.project_setting("flows").is_none());
    }

    #[test]
    fn a_paused_thread_gets_no_reply_until_resumed_or_expired() {
        let e = Engine::demo();
        assert!(!text(&e, "t", "hello").is_empty());
        e.pause("t", None);
        assert!(e.is_paused("t"));
        assert!(e.respond("t", &Input::Text("hello".into())).is_empty());
        assert!(
            !text(&e, "other", "hello").is_empty(),
            "only that thread pauses"
        );
        assert!(e.resume("t"));
        assert!(!e.resume("t"));
        assert!(!text(&e, "t", "hello").is_empty());
        let past = Instant::now();
        e.pause("t", Some(past));
        assert!(!e.is_paused("t"), "a pause whose deadline passed has ended");
        let later = Instant::now() + std::time::Duration::from_secs(60);
        e.pause("t", Some(later));
        assert!(
            !e.expire_pause("t", past),
            "a stale timer leaves a newer pause alone"
        );
        assert!(e.is_paused("t"));
        assert!(e.expire_pause("t", later));
        assert!(!e.is_paused("t"));
    }

    #[test]
    fn greeting_exact_and_fuzzy() {
        let e = Engine::demo();
        let r = e.respond("t1", &Input::Text("Good morning!".into()));
        assert_eq!(r.len(), 1);
        let m = &r[0];
        assert_eq!(
            m.texts(),
            vec!["Hi there! This is a customer service demo bot! "]
        );
        assert_eq!(m.flow.as_ref().unwrap().title, "Hello World");
        assert_eq!(m.step.as_ref().unwrap().kind, "INTENT");
        assert_eq!(m.reply_to.as_deref(), Some("Good morning!"));
        let o = m.originator.as_ref().unwrap();
        assert_eq!(o.user_id.as_deref(), Some("flowai|system"));
        assert_eq!(o.role.as_deref(), Some("bot"));
        assert!(text(&e, "t2", "hello there").starts_with("Hi there!"));
        assert!(text(&e, "t3", "what is the weather like today").contains("Which city"));
    }

    #[test]
    fn unknown_is_fallback() {
        let e = Engine::demo();
        assert!(text(&e, "t", "purple elephants dance").starts_with("Sorry"));
    }

    #[test]
    fn intro_event_has_quick_replies() {
        let e = Engine::demo();
        let r = e.respond("t", &Input::Event("INTRO".into()));
        let m = &r[0];
        assert_eq!(m.fallback, "Hi, how can we help?");
        let values: Vec<&str> = m.quick_replies().iter().map(|q| q.value.as_str()).collect();
        assert_eq!(
            values,
            [
                "Chat with someone from flow.ai",
                "What is your phone number?",
                "I want to ask a question"
            ]
        );
        let p = serde_json::to_value(m.params.as_ref().unwrap()).unwrap();
        assert_eq!(
            p,
            json!({"event": [{"type": "custom", "value": {"name": "INTRO"}}]})
        );
        for q in m.quick_replies() {
            assert!(!text(&e, "t", &q.value).starts_with("Sorry"), "{}", q.value);
        }
        assert!(
            e.respond("t", &Input::Event("NOBODY_LISTENS".into()))
                .is_empty()
        );
    }

    #[test]
    fn weather_slot_uses_context() {
        let e = Engine::demo();
        // Out of context, a city is not understood.
        assert!(text(&e, "w", "Amsterdam").starts_with("Sorry"));
        assert_eq!(text(&e, "w", "How is the weather?"), "Which city?");
        let r = e.respond("w", &Input::Text("Amsterdam".into()));
        assert_eq!(r[0].fallback, "The weather in Amsterdam is sunny.");
        assert_eq!(r[0].step.as_ref().unwrap().kind, "SLOT");
        assert_eq!(r[0].params.as_ref().unwrap()["city"][0].value, "Amsterdam");
        assert_eq!(e.thread_params("w")["city"][0].value, "Amsterdam");
        // The slot is filled; the next city is out of context again.
        assert!(text(&e, "w", "Rotterdam").starts_with("Sorry"));
        // Another thread has its own context.
        assert!(text(&e, "other", "Paris").starts_with("Sorry"));
    }

    #[test]
    fn unknown_keeps_context() {
        let e = Engine::demo();
        text(&e, "k", "weather forecast");
        // Exact intents still win inside a context.
        assert!(text(&e, "k", "hi").starts_with("Hi there"));
        text(&e, "k", "weather");
        assert_eq!(text(&e, "k", "Utrecht"), "The weather in Utrecht is sunny.");
    }

    #[test]
    fn location_and_media() {
        let e = Engine::demo();
        let r = e.respond(
            "m",
            &Input::Location {
                lat: "1".into(),
                lng: "2".into(),
            },
        );
        assert_eq!(r[0].step.as_ref().unwrap().kind, "LOCATION");
        for (t, kind) in [
            ("image", "IMAGE"),
            ("file", "FILE"),
            ("audio", "AUDIO"),
            ("video", "VIDEO"),
        ] {
            let r = e.respond(
                "m",
                &Input::Media {
                    media_type: t.into(),
                },
            );
            assert_eq!(r[0].step.as_ref().unwrap().kind, kind);
        }
    }

    #[test]
    fn replies_carry_every_documented_field() {
        let e = Engine::demo();
        // params is `{}` when nothing matched, and every response has its delay.
        let r = e.respond("f", &Input::Text("hi".into()));
        assert_eq!(r[0].params.as_ref().map(|p| p.len()), Some(0));
        let v = serde_json::to_value(&r[0]).unwrap();
        for field in [
            "fallback",
            "silent",
            "replyTo",
            "originator",
            "actions",
            "responses",
            "flow",
            "step",
            "params",
        ] {
            assert!(v.get(field).is_some(), "{field} missing from {v}");
        }
        // The reference's EVENT step example follows its INTENT step example; its action
        // names no delay.
        let r = e.respond("f", &Input::Event("EVENT NAME".into()));
        assert_eq!(r[0].fallback, "Simple reply");
        assert_eq!(r[0].responses[0].delay, Some(0.0));
        assert!(
            e.respond("g", &Input::Event("EVENT NAME".into()))
                .is_empty()
        );
    }

    #[test]
    fn reply_to_is_the_speech_replied_to() {
        let e = Engine::demo();
        let r = e.respond("s", &Input::Event("INTRO".into()));
        assert_eq!(r[0].reply_to.as_deref(), Some("event attachment"));
        let r = e.respond_to("s", &Input::Event("INTRO".into()), Some("Start"));
        assert_eq!(r[0].reply_to.as_deref(), Some("Start"));
        let media = Input::Media {
            media_type: "image".into(),
        };
        assert_eq!(media.speech(), "media attachment");
        assert_eq!(Input::Text("hey".into()).speech(), "hey");
    }

    #[test]
    fn the_chat_quick_reply_hands_over() {
        let e = Engine::demo();
        let r = e.respond("h", &Input::Text("Chat with someone from flow.ai".into()));
        let kinds: Vec<&str> = r[0].responses.iter().map(|r| r.template.kind()).collect();
        assert_eq!(kinds, ["text", "handover"]);
        assert_eq!(
            r[0].fallback,
            "Sure! Someone from flow.ai will join this chat shortly."
        );
    }

    #[test]
    fn threads_are_capped() {
        let e = Engine::demo().with_max_threads(3);
        for i in 0..10 {
            text(&e, &format!("t{i}"), "hi");
        }
        assert_eq!(e.thread_count(), 3);
    }

    #[test]
    fn custom_project_and_unmatched_is_silent() {
        let e = Engine::from_json(
            r#"{"flows": [{"title": "F", "steps": [
                {"stepId": "a", "type": "INTENT", "title": "A",
                 "intent": {"examples": [{"query": "ping"}]},
                 "actions": [{"type": "TEXT", "payload": {"texts": ["pong"]}},
                             {"type": "IMAGE", "payload": {"url": "https://x/y.png"}}]}
            ]}]}"#,
        )
        .unwrap();
        let r = e.respond("t", &Input::Text("PING!".into()));
        assert_eq!(r[0].fallback, "pong");
        assert_eq!(r[0].responses[1].template.kind(), "image");
        assert!(!e.flows()[0].flow_id.is_empty());
        assert!(e.respond("t", &Input::Text("nothing".into())).is_empty());
    }
}
