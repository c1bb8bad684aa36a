//! Per-customer signals of an event table for a health score (docs/metrics/health.md): the
//! last value observed, the events counted, or the distinct active days, over a window of days
//! up to a reference day. The report's health recipe is built from these.

use polars::prelude::*;

use super::labels::joint_codes;
use crate::error::{CsError, Result};
use crate::frame::column;
use crate::input::{days_of, invalid, numbers, Role};

/// What a signal summarises of a customer's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalKind {
    /// The last non-null value of this column up to the reference day (latest timestamp; among
    /// equal timestamps the last row); null for a customer with none.
    Last(String),
    /// The events in the window; 0 for a customer with none.
    Count,
    /// The distinct UTC days with an event in the window; 0 for a customer with none.
    ActiveDays,
}

/// Options of [`customer_signal`].
#[derive(Debug, Clone)]
pub struct SignalOptions {
    /// Customer column of the events (its type matches the customers'; String, Categorical
    /// and Enum match by text). Default `customer_id`.
    pub customer_id: String,
    /// Time of each event (Date or Datetime, read as its UTC day). Default `timestamp`.
    pub timestamp: String,
    /// What the signal is. Default [`SignalKind::Count`].
    pub kind: SignalKind,
    /// The reference instant in µs since 1970-01-01 UTC: events after its UTC day are not
    /// read, and the window ends with that day.
    pub reference: i64,
    /// The window: the `window_days` days up to and including the reference day (>= 1); None
    /// reads every event up to the reference day.
    pub window_days: Option<u32>,
    /// Name of the result.
    pub name: String,
}

impl Default for SignalOptions {
    fn default() -> Self {
        SignalOptions {
            customer_id: "customer_id".into(),
            timestamp: "timestamp".into(),
            kind: SignalKind::Count,
            reference: 0,
            window_days: None,
            name: "signal".into(),
        }
    }
}

/// The signal of each customer of `customers` (one row per customer, any key type) from the
/// `events` table, aligned with `customers`: Float64 for [`SignalKind::Last`], Int64 otherwise.
///
/// ```
/// use csmetrics::health::{customer_signal, SignalKind, SignalOptions};
/// use polars::prelude::*;
///
/// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
/// let customers = Column::new("customer_id".into(), ["a", "b", "c"]);
/// // a answers 6 on day 10 and 9 on day 12; b answers 3 on day 20, after the reference day.
/// let answers = df!(
///     "customer_id" => ["a", "a", "b"],
///     "timestamp" => [10i32, 12, 20],
///     "nps" => [6.0, 9.0, 3.0],
/// )?
/// .lazy()
/// .with_column(col("timestamp").cast(DataType::Date))
/// .collect()?;
/// let options = SignalOptions {
///     kind: SignalKind::Last("nps".into()),
///     reference: 15 * 86_400_000_000, // day 15, 00:00 UTC
///     name: "last_nps".into(),
///     ..Default::default()
/// };
/// let last = customer_signal(&customers, &answers, &options)?;
/// assert_eq!(last.f64()?.iter().collect::<Vec<_>>(), [Some(9.0), None, None]);
/// # Ok(())
/// # }
/// ```
pub fn customer_signal(
    customers: &Column,
    events: &DataFrame,
    options: &SignalOptions,
) -> Result<Column> {
    if options.window_days == Some(0) {
        return Err(CsError::option(
            "window_days",
            0,
            "the window is a whole number of days >= 1",
        ));
    }
    let what = "the time of each event";
    let stamps = column(events, &options.timestamp, what)?.as_materialized_series();
    let days = days_of(stamps, &options.timestamp, what)?
        .map_err(|row| invalid(&options.timestamp, row, "null", "an event needs a time"))?;
    let ids = column(events, &options.customer_id, "the customer of each event")?;
    let codes = joint_codes(customers, ids, &options.customer_id)?;
    let (wanted, event_codes) = codes.split_at(customers.len());
    // Each event's customer as a row of `customers` (None: not among them).
    let max_code = codes.iter().copied().max().map_or(0, |c| c as usize + 1);
    let mut row_of = vec![None; max_code];
    for (row, &c) in wanted.iter().enumerate() {
        row_of[c as usize].get_or_insert(row);
    }
    let last_day = options.reference.div_euclid(crate::period::MICROS_PER_DAY);
    let first = options
        .window_days
        .map_or(i64::MIN, |w| last_day - i64::from(w) + 1);
    let inside = |day: i32| (first..=last_day).contains(&i64::from(day));
    let name = options.name.as_str().into();
    match &options.kind {
        SignalKind::Count => {
            let mut counts = vec![0i64; customers.len()];
            for (&c, &day) in event_codes.iter().zip(&days) {
                if let (Some(row), true) = (row_of[c as usize], inside(day)) {
                    counts[row] += 1;
                }
            }
            Ok(Column::new(name, counts))
        }
        SignalKind::ActiveDays => {
            let mut seen = std::collections::HashSet::new();
            let mut active = vec![0i64; customers.len()];
            for (&c, &day) in event_codes.iter().zip(&days) {
                if let (Some(row), true) = (row_of[c as usize], inside(day)) {
                    if seen.insert((row, day)) {
                        active[row] += 1;
                    }
                }
            }
            Ok(Column::new(name, active))
        }
        SignalKind::Last(value) => {
            let (instants, _) = crate::input::instants(events, &options.timestamp, what, 0)?;
            let values = numbers(events, value, Role::Number, "the value of each event")?;
            let mut last: Vec<Option<(i64, f64)>> = vec![None; customers.len()];
            for (i, v) in values.f64()?.iter().enumerate() {
                let (Some(row), Some(v)) = (row_of[event_codes[i] as usize], v) else {
                    continue;
                };
                if !inside(days[i]) {
                    continue;
                }
                if last[row].is_none_or(|(at, _)| instants[i] >= at) {
                    last[row] = Some((instants[i], v));
                }
            }
            let out: Vec<Option<f64>> = last.into_iter().map(|l| l.map(|(_, v)| v)).collect();
            Ok(Column::new(name, out))
        }
    }
}
