//! Glue for the operations KPIs: retention cost, trial conversion, upsell and cross-sell rates,
//! first contact resolution, engagement and feature adoption.

use csmetrics::operations::{
    self as ops, ConversionOptions, EngagementOptions, FcrOptions, RetentionCostOptions,
    TrialOptions,
};
use csmetrics::purchases::{purchase_kpis as purchase_kpis_of, PurchaseOptions};
use csmetrics::revenue::{RevenueInput, RevenueOptions, SubscriptionColumns};
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::{run, to_py, Frame};

#[pyfunction]
#[pyo3(signature = (subscriptions, costs, customer_id, start, end, amount, interval, interval_count, period, as_of, free_is_active, mode, cost_period, cost_amount, customers))]
#[allow(clippy::too_many_arguments)]
fn retention_cost(
    py: Python<'_>,
    subscriptions: Frame,
    costs: Frame,
    customer_id: String,
    start: String,
    end: Option<String>,
    amount: String,
    interval: Option<String>,
    interval_count: Option<String>,
    period: &str,
    as_of: Option<i64>,
    free_is_active: bool,
    mode: &str,
    cost_period: String,
    cost_amount: String,
    customers: &str,
) -> PyResult<PyDataFrame> {
    let panel = RevenueOptions {
        input: RevenueInput::Subscriptions(SubscriptionColumns {
            customer_id,
            start,
            end,
            amount,
            interval,
            interval_count,
            currency: None,
            quantity: None,
            subscription_id: None,
            status: None,
            canceled_at: None,
            churn_reason: None,
            discount: csmetrics::revenue::DiscountColumns::none(),
        }),
        period: period.parse().map_err(to_py)?,
        as_of,
        free_is_active,
        mode: mode.parse().map_err(to_py)?,
        ..Default::default()
    };
    let options = RetentionCostOptions {
        panel,
        cost_period,
        cost_amount,
        customers: customers.parse().map_err(to_py)?,
    };
    let (subs, costs) = (subscriptions.0, costs.0);
    run(py, "retention_cost", || {
        ops::retention_cost(&subs, &costs, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, trial_start, trial_end, converted_at, window, as_of, by, period))]
#[allow(clippy::too_many_arguments)]
fn trial_conversion(
    py: Python<'_>,
    frame: Frame,
    trial_start: String,
    trial_end: String,
    converted_at: String,
    window: f64,
    as_of: Option<i64>,
    by: Vec<String>,
    period: &str,
) -> PyResult<PyDataFrame> {
    let options = TrialOptions {
        trial_start,
        trial_end,
        converted_at,
        window_days: window,
        as_of,
        by,
        period: period.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "trial_conversion", || {
        ops::trial_conversion(&frame, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, timestamp, kind, by, period))]
fn conversion_rates(
    py: Python<'_>,
    frame: Frame,
    timestamp: String,
    kind: String,
    by: Vec<String>,
    period: &str,
) -> PyResult<PyDataFrame> {
    let options = ConversionOptions {
        timestamp,
        kind,
        by,
        period: period.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "conversion_rates", || {
        ops::conversion_rates(&frame, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, opened_at, resolved_at, contacts, reopened_at, resolvable, reopen_window, by, period))]
#[allow(clippy::too_many_arguments)]
fn first_contact_resolution(
    py: Python<'_>,
    frame: Frame,
    opened_at: String,
    resolved_at: String,
    contacts: String,
    reopened_at: Option<String>,
    resolvable: Option<String>,
    reopen_window: f64,
    by: Vec<String>,
    period: &str,
) -> PyResult<PyDataFrame> {
    let options = FcrOptions {
        opened_at,
        resolved_at,
        contacts,
        reopened_at,
        resolvable,
        reopen_window_days: reopen_window,
        by,
        period: period.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "first_contact_resolution", || {
        ops::first_contact_resolution(&frame, &options)
    })
    .map(PyDataFrame)
}

/// The usage table's columns and options, as given in Python.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Usage {
    customer_id: String,
    date: String,
    user_id: Option<String>,
    active_users: Option<String>,
    events: Option<String>,
    feature: Option<String>,
    unit: String,
    as_of: Option<i64>,
    by: Vec<String>,
    period: String,
}

impl Usage {
    fn options(self) -> PyResult<EngagementOptions> {
        Ok(EngagementOptions {
            customer_id: self.customer_id,
            date: self.date,
            user_id: self.user_id,
            active_users: self.active_users,
            events: self.events,
            feature: self.feature,
            unit: self.unit.parse().map_err(to_py)?,
            as_of: self.as_of,
            by: self.by,
            period: self.period.parse().map_err(to_py)?,
        })
    }
}

#[pyfunction]
fn engagement(py: Python<'_>, frame: Frame, usage: Usage) -> PyResult<PyDataFrame> {
    let (frame, options) = (frame.0, usage.options()?);
    run(py, "engagement", || ops::engagement(&frame, &options)).map(PyDataFrame)
}

#[pyfunction]
fn feature_adoption(py: Python<'_>, frame: Frame, usage: Usage) -> PyResult<PyDataFrame> {
    let (frame, options) = (frame.0, usage.options()?);
    run(py, "feature_adoption", || {
        ops::feature_adoption(&frame, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, customer_id, timestamp, amount, by, period, as_of))]
#[allow(clippy::too_many_arguments)]
fn purchase_kpis(
    py: Python<'_>,
    frame: Frame,
    customer_id: String,
    timestamp: String,
    amount: String,
    by: Vec<String>,
    period: &str,
    as_of: Option<i64>,
) -> PyResult<PyDataFrame> {
    let options = PurchaseOptions {
        customer_id,
        timestamp,
        amount,
        by,
        period: period.parse().map_err(to_py)?,
        as_of,
    };
    let frame = frame.0;
    run(py, "purchase_kpis", || purchase_kpis_of(&frame, &options)).map(PyDataFrame)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(purchase_kpis, m)?)?;
    m.add_function(wrap_pyfunction!(retention_cost, m)?)?;
    m.add_function(wrap_pyfunction!(trial_conversion, m)?)?;
    m.add_function(wrap_pyfunction!(conversion_rates, m)?)?;
    m.add_function(wrap_pyfunction!(first_contact_resolution, m)?)?;
    m.add_function(wrap_pyfunction!(engagement, m)?)?;
    m.add_function(wrap_pyfunction!(feature_adoption, m)?)?;
    Ok(())
}
