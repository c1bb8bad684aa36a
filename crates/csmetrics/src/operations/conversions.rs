//! Upsell and cross-sell rates: conversions over the customers who could convert.

use polars::prelude::*;

use crate::error::Result;
use crate::period::Period;

use super::grouped;

/// Options of [`conversion_rates`].
#[derive(Debug, Clone)]
pub struct ConversionOptions {
    /// Timestamp column. Default `timestamp`.
    pub timestamp: String,
    /// Kind column: one of `new`, `upsell`, `cross_sell`. Default `kind`.
    pub kind: String,
    /// Grouping columns.
    pub by: Vec<String>,
    /// Reporting period. Default month.
    pub period: Period,
}

impl Default for ConversionOptions {
    fn default() -> Self {
        ConversionOptions {
            timestamp: "timestamp".into(),
            kind: "kind".into(),
            by: Vec::new(),
            period: Period::Month,
        }
    }
}

/// Upsell and cross-sell rates per group and period.
///
/// Columns: keys, `period`, `conversions` (all kinds), `new`, `upsells`, `cross_sells`,
/// `upsell_rate` = upsells / conversions, `cross_sell_rate` = cross-sells / conversions.
pub fn conversion_rates(frame: &DataFrame, options: &ConversionOptions) -> Result<DataFrame> {
    let codes = crate::input::labels(
        frame,
        &options.kind,
        "the kind of each conversion ('new', 'upsell' or 'cross_sell')",
        &["new", "upsell", "cross_sell"],
        "a conversion kind must be 'new', 'upsell' or 'cross_sell'",
    )?;
    let g = grouped(frame, &options.by, &options.timestamp, options.period)?;
    let mut counts = vec![vec![0i64; g.count]; 3];
    for (row, k) in codes.iter().enumerate() {
        counts[*k as usize][g.ids[row] as usize] += 1;
    }
    let total: Vec<i64> = (0..g.count)
        .map(|i| counts[0][i] + counts[1][i] + counts[2][i])
        .collect();
    let columns = vec![
        g.counts("conversions", &total),
        g.counts("new", &counts[0]),
        g.counts("upsells", &counts[1]),
        g.counts("cross_sells", &counts[2]),
        g.rates("upsell_rate", &counts[1], &total),
        g.rates("cross_sell_rate", &counts[2], &total),
    ];
    g.finish(columns)
}
