//! Engagement (DAU, WAU, MAU, stickiness, usage per active customer) and feature adoption.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::column;
use crate::groups::encode_column;
use crate::period::Period;

use super::rate;
use super::usage::{key_columns, read_usage, sort_cells};

/// What DAU and MAU count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngagementUnit {
    /// Distinct active customers (default).
    #[default]
    Customer,
    /// Distinct active users (needs raw events with a user column).
    User,
}

impl FromStr for EngagementUnit {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "customer" => Ok(Self::Customer),
            "user" => Ok(Self::User),
            other => Err(CsError::option(
                "unit",
                format!("'{other}'"),
                "expected 'customer' or 'user'",
            )),
        }
    }
}

/// Options of [`engagement`] and [`feature_adoption`].
#[derive(Debug, Clone)]
pub struct EngagementOptions {
    /// Customer id column. Default `customer_id`.
    pub customer_id: String,
    /// Date (daily aggregates) or timestamp (raw events) column. Default `date`.
    pub date: String,
    /// User id column: when given the input is raw events (one row per event). Default none.
    pub user_id: Option<String>,
    /// Daily active users column of aggregates. Default `active_users`; None for raw events.
    pub active_users: Option<String>,
    /// Daily events column of aggregates. Default `events`; None counts one event per row.
    pub events: Option<String>,
    /// Feature column, if any. Default none (required by [`feature_adoption`]).
    pub feature: Option<String>,
    /// Unit counted.
    pub unit: EngagementUnit,
    /// Cut-off in µs since 1970-01-01 UTC; default the latest date in the input. Days after it
    /// are ignored.
    pub as_of: Option<i64>,
    /// Customer-level grouping columns.
    pub by: Vec<String>,
    /// Reporting period. Default month.
    pub period: Period,
}

impl Default for EngagementOptions {
    fn default() -> Self {
        EngagementOptions {
            customer_id: "customer_id".into(),
            date: "date".into(),
            user_id: None,
            active_users: Some("active_users".into()),
            events: Some("events".into()),
            feature: None,
            unit: EngagementUnit::Customer,
            as_of: None,
            by: Vec::new(),
            period: Period::Month,
        }
    }
}

/// Engagement per group and period.
///
/// Columns: keys, `period`, `complete` (false for the period containing `as_of`), `days`
/// (calendar days of the period up to `as_of`), `dau` (mean over those days of the distinct
/// active units of each day), `wau` (mean over those days of the distinct units active in the
/// seven days ending on each, activity in the previous period included), `active` (distinct active units in the period: MAU for months),
/// `stickiness` = dau / active, `active_customers`, `events`, `events_per_active_customer`,
/// `active_users_per_active_customer` (mean over active customer-days of the day's active
/// users, the largest of the day's rows, for aggregates). A unit is active on a day when it has a row with users or events that day.
pub fn engagement(frame: &DataFrame, options: &EngagementOptions) -> Result<DataFrame> {
    let usage = read_usage(frame, options)?;
    let period = options.period;
    // (group, period) -> stats
    #[derive(Default)]
    struct Cell {
        day_units: HashSet<(i64, u32)>,
        // Days of the period on which each unit was active in the 7 days ending that day.
        week_units: HashSet<(i64, u32)>,
        units: HashSet<u32>,
        customers: HashSet<u32>,
        // Most active users of each customer-day: rows per feature repeat the same people.
        customer_days: HashMap<(i64, u32), f64>,
        events: f64,
    }
    let mut cells: HashMap<(usize, i64), Cell> = HashMap::new();
    let mut spill: Vec<(usize, i64, i64, u32)> = Vec::new();
    for i in 0..usage.day.len() {
        let g = usage.group[usage.row[i]] as usize;
        let p = period.start_of(usage.day[i]);
        let cell = cells.entry((g, p)).or_default();
        cell.day_units.insert((usage.day[i], usage.unit[i]));
        // Activity on day a counts towards the trailing weeks ending on a..=a+6, which may lie
        // in the next period (filled below).
        for ahead in 0..7 {
            let covered = usage.day[i] + ahead;
            if covered > usage.as_of_day {
                break;
            }
            let cp = period.start_of(covered);
            if cp == p {
                cell.week_units.insert((covered, usage.unit[i]));
            } else {
                spill.push((g, cp, covered, usage.unit[i]));
            }
        }
        cell.units.insert(usage.unit[i]);
        cell.customers.insert(usage.customer[i]);
        let users = cell
            .customer_days
            .entry((usage.day[i], usage.customer[i]))
            .or_insert(0.0);
        *users = users.max(usage.users[i]);
        cell.events += usage.events[i];
    }
    for (g, p, covered, unit) in spill {
        // Only periods with activity of their own are reported.
        if let Some(cell) = cells.get_mut(&(g, p)) {
            cell.week_units.insert((covered, unit));
        }
    }
    let mut keys: Vec<(usize, i64)> = cells.keys().copied().collect();
    sort_cells(&usage, &mut keys);
    let mut columns = key_columns(&usage, &keys)?;
    let mut complete = Vec::new();
    let mut days = Vec::new();
    let mut dau = Vec::new();
    let mut wau = Vec::new();
    let mut active = Vec::new();
    let mut stickiness = Vec::new();
    let mut customers = Vec::new();
    let mut events = Vec::new();
    let mut per_customer = Vec::new();
    let mut users_per_customer = Vec::new();
    for key in &keys {
        let cell = &cells[key];
        let next = period.next_start(key.1);
        let last = (next - 1).min(usage.as_of_day);
        let n_days = last - key.1 + 1;
        complete.push(next - 1 <= usage.as_of_day);
        days.push(n_days);
        let mean_dau = cell.day_units.len() as f64 / n_days as f64;
        dau.push(mean_dau);
        wau.push(cell.week_units.len() as f64 / n_days as f64);
        active.push(cell.units.len() as i64);
        stickiness.push(rate(mean_dau, cell.units.len() as f64));
        customers.push(cell.customers.len() as i64);
        events.push(cell.events);
        per_customer.push(rate(cell.events, cell.customers.len() as f64));
        users_per_customer.push(if options.user_id.is_some() {
            None
        } else {
            rate(
                cell.customer_days.values().sum(),
                cell.customer_days.len() as f64,
            )
        });
    }
    columns.push(Column::new("complete".into(), complete));
    columns.push(Column::new("days".into(), days));
    columns.push(Column::new("dau".into(), dau));
    columns.push(Column::new("wau".into(), wau));
    columns.push(Column::new("active".into(), active));
    columns.push(Column::new("stickiness".into(), stickiness));
    columns.push(Column::new("active_customers".into(), customers));
    columns.push(Column::new("events".into(), events));
    columns.push(Column::new(
        "events_per_active_customer".into(),
        per_customer,
    ));
    columns.push(Column::new(
        "active_users_per_active_customer".into(),
        users_per_customer,
    ));
    Ok(DataFrame::new(keys.len(), columns)?)
}

/// Feature adoption per group, period and feature: the share of the period's active units
/// (customers, or users with `unit = user`) that used the feature.
///
/// Columns: keys, `period`, `feature`, `users_of_feature` (distinct units using it), `active`
/// (distinct active units in the group and period), `adoption`. Rows with a null feature count
/// as activity but adopt no feature.
pub fn feature_adoption(frame: &DataFrame, options: &EngagementOptions) -> Result<DataFrame> {
    let feature_name = options.feature.as_deref().ok_or_else(|| {
        CsError::option("feature", "None", "feature adoption needs a feature column")
    })?;
    let feature = encode_column(column(
        frame,
        feature_name,
        "the feature of each usage row",
    )?)?;
    let usage = read_usage(frame, options)?;
    let period = options.period;
    let mut active: HashMap<(usize, i64), HashSet<u32>> = HashMap::new();
    let mut using: HashMap<(usize, i64, u32), HashSet<u32>> = HashMap::new();
    let null_feature: Vec<bool> = feature
        .labels
        .as_materialized_series()
        .is_null()
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    for i in 0..usage.day.len() {
        let row = usage.row[i];
        let g = usage.group[row] as usize;
        let p = period.start_of(usage.day[i]);
        active.entry((g, p)).or_default().insert(usage.unit[i]);
        let f = feature.codes[row];
        if !null_feature[f as usize] {
            using.entry((g, p, f)).or_default().insert(usage.unit[i]);
        }
    }
    let mut cells: Vec<(usize, i64)> = active.keys().copied().collect();
    sort_cells(&usage, &mut cells);
    // Features in sorted order.
    let labels = feature
        .labels
        .as_materialized_series()
        .cast(&DataType::String)?;
    let names: Vec<Option<String>> = labels.str()?.iter().map(|v| v.map(String::from)).collect();
    let mut feature_order: Vec<u32> = (0..names.len() as u32)
        .filter(|f| !null_feature[*f as usize])
        .collect();
    feature_order.sort_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
    let mut rows: Vec<(usize, i64)> = Vec::new();
    let mut row_feature: Vec<u32> = Vec::new();
    let mut users = Vec::new();
    let mut actives = Vec::new();
    let mut adoption = Vec::new();
    for cell in &cells {
        let n_active = active[cell].len() as i64;
        for f in &feature_order {
            if let Some(set) = using.get(&(cell.0, cell.1, *f)) {
                rows.push(*cell);
                row_feature.push(*f);
                users.push(set.len() as i64);
                actives.push(n_active);
                adoption.push(rate(set.len() as f64, n_active as f64));
            }
        }
    }
    let mut columns = key_columns(&usage, &rows)?;
    let feature_values = feature
        .labels
        .as_materialized_series()
        .take(&IdxCa::from_vec("".into(), row_feature.clone()))?
        .with_name("feature".into());
    columns.push(feature_values.into_column());
    columns.push(Column::new("users_of_feature".into(), users));
    columns.push(Column::new("active".into(), actives));
    columns.push(Column::new("adoption".into(), adoption));
    Ok(DataFrame::new(rows.len(), columns)?)
}
