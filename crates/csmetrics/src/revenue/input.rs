//! Reading and checking a subscriptions (or already-monthly) table into the engine's columnar
//! form: dense customer codes, start and end instants in microseconds (UTC), and each
//! subscription's monthly amount in integer units of 10^-precision.

use polars::prelude::*;

use super::{RevenueInput, RevenueOptions, SubscriptionColumns};
use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{
    encode_column, group_rows, key_in_value_order, parallel_fill, sorted_keys, zeroed_buffer,
    EncodedKey,
};
use crate::period::Period;
use polars_arrow::array::PrimitiveArray;

/// Microseconds in a day.
pub const DAY: i64 = 86_400_000_000;

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
}

fn invalid(column: &str, row: usize, value: impl ToString, rule: &str) -> CsError {
    CsError::InvalidValue {
        column: column.to_string(),
        row,
        value: value.to_string(),
        rule: rule.to_string(),
    }
}

/// Instants of a Date or Datetime column in µs since the epoch (UTC), nulls as None, and
/// whether it is time-zone aware (None for Date).
fn instants(
    frame: &DataFrame,
    name: &str,
    purpose: &str,
) -> Result<(Vec<Option<i64>>, Option<bool>)> {
    let (values, aware) = instants_fast(frame, name, purpose, i64::MIN)?;
    Ok((
        values
            .into_iter()
            .map(|v| (v != i64::MIN).then_some(v))
            .collect(),
        aware,
    ))
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

/// Monthly factor of a billing interval as (multiplier, divisor): monthly = amount * m / d.
/// Kept as a fraction so that e.g. a yearly amount is divided by 12 exactly as written.
fn interval_factor(name: &str) -> Option<(f64, f64)> {
    match name {
        "day" => Some((365.0, 12.0)),
        "week" => Some((365.0, 84.0)),
        "month" => Some((1.0, 1.0)),
        "quarter" => Some((1.0, 3.0)),
        "year" => Some((1.0, 12.0)),
        _ => None,
    }
}

fn f64_values(frame: &DataFrame, name: &str, purpose: &str) -> Result<Vec<Option<f64>>> {
    let series = column(frame, name, purpose)?.as_materialized_series();
    if !series.dtype().is_primitive_numeric() && !series.dtype().is_null() {
        return Err(CsError::InvalidType {
            column: name.to_string(),
            dtype: series.dtype().to_string(),
            rule: "amounts must be numeric".to_string(),
        });
    }
    Ok(series.cast(&DataType::Float64)?.f64()?.iter().collect())
}

/// Rounds `value * 10^precision` half to even into integer units.
pub fn to_units(value: f64, scale: f64) -> i64 {
    (value * scale).round_ties_even() as i64
}

/// Reads and checks the input table.
/// What the panel is built from: the customer column's name, and each row's start and end
/// instants (µs) and monthly amount in units.
type Panel = (String, Vec<i64>, Vec<i64>, Vec<i64>);

/// Subscriptions or a monthly table: (customer column, start, end, monthly units), checked.
fn read_billing(frame: &DataFrame, options: &RevenueOptions) -> Result<Panel> {
    let rows = frame.height();
    let scale = 10f64.powi(options.precision as i32);
    let (customer_name, mut start, mut end, amounts, factors, amount_name) = match &options.input {
        RevenueInput::Subscriptions(c) => {
            let (start, start_aware) = instants(frame, &c.start, "the start of each subscription")?;
            let (end, end_aware) = match &c.end {
                Some(name) => instants(
                    frame,
                    name,
                    "the end of each subscription (null while active)",
                )?,
                None => (vec![None; rows], None),
            };
            check_awareness(c, start_aware, end_aware)?;
            let amounts = f64_values(frame, &c.amount, "the billed amount of each subscription")?;
            let mut factors = vec![(1.0f64, 1.0f64); rows];
            if let Some(name) = &c.interval {
                let series = column(
                    frame,
                    name,
                    "the billing interval (pass interval=None if every amount is monthly)",
                )?
                .as_materialized_series();
                let ca = series.str().map_err(|_| CsError::InvalidType {
                    column: name.clone(),
                    dtype: series.dtype().to_string(),
                    rule:
                        "the billing interval must be a string: day, week, month, quarter or year"
                            .to_string(),
                })?;
                for (row, value) in ca.iter().enumerate() {
                    factors[row] = match value.and_then(interval_factor) {
                        Some(f) => f,
                        None => return Err(invalid(
                            name,
                            row,
                            value.map_or("null".to_string(), |v| format!("'{v}'")),
                            "the billing interval must be one of day, week, month, quarter, year",
                        )),
                    };
                }
            }
            if let Some(name) = &c.interval_count {
                let series = column(frame, name, "the number of intervals billed at once")?
                    .as_materialized_series();
                if !series.dtype().is_integer() {
                    return Err(CsError::InvalidType {
                        column: name.clone(),
                        dtype: series.dtype().to_string(),
                        rule: "interval counts must be whole numbers of at least 1".to_string(),
                    });
                }
                let counts = series.cast(&DataType::Int64)?;
                for (row, value) in counts.i64()?.iter().enumerate() {
                    match value {
                        Some(n) if n >= 1 => factors[row].1 *= n as f64,
                        other => {
                            return Err(invalid(
                                name,
                                row,
                                other.map_or("null".to_string(), |v| v.to_string()),
                                "interval counts must be whole numbers of at least 1",
                            ))
                        }
                    }
                }
            }
            (
                c.customer_id.clone(),
                start,
                end,
                amounts,
                factors,
                c.amount.clone(),
            )
        }
        RevenueInput::Monthly {
            customer_id,
            period,
            mrr,
        } => {
            // Each row is one period's MRR: a subscription covering exactly that period.
            let (days, _) = instants(frame, period, "the period of each row")?;
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
            let amounts = f64_values(frame, mrr, "the MRR of each row")?;
            (
                customer_id.clone(),
                start,
                end,
                amounts,
                vec![(1.0, 1.0); rows],
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
    };

    // Currencies: one currency, or an fx table converting each to the reporting currency.
    let mut rates: Option<Vec<f64>> = None;
    if let RevenueInput::Subscriptions(c) = &options.input {
        if let Some(name) = c.currency.as_ref().filter(|n| frame.column(n).is_ok()) {
            let series =
                column(frame, name, "the currency of each amount")?.as_materialized_series();
            let ca = series.str().map_err(|_| CsError::InvalidType {
                column: name.clone(),
                dtype: series.dtype().to_string(),
                rule: "currencies must be strings such as 'USD'".to_string(),
            })?;
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
                }
                Some(fx) => {
                    let mut out = Vec::with_capacity(rows);
                    for (row, value) in ca.iter().enumerate() {
                        let rate =
                            value.and_then(|v| fx.iter().find(|(c, _)| c == v).map(|(_, r)| *r));
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
                    rates = Some(out);
                }
            }
        }
    }

    let mut units = Vec::with_capacity(rows);
    for (row, amount) in amounts.iter().enumerate() {
        let amount = match amount {
            Some(a) if a.is_finite() && *a >= 0.0 => *a,
            other => {
                return Err(invalid(
                    &amount_name,
                    row,
                    other.map_or("null".to_string(), format_number),
                    "amounts must be non-negative numbers (refunds and credits are not MRR)",
                ))
            }
        };
        let rate = rates.as_ref().map_or(1.0, |r| r[row]);
        let (multiplier, divisor) = factors[row];
        units.push(to_units(amount * rate * multiplier / divisor, scale));
    }

    let (start_name, end_name) = match &options.input {
        RevenueInput::Subscriptions(c) => (c.start.clone(), c.end.clone().unwrap_or_default()),
        RevenueInput::Monthly { period, .. } => (period.clone(), period.clone()),
        RevenueInput::Activity { timestamp, .. } => (timestamp.clone(), timestamp.clone()),
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
    Ok((customer_name, start_ticks, end_ticks, units))
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
    if let Some(row) = first_null(customers) {
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

/// Instants of a Date or Datetime column in µs (UTC), read in parallel; `null` marks nulls.
/// Also whether the column is time-zone aware (None for Date).
fn instants_fast(
    frame: &DataFrame,
    name: &str,
    purpose: &str,
    null: i64,
) -> Result<(Vec<i64>, Option<bool>)> {
    let series = column(frame, name, purpose)?
        .as_materialized_series()
        .rechunk();
    let (mul, div, aware): (i64, i64, Option<bool>) = match series.dtype() {
        DataType::Date => (DAY, 1, None),
        DataType::Datetime(TimeUnit::Nanoseconds, tz) => (1, 1000, Some(tz.is_some())),
        DataType::Datetime(TimeUnit::Microseconds, tz) => (1, 1, Some(tz.is_some())),
        DataType::Datetime(TimeUnit::Milliseconds, tz) => (1000, 1, Some(tz.is_some())),
        DataType::Null => return Ok((vec![null; series.len()], None)),
        other => {
            return Err(CsError::InvalidType {
                column: name.to_string(),
                dtype: other.to_string(),
                rule: "a start or end column must be Date or Datetime".to_string(),
            })
        }
    };
    // Dates are read as their 32-bit day numbers: no widened copy of the column is made.
    let physical = series.to_physical_repr();
    let values = match physical.dtype() {
        DataType::Int32 => match physical.i32()?.downcast_iter().next() {
            Some(array) => scale_instants(array, mul, div, null),
            None => Vec::new(),
        },
        _ => {
            let wide = physical.cast(&DataType::Int64)?;
            let scaled = match wide.i64()?.downcast_iter().next() {
                Some(array) => scale_instants(array, mul, div, null),
                None => Vec::new(),
            };
            scaled
        }
    };
    Ok((values, aware))
}

/// `value * mul / div` (floored) for each row, `null` for nulls, filled in parallel.
fn scale_instants<T>(array: &PrimitiveArray<T>, mul: i64, div: i64, null: i64) -> Vec<i64>
where
    T: polars_arrow::types::NativeType + Into<i64>,
{
    let values = array.values().as_slice();
    let validity = array.validity().filter(|v| v.unset_bits() > 0);
    let mut out = zeroed_buffer::<i64>(values.len());
    parallel_fill(&mut out, |first, slice| {
        let source = &values[first..first + slice.len()];
        match (validity, div) {
            (None, 1) => {
                for (o, v) in slice.iter_mut().zip(source) {
                    *o = (*v).into().saturating_mul(mul);
                }
            }
            _ => {
                for (i, (o, v)) in slice.iter_mut().zip(source).enumerate() {
                    *o = if validity.is_none_or(|b| b.get_bit(first + i)) {
                        (*v).into().saturating_mul(mul).div_euclid(div)
                    } else {
                        null
                    };
                }
            }
        }
    });
    out
}

/// The input of customer lives: for a subscriptions table only the customer, start, end and
/// whether the amount is positive matter (intervals are not read); other tables go through
/// [`normalise`]. Customer codes follow the order of the ids. Rows that do not make their customer active ($0, unless `free_is_active`)
/// get `end = start`, so a life is made of the rows with `end > start`; `units` is not kept.
pub fn lives_input(frame: &DataFrame, options: &RevenueOptions) -> Result<Normalised> {
    let RevenueInput::Subscriptions(c) = &options.input else {
        let mut data = normalise_coded(frame, options, true)?;
        if !options.free_is_active {
            for (row, units) in data.units.iter().enumerate() {
                if *units <= 0 {
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
    let amounts = column(frame, &c.amount, "the billed amount of each subscription")?
        .as_materialized_series();
    if !amounts.dtype().is_primitive_numeric() && !amounts.dtype().is_null() {
        return Err(CsError::InvalidType {
            column: c.amount.clone(),
            dtype: amounts.dtype().to_string(),
            rule: "amounts must be numeric".to_string(),
        });
    }
    let amounts = amounts.cast(&DataType::Float64)?.rechunk();
    let amounts = amounts.f64()?;
    let Some(amount_array) = amounts.downcast_iter().next() else {
        return normalise_coded(frame, options, true);
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
    })
}

/// Reads and checks the input table.
pub fn normalise(frame: &DataFrame, options: &RevenueOptions) -> Result<Normalised> {
    normalise_coded(frame, options, false)
}

/// [`normalise`], with customer codes in the order of the ids when `in_id_order`.
fn normalise_coded(
    frame: &DataFrame,
    options: &RevenueOptions,
    in_id_order: bool,
) -> Result<Normalised> {
    let (customer_name, start_ticks, end_ticks, units) = match &options.input {
        RevenueInput::Activity {
            customer_id,
            timestamp,
        } => read_activity(frame, options, customer_id, timestamp)?,
        _ => read_billing(frame, options)?,
    };
    let customers = customers_coded(frame, &customer_name, &options.by, in_id_order)?;
    Ok(Normalised {
        customer: customers.codes,
        customer_labels: customers.labels,
        start: start_ticks,
        end: end_ticks,
        units,
        customer_group: customers.group,
        group_keys: customers.group_keys,
        group_rank: customers.group_rank,
    })
}

fn first_null(column: &Column) -> Option<usize> {
    let series = column.as_materialized_series();
    if series.null_count() == 0 {
        return None;
    }
    let mut offset = 0;
    for array in series.chunks() {
        if let Some(validity) = array.validity() {
            if let Some(i) = (0..array.len()).find(|&i| !validity.get_bit(i)) {
                return Some(offset + i);
            }
        }
        offset += array.len();
    }
    None
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
