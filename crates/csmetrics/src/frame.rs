//! Helpers for reading user frames: column look-up with errors that name what is missing.

use polars::prelude::*;

use crate::error::{CsError, Result};

/// The column `name` of `frame`, or a [`CsError::MissingColumn`] saying what it was needed for.
pub fn column<'a>(frame: &'a DataFrame, name: &str, purpose: &str) -> Result<&'a Column> {
    frame.column(name).map_err(|_| CsError::MissingColumn {
        column: name.to_string(),
        purpose: purpose.to_string(),
        available: frame
            .get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Formats a float the way a user typed it: `11` rather than `11.0`, `NaN` as `NaN`.
pub fn format_number(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}
