//! Bindings of the data generators (`csmetrics.datasets`).

use csmetrics::datasets::{PurchaseModel, SaasParams};
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::run;

#[pyfunction]
fn survey_responses(
    py: Python<'_>,
    n: usize,
    customers: usize,
    months: u32,
    seed: u64,
) -> PyResult<PyDataFrame> {
    run(py, "survey_responses", || {
        csmetrics::datasets::survey_responses(n, customers, months, seed)
    })
    .map(PyDataFrame)
}

#[pyfunction]
fn feedback_responses(
    py: Python<'_>,
    n: usize,
    customers: usize,
    months: u32,
    seed: u64,
) -> PyResult<PyDataFrame> {
    run(py, "feedback_responses", || {
        csmetrics::datasets::feedback_responses(n, customers, months, seed)
    })
    .map(PyDataFrame)
}

#[pyfunction]
fn feedback_dictionary() -> Vec<(String, Vec<String>)> {
    csmetrics::datasets::feedback_dictionary()
}

/// The tables of customers `first_customer` to `first_customer + count - 1` of a synthetic
/// business, as (name, frame) pairs in a fixed order.
#[pyfunction]
#[pyo3(signature = (
    customers, months, start, churn_hazard, expansion_rate, contraction_rate,
    reactivation_probability, trial_share, trial_conversion, usage_days, raw_events_limit,
    bgnbd, gamma_gamma, seat_share, mean_seats, seat_change_rate, discount_share, pause_rate,
    past_due_rate, failed_payment_share, cancel_notice_share, seed, first_customer, count
))]
#[allow(clippy::too_many_arguments)]
fn saas(
    py: Python<'_>,
    customers: u64,
    months: u32,
    start: i32,
    churn_hazard: f64,
    expansion_rate: f64,
    contraction_rate: f64,
    reactivation_probability: f64,
    trial_share: f64,
    trial_conversion: f64,
    usage_days: u32,
    raw_events_limit: u64,
    bgnbd: (f64, f64, f64, f64),
    gamma_gamma: (f64, f64, f64),
    seat_share: f64,
    mean_seats: f64,
    seat_change_rate: f64,
    discount_share: f64,
    pause_rate: f64,
    past_due_rate: f64,
    failed_payment_share: f64,
    cancel_notice_share: f64,
    seed: u64,
    first_customer: u64,
    count: u64,
) -> PyResult<Vec<(&'static str, PyDataFrame)>> {
    let (r, alpha, a, b) = bgnbd;
    let (p, q, gamma) = gamma_gamma;
    let params = SaasParams {
        customers,
        months,
        start,
        churn_hazard,
        expansion_rate,
        contraction_rate,
        reactivation_probability,
        trial_share,
        trial_conversion,
        usage_days,
        raw_events_limit,
        purchases: PurchaseModel {
            r,
            alpha,
            a,
            b,
            p,
            q,
            gamma,
        },
        seat_share,
        mean_seats,
        seat_change_rate,
        discount_share,
        pause_rate,
        past_due_rate,
        failed_payment_share,
        cancel_notice_share,
        seed,
    };
    let tables = run(py, "saas", || {
        csmetrics::datasets::saas_range(&params, first_customer, count)
    })?;
    Ok(tables
        .into_tables()
        .into_iter()
        .map(|(name, frame)| (name, PyDataFrame(frame)))
        .collect())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(survey_responses, m)?)?;
    m.add_function(wrap_pyfunction!(saas, m)?)?;
    m.add_function(wrap_pyfunction!(feedback_responses, m)?)?;
    m.add_function(wrap_pyfunction!(feedback_dictionary, m)?)?;
    Ok(())
}
