//! Customer lives for survival analysis (docs/metrics/survival.md#lives): a life runs from a
//! customer's first start to the first instant it has no active subscription, with gaps shorter
//! than a tolerance bridged; durations are censored at `as_of`, and nothing after `as_of` is read.

mod sorted;
mod walk;

use std::str::FromStr;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::revenue::input::lives_input;
use crate::revenue::{build_grid, check_options, RevenueOptions, DAY};

use sorted::first_lives_of_sorted_table;
use walk::{all_lives, customer_rows, first_lives, LifeRules};

/// Which lives of a customer to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lives {
    /// Only the first life (default).
    #[default]
    First,
    /// Every life: each reactivation after a gap starts a new one.
    All,
}

impl FromStr for Lives {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "first" => Ok(Self::First),
            "all" => Ok(Self::All),
            other => Err(CsError::option(
                "lives",
                format!("'{other}'"),
                "expected 'first' or 'all'",
            )),
        }
    }
}

/// The unit of durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DurationUnit {
    /// Days (default).
    #[default]
    Day,
    /// Weeks of 7 days.
    Week,
    /// Months of 365/12 days.
    Month,
    /// Years of 365 days.
    Year,
}

impl DurationUnit {
    fn micros(self) -> f64 {
        let day = DAY as f64;
        match self {
            DurationUnit::Day => day,
            DurationUnit::Week => 7.0 * day,
            DurationUnit::Month => 365.0 / 12.0 * day,
            DurationUnit::Year => 365.0 * day,
        }
    }
}

impl FromStr for DurationUnit {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            "year" => Ok(Self::Year),
            other => Err(CsError::option(
                "unit",
                format!("'{other}'"),
                "expected 'day', 'week', 'month' or 'year'",
            )),
        }
    }
}

/// Options of [`survival_table`].
#[derive(Debug, Clone)]
pub struct SurvivalTableOptions {
    /// Input table, as_of, free_is_active, by, and `first_period` as the start of observation
    /// (lives already running then enter late: left truncation).
    pub panel: RevenueOptions,
    /// Gaps shorter than this many days are bridged. Default 0 (only touching or overlapping
    /// subscriptions continue a life).
    pub gap_tolerance_days: f64,
    /// First life only, or all.
    pub lives: Lives,
    /// Unit of `duration` and `entry`.
    pub unit: DurationUnit,
}

impl Default for SurvivalTableOptions {
    fn default() -> Self {
        SurvivalTableOptions {
            panel: RevenueOptions::default(),
            gap_tolerance_days: 0.0,
            lives: Lives::First,
            unit: DurationUnit::Day,
        }
    }
}

/// One row per customer life: the customer id, the `by` keys, `life` (0 for the first),
/// `start` (Datetime, UTC), `duration` (in `unit`, from the life's start to its end or `as_of`),
/// `event` (true when the life ended by `as_of`, false when censored) and `entry` (0, or the
/// time from the life's start to the start of observation when `first_period` is later).
/// A subscription counts while its amount is positive (or always, with `free_is_active`).
/// Rows are sorted by customer id, then life.
pub fn survival_table(frame: &DataFrame, options: &SurvivalTableOptions) -> Result<DataFrame> {
    if !(options.gap_tolerance_days >= 0.0 && options.gap_tolerance_days.is_finite()) {
        return Err(CsError::option(
            "gap_tolerance",
            options.gap_tolerance_days,
            "a gap tolerance must be >= 0 days",
        ));
    }
    check_options(&options.panel)?;
    crate::revenue::input::check_billing_columns(frame, &options.panel)?;
    if let Some(table) = first_lives_of_sorted_table(frame, options)? {
        return Ok(table);
    }
    let data = lives_input(frame, &options.panel)?;
    let grid = build_grid(&data, &options.panel)?;
    let customers = data.customer_labels.len();
    let rows = customer_rows(&data);
    // Customers are visited in the order of their ids, so the lives come out sorted by customer
    // (and by life within a customer) without a sort of the output.
    let rules = LifeRules {
        data: &data,
        rows: &rows,
        as_of: grid.as_of,
        tolerance: (options.gap_tolerance_days * DAY as f64).round() as i64,
        all: options.lives == Lives::All,
        observed_from: options.panel.first_period,
        unit: options.unit.micros(),
    };
    let lives = match options.lives {
        Lives::First => first_lives(&rules, customers),
        Lives::All => all_lives(&rules, customers),
    };
    let total = lives.start.len();
    let codes = lives.codes.map(|codes| IdxCa::from_vec("".into(), codes));
    // Without codes, the lives are exactly the customers in code order: the ids are the labels.
    let mut columns = vec![match &codes {
        None => data.customer_labels.clone(),
        Some(codes) => data
            .customer_labels
            .as_materialized_series()
            .take(codes)?
            .into_column(),
    }];
    if data.group_keys.width() > 0 {
        let rank = |c: usize| data.group_rank[data.customer_group[c] as usize] as IdxSize;
        let ranks: Vec<IdxSize> = match &codes {
            None => (0..customers).map(rank).collect(),
            Some(codes) => codes
                .into_no_null_iter()
                .map(|c| rank(c as usize))
                .collect(),
        };
        columns.extend(
            data.group_keys
                .take(&IdxCa::from_vec("".into(), ranks))?
                .into_columns(),
        );
    }
    // Zero-filled columns are allocated zeroed and never written (their pages stay untouched).
    // `from_vec` takes the buffers over (`Column::new` would copy them).
    columns.push(
        UInt32Chunked::from_vec(
            "life".into(),
            lives.index.unwrap_or_else(|| vec![0u32; total]),
        )
        .into_column(),
    );
    columns.push(
        Int64Chunked::from_vec("start".into(), lives.start)
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column(),
    );
    columns.push(Float64Chunked::from_vec("duration".into(), lives.duration).into_column());
    columns.push(Column::new("event".into(), lives.event));
    columns.push(
        Float64Chunked::from_vec(
            "entry".into(),
            lives.entry.unwrap_or_else(|| vec![0f64; total]),
        )
        .into_column(),
    );
    Ok(DataFrame::new(total, columns)?)
}
