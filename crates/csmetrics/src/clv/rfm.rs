//! The RFM summary of a transaction log: per customer, repeat purchases x (`frequency`), the
//! time of the last purchase from the first t_x (`recency`), the time from the first purchase to
//! the end of observation (`T`) and the mean value of the repeat purchases (`monetary_value`),
//! optionally split into a calibration and a holdout period.
//!
//! One pass builds dense customer ids ([`crate::groups`]), a counting sort groups each
//! customer's (day, amount) pairs, and a parallel scan over customers merges same-period
//! purchases and accumulates the summary. Output rows are sorted by customer id.

use std::str::FromStr;

use polars::prelude::*;

use super::data::invalid;
use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{encode_column, group_rows, parallel, sorted_keys, work_ranges};
use crate::period::{civil_from_days, Period};

/// The continuous time unit of recency, T and the holdout duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeUnit {
    /// Days (default).
    #[default]
    Day,
    /// Weeks of 7 days.
    Week,
    /// Months of 365/12 days.
    Month,
}

impl TimeUnit {
    /// Length of the unit in days.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
            TimeUnit::Month => 365.0 / 12.0,
        }
    }
}

impl FromStr for TimeUnit {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "D" => Ok(TimeUnit::Day),
            "W" => Ok(TimeUnit::Week),
            "M" => Ok(TimeUnit::Month),
            other => Err(CsError::option(
                "time_unit",
                format!("'{other}'"),
                "expected 'D', 'W' or 'M'",
            )),
        }
    }
}

/// Which purchases count as one: those in the same calendar day (default), ISO week or month.
/// With weeks or months every purchase, and the observation ends, are placed on the first day
/// of their period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Merge {
    /// Same calendar day (default).
    #[default]
    Day,
    /// Same ISO week (Monday to Sunday).
    Week,
    /// Same calendar month.
    Month,
}

impl Merge {
    fn position(self, day: i64) -> i64 {
        match self {
            Merge::Day => day,
            Merge::Week => Period::Week.start_of(day),
            Merge::Month => Period::Month.start_of(day),
        }
    }
}

impl FromStr for Merge {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "D" => Ok(Merge::Day),
            "W" => Ok(Merge::Week),
            "M" => Ok(Merge::Month),
            other => Err(CsError::option(
                "merge",
                format!("'{other}'"),
                "expected 'D', 'W' or 'M'",
            )),
        }
    }
}

/// What to do with transactions after `observation_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterEnd {
    /// Fail, naming the first such row (default).
    #[default]
    Raise,
    /// Leave them out.
    Drop,
}

impl FromStr for AfterEnd {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "raise" => Ok(AfterEnd::Raise),
            "drop" => Ok(AfterEnd::Drop),
            other => Err(CsError::option(
                "after_end",
                format!("'{other}'"),
                "expected 'raise' or 'drop'",
            )),
        }
    }
}

/// Options of [`rfm_summary`].
#[derive(Debug, Clone)]
pub struct RfmOptions {
    /// Customer id column (any type; nulls are an error).
    pub customer_id: String,
    /// Date or Datetime column of each purchase (UTC days).
    pub timestamp: String,
    /// Optional purchase value column (finite, >= 0).
    pub amount: Option<String>,
    /// Which purchases are merged into one.
    pub merge: Merge,
    /// Unit of recency, T and duration.
    pub time_unit: TimeUnit,
    /// Last day observed, inclusive (days since 1970-01-01); default: the latest purchase.
    pub observation_end: Option<i64>,
    /// End of the calibration period, inclusive; when set, the output has holdout columns and
    /// customers whose first purchase is after it are left out.
    pub calibration_end: Option<i64>,
    /// Policy for purchases after `observation_end`.
    pub after_end: AfterEnd,
}

impl Default for RfmOptions {
    fn default() -> Self {
        RfmOptions {
            customer_id: "customer_id".into(),
            timestamp: "timestamp".into(),
            amount: Some("amount".into()),
            merge: Merge::Day,
            time_unit: TimeUnit::Day,
            observation_end: None,
            calibration_end: None,
            after_end: AfterEnd::Raise,
        }
    }
}

fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 of each row of a Date or Datetime column; null is an error.
pub fn days_of(frame: &DataFrame, name: &str) -> Result<Vec<i32>> {
    let series = column(frame, name, "the date of each purchase")?
        .as_materialized_series()
        .rechunk();
    let per_day: i64 = match series.dtype() {
        DataType::Date => 1,
        DataType::Datetime(TimeUnit2::Nanoseconds, _) => 86_400_000_000_000,
        DataType::Datetime(TimeUnit2::Microseconds, _) => 86_400_000_000,
        DataType::Datetime(TimeUnit2::Milliseconds, _) => 86_400_000,
        other => {
            return Err(CsError::InvalidType {
                column: name.to_string(),
                dtype: other.to_string(),
                rule: "the purchase timestamp must be Date or Datetime".to_string(),
            })
        }
    };
    if series.null_count() > 0 {
        let row = series
            .is_null()
            .iter()
            .position(|v| v == Some(true))
            .unwrap_or(0);
        return Err(invalid(name, row, "null", "every purchase needs a date"));
    }
    let physical = series.to_physical_repr();
    if per_day == 1 {
        // Dates are already days in an i32: copy the slices, no cast.
        let ca = physical.i32()?;
        let mut out = Vec::with_capacity(ca.len());
        for array in ca.downcast_iter() {
            out.extend_from_slice(array.values().as_slice());
        }
        return Ok(out);
    }
    let ca = physical.i64()?;
    let mut out = Vec::with_capacity(ca.len());
    for array in ca.downcast_iter() {
        for &v in array.values().as_slice() {
            let day = v.div_euclid(per_day);
            out.push(i32::try_from(day).unwrap_or(if day > 0 { i32::MAX } else { i32::MIN }));
        }
    }
    Ok(out)
}

use polars::prelude::TimeUnit as TimeUnit2;

/// The amounts as one contiguous Float64 array (no copy when they already are), checked.
fn amounts_of(frame: &DataFrame, name: &str) -> Result<Float64Chunked> {
    let col = column(frame, name, "the value of each purchase")?;
    if !col.dtype().is_primitive_numeric() {
        return Err(CsError::InvalidType {
            column: name.to_string(),
            dtype: col.dtype().to_string(),
            rule: "the value of each purchase must be numeric".to_string(),
        });
    }
    let cast = col.as_materialized_series().cast(&DataType::Float64)?;
    let ca = cast.f64()?.rechunk().into_owned();
    if ca.null_count() > 0 {
        let row = ca
            .is_null()
            .iter()
            .position(|v| v == Some(true))
            .unwrap_or(0);
        return Err(invalid(name, row, "null", "every purchase needs an amount"));
    }
    let values = ca.cont_slice()?;
    if let Some(row) = values.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(invalid(
            name,
            row,
            &format_number(values[row]),
            "purchase amounts must be finite and >= 0 (record refunds as a separate adjustment)",
        ));
    }
    Ok(ca)
}

#[derive(Debug, Clone, Copy, Default)]
struct Row {
    frequency: u32,
    recency: i64,
    age: i64,
    repeat_value: f64,
    holdout_frequency: u32,
    holdout_value: f64,
    included: bool,
}

/// The RFM summary of the transaction log `frame` (METRICS.md section 4).
///
/// Columns: the customer id, `frequency` (Int64), `recency`, `T`, `monetary_value` (null when
/// frequency is 0; only with an amount column), and with a calibration end also
/// `frequency_holdout`, `monetary_value_holdout` (null without holdout purchases) and
/// `duration_holdout`.
pub fn rfm_summary(frame: &DataFrame, options: &RfmOptions) -> Result<DataFrame> {
    let ids = column(frame, &options.customer_id, "the customer of each purchase")?;
    if ids.null_count() > 0 {
        let row = ids
            .as_materialized_series()
            .is_null()
            .iter()
            .position(|v| v == Some(true))
            .unwrap_or(0);
        return Err(invalid(
            &options.customer_id,
            row,
            "null",
            "every purchase needs a customer id",
        ));
    }
    let days = days_of(frame, &options.timestamp)?;
    let amount_array = match &options.amount {
        Some(name) => Some(amounts_of(frame, name)?),
        None => None,
    };
    let amounts: Option<&[f64]> = match &amount_array {
        Some(ca) => Some(ca.cont_slice()?),
        None => None,
    };
    let rows = days.len();
    let latest = days.iter().copied().max().map(i64::from);
    let observation_end = match (options.observation_end, latest) {
        (Some(end), _) => end,
        (None, Some(latest)) => latest,
        (None, None) => 0,
    };
    if let Some(cal) = options.calibration_end {
        if cal > observation_end {
            return Err(CsError::option(
                "calibration_end",
                format_day(cal),
                &format!(
                    "must be on or before observation_end {}",
                    format_day(observation_end)
                ),
            ));
        }
    }
    if options.after_end == AfterEnd::Raise {
        if let Some(row) = days.iter().position(|&d| i64::from(d) > observation_end) {
            return Err(invalid(
                &options.timestamp,
                row,
                &format_day(i64::from(days[row])),
                &format!(
                    "purchases must be on or before observation_end {} (after_end='drop' leaves them out)",
                    format_day(observation_end)
                ),
            ));
        }
    }
    let merge = options.merge;
    let end_position = merge.position(observation_end);
    let calibration_position = options.calibration_end.map(|d| merge.position(d));
    let split = calibration_position.unwrap_or(end_position);

    // Dense customer ids and a counting sort of the rows by customer.
    let key = encode_column(ids)?;
    let customers = key.labels.len();
    let mut starts = vec![0usize; customers + 1];
    for (row, &code) in key.codes.iter().enumerate() {
        if i64::from(days[row]) <= observation_end {
            starts[code as usize + 1] += 1;
        }
    }
    for c in 0..customers {
        starts[c + 1] += starts[c];
    }
    let mut fill = starts.clone();
    let mut positions = vec![0i32; starts[customers]];
    let mut values = vec![
        0f64;
        if amounts.is_some() {
            starts[customers]
        } else {
            0
        }
    ];
    for (row, &code) in key.codes.iter().enumerate() {
        if i64::from(days[row]) > observation_end {
            continue;
        }
        let slot = fill[code as usize];
        fill[code as usize] += 1;
        // Merged positions lie between the first and last day: they fit in an i32.
        positions[slot] = merge.position(i64::from(days[row])) as i32;
        if let Some(a) = amounts {
            values[slot] = a[row];
        }
    }
    drop(fill);

    let summarise = |c: usize| -> Row {
        let (lo, hi) = (starts[c], starts[c + 1]);
        let value_at = |i: usize| values.get(i).copied().unwrap_or(0.0);
        let sorted_input = positions[lo..hi].windows(2).all(|w| w[0] <= w[1]);
        // Usually a customer's purchases come in time order and are read in place; otherwise a
        // stable sort keeps same-day amounts in input order, so their sum has fixed bits.
        let mut sorted: Vec<(i32, f64)> = Vec::new();
        if !sorted_input {
            sorted = (lo..hi).map(|i| (positions[i], value_at(i))).collect();
            sorted.sort_by_key(|p| p.0);
        }
        let pair = |k: usize| -> (i64, f64) {
            if sorted_input {
                (i64::from(positions[lo + k]), value_at(lo + k))
            } else {
                (i64::from(sorted[k].0), sorted[k].1)
            }
        };
        if hi == lo {
            return Row::default();
        }
        let (first, _) = pair(0);
        if first > split {
            return Row::default();
        }
        let mut row = Row {
            age: split - first,
            included: true,
            ..Row::default()
        };
        let mut current = first;
        for k in 0..hi - lo {
            let (position, value) = pair(k);
            if position != current {
                current = position;
                if position <= split {
                    row.frequency += 1;
                    row.recency = position - first;
                } else {
                    row.holdout_frequency += 1;
                }
            }
            if position != first {
                if position <= split {
                    row.repeat_value += value;
                } else {
                    row.holdout_value += value;
                }
            }
        }
        row
    };
    let summaries: Vec<Row> = parallel(work_ranges(customers), |range| {
        range.map(summarise).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();

    let groups = group_rows(std::slice::from_ref(&key), rows);
    let (keys, order) = sorted_keys(std::slice::from_ref(&key), &groups)?;
    let kept: Vec<usize> = (0..order.len())
        .filter(|&i| summaries[order[i]].included)
        .collect();
    let unit = options.time_unit.days();
    let column_of = |f: &dyn Fn(&Row) -> f64| -> Vec<f64> {
        kept.iter().map(|&i| f(&summaries[order[i]])).collect()
    };
    let pick = |f: &dyn Fn(&Row) -> Option<f64>| -> Vec<Option<f64>> {
        kept.iter().map(|&i| f(&summaries[order[i]])).collect()
    };
    let id_column = keys
        .select_at_idx(0)
        .ok_or_else(|| CsError::option("customer_id", "", "internal: no key column"))?
        .as_materialized_series()
        .take(&IdxCa::from_vec(
            "".into(),
            kept.iter().map(|&i| i as IdxSize).collect(),
        ))?
        .into_column();
    let mut out = vec![
        id_column,
        Column::new(
            "frequency".into(),
            kept.iter()
                .map(|&i| summaries[order[i]].frequency as i64)
                .collect::<Vec<_>>(),
        ),
        Column::new("recency".into(), column_of(&|r| r.recency as f64 / unit)),
        Column::new("T".into(), column_of(&|r| r.age as f64 / unit)),
    ];
    if amounts.is_some() {
        out.push(Column::new(
            "monetary_value".into(),
            pick(&|r| (r.frequency > 0).then(|| r.repeat_value / r.frequency as f64)),
        ));
    }
    if calibration_position.is_some() {
        out.push(Column::new(
            "frequency_holdout".into(),
            kept.iter()
                .map(|&i| summaries[order[i]].holdout_frequency as i64)
                .collect::<Vec<_>>(),
        ));
        if amounts.is_some() {
            out.push(Column::new(
                "monetary_value_holdout".into(),
                pick(&|r| {
                    (r.holdout_frequency > 0).then(|| r.holdout_value / r.holdout_frequency as f64)
                }),
            ));
        }
        let duration = (end_position - split) as f64 / unit;
        out.push(Column::new(
            "duration_holdout".into(),
            vec![duration; kept.len()],
        ));
    }
    Ok(DataFrame::new(kept.len(), out)?)
}
