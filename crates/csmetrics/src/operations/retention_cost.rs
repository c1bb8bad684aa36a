//! Customer retention cost: the retention programme's cost per retained (or active) customer.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use polars::prelude::*;

use crate::churn::{churn_rates, ChurnOptions};
use crate::error::{CsError, Result};
use crate::frame::format_number;
use crate::input::invalid;
use crate::revenue::RevenueOptions;

use super::{instants, numbers, rate, MICROS_PER_DAY};

/// Which customer count divides the retention programme cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CostCustomers {
    /// Customers active at any time in the period (default): |S| + new + reactivated (+ joined
    /// and left within the period in events mode).
    #[default]
    Any,
    /// Customers active at the start of the period, |S|.
    Start,
    /// (|S| + |E|) / 2.
    Average,
}

impl FromStr for CostCustomers {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "any" => Ok(Self::Any),
            "start" => Ok(Self::Start),
            "average" => Ok(Self::Average),
            other => Err(CsError::option(
                "customers",
                format!("'{other}'"),
                "expected 'any', 'start' or 'average'",
            )),
        }
    }
}

/// Options of [`retention_cost`].
#[derive(Debug, Clone)]
pub struct RetentionCostOptions {
    /// The customer panel of the subscriptions (period, as_of, mode, ...). `by` must be empty:
    /// costs are per period only.
    pub panel: RevenueOptions,
    /// Period column of the costs table (Date or Datetime; any instant in the period). Default
    /// `period`.
    pub cost_period: String,
    /// Amount column of the costs table. Default `amount`.
    pub cost_amount: String,
    /// The customer count in the denominator.
    pub customers: CostCustomers,
}

impl Default for RetentionCostOptions {
    fn default() -> Self {
        RetentionCostOptions {
            panel: RevenueOptions::default(),
            cost_period: "period".into(),
            cost_amount: "amount".into(),
            customers: CostCustomers::Any,
        }
    }
}

/// Customer retention cost per period: programme cost in the period / customers.
///
/// Columns: `period`, `cost` (sum of the cost rows in the period; 0 when none),
/// `customers` (the chosen count, Float64 because `"average"` may be fractional),
/// `crc` (null when there are no customers). Periods are those of the customer panel; cost rows
/// in periods outside it are reported with `customers` 0 and a null `crc`, never dropped.
pub fn retention_cost(
    subscriptions: &DataFrame,
    costs: &DataFrame,
    options: &RetentionCostOptions,
) -> Result<DataFrame> {
    if !options.panel.by.is_empty() {
        return Err(CsError::option(
            "by",
            options.panel.by.join(", "),
            "retention cost is per period only: the costs table has no customer attributes",
        ));
    }
    let period = options.panel.period;
    let when = instants(costs, &options.cost_period, "the period of each cost")?;
    let amounts = numbers(costs, &options.cost_amount, "the amount of each cost")?;
    let mut cost_by_period: HashMap<i64, f64> = HashMap::new();
    for (row, (w, a)) in when.iter().zip(&amounts).enumerate() {
        let w = w.ok_or_else(|| {
            invalid(
                &options.cost_period,
                row,
                "null",
                "every cost needs a period",
            )
        })?;
        let a = match a {
            Some(a) if a.is_finite() && *a >= 0.0 => *a,
            other => {
                return Err(invalid(
                    &options.cost_amount,
                    row,
                    other.map_or("null".into(), format_number),
                    "costs must be non-negative numbers",
                ))
            }
        };
        *cost_by_period
            .entry(period.start_of(w.div_euclid(MICROS_PER_DAY)))
            .or_default() += a;
    }
    let churn = churn_rates(
        subscriptions,
        &ChurnOptions {
            panel: options.panel.clone(),
            ..Default::default()
        },
    )?;
    let periods: Vec<Option<i32>> = churn
        .column("period")?
        .as_materialized_series()
        .to_physical_repr()
        .i32()?
        .iter()
        .collect();
    let get = |name: &str| -> Result<Vec<i64>> {
        Ok(churn
            .column(name)?
            .as_materialized_series()
            .i64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let (start, end, new, reactivated, within) = (
        get("customers_start")?,
        get("customers_end")?,
        get("new")?,
        get("reactivated")?,
        get("joined_and_left")?,
    );
    let mut rows: Vec<(i64, f64, f64)> = Vec::new();
    let mut seen = HashSet::new();
    for (r, p) in periods.iter().enumerate() {
        let Some(p) = p else { continue };
        let p = i64::from(*p);
        seen.insert(p);
        let customers = match options.customers {
            CostCustomers::Any => (start[r] + new[r] + reactivated[r] + within[r]) as f64,
            CostCustomers::Start => start[r] as f64,
            CostCustomers::Average => (start[r] + end[r]) as f64 / 2.0,
        };
        rows.push((p, cost_by_period.get(&p).copied().unwrap_or(0.0), customers));
    }
    for (p, c) in &cost_by_period {
        if !seen.contains(p) {
            rows.push((*p, *c, 0.0));
        }
    }
    rows.sort_by_key(|r| r.0);
    let period_days: Vec<i32> = rows.iter().map(|r| r.0 as i32).collect();
    Ok(DataFrame::new(
        rows.len(),
        vec![
            Column::new("period".into(), period_days).cast(&DataType::Date)?,
            Column::new("cost".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            Column::new(
                "customers".into(),
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            ),
            Column::new(
                "crc".into(),
                rows.iter().map(|r| rate(r.1, r.2)).collect::<Vec<_>>(),
            ),
        ],
    )?)
}
