//! Reading and checking a subscriptions (or already-monthly) table into the engine's columnar
//! form: dense customer codes, start and end instants in microseconds (UTC), and each
//! subscription's monthly amount in integer units of 10^-precision.

use polars::prelude::*;

use super::{RevenueInput, RevenueOptions, SubscriptionColumns};
use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{encode_column, group_rows, key_in_value_order, sorted_keys, EncodedKey};
use crate::input::{self, instants as instants_fast, invalid, optional_instants, Role};
use crate::parallel::parallel_fill;
use crate::period::Period;

/// Microseconds in a day.
pub const DAY: i64 = input::DAY_US;

/// The subscriptions, normalised, with customers and groups.
pub struct Normalised {
    /// Dense code of each subscription's customer.
    pub customer: Vec<u32>,
    /// Customer id of each code.
    pub customer_labels: Column,
    /// Start instant of each subscription (µs since 1970-01-01 UTC).
    pub start: Vec<i64>,
    /// End instant (exclusive); `i64::MAX` when open-ended.
    pub end: Vec<i64>,
    /// Monthly amount in units of 10^-precision.
    pub units: Vec<i64>,
    /// Group (by= keys) of each customer code.
    pub customer_group: Vec<u32>,
    /// Sorted keys of the groups (one row per group; no columns without by=).
    pub group_keys: DataFrame,
    /// Rank of each group id in `group_keys` order.
    pub group_rank: Vec<u32>,
    /// Billing detail of each row (segment), when the input has any.
    pub billing: Option<super::billing::Billing>,
    /// Revenue outside MRR (invoice lines' one-time and usage amounts), for invoice input.
    pub other: Option<super::invoices::OtherRevenue>,
}

/// Start and end must both be time-zone aware or both naive.
fn check_awareness(c: &SubscriptionColumns, start: Option<bool>, end: Option<bool>) -> Result<()> {
    match (start, end) {
        (Some(a), Some(b)) if a != b => Err(CsError::InvalidType {
            column: c.end.clone().unwrap_or_default(),
            dtype: format!(
                "{} ({})",
                if b { "time-zone aware" } else { "naive" },
                c.start
            ),
            rule: format!(
                "start and end must both be time-zone aware or both naive; '{}' is {}",
                c.start,
                if a { "aware" } else { "naive" }
            ),
        }),
        _ => Ok(()),
    }
}

/// The billing intervals and their monthly factors as (multiplier, divisor): monthly = amount
/// * m / d. Kept as a fraction so that e.g. a yearly amount is divided by 12 exactly as written.
const INTERVALS: [&str; 5] = ["day", "week", "month", "quarter", "year"];
const INTERVAL_FACTORS: [(i64, i64); 5] = [(365, 12), (365, 84), (1, 1), (1, 3), (1, 12)];

/// The index in [`INTERVALS`] of each row's billing interval, checked.
fn interval_indexes(frame: &DataFrame, name: &str) -> Result<Vec<u8>> {
    input::labels(
        frame,
        name,
        "the billing interval (day, week, month, quarter or year; pass interval=None if every \
         amount is monthly)",
        &INTERVALS,
        "the billing interval must be one of day, week, month, quarter, year",
    )
}

/// Checks the billing intervals and interval counts of a subscriptions table whose amounts are
/// not needed (customer lives): junk is refused there as everywhere else.
pub fn check_billing_columns(frame: &DataFrame, options: &RevenueOptions) -> Result<()> {
    if let RevenueInput::Subscriptions(c) = &options.input {
        if let Some(name) = &c.interval {
            interval_indexes(frame, name)?;
        }
        if let Some(name) = c.currency.as_ref().filter(|n| frame.column(n).is_ok()) {
            input::text(frame, name, "the currency of each amount (such as 'USD')")?;
        }
        if let Some(name) = &c.interval_count {
            let counts =
                input::whole_numbers(frame, name, "the number of intervals billed at once")?;
            if let Some(row) = counts.iter().position(|n| !n.is_some_and(|n| n >= 1)) {
                return Err(invalid(
                    name,
                    row,
                    counts[row].map_or("null".to_string(), |v| v.to_string()),
                    "interval counts must be whole numbers of at least 1",
                ));
            }
        }
    }
    Ok(())
}

/// What the panel is built from: the customer column's name, and each row's start and end
/// instants (µs) and monthly amount in units.
type Panel = (String, Vec<i64>, Vec<i64>, Vec<i64>);

/// The rows of a subscriptions (or monthly) table, checked: each row's instants, monthly units
/// (times its quantity), and the monthly factor and fx rate its other amounts (discounts off)
/// are normalised with.
pub(crate) struct BillingRows {
    pub(crate) customer_name: String,
    pub(crate) start: Vec<i64>,
    pub(crate) end: Vec<i64>,
    pub(crate) units: Vec<i64>,
    /// (multiplier, divisor) of each row's interval, without the quantity.
    pub(crate) factors: Vec<(i64, i64)>,
    /// Each row's fx rate (None: 1).
    pub(crate) rates: Option<Vec<f64>>,
    /// Each row's quantity (None: 1).
    pub(crate) quantity: Option<Vec<i64>>,
}

/// Subscriptions or a monthly table: (customer column, start, end, monthly units), checked.
fn read_billing(frame: &DataFrame, options: &RevenueOptions) -> Result<Panel> {
    let rows = read_billing_rows(frame, options, None)?;
    Ok((rows.customer_name, rows.start, rows.end, rows.units))
}

/// [`read_billing`] with every row's factors, rates and quantities (read from `quantity`).
pub(crate) fn read_billing_rows(
    frame: &DataFrame,
    options: &RevenueOptions,
    quantity: Option<&str>,
) -> Result<BillingRows> {
    let rows = frame.height();
    let (customer_name, mut start, mut end, factors, amount_name) = match &options.input {
        RevenueInput::Subscriptions(c) => {
            let (start, start_aware) =
                optional_instants(frame, &c.start, "the start of each subscription")?;
            let (end, end_aware) = match &c.end {
                Some(name) => optional_instants(
                    frame,
                    name,
                    "the end of each subscription (null while active)",
                )?,
                None => (vec![None; rows], None),
            };
            check_awareness(c, start_aware, end_aware)?;
            let mut factors = vec![(1i64, 1i64); rows];
            if let Some(name) = &c.interval {
                for (row, index) in interval_indexes(frame, name)?.into_iter().enumerate() {
                    factors[row] = INTERVAL_FACTORS[index as usize];
                }
            }
            if let Some(name) = &c.interval_count {
                let counts =
                    input::whole_numbers(frame, name, "the number of intervals billed at once")?;
                for (row, value) in counts.into_iter().enumerate() {
                    let scaled = value
                        .filter(|n| *n >= 1)
                        .and_then(|n| factors[row].1.checked_mul(n));
                    match scaled {
                        Some(divisor) => factors[row].1 = divisor,
                        None => {
                            return Err(invalid(
                                name,
                                row,
                                value.map_or("null".to_string(), |v| v.to_string()),
                                "interval counts must be whole numbers of at least 1",
                            ))
                        }
                    }
                }
            }
            (c.customer_id.clone(), start, end, factors, c.amount.clone())
        }
        RevenueInput::Monthly {
            customer_id,
            period,
            mrr,
        } => {
            // Each row is one period's MRR: a subscription covering exactly that period.
            let (days, _) = optional_instants(frame, period, "the period of each row")?;
            let mut start = Vec::with_capacity(rows);
            let mut end = Vec::with_capacity(rows);
            for (row, d) in days.iter().enumerate() {
                let Some(t) = *d else {
                    return Err(invalid(period, row, "null", "every row needs a period"));
                };
                let day = t.div_euclid(DAY);
                let first = options.period.start_of(day);
                if first != day || t.rem_euclid(DAY) != 0 {
                    return Err(invalid(
                        period,
                        row,
                        format!("{day} days since 1970-01-01"),
                        &format!(
                            "a monthly table's period must be the first day of a {}",
                            options.period
                        ),
                    ));
                }
                start.push(Some(first * DAY));
                end.push(Some(options.period.next_start(first) * DAY));
            }
            (
                customer_id.clone(),
                start,
                end,
                vec![(1, 1); rows],
                mrr.clone(),
            )
        }
        RevenueInput::Activity { .. } => {
            return Err(CsError::option(
                "table",
                "'activity'",
                "activity events carry no amounts",
            ))
        }
        RevenueInput::Invoices(_) => {
            return Err(CsError::option(
                "table",
                "'invoices'",
                "invoice lines are read by the invoice reader",
            ))
        }
    };

    // Currencies: one currency, or an fx table converting each to the reporting currency.
    let rates = match &options.input {
        RevenueInput::Subscriptions(c) => currency_rates(frame, c.currency.as_deref(), options)?,
        _ => None,
    };

    let purpose = match &options.input {
        RevenueInput::Monthly { .. } => "the MRR of each row",
        _ => "the billed amount of each subscription",
    };
    let quantities = match quantity {
        Some(name) => {
            let values = input::whole_numbers(frame, name, "the quantity (seats) of each row")?;
            let mut out = Vec::with_capacity(rows);
            for (row, value) in values.into_iter().enumerate() {
                match value {
                    Some(q) if q >= 0 => out.push(q),
                    other => {
                        return Err(invalid(
                            name,
                            row,
                            other.map_or("null".to_string(), |v| v.to_string()),
                            "quantities must be whole numbers >= 0",
                        ))
                    }
                }
            }
            Some(out)
        }
        None => None,
    };
    let scaled: Vec<(i64, i64)> = match &quantities {
        None => factors.clone(),
        Some(q) => factors
            .iter()
            .zip(q)
            .map(|((m, d), q)| (m.saturating_mul(*q), *d))
            .collect(),
    };
    let units = input::money(
        frame,
        &amount_name,
        purpose,
        options.precision,
        &|row| scaled[row],
        rates.as_deref(),
        "amounts must be non-negative numbers (refunds and credits are not MRR)",
        false,
    )?;

    let (start_name, end_name) = match &options.input {
        RevenueInput::Subscriptions(c) => (c.start.clone(), c.end.clone().unwrap_or_default()),
        RevenueInput::Monthly { period, .. } => (period.clone(), period.clone()),
        RevenueInput::Activity { timestamp, .. } => (timestamp.clone(), timestamp.clone()),
        RevenueInput::Invoices(c) => (c.period_start.clone(), c.period_end.clone()),
    };
    let mut start_ticks = Vec::with_capacity(rows);
    let mut end_ticks = Vec::with_capacity(rows);
    for row in 0..rows {
        let Some(s) = start[row].take() else {
            return Err(invalid(
                &start_name,
                row,
                "null",
                "every subscription needs a start",
            ));
        };
        let e = end[row].take().unwrap_or(i64::MAX);
        if e < s {
            return Err(invalid(
                &end_name,
                row,
                format!(
                    "an end before its start ({} < {})",
                    format_instant(e),
                    format_instant(s)
                ),
                "a subscription cannot end before it starts",
            ));
        }
        start_ticks.push(s);
        end_ticks.push(e);
    }
    Ok(BillingRows {
        customer_name,
        start: start_ticks,
        end: end_ticks,
        units,
        factors,
        rates,
        quantity: quantities,
    })
}

/// Each row's rate into the reporting currency from the `currency` column (when the frame has
/// it): None for one currency throughout, an error for several without an fx table or for a
/// currency the table lacks.
pub(crate) fn currency_rates(
    frame: &DataFrame,
    currency: Option<&str>,
    options: &RevenueOptions,
) -> Result<Option<Vec<f64>>> {
    let rows = frame.height();
    let Some(name) = currency.filter(|n| frame.column(n).is_ok()) else {
        return Ok(None);
    };
    let ca = input::text(frame, name, "the currency of each amount (such as 'USD')")?;
    match &options.fx {
        None => {
            let first = ca.iter().next().flatten();
            for (row, value) in ca.iter().enumerate() {
                if value != first {
                    return Err(invalid(
                        name,
                        row,
                        value.map_or("null".to_string(), |v| format!("'{v}'")),
                        &format!(
                            "amounts in several currencies need an fx= table of rates (row 0 is {})",
                            first.map_or("null".to_string(), |v| format!("'{v}'"))
                        ),
                    ));
                }
            }
            Ok(None)
        }
        Some(fx) => {
            let mut out = Vec::with_capacity(rows);
            for (row, value) in ca.iter().enumerate() {
                let rate = value.and_then(|v| fx.iter().find(|(c, _)| c == v).map(|(_, r)| *r));
                match rate {
                    Some(r) => out.push(r),
                    None => {
                        return Err(invalid(
                            name,
                            row,
                            value.map_or("null".to_string(), |v| format!("'{v}'")),
                            "every currency needs a rate in the fx= table",
                        ))
                    }
                }
            }
            Ok(Some(out))
        }
    }
}

/// Activity events: each event is one unit of activity over the period that contains it.
fn read_activity(
    frame: &DataFrame,
    options: &RevenueOptions,
    customer_id: &str,
    timestamp: &str,
) -> Result<Panel> {
    let key = crate::period::period_key(frame, timestamp, options.period, "period")?;
    let bounds: Vec<(i64, i64)> = key
        .labels
        .cast(&DataType::Int32)?
        .i32()?
        .iter()
        .map(|d| {
            let day = i64::from(d.unwrap_or(0));
            (day * DAY, options.period.next_start(day) * DAY)
        })
        .collect();
    let start = key.codes.iter().map(|c| bounds[*c as usize].0).collect();
    let end = key.codes.iter().map(|c| bounds[*c as usize].1).collect();
    Ok((customer_id.to_string(), start, end, vec![1; frame.height()]))
}

/// Reads and checks the input table.
/// Dense customer codes and each customer's `by=` group, checked constant per customer.
pub struct Customers {
    /// Code of each row's customer.
    pub codes: Vec<u32>,
    /// Customer id of each code.
    pub labels: Column,
    /// Group of each customer code.
    pub group: Vec<u32>,
    /// Sorted keys of the groups (one row per group; no columns without by=).
    pub group_keys: DataFrame,
    /// Rank of each group id in `group_keys` order.
    pub group_rank: Vec<u32>,
}

/// Reads the customer id and `by=` columns of the input.
pub fn customers(frame: &DataFrame, customer_name: &str, by: &[String]) -> Result<Customers> {
    customers_coded(frame, customer_name, by, false)
}

/// [`customers`], with codes in the order of the ids when `in_id_order` (see
/// [`key_in_value_order`]).
pub fn customers_coded(
    frame: &DataFrame,
    customer_name: &str,
    by: &[String],
    in_id_order: bool,
) -> Result<Customers> {
    let rows = frame.height();
    let customers = column(frame, customer_name, "the customer of each subscription")?;
    if let Some(row) = crate::input::first_null(customers.as_materialized_series()) {
        return Err(invalid(
            customer_name,
            row,
            "null",
            "every subscription needs a customer id",
        ));
    }
    let customer_key = if in_id_order {
        key_in_value_order(customers)?
    } else {
        encode_column(customers)?
    };
    let mut by_keys: Vec<EncodedKey> = Vec::with_capacity(by.len());
    for name in by {
        by_keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    let row_groups = group_rows(&by_keys, rows);
    let n_customers = customer_key.labels.len();
    // Without by=, every customer is in group 0 (a zeroed buffer: its pages stay untouched).
    let mut customer_group = vec![if by.is_empty() { 0 } else { u32::MAX }; n_customers];
    if !by.is_empty() {
        let mut customer_row = vec![0usize; n_customers];
        for row in 0..rows {
            let c = customer_key.codes[row] as usize;
            let g = row_groups.ids[row];
            if customer_group[c] == u32::MAX {
                customer_group[c] = g;
                customer_row[c] = row;
            } else if customer_group[c] != g {
                let first = customer_row[c];
                let (name, key) = by
                    .iter()
                    .zip(&by_keys)
                    .find(|(_, k)| k.codes[first] != k.codes[row])
                    .map(|(n, k)| (n.clone(), k))
                    .unwrap_or((by[0].clone(), &by_keys[0]));
                let label = |r: usize| {
                    key.labels
                        .get(key.codes[r] as usize)
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                };
                let customer = customer_key
                    .labels
                    .get(c)
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                return Err(invalid(
                    &name,
                    row,
                    label(row),
                    &format!(
                        "a by= column must be constant per customer; customer {customer} has {} at row {first}",
                        label(first)
                    ),
                ));
            }
        }
    }
    let (group_keys, order) = sorted_keys(&by_keys, &row_groups)?;
    let mut group_rank = vec![0u32; row_groups.count().max(1)];
    for (rank, g) in order.iter().enumerate() {
        group_rank[*g] = rank as u32;
    }
    if !by.is_empty() {
        for g in customer_group.iter_mut() {
            if *g == u32::MAX {
                *g = 0;
            }
        }
    }
    Ok(Customers {
        codes: customer_key.codes,
        labels: customer_key.labels,
        group: customer_group,
        group_keys: if by.is_empty() {
            DataFrame::empty_with_height(1)
        } else {
            group_keys
        },
        group_rank,
    })
}

/// The input of customer lives: for a subscriptions table only the customer, start, end and
/// whether the amount is positive matter (intervals are not read); other tables go through
/// [`normalise`]. Customer codes follow the order of the ids. Rows that do not make their customer active ($0, unless `free_is_active`)
/// get `end = start`, so a life is made of the rows with `end > start`; `units` is not kept.
pub fn lives_input(frame: &DataFrame, options: &RevenueOptions) -> Result<Normalised> {
    let plain = match &options.input {
        RevenueInput::Subscriptions(c) if !super::billing::requested(frame, options) => Some(c),
        _ => None,
    };
    let Some(c) = plain else {
        let mut data = normalise_coded(frame, options, true, false)?;
        if !options.free_is_active {
            let held = data.billing.as_ref().map(|b| &b.held);
            for (row, units) in data.units.iter().enumerate() {
                if *units <= 0 && !held.is_some_and(|h| h[row]) {
                    data.end[row] = data.start[row];
                }
            }
        }
        data.units = Vec::new();
        return Ok(data);
    };
    let (start, start_aware) =
        instants_fast(frame, &c.start, "the start of each subscription", i64::MIN)?;
    let (end, end_aware) = match &c.end {
        Some(name) => instants_fast(
            frame,
            name,
            "the end of each subscription (null while active)",
            i64::MAX,
        )?,
        None => (vec![i64::MAX; frame.height()], None),
    };
    check_awareness(c, start_aware, end_aware)?;
    let amounts = input::numbers(
        frame,
        &c.amount,
        Role::Number,
        "the billed amount of each subscription",
    )?
    .rechunk();
    let amounts = amounts.f64()?;
    let Some(amount_array) = amounts.downcast_iter().next() else {
        return normalise_coded(frame, options, true, false);
    };
    // One parallel pass: the checks (first bad row per range), and $0 subscriptions, which do
    // not make a customer active unless `free_is_active`, are given `end = start`.
    let free = options.free_is_active;
    let mut end = end;
    let checked = parallel_fill(&mut end, |first, slice| {
        for (i, e) in slice.iter_mut().enumerate() {
            let row = first + i;
            if start[row] == i64::MIN {
                return Err((row, 0u8));
            }
            if *e < start[row] {
                return Err((row, 1));
            }
            match amount_array.get(row) {
                Some(a) if a.is_finite() && a > 0.0 => {}
                Some(0.0) => {
                    if !free {
                        *e = start[row];
                    }
                }
                _ => return Err((row, 2)),
            }
        }
        Ok(())
    });
    for part in checked {
        match part {
            Ok(()) => {}
            Err((row, 0)) => {
                return Err(invalid(
                    &c.start,
                    row,
                    "null",
                    "every subscription needs a start",
                ))
            }
            Err((row, 1)) => {
                return Err(invalid(
                    c.end.as_deref().unwrap_or_default(),
                    row,
                    format!(
                        "an end before its start ({} < {})",
                        format_instant(end[row]),
                        format_instant(start[row])
                    ),
                    "a subscription cannot end before it starts",
                ))
            }
            Err((row, _)) => {
                return Err(invalid(
                    &c.amount,
                    row,
                    amount_array
                        .get(row)
                        .map_or("null".to_string(), format_number),
                    "amounts must be non-negative numbers (refunds and credits are not MRR)",
                ))
            }
        }
    }
    let customers = customers_coded(frame, &c.customer_id, &options.by, true)?;
    Ok(Normalised {
        customer: customers.codes,
        customer_labels: customers.labels,
        start,
        end,
        units: Vec::new(),
        customer_group: customers.group,
        group_keys: customers.group_keys,
        group_rank: customers.group_rank,
        billing: None,
        other: None,
    })
}

/// Reads and checks the input table.
pub fn normalise(frame: &DataFrame, options: &RevenueOptions) -> Result<Normalised> {
    normalise_coded(frame, options, false, true)
}

/// [`normalise`] for a computation that reports no movement causes when not `causes`: the
/// billing detail then leaves them out (they are the only use of the row boundaries' causes).
pub(crate) fn normalise_for(
    frame: &DataFrame,
    options: &RevenueOptions,
    causes: bool,
) -> Result<Normalised> {
    normalise_coded(frame, options, false, causes)
}

/// [`normalise`], with customer codes in the order of the ids when `in_id_order`, and the
/// movements' causes when `causes`.
fn normalise_coded(
    frame: &DataFrame,
    options: &RevenueOptions,
    in_id_order: bool,
    causes: bool,
) -> Result<Normalised> {
    if super::billing::requested(frame, options) {
        return super::billing::build(frame, options, in_id_order, causes);
    }
    if let RevenueInput::Invoices(c) = &options.input {
        return super::invoices::build(frame, options, c, in_id_order);
    }
    let (customer_name, start_ticks, end_ticks, units) = match &options.input {
        RevenueInput::Activity {
            customer_id,
            timestamp,
        } => read_activity(frame, options, customer_id, timestamp)?,
        _ => read_billing(frame, options)?,
    };
    let customers = customers_coded(frame, &customer_name, &options.by, in_id_order)?;
    check_customer_sums(&customers, &units, &customer_name, options.precision)?;
    Ok(Normalised {
        customer: customers.codes,
        customer_labels: customers.labels,
        start: start_ticks,
        end: end_ticks,
        units,
        customer_group: customers.group,
        group_keys: customers.group_keys,
        group_rank: customers.group_rank,
        billing: None,
        other: None,
    })
}

/// Every customer's MRR must fit Int64 units at every instant: when all of a customer's
/// subscriptions together fit, every sum the engine forms does (amounts are non-negative), so
/// nothing can wrap. Checked per customer only when the largest amount times the row count
/// could overflow.
pub(crate) fn check_customer_sums(
    customers: &Customers,
    units: &[i64],
    customer_name: &str,
    precision: u32,
) -> Result<()> {
    let largest = units.iter().copied().max().unwrap_or(0);
    if i128::from(largest) * units.len() as i128 <= i128::from(i64::MAX) {
        return Ok(());
    }
    let mut totals = vec![0i64; customers.labels.len()];
    for (row, (&c, &u)) in customers.codes.iter().zip(units).enumerate() {
        let total = &mut totals[c as usize];
        *total = total.checked_add(u).ok_or_else(|| {
            let customer = customers
                .labels
                .get(c as usize)
                .map(input::plain)
                .unwrap_or_default();
            invalid(
                customer_name,
                row,
                customer,
                &format!(
                    "the subscriptions of one customer together must fit 9.2e18 units of \
                     10^-{precision} (lower precision= for amounts this large)"
                ),
            )
        })?;
    }
    Ok(())
}

/// An instant (µs since the epoch, UTC) as an ISO date, with the time when not midnight.
pub fn format_instant(ticks: i64) -> String {
    let day = ticks.div_euclid(DAY);
    let (y, m, d) = crate::period::civil_from_days(day);
    let rest = ticks.rem_euclid(DAY);
    if rest == 0 {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        let seconds = rest / 1_000_000;
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

/// The period grid: the first day of each period from `first_day`'s period through the one
/// containing `last_day`, plus the first day after the last period.
pub fn period_grid(period: Period, first_day: i64, last_day: i64) -> Vec<i64> {
    let mut starts = vec![period.start_of(first_day)];
    let last = period.start_of(last_day);
    while *starts.last().unwrap_or(&last) <= last {
        let next = period.next_start(*starts.last().unwrap_or(&last));
        starts.push(next);
    }
    starts
}
