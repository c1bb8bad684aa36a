//! How good a forecast was: a transaction model (and optionally a spend model) fitted on the
//! calibration columns of a calibration/holdout summary, scored against what the customers
//! did in the holdout period.
//!
//! Per customer the model predicts the holdout purchases (the conditional expectation over
//! that customer's holdout duration) and, with a Gamma-Gamma model, the holdout spend (those
//! purchases times the expected mean purchase value). The figures: mean absolute error, root
//! mean squared error, the relative error of the total, Spearman's rank correlation of
//! predicted and actual values, and the top-decile capture (the share of the actual holdout
//! value held by the 10% of customers the model ranks highest); and the calibration table of
//! mean actual and predicted holdout purchases by calibration frequency.

use polars::prelude::*;

use super::data::{float_column, invalid, per_row, SummaryColumns};
use super::predict::{expected_spend_rows, Scorer};
use super::{Fit, Model};
use crate::error::{CsError, Result};
use crate::frame::format_number;

/// Options of [`evaluate`].
#[derive(Debug, Clone)]
pub struct EvaluateOptions {
    /// Column of the holdout purchases (default `frequency_holdout`).
    pub frequency_holdout: String,
    /// Column of the holdout duration in the summary's time unit (default `duration_holdout`).
    pub duration_holdout: String,
    /// Column of the mean holdout purchase value, null without holdout purchases (default
    /// `monetary_value_holdout`); read only with a spend model.
    pub monetary_value_holdout: String,
    /// The calibration table has one row per calibration frequency 0..`max_frequency` - 1 and
    /// an open last row for `max_frequency` and more (default 7).
    pub max_frequency: u32,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        EvaluateOptions {
            frequency_holdout: "frequency_holdout".into(),
            duration_holdout: "duration_holdout".into(),
            monetary_value_holdout: "monetary_value_holdout".into(),
            max_frequency: 7,
        }
    }
}

/// What [`evaluate`] returns.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// One row per customer of the summary, in its order: `predicted_purchases`,
    /// `actual_purchases` and, with a spend model, `predicted_spend`, `actual_spend`.
    pub customers: DataFrame,
    /// One row per target (`purchases`, and `spend` with a spend model): `target`,
    /// `customers` (with a prediction), `mae`, `rmse`, `actual_total`, `predicted_total`,
    /// `total_relative_error` ((predicted - actual) / actual), `spearman`,
    /// `top_decile_capture`.
    pub metrics: DataFrame,
    /// By calibration frequency: `frequency` (the bin's lowest frequency), `label` ("0", ...,
    /// "7+"), `customers`, `actual` and `predicted` mean holdout purchases.
    pub calibration: DataFrame,
}

/// Scores `transactions` (BG/NBD, Pareto/NBD, MBG/NBD or BG/BB, fitted on the calibration
/// columns) and optionally `spend` (Gamma-Gamma) on the holdout columns of `frame`.
///
/// Customers for whom a model gives no finite prediction are left out of the figures (their
/// predictions are null in `customers`; `metrics` counts the rest).
pub fn evaluate(
    frame: &DataFrame,
    transactions: &Fit,
    spend: Option<&Fit>,
    columns: &SummaryColumns,
    options: &EvaluateOptions,
) -> Result<Evaluation> {
    // A transaction model, or an error naming the model.
    Scorer::of(transactions)?;
    if let Some(spend) = spend {
        if spend.model != Model::GammaGamma {
            return Err(CsError::option(
                "spend_model",
                spend.model,
                "the spend model must be a Gamma-Gamma model",
            ));
        }
    }
    let [x, recency, age] = super::predict::histories(frame, transactions.model, columns)?;
    let actual = holdout_counts(frame, &options.frequency_holdout)?;
    let duration = float_column(frame, &options.duration_holdout, "the holdout duration")?;
    for (row, d) in duration.iter().enumerate() {
        if !(d.is_finite() && *d >= 0.0) {
            return Err(invalid(
                &options.duration_holdout,
                row,
                format_number(*d),
                "the holdout duration must be finite and >= 0",
            ));
        }
        if transactions.model == Model::BetaGeoBetaBinom && d.fract() != 0.0 {
            return Err(invalid(
                &options.duration_holdout,
                row,
                format_number(*d),
                "BG/BB counts whole future opportunities: the holdout duration must be whole",
            ));
        }
    }
    // With covariates each customer is scored with the parameters they give.
    let (group_params, of_row) = super::covariates::row_groups(frame, transactions)?;
    let scorers = group_params
        .into_iter()
        .map(|p| Fit::from_params(p).and_then(|f| Scorer::of(&f)))
        .collect::<Result<Vec<Scorer>>>()?;
    let predicted = finite(per_row(x.len(), |i| {
        scorers[of_row[i] as usize].expected(duration[i], x[i], recency[i], age[i])
    }));
    let mut customer_columns = vec![
        Column::new("predicted_purchases".into(), &predicted),
        Column::new("actual_purchases".into(), &actual),
    ];
    let mut targets = vec![("purchases", predicted.clone(), actual.clone())];
    if let Some(spend) = spend {
        let mean_spend = expected_spend_rows(frame, spend, columns)?;
        let predicted_spend: Vec<Option<f64>> = predicted
            .iter()
            .zip(&mean_spend)
            .map(|(p, m)| p.zip(*m).map(|(p, m)| p * m).filter(|v| v.is_finite()))
            .collect();
        let actual_spend = holdout_spend(frame, &actual, options)?;
        customer_columns.push(Column::new("predicted_spend".into(), &predicted_spend));
        customer_columns.push(Column::new("actual_spend".into(), &actual_spend));
        targets.push(("spend", predicted_spend, actual_spend));
    }
    let customers = DataFrame::new(x.len(), customer_columns)?;
    let metrics = metrics_frame(&targets)?;
    let calibration = calibration_table(&x, &predicted, &actual, options.max_frequency)?;
    Ok(Evaluation {
        customers,
        metrics,
        calibration,
    })
}

fn finite(values: Vec<f64>) -> Vec<Option<f64>> {
    values
        .into_iter()
        .map(|v| v.is_finite().then_some(v))
        .collect()
}

/// The holdout purchases: whole numbers >= 0.
fn holdout_counts(frame: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let counts = float_column(frame, name, "the holdout purchases")?;
    for (row, v) in counts.iter().enumerate() {
        if !(v.is_finite() && *v >= 0.0 && v.fract() == 0.0) {
            return Err(invalid(
                name,
                row,
                format_number(*v),
                "the holdout purchases must be whole numbers >= 0",
            ));
        }
    }
    Ok(counts)
}

/// Actual holdout spend: holdout purchases times their mean value (0 without purchases).
fn holdout_spend(frame: &DataFrame, counts: &[f64], options: &EvaluateOptions) -> Result<Vec<f64>> {
    let name = &options.monetary_value_holdout;
    let values = crate::input::optional_numbers(
        frame,
        name,
        crate::input::Role::Number,
        "the mean holdout purchase value",
    )?;
    counts
        .iter()
        .zip(&values)
        .enumerate()
        .map(|(row, (n, m))| match m {
            _ if *n == 0.0 => Ok(0.0),
            Some(m) if m.is_finite() && *m >= 0.0 => Ok(n * m),
            other => Err(invalid(
                name,
                row,
                other.map_or("null".to_string(), format_number),
                "a customer with holdout purchases needs a finite mean holdout value >= 0",
            )),
        })
        .collect()
}

/// Ranks from 1, ties sharing the mean of their ranks.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut out = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end: their mean.
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
    out
}

/// Pearson's correlation; NaN when either side is constant.
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Spearman's rank correlation (Pearson's on mid-ranks); NaN when either side is constant.
pub(crate) fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}

/// Share of the total of `actual` held by the ceil(n / 10) rows with the largest `predicted`
/// (ties in `predicted` broken by row order).
pub(crate) fn top_decile_capture(predicted: &[f64], actual: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..predicted.len()).collect();
    order.sort_by(|&i, &j| predicted[j].total_cmp(&predicted[i]).then(i.cmp(&j)));
    let top = predicted.len().div_ceil(10);
    let total: f64 = actual.iter().sum();
    order[..top].iter().map(|&i| actual[i]).sum::<f64>() / total
}

type Target = (&'static str, Vec<Option<f64>>, Vec<f64>);

fn metrics_frame(targets: &[Target]) -> Result<DataFrame> {
    let mut names = Vec::new();
    let mut counts = Vec::new();
    let (mut mae, mut rmse, mut actual_total, mut predicted_total) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut relative, mut rho, mut capture) = (Vec::new(), Vec::new(), Vec::new());
    let keep = |v: f64| v.is_finite().then_some(v);
    for (name, predicted, actual) in targets {
        let (p, a): (Vec<f64>, Vec<f64>) = predicted
            .iter()
            .zip(actual)
            .filter_map(|(p, a)| p.map(|p| (p, *a)))
            .unzip();
        let n = p.len() as f64;
        let abs: f64 = p.iter().zip(&a).map(|(p, a)| (p - a).abs()).sum();
        let squares: f64 = p.iter().zip(&a).map(|(p, a)| (p - a) * (p - a)).sum();
        let (sum_a, sum_p) = (a.iter().sum::<f64>(), p.iter().sum::<f64>());
        names.push(*name);
        counts.push(p.len() as u64);
        mae.push(keep(abs / n));
        rmse.push(keep((squares / n).sqrt()));
        actual_total.push(sum_a);
        predicted_total.push(sum_p);
        relative.push(keep((sum_p - sum_a) / sum_a));
        rho.push(if p.is_empty() {
            None
        } else {
            keep(spearman(&p, &a))
        });
        capture.push(if p.is_empty() {
            None
        } else {
            keep(top_decile_capture(&p, &a))
        });
    }
    Ok(DataFrame::new(
        names.len(),
        vec![
            Column::new("target".into(), names),
            Column::new("customers".into(), counts),
            Column::new("mae".into(), mae),
            Column::new("rmse".into(), rmse),
            Column::new("actual_total".into(), actual_total),
            Column::new("predicted_total".into(), predicted_total),
            Column::new("total_relative_error".into(), relative),
            Column::new("spearman".into(), rho),
            Column::new("top_decile_capture".into(), capture),
        ],
    )?)
}

fn calibration_table(
    x: &[f64],
    predicted: &[Option<f64>],
    actual: &[f64],
    max_frequency: u32,
) -> Result<DataFrame> {
    if max_frequency == 0 {
        return Err(CsError::option(
            "max_frequency",
            max_frequency,
            "must be at least 1 (the last row pools the frequencies from it on)",
        ));
    }
    let bins = max_frequency as usize + 1;
    let (mut count, mut with_prediction) = (vec![0u64; bins], vec![0u64; bins]);
    let (mut sum_actual, mut sum_predicted) = (vec![0.0; bins], vec![0.0; bins]);
    for i in 0..x.len() {
        let bin = (x[i].min(max_frequency as f64)) as usize;
        count[bin] += 1;
        sum_actual[bin] += actual[i];
        if let Some(p) = predicted[i] {
            with_prediction[bin] += 1;
            sum_predicted[bin] += p;
        }
    }
    let present: Vec<usize> = (0..bins).filter(|&b| count[b] > 0).collect();
    let label = |b: usize| {
        if b == max_frequency as usize {
            format!("{b}+")
        } else {
            b.to_string()
        }
    };
    Ok(DataFrame::new(
        present.len(),
        vec![
            Column::new(
                "frequency".into(),
                present.iter().map(|&b| b as i64).collect::<Vec<_>>(),
            ),
            Column::new(
                "label".into(),
                present.iter().map(|&b| label(b)).collect::<Vec<_>>(),
            ),
            Column::new(
                "customers".into(),
                present.iter().map(|&b| count[b]).collect::<Vec<_>>(),
            ),
            Column::new(
                "actual".into(),
                present
                    .iter()
                    .map(|&b| sum_actual[b] / count[b] as f64)
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "predicted".into(),
                present
                    .iter()
                    .map(|&b| {
                        (with_prediction[b] > 0)
                            .then(|| sum_predicted[b] / with_prediction[b] as f64)
                    })
                    .collect::<Vec<_>>(),
            ),
        ],
    )?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ranks_share_ties() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn spearman_by_hand() {
        // Ranks (1, 2, 3, 4, 5) and (2, 1, 4, 3, 5): d² = 1 + 1 + 1 + 1 + 0 = 4,
        // rho = 1 - 6 x 4 / (5 x 24) = 0.8.
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[20.0, 10.0, 40.0, 30.0, 50.0]);
        assert!((rho - 0.8).abs() < 1e-12, "{rho}");
    }

    #[test]
    fn top_decile_by_hand() {
        // 11 customers: the top ceil(11/10) = 2 by prediction are rows 3 and 7, holding
        // 5 + 1 of the 20 actual.
        let predicted = [1.0, 2.0, 0.5, 9.0, 0.1, 0.2, 0.3, 8.0, 0.0, 0.0, 0.4];
        let actual = [2.0, 3.0, 1.0, 5.0, 0.0, 2.0, 1.0, 1.0, 3.0, 2.0, 0.0];
        let share = top_decile_capture(&predicted, &actual);
        assert!((share - 6.0 / 20.0).abs() < 1e-15, "{share}");
    }

    #[test]
    fn calibration_bins_pool_the_tail() {
        let x = [0.0, 0.0, 1.0, 3.0, 9.0];
        let predicted = [Some(0.1), Some(0.3), Some(1.0), Some(2.0), None];
        let actual = [0.0, 1.0, 2.0, 1.0, 5.0];
        let table = calibration_table(&x, &predicted, &actual, 3).unwrap();
        let labels: Vec<&str> = table
            .column("label")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(labels, ["0", "1", "3+"]);
        let actual: Vec<f64> = table
            .column("actual")
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(actual, [0.5, 2.0, 3.0]);
        let predicted: Vec<Option<f64>> = table
            .column("predicted")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(predicted, [Some(0.2), Some(1.0), Some(2.0)]);
    }
}
