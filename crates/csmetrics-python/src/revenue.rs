//! Bindings of the revenue and retention families: one entry point over the customer panel,
//! dispatched on the output asked for, and renewal rates.

use csmetrics::revenue::{self as engine, RevenueInput, RevenueOptions, SubscriptionColumns};
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use csmetrics::churn::{churn_rates, ChurnOptions};
use csmetrics::cohort::{cohort_retention, CohortOptions};
use csmetrics::renewal::RenewalOptions;
use csmetrics::survival::{survival_table, SurvivalTableOptions};

use crate::errors::{run, to_py, Frame};

/// Column names of the input table, as given in Python.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Columns {
    table: String,
    customer_id: String,
    start: String,
    end: Option<String>,
    amount: String,
    interval: Option<String>,
    interval_count: Option<String>,
    currency: Option<String>,
    period_column: String,
    mrr_column: String,
    timestamp: String,
}

/// Options of the retention outputs (churn, cohorts, lives); None where not used.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Extra {
    denominator: Option<String>,
    confidence: Option<f64>,
    kind: Option<String>,
    rule: Option<String>,
    signup: Option<String>,
    gap_tolerance: Option<f64>,
    lives: Option<String>,
    unit: Option<String>,
}

fn parse<T: std::str::FromStr<Err = csmetrics::CsError> + Default>(
    value: &Option<String>,
) -> PyResult<T> {
    value
        .as_deref()
        .map_or(Ok(T::default()), |v| v.parse().map_err(to_py))
}

#[pyfunction]
#[pyo3(signature = (output, frame, columns, period, as_of, first_period, precision, free_is_active, mode, by, fx, window, money, extra))]
#[allow(clippy::too_many_arguments)]
fn revenue(
    py: Python<'_>,
    output: &str,
    frame: Frame,
    columns: Columns,
    period: &str,
    as_of: Option<i64>,
    first_period: Option<i64>,
    precision: u32,
    free_is_active: bool,
    mode: &str,
    by: Vec<String>,
    fx: Option<Vec<(String, f64)>>,
    window: Option<usize>,
    money: &str,
    extra: Extra,
) -> PyResult<PyDataFrame> {
    let input = match columns.table.as_str() {
        "activity" => RevenueInput::Activity {
            customer_id: columns.customer_id,
            timestamp: columns.timestamp,
        },
        "monthly" => RevenueInput::Monthly {
            customer_id: columns.customer_id,
            period: columns.period_column,
            mrr: columns.mrr_column,
        },
        "subscriptions" => RevenueInput::Subscriptions(SubscriptionColumns {
            customer_id: columns.customer_id,
            start: columns.start,
            end: columns.end,
            amount: columns.amount,
            interval: columns.interval,
            interval_count: columns.interval_count,
            currency: columns.currency,
        }),
        other => {
            return Err(to_py(csmetrics::CsError::option(
                "table",
                format!("'{other}'"),
                "one of 'subscriptions', 'monthly', 'activity'",
            )))
        }
    };
    let options = RevenueOptions {
        input,
        period: period.parse().map_err(to_py)?,
        as_of,
        first_period,
        precision,
        free_is_active,
        mode: mode.parse().map_err(to_py)?,
        by,
        fx,
        window,
        money: money.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    let compute: Box<dyn FnOnce() -> csmetrics::Result<polars::prelude::DataFrame> + Send> =
        match output {
            "mrr" => Box::new(move || engine::mrr(&frame, &options)),
            "movements" => Box::new(move || engine::mrr_movements(&frame, &options)),
            "bridge" => Box::new(move || engine::mrr_bridge(&frame, &options)),
            "kpis" => Box::new(move || engine::revenue_kpis(&frame, &options)),
            "churn" => {
                let churn = ChurnOptions {
                    panel: options,
                    denominator: parse(&extra.denominator)?,
                    confidence: extra.confidence,
                };
                Box::new(move || churn_rates(&frame, &churn))
            }
            "cohort" => {
                let cohort = CohortOptions {
                    panel: options,
                    kind: parse(&extra.kind)?,
                    rule: parse(&extra.rule)?,
                    signup: extra.signup,
                };
                Box::new(move || cohort_retention(&frame, &cohort))
            }
            "lives" => {
                let lives = SurvivalTableOptions {
                    panel: options,
                    gap_tolerance_days: extra.gap_tolerance.unwrap_or(0.0),
                    lives: parse(&extra.lives)?,
                    unit: parse(&extra.unit)?,
                };
                Box::new(move || survival_table(&frame, &lives))
            }
            other => {
                return Err(to_py(csmetrics::CsError::option(
                    "output",
                    format!("'{other}'"),
                    "one of 'mrr', 'movements', 'bridge', 'kpis', 'churn', 'cohort', 'lives'",
                )))
            }
        };
    run(py, output, compute).map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, renewal_due, renewed, amount, by, period))]
fn renewal_rates(
    py: Python<'_>,
    frame: Frame,
    renewal_due: String,
    renewed: String,
    amount: Option<String>,
    by: Vec<String>,
    period: &str,
) -> PyResult<PyDataFrame> {
    let options = RenewalOptions {
        renewal_due,
        renewed,
        amount,
        by,
        period: period.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "renewal_rates", || {
        csmetrics::renewal::renewal_rates(&frame, &options)
    })
    .map(PyDataFrame)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(revenue, m)?)?;
    m.add_function(wrap_pyfunction!(renewal_rates, m)?)?;
    Ok(())
}
