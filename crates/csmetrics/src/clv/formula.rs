//! Formula CLV: the closed-form lifetime values of docs/metrics/clv.md#formula, for a single
//! customer or segment (scalars) and row-wise over columns of a frame (one value per segment row).

use polars::prelude::*;

use super::data::float_column;
use crate::error::Result;

/// Average purchase value x purchases per year x lifespan in years, minus the yearly retention
/// cost (CRC) per customer over the lifespan: `v f L - c L`.
///
/// ```
/// use csmetrics::clv::formula::purchase_clv;
/// assert_eq!(purchase_clv(1000.0, 2.0, 3.0, 0.0), 6000.0);
/// assert_eq!(purchase_clv(1000.0, 2.0, 3.0, 500.0), 4500.0);
/// ```
pub fn purchase_clv(
    average_purchase_value: f64,
    purchases_per_year: f64,
    lifespan_years: f64,
    retention_cost_per_year: f64,
) -> f64 {
    average_purchase_value * purchases_per_year * lifespan_years
        - retention_cost_per_year * lifespan_years
}

/// Subscription CLV: ARPA (monthly revenue per account) x gross margin / monthly churn rate.
/// `None` when the churn rate is 0 (division by zero gives null, per the contract).
pub fn subscription_clv(arpa: f64, gross_margin: f64, monthly_churn_rate: f64) -> Option<f64> {
    (monthly_churn_rate != 0.0).then(|| arpa * gross_margin / monthly_churn_rate)
}

/// CLV as revenue minus acquisition and service cost.
pub fn net_clv(revenue: f64, acquisition_cost: f64, service_cost: f64) -> f64 {
    revenue - acquisition_cost - service_cost
}

/// Column names for [`purchase_clv_frame`].
#[derive(Debug, Clone)]
pub struct PurchaseClvColumns {
    /// Average purchase value.
    pub average_purchase_value: String,
    /// Purchases per year.
    pub purchases_per_year: String,
    /// Lifespan in years.
    pub lifespan_years: String,
    /// Optional yearly retention cost per customer.
    pub retention_cost_per_year: Option<String>,
}

/// [`purchase_clv`] row by row (for example one row per segment): a Float64 column `clv`.
pub fn purchase_clv_frame(frame: &DataFrame, columns: &PurchaseClvColumns) -> Result<Column> {
    let value = float_column(
        frame,
        &columns.average_purchase_value,
        "the average purchase value",
    )?;
    let rate = float_column(frame, &columns.purchases_per_year, "the purchases per year")?;
    let life = float_column(frame, &columns.lifespan_years, "the lifespan in years")?;
    let cost = match &columns.retention_cost_per_year {
        Some(name) => float_column(frame, name, "the yearly retention cost")?,
        None => vec![0.0; frame.height()],
    };
    let clv: Vec<f64> = (0..frame.height())
        .map(|i| purchase_clv(value[i], rate[i], life[i], cost[i]))
        .collect();
    Ok(Column::new("clv".into(), clv))
}

/// A closed CLV formula, applied row by row by [`formula_series`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formula {
    /// [`purchase_clv`]: average purchase value, purchases per year, lifespan in years and the
    /// yearly retention cost.
    Purchase,
    /// [`subscription_clv`]: ARPA, gross margin and the monthly churn rate.
    Subscription,
    /// [`net_clv`]: revenue, acquisition cost and service cost.
    Net,
}

impl Formula {
    /// What each input is, in order (named in errors).
    pub fn inputs(self) -> &'static [&'static str] {
        match self {
            Formula::Purchase => &[
                "the average purchase value",
                "the purchases per year",
                "the lifespan in years",
                "the yearly retention cost",
            ],
            Formula::Subscription => &["the ARPA", "the gross margin", "the monthly churn rate"],
            Formula::Net => &["the revenue", "the acquisition cost", "the service cost"],
        }
    }

    fn apply(self, x: &[f64]) -> Option<f64> {
        match self {
            Formula::Purchase => Some(purchase_clv(x[0], x[1], x[2], x[3])),
            Formula::Subscription => subscription_clv(x[0], x[1], x[2]),
            Formula::Net => Some(net_clv(x[0], x[1], x[2])),
        }
    }
}

/// `formula` row by row over `inputs` (numbers of any numeric type; each of one row, which is
/// broadcast, or of the common length): a Float64 series `clv`, null where an input is null or
/// where the formula is undefined (a churn rate of 0).
///
/// ```
/// use csmetrics::clv::formula::{formula_series, Formula};
/// use polars::prelude::*;
/// let arpa = Series::new("arpa".into(), [100.0, 50.0]);
/// let margin = Series::new("margin".into(), [0.8]);
/// let churn = Series::new("churn".into(), [0.02, 0.0]);
/// let clv = formula_series(Formula::Subscription, &[arpa, margin, churn]).unwrap();
/// assert_eq!(clv.f64().unwrap().iter().collect::<Vec<_>>(), [Some(4000.0), None]);
/// ```
pub fn formula_series(formula: Formula, inputs: &[Series]) -> Result<Series> {
    let names = formula.inputs();
    if inputs.len() != names.len() {
        return Err(crate::error::CsError::option(
            "inputs",
            inputs.len(),
            &format!("the formula takes {} inputs", names.len()),
        ));
    }
    let rows = inputs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut columns = Vec::with_capacity(inputs.len());
    for (series, what) in inputs.iter().zip(names) {
        let name = series.name().to_string();
        if series.len() != rows && series.len() != 1 {
            return Err(crate::error::CsError::option(
                &name,
                series.len(),
                &format!("{what} needs 1 value or {rows}, as many as the other inputs"),
            ));
        }
        let numbers = crate::input::number_series(series, &name, crate::input::Role::Number, what)?;
        columns.push(numbers.f64()?.iter().collect::<Vec<Option<f64>>>());
    }
    let mut row = vec![0.0; inputs.len()];
    let clv: Float64Chunked = (0..rows)
        .map(|i| {
            for (slot, column) in row.iter_mut().zip(&columns) {
                *slot = column[if column.len() == 1 { 0 } else { i }]?;
            }
            formula.apply(&row)
        })
        .collect();
    Ok(clv.with_name("clv".into()).into_series())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples_of_the_contract() {
        assert_eq!(purchase_clv(1000.0, 2.0, 3.0, 0.0), 6000.0);
        assert_eq!(purchase_clv(1000.0, 2.0, 3.0, 500.0), 4500.0);
        assert_eq!(subscription_clv(100.0, 0.8, 0.02), Some(4000.0));
        assert_eq!(subscription_clv(100.0, 0.8, 0.0), None);
        assert_eq!(net_clv(6000.0, 1000.0, 500.0), 4500.0);
    }

    #[test]
    fn per_segment_rows() {
        let frame = df!(
            "segment" => ["smb", "ent"],
            "value" => [1000.0, 5000.0],
            "per_year" => [2.0, 1.0],
            "years" => [3.0, 5.0],
            "crc" => [500.0, 1000.0],
        )
        .unwrap();
        let clv = purchase_clv_frame(
            &frame,
            &PurchaseClvColumns {
                average_purchase_value: "value".into(),
                purchases_per_year: "per_year".into(),
                lifespan_years: "years".into(),
                retention_cost_per_year: Some("crc".into()),
            },
        )
        .unwrap();
        let values: Vec<Option<f64>> = clv.f64().unwrap().iter().collect();
        assert_eq!(values, vec![Some(4500.0), Some(20000.0)]);
    }
}
