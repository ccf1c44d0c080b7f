//! Node-API binding of flowai: one `Handle` class over `flowai_ffi::Handle`, converting JSON text, promises and errors, nothing else.
//!
//! Everything a kind can do is in flowai-ffi's method table; `node/classes.js` (generated
//! from it) turns these calls into typed classes. Calls run on flowai-ffi's one runtime
//! (napi's own tokio runtime is not compiled in) and settle their promise through a
//! deferred; events reach JS through one threadsafe function per object ([`events`]).
//! Every export is `catch_unwind`: a panic becomes a JS exception, never an abort.

mod bench;
mod events;
mod logging;

use std::sync::Arc;

use flowai_ffi::runtime::runtime;
use flowai_ffi::{Case, Reply};
use napi::bindgen_prelude::{Either, Function, JsObjectValue, JsValue, Object, ToNapiValue};
use napi::{Env, JsDeferred, Status};
use napi_derive::napi;
use serde_json::Value;

pub use bench::{bench_floor, debug_build};
pub use logging::set_logger;

/// What settles a promise, run on the JS thread.
type Resolver<T> = Box<dyn FnOnce(Env) -> napi::Result<T>>;

/// A promise and the deferred that settles it from any thread.
type Deferred<T> = JsDeferred<T, Resolver<T>>;

/// An open flowai object of some kind (`messaging`, `session`, ...).
#[napi]
pub struct Handle {
    inner: flowai_ffi::Handle,
    /// The events' threadsafe function, once `listen` made it.
    events: std::sync::Mutex<Option<Arc<events::Listener>>>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl Handle {
    fn new(inner: flowai_ffi::Handle) -> Self {
        Handle {
            inner,
            events: std::sync::Mutex::new(None),
        }
    }
}

/// The error as a JS `Error` with `code`, `message` and `status` (HTTP status or null),
/// which `node/runtime.js` turns into a `FlowAIError`.
fn js_error(env: &Env, error: &flowai_ffi::Error) -> napi::Error {
    let built = (|| {
        let reason = napi::Error::new(Status::GenericFailure, error.message());
        let mut object = env.create_error(reason)?;
        object.set_named_property("code", error.code())?;
        object.set_named_property("status", error.status())?;
        Ok::<_, napi::Error>(napi::Error::from(object.to_unknown()))
    })();
    built.unwrap_or_else(|e| e)
}

/// A new promise for a result of type `T`.
fn promise<T: ToNapiValue + 'static>(env: &Env) -> napi::Result<(Deferred<T>, Object<'_>)> {
    env.create_deferred::<T, Resolver<T>>()
}

/// Settle `deferred` with `result` made into `T` here, off the JS thread (a result's JSON
/// text is written by the runtime, not by JS); only the error object is made on it.
fn settle<T, R>(deferred: Deferred<T>, result: flowai_ffi::Result<R>, make: fn(R) -> T)
where
    T: ToNapiValue + 'static,
{
    let made = result.map(make);
    deferred.resolve(Box::new(move |env| {
        made.map_err(|error| js_error(&env, &error))
    }));
}

/// Call arguments or settings: JSON text from `JSON.stringify`.
fn parse(json: &str) -> flowai_ffi::Result<Value> {
    serde_json::from_str(json)
        .map_err(|e| flowai_ffi::Error::invalid(format!("the arguments are not JSON: {e}")))
}

/// Run `future` on the runtime and settle `deferred` with its result.
fn spawn<T, R>(
    deferred: Deferred<T>,
    future: impl std::future::Future<Output = flowai_ffi::Result<R>> + Send + 'static,
    make: fn(R) -> T,
) where
    T: ToNapiValue + 'static,
    R: Send + 'static,
{
    match runtime() {
        Ok(rt) => {
            rt.spawn(async move { settle(deferred, future.await, make) });
        }
        Err(error) => settle(deferred, Err(error), make),
    }
}

#[napi]
impl Handle {
    /// Open an object of `kind` (snake_case) with settings given as JSON text.
    #[napi(catch_unwind, ts_return_type = "Promise<Handle>")]
    pub fn open<'env>(
        env: &'env Env,
        kind: String,
        settings_json: String,
    ) -> napi::Result<Object<'env>> {
        let (deferred, promise) = promise::<Handle>(env)?;
        spawn(
            deferred,
            async move {
                let settings = parse(&settings_json)?;
                flowai_ffi::Handle::open(&kind, settings, Case::Camel).await
            },
            Handle::new,
        );
        Ok(promise)
    }

    /// The kind's name (snake_case).
    #[napi(getter, catch_unwind)]
    pub fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    /// Call `method` (either case) with arguments as JSON text; resolves with the result as
    /// JSON text, or with a new `Handle` for a method that makes an object.
    #[napi(catch_unwind, ts_return_type = "Promise<string | Handle>")]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        method: String,
        args_json: String,
    ) -> napi::Result<Object<'env>> {
        let (deferred, promise) = promise::<Either<String, Handle>>(env)?;
        let make = |reply| match reply {
            Reply::Value(value) => Either::A(value.to_string()),
            Reply::Handle(handle) => Either::B(Handle::new(handle)),
        };
        match parse(&args_json) {
            Ok(args) => self
                .inner
                .call_spawn(&method, args, move |result| settle(deferred, result, make)),
            Err(error) => settle(deferred, Err(error), make),
        }
        Ok(promise)
    }

    /// Close the object; its events end with `closed`, and until that was delivered the
    /// process stays alive. Closing twice is fine.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        if let Some(listener) = self.listener() {
            listener.keep_alive(env)?;
        }
        let (deferred, promise) = promise::<()>(env)?;
        let inner = self.inner.clone();
        spawn(deferred, async move { inner.close().await }, |()| ());
        Ok(promise)
    }

    /// Hand every event to `onEvents` as a JSON array of `{event, payload}`, one call per
    /// batch, `closed` last. With `keepAlive` the process stays alive until `closed` was
    /// delivered; without, only once `close()` was called. Only the first call counts.
    #[napi(
        catch_unwind,
        ts_args_type = "onEvents: (events: string) => void, keepAlive: boolean"
    )]
    pub fn listen(
        &self,
        env: &Env,
        on_events: Function<'_, String, ()>,
        keep_alive: bool,
    ) -> napi::Result<()> {
        let mut slot = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            let listener = events::listen(self.inner.events(), env, on_events, keep_alive)?;
            *slot = Some(listener);
        }
        Ok(())
    }
}

impl Handle {
    fn listener(&self) -> Option<Arc<events::Listener>> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
