//! Reading and checking the columns of a survival frame: durations, event flags, entry times,
//! weights and the `by` groups. Every rule broken is an error naming the column, the rule, the
//! first offending value and its row.

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{encode_column, group_rows, EncodedKey, Groups};
use crate::input::Role;
use crate::parallel::{parallel, work_ranges};

/// A numeric column of the input as one contiguous Float64 array without nulls.
pub(crate) enum Values {
    /// The input's own Float64 array (one chunk, no nulls): no copy.
    Shared(Series),
    /// Converted values.
    Owned(Vec<f64>),
}

impl Values {
    /// The values.
    pub(crate) fn slice(&self) -> &[f64] {
        match self {
            Values::Shared(series) => series
                .f64()
                .ok()
                .and_then(|ca| ca.downcast_iter().next())
                .map(|a| a.values().as_slice())
                .unwrap_or(&[]),
            Values::Owned(values) => values,
        }
    }
}

/// Float64 values of a numeric column in one buffer, converted in a single pass over its chunks
/// (a cast and then a rechunk would write every value twice); an error at the first null.
fn contiguous(source: &Series, name: &str, rule: Rule) -> Result<Values> {
    if source.null_count() > 0 {
        let row = source.is_null().iter().position(|null| null == Some(true));
        return Err(invalid(name, rule, row.unwrap_or(0), None));
    }
    macro_rules! convert {
        ($ca:expr) => {{
            let mut out: Vec<f64> = Vec::with_capacity(source.len());
            for array in $ca.downcast_iter() {
                out.extend(array.values().iter().map(|&v| v as f64));
            }
            Values::Owned(out)
        }};
    }
    Ok(match source.dtype() {
        DataType::Float64 if source.n_chunks() == 1 => Values::Shared(source.clone()),
        DataType::Float64 => convert!(source.f64()?),
        DataType::Float32 => convert!(source.f32()?),
        DataType::Int64 => convert!(source.i64()?),
        DataType::Int32 => convert!(source.i32()?),
        DataType::UInt64 => convert!(source.u64()?),
        DataType::UInt32 => convert!(source.u32()?),
        _ => Values::Shared(source.cast(&DataType::Float64)?.rechunk()),
    })
}

/// What a value of a survival column must satisfy.
#[derive(Clone, Copy)]
pub(crate) enum Rule {
    Duration,
    Event,
    Weight,
    Entry,
}

impl Rule {
    fn text(self) -> &'static str {
        match self {
            Rule::Duration => "a duration must be a finite number >= 0 (not null or NaN)",
            Rule::Event => "an event flag must be true/false or 1/0 (not null)",
            Rule::Weight => "a weight must be a finite number >= 0 (not null or NaN)",
            Rule::Entry => {
                "an entry time must be a finite number >= 0 and not after the row's duration \
                 (not null or NaN)"
            }
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            Rule::Duration => "the duration of each life (time to event or censoring)",
            Rule::Event => "whether each life ended in the event (true/1) or was censored",
            Rule::Weight => "the weight of each life",
            Rule::Entry => "the entry time of each life (left truncation)",
        }
    }
}

fn invalid(name: &str, rule: Rule, row: usize, value: Option<f64>) -> CsError {
    CsError::InvalidValue {
        column: name.to_string(),
        row,
        value: value.map_or_else(|| "null".to_string(), format_number),
        rule: rule.text().to_string(),
    }
}

/// The first row that is null or whose value fails `ok(value, row)`, scanning in parallel.
fn first_failing(values: &[f64], ok: impl Fn(f64, usize) -> bool + Sync) -> Option<usize> {
    const BLOCK: usize = 1024;
    parallel(work_ranges(values.len()), |range| {
        // Blocks are checked without early exit (a loop the compiler can vectorise); only a
        // block that fails is searched row by row.
        let mut start = range.start;
        while start < range.end {
            let end = (start + BLOCK).min(range.end);
            let all_ok = values[start..end]
                .iter()
                .zip(start..end)
                .fold(true, |acc, (&v, row)| acc & ok(v, row));
            if !all_ok {
                return (start..end).find(|&row| !ok(values[row], row));
            }
            start = end;
        }
        None
    })
    .into_iter()
    .flatten()
    .min()
}

/// Reads a numeric column as contiguous Float64 values and checks every row.
///
/// `bound` gives, for entry times, the duration each entry must not exceed.
pub(crate) fn read_numeric(
    frame: &DataFrame,
    name: &str,
    rule: Rule,
    bound: Option<&[f64]>,
) -> Result<Values> {
    let role = match rule {
        Rule::Event => Role::NumberOrFlag,
        _ => Role::Number,
    };
    let source = crate::input::checked(frame, name, role, rule.purpose())?;
    let values = contiguous(source, name, rule)?;
    let slice = values.slice();
    // One monomorphic loop per rule: the rule is not re-examined for every row.
    let first_bad = match rule {
        Rule::Event => first_failing(slice, |v, _| v == 0.0 || v == 1.0),
        Rule::Duration | Rule::Weight => {
            first_failing(slice, |v, _| (0.0..f64::INFINITY).contains(&v))
        }
        Rule::Entry => first_failing(slice, |v, row| {
            (0.0..f64::INFINITY).contains(&v) && bound.is_none_or(|b| v <= b[row])
        }),
    };
    if let Some(row) = first_bad {
        return Err(invalid(name, rule, row, Some(slice[row])));
    }
    Ok(values)
}

/// The `by` keys of the frame and the group of each row.
pub(crate) fn read_groups(frame: &DataFrame, by: &[String]) -> Result<(Vec<EncodedKey>, Groups)> {
    let mut keys = Vec::with_capacity(by.len());
    for name in by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    let groups = group_rows(&keys, frame.height());
    Ok((keys, groups))
}

/// Event flags, one bit per life.
pub(crate) struct Flags {
    bits: Bitmap,
}

impl Flags {
    /// The flags of `events`.
    pub(crate) fn of(events: &[bool]) -> Flags {
        Flags {
            bits: events.iter().copied().collect(),
        }
    }

    /// Whether life `row` ended in the event.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> bool {
        self.bits.get_bit(row)
    }
}

/// Reads the event column: Boolean columns are used as they are (no copy to floats); numeric
/// ones are checked to hold only 0 and 1.
fn read_flags(frame: &DataFrame, name: &str) -> Result<Flags> {
    let source = column(frame, name, Rule::Event.purpose())?.as_materialized_series();
    if source.dtype().is_bool() {
        let ca = source.bool()?.rechunk();
        if let Some(array) = ca.downcast_iter().next() {
            if let Some(validity) = array.validity().filter(|v| v.unset_bits() > 0) {
                let row = validity.iter().position(|valid| !valid).unwrap_or(0);
                return Err(invalid(name, Rule::Event, row, None));
            }
            return Ok(Flags {
                bits: array.values().clone(),
            });
        }
        return Ok(Flags {
            bits: Bitmap::new(),
        });
    }
    let values = read_numeric(frame, name, Rule::Event, None)?;
    Ok(Flags {
        bits: values.slice().iter().map(|&v| v == 1.0).collect(),
    })
}

/// The checked input of a survival estimator.
pub(crate) struct Lives {
    pub(crate) duration: Values,
    pub(crate) event: Flags,
    pub(crate) entry: Option<Values>,
    pub(crate) weight: Option<Values>,
}

/// Reads and checks the duration, event, entry and weight columns.
pub(crate) fn read_lives(
    frame: &DataFrame,
    duration: &str,
    event: &str,
    entry: Option<&str>,
    weights: Option<&str>,
) -> Result<Lives> {
    let duration = read_numeric(frame, duration, Rule::Duration, None)?;
    let event = read_flags(frame, event)?;
    let entry = match entry {
        Some(name) => Some(read_numeric(
            frame,
            name,
            Rule::Entry,
            Some(duration.slice()),
        )?),
        None => None,
    };
    let weight = match weights {
        Some(name) => Some(read_numeric(frame, name, Rule::Weight, None)?),
        None => None,
    };
    Ok(Lives {
        duration,
        event,
        entry,
        weight,
    })
}
