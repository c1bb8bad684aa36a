//! Event tables: for each group, one row per distinct time at which a life enters or leaves,
//! with the (weighted) numbers leaving, dying and entering there.
//!
//! The rows are sorted once: every life becomes a 128-bit key (group, time, flags) that sorts by
//! group and then time (a non-negative float's bit pattern orders like the float), each thread
//! sorts and collapses its own range of rows, and the collapsed runs are merged. With many ties
//! (durations in whole days) the merge touches one cell per distinct (group, time) per thread.

use crate::parallel::{parallel, work_ranges};

use super::input::{Flags, Lives};

/// The group of each row: all rows in group 0 (no `by`, no id array), or one id per row.
#[derive(Clone, Copy)]
pub(crate) enum GroupIds<'a> {
    /// Every row is in group 0.
    One,
    /// Group id of each row.
    Each(&'a [u32]),
}

impl GroupIds<'_> {
    #[inline]
    fn of(self, row: usize) -> u32 {
        match self {
            GroupIds::One => 0,
            GroupIds::Each(ids) => ids[row],
        }
    }
}

/// One distinct time of a group's event table.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct TimeRow {
    /// The time.
    pub(crate) time: f64,
    /// Weight of the lives leaving at this time (events and censored).
    pub(crate) removed: f64,
    /// Weight of the lives ending in the event at this time.
    pub(crate) observed: f64,
    /// Weight of the lives entering at this time.
    pub(crate) entered: f64,
    /// Weight of the lives entering and leaving at this same time.
    pub(crate) instant: f64,
}

/// The event tables of all groups: group `g` owns `rows[starts[g]..starts[g + 1]]`.
pub(crate) struct EventTables {
    pub(crate) rows: Vec<TimeRow>,
    pub(crate) starts: Vec<usize>,
}

impl EventTables {
    /// The rows of group `g` (empty when the group has no weight).
    pub(crate) fn group(&self, g: usize) -> &[TimeRow] {
        match (self.starts.get(g), self.starts.get(g + 1)) {
            (Some(&a), Some(&b)) => &self.rows[a..b],
            _ => &[],
        }
    }
}

trait Record: Copy + Send + Sync {
    fn key(&self) -> u128;
    fn weight(&self) -> f64;
    fn sort(records: &mut [Self]);
}

impl Record for u128 {
    fn key(&self) -> u128 {
        *self
    }
    fn weight(&self) -> f64 {
        1.0
    }
    fn sort(records: &mut [Self]) {
        records.sort_unstable();
    }
}

impl Record for (u128, f64) {
    fn key(&self) -> u128 {
        self.0
    }
    fn weight(&self) -> f64 {
        self.1
    }
    fn sort(records: &mut [Self]) {
        records.sort_unstable_by_key(|r| r.0);
    }
}

const EVENT_FLAG: u128 = 1;
const INSTANT_FLAG: u128 = 2;

/// A collapsed (group, time) cell: `key` is `group << 64 | time bits`.
#[derive(Clone, Copy, Debug, Default)]
struct Cell {
    key: u128,
    total: f64,
    observed: f64,
    instant: f64,
}

impl Cell {
    fn group(&self) -> usize {
        (self.key >> 64) as usize
    }
    fn time(&self) -> f64 {
        f64::from_bits(self.key as u64)
    }
}

fn pack(group: u32, time: f64, flags: u128) -> u128 {
    // `+ 0.0` turns -0.0 into 0.0, so that both share one key.
    ((group as u128) << 66) | (((time + 0.0).to_bits() as u128) << 2) | flags
}

fn collapse_into(cells: &mut Vec<Cell>, key: u128, total: f64, observed: f64, instant: f64) {
    match cells.last_mut() {
        Some(last) if last.key == key => {
            last.total += total;
            last.observed += observed;
            last.instant += instant;
        }
        _ => cells.push(Cell {
            key,
            total,
            observed,
            instant,
        }),
    }
}

/// Sorted, collapsed cells of the records `make(row)` for all rows.
fn aggregate<R: Record>(rows: usize, make: impl Fn(usize) -> R + Sync) -> Vec<Cell> {
    let mut parts = parallel(work_ranges(rows), |range| {
        let mut records: Vec<R> = range.map(&make).collect();
        R::sort(&mut records);
        let mut cells: Vec<Cell> = Vec::new();
        for r in &records {
            let (key, w) = (r.key(), r.weight());
            let observed = if key & EVENT_FLAG != 0 { w } else { 0.0 };
            let instant = if key & INSTANT_FLAG != 0 { w } else { 0.0 };
            collapse_into(&mut cells, key >> 2, w, observed, instant);
        }
        cells
    });
    if parts.len() <= 1 {
        return parts.pop().unwrap_or_default();
    }
    let mut all: Vec<Cell> = parts.concat();
    // A stable sort finds the sorted runs of the parts and merges them.
    all.sort_by_key(|c| c.key);
    let mut merged: Vec<Cell> = Vec::with_capacity(all.len());
    for c in all {
        collapse_into(&mut merged, c.key, c.total, c.observed, c.instant);
    }
    merged
}

/// When every duration is a whole number and the (group, time) grid is small, the number of
/// time slots per group (`max duration + 1`); the tables are then counted into dense arrays
/// instead of sorted (entry times never exceed durations, so they fit the same grid).
fn dense_span(durations: &[f64], groups: usize) -> Option<usize> {
    let limit = (durations.len() / 4).clamp(1 << 16, 1 << 22);
    let parts = parallel(work_ranges(durations.len()), |range| {
        let mut max = 0.0f64;
        for &d in &durations[range] {
            // Durations are checked finite and >= 0; `as` truncates (cheaper than `fract`).
            if d > limit as f64 || (d as u64) as f64 != d {
                return None;
            }
            max = max.max(d);
        }
        Some(max)
    });
    let mut max = 0.0f64;
    for part in parts {
        max = max.max(part?);
    }
    let span = max as usize + 1;
    (span.checked_mul(groups.max(1))? <= limit).then_some(span)
}

/// A table of `cells` x `fields` sums, filled by `add(row, table)` for every row, in parallel
/// over row ranges (one table per range, then added up).
fn count_dense(
    rows: usize,
    cells: usize,
    fields: usize,
    add: impl Fn(usize, &mut [f64]) + Sync,
) -> Vec<f64> {
    let parts = parallel(work_ranges(rows), |range| {
        let mut table = vec![0.0; cells * fields];
        for row in range {
            add(row, &mut table);
        }
        table
    });
    let mut parts = parts.into_iter();
    let mut total = parts.next().unwrap_or_else(|| vec![0.0; cells * fields]);
    for part in parts {
        for (t, p) in total.iter_mut().zip(&part) {
            *t += p;
        }
    }
    total
}

fn all_whole(values: &[f64]) -> bool {
    parallel(work_ranges(values.len()), |range| {
        values[range].iter().all(|&v| (v as u64) as f64 == v)
    })
    .into_iter()
    .all(|whole| whole)
}

fn dense_key(cell: usize, span: usize) -> u128 {
    let (group, time) = (cell / span, (cell % span) as f64);
    ((group as u128) << 64) | (time.to_bits() as u128)
}

fn dense_exits(
    durations: &[f64],
    events: &Flags,
    entry: Option<&[f64]>,
    weights: Option<&[f64]>,
    ids: GroupIds<'_>,
    span: usize,
    groups: usize,
) -> Vec<Cell> {
    let cells = span * groups;
    let slot = |row: usize| 3 * (ids.of(row) as usize * span + durations[row] as usize);
    let table = match (entry, weights) {
        // The common case gets its own branch-free loop.
        (None, None) => count_dense(durations.len(), cells, 3, |row, table| {
            let at = slot(row);
            table[at] += 1.0;
            table[at + 1] += f64::from(u8::from(events.get(row)));
        }),
        _ => count_dense(durations.len(), cells, 3, |row, table| {
            let w = weights.map_or(1.0, |w| w[row]);
            let at = slot(row);
            table[at] += w;
            if events.get(row) {
                table[at + 1] += w;
            }
            if entry.is_some_and(|e| e[row] == durations[row]) {
                table[at + 2] += w;
            }
        }),
    };
    (0..cells)
        .filter(|&c| table[3 * c] > 0.0)
        .map(|c| Cell {
            key: dense_key(c, span),
            total: table[3 * c],
            observed: table[3 * c + 1],
            instant: table[3 * c + 2],
        })
        .collect()
}

fn dense_entries(
    entry: &[f64],
    weights: Option<&[f64]>,
    ids: GroupIds<'_>,
    span: usize,
    groups: usize,
) -> Vec<Cell> {
    let cells = span * groups;
    let table = count_dense(entry.len(), cells, 1, |row, table| {
        table[ids.of(row) as usize * span + entry[row] as usize] += weights.map_or(1.0, |w| w[row]);
    });
    (0..cells)
        .filter(|&c| table[c] > 0.0)
        .map(|c| Cell {
            key: dense_key(c, span),
            total: table[c],
            observed: 0.0,
            instant: 0.0,
        })
        .collect()
}

/// Builds the event table of every group.
///
/// Without an entry column every life enters at time 0, so each group's table starts with a row
/// at time 0 (as lifelines' timeline does). Lives of weight 0 create no time point of their own.
/// `ids` gives the group of each row, in `0..count`.
pub(crate) fn event_tables(lives: &Lives, ids: GroupIds<'_>, count: usize) -> EventTables {
    build(lives, ids, count, true)
}

fn build(lives: &Lives, ids: GroupIds<'_>, count: usize, allow_dense: bool) -> EventTables {
    let durations = lives.duration.slice();
    let events = &lives.event;
    let entry = lives.entry.as_ref().map(|v| v.slice());
    let weights = lives.weight.as_ref().map(|v| v.slice());
    let rows = durations.len();
    let exit_key = |row: usize| -> u128 {
        let mut flags = 0;
        if events.get(row) {
            flags |= EVENT_FLAG;
        }
        if entry.is_some_and(|e| e[row] == durations[row]) {
            flags |= INSTANT_FLAG;
        }
        pack(ids.of(row), durations[row], flags)
    };
    let dense = dense_span(durations, count).filter(|_| allow_dense && entry.is_none_or(all_whole));
    let mut exits = match (dense, weights) {
        (Some(span), _) => dense_exits(durations, events, entry, weights, ids, span, count),
        (None, None) => aggregate(rows, exit_key),
        (None, Some(w)) => aggregate(rows, |row| (exit_key(row), w[row])),
    };
    let entries: Vec<Cell> = match (entry, weights) {
        (Some(e), _) if dense.is_some() => {
            dense_entries(e, weights, ids, dense.unwrap_or(1), count)
        }
        (Some(e), None) => aggregate(rows, |row| pack(ids.of(row), e[row], 0)),
        (Some(e), Some(w)) => aggregate(rows, |row| (pack(ids.of(row), e[row], 0), w[row])),
        (None, _) => {
            // Everyone enters at 0: one cell per group (every group has a row) holding the
            // group's total weight.
            let mut totals = vec![0.0; count];
            for c in &exits {
                totals[c.group()] += c.total;
            }
            totals
                .iter()
                .enumerate()
                .map(|(g, &total)| Cell {
                    key: (g as u128) << 64,
                    total,
                    observed: 0.0,
                    instant: 0.0,
                })
                .collect()
        }
    };
    exits.retain(|c| c.total > 0.0);
    let keep_zero_entries = entry.is_none();
    let entries: Vec<Cell> = entries
        .into_iter()
        .filter(|c| keep_zero_entries || c.total > 0.0)
        .collect();

    // Merge the two sorted cell lists into the table rows.
    let mut table: Vec<TimeRow> = Vec::with_capacity(exits.len() + entries.len());
    let mut counts = vec![0usize; count + 1];
    let (mut i, mut j) = (0, 0);
    while i < exits.len() || j < entries.len() {
        let take_exit = j >= entries.len() || (i < exits.len() && exits[i].key <= entries[j].key);
        let take_entry = i >= exits.len() || (j < entries.len() && entries[j].key <= exits[i].key);
        let cell = if take_exit { exits[i] } else { entries[j] };
        let mut row = TimeRow {
            time: cell.time(),
            ..TimeRow::default()
        };
        if take_exit {
            row.removed = exits[i].total;
            row.observed = exits[i].observed;
            row.instant = exits[i].instant;
            i += 1;
        }
        if take_entry {
            row.entered = entries[j].total;
            j += 1;
        }
        counts[cell.group() + 1] += 1;
        table.push(row);
    }
    for g in 1..counts.len() {
        counts[g] += counts[g - 1];
    }
    EventTables {
        rows: table,
        starts: counts,
    }
}

/// The number at risk at each row of a group's table, as the estimators use it.
///
/// Lives count from the first row after their entry time, so a late entrant is not at risk at
/// its own entry time (lifelines' rule); at the table's first time everyone entering there is
/// at risk, and a life entering and leaving at the same time counts at that time.
pub(crate) fn at_risk(rows: &[TimeRow]) -> Vec<f64> {
    // Summed from the last time backwards: the lives still to leave at or after t_k, less those
    // entering after t_k (or at t_k and leaving later). Without late entries this is a sum of
    // non-negative weights only, so the number at risk at the last time equals the weight
    // leaving then exactly (a running total less what left would carry rounding error: weights
    // 0.001, 2, 2 would leave 1.9999999999999996 at risk for 2 events).
    let mut out = vec![0.0; rows.len()];
    let mut leaving = 0.0;
    let mut entering_later = 0.0;
    for (k, row) in rows.iter().enumerate().rev() {
        leaving += row.removed;
        let late_here = if k == 0 {
            0.0
        } else {
            row.entered - row.instant
        };
        let n = if entering_later == 0.0 && late_here == 0.0 {
            leaving
        } else {
            (leaving - entering_later - late_here).max(0.0)
        };
        out[k] = n;
        entering_later += row.entered;
    }
    out
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;
    use crate::survival::input::{read_groups, read_lives};

    type Tables = (Vec<TimeRow>, Vec<usize>);

    fn tables(frame: &DataFrame, dense: bool) -> crate::error::Result<Tables> {
        let lives = read_lives(frame, "d", "e", Some("entry"), Some("w"))?;
        let (_, groups) = read_groups(frame, &["g".to_string()])?;
        let t = build(&lives, GroupIds::Each(&groups.ids), groups.count(), dense);
        Ok((t.rows, t.starts))
    }

    #[test]
    fn counting_and_sorting_build_the_same_tables() -> crate::error::Result<()> {
        // Enough rows to split across threads, whole-number times, ties, entries and weights.
        let rows = 200_000;
        let d: Vec<f64> = (0..rows).map(|i| ((i * 7919) % 97) as f64).collect();
        let entry: Vec<f64> = d
            .iter()
            .enumerate()
            .map(|(i, &x)| if i % 3 == 0 { (x / 2.0).floor() } else { 0.0 })
            .collect();
        let frame = df!(
            "d" => &d,
            "e" => (0..rows).map(|i| i % 4 != 0).collect::<Vec<_>>(),
            "entry" => entry,
            "w" => (0..rows).map(|i| (i % 5) as f64 * 0.5).collect::<Vec<_>>(),
            "g" => (0..rows).map(|i| (i % 7) as i64).collect::<Vec<_>>(),
        )?;
        let (dense_rows, dense_starts) = tables(&frame, true)?;
        let (sorted_rows, sorted_starts) = tables(&frame, false)?;
        assert_eq!(dense_starts, sorted_starts);
        assert_eq!(dense_rows.len(), sorted_rows.len());
        for (a, b) in dense_rows.iter().zip(&sorted_rows) {
            assert_eq!(a.time, b.time);
            for (x, y) in [
                (a.removed, b.removed),
                (a.observed, b.observed),
                (a.entered, b.entered),
                (a.instant, b.instant),
            ] {
                assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{a:?} vs {b:?}");
            }
        }
        assert!(dense_rows.iter().any(|r| r.instant > 0.0));
        Ok(())
    }
}
