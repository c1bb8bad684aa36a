//! Revenue: MRR per customer and period, the MRR bridge with its per-customer movements, and
//! the revenue KPIs (ARR, ARPA, expansion rate, GRR, NRR, MRR churn, quick ratio), as defined in
//! docs/metrics/conventions.md and docs/metrics/revenue.md.
//!
//! Money is exact: each subscription's monthly amount is rounded half-to-even to `precision`
//! decimals once, and every sum is integer arithmetic in those units, so
//! `starting + new + expansion + reactivation - contraction - churned = ending` holds exactly in
//! units for every period and group ([`Money::Units`] returns the units themselves).

pub mod billing;
pub(crate) mod engine;
pub(crate) mod input;
pub mod invoices;

use polars::prelude::*;

pub use billing::{
    BillingOptions, Cause, ChurnAt, ChurnKind, DiscountColumns, MrrBasis, PastDue, Paused,
    Stacking, Trials,
};
pub use engine::Movement;
pub(crate) use engine::{
    customer_panel, field, panel_values, rows_by_customer, sweep, Grid, Sweep, SweepOptions, Wanted,
};
pub(crate) use input::{normalise, period_grid, Normalised, DAY};
pub use invoices::{InvoiceColumns, OtherRevenue, Prorations};

use crate::error::{CsError, Result};
use crate::period::Period;

named_options!(
    /// How movements are found.
    Mode, "mode",
    /// Compare each customer's MRR at the end of consecutive periods (dbt mrr-playbook) (default).
    #[default]
    Snapshot = "snapshot",
    /// Every change is a movement in the period it happens, after netting a customer's changes
    /// at the same instant (ChartMogul, Stripe).
    Events = "events",
);

/// The most periods a panel may have (daily over about 550 years).
pub const MAX_PERIODS: i64 = 200_000;

named_options!(
    /// How money columns are returned.
    Money, "money",
    /// Float64 currency amounts (default); identities hold to about 1e-15 relative.
    #[default]
    Float = "float",
    /// Int64 integer units of 10^-precision: identities hold exactly.
    Units = "units",
    /// Decimal(38, precision) amounts built from the integer units: exact, in currency.
    Decimal = "decimal",
);

/// Columns of a subscriptions table.
#[derive(Debug, Clone)]
pub struct SubscriptionColumns {
    /// Customer id (any type). Default `customer_id`.
    pub customer_id: String,
    /// Start instant (Date or Datetime). Default `start`.
    pub start: String,
    /// Exclusive end instant, null while active; None when the table has no end column.
    pub end: Option<String>,
    /// Billed amount per interval, net of discounts, excluding tax. Default `amount`.
    pub amount: String,
    /// Billing interval (day, week, month, quarter, year); None means every amount is monthly.
    pub interval: Option<String>,
    /// Number of intervals billed at once; None means 1.
    pub interval_count: Option<String>,
    /// Currency of each amount, used when the table has this column. Default `currency`.
    pub currency: Option<String>,
    /// Quantity (seats) of each row: MRR is the amount times the quantity. Used when the table
    /// has it. Default `quantity`.
    pub quantity: Option<String>,
    /// Subscription id, tying the rows (status spells, plan changes) of one subscription. Used
    /// when the table has it. Default `subscription_id`.
    pub subscription_id: Option<String>,
    /// Stripe status of each row (one row per status spell). Used when the table has it.
    /// Default `status`.
    pub status: Option<String>,
    /// When cancellation was requested. Used when the table has it. Default `canceled_at`.
    pub canceled_at: Option<String>,
    /// Why the subscription ended (Stripe's `cancellation_details.reason`). Used when the table
    /// has it. Default `churn_reason`.
    pub churn_reason: Option<String>,
    /// Discount columns on the rows.
    pub discount: DiscountColumns,
}

impl Default for SubscriptionColumns {
    fn default() -> Self {
        SubscriptionColumns {
            customer_id: "customer_id".into(),
            start: "start".into(),
            end: Some("end".into()),
            amount: "amount".into(),
            interval: Some("interval".into()),
            interval_count: None,
            currency: Some("currency".into()),
            quantity: Some("quantity".into()),
            subscription_id: Some("subscription_id".into()),
            status: Some("status".into()),
            canceled_at: Some("canceled_at".into()),
            churn_reason: Some("churn_reason".into()),
            discount: DiscountColumns::default(),
        }
    }
}

/// The input table.
#[derive(Debug, Clone)]
// Built once per call: the size of the subscriptions variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum RevenueInput {
    /// Subscriptions, normalised to monthly amounts.
    Subscriptions(SubscriptionColumns),
    /// Invoice lines: recurring lines over their service periods, one-time and usage lines
    /// reported apart.
    Invoices(InvoiceColumns),
    /// An already-monthly table: one row per customer and period with its MRR.
    Monthly {
        /// Customer id column.
        customer_id: String,
        /// Period column (Date, the first day of the period).
        period: String,
        /// MRR column.
        mrr: String,
    },
    /// Activity events (customer_id, timestamp): a customer is active in every period in
    /// which it has an event. For logo metrics only (churn, retention, cohorts, survival); each
    /// event counts as one unit of "MRR".
    Activity {
        /// Customer id column.
        customer_id: String,
        /// Event timestamp column (Date or Datetime).
        timestamp: String,
    },
}

/// Options shared by the revenue functions.
#[derive(Debug, Clone)]
pub struct RevenueOptions {
    /// The input table and its columns.
    pub input: RevenueInput,
    /// Reporting period. Default month.
    pub period: Period,
    /// Cut-off instant in µs since 1970-01-01 UTC; default the latest start in the input.
    pub as_of: Option<i64>,
    /// An instant (µs since 1970-01-01 UTC) in the first period to report; default the first
    /// period with activity.
    /// Customers active before it form the opening balance.
    pub first_period: Option<i64>,
    /// Decimals of the monthly amounts (half-to-even rounding). Default 6.
    pub precision: u32,
    /// Count customers whose only subscriptions are $0 as active (changes `active_customers`,
    /// never movement amounts). Default false.
    pub free_is_active: bool,
    /// Movement mode. Default snapshot.
    pub mode: Mode,
    /// Customer-level grouping columns (constant per customer).
    pub by: Vec<String>,
    /// Rates converting each currency into the reporting currency.
    pub fx: Option<Vec<(String, f64)>>,
    /// Trailing window in periods for GRR/NRR (e.g. 12), if any.
    pub window: Option<usize>,
    /// Money output.
    pub money: Money,
    /// Billing detail: discounts table and the status, discount and cancellation policies.
    pub billing: BillingOptions,
}

impl Default for RevenueOptions {
    fn default() -> Self {
        RevenueOptions {
            input: RevenueInput::Subscriptions(SubscriptionColumns::default()),
            period: Period::Month,
            as_of: None,
            first_period: None,
            precision: 6,
            free_is_active: false,
            mode: Mode::Snapshot,
            by: Vec::new(),
            fx: None,
            window: None,
            money: Money::Float,
            billing: BillingOptions::default(),
        }
    }
}

pub(crate) fn check_options(options: &RevenueOptions) -> Result<()> {
    if options.precision > 9 {
        return Err(CsError::option(
            "precision",
            options.precision,
            "precision must be 0 to 9 decimals",
        ));
    }
    if options.window == Some(0) {
        return Err(CsError::option(
            "window",
            0,
            "a trailing window needs at least one period",
        ));
    }
    if let Some(fx) = &options.fx {
        if let Some((currency, rate)) = fx.iter().find(|(_, r)| !(r.is_finite() && *r > 0.0)) {
            return Err(CsError::option(
                "fx",
                format!("{currency}: {rate}"),
                "rates must be positive numbers",
            ));
        }
    }
    Ok(())
}

pub(crate) fn build_grid(data: &Normalised, options: &RevenueOptions) -> Result<Grid> {
    let as_of = match options.as_of {
        Some(t) => t,
        // The latest start of the input's rows (with billing detail, not of its segments).
        None => match (&data.billing, &data.other) {
            (Some(b), _) => b.last_start,
            (None, Some(o)) => o.last_start,
            (None, None) => data.start.iter().copied().max().unwrap_or(0),
        },
    };
    let first_activity = data.start.iter().copied().filter(|s| *s <= as_of).min();
    let Some(first_activity) = first_activity.or(options.first_period) else {
        return Ok(Grid {
            starts: Vec::new(),
            snapshots: Vec::new(),
            report_first: 0,
            as_of,
        });
    };
    let report_from = options.first_period.unwrap_or(first_activity);
    if report_from > as_of {
        return Err(CsError::option(
            "first_period",
            input::format_instant(report_from),
            &format!(
                "the first reported period must not start after as_of ({})",
                input::format_instant(as_of)
            ),
        ));
    }
    let first_day = first_activity.min(report_from).div_euclid(DAY);
    // Bound the panel before building it: a stray date centuries away must be an error, not
    // millions of periods (days from year 1 to 9999 would be 3.6M of them).
    let spanned = options
        .period
        .start_of(as_of.div_euclid(DAY))
        .saturating_sub(options.period.start_of(first_day))
        / options.period.min_days();
    if spanned > MAX_PERIODS {
        return Err(CsError::option(
            "period",
            format!("'{}'", options.period),
            &format!(
                "the data span {} to {} gives more than {MAX_PERIODS} periods; use a longer \
                 period, first_period= or as_of=, or check the dates",
                input::format_instant(first_day * DAY),
                input::format_instant(as_of)
            ),
        ));
    }
    let days = period_grid(options.period, first_day, as_of.div_euclid(DAY));
    let starts: Vec<i64> = days.iter().map(|d| d * DAY).collect();
    let n = starts.len() - 1;
    let mut snapshots: Vec<i64> = starts[1..].iter().map(|s| s - 1).collect();
    snapshots[n - 1] = as_of;
    let report_first = starts.partition_point(|s| *s <= report_from) - 1;
    Ok(Grid {
        starts,
        snapshots,
        report_first,
        as_of,
    })
}

pub(crate) struct Computed {
    pub(crate) data: Normalised,
    pub(crate) grid: Grid,
    pub(crate) sweep: Sweep,
}

pub(crate) fn compute(
    frame: &DataFrame,
    options: &RevenueOptions,
    wanted: Wanted,
) -> Result<Computed> {
    check_options(options)?;
    let data = input::normalise_for(frame, options, wanted.movements)?;
    let grid = build_grid(&data, options)?;
    let sweep_options = SweepOptions {
        mode: options.mode,
        free_is_active: options.free_is_active,
        window: options.window,
        wanted,
    };
    let sweep = sweep(&data, &grid, &sweep_options);
    Ok(Computed { data, grid, sweep })
}

struct MoneyOut {
    money: Money,
    scale: f64,
    precision: usize,
}

impl MoneyOut {
    fn new(options: &RevenueOptions) -> Self {
        MoneyOut {
            money: options.money,
            scale: 10f64.powi(options.precision as i32),
            precision: options.precision as usize,
        }
    }

    fn column(&self, name: &str, units: impl Iterator<Item = i128>) -> Result<Column> {
        match self.money {
            Money::Float => Ok(Column::new(
                name.into(),
                units.map(|u| u as f64 / self.scale).collect::<Vec<f64>>(),
            )),
            Money::Units => {
                let values = units
                    .map(|u| {
                        i64::try_from(u).map_err(|_| {
                            CsError::option(
                                "money",
                                "'units'",
                                &format!("the sum {u} in '{name}' does not fit in Int64"),
                            )
                        })
                    })
                    .collect::<Result<Vec<i64>>>()?;
                Ok(Column::new(name.into(), values))
            }
            Money::Decimal => {
                let values: Vec<i128> = units.collect();
                if let Some(u) = values.iter().find(|u| u.unsigned_abs() >= 10u128.pow(38)) {
                    return Err(CsError::option(
                        "money",
                        "'decimal'",
                        &format!("the sum {u} in '{name}' does not fit in Decimal(38)"),
                    ));
                }
                Ok(Int128Chunked::from_vec(name.into(), values)
                    .into_decimal(38, self.precision)?
                    .into_series()
                    .into_column())
            }
        }
    }
}

fn ratio(numerator: i128, denominator: i128) -> Option<f64> {
    (denominator != 0).then(|| numerator as f64 / denominator as f64)
}

/// Key columns, period and completeness for every (group, reported period) row.
pub(crate) fn group_period_columns(c: &Computed) -> Result<(Vec<Column>, usize)> {
    let groups = c.data.group_keys.height().max(1);
    let reported = c.grid.reported();
    let rows = groups * reported;
    let group_index: Vec<IdxSize> = (0..rows)
        .map(|i| (i / reported.max(1)) as IdxSize)
        .collect();
    let mut columns: Vec<Column> = c
        .data
        .group_keys
        .take(&IdxCa::from_vec("".into(), group_index))?
        .into_columns();
    let periods: Vec<i32> = (0..rows)
        .map(|i| (c.grid.starts[c.grid.report_first + i % reported.max(1)] / DAY) as i32)
        .collect();
    columns.push(Column::new("period".into(), periods).cast(&DataType::Date)?);
    let last = c.grid.len().saturating_sub(1);
    let complete_last = c
        .grid
        .starts
        .get(last + 1)
        .is_some_and(|next| c.grid.as_of >= next - 1);
    let complete: Vec<bool> = (0..rows)
        .map(|i| c.grid.report_first + i % reported.max(1) != last || complete_last)
        .collect();
    columns.push(Column::new("complete".into(), complete));
    Ok((columns, rows))
}

pub(crate) fn totals(c: &Computed, row: usize, f: usize) -> i128 {
    c.sweep.totals[row * field::COUNT + f]
}

/// The MRR bridge per group and period.
///
/// Columns: the `by` keys, `period` (Date, first day), `complete` (false for a last period cut
/// by `as_of`), `starting_mrr`, `new`, `expansion`, `contraction`, `churned`, `reactivation`,
/// `ending_mrr` (all non-negative), the matching `starting_customers`, `new_customers`,
/// `expansion_customers`, `contraction_customers`, `churned_customers`,
/// `reactivated_customers`, `ending_customers` (paying customers), and `active_customers`
/// (paying, or with any subscription when `free_is_active`).
pub fn mrr_bridge(frame: &DataFrame, options: &RevenueOptions) -> Result<DataFrame> {
    let c = compute(
        frame,
        options,
        Wanted {
            movements: false,
            panel: false,
            totals: true,
        },
    )?;
    let money = MoneyOut::new(options);
    let (mut columns, rows) = group_period_columns(&c)?;
    let c = &c;
    let amount = |f: usize| (0..rows).map(move |r| totals(c, r, f));
    columns.push(money.column("starting_mrr", amount(field::STARTING_MRR))?);
    for kind in Movement::ALL {
        columns.push(money.column(kind.name(), amount(field::MOVEMENT + kind as usize))?);
    }
    columns.push(money.column("ending_mrr", amount(field::ENDING_MRR))?);
    let count = |name: &str, f: usize| {
        Column::new(
            name.into(),
            (0..rows)
                .map(|r| totals(c, r, f) as i64)
                .collect::<Vec<i64>>(),
        )
    };
    columns.push(count("starting_customers", field::STARTING_CUSTOMERS));
    for (kind, name) in Movement::ALL.iter().zip([
        "new_customers",
        "expansion_customers",
        "contraction_customers",
        "churned_customers",
        "reactivated_customers",
    ]) {
        columns.push(count(name, field::MOVEMENT_CUSTOMERS + *kind as usize));
    }
    columns.push(count("ending_customers", field::ENDING_CUSTOMERS));
    columns.push(count("active_customers", field::ACTIVE_CUSTOMERS));
    billing_columns(c, &money, rows, &mut columns, true)?;
    other_revenue_columns(c, &money, &mut columns)?;
    Ok(DataFrame::new(rows, columns)?)
}

/// Invoice input's revenue outside MRR per group and reported period: `non_recurring`
/// (one-time lines) and `usage`, each line dated by the start of its service period (lines after
/// `as_of` or before the first reported period are not counted).
fn other_revenue_columns(c: &Computed, money: &MoneyOut, columns: &mut Vec<Column>) -> Result<()> {
    let Some(other) = &c.data.other else {
        return Ok(());
    };
    let reported = c.grid.reported();
    let groups = c.data.group_keys.height().max(1);
    let mut sums = vec![[0i128; 2]; groups * reported];
    for &(customer, instant, units, kind) in &other.lines {
        if reported == 0 || instant > c.grid.as_of || instant < c.grid.starts[c.grid.report_first] {
            continue;
        }
        let p = c.grid.period_of(instant) - c.grid.report_first;
        let group = c.data.group_rank[c.data.customer_group[customer as usize] as usize] as usize;
        sums[group * reported + p][kind as usize] += i128::from(units);
    }
    columns.push(money.column("non_recurring", sums.iter().map(|s| s[0]))?);
    columns.push(money.column("usage", sums.iter().map(|s| s[1]))?);
    Ok(())
}

/// The billing-detail columns of the bridge (`churn_split`) and the KPIs, for the inputs that
/// have them: `paused_customers`; `cancellations`, `cancellation_mrr`, `committed_mrr`; the
/// churn split by reason; `net_mrr` and `contract_mrr`.
fn billing_columns(
    c: &Computed,
    money: &MoneyOut,
    rows: usize,
    columns: &mut Vec<Column>,
    churn_split: bool,
) -> Result<()> {
    let Some(b) = &c.data.billing else {
        return Ok(());
    };
    let amount = |f: usize| (0..rows).map(move |r| totals(c, r, f));
    let count = |name: &str, f: usize| {
        Column::new(
            name.into(),
            (0..rows)
                .map(|r| totals(c, r, f) as i64)
                .collect::<Vec<i64>>(),
        )
    };
    if b.has_status {
        columns.push(count("paused_customers", field::PAUSED_CUSTOMERS));
    }
    if b.has_cancel {
        columns.push(count("cancellations", field::CANCELLATIONS));
        columns.push(money.column("cancellation_mrr", amount(field::CANCELLATION_MRR))?);
        columns.push(money.column("committed_mrr", amount(field::COMMITTED_MRR))?);
    }
    if b.has_reasons && churn_split {
        for kind in ChurnKind::ALL {
            columns.push(money.column(
                &format!("churned_{}", kind.name()),
                amount(field::CHURN_REASON_MRR + kind as usize),
            )?);
        }
        for kind in ChurnKind::ALL {
            columns.push(count(
                &format!("churned_{}_customers", kind.name()),
                field::CHURN_REASON_CUSTOMERS + kind as usize,
            ));
        }
    }
    if b.with_contract {
        columns.push(money.column("net_mrr", amount(field::NET_MRR))?);
        columns.push(money.column("contract_mrr", amount(field::CONTRACT_MRR))?);
    }
    Ok(())
}

/// Revenue KPIs per group and period, each next to the amounts behind it.
///
/// Columns: keys, `period`, `complete`, `mrr`, `arr` (12 MRR), `paying_customers`, `arpa`
/// (MRR / paying customers), `starting_mrr`, `new`, `expansion`, `contraction`, `churned`,
/// `reactivation`, `expansion_rate` (expansion / starting MRR), `retained_mrr` and
/// `retained_mrr_gross` (over the starting base: end MRR, and min(start, end)), `nrr`, `grr`,
/// `net_mrr_churn_rate` (1 - NRR), `gross_mrr_churn_rate` (1 - GRR), `quick_ratio`
/// ((new + expansion + reactivation) / (churned + contraction)), `quick_ratio_excl_reactivation`,
/// and with a window, `window_base_mrr`, `nrr_window`, `grr_window` over the customers paying at
/// the window's start. Ratios are null when their denominator is 0. NRR, net MRR churn, expansion
/// rate and the quick ratios are unbounded; GRR lies in [0, 1].
pub fn revenue_kpis(frame: &DataFrame, options: &RevenueOptions) -> Result<DataFrame> {
    let c = compute(
        frame,
        options,
        Wanted {
            movements: false,
            panel: false,
            totals: true,
        },
    )?;
    let money = MoneyOut::new(options);
    let (mut columns, rows) = group_period_columns(&c)?;
    let t = |r: usize, f: usize| totals(&c, r, f);
    let mv = |r: usize, k: Movement| t(r, field::MOVEMENT + k as usize);
    columns.push(money.column("mrr", (0..rows).map(|r| t(r, field::ENDING_MRR)))?);
    columns.push(money.column("arr", (0..rows).map(|r| 12 * t(r, field::ENDING_MRR)))?);
    columns.push(Column::new(
        "paying_customers".into(),
        (0..rows)
            .map(|r| t(r, field::ENDING_CUSTOMERS) as i64)
            .collect::<Vec<i64>>(),
    ));
    let arpa: Vec<Option<f64>> = (0..rows)
        .map(|r| {
            ratio(t(r, field::ENDING_MRR), t(r, field::ENDING_CUSTOMERS)).map(|v| v / money.scale)
        })
        .collect();
    columns.push(match options.money {
        // A ratio is not exact in any unit: currency amounts, as for Float.
        Money::Float | Money::Decimal => Column::new("arpa".into(), arpa),
        Money::Units => Column::new(
            "arpa".into(),
            arpa.iter()
                .map(|v| v.map(|v| v * money.scale))
                .collect::<Vec<_>>(),
        ),
    });
    columns.push(money.column("starting_mrr", (0..rows).map(|r| t(r, field::STARTING_MRR)))?);
    for kind in Movement::ALL {
        columns.push(money.column(kind.name(), (0..rows).map(|r| mv(r, kind)))?);
    }
    let float = |name: &str, values: Vec<Option<f64>>| Column::new(name.into(), values);
    columns.push(float(
        "expansion_rate",
        (0..rows)
            .map(|r| ratio(mv(r, Movement::Expansion), t(r, field::STARTING_MRR)))
            .collect(),
    ));
    columns.push(money.column("retained_mrr", (0..rows).map(|r| t(r, field::RETAINED_NET)))?);
    columns.push(money.column(
        "retained_mrr_gross",
        (0..rows).map(|r| t(r, field::RETAINED_GROSS)),
    )?);
    let nrr: Vec<Option<f64>> = (0..rows)
        .map(|r| ratio(t(r, field::RETAINED_NET), t(r, field::STARTING_MRR)))
        .collect();
    let grr: Vec<Option<f64>> = (0..rows)
        .map(|r| ratio(t(r, field::RETAINED_GROSS), t(r, field::STARTING_MRR)))
        .collect();
    columns.push(float("nrr", nrr.clone()));
    columns.push(float("grr", grr.clone()));
    columns.push(float(
        "net_mrr_churn_rate",
        nrr.iter().map(|v| v.map(|v| 1.0 - v)).collect(),
    ));
    columns.push(float(
        "gross_mrr_churn_rate",
        grr.iter().map(|v| v.map(|v| 1.0 - v)).collect(),
    ));
    let lost = |r: usize| mv(r, Movement::Churned) + mv(r, Movement::Contraction);
    columns.push(float(
        "quick_ratio",
        (0..rows)
            .map(|r| {
                ratio(
                    mv(r, Movement::New)
                        + mv(r, Movement::Expansion)
                        + mv(r, Movement::Reactivation),
                    lost(r),
                )
            })
            .collect(),
    ));
    columns.push(float(
        "quick_ratio_excl_reactivation",
        (0..rows)
            .map(|r| ratio(mv(r, Movement::New) + mv(r, Movement::Expansion), lost(r)))
            .collect(),
    ));
    if let Some(window) = options.window {
        let available = |r: usize| (c.grid.report_first + r % c.grid.reported().max(1)) >= window;
        columns.push(money.column(
            "window_base_mrr",
            (0..rows).map(|r| t(r, field::WINDOW_BASE)),
        )?);
        columns.push(float(
            "nrr_window",
            (0..rows)
                .map(|r| {
                    if available(r) {
                        ratio(t(r, field::WINDOW_NET), t(r, field::WINDOW_BASE))
                    } else {
                        None
                    }
                })
                .collect(),
        ));
        columns.push(float(
            "grr_window",
            (0..rows)
                .map(|r| {
                    if available(r) {
                        ratio(t(r, field::WINDOW_GROSS), t(r, field::WINDOW_BASE))
                    } else {
                        None
                    }
                })
                .collect(),
        ));
    }
    billing_columns(&c, &money, rows, &mut columns, false)?;
    other_revenue_columns(&c, &money, &mut columns)?;
    Ok(DataFrame::new(rows, columns)?)
}

fn customer_rows(c: &Computed, customers: &[u32], periods: &[u32]) -> Result<Vec<Column>> {
    let codes = IdxCa::from_vec("".into(), customers.iter().map(|c| *c as IdxSize).collect());
    let mut columns = vec![c
        .data
        .customer_labels
        .as_materialized_series()
        .take(&codes)?
        .into_column()];
    if c.data.group_keys.width() > 0 {
        let ranks: Vec<IdxSize> = customers
            .iter()
            .map(|k| c.data.group_rank[c.data.customer_group[*k as usize] as usize] as IdxSize)
            .collect();
        columns.extend(
            c.data
                .group_keys
                .take(&IdxCa::from_vec("".into(), ranks))?
                .into_columns(),
        );
    }
    let days: Vec<i32> = periods
        .iter()
        .map(|p| (c.grid.starts[c.grid.report_first + *p as usize] / DAY) as i32)
        .collect();
    columns.push(Column::new("period".into(), days).cast(&DataType::Date)?);
    Ok(columns)
}

/// Sorts rows by customer. The sweep emits each customer's rows contiguously and in period
/// order, so a stable sort on the id alone gives (customer, period) order.
fn sorted_by_customer(frame: DataFrame, customer: &str) -> Result<DataFrame> {
    Ok(frame
        .lazy()
        .sort(
            [customer],
            SortMultipleOptions::default()
                .with_maintain_order(true)
                .with_nulls_last(true),
        )
        .collect()?)
}

pub(crate) fn customer_column_name(options: &RevenueOptions) -> &str {
    match &options.input {
        RevenueInput::Subscriptions(c) => &c.customer_id,
        RevenueInput::Invoices(c) => &c.customer_id,
        RevenueInput::Monthly { customer_id, .. } | RevenueInput::Activity { customer_id, .. } => {
            customer_id
        }
    }
}

/// One row per customer and movement, sorted by customer and period: the customer id, the `by`
/// keys, `period`, `movement` (new, expansion, contraction, churned, reactivation),
/// `previous_mrr`, `mrr` and `amount` (non-negative). Grouped by movement and period, the amounts
/// add up to [`mrr_bridge`].
pub fn mrr_movements(frame: &DataFrame, options: &RevenueOptions) -> Result<DataFrame> {
    let c = compute(
        frame,
        options,
        Wanted {
            movements: true,
            panel: false,
            totals: false,
        },
    )?;
    let money = MoneyOut::new(options);
    let rows = &c.sweep.movements;
    let customers: Vec<u32> = rows.iter().map(|m| m.customer).collect();
    let periods: Vec<u32> = rows.iter().map(|m| m.period).collect();
    let mut columns = customer_rows(&c, &customers, &periods)?;
    columns.push(Column::new(
        "movement".into(),
        rows.iter().map(|m| m.kind.name()).collect::<Vec<&str>>(),
    ));
    columns.push(money.column("previous_mrr", rows.iter().map(|m| m.previous as i128))?);
    columns.push(money.column("mrr", rows.iter().map(|m| m.current as i128))?);
    columns.push(money.column(
        "amount",
        rows.iter().map(|m| (m.current - m.previous).abs() as i128),
    )?);
    columns.push(Column::new(
        "cause".into(),
        rows.iter()
            .map(|m| Cause::ALL[m.cause as usize].name())
            .collect::<Vec<&str>>(),
    ));
    if c.data.billing.as_ref().is_some_and(|b| b.has_reasons) {
        columns.push(Column::new(
            "churn_reason".into(),
            rows.iter()
                .map(|m| {
                    (m.kind == Movement::Churned).then(|| {
                        [
                            ChurnKind::Unknown,
                            ChurnKind::Voluntary,
                            ChurnKind::Involuntary,
                        ][m.reason as usize]
                            .name()
                    })
                })
                .collect::<Vec<Option<&str>>>(),
        ));
    }
    sorted_by_customer(
        DataFrame::new(rows.len(), columns)?,
        customer_column_name(options),
    )
}

/// MRR per customer and period, for the periods in which the customer is active (paying, or
/// with any subscription when `free_is_active`): the customer id, the `by` keys, `period` and
/// `mrr`, sorted by customer and period.
pub fn mrr(frame: &DataFrame, options: &RevenueOptions) -> Result<DataFrame> {
    let c = compute(
        frame,
        options,
        Wanted {
            movements: false,
            panel: true,
            totals: false,
        },
    )?;
    let money = MoneyOut::new(options);
    let rows = &c.sweep.panel;
    let customers: Vec<u32> = rows.iter().map(|m| m.customer).collect();
    let periods: Vec<u32> = rows.iter().map(|m| m.period).collect();
    let mut columns = customer_rows(&c, &customers, &periods)?;
    columns.push(money.column("mrr", rows.iter().map(|m| m.mrr as i128))?);
    if let Some(b) = &c.data.billing {
        let extra = &c.sweep.panel_extra;
        if b.has_status {
            columns.push(Column::new(
                "paused".into(),
                extra.iter().map(|x| x.2).collect::<Vec<bool>>(),
            ));
        }
        if b.with_contract {
            columns.push(money.column("net_mrr", extra.iter().map(|x| x.0 as i128))?);
            columns.push(money.column("contract_mrr", extra.iter().map(|x| x.1 as i128))?);
        }
    }
    sorted_by_customer(
        DataFrame::new(rows.len(), columns)?,
        customer_column_name(options),
    )
}

/// The revenue family in one import (`use csmetrics::revenue::prelude::*;`): its functions,
/// options and option enums, with the error type and `Period`.
/// [`crate::prelude`] holds every family's.
pub mod prelude {
    pub use super::{
        mrr, mrr_bridge, mrr_movements, revenue_kpis, BillingOptions, Cause, ChurnAt, ChurnKind,
        DiscountColumns, Mode, Money, Movement, MrrBasis, PastDue, Paused, RevenueInput,
        RevenueOptions, Stacking, SubscriptionColumns, Trials,
    };
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
