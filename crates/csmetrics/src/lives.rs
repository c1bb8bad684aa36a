//! Customer lives for survival analysis (docs/metrics/survival.md#lives): a life runs from a
//! customer's first start to the first instant it has no active subscription, with gaps shorter
//! than a tolerance bridged; durations are censored at `as_of`, and nothing after `as_of` is read.

use std::ops::Range;
use std::str::FromStr;

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray};

use crate::alloc::zeroed_buffer;
use crate::error::{CsError, Result};
use crate::parallel::{parallel, work_ranges};
use crate::revenue::input::{lives_input, Normalised};
use crate::revenue::{
    build_grid, check_options, rows_by_customer, RevenueInput, RevenueOptions, DAY,
};

/// Which lives of a customer to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lives {
    /// Only the first life (default).
    #[default]
    First,
    /// Every life: each reactivation after a gap starts a new one.
    All,
}

impl FromStr for Lives {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "first" => Ok(Self::First),
            "all" => Ok(Self::All),
            other => Err(CsError::option(
                "lives",
                format!("'{other}'"),
                "expected 'first' or 'all'",
            )),
        }
    }
}

/// The unit of durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DurationUnit {
    /// Days (default).
    #[default]
    Day,
    /// Weeks of 7 days.
    Week,
    /// Months of 365/12 days.
    Month,
    /// Years of 365 days.
    Year,
}

impl DurationUnit {
    fn micros(self) -> f64 {
        let day = DAY as f64;
        match self {
            DurationUnit::Day => day,
            DurationUnit::Week => 7.0 * day,
            DurationUnit::Month => 365.0 / 12.0 * day,
            DurationUnit::Year => 365.0 * day,
        }
    }
}

impl FromStr for DurationUnit {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            "year" => Ok(Self::Year),
            other => Err(CsError::option(
                "unit",
                format!("'{other}'"),
                "expected 'day', 'week', 'month' or 'year'",
            )),
        }
    }
}

/// Options of [`survival_table`].
#[derive(Debug, Clone)]
pub struct SurvivalTableOptions {
    /// Input table, as_of, free_is_active, by, and `first_period` as the start of observation
    /// (lives already running then enter late: left truncation).
    pub panel: RevenueOptions,
    /// Gaps shorter than this many days are bridged. Default 0 (only touching or overlapping
    /// subscriptions continue a life).
    pub gap_tolerance_days: f64,
    /// First life only, or all.
    pub lives: Lives,
    /// Unit of `duration` and `entry`.
    pub unit: DurationUnit,
}

impl Default for SurvivalTableOptions {
    fn default() -> Self {
        SurvivalTableOptions {
            panel: RevenueOptions::default(),
            gap_tolerance_days: 0.0,
            lives: Lives::First,
            unit: DurationUnit::Day,
        }
    }
}

/// Where each customer's rows are.
enum CustomerRows {
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
fn customer_rows(data: &Normalised) -> CustomerRows {
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
fn merged_life(spans: &[(i64, i64)], from: usize, tolerance: i64) -> (usize, (i64, i64)) {
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
struct LifeRules<'a> {
    data: &'a Normalised,
    rows: &'a CustomerRows,
    as_of: i64,
    tolerance: i64,
    all: bool,
    observed_from: Option<i64>,
    unit: f64,
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
struct LivesColumns {
    /// Customer code of each life; `None` when the lives are exactly the customers in code order.
    codes: Option<Vec<IdxSize>>,
    /// Life numbers; `None` when every life is a first life.
    index: Option<Vec<u32>>,
    start: Vec<i64>,
    duration: Vec<f64>,
    event: Vec<bool>,
    /// Entry times; `None` when all are 0.
    entry: Option<Vec<f64>>,
}

/// First lives: at most one per customer, written straight into buffers with a slot per
/// customer, then closed up over the customers without a life.
fn first_lives(rules: &LifeRules<'_>, customers: usize) -> LivesColumns {
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
fn all_lives(rules: &LifeRules<'_>, customers: usize) -> LivesColumns {
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

/// First lives straight from a subscriptions table sorted by an integer customer id, with Date
/// starts and ends: one parallel pass over the rows, each range of rows cut at a change of
/// customer, with no customer codes, no index and no conversion of whole columns. `None` when
/// the table is not of that kind or any row breaks a rule (the general path then reads it and
/// reports the error).
fn first_lives_of_sorted_table(
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

/// One row per customer life: the customer id, the `by` keys, `life` (0 for the first),
/// `start` (Datetime, UTC), `duration` (in `unit`, from the life's start to its end or `as_of`),
/// `event` (true when the life ended by `as_of`, false when censored) and `entry` (0, or the
/// time from the life's start to the start of observation when `first_period` is later).
/// A subscription counts while its amount is positive (or always, with `free_is_active`).
/// Rows are sorted by customer id, then life.
pub fn survival_table(frame: &DataFrame, options: &SurvivalTableOptions) -> Result<DataFrame> {
    if !(options.gap_tolerance_days >= 0.0 && options.gap_tolerance_days.is_finite()) {
        return Err(CsError::option(
            "gap_tolerance",
            options.gap_tolerance_days,
            "a gap tolerance must be >= 0 days",
        ));
    }
    check_options(&options.panel)?;
    crate::revenue::input::check_billing_columns(frame, &options.panel)?;
    if let Some(table) = first_lives_of_sorted_table(frame, options)? {
        return Ok(table);
    }
    let data = lives_input(frame, &options.panel)?;
    let grid = build_grid(&data, &options.panel)?;
    let customers = data.customer_labels.len();
    let rows = customer_rows(&data);
    // Customers are visited in the order of their ids, so the lives come out sorted by customer
    // (and by life within a customer) without a sort of the output.
    let rules = LifeRules {
        data: &data,
        rows: &rows,
        as_of: grid.as_of,
        tolerance: (options.gap_tolerance_days * DAY as f64).round() as i64,
        all: options.lives == Lives::All,
        observed_from: options.panel.first_period,
        unit: options.unit.micros(),
    };
    let lives = match options.lives {
        Lives::First => first_lives(&rules, customers),
        Lives::All => all_lives(&rules, customers),
    };
    let total = lives.start.len();
    let codes = lives.codes.map(|codes| IdxCa::from_vec("".into(), codes));
    // Without codes, the lives are exactly the customers in code order: the ids are the labels.
    let mut columns = vec![match &codes {
        None => data.customer_labels.clone(),
        Some(codes) => data
            .customer_labels
            .as_materialized_series()
            .take(codes)?
            .into_column(),
    }];
    if data.group_keys.width() > 0 {
        let rank = |c: usize| data.group_rank[data.customer_group[c] as usize] as IdxSize;
        let ranks: Vec<IdxSize> = match &codes {
            None => (0..customers).map(rank).collect(),
            Some(codes) => codes
                .into_no_null_iter()
                .map(|c| rank(c as usize))
                .collect(),
        };
        columns.extend(
            data.group_keys
                .take(&IdxCa::from_vec("".into(), ranks))?
                .into_columns(),
        );
    }
    // Zero-filled columns are allocated zeroed and never written (their pages stay untouched).
    // `from_vec` takes the buffers over (`Column::new` would copy them).
    columns.push(
        UInt32Chunked::from_vec(
            "life".into(),
            lives.index.unwrap_or_else(|| vec![0u32; total]),
        )
        .into_column(),
    );
    columns.push(
        Int64Chunked::from_vec("start".into(), lives.start)
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column(),
    );
    columns.push(Float64Chunked::from_vec("duration".into(), lives.duration).into_column());
    columns.push(Column::new("event".into(), lives.event));
    columns.push(
        Float64Chunked::from_vec(
            "entry".into(),
            lives.entry.unwrap_or_else(|| vec![0f64; total]),
        )
        .into_column(),
    );
    Ok(DataFrame::new(total, columns)?)
}
