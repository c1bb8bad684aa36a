//! Bindings of the customer-lifetime-value family (`csmetrics.clv`).

use csmetrics::clv::{
    bad_start, customer_value, fit, predict, predict::retention_curve, rfm_summary, ClvOptions,
    Fit, FitOptions, Model, Params, Prediction, RfmOptions, SummaryColumns,
};
use csmetrics::period::MICROS_PER_DAY;
use csmetrics::CsError;
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::{guard, run, to_py, Frame};

fn columns(
    frequency: &str,
    recency: &str,
    age: &str,
    monetary_value: &str,
    weights: Option<&str>,
) -> SummaryColumns {
    SummaryColumns {
        frequency: frequency.to_string(),
        recency: recency.to_string(),
        age: age.to_string(),
        monetary_value: monetary_value.to_string(),
        weights: weights.map(str::to_string),
    }
}

/// A model from Python's positional parameter list.
fn model_of(model: &str, params: &[f64]) -> PyResult<Fit> {
    let model: Model = model.parse().map_err(to_py)?;
    Params::from_values(model, params)
        .and_then(Fit::from_params)
        .map_err(to_py)
}

/// Python passes the rfm ends as days since 1970-01-01; the core takes instants in µs.
fn micros_of_day(option: &str, days: Option<i64>) -> PyResult<Option<i64>> {
    days.map(|d| {
        d.checked_mul(MICROS_PER_DAY)
            .ok_or_else(|| to_py(CsError::option(option, d, "the day is out of range")))
    })
    .transpose()
}

#[pyfunction]
#[pyo3(signature = (frame, customer_id, timestamp, amount, merge, time_unit, observation_end, calibration_end, after_end))]
#[allow(clippy::too_many_arguments)]
fn clv_rfm_summary(
    py: Python<'_>,
    frame: Frame,
    customer_id: &str,
    timestamp: &str,
    amount: Option<&str>,
    merge: &str,
    time_unit: &str,
    observation_end: Option<i64>,
    calibration_end: Option<i64>,
    after_end: &str,
) -> PyResult<PyDataFrame> {
    let options = RfmOptions {
        customer_id: customer_id.to_string(),
        timestamp: timestamp.to_string(),
        amount: amount.map(str::to_string),
        merge: merge.parse().map_err(to_py)?,
        time_unit: time_unit.parse().map_err(to_py)?,
        observation_end: micros_of_day("observation_end", observation_end)?,
        calibration_end: micros_of_day("calibration_end", calibration_end)?,
        after_end: after_end.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "clv_rfm_summary", || rfm_summary(&frame, &options)).map(PyDataFrame)
}

/// Returns (params, std_errors, log_likelihood, customers, iterations).
#[pyfunction]
#[pyo3(signature = (frame, model, frequency, recency, age, monetary_value, weights, alive, start, standard_errors=true))]
#[allow(clippy::too_many_arguments)]
#[allow(clippy::type_complexity)]
fn clv_fit(
    py: Python<'_>,
    frame: Frame,
    model: &str,
    frequency: &str,
    recency: &str,
    age: &str,
    monetary_value: &str,
    weights: Option<&str>,
    alive: &str,
    start: Option<Vec<f64>>,
    standard_errors: bool,
) -> PyResult<(Vec<f64>, Vec<f64>, f64, f64, usize)> {
    let model: Model = model.parse().map_err(to_py)?;
    let start = start
        .map(|values| Params::from_values(model, &values).map_err(|_| bad_start(model, &values)))
        .transpose()
        .map_err(to_py)?;
    let options = FitOptions {
        columns: columns(frequency, recency, age, monetary_value, weights),
        alive: alive.to_string(),
        start,
        standard_errors,
    };
    let frame = frame.0;
    let fitted = run(py, "clv_fit", || fit(&frame, model, &options))?;
    Ok((
        fitted.params.values().to_vec(),
        fitted.std_errors.values().to_vec(),
        fitted.log_likelihood,
        fitted.customers,
        fitted.iterations,
    ))
}

#[pyfunction]
#[pyo3(signature = (model, params, std_errors))]
fn clv_parameter_table(
    model: &str,
    params: Vec<f64>,
    std_errors: Vec<f64>,
) -> PyResult<PyDataFrame> {
    let mut fitted = model_of(model, &params)?;
    if let Ok(std_errors) = Params::from_values(fitted.model, &std_errors) {
        fitted.std_errors = std_errors;
    }
    guard("clv_parameter_table", || fitted.summary()).map(PyDataFrame)
}

/// A fitted model and the summary columns it reads, as given in Python.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Fitted {
    model: String,
    params: Vec<f64>,
    frequency: String,
    recency: String,
    age: String,
    monetary_value: String,
}

fn predict_one(
    py: Python<'_>,
    name: &str,
    frame: Frame,
    fitted: Fitted,
    prediction: Prediction,
) -> PyResult<PyDataFrame> {
    let model = model_of(&fitted.model, &fitted.params)?;
    let cols = columns(
        &fitted.frequency,
        &fitted.recency,
        &fitted.age,
        &fitted.monetary_value,
        None,
    );
    let frame = frame.0;
    run(py, name, || {
        let column = predict(&frame, &model, prediction, &cols)?;
        Ok(polars::prelude::DataFrame::new(column.len(), vec![column])?)
    })
    .map(PyDataFrame)
}

#[pyfunction]
fn clv_p_alive(py: Python<'_>, frame: Frame, fitted: Fitted) -> PyResult<PyDataFrame> {
    predict_one(py, "p_alive", frame, fitted, Prediction::PAlive)
}

#[pyfunction]
fn clv_expected_purchases(
    py: Python<'_>,
    frame: Frame,
    fitted: Fitted,
    t: f64,
) -> PyResult<PyDataFrame> {
    let prediction = Prediction::ExpectedPurchases(t);
    predict_one(py, "expected_purchases", frame, fitted, prediction)
}

#[pyfunction]
fn clv_purchase_probability(
    py: Python<'_>,
    frame: Frame,
    fitted: Fitted,
    n: u32,
    t: f64,
) -> PyResult<PyDataFrame> {
    let prediction = Prediction::PurchaseProbability { n, t };
    predict_one(py, "probability_of_purchases", frame, fitted, prediction)
}

#[pyfunction]
fn clv_expected_spend(py: Python<'_>, frame: Frame, fitted: Fitted) -> PyResult<PyDataFrame> {
    predict_one(
        py,
        "expected_spend",
        frame,
        fitted,
        Prediction::ExpectedSpend,
    )
}

#[pyfunction]
fn clv_discounted_purchases(
    py: Python<'_>,
    frame: Frame,
    fitted: Fitted,
    discount_rate: f64,
) -> PyResult<PyDataFrame> {
    let prediction = Prediction::DiscountedPurchases { discount_rate };
    predict_one(py, "discounted_purchases", frame, fitted, prediction)
}

#[pyfunction]
#[pyo3(signature = (frame, model, params, spend_params, frequency, recency, age, monetary_value, months, discount_rate, margin, time_unit, discounting, periods))]
#[allow(clippy::too_many_arguments)]
fn clv_customer_value(
    py: Python<'_>,
    frame: Frame,
    model: &str,
    params: Vec<f64>,
    spend_params: Vec<f64>,
    frequency: &str,
    recency: &str,
    age: &str,
    monetary_value: &str,
    months: u32,
    discount_rate: f64,
    margin: f64,
    time_unit: &str,
    discounting: &str,
    periods: Option<u32>,
) -> PyResult<PyDataFrame> {
    let transactions = model_of(model, &params)?;
    let spend = model_of("gamma_gamma", &spend_params)?;
    let options = ClvOptions {
        months,
        discount_rate,
        margin,
        time_unit: time_unit.parse().map_err(to_py)?,
        discounting: discounting.parse().map_err(to_py)?,
        periods,
    };
    let cols = columns(frequency, recency, age, monetary_value, None);
    let frame = frame.0;
    run(py, "clv_customer_value", || {
        let column = customer_value(&frame, &transactions, &spend, &cols, &options)?;
        Ok(polars::prelude::DataFrame::new(column.len(), vec![column])?)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (params, periods))]
fn clv_retention_curve(params: Vec<f64>, periods: u32) -> PyResult<PyDataFrame> {
    let fitted = model_of("sbg", &params)?;
    guard("clv_retention_curve", || retention_curve(&fitted, periods)).map(PyDataFrame)
}

/// Adds the CLV functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(clv_rfm_summary, m)?)?;
    m.add_function(wrap_pyfunction!(clv_fit, m)?)?;
    m.add_function(wrap_pyfunction!(clv_parameter_table, m)?)?;
    m.add_function(wrap_pyfunction!(clv_p_alive, m)?)?;
    m.add_function(wrap_pyfunction!(clv_expected_purchases, m)?)?;
    m.add_function(wrap_pyfunction!(clv_purchase_probability, m)?)?;
    m.add_function(wrap_pyfunction!(clv_expected_spend, m)?)?;
    m.add_function(wrap_pyfunction!(clv_discounted_purchases, m)?)?;
    m.add_function(wrap_pyfunction!(clv_customer_value, m)?)?;
    m.add_function(wrap_pyfunction!(clv_retention_curve, m)?)?;
    Ok(())
}
