//! Milestone funnels per signup cohort, and the time to each milestone.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::period::MICROS_PER_DAY;

use super::reach::{population, reach, Population, Reach, NOT_REACHED};
use super::{BeforeStart, MilestoneColumns, Order, Starts};

/// Options of [`milestone_funnel`].
#[derive(Debug, Clone)]
pub struct FunnelOptions {
    /// The customers table's columns, groups and cohort period (default: `customer_id`,
    /// `signup_date`, monthly cohorts).
    pub starts: Starts,
    /// The milestones table's columns.
    pub milestones: MilestoneColumns,
    /// The journey: milestone names in order.
    pub journey: Vec<String>,
    /// Windows in whole days after the start. Default `[30]`.
    pub window_days: Vec<i64>,
    /// Whether milestones count only in the journey's order. Default [`Order::Strict`].
    pub order: Order,
    /// The cut-off (µs): milestones after it are not seen, windows not closed by it are pending.
    /// Default: the latest instant of either table.
    pub as_of: Option<i64>,
    /// Milestones dated before their customer's start. Default [`BeforeStart::Raise`].
    pub before_start: BeforeStart,
}

impl Default for FunnelOptions {
    fn default() -> Self {
        FunnelOptions {
            starts: Starts::default(),
            milestones: MilestoneColumns::default(),
            journey: Vec::new(),
            window_days: vec![30],
            order: Order::Strict,
            as_of: None,
            before_start: BeforeStart::Raise,
        }
    }
}

/// The customers and their reach, with the cut-off in force.
pub(super) struct Read {
    pub people: Population,
    pub reach: Reach,
    pub as_of: i64,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn read(
    milestones: &DataFrame,
    customers: &DataFrame,
    starts: &Starts,
    columns: &MilestoneColumns,
    journey: &[String],
    order: Order,
    before_start: BeforeStart,
    as_of: Option<i64>,
) -> Result<Read> {
    let ids = crate::frame::column(
        milestones,
        &columns.customer_id,
        "the customer of each milestone",
    )?;
    let (people, customer) =
        population(customers, starts, ids, &columns.customer_id, "milestones")?;
    let reach = reach(
        milestones,
        columns,
        journey,
        order,
        before_start,
        &people,
        &customer,
        as_of,
    )?;
    let as_of = as_of
        .or_else(|| people.latest().max(reach.latest))
        .unwrap_or(0);
    Ok(Read {
        people,
        reach,
        as_of,
    })
}

/// The milestone funnel: per group (the `by` keys and the signup cohort), window and stage of the
/// journey, the customers who reached the milestone within the window of their start.
///
/// Columns: the keys, `window_days`, `stage` (1 for the journey's first milestone), `milestone`,
/// `customers` (of the group), `pending` (whose window has not closed by `as_of`: start + window
/// after as_of), `eligible` = customers - pending, `reached` (eligible customers who reached the
/// stage within the window: at most `window_days` days after their start), `share` = reached /
/// eligible, `conversion` = reached / the previous stage's reached (the share for the first
/// stage), `pending_reached` (pending customers who already reached it), `repeats` (rows of a
/// milestone a customer had already reached; the first one counts) and `before_start` (rows left
/// out by `before_start="drop"`). Rates with a zero denominator are null.
pub fn milestone_funnel(
    milestones: &DataFrame,
    customers: &DataFrame,
    options: &FunnelOptions,
) -> Result<DataFrame> {
    if options.window_days.is_empty() {
        return Err(CsError::option(
            "window_days",
            "[]",
            "give at least one window",
        ));
    }
    for (i, w) in options.window_days.iter().enumerate() {
        if options.window_days[..i].contains(w) {
            return Err(CsError::option(
                "window_days",
                w,
                "each window may be given once",
            ));
        }
    }
    if let Some(w) = options.window_days.iter().find(|w| **w < 0) {
        return Err(CsError::option(
            "window_days",
            w,
            "windows are whole numbers of days >= 0",
        ));
    }
    let r = read(
        milestones,
        customers,
        &options.starts,
        &options.milestones,
        &options.journey,
        options.order,
        options.before_start,
        options.as_of,
    )?;
    let (people, reach) = (&r.people, &r.reach);
    let stages = reach.stages;
    let windows = &options.window_days;
    let cells = people.groups * windows.len() * stages;
    let (mut total, mut pending, mut reached, mut pending_reached) = (
        vec![0i64; cells],
        vec![0i64; cells],
        vec![0i64; cells],
        vec![0i64; cells],
    );
    for c in 0..people.len() {
        let g = people.group[c] as usize;
        let elapsed = &reach.elapsed[c * stages..(c + 1) * stages];
        for (w, days) in windows.iter().enumerate() {
            let span = days.saturating_mul(MICROS_PER_DAY);
            let open = people.start[c].saturating_add(span) > r.as_of;
            let base = (g * windows.len() + w) * stages;
            for (s, e) in elapsed.iter().enumerate() {
                total[base + s] += 1;
                let hit = *e != NOT_REACHED && *e <= span;
                if open {
                    pending[base + s] += 1;
                    pending_reached[base + s] += i64::from(hit);
                } else {
                    reached[base + s] += i64::from(hit);
                }
            }
        }
    }
    let rows = people.order.len() * windows.len() * stages;
    let mut key_rows: Vec<IdxSize> = Vec::with_capacity(rows);
    let (mut window_col, mut stage_col, mut name_col) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    let mut out: [Vec<i64>; 7] = std::array::from_fn(|_| Vec::with_capacity(rows));
    let (mut share, mut conversion) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for (key_row, &g) in people.order.iter().enumerate() {
        for (w, days) in windows.iter().enumerate() {
            let base = (g * windows.len() + w) * stages;
            for s in 0..stages {
                let i = base + s;
                key_rows.push(key_row as IdxSize);
                window_col.push(*days);
                stage_col.push(s as i64 + 1);
                name_col.push(options.journey[s].as_str());
                let eligible = total[i] - pending[i];
                out[0].push(total[i]);
                out[1].push(pending[i]);
                out[2].push(eligible);
                out[3].push(reached[i]);
                out[4].push(pending_reached[i]);
                out[5].push(reach.repeats[g * stages + s]);
                out[6].push(reach.before_start[g * stages + s]);
                share.push(ratio(reached[i], eligible));
                let previous = if s == 0 { eligible } else { reached[i - 1] };
                conversion.push(ratio(reached[i], previous));
            }
        }
    }
    let keys = people.keys.take(&IdxCa::from_vec("".into(), key_rows))?;
    let mut columns = keys.into_columns();
    let [customers, pending, eligible, reached, pending_reached, repeats, early] = out;
    columns.extend([
        Column::new("window_days".into(), window_col),
        Column::new("stage".into(), stage_col),
        Column::new("milestone".into(), name_col),
        Column::new("customers".into(), customers),
        Column::new("pending".into(), pending),
        Column::new("eligible".into(), eligible),
        Column::new("reached".into(), reached),
        Column::new("share".into(), share),
        Column::new("conversion".into(), conversion),
        Column::new("pending_reached".into(), pending_reached),
        Column::new("repeats".into(), repeats),
        Column::new("before_start".into(), early),
    ]);
    Ok(DataFrame::new(rows, columns)?)
}

fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Options of [`time_to_milestone`].
#[derive(Debug, Clone)]
pub struct TimeToMilestoneOptions {
    /// The customers table's columns, groups and cohort period (default: no cohort key; set
    /// `starts.end` to censor at churn).
    pub starts: Starts,
    /// The milestones table's columns.
    pub milestones: MilestoneColumns,
    /// The journey: milestone names in order.
    pub journey: Vec<String>,
    /// Whether milestones count only in the journey's order. Default [`Order::Strict`].
    pub order: Order,
    /// The cut-off (µs). Default: the latest instant of either table.
    pub as_of: Option<i64>,
    /// Milestones dated before their customer's start. Default [`BeforeStart::Raise`].
    pub before_start: BeforeStart,
    /// Confidence level of the intervals. Default 0.95.
    pub confidence: f64,
}

impl Default for TimeToMilestoneOptions {
    fn default() -> Self {
        TimeToMilestoneOptions {
            starts: Starts {
                cohort: None,
                ..Starts::default()
            },
            milestones: MilestoneColumns::default(),
            journey: Vec::new(),
            order: Order::Strict,
            as_of: None,
            before_start: BeforeStart::Raise,
            confidence: 0.95,
        }
    }
}

/// The lives of a Kaplan-Meier estimate of the days from start to each stage: per life its
/// cell (stage * groups + group), duration in days and event.
pub(super) fn stage_lives(r: &Read) -> (Vec<u32>, Vec<f64>, Vec<bool>) {
    let (people, reach) = (&r.people, &r.reach);
    let stages = reach.stages;
    let n = people.len() * stages;
    let (mut cell, mut duration, mut event) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let day = MICROS_PER_DAY as f64;
    for s in 0..stages {
        for c in 0..people.len() {
            let e = reach.elapsed[c * stages + s];
            cell.push((s * people.groups) as u32 + people.group[c]);
            if e != NOT_REACHED {
                duration.push(e as f64 / day);
                event.push(true);
            } else {
                let until = people.end[c].map_or(r.as_of, |end| end.min(r.as_of));
                duration.push((until - people.start[c]).max(0) as f64 / day);
                event.push(false);
            }
        }
    }
    (cell, duration, event)
}

/// Time to each milestone of a journey (time to value): a Kaplan-Meier estimate of the days from
/// the customer's start to reaching the milestone, censored at `as_of` or at the customer's churn
/// (`starts.end`) for customers who have not reached it.
///
/// Columns: `stage`, `milestone`, the keys, `customers`, `reached`, `censored`, then `median`,
/// `p25` and `p75` of the days (the first time at which at least that share of customers has
/// reached the milestone; null if never), each with `_lower` and `_upper` bounds from the
/// log(-log) interval of the curve. One row per stage and group, in stage then key order.
pub fn time_to_milestone(
    milestones: &DataFrame,
    customers: &DataFrame,
    options: &TimeToMilestoneOptions,
) -> Result<DataFrame> {
    let r = read(
        milestones,
        customers,
        &options.starts,
        &options.milestones,
        &options.journey,
        options.order,
        options.before_start,
        options.as_of,
    )?;
    let stages = r.reach.stages;
    let groups = r.people.groups;
    let (cells, durations, events) = stage_lives(&r);
    let levels = [0.5, 0.25, 0.75];
    let names = ["median", "p25", "p75"];
    let summary = crate::survival::kaplan_meier_quantiles(
        durations,
        &events,
        &cells,
        stages * groups,
        options.confidence,
        &levels,
    )?;
    let (mut take, mut key_rows, mut stage_col, mut name_col) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in 0..stages {
        for (key_row, &g) in r.people.order.iter().enumerate() {
            let cell = s * groups + g;
            if summary[cell].n > 0.0 {
                take.push(cell);
                key_rows.push(key_row as IdxSize);
                stage_col.push(s as i64 + 1);
                name_col.push(options.journey[s].as_str());
            }
        }
    }
    let rows = take.len();
    let keys = r.people.keys.take(&IdxCa::from_vec("".into(), key_rows))?;
    let mut columns = vec![
        Column::new("stage".into(), stage_col),
        Column::new("milestone".into(), name_col),
    ];
    columns.extend(keys.into_columns());
    let count = |f: &dyn Fn(&crate::survival::Quantiles) -> f64| -> Vec<i64> {
        take.iter().map(|c| f(&summary[*c]) as i64).collect()
    };
    columns.push(Column::new("customers".into(), count(&|q| q.n)));
    columns.push(Column::new("reached".into(), count(&|q| q.events)));
    columns.push(Column::new("censored".into(), count(&|q| q.n - q.events)));
    for (l, name) in names.iter().enumerate() {
        for (b, suffix) in ["", "_lower", "_upper"].iter().enumerate() {
            let values: Vec<Option<f64>> = take.iter().map(|c| summary[*c].values[l][b]).collect();
            columns.push(Column::new(format!("{name}{suffix}").into(), values));
        }
    }
    Ok(DataFrame::new(rows, columns)?)
}
