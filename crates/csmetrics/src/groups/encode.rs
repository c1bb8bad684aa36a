//! Encoding one key column into codes per row: hashed in parallel over row ranges with a fixed
//! hasher, dense integer codes where the range is small, numbered in first-seen order.

use std::collections::HashMap;
use std::hash::Hash;

use foldhash::fast::FixedState;
use polars::prelude::*;
use polars_arrow::array::Array;

use crate::error::Result;

use super::strings::StringRows;
use super::EncodedKey;
use crate::alloc::zeroed_buffer;
use crate::parallel::{parallel, parallel_fill, work_ranges};

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

/// Codes of a key column within groups: group `g`'s rows are `order[offsets[g]..offsets[g + 1]]`,
/// and a key is numbered once per group it appears in (group by group, each group's keys in order
/// of appearance), so the same key in two groups has two codes. Groups are small (a customer's
/// subscriptions): a comparison or two per row replaces hashing every row. Also the first row of
/// each code. `None` for key types read only through [`encode_column`].
pub(crate) fn encode_within(
    column: &Column,
    offsets: &[usize],
    order: &[u32],
) -> Result<Option<(Vec<u32>, Vec<u32>)>> {
    let series = column.as_materialized_series();
    let rows = series.len();
    if series.dtype().is_string() {
        let strings = StringRows::new(series.str()?);
        return Ok(Some(within_groups(rows, offsets, order, |r| {
            strings.key(r)
        })));
    }
    // Categorical and Enum read through their physical codes (one per category).
    let categories = series.dtype().is_categorical() || series.dtype().is_enum();
    if fits_i64(series.dtype()) || categories {
        let values = series.to_physical_repr().cast(&DataType::Int64)?.rechunk();
        let values = values.i64()?;
        let Some(values) = values.cont_slice().ok() else {
            return Ok(None);
        };
        return Ok(Some(within_groups(rows, offsets, order, |r| values[r])));
    }
    Ok(None)
}

fn within_groups<K, G>(
    rows: usize,
    offsets: &[usize],
    order: &[u32],
    get: G,
) -> (Vec<u32>, Vec<u32>)
where
    K: Hash + Eq + Send + Clone,
    G: Fn(usize) -> K + Sync,
{
    let groups = offsets.len().saturating_sub(1);
    // Per range of groups: each row's local code (by position in `order`) and each group's
    // count of keys.
    let parts = parallel(work_ranges(groups), |range| {
        let (a, z) = (offsets[range.start], offsets[range.end]);
        let mut local = Vec::with_capacity(z - a);
        let mut counts = Vec::with_capacity(range.len());
        for g in range {
            let members = &order[offsets[g]..offsets[g + 1]];
            let mut codes = LocalCodes::<K>::with_room(members.len());
            let mut distinct = 0u32;
            for row in members {
                let (code, new) = codes.code(get(*row as usize));
                distinct += u32::from(new);
                local.push(code);
            }
            counts.push(distinct);
        }
        (local, counts)
    });
    let mut codes = vec![0u32; rows];
    let mut first_rows = Vec::new();
    let mut position = 0usize;
    let mut g = 0usize;
    for (local, counts) in parts {
        let mut i = 0usize;
        for count in counts {
            let base = first_rows.len() as u32;
            first_rows.resize(first_rows.len() + count as usize, u32::MAX);
            for _ in offsets[g]..offsets[g + 1] {
                let row = order[position] as usize;
                let code = base + local[i];
                codes[row] = code;
                if first_rows[code as usize] == u32::MAX {
                    first_rows[code as usize] = row as u32;
                }
                position += 1;
                i += 1;
            }
            g += 1;
        }
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
pub(super) enum StrKey<'a> {
    Inline(u128),
    Long(&'a str),
}

/// Integer dtypes whose every value converts to Int64.
pub(super) fn fits_i64(dtype: &DataType) -> bool {
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
    if let Some(key) = super::strings::partitioned_string_codes(column)? {
        return Ok(key);
    }
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
