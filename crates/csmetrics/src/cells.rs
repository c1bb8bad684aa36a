//! Rows counted into the cells of few-valued keys, chunk by chunk.
//!
//! Survey answers by the tens of millions are usually grouped by a segment of a few values and a
//! calendar period. Such keys need no code per row: a block of rows at a time gets its cells
//! (the keys' codes combined in mixed radix) in a small buffer and is counted at once, and every
//! column is read in the chunks it already has (a frame read from Parquet has one per row group),
//! so nothing the size of the input is allocated. A first pass finds each key's values;
//! [`CellKeys::prepare`] returns `None` where this does not apply (a key with many values, or of
//! a type read otherwise) and the caller takes the general path of [`crate::groups`].

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8ViewArray};

use crate::error::{CsError, Result};
use crate::groups::EncodedKey;
use crate::parallel::{chunks, parallel, threads};
use crate::period::Period;

/// Rows per block: the cells of a block fit in the L1/L2 cache.
pub(crate) const ROWS_PER_BLOCK: usize = 4096;
/// Most distinct strings a key may have to be read here.
const FEW_STRINGS: usize = 64;
/// Widest range of integer (or category) codes a key may span to be read here.
const INTEGER_SPAN: i64 = 4096;

/// A range of rows on which every column is one chunk: `(chunk, offset in it)` per column.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    /// First row of the piece in the frame.
    pub start: usize,
    /// Rows in the piece.
    pub len: usize,
    /// For each column, its chunk holding the piece and the piece's offset in that chunk.
    pub at: Vec<(usize, usize)>,
}

/// The rows of `columns` (all of one height) cut at every column's chunk boundaries and into
/// pieces of at most `max_len` rows.
pub(crate) fn pieces(columns: &[&Series], max_len: usize) -> Vec<Piece> {
    let lengths: Vec<Vec<usize>> = columns
        .iter()
        .map(|s| s.chunks().iter().map(|c| c.len()).collect())
        .collect();
    let height = columns.first().map_or(0, |s| s.len());
    let mut state: Vec<(usize, usize)> = vec![(0, 0); columns.len()]; // (chunk, offset)
    let mut out = Vec::new();
    let mut start = 0;
    while start < height {
        let mut len = max_len.max(1).min(height - start);
        for (c, (chunk, offset)) in state.iter_mut().enumerate() {
            while *chunk < lengths[c].len() && *offset >= lengths[c][*chunk] {
                *chunk += 1;
                *offset = 0;
            }
            let left = lengths[c].get(*chunk).map_or(0, |l| l - *offset);
            len = len.min(left);
        }
        if len == 0 {
            break; // heights disagree: cannot happen for the columns of one frame
        }
        out.push(Piece {
            start,
            len,
            at: state.clone(),
        });
        for (_, offset) in state.iter_mut() {
            *offset += len;
        }
        start += len;
    }
    out
}

/// A string as its view identifies it: inline (up to 12 bytes) or its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Text {
    Null,
    Inline(u128),
    Long(String),
}

/// How the rows of one key turn into codes.
#[derive(Debug, Clone)]
enum Coder {
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
    physical: Series,
    coder: Coder,
    /// Codes the key can take (the radix of its digit in a cell).
    pub radix: usize,
    /// Labels of a period key (first day of each period, as Date), known from the first pass.
    period_labels: Option<Vec<i32>>,
    /// The first row of each code, when known (open strings, once merged).
    firsts: Option<Vec<IdxSize>>,
}

/// What one thread found of an open string key: its values in order of first appearance, their
/// first rows, and whether there were more than [`FEW_STRINGS`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
    values: Vec<Text>,
    lookup: StringLookup,
    firsts: Vec<usize>,
    overflow: bool,
}

impl Found {
    /// Codes of rows `offset..` of `array` (frame rows from `first_row`) into `out`, adding the
    /// values not seen yet.
    fn fill(
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

fn text_of(array: &Utf8ViewArray, i: usize) -> Text {
    if !array.is_valid(i) {
        return Text::Null;
    }
    let view = array.views()[i];
    if view.length <= 12 {
        Text::Inline(view.as_u128())
    } else {
        Text::Long(array.value(i).to_string())
    }
}

/// The values of a string key split for lookup: the inline views (up to 12 bytes: the 16-byte
/// view is the value) compared as integers, the longer values by their bytes.
#[derive(Debug, Clone, Default)]
struct StringLookup {
    inline: Vec<u128>,
    inline_codes: Vec<u32>,
    long: Vec<String>,
    long_codes: Vec<u32>,
    null: Option<u32>,
    /// Up to [`QUAD`] inline values and their codes, padded with a view no string has (length
    /// 2^32 - 1), compared without branches.
    quad: Option<([u128; QUAD], [u32; QUAD])>,
}

/// Inline values compared at once.
const QUAD: usize = 4;

impl StringLookup {
    fn of(values: &[Text]) -> StringLookup {
        let mut lookup = StringLookup::default();
        for (code, v) in values.iter().enumerate() {
            let code = code as u32;
            match v {
                Text::Null => lookup.null = Some(code),
                Text::Inline(bits) => {
                    lookup.inline.push(*bits);
                    lookup.inline_codes.push(code);
                }
                Text::Long(s) => {
                    lookup.long.push(s.clone());
                    lookup.long_codes.push(code);
                }
            }
        }
        if lookup.inline.len() <= QUAD {
            let mut bits = [u128::MAX; QUAD];
            let mut codes = [0u32; QUAD];
            for (k, (b, c)) in lookup.inline.iter().zip(&lookup.inline_codes).enumerate() {
                bits[k] = *b;
                codes[k] = *c;
            }
            lookup.quad = Some((bits, codes));
        }
        lookup
    }

    /// The code of an inline view among at most [`QUAD`] values (0 when it is none of them);
    /// also whether it was found.
    #[inline(always)]
    fn quad_code(bits: u128, quad: &([u128; QUAD], [u32; QUAD])) -> (u32, bool) {
        let mut code = 0;
        let mut found = false;
        for k in 0..QUAD {
            let hit = bits == quad.0[k];
            code |= u32::from(hit) * quad.1[k];
            found |= hit;
        }
        (code, found)
    }

    /// The code of a valid row's view, if its value is known.
    #[inline(always)]
    fn code(
        &self,
        array: &Utf8ViewArray,
        i: usize,
        view: polars_arrow::array::View,
    ) -> Option<u32> {
        if view.length <= 12 {
            let bits = view.as_u128();
            if let Some(quad) = &self.quad {
                let (code, found) = Self::quad_code(bits, quad);
                return found.then_some(code);
            }
            self.inline
                .iter()
                .position(|b| *b == bits)
                .map(|p| self.inline_codes[p])
        } else {
            let s = array.value(i);
            self.long
                .iter()
                .position(|t| t == s)
                .map(|p| self.long_codes[p])
        }
    }

    /// `out[j] = out[j] * radix + code(row offset + j)`; unknown values (none, once the first
    /// pass has run) take code 0.
    fn fill(&self, array: &Utf8ViewArray, offset: usize, radix: u32, out: &mut [u32]) {
        let views = &array.views()[offset..offset + out.len()];
        match array.validity().filter(|v| v.unset_bits() > 0) {
            None if self.long.is_empty() && self.quad.is_some() => {
                if let Some(quad) = &self.quad {
                    for (cell, view) in out.iter_mut().zip(views) {
                        *cell = *cell * radix + Self::quad_code(view.as_u128(), quad).0;
                    }
                }
            }
            None if self.long.is_empty() => {
                for (cell, view) in out.iter_mut().zip(views) {
                    let bits = view.as_u128();
                    let code = self
                        .inline
                        .iter()
                        .position(|b| *b == bits)
                        .map_or(0, |p| self.inline_codes[p]);
                    *cell = *cell * radix + code;
                }
            }
            validity => {
                for (j, (cell, view)) in out.iter_mut().zip(views).enumerate() {
                    let code = if validity.is_some_and(|v| !v.get_bit(offset + j)) {
                        self.null
                    } else {
                        self.code(array, offset + j, *view)
                    };
                    *cell = *cell * radix + code.unwrap_or(0);
                }
            }
        }
    }
}

impl CellKey {
    /// Reads a `by=` key column for block counting, or `None` when it is not few-valued or not
    /// of a type read here.
    fn of_key(series: &Series, open: bool) -> Result<Option<CellKey>> {
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
    fn of_period(series: &Series, name: &str, period: Period) -> Result<Option<CellKey>> {
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
    fn fill(
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

/// The distinct strings of rows `range` of a string series, in order of first appearance;
/// `None` when there are more than [`FEW_STRINGS`].
fn distinct_strings(series: &Series, range: std::ops::Range<usize>) -> Option<Vec<Text>> {
    let part = series.slice(range.start as i64, range.len());
    let mut values: Vec<Text> = Vec::new();
    let mut lookup = StringLookup::default();
    for chunk in part.chunks() {
        let a = chunk.as_any().downcast_ref::<Utf8ViewArray>()?;
        let views = a.views();
        let validity = a.validity().filter(|v| v.unset_bits() > 0);
        for (i, view) in views.iter().enumerate() {
            let known = if validity.is_some_and(|v| !v.get_bit(i)) {
                lookup.null.is_some()
            } else {
                lookup.code(a, i, *view).is_some()
            };
            if !known {
                if values.len() == FEW_STRINGS {
                    return None;
                }
                values.push(text_of(a, i));
                lookup = StringLookup::of(&values);
            }
        }
    }
    Some(values)
}

/// Ranges of chunk indices for a parallel pass over a series' chunks.
fn chunk_indices(series: &Series) -> Vec<std::ops::Range<usize>> {
    chunks(series.chunks().len(), threads())
}

/// The keys of a grouping read for block counting.
pub(crate) struct CellKeys {
    keys: Vec<CellKey>,
    /// The key columns as given (for labels).
    originals: Vec<Series>,
    /// Name of each key in the output.
    names: Vec<PlSmallStr>,
    /// Cells: the product of the keys' radices.
    pub cells: usize,
}

impl CellKeys {
    /// Reads `by` columns and an optional period of `timestamp` for block counting, or `None`
    /// when a key is not few-valued or the cells are more than `max_cells`.
    pub(crate) fn prepare(
        frame: &DataFrame,
        by: &[String],
        period: Option<(&str, Period, &str)>,
        max_cells: usize,
    ) -> Result<Option<CellKeys>> {
        let mut series_of = Vec::new();
        for name in by {
            let series = crate::frame::column(frame, name, "grouping (by=)")?
                .as_materialized_series()
                .clone();
            crate::input::check(
                &series,
                name,
                crate::input::Role::Key,
                "a customer id or grouping column",
            )?;
            series_of.push(series);
        }
        // Keys other than strings first: their radices decide whether the strings can be found
        // while counting (each string key then takes FEW_STRINGS codes).
        let mut slots: Vec<Option<CellKey>> = Vec::with_capacity(by.len());
        for series in &series_of {
            if series.dtype() == &DataType::String {
                slots.push(None);
                continue;
            }
            let Some(key) = CellKey::of_key(series, false)? else {
                return Ok(None);
            };
            slots.push(Some(key));
        }
        let mut period_key = None;
        if let Some((timestamp, period, _)) = period {
            let series = crate::frame::column(frame, timestamp, "the timestamp of each row")?
                .as_materialized_series()
                .clone();
            let Some(key) = CellKey::of_period(&series, timestamp, period)? else {
                return Ok(None);
            };
            period_key = Some((key, series));
        }
        let strings = slots.iter().filter(|k| k.is_none()).count() as u32;
        let open = slots
            .iter()
            .flatten()
            .chain(period_key.iter().map(|(k, _)| k))
            .try_fold(FEW_STRINGS.checked_pow(strings), |acc, k| {
                acc.map(|a| a.checked_mul(k.radix))
            })
            .flatten()
            .is_some_and(|c| c <= max_cells);
        let mut keys = Vec::new();
        let mut originals = Vec::new();
        let mut names = Vec::new();
        for (slot, series) in slots.into_iter().zip(series_of) {
            let key = match slot {
                Some(key) => key,
                None => match CellKey::of_key(&series, open)? {
                    Some(key) => key,
                    None => return Ok(None),
                },
            };
            keys.push(key);
            names.push(series.name().clone());
            originals.push(series);
        }
        if let (Some((key, series)), Some((_, _, label))) = (period_key, period) {
            keys.push(key);
            names.push(label.into());
            originals.push(series);
        }
        let cells = keys
            .iter()
            .try_fold(1usize, |acc, k| acc.checked_mul(k.radix))
            .filter(|&c| c <= max_cells);
        Ok(cells.map(|cells| CellKeys {
            keys,
            originals,
            names,
            cells,
        }))
    }

    /// The physical key columns, in order (for cutting pieces with other columns).
    pub(crate) fn columns(&self) -> Vec<&Series> {
        self.keys.iter().map(|k| &k.physical).collect()
    }

    /// A thread's state for [`CellKeys::fill`]: what it found of each open key.
    pub(crate) fn found(&self) -> Vec<Found> {
        vec![Found::default(); self.keys.len()]
    }

    /// The cells of the rows of a piece: `at` holds the key columns' `(chunk, offset)` as
    /// [`pieces`] gives them (the keys in order), `first_row` the piece's first row.
    pub(crate) fn fill(
        &self,
        at: &[(usize, usize)],
        first_row: usize,
        out: &mut [u32],
        found: &mut [Found],
    ) {
        out.fill(0);
        for ((key, &(chunk, offset)), found) in self.keys.iter().zip(at).zip(found) {
            key.fill(chunk, offset, out, found, first_row);
        }
    }

    /// Merges the threads' tables (`per_cell` counts per cell, each in its own codes of the open
    /// keys; threads in row order) into one table in common codes, numbered in order of first
    /// appearance; `None` when an open key had more than [`FEW_STRINGS`] values.
    pub(crate) fn merge(
        &mut self,
        parts: Vec<(Vec<i64>, Vec<Found>)>,
        per_cell: usize,
    ) -> Option<Vec<i64>> {
        let n = self.keys.len();
        // Per key: each part's local-to-common codes, the common first rows.
        let mut remaps: Vec<Vec<Vec<u32>>> = vec![Vec::new(); n];
        for k in 0..n {
            if !matches!(self.keys[k].coder, Coder::Open) {
                continue;
            }
            let mut values: Vec<Text> = Vec::new();
            let mut firsts: Vec<IdxSize> = Vec::new();
            for (_, found) in &parts {
                let f = &found[k];
                if f.overflow {
                    return None;
                }
                let remap = f
                    .values
                    .iter()
                    .zip(&f.firsts)
                    .map(|(v, &row)| match values.iter().position(|x| x == v) {
                        Some(p) => p as u32,
                        None => {
                            values.push(v.clone());
                            firsts.push(row as IdxSize);
                            values.len() as u32 - 1
                        }
                    })
                    .collect();
                remaps[k].push(remap);
            }
            if values.len() > FEW_STRINGS {
                return None;
            }
            self.keys[k].radix = values.len().max(1);
            self.keys[k].firsts = Some(firsts);
        }
        let old_radix: Vec<usize> = self
            .keys
            .iter()
            .map(|k| {
                if matches!(k.coder, Coder::Open) {
                    FEW_STRINGS
                } else {
                    k.radix
                }
            })
            .collect();
        self.cells = self.keys.iter().map(|k| k.radix).product();
        let mut table = vec![0i64; self.cells * per_cell];
        let mut digits = vec![0usize; n];
        for (part, (local, _)) in parts.iter().enumerate() {
            for (cell, counts) in local.chunks(per_cell).enumerate() {
                if counts.iter().all(|c| *c == 0) {
                    continue;
                }
                let mut rest = cell;
                for k in (0..n).rev() {
                    digits[k] = rest % old_radix[k];
                    rest /= old_radix[k];
                }
                let common = (0..n).fold(0usize, |acc, k| {
                    let d = match remaps[k].get(part) {
                        Some(remap) => remap[digits[k]] as usize,
                        None => digits[k],
                    };
                    acc * self.keys[k].radix + d
                });
                for (total, c) in table[common * per_cell..(common + 1) * per_cell]
                    .iter_mut()
                    .zip(counts)
                {
                    *total += c;
                }
            }
        }
        Some(table)
    }

    /// The keys of the `used` cells (in increasing order) as encoded keys with their labels,
    /// and each used cell's number in the mixed radix of those labels.
    pub(crate) fn encoded(&self, used: &[usize]) -> Result<(Vec<EncodedKey>, Vec<usize>)> {
        let n = self.keys.len();
        // The code of each key in each used cell.
        let digits: Vec<Vec<u32>> = used
            .iter()
            .map(|&cell| {
                let mut rest = cell;
                let mut d = vec![0u32; n];
                for k in (0..n).rev() {
                    d[k] = (rest % self.keys[k].radix) as u32;
                    rest /= self.keys[k].radix;
                }
                d
            })
            .collect();
        let mut encoded = Vec::with_capacity(n);
        let mut remaps = Vec::with_capacity(n);
        for (k, key) in self.keys.iter().enumerate() {
            let mut present = vec![false; key.radix];
            for d in &digits {
                present[d[k] as usize] = true;
            }
            let codes: Vec<u32> = (0..key.radix as u32)
                .filter(|&c| present[c as usize])
                .collect();
            let mut remap = vec![0u32; key.radix];
            for (dense, &c) in codes.iter().enumerate() {
                remap[c as usize] = dense as u32;
            }
            let labels = match &key.period_labels {
                Some(days) => Column::new(
                    self.names[k].clone(),
                    codes
                        .iter()
                        .map(|&c| days[c as usize])
                        .collect::<Vec<i32>>(),
                )
                .cast(&DataType::Date)?,
                None => {
                    let rows = self.first_rows(k, &codes);
                    let mut labels = self.originals[k]
                        .take(&IdxCa::from_vec("".into(), rows))?
                        .into_column();
                    labels.rename(self.names[k].clone());
                    labels
                }
            };
            encoded.push(EncodedKey {
                codes: Vec::new(),
                labels,
            });
            remaps.push(remap);
        }
        let renumbered = digits
            .iter()
            .map(|d| {
                (0..n).fold(0usize, |acc, k| {
                    acc * encoded[k].labels.len().max(1) + remaps[k][d[k] as usize] as usize
                })
            })
            .collect();
        Ok((encoded, renumbered))
    }

    /// A row holding each of `codes` of key `k` (each code is known to occur), found by reading
    /// the key block by block until every code has been seen.
    fn first_rows(&self, k: usize, codes: &[u32]) -> Vec<IdxSize> {
        let key = &self.keys[k];
        if let Some(firsts) = &key.firsts {
            return codes.iter().map(|&c| firsts[c as usize]).collect();
        }
        let mut found: Vec<Option<IdxSize>> = vec![None; key.radix];
        let mut state = Found::default();
        let mut missing = codes.len();
        let mut buffer = vec![0u32; ROWS_PER_BLOCK];
        for piece in pieces(&[&key.physical], ROWS_PER_BLOCK) {
            let out = &mut buffer[..piece.len];
            out.fill(0);
            key.fill(piece.at[0].0, piece.at[0].1, out, &mut state, piece.start);
            for (i, &c) in out.iter().enumerate() {
                let slot = &mut found[c as usize];
                if slot.is_none() {
                    *slot = Some((piece.start + i) as IdxSize);
                    missing = missing.saturating_sub(usize::from(codes.contains(&c)));
                }
            }
            if missing == 0 {
                break;
            }
        }
        codes
            .iter()
            .map(|&c| found[c as usize].unwrap_or(0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cut_at_every_chunk_boundary() {
        let mut a = Series::new("a".into(), [1i32, 2, 3]);
        a.append(&Series::new("a".into(), [4i32, 5])).unwrap();
        let mut b = Series::new("b".into(), [1i64]);
        b.append(&Series::new("b".into(), [2i64, 3, 4, 5])).unwrap();
        type Cut = (usize, usize, Vec<(usize, usize)>);
        let got: Vec<Cut> = pieces(&[&a, &b], 2)
            .into_iter()
            .map(|p| (p.start, p.len, p.at))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 1, vec![(0, 0), (0, 0)]),
                (1, 2, vec![(0, 1), (1, 0)]),
                (3, 2, vec![(1, 0), (1, 2)]),
            ]
        );
    }
}
