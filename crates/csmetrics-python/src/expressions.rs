//! Polars expression plugins (`#[polars_expr]`): NPS, CSAT and CES as scalar aggregations usable
//! in `select`, `group_by().agg()`, `over()` and lazy queries. Errors surface in Python as
//! Polars `ComputeError`s carrying the core's message.

#![allow(missing_docs)]

use csmetrics::clv::formula::{formula_series, Formula};
use csmetrics::survey::{
    ces_of_series, csat_of_series, nps_of_series, CesDirection, InvalidPolicy, Scale,
};
use csmetrics::CsError;
use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use serde::Deserialize;

fn compute_error(err: CsError) -> PolarsError {
    PolarsError::ComputeError(err.to_string().into())
}

fn scalar(name: &str, value: Option<f64>) -> Series {
    Series::new(name.into(), [value])
}

/// Runs a plugin body, turning a panic into a ComputeError naming the function (a bug; the
/// tests show it is never reached) instead of letting it unwind into Polars.
fn guarded(function: &str, f: impl FnOnce() -> PolarsResult<Series>) -> PolarsResult<Series> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(PolarsError::ComputeError(
            format!(
                "csmetrics: internal error in {function} (a bug: please report it with the input \
                 that caused it)"
            )
            .into(),
        ))
    })
}

#[derive(Deserialize)]
struct NpsKwargs {
    invalid: String,
    column: String,
}

#[polars_expr(output_type=Float64)]
fn nps_expr(inputs: &[Series], kwargs: NpsKwargs) -> PolarsResult<Series> {
    guarded("nps", || {
        let series = &inputs[0];
        let policy: InvalidPolicy = kwargs.invalid.parse().map_err(compute_error)?;
        let value = nps_of_series(series, &kwargs.column, policy).map_err(compute_error)?;
        Ok(scalar(series.name(), value))
    })
}

#[derive(Deserialize)]
struct CsatKwargs {
    invalid: String,
    column: String,
    scale_min: i64,
    scale_max: i64,
}

#[polars_expr(output_type=Float64)]
fn csat_expr(inputs: &[Series], kwargs: CsatKwargs) -> PolarsResult<Series> {
    guarded("csat", || {
        let series = &inputs[0];
        let policy: InvalidPolicy = kwargs.invalid.parse().map_err(compute_error)?;
        let scale = Scale::new(kwargs.scale_min, kwargs.scale_max).map_err(compute_error)?;
        let value = csat_of_series(series, &kwargs.column, scale, policy).map_err(compute_error)?;
        Ok(scalar(series.name(), value))
    })
}

#[derive(Deserialize)]
struct CesKwargs {
    invalid: String,
    column: String,
    scale_min: i64,
    scale_max: i64,
    direction: String,
}

#[polars_expr(output_type=Float64)]
fn ces_expr(inputs: &[Series], kwargs: CesKwargs) -> PolarsResult<Series> {
    guarded("ces", || {
        let series = &inputs[0];
        let policy: InvalidPolicy = kwargs.invalid.parse().map_err(compute_error)?;
        let scale = Scale::new(kwargs.scale_min, kwargs.scale_max).map_err(compute_error)?;
        let direction: CesDirection = kwargs.direction.parse().map_err(compute_error)?;
        let value = ces_of_series(series, &kwargs.column, scale, direction, policy)
            .map_err(compute_error)?;
        Ok(scalar(series.name(), value))
    })
}

fn formula(name: &str, formula: Formula, inputs: &[Series]) -> PolarsResult<Series> {
    guarded(name, || {
        formula_series(formula, inputs).map_err(compute_error)
    })
}

#[polars_expr(output_type=Float64)]
fn purchase_clv_expr(inputs: &[Series]) -> PolarsResult<Series> {
    formula("purchase_clv", Formula::Purchase, inputs)
}

#[polars_expr(output_type=Float64)]
fn subscription_clv_expr(inputs: &[Series]) -> PolarsResult<Series> {
    formula("subscription_clv", Formula::Subscription, inputs)
}

#[polars_expr(output_type=Float64)]
fn net_clv_expr(inputs: &[Series]) -> PolarsResult<Series> {
    formula("net_clv", Formula::Net, inputs)
}

#[polars_expr(output_type=Float64)]
fn sentiment_expr(inputs: &[Series]) -> PolarsResult<Series> {
    guarded("sentiment", || {
        let series = &inputs[0];
        if !series.dtype().is_string() {
            return Err(PolarsError::ComputeError(
                format!(
                    "column '{}' has type {}: the comments for sentiment must be strings",
                    series.name(),
                    series.dtype()
                )
                .into(),
            ));
        }
        let scores = csmetrics::feedback::compound_of_series(series.str()?);
        Ok(scores.with_name(series.name().clone()).into_series())
    })
}
