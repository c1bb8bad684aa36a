//! Operations and engagement KPIs (docs/metrics/operations.md): customer retention cost,
//! trial-to-paid conversion, upsell and cross-sell rates, first contact resolution, and engagement
//! (DAU, MAU, stickiness, usage per active customer, feature adoption). Every rate stands next to
//! the counts behind it; a zero denominator gives a null rate.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use polars::prelude::*;

use crate::churn::{churn_rates, ChurnOptions};
use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{encode_column, group_rows, sorted_keys, EncodedKey};
use crate::input::invalid;
use crate::period::{period_key, Period};
use crate::revenue::RevenueOptions;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Instants of a Date or Datetime column in µs since 1970-01-01 UTC (null stays null).
fn instants(frame: &DataFrame, name: &str, purpose: &str) -> Result<Vec<Option<i64>>> {
    Ok(crate::input::optional_instants(frame, name, purpose)?.0)
}

/// Numbers (or Boolean flags as 0/1) of a column as f64 (null stays null).
fn numbers(frame: &DataFrame, name: &str, purpose: &str) -> Result<Vec<Option<f64>>> {
    crate::input::optional_numbers(frame, name, crate::input::Role::NumberOrFlag, purpose)
}

fn describe_instant(micros: i64) -> String {
    crate::revenue::input::format_instant(micros)
}

fn rate(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}

/// Keys of `by` columns plus the period of `timestamp`, grouped; with the sorted key frame.
struct Grouped {
    ids: Vec<u32>,
    count: usize,
    keys: DataFrame,
    order: Vec<usize>,
}

fn grouped(frame: &DataFrame, by: &[String], timestamp: &str, period: Period) -> Result<Grouped> {
    let mut keys: Vec<EncodedKey> = Vec::with_capacity(by.len() + 1);
    for name in by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    keys.push(period_key(frame, timestamp, period, "period")?);
    let groups = group_rows(&keys, frame.height());
    let (keys_frame, order) = sorted_keys(&keys, &groups)?;
    Ok(Grouped {
        count: groups.count(),
        ids: groups.ids,
        keys: keys_frame,
        order,
    })
}

impl Grouped {
    fn counts(&self, name: &str, values: &[i64]) -> Column {
        Column::new(
            name.into(),
            self.order.iter().map(|g| values[*g]).collect::<Vec<i64>>(),
        )
    }
    fn rates(&self, name: &str, numerator: &[i64], denominator: &[i64]) -> Column {
        Column::new(
            name.into(),
            self.order
                .iter()
                .map(|g| rate(numerator[*g] as f64, denominator[*g] as f64))
                .collect::<Vec<_>>(),
        )
    }
    fn finish(self, extra: Vec<Column>) -> Result<DataFrame> {
        let mut columns = self.keys.into_columns();
        columns.extend(extra);
        Ok(DataFrame::new(self.order.len(), columns)?)
    }
}

// ---------------------------------------------------------------------------------------------
// Customer retention cost

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

// ---------------------------------------------------------------------------------------------
// Trial-to-paid conversion

/// Options of [`trial_conversion`].
#[derive(Debug, Clone)]
pub struct TrialOptions {
    /// Trial start column (Date or Datetime); the trial's period. Default `trial_start`.
    pub trial_start: String,
    /// Trial end column. Default `trial_end`.
    pub trial_end: String,
    /// Conversion instant column, null when not (yet) converted. Default `converted_at`.
    pub converted_at: String,
    /// Days after the trial end within which a conversion counts. Default 14.
    pub window_days: f64,
    /// Cut-off in µs since 1970-01-01 UTC; default the latest trial start or conversion.
    pub as_of: Option<i64>,
    /// Grouping columns.
    pub by: Vec<String>,
    /// Reporting period. Default month.
    pub period: Period,
}

impl Default for TrialOptions {
    fn default() -> Self {
        TrialOptions {
            trial_start: "trial_start".into(),
            trial_end: "trial_end".into(),
            converted_at: "converted_at".into(),
            window_days: 14.0,
            as_of: None,
            by: Vec::new(),
            period: Period::Month,
        }
    }
}

/// Trial-to-paid conversion per group and period of the trial start.
///
/// A trial is `converted` when `converted_at` falls in `[trial_start, trial_end + window]`;
/// otherwise it is `pending` while `trial_end + window` is after `as_of` (left out of the rate),
/// else it counts as not converted. Columns: keys, `period`, `trials` (started), `decided`
/// (converted, or window closed), `converted`, `pending`, `conversion_rate` = converted / decided.
/// Trials starting after `as_of` are not reported.
pub fn trial_conversion(frame: &DataFrame, options: &TrialOptions) -> Result<DataFrame> {
    if !(options.window_days.is_finite() && options.window_days >= 0.0) {
        return Err(CsError::option(
            "window",
            format_number(options.window_days),
            "the conversion window must be a non-negative number of days",
        ));
    }
    let starts = instants(frame, &options.trial_start, "the start of each trial")?;
    let ends = instants(frame, &options.trial_end, "the end of each trial")?;
    let converted = instants(frame, &options.converted_at, "when each trial converted")?;
    for (row, (s, e)) in starts.iter().zip(&ends).enumerate() {
        let s = s.ok_or_else(|| {
            invalid(
                &options.trial_start,
                row,
                "null",
                "every trial needs a start",
            )
        })?;
        let e =
            e.ok_or_else(|| invalid(&options.trial_end, row, "null", "every trial needs an end"))?;
        if e < s {
            return Err(invalid(
                &options.trial_end,
                row,
                describe_instant(e),
                "a trial cannot end before it starts",
            ));
        }
    }
    let as_of = options.as_of.unwrap_or_else(|| {
        starts
            .iter()
            .chain(&converted)
            .flatten()
            .copied()
            .max()
            .unwrap_or(0)
    });
    let window = (options.window_days * MICROS_PER_DAY as f64).round() as i64;
    let g = grouped(frame, &options.by, &options.trial_start, options.period)?;
    let (mut trials, mut decided, mut won, mut pending) = (
        vec![0i64; g.count],
        vec![0i64; g.count],
        vec![0i64; g.count],
        vec![0i64; g.count],
    );
    let mut reported = vec![false; g.count];
    for row in 0..frame.height() {
        let (Some(s), Some(e)) = (starts[row], ends[row]) else {
            continue;
        };
        if s > as_of {
            continue;
        }
        let id = g.ids[row] as usize;
        reported[id] = true;
        trials[id] += 1;
        let deadline = e + window;
        match converted[row] {
            Some(c) if c <= as_of && c >= s && c <= deadline => {
                won[id] += 1;
                decided[id] += 1;
            }
            _ if deadline > as_of => pending[id] += 1,
            _ => decided[id] += 1,
        }
    }
    let mut g = g;
    let mask: Vec<bool> = g.order.iter().map(|id| reported[*id]).collect();
    g.keys = g
        .keys
        .filter(&BooleanChunked::from_slice("".into(), &mask))?;
    g.order.retain(|id| reported[*id]);
    let columns = vec![
        g.counts("trials", &trials),
        g.counts("decided", &decided),
        g.counts("converted", &won),
        g.counts("pending", &pending),
        g.rates("conversion_rate", &won, &decided),
    ];
    g.finish(columns)
}

// ---------------------------------------------------------------------------------------------
// Upsell and cross-sell

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

// ---------------------------------------------------------------------------------------------
// First contact resolution

/// Options of [`first_contact_resolution`].
#[derive(Debug, Clone)]
pub struct FcrOptions {
    /// Opened-at column (the ticket's period). Default `opened_at`.
    pub opened_at: String,
    /// Resolved-at column, null while open. Default `resolved_at`.
    pub resolved_at: String,
    /// Number of customer contacts column (integers >= 1). Default `contacts`.
    pub contacts: String,
    /// Reopened-at column, if any. Default `reopened_at`.
    pub reopened_at: Option<String>,
    /// Boolean column: could the ticket be resolved at first contact (null counts as true).
    /// Default `resolvable_at_first_contact`; None treats every ticket as resolvable.
    pub resolvable: Option<String>,
    /// Days after resolution within which a reopen cancels first contact resolution. Default 7.
    pub reopen_window_days: f64,
    /// Grouping columns.
    pub by: Vec<String>,
    /// Reporting period. Default month.
    pub period: Period,
}

impl Default for FcrOptions {
    fn default() -> Self {
        FcrOptions {
            opened_at: "opened_at".into(),
            resolved_at: "resolved_at".into(),
            contacts: "contacts".into(),
            reopened_at: Some("reopened_at".into()),
            resolvable: Some("resolvable_at_first_contact".into()),
            reopen_window_days: 7.0,
            by: Vec::new(),
            period: Period::Month,
        }
    }
}

/// First contact resolution, gross and net, per group and period of the opening.
///
/// A resolved ticket is resolved at first contact when it took one contact and was not reopened
/// within `reopen_window` days of its resolution. Columns: keys, `period`, `tickets`,
/// `resolved`, `first_contact_resolved`, `fcr_gross` = first-contact resolved / resolved,
/// `resolvable`, `resolvable_first_contact_resolved`, `fcr_net` (the same among resolved tickets
/// resolvable at first contact).
pub fn first_contact_resolution(frame: &DataFrame, options: &FcrOptions) -> Result<DataFrame> {
    if !(options.reopen_window_days.is_finite() && options.reopen_window_days >= 0.0) {
        return Err(CsError::option(
            "reopen_window",
            format_number(options.reopen_window_days),
            "the reopen window must be a non-negative number of days",
        ));
    }
    let opened = instants(frame, &options.opened_at, "when each ticket was opened")?;
    let resolved = instants(frame, &options.resolved_at, "when each ticket was resolved")?;
    let contacts = numbers(
        frame,
        &options.contacts,
        "the number of contacts of each ticket",
    )?;
    let reopened = match &options.reopened_at {
        Some(name) => instants(frame, name, "when each ticket was reopened")?,
        None => vec![None; frame.height()],
    };
    let resolvable: Vec<bool> = match &options.resolvable {
        Some(name) => crate::input::flags(
            frame,
            name,
            "whether each ticket was resolvable at first contact",
            "resolvable at first contact must be true/false or 1/0",
        )?
        .into_iter()
        .map(|v| v.unwrap_or(true))
        .collect(),
        None => vec![true; frame.height()],
    };
    let window = (options.reopen_window_days * MICROS_PER_DAY as f64).round() as i64;
    for row in 0..frame.height() {
        match contacts[row] {
            Some(c) if c.is_finite() && c >= 1.0 && c.fract() == 0.0 => {}
            // An open ticket may not have contacts recorded yet.
            None if resolved[row].is_none() => {}
            other => {
                return Err(invalid(
                    &options.contacts,
                    row,
                    other.map_or("null".into(), format_number),
                    "contacts must be whole numbers >= 1",
                ))
            }
        }
        if let (Some(o), Some(r)) = (opened[row], resolved[row]) {
            if r < o {
                return Err(invalid(
                    &options.resolved_at,
                    row,
                    describe_instant(r),
                    "a ticket cannot be resolved before it was opened",
                ));
            }
        }
    }
    let g = grouped(frame, &options.by, &options.opened_at, options.period)?;
    let n = g.count;
    let (mut tickets, mut done, mut first, mut able, mut able_first) = (
        vec![0i64; n],
        vec![0i64; n],
        vec![0i64; n],
        vec![0i64; n],
        vec![0i64; n],
    );
    for row in 0..frame.height() {
        let id = g.ids[row] as usize;
        tickets[id] += 1;
        let Some(r) = resolved[row] else { continue };
        done[id] += 1;
        let reopened_in_window = reopened[row].is_some_and(|t| t >= r && t <= r + window);
        let at_first = contacts[row] == Some(1.0) && !reopened_in_window;
        if at_first {
            first[id] += 1;
        }
        if resolvable[row] {
            able[id] += 1;
            if at_first {
                able_first[id] += 1;
            }
        }
    }
    let columns = vec![
        g.counts("tickets", &tickets),
        g.counts("resolved", &done),
        g.counts("first_contact_resolved", &first),
        g.rates("fcr_gross", &first, &done),
        g.counts("resolvable", &able),
        g.counts("resolvable_first_contact_resolved", &able_first),
        g.rates("fcr_net", &able_first, &able),
    ];
    g.finish(columns)
}

// ---------------------------------------------------------------------------------------------
// Engagement

/// What DAU and MAU count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngagementUnit {
    /// Distinct active customers (default).
    #[default]
    Customer,
    /// Distinct active users (needs raw events with a user column).
    User,
}

impl FromStr for EngagementUnit {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "customer" => Ok(Self::Customer),
            "user" => Ok(Self::User),
            other => Err(CsError::option(
                "unit",
                format!("'{other}'"),
                "expected 'customer' or 'user'",
            )),
        }
    }
}

/// Options of [`engagement`] and [`feature_adoption`].
#[derive(Debug, Clone)]
pub struct EngagementOptions {
    /// Customer id column. Default `customer_id`.
    pub customer_id: String,
    /// Date (daily aggregates) or timestamp (raw events) column. Default `date`.
    pub date: String,
    /// User id column: when given the input is raw events (one row per event). Default none.
    pub user_id: Option<String>,
    /// Daily active users column of aggregates. Default `active_users`; None for raw events.
    pub active_users: Option<String>,
    /// Daily events column of aggregates. Default `events`; None counts one event per row.
    pub events: Option<String>,
    /// Feature column, if any. Default none (required by [`feature_adoption`]).
    pub feature: Option<String>,
    /// Unit counted.
    pub unit: EngagementUnit,
    /// Cut-off in µs; default the latest date in the input. Days after it are ignored.
    pub as_of: Option<i64>,
    /// Customer-level grouping columns.
    pub by: Vec<String>,
    /// Reporting period. Default month.
    pub period: Period,
}

impl Default for EngagementOptions {
    fn default() -> Self {
        EngagementOptions {
            customer_id: "customer_id".into(),
            date: "date".into(),
            user_id: None,
            active_users: Some("active_users".into()),
            events: Some("events".into()),
            feature: None,
            unit: EngagementUnit::Customer,
            as_of: None,
            by: Vec::new(),
            period: Period::Month,
        }
    }
}

/// The active rows of a usage table, read once.
struct Usage {
    /// Day of each active row (days since 1970-01-01).
    day: Vec<i64>,
    /// Input row of each active row.
    row: Vec<usize>,
    /// Unit code (customer or customer+user) of each active row.
    unit: Vec<u32>,
    /// Customer code of each active row.
    customer: Vec<u32>,
    /// Events of each active row.
    events: Vec<f64>,
    /// Active users of each active row (aggregates) or 1 (raw events).
    users: Vec<f64>,
    /// Group (by keys) of each input row and the sorted key frame.
    group: Vec<u32>,
    group_keys: Option<(DataFrame, Vec<usize>)>,
    groups: usize,
    as_of_day: i64,
}

fn read_usage(frame: &DataFrame, options: &EngagementOptions) -> Result<Usage> {
    if options.unit == EngagementUnit::User && options.user_id.is_none() {
        return Err(CsError::option(
            "unit",
            "'user'",
            "counting users needs raw events with a user column (user_id=); daily aggregates \
             cannot tell whether two days' users are the same people",
        ));
    }
    let when = instants(frame, &options.date, "the date of each usage row")?;
    let customers = encode_column(column(
        frame,
        &options.customer_id,
        "the customer of each row",
    )?)?;
    let units: Vec<u32> = match (&options.user_id, options.unit) {
        (Some(user), EngagementUnit::User) => {
            let users = encode_column(column(frame, user, "the user of each event")?)?;
            let keys = vec![customers.clone(), users];
            group_rows(&keys, frame.height()).ids
        }
        _ => customers.codes.clone(),
    };
    let raw = options.user_id.is_some();
    let events = match (&options.events, raw) {
        (Some(name), false) => Some(numbers(frame, name, "the events of each day")?),
        _ => None,
    };
    let users = match (&options.active_users, raw) {
        (Some(name), false) => Some(numbers(frame, name, "the active users of each day")?),
        _ => None,
    };
    let as_of = options
        .as_of
        .unwrap_or_else(|| when.iter().flatten().copied().max().unwrap_or(0));
    let as_of_day = as_of.div_euclid(MICROS_PER_DAY);
    let mut keys: Vec<EncodedKey> = Vec::new();
    for name in &options.by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    let (group, groups, group_keys) = if keys.is_empty() {
        (vec![0u32; frame.height()], 1, None)
    } else {
        let g = group_rows(&keys, frame.height());
        // by= takes customer attributes only: a customer in two groups would be counted twice.
        let mut first_group: HashMap<u32, (u32, usize)> = HashMap::new();
        for (row, (customer, group)) in customers.codes.iter().zip(&g.ids).enumerate() {
            let (seen, first_row) = *first_group.entry(*customer).or_insert((*group, row));
            if seen != *group {
                let names = options.by.join(", ");
                return Err(invalid(
                    &names,
                    row,
                    format!("a value other than on row {first_row} for the same customer"),
                    "by= takes customer-level attributes only: each customer needs one value",
                ));
            }
        }
        let sorted = sorted_keys(&keys, &g)?;
        (g.ids.clone(), g.count(), Some(sorted))
    };
    let mut out = Usage {
        day: Vec::new(),
        row: Vec::new(),
        unit: Vec::new(),
        customer: Vec::new(),
        events: Vec::new(),
        users: Vec::new(),
        group,
        group_keys,
        groups,
        as_of_day,
    };
    let check =
        |values: &Option<Vec<Option<f64>>>, name: &Option<String>, row: usize| -> Result<f64> {
            match values {
                None => Ok(1.0),
                Some(v) => match v[row] {
                    Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
                    other => Err(invalid(
                        name.as_deref().unwrap_or(""),
                        row,
                        other.map_or("null".into(), format_number),
                        "usage counts must be non-negative numbers",
                    )),
                },
            }
        };
    for row in 0..frame.height() {
        let t = when[row]
            .ok_or_else(|| invalid(&options.date, row, "null", "every usage row needs a date"))?;
        let e = check(&events, &options.events, row)?;
        let u = check(&users, &options.active_users, row)?;
        let day = t.div_euclid(MICROS_PER_DAY);
        // A day with neither users nor events is not activity.
        if day > as_of_day || (events.is_some() || users.is_some()) && e == 0.0 && u == 0.0 {
            continue;
        }
        out.day.push(day);
        out.row.push(row);
        out.unit.push(units[row]);
        out.customer.push(customers.codes[row]);
        out.events.push(e);
        out.users.push(u);
    }
    Ok(out)
}

fn key_columns(usage: &Usage, cells: &[(usize, i64)]) -> Result<Vec<Column>> {
    let mut columns = Vec::new();
    if let Some((frame, order)) = &usage.group_keys {
        let mut position = vec![0usize; usage.groups];
        for (i, g) in order.iter().enumerate() {
            position[*g] = i;
        }
        let idx: Vec<IdxSize> = cells.iter().map(|c| position[c.0] as IdxSize).collect();
        let taken = frame.take(&IdxCa::from_vec("".into(), idx))?;
        columns.extend(taken.into_columns());
    }
    columns.push(
        Column::new(
            "period".into(),
            cells.iter().map(|c| c.1 as i32).collect::<Vec<_>>(),
        )
        .cast(&DataType::Date)?,
    );
    Ok(columns)
}

fn sort_cells(usage: &Usage, cells: &mut [(usize, i64)]) {
    let mut rank = vec![0usize; usage.groups];
    if let Some((_, order)) = &usage.group_keys {
        for (i, g) in order.iter().enumerate() {
            rank[*g] = i;
        }
    }
    cells.sort_by_key(|c| (rank[c.0], c.1));
}

/// Engagement per group and period.
///
/// Columns: keys, `period`, `complete` (false for the period containing `as_of`), `days`
/// (calendar days of the period up to `as_of`), `dau` (mean over those days of the distinct
/// active units of each day), `wau` (mean over those days of the distinct units active in the
/// seven days ending on each, activity in the previous period included), `active` (distinct active units in the period: MAU for months),
/// `stickiness` = dau / active, `active_customers`, `events`, `events_per_active_customer`,
/// `active_users_per_active_customer` (mean over active customer-days of the day's active
/// users, the largest of the day's rows, for aggregates). A unit is active on a day when it has a row with users or events that day.
pub fn engagement(frame: &DataFrame, options: &EngagementOptions) -> Result<DataFrame> {
    let usage = read_usage(frame, options)?;
    let period = options.period;
    // (group, period) -> stats
    #[derive(Default)]
    struct Cell {
        day_units: HashSet<(i64, u32)>,
        // Days of the period on which each unit was active in the 7 days ending that day.
        week_units: HashSet<(i64, u32)>,
        units: HashSet<u32>,
        customers: HashSet<u32>,
        // Most active users of each customer-day: rows per feature repeat the same people.
        customer_days: HashMap<(i64, u32), f64>,
        events: f64,
    }
    let mut cells: HashMap<(usize, i64), Cell> = HashMap::new();
    let mut spill: Vec<(usize, i64, i64, u32)> = Vec::new();
    for i in 0..usage.day.len() {
        let g = usage.group[usage.row[i]] as usize;
        let p = period.start_of(usage.day[i]);
        let cell = cells.entry((g, p)).or_default();
        cell.day_units.insert((usage.day[i], usage.unit[i]));
        // Activity on day a counts towards the trailing weeks ending on a..=a+6, which may lie
        // in the next period (filled below).
        for ahead in 0..7 {
            let covered = usage.day[i] + ahead;
            if covered > usage.as_of_day {
                break;
            }
            let cp = period.start_of(covered);
            if cp == p {
                cell.week_units.insert((covered, usage.unit[i]));
            } else {
                spill.push((g, cp, covered, usage.unit[i]));
            }
        }
        cell.units.insert(usage.unit[i]);
        cell.customers.insert(usage.customer[i]);
        let users = cell
            .customer_days
            .entry((usage.day[i], usage.customer[i]))
            .or_insert(0.0);
        *users = users.max(usage.users[i]);
        cell.events += usage.events[i];
    }
    for (g, p, covered, unit) in spill {
        // Only periods with activity of their own are reported.
        if let Some(cell) = cells.get_mut(&(g, p)) {
            cell.week_units.insert((covered, unit));
        }
    }
    let mut keys: Vec<(usize, i64)> = cells.keys().copied().collect();
    sort_cells(&usage, &mut keys);
    let mut columns = key_columns(&usage, &keys)?;
    let mut complete = Vec::new();
    let mut days = Vec::new();
    let mut dau = Vec::new();
    let mut wau = Vec::new();
    let mut active = Vec::new();
    let mut stickiness = Vec::new();
    let mut customers = Vec::new();
    let mut events = Vec::new();
    let mut per_customer = Vec::new();
    let mut users_per_customer = Vec::new();
    for key in &keys {
        let cell = &cells[key];
        let next = period.next_start(key.1);
        let last = (next - 1).min(usage.as_of_day);
        let n_days = last - key.1 + 1;
        complete.push(next - 1 <= usage.as_of_day);
        days.push(n_days);
        let mean_dau = cell.day_units.len() as f64 / n_days as f64;
        dau.push(mean_dau);
        wau.push(cell.week_units.len() as f64 / n_days as f64);
        active.push(cell.units.len() as i64);
        stickiness.push(rate(mean_dau, cell.units.len() as f64));
        customers.push(cell.customers.len() as i64);
        events.push(cell.events);
        per_customer.push(rate(cell.events, cell.customers.len() as f64));
        users_per_customer.push(if options.user_id.is_some() {
            None
        } else {
            rate(
                cell.customer_days.values().sum(),
                cell.customer_days.len() as f64,
            )
        });
    }
    columns.push(Column::new("complete".into(), complete));
    columns.push(Column::new("days".into(), days));
    columns.push(Column::new("dau".into(), dau));
    columns.push(Column::new("wau".into(), wau));
    columns.push(Column::new("active".into(), active));
    columns.push(Column::new("stickiness".into(), stickiness));
    columns.push(Column::new("active_customers".into(), customers));
    columns.push(Column::new("events".into(), events));
    columns.push(Column::new(
        "events_per_active_customer".into(),
        per_customer,
    ));
    columns.push(Column::new(
        "active_users_per_active_customer".into(),
        users_per_customer,
    ));
    Ok(DataFrame::new(keys.len(), columns)?)
}

/// Feature adoption per group, period and feature: the share of the period's active units
/// (customers, or users with `unit = user`) that used the feature.
///
/// Columns: keys, `period`, `feature`, `users_of_feature` (distinct units using it), `active`
/// (distinct active units in the group and period), `adoption`. Rows with a null feature count
/// as activity but adopt no feature.
pub fn feature_adoption(frame: &DataFrame, options: &EngagementOptions) -> Result<DataFrame> {
    let feature_name = options.feature.as_deref().ok_or_else(|| {
        CsError::option("feature", "None", "feature adoption needs a feature column")
    })?;
    let feature = encode_column(column(
        frame,
        feature_name,
        "the feature of each usage row",
    )?)?;
    let usage = read_usage(frame, options)?;
    let period = options.period;
    let mut active: HashMap<(usize, i64), HashSet<u32>> = HashMap::new();
    let mut using: HashMap<(usize, i64, u32), HashSet<u32>> = HashMap::new();
    let null_feature: Vec<bool> = feature
        .labels
        .as_materialized_series()
        .is_null()
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    for i in 0..usage.day.len() {
        let row = usage.row[i];
        let g = usage.group[row] as usize;
        let p = period.start_of(usage.day[i]);
        active.entry((g, p)).or_default().insert(usage.unit[i]);
        let f = feature.codes[row];
        if !null_feature[f as usize] {
            using.entry((g, p, f)).or_default().insert(usage.unit[i]);
        }
    }
    let mut cells: Vec<(usize, i64)> = active.keys().copied().collect();
    sort_cells(&usage, &mut cells);
    // Features in sorted order.
    let labels = feature
        .labels
        .as_materialized_series()
        .cast(&DataType::String)?;
    let names: Vec<Option<String>> = labels.str()?.iter().map(|v| v.map(String::from)).collect();
    let mut feature_order: Vec<u32> = (0..names.len() as u32)
        .filter(|f| !null_feature[*f as usize])
        .collect();
    feature_order.sort_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
    let mut rows: Vec<(usize, i64)> = Vec::new();
    let mut row_feature: Vec<u32> = Vec::new();
    let mut users = Vec::new();
    let mut actives = Vec::new();
    let mut adoption = Vec::new();
    for cell in &cells {
        let n_active = active[cell].len() as i64;
        for f in &feature_order {
            if let Some(set) = using.get(&(cell.0, cell.1, *f)) {
                rows.push(*cell);
                row_feature.push(*f);
                users.push(set.len() as i64);
                actives.push(n_active);
                adoption.push(rate(set.len() as f64, n_active as f64));
            }
        }
    }
    let mut columns = key_columns(&usage, &rows)?;
    let feature_values = feature
        .labels
        .as_materialized_series()
        .take(&IdxCa::from_vec("".into(), row_feature.clone()))?
        .with_name("feature".into());
    columns.push(feature_values.into_column());
    columns.push(Column::new("users_of_feature".into(), users));
    columns.push(Column::new("active".into(), actives));
    columns.push(Column::new("adoption".into(), adoption));
    Ok(DataFrame::new(rows.len(), columns)?)
}
