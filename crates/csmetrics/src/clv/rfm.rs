//! The RFM summary of a transaction log: per customer, repeat purchases x (`frequency`), the
//! time of the last purchase from the first t_x (`recency`), the time from the first purchase to
//! the end of observation (`T`) and the mean value of the repeat purchases (`monetary_value`),
//! optionally split into a calibration and a holdout period.
//!
//! One pass builds dense customer ids (the crate's `groups` module), a counting sort groups each
//! customer's (day, amount) pairs, and a parallel scan over customers merges same-period
//! purchases and accumulates the summary. Output rows are sorted by customer id.

mod grouped;
mod in_order;

use std::str::FromStr;

use polars::prelude::*;

use super::data::invalid;
use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::key_in_value_order;
use crate::period::{civil_from_days, Period, MICROS_PER_DAY};
use polars_arrow::array::PrimitiveArray;

/// The continuous time unit of recency, T and the holdout duration (named apart from Polars'
/// `TimeUnit`, the unit of a Datetime column, so both preludes can be imported together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeriodUnit {
    /// Days (default).
    #[default]
    Day,
    /// Weeks of 7 days.
    Week,
    /// Months of 365/12 days.
    Month,
}

impl PeriodUnit {
    /// Length of the unit in days.
    pub fn days(self) -> f64 {
        match self {
            PeriodUnit::Day => 1.0,
            PeriodUnit::Week => 7.0,
            PeriodUnit::Month => 365.0 / 12.0,
        }
    }
}

impl FromStr for PeriodUnit {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "D" => Ok(PeriodUnit::Day),
            "W" => Ok(PeriodUnit::Week),
            "M" => Ok(PeriodUnit::Month),
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
    #[inline]
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
    pub time_unit: PeriodUnit,
    /// An instant of the last day observed, in µs since 1970-01-01 UTC (like every instant
    /// option): its UTC day is observed in full. Default: the day of the latest purchase.
    pub observation_end: Option<i64>,
    /// An instant of the last day of the calibration period (µs, its UTC day included); when
    /// set, the output has holdout columns and customers whose first purchase is after it are
    /// left out.
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
            time_unit: PeriodUnit::Day,
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
    let what = "the date of each purchase";
    let series = column(frame, name, what)?.as_materialized_series();
    crate::input::days_of(series, name, what)?
        .map_err(|row| invalid(name, row, "null", "every purchase needs a date"))
}

/// The amounts as one contiguous Float64 array (no copy when they already are), checked.
fn amounts_of(frame: &DataFrame, name: &str) -> Result<Float64Chunked> {
    let cast = crate::input::numbers(
        frame,
        name,
        crate::input::Role::Number,
        "the value of each purchase",
    )?;
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
            format_number(values[row]),
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
}

/// The RFM summary of the transaction log `frame` (docs/metrics/clv.md#rfm).
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
    let latest = days.iter().copied().max().map(i64::from);
    // Purchases are counted by UTC day: an instant option stands for its day.
    let day_of = |micros: i64| micros.div_euclid(MICROS_PER_DAY);
    let calibration_end = options.calibration_end.map(day_of);
    let observation_end = match (options.observation_end, latest) {
        (Some(end), _) => day_of(end),
        (None, Some(latest)) => latest,
        (None, None) => 0,
    };
    if let Some(cal) = calibration_end {
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
                format_day(i64::from(days[row])),
                &format!(
                    "purchases must be on or before observation_end {} (after_end='drop' leaves them out)",
                    format_day(observation_end)
                ),
            ));
        }
    }
    let merge = options.merge;
    let end_position = merge.position(observation_end);
    let calibration_position = calibration_end.map(|d| merge.position(d));
    let split = calibration_position.unwrap_or(end_position);

    // Dense customer ids and a counting sort of the rows by customer.
    // Each customer's slot is its rank among the ids: output rows come sorted by customer id.
    let key = key_in_value_order(ids)?;
    let (slots, labels) = (key.codes, key.labels);
    let customers = labels.len();
    let log = Log {
        slots: &slots,
        days: &days,
        amounts,
        observation_end,
        merge: options.merge,
        split,
        customers,
        count_dropped: options.after_end == AfterEnd::Drop,
        unit: options.time_unit.days(),
        holdout: calibration_position.is_some(),
    };
    let (with_amounts, holdout, unit) = (amounts.is_some(), log.holdout, log.unit);
    let count_dropped = log.count_dropped;
    let parts = in_order::in_order(&log).unwrap_or_else(|| grouped::grouped(&log));
    let mut parts = parts;
    if parts.is_empty() {
        // No customer at all: one empty part, so every column exists and holds one (empty)
        // chunk, as every frame must for Polars.
        let mut empty = SummaryPart::with_capacity(0, with_amounts, holdout);
        if count_dropped {
            empty.dropped = Some(Vec::new());
        }
        parts.push(empty);
    }
    let kept: usize = parts.iter().map(|p| p.slots.len()).sum();
    let id_column = if kept == customers {
        labels
    } else {
        let kept_slots = IdxCa::from_chunk_iter(
            "".into(),
            parts
                .iter()
                .map(|p| PrimitiveArray::from_slice(p.slots.as_slice())),
        );
        labels
            .as_materialized_series()
            .take(&kept_slots)?
            .into_column()
    };
    SummaryPart::columns(
        id_column,
        parts,
        kept,
        holdout.then(|| (end_position - split) as f64 / unit),
    )
}

/// What both paths of [`rfm_summary`] read of the log.
struct Log<'a> {
    /// Each row's customer slot (its rank among the ids).
    slots: &'a [u32],
    /// Each row's UTC day.
    days: &'a [i32],
    amounts: Option<&'a [f64]>,
    observation_end: i64,
    merge: Merge,
    /// The last period position of the calibration (the observation end without one).
    split: i64,
    customers: usize,
    count_dropped: bool,
    /// Days per unit of recency and T.
    unit: f64,
    holdout: bool,
}

impl Log<'_> {
    /// Whether the purchase of `row` is after the observation end.
    fn after(&self, row: usize) -> bool {
        i64::from(self.days[row]) > self.observation_end
    }
}

/// A chunk of the summary's columns: the customers of one range that are in the output.
struct SummaryPart {
    slots: Vec<IdxSize>,
    frequency: Vec<i64>,
    recency: Vec<f64>,
    age: Vec<f64>,
    /// Mean repeat value and whether it is defined (x > 0).
    monetary: Option<(Vec<f64>, Vec<bool>)>,
    holdout_frequency: Option<Vec<i64>>,
    holdout_monetary: Option<(Vec<f64>, Vec<bool>)>,
    dropped: Option<Vec<u32>>,
}

impl SummaryPart {
    fn with_capacity(n: usize, amounts: bool, holdout: bool) -> Self {
        let pair = || (Vec::with_capacity(n), Vec::with_capacity(n));
        SummaryPart {
            slots: Vec::with_capacity(n),
            frequency: Vec::with_capacity(n),
            recency: Vec::with_capacity(n),
            age: Vec::with_capacity(n),
            monetary: amounts.then(pair),
            holdout_frequency: holdout.then(|| Vec::with_capacity(n)),
            holdout_monetary: (amounts && holdout).then(pair),
            dropped: None,
        }
    }

    fn push(&mut self, slot: usize, row: &Row, unit: f64, dropped: Option<u32>) {
        self.slots.push(slot as IdxSize);
        self.frequency.push(i64::from(row.frequency));
        self.recency.push(row.recency as f64 / unit);
        self.age.push(row.age as f64 / unit);
        let mean = |total: f64, n: u32| (total / f64::from(n.max(1)), n > 0);
        if let Some((values, valid)) = self.monetary.as_mut() {
            let (v, ok) = mean(row.repeat_value, row.frequency);
            values.push(v);
            valid.push(ok);
        }
        if let Some(h) = self.holdout_frequency.as_mut() {
            h.push(i64::from(row.holdout_frequency));
        }
        if let Some((values, valid)) = self.holdout_monetary.as_mut() {
            let (v, ok) = mean(row.holdout_value, row.holdout_frequency);
            values.push(v);
            valid.push(ok);
        }
        if let Some(d) = dropped {
            self.dropped.get_or_insert_with(Vec::new).push(d);
        }
    }

    /// The summary frame from the parts, in order.
    fn columns(
        id_column: Column,
        mut parts: Vec<SummaryPart>,
        height: usize,
        holdout_duration: Option<f64>,
    ) -> Result<DataFrame> {
        fn numeric<T: PolarsNumericType>(
            name: &str,
            parts: &mut [SummaryPart],
            take: impl Fn(&mut SummaryPart) -> Vec<T::Native>,
        ) -> Column {
            ChunkedArray::<T>::from_chunk_iter(
                name.into(),
                parts.iter_mut().map(|p| PrimitiveArray::from_vec(take(p))),
            )
            .into_column()
        }
        fn nullable(
            name: &str,
            parts: &mut [SummaryPart],
            take: impl Fn(&mut SummaryPart) -> Option<(Vec<f64>, Vec<bool>)>,
        ) -> Column {
            Float64Chunked::from_chunk_iter(
                name.into(),
                parts.iter_mut().map(|p| {
                    let (values, valid) = take(p).unwrap_or_default();
                    let validity = polars_arrow::bitmap::Bitmap::from_iter(valid);
                    PrimitiveArray::from_vec(values).with_validity(Some(validity))
                }),
            )
            .into_column()
        }
        let amounts = parts.first().is_some_and(|p| p.monetary.is_some());
        let dropped = parts.iter().any(|p| p.dropped.is_some());
        let mut out = vec![
            id_column,
            numeric::<Int64Type>("frequency", &mut parts, |p| {
                std::mem::take(&mut p.frequency)
            }),
            numeric::<Float64Type>("recency", &mut parts, |p| std::mem::take(&mut p.recency)),
            numeric::<Float64Type>("T", &mut parts, |p| std::mem::take(&mut p.age)),
        ];
        if amounts {
            out.push(nullable("monetary_value", &mut parts, |p| {
                p.monetary.take()
            }));
        }
        if let Some(duration) = holdout_duration {
            out.push(numeric::<Int64Type>("frequency_holdout", &mut parts, |p| {
                p.holdout_frequency.take().unwrap_or_default()
            }));
            if amounts {
                out.push(nullable("monetary_value_holdout", &mut parts, |p| {
                    p.holdout_monetary.take()
                }));
            }
            out.push(Column::new_scalar(
                "duration_holdout".into(),
                Scalar::new(DataType::Float64, AnyValue::Float64(duration)),
                height,
            ));
        }
        if dropped {
            out.push(numeric::<UInt32Type>(
                "dropped_after_end",
                &mut parts,
                |p| p.dropped.take().unwrap_or_default(),
            ));
        }
        Ok(DataFrame::new(height, out)?)
    }
}
