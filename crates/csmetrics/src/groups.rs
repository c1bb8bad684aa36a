//! Dense group ids for `by=` keys: every row gets a small integer naming its group, so that a
//! metric can aggregate with plain array indexing instead of a general hash group-by.
//!
//! Each key is encoded on its own into codes (strings and numbers hashed once per row with a
//! fixed, platform-independent hasher, in parallel over row ranges; calendar periods through a
//! lookup table), the codes are combined in mixed radix, and the combination is compacted to
//! group ids in first-seen order. Results never depend on the number of threads.

use std::collections::HashMap;
use std::hash::Hash;
use std::ops::Range;

use foldhash::fast::FixedState;
use polars::prelude::*;
use polars_arrow::array::{Array, PrimitiveArray};

use crate::error::Result;

/// Number of worker threads for row-parallel loops.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(16)
}

/// Splits `0..rows` into at most `parts` contiguous ranges of nearly equal size.
pub fn chunks(rows: usize, parts: usize) -> Vec<Range<usize>> {
    let size = rows.div_ceil(parts.max(1)).max(1);
    (0..rows)
        .step_by(size)
        .map(|lo| lo..(lo + size).min(rows))
        .collect()
}

/// The ranges a row-parallel loop over `rows` uses: one for small inputs.
pub fn work_ranges(rows: usize) -> Vec<Range<usize>> {
    chunks(rows, if rows >= 1 << 16 { threads() } else { 1 })
}

/// Runs `f` over each range, in parallel when there are several; results in range order.
pub fn parallel<T: Send>(
    ranges: Vec<Range<usize>>,
    f: impl Fn(Range<usize>) -> T + Sync,
) -> Vec<T> {
    if ranges.len() <= 1 {
        return ranges.into_iter().map(&f).collect();
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|r| scope.spawn(move || f(r)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// A buffer of `n` zeros (all-zero bits: integers, floats, booleans) for large outputs. The
/// allocation is zeroed by the allocator, and on Linux its pages may be backed by transparent
/// huge pages: writing hundreds of megabytes then takes a few hundred page faults instead of
/// tens of thousands.
pub fn zeroed_buffer<T: Copy + Default>(n: usize) -> Vec<T> {
    let buffer = vec![T::default(); n];
    advise_huge_pages(&buffer);
    buffer
}

/// `n` copies of `value` in a buffer whose pages may be backed by transparent huge pages (see
/// [`zeroed_buffer`]); for large tables of structs indexed at random.
pub fn filled_buffer<T: Clone>(n: usize, value: T) -> Vec<T> {
    let mut buffer: Vec<T> = Vec::with_capacity(n);
    advise_huge_range(buffer.as_ptr() as usize, n * std::mem::size_of::<T>());
    buffer.resize(n, value);
    buffer
}

/// Asks the kernel to back the whole 2 MiB pages inside `buffer` with huge pages (when the
/// system allows it on request). A hint only: nothing changes when it is refused.
fn advise_huge_pages<T>(buffer: &[T]) {
    advise_huge_range(buffer.as_ptr() as usize, std::mem::size_of_val(buffer));
}

/// [`advise_huge_pages`] for `bytes` bytes of an allocation starting at address `start`.
#[allow(unsafe_code)]
fn advise_huge_range(start: usize, bytes: usize) {
    const HUGE: usize = 2 << 20;
    if bytes < 4 * HUGE {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let first = start.next_multiple_of(HUGE);
        let last = (start + bytes) / HUGE * HUGE;
        if last > first {
            // SAFETY: the range lies inside the buffer's allocation, which stays valid; the
            // advice changes only how its pages are backed, never their contents.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
}

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
    fn key(&self, row: usize) -> StrKey<'a> {
        let (array, i) = self.locate(row);
        let view = array.views()[i];
        if view.length <= 12 {
            StrKey::Inline(view.as_u128())
        } else {
            StrKey::Long(array.value(i))
        }
    }

    #[inline]
    fn is_valid(&self, row: usize) -> bool {
        let (array, i) = self.locate(row);
        array.is_valid(i)
    }
}

/// String keys without nulls, sorted (as exports by customer id are), coded by rank in one
/// pass with no hashing: customer ids are mostly distinct, and hashing each of them (twice: per
/// range and again to merge the ranges) costs more than comparing neighbours. Unsorted mostly
/// distinct strings are ranked through a sort of the rows. `None` for other keys (then hashing
/// and one sort of the distinct labels win).
fn ranked_string_codes(column: &Column) -> Result<Option<EncodedKey>> {
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
    let order = rows_in_value_order(strings);
    let rows = strings.len();
    let mut codes = zeroed_buffer::<u32>(rows);
    let mut first_rows: Vec<IdxSize> = Vec::new();
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
    let prefix = |row: usize| -> u64 {
        let bytes = strings.value(row).as_bytes();
        let mut head = [0u8; 8];
        let n = bytes.len().min(8);
        head[..n].copy_from_slice(&bytes[..n]);
        u64::from_be_bytes(head)
    };
    let rows = strings.len();
    let order_of = |a: &(u64, IdxSize), b: &(u64, IdxSize)| {
        a.0.cmp(&b.0)
            .then_with(|| strings.value(a.1 as usize).cmp(strings.value(b.1 as usize)))
            .then(a.1.cmp(&b.1))
    };
    let sort = |part: &mut [(u64, IdxSize)]| part.sort_unstable_by(order_of);
    let mut keyed: Vec<(u64, IdxSize)> = (0..rows).map(|r| (prefix(r), r as IdxSize)).collect();
    // Two halves sorted in parallel, then merged.
    let half = rows / 2;
    {
        let (left, right) = keyed.split_at_mut(half);
        std::thread::scope(|scope| {
            let handle = scope.spawn(|| sort(left));
            sort(right);
            handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
        });
    }
    let (left, right) = keyed.split_at(half);
    let (mut i, mut j) = (0, 0);
    let mut order: Vec<IdxSize> = Vec::with_capacity(rows);
    while i < left.len() && j < right.len() {
        if order_of(&right[j], &left[i]).is_lt() {
            order.push(right[j].1);
            j += 1;
        } else {
            order.push(left[i].1);
            i += 1;
        }
    }
    order.extend(left[i..].iter().map(|k| k.1));
    order.extend(right[j..].iter().map(|k| k.1));
    order
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

/// Each row's rank through `lookup` (code -> rank, `u32::MAX` for codes the dictionary lacks),
/// chunk by chunk as the rows come, nulls kept.
fn ranks_of_rows<T: PolarsNumericType>(
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

/// Fills `out` in parallel, one contiguous slice per work range: `f(first_row, slice)` writes
/// rows `first_row..first_row + slice.len()`. Results in range order. Writing into one
/// preallocated buffer avoids collecting per-range vectors and copying them together.
pub fn parallel_fill<T: Send, R: Send>(
    out: &mut [T],
    f: impl Fn(usize, &mut [T]) -> R + Sync,
) -> Vec<R> {
    let ranges = work_ranges(out.len());
    if ranges.len() <= 1 {
        return vec![f(0, out)];
    }
    let f = &f;
    std::thread::scope(|scope| {
        let mut rest = out;
        let mut handles = Vec::with_capacity(ranges.len());
        for range in ranges {
            let (head, tail) = rest.split_at_mut(range.len());
            rest = tail;
            handles.push(scope.spawn(move || f(range.start, head)));
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// One grouping key, encoded: a code per row and the key's value for each code.
#[derive(Debug, Clone)]
pub struct EncodedKey {
    /// Code of each row, in `0..labels.len()`.
    pub codes: Vec<u32>,
    /// The key's value for each code (a column named like the key).
    pub labels: Column,
}

fn new_map<K>() -> HashMap<K, u32, FixedState> {
    HashMap::with_hasher(FixedState::with_seed(0x5eed))
}

/// Codes of `get(row)` for every row, hashed in parallel over row ranges, numbered in order of
/// first appearance; also the first row of each code.
pub fn encode_rows<K, G>(rows: usize, get: G) -> (Vec<u32>, Vec<IdxSize>)
where
    K: Hash + Eq + Send + Clone,
    G: Fn(usize) -> K + Sync,
{
    // Local codes are written straight into the output, one slice per range of rows.
    let mut codes = zeroed_buffer::<u32>(rows);
    let firsts_of_parts = parallel_fill(&mut codes, |first, out| {
        let mut local = LocalCodes::<K>::with_room(out.len());
        let mut firsts: Vec<IdxSize> = Vec::new();
        for (i, code) in out.iter_mut().enumerate() {
            let (c, new) = local.code(get(first + i));
            if new {
                firsts.push((first + i) as IdxSize);
            }
            *code = c;
        }
        firsts
    });
    // Merge: global codes in order of first appearance over the whole input.
    let mut global = new_map::<K>();
    global.reserve(firsts_of_parts.iter().map(Vec::len).sum());
    let mut first_rows: Vec<IdxSize> = Vec::new();
    let mut remaps: Vec<Vec<u32>> = Vec::with_capacity(firsts_of_parts.len());
    for firsts in &firsts_of_parts {
        let remap = firsts
            .iter()
            .map(|&row| {
                let next = global.len() as u32;
                *global.entry(get(row as usize)).or_insert_with(|| {
                    first_rows.push(row);
                    next
                })
            })
            .collect();
        remaps.push(remap);
    }
    // Renumber in place the ranges whose local codes differ from the global ones.
    if remaps.iter().any(|r| !parts_are_identity(r)) {
        let ranges = work_ranges(rows);
        let remaps = &remaps;
        parallel_fill(&mut codes, |first, out| {
            let part = ranges.iter().position(|r| r.start == first).unwrap_or(0);
            let remap = &remaps[part];
            if !parts_are_identity(remap) {
                for code in out.iter_mut() {
                    *code = remap[*code as usize];
                }
            }
        });
    }
    (codes, first_rows)
}

/// Codes of keys in order of first appearance: a short list searched in turn while the keys
/// are few (segments, plans, countries: a comparison or two beats hashing), a hash map after.
struct LocalCodes<K> {
    few: Vec<K>,
    many: Option<HashMap<K, u32, FixedState>>,
    /// Rows still to come at most: the map is sized for them, up to a first guess (mostly
    /// distinct string ids are ranked by sorting instead, see `ranked_string_codes`).
    room: usize,
}

impl<K> LocalCodes<K> {
    fn with_room(room: usize) -> Self {
        LocalCodes {
            few: Vec::new(),
            many: None,
            room,
        }
    }
}

impl<K: Hash + Eq + Clone> LocalCodes<K> {
    const FEW: usize = 16;
    const FIRST_GUESS: usize = 1 << 16;

    /// The code of `key`, and whether it is new.
    #[inline]
    fn code(&mut self, key: K) -> (u32, bool) {
        if let Some(map) = &mut self.many {
            let next = map.len() as u32;
            let mut new = false;
            let code = *map.entry(key).or_insert_with(|| {
                new = true;
                next
            });
            return (code, new);
        }
        if let Some(code) = self.few.iter().position(|k| *k == key) {
            return (code as u32, false);
        }
        let next = self.few.len() as u32;
        if self.few.len() < Self::FEW {
            self.few.push(key);
        } else {
            let mut map = new_map::<K>();
            // Room for the rows to come, but no more than a first guess: a key that repeats
            // (an event log's customer ids) would otherwise hold a table sized for every row.
            map.reserve(self.room.min(Self::FIRST_GUESS));
            for (code, k) in self.few.drain(..).enumerate() {
                map.insert(k, code as u32);
            }
            map.insert(key, next);
            self.many = Some(map);
        }
        (next, true)
    }
}

fn parts_are_identity(remap: &[u32]) -> bool {
    remap.iter().enumerate().all(|(i, c)| i as u32 == *c)
}

/// The smallest and largest of `values`, in parallel ((i64::MAX, i64::MIN) when empty).
fn min_max(values: &[i64]) -> (i64, i64) {
    parallel(work_ranges(values.len()), |r| {
        values[r]
            .iter()
            .fold((i64::MAX, i64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)))
    })
    .into_iter()
    .fold((i64::MAX, i64::MIN), |(lo, hi), (a, b)| {
        (lo.min(a), hi.max(b))
    })
}

/// Codes of integers whose range is small next to their count (customer ids 1..N, say)
/// through a lookup table instead of hashing; None when the range is too wide.
fn dense_integer_codes(values: &[i64]) -> Option<(Vec<u32>, Vec<IdxSize>)> {
    let (lo, hi) = min_max(values);
    let span = hi.checked_sub(lo)?.checked_add(1)?;
    if values.is_empty() || span > (values.len() as i64).saturating_mul(4).max(1 << 16) {
        return None;
    }
    // Values in ascending order (a table sorted by this key): a new code at each change, no
    // lookup table.
    if values.windows(2).all(|w| w[0] <= w[1]) {
        let mut first_rows: Vec<IdxSize> = Vec::new();
        let mut previous = None;
        let mut codes = zeroed_buffer::<u32>(values.len());
        for (row, (code, v)) in codes.iter_mut().zip(values).enumerate() {
            if previous != Some(*v) {
                previous = Some(*v);
                first_rows.push(row as IdxSize);
            }
            *code = first_rows.len() as u32 - 1;
        }
        return Some((codes, first_rows));
    }
    let mut table = vec![u32::MAX; span as usize];
    let mut first_rows: Vec<IdxSize> = Vec::new();
    let codes = values
        .iter()
        .enumerate()
        .map(|(row, v)| {
            let slot = &mut table[(v - lo) as usize];
            if *slot == u32::MAX {
                *slot = first_rows.len() as u32;
                first_rows.push(row as IdxSize);
            }
            *slot
        })
        .collect();
    Some((codes, first_rows))
}

#[derive(Hash, PartialEq, Eq, Clone, Copy)]
enum StrKey<'a> {
    Inline(u128),
    Long(&'a str),
}

/// Integer dtypes whose every value converts to Int64.
fn fits_i64(dtype: &DataType) -> bool {
    dtype.is_integer()
        && !matches!(
            dtype,
            DataType::UInt64 | DataType::Int128 | DataType::UInt128
        )
}

/// Encodes a key column (a customer id or a `by=` column): strings, Categorical and Enum (by
/// their category codes), integers, booleans, floats, dates and datetimes; any other dtype is
/// an error naming the column, its dtype and the dtypes accepted.
pub fn encode_column(column: &Column) -> Result<EncodedKey> {
    let series = column.as_materialized_series();
    crate::input::check(
        series,
        series.name(),
        crate::input::Role::Key,
        "a customer id or grouping column",
    )?;
    let rows = series.len();
    // Strings are read in their chunks; other keys in one.
    let physical = if series.dtype().is_string() {
        series.clone()
    } else {
        series.to_physical_repr().rechunk()
    };
    let (codes, first_rows) = match physical.dtype() {
        DataType::String => {
            let strings = StringRows::new(physical.str()?);
            if physical.null_count() == 0 {
                encode_rows(rows, |row| strings.key(row))
            } else {
                encode_rows(rows, |row| strings.is_valid(row).then(|| strings.key(row)))
            }
        }
        DataType::Float32 | DataType::Float64 => {
            let values = physical.cast(&DataType::Float64)?;
            let ca = values.f64()?;
            let encoded = match ca.downcast_iter().next() {
                Some(array) => encode_rows(rows, |row| {
                    // -0.0 and 0.0 are one value; NaNs are one group.
                    array.is_valid(row).then(|| {
                        let v = array.value(row);
                        if v == 0.0 {
                            0u64
                        } else if v.is_nan() {
                            u64::MAX
                        } else {
                            v.to_bits()
                        }
                    })
                }),
                None => (Vec::new(), Vec::new()),
            };
            encoded
        }
        DataType::UInt64 => {
            let ca = physical.u64()?;
            match ca.downcast_iter().next() {
                Some(array) => encode_rows(rows, |row| array.get(row)),
                None => (Vec::new(), Vec::new()),
            }
        }
        dtype if dtype.is_integer() || dtype.is_bool() || dtype.is_null() => {
            let values = physical.cast(&DataType::Int64)?;
            let ca = values.i64()?;
            let encoded = match ca.downcast_iter().next() {
                Some(array) if array.null_count() == 0 => {
                    let values = array.values().as_slice();
                    dense_integer_codes(values)
                        .unwrap_or_else(|| encode_rows(rows, |row| values[row]))
                }
                Some(array) => encode_rows(rows, |row| array.get(row)),
                None => (Vec::new(), Vec::new()),
            };
            encoded
        }
        _ => {
            return Err(crate::input::wrong_type(
                series.name(),
                series.dtype(),
                crate::input::Role::Key,
                "a customer id or grouping column",
            ))
        }
    };
    let labels = series
        .take(&IdxCa::from_vec("".into(), first_rows))?
        .into_column();
    Ok(EncodedKey { codes, labels })
}

/// The group of every row, and each group's code of every key.
#[derive(Debug, Clone)]
pub struct Groups {
    /// Group id of each row, in `0..count()`.
    pub ids: Vec<u32>,
    /// For each key, the code of each group.
    pub key_codes: Vec<Vec<u32>>,
    count: usize,
}

impl Groups {
    /// Number of groups.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The groups of the mixed-radix cells of `keys` that are `used` (cell = the keys' codes
    /// combined, the last key varying fastest), numbered in cell order; no per-row ids.
    pub fn of_cells(keys: &[EncodedKey], used: impl Iterator<Item = usize>) -> Groups {
        let mut key_codes: Vec<Vec<u32>> = vec![Vec::new(); keys.len()];
        let mut count = 0;
        for cell in used {
            count += 1;
            let mut rest = cell;
            for (k, key) in keys.iter().enumerate().rev() {
                let base = key.labels.len().max(1);
                key_codes[k].push((rest % base) as u32);
                rest /= base;
            }
        }
        Groups {
            ids: Vec::new(),
            key_codes,
            count,
        }
    }
}

/// Dense group ids over the combination of `keys` for `rows` rows.
///
/// Every group has at least one row. With one key the ids are its codes; with several they are
/// numbered in the order of the keys' codes (mixed radix) or, when the combinations are too
/// many for that, in order of first appearance.
pub fn group_rows(keys: &[EncodedKey], rows: usize) -> Groups {
    match keys {
        [] => Groups {
            ids: vec![0; rows],
            key_codes: Vec::new(),
            count: usize::from(rows > 0),
        },
        [key] => {
            let count = key.labels.len();
            Groups {
                ids: key.codes.clone(),
                key_codes: vec![(0..count as u32).collect()],
                count,
            }
        }
        _ => {
            let radix = keys
                .iter()
                .try_fold(1u64, |acc, k| acc.checked_mul(k.labels.len().max(1) as u64));
            match radix {
                Some(radix) if radix <= (rows as u64).max(1 << 16) * 4 => {
                    mixed_radix_groups(keys, rows, radix as usize)
                }
                _ => hashed_groups(keys, rows),
            }
        }
    }
}

fn mixed_radix_groups(keys: &[EncodedKey], rows: usize, radix: usize) -> Groups {
    let combine = |row: usize| {
        keys.iter().fold(0usize, |acc, k| {
            acc * k.labels.len().max(1) + k.codes[row] as usize
        })
    };
    let parts = parallel(work_ranges(rows), |range| {
        let mut used = vec![false; radix];
        let codes: Vec<u32> = range
            .map(|row| {
                let c = combine(row);
                used[c] = true;
                c as u32
            })
            .collect();
        (codes, used)
    });
    let used: Vec<usize> = (0..radix)
        .filter(|&cell| parts.iter().any(|(_, used)| used[cell]))
        .collect();
    let mut remap = vec![u32::MAX; radix];
    for (group, &cell) in used.iter().enumerate() {
        remap[cell] = group as u32;
    }
    let mut groups = Groups::of_cells(keys, used.into_iter());
    let mut ids = Vec::with_capacity(rows);
    for (codes, _) in parts {
        ids.extend(codes.into_iter().map(|c| remap[c as usize]));
    }
    groups.ids = ids;
    groups
}

fn hashed_groups(keys: &[EncodedKey], rows: usize) -> Groups {
    let (ids, first_rows) = encode_rows(rows, |row| {
        keys.iter().map(|k| k.codes[row]).collect::<Vec<u32>>()
    });
    let key_codes = keys
        .iter()
        .map(|k| first_rows.iter().map(|&r| k.codes[r as usize]).collect())
        .collect();
    Groups {
        ids,
        key_codes,
        count: first_rows.len(),
    }
}

/// The keys of each group as a frame sorted by the keys (nulls last), and the group id of each
/// of its rows.
pub fn sorted_keys(keys: &[EncodedKey], groups: &Groups) -> Result<(DataFrame, Vec<usize>)> {
    if keys.is_empty() {
        return Ok((
            DataFrame::empty_with_height(groups.count().max(1)),
            (0..groups.count()).collect(),
        ));
    }
    let columns: Vec<Column> = keys
        .iter()
        .zip(&groups.key_codes)
        .map(|(k, codes)| {
            Ok(k.labels
                .as_materialized_series()
                .take(&IdxCa::from_vec("".into(), codes.clone()))?
                .into_column())
        })
        .collect::<Result<_>>()?;
    let names: Vec<PlSmallStr> = columns.iter().map(|c| c.name().clone()).collect();
    let frame = DataFrame::new(groups.count(), columns)?;
    let order = frame
        .lazy()
        .with_row_index("__cs_group", None)
        .sort(
            names.clone(),
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .collect()?;
    let index: Vec<usize> = order
        .column("__cs_group")?
        .as_materialized_series()
        .idx()?
        .iter()
        .map(|i| i.unwrap_or(0) as usize)
        .collect();
    Ok((order.select(names)?, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_keys_read_in_their_chunks_code_as_in_one() {
        // Sorted, shuffled mostly distinct, and repeating values (with a long string and a
        // null), each split into uneven chunks (one empty): the codes and labels of one chunk.
        let long = "a string longer than twelve bytes";
        let cases: Vec<Vec<Option<String>>> = vec![
            (0..9000).map(|i| Some(format!("id{i:05}"))).collect(),
            (0..9000)
                .map(|i| Some(format!("id{:05}", (i * 7919) % 9000)))
                .collect(),
            (0..9000)
                .map(|i| match i % 5 {
                    0 => None,
                    1 => Some(long.to_string()),
                    _ => Some(format!("s{}", i % 37)),
                })
                .collect(),
        ];
        for values in cases {
            let whole = StringChunked::new("k".into(), &values);
            let mut chunked = StringChunked::new("k".into(), &values[..10]);
            for (lo, hi) in [(10, 10), (10, 4100), (4100, 4101), (4101, 9000)] {
                chunked
                    .append(&StringChunked::new("k".into(), &values[lo..hi]))
                    .unwrap();
            }
            assert!(chunked.chunks().len() > 3);
            let (a, b) = (whole.into_column(), chunked.into_column());
            let (x, y) = (
                key_in_value_order(&a).unwrap(),
                key_in_value_order(&b).unwrap(),
            );
            assert_eq!(x.codes, y.codes);
            assert!(x
                .labels
                .as_materialized_series()
                .equals_missing(y.labels.as_materialized_series()));
            let (x, y) = (encode_column(&a).unwrap(), encode_column(&b).unwrap());
            assert_eq!(x.codes, y.codes);
            assert!(x
                .labels
                .as_materialized_series()
                .equals_missing(y.labels.as_materialized_series()));
        }
        // Integer ids in chunks rank as in one.
        let ids: Vec<u32> = (0..9000).map(|i| (i * 7919) % 9001).collect();
        let whole = UInt32Chunked::from_vec("id".into(), ids.clone()).into_column();
        let mut chunked = UInt32Chunked::from_vec("id".into(), ids[..5000].to_vec());
        chunked
            .append(&UInt32Chunked::from_vec("id".into(), ids[5000..].to_vec()))
            .unwrap();
        let (x, y) = (
            ranked_integer_codes(&whole).unwrap().unwrap(),
            ranked_integer_codes(&chunked.into_column())
                .unwrap()
                .unwrap(),
        );
        assert_eq!(x.0, y.0);
        assert_eq!(x.0[0], 0); // id 0 has rank 0
        assert!(x
            .1
            .as_materialized_series()
            .equals(y.1.as_materialized_series()));
    }

    #[test]
    fn dictionary_codes_renumbered_by_label() {
        // Codes 7, 2, 5 hold "pear", "apple", "fig"; code 3 is not in the dictionary (null).
        let codes = UInt32Chunked::from_vec("".into(), vec![7, 2, 5, 3]);
        let labels =
            StringChunked::new("".into(), &[Some("pear"), Some("apple"), Some("fig"), None]);
        let mut rows = UInt32Chunked::new("id".into(), &[Some(7), None, Some(2), Some(5), Some(7)]);
        rows.append(&UInt32Chunked::new("id".into(), &[Some(5)]))
            .unwrap();
        let (ranked, order) = dictionary_by_label(&rows, &codes, &labels).unwrap();
        // apple < fig < pear: ranks 0, 1, 2.
        assert_eq!(ranked.dtype(), &DataType::UInt8);
        let ranked = ranked.cast(&DataType::UInt32).unwrap();
        let got: Vec<Option<u32>> = ranked.u32().unwrap().iter().collect();
        assert_eq!(got, vec![Some(2), None, Some(0), Some(1), Some(2), Some(1)]);
        assert_eq!(ranked.chunks().len(), 2);
        assert_eq!(order.into_no_null_iter().collect::<Vec<_>>(), vec![2, 5, 7]);
        // A row code outside the dictionary is an error, not a panic.
        let stray = UInt32Chunked::from_vec("id".into(), vec![3]);
        assert!(dictionary_by_label(&stray, &codes, &labels).is_err());
    }

    fn ids(columns: &[Column]) -> Vec<u32> {
        let keys: Vec<EncodedKey> = columns.iter().map(|c| encode_column(c).unwrap()).collect();
        group_rows(&keys, columns[0].len()).ids
    }

    #[test]
    fn ids_follow_first_appearance_and_combine_columns() {
        let a = Column::new("a".into(), ["x", "y", "x", "y", "x"]);
        let b = Column::new("b".into(), [Some(1i64), Some(1), Some(2), Some(1), None]);
        let keys = vec![encode_column(&a).unwrap(), encode_column(&b).unwrap()];
        let groups = group_rows(&keys, 5);
        // Codes: a x=0 y=1; b 1=0 2=1 null=2. Cells a*3+b: 0, 3, 1, 3, 2 -> dense 0, 3, 1, 3, 2.
        assert_eq!(groups.ids, vec![0, 3, 1, 3, 2]);
        let (frame, order) = sorted_keys(&keys, &groups).unwrap();
        // (x,1) (x,2) (x,null) (y,1)
        assert_eq!(order, vec![0, 1, 2, 3]);
        assert_eq!(frame.height(), 4);
        let b_sorted: Vec<Option<i64>> = frame.column("b").unwrap().i64().unwrap().iter().collect();
        assert_eq!(b_sorted, vec![Some(1), Some(2), None, Some(1)]);
    }

    #[test]
    fn floats_and_booleans_group_by_value() {
        assert_eq!(
            ids(&[Column::new(
                "f".into(),
                [0.0f64, -0.0, f64::NAN, f64::NAN, 1.5]
            )]),
            vec![0, 0, 1, 1, 2]
        );
        assert_eq!(
            ids(&[Column::new("b".into(), [true, false, true])]),
            vec![0, 1, 0]
        );
    }

    #[test]
    fn parallel_encoding_equals_sequential_numbering() {
        // Large enough to be split across threads; codes must be numbered by first appearance.
        let rows = 200_000;
        let values: Vec<String> = (0..rows)
            .map(|i| format!("v{}", (i * 7919) % 1013))
            .collect();
        let key = encode_column(&Column::new("s".into(), values.clone())).unwrap();
        let mut seen = std::collections::HashMap::new();
        let expected: Vec<u32> = values
            .iter()
            .map(|v| {
                let next = seen.len() as u32;
                *seen.entry(v.clone()).or_insert(next)
            })
            .collect();
        assert_eq!(key.codes, expected);
        assert_eq!(key.labels.len(), 1013);
    }

    #[test]
    fn many_columns_fall_back_to_hashing() {
        let rows = 1000;
        let cols: Vec<Column> = (0..4)
            .map(|k| {
                Column::new(
                    format!("c{k}").into(),
                    (0..rows as i64)
                        .map(|i| i * (k + 7) % 997)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let keys: Vec<EncodedKey> = cols.iter().map(|c| encode_column(c).unwrap()).collect();
        assert_eq!(group_rows(&keys, rows).count(), 997);
    }

    #[test]
    fn chunking_covers_all_rows() {
        assert_eq!(chunks(10, 3), vec![0..4, 4..8, 8..10]);
        assert!(chunks(0, 2).is_empty());
    }
}
