//! Customer lives for survival analysis (METRICS.md section 3): a life runs from a customer's
//! first start to the first instant it has no active subscription, with gaps shorter than a
//! tolerance bridged; durations are censored at `as_of`, and nothing after `as_of` is read.

use std::str::FromStr;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::groups::{parallel, work_ranges};
use crate::revenue::input::lives_input;
use crate::revenue::{build_grid, check_options, rows_by_customer, RevenueOptions, DAY};

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

struct Life {
    customer: u32,
    index: u32,
    start: i64,
    end: i64,
    ended: bool,
}

/// One row per customer life: the customer id, the `by` keys, `life` (0 for the first),
/// `start` (Datetime, UTC), `duration` (in `unit`, from the life's start to its end or `as_of`),
/// `event` (true when the life ended by `as_of`, false when censored) and `entry` (0, or the
/// time from the life's start to the start of observation when `first_period` is later).
/// A subscription counts while its amount is positive (or always, with `free_is_active`).
pub fn survival_table(frame: &DataFrame, options: &SurvivalTableOptions) -> Result<DataFrame> {
    if !(options.gap_tolerance_days >= 0.0 && options.gap_tolerance_days.is_finite()) {
        return Err(CsError::option(
            "gap_tolerance",
            options.gap_tolerance_days,
            "a gap tolerance must be >= 0 days",
        ));
    }
    check_options(&options.panel)?;
    let data = lives_input(frame, &options.panel)?;
    let grid = build_grid(&data, &options.panel)?;
    let as_of = grid.as_of;
    let observed_from = options.panel.first_period;
    let tolerance = (options.gap_tolerance_days * DAY as f64).round() as i64;
    let free = options.panel.free_is_active;
    let (offsets, order) = rows_by_customer(&data);
    let parts = parallel(work_ranges(data.customer_labels.len()), |range| {
        let mut lives: Vec<Life> = Vec::new();
        let mut spans: Vec<(i64, i64)> = Vec::new();
        for customer in range {
            spans.clear();
            for &r in &order[offsets[customer]..offsets[customer + 1]] {
                let r = r as usize;
                if data.start[r] <= as_of
                    && (free || data.units[r] > 0)
                    && data.end[r] > data.start[r]
                {
                    spans.push((data.start[r], data.end[r]));
                }
            }
            spans.sort_unstable();
            let mut index = 0u32;
            let mut current: Option<(i64, i64)> = None;
            let close = |life: (i64, i64), index: &mut u32, lives: &mut Vec<Life>| {
                lives.push(Life {
                    customer: customer as u32,
                    index: *index,
                    start: life.0,
                    end: life.1.min(as_of),
                    ended: life.1 <= as_of,
                });
                *index += 1;
            };
            for &(s, e) in spans.iter() {
                match current {
                    // Overlapping, touching, or a gap shorter than the tolerance: the life goes on.
                    Some((cs, ce)) if s <= ce || s - ce < tolerance => {
                        current = Some((cs, ce.max(e)))
                    }
                    Some(life) => {
                        close(life, &mut index, &mut lives);
                        current = None;
                        if options.lives == Lives::First {
                            break;
                        }
                        current = Some((s, e));
                    }
                    None => current = Some((s, e)),
                }
            }
            if let Some(life) = current {
                close(life, &mut index, &mut lives);
            }
        }
        lives
    });
    let mut lives: Vec<Life> = parts.into_iter().flatten().collect();
    if let Some(from) = observed_from {
        lives.retain(|l| !(l.ended && l.end <= from));
    }
    let unit = options.unit.micros();
    let codes = IdxCa::from_vec(
        "".into(),
        lives.iter().map(|l| l.customer as IdxSize).collect(),
    );
    let mut columns = vec![data
        .customer_labels
        .as_materialized_series()
        .take(&codes)?
        .into_column()];
    if data.group_keys.width() > 0 {
        let ranks: Vec<IdxSize> = lives
            .iter()
            .map(|l| data.group_rank[data.customer_group[l.customer as usize] as usize] as IdxSize)
            .collect();
        columns.extend(
            data.group_keys
                .take(&IdxCa::from_vec("".into(), ranks))?
                .into_columns(),
        );
    }
    columns.push(Column::new(
        "life".into(),
        lives.iter().map(|l| l.index).collect::<Vec<u32>>(),
    ));
    columns.push(
        Column::new(
            "start".into(),
            lives.iter().map(|l| l.start).collect::<Vec<i64>>(),
        )
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?,
    );
    columns.push(Column::new(
        "duration".into(),
        lives
            .iter()
            .map(|l| (l.end - l.start) as f64 / unit)
            .collect::<Vec<f64>>(),
    ));
    columns.push(Column::new(
        "event".into(),
        lives.iter().map(|l| l.ended).collect::<Vec<bool>>(),
    ));
    columns.push(Column::new(
        "entry".into(),
        lives
            .iter()
            .map(|l| observed_from.map_or(0.0, |from| ((from - l.start).max(0)) as f64 / unit))
            .collect::<Vec<f64>>(),
    ));
    // A customer's lives are contiguous and in order: a stable sort on the id alone suffices.
    let customer = columns[0].name().clone();
    Ok(DataFrame::new(lives.len(), columns)?
        .lazy()
        .sort(
            [customer.as_str()],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?)
}
