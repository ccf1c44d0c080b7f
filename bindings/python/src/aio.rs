//! asyncio awaitables whose results are handed to the loop's own thread in batches, so runtime threads never wait for the GIL.
//!
//! Resolving each future by taking the GIL on a runtime thread and calling
//! `call_soon_threadsafe` (what pyo3-async-runtimes does) makes the GIL bounce between the
//! loop's thread and the runtime's for every completion; with many calls in flight that
//! hand-over, not the work, sets the pace. Here a finished call only queues its result and,
//! when the queue was empty, writes one byte to a socket the loop watches (`add_reader`);
//! the loop then converts and resolves everything queued in one go. Session events for
//! callbacks registered on a loop travel the same way ([`LoopInbox`]).

use std::collections::HashMap;
use std::future::Future;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::BoundObject;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::bridge::to_pyerr;

/// Builds the Python result of a finished call, on the loop's thread.
type Finish = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Py<PyAny>> + Send>;

/// Work for the loop's thread, done in the order it was queued.
enum Work {
    /// The awaitable `id` finished.
    Result(u64, Finish),
    /// A call to make on the loop (a session event for a callback registered there).
    Call(Box<dyn for<'py> FnOnce(Python<'py>) + Send>),
}

/// What other threads share with the loop: queued work and the wake-up socket.
struct Shared {
    done: Mutex<Vec<Work>>,
    wake: UnixStream,
}

impl Shared {
    fn done(&self) -> MutexGuard<'_, Vec<Work>> {
        self.done.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue work; only the first of a batch wakes the loop (the loop takes the whole
    /// queue after draining the socket, so nothing is left without a wake-up).
    fn push(&self, work: Work) {
        let first = {
            let mut done = self.done();
            done.push(work);
            done.len() == 1
        };
        if first {
            // A full socket buffer already holds a wake-up; a closed loop reads no more.
            let _ = (&self.wake).write(&[1]);
        }
    }
}

/// The completions of one asyncio loop: its pending futures by id, and the reading end
/// of the wake-up socket the loop watches.
#[pyclass(module = "flowai._flowai", frozen)]
pub struct Completions {
    shared: Arc<Shared>,
    watch: UnixStream,
    futures: Mutex<HashMap<u64, Py<PyAny>>>,
    next_id: AtomicU64,
}

#[pymethods]
impl Completions {
    /// Called by the loop when the socket is readable: resolve every queued future and
    /// make every queued call.
    fn _drain(&self, py: Python<'_>) {
        let mut sink = [0u8; 256];
        while matches!((&self.watch).read(&mut sink), Ok(n) if n == sink.len()) {}
        let batch = std::mem::take(&mut *self.shared.done());
        for work in batch {
            let (id, finish) = match work {
                Work::Result(id, finish) => (id, finish),
                Work::Call(call) => {
                    call(py);
                    continue;
                }
            };
            let future = self.futures().remove(&id);
            let Some(future) = future else { continue };
            let future = future.bind(py);
            // A cancelled future takes no result.
            if future
                .call_method0("done")
                .and_then(|d| d.is_truthy())
                .unwrap_or(true)
            {
                continue;
            }
            let outcome = match finish(py) {
                Ok(value) => future.call_method1("set_result", (value,)),
                Err(err) => future.call_method1("set_exception", (err.into_value(py),)),
            };
            if let Err(err) = outcome {
                err.write_unraisable(py, Some(future));
            }
        }
    }
}

impl std::fmt::Debug for Completions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completions")
            .field("pending", &self.futures().len())
            .finish_non_exhaustive()
    }
}

impl Completions {
    fn futures(&self) -> MutexGuard<'_, HashMap<u64, Py<PyAny>>> {
        self.futures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// New completions for `event_loop`, watched by it from now on.
    fn watch(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Py<Completions>> {
        let (wake, watch) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        watch.set_nonblocking(true)?;
        let fd = watch.as_raw_fd();
        let completions = Py::new(
            py,
            Completions {
                shared: Arc::new(Shared {
                    done: Mutex::new(Vec::new()),
                    wake,
                }),
                watch,
                futures: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(0),
            },
        )?;
        event_loop.call_method1("add_reader", (fd, completions.bind(py).getattr("_drain")?))?;
        Ok(completions)
    }
}

/// Where other threads queue calls for one loop's thread, without the GIL.
#[derive(Clone)]
pub struct LoopInbox(Arc<Shared>);

impl std::fmt::Debug for LoopInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopInbox").finish_non_exhaustive()
    }
}

impl LoopInbox {
    /// The inbox of `event_loop`; fails when the loop cannot watch a socket.
    pub fn of(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<LoopInbox> {
        Ok(LoopInbox(
            completions_of(py, event_loop)?.get().shared.clone(),
        ))
    }

    /// Run `call` on the loop's thread after everything queued before it (never, once the
    /// loop is closed).
    pub fn call(&self, call: impl for<'py> FnOnce(Python<'py>) + Send + 'static) {
        self.0.push(Work::Call(Box::new(call)));
    }
}

/// The completions of each loop, kept as long as the loop lives.
static BY_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn completions_of<'py>(
    py: Python<'py>,
    event_loop: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, Completions>> {
    let by_loop = BY_LOOP
        .get_or_try_init(py, || {
            py.import("weakref")?
                .getattr("WeakKeyDictionary")?
                .call0()
                .map(Bound::unbind)
        })?
        .bind(py);
    if let Some(found) = by_loop
        .call_method1("get", (event_loop,))?
        .extract::<Option<Bound<'py, Completions>>>()?
    {
        return Ok(found);
    }
    let created = Completions::watch(py, event_loop)?.into_bound(py);
    by_loop.set_item(event_loop, &created)?;
    Ok(created)
}

/// The done-callback of each future: when the future was cancelled on the Python side, it
/// stops the runtime task and forgets the future.
#[pyclass(module = "flowai._flowai", frozen)]
#[derive(Debug)]
struct CancelTask {
    task: tokio::task::AbortHandle,
    id: u64,
    completions: Py<Completions>,
}

#[pymethods]
impl CancelTask {
    fn __call__(&self, future: &Bound<'_, PyAny>) {
        if future
            .call_method0("cancelled")
            .and_then(|c| c.is_truthy())
            .unwrap_or(false)
        {
            self.task.abort();
            self.completions.get().futures().remove(&self.id);
        }
    }
}

/// `fut` as a future of the running asyncio loop, resolved in batches (see the module
/// docs); `fut` itself back when no loop runs on this thread or the loop cannot watch a
/// socket, for the caller to fall back on.
pub fn batched<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Result<Bound<'py, PyAny>, F>>
where
    F: Future<Output = flowai_core::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let rt = crate::bridge::runtime()?;
    let Ok(event_loop) = py.import("asyncio")?.call_method0("get_running_loop") else {
        return Ok(Err(fut));
    };
    let Ok(completions) = completions_of(py, &event_loop) else {
        return Ok(Err(fut));
    };
    let future = event_loop.call_method0("create_future")?;
    let this = completions.get();
    let id = this.next_id.fetch_add(1, Ordering::Relaxed);
    this.futures().insert(id, future.clone().unbind());
    let shared = this.shared.clone();
    let task = rt.spawn(async move {
        let result = fut.await;
        let finish: Finish = Box::new(move |py| match result {
            Ok(value) => value
                .into_pyobject(py)
                .map(|v| v.into_any().unbind())
                .map_err(Into::into),
            Err(e) => Err(to_pyerr(py, &e)),
        });
        shared.push(Work::Result(id, finish));
    });
    let cancel = CancelTask {
        task: task.abort_handle(),
        id,
        completions: completions.unbind(),
    };
    future.call_method1("add_done_callback", (cancel,))?;
    Ok(Ok(future))
}
