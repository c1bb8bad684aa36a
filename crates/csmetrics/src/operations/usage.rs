//! Reading a usage table once: the active rows, their keys and calendar days.

use std::collections::HashMap;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{encode_column, group_rows, sorted_keys, EncodedKey};
use crate::input::invalid;

use super::engagement::{EngagementOptions, EngagementUnit};
use super::{instants, numbers, MICROS_PER_DAY};

/// The active rows of a usage table, read once.
pub(super) struct Usage {
    /// Day of each active row (days since 1970-01-01).
    pub(super) day: Vec<i64>,
    /// Input row of each active row.
    pub(super) row: Vec<usize>,
    /// Unit code (customer or customer+user) of each active row.
    pub(super) unit: Vec<u32>,
    /// Customer code of each active row.
    pub(super) customer: Vec<u32>,
    /// Events of each active row.
    pub(super) events: Vec<f64>,
    /// Active users of each active row (aggregates) or 1 (raw events).
    pub(super) users: Vec<f64>,
    /// Group (by keys) of each input row and the sorted key frame.
    pub(super) group: Vec<u32>,
    pub(super) group_keys: Option<(DataFrame, Vec<usize>)>,
    pub(super) groups: usize,
    pub(super) as_of_day: i64,
}

pub(super) fn read_usage(frame: &DataFrame, options: &EngagementOptions) -> Result<Usage> {
    if options.unit == EngagementUnit::User && options.user_id.is_none() {
        return Err(CsError::option(
            "unit",
            "'user'",
            "counting users needs raw events with a user column (user_id=); daily aggregates \
             cannot tell whether two days' users are the same people",
        ));
    }
    let when = instants(frame, &options.date, "the date of each usage row")?;
    let customers = encode_column(column(
        frame,
        &options.customer_id,
        "the customer of each row",
    )?)?;
    let units: Vec<u32> = match (&options.user_id, options.unit) {
        (Some(user), EngagementUnit::User) => {
            let users = encode_column(column(frame, user, "the user of each event")?)?;
            let keys = vec![customers.clone(), users];
            group_rows(&keys, frame.height()).ids
        }
        _ => customers.codes.clone(),
    };
    let raw = options.user_id.is_some();
    let events = match (&options.events, raw) {
        (Some(name), false) => Some(numbers(frame, name, "the events of each day")?),
        _ => None,
    };
    let users = match (&options.active_users, raw) {
        (Some(name), false) => Some(numbers(frame, name, "the active users of each day")?),
        _ => None,
    };
    let as_of = options
        .as_of
        .unwrap_or_else(|| when.iter().flatten().copied().max().unwrap_or(0));
    let as_of_day = as_of.div_euclid(MICROS_PER_DAY);
    let mut keys: Vec<EncodedKey> = Vec::new();
    for name in &options.by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    let (group, groups, group_keys) = if keys.is_empty() {
        (vec![0u32; frame.height()], 1, None)
    } else {
        let g = group_rows(&keys, frame.height());
        // by= takes customer attributes only: a customer in two groups would be counted twice.
        let mut first_group: HashMap<u32, (u32, usize)> = HashMap::new();
        for (row, (customer, group)) in customers.codes.iter().zip(&g.ids).enumerate() {
            let (seen, first_row) = *first_group.entry(*customer).or_insert((*group, row));
            if seen != *group {
                let names = options.by.join(", ");
                return Err(invalid(
                    &names,
                    row,
                    format!("a value other than on row {first_row} for the same customer"),
                    "by= takes customer-level attributes only: each customer needs one value",
                ));
            }
        }
        let sorted = sorted_keys(&keys, &g)?;
        (g.ids.clone(), g.count(), Some(sorted))
    };
    let mut out = Usage {
        day: Vec::new(),
        row: Vec::new(),
        unit: Vec::new(),
        customer: Vec::new(),
        events: Vec::new(),
        users: Vec::new(),
        group,
        group_keys,
        groups,
        as_of_day,
    };
    let check =
        |values: &Option<Vec<Option<f64>>>, name: &Option<String>, row: usize| -> Result<f64> {
            match values {
                None => Ok(1.0),
                Some(v) => match v[row] {
                    Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
                    other => Err(invalid(
                        name.as_deref().unwrap_or(""),
                        row,
                        other.map_or("null".into(), format_number),
                        "usage counts must be non-negative numbers",
                    )),
                },
            }
        };
    for row in 0..frame.height() {
        let t = when[row]
            .ok_or_else(|| invalid(&options.date, row, "null", "every usage row needs a date"))?;
        let e = check(&events, &options.events, row)?;
        let u = check(&users, &options.active_users, row)?;
        let day = t.div_euclid(MICROS_PER_DAY);
        // A day with neither users nor events is not activity.
        if day > as_of_day || (events.is_some() || users.is_some()) && e == 0.0 && u == 0.0 {
            continue;
        }
        out.day.push(day);
        out.row.push(row);
        out.unit.push(units[row]);
        out.customer.push(customers.codes[row]);
        out.events.push(e);
        out.users.push(u);
    }
    Ok(out)
}

pub(super) fn key_columns(usage: &Usage, cells: &[(usize, i64)]) -> Result<Vec<Column>> {
    let mut columns = Vec::new();
    if let Some((frame, order)) = &usage.group_keys {
        let mut position = vec![0usize; usage.groups];
        for (i, g) in order.iter().enumerate() {
            position[*g] = i;
        }
        let idx: Vec<IdxSize> = cells.iter().map(|c| position[c.0] as IdxSize).collect();
        let taken = frame.take(&IdxCa::from_vec("".into(), idx))?;
        columns.extend(taken.into_columns());
    }
    columns.push(
        Column::new(
            "period".into(),
            cells.iter().map(|c| c.1 as i32).collect::<Vec<_>>(),
        )
        .cast(&DataType::Date)?,
    );
    Ok(columns)
}

pub(super) fn sort_cells(usage: &Usage, cells: &mut [(usize, i64)]) {
    let mut rank = vec![0usize; usage.groups];
    if let Some((_, order)) = &usage.group_keys {
        for (i, g) in order.iter().enumerate() {
            rank[*g] = i;
        }
    }
    cells.sort_by_key(|c| (rank[c.0], c.1));
}
