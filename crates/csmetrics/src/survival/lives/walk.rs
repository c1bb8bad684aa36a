//! The general path of [`survival_table`](super::survival_table): each customer's rows walked
//! into lives (gaps bridged, censoring at `as_of`), first lives or all of them.

use std::ops::Range;

use polars::prelude::*;

use crate::alloc::zeroed_buffer;
use crate::parallel::{parallel, work_ranges};
use crate::revenue::input::Normalised;
use crate::revenue::rows_by_customer;

/// Where each customer's rows are.
pub(super) enum CustomerRows {
    /// The table is grouped by customer: a range of customers is a range of rows, walked in
    /// order (no index is built).
    Sequential,
    /// Rows of customer `c` are `order[offsets[c]..offsets[c + 1]]`.
    Offsets {
        offsets: Vec<usize>,
        order: Vec<u32>,
    },
}

/// Finds each customer's rows, building no index when the table is already grouped by customer.
pub(super) fn customer_rows(data: &Normalised) -> CustomerRows {
    let codes = &data.customer;
    let grouped = parallel(work_ranges(codes.len()), |range| {
        let lo = range.start.saturating_sub(1);
        codes[lo..range.end].windows(2).all(|w| w[0] <= w[1])
    })
    .into_iter()
    .all(|ok| ok);
    if grouped {
        return CustomerRows::Sequential;
    }
    let (offsets, order) = rows_by_customer(data);
    CustomerRows::Offsets { offsets, order }
}

/// The life that starts with `spans[from]` (spans sorted by start): later spans continue it
/// while they overlap it, touch it or follow a gap shorter than `tolerance`. Returns the index
/// of the first span after it and the life's (start, end).
pub(super) fn merged_life(
    spans: &[(i64, i64)],
    from: usize,
    tolerance: i64,
) -> (usize, (i64, i64)) {
    let (start, mut end) = spans[from];
    let mut next = from + 1;
    while next < spans.len() {
        let (s, e) = spans[next];
        if !(s <= end || s - end < tolerance) {
            break;
        }
        end = end.max(e);
        next += 1;
    }
    (next, (start, end))
}

/// The rules that turn a customer's subscriptions into lives.
pub(super) struct LifeRules<'a> {
    pub(super) data: &'a Normalised,
    pub(super) rows: &'a CustomerRows,
    pub(super) as_of: i64,
    pub(super) tolerance: i64,
    pub(super) all: bool,
    pub(super) observed_from: Option<i64>,
    pub(super) unit: f64,
}

/// One life: its number within the customer, start, end (at most `as_of`) and whether it ended.
struct Life {
    index: u32,
    start: i64,
    end: i64,
    ended: bool,
}

impl LifeRules<'_> {
    /// Calls `visit(customer, life)` for each life of the customers (codes, in id order) in
    /// `customers`, customer after customer and life after life.
    fn walk(&self, customers: Range<usize>, mut visit: impl FnMut(usize, Life)) {
        let data = self.data;
        let mut spans: Vec<(i64, i64)> = Vec::new();
        // With `Sequential` rows, the cursor walks the rows of consecutive customers.
        let mut cursor = data
            .customer
            .partition_point(|c| (*c as usize) < customers.start);
        for customer in customers {
            spans.clear();
            let mut take = |r: usize| {
                // $0 subscriptions (unless free_is_active) come with `end == start`.
                if data.start[r] <= self.as_of && data.end[r] > data.start[r] {
                    spans.push((data.start[r], data.end[r]));
                }
            };
            match self.rows {
                CustomerRows::Sequential => {
                    while cursor < data.customer.len() && data.customer[cursor] as usize == customer
                    {
                        take(cursor);
                        cursor += 1;
                    }
                }
                CustomerRows::Offsets { offsets, order } => order
                    [offsets[customer]..offsets[customer + 1]]
                    .iter()
                    .for_each(|&r| take(r as usize)),
            }
            if spans.len() > 1 {
                spans.sort_unstable();
            }
            let mut index = 0u32;
            let mut close = |(start, end): (i64, i64)| {
                let ended = end <= self.as_of;
                let end = end.min(self.as_of);
                // Lives over before observation starts are not seen (left truncation); their
                // number still counts.
                if !self.observed_from.is_some_and(|from| ended && end <= from) {
                    let life = Life {
                        index,
                        start,
                        end,
                        ended,
                    };
                    visit(customer, life);
                }
                index += 1;
            };
            let mut next = 0;
            while next < spans.len() {
                let (after, life) = merged_life(&spans, next, self.tolerance);
                close(life);
                if !self.all {
                    break;
                }
                next = after;
            }
        }
    }

    fn duration(&self, life: &Life) -> f64 {
        (life.end - life.start) as f64 / self.unit
    }

    fn entry(&self, life: &Life) -> f64 {
        self.observed_from
            .map_or(0.0, |from| (from - life.start).max(0) as f64 / self.unit)
    }
}

/// The output columns, each in one buffer.
#[derive(Default)]
pub(super) struct LivesColumns {
    /// Customer code of each life; `None` when the lives are exactly the customers in code order.
    pub(super) codes: Option<Vec<IdxSize>>,
    /// Life numbers; `None` when every life is a first life.
    pub(super) index: Option<Vec<u32>>,
    pub(super) start: Vec<i64>,
    pub(super) duration: Vec<f64>,
    pub(super) event: Vec<bool>,
    /// Entry times; `None` when all are 0.
    pub(super) entry: Option<Vec<f64>>,
}

/// First lives: at most one per customer, written straight into buffers with a slot per
/// customer, then closed up over the customers without a life.
pub(super) fn first_lives(rules: &LifeRules<'_>, customers: usize) -> LivesColumns {
    let ranges = work_ranges(customers);
    // Zeroed allocations: pages are only touched when written.
    let mut start = zeroed_buffer::<i64>(customers);
    let mut duration = zeroed_buffer::<f64>(customers);
    let mut event = zeroed_buffer::<bool>(customers);
    let mut entry = rules.observed_from.map(|_| zeroed_buffer::<f64>(customers));
    struct Part<'b> {
        range: Range<usize>,
        start: &'b mut [i64],
        duration: &'b mut [f64],
        event: &'b mut [bool],
        entry: Option<&'b mut [f64]>,
    }
    let mut parts = Vec::with_capacity(ranges.len());
    {
        let (mut s, mut d, mut e) = (&mut start[..], &mut duration[..], &mut event[..]);
        let mut en = entry.as_deref_mut();
        for range in ranges {
            let n = range.len();
            let (s0, s1) = std::mem::take(&mut s).split_at_mut(n);
            let (d0, d1) = std::mem::take(&mut d).split_at_mut(n);
            let (e0, e1) = std::mem::take(&mut e).split_at_mut(n);
            let (en0, en1) = match en.take() {
                Some(x) => {
                    let (a, b) = x.split_at_mut(n);
                    (Some(a), Some(b))
                }
                None => (None, None),
            };
            (s, d, e, en) = (s1, d1, e1, en1);
            parts.push(Part {
                range,
                start: s0,
                duration: d0,
                event: e0,
                entry: en0,
            });
        }
    }
    let fill = |mut part: Part<'_>| -> (usize, Vec<usize>) {
        let mut written = 0usize;
        let mut without: Vec<usize> = Vec::new();
        let mut expected = part.range.start;
        rules.walk(part.range.clone(), |customer, life| {
            without.extend(expected..customer);
            expected = customer + 1;
            part.start[written] = life.start;
            part.duration[written] = rules.duration(&life);
            part.event[written] = life.ended;
            if let Some(entry) = part.entry.as_deref_mut() {
                entry[written] = rules.entry(&life);
            }
            written += 1;
        });
        without.extend(expected..part.range.end);
        (written, without)
    };
    let results: Vec<(usize, Vec<usize>)> = if parts.len() <= 1 {
        parts.into_iter().map(fill).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .into_iter()
                .map(|part| scope.spawn(|| fill(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let total: usize = results.iter().map(|r| r.0).sum();
    let mut codes = None;
    if total < customers {
        // Close up: each range's lives move to follow the previous range's.
        let mut to = 0usize;
        let mut from = 0usize;
        let mut skipped: Vec<usize> = Vec::new();
        for (range, (written, without)) in work_ranges(customers).into_iter().zip(&results) {
            if to != from {
                start.copy_within(from..from + written, to);
                duration.copy_within(from..from + written, to);
                event.copy_within(from..from + written, to);
                if let Some(entry) = entry.as_mut() {
                    entry.copy_within(from..from + written, to);
                }
            }
            to += written;
            from += range.len();
            skipped.extend(without);
        }
        start.truncate(total);
        duration.truncate(total);
        event.truncate(total);
        if let Some(entry) = entry.as_mut() {
            entry.truncate(total);
        }
        // Customers in code order, less those without a life.
        let mut kept = Vec::with_capacity(total);
        let mut next = skipped.iter().peekable();
        for c in 0..customers {
            if next.peek() == Some(&&c) {
                next.next();
            } else {
                kept.push(c as IdxSize);
            }
        }
        codes = Some(kept);
    }
    LivesColumns {
        codes,
        index: None,
        start,
        duration,
        event,
        entry,
    }
}

/// Every life: per-range buffers, joined once.
pub(super) fn all_lives(rules: &LifeRules<'_>, customers: usize) -> LivesColumns {
    let parts = parallel(work_ranges(customers), |range| {
        let mut out = LivesColumns {
            codes: Some(Vec::with_capacity(range.len())),
            index: Some(Vec::with_capacity(range.len())),
            entry: rules.observed_from.map(|_| Vec::with_capacity(range.len())),
            ..Default::default()
        };
        rules.walk(range, |customer, life| {
            if let Some(codes) = out.codes.as_mut() {
                codes.push(customer as IdxSize);
            }
            if let Some(index) = out.index.as_mut() {
                index.push(life.index);
            }
            out.start.push(life.start);
            out.duration.push(rules.duration(&life));
            out.event.push(life.ended);
            if let Some(entry) = out.entry.as_mut() {
                entry.push(rules.entry(&life));
            }
        });
        out
    });
    let mut parts = parts.into_iter();
    let mut joined = parts.next().unwrap_or_default();
    for part in parts {
        if let (Some(a), Some(b)) = (joined.codes.as_mut(), part.codes) {
            a.extend(b);
        }
        if let (Some(a), Some(b)) = (joined.index.as_mut(), part.index) {
            a.extend(b);
        }
        joined.start.extend(part.start);
        joined.duration.extend(part.duration);
        joined.event.extend(part.event);
        if let (Some(a), Some(b)) = (joined.entry.as_mut(), part.entry) {
            a.extend(b);
        }
    }
    joined
}
