//! Rows counted into the cells of few-valued keys, chunk by chunk.
//!
//! Survey answers by the tens of millions are usually grouped by a segment of a few values and a
//! calendar period. Such keys need no code per row: a block of rows at a time gets its cells
//! (the keys' codes combined in mixed radix) in a small buffer and is counted at once, and every
//! column is read in the chunks it already has (a frame read from Parquet has one per row group),
//! so nothing the size of the input is allocated. A first pass finds each key's values;
//! [`CellKeys::prepare`] returns `None` where this does not apply (a key with many values, or of
//! a type read otherwise) and the caller takes the general path of [`crate::groups`].

mod key;
mod strings;
#[cfg(test)]
mod tests;

pub(crate) use key::{CellKey, Found};

use polars::prelude::*;

use crate::error::Result;
use crate::groups::EncodedKey;
use crate::period::Period;

use key::{Coder, Text};

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
