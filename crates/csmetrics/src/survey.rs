//! Survey metrics: Net Promoter Score (with confidence intervals and two-sample comparison),
//! CSAT and CES, as defined in docs/metrics/survey.md.
//!
//! Every metric is computed from a per-group histogram of valid scores plus the counts of missing
//! (null) and invalid answers. The frame functions build the histograms with one Polars group-by
//! over (groups, score), so invalid values are checked once per distinct score, not once per row.
//! The series functions ([`nps_of_series`], ...) back the expression plugins.

use std::str::FromStr;

use polars::prelude::*;

use crate::cells::{self, CellKeys};
use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{
    chunks, encode_column, group_rows, parallel, sorted_keys, threads, work_ranges, EncodedKey,
    Groups,
};
use crate::input::{self, Role};
use crate::period::{period_key, Period};
use crate::stats::{two_sided_p, z_for_confidence};

/// What to do with a score that is outside the scale, not a whole number, or NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvalidPolicy {
    /// Fail with an error naming the column, the rule, the value and its row (default).
    #[default]
    Raise,
    /// Leave the answer out of `n` and count it in `invalid`.
    Drop,
    /// Treat the answer as missing: leave it out of `n` and count it in `missing`.
    Null,
}

impl FromStr for InvalidPolicy {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "raise" => Ok(Self::Raise),
            "drop" => Ok(Self::Drop),
            "null" => Ok(Self::Null),
            other => Err(CsError::option(
                "invalid",
                format!("'{other}'"),
                "expected one of 'raise', 'drop', 'null'",
            )),
        }
    }
}

/// The confidence interval of an NPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NpsInterval {
    /// Adjusted Wald (Rocks 2016): add 3 answers, 3/4 of them promoters and 3/4 detractors (default).
    #[default]
    AdjustedWald,
    /// Plain Wald interval on the unadjusted counts.
    Wald,
}

impl FromStr for NpsInterval {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "adjusted_wald" => Ok(Self::AdjustedWald),
            "wald" => Ok(Self::Wald),
            other => Err(CsError::option(
                "ci",
                format!("'{other}'"),
                "expected 'adjusted_wald', 'wald' or none",
            )),
        }
    }
}

/// Which end of the CES scale means little effort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CesDirection {
    /// CES 2.0 (1-7, "the company made it easy"): the top three boxes are low effort (default).
    #[default]
    HigherIsEasier,
    /// The older effort scale (1-5, "how much effort"): the bottom two boxes are low effort.
    LowerIsEasier,
}

impl FromStr for CesDirection {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "higher_is_easier" => Ok(Self::HigherIsEasier),
            "lower_is_easier" => Ok(Self::LowerIsEasier),
            other => Err(CsError::option(
                "direction",
                format!("'{other}'"),
                "expected 'higher_is_easier' or 'lower_is_easier'",
            )),
        }
    }
}

/// Which pairs of groups [`nps_compare`] tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ComparePairs {
    /// Every pair (a, b) with a before b in sort order (default).
    #[default]
    All,
    /// Each value against the next one in sort order (period over period).
    Consecutive,
}

impl FromStr for ComparePairs {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "all" => Ok(Self::All),
            "consecutive" => Ok(Self::Consecutive),
            other => Err(CsError::option(
                "pairs",
                format!("'{other}'"),
                "expected 'all' or 'consecutive'",
            )),
        }
    }
}

/// An integer answer scale, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Lowest valid score.
    pub min: i64,
    /// Highest valid score.
    pub max: i64,
}

impl Scale {
    /// The NPS scale, 0 to 10.
    pub const NPS: Scale = Scale { min: 0, max: 10 };

    /// A checked scale: `min < max`, at most 1,000 points.
    pub fn new(min: i64, max: i64) -> Result<Scale> {
        if min >= max || max - min > 1000 {
            return Err(CsError::option(
                "scale",
                format!("({min}, {max})"),
                "a scale needs min < max and at most 1,000 points",
            ));
        }
        Ok(Scale { min, max })
    }

    fn len(&self) -> usize {
        (self.max - self.min + 1) as usize
    }

    /// Position of a score on the scale, or None when it is not a whole number on it.
    fn position(&self, score: f64) -> Option<usize> {
        if score.fract() == 0.0 && score >= self.min as f64 && score <= self.max as f64 {
            Some((score as i64 - self.min) as usize)
        } else {
            None // NaN fails every comparison and lands here too
        }
    }

    fn rule(&self) -> String {
        format!(
            "scores must be whole numbers from {} to {}",
            self.min, self.max
        )
    }
}

/// Counts of the answers of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    /// Count of each valid score, from the scale's minimum up.
    pub counts: Vec<i64>,
    /// Null answers (plus invalid ones under [`InvalidPolicy::Null`]).
    pub missing: i64,
    /// Invalid answers left out under [`InvalidPolicy::Drop`].
    pub invalid: i64,
}

impl Histogram {
    fn empty(scale: Scale) -> Self {
        Histogram {
            counts: vec![0; scale.len()],
            missing: 0,
            invalid: 0,
        }
    }

    /// Number of valid answers.
    pub fn n(&self) -> i64 {
        self.counts.iter().sum()
    }

    /// Answers whose score is at least `from` positions above the scale minimum.
    fn count_from(&self, from: usize) -> i64 {
        self.counts.iter().skip(from).sum()
    }

    fn count_below(&self, until: usize) -> i64 {
        self.counts.iter().take(until).sum()
    }

    /// Mean score (null for no answers).
    pub fn mean(&self, scale: Scale) -> Option<f64> {
        let n = self.n();
        (n > 0).then(|| {
            let total: f64 = self
                .counts
                .iter()
                .enumerate()
                .map(|(i, c)| (scale.min + i as i64) as f64 * *c as f64)
                .sum();
            total / n as f64
        })
    }
}

fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Promoters, passives and detractors of an NPS histogram (0-10 scale).
fn nps_parts(h: &Histogram) -> (i64, i64, i64) {
    (h.count_from(9), h.counts[7] + h.counts[8], h.count_below(7))
}

/// NPS = 100 (P - D) / n; None for n = 0.
pub fn nps_value(promoters: i64, detractors: i64, n: i64) -> Option<f64> {
    ratio(100 * (promoters - detractors), n)
}

/// Standard error of an NPS on the -100..100 scale from its counts (Wald); None for n = 0.
pub fn nps_standard_error(promoters: f64, detractors: f64, n: f64) -> Option<f64> {
    if n <= 0.0 {
        return None;
    }
    let (pp, pd) = (promoters / n, detractors / n);
    let variance = (pp + pd - (pp - pd).powi(2)).max(0.0) / n;
    Some(100.0 * variance.sqrt())
}

/// The NPS confidence interval `(lower, upper)`, clipped to [-100, 100]; None for n = 0.
pub fn nps_interval(
    promoters: i64,
    detractors: i64,
    n: i64,
    method: NpsInterval,
    z: f64,
) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (p, d, n) = match method {
        NpsInterval::AdjustedWald => (
            promoters as f64 + 0.75,
            detractors as f64 + 0.75,
            n as f64 + 3.0,
        ),
        NpsInterval::Wald => (promoters as f64, detractors as f64, n as f64),
    };
    let centre = 100.0 * (p - d) / n;
    let se = nps_standard_error(p, d, n)?;
    Some(((centre - z * se).max(-100.0), (centre + z * se).min(100.0)))
}

/// How rows are grouped: customer-level or segment columns, and optionally calendar periods.
#[derive(Debug, Clone)]
pub struct Grouping {
    /// Columns to group by (any type; nulls form their own group).
    pub by: Vec<String>,
    /// Calendar period of the timestamp, added as a Date column `period`.
    pub period: Option<Period>,
    /// The timestamp column (Date or Datetime) used with `period`.
    pub timestamp: String,
}

impl Default for Grouping {
    fn default() -> Self {
        Grouping {
            by: Vec::new(),
            period: None,
            timestamp: "timestamp".to_string(),
        }
    }
}

/// Per-group histograms: the key columns (sorted) and one histogram per row of them.
struct GroupedHistograms {
    keys: DataFrame,
    histograms: Vec<Histogram>,
}

fn score_series(frame: &DataFrame, score: &str) -> Result<Series> {
    let series = column(frame, score, "the survey score of each answer")?.as_materialized_series();
    input::number_series(series, score, Role::Number, "scores")
}

fn invalid_score(column_name: &str, row: usize, value: f64, scale: Scale) -> CsError {
    CsError::InvalidValue {
        column: column_name.to_string(),
        row,
        value: format_number(value),
        rule: scale.rule(),
    }
}

/// The scores of a column as the slot of each row on the scale, read in the column's own type
/// (an Int8 column is never widened to a copy of doubles).
enum Scores<'a> {
    Int(IntScores<'a>),
    Float(&'a [f64]),
}

enum IntScores<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

/// Slots of a row: the scale's positions, then missing, then invalid.
#[derive(Clone, Copy)]
struct Slots {
    scale: Scale,
    missing: usize,
    invalid: usize,
    per_cell: usize,
}

/// Counts `(cell(row), slot(row))` over `range` into a table of `cells` cells; also the first
/// invalid row. Generic over how a row's score is read, so each type gets its own loop.
fn count_rows(
    range: std::ops::Range<usize>,
    cells: usize,
    slots: Slots,
    policy: InvalidPolicy,
    validity: Option<&polars_arrow::bitmap::Bitmap>,
    cell_of: &(impl Fn(usize) -> usize + Sync),
    position: impl Fn(usize) -> Option<usize>,
) -> (Vec<i64>, Option<usize>) {
    let mut table = vec![0i64; cells * slots.per_cell];
    let mut first_invalid = None;
    let invalid_slot = match policy {
        InvalidPolicy::Null => slots.missing,
        _ => slots.invalid,
    };
    for row in range {
        let slot = if validity.is_some_and(|v| !v.get_bit(row)) {
            slots.missing
        } else {
            match position(row) {
                Some(pos) => pos,
                None => {
                    first_invalid = first_invalid.or(Some(row));
                    invalid_slot
                }
            }
        };
        table[cell_of(row) * slots.per_cell + slot] += 1;
    }
    (table, first_invalid)
}

/// Counts per cell of the grouping: the keys, their groups, `per_cell` counts per group (in
/// group order) and the first invalid row.
struct Counted {
    keys: Vec<EncodedKey>,
    groups: Groups,
    table: Vec<i64>,
    first_invalid: Option<usize>,
}

/// The general path: every key encoded with a code per row (any number of values).
fn row_counts(
    frame: &DataFrame,
    source: &Series,
    grouping: &Grouping,
    slots: Slots,
    policy: InvalidPolicy,
) -> Result<Counted> {
    let score = source.name().as_str();
    let source = source.rechunk();
    // Integer columns are read as they are; floats and Decimal as doubles.
    let scores = if source.dtype().is_integer() && !source.dtype().is_null() {
        source.clone()
    } else {
        score_series(frame, score)?.rechunk()
    };
    let mut keys: Vec<EncodedKey> = Vec::with_capacity(grouping.by.len() + 1);
    for name in &grouping.by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    if let Some(period) = grouping.period {
        keys.push(period_key(frame, &grouping.timestamp, period, "period")?);
    }
    let rows = frame.height();
    let scale = slots.scale;
    // Cells: the mixed-radix combinations of the keys' codes, counted directly when their table
    // is small (no per-row group ids); otherwise the groups of the rows first.
    let radix = keys
        .iter()
        .try_fold(1usize, |acc, k| acc.checked_mul(k.labels.len().max(1)))
        .filter(|r| r.saturating_mul(slots.per_cell) <= 1 << 20);
    let groups = match radix {
        Some(_) => None,
        None => Some(group_rows(&keys, rows)),
    };
    let cells = match (&groups, radix) {
        (Some(g), _) => g.count(),
        (None, Some(r)) => r,
        (None, None) => 0,
    };
    let combine = |row: usize| -> usize {
        match &groups {
            Some(g) => g.ids[row] as usize,
            None => keys.iter().fold(0usize, |acc, k| {
                acc * k.labels.len().max(1) + k.codes[row] as usize
            }),
        }
    };
    let validity = scores.chunks().first().and_then(|a| a.validity()).cloned();
    let validity = validity.as_ref().filter(|v| v.unset_bits() > 0);
    let (min, len) = (scale.min, scale.len() as i64);
    macro_rules! int_values {
        ($ca:expr) => {
            $ca.downcast_iter()
                .next()
                .map_or(&[][..], |a| a.values().as_slice())
        };
    }
    let values = match scores.dtype() {
        DataType::Int8 => Scores::Int(IntScores::I8(int_values!(scores.i8()?))),
        DataType::Int16 => Scores::Int(IntScores::I16(int_values!(scores.i16()?))),
        DataType::Int32 => Scores::Int(IntScores::I32(int_values!(scores.i32()?))),
        DataType::Int64 => Scores::Int(IntScores::I64(int_values!(scores.i64()?))),
        DataType::UInt8 => Scores::Int(IntScores::U8(int_values!(scores.u8()?))),
        DataType::UInt16 => Scores::Int(IntScores::U16(int_values!(scores.u16()?))),
        DataType::UInt32 => Scores::Int(IntScores::U32(int_values!(scores.u32()?))),
        DataType::UInt64 => Scores::Int(IntScores::U64(int_values!(scores.u64()?))),
        _ => Scores::Float(int_values!(scores.f64()?)),
    };
    let count = |range: std::ops::Range<usize>| -> (Vec<i64>, Option<usize>) {
        macro_rules! ints {
            ($data:expr) => {
                count_rows(range, cells, slots, policy, validity, &combine, |row| {
                    let offset = i128::from($data[row]) - i128::from(min);
                    (0..i128::from(len))
                        .contains(&offset)
                        .then_some(offset as usize)
                })
            };
        }
        match &values {
            Scores::Int(IntScores::I8(d)) => ints!(d),
            Scores::Int(IntScores::I16(d)) => ints!(d),
            Scores::Int(IntScores::I32(d)) => ints!(d),
            Scores::Int(IntScores::I64(d)) => ints!(d),
            Scores::Int(IntScores::U8(d)) => ints!(d),
            Scores::Int(IntScores::U16(d)) => ints!(d),
            Scores::Int(IntScores::U32(d)) => ints!(d),
            Scores::Int(IntScores::U64(d)) => ints!(d),
            Scores::Float(d) => {
                count_rows(range, cells, slots, policy, validity, &combine, |row| {
                    slots.scale.position(d[row])
                })
            }
        }
    };
    let partials = parallel(work_ranges(rows), count);
    let first_invalid = partials.iter().filter_map(|p| p.1).min();
    let mut table = vec![0i64; cells * slots.per_cell];
    for (partial, _) in &partials {
        for (total, part) in table.iter_mut().zip(partial) {
            *total += part;
        }
    }
    let per_cell = slots.per_cell;
    let (groups, table) = match groups {
        Some(groups) => (groups, table),
        None => {
            // Keep the cells that have rows, in cell order.
            let used: Vec<usize> = (0..cells)
                .filter(|&c| {
                    table[c * per_cell..(c + 1) * per_cell]
                        .iter()
                        .any(|n| *n > 0)
                })
                .collect();
            let compact = used
                .iter()
                .flat_map(|&c| table[c * per_cell..(c + 1) * per_cell].iter().copied())
                .collect();
            (Groups::of_cells(&keys, used.into_iter()), compact)
        }
    };
    Ok(Counted {
        keys,
        groups,
        table,
        first_invalid,
    })
}

/// Counts of one block: `cells[i]` is row i's cell; its score slot comes from `position`, null
/// rows (per `valid`) in `missing`. Returns the block's first invalid row.
#[inline]
fn count_block<T: Copy>(
    values: &[T],
    valid: Option<(&polars_arrow::bitmap::Bitmap, usize)>,
    cells: &[u32],
    table: &mut [i64],
    slots: Slots,
    invalid_slot: usize,
    position: impl Fn(T) -> Option<usize>,
) -> Option<usize> {
    let per_cell = slots.per_cell;
    let mut first_invalid = None;
    match valid {
        None => {
            for (i, (&cell, &v)) in cells.iter().zip(values).enumerate() {
                let slot = position(v).unwrap_or_else(|| {
                    first_invalid = first_invalid.or(Some(i));
                    invalid_slot
                });
                table[cell as usize * per_cell + slot] += 1;
            }
        }
        Some((bitmap, offset)) => {
            for (i, (&cell, &v)) in cells.iter().zip(values).enumerate() {
                let slot = if bitmap.get_bit(offset + i) {
                    position(v).unwrap_or_else(|| {
                        first_invalid = first_invalid.or(Some(i));
                        invalid_slot
                    })
                } else {
                    slots.missing
                };
                table[cell as usize * per_cell + slot] += 1;
            }
        }
    }
    first_invalid
}

/// The fast path for few-valued keys (segments, plans, calendar periods): rows counted into
/// their cells block by block, every column read in the chunks it has ([`crate::cells`]); no
/// code per row and no copy of a column. None when a key has too many values.
fn block_counts(
    frame: &DataFrame,
    source: &Series,
    grouping: &Grouping,
    slots: Slots,
    policy: InvalidPolicy,
) -> Result<Option<Counted>> {
    let period = grouping
        .period
        .map(|p| (grouping.timestamp.as_str(), p, "period"));
    let max_cells = (1usize << 20) / slots.per_cell;
    let Some(mut keys) = CellKeys::prepare(frame, &grouping.by, period, max_cells)? else {
        return Ok(None);
    };
    // Integers are read in their own width; floats and Decimal as doubles.
    let scores = if source.dtype().is_integer() {
        source.clone()
    } else {
        input::number_series(source, source.name(), Role::Number, "scores")?
    };
    let mut columns = vec![&scores];
    columns.extend(keys.columns());
    let found = cells::pieces(&columns, cells::ROWS_PER_BLOCK);
    let invalid_slot = match policy {
        InvalidPolicy::Null => slots.missing,
        _ => slots.invalid,
    };
    let (min, len) = (slots.scale.min, slots.scale.len() as i128);
    let per_cell = slots.per_cell;
    let count = |range: std::ops::Range<usize>| -> (Vec<i64>, Vec<cells::Found>, Option<usize>) {
        let mut table = vec![0i64; keys.cells * per_cell];
        let mut buffer = vec![0u32; cells::ROWS_PER_BLOCK];
        let mut first_invalid: Option<usize> = None;
        let mut seen = keys.found();
        for piece in &found[range] {
            let cells = &mut buffer[..piece.len];
            keys.fill(&piece.at[1..], piece.start, cells, &mut seen);
            let (chunk, offset) = piece.at[0];
            let array = &scores.chunks()[chunk];
            let valid = array
                .validity()
                .filter(|v| v.unset_bits() > 0)
                .map(|v| (v, offset));
            macro_rules! ints {
                ($t:ty) => {
                    array
                        .as_any()
                        .downcast_ref::<polars_arrow::array::PrimitiveArray<$t>>()
                        .map(|a| {
                            let values = &a.values()[offset..offset + piece.len];
                            count_block(
                                values,
                                valid,
                                cells,
                                &mut table,
                                slots,
                                invalid_slot,
                                |v| {
                                    let at = i128::from(v) - i128::from(min);
                                    (0..len).contains(&at).then_some(at as usize)
                                },
                            )
                        })
                };
            }
            let invalid = match scores.dtype() {
                DataType::Int8 => ints!(i8),
                DataType::Int16 => ints!(i16),
                DataType::Int32 => ints!(i32),
                DataType::Int64 => ints!(i64),
                DataType::UInt8 => ints!(u8),
                DataType::UInt16 => ints!(u16),
                DataType::UInt32 => ints!(u32),
                DataType::UInt64 => ints!(u64),
                _ => array
                    .as_any()
                    .downcast_ref::<polars_arrow::array::PrimitiveArray<f64>>()
                    .map(|a| {
                        let values = &a.values()[offset..offset + piece.len];
                        count_block(values, valid, cells, &mut table, slots, invalid_slot, |v| {
                            slots.scale.position(v)
                        })
                    }),
            }
            .flatten();
            if first_invalid.is_none() {
                first_invalid = invalid.map(|i| piece.start + i);
            }
        }
        (table, seen, first_invalid)
    };
    let partials = parallel(chunks(found.len(), threads()), count);
    let first_invalid = partials.iter().filter_map(|p| p.2).min();
    let parts = partials.into_iter().map(|(t, f, _)| (t, f)).collect();
    let Some(table) = keys.merge(parts, per_cell) else {
        return Ok(None); // a string key with many values: the general path
    };
    let used: Vec<usize> = (0..keys.cells)
        .filter(|&c| {
            table[c * per_cell..(c + 1) * per_cell]
                .iter()
                .any(|n| *n > 0)
        })
        .collect();
    let compact = used
        .iter()
        .flat_map(|&c| table[c * per_cell..(c + 1) * per_cell].iter().copied())
        .collect();
    let (encoded, renumbered) = keys.encoded(&used)?;
    let groups = Groups::of_cells(&encoded, renumbered.into_iter());
    Ok(Some(Counted {
        keys: encoded,
        groups,
        table: compact,
        first_invalid,
    }))
}

fn grouped_histograms(
    frame: &DataFrame,
    score: &str,
    grouping: &Grouping,
    scale: Scale,
    policy: InvalidPolicy,
) -> Result<GroupedHistograms> {
    let source = column(frame, score, "the survey score of each answer")?
        .as_materialized_series()
        .clone();
    input::check(&source, score, Role::Number, "scores")?;
    if grouping.period.is_some() && grouping.by.iter().any(|name| name == "period") {
        return Err(CsError::option(
            "by",
            "'period'",
            "a by column cannot be called 'period' when period= is given; rename it",
        ));
    }
    let slots = Slots {
        scale,
        missing: scale.len(),
        invalid: scale.len() + 1,
        per_cell: scale.len() + 2,
    };
    let counted = match block_counts(frame, &source, grouping, slots, policy)? {
        Some(counted) => counted,
        None => row_counts(frame, &source, grouping, slots, policy)?,
    };
    let Counted {
        keys,
        groups,
        table,
        first_invalid,
    } = counted;
    if policy == InvalidPolicy::Raise {
        if let Some(row) = first_invalid {
            // The value as the column holds it: an Int64 is not shown through a double.
            return Err(CsError::InvalidValue {
                column: score.to_string(),
                row,
                value: match source.get(row)? {
                    AnyValue::Float64(v) => format_number(v),
                    AnyValue::Float32(v) => format_number(f64::from(v)),
                    other => input::plain(other),
                },
                rule: scale.rule(),
            });
        }
    }
    let per_cell = slots.per_cell;
    let no_keys = keys.is_empty();
    let (keys, order) = sorted_keys(&keys, &groups)?;
    let mut histograms: Vec<Histogram> = order
        .iter()
        .map(|&g| {
            let cell = &table[g * per_cell..(g + 1) * per_cell];
            Histogram {
                counts: cell[..scale.len()].to_vec(),
                missing: cell[slots.missing],
                invalid: cell[slots.invalid],
            }
        })
        .collect();
    if no_keys && histograms.is_empty() {
        histograms.push(Histogram::empty(scale)); // no grouping: always one row
    }
    Ok(GroupedHistograms { keys, histograms })
}

/// The runs of equal rows of a sorted key frame, as half-open row ranges.
fn runs(keys: &DataFrame) -> Result<Vec<(usize, usize)>> {
    let height = keys.height();
    let mut runs = Vec::new();
    let mut start = 0;
    for row in 1..=height {
        let mut boundary = row == height;
        if !boundary {
            for c in keys.columns() {
                if c.get(row)? != c.get(row - 1)? {
                    boundary = true;
                    break;
                }
            }
        }
        if boundary {
            runs.push((start, row));
            start = row;
        }
    }
    Ok(runs)
}

fn int_column(name: &str, values: impl Iterator<Item = i64>) -> Column {
    Column::new(name.into(), values.collect::<Vec<i64>>())
}

fn float_column(name: &str, values: impl Iterator<Item = Option<f64>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<Option<f64>>>())
}

fn with_keys(keys: DataFrame, columns: Vec<Column>) -> Result<DataFrame> {
    let height = keys.height();
    let mut all = keys.into_columns();
    all.extend(columns);
    Ok(DataFrame::new(height, all)?)
}

/// Options of [`nps`].
#[derive(Debug, Clone)]
pub struct NpsOptions {
    /// The score column (0-10). Default `"score"`.
    pub score: String,
    /// Grouping by columns and period.
    pub grouping: Grouping,
    /// Invalid-score policy. Default [`InvalidPolicy::Raise`].
    pub invalid: InvalidPolicy,
    /// Interval method, or None for no interval columns. Default adjusted Wald.
    pub ci: Option<NpsInterval>,
    /// Confidence level. Default 0.95.
    pub confidence: f64,
}

impl Default for NpsOptions {
    fn default() -> Self {
        NpsOptions {
            score: "score".to_string(),
            grouping: Grouping::default(),
            invalid: InvalidPolicy::Raise,
            ci: Some(NpsInterval::AdjustedWald),
            confidence: 0.95,
        }
    }
}

/// Net Promoter Score per group.
///
/// Promoters score 9-10, passives 7-8, detractors 0-6; `nps = 100 (promoters - detractors) / n`.
/// Returns the group keys (sorted) and `n`, `promoters`, `passives`, `detractors`, their shares,
/// `nps`, `nps_lower`, `nps_upper` (when an interval is asked for), `missing` and `invalid`.
/// A group with no valid answer has n = 0 and null NPS, shares and interval. Without grouping
/// the result has exactly one row, even for an empty input.
pub fn nps(frame: &DataFrame, options: &NpsOptions) -> Result<DataFrame> {
    let z = match options.ci {
        Some(_) => Some(z_for_confidence(options.confidence)?),
        None => None,
    };
    let g = grouped_histograms(
        frame,
        &options.score,
        &options.grouping,
        Scale::NPS,
        options.invalid,
    )?;
    let parts: Vec<(i64, i64, i64, i64)> = g
        .histograms
        .iter()
        .map(|h| {
            let (p, pa, d) = nps_parts(h);
            (p, pa, d, h.n())
        })
        .collect();
    let mut columns = vec![
        int_column("n", parts.iter().map(|x| x.3)),
        int_column("promoters", parts.iter().map(|x| x.0)),
        int_column("passives", parts.iter().map(|x| x.1)),
        int_column("detractors", parts.iter().map(|x| x.2)),
        float_column("promoter_share", parts.iter().map(|x| ratio(x.0, x.3))),
        float_column("passive_share", parts.iter().map(|x| ratio(x.1, x.3))),
        float_column("detractor_share", parts.iter().map(|x| ratio(x.2, x.3))),
        float_column("nps", parts.iter().map(|x| nps_value(x.0, x.2, x.3))),
    ];
    if let (Some(method), Some(z)) = (options.ci, z) {
        let bounds: Vec<Option<(f64, f64)>> = parts
            .iter()
            .map(|x| nps_interval(x.0, x.2, x.3, method, z))
            .collect();
        columns.push(float_column(
            "nps_lower",
            bounds.iter().map(|b| b.map(|b| b.0)),
        ));
        columns.push(float_column(
            "nps_upper",
            bounds.iter().map(|b| b.map(|b| b.1)),
        ));
    }
    columns.push(int_column(
        "missing",
        g.histograms.iter().map(|h| h.missing),
    ));
    columns.push(int_column(
        "invalid",
        g.histograms.iter().map(|h| h.invalid),
    ));
    with_keys(g.keys, columns)
}

/// Options of [`csat`].
#[derive(Debug, Clone)]
pub struct CsatOptions {
    /// The score column. Default `"score"`.
    pub score: String,
    /// Grouping by columns and period.
    pub grouping: Grouping,
    /// Invalid-score policy.
    pub invalid: InvalidPolicy,
    /// The answer scale. Default 1-5.
    pub scale: Scale,
}

impl Default for CsatOptions {
    fn default() -> Self {
        CsatOptions {
            score: "score".to_string(),
            grouping: Grouping::default(),
            invalid: InvalidPolicy::Raise,
            scale: Scale { min: 1, max: 5 },
        }
    }
}

/// Customer satisfaction per group: the share of satisfied answers (the top two boxes of the
/// scale) and the mean score. Returns the keys and `n`, `satisfied`, `csat`, `mean_score`,
/// `missing`, `invalid`.
pub fn csat(frame: &DataFrame, options: &CsatOptions) -> Result<DataFrame> {
    let scale = options.scale;
    let g = grouped_histograms(
        frame,
        &options.score,
        &options.grouping,
        scale,
        options.invalid,
    )?;
    let top = scale.len() - 2;
    let columns = vec![
        int_column("n", g.histograms.iter().map(|h| h.n())),
        int_column("satisfied", g.histograms.iter().map(|h| h.count_from(top))),
        float_column(
            "csat",
            g.histograms.iter().map(|h| ratio(h.count_from(top), h.n())),
        ),
        float_column("mean_score", g.histograms.iter().map(|h| h.mean(scale))),
        int_column("missing", g.histograms.iter().map(|h| h.missing)),
        int_column("invalid", g.histograms.iter().map(|h| h.invalid)),
    ];
    with_keys(g.keys, columns)
}

/// Options of [`ces`].
#[derive(Debug, Clone)]
pub struct CesOptions {
    /// The score column. Default `"score"`.
    pub score: String,
    /// Grouping by columns and period.
    pub grouping: Grouping,
    /// Invalid-score policy.
    pub invalid: InvalidPolicy,
    /// The answer scale; None means 1-7 when higher is easier and 1-5 when lower is easier.
    pub scale: Option<Scale>,
    /// Which end of the scale is low effort.
    pub direction: CesDirection,
}

impl Default for CesOptions {
    fn default() -> Self {
        CesOptions {
            score: "score".to_string(),
            grouping: Grouping::default(),
            invalid: InvalidPolicy::Raise,
            scale: None,
            direction: CesDirection::HigherIsEasier,
        }
    }
}

impl CesOptions {
    /// The scale in force: the given one, or the direction's usual one.
    pub fn effective_scale(&self) -> Scale {
        self.scale.unwrap_or(match self.direction {
            CesDirection::HigherIsEasier => Scale { min: 1, max: 7 },
            CesDirection::LowerIsEasier => Scale { min: 1, max: 5 },
        })
    }
}

fn low_effort(h: &Histogram, scale: Scale, direction: CesDirection) -> i64 {
    match direction {
        CesDirection::HigherIsEasier => h.count_from(scale.len().saturating_sub(3)),
        CesDirection::LowerIsEasier => h.count_below(2),
    }
}

/// Customer effort score per group: the mean score and the low-effort share (top three boxes
/// when higher is easier, bottom two when lower is easier). Returns the keys and `n`,
/// `low_effort`, `low_effort_share`, `mean_score`, `missing`, `invalid`.
pub fn ces(frame: &DataFrame, options: &CesOptions) -> Result<DataFrame> {
    let scale = options.effective_scale();
    let g = grouped_histograms(
        frame,
        &options.score,
        &options.grouping,
        scale,
        options.invalid,
    )?;
    let low: Vec<i64> = g
        .histograms
        .iter()
        .map(|h| low_effort(h, scale, options.direction))
        .collect();
    let columns = vec![
        int_column("n", g.histograms.iter().map(|h| h.n())),
        int_column("low_effort", low.iter().copied()),
        float_column(
            "low_effort_share",
            low.iter().zip(&g.histograms).map(|(l, h)| ratio(*l, h.n())),
        ),
        float_column("mean_score", g.histograms.iter().map(|h| h.mean(scale))),
        int_column("missing", g.histograms.iter().map(|h| h.missing)),
        int_column("invalid", g.histograms.iter().map(|h| h.invalid)),
    ];
    with_keys(g.keys, columns)
}

/// Options of [`nps_compare`].
#[derive(Debug, Clone)]
pub struct NpsCompareOptions {
    /// The score column. Default `"score"`.
    pub score: String,
    /// The column whose values are compared with each other; None compares periods.
    pub between: Option<String>,
    /// Outer grouping: comparisons are made within each of its groups. With `between` set, a
    /// `period` here compares values within each period.
    pub grouping: Grouping,
    /// Invalid-score policy.
    pub invalid: InvalidPolicy,
    /// Which pairs to test.
    pub pairs: ComparePairs,
    /// Confidence level of the interval of the difference. Default 0.95.
    pub confidence: f64,
}

impl Default for NpsCompareOptions {
    fn default() -> Self {
        NpsCompareOptions {
            score: "score".to_string(),
            between: None,
            grouping: Grouping::default(),
            invalid: InvalidPolicy::Raise,
            pairs: ComparePairs::All,
            confidence: 0.95,
        }
    }
}

/// Two-sample NPS comparison: for each pair (a, b) of values of the compared column, the
/// difference `nps_b - nps_a`, its unpooled standard error sqrt(se_a^2 + se_b^2) (each se from
/// the Wald formula), z, the two-sided p-value and a Wald interval of the difference.
///
/// Returns the outer keys, `{between}_a`, `{between}_b`, `n_a`, `nps_a`, `n_b`, `nps_b`,
/// `difference`, `se`, `z`, `p_value`, `difference_lower`, `difference_upper`. z and p are null
/// when a side has no answers or the standard error is zero.
pub fn nps_compare(frame: &DataFrame, options: &NpsCompareOptions) -> Result<DataFrame> {
    let z_crit = z_for_confidence(options.confidence)?;
    let mut grouping = options.grouping.clone();
    let compared = match &options.between {
        Some(name) => {
            grouping.by.push(name.clone());
            name.clone()
        }
        None => {
            if grouping.period.is_none() {
                return Err(CsError::option(
                    "between",
                    "None",
                    "say which column's values to compare (between=...) or give period= to compare periods",
                ));
            }
            "period".to_string()
        }
    };
    // Keys are sorted, so each outer group is a run of rows ordered by the compared value.
    let mut key_names = options.grouping.by.clone();
    if options.between.is_some() && grouping.period.is_some() {
        key_names.push("period".to_string());
    }
    let g = grouped_histograms(
        frame,
        &options.score,
        &grouping,
        Scale::NPS,
        options.invalid,
    )?;
    let outer = g.keys.select(key_names.iter().map(|k| k.as_str()))?;
    let runs = if key_names.is_empty() {
        vec![(0, g.keys.height())]
    } else {
        runs(&outer)?
    };
    let mut left: Vec<IdxSize> = Vec::new();
    let mut right: Vec<IdxSize> = Vec::new();
    for (lo, hi) in runs {
        for a in lo..hi {
            let last = match options.pairs {
                ComparePairs::All => hi,
                ComparePairs::Consecutive => (a + 2).min(hi),
            };
            for b in a + 1..last {
                left.push(a as IdxSize);
                right.push(b as IdxSize);
            }
        }
    }
    let stats = |i: IdxSize| {
        let h = &g.histograms[i as usize];
        let (p, _, d) = nps_parts(h);
        let n = h.n();
        (
            n,
            nps_value(p, d, n),
            nps_standard_error(p as f64, d as f64, n as f64),
        )
    };
    let a: Vec<_> = left.iter().map(|i| stats(*i)).collect();
    let b: Vec<_> = right.iter().map(|i| stats(*i)).collect();
    let mut differences = Vec::with_capacity(a.len());
    let mut ses = Vec::with_capacity(a.len());
    let mut zs = Vec::with_capacity(a.len());
    for (sa, sb) in a.iter().zip(&b) {
        let difference = match (sa.1, sb.1) {
            (Some(x), Some(y)) => Some(y - x),
            _ => None,
        };
        let se = match (sa.2, sb.2) {
            (Some(x), Some(y)) => Some((x * x + y * y).sqrt()),
            _ => None,
        };
        let z = match (difference, se) {
            (Some(d), Some(s)) if s > 0.0 => Some(d / s),
            _ => None,
        };
        differences.push(difference);
        ses.push(se);
        zs.push(z);
    }
    let left_idx = IdxCa::from_vec("".into(), left);
    let right_idx = IdxCa::from_vec("".into(), right);
    let outer_rows = if key_names.is_empty() {
        DataFrame::empty_with_height(left_idx.len())
    } else {
        outer.take(&left_idx)?
    };
    let compared_column = g.keys.column(&compared)?.as_materialized_series();
    let columns = vec![
        compared_column
            .take(&left_idx)?
            .with_name(format!("{compared}_a").into())
            .into_column(),
        compared_column
            .take(&right_idx)?
            .with_name(format!("{compared}_b").into())
            .into_column(),
        int_column("n_a", a.iter().map(|s| s.0)),
        float_column("nps_a", a.iter().map(|s| s.1)),
        int_column("n_b", b.iter().map(|s| s.0)),
        float_column("nps_b", b.iter().map(|s| s.1)),
        float_column("difference", differences.iter().copied()),
        float_column("se", ses.iter().copied()),
        float_column("z", zs.iter().copied()),
        float_column("p_value", zs.iter().map(|z| z.map(two_sided_p))),
        float_column(
            "difference_lower",
            differences
                .iter()
                .zip(&ses)
                .map(|(d, s)| Some((*d)? - z_crit * (*s)?)),
        ),
        float_column(
            "difference_upper",
            differences
                .iter()
                .zip(&ses)
                .map(|(d, s)| Some((*d)? + z_crit * (*s)?)),
        ),
    ];
    with_keys(outer_rows, columns)
}

/// The histogram of one series of scores (the kernel of the expression plugins).
///
/// `name` is used in error messages; rows are positions within the series.
pub fn histogram_of_series(
    series: &Series,
    name: &str,
    scale: Scale,
    policy: InvalidPolicy,
) -> Result<Histogram> {
    let values = input::number_series(series, name, Role::Number, "scores")?;
    let values = values.f64()?;
    let mut h = Histogram::empty(scale);
    for (row, value) in values.iter().enumerate() {
        match value {
            None => h.missing += 1,
            Some(v) => match scale.position(v) {
                Some(pos) => h.counts[pos] += 1,
                None => match policy {
                    InvalidPolicy::Raise => return Err(invalid_score(name, row, v, scale)),
                    InvalidPolicy::Drop => h.invalid += 1,
                    InvalidPolicy::Null => h.missing += 1,
                },
            },
        }
    }
    Ok(h)
}

/// NPS of one series of 0-10 scores; None when it has no valid answer.
pub fn nps_of_series(series: &Series, name: &str, policy: InvalidPolicy) -> Result<Option<f64>> {
    let h = histogram_of_series(series, name, Scale::NPS, policy)?;
    let (p, _, d) = nps_parts(&h);
    Ok(nps_value(p, d, h.n()))
}

/// CSAT (top-two-box share) of one series; None when it has no valid answer.
pub fn csat_of_series(
    series: &Series,
    name: &str,
    scale: Scale,
    policy: InvalidPolicy,
) -> Result<Option<f64>> {
    let h = histogram_of_series(series, name, scale, policy)?;
    Ok(ratio(h.count_from(scale.len() - 2), h.n()))
}

/// CES low-effort share of one series; None when it has no valid answer.
pub fn ces_of_series(
    series: &Series,
    name: &str,
    scale: Scale,
    direction: CesDirection,
    policy: InvalidPolicy,
) -> Result<Option<f64>> {
    let h = histogram_of_series(series, name, scale, policy)?;
    Ok(ratio(low_effort(&h, scale, direction), h.n()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The histograms of a counting path, keyed by the keys' values as text.
    fn by_label(counted: Counted) -> Vec<(String, Vec<i64>)> {
        let (keys, order) = sorted_keys(&counted.keys, &counted.groups).unwrap();
        let per_cell = counted.table.len() / order.len().max(1);
        let mut out: Vec<(String, Vec<i64>)> = order
            .iter()
            .enumerate()
            .map(|(row, &g)| {
                let label = keys
                    .columns()
                    .iter()
                    .map(|c| format!("{}", c.get(row).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|");
                (
                    label,
                    counted.table[g * per_cell..(g + 1) * per_cell].to_vec(),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn block_counts_equal_row_counts_on_chunked_frames() {
        // Three chunks of unequal length per column, cut at different rows.
        let n = 9_000usize;
        let segment: Vec<Option<&str>> = (0..n)
            .map(|i| match i % 7 {
                0 => None,
                1 | 2 => Some("small business"),
                3 => Some("a segment name longer than twelve bytes"),
                _ => Some("ent"),
            })
            .collect();
        let plan: Vec<Option<i16>> = (0..n)
            .map(|i| (i % 11 != 0).then_some((i % 3) as i16 - 1))
            .collect();
        let score: Vec<Option<i8>> = (0..n)
            .map(|i| match i % 13 {
                0 => None,
                1 => Some(11), // invalid
                _ => Some((i % 11) as i8),
            })
            .collect();
        let day: Vec<i32> = (0..n).map(|i| 19_000 + ((i * 37) % 400) as i32).collect();
        let whole = df!(
            "segment" => segment,
            "plan" => plan,
            "score" => score,
            "day" => day,
        )
        .unwrap();
        let whole = whole
            .lazy()
            .with_columns([
                col("day").cast(DataType::Date).alias("timestamp"),
                col("plan")
                    .cast(DataType::String)
                    .cast(DataType::from_categories(Categories::global()))
                    .alias("tier"),
            ])
            .collect()
            .unwrap();
        let mut chunked = whole.slice(0, 2_000);
        chunked.vstack_mut(&whole.slice(2_000, 5_000)).unwrap();
        chunked.vstack_mut(&whole.slice(7_000, 2_000)).unwrap();
        let grouping = Grouping {
            by: vec!["segment".into(), "tier".into(), "plan".into()],
            period: Some(Period::Month),
            timestamp: "timestamp".into(),
        };
        let scale = Scale::NPS;
        let slots = Slots {
            scale,
            missing: scale.len(),
            invalid: scale.len() + 1,
            per_cell: scale.len() + 2,
        };
        for frame in [&whole, &chunked] {
            let source = frame
                .column("score")
                .unwrap()
                .as_materialized_series()
                .clone();
            for policy in [
                InvalidPolicy::Drop,
                InvalidPolicy::Null,
                InvalidPolicy::Raise,
            ] {
                let block = block_counts(frame, &source, &grouping, slots, policy)
                    .unwrap()
                    .expect("few-valued keys take the block path");
                let rows = row_counts(frame, &source, &grouping, slots, policy).unwrap();
                assert_eq!(block.first_invalid, Some(1));
                assert_eq!(rows.first_invalid, Some(1));
                let (block, rows) = (by_label(block), by_label(rows));
                assert_eq!(block, rows);
                // 3 segments and a null x 3 plans and a null x 14 months, every cell present.
                assert_eq!(block.len(), 4 * 4 * 14);
                let total: i64 = block.iter().map(|(_, c)| c.iter().sum::<i64>()).sum();
                assert_eq!(total, n as i64);
            }
        }
        // Many distinct strings: the general path.
        let ids: Vec<String> = (0..200).map(|i| format!("c{i}")).collect();
        let many = df!("id" => ids, "score" => vec![5i8; 200]).unwrap();
        let source = many
            .column("score")
            .unwrap()
            .as_materialized_series()
            .clone();
        let grouping = Grouping {
            by: vec!["id".into()],
            ..Default::default()
        };
        assert!(
            block_counts(&many, &source, &grouping, slots, InvalidPolicy::Raise)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn nps_worked_example() {
        assert_eq!(nps_value(60, 10, 100), Some(50.0));
        assert_eq!(nps_value(0, 0, 0), None);
    }

    #[test]
    fn adjusted_wald_worked_example() {
        // docs/metrics/survey.md#nps-interval: 60/30/10 -> [35.47, 61.62].
        let z = z_for_confidence(0.95).unwrap();
        let (lo, hi) = nps_interval(60, 10, 100, NpsInterval::AdjustedWald, z).unwrap();
        assert!((lo - 35.47).abs() < 0.005, "{lo}");
        assert!((hi - 61.62).abs() < 0.005, "{hi}");
    }

    #[test]
    fn wald_by_hand() {
        // pP = .6, pD = .1: var = (.7 - .25) / 100 = .0045, se = 100 sqrt(.0045) = 6.7082.
        let z = z_for_confidence(0.95).unwrap();
        let (lo, hi) = nps_interval(60, 10, 100, NpsInterval::Wald, z).unwrap();
        let se = 100.0 * 0.0045f64.sqrt();
        assert!((lo - (50.0 - z * se)).abs() < 1e-12);
        assert!((hi - (50.0 + z * se)).abs() < 1e-12);
    }

    #[test]
    fn interval_is_clipped() {
        let z = z_for_confidence(0.95).unwrap();
        let (lo, hi) = nps_interval(5, 0, 5, NpsInterval::Wald, z).unwrap();
        assert_eq!((lo, hi), (100.0, 100.0));
        let (_, hi) = nps_interval(5, 0, 5, NpsInterval::AdjustedWald, z).unwrap();
        assert!(hi <= 100.0);
    }

    #[test]
    fn scale_positions() {
        let s = Scale::NPS;
        assert_eq!(s.position(0.0), Some(0));
        assert_eq!(s.position(10.0), Some(10));
        assert_eq!(s.position(11.0), None);
        assert_eq!(s.position(-1.0), None);
        assert_eq!(s.position(7.5), None);
        assert_eq!(s.position(f64::NAN), None);
        assert_eq!(s.position(f64::INFINITY), None);
        assert!(Scale::new(5, 1).is_err());
    }
}
