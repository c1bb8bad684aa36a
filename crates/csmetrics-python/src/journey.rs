//! Glue for the customer journey: milestone funnels, time to milestone, activation, touchpoint
//! experience; and the support response times.

use csmetrics::journey::{
    self, ActivationOptions, ActivationRule, FunnelOptions, MilestoneColumns, Starts,
    TimeToMilestoneOptions, TouchpointOptions,
};
use csmetrics::operations::{BusinessCalendar, ResponseTimeOptions, Sla};
use csmetrics::survey::{CesOptions, CsatOptions, NpsOptions, Scale};
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::{run, to_py, Frame};

/// The customers table's columns, as given in Python.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct StartColumns {
    customer_id: String,
    start: String,
    end: Option<String>,
    by: Vec<String>,
    cohort: Option<String>,
}

impl StartColumns {
    fn starts(self) -> PyResult<Starts> {
        Ok(Starts {
            customer_id: self.customer_id,
            start: self.start,
            end: self.end,
            by: self.by,
            cohort: self.cohort.map(|p| p.parse()).transpose().map_err(to_py)?,
        })
    }
}

/// The milestones table's columns, as given in Python.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Milestones {
    customer_id: String,
    milestone: String,
    timestamp: String,
}

impl From<Milestones> for MilestoneColumns {
    fn from(m: Milestones) -> Self {
        MilestoneColumns {
            customer_id: m.customer_id,
            milestone: m.milestone,
            timestamp: m.timestamp,
        }
    }
}

#[pyfunction]
#[pyo3(signature = (milestones, customers, starts, columns, journey, window_days, order, as_of, before_start))]
#[allow(clippy::too_many_arguments)]
fn milestone_funnel(
    py: Python<'_>,
    milestones: Frame,
    customers: Frame,
    starts: StartColumns,
    columns: Milestones,
    journey: Vec<String>,
    window_days: Vec<i64>,
    order: &str,
    as_of: Option<i64>,
    before_start: &str,
) -> PyResult<PyDataFrame> {
    let options = FunnelOptions {
        starts: starts.starts()?,
        milestones: columns.into(),
        journey,
        window_days,
        order: order.parse().map_err(to_py)?,
        as_of,
        before_start: before_start.parse().map_err(to_py)?,
    };
    let (m, c) = (milestones.0, customers.0);
    run(py, "milestone_funnel", || {
        journey::milestone_funnel(&m, &c, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (milestones, customers, starts, columns, journey, order, as_of, before_start, confidence))]
#[allow(clippy::too_many_arguments)]
fn time_to_milestone(
    py: Python<'_>,
    milestones: Frame,
    customers: Frame,
    starts: StartColumns,
    columns: Milestones,
    journey: Vec<String>,
    order: &str,
    as_of: Option<i64>,
    before_start: &str,
    confidence: f64,
) -> PyResult<PyDataFrame> {
    let options = TimeToMilestoneOptions {
        starts: starts.starts()?,
        milestones: columns.into(),
        journey,
        order: order.parse().map_err(to_py)?,
        as_of,
        before_start: before_start.parse().map_err(to_py)?,
        confidence,
    };
    let (m, c) = (milestones.0, customers.0);
    run(py, "time_to_milestone", || {
        journey::time_to_milestone(&m, &c, &options)
    })
    .map(PyDataFrame)
}

/// The activation rule, as given in Python: exactly one of the three.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Rule {
    kind: String,
    customer_id: String,
    timestamp: String,
    min_active_days: Option<i64>,
    features: Option<Vec<String>>,
    feature: Option<String>,
    events: Option<String>,
    milestone: Option<String>,
    milestone_column: Option<String>,
}

impl Rule {
    fn rule(self) -> ActivationRule {
        match self.kind.as_str() {
            "milestone" => ActivationRule::Milestone {
                milestone: self.milestone.unwrap_or_default(),
                columns: MilestoneColumns {
                    customer_id: self.customer_id,
                    milestone: self.milestone_column.unwrap_or_else(|| "milestone".into()),
                    timestamp: self.timestamp,
                },
            },
            "features" => ActivationRule::Features {
                features: self.features.unwrap_or_default(),
                customer_id: self.customer_id,
                timestamp: self.timestamp,
                feature: self.feature.unwrap_or_else(|| "feature".into()),
                events: self.events,
            },
            _ => ActivationRule::ActiveDays {
                min_active_days: self.min_active_days.unwrap_or(1),
                customer_id: self.customer_id,
                timestamp: self.timestamp,
                events: self.events,
            },
        }
    }
}

fn activation_options(
    starts: StartColumns,
    rule: Rule,
    window_days: i64,
    as_of: Option<i64>,
) -> PyResult<ActivationOptions> {
    Ok(ActivationOptions {
        starts: starts.starts()?,
        rule: rule.rule(),
        window_days,
        as_of,
    })
}

#[pyfunction]
#[pyo3(signature = (events, customers, starts, rule, window_days, as_of))]
fn activation(
    py: Python<'_>,
    events: Frame,
    customers: Frame,
    starts: StartColumns,
    rule: Rule,
    window_days: i64,
    as_of: Option<i64>,
) -> PyResult<PyDataFrame> {
    let options = activation_options(starts, rule, window_days, as_of)?;
    let (e, c) = (events.0, customers.0);
    run(py, "activation", || journey::activation(&e, &c, &options)).map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (events, customers, starts, rule, window_days, as_of))]
fn activated_customers(
    py: Python<'_>,
    events: Frame,
    customers: Frame,
    starts: StartColumns,
    rule: Rule,
    window_days: i64,
    as_of: Option<i64>,
) -> PyResult<PyDataFrame> {
    let options = activation_options(starts, rule, window_days, as_of)?;
    let (e, c) = (events.0, customers.0);
    run(py, "activation", || {
        journey::activated_customers(&e, &c, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (lives, flags, customer_id, confidence))]
fn activation_retention(
    py: Python<'_>,
    lives: Frame,
    flags: Frame,
    customer_id: String,
    confidence: f64,
) -> PyResult<(PyDataFrame, PyDataFrame, PyDataFrame)> {
    let (l, f) = (lives.0, flags.0);
    run(py, "activation", || {
        journey::activation_retention(&l, &f, &customer_id, confidence)
    })
    .map(|(a, b, c)| (PyDataFrame(a), PyDataFrame(b), PyDataFrame(c)))
}

#[pyfunction]
#[pyo3(signature = (frame, touchpoint, journey, nps, csat, ces, period, timestamp, invalid, ci, confidence, csat_scale, ces_scale, ces_direction))]
#[allow(clippy::too_many_arguments)]
fn touchpoint_experience(
    py: Python<'_>,
    frame: Frame,
    touchpoint: String,
    journey: Vec<String>,
    nps: Option<String>,
    csat: Option<String>,
    ces: Option<String>,
    period: Option<&str>,
    timestamp: String,
    invalid: &str,
    ci: Option<&str>,
    confidence: f64,
    csat_scale: (i64, i64),
    ces_scale: Option<(i64, i64)>,
    ces_direction: &str,
) -> PyResult<PyDataFrame> {
    let invalid: csmetrics::survey::InvalidPolicy = invalid.parse().map_err(to_py)?;
    let options = TouchpointOptions {
        touchpoint,
        journey,
        nps: nps
            .map(|score| -> PyResult<NpsOptions> {
                Ok(NpsOptions {
                    score,
                    invalid,
                    ci: ci.map(str::parse).transpose().map_err(to_py)?,
                    confidence,
                    ..Default::default()
                })
            })
            .transpose()?,
        csat: csat
            .map(|score| -> PyResult<CsatOptions> {
                Ok(CsatOptions {
                    score,
                    invalid,
                    scale: Scale::new(csat_scale.0, csat_scale.1).map_err(to_py)?,
                    ..Default::default()
                })
            })
            .transpose()?,
        ces: ces
            .map(|score| -> PyResult<CesOptions> {
                Ok(CesOptions {
                    score,
                    invalid,
                    scale: ces_scale
                        .map(|(a, b)| Scale::new(a, b))
                        .transpose()
                        .map_err(to_py)?,
                    direction: ces_direction.parse().map_err(to_py)?,
                    ..Default::default()
                })
            })
            .transpose()?,
        period: period.map(str::parse).transpose().map_err(to_py)?,
        timestamp,
    };
    let frame = frame.0;
    run(py, "touchpoint_experience", || {
        journey::touchpoint_experience(&frame, &options)
    })
    .map(PyDataFrame)
}

/// The business calendar, as given in Python.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Calendar {
    start_hour: f64,
    end_hour: f64,
    weekdays: Vec<u32>,
    holidays: Vec<i64>,
}

#[pyfunction]
#[pyo3(signature = (frame, opened_at, first_response_at, resolved_at, priority, by, period, as_of, sla_hours, sla_per_priority, calendar))]
#[allow(clippy::too_many_arguments)]
fn response_times(
    py: Python<'_>,
    frame: Frame,
    opened_at: String,
    first_response_at: String,
    resolved_at: Option<String>,
    priority: Option<String>,
    by: Vec<String>,
    period: &str,
    as_of: Option<i64>,
    sla_hours: Option<f64>,
    sla_per_priority: Option<Vec<(String, f64)>>,
    calendar: Option<Calendar>,
) -> PyResult<PyDataFrame> {
    let sla = match (sla_hours, sla_per_priority) {
        (_, Some(map)) => Sla::PerPriority(map),
        (Some(h), None) => Sla::Hours(h),
        (None, None) => Sla::None,
    };
    let options = ResponseTimeOptions {
        opened_at,
        first_response_at,
        resolved_at,
        priority,
        by,
        period: period.parse().map_err(to_py)?,
        as_of,
        sla,
        calendar: calendar.map(|c| BusinessCalendar {
            start_hour: c.start_hour,
            end_hour: c.end_hour,
            weekdays: c.weekdays,
            holidays: c.holidays,
        }),
    };
    let frame = frame.0;
    run(py, "response_times", || {
        csmetrics::operations::response_times(&frame, &options)
    })
    .map(PyDataFrame)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(milestone_funnel, m)?)?;
    m.add_function(wrap_pyfunction!(time_to_milestone, m)?)?;
    m.add_function(wrap_pyfunction!(activation, m)?)?;
    m.add_function(wrap_pyfunction!(activated_customers, m)?)?;
    m.add_function(wrap_pyfunction!(activation_retention, m)?)?;
    m.add_function(wrap_pyfunction!(touchpoint_experience, m)?)?;
    m.add_function(wrap_pyfunction!(response_times, m)?)?;
    Ok(())
}
