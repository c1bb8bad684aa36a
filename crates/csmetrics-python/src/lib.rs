//! Python bindings: thin glue between `csmetrics._internal` and the core crate.
//!
//! Each function parses its string options into the core's enums, releases the GIL while the core
//! computes, and maps core errors to the Python exception hierarchy in `csmetrics.exceptions`.
//! No metric logic lives here.

// The pyo3 and plugin macros expand to FFI code. The core denies unsafe code but for one
// documented exception, its huge-page hint for large buffers (`csmetrics/src/alloc.rs`).
#![allow(unsafe_code)]

mod clv;
mod datasets;
mod errors;
mod expressions;
mod feedback;
mod frames;
mod health;
mod journey;
mod operations;
mod revenue;
mod stripe;
mod survey;
mod survival;

use pyo3::prelude::*;

/// Memory comes from the allocator of the Python Polars the process has loaded (the system
/// allocator when there is none): buffers handed to Polars are then freed by the allocator that
/// made them, and memory freed by one call is reused by the next instead of being returned to
/// the system and faulted in again.
#[global_allocator]
static ALLOCATOR: pyo3_polars::PolarsAllocator = pyo3_polars::PolarsAllocator::new();

/// The compiled extension module `csmetrics._internal`.
#[pymodule]
fn _internal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    survey::register(m)?;
    clv::register(m)?;
    revenue::register(m)?;
    datasets::register(m)?;
    survival::register(m)?;
    operations::register(m)?;
    health::register(m)?;
    journey::register(m)?;
    frames::register(m)?;
    stripe::register(m)?;
    feedback::register(m)?;
    Ok(())
}
