//! Churn labels for backtesting a health score (docs/metrics/health.md): whether each scored
//! customer stopped paying within the periods after its score.

use std::collections::HashSet;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::column;
use crate::input::{days_of, invalid, numbers, Role};
use crate::revenue::{customer_column_name, mrr, RevenueOptions};

/// Options of [`churn_labels`].
#[derive(Debug, Clone)]
pub struct ChurnLabelOptions {
    /// The revenue panel of the subscriptions (period, cut-off, mode, ...): a customer pays at
    /// the end of a period when its [`mrr`] there is above 0; a paused customer (`paused="zero"`)
    /// is neither at risk nor lost while paused.
    pub panel: RevenueOptions,
    /// N, the horizon in periods (>= 1). Default 1.
    pub periods: u32,
    /// Customer column of the scores; same type as the subscriptions' customer column (String,
    /// Categorical and Enum match by their text). Default `customer_id`.
    pub customer_id: String,
    /// Period of each score: Date or Datetime on the first day of a period of `panel.period`.
    /// Default `period`.
    pub period: String,
    /// Name of the added Boolean column. Default `churned`.
    pub churned: String,
}

impl Default for ChurnLabelOptions {
    fn default() -> Self {
        ChurnLabelOptions {
            panel: RevenueOptions::default(),
            periods: 1,
            customer_id: "customer_id".into(),
            period: "period".into(),
            churned: "churned".into(),
        }
    }
}

/// The scores with a Boolean column saying whether each scored customer churned in the
/// `periods` periods after its score.
///
/// A score labelled with period P is taken at the end of P. The customer is at risk when it pays
/// at the end of P; it churned when it does not pay at the end of at least one of P+1, ..., P+N.
/// The label is null when the customer does not pay at the end of P, when P is null, or when
/// P+N is after the last period of the panel (the outcome is not known yet).
pub fn churn_labels(
    scores: &DataFrame,
    subscriptions: &DataFrame,
    options: &ChurnLabelOptions,
) -> Result<DataFrame> {
    if options.periods == 0 {
        return Err(CsError::option(
            "periods",
            0,
            "the horizon is a whole number of periods >= 1",
        ));
    }
    let period = options.panel.period;
    let what = "the period of each score";
    let stamps = column(scores, &options.period, what)?.as_materialized_series();
    let days: Vec<Option<i64>> = match days_of(stamps, &options.period, what)? {
        Ok(days) => days.into_iter().map(|d| Some(i64::from(d))).collect(),
        // Nulls: read the rest through a copy whose nulls are the epoch, then put them back.
        Err(_) => {
            let filled = stamps.fill_null(FillNullStrategy::Zero)?;
            let read = days_of(&filled, &options.period, what)?.unwrap_or_default();
            stamps
                .is_null()
                .iter()
                .zip(read)
                .map(|(null, d)| (null != Some(true)).then_some(i64::from(d)))
                .collect()
        }
    };
    if let Some(row) = days
        .iter()
        .position(|d| d.is_some_and(|d| period.start_of(d) != d))
    {
        let shown = crate::revenue::input::format_instant(
            days[row].unwrap_or_default() * crate::period::MICROS_PER_DAY,
        );
        return Err(invalid(
            &options.period,
            row,
            shown,
            &format!("a score's period must be the first day of a {period}"),
        ));
    }
    // The panel first: its checks of the subscriptions hold even when there is nothing to label.
    let panel = mrr(subscriptions, &options.panel)?;
    let panel_customers = column(&panel, customer_column_name(&options.panel), "")?;
    let scored = column(scores, &options.customer_id, "the customer of each score")?;
    let customers = joint_codes(scored, panel_customers, &options.customer_id)?;
    let (score_codes, panel_codes) = customers.split_at(scores.height());

    let panel_days = days_of(
        column(&panel, "period", "")?.as_materialized_series(),
        "period",
        "",
    )?
    .unwrap_or_default();
    let amounts = numbers(&panel, "mrr", Role::Number, "")?;
    // A paused customer (held at $0 under paused="zero": the panel's `paused` column) is still a
    // customer: not at risk while paused, and not lost when it pauses.
    let paused: Option<BooleanChunked> = match panel.column("paused") {
        Ok(c) => Some(c.bool()?.clone()),
        Err(_) => None,
    };
    let mut paying: HashSet<(u32, i64)> = HashSet::new();
    let mut kept: HashSet<(u32, i64)> = HashSet::new();
    for (row, ((&c, &day), amount)) in panel_codes
        .iter()
        .zip(&panel_days)
        .zip(amounts.f64()?.iter())
        .enumerate()
    {
        let key = (c, i64::from(day));
        if amount.is_some_and(|a| a > 0.0) {
            paying.insert(key);
        } else if paused.as_ref().and_then(|p| p.get(row)) == Some(true) {
            kept.insert(key);
        }
    }
    let last = panel_days.iter().max().map(|&d| i64::from(d));

    let labels: BooleanChunked = days
        .iter()
        .zip(score_codes)
        .map(|(day, &c)| {
            let (day, last) = ((*day)?, last?);
            if !paying.contains(&(c, day)) {
                return None;
            }
            let mut at = day;
            let mut lost = false;
            for _ in 0..options.periods {
                at = period.next_start(at);
                lost |= !paying.contains(&(c, at)) && !kept.contains(&(c, at));
            }
            (at <= last).then_some(lost)
        })
        .collect();
    let mut out = scores.clone();
    out.with_column(
        labels
            .with_name(options.churned.as_str().into())
            .into_series()
            .into_column(),
    )?;
    Ok(out)
}

/// One code per row of `scored` then of `panel`, equal where the customer ids are equal.
pub(super) fn joint_codes(scored: &Column, panel: &Column, name: &str) -> Result<Vec<u32>> {
    crate::groups::joint_codes(
        scored,
        panel,
        name,
        "the scores' customer ids must have the type of the subscriptions'",
    )
}
