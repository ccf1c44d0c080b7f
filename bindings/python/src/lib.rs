//! The native module `flowai._flowai`: converts types, errors and threads between Python and flowai-core.

mod bridge;
mod management;
mod messaging;

use pyo3::prelude::*;

#[pymodule]
fn _flowai(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<messaging::MessagingClient>()?;
    m.add_class::<management::ManagementClient>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
