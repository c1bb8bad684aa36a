//! Billing detail (docs/metrics/billing.md): seats, discounts, statuses, cancellation requests
//! and churn reasons, turned into the engine's rows.
//!
//! Each subscription row becomes one or more *segments*: spans of time over which its monthly
//! amount is constant. A discount window starting or ending inside a row splits it; a status
//! decides whether the row carries MRR at all, holds the customer at $0 (a pause) or is cut short
//! (delinquency); a cancellation request splits it into a committed and an uncommitted part.
//! Every segment keeps its net, contract and chosen-basis amounts in exact integer units, the
//! cause of the change at its start and at its end, and the churn reason its end carries. The
//! sweep then reads segments exactly as it reads plain subscriptions.

use std::collections::HashMap;

use crate::alloc::zeroed_buffer;

use polars::prelude::*;

use super::input::{customers_coded, read_billing_rows, Normalised, DAY};
use super::{RevenueInput, RevenueOptions};
use crate::error::{CsError, Result};
use crate::groups::encode_column;
use crate::input::{self, invalid, optional_instants, Role};
use crate::period::{civil_from_days, days_from_civil};

named_options!(
    /// How several percent-off discounts on one subscription combine.
    Stacking, "stacking",
    /// Each applies to what the previous left, in start order: two 10% take 19% (default).
    #[default]
    Sequential = "sequential",
    /// The percentages add up on the undiscounted amount (capped at 100%): two 10% take 20%.
    Sum = "sum",
);

named_options!(
    /// Which discounts MRR is net of.
    MrrBasis, "mrr_basis",
    /// Net of every discount active at the snapshot instant (default).
    #[default]
    Net = "net",
    /// Undiscounted.
    Contract = "contract",
    /// Only `forever` discounts deducted.
    ForeverOnly = "forever_only",
);

named_options!(
    /// What a trialing row counts as.
    Trials, "trials",
    /// No MRR and no activity: the customer is new with its first paid row (default).
    #[default]
    Exclude = "exclude",
    /// Counted like an active row.
    Include = "include",
);

named_options!(
    /// What a past-due row counts as.
    PastDue, "past_due",
    /// Keeps its MRR until it ends (default).
    #[default]
    Active = "active",
    /// Loses its MRR `delinquency_days` after the delinquency started (an involuntary churn).
    ChurnAfter = "churn_after",
);

named_options!(
    /// What a paused row counts as.
    Paused, "paused",
    /// $0 MRR but still a customer: a contraction to 0, an expansion on resume (default).
    #[default]
    Zero = "zero",
    /// Keeps its MRR.
    Active = "active",
    /// No MRR and no activity: the customer churns and reactivates.
    Churn = "churn",
);

named_options!(
    /// Which instant a cancellation churns at.
    ChurnAt, "churn_at",
    /// When access ends: the row's `end` (default).
    #[default]
    End = "end",
    /// When the customer asked: `canceled_at`.
    Cancel = "cancel",
);

named_options!(
    /// Voluntary or involuntary churn.
    ChurnKind, "churn_reasons",
    /// Neither known nor mapped (default).
    #[default]
    Unknown = "unknown",
    /// The customer asked (Stripe's `cancellation_requested`).
    Voluntary = "voluntary",
    /// Payment failed or was disputed (`payment_failed`, `payment_disputed`).
    Involuntary = "involuntary",
);

impl ChurnKind {
    /// The three kinds, in output order.
    pub const ALL: [ChurnKind; 3] = [
        ChurnKind::Voluntary,
        ChurnKind::Involuntary,
        ChurnKind::Unknown,
    ];
}

/// Why a customer's MRR moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Cause {
    /// A first MRR.
    New = 0,
    /// A price or product change: a subscription started or ended.
    Plan = 1,
    /// A quantity (seats) change on one subscription.
    Quantity = 2,
    /// A discount started or ended.
    Discount = 3,
    /// A status change: pause, resume, delinquency.
    Status = 4,
    /// A currency change on one subscription.
    Fx = 5,
    /// MRR down to 0.
    Churn = 6,
    /// MRR back from 0.
    Reactivation = 7,
}

impl Cause {
    /// Causes by code.
    pub const ALL: [Cause; 8] = [
        Cause::New,
        Cause::Plan,
        Cause::Quantity,
        Cause::Discount,
        Cause::Status,
        Cause::Fx,
        Cause::Churn,
        Cause::Reactivation,
    ];

    /// The name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Cause::New => "new",
            Cause::Plan => "plan",
            Cause::Quantity => "quantity",
            Cause::Discount => "discount",
            Cause::Status => "status",
            Cause::Fx => "fx",
            Cause::Churn => "churn",
            Cause::Reactivation => "reactivation",
        }
    }
}

/// Discount columns on the subscription rows; each is read when the table has it.
#[derive(Debug, Clone)]
pub struct DiscountColumns {
    /// Percent off, 0 to 100. Default `percent_off`.
    pub percent_off: Option<String>,
    /// Amount off in the row's currency and billing interval. Default `amount_off`.
    pub amount_off: Option<String>,
    /// `once`, `repeating` or `forever`. Default `discount_duration`.
    pub duration: Option<String>,
    /// Months of a repeating discount. Default `duration_in_months`.
    pub duration_in_months: Option<String>,
    /// When the discount starts (default the subscription's first start). Default `discount_start`.
    pub start: Option<String>,
    /// When the discount ends, if before its duration does. Default `discount_end`.
    pub end: Option<String>,
}

impl Default for DiscountColumns {
    fn default() -> Self {
        DiscountColumns {
            percent_off: Some("percent_off".into()),
            amount_off: Some("amount_off".into()),
            duration: Some("discount_duration".into()),
            duration_in_months: Some("duration_in_months".into()),
            start: Some("discount_start".into()),
            end: Some("discount_end".into()),
        }
    }
}

impl DiscountColumns {
    /// No discount columns.
    pub fn none() -> Self {
        DiscountColumns {
            percent_off: None,
            amount_off: None,
            duration: None,
            duration_in_months: None,
            start: None,
            end: None,
        }
    }
}

/// The billing-detail options of the revenue functions (docs/metrics/billing.md).
#[derive(Debug, Clone)]
pub struct BillingOptions {
    /// A discounts table keyed by subscription or customer: `subscription_id` and/or
    /// `customer_id` (the subscriptions' column names), `percent_off`, `amount_off`, `duration`,
    /// `duration_in_months`, `start`, `end`.
    pub discounts: Option<DataFrame>,
    /// How percent-off discounts combine. Default sequential.
    pub stacking: Stacking,
    /// Which discounts MRR is net of. Default net.
    pub basis: MrrBasis,
    /// Report net and contract MRR side by side. Default false.
    pub with_contract: bool,
    /// Trialing rows. Default exclude.
    pub trials: Trials,
    /// Past-due rows. Default active.
    pub past_due: PastDue,
    /// Days of delinquency before a past-due subscription churns under `churn_after`. Default 30.
    pub delinquency_days: u32,
    /// Paused rows. Default zero.
    pub paused: Paused,
    /// Which instant a cancellation churns at. Default end.
    pub churn_at: ChurnAt,
    /// Churn reasons mapped to voluntary or involuntary, on top of Stripe's.
    pub churn_reasons: Vec<(String, ChurnKind)>,
}

impl Default for BillingOptions {
    fn default() -> Self {
        BillingOptions {
            discounts: None,
            stacking: Stacking::Sequential,
            basis: MrrBasis::Net,
            with_contract: false,
            trials: Trials::Exclude,
            past_due: PastDue::Active,
            delinquency_days: 30,
            paused: Paused::Zero,
            churn_at: ChurnAt::End,
            churn_reasons: Vec::new(),
        }
    }
}

/// Stripe's subscription statuses.
pub(crate) const STATUSES: [&str; 8] = [
    "trialing",
    "active",
    "past_due",
    "unpaid",
    "paused",
    "canceled",
    "incomplete",
    "incomplete_expired",
];
const TRIALING: u8 = 0;
const PAST_DUE: u8 = 2;
const UNPAID: u8 = 3;
const PAUSED: u8 = 4;

const DURATIONS: [&str; 3] = ["once", "repeating", "forever"];

/// The segments' billing detail, beside the engine's rows in [`Normalised`].
#[derive(Debug, Clone, Default)]
pub struct Billing {
    /// The segment keeps its customer at $0 (a pause): active, not paying.
    pub held: Vec<bool>,
    /// Net units of each segment (every discount deducted).
    pub net: Vec<i64>,
    /// Contract units of each segment (undiscounted).
    pub contract: Vec<i64>,
    /// The segment lies before any cancellation request of its subscription.
    pub committed: Vec<bool>,
    /// The churn kind (ChurnKind as u8) the segment's end carries.
    pub reason: Vec<u8>,
    /// The segment ends where its row stops (not at a split inside the row).
    pub closes: Vec<bool>,
    /// Cause (as u8) of the change at the segment's start (empty when the computation reports
    /// no causes).
    pub start_cause: Vec<u8>,
    /// Cause of the change at the segment's end.
    pub end_cause: Vec<u8>,
    /// Cancellation requests: (customer code, instant, units at risk).
    pub cancellations: Vec<(u32, i64, i64)>,
    /// The latest start of the input's rows (segments also start where a discount window or a
    /// cancellation request splits a row): the default `as_of`.
    pub last_start: i64,
    /// The input has a status column.
    pub has_status: bool,
    /// The input has a canceled_at column.
    pub has_cancel: bool,
    /// Churn is split by reason.
    pub has_reasons: bool,
    /// Net and contract MRR side by side.
    pub with_contract: bool,
}

/// The name of an optional column when the frame has it.
fn present<'a>(frame: &DataFrame, name: &'a Option<String>) -> Option<&'a str> {
    name.as_deref().filter(|n| frame.column(n).is_ok())
}

/// Whether the options or the table ask for billing detail.
pub(crate) fn requested(frame: &DataFrame, options: &RevenueOptions) -> bool {
    let RevenueInput::Subscriptions(c) = &options.input else {
        return false;
    };
    let b = &options.billing;
    b.discounts.is_some()
        || b.with_contract
        || [
            &c.quantity,
            &c.status,
            &c.canceled_at,
            &c.churn_reason,
            &c.discount.percent_off,
            &c.discount.amount_off,
        ]
        .iter()
        .any(|n| present(frame, n).is_some())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Duration {
    Once,
    Repeating(i64),
    Forever,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Row(usize),
    /// The subscriptions (of each customer) carrying the id.
    Subscription(Vec<u32>),
    Customer(u32),
}

#[derive(Debug, Clone)]
struct Discount {
    target: Target,
    /// Percent off in millionths of the amount (10^6 = 100%).
    ppm: i64,
    /// Amount off as given (per billing interval, in the row's currency).
    amount_off: f64,
    duration: Duration,
    start: Option<i64>,
    end: Option<i64>,
    /// Input order, breaking ties of start instants.
    order: usize,
}

/// The rows where any of the columns `names` holds a value, read from the validity masks.
fn rows_with_any(frame: &DataFrame, names: &[Option<&str>]) -> Result<Vec<IdxSize>> {
    let n = frame.height();
    let mut any = vec![false; n];
    for name in names.iter().flatten() {
        let series = frame.column(name)?.as_materialized_series();
        if series.null_count() == series.len() {
            continue;
        }
        let mut offset = 0;
        for array in series.chunks() {
            let here = &mut any[offset..offset + array.len()];
            match array.validity() {
                None => here.fill(true),
                Some(valid) => {
                    for (slot, v) in here.iter_mut().zip(valid.iter()) {
                        *slot |= v;
                    }
                }
            }
            offset += array.len();
        }
    }
    Ok(any
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.then_some(i as IdxSize))
        .collect())
}

/// Reads the discount columns of `frame` (rows `0..height`), each discount targeted by
/// `target(row)`; `start`/`end`/`duration` are the columns' names.
#[allow(clippy::too_many_arguments)]
fn read_discounts(
    frame: &DataFrame,
    percent_name: Option<&str>,
    amount_name: Option<&str>,
    duration_name: Option<&str>,
    months_name: Option<&str>,
    start_name: Option<&str>,
    end_name: Option<&str>,
    target: &dyn Fn(usize) -> Result<Option<Target>>,
    row_of: &dyn Fn(usize) -> usize,
    first_order: usize,
) -> Result<Vec<Discount>> {
    let rows = frame.height();
    let percent = match percent_name {
        Some(n) => {
            input::optional_numbers(frame, n, Role::Number, "the percent off of a discount")?
        }
        None => vec![None; rows],
    };
    let amount = match amount_name {
        Some(n) => input::optional_numbers(frame, n, Role::Number, "the amount off of a discount")?,
        None => vec![None; rows],
    };
    let duration_text = match duration_name {
        Some(n) => Some(input::text(
            frame,
            n,
            "the duration of a discount (once, repeating, forever)",
        )?),
        None => None,
    };
    let durations: Vec<Option<&str>> = match &duration_text {
        Some(ca) => ca.iter().collect(),
        None => vec![None; rows],
    };
    let months = match months_name {
        Some(n) => input::whole_numbers(frame, n, "the months of a repeating discount")?,
        None => vec![None; rows],
    };
    let starts = match start_name {
        Some(n) => optional_instants(frame, n, "the start of a discount")?.0,
        None => vec![None; rows],
    };
    let ends = match end_name {
        Some(n) => optional_instants(frame, n, "the end of a discount")?.0,
        None => vec![None; rows],
    };
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        if percent[row].is_none() && amount[row].is_none() {
            continue;
        }
        let Some(target) = target(row)? else {
            continue;
        };
        let ppm = match percent[row] {
            None => 0,
            Some(p) if p.is_finite() && (0.0..=100.0).contains(&p) => (p * 10_000.0).round() as i64,
            Some(p) => {
                return Err(invalid(
                    percent_name.unwrap_or_default(),
                    row_of(row),
                    crate::frame::format_number(p),
                    "percent_off must be a number from 0 to 100",
                ))
            }
        };
        let amount_off = match amount[row] {
            None => 0.0,
            Some(a) if a.is_finite() && a >= 0.0 => a,
            Some(a) => {
                return Err(invalid(
                    amount_name.unwrap_or_default(),
                    row_of(row),
                    crate::frame::format_number(a),
                    "amount_off must be a non-negative number",
                ))
            }
        };
        let duration = match durations[row] {
            // A discount without a duration lasts: Stripe's default for a coupon is once, but a
            // row-level discount column with no duration reads as a standing price reduction.
            None => Duration::Forever,
            Some("once") => Duration::Once,
            Some("forever") => Duration::Forever,
            Some("repeating") => match months[row] {
                Some(n) if n >= 1 => Duration::Repeating(n),
                other => {
                    return Err(invalid(
                        months_name.unwrap_or("duration_in_months"),
                        row_of(row),
                        other.map_or("null".to_string(), |v| v.to_string()),
                        "a repeating discount needs duration_in_months, a whole number >= 1",
                    ))
                }
            },
            Some(other) => {
                return Err(invalid(
                    duration_name.unwrap_or_default(),
                    row_of(row),
                    format!("'{other}'"),
                    &format!(
                        "a discount's duration must be one of {}",
                        DURATIONS.join(", ")
                    ),
                ))
            }
        };
        if let (Some(s), Some(e)) = (starts[row], ends[row]) {
            if e < s {
                return Err(invalid(
                    end_name.unwrap_or_default(),
                    row_of(row),
                    super::input::format_instant(e),
                    "a discount cannot end before it starts",
                ));
            }
        }
        out.push(Discount {
            target,
            ppm,
            amount_off,
            duration,
            start: starts[row],
            end: ends[row],
            order: first_order + row_of(row),
        });
    }
    Ok(out)
}

/// `instant` plus `months` calendar months, the day clamped to the month's last (time of day
/// kept).
pub(super) fn add_months(instant: i64, months: i64) -> i64 {
    let day = instant.div_euclid(DAY);
    let rest = instant.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(day);
    let index = y * 12 + i64::from(m) - 1 + months;
    let (ny, nm) = (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32);
    let last = days_from_civil(
        ny + i64::from(nm == 12),
        if nm == 12 { 1 } else { nm + 1 },
        1,
    ) - days_from_civil(ny, nm, 1);
    let nd = (d as i64).min(last) as u32;
    days_from_civil(ny, nm, nd) * DAY + rest
}

/// The billing period step of a row: months (calendar) or days.
#[derive(Debug, Clone, Copy)]
enum Step {
    Months(i64),
    Days(i64),
}

/// Start of the `k`-th billing period from `anchor`.
fn period_start(anchor: i64, step: Step, k: i64) -> i64 {
    match step {
        Step::Months(m) => add_months(anchor, m.saturating_mul(k)),
        Step::Days(d) => anchor.saturating_add(d.saturating_mul(k).saturating_mul(DAY)),
    }
}

/// The first billing period starting at or after `from`: [start, next start).
fn billing_period_at_or_after(anchor: i64, step: Step, from: i64) -> (i64, i64) {
    if from <= anchor {
        return (anchor, period_start(anchor, step, 1));
    }
    let approx = match step {
        Step::Months(m) => {
            let (ya, ma, _) = civil_from_days(anchor.div_euclid(DAY));
            let (yf, mf, _) = civil_from_days(from.div_euclid(DAY));
            ((yf * 12 + i64::from(mf)) - (ya * 12 + i64::from(ma))) / m.max(1)
        }
        Step::Days(d) => (from - anchor) / (d.max(1) * DAY),
    };
    let mut k = (approx - 1).max(0);
    while period_start(anchor, step, k) < from {
        k += 1;
    }
    (
        period_start(anchor, step, k),
        period_start(anchor, step, k + 1),
    )
}

/// The months and days of each interval index (day, week, month, quarter, year).
const STEPS: [Step; 5] = [
    Step::Days(1),
    Step::Days(7),
    Step::Months(1),
    Step::Months(3),
    Step::Months(12),
];

/// round_half_even(value * numerator / denominator) for non-negative values.
fn scale_half_even(value: i64, numerator: i64, denominator: i64) -> i64 {
    let n = i128::from(value) * i128::from(numerator);
    let d = i128::from(denominator);
    let (q, r) = (n / d, n % d);
    let twice = 2 * r;
    let rounded = if twice > d || (twice == d && q % 2 == 1) {
        q + 1
    } else {
        q
    };
    rounded as i64
}

/// Percent discounts (ppm, in application order) applied to `value` under `stacking`.
fn apply_percents(value: i64, ppms: &[i64], stacking: Stacking) -> i64 {
    match stacking {
        Stacking::Sequential => ppms
            .iter()
            .fold(value, |v, p| scale_half_even(v, 1_000_000 - p, 1_000_000)),
        Stacking::Sum => {
            if ppms.is_empty() {
                return value;
            }
            let total: i64 = ppms.iter().sum::<i64>().min(1_000_000);
            scale_half_even(value, 1_000_000 - total, 1_000_000)
        }
    }
}

/// One discount's window over a row: [from, until).
fn window(d: &Discount, anchor: i64, step: Step, fallback_start: i64) -> (i64, i64) {
    let start = d.start.unwrap_or(fallback_start);
    let (from, until) = match d.duration {
        Duration::Once => billing_period_at_or_after(anchor, step, start),
        Duration::Repeating(n) => (start, add_months(start, n)),
        Duration::Forever => (start, i64::MAX),
    };
    (from, d.end.map_or(until, |e| until.min(e)))
}

/// A segment under construction.
#[derive(Debug, Clone, Copy)]
struct Segment {
    customer: u32,
    start: i64,
    end: i64,
    net: i64,
    forever: i64,
    contract: i64,
    held: bool,
    committed: bool,
    reason: u8,
    start_cause: u8,
    end_cause: u8,
    /// The segment ends where its row stops (not at a split inside the row).
    closes: bool,
    /// Row of the input (for customer-level allocation: its factor and rate).
    row: usize,
}

/// Ranges of groups (`group_at` holds each group's first position, and the total last) of
/// about equal rows, one per thread.
pub(super) fn group_ranges(group_at: &[usize]) -> Vec<std::ops::Range<usize>> {
    let groups = group_at.len().saturating_sub(1);
    let rows = group_at.last().copied().unwrap_or(0);
    let parts = crate::parallel::work_ranges(rows).len().max(1);
    let mut out = Vec::with_capacity(parts);
    let mut first = 0usize;
    for part in 1..=parts {
        let target = rows * part / parts;
        let mut last = if part == parts {
            groups
        } else {
            group_at.partition_point(|p| *p < target).min(groups)
        };
        last = last.max(first);
        if last > first || (part == parts && out.is_empty()) {
            out.push(first..last);
        }
        first = last;
    }
    out
}

/// Subscription identities: a subscription id names a subscription within its customer.
pub(super) struct SubscriptionKey {
    /// Identity code of each row.
    pub(super) codes: Vec<u32>,
    /// First row of each identity.
    first_rows: Vec<u32>,
}

/// Codes the subscription ids within each customer (a customer has few subscriptions: no
/// hashing of every row), or through the general key encoding for other key types.
pub(super) fn subscriptions_within_customers(
    column: &Column,
    customer_codes: &[u32],
    customers: usize,
) -> Result<SubscriptionKey> {
    let (offsets, order) = crate::groups::rows_by_code(customer_codes, customers);
    if let Some((codes, first_rows)) = crate::groups::encode_within(column, &offsets, &order)? {
        return Ok(SubscriptionKey { codes, first_rows });
    }
    // Other key types: one code per (customer, id).
    let ids = encode_column(column)?;
    let (codes, first_rows) = crate::groups::encode_rows(customer_codes.len(), |row| {
        (customer_codes[row], ids.codes[row])
    });
    Ok(SubscriptionKey { codes, first_rows })
}

/// Builds the engine's rows from a subscriptions table with billing detail.
pub(crate) fn build(
    frame: &DataFrame,
    options: &RevenueOptions,
    in_id_order: bool,
    causes: bool,
) -> Result<Normalised> {
    let RevenueInput::Subscriptions(c) = &options.input else {
        return Err(CsError::option(
            "table",
            "'monthly'",
            "billing detail needs a subscriptions table",
        ));
    };
    let b = &options.billing;
    let quantity = present(frame, &c.quantity);
    let rows = read_billing_rows(frame, options, quantity)?;
    let n = frame.height();
    let customers = customers_coded(frame, &rows.customer_name, &options.by, in_id_order)?;
    super::input::check_customer_sums(
        &customers,
        &rows.units,
        &rows.customer_name,
        options.precision,
    )?;
    let precision_scale = 10f64.powi(options.precision as i32);

    // Subscription identity.
    let sub_name = present(frame, &c.subscription_id);
    let sub_key = match sub_name {
        Some(name) => {
            let column = frame.column(name)?;
            if let Some(row) = input::first_null(column.as_materialized_series()) {
                return Err(invalid(
                    name,
                    row,
                    "null",
                    "every row needs a subscription id (pass subscription_id=None to ignore the column)",
                ));
            }
            Some(subscriptions_within_customers(
                column,
                &customers.codes,
                customers.labels.len(),
            )?)
        }
        None => None,
    };
    // The identity rows are matched on: the subscription, or the customer without one.
    let identity: Vec<u32> = match &sub_key {
        Some(k) => k.codes.clone(),
        None => customers.codes.clone(),
    };

    let status_name = present(frame, &c.status);
    let status = match status_name {
        Some(name) => Some(input::labels(
            frame,
            name,
            "the status of each row (Stripe's subscription statuses)",
            &STATUSES,
            &format!("a status must be one of {}", STATUSES.join(", ")),
        )?),
        None => None,
    };
    let cancel_name = present(frame, &c.canceled_at);
    let canceled_at = match cancel_name {
        Some(name) => Some(
            optional_instants(
                frame,
                name,
                "when cancellation was requested (null if never)",
            )?
            .0,
        ),
        None => None,
    };
    let reason_name = present(frame, &c.churn_reason);
    let reasons: Option<Vec<u8>> = match reason_name {
        Some(name) => {
            let ca = input::text(frame, name, "the churn reason of each row")?;
            let kind = |v: Option<&str>| -> u8 {
                let Some(v) = v else {
                    return ChurnKind::Unknown as u8;
                };
                if let Some((_, k)) = b.churn_reasons.iter().find(|(r, _)| r == v) {
                    return *k as u8;
                }
                (match v {
                    "cancellation_requested" => ChurnKind::Voluntary,
                    "payment_failed" | "payment_disputed" => ChurnKind::Involuntary,
                    _ => ChurnKind::Unknown,
                }) as u8
            };
            Some(ca.iter().map(kind).collect())
        }
        None => None,
    };

    // Rows grouped by identity (a counting sort), each group in start order: identity k's rows
    // are `grouped[group_at[k]..group_at[k + 1]]`.
    let identities = identity.iter().map(|k| *k as usize + 1).max().unwrap_or(0);
    let (group_at, mut grouped) = crate::groups::rows_by_code(&identity, identities);
    // Ranges of identities of about equal rows, for the loops over groups below.
    let identity_ranges = group_ranges(&group_at);
    {
        // Each group in start order (most already are), ranges of groups in parallel.
        let sort = |ks: std::ops::Range<usize>, slice: &mut [u32]| {
            let base = group_at[ks.start];
            for k in ks {
                let group = &mut slice[group_at[k] - base..group_at[k + 1] - base];
                let key = |r: &u32| (rows.start[*r as usize], *r);
                if group.len() > 1 && !group.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
                    group.sort_unstable_by_key(key);
                }
            }
        };
        std::thread::scope(|scope| {
            let mut rest: &mut [u32] = &mut grouped;
            for ks in identity_ranges.iter().cloned() {
                let (head, tail) =
                    std::mem::take(&mut rest).split_at_mut(group_at[ks.end] - group_at[ks.start]);
                rest = tail;
                let sort = &sort;
                scope.spawn(move || sort(ks, head));
            }
        });
    }
    let group_of = |k: usize| &grouped[group_at[k]..group_at[k + 1]];
    // First start of each subscription (or customer), and of each customer: discount anchors.
    let identity_first: Vec<i64> = (0..identities)
        .map(|k| {
            group_of(k)
                .first()
                .map_or(i64::MAX, |r| rows.start[*r as usize])
        })
        .collect();
    let mut customer_first = vec![i64::MAX; customers.labels.len()];
    for (code, start) in customers.codes.iter().zip(&rows.start) {
        let e = &mut customer_first[*code as usize];
        *e = (*e).min(*start);
    }

    // Discounts: row columns, then the discounts table.
    let d = &c.discount;
    let mut discounts: Vec<Discount> = Vec::new();
    let percent_col = present(frame, &d.percent_off);
    let amount_col = present(frame, &d.amount_off);
    if percent_col.is_some() || amount_col.is_some() {
        // Only the rows carrying a discount are read (most rows carry none).
        let carrying = rows_with_any(frame, &[percent_col, amount_col])?;
        let names = [
            percent_col,
            amount_col,
            present(frame, &d.duration),
            present(frame, &d.duration_in_months),
            present(frame, &d.start),
            present(frame, &d.end),
        ];
        let mut selected: Vec<&str> = Vec::new();
        for name in names.iter().flatten() {
            if !selected.contains(name) {
                selected.push(name);
            }
        }
        let rows_carrying = frame
            .select(selected)?
            .take(&IdxCa::from_slice("".into(), &carrying))?;
        let row_of = |r: usize| carrying[r] as usize;
        discounts = read_discounts(
            &rows_carrying,
            names[0],
            names[1],
            names[2],
            names[3],
            names[4],
            names[5],
            &|r| Ok(Some(Target::Row(row_of(r)))),
            &row_of,
            0,
        )?;
    }
    if let Some(table) = &b.discounts {
        let sub_column = sub_name.and_then(|s| table.column(s).ok());
        let customer_column = table.column(&rows.customer_name).ok();
        if sub_column.is_none() && customer_column.is_none() {
            return Err(CsError::option(
                "discounts",
                "a table",
                &format!(
                    "the discounts table needs a '{}' or '{}' column naming what each discount applies to",
                    c.subscription_id.as_deref().unwrap_or("subscription_id"),
                    rows.customer_name
                ),
            ));
        }
        let labels_of = |key: &crate::groups::EncodedKey| -> Result<HashMap<String, u32>> {
            let strings = key.labels.cast(&DataType::String)?;
            Ok(strings
                .str()?
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (v.to_string(), i as u32)))
                .collect())
        };
        // A subscription id names one subscription of each customer it appears under.
        let sub_map: Option<HashMap<String, Vec<u32>>> = match (&sub_key, sub_column, sub_name) {
            (Some(k), Some(_), Some(name)) => {
                let strings = frame.column(name)?.cast(&DataType::String)?;
                let strings = strings.str()?;
                let mut map: HashMap<String, Vec<u32>> = HashMap::new();
                for (code, row) in k.first_rows.iter().enumerate() {
                    if let Some(v) = strings.get(*row as usize) {
                        map.entry(v.to_string()).or_default().push(code as u32);
                    }
                }
                Some(map)
            }
            _ => None,
        };
        let customer_map = labels_of(&crate::groups::EncodedKey {
            codes: Vec::new(),
            labels: customers.labels.clone(),
        })?;
        let sub_values = match sub_column {
            Some(col) => Some(col.cast(&DataType::String)?.str()?.clone()),
            None => None,
        };
        let customer_values = match customer_column {
            Some(col) => Some(col.cast(&DataType::String)?.str()?.clone()),
            None => None,
        };
        let sub_label = sub_name.unwrap_or("subscription_id").to_string();
        let customer_label = rows.customer_name.clone();
        let target = |row: usize| -> Result<Option<Target>> {
            if let (Some(values), Some(map)) = (&sub_values, &sub_map) {
                if let Some(v) = values.get(row) {
                    return match map.get(v) {
                        Some(codes) => Ok(Some(Target::Subscription(codes.clone()))),
                        None => Err(invalid(
                            &sub_label,
                            row,
                            format!("'{v}'"),
                            "a discount must be keyed to a subscription of the subscriptions table",
                        )),
                    };
                }
            }
            if let Some(values) = &customer_values {
                if let Some(v) = values.get(row) {
                    return match customer_map.get(v) {
                        Some(code) => Ok(Some(Target::Customer(*code))),
                        None => Err(invalid(
                            &customer_label,
                            row,
                            format!("'{v}'"),
                            "a discount must be keyed to a customer of the subscriptions table",
                        )),
                    };
                }
            }
            Err(invalid(
                &sub_label,
                row,
                "null",
                "a discount needs a subscription id or a customer id",
            ))
        };
        fn has<'a>(table: &DataFrame, n: &'a str) -> Option<&'a str> {
            table.column(n).is_ok().then_some(n)
        }
        discounts.extend(read_discounts(
            table,
            has(table, "percent_off"),
            has(table, "amount_off"),
            has(table, "duration"),
            has(table, "duration_in_months"),
            has(table, "start"),
            has(table, "end"),
            &target,
            &|r| r,
            n,
        )?);
    }
    // Discounts by row (the row columns hold at most one), by subscription and by customer.
    let mut row_discount = vec![
        u32::MAX;
        if percent_col.is_some() || amount_col.is_some() {
            n
        } else {
            0
        }
    ];
    let mut by_sub: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut by_customer: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, disc) in discounts.iter().enumerate() {
        match disc.target {
            Target::Row(r) => row_discount[r] = i as u32,
            Target::Subscription(ref codes) => {
                for s in codes {
                    by_sub.entry(*s).or_default().push(i);
                }
            }
            Target::Customer(c) => by_customer.entry(c).or_default().push(i),
        }
    }

    // A row's own discounts, as compared between rows.
    type Terms = (i64, u64, Duration, Option<i64>, Option<i64>);
    let discount_of = |row: usize| -> Option<Terms> {
        let i = *row_discount.get(row)?;
        let d = discounts.get(i as usize)?;
        Some((d.ppm, d.amount_off.to_bits(), d.duration, d.start, d.end))
    };
    // Where a row's own discount begins by default: the start of the run of contiguous rows of
    // its subscription carrying the same discount (a coupon repeated on every status spell
    // starts once), or the row's start without subscription ids.
    let mut run_start = rows.start.clone();
    if sub_key.is_some() && !row_discount.is_empty() {
        let moved = crate::parallel::parallel(identity_ranges.clone(), |ks| {
            let mut moved: Vec<(u32, i64)> = Vec::new();
            for k in ks {
                // (row, run start) of the group's rows so far.
                let mut last: Option<(usize, i64)> = None;
                for w in group_of(k).windows(2) {
                    let (q, r) = (w[0] as usize, w[1] as usize);
                    let q_start = match last {
                        Some((row, start)) if row == q => start,
                        _ => rows.start[q],
                    };
                    last = None;
                    if discount_of(r).is_some()
                        && rows.end[q] == rows.start[r]
                        && discount_of(q) == discount_of(r)
                    {
                        moved.push((r as u32, q_start));
                        last = Some((r, q_start));
                    }
                }
            }
            moved
        });
        for (r, start) in moved.into_iter().flatten() {
            run_start[r as usize] = start;
        }
    }

    // Row boundary causes: a row starting where a row of the same identity ends (only for
    // movement rows, which report them).
    let mut start_cause = vec![Cause::Plan as u8; n];
    let mut end_cause = vec![Cause::Plan as u8; n];
    if causes {
        let amounts = input::optional_numbers(frame, &c.amount, Role::Number, "the billed amount")?;
        let currency = match present(frame, &c.currency) {
            Some(name) => Some(input::text(frame, name, "the currency of each amount")?),
            None => None,
        };
        // Each row's predecessor: an unmatched row of its group ending where it starts (groups
        // are small; a large one is matched through a map of its ends).
        let cause_of = |q: usize, row: usize| -> u8 {
            let same_status = status.as_ref().is_none_or(|s| s[q] == s[row]);
            let same_currency = currency
                .as_ref()
                .is_none_or(|cur| cur.get(q) == cur.get(row));
            let same_price = amounts[q] == amounts[row] && rows.factors[q] == rows.factors[row];
            let same_quantity = rows.quantity.as_ref().is_none_or(|qs| qs[q] == qs[row]);
            (if !same_status {
                Cause::Status
            } else if !same_currency {
                Cause::Fx
            } else if !same_price {
                Cause::Plan
            } else if !same_quantity {
                Cause::Quantity
            } else if discount_of(q) != discount_of(row) {
                Cause::Discount
            } else {
                Cause::Plan
            }) as u8
        };
        let parts = crate::parallel::parallel(identity_ranges.clone(), |ks| {
            let mut pairs: Vec<(usize, usize)> = Vec::new();
            let mut matched: Vec<bool> = Vec::new();
            let mut ends: HashMap<i64, Vec<usize>> = HashMap::new();
            for k in ks {
                let group = group_of(k);
                if group.len() < 2 {
                    continue;
                }
                if group.len() <= 32 {
                    matched.clear();
                    matched.resize(group.len(), false);
                    for (w, r) in group.iter().enumerate() {
                        let r = *r as usize;
                        if let Some(v) = (0..group.len()).find(|v| {
                            *v != w && !matched[*v] && rows.end[group[*v] as usize] == rows.start[r]
                        }) {
                            matched[v] = true;
                            pairs.push((group[v] as usize, r));
                        }
                    }
                } else {
                    ends.clear();
                    for q in group.iter().rev() {
                        let q = *q as usize;
                        if rows.end[q] != i64::MAX {
                            ends.entry(rows.end[q]).or_default().push(q);
                        }
                    }
                    for r in group {
                        let r = *r as usize;
                        if let Some(list) = ends.get_mut(&rows.start[r]) {
                            if let Some(pos) = list.iter().rposition(|q| *q != r) {
                                pairs.push((list.remove(pos), r));
                            }
                        }
                    }
                }
            }
            pairs
                .into_iter()
                .map(|(q, row)| (q as u32, row as u32, cause_of(q, row)))
                .collect::<Vec<_>>()
        });
        for (q, row, cause) in parts.into_iter().flatten() {
            end_cause[q as usize] = cause;
            start_cause[row as usize] = cause;
        }
    }

    // Past-due spells: the start of each row's delinquency (chained over contiguous past-due
    // rows of one subscription).
    let delinquency_start: Option<Vec<i64>> = match (&status, b.past_due) {
        (Some(s), PastDue::ChurnAfter) => {
            let mut out = rows.start.clone();
            if sub_key.is_some() {
                // Ranges of groups in parallel; a chain's rows are in start order in its group.
                let moved = crate::parallel::parallel(identity_ranges.clone(), |ks| {
                    let mut moved: Vec<(u32, i64)> = Vec::new();
                    for k in ks {
                        let mut chain: Option<(usize, i64)> = None;
                        for w in group_of(k).windows(2) {
                            let (q, r) = (w[0] as usize, w[1] as usize);
                            if s[q] == PAST_DUE && s[r] == PAST_DUE && rows.end[q] == rows.start[r]
                            {
                                let from = match chain {
                                    Some((row, start)) if row == q => start,
                                    _ => rows.start[q],
                                };
                                moved.push((r as u32, from));
                                chain = Some((r, from));
                            }
                        }
                    }
                    moved
                });
                for (r, start) in moved.into_iter().flatten() {
                    out[r as usize] = start;
                }
            }
            Some(out)
        }
        _ => None,
    };
    let delinquency = i64::from(b.delinquency_days) * DAY;

    let step_of = |row: usize| -> Step {
        let (m, dv) = rows.factors[row];
        // factors are (multiplier, divisor) of the monthly amount; recover the interval.
        let interval = match (m, dv) {
            (365, x) if x % 12 == 0 => (0usize, x / 12),
            (365, x) if x % 84 == 0 => (1, x / 84),
            (1, x) if x % 12 == 0 => (4, x / 12),
            (1, x) if x % 3 == 0 => (3, x / 3),
            (_, x) => (2, x),
        };
        match STEPS[interval.0] {
            Step::Months(k) => Step::Months(k * interval.1.max(1)),
            Step::Days(k) => Step::Days(k * interval.1.max(1)),
        }
    };
    let amount_units = |row: usize, amount_off: f64| -> i64 {
        if amount_off == 0.0 {
            return 0;
        }
        let (m, dv) = rows.factors[row];
        let rate = rows.rates.as_ref().map_or(1.0, |r| r[row]);
        let u = (amount_off * rate * m as f64 / dv as f64 * precision_scale).round_ties_even();
        if u >= 9.2e18 {
            i64::MAX / 4
        } else {
            u as i64
        }
    };

    // Rows are independent: ranges of them become segments in parallel, in row order.
    let parts = crate::parallel::parallel(crate::parallel::work_ranges(n), |range| {
        let mut segments: Vec<Segment> = Vec::with_capacity(range.len());
        let mut cancels: Vec<((u32, i64), usize, bool)> = Vec::new();
        // Segment range of each row.
        let mut row_segments: Vec<(u32, u32)> = vec![(0, 0); range.len()];
        let mut cuts: Vec<i64> = Vec::new();
        let mut own: Vec<(usize, i64, i64)> = Vec::new();
        let mut active: Vec<(i64, usize, bool, i64)> = Vec::new(); // (start, order, forever, index)
        for row in range.clone() {
            let first_segment = segments.len() as u32;
            let start = rows.start[row];
            let mut end = rows.end[row];
            let mut end_cause_row = end_cause[row];
            let mut reason = reasons
                .as_ref()
                .map_or(ChurnKind::Unknown as u8, |r| r[row]);
            let mut held = false;
            let mut drop = false;
            // The delinquency cut that ended the row, if one did.
            let mut delinquency_cut = None;
            if let Some(s) = &status {
                match s[row] {
                    TRIALING => drop = b.trials == Trials::Exclude,
                    UNPAID | 6 | 7 => drop = true,
                    PAUSED => match b.paused {
                        Paused::Zero => held = true,
                        Paused::Active => {}
                        Paused::Churn => drop = true,
                    },
                    PAST_DUE => {
                        if let Some(ds) = &delinquency_start {
                            let cut = ds[row].saturating_add(delinquency);
                            if cut < end {
                                end = cut.max(start);
                                end_cause_row = Cause::Status as u8;
                                reason = ChurnKind::Involuntary as u8;
                                delinquency_cut = Some(cut);
                            }
                        }
                    }
                    _ => {}
                }
            }
            let cancel = canceled_at.as_ref().and_then(|c| c[row]);
            // Whether the request itself ends the row (its MRR at risk is then the MRR just
            // before the cut).
            let mut cut_by_request = false;
            if let (Some(cx), ChurnAt::Cancel) = (cancel, b.churn_at) {
                if cx < end {
                    // The request ends the row before any delinquency cut: its own reason.
                    end = cx.max(start);
                    cut_by_request = true;
                    end_cause_row = end_cause[row];
                    reason = reasons
                        .as_ref()
                        .map_or(ChurnKind::Unknown as u8, |r| r[row]);
                } else if delinquency_cut == Some(cx) {
                    // A request on the instant of the delinquency cut: the churn is the
                    // request's (its reason and cause); the cut still ends the row.
                    end_cause_row = end_cause[row];
                    reason = reasons
                        .as_ref()
                        .map_or(ChurnKind::Unknown as u8, |r| r[row]);
                }
            }
            if let Some(cx) = cancel {
                // Without subscription ids each row is its own subscription.
                let key = if sub_key.is_some() {
                    identity[row]
                } else {
                    row as u32
                };
                cancels.push(((key, cx), row, cut_by_request));
            }
            if drop || end <= start {
                row_segments[row - range.start] = (first_segment, first_segment);
                continue;
            }
            let committed_before = |t: i64| cancel.is_none_or(|cx| t < cx);
            if held {
                segments.push(Segment {
                    customer: customers.codes[row],
                    start,
                    end,
                    net: 0,
                    forever: 0,
                    contract: 0,
                    held: true,
                    committed: committed_before(start),
                    reason,
                    start_cause: start_cause[row],
                    end_cause: end_cause_row,
                    closes: true,
                    row,
                });
                row_segments[row - range.start] = (first_segment, segments.len() as u32);
                continue;
            }
            // The discounts on this row, with their windows.
            // Billing periods step from the subscription's first start (the row's own without
            // subscription ids).
            let anchor = if sub_key.is_some() {
                identity_first[identity[row] as usize].min(start)
            } else {
                start
            };
            let step = step_of(row);
            own.clear();
            let fallback = run_start[row];
            if let Some(i) = row_discount.get(row).filter(|i| **i != u32::MAX) {
                let i = *i as usize;
                let (f, u) = window(&discounts[i], anchor, step, fallback);
                own.push((i, f, u));
            }
            if let Some(list) = sub_key.as_ref().and_then(|k| by_sub.get(&k.codes[row])) {
                for i in list {
                    let (f, u) = window(&discounts[*i], anchor, step, anchor);
                    own.push((*i, f, u));
                }
            }
            cuts.clear();
            cuts.push(start);
            cuts.push(end);
            for (_, f, u) in &own {
                for t in [*f, *u] {
                    if t > start && t < end {
                        cuts.push(t);
                    }
                }
            }
            if let Some(cx) = cancel {
                if cx > start && cx < end {
                    cuts.push(cx);
                }
            }
            cuts.sort_unstable();
            cuts.dedup();
            let gross = rows.units[row];
            for w in 0..cuts.len() - 1 {
                let (a, z) = (cuts[w], cuts[w + 1]);
                active.clear();
                for (i, f, u) in &own {
                    if *f <= a && a < *u {
                        let d = &discounts[*i];
                        active.push((
                            d.start.unwrap_or(*f),
                            d.order,
                            d.duration == Duration::Forever,
                            *i as i64,
                        ));
                    }
                }
                active.sort_unstable_by_key(|x| (x.0, x.1));
                let (net, forever) = discounted(gross, &active, &discounts, b.stacking, |a| {
                    amount_units(row, a)
                });
                let boundary_cause = |t: i64, fallback: u8| -> u8 {
                    if own.iter().any(|(_, f, u)| *f == t || *u == t) {
                        Cause::Discount as u8
                    } else {
                        fallback
                    }
                };
                segments.push(Segment {
                    customer: customers.codes[row],
                    start: a,
                    end: z,
                    net,
                    forever,
                    contract: gross,
                    held: false,
                    committed: committed_before(a),
                    reason,
                    start_cause: if w == 0 {
                        start_cause[row]
                    } else {
                        boundary_cause(a, Cause::Plan as u8)
                    },
                    end_cause: if w + 2 == cuts.len() {
                        end_cause_row
                    } else {
                        boundary_cause(z, Cause::Plan as u8)
                    },
                    closes: w + 2 == cuts.len(),
                    row,
                });
            }
            row_segments[row - range.start] = (first_segment, segments.len() as u32);
        }
        (segments, row_segments, cancels)
    });
    // Segments stay in their parts (input-row order); row ranges index them as one list.
    let mut parts_out: Vec<Vec<Segment>> = Vec::with_capacity(parts.len());
    let mut row_segments: Vec<(u32, u32)> = Vec::with_capacity(n);
    let mut cancel_candidates: HashMap<(u32, i64), Vec<(usize, bool)>> = HashMap::new();
    let mut base = 0u32;
    for (part, ranges, cancels) in parts {
        row_segments.extend(ranges.into_iter().map(|(a, z)| (a + base, z + base)));
        base += part.len() as u32;
        parts_out.push(part);
        for (key, row, cut) in cancels {
            cancel_candidates.entry(key).or_default().push((row, cut));
        }
    }
    let mut parts = parts_out;
    // The row of each segment, once customer discounts have reordered them.
    let mut segment_rows: Option<Vec<usize>> = None;

    // Customer-level discounts, allocated over the customer's segments.
    if !by_customer.is_empty() {
        let segments: Vec<Segment> = parts.drain(..).flatten().collect();
        let mut keep: Vec<Segment> = Vec::with_capacity(segments.len());
        let mut of_customer: HashMap<u32, Vec<Segment>> = HashMap::new();
        for s in segments {
            if by_customer.contains_key(&s.customer) {
                of_customer.entry(s.customer).or_default().push(s);
            } else {
                keep.push(s);
            }
        }
        let mut customers_with: Vec<u32> = of_customer.keys().copied().collect();
        customers_with.sort_unstable();
        for customer in customers_with {
            let own = of_customer.remove(&customer).unwrap_or_default();
            let list = &by_customer[&customer];
            let first_row = own.iter().map(|s| s.row).min().unwrap_or(0);
            let anchor = customer_first[customer as usize];
            let step = step_of(first_row);
            let windows: Vec<(usize, i64, i64)> = list
                .iter()
                .map(|i| {
                    let (f, u) = window(&discounts[*i], anchor, step, anchor);
                    (*i, f, u)
                })
                .collect();
            keep.extend(allocate(&own, &windows, &discounts, b.stacking, |a| {
                amount_units(first_row, a)
            }));
        }
        // Row ranges are no longer contiguous: cancellations look segments up by row below.
        segment_rows = Some(keep.iter().map(|s| s.row).collect());
        row_segments.clear();
        parts = vec![keep];
    }

    // The engine's rows and the billing detail, column by column, each part filling its slice
    // in parallel.
    let count: usize = parts.iter().map(Vec::len).sum();
    let mut out = Normalised {
        customer: zeroed_buffer(count),
        customer_labels: customers.labels,
        start: zeroed_buffer(count),
        end: zeroed_buffer(count),
        units: zeroed_buffer(count),
        customer_group: customers.group,
        group_keys: customers.group_keys,
        group_rank: customers.group_rank,
        billing: None,
        other: None,
    };
    let mut billing = Billing {
        held: zeroed_buffer(count),
        // Net and contract units apart from the basis only when both are asked for.
        net: if b.with_contract {
            zeroed_buffer(count)
        } else {
            Vec::new()
        },
        contract: if b.with_contract {
            zeroed_buffer(count)
        } else {
            Vec::new()
        },
        committed: zeroed_buffer(count),
        reason: zeroed_buffer(count),
        closes: zeroed_buffer(count),
        start_cause: if causes {
            zeroed_buffer(count)
        } else {
            Vec::new()
        },
        end_cause: if causes {
            zeroed_buffer(count)
        } else {
            Vec::new()
        },
        last_start: rows.start.iter().copied().max().unwrap_or(0),
        has_status: status.is_some(),
        has_cancel: canceled_at.is_some(),
        has_reasons: reasons.is_some() || delinquency_start.is_some(),
        with_contract: b.with_contract,
        ..Billing::default()
    };
    fill_columns(&parts, b.basis, &mut out, &mut billing);
    drop(parts);

    // Cancellation requests: one per (subscription, instant), at the MRR of the row holding it.
    let mut cancellations = Vec::new();
    if canceled_at.is_some() {
        let mut by_row_segments: HashMap<usize, Vec<usize>> = HashMap::new();
        if let Some(rows_of) = &segment_rows {
            for (i, r) in rows_of.iter().enumerate() {
                by_row_segments.entry(*r).or_default().push(i);
            }
        }
        let segments_of = |row: usize| -> Vec<usize> {
            if segment_rows.is_some() {
                by_row_segments.get(&row).cloned().unwrap_or_default()
            } else {
                let (a, z) = row_segments[row];
                (a as usize..z as usize).collect()
            }
        };
        let mut keys: Vec<(u32, i64)> = cancel_candidates.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let (_, instant) = key;
            let candidates = &cancel_candidates[&key];
            // The row holding the instant, else the first row after it, else the last before.
            let chosen = candidates
                .iter()
                .copied()
                .find(|(r, _)| rows.start[*r] <= instant && instant < rows.end[*r])
                .or_else(|| {
                    candidates
                        .iter()
                        .copied()
                        .filter(|(r, _)| rows.start[*r] > instant)
                        .min_by_key(|(r, _)| rows.start[*r])
                })
                .or_else(|| candidates.iter().copied().max_by_key(|(r, _)| rows.end[*r]));
            let Some((row, cut_by_request)) = chosen else {
                continue;
            };
            let own = segments_of(row);
            if own.is_empty() {
                continue; // a row without MRR or activity (a trial, unpaid): no customer to lose
            }
            // The MRR at risk: the subscription's at the request instant, as if the request cut
            // nothing; 0 when it carries none then (not yet started, or already cut off).
            let at = own
                .iter()
                .find(|i| {
                    let (a, z) = (out.start[**i], out.end[**i]);
                    (a <= instant && instant < z) || (cut_by_request && z == instant)
                })
                .map_or(0, |i| out.units[*i]);
            cancellations.push((customers.codes[row], instant, at));
        }
    }
    billing.cancellations = cancellations;
    out.billing = Some(billing);
    Ok(out)
}

/// Writes the segments of `parts` (one after the other) into the engine's columns of `out` and
/// the billing detail, one thread per part.
fn fill_columns(
    parts: &[Vec<Segment>],
    basis: MrrBasis,
    out: &mut Normalised,
    billing: &mut Billing,
) {
    struct Slices<'a> {
        customer: &'a mut [u32],
        start: &'a mut [i64],
        end: &'a mut [i64],
        units: &'a mut [i64],
        held: &'a mut [bool],
        net: &'a mut [i64],
        contract: &'a mut [i64],
        committed: &'a mut [bool],
        reason: &'a mut [u8],
        closes: &'a mut [bool],
        start_cause: &'a mut [u8],
        end_cause: &'a mut [u8],
    }
    fn split<'a, T>(rest: &mut &'a mut [T], at: usize) -> &'a mut [T] {
        let (head, tail) = std::mem::take(rest).split_at_mut(at);
        *rest = tail;
        head
    }
    let with_contract = billing.with_contract;
    let with_causes = !billing.start_cause.is_empty();
    let fill = |part: &[Segment], o: Slices<'_>| {
        for (i, s) in part.iter().enumerate() {
            o.customer[i] = s.customer;
            o.start[i] = s.start;
            o.end[i] = s.end;
            o.units[i] = match basis {
                MrrBasis::Net => s.net,
                MrrBasis::Contract => s.contract,
                MrrBasis::ForeverOnly => s.forever,
            };
            o.held[i] = s.held;
            if let (Some(net), Some(contract)) = (o.net.get_mut(i), o.contract.get_mut(i)) {
                *net = s.net;
                *contract = s.contract;
            }
            o.committed[i] = s.committed;
            o.reason[i] = s.reason;
            o.closes[i] = s.closes;
            if let (Some(a), Some(z)) = (o.start_cause.get_mut(i), o.end_cause.get_mut(i)) {
                *a = s.start_cause;
                *z = s.end_cause;
            }
        }
    };
    let mut rest = Slices {
        customer: &mut out.customer,
        start: &mut out.start,
        end: &mut out.end,
        units: &mut out.units,
        held: &mut billing.held,
        net: &mut billing.net,
        contract: &mut billing.contract,
        committed: &mut billing.committed,
        reason: &mut billing.reason,
        closes: &mut billing.closes,
        start_cause: &mut billing.start_cause,
        end_cause: &mut billing.end_cause,
    };
    let mut slices = Vec::with_capacity(parts.len());
    for part in parts {
        let k = part.len();
        slices.push(Slices {
            customer: split(&mut rest.customer, k),
            start: split(&mut rest.start, k),
            end: split(&mut rest.end, k),
            units: split(&mut rest.units, k),
            held: split(&mut rest.held, k),
            net: split(&mut rest.net, if with_contract { k } else { 0 }),
            contract: split(&mut rest.contract, if with_contract { k } else { 0 }),
            committed: split(&mut rest.committed, k),
            reason: split(&mut rest.reason, k),
            closes: split(&mut rest.closes, k),
            start_cause: split(&mut rest.start_cause, if with_causes { k } else { 0 }),
            end_cause: split(&mut rest.end_cause, if with_causes { k } else { 0 }),
        });
    }
    if parts.len() <= 1 {
        for (part, o) in parts.iter().zip(slices) {
            fill(part, o);
        }
        return;
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .zip(slices)
            .map(|(part, o)| scope.spawn(move || fill(part, o)))
            .collect();
        for h in handles {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
}

/// The net and forever-only values of `gross` under the `active` discounts (sorted in start
/// order; `.3` indexes `discounts`): percents first, then amounts off, never below 0.
fn discounted(
    gross: i64,
    active: &[(i64, usize, bool, i64)],
    discounts: &[Discount],
    stacking: Stacking,
    amount_units: impl Fn(f64) -> i64,
) -> (i64, i64) {
    if active.is_empty() {
        return (gross, gross);
    }
    // Percents in start order (no allocation: a segment has a discount or two).
    let percents = |forever_only: bool| {
        active
            .iter()
            .filter(move |x| !forever_only || x.2)
            .map(|x| discounts[x.3 as usize].ppm)
            .filter(|p| *p > 0)
    };
    let percent_off = |forever_only: bool| match stacking {
        Stacking::Sequential => {
            percents(forever_only).fold(gross, |v, p| scale_half_even(v, 1_000_000 - p, 1_000_000))
        }
        Stacking::Sum => match percents(forever_only).sum::<i64>() {
            0 => gross,
            total => scale_half_even(gross, 1_000_000 - total.min(1_000_000), 1_000_000),
        },
    };
    let (mut off_all, mut off_forever) = (0i64, 0i64);
    for (_, _, is_forever, i) in active {
        let a = amount_units(discounts[*i as usize].amount_off);
        off_all = off_all.saturating_add(a);
        if *is_forever {
            off_forever = off_forever.saturating_add(a);
        }
    }
    let net = (percent_off(false) - off_all).max(0);
    let fo = (percent_off(true) - off_forever).max(0);
    (net, fo)
}

/// A customer's segments with its customer-level discounts applied: split at every boundary,
/// percents applied to each segment, amounts off allocated in proportion to the segments'
/// values (largest remainders, so the shares add up to the amount exactly).
fn allocate(
    own: &[Segment],
    windows: &[(usize, i64, i64)],
    discounts: &[Discount],
    stacking: Stacking,
    amount_units: impl Fn(f64) -> i64,
) -> Vec<Segment> {
    let mut cuts: Vec<i64> = Vec::new();
    for s in own {
        cuts.push(s.start);
        cuts.push(s.end);
    }
    for (_, f, u) in windows {
        cuts.push(*f);
        cuts.push(*u);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    for w in 0..cuts.len().saturating_sub(1) {
        let (a, z) = (cuts[w], cuts[w + 1]);
        let live: Vec<usize> = (0..own.len())
            .filter(|i| own[*i].start <= a && a < own[*i].end)
            .collect();
        if live.is_empty() {
            continue;
        }
        let mut on: Vec<(i64, usize, bool, usize)> = windows
            .iter()
            .filter(|(_, f, u)| *f <= a && a < *u)
            .map(|(i, f, _)| {
                let d = &discounts[*i];
                (
                    d.start.unwrap_or(*f),
                    d.order,
                    d.duration == Duration::Forever,
                    *i,
                )
            })
            .collect();
        on.sort_unstable_by_key(|x| (x.0, x.1));
        let ppm_all: Vec<i64> = on
            .iter()
            .map(|x| discounts[x.3].ppm)
            .filter(|p| *p > 0)
            .collect();
        let ppm_forever: Vec<i64> = on
            .iter()
            .filter(|x| x.2)
            .map(|x| discounts[x.3].ppm)
            .filter(|p| *p > 0)
            .collect();
        let off_all: i64 = on
            .iter()
            .map(|x| amount_units(discounts[x.3].amount_off))
            .sum();
        let off_forever: i64 = on
            .iter()
            .filter(|x| x.2)
            .map(|x| amount_units(discounts[x.3].amount_off))
            .sum();
        let net: Vec<i64> = live
            .iter()
            .map(|i| {
                if own[*i].held {
                    0
                } else {
                    apply_percents(own[*i].net, &ppm_all, stacking)
                }
            })
            .collect();
        let forever: Vec<i64> = live
            .iter()
            .map(|i| {
                if own[*i].held {
                    0
                } else {
                    apply_percents(own[*i].forever, &ppm_forever, stacking)
                }
            })
            .collect();
        let net = share_off(&net, off_all);
        let forever = share_off(&forever, off_forever);
        let boundary = |t: i64, inherited: u8, own_edge: bool| -> u8 {
            if windows.iter().any(|(_, f, u)| *f == t || *u == t) {
                Cause::Discount as u8
            } else if own_edge {
                inherited
            } else {
                Cause::Plan as u8
            }
        };
        for (k, i) in live.iter().enumerate() {
            let s = own[*i];
            out.push(Segment {
                start: a,
                end: z,
                net: net[k],
                forever: forever[k],
                start_cause: boundary(a, s.start_cause, a == s.start),
                end_cause: boundary(z, s.end_cause, z == s.end),
                closes: s.closes && z == s.end,
                committed: s.committed,
                ..s
            });
        }
    }
    out
}

/// `values` less `off` allocated in proportion to them (largest remainders); all 0 when `off`
/// covers their sum.
fn share_off(values: &[i64], off: i64) -> Vec<i64> {
    let total: i128 = values.iter().map(|v| i128::from(*v)).sum();
    if off <= 0 || total == 0 {
        return values.to_vec();
    }
    if i128::from(off) >= total {
        return vec![0; values.len()];
    }
    let mut shares: Vec<(i64, i128, usize)> = values
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let exact = i128::from(off) * i128::from(*v);
            ((exact / total) as i64, exact % total, k)
        })
        .collect();
    let mut left = off - shares.iter().map(|s| s.0).sum::<i64>();
    shares.sort_by(|x, y| y.1.cmp(&x.1).then(x.2.cmp(&y.2)));
    for s in shares.iter_mut() {
        if left == 0 {
            break;
        }
        s.0 += 1;
        left -= 1;
    }
    shares.sort_by_key(|s| s.2);
    values
        .iter()
        .zip(shares)
        .map(|(v, s)| (v - s.0).max(0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_clamp_to_the_last_day() {
        let jan31 = days_from_civil(2024, 1, 31) * DAY;
        assert_eq!(add_months(jan31, 1), days_from_civil(2024, 2, 29) * DAY);
        assert_eq!(add_months(jan31, 13), days_from_civil(2025, 2, 28) * DAY);
        assert_eq!(add_months(jan31, -1), days_from_civil(2023, 12, 31) * DAY);
    }

    #[test]
    fn once_covers_the_first_billing_period_at_or_after_its_start() {
        let anchor = days_from_civil(2024, 1, 15) * DAY;
        let from = days_from_civil(2024, 3, 1) * DAY;
        let (a, z) = billing_period_at_or_after(anchor, Step::Months(1), from);
        assert_eq!(a, days_from_civil(2024, 3, 15) * DAY);
        assert_eq!(z, days_from_civil(2024, 4, 15) * DAY);
        let (a, z) = billing_period_at_or_after(anchor, Step::Months(12), anchor);
        assert_eq!((a, z), (anchor, days_from_civil(2025, 1, 15) * DAY));
    }

    #[test]
    fn stacked_percents() {
        // Two 10% discounts on 100.00 (units of 0.01): 81.00 sequential, 80.00 summed.
        assert_eq!(
            apply_percents(10_000, &[100_000, 100_000], Stacking::Sequential),
            8_100
        );
        assert_eq!(
            apply_percents(10_000, &[100_000, 100_000], Stacking::Sum),
            8_000
        );
        // Half to even: 12.5% of 0.04 = 0.005 -> 0.035 rounds to 0.04? 4 * 0.875 = 3.5 -> 4.
        assert_eq!(scale_half_even(4, 875_000, 1_000_000), 4);
        assert_eq!(scale_half_even(6, 750_000, 1_000_000), 4); // 4.5 -> 4
    }

    #[test]
    fn shares_add_up() {
        assert_eq!(share_off(&[100, 200], 30), vec![90, 180]);
        assert_eq!(share_off(&[1, 1, 1], 2), vec![0, 0, 1]);
        assert_eq!(share_off(&[5, 5], 20), vec![0, 0]);
    }
}
