//! Trial-to-paid conversion per trial cohort.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::format_number;
use crate::input::invalid;
use crate::period::Period;

use super::{describe_instant, grouped, instants, MICROS_PER_DAY};

/// Options of [`trial_conversion`].
#[derive(Debug, Clone)]
pub struct TrialOptions {
    /// Trial start column (Date or Datetime); the trial's period. Default `trial_start`.
    pub trial_start: String,
    /// Trial end column. Default `trial_end`.
    pub trial_end: String,
    /// Conversion instant column, null when not (yet) converted. Default `converted_at`.
    pub converted_at: String,
    /// Days after the trial end within which a conversion counts. Default 14.
    pub window_days: f64,
    /// Cut-off in µs since 1970-01-01 UTC; default the latest trial start or conversion.
    pub as_of: Option<i64>,
    /// Grouping columns.
    pub by: Vec<String>,
    /// Reporting period. Default month.
    pub period: Period,
}

impl Default for TrialOptions {
    fn default() -> Self {
        TrialOptions {
            trial_start: "trial_start".into(),
            trial_end: "trial_end".into(),
            converted_at: "converted_at".into(),
            window_days: 14.0,
            as_of: None,
            by: Vec::new(),
            period: Period::Month,
        }
    }
}

/// Trial-to-paid conversion per group and period of the trial start.
///
/// A trial is `converted` when `converted_at` falls in `[trial_start, trial_end + window]`;
/// otherwise it is `pending` while `trial_end + window` is after `as_of` (left out of the rate),
/// else it counts as not converted. Columns: keys, `period`, `trials` (started), `decided`
/// (converted, or window closed), `converted`, `pending`, `conversion_rate` = converted / decided.
/// Trials starting after `as_of` are not reported.
pub fn trial_conversion(frame: &DataFrame, options: &TrialOptions) -> Result<DataFrame> {
    if !(options.window_days.is_finite() && options.window_days >= 0.0) {
        return Err(CsError::option(
            "window",
            format_number(options.window_days),
            "the conversion window must be a non-negative number of days",
        ));
    }
    let starts = instants(frame, &options.trial_start, "the start of each trial")?;
    let ends = instants(frame, &options.trial_end, "the end of each trial")?;
    let converted = instants(frame, &options.converted_at, "when each trial converted")?;
    for (row, (s, e)) in starts.iter().zip(&ends).enumerate() {
        let s = s.ok_or_else(|| {
            invalid(
                &options.trial_start,
                row,
                "null",
                "every trial needs a start",
            )
        })?;
        let e =
            e.ok_or_else(|| invalid(&options.trial_end, row, "null", "every trial needs an end"))?;
        if e < s {
            return Err(invalid(
                &options.trial_end,
                row,
                describe_instant(e),
                "a trial cannot end before it starts",
            ));
        }
    }
    let as_of = options.as_of.unwrap_or_else(|| {
        starts
            .iter()
            .chain(&converted)
            .flatten()
            .copied()
            .max()
            .unwrap_or(0)
    });
    let window = (options.window_days * MICROS_PER_DAY as f64).round() as i64;
    let g = grouped(frame, &options.by, &options.trial_start, options.period)?;
    let (mut trials, mut decided, mut won, mut pending) = (
        vec![0i64; g.count],
        vec![0i64; g.count],
        vec![0i64; g.count],
        vec![0i64; g.count],
    );
    let mut reported = vec![false; g.count];
    for row in 0..frame.height() {
        let (Some(s), Some(e)) = (starts[row], ends[row]) else {
            continue;
        };
        if s > as_of {
            continue;
        }
        let id = g.ids[row] as usize;
        reported[id] = true;
        trials[id] += 1;
        let deadline = e + window;
        match converted[row] {
            Some(c) if c <= as_of && c >= s && c <= deadline => {
                won[id] += 1;
                decided[id] += 1;
            }
            _ if deadline > as_of => pending[id] += 1,
            _ => decided[id] += 1,
        }
    }
    let mut g = g;
    let mask: Vec<bool> = g.order.iter().map(|id| reported[*id]).collect();
    g.keys = g
        .keys
        .filter(&BooleanChunked::from_slice("".into(), &mask))?;
    g.order.retain(|id| reported[*id]);
    let columns = vec![
        g.counts("trials", &trials),
        g.counts("decided", &decided),
        g.counts("converted", &won),
        g.counts("pending", &pending),
        g.rates("conversion_rate", &won, &decided),
    ];
    g.finish(columns)
}
