//! The general path of [`super::rfm_summary`]: purchases grouped by customer (a counting sort)
//! in parallel over ranges of customers; each range scans every row but counts and places only
//! its own customers' purchases, so the ranges write disjoint parts of the output.

use super::{Log, Row, SummaryPart};
use crate::alloc::zeroed_buffer;
use crate::parallel::{parallel, work_ranges};

/// The summary parts of any log.
pub(super) fn grouped(log: &Log<'_>) -> Vec<SummaryPart> {
    let ranges = work_ranges(log.customers);
    let counted = parallel(ranges.clone(), |range| {
        let mut counts = vec![0u32; range.len()];
        let mut dropped = vec![0u32; if log.count_dropped { range.len() } else { 0 }];
        for (row, &s) in log.slots.iter().enumerate() {
            let s = s as usize;
            if range.contains(&s) {
                if !log.after(row) {
                    counts[s - range.start] += 1;
                } else if log.count_dropped {
                    dropped[s - range.start] += 1;
                }
            }
        }
        (counts, dropped)
    });
    let mut starts = Vec::with_capacity(log.customers + 1);
    starts.push(0usize);
    let mut dropped: Vec<u32> = Vec::new();
    for (counts, d) in counted {
        for n in counts {
            starts.push(starts[starts.len() - 1] + n as usize);
        }
        dropped.extend(d);
    }
    let total = starts[log.customers];
    let mut positions = zeroed_buffer::<i32>(total);
    let mut values = zeroed_buffer::<f64>(if log.amounts.is_some() { total } else { 0 });
    {
        let mut parts = Vec::with_capacity(ranges.len());
        let (mut p_rest, mut v_rest) = (&mut positions[..], &mut values[..]);
        for range in &ranges {
            let n = starts[range.end] - starts[range.start];
            let (p, p_tail) = std::mem::take(&mut p_rest).split_at_mut(n);
            let vn = if log.amounts.is_some() { n } else { 0 };
            let (v, v_tail) = std::mem::take(&mut v_rest).split_at_mut(vn);
            (p_rest, v_rest) = (p_tail, v_tail);
            parts.push((range.clone(), p, v));
        }
        let place = |(range, p, v): (std::ops::Range<usize>, &mut [i32], &mut [f64])| {
            let base = starts[range.start];
            let mut fill: Vec<usize> = starts[range.start..range.end]
                .iter()
                .map(|s| s - base)
                .collect();
            for (row, &s) in log.slots.iter().enumerate() {
                let s = s as usize;
                if range.contains(&s) && !log.after(row) {
                    let at = fill[s - range.start];
                    fill[s - range.start] += 1;
                    p[at] = log.merge.position(i64::from(log.days[row])) as i32;
                    if let Some(a) = log.amounts {
                        v[at] = a[row];
                    }
                }
            }
        };
        if parts.len() <= 1 {
            parts.into_iter().for_each(place);
        } else {
            std::thread::scope(|scope| {
                let place = &place;
                for part in parts {
                    scope.spawn(move || place(part));
                }
            });
        }
    }

    let summarise = |c: usize, sorted: &mut Vec<(i32, f64)>| -> Option<Row> {
        let (lo, hi) = (starts[c], starts[c + 1]);
        if hi == lo {
            return None;
        }
        let value_at = |i: usize| values.get(i).copied().unwrap_or(0.0);
        let sorted_input = positions[lo..hi].windows(2).all(|w| w[0] <= w[1]);
        if !sorted_input {
            sorted.clear();
            sorted.extend((lo..hi).map(|i| (positions[i], value_at(i))));
            sorted.sort_by_key(|p| p.0);
        }
        let pair = |k: usize| -> (i64, f64) {
            if sorted_input {
                (i64::from(positions[lo + k]), value_at(lo + k))
            } else {
                (i64::from(sorted[k].0), sorted[k].1)
            }
        };
        let (first, _) = pair(0);
        if first > log.split {
            return None;
        }
        let mut row = Row {
            age: log.split - first,
            ..Row::default()
        };
        let mut current = first;
        for k in 0..hi - lo {
            let (position, value) = pair(k);
            if position != current {
                current = position;
                if position <= log.split {
                    row.frequency += 1;
                    row.recency = position - first;
                } else {
                    row.holdout_frequency += 1;
                }
            }
            if position != first {
                if position <= log.split {
                    row.repeat_value += value;
                } else {
                    row.holdout_value += value;
                }
            }
        }
        Some(row)
    };
    // Each range of customers makes one chunk of every output column (no copy joins them).
    parallel(work_ranges(log.customers), |range| {
        let mut part = SummaryPart::with_capacity(range.len(), log.amounts.is_some(), log.holdout);
        let mut sorted = Vec::new();
        for c in range {
            let Some(row) = summarise(c, &mut sorted) else {
                continue;
            };
            part.push(c, &row, log.unit, log.count_dropped.then(|| dropped[c]));
        }
        part
    })
}
