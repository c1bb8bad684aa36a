//! Keys coded in the order of their values: integer keys ranked directly, other keys encoded
//! and renumbered, so that group labels come sorted.

use polars::prelude::*;
use polars_arrow::array::{Array, PrimitiveArray};

use crate::error::Result;

use super::encode::{encode_column, fits_i64};
use super::strings::ranked_string_codes;
use super::EncodedKey;
use crate::alloc::zeroed_buffer;
use crate::parallel::{parallel, parallel_fill, work_ranges};

/// The codes of a key in the order of its labels (ascending), or `None` when the codes already
/// are in that order (integer labels first seen in ascending order, as in a table sorted by
/// that key).
fn codes_in_label_order(labels: &Column) -> Result<Option<Vec<IdxSize>>> {
    let series = labels.as_materialized_series();
    if fits_i64(series.dtype()) && series.null_count() == 0 {
        let values = series.cast(&DataType::Int64)?.rechunk();
        let sorted = values
            .i64()?
            .downcast_iter()
            .all(|a| a.values().windows(2).all(|w| w[0] <= w[1]));
        if sorted {
            return Ok(None);
        }
    }
    let order = series.arg_sort(SortOptions::default().with_multithreaded(true));
    Ok(Some(order.rechunk().into_no_null_iter().collect()))
}

/// A key coded in the order of its values: a row's code is the rank of its value among the
/// distinct values and the labels come sorted (integers by rank directly, other keys encoded
/// and then renumbered).
pub fn key_in_value_order(column: &Column) -> Result<EncodedKey> {
    if let Some((codes, labels)) = ranked_integer_codes(column)? {
        return Ok(EncodedKey { codes, labels });
    }
    if let Some(key) = ranked_string_codes(column)? {
        return Ok(key);
    }
    let key = encode_column(column)?;
    let Some(order) = codes_in_label_order(&key.labels)? else {
        return Ok(key);
    };
    let mut rank = vec![0u32; order.len()];
    for (r, &code) in order.iter().enumerate() {
        rank[code as usize] = r as u32;
    }
    let labels = key
        .labels
        .as_materialized_series()
        .take(&IdxCa::from_vec("".into(), order))?
        .into_column();
    // Renumbered in place: no second code array as long as the rows.
    let mut codes = key.codes;
    parallel_fill(&mut codes, |_, part| {
        for code in part.iter_mut() {
            *code = rank[*code as usize];
        }
    });
    Ok(EncodedKey { codes, labels })
}

/// Each row's rank through `lookup` (code -> rank, `u32::MAX` for codes the dictionary lacks),
/// chunk by chunk as the rows come, nulls kept.
pub(super) fn ranks_of_rows<T: PolarsNumericType>(
    rows: &UInt32Chunked,
    lookup: &[u32],
    narrow: impl Fn(u32) -> T::Native + Sync,
) -> Result<ChunkedArray<T>> {
    use crate::error::CsError;
    let mut chunks: Vec<PrimitiveArray<T::Native>> = Vec::with_capacity(rows.chunks().len());
    for array in rows.downcast_iter() {
        let values = array.values().as_slice();
        let mut out = zeroed_buffer::<T::Native>(values.len());
        let misses = parallel_fill(&mut out, |first, slice| {
            let mut miss = None;
            for (i, value) in slice.iter_mut().enumerate() {
                let row = first + i;
                let code = values[row];
                match lookup.get(code as usize) {
                    Some(&rank) if rank != u32::MAX => *value = narrow(rank),
                    _ if !array.is_valid(row) => {}
                    _ => {
                        miss.get_or_insert(code);
                    }
                }
            }
            miss
        });
        if let Some(code) = misses.into_iter().flatten().next() {
            return Err(CsError::InvalidOption {
                option: "dictionary".into(),
                value: code.to_string(),
                rule: "every row's code is in the dictionary".into(),
            });
        }
        chunks.push(PrimitiveArray::new(
            T::get_static_dtype().to_arrow(CompatLevel::newest()),
            out.into(),
            array.validity().cloned(),
        ));
    }
    Ok(ChunkedArray::from_chunk_iter(rows.name().clone(), chunks))
}

/// Integer keys (no nulls) in a range not much wider than the row count, coded by rank: the
/// code of a row is the rank of its value among the distinct values, so codes are in label
/// order without a sort. Returns the codes and the distinct values ascending, or `None` for
/// other keys.
pub fn ranked_integer_codes(column: &Column) -> Result<Option<(Vec<u32>, Column)>> {
    let series = column.as_materialized_series();
    if !fits_i64(series.dtype()) || series.null_count() > 0 || series.is_empty() {
        return Ok(None);
    }
    // Read in the column's own width and chunks (a UInt32 id column read from Parquet is
    // neither widened to 64 bits nor copied into one chunk first).
    let ranked = match series.dtype() {
        DataType::UInt32 => ranked_values(&chunk_slices(series.u32()?)),
        DataType::Int32 => ranked_values(&chunk_slices(series.i32()?)),
        DataType::UInt16 => ranked_values(&chunk_slices(series.u16()?)),
        DataType::UInt8 => ranked_values(&chunk_slices(series.u8()?)),
        DataType::Int64 => ranked_values(&chunk_slices(series.i64()?)),
        _ => {
            let wide = series.cast(&DataType::Int64)?;
            ranked_values(&chunk_slices(wide.i64()?))
        }
    };
    let Some((codes, distinct)) = ranked else {
        return Ok(None);
    };
    let labels = Int64Chunked::from_vec(series.name().clone(), distinct)
        .into_series()
        .cast(series.dtype())?
        .into_column();
    Ok(Some((codes, labels)))
}

/// The value slices of a column without nulls, chunk by chunk.
fn chunk_slices<T: PolarsNumericType>(ca: &ChunkedArray<T>) -> Vec<&[T::Native]> {
    ca.downcast_iter().map(|a| a.values().as_slice()).collect()
}

/// The codes and distinct values of [`ranked_integer_codes`] for values of one native width,
/// given as the slices of the column's chunks in order.
fn ranked_values<T: Copy + Into<i64> + Sync>(parts: &[&[T]]) -> Option<(Vec<u32>, Vec<i64>)> {
    let rows: usize = parts.iter().map(|p| p.len()).sum();
    let (lo, hi) = parts
        .iter()
        .flat_map(|part| {
            parallel(work_ranges(part.len()), |r| {
                part[r].iter().fold((i64::MAX, i64::MIN), |(lo, hi), v| {
                    let v: i64 = (*v).into();
                    (lo.min(v), hi.max(v))
                })
            })
        })
        .fold((i64::MAX, i64::MIN), |(lo, hi), (a, b)| {
            (lo.min(a), hi.max(b))
        });
    let span = hi.checked_sub(lo).and_then(|s| s.checked_add(1))?;
    if span > (rows as i64).saturating_mul(4).max(1 << 16) {
        return None;
    }
    let mut rank = vec![0u32; span as usize];
    for part in parts {
        for v in part.iter() {
            rank[((*v).into() - lo) as usize] = 1;
        }
    }
    let mut distinct: Vec<i64> = Vec::new();
    for (offset, r) in rank.iter_mut().enumerate() {
        if *r == 1 {
            *r = distinct.len() as u32;
            distinct.push(lo + offset as i64);
        }
    }
    let mut codes = zeroed_buffer::<u32>(rows);
    let mut rest = codes.as_mut_slice();
    for part in parts {
        let (head, tail) = rest.split_at_mut(part.len());
        rest = tail;
        parallel_fill(head, |first, out| {
            for (code, v) in out.iter_mut().zip(&part[first..]) {
                *code = rank[((*v).into() - lo) as usize];
            }
        });
    }
    Some((codes, distinct))
}
