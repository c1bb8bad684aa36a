//! Dense group ids for `by=` keys: every row gets a small integer naming its group, so that a
//! metric can aggregate with plain array indexing instead of a general hash group-by.
//!
//! Each key is encoded on its own into codes (strings and numbers hashed once per row with a
//! fixed, platform-independent hasher, in parallel over row ranges; calendar periods through a
//! lookup table), the codes are combined in mixed radix, and the combination is compacted to
//! group ids in first-seen order. Results never depend on the number of threads.

mod encode;
mod ranked;
mod strings;
#[cfg(test)]
mod tests;

pub(crate) use encode::encode_within;
pub use encode::{encode_column, encode_rows};
pub use ranked::key_in_value_order;
pub use strings::dictionary_by_label;

use polars::prelude::*;

use crate::error::Result;
use crate::parallel::{parallel, work_ranges};

/// One grouping key, encoded: a code per row and the key's value for each code.
#[derive(Debug, Clone)]
pub struct EncodedKey {
    /// Code of each row, in `0..labels.len()`.
    pub codes: Vec<u32>,
    /// The key's value for each code (a column named like the key).
    pub labels: Column,
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

/// Rows grouped by a dense code (a counting sort): group `g`'s rows are
/// `order[offsets[g]..offsets[g + 1]]`, in row order; `groups` is the number of codes.
pub(crate) fn rows_by_code(codes: &[u32], groups: usize) -> (Vec<usize>, Vec<u32>) {
    let mut offsets = vec![0usize; groups + 1];
    for c in codes {
        offsets[*c as usize + 1] += 1;
    }
    for g in 0..groups {
        offsets[g + 1] += offsets[g];
    }
    let mut cursor = offsets.clone();
    let mut order = vec![0u32; codes.len()];
    for (row, c) in codes.iter().enumerate() {
        order[cursor[*c as usize]] = row as u32;
        cursor[*c as usize] += 1;
    }
    (offsets, order)
}

/// One code per row of `scored` then of `panel`, equal where the ids are equal: two key columns
/// of different frames coded together (Categorical columns are matched by their text). `rule`
/// names the requirement when the types cannot be compared; the other type is appended to it.
pub(crate) fn joint_codes(
    scored: &Column,
    panel: &Column,
    name: &str,
    rule: &str,
) -> Result<Vec<u32>> {
    let text = |d: &DataType| {
        matches!(
            d,
            DataType::String | DataType::Categorical(..) | DataType::Enum(..)
        )
    };
    let (a, b) = (scored.dtype(), panel.dtype());
    // Categorical columns of two frames need not share their dictionaries: match their text.
    let same = a == b && !matches!(a, DataType::Categorical(..) | DataType::Enum(..));
    if !(same || text(a) && text(b)) {
        return Err(crate::error::CsError::InvalidType {
            column: name.to_string(),
            dtype: crate::input::dtype_name(a),
            rule: format!("{rule} ({})", crate::input::dtype_name(b)),
        });
    }
    let as_text = |c: &Column| -> Result<Column> {
        Ok(if same {
            c.clone()
        } else {
            c.cast(&DataType::String)?
        })
    };
    let (mut both, panel) = (as_text(scored)?, as_text(panel)?);
    both.append(&panel)?;
    Ok(encode_column(&both)?.codes)
}
