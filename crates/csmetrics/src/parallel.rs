//! Row-parallel loops: contiguous work ranges over scoped threads, results in range order,
//! so that no result depends on the number of threads.

use std::ops::Range;

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
