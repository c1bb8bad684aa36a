//! One key read by blocks: how its rows turn into codes (integers and days by their span,
//! strings through a lookup of their few values), and the first pass that finds those values.

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8ViewArray};

use crate::error::{CsError, Result};
use crate::parallel::{chunks, parallel, threads};
use crate::period::Period;

use super::strings::{distinct_strings, text_of, StringLookup};
use super::{pieces, FEW_STRINGS, INTEGER_SPAN};

/// A string as its view identifies it: inline (up to 12 bytes) or its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Text {
    Null,
    Inline(u128),
    Long(String),
}

/// How the rows of one key turn into codes.
#[derive(Debug, Clone)]
pub(super) enum Coder {
    /// Strings: the distinct values in order of first appearance.
    Strings(StringLookup),
    /// Integers (also Date, Datetime and category codes as their physical integers): the code is
    /// `value - lo`; nulls take code `span`.
    Integers { lo: i64, span: u32, nulls: bool },
    /// Strings whose values are found while counting, [`FEW_STRINGS`] codes at most (one read
    /// of the column instead of two); each thread's codes are its own until [`CellKeys::merge`].
    Open,
    /// Booleans: false 0, true 1, null 2.
    Booleans,
    /// Calendar periods of a Date (`per_day` 1) or Datetime column through a table from the
    /// day's offset to `lo` to the period's code.
    Periods {
        lo: i64,
        per_day: i64,
        table: Vec<u32>,
    },
}

/// One key read by blocks: its column (physical), how rows become codes, and how many codes.
pub(crate) struct CellKey {
    pub(super) physical: Series,
    pub(super) coder: Coder,
    /// Codes the key can take (the radix of its digit in a cell).
    pub radix: usize,
    /// Labels of a period key (first day of each period, as Date), known from the first pass.
    pub(super) period_labels: Option<Vec<i32>>,
    /// The first row of each code, when known (open strings, once merged).
    pub(super) firsts: Option<Vec<IdxSize>>,
}

/// What one thread found of an open string key: its values in order of first appearance, their
/// first rows, and whether there were more than [`FEW_STRINGS`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
    pub(super) values: Vec<Text>,
    pub(super) lookup: StringLookup,
    pub(super) firsts: Vec<usize>,
    pub(super) overflow: bool,
}

impl Found {
    /// Codes of rows `offset..` of `array` (frame rows from `first_row`) into `out`, adding the
    /// values not seen yet.
    pub(super) fn fill(
        &mut self,
        array: &Utf8ViewArray,
        offset: usize,
        first_row: usize,
        radix: u32,
        out: &mut [u32],
    ) {
        let views = &array.views()[offset..offset + out.len()];
        let validity = array.validity().filter(|v| v.unset_bits() > 0);
        for (j, (cell, view)) in out.iter_mut().zip(views).enumerate() {
            let code = if validity.is_some_and(|v| !v.get_bit(offset + j)) {
                self.lookup.null
            } else {
                self.lookup.code(array, offset + j, *view)
            };
            let code = match code {
                Some(code) => code,
                None => {
                    if self.values.len() == FEW_STRINGS {
                        self.overflow = true;
                        0
                    } else {
                        self.values.push(text_of(array, offset + j));
                        self.firsts.push(first_row + j);
                        self.lookup = StringLookup::of(&self.values);
                        self.values.len() as u32 - 1
                    }
                }
            };
            *cell = *cell * radix + code;
        }
    }
}

/// Values of an integer-like chunk as i64, whatever its width.
macro_rules! with_ints {
    ($chunk:expr, |$a:ident| $body:expr, $otherwise:expr) => {{
        let any = $chunk.as_any();
        if let Some($a) = any.downcast_ref::<PrimitiveArray<i8>>() {
            $body
        } else if let Some($a) = any.downcast_ref::<PrimitiveArray<i16>>() {
            $body
        } else if let Some($a) = any.downcast_ref::<PrimitiveArray<i32>>() {
            $body
        } else if let Some($a) = any.downcast_ref::<PrimitiveArray<i64>>() {
            $body
        } else if let Some($a) = any.downcast_ref::<PrimitiveArray<u8>>() {
            $body
        } else if let Some($a) = any.downcast_ref::<PrimitiveArray<u16>>() {
            $body
        } else if let Some($a) = any.downcast_ref::<PrimitiveArray<u32>>() {
            $body
        } else {
            $otherwise
        }
    }};
}

impl CellKey {
    /// Reads a `by=` key column for block counting, or `None` when it is not few-valued or not
    /// of a type read here.
    pub(super) fn of_key(series: &Series, open: bool) -> Result<Option<CellKey>> {
        let physical = series.to_physical_repr().into_owned();
        let coder = match physical.dtype() {
            DataType::String if open => Coder::Open,
            DataType::String => {
                let ranges = chunks(series.len(), threads());
                let parts = parallel(ranges, |range| distinct_strings(&physical, range));
                let mut values: Vec<Text> = Vec::new();
                for part in parts {
                    let Some(part) = part else { return Ok(None) };
                    for v in part {
                        if !values.contains(&v) {
                            values.push(v);
                        }
                    }
                }
                if values.len() > FEW_STRINGS {
                    return Ok(None);
                }
                if values.is_empty() {
                    return Ok(None);
                }
                Coder::Strings(StringLookup::of(&values))
            }
            DataType::Boolean => Coder::Booleans,
            dtype
                if dtype.is_integer()
                    && !matches!(
                        dtype,
                        DataType::UInt64 | DataType::Int128 | DataType::UInt128
                    ) =>
            {
                let spans = parallel(chunk_indices(&physical), |range| {
                    let mut acc = (i64::MAX, i64::MIN, false);
                    for chunk in &physical.chunks()[range] {
                        let part = with_ints!(chunk, |a| int_span(a), (i64::MAX, i64::MIN, true));
                        acc = (acc.0.min(part.0), acc.1.max(part.1), acc.2 || part.2);
                    }
                    acc
                });
                let (lo, hi, nulls) =
                    spans.into_iter().fold((i64::MAX, i64::MIN, false), |a, p| {
                        (a.0.min(p.0), a.1.max(p.1), a.2 || p.2)
                    });
                let (lo, hi) = if hi < lo { (0, -1) } else { (lo, hi) };
                match hi.checked_sub(lo) {
                    Some(d) if d < INTEGER_SPAN => Coder::Integers {
                        lo,
                        span: (d + 1) as u32,
                        nulls,
                    },
                    _ => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        let radix = match &coder {
            Coder::Strings(l) => l.inline.len() + l.long.len() + usize::from(l.null.is_some()),
            Coder::Integers { span, nulls, .. } => *span as usize + usize::from(*nulls),
            Coder::Open => FEW_STRINGS,
            Coder::Booleans => 3,
            Coder::Periods { .. } => 0,
        };
        Ok(Some(CellKey {
            physical,
            coder,
            radix: radix.max(1),
            period_labels: None,
            firsts: None,
        }))
    }

    /// Reads the calendar period of a Date or Datetime column for block counting; a null is an
    /// error (the row cannot be placed in a period). `None` for dates so far apart that a day
    /// table would be large.
    pub(super) fn of_period(
        series: &Series,
        name: &str,
        period: Period,
    ) -> Result<Option<CellKey>> {
        let per_day = match crate::input::clock(series, name, "the timestamp of each row")? {
            crate::input::Clock::Date => 1,
            crate::input::Clock::Datetime { per_day, .. } => per_day,
            crate::input::Clock::Null => return Ok(None),
        };
        let physical = series.to_physical_repr().into_owned();
        let found = pieces(&[&physical], usize::MAX);
        let spans = parallel(chunks(found.len(), threads()), |range| {
            let mut acc = (i64::MAX, i64::MIN, None::<usize>);
            for piece in &found[range] {
                let chunk = &physical.chunks()[piece.at[0].0];
                let part = with_ints!(
                    chunk,
                    |a| day_span(a, per_day),
                    (i64::MAX, i64::MIN, Some(0))
                );
                acc.0 = acc.0.min(part.0);
                acc.1 = acc.1.max(part.1);
                if acc.2.is_none() {
                    acc.2 = part.2.map(|r| piece.start + r);
                }
            }
            acc
        });
        if let Some(row) = spans.iter().filter_map(|s| s.2).min() {
            return Err(CsError::InvalidValue {
                column: name.to_string(),
                row,
                value: "null".to_string(),
                rule: format!("every row needs a timestamp to be placed in a {period}"),
            });
        }
        let lo = spans.iter().map(|s| s.0).min().unwrap_or(0);
        let hi = spans.iter().map(|s| s.1).max().unwrap_or(-1);
        if hi >= lo && hi - lo >= 2_000_000 {
            return Ok(None);
        }
        let Ok((table, labels)) = crate::period::day_table(period, lo, hi) else {
            return Ok(None); // the general path names the offending value
        };
        Ok(Some(CellKey {
            physical,
            radix: labels.len().max(1),
            coder: Coder::Periods { lo, per_day, table },
            period_labels: Some(labels),
            firsts: None,
        }))
    }

    /// Writes `out[i] = out[i] * radix + code(row)` for the rows `offset..offset + out.len()`
    /// of chunk `chunk`.
    pub(super) fn fill(
        &self,
        chunk: usize,
        offset: usize,
        out: &mut [u32],
        found: &mut Found,
        first_row: usize,
    ) {
        let array = &self.physical.chunks()[chunk];
        let radix = self.radix as u32;
        match &self.coder {
            Coder::Open => {
                if let Some(a) = array.as_any().downcast_ref::<Utf8ViewArray>() {
                    found.fill(a, offset, first_row, radix, out);
                }
            }
            Coder::Strings(lookup) => {
                if let Some(a) = array.as_any().downcast_ref::<Utf8ViewArray>() {
                    lookup.fill(a, offset, radix, out);
                }
            }
            Coder::Booleans => {
                if let Some(a) = array.as_any().downcast_ref::<BooleanArray>() {
                    for (i, cell) in out.iter_mut().enumerate() {
                        let code = a.get(offset + i).map_or(2, u32::from);
                        *cell = *cell * radix + code;
                    }
                }
            }
            Coder::Integers { lo, span, .. } => {
                with_ints!(array, |a| fill_ints(a, offset, *lo, *span, radix, out), ())
            }
            Coder::Periods { lo, per_day, table } => {
                let any = array.as_any();
                if let Some(a) = any.downcast_ref::<PrimitiveArray<i32>>() {
                    let days = &a.values()[offset..offset + out.len()];
                    for (cell, &d) in out.iter_mut().zip(days) {
                        *cell = *cell * radix + table[(i64::from(d) - lo) as usize];
                    }
                } else if let Some(a) = any.downcast_ref::<PrimitiveArray<i64>>() {
                    let ticks = &a.values()[offset..offset + out.len()];
                    match *per_day {
                        86_400_000_000 => {
                            ticks_into::<86_400_000_000>(ticks, *lo, table, radix, out)
                        }
                        86_400_000 => ticks_into::<86_400_000>(ticks, *lo, table, radix, out),
                        _ => ticks_into::<86_400_000_000_000>(ticks, *lo, table, radix, out),
                    }
                }
            }
        }
    }
}

/// Cells of days through the period table, dividing by a constant.
fn ticks_into<const PER_DAY: i64>(
    ticks: &[i64],
    lo: i64,
    table: &[u32],
    radix: u32,
    out: &mut [u32],
) {
    for (cell, &t) in out.iter_mut().zip(ticks) {
        *cell = *cell * radix + table[(t.div_euclid(PER_DAY) - lo) as usize];
    }
}

fn fill_ints<T>(
    a: &PrimitiveArray<T>,
    offset: usize,
    lo: i64,
    span: u32,
    radix: u32,
    out: &mut [u32],
) where
    T: polars_arrow::types::NativeType + Into<i64>,
{
    let values = &a.values()[offset..offset + out.len()];
    match a.validity().filter(|v| v.unset_bits() > 0) {
        None => {
            for (cell, &v) in out.iter_mut().zip(values) {
                *cell = *cell * radix + (v.into() - lo) as u32;
            }
        }
        Some(validity) => {
            for (i, (cell, &v)) in out.iter_mut().zip(values).enumerate() {
                let code = if validity.get_bit(offset + i) {
                    (v.into() - lo) as u32
                } else {
                    span
                };
                *cell = *cell * radix + code;
            }
        }
    }
}

fn int_span<T>(a: &PrimitiveArray<T>) -> (i64, i64, bool)
where
    T: polars_arrow::types::NativeType + Into<i64>,
{
    let mut acc = (i64::MAX, i64::MIN, a.null_count() > 0);
    for v in a.iter().flatten() {
        let v: i64 = (*v).into();
        acc.0 = acc.0.min(v);
        acc.1 = acc.1.max(v);
    }
    acc
}

/// The range of days of a Date (`per_day` 1) or Datetime chunk, and its first null row.
fn day_span<T>(a: &PrimitiveArray<T>, per_day: i64) -> (i64, i64, Option<usize>)
where
    T: polars_arrow::types::NativeType + Into<i64>,
{
    let null = a
        .validity()
        .filter(|v| v.unset_bits() > 0)
        .and_then(|v| (0..a.len()).find(|&i| !v.get_bit(i)));
    if null.is_some() {
        return (i64::MAX, i64::MIN, null);
    }
    // Flooring is monotonic: the day range is that of the extreme values.
    let (lo, hi) = a.values().iter().fold((i64::MAX, i64::MIN), |(lo, hi), v| {
        let v: i64 = (*v).into();
        (lo.min(v), hi.max(v))
    });
    if hi < lo {
        return (lo, hi, None);
    }
    (lo.div_euclid(per_day), hi.div_euclid(per_day), None)
}

/// Ranges of chunk indices for a parallel pass over a series' chunks.
fn chunk_indices(series: &Series) -> Vec<std::ops::Range<usize>> {
    chunks(series.chunks().len(), threads())
}
