//! Activation: a rule on a customer's first days, the activation rate per cohort, and the
//! retention of activated against other customers.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::column;
use crate::groups::encode_column;
use crate::input::{invalid, optional_instants};
use crate::period::MICROS_PER_DAY;
use crate::survival::{
    kaplan_meier, kaplan_meier_summary, logrank_test, KaplanMeierOptions, LogrankOptions,
};

use super::reach::{population, reach, Population, NOT_REACHED};
use super::{BeforeStart, MilestoneColumns, Order, Starts};

/// What makes a customer activated within its first `window_days`.
#[derive(Debug, Clone)]
pub enum ActivationRule {
    /// At least `min_active_days` distinct calendar days with usage (rows of the usage table;
    /// with `events`, rows whose value is > 0).
    ActiveDays {
        /// Distinct days with usage needed (>= 1).
        min_active_days: i64,
        /// Customer id column of the usage table.
        customer_id: String,
        /// When each usage row happened (Date or Datetime).
        timestamp: String,
        /// A count column: only rows whose value is > 0 count; None: every row.
        events: Option<String>,
    },
    /// Every listed feature used (rows of the usage table with that `feature`; with `events`,
    /// rows whose value is > 0).
    Features {
        /// The features that must all be used.
        features: Vec<String>,
        /// Customer id column of the usage table.
        customer_id: String,
        /// When each usage row happened (Date or Datetime).
        timestamp: String,
        /// The feature column of the usage table.
        feature: String,
        /// A count column: only rows whose value is > 0 count; None: every row.
        events: Option<String>,
    },
    /// A milestone reached.
    Milestone {
        /// The milestone's name.
        milestone: String,
        /// The milestones table's columns.
        columns: MilestoneColumns,
    },
}

/// Options of [`activation`].
#[derive(Debug, Clone)]
pub struct ActivationOptions {
    /// The customers table's columns, groups and cohort period (default monthly cohorts).
    pub starts: Starts,
    /// The rule.
    pub rule: ActivationRule,
    /// Days after the start within which the rule must be met (an instant counts when at most
    /// this many days after the start). Default 14.
    pub window_days: i64,
    /// The cut-off (µs): later rows are not seen; windows not closed by it are pending. Default:
    /// the latest instant of either table.
    pub as_of: Option<i64>,
}

/// Each customer's activation: the instant it met the rule within its window (if it did), and
/// whether its window is still open.
struct Activated {
    people: Population,
    at: Vec<Option<i64>>,
    open: Vec<bool>,
}

fn activated(
    events: &DataFrame,
    customers: &DataFrame,
    options: &ActivationOptions,
) -> Result<Activated> {
    if options.window_days < 0 {
        return Err(CsError::option(
            "window_days",
            options.window_days,
            "the activation window is a whole number of days >= 0",
        ));
    }
    let (id_name, table) = match &options.rule {
        ActivationRule::Milestone { columns, .. } => (columns.customer_id.as_str(), "milestones"),
        ActivationRule::ActiveDays { customer_id, .. }
        | ActivationRule::Features { customer_id, .. } => (customer_id.as_str(), "usage rows"),
    };
    let ids = column(events, id_name, "the customer of each row")?;
    let (people, customer) = population(customers, &options.starts, ids, id_name, table)?;
    let window = options.window_days.saturating_mul(MICROS_PER_DAY);
    let (at, latest) = match &options.rule {
        ActivationRule::Milestone { milestone, columns } => {
            let r = reach(
                events,
                columns,
                std::slice::from_ref(milestone),
                Order::Any,
                BeforeStart::Drop,
                &people,
                &customer,
                options.as_of,
            )?;
            let at = (0..people.len())
                .map(|c| {
                    let e = r.elapsed[c];
                    (e != NOT_REACHED && e <= window).then(|| people.start[c] + e)
                })
                .collect();
            (at, r.latest)
        }
        ActivationRule::ActiveDays {
            min_active_days,
            timestamp,
            events: amount,
            ..
        } => {
            if *min_active_days < 1 {
                return Err(CsError::option(
                    "min_active_days",
                    min_active_days,
                    "at least one active day is needed",
                ));
            }
            let rows = usage_rows(
                events,
                &people,
                &customer,
                timestamp,
                amount.as_deref(),
                window,
                options.as_of,
            )?;
            // Per customer, its distinct usage days in time order: activated on the day the
            // count reaches min_active_days.
            let mut per: Vec<Vec<i64>> = vec![Vec::new(); people.len()];
            for (c, t) in &rows.kept {
                per[*c as usize].push(*t);
            }
            let at = per
                .into_iter()
                .map(|mut times| {
                    times.sort_unstable();
                    let mut days = 0;
                    let mut last_day = None;
                    for t in times {
                        let day = t.div_euclid(MICROS_PER_DAY);
                        if last_day != Some(day) {
                            days += 1;
                            last_day = Some(day);
                            if days == *min_active_days {
                                return Some(t);
                            }
                        }
                    }
                    None
                })
                .collect();
            (at, rows.latest)
        }
        ActivationRule::Features {
            features,
            timestamp,
            feature,
            events: amount,
            ..
        } => {
            if features.is_empty() {
                return Err(CsError::option(
                    "features",
                    "[]",
                    "list at least one feature",
                ));
            }
            let names = column(events, feature, "the feature of each usage row")?;
            crate::input::check(
                names.as_materialized_series(),
                feature,
                crate::input::Role::Text,
                "the feature of each usage row",
            )?;
            let key = encode_column(names)?;
            let labels = key.labels.cast(&DataType::String)?;
            let labels = labels.str()?;
            let mut wanted = vec![u32::MAX; labels.len()];
            for (i, f) in features.iter().enumerate() {
                if let Some(code) = labels.iter().position(|l| l == Some(f.as_str())) {
                    wanted[code] = i as u32;
                }
            }
            let rows = usage_rows(
                events,
                &people,
                &customer,
                timestamp,
                amount.as_deref(),
                window,
                options.as_of,
            )?;
            let mut per: Vec<Vec<(i64, u32)>> = vec![Vec::new(); people.len()];
            for (row, (c, t)) in rows.rows.iter().zip(&rows.kept) {
                let f = wanted[key.codes[*row] as usize];
                if f != u32::MAX {
                    per[*c as usize].push((*t, f));
                }
            }
            let at = per
                .into_iter()
                .map(|mut uses| {
                    uses.sort_unstable();
                    let mut seen = vec![false; features.len()];
                    let mut left = features.len();
                    for (t, f) in uses {
                        if !seen[f as usize] {
                            seen[f as usize] = true;
                            left -= 1;
                            if left == 0 {
                                return Some(t);
                            }
                        }
                    }
                    None
                })
                .collect();
            (at, rows.latest)
        }
    };
    let as_of = options
        .as_of
        .or_else(|| people.latest().max(latest))
        .unwrap_or(0);
    let open = people
        .start
        .iter()
        .map(|s| s.saturating_add(window) > as_of)
        .collect();
    Ok(Activated { people, at, open })
}

/// The usage rows within their customer's window (and up to `as_of`): their row numbers, and
/// customer and instant; with the latest instant of the table.
struct UsageRows {
    rows: Vec<usize>,
    kept: Vec<(u32, i64)>,
    latest: Option<i64>,
}

fn usage_rows(
    events: &DataFrame,
    people: &Population,
    customer: &[u32],
    timestamp: &str,
    amount: Option<&str>,
    window: i64,
    as_of: Option<i64>,
) -> Result<UsageRows> {
    let (times, _) = optional_instants(events, timestamp, "when each usage row happened")?;
    let amounts = match amount {
        Some(name) => crate::input::optional_numbers(
            events,
            name,
            crate::input::Role::Number,
            "the events of each usage row",
        )?,
        None => vec![Some(1.0); events.height()],
    };
    let mut out = UsageRows {
        rows: Vec::new(),
        kept: Vec::new(),
        latest: None,
    };
    for row in 0..events.height() {
        let Some(t) = times[row] else {
            return Err(invalid(
                timestamp,
                row,
                "null",
                "every usage row needs a timestamp",
            ));
        };
        out.latest = out.latest.max(Some(t));
        if !amounts[row].is_some_and(|a| a > 0.0) || as_of.is_some_and(|a| t > a) {
            continue;
        }
        let c = customer[row];
        let since = t - people.start[c as usize];
        if (0..=window).contains(&since) {
            out.rows.push(row);
            out.kept.push((c, t));
        }
    }
    Ok(out)
}

/// Activation per group (the `by` keys and the signup cohort).
///
/// Columns: the keys, `customers`, `pending` (window not closed by `as_of` and not yet
/// activated), `eligible` = customers - pending, `activated` (customers who met the rule within
/// their window, pending ones included: an activation seen is known), `activation_rate` =
/// activated among the customers whose window has closed / those customers, and
/// `pending_activated` (customers activated while their window is still open, not in the rate).
pub fn activation(
    events: &DataFrame,
    customers: &DataFrame,
    options: &ActivationOptions,
) -> Result<DataFrame> {
    let a = activated(events, customers, options)?;
    let g = a.people.groups;
    let (mut total, mut open, mut closed_on, mut open_on) =
        (vec![0i64; g], vec![0i64; g], vec![0i64; g], vec![0i64; g]);
    for c in 0..a.people.len() {
        let group = a.people.group[c] as usize;
        total[group] += 1;
        let on = a.at[c].is_some();
        if a.open[c] {
            open[group] += 1;
            open_on[group] += i64::from(on);
        } else {
            closed_on[group] += i64::from(on);
        }
    }
    let order = &a.people.order;
    let pick = |v: &[i64]| order.iter().map(|g| v[*g]).collect::<Vec<i64>>();
    let pending: Vec<i64> = order.iter().map(|g| open[*g] - open_on[*g]).collect();
    let eligible: Vec<i64> = order.iter().map(|g| total[*g] - open[*g]).collect();
    let rate: Vec<Option<f64>> = order
        .iter()
        .map(|g| {
            let closed = total[*g] - open[*g];
            (closed > 0).then(|| closed_on[*g] as f64 / closed as f64)
        })
        .collect();
    let activated: Vec<i64> = order.iter().map(|g| closed_on[*g] + open_on[*g]).collect();
    let mut columns = a.people.keys.clone().into_columns();
    columns.extend([
        Column::new("customers".into(), pick(&total)),
        Column::new("pending".into(), pending),
        Column::new("eligible".into(), eligible),
        Column::new("activated".into(), activated),
        Column::new("activation_rate".into(), rate),
        Column::new("pending_activated".into(), pick(&open_on)),
    ]);
    Ok(DataFrame::new(order.len(), columns)?)
}

/// Each customer's activation: its id, `start`, `activated` (true, false, or null while its
/// window is open and the rule not yet met) and `activated_at` (when the rule was met). In the
/// order of the customers' first rows.
pub fn activated_customers(
    events: &DataFrame,
    customers: &DataFrame,
    options: &ActivationOptions,
) -> Result<DataFrame> {
    let a = activated(events, customers, options)?;
    let n = a.people.len();
    let flag: Vec<Option<bool>> = (0..n)
        .map(|c| match (a.at[c].is_some(), a.open[c]) {
            (true, _) => Some(true),
            (false, true) => None,
            (false, false) => Some(false),
        })
        .collect();
    let micros = |v: Vec<Option<i64>>| -> Result<Column> {
        Ok(Column::new("".into(), v).cast(&DataType::Datetime(TimeUnit::Microseconds, None))?)
    };
    let columns = vec![
        a.people.ids.clone(),
        micros(a.people.start.iter().map(|s| Some(*s)).collect())?.with_name("start".into()),
        Column::new("activated".into(), flag),
        micros(a.at)?.with_name("activated_at".into()),
    ];
    Ok(DataFrame::new(n, columns)?)
}

/// Retention of activated against other customers: the Kaplan-Meier summary of the customers'
/// lives by `activated`, the log-rank test between the two, and the Kaplan-Meier curves.
///
/// `lives` holds one row per life (as from `survival_table`: `customer_id`, `duration`, `event`);
/// `flags` one row per customer (as from [`activated_customers`]: its id and `activated`). Lives
/// of customers whose activation is pending (null) are left out and counted in the summary's
/// `pending` column; a life of a customer missing from `flags` is an error.
pub fn activation_retention(
    lives: &DataFrame,
    flags: &DataFrame,
    customer_id: &str,
    confidence: f64,
) -> Result<(DataFrame, DataFrame, DataFrame)> {
    let theirs = column(lives, customer_id, "the customer of each life")?;
    let ours = column(flags, customer_id, "the customer of each activation")?;
    let codes = crate::groups::joint_codes(
        theirs,
        ours,
        customer_id,
        "the lives' customer ids must have the type of the activations'",
    )?;
    let (life_codes, flag_codes) = codes.split_at(theirs.len());
    let joint = codes.iter().max().map_or(0, |m| *m as usize + 1);
    let activated = crate::input::flags(
        flags,
        "activated",
        "whether each customer activated",
        "activated must be true/false",
    )?;
    // 0: no flag row, 1: pending, 2: not activated, 3: activated.
    let mut state = vec![0u8; joint];
    for (code, flag) in flag_codes.iter().zip(&activated) {
        state[*code as usize] = match flag {
            None => 1,
            Some(false) => 2,
            Some(true) => 3,
        };
    }
    let mut keep = Vec::with_capacity(theirs.len());
    let mut group = Vec::with_capacity(theirs.len());
    let mut pending = 0i64;
    for (row, code) in life_codes.iter().enumerate() {
        match state[*code as usize] {
            0 => return Err(invalid(
                customer_id,
                row,
                crate::input::plain(theirs.get(row)?),
                "every customer with a life must be among the customers whose activation is known",
            )),
            1 => pending += 1,
            s => {
                keep.push(row as IdxSize);
                group.push(s == 3);
            }
        }
    }
    let mut picked = lives
        .select(["duration", "event"])?
        .take(&IdxCa::from_vec("".into(), keep))?;
    picked.with_column(Column::new("activated".into(), group))?;
    let km = KaplanMeierOptions {
        by: vec!["activated".into()],
        confidence,
        ..Default::default()
    };
    let curves = kaplan_meier(&picked, &km)?;
    let mut summary = kaplan_meier_summary(&picked, &km)?;
    let height = summary.height();
    summary.with_column(Column::new("pending".into(), vec![pending; height]))?;
    let test = logrank_test(
        &picked,
        &LogrankOptions {
            group: "activated".into(),
            ..Default::default()
        },
    )?;
    Ok((summary, test, curves))
}
