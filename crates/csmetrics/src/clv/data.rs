//! Reading and checking model inputs: the per-customer summary columns, collapsed to unique
//! patterns with weights so that every likelihood is a weighted sum over far fewer rows.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use polars::prelude::*;

use super::dual::Dual;
use super::gammagamma::SpendPatterns;
use crate::error::Result;
use crate::frame::format_number;
use crate::parallel::{parallel, threads};

/// Reads a numeric column as `f64`; null is an error naming the row.
pub fn float_column(frame: &DataFrame, name: &str, purpose: &str) -> Result<Vec<f64>> {
    let cast = crate::input::numbers(frame, name, crate::input::Role::Number, purpose)?;
    let ca = cast.f64()?;
    if ca.null_count() == 0 {
        // The common case, read as whole slices.
        let mut out = Vec::with_capacity(ca.len());
        for array in ca.downcast_iter() {
            out.extend_from_slice(array.values().as_slice());
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(ca.len());
    for (row, value) in ca.iter().enumerate() {
        match value {
            Some(v) => out.push(v),
            None => {
                return Err(invalid(
                    name,
                    row,
                    "null",
                    &format!("{purpose} may not be null"),
                ))
            }
        }
    }
    Ok(out)
}

pub(crate) use crate::input::invalid;

/// The names of the summary columns the models read.
#[derive(Debug, Clone)]
pub struct SummaryColumns {
    /// Repeat purchases x (default `frequency`).
    pub frequency: String,
    /// Time of the last purchase t_x from the first (default `recency`).
    pub recency: String,
    /// Time from the first purchase to the end of observation (default `T`); for BG/BB the
    /// number of transaction opportunities.
    pub age: String,
    /// Mean value of the repeat purchases (default `monetary_value`), for Gamma-Gamma.
    pub monetary_value: String,
    /// Optional column of customer counts per row (for data given as patterns).
    pub weights: Option<String>,
}

impl Default for SummaryColumns {
    fn default() -> Self {
        SummaryColumns {
            frequency: "frequency".into(),
            recency: "recency".into(),
            age: "T".into(),
            monetary_value: "monetary_value".into(),
            weights: None,
        }
    }
}

/// The customer count of each row: the weights column or ones.
pub fn weights(frame: &DataFrame, columns: &SummaryColumns) -> Result<Vec<f64>> {
    match &columns.weights {
        None => Ok(vec![1.0; frame.height()]),
        Some(name) => {
            let w = float_column(frame, name, "the number of customers of each row")?;
            if let Some(row) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(invalid(
                    name,
                    row,
                    format_number(w[row]),
                    "weights must be finite and non-negative",
                ));
            }
            Ok(w)
        }
    }
}

/// Unique (x, t_x, T) patterns with their total weight, and the
/// distinct x values (each pattern points to its x in that table).
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    /// x of each pattern.
    pub x: Vec<f64>,
    /// t_x of each pattern.
    pub recency: Vec<f64>,
    /// T of each pattern.
    pub age: Vec<f64>,
    /// Customers with the pattern.
    pub weight: Vec<f64>,
    /// Index of the pattern's x in `distinct_x`.
    pub x_index: Vec<u32>,
    /// The distinct values of x.
    pub distinct_x: Vec<f64>,
    /// Index of the pattern's t_x in `distinct_times`.
    pub recency_index: Vec<u32>,
    /// Index of the pattern's T in `distinct_times`.
    pub age_index: Vec<u32>,
    /// The distinct values of t_x and T together: terms like ln(α + t) are computed once per
    /// distinct time (a few hundred in data measured in days), not once per pattern.
    pub distinct_times: Vec<f64>,
}

impl Patterns {
    /// Collapses rows to patterns; rows of zero weight are left out. Distinct x and times are
    /// numbered in order of first appearance, and patterns are sorted by those numbers.
    pub fn from_rows(x: &[f64], recency: &[f64], age: &[f64], weight: &[f64]) -> Patterns {
        let mut xs: HashMap<u64, u32, FixedState> = HashMap::with_hasher(FixedState::with_seed(7));
        let mut times: HashMap<u64, u32, FixedState> =
            HashMap::with_hasher(FixedState::with_seed(11));
        let mut p = Patterns::default();
        // Whole numbers below this (days, say) are looked up in a table instead of hashed.
        const DIRECT: f64 = (1 << 22) as f64;
        let whole = |v: f64| (0.0..DIRECT).contains(&v) && v.fract() == 0.0;
        let direct = x.iter().chain(recency).chain(age).all(|&v| whole(v));
        let table_size = |v: &[f64]| {
            if direct {
                v.iter().fold(0.0f64, |m, &t| m.max(t)) as usize + 1
            } else {
                0
            }
        };
        let mut x_table = vec![u32::MAX; table_size(x)];
        let mut time_table = vec![u32::MAX; table_size(recency).max(table_size(age))];
        // Each row as one integer: the indexes of its x, t_x and T in the distinct values (a
        // few thousand at most in practice; 20 + 22 + 22 bits leave room for millions).
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(x.len());
        for i in 0..x.len() {
            if weight[i] == 0.0 {
                continue;
            }
            let next = p.distinct_x.len() as u32;
            let xi = if direct {
                let slot = &mut x_table[x[i] as usize];
                if *slot == u32::MAX {
                    *slot = next;
                    p.distinct_x.push(x[i]);
                }
                *slot
            } else {
                *xs.entry(x[i].to_bits()).or_insert_with(|| {
                    p.distinct_x.push(x[i]);
                    next
                })
            };
            let mut time_index = |t: f64| {
                let next = p.distinct_times.len() as u32;
                if direct {
                    let slot = &mut time_table[t as usize];
                    if *slot == u32::MAX {
                        *slot = next;
                        p.distinct_times.push(t);
                    }
                    *slot
                } else {
                    *times.entry(t.to_bits()).or_insert_with(|| {
                        p.distinct_times.push(t);
                        next
                    })
                }
            };
            let ri = time_index(recency[i]);
            let ai = time_index(age[i]);
            if xi >= 1 << 20 || ri >= 1 << 22 || ai >= 1 << 22 {
                return Self::from_rows_hashed(x, recency, age, weight);
            }
            let key = (u64::from(xi) << 44) | (u64::from(ri) << 22) | u64::from(ai);
            keys.push((key, i as u32));
        }
        // The indexes repacked in as many bits as the distinct values need, then a stable radix
        // sort by key groups equal patterns with their rows in order (weights add up in row
        // order).
        let width = |n: usize| usize::BITS - n.saturating_sub(1).leading_zeros();
        let (x_bits, time_bits) = (width(p.distinct_x.len()), width(p.distinct_times.len()));
        let mask = (1u64 << 22) - 1;
        for (key, _) in keys.iter_mut() {
            let (xi, ri, ai) = (*key >> 44, (*key >> 22) & mask, *key & mask);
            *key = (xi << (2 * time_bits)) | (ri << time_bits) | ai;
        }
        radix_sort(&mut keys, x_bits + 2 * time_bits);
        let time_mask = (1u64 << time_bits) - 1;
        let mut k = 0;
        while k < keys.len() {
            let (key, first_row) = keys[k];
            let row = first_row as usize;
            let mut total = 0.0;
            while k < keys.len() && keys[k].0 == key {
                total += weight[keys[k].1 as usize];
                k += 1;
            }
            p.x.push(x[row]);
            p.recency.push(recency[row]);
            p.age.push(age[row]);
            p.weight.push(total);
            p.x_index.push((key >> (2 * time_bits)) as u32);
            p.recency_index
                .push(((key >> time_bits) & time_mask) as u32);
            p.age_index.push((key & time_mask) as u32);
        }
        p
    }

    /// [`Patterns::from_rows`] for data with very many distinct values: one hash lookup per row.
    fn from_rows_hashed(x: &[f64], recency: &[f64], age: &[f64], weight: &[f64]) -> Patterns {
        let mut seen: HashMap<(u64, u64, u64), usize, FixedState> =
            HashMap::with_hasher(FixedState::with_seed(0xc1f));
        let mut xs: HashMap<u64, u32, FixedState> = HashMap::with_hasher(FixedState::with_seed(7));
        let mut times: HashMap<u64, u32, FixedState> =
            HashMap::with_hasher(FixedState::with_seed(11));
        let mut p = Patterns::default();
        for i in 0..x.len() {
            if weight[i] == 0.0 {
                continue;
            }
            let key = (x[i].to_bits(), recency[i].to_bits(), age[i].to_bits());
            match seen.get(&key) {
                Some(&k) => p.weight[k] += weight[i],
                None => {
                    seen.insert(key, p.x.len());
                    let next = p.distinct_x.len() as u32;
                    let xi = *xs.entry(x[i].to_bits()).or_insert_with(|| {
                        p.distinct_x.push(x[i]);
                        next
                    });
                    let mut time_index = |t: f64| {
                        let next = p.distinct_times.len() as u32;
                        *times.entry(t.to_bits()).or_insert_with(|| {
                            p.distinct_times.push(t);
                            next
                        })
                    };
                    let ri = time_index(recency[i]);
                    let ai = time_index(age[i]);
                    p.recency_index.push(ri);
                    p.age_index.push(ai);
                    p.x.push(x[i]);
                    p.recency.push(recency[i]);
                    p.age.push(age[i]);
                    p.weight.push(weight[i]);
                    p.x_index.push(xi);
                }
            }
        }
        p
    }

    /// Every `step`-th pattern (a systematic subsample for a warm start).
    pub fn every(&self, step: usize) -> Patterns {
        fn pick<T: Copy>(v: &[T], step: usize) -> Vec<T> {
            v.iter().step_by(step.max(1)).copied().collect()
        }
        Patterns {
            x: pick(&self.x, step),
            recency: pick(&self.recency, step),
            age: pick(&self.age, step),
            weight: pick(&self.weight, step),
            x_index: pick(&self.x_index, step),
            distinct_x: self.distinct_x.clone(),
            recency_index: pick(&self.recency_index, step),
            age_index: pick(&self.age_index, step),
            distinct_times: self.distinct_times.clone(),
        }
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Total weight (customers).
    pub fn total_weight(&self) -> f64 {
        self.weight.iter().sum()
    }
}

/// Stable LSD radix sort of (key, row) pairs by the low `bits` bits of the key.
fn radix_sort(pairs: &mut Vec<(u64, u32)>, bits: u32) {
    const DIGIT: u32 = 11;
    const MASK: u64 = (1 << DIGIT) - 1;
    let mut buffer = vec![(0u64, 0u32); pairs.len()];
    let mut shift = 0;
    while shift < bits {
        let mut starts = vec![0usize; 1 << DIGIT];
        for (key, _) in pairs.iter() {
            starts[((key >> shift) & MASK) as usize] += 1;
        }
        let mut total = 0;
        for start in starts.iter_mut() {
            let n = *start;
            *start = total;
            total += n;
        }
        for &pair in pairs.iter() {
            let digit = ((pair.0 >> shift) & MASK) as usize;
            buffer[starts[digit]] = pair;
            starts[digit] += 1;
        }
        std::mem::swap(pairs, &mut buffer);
        shift += DIGIT;
    }
}

/// Checks the continuous-time summary rules: x a whole number >= 0, 0 <= t_x <= T, t_x = 0
/// when x = 0, all finite.
pub fn check_continuous(
    columns: &SummaryColumns,
    x: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<()> {
    for row in 0..x.len() {
        let (xi, ri, ti) = (x[row], recency[row], age[row]);
        if !(xi.is_finite() && xi >= 0.0 && xi.fract() == 0.0) {
            return Err(invalid(
                &columns.frequency,
                row,
                format_number(xi),
                "frequency (repeat purchases) must be a whole number >= 0",
            ));
        }
        if !(ti.is_finite() && ti >= 0.0) {
            return Err(invalid(
                &columns.age,
                row,
                format_number(ti),
                "T (time from the first purchase to the end of observation) must be finite and >= 0",
            ));
        }
        if !(ri.is_finite() && ri >= 0.0 && ri <= ti) {
            return Err(invalid(
                &columns.recency,
                row,
                format_number(ri),
                &format!("recency must lie between 0 and T ({})", format_number(ti)),
            ));
        }
        if xi == 0.0 && ri != 0.0 {
            return Err(invalid(
                &columns.recency,
                row,
                format_number(ri),
                "recency must be 0 when frequency is 0",
            ));
        }
    }
    Ok(())
}

/// Patterns per block of a likelihood sum. Fixed, so that the order of additions (and so the
/// bits of the result) never depends on the number of threads.
const BLOCK: usize = 2048;

/// `sum over i < count of term(i)`, in parallel, in a fixed order of additions.
pub fn block_sum<const N: usize>(count: usize, term: impl Fn(usize) -> Dual<N> + Sync) -> Dual<N> {
    let blocks = count.div_ceil(BLOCK);
    let workers = if count >= 4 * BLOCK { threads() } else { 1 };
    let per_worker = blocks.div_ceil(workers.max(1)).max(1);
    let ranges: Vec<std::ops::Range<usize>> = (0..blocks)
        .step_by(per_worker)
        .map(|b| b..(b + per_worker).min(blocks))
        .collect();
    let partials = parallel(ranges, |range| {
        range
            .map(|block| {
                let lo = block * BLOCK;
                let hi = (lo + BLOCK).min(count);
                let mut acc = Dual::<N>::constant(0.0);
                for i in lo..hi {
                    acc = acc + term(i);
                }
                acc
            })
            .collect::<Vec<_>>()
    });
    let mut total = Dual::<N>::constant(0.0);
    for block in partials.into_iter().flatten() {
        total = total + block;
    }
    total
}

/// Runs `f` over every row in parallel and collects the values in row order.
pub fn per_row(rows: usize, f: impl Fn(usize) -> f64 + Sync) -> Vec<f64> {
    let mut out = crate::alloc::zeroed_buffer::<f64>(rows);
    crate::parallel::parallel_fill(&mut out, |first, values| {
        for (i, v) in values.iter_mut().enumerate() {
            *v = f(first + i);
        }
    });
    out
}

/// Reads the (x, t_x, T) summary of `frame` as checked, weighted patterns.
pub fn summary_patterns(frame: &DataFrame, columns: &SummaryColumns) -> Result<Patterns> {
    let x = float_column(frame, &columns.frequency, "repeat purchases (frequency)")?;
    let recency = float_column(
        frame,
        &columns.recency,
        "the time of the last purchase (recency)",
    )?;
    let age = float_column(frame, &columns.age, "the time since the first purchase (T)")?;
    check_continuous(columns, &x, &recency, &age)?;
    let w = weights(frame, columns)?;
    Ok(Patterns::from_rows(&x, &recency, &age, &w))
}

/// Checks the shifted-beta-geometric input: at least three periods, finite, non-negative,
/// never increasing, a positive cohort size.
pub fn check_alive(name: &str, alive: &[f64]) -> Result<()> {
    if alive.len() < 3 {
        return Err(invalid(
            name,
            0,
            format!("{} rows", alive.len()),
            "the shifted-beta-geometric model needs the cohort size and at least two later periods",
        ));
    }
    for (row, v) in alive.iter().enumerate() {
        if !(v.is_finite() && *v >= 0.0) || row > 0 && *v > alive[row - 1] {
            return Err(invalid(
                name,
                row,
                format_number(*v),
                "customers still active must be finite, >= 0 and never increase",
            ));
        }
    }
    if alive[0] <= 0.0 {
        return Err(invalid(
            name,
            0,
            format_number(alive[0]),
            "the cohort size must be > 0",
        ));
    }
    Ok(())
}

/// Reads the BG/BB (x, t_x, n) patterns: whole numbers with x <= t_x <= n and t_x = 0 when x = 0.
pub fn discrete_patterns(frame: &DataFrame, columns: &SummaryColumns) -> Result<Patterns> {
    let x = float_column(frame, &columns.frequency, "transactions (frequency)")?;
    let recency = float_column(
        frame,
        &columns.recency,
        "the opportunity of the last transaction",
    )?;
    let n = float_column(
        frame,
        &columns.age,
        "the number of transaction opportunities",
    )?;
    for row in 0..x.len() {
        let whole = |v: f64| v.is_finite() && v >= 0.0 && v.fract() == 0.0;
        if !whole(n[row]) {
            return Err(invalid(
                &columns.age,
                row,
                format_number(n[row]),
                "opportunities must be a whole number >= 0",
            ));
        }
        if !(whole(recency[row]) && recency[row] <= n[row]) {
            return Err(invalid(
                &columns.recency,
                row,
                format_number(recency[row]),
                "recency must be a whole number from 0 to the opportunities",
            ));
        }
        if !(whole(x[row]) && x[row] <= recency[row] && (x[row] > 0.0 || recency[row] == 0.0)) {
            return Err(invalid(
                &columns.frequency,
                row,
                format_number(x[row]),
                "frequency must be a whole number, at most recency, and 0 only with recency 0",
            ));
        }
    }
    let w = weights(frame, columns)?;
    Ok(Patterns::from_rows(&x, &recency, &n, &w))
}

/// Reads the Gamma-Gamma (x, m̄) pairs of the customers with x > 0.
pub(crate) fn spend_patterns(frame: &DataFrame, columns: &SummaryColumns) -> Result<SpendPatterns> {
    let x = float_column(frame, &columns.frequency, "repeat purchases (frequency)")?;
    let w = weights(frame, columns)?;
    let cast = crate::input::numbers(
        frame,
        &columns.monetary_value,
        crate::input::Role::Number,
        "the mean repeat purchase value",
    )?;
    let values = cast.f64()?;
    let (mut xs, mut means, mut ws) = (Vec::new(), Vec::new(), Vec::new());
    for (row, m) in values.iter().enumerate() {
        let xi = x[row];
        if !(xi.is_finite() && xi >= 0.0 && xi.fract() == 0.0) {
            return Err(invalid(
                &columns.frequency,
                row,
                format_number(xi),
                "frequency must be a whole number >= 0",
            ));
        }
        if xi == 0.0 || w[row] == 0.0 {
            continue;
        }
        match m {
            Some(m) if m.is_finite() && m > 0.0 => {
                xs.push(xi);
                means.push(m);
                ws.push(w[row]);
            }
            other => {
                return Err(invalid(
                    &columns.monetary_value,
                    row,
                    other.map_or("null".to_string(), format_number),
                    "Gamma-Gamma needs a finite mean repeat purchase value > 0 for every customer with frequency > 0",
                ))
            }
        }
    }
    Ok(SpendPatterns::new(xs, means, ws))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The patterns as a sorted list of (x, t_x, T, weight), with each index checked against
    /// the value it points to.
    fn listed(p: &Patterns) -> Vec<(u64, u64, u64, u64)> {
        let mut out: Vec<_> = (0..p.len())
            .map(|i| {
                assert_eq!(p.distinct_x[p.x_index[i] as usize], p.x[i]);
                assert_eq!(p.distinct_times[p.recency_index[i] as usize], p.recency[i]);
                assert_eq!(p.distinct_times[p.age_index[i] as usize], p.age[i]);
                (
                    p.x[i].to_bits(),
                    p.recency[i].to_bits(),
                    p.age[i].to_bits(),
                    p.weight[i].to_bits(),
                )
            })
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn sorted_and_hashed_patterns_agree() {
        let mut state = 12345u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let rows = 5000;
        let (mut x, mut rec, mut age, mut w) = (vec![], vec![], vec![], vec![]);
        for _ in 0..rows {
            let t = 20.0 + next(5) as f64;
            let xi = next(4) as f64;
            x.push(xi);
            rec.push(if xi == 0.0 { 0.0 } else { next(20) as f64 });
            age.push(t);
            w.push([0.0, 1.0, 2.5][next(3) as usize]);
        }
        let sorted = Patterns::from_rows(&x, &rec, &age, &w);
        let hashed = Patterns::from_rows_hashed(&x, &rec, &age, &w);
        assert_eq!(listed(&sorted), listed(&hashed));
        // Every row of positive weight is in a pattern; weights add up.
        let total: f64 = w.iter().sum();
        assert_eq!(sorted.total_weight(), total);
        assert!(sorted.len() < rows / 2);
        // A hand-made case: two rows of one pattern, one of another, one of zero weight.
        let p = Patterns::from_rows(
            &[1.0, 0.0, 1.0, 2.0],
            &[3.0, 0.0, 3.0, 4.0],
            &[5.0, 5.0, 5.0, 5.0],
            &[1.0, 2.0, 0.5, 0.0],
        );
        assert_eq!(p.len(), 2);
        assert_eq!(p.x, vec![1.0, 0.0]);
        assert_eq!(p.weight, vec![1.5, 2.0]);
        assert_eq!(p.distinct_times, vec![3.0, 5.0, 0.0]);
    }
}
