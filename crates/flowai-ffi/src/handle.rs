//! Objects called by name: open one of a kind with settings, call its methods with JSON arguments, read its events, close it.
//!
//! A binding holds [`Handle`]s and nothing else: every method of every kind goes through
//! [`Handle::call`], checked against [`crate::api`], with panics caught, so a new
//! capability needs a table row and its implementation here, and no binding code.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use flowai_core::event::{Case, to_snake};
use flowai_core::{Error, Result};
use futures_util::FutureExt;
use serde_json::Value;

use crate::api;
use crate::args::Args;
use crate::errors::from_panic;
use crate::objects;
use crate::queue::EventQueue;
use crate::runtime::{as_sdk_thread, block_on, runtime};

/// A boxed future of a call.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// What a call gives back.
#[derive(Debug)]
pub enum Reply {
    /// A JSON value (null for nothing).
    Value(Value),
    /// A new object (an AIDA session).
    Handle(Handle),
}

impl Reply {
    /// The value; a handle becomes its kind's name, for callers that only want JSON.
    pub fn into_value(self) -> Value {
        match self {
            Reply::Value(v) => v,
            Reply::Handle(h) => Value::from(h.kind()),
        }
    }
}

/// What an object's methods may use besides their arguments.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The case of the binding that opened the object.
    pub case: Case,
    /// The object's events.
    pub events: Arc<EventQueue>,
}

impl Ctx {
    /// A JSON object made by the SDK (not Flow's own JSON) with the case rule applied to
    /// its top-level keys.
    pub fn sdk_object(&self, value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.case.apply(&k), v))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// One kind's implementation.
pub trait Object: Send + Sync + 'static {
    /// Run `method` (in the table for this kind) with checked arguments.
    fn call<'a>(&'a self, ctx: &'a Ctx, method: &'static str, args: Args) -> Pending<'a, Reply>;

    /// End the object; its events then end with `closed` (the object's own, once its
    /// sources have drained, or [`crate::queue::EventQueue::finish`]).
    fn close<'a>(&'a self, ctx: &'a Ctx) -> Pending<'a, ()>;
}

/// A new object and its events, as a kind's `open` makes them.
#[allow(missing_debug_implementations)]
pub struct Opened {
    /// The implementation.
    pub object: Arc<dyn Object>,
    /// Its events.
    pub events: Arc<EventQueue>,
}

struct Inner {
    kind: &'static str,
    object: Arc<dyn Object>,
    ctx: Ctx,
    closed: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A handle dropped without close: end it in the background so its connection and
        // tasks go, and its events still end with `closed`.
        if !self.closed.swap(true, Ordering::AcqRel) {
            let (object, ctx) = (self.object.clone(), self.ctx.clone());
            if let Ok(rt) = runtime() {
                rt.spawn(async move { object.close(&ctx).await });
            }
        }
    }
}

/// An open object. Cheap to clone; clones share the object.
#[derive(Clone)]
pub struct Handle(Arc<Inner>);

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("kind", &self.0.kind)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

fn catching<'a, T: 'a>(future: impl Future<Output = Result<T>> + Send + 'a) -> Pending<'a, T> {
    Box::pin(async move {
        AssertUnwindSafe(future)
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| Err(from_panic(panic.as_ref())))
    })
}

impl Handle {
    /// Open an object of `kind` with `settings` (an object or null; the `FLOWAI_*`
    /// environment fills the rest). Sessions, AIDA clients and receivers connect or bind here.
    pub async fn open(kind: &str, settings: Value, case: Case) -> Result<Handle> {
        let Some(k) = api::kind(kind).filter(|k| k.settings.is_some()) else {
            let kinds: Vec<&str> = api::KINDS
                .iter()
                .filter(|k| k.settings.is_some())
                .map(|k| k.name)
                .collect();
            return Err(Error::invalid(format!(
                "unknown kind `{kind}`; one of: {}",
                kinds.join(", ")
            )));
        };
        let opened = catching(objects::open(k.name, settings, case)).await?;
        Ok(Handle::from_opened(k.name, opened, case))
    }

    /// [`Handle::open`] from an app thread.
    pub fn open_blocking(kind: &str, settings: Value, case: Case) -> Result<Handle> {
        block_on(Handle::open(kind, settings, case))?
    }

    /// A handle for an object a method made.
    pub fn from_opened(kind: &'static str, opened: Opened, case: Case) -> Handle {
        Handle(Arc::new(Inner {
            kind,
            object: opened.object,
            ctx: Ctx {
                case,
                events: opened.events,
            },
            closed: AtomicBool::new(false),
        }))
    }

    /// The kind's name.
    pub fn kind(&self) -> &'static str {
        self.0.kind
    }

    /// The object's events.
    pub fn events(&self) -> &Arc<EventQueue> {
        &self.0.ctx.events
    }

    /// Whether `close` was called (or the object ended by itself).
    pub fn is_closed(&self) -> bool {
        self.0.closed.load(Ordering::Acquire) || self.0.ctx.events.is_closed()
    }

    /// Call `method` (its name in either case) with `args` (an object or null, keys in
    /// either case).
    pub async fn call(&self, method: &str, args: Value) -> Result<Reply> {
        let method = to_snake(method);
        let Some(m) = api::method(self.0.kind, &method) else {
            let names: Vec<&str> = api::methods_of(self.0.kind).map(|m| m.name).collect();
            return Err(Error::invalid(format!(
                "{} has no method `{method}`; it has: {}, close",
                self.0.kind,
                names.join(", ")
            )));
        };
        let args = Args::check(m, args)?;
        if self.0.closed.load(Ordering::Acquire) {
            return Err(Error::closed(format!("{}: the object is closed", m.name)));
        }
        catching(self.0.object.call(&self.0.ctx, m.name, args)).await
    }

    /// [`Handle::call`] from an app thread; `FLOWAI_MISUSE` on an SDK thread.
    pub fn call_blocking(&self, method: &str, args: Value) -> Result<Reply> {
        block_on(self.call(method, args))?
    }

    /// Start [`Handle::call`] on the runtime; `done` gets the result on an SDK thread.
    pub fn call_spawn(
        &self,
        method: &str,
        args: Value,
        done: impl FnOnce(Result<Reply>) + Send + 'static,
    ) {
        let (handle, method) = (self.clone(), method.to_string());
        match runtime() {
            Ok(rt) => {
                rt.spawn(async move {
                    let result = handle.call(&method, args).await;
                    as_sdk_thread(|| done(result));
                });
            }
            Err(e) => done(Err(e)),
        }
    }

    /// End the object. Its events end with `closed`; closing twice is fine.
    pub async fn close(&self) -> Result<()> {
        if self.0.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.end().await
    }

    /// Close the object itself; the caller has set the closed flag.
    async fn end(&self) -> Result<()> {
        let result = catching(self.0.object.close(&self.0.ctx)).await;
        if result.is_err() {
            // The object could not end its events itself.
            self.0.ctx.events.finish();
        }
        result
    }

    /// [`Handle::close`] from an app thread; on an SDK thread it starts in the background
    /// instead (a callback may close its own object).
    pub fn close_blocking(&self) -> Result<()> {
        if crate::runtime::on_sdk_thread() {
            // Calls made after this one, even in the same callback, see the object closed.
            if self.0.closed.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
            let handle = self.clone();
            runtime()?.spawn(async move { handle.end().await });
            return Ok(());
        }
        block_on(self.close())?
    }
}
