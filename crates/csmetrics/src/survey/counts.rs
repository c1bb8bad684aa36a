//! Counting answers per group: reading the score column as scale slots and the general
//! counting path, where every key is encoded with a code per row.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{encode_column, group_rows, EncodedKey, Groups};
use crate::input::{self, Role};
use crate::parallel::{parallel, work_ranges};
use crate::period::period_key;

use super::histogram::Histogram;
use super::{Grouping, InvalidPolicy, Scale};

/// Per-group histograms: the key columns (sorted) and one histogram per row of them.
pub(super) struct GroupedHistograms {
    pub(super) keys: DataFrame,
    pub(super) histograms: Vec<Histogram>,
}

fn score_series(frame: &DataFrame, score: &str) -> Result<Series> {
    let series = column(frame, score, "the survey score of each answer")?.as_materialized_series();
    input::number_series(series, score, Role::Number, "scores")
}

pub(super) fn invalid_score(column_name: &str, row: usize, value: f64, scale: Scale) -> CsError {
    CsError::InvalidValue {
        column: column_name.to_string(),
        row,
        value: format_number(value),
        rule: scale.rule(),
    }
}

/// The scores of a column as the slot of each row on the scale, read in the column's own type
/// (an Int8 column is never widened to a copy of doubles).
enum Scores<'a> {
    Int(IntScores<'a>),
    Float(&'a [f64]),
}

enum IntScores<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

/// Slots of a row: the scale's positions, then missing, then invalid.
#[derive(Clone, Copy)]
pub(super) struct Slots {
    pub(super) scale: Scale,
    pub(super) missing: usize,
    pub(super) invalid: usize,
    pub(super) per_cell: usize,
}

/// Counts `(cell(row), slot(row))` over `range` into a table of `cells` cells; also the first
/// invalid row. Generic over how a row's score is read, so each type gets its own loop.
fn count_rows(
    range: std::ops::Range<usize>,
    cells: usize,
    slots: Slots,
    policy: InvalidPolicy,
    validity: Option<&polars_arrow::bitmap::Bitmap>,
    cell_of: &(impl Fn(usize) -> usize + Sync),
    position: impl Fn(usize) -> Option<usize>,
) -> (Vec<i64>, Option<usize>) {
    let mut table = vec![0i64; cells * slots.per_cell];
    let mut first_invalid = None;
    let invalid_slot = match policy {
        InvalidPolicy::Null => slots.missing,
        _ => slots.invalid,
    };
    for row in range {
        let slot = if validity.is_some_and(|v| !v.get_bit(row)) {
            slots.missing
        } else {
            match position(row) {
                Some(pos) => pos,
                None => {
                    first_invalid = first_invalid.or(Some(row));
                    invalid_slot
                }
            }
        };
        table[cell_of(row) * slots.per_cell + slot] += 1;
    }
    (table, first_invalid)
}

/// Counts per cell of the grouping: the keys, their groups, `per_cell` counts per group (in
/// group order) and the first invalid row.
pub(super) struct Counted {
    pub(super) keys: Vec<EncodedKey>,
    pub(super) groups: Groups,
    pub(super) table: Vec<i64>,
    pub(super) first_invalid: Option<usize>,
}

/// The general path: every key encoded with a code per row (any number of values).
pub(super) fn row_counts(
    frame: &DataFrame,
    source: &Series,
    grouping: &Grouping,
    slots: Slots,
    policy: InvalidPolicy,
) -> Result<Counted> {
    let score = source.name().as_str();
    let source = source.rechunk();
    // Integer columns are read as they are; floats and Decimal as doubles.
    let scores = if source.dtype().is_integer() && !source.dtype().is_null() {
        source.clone()
    } else {
        score_series(frame, score)?.rechunk()
    };
    let mut keys: Vec<EncodedKey> = Vec::with_capacity(grouping.by.len() + 1);
    for name in &grouping.by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    if let Some(period) = grouping.period {
        keys.push(period_key(frame, &grouping.timestamp, period, "period")?);
    }
    let rows = frame.height();
    let scale = slots.scale;
    // Cells: the mixed-radix combinations of the keys' codes, counted directly when their table
    // is small (no per-row group ids); otherwise the groups of the rows first.
    let radix = keys
        .iter()
        .try_fold(1usize, |acc, k| acc.checked_mul(k.labels.len().max(1)))
        .filter(|r| r.saturating_mul(slots.per_cell) <= 1 << 20);
    let groups = match radix {
        Some(_) => None,
        None => Some(group_rows(&keys, rows)),
    };
    let cells = match (&groups, radix) {
        (Some(g), _) => g.count(),
        (None, Some(r)) => r,
        (None, None) => 0,
    };
    let combine = |row: usize| -> usize {
        match &groups {
            Some(g) => g.ids[row] as usize,
            None => keys.iter().fold(0usize, |acc, k| {
                acc * k.labels.len().max(1) + k.codes[row] as usize
            }),
        }
    };
    let validity = scores.chunks().first().and_then(|a| a.validity()).cloned();
    let validity = validity.as_ref().filter(|v| v.unset_bits() > 0);
    let (min, len) = (scale.min, scale.len() as i64);
    macro_rules! int_values {
        ($ca:expr) => {
            $ca.downcast_iter()
                .next()
                .map_or(&[][..], |a| a.values().as_slice())
        };
    }
    let values = match scores.dtype() {
        DataType::Int8 => Scores::Int(IntScores::I8(int_values!(scores.i8()?))),
        DataType::Int16 => Scores::Int(IntScores::I16(int_values!(scores.i16()?))),
        DataType::Int32 => Scores::Int(IntScores::I32(int_values!(scores.i32()?))),
        DataType::Int64 => Scores::Int(IntScores::I64(int_values!(scores.i64()?))),
        DataType::UInt8 => Scores::Int(IntScores::U8(int_values!(scores.u8()?))),
        DataType::UInt16 => Scores::Int(IntScores::U16(int_values!(scores.u16()?))),
        DataType::UInt32 => Scores::Int(IntScores::U32(int_values!(scores.u32()?))),
        DataType::UInt64 => Scores::Int(IntScores::U64(int_values!(scores.u64()?))),
        _ => Scores::Float(int_values!(scores.f64()?)),
    };
    let count = |range: std::ops::Range<usize>| -> (Vec<i64>, Option<usize>) {
        macro_rules! ints {
            ($data:expr) => {
                count_rows(range, cells, slots, policy, validity, &combine, |row| {
                    let offset = i128::from($data[row]) - i128::from(min);
                    (0..i128::from(len))
                        .contains(&offset)
                        .then_some(offset as usize)
                })
            };
        }
        match &values {
            Scores::Int(IntScores::I8(d)) => ints!(d),
            Scores::Int(IntScores::I16(d)) => ints!(d),
            Scores::Int(IntScores::I32(d)) => ints!(d),
            Scores::Int(IntScores::I64(d)) => ints!(d),
            Scores::Int(IntScores::U8(d)) => ints!(d),
            Scores::Int(IntScores::U16(d)) => ints!(d),
            Scores::Int(IntScores::U32(d)) => ints!(d),
            Scores::Int(IntScores::U64(d)) => ints!(d),
            Scores::Float(d) => {
                count_rows(range, cells, slots, policy, validity, &combine, |row| {
                    slots.scale.position(d[row])
                })
            }
        }
    };
    let partials = parallel(work_ranges(rows), count);
    let first_invalid = partials.iter().filter_map(|p| p.1).min();
    let mut table = vec![0i64; cells * slots.per_cell];
    for (partial, _) in &partials {
        for (total, part) in table.iter_mut().zip(partial) {
            *total += part;
        }
    }
    let per_cell = slots.per_cell;
    let (groups, table) = match groups {
        Some(groups) => (groups, table),
        None => {
            // Keep the cells that have rows, in cell order.
            let used: Vec<usize> = (0..cells)
                .filter(|&c| {
                    table[c * per_cell..(c + 1) * per_cell]
                        .iter()
                        .any(|n| *n > 0)
                })
                .collect();
            let compact = used
                .iter()
                .flat_map(|&c| table[c * per_cell..(c + 1) * per_cell].iter().copied())
                .collect();
            (Groups::of_cells(&keys, used.into_iter()), compact)
        }
    };
    Ok(Counted {
        keys,
        groups,
        table,
        first_invalid,
    })
}
