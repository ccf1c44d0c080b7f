//! The native module `flowai._flowai`: converts types, errors and threads between Python and flowai-core.

// Python keyword arguments map one to one onto Rust parameters, so long lists are the API.
#![allow(clippy::too_many_arguments)]

mod aida;
mod aio;
mod bench;
mod bridge;
mod dispatch;
mod management;
mod messaging;
mod session;
mod webhook;

use pyo3::prelude::*;

#[pymodule]
fn _flowai(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<messaging::MessagingClient>()?;
    m.add_class::<management::ManagementClient>()?;
    m.add_class::<webhook::WebhookReceiver>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<aida::AidaClient>()?;
    m.add_class::<aida::AidaSession>()?;
    m.add_function(wrap_pyfunction!(webhook::verify_and_parse, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // Private: benchmark hooks, and whether this is an unoptimised build (bench.py warns).
    // Set as plain attributes so they stay out of `__all__`.
    let module = m.as_any();
    module.setattr("_bench_events", wrap_pyfunction!(bench::_bench_events, m)?)?;
    module.setattr(
        "_bench_pipelined",
        wrap_pyfunction!(bench::_bench_pipelined, m)?,
    )?;
    module.setattr("_debug_build", cfg!(debug_assertions))?;
    Ok(())
}
