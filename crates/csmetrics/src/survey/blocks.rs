//! The fast counting path for few-valued keys, and the choice between it and the general one.

use polars::prelude::*;

use crate::cells::{self, CellKeys};
use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{sorted_keys, Groups};
use crate::input::{self, Role};
use crate::parallel::{chunks, parallel, threads};

use super::counts::{row_counts, Counted, GroupedHistograms, Slots};
use super::histogram::Histogram;
use super::{Grouping, InvalidPolicy, Scale};

/// Counts of one block: `cells[i]` is row i's cell; its score slot comes from `position`, null
/// rows (per `valid`) in `missing`. Returns the block's first invalid row.
#[inline]
fn count_block<T: Copy>(
    values: &[T],
    valid: Option<(&polars_arrow::bitmap::Bitmap, usize)>,
    cells: &[u32],
    table: &mut [i64],
    slots: Slots,
    invalid_slot: usize,
    position: impl Fn(T) -> Option<usize>,
) -> Option<usize> {
    let per_cell = slots.per_cell;
    let mut first_invalid = None;
    match valid {
        None => {
            for (i, (&cell, &v)) in cells.iter().zip(values).enumerate() {
                let slot = position(v).unwrap_or_else(|| {
                    first_invalid = first_invalid.or(Some(i));
                    invalid_slot
                });
                table[cell as usize * per_cell + slot] += 1;
            }
        }
        Some((bitmap, offset)) => {
            for (i, (&cell, &v)) in cells.iter().zip(values).enumerate() {
                let slot = if bitmap.get_bit(offset + i) {
                    position(v).unwrap_or_else(|| {
                        first_invalid = first_invalid.or(Some(i));
                        invalid_slot
                    })
                } else {
                    slots.missing
                };
                table[cell as usize * per_cell + slot] += 1;
            }
        }
    }
    first_invalid
}

/// The fast path for few-valued keys (segments, plans, calendar periods): rows counted into
/// their cells block by block, every column read in the chunks it has ([`crate::cells`]); no
/// code per row and no copy of a column. None when a key has too many values.
pub(super) fn block_counts(
    frame: &DataFrame,
    source: &Series,
    grouping: &Grouping,
    slots: Slots,
    policy: InvalidPolicy,
) -> Result<Option<Counted>> {
    let period = grouping
        .period
        .map(|p| (grouping.timestamp.as_str(), p, "period"));
    let max_cells = (1usize << 20) / slots.per_cell;
    let Some(mut keys) = CellKeys::prepare(frame, &grouping.by, period, max_cells)? else {
        return Ok(None);
    };
    // Integers are read in their own width; floats and Decimal as doubles.
    let scores = if source.dtype().is_integer() {
        source.clone()
    } else {
        input::number_series(source, source.name(), Role::Number, "scores")?
    };
    let mut columns = vec![&scores];
    columns.extend(keys.columns());
    let found = cells::pieces(&columns, cells::ROWS_PER_BLOCK);
    let invalid_slot = match policy {
        InvalidPolicy::Null => slots.missing,
        _ => slots.invalid,
    };
    let (min, len) = (slots.scale.min, slots.scale.len() as i128);
    let per_cell = slots.per_cell;
    let count = |range: std::ops::Range<usize>| -> (Vec<i64>, Vec<cells::Found>, Option<usize>) {
        let mut table = vec![0i64; keys.cells * per_cell];
        let mut buffer = vec![0u32; cells::ROWS_PER_BLOCK];
        let mut first_invalid: Option<usize> = None;
        let mut seen = keys.found();
        for piece in &found[range] {
            let cells = &mut buffer[..piece.len];
            keys.fill(&piece.at[1..], piece.start, cells, &mut seen);
            let (chunk, offset) = piece.at[0];
            let array = &scores.chunks()[chunk];
            let valid = array
                .validity()
                .filter(|v| v.unset_bits() > 0)
                .map(|v| (v, offset));
            macro_rules! ints {
                ($t:ty) => {
                    array
                        .as_any()
                        .downcast_ref::<polars_arrow::array::PrimitiveArray<$t>>()
                        .map(|a| {
                            let values = &a.values()[offset..offset + piece.len];
                            count_block(
                                values,
                                valid,
                                cells,
                                &mut table,
                                slots,
                                invalid_slot,
                                |v| {
                                    let at = i128::from(v) - i128::from(min);
                                    (0..len).contains(&at).then_some(at as usize)
                                },
                            )
                        })
                };
            }
            let invalid = match scores.dtype() {
                DataType::Int8 => ints!(i8),
                DataType::Int16 => ints!(i16),
                DataType::Int32 => ints!(i32),
                DataType::Int64 => ints!(i64),
                DataType::UInt8 => ints!(u8),
                DataType::UInt16 => ints!(u16),
                DataType::UInt32 => ints!(u32),
                DataType::UInt64 => ints!(u64),
                _ => array
                    .as_any()
                    .downcast_ref::<polars_arrow::array::PrimitiveArray<f64>>()
                    .map(|a| {
                        let values = &a.values()[offset..offset + piece.len];
                        count_block(values, valid, cells, &mut table, slots, invalid_slot, |v| {
                            slots.scale.position(v)
                        })
                    }),
            }
            .flatten();
            if first_invalid.is_none() {
                first_invalid = invalid.map(|i| piece.start + i);
            }
        }
        (table, seen, first_invalid)
    };
    let partials = parallel(chunks(found.len(), threads()), count);
    let first_invalid = partials.iter().filter_map(|p| p.2).min();
    let parts = partials.into_iter().map(|(t, f, _)| (t, f)).collect();
    let Some(table) = keys.merge(parts, per_cell) else {
        return Ok(None); // a string key with many values: the general path
    };
    let used: Vec<usize> = (0..keys.cells)
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
    let (encoded, renumbered) = keys.encoded(&used)?;
    let groups = Groups::of_cells(&encoded, renumbered.into_iter());
    Ok(Some(Counted {
        keys: encoded,
        groups,
        table: compact,
        first_invalid,
    }))
}

pub(super) fn grouped_histograms(
    frame: &DataFrame,
    score: &str,
    grouping: &Grouping,
    scale: Scale,
    policy: InvalidPolicy,
) -> Result<GroupedHistograms> {
    let source = column(frame, score, "the survey score of each answer")?
        .as_materialized_series()
        .clone();
    input::check(&source, score, Role::Number, "scores")?;
    if grouping.period.is_some() && grouping.by.iter().any(|name| name == "period") {
        return Err(CsError::option(
            "by",
            "'period'",
            "a by column cannot be called 'period' when period= is given; rename it",
        ));
    }
    let slots = Slots {
        scale,
        missing: scale.len(),
        invalid: scale.len() + 1,
        per_cell: scale.len() + 2,
    };
    let counted = match block_counts(frame, &source, grouping, slots, policy)? {
        Some(counted) => counted,
        None => row_counts(frame, &source, grouping, slots, policy)?,
    };
    let Counted {
        keys,
        groups,
        table,
        first_invalid,
    } = counted;
    if policy == InvalidPolicy::Raise {
        if let Some(row) = first_invalid {
            // The value as the column holds it: an Int64 is not shown through a double.
            return Err(CsError::InvalidValue {
                column: score.to_string(),
                row,
                value: match source.get(row)? {
                    AnyValue::Float64(v) => format_number(v),
                    AnyValue::Float32(v) => format_number(f64::from(v)),
                    other => input::plain(other),
                },
                rule: scale.rule(),
            });
        }
    }
    let per_cell = slots.per_cell;
    let no_keys = keys.is_empty();
    let (keys, order) = sorted_keys(&keys, &groups)?;
    let mut histograms: Vec<Histogram> = order
        .iter()
        .map(|&g| {
            let cell = &table[g * per_cell..(g + 1) * per_cell];
            Histogram {
                counts: cell[..scale.len()].to_vec(),
                missing: cell[slots.missing],
                invalid: cell[slots.invalid],
            }
        })
        .collect();
    if no_keys && histograms.is_empty() {
        histograms.push(Histogram::empty(scale)); // no grouping: always one row
    }
    Ok(GroupedHistograms { keys, histograms })
}
