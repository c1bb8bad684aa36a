//! The one input layer: every family reads its columns through these functions.
//!
//! It owns the dtype rules (which column types each role accepts), the conversions (every
//! integer width, floats and Decimal to numbers; Date and Datetime of any unit and time zone to
//! instants; strings, Categorical and Enum to text), the overflow rules and the error
//! constructors. Families never match on dtypes themselves.
//!
//! Roles and what they accept:
//! - keys (customer ids, `by=` columns): strings, Categorical, Enum, integers, booleans, floats,
//!   Date, Datetime (see [`crate::groups::encode_column`]);
//! - numbers (amounts, scores, durations, weights): Int8 to UInt64, Float32, Float64, Decimal;
//! - instants: Date, Datetime (ns, us, ms; naive or time-zone aware), and the Null dtype (an
//!   all-null optional column such as `end`);
//! - text (billing intervals, currencies): String, Categorical, Enum;
//! - flags: Boolean, or integers 0/1.

use polars::prelude::*;
use polars_arrow::array::Array;

use crate::error::{CsError, Result};
use crate::frame::column;

/// Microseconds in a day.
pub(crate) const DAY_US: i64 = crate::period::MICROS_PER_DAY;

/// What a column is read as; names the dtypes each role accepts in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Customer ids and grouping columns.
    Key,
    /// Amounts, scores, durations, weights.
    Number,
    /// Numbers where a Boolean also reads as 0/1 (flags, usage counts).
    NumberOrFlag,
    /// Whole numbers (interval counts).
    Count,
    /// Dates and times.
    Instant,
    /// Labels such as a billing interval or a currency.
    Text,
}

impl Role {
    /// The dtypes the role accepts, as a user reads them.
    pub(crate) fn accepted(self) -> &'static str {
        match self {
            Role::Key => {
                "String, Categorical, Enum, an integer type, Boolean, Float32/Float64, Date or \
                 Datetime"
            }
            Role::Number => "Int8 to UInt64, Float32, Float64 or Decimal",
            Role::NumberOrFlag => "Boolean, Int8 to UInt64, Float32, Float64 or Decimal",
            Role::Count => {
                "Int8 to UInt64, or Float32, Float64 or Decimal holding whole numbers (as pandas \
                 holds an integer column with missing values)"
            }
            Role::Instant => "Date or Datetime (ns, us or ms; naive or with a time zone)",
            Role::Text => "String, Categorical or Enum",
        }
    }
}

/// An [`CsError::InvalidValue`]: `rule` broken by `value` at `row` of `column`.
pub(crate) fn invalid(column: &str, row: usize, value: impl ToString, rule: &str) -> CsError {
    CsError::InvalidValue {
        column: column.to_string(),
        row,
        value: value.to_string(),
        rule: rule.to_string(),
    }
}

/// An [`CsError::InvalidType`] naming the column, its dtype, what it holds and the dtypes
/// accepted.
pub(crate) fn wrong_type(column: &str, dtype: &DataType, role: Role, what: &str) -> CsError {
    CsError::InvalidType {
        column: column.to_string(),
        dtype: dtype_name(dtype),
        rule: format!("{what} must be {}", role.accepted()),
    }
}

/// A dtype as Python Polars users write it: `String`, `List(Int64)`, `Datetime(us, UTC)`.
pub(crate) fn dtype_name(dtype: &DataType) -> String {
    match dtype {
        DataType::String => "String".into(),
        DataType::Binary | DataType::BinaryOffset => "Binary".into(),
        DataType::List(inner) => format!("List({})", dtype_name(inner)),
        DataType::Array(inner, width) => format!("Array({}, {width})", dtype_name(inner)),
        DataType::Struct(fields) => format!(
            "Struct({})",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.name(), dtype_name(f.dtype())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::Datetime(unit, tz) => match tz {
            Some(tz) => format!("Datetime({unit}, {tz})"),
            None => format!("Datetime({unit})"),
        },
        DataType::Duration(unit) => format!("Duration({unit})"),
        DataType::Decimal(precision, scale) => format!("Decimal({precision}, {scale})"),
        DataType::Categorical(_, _) => "Categorical".into(),
        DataType::Enum(_, _) => "Enum".into(),
        other => format!("{other:?}"),
    }
}

/// A key's value as plain text (strings without quotes), for messages and error fields.
pub(crate) fn plain(value: AnyValue<'_>) -> String {
    // Polars formats a zoned datetime only with its time-zone feature: the UTC instant and the
    // zone's name instead.
    let zoned = |ticks: i64, unit: TimeUnit, zone: &str| {
        let micros = match unit {
            TimeUnit::Nanoseconds => ticks.div_euclid(1000),
            TimeUnit::Microseconds => ticks,
            TimeUnit::Milliseconds => ticks.saturating_mul(1000),
        };
        format!(
            "{} UTC ({zone})",
            crate::revenue::input::format_instant(micros)
        )
    };
    match value {
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Null => "null".to_string(),
        AnyValue::Datetime(t, unit, Some(zone)) => zoned(t, unit, zone.as_str()),
        AnyValue::DatetimeOwned(t, unit, Some(zone)) => zoned(t, unit, zone.as_str()),
        other => other.to_string(),
    }
}

/// Whether `dtype` is read by `role`.
pub(crate) fn accepts(role: Role, dtype: &DataType) -> bool {
    match role {
        Role::Key => {
            dtype.is_string()
                || dtype.is_categorical()
                || dtype.is_enum()
                || is_number(dtype)
                || dtype.is_bool()
                || matches!(
                    dtype,
                    DataType::Date | DataType::Datetime(_, _) | DataType::Null
                )
        }
        Role::Number => is_number(dtype) || dtype.is_null(),
        Role::NumberOrFlag => is_number(dtype) || dtype.is_bool() || dtype.is_null(),
        Role::Count => is_number(dtype) || dtype.is_null(),
        Role::Instant => matches!(
            dtype,
            DataType::Date | DataType::Datetime(_, _) | DataType::Null
        ),
        Role::Text => {
            dtype.is_string() || dtype.is_categorical() || dtype.is_enum() || dtype.is_null()
        }
    }
}

fn is_wide(dtype: &DataType) -> bool {
    matches!(dtype, DataType::Int128 | DataType::UInt128)
}

fn is_number(dtype: &DataType) -> bool {
    (dtype.is_primitive_numeric() && !is_wide(dtype)) || dtype.is_decimal()
}

/// The column `name` of `frame`, checked to be of a dtype `role` accepts.
pub(crate) fn checked<'a>(
    frame: &'a DataFrame,
    name: &str,
    role: Role,
    purpose: &str,
) -> Result<&'a Series> {
    let series = column(frame, name, purpose)?.as_materialized_series();
    check(series, name, role, purpose)?;
    Ok(series)
}

/// Checks that `series` is of a dtype `role` accepts.
pub(crate) fn check(series: &Series, name: &str, role: Role, purpose: &str) -> Result<()> {
    if accepts(role, series.dtype()) {
        Ok(())
    } else {
        Err(wrong_type(name, series.dtype(), role, purpose))
    }
}

/// A numeric column as Float64 (Booleans as 0/1 under [`Role::NumberOrFlag`]); nulls stay null.
/// Decimal values are converted to the nearest double.
pub(crate) fn number_series(series: &Series, name: &str, role: Role, what: &str) -> Result<Series> {
    check(series, name, role, what)?;
    if series.dtype() == &DataType::Float64 {
        return Ok(series.clone());
    }
    Ok(series.cast(&DataType::Float64)?)
}

/// The numbers of column `name` as Float64 (see [`number_series`]).
pub(crate) fn numbers(frame: &DataFrame, name: &str, role: Role, what: &str) -> Result<Series> {
    let series = column(frame, name, what)?.as_materialized_series();
    number_series(series, name, role, what)
}

/// The numbers of column `name` as optional f64 values.
pub(crate) fn optional_numbers(
    frame: &DataFrame,
    name: &str,
    role: Role,
    what: &str,
) -> Result<Vec<Option<f64>>> {
    Ok(numbers(frame, name, role, what)?.f64()?.iter().collect())
}

/// Whole numbers of column `name` (interval counts); nulls stay null.
pub(crate) fn whole_numbers(frame: &DataFrame, name: &str, what: &str) -> Result<Vec<Option<i64>>> {
    let series = checked(frame, name, Role::Count, what)?;
    if series.dtype().is_float() || series.dtype().is_decimal() {
        // Whole-valued floats (pandas' integers with NaN) and decimals read exactly; a fraction,
        // NaN, an infinity or a value past Int64 is an error naming it.
        let floats = series.cast(&DataType::Float64)?;
        let mut out = Vec::with_capacity(floats.len());
        for (row, value) in floats.f64()?.iter().enumerate() {
            match value {
                None => out.push(None),
                // 2^63 is the first double past i64::MAX.
                Some(v) if v.fract() == 0.0 && v.abs() < 9_223_372_036_854_775_808.0 => {
                    out.push(Some(v as i64));
                }
                Some(v) => {
                    let shown = match series.dtype() {
                        DataType::Decimal(_, _) => plain(series.get(row)?),
                        _ => v.to_string(),
                    };
                    return Err(invalid(
                        name,
                        row,
                        shown,
                        &format!("{what} must be a whole number"),
                    ));
                }
            }
        }
        return Ok(out);
    }
    let wide = series.cast(&DataType::Int64)?;
    // UInt64 values past Int64 become null in the cast: report them as they were.
    if series.dtype() == &DataType::UInt64 {
        if let Some(row) = series
            .u64()?
            .iter()
            .position(|v| v.is_some_and(|v| v > i64::MAX as u64))
        {
            let value = series.u64()?.get(row).unwrap_or_default();
            return Err(invalid(
                name,
                row,
                value,
                &format!("{what} is out of range"),
            ));
        }
    }
    Ok(wide.i64()?.iter().collect())
}

/// The first null row of `series` (None when it has none).
pub(crate) fn first_null(series: &Series) -> Option<usize> {
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

/// Labels of column `name` as strings (Categorical and Enum read through their categories).
pub(crate) fn text(frame: &DataFrame, name: &str, what: &str) -> Result<StringChunked> {
    let series = checked(frame, name, Role::Text, what)?;
    Ok(series.cast(&DataType::String)?.str()?.clone())
}

/// Flags of column `name`: Boolean, or integers 0/1 (any other integer breaks `rule`); nulls
/// stay null.
pub(crate) fn flags(
    frame: &DataFrame,
    name: &str,
    what: &str,
    rule: &str,
) -> Result<Vec<Option<bool>>> {
    let series = column(frame, name, what)?.as_materialized_series();
    if series.dtype().is_bool() {
        return Ok(series.bool()?.iter().collect());
    }
    if !(series.dtype().is_integer() || series.dtype().is_null()) {
        return Err(CsError::InvalidType {
            column: name.to_string(),
            dtype: dtype_name(series.dtype()),
            rule: format!("{what} must be Boolean or integers 0/1"),
        });
    }
    let wide = series.cast(&DataType::Float64)?;
    wide.f64()?
        .iter()
        .enumerate()
        .map(|(row, v)| match v {
            None => Ok(None),
            Some(0.0) => Ok(Some(false)),
            Some(1.0) => Ok(Some(true)),
            Some(other) => Err(invalid(name, row, crate::frame::format_number(other), rule)),
        })
        .collect()
}

/// The index in `allowed` of each row's label (strings, Categorical or Enum), or an error
/// naming the first row whose label is null or not allowed. Short strings are compared through
/// their 16-byte views, in parallel: no string is materialised.
pub(crate) fn labels(
    frame: &DataFrame,
    name: &str,
    what: &str,
    allowed: &[&str],
    rule: &str,
) -> Result<Vec<u8>> {
    let series = checked(frame, name, Role::Text, what)?;
    if series.dtype().is_categorical() || series.dtype().is_enum() {
        return category_labels(series, name, allowed, rule);
    }
    // Read in the chunks the column has (one per Parquet row group): no copy into one.
    let strings = if series.dtype().is_string() {
        series.clone()
    } else {
        series.cast(&DataType::String)?
    };
    let ca = strings.str()?;
    let mut out = crate::alloc::zeroed_buffer::<u8>(ca.len());
    let candidates = polars_arrow::array::Utf8ViewArray::from_slice_values(allowed);
    let inline: Vec<Option<u128>> = candidates
        .views()
        .iter()
        .map(|v| (v.length <= 12).then(|| v.as_u128()))
        .collect();
    let mut offset = 0usize;
    for array in ca.downcast_iter() {
        let views = array.views().as_slice();
        let part = &mut out[offset..offset + array.len()];
        let bad = crate::parallel::parallel_fill(part, |first, slice| {
            for (i, o) in slice.iter_mut().enumerate() {
                let row = first + i;
                if !array.is_valid(row) {
                    return Some(row);
                }
                let view = views[row];
                let found = if view.length <= 12 {
                    inline.iter().position(|c| *c == Some(view.as_u128()))
                } else {
                    let value = array.value(row);
                    allowed.iter().position(|a| *a == value)
                };
                match found {
                    Some(index) => *o = index as u8,
                    None => return Some(row),
                }
            }
            None
        });
        if let Some(row) = bad.into_iter().flatten().min() {
            let value = array
                .get(row)
                .map_or("null".to_string(), |v| format!("'{v}'"));
            return Err(invalid(name, offset + row, value, rule));
        }
        offset += array.len();
    }
    Ok(out)
}

/// [`labels`] of a Categorical or Enum column: each category is looked up once, rows read
/// through their physical codes (no string per row).
fn category_labels(series: &Series, name: &str, allowed: &[&str], rule: &str) -> Result<Vec<u8>> {
    const UNSEEN: u8 = u8::MAX;
    const NOT_ALLOWED: u8 = u8::MAX - 1;
    let physical = series.to_physical_repr().cast(&DataType::UInt32)?.rechunk();
    let codes = physical.u32()?;
    let rows = codes.len();
    let mut out = crate::alloc::zeroed_buffer::<u8>(rows);
    let largest = codes.max().unwrap_or(0) as usize;
    // The allowed index of each code seen so far (codes are dense for a column's categories).
    let mut index: Vec<u8> = vec![UNSEEN; (largest + 1).min(1 << 24)];
    let label_at = |row: usize| -> Result<Option<String>> {
        let one = series.slice(row as i64, 1).cast(&DataType::String)?;
        Ok(one.str()?.get(0).map(str::to_string))
    };
    for (row, code) in codes.iter().enumerate() {
        let Some(code) = code else {
            return Err(invalid(name, row, "null", rule));
        };
        let slot = index.get(code as usize).copied();
        let found = match slot {
            Some(i) if i != UNSEEN => i,
            _ => {
                let label = label_at(row)?;
                let i = label
                    .as_deref()
                    .and_then(|v| allowed.iter().position(|a| *a == v))
                    .map_or(NOT_ALLOWED, |i| i as u8);
                if let Some(s) = index.get_mut(code as usize) {
                    *s = i;
                }
                i
            }
        };
        if found == NOT_ALLOWED {
            let shown = label_at(row)?.map_or("null".to_string(), |v| format!("'{v}'"));
            return Err(invalid(name, row, shown, rule));
        }
        out[row] = found;
    }
    Ok(out)
}

/// How an instant column counts time.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Clock {
    /// Days since 1970-01-01 in an Int32.
    Date,
    /// Ticks since 1970-01-01 UTC in an Int64, `per_day` to a day; `aware` when it has a
    /// time zone.
    Datetime { per_day: i64, aware: bool },
    /// The Null dtype: every value is null.
    Null,
}

impl Clock {
    /// Microseconds per tick as (multiplier, divisor).
    fn micros(self) -> (i64, i64) {
        match self {
            Clock::Date => (DAY_US, 1),
            Clock::Datetime { per_day, .. } if per_day > DAY_US => (1, per_day / DAY_US),
            Clock::Datetime { per_day, .. } => (DAY_US / per_day, 1),
            Clock::Null => (1, 1),
        }
    }

    /// Whether the column is time-zone aware (None for Date and Null).
    pub(crate) fn aware(self) -> Option<bool> {
        match self {
            Clock::Datetime { aware, .. } => Some(aware),
            _ => None,
        }
    }
}

/// The clock of an instant column, or a typed error naming what it should hold.
pub(crate) fn clock(series: &Series, name: &str, what: &str) -> Result<Clock> {
    Ok(match series.dtype() {
        DataType::Date => Clock::Date,
        DataType::Datetime(unit, tz) => Clock::Datetime {
            per_day: match unit {
                TimeUnit::Nanoseconds => DAY_US * 1000,
                TimeUnit::Microseconds => DAY_US,
                TimeUnit::Milliseconds => DAY_US / 1000,
            },
            aware: tz.is_some(),
        },
        DataType::Null => Clock::Null,
        other => return Err(wrong_type(name, other, Role::Instant, what)),
    })
}

/// Instants of column `name` in µs since the epoch (UTC), read in parallel, with `null` for
/// nulls; and whether the column is time-zone aware (None for Date and Null). Instants past the
/// µs range (beyond about ±292,000 years) saturate.
pub(crate) fn instants(
    frame: &DataFrame,
    name: &str,
    what: &str,
    null: i64,
) -> Result<(Vec<i64>, Option<bool>)> {
    let series = column(frame, name, what)?.as_materialized_series();
    instants_of(series, name, what, null)
}

/// [`instants`] of a series.
pub(crate) fn instants_of(
    series: &Series,
    name: &str,
    what: &str,
    null: i64,
) -> Result<(Vec<i64>, Option<bool>)> {
    let clock = clock(series, name, what)?;
    if let Clock::Null = clock {
        return Ok((vec![null; series.len()], None));
    }
    let (mul, div) = clock.micros();
    let series = series.rechunk();
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
    Ok((values, clock.aware()))
}

/// Instants of column `name` in µs (UTC), nulls as None, and whether the column is time-zone
/// aware (see [`instants`]).
pub(crate) fn optional_instants(
    frame: &DataFrame,
    name: &str,
    what: &str,
) -> Result<(Vec<Option<i64>>, Option<bool>)> {
    let (values, aware) = instants(frame, name, what, i64::MIN)?;
    let values = values
        .into_iter()
        .map(|v| (v != i64::MIN).then_some(v))
        .collect();
    Ok((values, aware))
}

/// Days since 1970-01-01 of each row of an instant column (floored; days beyond the Int32
/// range saturate), or the row of the first null.
pub(crate) fn days_of(
    series: &Series,
    name: &str,
    what: &str,
) -> Result<std::result::Result<Vec<i32>, usize>> {
    let clock = clock(series, name, what)?;
    if series.null_count() > 0 {
        let row = series.is_null().iter().position(|v| v == Some(true));
        return Ok(Err(row.unwrap_or(0)));
    }
    let physical = series.to_physical_repr();
    let mut out = crate::alloc::zeroed_buffer::<i32>(series.len());
    let mut at = 0;
    match clock {
        Clock::Null => {}
        // Dates are already days in an i32: copy the slices, no cast.
        Clock::Date => {
            for array in physical.i32()?.downcast_iter() {
                let values = array.values().as_slice();
                out[at..at + values.len()].copy_from_slice(values);
                at += values.len();
            }
        }
        Clock::Datetime { per_day, .. } => {
            for array in physical.i64()?.downcast_iter() {
                for (o, &v) in out[at..].iter_mut().zip(array.values().as_slice()) {
                    *o = saturate_i32(v.div_euclid(per_day));
                }
                at += array.len();
            }
        }
    }
    Ok(Ok(out))
}

/// Clamps a day number into Int32.
pub(crate) fn saturate_i32(day: i64) -> i32 {
    i32::try_from(day).unwrap_or(if day > 0 { i32::MAX } else { i32::MIN })
}

/// `value * mul / div` (floored, saturating) for each row, `null` for nulls, filled in parallel.
fn scale_instants<T>(
    array: &polars_arrow::array::PrimitiveArray<T>,
    mul: i64,
    div: i64,
    null: i64,
) -> Vec<i64>
where
    T: polars_arrow::types::NativeType + Into<i64>,
{
    let values = array.values().as_slice();
    let validity = array.validity().filter(|v| v.unset_bits() > 0);
    let mut out = crate::alloc::zeroed_buffer::<i64>(values.len());
    crate::parallel::parallel_fill(&mut out, |first, slice| {
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

/// Money of a numeric column in exact integer units of 10^-precision after multiplying each
/// row by `factor(row) = (multiplier, divisor)` (and `rates[row]`), rounded half to even.
///
/// Decimal columns are converted without a float: units = round(mantissa * 10^precision *
/// multiplier / (divisor * 10^scale)) in 128-bit integers. Other numeric columns (and any column
/// with exchange `rates`) are converted from f64. A null, negative or non-finite amount breaks
/// `rule`; an amount that does not fit the Int64 unit range is an error naming the row, so that
/// no amount is ever capped or wrapped.
/// Amounts of either sign are read when `signed` (invoice lines: a credit is negative).
#[allow(clippy::too_many_arguments)]
pub(crate) fn money(
    frame: &DataFrame,
    name: &str,
    what: &str,
    precision: u32,
    factor: &(impl Fn(usize) -> (i64, i64) + Sync),
    rates: Option<&[f64]>,
    rule: &str,
    signed: bool,
) -> Result<Vec<i64>> {
    let series = checked(frame, name, Role::Number, what)?;
    let rows = series.len();
    let too_large = |row: usize, value: String| {
        invalid(
            name,
            row,
            value,
            &format!(
                "the monthly amount must fit 9.2e18 units of 10^-{precision} \
                 (lower precision= for amounts this large)"
            ),
        )
    };
    if let (DataType::Decimal(_, scale), None) = (series.dtype(), rates) {
        let scale = *scale as u32;
        let physical = series.to_physical_repr();
        let mantissas = physical.i128()?;
        let mut out = crate::alloc::zeroed_buffer::<i64>(rows);
        let mut offset = 0usize;
        // Chunk by chunk as the column holds them, rows in parallel; the first bad row of the
        // chunk is reported (None: a null).
        for array in mantissas.downcast_iter() {
            let part = &mut out[offset..offset + array.len()];
            let bad = crate::parallel::parallel_fill(part, |first, slice| {
                for (i, o) in slice.iter_mut().enumerate() {
                    let row = first + i;
                    let Some(m) = array.get(row) else {
                        return Some((row, None));
                    };
                    if m < 0 && !signed {
                        return Some((row, Some((m, false))));
                    }
                    let (multiplier, divisor) = factor(offset + row);
                    // Half-even rounding is symmetric: the magnitude is rounded, then the sign
                    // put back.
                    match decimal_units(m.abs(), scale, precision, multiplier, divisor) {
                        Some(u) => *o = if m < 0 { -u } else { u },
                        None => return Some((row, Some((m, true)))),
                    }
                }
                None
            });
            if let Some((row, what)) = bad.into_iter().flatten().min_by_key(|(row, _)| *row) {
                let row = offset + row;
                return Err(match what {
                    None => invalid(name, row, "null", rule),
                    Some((m, false)) => invalid(name, row, format_decimal(m, scale), rule),
                    Some((m, true)) => too_large(row, format_decimal(m, scale)),
                });
            }
            offset += array.len();
        }
        return Ok(out);
    }
    let values = number_series(series, name, Role::Number, what)?;
    let mut out = Vec::with_capacity(rows);
    let scale = 10f64.powi(precision as i32);
    for (row, value) in values.f64()?.iter().enumerate() {
        let amount = match value {
            Some(a) if a.is_finite() && (signed || a >= 0.0) => a,
            other => {
                return Err(invalid(
                    name,
                    row,
                    other.map_or("null".to_string(), crate::frame::format_number),
                    rule,
                ))
            }
        };
        let rate = rates.map_or(1.0, |r| r[row]);
        let (multiplier, divisor) = factor(row);
        let units = (amount * rate * multiplier as f64 / divisor as f64 * scale).round_ties_even();
        // 2^63 is exactly representable; anything at or past it does not fit.
        if units.is_nan() || units.abs() >= 9.223_372_036_854_776e18 {
            return Err(too_large(row, crate::frame::format_number(amount)));
        }
        out.push(units as i64);
    }
    Ok(out)
}

/// round_half_even(m * 10^precision * multiplier / (divisor * 10^scale)), if it fits i64.
fn decimal_units(
    m: i128,
    scale: u32,
    precision: u32,
    multiplier: i64,
    divisor: i64,
) -> Option<i64> {
    let numerator = m
        .checked_mul(10i128.checked_pow(precision)?)?
        .checked_mul(i128::from(multiplier))?;
    let denominator = i128::from(divisor).checked_mul(10i128.checked_pow(scale)?)?;
    let (q, r) = (numerator / denominator, numerator % denominator);
    let twice = r.checked_mul(2)?;
    let rounded = if twice > denominator || (twice == denominator && q % 2 == 1) {
        q + 1
    } else {
        q
    };
    i64::try_from(rounded).ok()
}

/// A Decimal mantissa with its scale, as written (`12.50`).
pub(crate) fn format_decimal(mantissa: i128, scale: u32) -> String {
    if scale == 0 {
        return mantissa.to_string();
    }
    let digits = mantissa.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    let sign = if mantissa < 0 { "-" } else { "" };
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_units_round_half_even_without_floats() {
        // 12.345 at precision 2: 1234.5 -> 1234 (even); 12.355 -> 1236.
        assert_eq!(decimal_units(12_345, 3, 2, 1, 1), Some(1234));
        assert_eq!(decimal_units(12_355, 3, 2, 1, 1), Some(1236));
        // 1500.00 a year at precision 2: 125.00 a month exactly.
        assert_eq!(decimal_units(150_000, 2, 2, 1, 12), Some(12_500));
        // 100.00 a week: 100 * 365 / 84 = 434.5238... -> 434.52.
        assert_eq!(decimal_units(10_000, 2, 2, 365, 84), Some(43_452));
        // Past the Int64 unit range: None, never a wrapped or capped value.
        assert_eq!(decimal_units(i128::MAX / 10, 0, 6, 1, 1), None);
    }

    #[test]
    fn category_columns_read_their_labels_once_per_category() {
        let allowed = ["trialing", "active", "paused"];
        let frozen = FrozenCategories::new(["paused", "active", "trialing", "bogus"]).unwrap();
        for dtype in [
            DataType::from_categories(Categories::global()),
            DataType::from_frozen_categories(frozen),
        ] {
            let good = df!("status" => ["active", "paused", "active", "trialing"])
                .unwrap()
                .lazy()
                .with_column(col("status").cast(dtype.clone()))
                .collect()
                .unwrap();
            let read = labels(&good, "status", "the status", &allowed, "a known status").unwrap();
            assert_eq!(read, vec![1, 2, 1, 0]);
            let bad = df!("status" => [Some("active"), Some("bogus")])
                .unwrap()
                .lazy()
                .with_column(col("status").cast(dtype.clone()))
                .collect()
                .unwrap();
            let err = labels(&bad, "status", "the status", &allowed, "a known status");
            let text = format!("{}", err.unwrap_err());
            assert!(text.contains("row 1") && text.contains("'bogus'"), "{text}");
            let null = df!("status" => [Some("active"), None])
                .unwrap()
                .lazy()
                .with_column(col("status").cast(dtype))
                .collect()
                .unwrap();
            let err = labels(&null, "status", "the status", &allowed, "a known status");
            assert!(format!("{}", err.unwrap_err()).contains("null"));
        }
    }

    #[test]
    fn decimals_format_as_written() {
        assert_eq!(format_decimal(1250, 2), "12.50");
        assert_eq!(format_decimal(-5, 3), "-0.005");
        assert_eq!(format_decimal(7, 0), "7");
    }

    #[test]
    fn roles_accept_their_dtypes_only() {
        assert!(accepts(Role::Number, &DataType::UInt8));
        assert!(accepts(Role::Number, &DataType::Decimal(10, 2)));
        assert!(!accepts(Role::Number, &DataType::String));
        assert!(accepts(Role::Instant, &DataType::Null));
        assert!(!accepts(
            Role::Instant,
            &DataType::Duration(TimeUnit::Microseconds)
        ));
        assert!(!accepts(Role::Key, &DataType::Binary));
        assert!(!accepts(
            Role::Key,
            &DataType::List(Box::new(DataType::Int64))
        ));
    }
}
