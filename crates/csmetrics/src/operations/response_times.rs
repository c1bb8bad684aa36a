//! Support response and resolution times, the backlog of open tickets and SLA attainment.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{encode_column, group_rows};
use crate::input::invalid;
use crate::period::Period;

use super::{describe_instant, grouped, instants, MICROS_PER_DAY};

const HOUR: f64 = 3_600_000_000.0;

/// Working hours: the same hours on every working day, less holidays. Instants are read on the
/// clock of their column (UTC for a column with a time zone, the wall clock for a naive one).
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    /// First working hour of a working day, in [0, 24). Default 9.
    pub start_hour: f64,
    /// End of the working day, in (start_hour, 24]. Default 17.
    pub end_hour: f64,
    /// Working weekdays, Monday = 0 to Sunday = 6. Default Monday to Friday.
    pub weekdays: Vec<u32>,
    /// Days off (days since 1970-01-01).
    pub holidays: Vec<i64>,
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        BusinessCalendar {
            start_hour: 9.0,
            end_hour: 17.0,
            weekdays: vec![0, 1, 2, 3, 4],
            holidays: Vec::new(),
        }
    }
}

/// A checked calendar: working µs since a Monday before any instant, as a function of time.
struct Clock {
    start: i64,
    end: i64,
    working: [bool; 7],
    week: i64,
    before_weekday: [i64; 7],
    holidays: Vec<i64>,
}

impl Clock {
    fn new(c: &BusinessCalendar) -> Result<Clock> {
        if !(c.start_hour.is_finite()
            && c.end_hour.is_finite()
            && c.start_hour >= 0.0
            && c.start_hour < c.end_hour
            && c.end_hour <= 24.0)
        {
            return Err(CsError::option(
                "business_hours",
                format!(
                    "({}, {})",
                    format_number(c.start_hour),
                    format_number(c.end_hour)
                ),
                "working hours are (start, end) with 0 <= start < end <= 24",
            ));
        }
        let mut working = [false; 7];
        for d in &c.weekdays {
            if *d > 6 {
                return Err(CsError::option(
                    "business_days",
                    d,
                    "weekdays are 0 (Monday) to 6 (Sunday)",
                ));
            }
            working[*d as usize] = true;
        }
        let start = (c.start_hour * HOUR).round() as i64;
        let end = (c.end_hour * HOUR).round() as i64;
        let per_day = end - start;
        let mut before_weekday = [0i64; 7];
        for d in 1..7 {
            before_weekday[d] = before_weekday[d - 1] + if working[d - 1] { per_day } else { 0 };
        }
        let week = before_weekday[6] + if working[6] { per_day } else { 0 };
        let mut holidays: Vec<i64> = c
            .holidays
            .iter()
            .copied()
            .filter(|h| working[(h + 3).rem_euclid(7) as usize])
            .collect();
        holidays.sort_unstable();
        holidays.dedup();
        Ok(Clock {
            start,
            end,
            working,
            week,
            before_weekday,
            holidays,
        })
    }

    /// Working µs of day `day` before `within` µs into it.
    fn partial(&self, day: i64, within: i64) -> i64 {
        if self.working[(day + 3).rem_euclid(7) as usize] {
            within.clamp(self.start, self.end) - self.start
        } else {
            0
        }
    }

    /// Working µs from the Monday of 1969-12-29 to `t` (negative before it).
    fn at(&self, t: i64) -> i128 {
        let day = t.div_euclid(MICROS_PER_DAY);
        let within = t.rem_euclid(MICROS_PER_DAY);
        let weeks = (day + 3).div_euclid(7);
        let weekday = (day + 3).rem_euclid(7) as usize;
        let mut w = i128::from(weeks) * i128::from(self.week)
            + i128::from(self.before_weekday[weekday])
            + i128::from(self.partial(day, within));
        // Holidays before `day` take a whole working day; the holiday `day` itself its part.
        let before = self.holidays.partition_point(|h| *h < day);
        w -= before as i128 * i128::from(self.end - self.start);
        if self.holidays.get(before) == Some(&day) {
            w -= i128::from(self.partial(day, within));
        }
        w
    }

    fn hours(&self, from: i64, to: i64) -> f64 {
        (self.at(to) - self.at(from)) as f64 / HOUR
    }
}

/// The SLA on the first response.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Sla {
    /// No SLA columns (default).
    #[default]
    None,
    /// One target in hours for every ticket.
    Hours(f64),
    /// A target per priority (the `priority` column's values); a ticket of another priority is
    /// an error.
    PerPriority(Vec<(String, f64)>),
}

/// Options of [`response_times`].
#[derive(Debug, Clone)]
pub struct ResponseTimeOptions {
    /// When each ticket was opened (its period). Default `opened_at`.
    pub opened_at: String,
    /// When it was first answered (null while unanswered). Default `first_response_at`.
    pub first_response_at: String,
    /// When it was resolved (null while open); None: no resolution columns. Default
    /// `resolved_at`.
    pub resolved_at: Option<String>,
    /// Priority column (for a per-priority SLA). Default none.
    pub priority: Option<String>,
    /// Grouping columns (such as priority and channel).
    pub by: Vec<String>,
    /// Reporting period of the opening. Default month.
    pub period: Period,
    /// The cut-off (µs): later answers and resolutions are not seen. Default: the latest instant
    /// of the three columns.
    pub as_of: Option<i64>,
    /// The first-response SLA. Default none.
    pub sla: Sla,
    /// Working hours to measure the times in; None: calendar hours (default).
    pub calendar: Option<BusinessCalendar>,
}

impl Default for ResponseTimeOptions {
    fn default() -> Self {
        ResponseTimeOptions {
            opened_at: "opened_at".into(),
            first_response_at: "first_response_at".into(),
            resolved_at: Some("resolved_at".into()),
            priority: None,
            by: Vec::new(),
            period: Period::Month,
            as_of: None,
            sla: Sla::None,
            calendar: None,
        }
    }
}

/// Mean, median and 90th percentile (linear interpolation between order statistics) of `values`,
/// sorted in place.
fn summary(values: &mut [f64]) -> [Option<f64>; 3] {
    if values.is_empty() {
        return [None; 3];
    }
    values.sort_unstable_by(f64::total_cmp);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    [
        Some(mean),
        Some(quantile(values, 0.5)),
        Some(quantile(values, 0.9)),
    ]
}

/// The `p` quantile of sorted `values` by linear interpolation (NumPy's and Polars' default).
pub(crate) fn quantile(values: &[f64], p: f64) -> f64 {
    let h = (values.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    values[lo] + (h - lo as f64) * (values[hi] - values[lo])
}

/// First response and resolution times, backlog and SLA attainment per group and period of the
/// ticket's opening.
///
/// Times are in hours (calendar hours, or working hours under `calendar`). Columns: the keys,
/// `period`, `tickets`; `answered`, `unanswered` (no first response by `as_of`: open, never
/// dropped), `first_response_mean_hours`, `first_response_median_hours`,
/// `first_response_p90_hours` (over the answered tickets); with `resolved_at`: `resolved`,
/// `unresolved`, `resolution_mean_hours`, `resolution_median_hours`, `resolution_p90_hours`,
/// and `backlog` (tickets of the group's keys, opened in any period, open at the end of the period
/// or at `as_of` if that is earlier); with an SLA: `sla_met` (answered within the target),
/// `sla_breached` (answered later, or unanswered for longer than the target at `as_of`),
/// `sla_pending` (unanswered, still within the target) and `sla_attainment` = met / (met +
/// breached). Medians and the 90th percentile interpolate linearly between order statistics.
pub fn response_times(frame: &DataFrame, options: &ResponseTimeOptions) -> Result<DataFrame> {
    let opened = instants(frame, &options.opened_at, "when each ticket was opened")?;
    let first = instants(
        frame,
        &options.first_response_at,
        "when each ticket was first answered",
    )?;
    let resolved = match &options.resolved_at {
        Some(name) => Some(instants(frame, name, "when each ticket was resolved")?),
        None => None,
    };
    let clock = options.calendar.as_ref().map(Clock::new).transpose()?;
    let rows = frame.height();
    let mut latest = None;
    for row in 0..rows {
        let Some(o) = opened[row] else {
            return Err(invalid(
                &options.opened_at,
                row,
                "null",
                "every ticket needs the time it was opened",
            ));
        };
        latest = latest.max(Some(o));
        if let Some(f) = first[row] {
            if f < o {
                return Err(invalid(
                    &options.first_response_at,
                    row,
                    describe_instant(f),
                    &format!(
                        "a ticket cannot be answered before it was opened ({})",
                        describe_instant(o)
                    ),
                ));
            }
            latest = latest.max(Some(f));
        }
        if let (Some(r), Some(name)) =
            (resolved.as_ref().and_then(|r| r[row]), &options.resolved_at)
        {
            if r < o {
                return Err(invalid(
                    name,
                    row,
                    describe_instant(r),
                    &format!(
                        "a ticket cannot be resolved before it was opened ({})",
                        describe_instant(o)
                    ),
                ));
            }
            latest = latest.max(Some(r));
        }
    }
    let as_of = options.as_of.or(latest).unwrap_or(0);
    let hours = |from: i64, to: i64| match &clock {
        Some(c) => c.hours(from, to),
        None => (to - from) as f64 / HOUR,
    };
    // The SLA target of each ticket.
    let targets: Option<Vec<f64>> = match &options.sla {
        Sla::None => None,
        Sla::Hours(h) => {
            check_target(*h, "sla_hours")?;
            Some(vec![*h; rows])
        }
        Sla::PerPriority(map) => {
            let Some(name) = &options.priority else {
                return Err(CsError::option(
                    "sla_hours",
                    "a target per priority",
                    "a per-priority SLA needs the priority column (priority=)",
                ));
            };
            for (p, h) in map {
                check_target(*h, &format!("sla_hours['{p}']"))?;
            }
            let priority = column(frame, name, "the priority of each ticket")?;
            crate::input::check(
                priority.as_materialized_series(),
                name,
                crate::input::Role::Text,
                "the priority of each ticket",
            )?;
            let labels = priority.cast(&DataType::String)?;
            let labels = labels.str()?;
            let mut out = Vec::with_capacity(rows);
            for (row, label) in labels.iter().enumerate() {
                let target = label
                    .and_then(|l| map.iter().find(|(p, _)| p == l))
                    .map(|(_, h)| *h);
                match target {
                    Some(h) => out.push(h),
                    None => {
                        return Err(invalid(
                            name,
                            row,
                            label.map_or("null".into(), |l| format!("'{l}'")),
                            "every ticket's priority needs a target in sla_hours",
                        ))
                    }
                }
            }
            Some(out)
        }
    };
    let g = grouped(frame, &options.by, &options.opened_at, options.period)?;
    let n = g.count;
    let mut tickets = vec![0i64; n];
    let mut answer_hours: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut resolve_hours: Vec<Vec<f64>> = vec![Vec::new(); n];
    let (mut unresolved, mut met, mut breached, mut pending) =
        (vec![0i64; n], vec![0i64; n], vec![0i64; n], vec![0i64; n]);
    let mut unanswered = vec![0i64; n];
    let mut sample_row = vec![usize::MAX; n];
    for row in 0..rows {
        let id = g.ids[row] as usize;
        let o = opened[row].unwrap_or(0);
        tickets[id] += 1;
        if sample_row[id] == usize::MAX {
            sample_row[id] = row;
        }
        let answered = first[row].filter(|f| *f <= as_of);
        match answered {
            Some(f) => answer_hours[id].push(hours(o, f)),
            None => unanswered[id] += 1,
        }
        if let Some(r) = &resolved {
            match r[row].filter(|r| *r <= as_of) {
                Some(r) => resolve_hours[id].push(hours(o, r)),
                None => unresolved[id] += 1,
            }
        }
        if let Some(t) = &targets {
            let target = t[row];
            match answered {
                Some(f) if hours(o, f) <= target => met[id] += 1,
                Some(_) => breached[id] += 1,
                None if o <= as_of && hours(o, as_of) > target => breached[id] += 1,
                None => pending[id] += 1,
            }
        }
    }
    let pick = |v: &[i64]| g.order.iter().map(|i| v[*i]).collect::<Vec<i64>>();
    let stats = |all: &mut [Vec<f64>]| -> [Vec<Option<f64>>; 3] {
        let mut out: [Vec<Option<f64>>; 3] = std::array::from_fn(|_| Vec::with_capacity(n));
        for i in &g.order {
            let [a, b, c] = summary(&mut all[*i]);
            out[0].push(a);
            out[1].push(b);
            out[2].push(c);
        }
        out
    };
    let answered: Vec<i64> = g
        .order
        .iter()
        .map(|i| answer_hours[*i].len() as i64)
        .collect();
    let [fr_mean, fr_median, fr_p90] = stats(&mut answer_hours);
    let mut columns = vec![
        Column::new("tickets".into(), pick(&tickets)),
        Column::new("answered".into(), answered),
        Column::new("unanswered".into(), pick(&unanswered)),
        Column::new("first_response_mean_hours".into(), fr_mean),
        Column::new("first_response_median_hours".into(), fr_median),
        Column::new("first_response_p90_hours".into(), fr_p90),
    ];
    if let Some(r) = &resolved {
        let done: Vec<i64> = g
            .order
            .iter()
            .map(|i| resolve_hours[*i].len() as i64)
            .collect();
        let [mean, median, p90] = stats(&mut resolve_hours);
        let periods: Vec<i32> = g
            .keys
            .column("period")?
            .cast(&DataType::Int32)?
            .i32()?
            .iter()
            .map(|d| d.unwrap_or(0))
            .collect();
        let backlog = backlog(
            frame,
            options,
            &opened,
            r,
            as_of,
            &sample_row,
            &g.order,
            &periods,
        )?;
        columns.extend([
            Column::new("resolved".into(), done),
            Column::new("unresolved".into(), pick(&unresolved)),
            Column::new("resolution_mean_hours".into(), mean),
            Column::new("resolution_median_hours".into(), median),
            Column::new("resolution_p90_hours".into(), p90),
            Column::new("backlog".into(), backlog),
        ]);
    }
    if targets.is_some() {
        let attainment: Vec<Option<f64>> = g
            .order
            .iter()
            .map(|i| {
                let known = met[*i] + breached[*i];
                (known > 0).then(|| met[*i] as f64 / known as f64)
            })
            .collect();
        columns.extend([
            Column::new("sla_met".into(), pick(&met)),
            Column::new("sla_breached".into(), pick(&breached)),
            Column::new("sla_pending".into(), pick(&pending)),
            Column::new("sla_attainment".into(), attainment),
        ]);
    }
    g.finish(columns)
}

fn check_target(hours: f64, name: &str) -> Result<()> {
    if hours.is_finite() && hours > 0.0 {
        Ok(())
    } else {
        Err(CsError::option(
            name,
            format_number(hours),
            "an SLA target is a number of hours > 0",
        ))
    }
}

/// Per output group (in `order`), the tickets with the group's `by` keys open at the end of its
/// period (or at `as_of` if earlier): opened before that instant and not resolved before it.
#[allow(clippy::too_many_arguments)]
fn backlog(
    frame: &DataFrame,
    options: &ResponseTimeOptions,
    opened: &[Option<i64>],
    resolved: &[Option<i64>],
    as_of: i64,
    sample_row: &[usize],
    order: &[usize],
    period_days: &[i32],
) -> Result<Vec<i64>> {
    let mut keys = Vec::with_capacity(options.by.len());
    for name in &options.by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    let by = group_rows(&keys, frame.height());
    let sets = by.count().max(1);
    let mut opens: Vec<Vec<i64>> = vec![Vec::new(); sets];
    let mut closes: Vec<Vec<i64>> = vec![Vec::new(); sets];
    for row in 0..frame.height() {
        let b = by.ids.get(row).copied().unwrap_or(0) as usize;
        opens[b].push(opened[row].unwrap_or(0));
        if let Some(r) = resolved[row].filter(|r| *r <= as_of) {
            closes[b].push(r);
        }
    }
    for v in opens.iter_mut().chain(closes.iter_mut()) {
        v.sort_unstable();
    }
    Ok(order
        .iter()
        .zip(period_days)
        .map(|(g, day)| {
            // A period without tickets (a gap in the periods, possible without `by` only) has no
            // row: its keys are the empty ones.
            let b = match sample_row[*g] {
                usize::MAX => 0,
                row => by.ids.get(row).copied().unwrap_or(0) as usize,
            };
            let end = options
                .period
                .next_start(options.period.start_of(i64::from(*day)));
            let at = end
                .saturating_mul(MICROS_PER_DAY)
                .min(as_of.saturating_add(1));
            // Open at `at`: opened before it, not resolved before it.
            let o = opens[b].partition_point(|t| *t < at) as i64;
            let c = closes[b].partition_point(|t| *t < at) as i64;
            o - c
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::days_from_civil;

    fn at(y: i64, m: u32, d: u32, hour: i64) -> i64 {
        days_from_civil(y, m, d) * MICROS_PER_DAY + hour * 3_600_000_000
    }

    #[test]
    fn working_hours_skip_nights_weekends_and_holidays() {
        let clock = Clock::new(&BusinessCalendar::default()).expect("calendar");
        // Friday 2024-01-05 16:00 to Monday 10:00: one hour on Friday, one on Monday.
        assert_eq!(clock.hours(at(2024, 1, 5, 16), at(2024, 1, 8, 10)), 2.0);
        // Saturday to Sunday: none; a whole week: 40 hours.
        assert_eq!(clock.hours(at(2024, 1, 6, 10), at(2024, 1, 7, 12)), 0.0);
        assert_eq!(clock.hours(at(2024, 1, 8, 0), at(2024, 1, 15, 0)), 40.0);
        // The Monday off: Friday 16:00 to Tuesday 10:00 is again two hours.
        let holiday = BusinessCalendar {
            holidays: vec![days_from_civil(2024, 1, 8)],
            ..BusinessCalendar::default()
        };
        let clock = Clock::new(&holiday).expect("calendar");
        assert_eq!(clock.hours(at(2024, 1, 5, 16), at(2024, 1, 9, 10)), 2.0);
        // Within the holiday itself nothing counts.
        assert_eq!(clock.hours(at(2024, 1, 8, 9), at(2024, 1, 8, 12)), 0.0);
        // Before 1970 as well: Wednesday 1969-12-31 08:00 to Friday 1970-01-02 18:00 is 24 h.
        let clock = Clock::new(&BusinessCalendar::default()).expect("calendar");
        assert_eq!(clock.hours(at(1969, 12, 31, 8), at(1970, 1, 2, 18)), 24.0);
    }

    #[test]
    fn linear_quantiles() {
        let mut v = [10.0, 1.0, 4.0, 2.0, 3.0];
        let [mean, median, p90] = summary(&mut v);
        assert_eq!((mean, median), (Some(4.0), Some(3.0)));
        assert!((p90.expect("p90") - 7.6).abs() < 1e-12);
    }
}
