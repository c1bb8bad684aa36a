//! The log-rank test of equal survival between the groups of a column, per `by` group.
//!
//! At each distinct event time with n at risk and d events, group j with n_j at risk expects
//! `n_j d / n` events; its observed minus expected, summed over times, forms Z, and the
//! hypergeometric covariance `V_jl = sum d (n - d) / (n^2 (n - 1)) n_j (delta_jl n - n_l)` (the
//! factor `(n - d) / (n - 1)` is 1 where n = 1) gives the statistic `Z' V^- Z` over all groups but
//! one, chi-square with (groups - 1) degrees of freedom under the null.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::column;
use crate::groups::{encode_column, group_rows, sorted_keys};
use crate::stats::chi_square_sf;

use super::count_column;
use super::input::read_lives;
use super::table::{at_risk, event_tables, GroupIds, TimeRow};

/// Options of [`logrank_test`].
#[derive(Debug, Clone)]
pub struct LogrankOptions {
    /// Duration column. Default `"duration"`.
    pub duration: String,
    /// Event column. Default `"event"`.
    pub event: String,
    /// The column whose groups are compared. Default `"group"`.
    pub group: String,
    /// Weight column (non-negative reals). Default none.
    pub weights: Option<String>,
    /// Must stay `None`: the log-rank test here does not handle left truncation, and an entry
    /// column is an error rather than silently ignored.
    pub entry: Option<String>,
    /// Columns to run one test per group of.
    pub by: Vec<String>,
}

impl Default for LogrankOptions {
    fn default() -> Self {
        LogrankOptions {
            duration: "duration".to_string(),
            event: "event".to_string(),
            group: "group".to_string(),
            weights: None,
            entry: None,
            by: Vec::new(),
        }
    }
}

/// The outcome of one `by` group's comparison.
struct Comparison {
    arms: usize,
    n: f64,
    events: f64,
    statistic: Option<f64>,
}

impl Comparison {
    fn empty() -> Self {
        Comparison {
            arms: 0,
            n: 0.0,
            events: 0.0,
            statistic: None,
        }
    }
}

/// Compares the arms whose event tables are given (one table per arm present in the group).
fn compare(tables: &[&[TimeRow]]) -> Comparison {
    let k = tables.len();
    // Each arm's number at risk from its own table (summed from the end, so it never goes
    // negative or carries rounding from subtracting what left).
    let risks: Vec<Vec<f64>> = tables.iter().map(|rows| at_risk(rows)).collect();
    let n_total: f64 = tables
        .iter()
        .map(|rows| rows.iter().map(|r| r.removed).sum::<f64>())
        .sum();
    let mut at_risk_now = vec![0.0; k];
    let mut observed_minus_expected = vec![0.0; k];
    let mut covariance = vec![0.0; k * k];
    let mut deaths = vec![0.0; k];
    let mut next = vec![0usize; k];
    let mut events_total = 0.0;
    // Walk the arms' tables together, one distinct time at a time.
    while let Some(time) = (0..k)
        .filter_map(|j| tables[j].get(next[j]).map(|r| r.time))
        .min_by(f64::total_cmp)
    {
        for j in 0..k {
            // Between two of its times an arm's number at risk is that of its next time.
            at_risk_now[j] = risks[j].get(next[j]).copied().unwrap_or(0.0);
            match tables[j].get(next[j]) {
                Some(row) if row.time == time => {
                    deaths[j] = row.observed;
                    next[j] += 1;
                }
                _ => deaths[j] = 0.0,
            }
        }
        let n: f64 = at_risk_now.iter().sum();
        let d: f64 = deaths.iter().sum();
        if d > 0.0 && n > 0.0 {
            events_total += d;
            // The hypergeometric correction (n - d) / (n - 1) needs more than one life at
            // risk; a total weight of 1 or less carries no variance (it would turn negative).
            let ratio = if n > 1.0 {
                ((n - d) / (n - 1.0)).max(0.0)
            } else {
                0.0
            };
            let factor = ratio * d / (n * n);
            for j in 0..k {
                observed_minus_expected[j] += deaths[j] - at_risk_now[j] * d / n;
                for l in 0..k {
                    let delta = if j == l { n } else { 0.0 };
                    covariance[j * k + l] += factor * at_risk_now[j] * (delta - at_risk_now[l]);
                }
            }
        }
    }
    // Without any variance there is nothing to test: the statistic is null, not 0 with p = 1.
    let statistic = (k >= 2 && covariance.iter().any(|v| *v > 0.0))
        .then(|| quadratic_form(&observed_minus_expected, &covariance, k).max(0.0));
    Comparison {
        arms: k,
        n: n_total,
        events: events_total,
        statistic,
    }
}

/// `z' V^- z` over the first `k - 1` coordinates, by symmetric elimination that skips (near)
/// zero pivots: for a z in the range of V every generalised inverse gives the same value.
fn quadratic_form(z: &[f64], covariance: &[f64], k: usize) -> f64 {
    let m = k - 1;
    let mut a: Vec<f64> = (0..m)
        .flat_map(|i| (0..m).map(move |j| (i, j)))
        .map(|(i, j)| covariance[i * k + j])
        .collect();
    let mut b: Vec<f64> = z[..m].to_vec();
    let scale = (0..m).map(|i| a[i * m + i].abs()).fold(0.0, f64::max);
    let tolerance = scale * 1e-12;
    let mut value = 0.0;
    for i in 0..m {
        let pivot = a[i * m + i];
        if pivot.abs() <= tolerance {
            continue;
        }
        value += b[i] * b[i] / pivot;
        for r in i + 1..m {
            let f = a[r * m + i] / pivot;
            if f == 0.0 {
                continue;
            }
            for c in i..m {
                a[r * m + c] -= f * a[i * m + c];
            }
            b[r] -= f * b[i];
        }
    }
    value
}

/// Log-rank test between the groups of `options.group`, one test per `by` group.
///
/// Returns the keys (sorted), `groups` (number compared), `n` and `events` (Int64, or Float64
/// with weights), `statistic`, `df` (groups - 1) and `p_value` (chi-square upper tail). With
/// fewer than two groups the statistic and p-value are null. Without `by` the result has one
/// row, even for an empty input. An `entry` column is an error: left truncation is not handled.
pub fn logrank_test(frame: &DataFrame, options: &LogrankOptions) -> Result<DataFrame> {
    if let Some(entry) = &options.entry {
        return Err(CsError::option(
            "entry",
            format!("'{entry}'"),
            "the log-rank test does not handle left truncation; leave entry unset",
        ));
    }
    let lives = read_lives(
        frame,
        &options.duration,
        &options.event,
        None,
        options.weights.as_deref(),
    )?;
    let arms = encode_column(column(frame, &options.group, "the groups to compare")?)?;
    let rows = frame.height();
    // One event table per (by group, arm) present: group by the by keys and the arm together.
    let mut keys = Vec::with_capacity(options.by.len() + 1);
    for name in &options.by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    let by_groups = group_rows(&keys, rows);
    keys.push(arms);
    let cells = group_rows(&keys, rows);
    keys.pop();
    let tables = event_tables(&lives, GroupIds::Each(&cells.ids), cells.count());
    // The by group of every cell; cells are listed per by group.
    let mut parent = vec![0u32; cells.count()];
    for (cell, by_group) in cells.ids.iter().zip(&by_groups.ids) {
        parent[*cell as usize] = *by_group;
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); by_groups.count()];
    for (cell, by_group) in parent.iter().enumerate() {
        children[*by_group as usize].push(cell);
    }
    let has_keys = !keys.is_empty();
    let (key_frame, mut order) = sorted_keys(&keys, &by_groups)?;
    if !has_keys && order.is_empty() {
        order.push(0); // no grouping: one row even for an empty input
    }
    let results: Vec<Comparison> = order
        .iter()
        .map(|&g| match children.get(g) {
            Some(cells) => {
                let arm_tables: Vec<&[TimeRow]> = cells.iter().map(|&c| tables.group(c)).collect();
                compare(&arm_tables)
            }
            None => Comparison::empty(),
        })
        .collect();
    let weighted = options.weights.is_some();
    let df: Vec<i64> = results.iter().map(|r| (r.arms as i64 - 1).max(0)).collect();
    let p_values: Vec<Option<f64>> = results
        .iter()
        .map(|r| r.statistic.map(|s| chi_square_sf(s, (r.arms - 1) as f64)))
        .collect();
    let mut columns: Vec<Column> = Vec::new();
    if has_keys {
        columns.extend(key_frame.into_columns());
    }
    columns.push(Column::new(
        "groups".into(),
        results.iter().map(|r| r.arms as i64).collect::<Vec<i64>>(),
    ));
    columns.push(count_column(
        "n",
        results.iter().map(|r| r.n).collect(),
        weighted,
    ));
    columns.push(count_column(
        "events",
        results.iter().map(|r| r.events).collect(),
        weighted,
    ));
    columns.push(Column::new(
        "statistic".into(),
        results
            .iter()
            .map(|r| r.statistic)
            .collect::<Vec<Option<f64>>>(),
    ));
    columns.push(Column::new("df".into(), df));
    columns.push(Column::new("p_value".into(), p_values));
    Ok(DataFrame::new(results.len(), columns)?)
}
