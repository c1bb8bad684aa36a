//! Bindings of the customer-lifetime-value family (`csmetrics.clv`).

use csmetrics::clv::covariates::{rebuild, Coding, CovariateColumn};
use csmetrics::clv::intervals::{customer_value_intervals, predict_intervals, IntervalOptions};
use csmetrics::clv::{
    bad_start, customer_value, evaluate, fit, fit_with_covariates, lr_test, predict,
    predict::retention_curve, rfm_summary, ClvOptions, CovariateSpec, EvaluateOptions, Fit,
    FitOptions, Model, Params, Prediction, RfmOptions, SummaryColumns,
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
) -> PyResult<(Vec<f64>, Vec<f64>, f64, f64, usize, Option<Vec<f64>>)> {
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
        fitted.covariance,
    ))
}

/// Interval settings with the two fits' covariances: (transactions, spend, draws, seed, level).
type IntervalsIn = (Option<Vec<f64>>, Option<Vec<f64>>, usize, u64, f64);

/// A covariate coding as Python keeps it: (column, its levels or None for a number).
type CodingIn = Vec<(String, Option<Vec<String>>)>;
/// Covariates as Python keeps them: purchase coding, drop-out coding, coefficient values and
/// their standard errors.
type CovariatesIn = (CodingIn, CodingIn, Vec<f64>, Vec<f64>);

fn coding_in(coding: CodingIn) -> Vec<CovariateColumn> {
    coding
        .into_iter()
        .map(|(column, levels)| CovariateColumn {
            column,
            coding: levels.map_or(Coding::Numeric, Coding::Levels),
        })
        .collect()
}

fn coding_out(columns: &[CovariateColumn]) -> CodingIn {
    columns
        .iter()
        .map(|c| {
            let levels = match &c.coding {
                Coding::Numeric => None,
                Coding::Levels(levels) => Some(levels.clone()),
            };
            (c.column.clone(), levels)
        })
        .collect()
}

/// A model with its covariates (when given).
fn with_covariates(mut fitted: Fit, covariates: Option<CovariatesIn>) -> PyResult<Fit> {
    if let Some((purchase, dropout, estimates, errors)) = covariates {
        fitted.covariates = Some(
            rebuild(
                fitted.model,
                coding_in(purchase),
                coding_in(dropout),
                &estimates,
                &errors,
            )
            .map_err(to_py)?,
        );
    }
    Ok(fitted)
}

/// Returns (params, std_errors, log_likelihood, customers, iterations, (purchase coding,
/// drop-out coding, coefficient names, estimates, standard errors)).
#[pyfunction]
#[pyo3(signature = (frame, model, frequency, recency, age, monetary_value, weights, purchase, dropout, start))]
#[allow(clippy::too_many_arguments)]
#[allow(clippy::type_complexity)]
fn clv_fit_covariates(
    py: Python<'_>,
    frame: Frame,
    model: &str,
    frequency: &str,
    recency: &str,
    age: &str,
    monetary_value: &str,
    weights: Option<&str>,
    purchase: Vec<String>,
    dropout: Vec<String>,
    start: Option<Vec<f64>>,
) -> PyResult<(
    Vec<f64>,
    Vec<f64>,
    f64,
    f64,
    usize,
    (CodingIn, CodingIn, Vec<String>, Vec<f64>, Vec<f64>),
    Option<Vec<f64>>,
)> {
    let model: Model = model.parse().map_err(to_py)?;
    let start = start
        .map(|values| Params::from_values(model, &values).map_err(|_| bad_start(model, &values)))
        .transpose()
        .map_err(to_py)?;
    let options = FitOptions {
        columns: columns(frequency, recency, age, monetary_value, weights),
        alive: "alive".to_string(),
        start,
        standard_errors: true,
    };
    let spec = CovariateSpec { purchase, dropout };
    let frame = frame.0;
    let fitted = run(py, "clv_fit", || {
        fit_with_covariates(&frame, model, &options, &spec)
    })?;
    let covariates = match &fitted.covariates {
        Some(c) => (
            coding_out(&c.purchase),
            coding_out(&c.dropout),
            c.coefficients.iter().map(|k| k.name()).collect(),
            c.coefficients.iter().map(|k| k.estimate).collect(),
            c.coefficients.iter().map(|k| k.std_error).collect(),
        ),
        None => (vec![], vec![], vec![], vec![], vec![]),
    };
    Ok((
        fitted.params.values().to_vec(),
        fitted.std_errors.values().to_vec(),
        fitted.log_likelihood,
        fitted.customers,
        fitted.iterations,
        covariates,
        fitted.covariance.clone(),
    ))
}

#[pyfunction]
#[pyo3(signature = (model, params, std_errors, log_likelihood=f64::NAN, customers=0.0, covariates=None))]
fn clv_parameter_table(
    model: &str,
    params: Vec<f64>,
    std_errors: Vec<f64>,
    log_likelihood: f64,
    customers: f64,
    covariates: Option<CovariatesIn>,
) -> PyResult<PyDataFrame> {
    let fitted = fit_of(model, &params, log_likelihood, customers)?;
    let mut fitted = with_covariates(fitted, covariates)?;
    if let Ok(std_errors) = Params::from_values(fitted.model, &std_errors) {
        fitted.std_errors = std_errors;
    }
    guard("clv_parameter_table", || fitted.summary()).map(PyDataFrame)
}

/// A model with its fit statistics, as Python keeps them.
fn fit_of(model: &str, params: &[f64], log_likelihood: f64, customers: f64) -> PyResult<Fit> {
    let mut fitted = model_of(model, params)?;
    fitted.log_likelihood = log_likelihood;
    fitted.customers = customers;
    Ok(fitted)
}

/// Returns (statistic, df, p_value).
#[pyfunction]
#[pyo3(signature = (model, restricted, restricted_ll, restricted_customers, restricted_covariates, full, full_ll, full_customers, full_covariates))]
#[allow(clippy::too_many_arguments)]
fn clv_lr_test(
    model: &str,
    restricted: Vec<f64>,
    restricted_ll: f64,
    restricted_customers: f64,
    restricted_covariates: Option<CovariatesIn>,
    full: Vec<f64>,
    full_ll: f64,
    full_customers: f64,
    full_covariates: Option<CovariatesIn>,
) -> PyResult<(f64, usize, f64)> {
    let small = with_covariates(
        fit_of(model, &restricted, restricted_ll, restricted_customers)?,
        restricted_covariates,
    )?;
    let large = with_covariates(
        fit_of(model, &full, full_ll, full_customers)?,
        full_covariates,
    )?;
    let test = guard("lr_test", || lr_test(&small, &large))?;
    Ok((test.statistic, test.df, test.p_value))
}

/// Returns the (customers, metrics, calibration) frames.
#[pyfunction]
#[pyo3(signature = (frame, fitted, spend, frequency_holdout, duration_holdout, monetary_value_holdout, max_frequency))]
#[allow(clippy::too_many_arguments)]
fn clv_evaluate(
    py: Python<'_>,
    frame: Frame,
    fitted: Fitted,
    spend: Option<SpendIn>,
    frequency_holdout: &str,
    duration_holdout: &str,
    monetary_value_holdout: &str,
    max_frequency: u32,
) -> PyResult<(PyDataFrame, PyDataFrame, PyDataFrame)> {
    let transactions = fitted_model(&fitted)?;
    let spend = spend.map(spend_model).transpose()?;
    let cols = columns(
        &fitted.frequency,
        &fitted.recency,
        &fitted.age,
        &fitted.monetary_value,
        None,
    );
    let options = EvaluateOptions {
        frequency_holdout: frequency_holdout.to_string(),
        duration_holdout: duration_holdout.to_string(),
        monetary_value_holdout: monetary_value_holdout.to_string(),
        max_frequency,
    };
    let frame = frame.0;
    let found = run(py, "evaluate", || {
        evaluate(&frame, &transactions, spend.as_ref(), &cols, &options)
    })?;
    Ok((
        PyDataFrame(found.customers),
        PyDataFrame(found.metrics),
        PyDataFrame(found.calibration),
    ))
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
    covariates: Option<CovariatesIn>,
    covariance: Option<Vec<f64>>,
}

/// A Gamma-Gamma model as given in Python: its parameters, covariates and covariance.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct SpendIn {
    params: Vec<f64>,
    covariates: Option<CovariatesIn>,
    covariance: Option<Vec<f64>>,
}

fn fitted_model(fitted: &Fitted) -> PyResult<Fit> {
    let mut model = with_covariates(
        model_of(&fitted.model, &fitted.params)?,
        fitted.covariates.clone(),
    )?;
    model.covariance = fitted.covariance.clone();
    Ok(model)
}

fn spend_model(spend: SpendIn) -> PyResult<Fit> {
    let mut model = with_covariates(model_of("gamma_gamma", &spend.params)?, spend.covariates)?;
    model.covariance = spend.covariance;
    Ok(model)
}

/// Returns the frame of `prediction` ("p_alive", "expected_purchases" or "expected_spend")
/// with its `_lower` and `_upper` bounds.
#[pyfunction]
#[pyo3(signature = (frame, fitted, prediction, t, draws, seed, level))]
#[allow(clippy::too_many_arguments)]
fn clv_prediction_intervals(
    py: Python<'_>,
    frame: Frame,
    fitted: Fitted,
    prediction: &str,
    t: f64,
    draws: usize,
    seed: u64,
    level: f64,
) -> PyResult<PyDataFrame> {
    let model = fitted_model(&fitted)?;
    let prediction = match prediction {
        "p_alive" => Prediction::PAlive,
        "expected_purchases" => Prediction::ExpectedPurchases(t),
        "expected_spend" => Prediction::ExpectedSpend,
        other => {
            return Err(to_py(CsError::option(
                "prediction",
                other,
                "expected 'p_alive', 'expected_purchases' or 'expected_spend'",
            )))
        }
    };
    let cols = columns(
        &fitted.frequency,
        &fitted.recency,
        &fitted.age,
        &fitted.monetary_value,
        None,
    );
    let options = IntervalOptions { draws, seed, level };
    let frame = frame.0;
    run(py, "intervals", || {
        predict_intervals(&frame, &model, prediction, &cols, &options)
    })
    .map(PyDataFrame)
}

fn predict_one(
    py: Python<'_>,
    name: &str,
    frame: Frame,
    fitted: Fitted,
    prediction: Prediction,
) -> PyResult<PyDataFrame> {
    let model = fitted_model(&fitted)?;
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
#[pyo3(signature = (frame, model, params, spend_params, frequency, recency, age, monetary_value, months, discount_rate, margin, time_unit, discounting, periods, covariates=None, spend_covariates=None, intervals=None))]
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
    covariates: Option<CovariatesIn>,
    spend_covariates: Option<CovariatesIn>,
    intervals: Option<IntervalsIn>,
) -> PyResult<PyDataFrame> {
    let mut transactions = with_covariates(model_of(model, &params)?, covariates)?;
    let mut spend = with_covariates(model_of("gamma_gamma", &spend_params)?, spend_covariates)?;
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
    if let Some((covariance, spend_covariance, draws, seed, level)) = intervals {
        transactions.covariance = covariance;
        spend.covariance = spend_covariance;
        let interval = IntervalOptions { draws, seed, level };
        return run(py, "clv_customer_value", || {
            customer_value_intervals(&frame, &transactions, &spend, &cols, &options, &interval)
        })
        .map(PyDataFrame);
    }
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
    m.add_function(wrap_pyfunction!(clv_evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(clv_lr_test, m)?)?;
    m.add_function(wrap_pyfunction!(clv_fit_covariates, m)?)?;
    m.add_function(wrap_pyfunction!(clv_prediction_intervals, m)?)?;
    Ok(())
}
