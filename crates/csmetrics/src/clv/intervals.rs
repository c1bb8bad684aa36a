//! Intervals for per-customer predictions from the uncertainty of the estimates.
//!
//! Method: a seeded parametric draw. The logs of the parameters (and the covariates'
//! coefficients) are asymptotically normal around the estimates with the covariance of the
//! fit (the inverse observed information); `draws` parameter vectors are drawn from that
//! normal, every customer is scored under each, and the interval is the pair of empirical
//! quantiles at (1 - level) / 2 and (1 + level) / 2 of the scores. The point value is the
//! prediction at the estimates.
//!
//! Why not the delta method: the predictions are strongly nonlinear in the parameters
//! (hypergeometric functions, P(alive) bounded by 0 and 1, spend ratios that blow up as q
//! approaches 1), so a symmetric linearised interval can leave the range of the quantity and
//! misstates skewed uncertainty; and it would need the derivative of every prediction.
//! Drawing on the log scale keeps every drawn parameter positive, and reuses the predictions
//! as they are. The draws are deterministic for a seed (a SplitMix64 stream and Box-Muller
//! normals in a fixed order), and the same draws serve every customer.

use polars::prelude::*;

use super::covariates::rebuild;
use super::data::SummaryColumns;
use super::optim::cholesky;
use super::predict::{customer_value, predict, ClvOptions, Prediction};
use super::{Fit, Params};
use crate::error::{CsError, Result};
use crate::frame::format_number;

/// Rows scored per chunk: bounds the memory of the draws to `draws` x this many values.
const CHUNK: usize = 65_536;

/// Options of the intervals.
#[derive(Debug, Clone, Copy)]
pub struct IntervalOptions {
    /// Parameter vectors drawn (default 200; at least 20).
    pub draws: usize,
    /// Seed of the draws (default 0).
    pub seed: u64,
    /// Coverage of the interval, in (0, 1) (default 0.9).
    pub level: f64,
}

impl Default for IntervalOptions {
    fn default() -> Self {
        IntervalOptions {
            draws: 200,
            seed: 0,
            level: 0.9,
        }
    }
}

fn check(options: &IntervalOptions) -> Result<()> {
    if !(20..=100_000).contains(&options.draws) {
        return Err(CsError::option(
            "draws",
            options.draws,
            "between 20 and 100000 parameter draws",
        ));
    }
    if !(options.level > 0.0 && options.level < 1.0) {
        return Err(CsError::option(
            "level",
            format_number(options.level),
            "the interval's coverage must lie strictly between 0 and 1",
        ));
    }
    Ok(())
}

/// SplitMix64: a small, well-mixed generator, fixed by its seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform on (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A pair of independent standard normals (Box-Muller).
    fn normals(&mut self) -> (f64, f64) {
        let radius = (-2.0 * self.uniform().ln()).sqrt();
        let angle = 2.0 * std::f64::consts::PI * self.uniform();
        (radius * angle.cos(), radius * angle.sin())
    }
}

/// The estimates of `fit` on the scale of its covariance: logs of the parameters, then the
/// coefficients.
fn theta_of(fit: &Fit) -> Vec<f64> {
    let mut theta: Vec<f64> = fit.params.values().iter().map(|v| v.ln()).collect();
    if let Some(c) = &fit.covariates {
        theta.extend(c.coefficients.iter().map(|k| k.estimate));
    }
    theta
}

/// `draws` fits drawn from the asymptotic normal of `fit`'s estimates.
pub(crate) fn drawn_fits(fit: &Fit, draws: usize, seed: u64) -> Result<Vec<Fit>> {
    let theta = theta_of(fit);
    let n = theta.len();
    let Some(covariance) = fit.covariance.as_ref().filter(|c| c.len() == n * n) else {
        return Err(CsError::option(
            "model",
            fit.model,
            "intervals need the covariance of a fit (a model fitted here with standard \
             errors, not one given by its parameters)",
        ));
    };
    let Some(factor) = cholesky(covariance, n) else {
        return Err(CsError::option(
            "model",
            fit.model,
            "the fit's covariance is not positive definite: the data do not pin the \
             parameters down",
        ));
    };
    let base = fit.params.values().len();
    let mut rng = SplitMix(seed);
    let mut out = Vec::with_capacity(draws);
    while out.len() < draws {
        let mut z = Vec::with_capacity(n + 1);
        while z.len() < n {
            let (a, b) = rng.normals();
            z.push(a);
            z.push(b);
        }
        let drawn: Vec<f64> = (0..n)
            .map(|i| theta[i] + (0..=i).map(|k| factor[i * n + k] * z[k]).sum::<f64>())
            .collect();
        let values: Vec<f64> = drawn[..base].iter().map(|t| t.exp()).collect();
        // A draw beyond double precision (a parameter at 0 or infinity) is drawn again.
        if !values.iter().all(|v| v.is_finite() && *v > 0.0) {
            continue;
        }
        let mut one = Fit::from_params(Params::from_values(fit.model, &values)?)?;
        if let Some(c) = &fit.covariates {
            one.covariates = Some(rebuild(
                fit.model,
                c.purchase.clone(),
                c.dropout.clone(),
                &drawn[base..],
                &[],
            )?);
        }
        out.push(one);
    }
    Ok(out)
}

/// Empirical quantile (linear between order statistics) of sorted finite values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
    sorted[lo] + (position - lo as f64) * (sorted[hi] - sorted[lo])
}

/// `name`, `name_lower`, `name_upper`: the value of `score` at the estimates and the interval
/// over the draws, chunk by chunk of rows.
fn with_intervals(
    frame: &DataFrame,
    name: &str,
    options: &IntervalOptions,
    point: &dyn Fn(&DataFrame) -> Result<Column>,
    drawn: &dyn Fn(&DataFrame, usize) -> Result<Column>,
) -> Result<DataFrame> {
    check(options)?;
    let estimate = point(frame)?;
    let rows = frame.height();
    let (mut lower, mut upper) = (vec![None; rows], vec![None; rows]);
    let q = ((1.0 - options.level) / 2.0, (1.0 + options.level) / 2.0);
    for start in (0..rows).step_by(CHUNK) {
        let length = CHUNK.min(rows - start);
        let chunk = frame.slice(start as i64, length);
        let mut scores: Vec<Vec<f64>> = vec![Vec::with_capacity(options.draws); length];
        for d in 0..options.draws {
            crate::interrupt::check()?;
            let column = drawn(&chunk, d)?;
            for (i, v) in column.f64()?.iter().enumerate() {
                if let Some(v) = v.filter(|v| v.is_finite()) {
                    scores[i].push(v);
                }
            }
        }
        for (i, mut values) in scores.into_iter().enumerate() {
            // Half of the draws at least must give a value, or the interval says nothing.
            if values.len() * 2 < options.draws {
                continue;
            }
            values.sort_by(f64::total_cmp);
            lower[start + i] = Some(quantile(&values, q.0));
            upper[start + i] = Some(quantile(&values, q.1));
        }
    }
    Ok(DataFrame::new(
        rows,
        vec![
            estimate.with_name(name.into()),
            Column::new(format!("{name}_lower").into(), lower),
            Column::new(format!("{name}_upper").into(), upper),
        ],
    )?)
}

/// `prediction` per customer with its interval from the parameters' uncertainty: the columns
/// `name`, `name_lower` and `name_upper` (`name` as [`predict`] calls it).
pub fn predict_intervals(
    frame: &DataFrame,
    fit: &Fit,
    prediction: Prediction,
    columns: &SummaryColumns,
    options: &IntervalOptions,
) -> Result<DataFrame> {
    check(options)?;
    let fits = drawn_fits(fit, options.draws, options.seed)?;
    with_intervals(
        frame,
        prediction.column_name(),
        options,
        &|f| predict(f, fit, prediction, columns),
        &|f, d| predict(f, &fits[d], prediction, columns),
    )
}

/// CLV per customer with its interval (`clv`, `clv_lower`, `clv_upper`): the transaction and
/// spend models are drawn independently (they are separate fits), with seeds `seed` and
/// `seed + 1`.
pub fn customer_value_intervals(
    frame: &DataFrame,
    transactions: &Fit,
    spend: &Fit,
    columns: &SummaryColumns,
    clv: &ClvOptions,
    options: &IntervalOptions,
) -> Result<DataFrame> {
    check(options)?;
    let drawn_transactions = drawn_fits(transactions, options.draws, options.seed)?;
    let drawn_spend = drawn_fits(spend, options.draws, options.seed.wrapping_add(1))?;
    with_intervals(
        frame,
        "clv",
        options,
        &|f| customer_value(f, transactions, spend, columns, clv),
        &|f, d| customer_value(f, &drawn_transactions[d], &drawn_spend[d], columns, clv),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clv::{fit, FitOptions, Model};

    fn cdnow_like() -> DataFrame {
        crate::clv::covariates::tests::simulated_bg(800)
    }

    #[test]
    fn draws_are_deterministic_for_a_seed_and_match_the_covariance() {
        let data = cdnow_like();
        let fitted = fit(&data, Model::BetaGeo, &FitOptions::default()).unwrap();
        let a = drawn_fits(&fitted, 4000, 7).unwrap();
        let b = drawn_fits(&fitted, 4000, 7).unwrap();
        let values = |fits: &[Fit]| -> Vec<Vec<f64>> {
            fits.iter().map(|f| f.params.values().to_vec()).collect()
        };
        assert_eq!(values(&a), values(&b));
        assert_ne!(values(&a), values(&drawn_fits(&fitted, 4000, 8).unwrap()));
        // The sample covariance of the drawn log-parameters is the fit's, to sampling error.
        let covariance = fitted.covariance.as_ref().unwrap();
        let theta: Vec<Vec<f64>> = a
            .iter()
            .map(|f| f.params.values().iter().map(|v| v.ln()).collect())
            .collect();
        let n = 4;
        let mean: Vec<f64> = (0..n)
            .map(|i| theta.iter().map(|t| t[i]).sum::<f64>() / theta.len() as f64)
            .collect();
        for i in 0..n {
            let var = theta.iter().map(|t| (t[i] - mean[i]).powi(2)).sum::<f64>()
                / (theta.len() - 1) as f64;
            let want = covariance[i * n + i];
            // The variance of a sample variance of 4000 normals: 2 σ⁴ / 3999, so 4 standard
            // errors are about 9%.
            assert!((var / want - 1.0).abs() < 0.09, "θ{i}: {var} vs {want}");
            let expected = fitted.params.values()[i].ln();
            assert!((mean[i] - expected).abs() < 4.0 * (want / 4000.0).sqrt());
        }
    }

    #[test]
    fn p_alive_intervals_hold_the_estimate_and_agree_with_the_delta_method() {
        let data = cdnow_like();
        let fitted = fit(&data, Model::BetaGeo, &FitOptions::default()).unwrap();
        let options = IntervalOptions {
            draws: 2000,
            seed: 3,
            level: 0.9,
        };
        let one = df!("frequency" => [2.0], "recency" => [20.0], "T" => [38.0]).unwrap();
        let columns = SummaryColumns::default();
        let table =
            predict_intervals(&one, &fitted, Prediction::PAlive, &columns, &options).unwrap();
        let get = |name: &str| table.column(name).unwrap().f64().unwrap().get(0).unwrap();
        let (value, lower, upper) = (get("p_alive"), get("p_alive_lower"), get("p_alive_upper"));
        assert!(lower < value && value < upper && 0.0 <= lower && upper <= 1.0);
        // Delta method: gradient of P(alive) in θ (central differences) and the covariance.
        let theta: Vec<f64> = fitted.params.values().iter().map(|v| v.ln()).collect();
        let p_alive = |th: &[f64]| {
            let values: Vec<f64> = th.iter().map(|t| t.exp()).collect();
            let f =
                Fit::from_params(Params::from_values(Model::BetaGeo, &values).unwrap()).unwrap();
            predict(&one, &f, Prediction::PAlive, &columns)
                .unwrap()
                .f64()
                .unwrap()
                .get(0)
                .unwrap()
        };
        let grad: Vec<f64> = (0..4)
            .map(|j| {
                let (mut up, mut down) = (theta.clone(), theta.clone());
                up[j] += 1e-6;
                down[j] -= 1e-6;
                (p_alive(&up) - p_alive(&down)) / 2e-6
            })
            .collect();
        let c = fitted.covariance.as_ref().unwrap();
        let var: f64 = (0..4)
            .flat_map(|i| (0..4).map(move |j| (i, j)))
            .map(|(i, j)| grad[i] * c[i * 4 + j] * grad[j])
            .sum();
        let delta_width = 2.0 * 1.6449 * var.sqrt();
        assert!(
            ((upper - lower) / delta_width - 1.0).abs() < 0.15,
            "{} vs {delta_width}",
            upper - lower
        );
    }

    #[test]
    fn models_without_covariance_are_refused() {
        let given = Fit::from_params(
            Params::from_values(Model::BetaGeo, &[0.243, 4.414, 0.793, 2.426]).unwrap(),
        )
        .unwrap();
        let err = drawn_fits(&given, 20, 0).unwrap_err().to_string();
        assert!(err.contains("covariance"), "{err}");
    }
}
