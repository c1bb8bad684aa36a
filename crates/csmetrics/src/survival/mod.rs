//! Survival curves of customer lives (docs/metrics/survival.md): Kaplan-Meier with Greenwood
//! variance and log(-log) intervals, median and restricted mean survival time, Nelson-Aalen
//! cumulative hazard, and the log-rank test between groups. All grouped by `by=`.
//!
//! The input is one row per life: a duration (number >= 0), an event flag (Boolean or 0/1; false
//! means censored), optionally an entry time (left truncation: the life is observed from entry,
//! `0 <= entry <= duration`) and a weight (any non-negative real). The conventions follow
//! lifelines 0.30.3, which the reference tests check to 1e-9:
//!
//! - each group's table has one row per distinct duration and entry time; without an entry
//!   column everyone enters at 0 and the table starts with a row at time 0;
//! - `at_risk` at time t counts the lives that entered before t (or at the table's first time)
//!   and leave at t or later; a late entrant is not at risk at its own entry time;
//! - S(t) = prod (1 - d/n); Greenwood sum `sum d / (n (n - d))` (a term with n = d counts 0),
//!   `variance = S^2 * sum`; the log(-log) interval is `exp(-exp(log(-log S) -/+ z sqrt(sum) /
//!   log S))`, [1, 1] where S = 1 and [0, 0] where S = 0;
//! - the median is the first time with S(t) <= 0.5 (null if S never gets there); its interval
//!   takes the same rule on the interval's bounds;
//! - RMST is the integral of S from 0 to `tau` (S = 1 before the first time), `tau` defaulting to
//!   the group's last duration.
//!
//! Known differences from lifelines, all outside its well-defined cases: lives of weight 0 create
//! no time point of their own (lifelines keeps one); times with no one at risk leave the
//! estimates unchanged (lifelines gives NaN from there on); a life entering and leaving at the
//! same time counts at risk at that time (lifelines counts its event but not the life);
//! Greenwood's sum uses the weighted number at risk as it is (lifelines 0.30.3 truncates it to an
//! integer); the RMST with late entry integrates from 0, not from the first entry time.
//! An empty input gives an empty table (a summary or test without `by` gives one row with
//! `n = 0` and null estimates).

mod input;
mod lives;
mod logrank;
mod table;

use std::str::FromStr;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::groups::sorted_keys;
use crate::stats::z_for_confidence;

pub use lives::{survival_table, DurationUnit, Lives, SurvivalTableOptions};
pub use logrank::{logrank_test, LogrankOptions};

use input::{read_groups, read_lives};
use table::{at_risk, event_tables, EventTables, GroupIds, TimeRow};

/// Options of [`kaplan_meier`] and [`kaplan_meier_summary`].
#[derive(Debug, Clone)]
pub struct KaplanMeierOptions {
    /// Duration column (numeric, >= 0). Default `"duration"`.
    pub duration: String,
    /// Event column (Boolean or 0/1; false/0 = censored). Default `"event"`.
    pub event: String,
    /// Entry-time column for left truncation (`0 <= entry <= duration`). Default none.
    pub entry: Option<String>,
    /// Weight column (non-negative reals). Default none (every life weighs 1).
    pub weights: Option<String>,
    /// Grouping columns.
    pub by: Vec<String>,
    /// Confidence level of the intervals. Default 0.95.
    pub confidence: f64,
    /// Horizon of the restricted mean survival time (summary only); default: each group's last
    /// duration.
    pub tau: Option<f64>,
}

impl Default for KaplanMeierOptions {
    fn default() -> Self {
        KaplanMeierOptions {
            duration: "duration".to_string(),
            event: "event".to_string(),
            entry: None,
            weights: None,
            by: Vec::new(),
            confidence: 0.95,
            tau: None,
        }
    }
}

/// How Nelson-Aalen treats tied events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ties {
    /// d tied events among n at risk add `sum_{i<d} 1 / (n - i)` to the cumulative hazard and
    /// `sum_{i<d} 1 / (n - i)^2` to its variance, as if they happened one after another
    /// (lifelines' default). A fractional weighted count adds its fraction of the next term.
    #[default]
    Sequential,
    /// `d / n` to the hazard and `(n - d) d / n^3` to its variance.
    Textbook,
}

impl FromStr for Ties {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sequential" => Ok(Ties::Sequential),
            "textbook" => Ok(Ties::Textbook),
            other => Err(CsError::option(
                "ties",
                format!("'{other}'"),
                "expected one of 'sequential', 'textbook'",
            )),
        }
    }
}

/// Options of [`nelson_aalen`].
#[derive(Debug, Clone)]
pub struct NelsonAalenOptions {
    /// Duration column. Default `"duration"`.
    pub duration: String,
    /// Event column. Default `"event"`.
    pub event: String,
    /// Entry-time column for left truncation. Default none.
    pub entry: Option<String>,
    /// Weight column. Default none.
    pub weights: Option<String>,
    /// Grouping columns.
    pub by: Vec<String>,
    /// Confidence level. Default 0.95.
    pub confidence: f64,
    /// Treatment of tied events. Default [`Ties::Sequential`].
    pub ties: Ties,
}

impl Default for NelsonAalenOptions {
    fn default() -> Self {
        NelsonAalenOptions {
            duration: "duration".to_string(),
            event: "event".to_string(),
            entry: None,
            weights: None,
            by: Vec::new(),
            confidence: 0.95,
            ties: Ties::Sequential,
        }
    }
}

/// The prepared input: sorted group keys, the order of the groups and their event tables.
struct Prepared {
    keys: DataFrame,
    has_keys: bool,
    order: Vec<usize>,
    tables: EventTables,
    weighted: bool,
}

fn prepare(
    frame: &DataFrame,
    duration: &str,
    event: &str,
    entry: Option<&str>,
    weights: Option<&str>,
    by: &[String],
) -> Result<Prepared> {
    let lives = read_lives(frame, duration, event, entry, weights)?;
    if by.is_empty() {
        // One group (none for an empty input): no per-row group ids to allocate.
        let count = usize::from(frame.height() > 0);
        return Ok(Prepared {
            keys: DataFrame::empty(),
            has_keys: false,
            order: (0..count).collect(),
            tables: event_tables(&lives, GroupIds::One, count),
            weighted: weights.is_some(),
        });
    }
    let (keys, groups) = read_groups(frame, by)?;
    let tables = event_tables(&lives, GroupIds::Each(&groups.ids), groups.count());
    let (keys, order) = sorted_keys(&keys, &groups)?;
    Ok(Prepared {
        keys,
        has_keys: true,
        order,
        tables,
        weighted: weights.is_some(),
    })
}

/// A column of counts: Int64 when unweighted (the counts are whole), Float64 when weighted.
fn count_column(name: &str, values: Vec<f64>, weighted: bool) -> Column {
    if weighted {
        Column::new(name.into(), values)
    } else {
        Column::new(
            name.into(),
            values.into_iter().map(|v| v as i64).collect::<Vec<i64>>(),
        )
    }
}

/// The key columns (repeated: row `i` of the output belongs to sorted group `key_rows[i]`) and
/// the value columns, side by side.
fn with_keys(
    prepared: &Prepared,
    key_rows: Vec<IdxSize>,
    columns: Vec<Column>,
) -> Result<DataFrame> {
    let height = key_rows.len();
    let mut all: Vec<Column> = Vec::new();
    if prepared.has_keys {
        let keys = prepared.keys.take(&IdxCa::from_vec("".into(), key_rows))?;
        all.extend(keys.into_columns());
    }
    all.extend(columns);
    Ok(DataFrame::new(height, all)?)
}

/// Kaplan-Meier curve of one group's table: survival, Greenwood sum, lower and upper bounds.
struct Curve {
    at_risk: Vec<f64>,
    survival: Vec<f64>,
    greenwood: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
}

fn km_curve(rows: &[TimeRow], z: f64) -> Curve {
    let at_risk = at_risk(rows);
    let len = rows.len();
    let mut curve = Curve {
        survival: Vec::with_capacity(len),
        greenwood: Vec::with_capacity(len),
        lower: Vec::with_capacity(len),
        upper: Vec::with_capacity(len),
        at_risk: Vec::new(),
    };
    let mut log_survival = 0.0f64;
    let mut greenwood = 0.0f64;
    for (row, &n) in rows.iter().zip(&at_risk) {
        // Never more events than lives at risk, whatever the rounding of weighted sums.
        let d = row.observed.min(n);
        if n > 0.0 {
            // Summed on the log scale, like lifelines, so both round alike.
            log_survival += (n - d).ln() - n.ln();
            if n > d {
                greenwood += d / (n * (n - d));
            }
        }
        let s = log_survival.exp();
        let v = s.ln();
        let (lower, upper) = if v == 0.0 {
            (1.0, 1.0)
        } else if v == f64::NEG_INFINITY {
            (0.0, 0.0)
        } else {
            let spread = z * greenwood.sqrt() / v;
            (
                (-((-v).ln() - spread).exp()).exp(),
                (-((-v).ln() + spread).exp()).exp(),
            )
        };
        curve.survival.push(s);
        curve.greenwood.push(greenwood);
        curve.lower.push(lower);
        curve.upper.push(upper);
    }
    curve.at_risk = at_risk;
    curve
}

/// Kaplan-Meier survival curves per group.
///
/// One row per group and distinct time, sorted by the keys and then time: the keys, `time`,
/// `at_risk`, `events`, `censored`, `entered` (Int64, or Float64 weighted sums with weights),
/// `survival`, `variance` (Greenwood: `S^2 * sum d / (n (n - d))`), `lower`, `upper` (log(-log)
/// interval at `confidence`). See the module documentation for the conventions.
pub fn kaplan_meier(frame: &DataFrame, options: &KaplanMeierOptions) -> Result<DataFrame> {
    let z = z_for_confidence(options.confidence)?;
    let p = prepare(
        frame,
        &options.duration,
        &options.event,
        options.entry.as_deref(),
        options.weights.as_deref(),
        &options.by,
    )?;
    let total = p.tables.rows.len();
    let mut key_rows: Vec<IdxSize> = Vec::with_capacity(total);
    let mut cols: [Vec<f64>; 9] = std::array::from_fn(|_| Vec::with_capacity(total));
    for (position, &g) in p.order.iter().enumerate() {
        let rows = p.tables.group(g);
        let curve = km_curve(rows, z);
        key_rows.extend(std::iter::repeat_n(position as IdxSize, rows.len()));
        for (k, row) in rows.iter().enumerate() {
            let s = curve.survival[k];
            cols[0].push(row.time);
            cols[1].push(curve.at_risk[k]);
            cols[2].push(row.observed);
            cols[3].push(row.removed - row.observed);
            cols[4].push(row.entered);
            cols[5].push(s);
            cols[6].push(s * s * curve.greenwood[k]);
            cols[7].push(curve.lower[k]);
            cols[8].push(curve.upper[k]);
        }
    }
    let [time, n, events, censored, entered, survival, variance, lower, upper] = cols;
    let w = p.weighted;
    let columns = vec![
        Column::new("time".into(), time),
        count_column("at_risk", n, w),
        count_column("events", events, w),
        count_column("censored", censored, w),
        count_column("entered", entered, w),
        Column::new("survival".into(), survival),
        Column::new("variance".into(), variance),
        Column::new("lower".into(), lower),
        Column::new("upper".into(), upper),
    ];
    with_keys(&p, key_rows, columns)
}

/// The first time at which `values` is <= 0.5, if any.
fn first_at_or_below_half(rows: &[TimeRow], values: &[f64]) -> Option<f64> {
    first_at_or_below(rows, values, 0.5)
}

fn first_at_or_below(rows: &[TimeRow], values: &[f64], level: f64) -> Option<f64> {
    rows.iter()
        .zip(values)
        .find(|(_, &v)| v <= level)
        .map(|(row, _)| row.time)
}

/// The Kaplan-Meier quantiles of one group (see [`kaplan_meier_quantiles`]).
pub(crate) struct Quantiles {
    /// Lives of the group.
    pub n: f64,
    /// Lives with the event.
    pub events: f64,
    /// Per level: the quantile and its lower and upper bounds (None where never reached).
    pub values: Vec<[Option<f64>; 3]>,
}

/// Quantiles of the time to the event per group of lives given as arrays (durations >= 0 and
/// event flags, group ids in `0..count`), for the journey's time to a milestone: for each level
/// p (the share of lives whose event has happened), the first time with S(t) <= 1 - p, and by the
/// same rule on the curve's log(-log) interval its bounds. The same event tables and curve as
/// [`kaplan_meier`].
pub(crate) fn kaplan_meier_quantiles(
    durations: Vec<f64>,
    events: &[bool],
    groups: &[u32],
    count: usize,
    confidence: f64,
    levels: &[f64],
) -> Result<Vec<Quantiles>> {
    let z = z_for_confidence(confidence)?;
    let lives = input::Lives {
        duration: input::Values::Owned(durations),
        event: input::Flags::of(events),
        entry: None,
        weight: None,
    };
    let tables = event_tables(&lives, GroupIds::Each(groups), count);
    Ok((0..count)
        .map(|g| {
            let rows = tables.group(g);
            let curve = km_curve(rows, z);
            Quantiles {
                n: rows.iter().map(|r| r.removed).sum::<f64>(),
                events: rows.iter().map(|r| r.observed).sum::<f64>(),
                values: levels
                    .iter()
                    .map(|level| {
                        let s = 1.0 - level;
                        [
                            first_at_or_below(rows, &curve.survival, s),
                            first_at_or_below(rows, &curve.lower, s),
                            first_at_or_below(rows, &curve.upper, s),
                        ]
                    })
                    .collect(),
            }
        })
        .collect())
}

/// Integral of the step function `survival` (1 before the first time) from 0 to `tau`.
fn restricted_mean(rows: &[TimeRow], survival: &[f64], tau: f64) -> f64 {
    let mut area = 0.0;
    let (mut previous_time, mut previous_survival) = (0.0, 1.0);
    for (row, &s) in rows.iter().zip(survival) {
        if row.time >= tau {
            break;
        }
        area += previous_survival * (row.time - previous_time);
        previous_time = row.time;
        previous_survival = s;
    }
    if tau > previous_time {
        area += previous_survival * (tau - previous_time);
    }
    area
}

/// Kaplan-Meier summary per group: `n`, `events` (Int64, or Float64 with weights), `median`,
/// `median_lower`, `median_upper` (first time the curve, or the interval's lower or upper
/// bound, is <= 0.5; null if never), `tau` and `rmst` (restricted mean survival time up to
/// `tau`, default the group's last duration).
///
/// One row per group sorted by the keys; without `by`, one row even for an empty input (with
/// `n = 0` and null estimates).
pub fn kaplan_meier_summary(frame: &DataFrame, options: &KaplanMeierOptions) -> Result<DataFrame> {
    let z = z_for_confidence(options.confidence)?;
    if let Some(tau) = options.tau {
        if !(tau.is_finite() && tau >= 0.0) {
            return Err(CsError::option(
                "tau",
                tau,
                "the RMST horizon must be a finite number >= 0",
            ));
        }
    }
    let p = prepare(
        frame,
        &options.duration,
        &options.event,
        options.entry.as_deref(),
        options.weights.as_deref(),
        &options.by,
    )?;
    let mut order = p.order.clone();
    if !p.has_keys && order.is_empty() {
        order.push(0); // no grouping: always one row
    }
    let groups = order.len();
    let mut n = Vec::with_capacity(groups);
    let mut events = Vec::with_capacity(groups);
    let mut medians: [Vec<Option<f64>>; 5] = std::array::from_fn(|_| Vec::with_capacity(groups));
    for &g in &order {
        let rows = p.tables.group(g);
        let curve = km_curve(rows, z);
        n.push(rows.iter().map(|r| r.removed).sum::<f64>());
        events.push(rows.iter().map(|r| r.observed).sum::<f64>());
        medians[0].push(first_at_or_below_half(rows, &curve.survival));
        medians[1].push(first_at_or_below_half(rows, &curve.lower));
        medians[2].push(first_at_or_below_half(rows, &curve.upper));
        let tau = options
            .tau
            .or_else(|| rows.iter().rev().find(|r| r.removed > 0.0).map(|r| r.time));
        medians[3].push(tau);
        medians[4].push(tau.map(|tau| restricted_mean(rows, &curve.survival, tau)));
    }
    let [median, median_lower, median_upper, tau, rmst] = medians;
    let w = p.weighted;
    let columns = vec![
        count_column("n", n, w),
        count_column("events", events, w),
        Column::new("median".into(), median),
        Column::new("median_lower".into(), median_lower),
        Column::new("median_upper".into(), median_upper),
        Column::new("tau".into(), tau),
        Column::new("rmst".into(), rmst),
    ];
    let key_rows: Vec<IdxSize> = (0..groups as IdxSize).collect();
    with_keys(&p, key_rows, columns)
}

/// Increment of the cumulative hazard and of its variance for `d` events among `n` at risk.
fn hazard_step(n: f64, d: f64, ties: Ties) -> (f64, f64) {
    if n <= 0.0 || d <= 0.0 {
        return (0.0, 0.0);
    }
    match ties {
        Ties::Textbook => (d / n, (1.0 - d / n) * (d / n) / n),
        Ties::Sequential => {
            // The d lives leave one after another: sum over i < d of 1/(n - i) (and 1/(n - i)^2)
            // with a fractional last step. Large weights use the closed forms
            // ψ(n + 1) - ψ(n - m + 1) and ψ'(n - m + 1) - ψ'(n + 1), so the time does not grow
            // with the weights.
            let d = d.min(n);
            let whole = d.floor();
            let (mut hazard, mut variance) = (0.0, 0.0);
            if whole > 1000.0 {
                use crate::clv::special::{digamma, trigamma};
                let low = n - whole + 1.0;
                hazard = digamma(n + 1.0) - digamma(low);
                variance = (trigamma(low) - trigamma(n + 1.0)).max(0.0);
            }
            let mut i = if whole > 1000.0 { whole } else { 0.0 };
            while i < whole {
                let r = n - i;
                hazard += 1.0 / r;
                variance += 1.0 / (r * r);
                i += 1.0;
            }
            let fraction = d - whole;
            if fraction > 0.0 && n > whole {
                let r = n - whole;
                hazard += fraction / r;
                variance += fraction / (r * r);
            }
            (hazard, variance)
        }
    }
}

/// Nelson-Aalen cumulative hazard per group.
///
/// One row per group and distinct time (the same rows as [`kaplan_meier`]): the keys, `time`,
/// `at_risk`, `events`, `censored`, `entered`, `cumulative_hazard`, `variance`, `lower`, `upper`
/// where the interval is lifelines' `H exp(-/+ z sqrt(variance) / H)` (`[0, 0]` while H = 0).
/// Ties follow [`Ties`].
pub fn nelson_aalen(frame: &DataFrame, options: &NelsonAalenOptions) -> Result<DataFrame> {
    let z = z_for_confidence(options.confidence)?;
    let p = prepare(
        frame,
        &options.duration,
        &options.event,
        options.entry.as_deref(),
        options.weights.as_deref(),
        &options.by,
    )?;
    let total = p.tables.rows.len();
    let mut key_rows: Vec<IdxSize> = Vec::with_capacity(total);
    let mut cols: [Vec<f64>; 9] = std::array::from_fn(|_| Vec::with_capacity(total));
    for (position, &g) in p.order.iter().enumerate() {
        let rows = p.tables.group(g);
        let risk = at_risk(rows);
        key_rows.extend(std::iter::repeat_n(position as IdxSize, rows.len()));
        let (mut hazard, mut variance) = (0.0, 0.0);
        for (row, &n) in rows.iter().zip(&risk) {
            let (dh, dv) = hazard_step(n, row.observed, options.ties);
            hazard += dh;
            variance += dv;
            let spread = z * variance.sqrt() / if hazard == 0.0 { 1.0 } else { hazard };
            cols[0].push(row.time);
            cols[1].push(n);
            cols[2].push(row.observed);
            cols[3].push(row.removed - row.observed);
            cols[4].push(row.entered);
            cols[5].push(hazard);
            cols[6].push(variance);
            cols[7].push(hazard * (-spread).exp());
            cols[8].push(hazard * spread.exp());
        }
    }
    let [time, n, events, censored, entered, hazard, variance, lower, upper] = cols;
    let w = p.weighted;
    let columns = vec![
        Column::new("time".into(), time),
        count_column("at_risk", n, w),
        count_column("events", events, w),
        count_column("censored", censored, w),
        count_column("entered", entered, w),
        Column::new("cumulative_hazard".into(), hazard),
        Column::new("variance".into(), variance),
        Column::new("lower".into(), lower),
        Column::new("upper".into(), upper),
    ];
    with_keys(&p, key_rows, columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ties_sum_one_after_another() {
        let (h, v) = hazard_step(4.0, 2.0, Ties::Sequential);
        assert!((h - (1.0 / 4.0 + 1.0 / 3.0)).abs() < 1e-15);
        assert!((v - (1.0 / 16.0 + 1.0 / 9.0)).abs() < 1e-15);
        let (h, v) = hazard_step(4.0, 2.0, Ties::Textbook);
        assert_eq!(h, 0.5);
        assert!((v - 0.5 * 0.5 / 4.0).abs() < 1e-15);
        // Half a weighted event adds half of the next term.
        let (h, _) = hazard_step(4.0, 1.5, Ties::Sequential);
        assert!((h - (0.25 + 0.5 / 3.0)).abs() < 1e-15);
        assert_eq!(hazard_step(0.0, 0.0, Ties::Sequential), (0.0, 0.0));
    }

    #[test]
    fn rmst_integrates_the_step_function() {
        let rows = [
            TimeRow {
                time: 0.0,
                ..TimeRow::default()
            },
            TimeRow {
                time: 2.0,
                ..TimeRow::default()
            },
            TimeRow {
                time: 5.0,
                ..TimeRow::default()
            },
        ];
        let s = [1.0, 0.5, 0.25];
        assert_eq!(restricted_mean(&rows, &s, 5.0), 2.0 + 1.5);
        assert_eq!(restricted_mean(&rows, &s, 7.0), 2.0 + 1.5 + 0.5);
        assert_eq!(restricted_mean(&rows, &s, 1.0), 1.0);
        assert_eq!(restricted_mean(&rows, &s, 0.0), 0.0);
    }

    #[test]
    fn ties_parse() {
        assert_eq!("textbook".parse::<Ties>().ok(), Some(Ties::Textbook));
        assert!("breslow".parse::<Ties>().is_err());
    }
}

/// The survival family in one import (`use csmetrics::survival::prelude::*;`): its functions,
/// options and option enums, with the error type and `Period`.
/// [`crate::prelude`] holds every family's.
pub mod prelude {
    pub use super::{
        kaplan_meier, kaplan_meier_summary, logrank_test, nelson_aalen, survival_table,
        DurationUnit, KaplanMeierOptions, Lives, LogrankOptions, NelsonAalenOptions,
        SurvivalTableOptions, Ties,
    };
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
