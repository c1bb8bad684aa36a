//! Logo churn and customer retention (docs/metrics/churn-and-retention.md#logo-churn) on the
//! customer-state panel of the revenue engine: S = customers active at the end of the previous
//! period, E = active at the end of the period. Active means paying (MRR > 0), or with any
//! subscription when `free_is_active`; with `table="activity"` input, having an event in the
//! period.

use std::str::FromStr;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::revenue::{compute, field, group_period_columns, totals, Mode, RevenueOptions, Wanted};
use crate::stats::z_for_confidence;

/// The denominator of the logo churn rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChurnDenominator {
    /// |S \ E| / |S| (ChartMogul) (default); bounded in [0, 1].
    #[default]
    Start,
    /// Customers lost in the period, including those who joined and left within it, over |S|
    /// plus every customer who joined during it (Stripe). Joining and leaving inside one period
    /// is visible only with `mode = events`.
    StartPlusNew,
    /// |S \ E| / ((|S| + |E|) / 2); unbounded, no interval.
    Average,
}

impl FromStr for ChurnDenominator {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "start" => Ok(Self::Start),
            "start_plus_new" => Ok(Self::StartPlusNew),
            "average" => Ok(Self::Average),
            other => Err(CsError::option(
                "denominator",
                format!("'{other}'"),
                "expected 'start', 'start_plus_new' or 'average'",
            )),
        }
    }
}

/// Options of [`churn_rates`].
#[derive(Debug, Clone)]
pub struct ChurnOptions {
    /// The panel: input table, period, as_of, free_is_active, mode, by, ...
    pub panel: RevenueOptions,
    /// The churn rate's denominator.
    pub denominator: ChurnDenominator,
    /// Confidence level of Wilson intervals, or None for no interval columns.
    pub confidence: Option<f64>,
}

impl Default for ChurnOptions {
    fn default() -> Self {
        ChurnOptions {
            panel: RevenueOptions::default(),
            denominator: ChurnDenominator::Start,
            confidence: None,
        }
    }
}

/// The Wilson score interval of k successes in n trials; None for n = 0.
pub fn wilson_interval(successes: f64, trials: f64, z: f64) -> Option<(f64, f64)> {
    if trials <= 0.0 {
        return None;
    }
    let p = successes / trials;
    let z2 = z * z;
    let denominator = 1.0 + z2 / trials;
    let centre = (p + z2 / (2.0 * trials)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)).sqrt();
    // At k = 0 (k = n) the lower (upper) bound is exactly 0 (1); rounding would leave ~1e-17.
    let lower = if successes <= 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let upper = if successes >= trials {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((lower, upper))
}

/// Logo churn, customer retention and customer growth per group and period.
///
/// Columns: keys, `period`, `complete`, `customers_start` (|S|), `customers_end` (|E|),
/// `churned` (|S \ E|), `new` and `reactivated` (E \ S, first time or not), `joined_and_left`
/// (events mode only: active within the period but at neither end), `churn_denominator`,
/// `churn_rate`, `churn_lower` and `churn_upper` (Wilson, when a confidence is given and the
/// denominator is a count), `retention_rate` ((|E| - |E \ S|) / |S| = 1 - churn rate on the start
/// denominator) and `growth_rate` ((|E| - |S|) / |S|). Rates are null when |S| = 0.
pub fn churn_rates(frame: &DataFrame, options: &ChurnOptions) -> Result<DataFrame> {
    let z = options.confidence.map(z_for_confidence).transpose()?;
    let c = compute(
        frame,
        &options.panel,
        Wanted {
            movements: false,
            panel: false,
            totals: true,
        },
    )?;
    let (mut columns, rows) = group_period_columns(&c)?;
    let t = |r: usize, f: usize| totals(&c, r, f) as i64;
    let start: Vec<i64> = (0..rows).map(|r| t(r, field::LOGO_START)).collect();
    let end: Vec<i64> = (0..rows).map(|r| t(r, field::ACTIVE_CUSTOMERS)).collect();
    let lost: Vec<i64> = (0..rows).map(|r| t(r, field::LOGO_LOST)).collect();
    let new: Vec<i64> = (0..rows).map(|r| t(r, field::LOGO_NEW)).collect();
    let reactivated: Vec<i64> = (0..rows).map(|r| t(r, field::LOGO_REACTIVATED)).collect();
    let within: Vec<i64> = (0..rows)
        .map(|r| {
            if options.panel.mode == Mode::Events {
                t(r, field::LOGO_WITHIN)
            } else {
                0
            }
        })
        .collect();
    let (numerator, denominator): (Vec<f64>, Vec<f64>) = (0..rows)
        .map(|r| match options.denominator {
            ChurnDenominator::Start => (lost[r] as f64, start[r] as f64),
            ChurnDenominator::StartPlusNew => (
                (lost[r] + within[r]) as f64,
                (start[r] + new[r] + reactivated[r] + within[r]) as f64,
            ),
            ChurnDenominator::Average => (lost[r] as f64, (start[r] + end[r]) as f64 / 2.0),
        })
        .unzip();
    let rate: Vec<Option<f64>> = numerator
        .iter()
        .zip(&denominator)
        .map(|(n, d)| (*d > 0.0).then(|| n / d))
        .collect();
    let int = |name: &str, v: &[i64]| Column::new(name.into(), v.to_vec());
    columns.push(int("customers_start", &start));
    columns.push(int("customers_end", &end));
    columns.push(int("churned", &lost));
    columns.push(int("new", &new));
    columns.push(int("reactivated", &reactivated));
    columns.push(int("joined_and_left", &within));
    columns.push(Column::new("churn_denominator".into(), denominator.clone()));
    columns.push(Column::new("churn_rate".into(), rate));
    if let Some(z) = z {
        let bounds: Vec<Option<(f64, f64)>> = numerator
            .iter()
            .zip(&denominator)
            .map(|(n, d)| match options.denominator {
                ChurnDenominator::Average => None,
                _ => wilson_interval(*n, *d, z),
            })
            .collect();
        columns.push(Column::new(
            "churn_lower".into(),
            bounds.iter().map(|b| b.map(|b| b.0)).collect::<Vec<_>>(),
        ));
        columns.push(Column::new(
            "churn_upper".into(),
            bounds.iter().map(|b| b.map(|b| b.1)).collect::<Vec<_>>(),
        ));
    }
    let per_start = |values: Vec<i64>| -> Vec<Option<f64>> {
        values
            .iter()
            .zip(&start)
            .map(|(v, s)| (*s > 0).then(|| *v as f64 / *s as f64))
            .collect()
    };
    let retained: Vec<i64> = (0..rows)
        .map(|r| end[r] - new[r] - reactivated[r])
        .collect();
    columns.push(Column::new("retention_rate".into(), per_start(retained)));
    let growth: Vec<i64> = (0..rows).map(|r| end[r] - start[r]).collect();
    columns.push(Column::new("growth_rate".into(), per_start(growth)));
    if let Some(b) = &c.data.billing {
        if b.has_reasons {
            for kind in crate::revenue::ChurnKind::ALL {
                columns.push(Column::new(
                    format!("churned_{}", kind.name()).into(),
                    (0..rows)
                        .map(|r| t(r, field::LOGO_LOST_REASON + kind as usize))
                        .collect::<Vec<i64>>(),
                ));
            }
        }
        if b.has_status {
            columns.push(Column::new(
                "paused_customers".into(),
                (0..rows)
                    .map(|r| t(r, field::PAUSED_CUSTOMERS))
                    .collect::<Vec<i64>>(),
            ));
        }
        if b.has_cancel {
            columns.push(Column::new(
                "cancellations".into(),
                (0..rows)
                    .map(|r| t(r, field::CANCELLATIONS))
                    .collect::<Vec<i64>>(),
            ));
        }
    }
    Ok(DataFrame::new(rows, columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_by_hand() {
        // 15 of 650, z = 1.96: centre (p + z^2/2n) / (1 + z^2/n), half-width as in Wilson (1927).
        let z = 1.959_963_984_540_054;
        let (lo, hi) = wilson_interval(15.0, 650.0, z).unwrap();
        let (n, p) = (650.0f64, 15.0 / 650.0);
        let d = 1.0 + z * z / n;
        let centre = (p + z * z / (2.0 * n)) / d;
        let half = z / d * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
        assert!((lo - (centre - half)).abs() < 1e-15 && (hi - (centre + half)).abs() < 1e-15);
        assert!(lo < p && p < hi);
        assert_eq!(wilson_interval(0.0, 0.0, z), None);
        let (lo, hi) = wilson_interval(0.0, 10.0, z).unwrap();
        assert!(lo == 0.0 && hi > 0.0);
    }
}

/// The churn family in one import (`use csmetrics::churn::prelude::*;`): its functions,
/// options and option enums, with the error type and `Period`.
/// [`crate::prelude`] holds every family's.
pub mod prelude {
    pub use super::{churn_rates, wilson_interval, ChurnDenominator, ChurnOptions};
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
