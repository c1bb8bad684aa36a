//! Survey metrics of one series of scores: the kernels of the expression plugins.

use polars::prelude::*;

use crate::error::Result;
use crate::input::{self, Role};

use super::counts::invalid_score;
use super::histogram::{nps_parts, nps_value, ratio, Histogram};
use super::metrics::low_effort;
use super::{CesDirection, InvalidPolicy, Scale};

/// The histogram of one series of scores (the kernel of the expression plugins).
///
/// `name` is used in error messages; rows are positions within the series.
pub fn histogram_of_series(
    series: &Series,
    name: &str,
    scale: Scale,
    policy: InvalidPolicy,
) -> Result<Histogram> {
    let values = input::number_series(series, name, Role::Number, "scores")?;
    let values = values.f64()?;
    let mut h = Histogram::empty(scale);
    for (row, value) in values.iter().enumerate() {
        match value {
            None => h.missing += 1,
            Some(v) => match scale.position(v) {
                Some(pos) => h.counts[pos] += 1,
                None => match policy {
                    InvalidPolicy::Raise => return Err(invalid_score(name, row, v, scale)),
                    InvalidPolicy::Drop => h.invalid += 1,
                    InvalidPolicy::Null => h.missing += 1,
                },
            },
        }
    }
    Ok(h)
}

/// NPS of one series of 0-10 scores; None when it has no valid answer.
pub fn nps_of_series(series: &Series, name: &str, policy: InvalidPolicy) -> Result<Option<f64>> {
    let h = histogram_of_series(series, name, Scale::NPS, policy)?;
    let (p, _, d) = nps_parts(&h);
    Ok(nps_value(p, d, h.n()))
}

/// CSAT (top-two-box share) of one series; None when it has no valid answer.
pub fn csat_of_series(
    series: &Series,
    name: &str,
    scale: Scale,
    policy: InvalidPolicy,
) -> Result<Option<f64>> {
    let h = histogram_of_series(series, name, scale, policy)?;
    Ok(ratio(h.count_from(scale.len() - 2), h.n()))
}

/// CES low-effort share of one series; None when it has no valid answer.
pub fn ces_of_series(
    series: &Series,
    name: &str,
    scale: Scale,
    direction: CesDirection,
    policy: InvalidPolicy,
) -> Result<Option<f64>> {
    let h = histogram_of_series(series, name, scale, policy)?;
    Ok(ratio(low_effort(&h, scale, direction), h.n()))
}
