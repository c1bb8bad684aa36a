//! The shared reading of the journey family: the customers (their start, end and group) and, for
//! each customer and stage of a journey, when the stage was first reached.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::column;
use crate::groups::{encode_column, group_rows, joint_codes, rows_by_code, sorted_keys};
use crate::input::{invalid, optional_instants};
use crate::period::period_key;
use crate::revenue::input::format_instant;

use super::{BeforeStart, MilestoneColumns, Order, Starts};

/// Not reached (by `as_of`).
pub(super) const NOT_REACHED: i64 = i64::MAX;

/// The customers of a journey analysis, one per distinct id.
pub(super) struct Population {
    /// Start of each customer (µs).
    pub start: Vec<i64>,
    /// End (churn) of each customer, if it churned.
    pub end: Vec<Option<i64>>,
    /// Group (by keys and cohort) of each customer, in `0..groups`.
    pub group: Vec<u32>,
    /// The group keys, one row per group in key order, and the group id of each of their rows.
    pub keys: DataFrame,
    pub order: Vec<usize>,
    /// Number of groups (1 without keys).
    pub groups: usize,
    /// The id of each customer (the customers table's id column at the customer's first row of
    /// the earliest start).
    pub ids: Column,
}

impl Population {
    pub fn len(&self) -> usize {
        self.start.len()
    }

    /// The latest instant of the population (starts and ends).
    pub fn latest(&self) -> Option<i64> {
        self.start
            .iter()
            .copied()
            .chain(self.end.iter().flatten().copied())
            .max()
    }
}

/// The customer of each row of the customers table and of another table, from one coding of
/// both id columns: customers are numbered in order of first appearance in the customers table;
/// a row of the other table whose id is not a customer's is an error naming it.
fn customer_codes(
    customer_ids: &Column,
    other: &Column,
    name: &str,
    table: &str,
) -> Result<(Vec<u32>, Vec<u32>, usize)> {
    crate::input::check(
        customer_ids.as_materialized_series(),
        customer_ids.name(),
        crate::input::Role::Key,
        "the customer of each row",
    )?;
    crate::input::check(
        other.as_materialized_series(),
        name,
        crate::input::Role::Key,
        "the customer of each row",
    )?;
    let codes = joint_codes(
        other,
        customer_ids,
        name,
        &format!("the {table}' customer ids must have the type of the customers'"),
    )?;
    let (theirs, ours) = codes.split_at(other.len());
    let joint = codes.iter().max().map_or(0, |m| *m as usize + 1);
    let mut customer_of = vec![u32::MAX; joint];
    let mut count = 0u32;
    let mut rows = Vec::with_capacity(ours.len());
    for code in ours {
        let c = &mut customer_of[*code as usize];
        if *c == u32::MAX {
            *c = count;
            count += 1;
        }
        rows.push(*c);
    }
    let mut out = Vec::with_capacity(theirs.len());
    for (row, code) in theirs.iter().enumerate() {
        let c = customer_of[*code as usize];
        if c == u32::MAX {
            return Err(invalid(
                name,
                row,
                crate::input::plain(other.get(row)?),
                &format!("every customer of the {table} must be in the customers table"),
            ));
        }
        out.push(c);
    }
    Ok((rows, out, count as usize))
}

/// Reads the customers table (one customer per distinct id) and finds the customer of each row
/// of another table's id column `other` (named `other_name`, of the `table`).
pub(super) fn population(
    frame: &DataFrame,
    starts: &Starts,
    other: &Column,
    other_name: &str,
    table: &str,
) -> Result<(Population, Vec<u32>)> {
    let id_column = column(frame, &starts.customer_id, "the customer of each row")?;
    // The customers table's own columns first: a missing one is named before any id is matched.
    let what = "when each customer started (signup or first subscription)";
    let (start, _) = optional_instants(frame, &starts.start, what)?;
    let end = match &starts.end {
        Some(name) => optional_instants(frame, name, "when each customer churned")?.0,
        None => vec![None; frame.height()],
    };
    for name in &starts.by {
        column(frame, name, "grouping (by=)")?;
    }
    let (row_customer, theirs, customers) = customer_codes(id_column, other, other_name, table)?;
    let mut first = vec![i64::MAX; customers];
    let mut rep = vec![0 as IdxSize; customers];
    // i64::MIN: no row yet; None: a row without an end (still active).
    let mut last_end: Vec<Option<i64>> = vec![Some(i64::MIN); customers];
    for (row, code) in row_customer.iter().enumerate() {
        let c = *code as usize;
        let Some(s) = start[row] else {
            return Err(invalid(
                &starts.start,
                row,
                "null",
                "every customer needs a start",
            ));
        };
        if let Some(e) = end[row] {
            if e < s {
                return Err(invalid(
                    starts.end.as_deref().unwrap_or_default(),
                    row,
                    format_instant(e),
                    "a customer cannot churn before its start",
                ));
            }
        }
        if s < first[c] {
            first[c] = s;
            rep[c] = row as IdxSize;
        }
        last_end[c] = match (last_end[c], end[row]) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    let take = IdxCa::from_vec("".into(), rep);
    let mut names: Vec<PlSmallStr> = starts.by.iter().map(|n| n.as_str().into()).collect();
    names.push(starts.start.as_str().into());
    let picked = frame.select(names)?.take(&take)?;
    let mut keys = Vec::with_capacity(starts.by.len() + 1);
    for name in &starts.by {
        keys.push(encode_column(picked.column(name)?)?);
    }
    if let Some(period) = starts.cohort {
        keys.push(period_key(&picked, &starts.start, period, "cohort")?);
    }
    let (group, keys_frame, order, groups) = if keys.is_empty() {
        (
            vec![0; customers],
            DataFrame::empty_with_height(1),
            vec![0],
            1,
        )
    } else {
        let grouped = group_rows(&keys, customers);
        let (keys_frame, order) = sorted_keys(&keys, &grouped)?;
        let count = grouped.count();
        (grouped.ids, keys_frame, order, count)
    };
    let ids = id_column
        .as_materialized_series()
        .take(&take)?
        .into_column();
    let people = Population {
        start: first,
        end: last_end
            .into_iter()
            .map(|e| e.filter(|e| *e != i64::MIN))
            .collect(),
        group,
        keys: keys_frame,
        order,
        groups,
        ids,
    };
    Ok((people, theirs))
}

/// When each customer first reached each stage of a journey.
pub(super) struct Reach {
    /// Stages per customer.
    pub stages: usize,
    /// `elapsed[customer * stages + stage]`: µs from the customer's start to reaching the stage,
    /// [`NOT_REACHED`] if it was not reached by `as_of`.
    pub elapsed: Vec<i64>,
    /// Per group and stage, the rows of a milestone that was already reached (repeats: the first
    /// one counts).
    pub repeats: Vec<i64>,
    /// Per group and stage, the rows dated before the customer's start (`before_start="drop"`).
    pub before_start: Vec<i64>,
    /// The latest milestone timestamp (for the default `as_of`).
    pub latest: Option<i64>,
}

/// The journey's milestones: codes of the milestone column for each stage, or an error naming a
/// stage that never occurs.
fn stage_codes(
    frame: &DataFrame,
    columns: &MilestoneColumns,
    journey: &[String],
) -> Result<(Vec<u32>, Vec<u32>)> {
    if journey.is_empty() {
        return Err(CsError::option(
            "journey",
            "[]",
            "a journey needs at least one milestone",
        ));
    }
    for (i, name) in journey.iter().enumerate() {
        if journey[..i].contains(name) {
            return Err(CsError::option(
                "journey",
                format!("'{name}'"),
                "each milestone may appear once in a journey",
            ));
        }
    }
    let names = column(frame, &columns.milestone, "the milestone of each row")?;
    crate::input::check(
        names.as_materialized_series(),
        &columns.milestone,
        crate::input::Role::Text,
        "the milestone of each row",
    )?;
    let key = encode_column(names)?;
    let labels = key.labels.cast(&DataType::String)?;
    let labels = labels.str()?;
    let mut stage_of_code = vec![u32::MAX; labels.len()];
    for (stage, name) in journey.iter().enumerate() {
        let code = labels.iter().position(|l| l == Some(name.as_str()));
        match code {
            Some(code) => stage_of_code[code] = stage as u32,
            None => {
                let mut known: Vec<&str> = labels.iter().flatten().collect();
                known.sort_unstable();
                let shown: Vec<String> = known.iter().take(12).map(|k| format!("'{k}'")).collect();
                let more = if known.len() > 12 { ", ..." } else { "" };
                return Err(CsError::option(
                    "journey",
                    format!("'{name}'"),
                    &format!(
                        "every milestone of the journey must occur in column '{}' (it holds {}{more})",
                        columns.milestone,
                        if shown.is_empty() { "no milestone".to_string() } else { shown.join(", ") }
                    ),
                ));
            }
        }
    }
    // A null milestone name matches no stage: its rows are other events.
    Ok((key.codes, stage_of_code))
}

/// Reads the milestones (whose rows belong to the customers `customer`) and finds when each
/// customer first reached each stage, up to `as_of` (None: no limit).
#[allow(clippy::too_many_arguments)]
pub(super) fn reach(
    frame: &DataFrame,
    columns: &MilestoneColumns,
    journey: &[String],
    order: Order,
    before_start: BeforeStart,
    people: &Population,
    customer: &[u32],
    as_of: Option<i64>,
) -> Result<Reach> {
    let stages = journey.len();
    let (codes, stage_of_code) = stage_codes(frame, columns, journey)?;
    let (times, _) =
        optional_instants(frame, &columns.timestamp, "when each milestone was reached")?;
    let groups = people.groups;
    let mut repeats = vec![0i64; groups * stages];
    let mut early = vec![0i64; groups * stages];
    let mut latest: Option<i64> = None;
    // The rows that count: their customer, stage and time.
    let mut kept_customer: Vec<u32> = Vec::new();
    let mut kept: Vec<(u32, i64)> = Vec::new();
    for row in 0..frame.height() {
        let stage = stage_of_code[codes[row] as usize];
        let Some(t) = times[row] else {
            return Err(invalid(
                &columns.timestamp,
                row,
                "null",
                "every milestone needs a timestamp",
            ));
        };
        latest = latest.max(Some(t));
        if stage == u32::MAX {
            continue;
        }
        let c = customer[row] as usize;
        if t < people.start[c] {
            match before_start {
                BeforeStart::Raise => {
                    return Err(invalid(
                        &columns.timestamp,
                        row,
                        format_instant(t),
                        &format!(
                            "a milestone cannot come before its customer's start ({}); \
                             before_start='drop' leaves such rows out and counts them",
                            format_instant(people.start[c])
                        ),
                    ))
                }
                BeforeStart::Drop => {
                    early[people.group[c] as usize * stages + stage as usize] += 1;
                    continue;
                }
            }
        }
        if as_of.is_some_and(|a| t > a) {
            continue;
        }
        kept_customer.push(c as u32);
        kept.push((stage, t));
    }
    let (offsets, rows) = rows_by_code(&kept_customer, people.len());
    let mut elapsed = vec![NOT_REACHED; people.len() * stages];
    let mut mine: Vec<(u32, i64)> = Vec::new();
    for c in 0..people.len() {
        let span = &rows[offsets[c]..offsets[c + 1]];
        if span.is_empty() {
            continue;
        }
        mine.clear();
        mine.extend(span.iter().map(|r| kept[*r as usize]));
        mine.sort_unstable();
        let g = people.group[c] as usize;
        let out = &mut elapsed[c * stages..(c + 1) * stages];
        let start = people.start[c];
        let mut previous: Option<i64> = Some(i64::MIN);
        let mut at = 0;
        for stage in 0..stages as u32 {
            let lo = at;
            while at < mine.len() && mine[at].0 == stage {
                at += 1;
            }
            let occurrences = &mine[lo..at];
            if occurrences.len() > 1 {
                repeats[g * stages + stage as usize] += occurrences.len() as i64 - 1;
            }
            let first = match order {
                Order::Any => occurrences.first().map(|o| o.1),
                Order::Strict => {
                    previous.and_then(|p| occurrences.iter().map(|o| o.1).find(|t| *t >= p))
                }
            };
            if let Some(t) = first {
                out[stage as usize] = t - start;
            }
            previous = first;
        }
    }
    Ok(Reach {
        stages,
        elapsed,
        repeats,
        before_start: early,
        latest,
    })
}
