//! Bindings of the revenue and retention families: one entry point per public function over the
//! customer panel (its columns and options cross as one typed mapping), and renewal rates.

use csmetrics::revenue::{
    self as engine, BillingOptions, ChurnAt, ChurnKind, DiscountColumns, InvoiceColumns, MrrBasis,
    PastDue, Paused, Prorations, RevenueInput, RevenueOptions, Stacking, SubscriptionColumns,
    Trials,
};
use polars::prelude::DataFrame;
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use csmetrics::churn::{churn_rates as churn_rates_of, ChurnDenominator, ChurnOptions};
use csmetrics::cohort::{
    cohort_retention as cohort_retention_of, CohortKind, CohortOptions, CohortRule,
};
use csmetrics::health::{churn_labels as churn_labels_of, ChurnLabelOptions};
use csmetrics::renewal::RenewalOptions;
use csmetrics::survival::{
    survival_table as survival_table_of, DurationUnit, Lives, SurvivalTableOptions,
};

use crate::errors::{run, to_py, Choice, Frame};

/// The customer panel as given in Python: the input table's columns and the panel's options.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Panel {
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
    period: String,
    as_of: Option<i64>,
    first_period: Option<i64>,
    precision: u32,
    free_is_active: bool,
    mode: String,
    by: Vec<String>,
    fx: Option<Vec<(String, f64)>>,
    window: Option<usize>,
    money: String,
    quantity: Option<String>,
    subscription_id: Option<String>,
    status: Option<String>,
    canceled_at: Option<String>,
    churn_reason: Option<String>,
    percent_off: Option<String>,
    amount_off: Option<String>,
    discount_duration: Option<String>,
    duration_in_months: Option<String>,
    discount_start: Option<String>,
    discount_end: Option<String>,
    discounts: Option<Frame>,
    stacking: Choice<Stacking>,
    mrr_basis: Choice<MrrBasis>,
    with_contract: bool,
    trials: Choice<Trials>,
    past_due: Choice<PastDue>,
    delinquency_days: u32,
    paused: Choice<Paused>,
    churn_at: Choice<ChurnAt>,
    churn_reasons: Vec<(String, Choice<ChurnKind>)>,
    period_start: String,
    period_end: String,
    kind: Option<String>,
    prorations: Choice<Prorations>,
    gap_tolerance_days: f64,
}

impl Panel {
    /// The core's options; a name the core does not know is its InvalidInputError.
    fn options(self) -> PyResult<RevenueOptions> {
        let input = match self.table.as_str() {
            "activity" => RevenueInput::Activity {
                customer_id: self.customer_id,
                timestamp: self.timestamp,
            },
            "invoices" => RevenueInput::Invoices(InvoiceColumns {
                customer_id: self.customer_id.clone(),
                amount: self.amount.clone(),
                period_start: self.period_start.clone(),
                period_end: self.period_end.clone(),
                kind: self.kind.clone(),
                currency: self.currency.clone(),
                subscription_id: self.subscription_id.clone(),
                prorations: self.prorations.0,
                gap_tolerance_days: self.gap_tolerance_days,
            }),
            "monthly" => RevenueInput::Monthly {
                customer_id: self.customer_id,
                period: self.period_column,
                mrr: self.mrr_column,
            },
            "subscriptions" => RevenueInput::Subscriptions(SubscriptionColumns {
                customer_id: self.customer_id,
                start: self.start,
                end: self.end,
                amount: self.amount,
                interval: self.interval,
                interval_count: self.interval_count,
                currency: self.currency,
                quantity: self.quantity,
                subscription_id: self.subscription_id,
                status: self.status,
                canceled_at: self.canceled_at,
                churn_reason: self.churn_reason,
                discount: DiscountColumns {
                    percent_off: self.percent_off,
                    amount_off: self.amount_off,
                    duration: self.discount_duration,
                    duration_in_months: self.duration_in_months,
                    start: self.discount_start,
                    end: self.discount_end,
                },
            }),
            other => {
                return Err(to_py(csmetrics::CsError::option(
                    "table",
                    format!("'{other}'"),
                    "one of 'subscriptions', 'invoices', 'monthly', 'activity'",
                )))
            }
        };
        Ok(RevenueOptions {
            input,
            period: self.period.parse().map_err(to_py)?,
            as_of: self.as_of,
            first_period: self.first_period,
            precision: self.precision,
            free_is_active: self.free_is_active,
            mode: self.mode.parse().map_err(to_py)?,
            by: self.by,
            fx: self.fx,
            window: self.window,
            money: self.money.parse().map_err(to_py)?,
            billing: BillingOptions {
                discounts: self.discounts.map(|f| f.0),
                stacking: self.stacking.0,
                basis: self.mrr_basis.0,
                with_contract: self.with_contract,
                trials: self.trials.0,
                past_due: self.past_due.0,
                delinquency_days: self.delinquency_days,
                paused: self.paused.0,
                churn_at: self.churn_at.0,
                churn_reasons: self
                    .churn_reasons
                    .into_iter()
                    .map(|(k, v)| (k, v.0))
                    .collect(),
            },
        })
    }
}

type PanelFunction = fn(&DataFrame, &RevenueOptions) -> csmetrics::Result<DataFrame>;

fn over_panel(
    py: Python<'_>,
    name: &str,
    frame: Frame,
    panel: Panel,
    f: PanelFunction,
) -> PyResult<PyDataFrame> {
    let options = panel.options()?;
    let frame = frame.0;
    run(py, name, || f(&frame, &options)).map(PyDataFrame)
}

/// Entry points whose only options are the panel's.
macro_rules! panel_functions {
    ($($name:ident),*) => {$(
        #[pyfunction]
        fn $name(py: Python<'_>, frame: Frame, panel: Panel) -> PyResult<PyDataFrame> {
            over_panel(py, stringify!($name), frame, panel, engine::$name)
        }
    )*};
}

panel_functions!(mrr, mrr_movements, mrr_bridge, revenue_kpis);

#[pyfunction]
#[pyo3(signature = (frame, panel, denominator, confidence))]
fn churn_rates(
    py: Python<'_>,
    frame: Frame,
    panel: Panel,
    denominator: Choice<ChurnDenominator>,
    confidence: Option<f64>,
) -> PyResult<PyDataFrame> {
    let options = ChurnOptions {
        panel: panel.options()?,
        denominator: denominator.0,
        confidence,
    };
    let frame = frame.0;
    run(py, "churn_rates", || churn_rates_of(&frame, &options)).map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, panel, kind, rule, signup))]
fn cohort_retention(
    py: Python<'_>,
    frame: Frame,
    panel: Panel,
    kind: Choice<CohortKind>,
    rule: Choice<CohortRule>,
    signup: Option<String>,
) -> PyResult<PyDataFrame> {
    let options = CohortOptions {
        panel: panel.options()?,
        kind: kind.0,
        rule: rule.0,
        signup,
    };
    let frame = frame.0;
    run(py, "cohort_retention", || {
        cohort_retention_of(&frame, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, panel, gap_tolerance_days, lives, unit))]
fn survival_table(
    py: Python<'_>,
    frame: Frame,
    panel: Panel,
    gap_tolerance_days: f64,
    lives: Choice<Lives>,
    unit: Choice<DurationUnit>,
) -> PyResult<PyDataFrame> {
    let options = SurvivalTableOptions {
        panel: panel.options()?,
        gap_tolerance_days,
        lives: lives.0,
        unit: unit.0,
    };
    let frame = frame.0;
    run(py, "survival_table", || survival_table_of(&frame, &options)).map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (scores, subscriptions, panel, periods, customer_id, period, churned))]
#[allow(clippy::too_many_arguments)]
fn churn_labels(
    py: Python<'_>,
    scores: Frame,
    subscriptions: Frame,
    panel: Panel,
    periods: u32,
    customer_id: String,
    period: String,
    churned: String,
) -> PyResult<PyDataFrame> {
    let options = ChurnLabelOptions {
        panel: panel.options()?,
        periods,
        customer_id,
        period,
        churned,
    };
    let (scores, subscriptions) = (scores.0, subscriptions.0);
    run(py, "churn_labels", || {
        churn_labels_of(&scores, &subscriptions, &options)
    })
    .map(PyDataFrame)
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
    period: Choice<csmetrics::Period>,
) -> PyResult<PyDataFrame> {
    let options = RenewalOptions {
        renewal_due,
        renewed,
        amount,
        by,
        period: period.0,
    };
    let frame = frame.0;
    run(py, "renewal_rates", || {
        csmetrics::renewal::renewal_rates(&frame, &options)
    })
    .map(PyDataFrame)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(mrr, m)?)?;
    m.add_function(wrap_pyfunction!(mrr_movements, m)?)?;
    m.add_function(wrap_pyfunction!(mrr_bridge, m)?)?;
    m.add_function(wrap_pyfunction!(revenue_kpis, m)?)?;
    m.add_function(wrap_pyfunction!(churn_rates, m)?)?;
    m.add_function(wrap_pyfunction!(cohort_retention, m)?)?;
    m.add_function(wrap_pyfunction!(survival_table, m)?)?;
    m.add_function(wrap_pyfunction!(churn_labels, m)?)?;
    m.add_function(wrap_pyfunction!(renewal_rates, m)?)?;
    Ok(())
}
