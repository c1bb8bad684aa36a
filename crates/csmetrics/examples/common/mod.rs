//! Helpers the examples share: civil days and reading a result column as floats.

// Each example uses its own subset of these helpers.
#![allow(dead_code)]

use csmetrics::period::days_from_civil;
use polars::prelude::*;

/// Days since 1970-01-01 of a calendar date (the physical value of a Polars Date).
pub fn day(year: i64, month: u32, day: u32) -> i32 {
    days_from_civil(year, month, day) as i32
}

/// A column's values as floats, NaN for null (counts come back as integers, rates as floats;
/// Polars is built without its table printer here, so the examples print columns one by one).
pub fn floats(
    frame: &DataFrame,
    name: &str,
) -> std::result::Result<Vec<f64>, Box<dyn std::error::Error>> {
    let column = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(column
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}
