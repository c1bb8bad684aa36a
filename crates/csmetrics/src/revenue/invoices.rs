//! Invoice lines as the customer-state panel (docs/metrics/billing.md, invoice lines).
//!
//! A recurring line is active over its service period `[period_start, period_end)` at its
//! monthly value: a period of whole calendar months (or years) counts its months, as a
//! subscription's interval does (a monthly line's value is its amount); any other period counts
//! days, `amount * (365/12) / days`. A proration line (`prorations="spread"`) is a part of a
//! billing period: its monthly value is its amount scaled to the whole period of the recurring
//! line that holds it, so a credit for unused time cancels the line it credits. Lines of one
//! customer are netted into spans of constant MRR (a credit never stands alone); a late renewal
//! within `gap_tolerance_days` bridges the gap. One-time and usage lines are not MRR: their
//! amounts are summed per period into `non_recurring` and `usage` revenue.

use polars::prelude::*;

use super::input::{currency_rates, customers_coded, Normalised, DAY};
use super::RevenueOptions;
use crate::error::{CsError, Result};
use crate::input::{self, invalid};

named_options!(
    /// How proration lines count towards MRR.
    Prorations, "prorations",
    /// Each adds its amount over its own service period, scaled to its billing period
    /// (default).
    #[default]
    Spread = "spread",
    /// Left out: MRR moves at the next full billing period.
    Exclude = "exclude",
);

/// Columns and options of an invoice-lines table (`table="invoices"`).
#[derive(Debug, Clone)]
pub struct InvoiceColumns {
    /// Customer id (any type). Default `customer_id`.
    pub customer_id: String,
    /// The line's amount net of discounts, excluding tax; negative for a credit. Default
    /// `amount`.
    pub amount: String,
    /// Start of the line's service period (Date or Datetime). Default `period_start`.
    pub period_start: String,
    /// Exclusive end of the service period. Default `period_end`.
    pub period_end: String,
    /// `subscription`, `proration`, `one_time` or `usage`; None: every line is a subscription
    /// line. Default `kind`.
    pub kind: Option<String>,
    /// Currency of each amount, used when the table has it. Default `currency`.
    pub currency: Option<String>,
    /// Subscription id: late renewals are bridged per subscription (per customer without it)
    /// and a proration is scaled by its own subscription's line. Used when the table has it.
    pub subscription_id: Option<String>,
    /// Proration lines: spread (default) or excluded.
    pub prorations: Prorations,
    /// A renewal starting at most this many days after the previous service period ended
    /// continues it (the gap is bridged at the previous value); default 0.
    pub gap_tolerance_days: f64,
}

impl Default for InvoiceColumns {
    fn default() -> Self {
        InvoiceColumns {
            customer_id: "customer_id".into(),
            amount: "amount".into(),
            period_start: "period_start".into(),
            period_end: "period_end".into(),
            kind: Some("kind".into()),
            currency: Some("currency".into()),
            subscription_id: Some("subscription_id".into()),
            prorations: Prorations::Spread,
            gap_tolerance_days: 0.0,
        }
    }
}

/// Revenue outside MRR, beside the engine's rows.
#[derive(Debug, Clone, Default)]
pub struct OtherRevenue {
    /// (customer code, instant, units, kind: 0 one-time, 1 usage) of each line.
    pub lines: Vec<(u32, i64, i64, u8)>,
    /// The latest start of any line's service period: the default `as_of`.
    pub last_start: i64,
}

/// The longest service period read (400 years, in µs).
const MAX_SPAN: i64 = 400 * 366 * DAY;

const KINDS: [&str; 4] = ["subscription", "proration", "one_time", "usage"];
const SUBSCRIPTION: u8 = 0;
const PRORATION: u8 = 1;

/// The whole calendar months from `start` to `end` (time of day kept), if any: the billing
/// dates of one anchor day, clamped to each month's length. `end` is `start` moved by whole
/// months, or `start` is a month's last day standing for a later anchor day (Jan 30 billed
/// Feb 29, then Mar 30: `[Feb 29, Mar 30)` is a month).
fn whole_months(
    start: i64,
    end: i64,
    civil: &mut impl FnMut(i64) -> (i64, u32, u32),
) -> Option<i64> {
    if start.rem_euclid(DAY) != end.rem_euclid(DAY) {
        return None;
    }
    let (y0, m0, d0) = civil(start.div_euclid(DAY));
    let (y1, m1, d1) = civil(end.div_euclid(DAY));
    let months = (y1 - y0) * 12 + (i64::from(m1) - i64::from(m0));
    if months < 1 {
        return None;
    }
    // `start` moved by `months` lands on its day, clamped to the end month's length.
    let moved = d1 == d0.min(month_length(y1, m1));
    let clamped_anchor = d0 == month_length(y0, m0) && d1 > d0;
    (moved || clamped_anchor).then_some(months)
}

/// Civil dates of the days from the first to the last a table's lines start or end on (a few
/// hundred billing dates), computed once; days outside it, or a span too long to tabulate,
/// computed when asked.
struct CivilTable {
    first: i64,
    dates: Vec<(i64, u32, u32)>,
}

impl CivilTable {
    /// The longest span of days tabulated.
    const MAX_DAYS: i64 = 1 << 20;

    fn new(start: &[i64], end: &[i64]) -> Self {
        let days = start.iter().chain(end).map(|t| t.div_euclid(DAY));
        let (lo, hi) = days.fold((i64::MAX, i64::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
        if hi < lo || hi - lo >= Self::MAX_DAYS {
            return CivilTable {
                first: 0,
                dates: Vec::new(),
            };
        }
        CivilTable {
            first: lo,
            dates: (lo..=hi).map(crate::period::civil_from_days).collect(),
        }
    }

    fn get(&self, day: i64) -> (i64, u32, u32) {
        usize::try_from(day - self.first)
            .ok()
            .and_then(|i| self.dates.get(i).copied())
            .unwrap_or_else(|| crate::period::civil_from_days(day))
    }
}

/// The days of a month of the proleptic Gregorian calendar.
fn month_length(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (multiplier, divisor) turning an amount billed for `[start, end)` into a monthly value.
fn monthly_factor(start: i64, end: i64) -> (i64, i64) {
    monthly_factor_with(start, end, &mut crate::period::civil_from_days)
}

/// [`monthly_factor`] with civil dates from `civil`.
fn monthly_factor_with(
    start: i64,
    end: i64,
    civil: &mut impl FnMut(i64) -> (i64, u32, u32),
) -> (i64, i64) {
    if let Some(k) = whole_months(start, end, civil) {
        return (1, k);
    }
    let length = end - start;
    // 365/12 days a month, in the coarsest unit the period is whole in.
    let (m, d) = if length % DAY == 0 {
        (365, 12 * (length / DAY))
    } else if length % 1_000_000 == 0 {
        (365 * 86_400, 12 * (length / 1_000_000))
    } else {
        (365 * DAY, 12 * length)
    };
    let g = gcd(i128::from(m), i128::from(d)) as i64;
    (m / g, d / g)
}

/// The monthly factor of a proration of `part` µs in a line of `length` µs whose factor is
/// `(m, d)`: `amount * (length / part) * (m / d)`, in seconds where both are whole; None when it
/// does not fit.
fn scaled_to((m, d): (i64, i64), length: i64, part: i64) -> Option<(i64, i64)> {
    let unit = if length % 1_000_000 == 0 && part % 1_000_000 == 0 {
        1_000_000
    } else {
        1
    };
    let (num, den) = (
        i128::from(length / unit) * i128::from(m),
        i128::from(part / unit) * i128::from(d),
    );
    let g = gcd(num, den);
    Some((i64::try_from(num / g).ok()?, i64::try_from(den / g).ok()?))
}

/// Whether two rows hold the same subscription id (two nulls are the same: lines without a
/// subscription).
enum SameKey {
    /// No subscription column: every line of a customer is one subscription's.
    Everywhere,
    Strings(StringChunked),
    Numbers(Vec<Option<i64>>),
    Codes(Vec<u32>),
}

impl SameKey {
    fn new(column: &Column) -> Result<Self> {
        let series = column.as_materialized_series();
        if series.dtype().is_string() {
            // Looked up in the chunks it has: only the rows of a few prorations are read.
            return Ok(Self::Strings(series.str()?.clone()));
        }
        let physical = series.to_physical_repr();
        if physical.dtype().is_integer() {
            let values = physical.cast(&DataType::Int64)?;
            return Ok(Self::Numbers(values.i64()?.iter().collect()));
        }
        Ok(Self::Codes(crate::groups::encode_column(column)?.codes))
    }

    fn is(&self, a: usize, b: usize) -> bool {
        match self {
            Self::Everywhere => true,
            Self::Strings(ids) => ids.get(a) == ids.get(b),
            Self::Numbers(ids) => ids[a] == ids[b],
            Self::Codes(codes) => codes[a] == codes[b],
        }
    }
}

/// Spans of constant MRR, customer by customer.
#[derive(Default)]
struct Spans {
    customer: Vec<u32>,
    start: Vec<i64>,
    end: Vec<i64>,
    units: Vec<i64>,
}

impl Spans {
    /// Nets one customer's line events (sorted by instant) into spans: a span is kept while the
    /// customer pays or holds a subscription line ($0 lines keep `free_is_active` customers),
    /// and continues the previous one when its value is the same.
    fn net(&mut self, code: u32, events: &[(i64, i64, i64, usize)], amount: &str) -> Result<()> {
        let (mut mrr, mut lines) = (0i64, 0i64);
        let mut i = 0;
        while i < events.len() {
            let t = events[i].0;
            let mut row = events[i].3;
            while i < events.len() && events[i].0 == t {
                mrr = mrr.checked_add(events[i].1).ok_or_else(|| {
                    invalid(
                        amount,
                        events[i].3,
                        "overflow",
                        "a customer's lines together must fit 9.2e18 units",
                    )
                })?;
                lines += events[i].2;
                row = events[i].3;
                i += 1;
            }
            if mrr < 0 {
                return Err(invalid(
                    amount,
                    row,
                    super::input::format_instant(t),
                    "a customer's recurring revenue cannot be negative: a credit without the \
                     line it credits (prorations='exclude' leaves prorations out)",
                ));
            }
            let Some(next) = events.get(i).map(|e| e.0) else {
                break;
            };
            if mrr == 0 && lines == 0 {
                continue;
            }
            let extends = self.customer.last() == Some(&code)
                && self.end.last() == Some(&t)
                && self.units.last() == Some(&mrr);
            match self.end.last_mut() {
                Some(e) if extends => *e = next,
                _ => {
                    self.customer.push(code);
                    self.start.push(t);
                    self.end.push(next);
                    self.units.push(mrr);
                }
            }
        }
        Ok(())
    }
}

/// Builds the engine's rows from invoice lines.
pub(crate) fn build(
    frame: &DataFrame,
    options: &RevenueOptions,
    c: &InvoiceColumns,
    in_id_order: bool,
) -> Result<Normalised> {
    let n = frame.height();
    // Null instants read as i64::MIN, checked below.
    let (start, start_aware) = input::instants(
        frame,
        &c.period_start,
        "the start of each line's service period",
        i64::MIN,
    )?;
    let (mut end, end_aware) = input::instants(
        frame,
        &c.period_end,
        "the end of each line's service period",
        i64::MIN,
    )?;
    if let (Some(a), Some(b)) = (start_aware, end_aware) {
        if a != b {
            return Err(CsError::InvalidType {
                column: c.period_end.clone(),
                dtype: format!(
                    "{} ({} is {})",
                    if b { "time-zone aware" } else { "naive" },
                    c.period_start,
                    if a { "time-zone aware" } else { "naive" }
                ),
                rule: "both service-period columns time-zone aware, or both naive".into(),
            });
        }
    }
    let kinds: Vec<u8> = match c.kind.as_deref().filter(|k| frame.column(k).is_ok()) {
        Some(name) => input::labels(
            frame,
            name,
            "the kind of each invoice line",
            &KINDS,
            &format!("a line's kind must be one of {}", KINDS.join(", ")),
        )?,
        None => vec![SUBSCRIPTION; n],
    };
    let spread = c.prorations == Prorations::Spread;
    let recurring = |row: usize| kinds[row] == SUBSCRIPTION || (spread && kinds[row] == PRORATION);
    for row in 0..n {
        let s = start[row];
        if s == i64::MIN {
            return Err(invalid(
                &c.period_start,
                row,
                "null",
                "every line needs the start of its service period",
            ));
        }
        let e = match end[row] {
            i64::MIN if !recurring(row) => s,
            i64::MIN => {
                return Err(invalid(
                    &c.period_end,
                    row,
                    "null",
                    "a recurring line needs the end of its service period",
                ))
            }
            e => e,
        };
        // Bounded spans keep every factor below exact integer limits.
        if recurring(row) && e.checked_sub(s).is_none_or(|span| span > MAX_SPAN) {
            return Err(invalid(
                &c.period_end,
                row,
                super::input::format_instant(e),
                "a service period must be shorter than 400 years",
            ));
        }
        if recurring(row) && e <= s {
            return Err(invalid(
                &c.period_end,
                row,
                super::input::format_instant(e),
                "a recurring line's service period must end after it starts",
            ));
        }
        end[row] = e;
    }
    let customers = customers_coded(frame, &c.customer_id, &options.by, in_id_order)?;
    let sub_name = c
        .subscription_id
        .as_deref()
        .filter(|s| frame.column(s).is_ok());
    let tolerance = (c.gap_tolerance_days * DAY as f64).round() as i64;
    // Each customer's rows: the netting reads them, and so does the search for the line a
    // proration belongs to.
    let (customer_at, by_customer) =
        crate::groups::rows_by_code(&customers.codes, customers.labels.len());
    // Late renewals are bridged per subscription, in start order: the rows of each
    // subscription (of each customer without the column).
    let renewals = if tolerance > 0 {
        let identity: Vec<u32> = match sub_name {
            // Lines without a subscription (one-time items) share their customer's null id.
            Some(name) => {
                super::billing::subscriptions_within_customers(
                    frame.column(name)?,
                    &customers.codes,
                    customers.labels.len(),
                )?
                .codes
            }
            None => customers.codes.clone(),
        };
        let identities = identity.iter().map(|k| *k as usize + 1).max().unwrap_or(0);
        let (group_at, mut grouped) = crate::groups::rows_by_code(&identity, identities);
        for k in 0..identities {
            grouped[group_at[k]..group_at[k + 1]]
                .sort_unstable_by_key(|r| (start[*r as usize], *r));
        }
        Some((group_at, grouped))
    } else {
        None
    };

    // Monthly factors, computed as the amounts are read: a subscription line's from its
    // service period, a proration's scaled to the subscription line holding it (found first).
    let civil = CivilTable::new(&start, &end);
    let line_factor =
        |row: usize| monthly_factor_with(start[row], end[row], &mut |day| civil.get(day));
    let mut prorated: Vec<(usize, (i64, i64))> = Vec::new();
    if spread && kinds.contains(&PRORATION) {
        let same = match sub_name {
            Some(name) => SameKey::new(frame.column(name)?)?,
            None => SameKey::Everywhere,
        };
        for r in (0..n).filter(|r| kinds[*r] == PRORATION) {
            let (a, z) = (start[r], end[r]);
            let code = customers.codes[r] as usize;
            let holder = by_customer[customer_at[code]..customer_at[code + 1]]
                .iter()
                .map(|q| *q as usize)
                .filter(|q| {
                    kinds[*q] == SUBSCRIPTION && start[*q] <= a && z <= end[*q] && same.is(r, *q)
                })
                .min_by_key(|q| (end[*q] != z, end[*q] - start[*q], *q));
            let factor = match holder {
                Some(q) => scaled_to(line_factor(q), end[q] - start[q], z - a)
                    .unwrap_or_else(|| monthly_factor(a, z)),
                None => monthly_factor(a, z),
            };
            prorated.push((r, factor));
        }
    }
    let factor = |row: usize| match kinds[row] {
        SUBSCRIPTION => line_factor(row),
        PRORATION if spread => prorated
            .binary_search_by_key(&row, |(r, _)| *r)
            .map_or((1, 1), |i| prorated[i].1),
        _ => (1, 1),
    };
    let rates = currency_rates(frame, c.currency.as_deref(), options)?;
    let units = input::money(
        frame,
        &c.amount,
        "the amount of each invoice line",
        options.precision,
        &factor,
        rates.as_deref(),
        "a line's amount must be a number",
        true,
    )?;

    // Late renewals: a line starting within the tolerance after its subscription's coverage ended
    // continues it (the line ending last is extended to the renewal).
    if let Some((group_at, grouped)) = &renewals {
        for k in 0..group_at.len().saturating_sub(1) {
            let mut last: Option<usize> = None;
            for r in &grouped[group_at[k]..group_at[k + 1]] {
                let r = *r as usize;
                if kinds[r] != SUBSCRIPTION {
                    continue;
                }
                if let Some(q) = last {
                    let gap = start[r] - end[q];
                    if gap > 0 && gap <= tolerance {
                        end[q] = start[r];
                    }
                }
                if last.is_none_or(|q| end[r] > end[q]) {
                    last = Some(r);
                }
            }
        }
    }

    // Each customer's lines netted into spans of constant MRR, ranges of customers in parallel.
    let parts = crate::parallel::parallel(super::billing::group_ranges(&customer_at), |codes| {
        let mut spans = Spans::default();
        let mut other: Vec<(u32, i64, i64, u8)> = Vec::new();
        // (instant, units change, subscription lines change, row)
        let mut events: Vec<(i64, i64, i64, usize)> = Vec::new();
        for code in codes {
            events.clear();
            for r in &by_customer[customer_at[code]..customer_at[code + 1]] {
                let r = *r as usize;
                if recurring(r) {
                    let lines = i64::from(kinds[r] == SUBSCRIPTION);
                    events.push((start[r], units[r], lines, r));
                    events.push((end[r], -units[r], -lines, r));
                } else if kinds[r] > PRORATION {
                    other.push((code as u32, start[r], units[r], kinds[r] - 2));
                }
            }
            events.sort_unstable();
            spans.net(code as u32, &events, &c.amount)?;
        }
        Ok::<_, CsError>((spans, other))
    });
    let mut out = Spans::default();
    let mut other = OtherRevenue {
        lines: Vec::new(),
        last_start: start.iter().copied().max().unwrap_or(0),
    };
    for part in parts {
        let (spans, lines) = part?;
        out.customer.extend(spans.customer);
        out.start.extend(spans.start);
        out.end.extend(spans.end);
        out.units.extend(spans.units);
        other.lines.extend(lines);
    }
    let Spans {
        customer: out_customer,
        start: out_start,
        end: out_end,
        units: out_units,
    } = out;
    Ok(Normalised {
        customer: out_customer,
        customer_labels: customers.labels,
        start: out_start,
        end: out_end,
        units: out_units,
        customer_group: customers.group,
        group_keys: customers.group_keys,
        group_rank: customers.group_rank,
        billing: None,
        other: Some(other),
    })
}

/// The greatest common divisor (1 for two zeros).
fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a.abs().max(1)
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        crate::period::days_from_civil(i64::from(y), m, d) * DAY
    }

    #[test]
    fn whole_calendar_months_count_months_and_other_periods_days() {
        assert_eq!(monthly_factor(day(2024, 1, 31), day(2024, 2, 29)), (1, 1));
        assert_eq!(monthly_factor(day(2024, 1, 15), day(2025, 1, 15)), (1, 12));
        assert_eq!(monthly_factor(day(2024, 1, 1), day(2024, 4, 1)), (1, 3));
        // Anchored on the 30th or 31st: February's clamped date starts a whole month.
        assert_eq!(monthly_factor(day(2024, 2, 29), day(2024, 3, 30)), (1, 1));
        assert_eq!(monthly_factor(day(2024, 2, 29), day(2024, 3, 31)), (1, 1));
        assert_eq!(monthly_factor(day(2023, 2, 28), day(2023, 5, 31)), (1, 3));
        assert_eq!(monthly_factor(day(2024, 4, 30), day(2024, 5, 31)), (1, 1));
        // Not a month's last day: [Feb 28, Mar 30) of a leap year is 31 days.
        assert_eq!(
            monthly_factor(day(2024, 2, 28), day(2024, 3, 30)),
            (365, 372)
        );
        // 14 days: 365 / (12 * 14) = 365 / 168.
        assert_eq!(
            monthly_factor(day(2024, 1, 1), day(2024, 1, 15)),
            (365, 168)
        );
    }
}
