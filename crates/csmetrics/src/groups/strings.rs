//! String keys read in the chunks they have ([`StringRows`]), ranked in value order, and the
//! dictionary of a key coded elsewhere (labels looked up by code).

use foldhash::fast::FixedState;
use polars::prelude::*;
use polars_arrow::array::Array;

use crate::error::Result;

use super::encode::StrKey;
use super::ranked::ranks_of_rows;
use super::EncodedKey;
use crate::alloc::zeroed_buffer;
use crate::parallel::{parallel, work_ranges};

/// The rows of a String column read in the chunks it has (a column read from Parquet has one
/// per row group): no copy into one chunk. A row is found in O(1): each block of rows knows
/// the chunk its first row is in.
pub(crate) struct StringRows<'a> {
    arrays: Vec<&'a polars_arrow::array::Utf8ViewArray>,
    /// First row of each chunk, and the row count last.
    starts: Vec<usize>,
    block_chunk: Vec<u32>,
}

impl<'a> StringRows<'a> {
    const BLOCK_BITS: u32 = 12;

    pub(crate) fn new(ca: &'a StringChunked) -> Self {
        let arrays: Vec<_> = ca.downcast_iter().filter(|a| !a.is_empty()).collect();
        let mut starts = Vec::with_capacity(arrays.len() + 1);
        let mut rows = 0;
        for a in &arrays {
            starts.push(rows);
            rows += a.len();
        }
        starts.push(rows);
        let blocks = rows.div_ceil(1 << Self::BLOCK_BITS);
        let mut block_chunk = Vec::with_capacity(blocks);
        let mut chunk = 0usize;
        for block in 0..blocks {
            let row = block << Self::BLOCK_BITS;
            while row >= starts[chunk + 1] {
                chunk += 1;
            }
            block_chunk.push(chunk as u32);
        }
        StringRows {
            arrays,
            starts,
            block_chunk,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.starts[self.starts.len() - 1]
    }

    #[inline]
    fn locate(&self, row: usize) -> (&'a polars_arrow::array::Utf8ViewArray, usize) {
        let mut chunk = self.block_chunk[row >> Self::BLOCK_BITS] as usize;
        while row >= self.starts[chunk + 1] {
            chunk += 1;
        }
        (self.arrays[chunk], row - self.starts[chunk])
    }

    #[inline]
    pub(crate) fn value(&self, row: usize) -> &'a str {
        let (array, i) = self.locate(row);
        array.value(i)
    }

    /// The row's key for hashing: strings of up to 12 bytes live inside their 16-byte view,
    /// which then identifies them.
    #[inline]
    pub(super) fn key(&self, row: usize) -> StrKey<'a> {
        let (array, i) = self.locate(row);
        let view = array.views()[i];
        if view.length <= 12 {
            StrKey::Inline(view.as_u128())
        } else {
            StrKey::Long(array.value(i))
        }
    }

    #[inline]
    pub(super) fn is_valid(&self, row: usize) -> bool {
        let (array, i) = self.locate(row);
        array.is_valid(i)
    }
}

/// String keys without nulls, sorted (as exports by customer id are), coded by rank in one
/// pass with no hashing: customer ids are mostly distinct, and hashing each of them (twice: per
/// range and again to merge the ranges) costs more than comparing neighbours. Unsorted mostly
/// distinct strings are ranked through a sort of the rows. `None` for other keys (then hashing
/// and one sort of the distinct labels win).
pub(super) fn ranked_string_codes(column: &Column) -> Result<Option<EncodedKey>> {
    let series = column.as_materialized_series();
    if !series.dtype().is_string() || series.null_count() > 0 || series.is_empty() {
        return Ok(None);
    }
    let strings = StringRows::new(series.str()?);
    let rows = strings.len();
    let sorted = parallel(work_ranges(rows), |range| {
        let first = range.start.saturating_sub(1);
        (first..range.end.saturating_sub(1)).all(|row| strings.value(row) <= strings.value(row + 1))
    })
    .into_iter()
    .all(|ok| ok);
    if !sorted {
        return mostly_distinct(&strings)
            .then(|| rank_by_sorting(series, &strings))
            .transpose();
    }
    let mut codes = zeroed_buffer::<u32>(rows);
    let mut first_rows: Vec<IdxSize> = Vec::new();
    let mut previous: Option<&str> = None;
    for (row, code) in codes.iter_mut().enumerate() {
        let value = strings.value(row);
        if previous != Some(value) {
            previous = Some(value);
            first_rows.push(row as IdxSize);
        }
        *code = first_rows.len() as u32 - 1;
    }
    let labels = series
        .take(&IdxCa::from_vec("".into(), first_rows))?
        .into_column();
    Ok(Some(EncodedKey { codes, labels }))
}

/// Whether a string key has fewer than two rows per value (customer ids of a subscriptions
/// table, not the ids of an event log or a segment), estimated from the repeats among evenly
/// spaced sample rows: k sampled rows out of n repeat about k^2 / 2d times for d values, so
/// n / d < 2 when n * repeats < k^2. All rows are counted when they are few.
fn mostly_distinct(strings: &StringRows) -> bool {
    let rows = strings.len();
    let sample = rows.min(1 << 14);
    if sample == 0 {
        return false;
    }
    let mut seen: std::collections::HashSet<&str, FixedState> =
        std::collections::HashSet::with_capacity_and_hasher(sample, FixedState::with_seed(7));
    for i in 0..sample {
        seen.insert(strings.value(i * rows / sample));
    }
    if sample == rows {
        return seen.len() * 2 > rows;
    }
    let repeats = (sample - seen.len()) as u128;
    (rows as u128) * repeats < (sample as u128) * (sample as u128)
}

/// Mostly distinct strings in any order coded by rank through one sort of the rows (a
/// parallel sort beats hashing every id twice and sorting the distinct ones after): walking the
/// rows in sorted order, the code grows at each new value.
fn rank_by_sorting(series: &Series, strings: &StringRows) -> Result<EncodedKey> {
    let rows = strings.len();
    let mut codes = zeroed_buffer::<u32>(rows);
    let mut first_rows: Vec<IdxSize> = Vec::new();
    if let Some(keys) = short_keys_in_order(strings) {
        // Equal (prefix, length) is equal value: no string is read again.
        let mut previous = None;
        for key in keys {
            let (value, row) = (key >> 32, (key as u32) as usize);
            if previous != Some(value) {
                previous = Some(value);
                first_rows.push(row as IdxSize);
            }
            codes[row] = first_rows.len() as u32 - 1;
        }
        let labels = series
            .take(&IdxCa::from_vec("".into(), first_rows))?
            .into_column();
        return Ok(EncodedKey { codes, labels });
    }
    let order = rows_in_value_order(strings);
    let mut previous: Option<&str> = None;
    for row in &order {
        let value = strings.value(*row as usize);
        if previous != Some(value) {
            previous = Some(value);
            first_rows.push(*row);
        }
        codes[*row as usize] = first_rows.len() as u32 - 1;
    }
    let labels = series
        .take(&IdxCa::from_vec("".into(), first_rows))?
        .into_column();
    Ok(EncodedKey { codes, labels })
}

/// The rows of a string array (no nulls) in the order of their values, ties by row.
fn rows_in_value_order(strings: &StringRows) -> Vec<IdxSize> {
    // Byte order is the order of the labels' sort (Polars sorts strings by their bytes).
    // Rows ordered by the first 8 bytes of their value as a big-endian integer (shorter values
    // padded with zeros), ties by the whole value: integer comparisons for almost every pair.
    if let Some(keys) = short_keys_in_order(strings) {
        return keys.into_iter().map(|k| k as IdxSize).collect();
    }
    let rows = strings.len();
    let order_of = |a: &(u64, IdxSize), b: &(u64, IdxSize)| {
        a.0.cmp(&b.0)
            .then_with(|| strings.value(a.1 as usize).cmp(strings.value(b.1 as usize)))
            .then(a.1.cmp(&b.1))
    };
    let keyed: Vec<(u64, IdxSize)> = (0..rows)
        .map(|r| (prefix(strings.value(r)), r as IdxSize))
        .collect();
    sorted_in_halves(keyed, order_of)
        .into_iter()
        .map(|k| k.1)
        .collect()
}

/// The first 8 bytes of a value as a big-endian integer, shorter values padded with zeros.
fn prefix(value: &str) -> u64 {
    let bytes = value.as_bytes();
    let mut head = [0u8; 8];
    let n = bytes.len().min(8);
    head[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(head)
}

/// When every value has at most 8 bytes (most ids): one integer per row, (prefix, length, row),
/// sorted. The prefix then the length order such values as their bytes do, and ties come by row:
/// no string comparison at all.
fn short_keys_in_order(strings: &StringRows) -> Option<Vec<u128>> {
    let rows = strings.len();
    if !(0..rows).all(|r| strings.value(r).len() <= 8) {
        return None;
    }
    let keys = (0..rows).map(|r| {
        let value = strings.value(r);
        (u128::from(prefix(value)) << 64) | ((value.len() as u128) << 32) | r as u128
    });
    Some(sorted_in_halves(keys.collect(), u128::cmp))
}

/// `items` sorted by `order`: two halves sorted in parallel, then merged.
fn sorted_in_halves<T: Copy + Send>(
    mut items: Vec<T>,
    order: impl Fn(&T, &T) -> std::cmp::Ordering + Sync,
) -> Vec<T> {
    let half = items.len() / 2;
    {
        let (left, right) = items.split_at_mut(half);
        std::thread::scope(|scope| {
            let handle = scope.spawn(|| left.sort_unstable_by(&order));
            right.sort_unstable_by(&order);
            handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
        });
    }
    let (left, right) = items.split_at(half);
    let (mut i, mut j) = (0, 0);
    let mut merged: Vec<T> = Vec::with_capacity(items.len());
    while i < left.len() && j < right.len() {
        if order(&right[j], &left[i]).is_lt() {
            merged.push(right[j]);
            j += 1;
        } else {
            merged.push(left[i]);
            i += 1;
        }
    }
    merged.extend_from_slice(&left[i..]);
    merged.extend_from_slice(&right[j..]);
    merged
}

/// A dictionary-encoded key (the physical codes of a Categorical) renumbered in the order of
/// its labels, so that the engine's integer path groups it at once and every output sorts as the
/// labels would. `codes` and `labels` are the dictionary: `labels[i]` is the string of code
/// `codes[i]` (a null label marks a code the dictionary does not hold). Returns each row's rank
/// (nulls stay null) and the codes in label order, from which a result's ranks map back to the
/// caller's codes. The distinct labels are ranked through one parallel sort; no row is hashed.
pub fn dictionary_by_label(
    rows: &UInt32Chunked,
    codes: &UInt32Chunked,
    labels: &StringChunked,
) -> Result<(Series, UInt32Chunked)> {
    use crate::error::CsError;
    if codes.len() != labels.len() || codes.null_count() > 0 {
        return Err(CsError::InvalidOption {
            option: "dictionary".into(),
            value: format!("{} codes, {} labels", codes.len(), labels.len()),
            rule: "one non-null code per label".into(),
        });
    }
    let codes = codes.rechunk();
    let code_values = codes.cont_slice()?;
    let present: Vec<(u32, usize)> = if labels.null_count() == 0 {
        code_values
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, i))
            .collect()
    } else {
        let valid = labels.is_not_null().rechunk().into_owned();
        code_values
            .iter()
            .zip(valid.downcast_iter().flat_map(|a| a.values_iter()))
            .enumerate()
            .filter_map(|(i, (&code, ok))| ok.then_some((code, i)))
            .collect()
    };
    let strings = if present.len() == labels.len() {
        labels.rechunk().into_owned()
    } else {
        let kept = present.iter().map(|&(_, i)| i as IdxSize).collect();
        labels
            .take(&IdxCa::from_vec("".into(), kept))?
            .rechunk()
            .into_owned()
    };
    // The labels are distinct: a label's rank is its place in their sorted order.
    let mut ranks = vec![0u32; present.len()];
    for (rank, &i) in rows_in_value_order(&StringRows::new(&strings))
        .iter()
        .enumerate()
    {
        ranks[i as usize] = rank as u32;
    }
    let top = present.iter().map(|&(code, _)| code).max();
    let mut lookup = vec![u32::MAX; top.map_or(0, |t| t as usize + 1)];
    let mut order = vec![0u32; ranks.len()];
    for (&(code, _), &rank) in present.iter().zip(&ranks) {
        lookup[code as usize] = rank;
        order[rank as usize] = code;
    }
    // The narrowest codes that hold every rank: a few-valued segment of 20M rows then costs
    // 20 MB of codes, not 80.
    let ranked = if order.len() <= 1 << 8 {
        ranks_of_rows::<UInt8Type>(rows, &lookup, |r| r as u8)?.into_series()
    } else if order.len() <= 1 << 16 {
        ranks_of_rows::<UInt16Type>(rows, &lookup, |r| r as u16)?.into_series()
    } else {
        ranks_of_rows::<UInt32Type>(rows, &lookup, |r| r)?.into_series()
    };
    Ok((ranked, UInt32Chunked::from_vec("".into(), order)))
}

/// Bits of the partition of [`partitioned_string_codes`]: 256 partitions, so that a key of a
/// million distinct values hashes into maps of about four thousand, which stay in the cache.
const PARTITION_BITS: u32 = 8;

/// One range of rows bucketed by partition: each row's view and row number, each bucket in row
/// order (`at[p]..at[p + 1]`).
struct Buckets {
    at: Vec<usize>,
    keys: Vec<u128>,
    rows: Vec<u32>,
}

/// String keys without nulls, every value of at most 12 bytes (held inside its view), with many
/// rows per value (the customer ids of an invoice or event table), coded through hash
/// partitions: each row's view is hashed to a partition and copied there with its row (a
/// counting sort, one per range of rows), and each partition is coded with its own map, small
/// enough for the cache, where one map over every distinct value misses it on most rows. The
/// codes are then renumbered in order of first appearance, as [`super::encode_rows`] numbers
/// them. `None` for other keys and for tables too small to gain.
pub(super) fn partitioned_string_codes(column: &Column) -> Result<Option<EncodedKey>> {
    use std::hash::BuildHasher;

    let series = column.as_materialized_series();
    if !series.dtype().is_string() || series.null_count() > 0 || series.len() < 1 << 20 {
        return Ok(None);
    }
    let ca = series.str()?;
    if !ca
        .downcast_iter()
        .all(|a| a.views().iter().all(|v| v.length <= 12))
    {
        return Ok(None);
    }
    let chunks: Vec<&[polars_arrow::array::View]> =
        ca.downcast_iter().map(|a| a.views().as_slice()).collect();
    let mut chunk_at = vec![0usize];
    for chunk in &chunks {
        chunk_at.push(chunk_at[chunk_at.len() - 1] + chunk.len());
    }
    let rows = series.len();
    let parts = 1usize << PARTITION_BITS;
    let spread = FixedState::with_seed(0x9e37_79b9);
    let part_of = |key: u128| (spread.hash_one(key) >> (64 - PARTITION_BITS)) as usize;
    // The views of the rows of `range`, with their row numbers.
    let views = |range: std::ops::Range<usize>| {
        let (chunks, chunk_at) = (&chunks, &chunk_at);
        (0..chunks.len()).flat_map(move |c| {
            let (a, z) = (range.start.max(chunk_at[c]), range.end.min(chunk_at[c + 1]));
            let slice = if a < z {
                &chunks[c][a - chunk_at[c]..z - chunk_at[c]]
            } else {
                &chunks[c][..0]
            };
            slice
                .iter()
                .enumerate()
                .map(move |(i, v)| (a + i, v.as_u128()))
        })
    };
    let buckets = parallel(crate::parallel::work_ranges(rows), |range| {
        let mut counts = vec![0usize; parts];
        for (_, key) in views(range.clone()) {
            counts[part_of(key)] += 1;
        }
        let mut at = vec![0usize; parts + 1];
        for p in 0..parts {
            at[p + 1] = at[p] + counts[p];
        }
        let mut keys = zeroed_buffer::<u128>(range.len());
        let mut numbers = zeroed_buffer::<u32>(range.len());
        let mut next = at[..parts].to_vec();
        for (row, key) in views(range) {
            let p = part_of(key);
            keys[next[p]] = key;
            numbers[next[p]] = row as u32;
            next[p] += 1;
        }
        Buckets {
            at,
            keys,
            rows: numbers,
        }
    });
    // Each range of partitions: the local code of each of its rows (bucket by bucket, range of
    // rows by range of rows) and the first row of each local code, partition by partition.
    let coded = parallel(crate::parallel::work_ranges(parts), |range| {
        let mut local = Vec::new();
        let mut firsts: Vec<Vec<IdxSize>> = Vec::with_capacity(range.len());
        for p in range {
            let size: usize = buckets.iter().map(|b| b.at[p + 1] - b.at[p]).sum();
            let mut map: std::collections::HashMap<u128, u32, FixedState> =
                std::collections::HashMap::with_capacity_and_hasher(
                    size / 8 + 16,
                    FixedState::with_seed(7),
                );
            let mut first = Vec::new();
            for b in &buckets {
                let (a, z) = (b.at[p], b.at[p + 1]);
                for (key, row) in b.keys[a..z].iter().zip(&b.rows[a..z]) {
                    let next = map.len() as u32;
                    let code = *map.entry(*key).or_insert_with(|| {
                        first.push(*row as IdxSize);
                        next
                    });
                    local.push(code);
                }
            }
            firsts.push(first);
        }
        (local, firsts)
    });
    let mut codes = zeroed_buffer::<u32>(rows);
    let mut first_rows: Vec<IdxSize> = Vec::new();
    let mut p = 0usize;
    for (local, firsts) in coded {
        let mut local = local.into_iter();
        for first in firsts {
            let offset = first_rows.len() as u32;
            first_rows.extend(first);
            for b in &buckets {
                for (row, code) in b.rows[b.at[p]..b.at[p + 1]].iter().zip(local.by_ref()) {
                    codes[*row as usize] = offset + code;
                }
            }
            p += 1;
        }
    }
    drop(buckets);
    // Renumbered in order of first appearance.
    let mut by_first: Vec<u32> = (0..first_rows.len() as u32).collect();
    by_first.sort_unstable_by_key(|code| first_rows[*code as usize]);
    let mut rank = vec![0u32; by_first.len()];
    for (r, code) in by_first.iter().enumerate() {
        rank[*code as usize] = r as u32;
    }
    crate::parallel::parallel_fill(&mut codes, |_, part| {
        for code in part.iter_mut() {
            *code = rank[*code as usize];
        }
    });
    let first_rows: Vec<IdxSize> = by_first.iter().map(|c| first_rows[*c as usize]).collect();
    let labels = series
        .take(&IdxCa::from_vec("".into(), first_rows))?
        .into_column();
    Ok(Some(EncodedKey { codes, labels }))
}
