//! The native module `flowai._flowai`: flowai-ffi's objects, event queues and tables, converted to Python and nothing more.
//!
//! Everything a user calls is generated Python (`flowai/_api.py`) over [`handle::Handle`];
//! the event dispatch to callbacks and iterators is `flowai/_object.py`. This crate only
//! converts values, errors and threads (the GIL released around every wait).

mod convert;
mod handle;

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Call `f(*args)` marked as an SDK thread: callbacks run this way, so a blocking flowai
/// call inside one fails fast with `FLOWAI_MISUSE` instead of deadlocking the dispatch.
#[pyfunction(signature = (f, *args))]
fn as_sdk_thread(f: &Bound<'_, PyAny>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
    flowai_ffi::runtime::as_sdk_thread(|| f.call1(args.clone()).map(Bound::unbind))
}

/// Raise MisuseError inside a callback: for waits of the Python side (an iterator waiting
/// on the thread that would deliver its events).
#[pyfunction]
fn ensure_may_block(py: Python<'_>) -> PyResult<()> {
    flowai_ffi::runtime::ensure_may_block().map_err(|e| convert::to_pyerr(py, &e))
}

/// Report `exc`, raised by the callback `source`, through `sys.unraisablehook`: an
/// exception in a callback is shown (and testable), never lost and never fatal to the dispatch.
#[pyfunction]
fn report(exc: &Bound<'_, PyAny>, source: &Bound<'_, PyAny>) {
    PyErr::from_value(exc.clone()).write_unraisable(exc.py(), Some(source));
}

/// Hand the SDK's log records to `handler(level, target, message)` (None: to nobody). It
/// runs on the thread that logged, entering the interpreter only while it is alive.
#[pyfunction]
fn set_log_handler(handler: Option<Py<PyAny>>) {
    let sink = handler.map(|handler| -> flowai_ffi::logging::LogSink {
        Arc::new(move |r: &flowai_ffi::logging::LogRecord| {
            Python::try_attach(|py| {
                let args = (r.level_number, r.target.as_str(), r.message.as_str());
                if let Err(e) = handler.call1(py, args) {
                    e.write_unraisable(py, Some(handler.bind(py)));
                }
            });
        })
    });
    flowai_ffi::logging::set_sink(sink);
}

#[pymodule]
fn _flowai(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // pyo3-async-runtimes runs awaitables on flowai-ffi's runtime: one runtime per process.
    // It is already set when the module is initialised a second time; the first one stays.
    let rt = flowai_ffi::runtime::runtime().map_err(|e| convert::plain_error(&e))?;
    let _ = pyo3_async_runtimes::tokio::init_with_runtime(rt);
    m.add_class::<handle::Handle>()?;
    m.add_class::<handle::Events>()?;
    m.add_function(wrap_pyfunction!(as_sdk_thread, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(ensure_may_block, m)?)?;
    m.add_function(wrap_pyfunction!(set_log_handler, m)?)?;
    m.add("__version__", flowai_ffi::VERSION)?;
    let errors: Vec<(&str, i32, &str)> = flowai_ffi::errors::table()
        .into_iter()
        .map(|c| (c.code, c.number, c.meaning))
        .collect();
    m.add("ERRORS", PyTuple::new(m.py(), errors)?)?;
    m.add(
        "EVENT_NAMES",
        PyTuple::new(m.py(), flowai_core::event::NAMES)?,
    )?;
    m.add("MAX_BATCH", flowai_ffi::queue::MAX_BATCH)?;
    // Whether this is an unoptimised build (the benchmark says so next to its figures).
    m.add("DEBUG_BUILD", cfg!(debug_assertions))?;
    Ok(())
}
