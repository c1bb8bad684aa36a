//! The fast path of [`survival_table`](super::survival_table) for first lives of a table sorted by
//! an integer customer id with Date starts and ends. It must give what the general path
//! ([`super::walk`]) gives: `survival_table_agrees_with_day_by_day_lives_on_large_shuffled_tables`
//! in `tests/retention.rs` checks the two agree.

use std::ops::Range;

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray};

use crate::error::Result;
use crate::parallel::{parallel, work_ranges};
use crate::revenue::{RevenueInput, DAY};

use super::walk::merged_life;
use super::{Lives, SurvivalTableOptions};

/// First lives straight from a subscriptions table sorted by an integer customer id, with Date
/// starts and ends: one parallel pass over the rows, each range of rows cut at a change of
/// customer, with no customer codes, no index and no conversion of whole columns. `None` when
/// the table is not of that kind or any row breaks a rule (the general path then reads it and
/// reports the error).
pub(super) fn first_lives_of_sorted_table(
    frame: &DataFrame,
    options: &SurvivalTableOptions,
) -> Result<Option<DataFrame>> {
    let panel = &options.panel;
    let RevenueInput::Subscriptions(c) = &panel.input else {
        return Ok(None);
    };
    let Some(end_name) = &c.end else {
        return Ok(None);
    };
    if options.lives != Lives::First
        || crate::revenue::billing::requested(frame, panel)
        || !panel.by.is_empty()
        || panel.first_period.is_some()
        || frame.height() < 2
    {
        return Ok(None);
    }
    let (Ok(ids), Ok(starts), Ok(ends), Ok(amounts)) = (
        frame.column(&c.customer_id),
        frame.column(&c.start),
        frame.column(end_name),
        frame.column(&c.amount),
    ) else {
        return Ok(None);
    };
    let id_type = ids.dtype().clone();
    if !id_type.is_integer()
        || matches!(
            id_type,
            DataType::UInt64 | DataType::Int128 | DataType::UInt128
        )
        || ids.null_count() > 0
        || starts.dtype() != &DataType::Date
        || ends.dtype() != &DataType::Date
        || starts.null_count() > 0
        || !amounts.dtype().is_primitive_numeric()
    {
        return Ok(None);
    }
    let ids = ids
        .as_materialized_series()
        .cast(&DataType::Int64)?
        .rechunk();
    let starts = starts.as_materialized_series().to_physical_repr().rechunk();
    let ends = ends.as_materialized_series().to_physical_repr().rechunk();
    let amounts = amounts
        .as_materialized_series()
        .cast(&DataType::Float64)?
        .rechunk();
    let (Some(ids), Some(starts), Some(ends), Some(amounts)) = (
        ids.i64()?.downcast_iter().next(),
        starts.i32()?.downcast_iter().next(),
        ends.i32()?.downcast_iter().next(),
        amounts.f64()?.downcast_iter().next(),
    ) else {
        return Ok(None);
    };
    let (id, start, end, amount) = (
        ids.values().as_slice(),
        starts.values().as_slice(),
        ends.values().as_slice(),
        amounts.values().as_slice(),
    );
    let rows = id.len();
    // Sorted by customer? And the latest start (the default as_of).
    let checks = parallel(work_ranges(rows), |range| {
        let lo = range.start.saturating_sub(1);
        let sorted = id[lo..range.end].windows(2).all(|w| w[0] <= w[1]);
        (
            sorted,
            start[range].iter().copied().max().unwrap_or(i32::MIN),
        )
    });
    if !checks.iter().all(|c| c.0) {
        return Ok(None);
    }
    let latest = checks.iter().map(|c| c.1).max().unwrap_or(0);
    let as_of = panel.as_of.unwrap_or(i64::from(latest) * DAY);
    let tolerance = (options.gap_tolerance_days * DAY as f64).round() as i64;
    let unit = options.unit.micros();
    let free = panel.free_is_active;
    let valid_end = |r: usize| ends.is_valid(r);
    let valid_amount = |r: usize| amounts.is_valid(r);
    // Ranges of rows cut where the customer changes.
    let mut bounds: Vec<usize> = work_ranges(rows).iter().map(|r| r.start).collect();
    for b in bounds.iter_mut().skip(1) {
        while *b < rows && id[*b] == id[*b - 1] {
            *b += 1;
        }
    }
    bounds.push(rows);
    bounds.dedup();
    let ranges: Vec<Range<usize>> = bounds.windows(2).map(|w| w[0]..w[1]).collect();
    struct Chunk {
        id: Vec<i64>,
        start: Vec<i64>,
        duration: Vec<f64>,
        event: Vec<bool>,
    }
    let chunks = parallel(ranges, |range| -> Option<Chunk> {
        let capacity = range.len();
        let mut out = Chunk {
            id: Vec::with_capacity(capacity),
            start: Vec::with_capacity(capacity),
            duration: Vec::with_capacity(capacity),
            event: Vec::with_capacity(capacity),
        };
        let mut spans: Vec<(i64, i64)> = Vec::new();
        let mut row = range.start;
        while row < range.end {
            let customer = id[row];
            spans.clear();
            let mut in_order = true;
            while row < range.end && id[row] == customer {
                let s = i64::from(start[row]) * DAY;
                let e = if valid_end(row) {
                    i64::from(end[row]) * DAY
                } else {
                    i64::MAX
                };
                let a = amount[row];
                if e < s || !valid_amount(row) || !(a.is_finite() && a >= 0.0) {
                    return None;
                }
                if s <= as_of && (free || a > 0.0) && e > s {
                    in_order &= spans.last().is_none_or(|last| last.0 <= s);
                    spans.push((s, e));
                }
                row += 1;
            }
            if spans.is_empty() {
                continue;
            }
            if !in_order {
                spans.sort_unstable();
            }
            let (_, (s, e)) = merged_life(&spans, 0, tolerance);
            out.id.push(customer);
            out.start.push(s);
            out.duration.push((e.min(as_of) - s) as f64 / unit);
            out.event.push(e <= as_of);
        }
        Some(out)
    });
    let Some(mut chunks) = chunks.into_iter().collect::<Option<Vec<Chunk>>>() else {
        return Ok(None);
    };
    let total: usize = chunks.iter().map(|c| c.id.len()).sum();
    fn joined<T: PolarsNumericType>(
        name: &str,
        parts: impl Iterator<Item = Vec<T::Native>>,
    ) -> ChunkedArray<T> {
        ChunkedArray::from_chunk_iter(name.into(), parts.map(PrimitiveArray::from_vec))
    }
    let columns = vec![
        joined::<Int64Type>(
            c.customer_id.as_str(),
            chunks.iter_mut().map(|c| std::mem::take(&mut c.id)),
        )
        .into_series()
        .cast(&id_type)?
        .into_column(),
        UInt32Chunked::from_vec("life".into(), vec![0u32; total]).into_column(),
        joined::<Int64Type>(
            "start",
            chunks.iter_mut().map(|c| std::mem::take(&mut c.start)),
        )
        .into_datetime(TimeUnit::Microseconds, None)
        .into_column(),
        joined::<Float64Type>(
            "duration",
            chunks.iter_mut().map(|c| std::mem::take(&mut c.duration)),
        )
        .into_column(),
        BooleanChunked::from_chunk_iter(
            "event".into(),
            chunks
                .iter()
                .map(|c| BooleanArray::from_slice(c.event.as_slice())),
        )
        .into_column(),
        Float64Chunked::from_vec("entry".into(), vec![0f64; total]).into_column(),
    ];
    Ok(Some(DataFrame::new(total, columns)?))
}
