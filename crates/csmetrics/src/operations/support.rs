//! First contact resolution of support tickets.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::format_number;
use crate::input::invalid;
use crate::period::Period;

use super::{describe_instant, grouped, instants, numbers, MICROS_PER_DAY};

/// Options of [`first_contact_resolution`].
#[derive(Debug, Clone)]
pub struct FcrOptions {
    /// Opened-at column (the ticket's period). Default `opened_at`.
    pub opened_at: String,
    /// Resolved-at column, null while open. Default `resolved_at`.
    pub resolved_at: String,
    /// Number of customer contacts column (integers >= 1). Default `contacts`.
    pub contacts: String,
    /// Reopened-at column, if any. Default `reopened_at`.
    pub reopened_at: Option<String>,
    /// Boolean column: could the ticket be resolved at first contact (null counts as true).
    /// Default `resolvable_at_first_contact`; None treats every ticket as resolvable.
    pub resolvable: Option<String>,
    /// Days after resolution within which a reopen cancels first contact resolution. Default 7.
    pub reopen_window_days: f64,
    /// Grouping columns.
    pub by: Vec<String>,
    /// Reporting period. Default month.
    pub period: Period,
}

impl Default for FcrOptions {
    fn default() -> Self {
        FcrOptions {
            opened_at: "opened_at".into(),
            resolved_at: "resolved_at".into(),
            contacts: "contacts".into(),
            reopened_at: Some("reopened_at".into()),
            resolvable: Some("resolvable_at_first_contact".into()),
            reopen_window_days: 7.0,
            by: Vec::new(),
            period: Period::Month,
        }
    }
}

/// First contact resolution, gross and net, per group and period of the opening.
///
/// A resolved ticket is resolved at first contact when it took one contact and was not reopened
/// within `reopen_window` days of its resolution. Columns: keys, `period`, `tickets`,
/// `resolved`, `first_contact_resolved`, `fcr_gross` = first-contact resolved / resolved,
/// `resolvable`, `resolvable_first_contact_resolved`, `fcr_net` (the same among resolved tickets
/// resolvable at first contact).
pub fn first_contact_resolution(frame: &DataFrame, options: &FcrOptions) -> Result<DataFrame> {
    if !(options.reopen_window_days.is_finite() && options.reopen_window_days >= 0.0) {
        return Err(CsError::option(
            "reopen_window",
            format_number(options.reopen_window_days),
            "the reopen window must be a non-negative number of days",
        ));
    }
    let opened = instants(frame, &options.opened_at, "when each ticket was opened")?;
    let resolved = instants(frame, &options.resolved_at, "when each ticket was resolved")?;
    let contacts = numbers(
        frame,
        &options.contacts,
        "the number of contacts of each ticket",
    )?;
    let reopened = match &options.reopened_at {
        Some(name) => instants(frame, name, "when each ticket was reopened")?,
        None => vec![None; frame.height()],
    };
    let resolvable: Vec<bool> = match &options.resolvable {
        Some(name) => crate::input::flags(
            frame,
            name,
            "whether each ticket was resolvable at first contact",
            "resolvable at first contact must be true/false or 1/0",
        )?
        .into_iter()
        .map(|v| v.unwrap_or(true))
        .collect(),
        None => vec![true; frame.height()],
    };
    let window = (options.reopen_window_days * MICROS_PER_DAY as f64).round() as i64;
    for row in 0..frame.height() {
        match contacts[row] {
            Some(c) if c.is_finite() && c >= 1.0 && c.fract() == 0.0 => {}
            // An open ticket may not have contacts recorded yet.
            None if resolved[row].is_none() => {}
            other => {
                return Err(invalid(
                    &options.contacts,
                    row,
                    other.map_or("null".into(), format_number),
                    "contacts must be whole numbers >= 1",
                ))
            }
        }
        if let (Some(o), Some(r)) = (opened[row], resolved[row]) {
            if r < o {
                return Err(invalid(
                    &options.resolved_at,
                    row,
                    describe_instant(r),
                    "a ticket cannot be resolved before it was opened",
                ));
            }
        }
    }
    let g = grouped(frame, &options.by, &options.opened_at, options.period)?;
    let n = g.count;
    let (mut tickets, mut done, mut first, mut able, mut able_first) = (
        vec![0i64; n],
        vec![0i64; n],
        vec![0i64; n],
        vec![0i64; n],
        vec![0i64; n],
    );
    for row in 0..frame.height() {
        let id = g.ids[row] as usize;
        tickets[id] += 1;
        let Some(r) = resolved[row] else { continue };
        done[id] += 1;
        let reopened_in_window = reopened[row].is_some_and(|t| t >= r && t <= r + window);
        let at_first = contacts[row] == Some(1.0) && !reopened_in_window;
        if at_first {
            first[id] += 1;
        }
        if resolvable[row] {
            able[id] += 1;
            if at_first {
                able_first[id] += 1;
            }
        }
    }
    let columns = vec![
        g.counts("tickets", &tickets),
        g.counts("resolved", &done),
        g.counts("first_contact_resolved", &first),
        g.rates("fcr_gross", &first, &done),
        g.counts("resolvable", &able),
        g.counts("resolvable_first_contact_resolved", &able_first),
        g.rates("fcr_net", &able_first, &able),
    ];
    g.finish(columns)
}
