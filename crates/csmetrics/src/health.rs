//! Customer health scores (docs/metrics/health.md): per-customer factors, each normalised to
//! [0, 1] over the customers scored in the same period (min-max or percentile) or against fixed
//! thresholds, turned so that 1 is healthy, and combined by weight into a 0-100 score with
//! red / yellow / green bands. Also the backtest: the AUC of a score against later churn.

mod labels;
mod signals;

use std::str::FromStr;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{encode_column, group_rows};
use crate::input::Role;

pub use labels::{churn_labels, ChurnLabelOptions};
pub use signals::{customer_signal, SignalKind, SignalOptions};

/// Whether a factor's high values are healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Higher values are healthier (usage, NPS).
    #[default]
    HigherIsBetter,
    /// Lower values are healthier (tickets, days since last login).
    LowerIsBetter,
}

impl FromStr for Direction {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "higher" | "higher_is_better" => Ok(Self::HigherIsBetter),
            "lower" | "lower_is_better" => Ok(Self::LowerIsBetter),
            other => Err(CsError::option(
                "direction",
                format!("'{other}'"),
                "expected 'higher' or 'lower'",
            )),
        }
    }
}

/// How a factor's raw values become [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Normalisation {
    /// (x - min) / (max - min) over the customers scored in the period; 0.5 when all are equal.
    #[default]
    MinMax,
    /// Mid-rank percentile: (values below + (ties - 1) / 2) / (n - 1); 0.5 for a lone customer.
    Percentile,
    /// (x - lo) / (hi - lo) clamped to [0, 1], with fixed bounds lo < hi.
    Thresholds(f64, f64),
}

/// One factor of the score.
#[derive(Debug, Clone)]
pub struct Factor {
    /// The column holding the factor (numeric; null = missing).
    pub column: String,
    /// Its weight (> 0).
    pub weight: f64,
    /// Whether high raw values are healthy.
    pub direction: Direction,
    /// Its normalisation.
    pub normalisation: Normalisation,
}

/// What to do with a customer's missing factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingPolicy {
    /// Leave the factor out and spread the weights over the factors present (default); a
    /// customer with no factor at all gets a null score.
    #[default]
    Reweight,
    /// Count the factor as the worst value (normalised 0).
    Worst,
    /// A missing factor is an error.
    Raise,
}

impl FromStr for MissingPolicy {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "reweight" => Ok(Self::Reweight),
            "worst" => Ok(Self::Worst),
            "raise" => Ok(Self::Raise),
            other => Err(CsError::option(
                "missing",
                format!("'{other}'"),
                "expected 'reweight', 'worst' or 'raise'",
            )),
        }
    }
}

/// Options of [`health_score`].
#[derive(Debug, Clone)]
pub struct HealthOptions {
    /// The factors.
    pub factors: Vec<Factor>,
    /// Band bounds (red < lower <= yellow < upper <= green). Default (40, 70).
    pub bands: (f64, f64),
    /// Missing-factor policy.
    pub missing: MissingPolicy,
    /// Column whose values scope the normalisation (e.g. `period`): customers are normalised
    /// against the others of the same value. Default none (all rows together).
    pub by_period: Option<String>,
}

impl Default for HealthOptions {
    fn default() -> Self {
        HealthOptions {
            factors: Vec::new(),
            bands: (40.0, 70.0),
            missing: MissingPolicy::Reweight,
            by_period: None,
        }
    }
}

fn check_options(options: &HealthOptions) -> Result<()> {
    if options.factors.is_empty() {
        return Err(CsError::option(
            "factors",
            "[]",
            "a health score needs at least one factor",
        ));
    }
    for f in &options.factors {
        if !(f.weight.is_finite() && f.weight > 0.0) {
            return Err(CsError::option(
                "weight",
                format!("{} for '{}'", format_number(f.weight), f.column),
                "factor weights must be positive numbers",
            ));
        }
        if let Normalisation::Thresholds(lo, hi) = f.normalisation {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(CsError::option(
                    "thresholds",
                    format!(
                        "({}, {}) for '{}'",
                        format_number(lo),
                        format_number(hi),
                        f.column
                    ),
                    "thresholds need finite lo < hi",
                ));
            }
        }
    }
    let (lo, hi) = options.bands;
    if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi && hi <= 100.0) {
        return Err(CsError::option(
            "bands",
            format!("({}, {})", format_number(lo), format_number(hi)),
            "band bounds need 0 <= lower <= upper <= 100",
        ));
    }
    Ok(())
}

/// Normalised values in [0, 1] (1 = healthy) of one factor within each scope.
fn normalise(
    values: &[Option<f64>],
    scope: &[u32],
    scopes: usize,
    factor: &Factor,
) -> Vec<Option<f64>> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); scopes];
    for (row, v) in values.iter().enumerate() {
        if v.is_some() {
            members[scope[row] as usize].push(row);
        }
    }
    let mut out = vec![None; values.len()];
    for rows in &members {
        let x = |r: &usize| values[*r].unwrap_or(0.0);
        match factor.normalisation {
            Normalisation::MinMax => {
                let lo = rows.iter().map(x).fold(f64::INFINITY, f64::min);
                let hi = rows.iter().map(x).fold(f64::NEG_INFINITY, f64::max);
                for r in rows {
                    out[*r] = Some(if hi > lo {
                        (x(r) - lo) / (hi - lo)
                    } else {
                        0.5
                    });
                }
            }
            Normalisation::Percentile => {
                let mut sorted: Vec<f64> = rows.iter().map(x).collect();
                sorted.sort_by(|a, b| a.total_cmp(b));
                let n = sorted.len();
                for r in rows {
                    let v = x(r);
                    let below = sorted.partition_point(|s| *s < v);
                    let ties = sorted.partition_point(|s| *s <= v) - below;
                    out[*r] = Some(if n > 1 {
                        (below as f64 + (ties as f64 - 1.0) / 2.0) / (n as f64 - 1.0)
                    } else {
                        0.5
                    });
                }
            }
            Normalisation::Thresholds(lo, hi) => {
                for r in rows {
                    out[*r] = Some(((x(r) - lo) / (hi - lo)).clamp(0.0, 1.0));
                }
            }
        }
    }
    if factor.direction == Direction::LowerIsBetter {
        for v in out.iter_mut().flatten() {
            *v = 1.0 - *v;
        }
    }
    out
}

/// The band of a score.
pub fn band(score: f64, bands: (f64, f64)) -> &'static str {
    if score < bands.0 {
        "red"
    } else if score < bands.1 {
        "yellow"
    } else {
        "green"
    }
}

/// Health score of every row (one customer, or one customer and period) of `frame`.
///
/// Returns the input's columns other than the factors (ids, period), then `<factor>_normalised`
/// for each factor (in [0, 1], 1 = healthy; null when missing under `reweight`), `factors_used`,
/// `score` (0-100: 100 times the weighted mean of the normalised factors) and `band`
/// (`red` / `yellow` / `green`). Factor columns must be numeric with finite values.
pub fn health_score(frame: &DataFrame, options: &HealthOptions) -> Result<DataFrame> {
    check_options(options)?;
    let rows = frame.height();
    let (scope, scopes) = match &options.by_period {
        Some(name) => {
            let key = encode_column(column(frame, name, "the period each score belongs to")?)?;
            let groups = group_rows(&[key], rows);
            let count = groups.count();
            (groups.ids, count)
        }
        None => (vec![0u32; rows], 1),
    };
    let mut normalised: Vec<Vec<Option<f64>>> = Vec::with_capacity(options.factors.len());
    for factor in &options.factors {
        let values = crate::input::optional_numbers(
            frame,
            &factor.column,
            Role::NumberOrFlag,
            "a health factor",
        )?;
        for (row, v) in values.iter().enumerate() {
            match v {
                Some(x) if !x.is_finite() => {
                    return Err(CsError::InvalidValue {
                        column: factor.column.clone(),
                        row,
                        value: format_number(*x),
                        rule: "health factors must be finite numbers (null for missing)".into(),
                    })
                }
                None if options.missing == MissingPolicy::Raise => {
                    return Err(CsError::InvalidValue {
                        column: factor.column.clone(),
                        row,
                        value: "null".into(),
                        rule: "a factor is missing and missing='raise'".into(),
                    })
                }
                _ => {}
            }
        }
        let mut norm = normalise(&values, &scope, scopes, factor);
        if options.missing == MissingPolicy::Worst {
            for v in norm.iter_mut() {
                v.get_or_insert(0.0);
            }
        }
        normalised.push(norm);
    }
    let mut scores: Vec<Option<f64>> = Vec::with_capacity(rows);
    let mut used: Vec<u32> = Vec::with_capacity(rows);
    for row in 0..rows {
        let (mut total, mut weights, mut n) = (0.0, 0.0, 0u32);
        for (factor, norm) in options.factors.iter().zip(&normalised) {
            if let Some(v) = norm[row] {
                total += factor.weight * v;
                weights += factor.weight;
                n += 1;
            }
        }
        used.push(n);
        scores.push((weights > 0.0).then(|| 100.0 * total / weights));
    }
    let factor_names: Vec<&str> = options.factors.iter().map(|f| f.column.as_str()).collect();
    let mut columns: Vec<Column> = Vec::new();
    for c in frame.columns() {
        if factor_names.contains(&c.name().as_str()) {
            continue;
        }
        // What is carried through identifies the rows (the customer, the period): a key.
        crate::input::check(
            c.as_materialized_series(),
            c.name(),
            crate::input::Role::Key,
            "a customer id or period column",
        )?;
        columns.push(c.clone());
    }
    for (factor, norm) in options.factors.iter().zip(normalised) {
        columns.push(Column::new(
            format!("{}_normalised", factor.column).into(),
            norm,
        ));
    }
    columns.push(Column::new("factors_used".into(), used));
    columns.push(Column::new(
        "band".into(),
        scores
            .iter()
            .map(|s| s.map(|s| band(s, options.bands)))
            .collect::<Vec<_>>(),
    ));
    columns.insert(columns.len() - 1, Column::new("score".into(), scores));
    Ok(DataFrame::new(rows, columns)?)
}

/// The result of [`auc`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backtest {
    /// Area under the ROC curve of "low score predicts churn": the probability that a churned
    /// customer scores below a retained one, ties counting half. None without both classes.
    pub auc: Option<f64>,
    /// Churned customers (positives).
    pub positives: usize,
    /// Retained customers (negatives).
    pub negatives: usize,
}

/// AUC of health scores against churn labels (Mann-Whitney U with mid-ranks, ties count half).
///
/// A healthy score should be high for customers who stay, so the AUC is that of `-score` as a
/// predictor of `churned`: 1 when every churned customer scores below every retained one.
/// Pairs with a null score or label are left out (their count is `len - positives - negatives`).
pub fn auc(scores: &[Option<f64>], churned: &[Option<bool>]) -> Result<Backtest> {
    let mut pairs: Vec<(f64, bool)> = Vec::with_capacity(scores.len());
    for (row, (s, c)) in scores.iter().zip(churned).enumerate() {
        if let (Some(s), Some(c)) = (s, c) {
            if !s.is_finite() {
                return Err(CsError::InvalidValue {
                    column: "score".into(),
                    row,
                    value: format_number(*s),
                    rule: "scores must be finite".into(),
                });
            }
            pairs.push((*s, *c));
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = pairs.iter().filter(|p| p.1).count();
    let negatives = pairs.len() - positives;
    // Sum over churned customers of (retained scoring higher + half the retained tied).
    let mut favourable = 0.0;
    let mut i = 0;
    let mut negatives_seen = 0usize;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        let tied_pos = pairs[i..j].iter().filter(|p| p.1).count();
        let tied_neg = (j - i) - tied_pos;
        let above = negatives - negatives_seen - tied_neg;
        favourable += tied_pos as f64 * (above as f64 + tied_neg as f64 / 2.0);
        negatives_seen += tied_neg;
        i = j;
    }
    let auc = (positives > 0 && negatives > 0)
        .then(|| favourable / (positives as f64 * negatives as f64));
    Ok(Backtest {
        auc,
        positives,
        negatives,
    })
}

/// [`auc`] on two columns of a frame: `score` (numeric) and `churned` (Boolean or 0/1).
///
/// Returns one row: `auc`, `positives`, `negatives`, `excluded` (rows with a null score or
/// label).
pub fn health_backtest(frame: &DataFrame, score: &str, churned: &str) -> Result<DataFrame> {
    let scores = crate::input::optional_numbers(frame, score, Role::Number, "the health score")?;
    let labels = crate::input::flags(
        frame,
        churned,
        "whether each customer churned",
        "churn labels must be true/false or 1/0",
    )?;
    let result = auc(&scores, &labels)?;
    let excluded = frame.height() - result.positives - result.negatives;
    Ok(DataFrame::new(
        1,
        vec![
            Column::new("auc".into(), [result.auc]),
            Column::new("positives".into(), [result.positives as i64]),
            Column::new("negatives".into(), [result.negatives as i64]),
            Column::new("excluded".into(), [excluded as i64]),
        ],
    )?)
}

/// The health family in one import (`use csmetrics::health::prelude::*;`): its functions,
/// options and option enums, with the error type and `Period`.
/// [`crate::prelude`] holds every family's.
pub mod prelude {
    pub use super::{
        auc, band, churn_labels, customer_signal, health_backtest, health_score, Backtest,
        ChurnLabelOptions, Direction, Factor, HealthOptions, MissingPolicy, Normalisation,
        SignalKind, SignalOptions,
    };
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
