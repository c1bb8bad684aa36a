//! Cooperative interruption of long computations.
//!
//! A host (the Python module on Ctrl-C, a Rust program on its own signal) calls [`request`];
//! the loops whose length does not follow the size of the data (model fits, BG/BB sums over
//! opportunities) poll [`requested`] and stop early, and the functions running them return
//! [`CsError::Interrupted`] instead of a result. [`clear`] resets the request before the next
//! call. The request is process-wide.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{CsError, Result};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks the running computations to stop.
pub fn request() {
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Withdraws a request (call before starting a computation).
pub fn clear() {
    REQUESTED.store(false, Ordering::Relaxed);
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// [`CsError::Interrupted`] when a stop was asked for.
pub fn check() -> Result<()> {
    if requested() {
        Err(CsError::Interrupted)
    } else {
        Ok(())
    }
}
