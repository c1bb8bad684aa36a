//! The two-sample NPS comparison between values of a column.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::stats::{two_sided_p, z_for_confidence};

use super::blocks::grouped_histograms;
use super::histogram::{nps_parts, nps_standard_error, nps_value};
use super::metrics::{float_column, int_column, runs, with_keys};
use super::{ComparePairs, Grouping, InvalidPolicy, Scale};
use crate::period::Period;

/// Options of [`nps_compare`].
#[derive(Debug, Clone)]
pub struct NpsCompareOptions {
    /// The score column. Default `"score"`.
    pub score: String,
    /// The column whose values are compared with each other; None compares periods.
    pub between: Option<String>,
    /// Outer grouping columns: comparisons are made within each of their groups.
    pub by: Vec<String>,
    /// Calendar period of `timestamp`; with `between` set, values are compared within each
    /// period.
    pub period: Option<Period>,
    /// The timestamp column (Date or Datetime) read with `period`. Default `timestamp`.
    pub timestamp: String,
    /// Invalid-score policy.
    pub invalid: InvalidPolicy,
    /// Which pairs to test.
    pub pairs: ComparePairs,
    /// Confidence level of the interval of the difference. Default 0.95.
    pub confidence: f64,
}

impl Default for NpsCompareOptions {
    fn default() -> Self {
        NpsCompareOptions {
            score: "score".to_string(),
            between: None,
            by: Vec::new(),
            period: None,
            timestamp: "timestamp".into(),
            invalid: InvalidPolicy::Raise,
            pairs: ComparePairs::All,
            confidence: 0.95,
        }
    }
}

/// Two-sample NPS comparison: for each pair (a, b) of values of the compared column, the
/// difference `nps_b - nps_a`, its unpooled standard error sqrt(se_a^2 + se_b^2) (each se from
/// the Wald formula), z, the two-sided p-value and a Wald interval of the difference.
///
/// Returns the outer keys, `{between}_a`, `{between}_b`, `n_a`, `nps_a`, `n_b`, `nps_b`,
/// `difference`, `se`, `z`, `p_value`, `difference_lower`, `difference_upper`. z and p are null
/// when a side has no answers or the standard error is zero.
pub fn nps_compare(frame: &DataFrame, options: &NpsCompareOptions) -> Result<DataFrame> {
    let z_crit = z_for_confidence(options.confidence)?;
    let mut grouping = Grouping::of(&options.by, options.period, &options.timestamp);
    let compared = match &options.between {
        Some(name) => {
            grouping.by.push(name.clone());
            name.clone()
        }
        None => {
            if grouping.period.is_none() {
                return Err(CsError::option(
                    "between",
                    "None",
                    "say which column's values to compare (between=...) or give period= to compare periods",
                ));
            }
            "period".to_string()
        }
    };
    // Keys are sorted, so each outer group is a run of rows ordered by the compared value.
    let mut key_names = options.by.clone();
    if options.between.is_some() && grouping.period.is_some() {
        key_names.push("period".to_string());
    }
    let g = grouped_histograms(
        frame,
        &options.score,
        &grouping,
        Scale::NPS,
        options.invalid,
    )?;
    let outer = g.keys.select(key_names.iter().map(|k| k.as_str()))?;
    let runs = if key_names.is_empty() {
        vec![(0, g.keys.height())]
    } else {
        runs(&outer)?
    };
    let mut left: Vec<IdxSize> = Vec::new();
    let mut right: Vec<IdxSize> = Vec::new();
    for (lo, hi) in runs {
        for a in lo..hi {
            let last = match options.pairs {
                ComparePairs::All => hi,
                ComparePairs::Consecutive => (a + 2).min(hi),
            };
            for b in a + 1..last {
                left.push(a as IdxSize);
                right.push(b as IdxSize);
            }
        }
    }
    let stats = |i: IdxSize| {
        let h = &g.histograms[i as usize];
        let (p, _, d) = nps_parts(h);
        let n = h.n();
        (
            n,
            nps_value(p, d, n),
            nps_standard_error(p as f64, d as f64, n as f64),
        )
    };
    let a: Vec<_> = left.iter().map(|i| stats(*i)).collect();
    let b: Vec<_> = right.iter().map(|i| stats(*i)).collect();
    let mut differences = Vec::with_capacity(a.len());
    let mut ses = Vec::with_capacity(a.len());
    let mut zs = Vec::with_capacity(a.len());
    for (sa, sb) in a.iter().zip(&b) {
        let difference = match (sa.1, sb.1) {
            (Some(x), Some(y)) => Some(y - x),
            _ => None,
        };
        let se = match (sa.2, sb.2) {
            (Some(x), Some(y)) => Some((x * x + y * y).sqrt()),
            _ => None,
        };
        let z = match (difference, se) {
            (Some(d), Some(s)) if s > 0.0 => Some(d / s),
            _ => None,
        };
        differences.push(difference);
        ses.push(se);
        zs.push(z);
    }
    let left_idx = IdxCa::from_vec("".into(), left);
    let right_idx = IdxCa::from_vec("".into(), right);
    let outer_rows = if key_names.is_empty() {
        DataFrame::empty_with_height(left_idx.len())
    } else {
        outer.take(&left_idx)?
    };
    let compared_column = g.keys.column(&compared)?.as_materialized_series();
    let columns = vec![
        compared_column
            .take(&left_idx)?
            .with_name(format!("{compared}_a").into())
            .into_column(),
        compared_column
            .take(&right_idx)?
            .with_name(format!("{compared}_b").into())
            .into_column(),
        int_column("n_a", a.iter().map(|s| s.0)),
        float_column("nps_a", a.iter().map(|s| s.1)),
        int_column("n_b", b.iter().map(|s| s.0)),
        float_column("nps_b", b.iter().map(|s| s.1)),
        float_column("difference", differences.iter().copied()),
        float_column("se", ses.iter().copied()),
        float_column("z", zs.iter().copied()),
        float_column("p_value", zs.iter().map(|z| z.map(two_sided_p))),
        float_column(
            "difference_lower",
            differences
                .iter()
                .zip(&ses)
                .map(|(d, s)| Some((*d)? - z_crit * (*s)?)),
        ),
        float_column(
            "difference_upper",
            differences
                .iter()
                .zip(&ses)
                .map(|(d, s)| Some((*d)? + z_crit * (*s)?)),
        ),
    ];
    with_keys(outer_rows, columns)
}
