//! Customer lifetime value (docs/metrics/clv.md): formula CLV, RFM summaries of transaction
//! logs, buy-till-you-die models fitted by maximum likelihood (BG/NBD, Pareto/NBD, MBG/NBD,
//! BG/BB, Gamma-Gamma, shifted-beta-geometric), their per-customer predictions, and CLV with
//! discounting.
//!
//! Every model is fitted on the unique data patterns with weights, by BFGS on the logs of its
//! parameters with the exact gradient (forward-mode dual numbers); standard errors
//! come from the Hessian of the log-likelihood at the optimum. Results are deterministic: the
//! sums run in a fixed order whatever the number of threads.
//!
//! ```
//! use csmetrics::clv::{fit, FitOptions, Model};
//! use polars::prelude::*;
//!
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let summary = df!(
//!     "frequency" => [0.0, 1.0, 4.0, 2.0, 0.0, 7.0, 1.0, 0.0, 3.0, 5.0],
//!     "recency" => [0.0, 10.0, 30.0, 12.0, 0.0, 35.0, 3.0, 0.0, 20.0, 38.0],
//!     "T" => [40.0, 38.0, 39.0, 40.0, 35.0, 39.0, 30.0, 39.0, 40.0, 39.0],
//! )?;
//! let model = fit(&summary, Model::BetaGeo, &FitOptions::default())?;
//! assert_eq!(model.params.names(), ["r", "alpha", "a", "b"]);
//! assert!(model.params["alpha"] > 0.0);
//! assert!(model.log_likelihood < 0.0);
//! # Ok(())
//! # }
//! ```

pub mod bgbb;
pub mod bgnbd;
pub mod covariates;
pub(crate) mod data;
pub(crate) mod dual;
pub mod evaluate;
pub mod formula;
pub mod gammagamma;
pub mod intervals;
pub(crate) mod optim;
mod params;
pub mod paretonbd;
pub mod predict;
#[cfg(test)]
mod properties;
pub mod rfm;
pub mod sbg;
pub(crate) mod special;

use std::fmt;
use std::str::FromStr;

use polars::prelude::*;

pub use covariates::{fit_with_covariates, Coefficient, CovariateSpec, Covariates};
pub use data::SummaryColumns;
pub use evaluate::{evaluate, EvaluateOptions, Evaluation};
pub use params::Params;
pub use predict::{customer_value, predict, ClvOptions, Discounting, Prediction};
pub use rfm::{rfm_summary, AfterEnd, Merge, PeriodUnit, RfmOptions};

pub(crate) use data::{discrete_patterns, spend_patterns, summary_patterns};

use data::{check_alive, float_column, invalid, Patterns};
use dual::Dual;
use gammagamma::SpendPatterns;
use optim::{minimize, minimize_from, standard_errors, Settings};

use crate::error::{CsError, Result};
use crate::frame::format_number;

/// The models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// BG/NBD (Fader, Hardie & Lee 2005): r, alpha, a, b.
    BetaGeo,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987): r, alpha, s, beta.
    ParetoNbd,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007): r, alpha, a, b.
    ModifiedBetaGeo,
    /// BG/BB for discrete opportunities (Fader, Hardie & Shang 2010): alpha, beta, gamma, delta.
    BetaGeoBetaBinom,
    /// Gamma-Gamma spend model: p, q, gamma.
    GammaGamma,
    /// Shifted-beta-geometric retention (Fader & Hardie 2007): alpha, beta.
    ShiftedBetaGeometric,
}

impl Model {
    /// The parameter names, in the order of [`Params::values`].
    pub fn parameter_names(self) -> &'static [&'static str] {
        match self {
            Model::BetaGeo | Model::ModifiedBetaGeo => &["r", "alpha", "a", "b"],
            Model::ParetoNbd => &["r", "alpha", "s", "beta"],
            Model::BetaGeoBetaBinom => &["alpha", "beta", "gamma", "delta"],
            Model::GammaGamma => &["p", "q", "gamma"],
            Model::ShiftedBetaGeometric => &["alpha", "beta"],
        }
    }

    /// The option string of the model.
    pub fn as_str(self) -> &'static str {
        match self {
            Model::BetaGeo => "bg_nbd",
            Model::ParetoNbd => "pareto_nbd",
            Model::ModifiedBetaGeo => "mbg_nbd",
            Model::BetaGeoBetaBinom => "bg_bb",
            Model::GammaGamma => "gamma_gamma",
            Model::ShiftedBetaGeometric => "sbg",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Model::BetaGeo => "BG/NBD",
            Model::ParetoNbd => "Pareto/NBD",
            Model::ModifiedBetaGeo => "MBG/NBD",
            Model::BetaGeoBetaBinom => "BG/BB",
            Model::GammaGamma => "Gamma-Gamma",
            Model::ShiftedBetaGeometric => "shifted-beta-geometric",
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Model {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "bg_nbd" => Ok(Model::BetaGeo),
            "pareto_nbd" => Ok(Model::ParetoNbd),
            "mbg_nbd" => Ok(Model::ModifiedBetaGeo),
            "bg_bb" => Ok(Model::BetaGeoBetaBinom),
            "gamma_gamma" => Ok(Model::GammaGamma),
            "sbg" => Ok(Model::ShiftedBetaGeometric),
            other => Err(CsError::option(
                "model",
                format!("'{other}'"),
                "expected one of 'bg_nbd', 'pareto_nbd', 'mbg_nbd', 'bg_bb', 'gamma_gamma', 'sbg'",
            )),
        }
    }
}

/// Options of [`fit`].
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Summary column names (BG/BB reads `age` as the number of opportunities n).
    pub columns: SummaryColumns,
    /// For the shifted-beta-geometric model: the column of customers still active at the start
    /// of each period, the cohort size first.
    pub alive: String,
    /// Starting values (default: a neutral start scaled to the data), finite and > 0, with the
    /// fitted model's parameter names (a BG/NBD fit may start an MBG/NBD one).
    pub start: Option<Params>,
    /// Compute standard errors (default true). They take about as long as a third of the fit;
    /// without them `std_errors` is NaN, and refitting from the estimates with this set gives
    /// them at once (the optimizer starts at its optimum).
    pub standard_errors: bool,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            columns: SummaryColumns::default(),
            alive: "alive".into(),
            start: None,
            standard_errors: true,
        }
    }
}

/// A fitted (or loaded) model.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Which model.
    pub model: Model,
    /// Estimates by name: `fit.params["r"]`, `fit.params.get("alpha")`.
    pub params: Params,
    /// Standard errors by name (NaN when the information matrix is not positive definite, or
    /// when they were not computed).
    pub std_errors: Params,
    /// Log-likelihood summed over customers, in the data's time unit.
    pub log_likelihood: f64,
    /// Customers (total weight) the model was fitted on.
    pub customers: f64,
    /// Optimizer iterations.
    pub iterations: usize,
    /// The covariates of a fit with covariates ([`fit_with_covariates`]): their coding and
    /// coefficients; `params` are then the baseline parameters (every covariate at 0, or at
    /// its first level). `None` for a plain fit.
    pub covariates: Option<Covariates>,
    /// The estimated covariance of the logs of the parameters, then of the covariates'
    /// coefficients (row-major, k x k; the inverse observed information). `None` without
    /// standard errors or when the information is not positive definite.
    pub covariance: Option<Vec<f64>>,
}

impl Fit {
    /// A model with given parameters (published, or loaded from JSON with
    /// [`Params::from_values`]), to score customers. Every parameter must be finite and > 0.
    pub fn from_params(params: Params) -> Result<Fit> {
        check_positive(&params)?;
        let model = params.model();
        Ok(Fit {
            model,
            params,
            std_errors: Params::filled(model, f64::NAN),
            log_likelihood: f64::NAN,
            customers: 0.0,
            iterations: 0,
            covariates: None,
            covariance: None,
        })
    }

    /// Number of estimated parameters k (with covariates, their coefficients included).
    pub fn parameter_count(&self) -> usize {
        self.params.values().len() + self.covariates.as_ref().map_or(0, |c| c.coefficients.len())
    }

    /// Akaike's information criterion 2k - 2 LL (NaN without a log-likelihood).
    pub fn aic(&self) -> f64 {
        2.0 * self.parameter_count() as f64 - 2.0 * self.log_likelihood
    }

    /// The Bayesian information criterion k ln(n) - 2 LL, n the customers fitted on (NaN
    /// without a log-likelihood). For the shifted-beta-geometric model n is the cohort size.
    pub fn bic(&self) -> f64 {
        if self.customers > 0.0 {
            self.parameter_count() as f64 * self.customers.ln() - 2.0 * self.log_likelihood
        } else {
            f64::NAN
        }
    }

    /// The estimates as a tidy frame: `parameter`, `estimate`, `std_error`, and the 95% Wald
    /// interval `lower`, `upper` (null where the standard error is unavailable); with
    /// covariates the coefficients follow the baseline parameters, named
    /// `parameter:covariate` (see [`Coefficient::name`]); then
    /// three rows of fit statistics in `estimate` (null for a model given by its parameters):
    /// `log_likelihood`, `aic` and `bic` (see [`Fit::aic`], [`Fit::bic`]).
    pub fn summary(&self) -> Result<DataFrame> {
        let mut table = self.parameter_table()?;
        let keep = |v: f64| v.is_finite().then_some(v);
        let none = [None::<f64>; 3];
        let statistics = DataFrame::new(
            3,
            vec![
                Column::new("parameter".into(), ["log_likelihood", "aic", "bic"]),
                Column::new(
                    "estimate".into(),
                    [
                        keep(self.log_likelihood),
                        keep(self.aic()),
                        keep(self.bic()),
                    ],
                ),
                Column::new("std_error".into(), none),
                Column::new("lower".into(), none),
                Column::new("upper".into(), none),
            ],
        )?;
        table.vstack_mut(&statistics)?;
        Ok(table)
    }

    fn parameter_table(&self) -> Result<DataFrame> {
        let mut names: Vec<String> = self
            .model
            .parameter_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut estimates: Vec<f64> = self.params.values().to_vec();
        let mut errors: Vec<f64> = self.std_errors.values().to_vec();
        if let Some(covariates) = &self.covariates {
            for c in &covariates.coefficients {
                names.push(c.name());
                estimates.push(c.estimate);
                errors.push(c.std_error);
            }
        }
        let se: Vec<Option<f64>> = errors.iter().map(|s| s.is_finite().then_some(*s)).collect();
        let z = crate::stats::z_for_confidence(0.95)?;
        let lower: Vec<Option<f64>> = estimates
            .iter()
            .zip(&se)
            .map(|(p, s)| s.map(|s| p - z * s))
            .collect();
        let upper: Vec<Option<f64>> = estimates
            .iter()
            .zip(&se)
            .map(|(p, s)| s.map(|s| p + z * s))
            .collect();
        Ok(DataFrame::new(
            names.len(),
            vec![
                Column::new("parameter".into(), names),
                Column::new("estimate".into(), estimates),
                Column::new("std_error".into(), se),
                Column::new("lower".into(), lower),
                Column::new("upper".into(), upper),
            ],
        )?)
    }
}

/// The likelihood-ratio test of a restricted fit against a fuller one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LikelihoodRatio {
    /// 2 (LL_full - LL_restricted), at least 0.
    pub statistic: f64,
    /// Degrees of freedom: the difference in parameter counts.
    pub df: usize,
    /// P(χ²_df >= statistic).
    pub p_value: f64,
}

/// Likelihood-ratio test of `restricted` nested in `full` (the same model fitted on the same
/// customers, `full` with more parameters, such as a fit with covariates against one without).
/// Nesting itself is the caller's claim: the test checks the model, the customers and the
/// parameter counts. A statistic below 0 by rounding (the fuller fit stopped a hair short) is 0.
pub fn lr_test(restricted: &Fit, full: &Fit) -> Result<LikelihoodRatio> {
    if restricted.model != full.model {
        return Err(CsError::option(
            "full",
            full.model,
            &format!(
                "a likelihood-ratio test compares fits of one model (the restricted fit is {})",
                restricted.model
            ),
        ));
    }
    if !(restricted.log_likelihood.is_finite() && full.log_likelihood.is_finite()) {
        return Err(CsError::option(
            "restricted",
            format_number(restricted.log_likelihood),
            "both fits need a log-likelihood (models given by their parameters have none)",
        ));
    }
    if restricted.customers != full.customers {
        return Err(CsError::option(
            "full",
            format!("{} customers", format_number(full.customers)),
            &format!(
                "nested fits are fitted on the same customers (the restricted fit had {})",
                format_number(restricted.customers)
            ),
        ));
    }
    let (k0, k1) = (restricted.parameter_count(), full.parameter_count());
    if k1 <= k0 {
        return Err(CsError::option(
            "full",
            format!("{k1} parameters"),
            &format!("the fuller fit needs more parameters than the restricted one ({k0})"),
        ));
    }
    let statistic = (2.0 * (full.log_likelihood - restricted.log_likelihood)).max(0.0);
    let df = k1 - k0;
    Ok(LikelihoodRatio {
        statistic,
        df,
        p_value: crate::stats::chi_square_sf(statistic, df as f64),
    })
}

/// Every value of `params` finite and > 0, or an error naming the first that is not.
fn check_positive(params: &Params) -> Result<()> {
    match params.iter().find(|(_, p)| !(p.is_finite() && *p > 0.0)) {
        Some((name, value)) => Err(CsError::option(
            name,
            format_number(value),
            "model parameters must be finite and > 0",
        )),
        None => Ok(()),
    }
}

fn too_few(model: Model, column: &str, found: f64, need: usize, what: &str) -> CsError {
    invalid(
        column,
        0,
        format!("{} customers", format_number(found)),
        &format!("{model} needs at least {need} customers{what} to be fitted"),
    )
}

/// Fits by maximum likelihood: BFGS on log-parameters with the exact gradient.
/// A log-likelihood over model parameters (as duals carrying the gradient).
type LogLikelihood<'a, const N: usize> = dyn Fn(&[Dual<N>; N]) -> Dual<N> + Sync + 'a;

/// The negative log-likelihood per unit weight over log-parameters, for the optimizer.
fn objective_of<'a, const N: usize>(
    log_likelihood: &'a LogLikelihood<'a, N>,
    total_weight: f64,
) -> impl Fn(&[f64]) -> Option<(f64, Vec<f64>)> + Sync + 'a {
    move |theta: &[f64]| {
        let mut params = [Dual::<N>::constant(0.0); N];
        for (i, p) in params.iter_mut().enumerate() {
            *p = Dual::exp_of_variable(theta[i], i);
        }
        let ll = log_likelihood(&params);
        if !ll.v.is_finite() {
            return None;
        }
        Some((
            -ll.v / total_weight,
            ll.d.iter().map(|d| -d / total_weight).collect(),
        ))
    }
}

/// A log-likelihood with its gradient in the model parameters, carried by the chain rule to
/// the variables the parameters `p` are functions of (the optimizer's log-parameters).
fn chain<const N: usize>(ll: Dual<N>, p: &[Dual<N>; N]) -> Dual<N> {
    let mut out = Dual::constant(ll.v);
    for (j, slot) in out.d.iter_mut().enumerate() {
        *slot = (0..N).map(|i| ll.d[i] * p[i].d[j]).sum();
    }
    out
}

/// Patterns above which a fit first runs on a systematic subsample of about
/// [`WARM_PATTERNS`] of them: its optimum and curvature start the full fit, which then needs a
/// few iterations instead of twenty. The subsample is fixed by the data, so results stay
/// deterministic; both fits stop at the same gradient tolerance.
const WARM_ABOVE: usize = 100_000;
const WARM_PATTERNS: usize = 40_000;

/// Every `step`-th of `count` patterns, with `step` chosen for [`WARM_PATTERNS`]; `None` when
/// the data are small enough to fit directly.
fn warm_step(count: usize) -> Option<usize> {
    (count > WARM_ABOVE).then_some(count / WARM_PATTERNS)
}

/// [`maximise_warm`] over `data`, first over `sample` (with its total weight) when given.
fn fit_warm<D: Sync, const N: usize>(
    model: Model,
    start: [f64; N],
    total_weight: f64,
    with_standard_errors: bool,
    data: &D,
    sample: Option<(&D, f64)>,
    log_likelihood: impl Fn(&[Dual<N>; N], &D) -> Dual<N> + Sync,
) -> Result<Fit> {
    let log_likelihood = &log_likelihood;
    let full = |p: &[Dual<N>; N]| log_likelihood(p, data);
    let sub = sample.map(|(s, weight)| (move |p: &[Dual<N>; N]| log_likelihood(p, s), weight));
    maximise_warm(
        model,
        start,
        total_weight,
        with_standard_errors,
        &full,
        sub.as_ref()
            .map(|(f, weight)| (f as &LogLikelihood<'_, N>, *weight)),
    )
}

fn maximise<const N: usize>(
    model: Model,
    start: [f64; N],
    total_weight: f64,
    with_standard_errors: bool,
    log_likelihood: impl Fn(&[Dual<N>; N]) -> Dual<N> + Sync,
) -> Result<Fit> {
    maximise_warm(
        model,
        start,
        total_weight,
        with_standard_errors,
        &log_likelihood,
        None,
    )
}

/// [`maximise`], first fitting `warm` (a subsample's log-likelihood and total weight) when given.
fn maximise_warm<const N: usize>(
    model: Model,
    start: [f64; N],
    total_weight: f64,
    with_standard_errors: bool,
    log_likelihood: &LogLikelihood<'_, N>,
    warm: Option<(&LogLikelihood<'_, N>, f64)>,
) -> Result<Fit> {
    let objective = objective_of(log_likelihood, total_weight);
    let mut theta0: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let names = model.parameter_names();
    let mut inverse = None;
    if let Some((sub, sub_weight)) = warm {
        let sub_objective = objective_of(sub, sub_weight);
        // A subsample that cannot be fitted only means a cold start.
        if let Ok(found) = minimize(
            &sub_objective,
            &theta0,
            Settings::default(),
            model.label(),
            names,
        ) {
            theta0 = found.theta;
            inverse = Some(found.inverse);
        }
    }
    let found = minimize_from(
        &objective,
        &theta0,
        inverse,
        Settings::default(),
        model.label(),
        names,
    )?;
    let (std_errors, covariance) = if with_standard_errors {
        (
            standard_errors(&objective, &found.theta, total_weight),
            optim::log_covariance(&objective, &found.theta, total_weight),
        )
    } else {
        (vec![f64::NAN; N], None)
    };
    let estimates: Vec<f64> = found.theta.iter().map(|t| t.exp()).collect();
    Ok(Fit {
        model,
        params: Params::from_values(model, &estimates)?,
        std_errors: Params::from_values(model, &std_errors)?,
        log_likelihood: -found.value * total_weight,
        customers: total_weight,
        iterations: found.iterations,
        covariates: None,
        covariance,
    })
}

/// The error of starting values for `model` that are not all finite and > 0, or not as many
/// as its parameters (the glue reports a Python list of the wrong length with it).
#[doc(hidden)]
pub fn bad_start(model: Model, values: &[f64]) -> CsError {
    CsError::option(
        "start",
        format!("{values:?}"),
        &format!("needs {} finite values > 0", model.parameter_names().len()),
    )
}

fn start_values<const N: usize>(
    model: Model,
    given: &Option<Params>,
    default: [f64; N],
) -> Result<[f64; N]> {
    let Some(start) = given else {
        return Ok(default);
    };
    let values = start.values();
    if start.names() != model.parameter_names() || values.len() != N {
        return Err(CsError::option(
            "start",
            format!("{} ({start})", start.model()),
            &format!("{model} starts from {}", model.parameter_names().join(", ")),
        ));
    }
    if !values.iter().all(|p| p.is_finite() && *p > 0.0) {
        return Err(bad_start(model, values));
    }
    let mut out = default;
    out.copy_from_slice(values);
    Ok(out)
}

/// Fits `model` to `frame` by maximum likelihood.
///
/// BG/NBD, Pareto/NBD and MBG/NBD read frequency, recency and T (continuous time); BG/BB reads
/// frequency, recency and `age` as the number of opportunities (whole numbers); Gamma-Gamma
/// reads frequency and monetary value and uses the customers with frequency > 0; the
/// shifted-beta-geometric model reads the `alive` column.
pub fn fit(frame: &DataFrame, model: Model, options: &FitOptions) -> Result<Fit> {
    let fitted = fit_model(frame, model, options);
    // A loop cut short by an interrupt leaves no result to trust.
    crate::interrupt::check()?;
    fitted
}

fn fit_model(frame: &DataFrame, model: Model, options: &FitOptions) -> Result<Fit> {
    let columns = &options.columns;
    match model {
        Model::BetaGeo | Model::ModifiedBetaGeo | Model::ParetoNbd => {
            let patterns = summary_patterns(frame, columns)?;
            let total = patterns.total_weight();
            let repeaters: f64 = (0..patterns.len())
                .filter(|&i| patterns.x[i] > 0.0)
                .map(|i| patterns.weight[i])
                .sum();
            if total < 8.0 || repeaters < 1.0 {
                return Err(too_few(
                    model,
                    &columns.frequency,
                    total,
                    8,
                    ", some of them repeat buyers",
                ));
            }
            let mean_age = (0..patterns.len())
                .map(|i| patterns.age[i] * patterns.weight[i])
                .sum::<f64>()
                / total;
            let scale = mean_age.max(1e-3);
            // Without given starting values, large data start from a fit on a subsample.
            let sample = warm_step(patterns.len())
                .filter(|_| options.start.is_none())
                .map(|step| patterns.every(step));
            let sample_weight = sample.as_ref().map_or(0.0, Patterns::total_weight);
            let fitted = match model {
                Model::ParetoNbd => {
                    let start = start_values(model, &options.start, [1.0, scale, 1.0, scale])?;
                    let sampled = sample.as_ref().map(|s| (s, sample_weight));
                    let ll = |p: &[Dual<4>; 4], data: &Patterns| paretonbd::log_likelihood(p, data);
                    fit_warm(
                        model,
                        start,
                        total,
                        options.standard_errors,
                        &patterns,
                        sampled,
                        ll,
                    )
                }
                _ => {
                    let variant = if model == Model::BetaGeo {
                        bgnbd::Variant::BetaGeo
                    } else {
                        bgnbd::Variant::Modified
                    };
                    let start = start_values(model, &options.start, [1.0, scale, 1.0, 1.0])?;
                    // Exact gradient from the fast path, carried to the optimizer's
                    // log-parameters by the chain rule.
                    let fast = |p: &[Dual<4>; 4], data: &Patterns| {
                        let values = p.map(|d| d.v);
                        chain(bgnbd::log_likelihood_fast(values, data, variant), p)
                    };
                    let sampled = sample.as_ref().map(|s| (s, sample_weight));
                    fit_warm(
                        model,
                        start,
                        total,
                        options.standard_errors,
                        &patterns,
                        sampled,
                        fast,
                    )
                }
            }?;
            check_predictions(&fitted, &patterns, mean_age)?;
            Ok(fitted)
        }
        Model::BetaGeoBetaBinom => {
            let patterns = discrete_patterns(frame, columns)?;
            let total = patterns.total_weight();
            if total < 8.0 {
                return Err(too_few(model, &columns.frequency, total, 8, ""));
            }
            // Without a single opportunity the likelihood is 1 for every parameter value.
            if (0..patterns.len()).all(|i| patterns.age[i] == 0.0) {
                return Err(invalid(
                    &columns.age,
                    0,
                    "0".to_string(),
                    "BG/BB needs customers with at least one transaction opportunity \
                     (every n is 0: the data say nothing about the parameters)",
                ));
            }
            let start = start_values(model, &options.start, [1.0, 1.0, 1.0, 1.0])?;
            maximise(model, start, total, options.standard_errors, |p| {
                bgbb::log_likelihood(p, &patterns)
            })
        }
        Model::GammaGamma => {
            let data = spend_patterns(frame, columns)?;
            let total: f64 = data.weight.iter().sum();
            if total < 4.0 {
                return Err(too_few(
                    model,
                    &columns.frequency,
                    total,
                    4,
                    " with frequency > 0",
                ));
            }
            let mean = data
                .mean_value
                .iter()
                .zip(&data.weight)
                .map(|(m, w)| m * w)
                .sum::<f64>()
                / total;
            let start = start_values(model, &options.start, [1.0, 2.0, mean.max(1e-6)])?;
            let fast = |p: &[Dual<3>; 3], data: &SpendPatterns| {
                chain(gammagamma::log_likelihood_fast(p.map(|d| d.v), data), p)
            };
            let sample = warm_step(data.x.len())
                .filter(|_| options.start.is_none())
                .map(|step| data.every(step));
            let sample_weight: f64 = sample.as_ref().map_or(0.0, |s| s.weight.iter().sum());
            let sampled = sample.as_ref().map(|s| (s, sample_weight));
            fit_warm(
                model,
                start,
                total,
                options.standard_errors,
                &data,
                sampled,
                fast,
            )
        }
        Model::ShiftedBetaGeometric => {
            let alive = float_column(frame, &options.alive, "customers still active per period")?;
            check_alive(&options.alive, &alive)?;
            let start = start_values(model, &options.start, [1.0, 1.0])?;
            let total = alive[0];
            let fitted = maximise(model, start, total, options.standard_errors, |p| {
                sbg::log_likelihood(p, &alive)
            })?;
            Ok(fitted)
        }
    }
}

/// Patterns whose predictions [`check_predictions`] evaluates, at most (spread evenly).
const CHECKED_PATTERNS: usize = 256;

/// A fit is only reported where its predictions can be computed: P(alive) and the expected
/// purchases over the mean T, for a spread of the fitted patterns and the one with the largest
/// x, and for a new customer. Otherwise it is a convergence error naming the parameters.
fn check_predictions(fitted: &Fit, patterns: &Patterns, horizon: f64) -> Result<()> {
    let Ok(model) = predict::Scorer::of(fitted) else {
        return Ok(());
    };
    let step = patterns.len().div_ceil(CHECKED_PATTERNS).max(1);
    let largest = (0..patterns.len()).max_by(|&i, &j| patterns.x[i].total_cmp(&patterns.x[j]));
    let rows = (0..patterns.len()).step_by(step).chain(largest);
    let mut bad = None;
    for i in rows {
        let (x, recency, age) = (patterns.x[i], patterns.recency[i], patterns.age[i]);
        let alive = model.p_alive(x, recency, age);
        let expected = model.expected(horizon, x, recency, age);
        if !(alive.is_finite() && expected.is_finite()) {
            bad = Some((x, recency, age));
            break;
        }
    }
    if bad.is_none() && !model.expected(horizon, 0.0, 0.0, 0.0).is_finite() {
        bad = Some((0.0, 0.0, 0.0));
    }
    match bad {
        None => Ok(()),
        Some((x, recency, age)) => Err(CsError::Convergence {
            model: fitted.model.label().to_string(),
            reason: format!(
                "the optimizer stopped at {} where the predictions are not finite \
                 (frequency {}, recency {}, T {}): the data do not identify the parameters",
                fitted.params,
                format_number(x),
                format_number(recency),
                format_number(age)
            ),
        }),
    }
}

/// The lifetime-value family in one import (`use csmetrics::clv::prelude::*;`): its functions,
/// options and option enums, with the error type and `Period`.
/// [`crate::prelude`] holds every family's.
pub mod prelude {
    pub use super::{
        customer_value, evaluate, fit, lr_test, predict, rfm_summary, AfterEnd, ClvOptions,
        Discounting, EvaluateOptions, Evaluation, Fit, FitOptions, LikelihoodRatio, Merge, Model,
        Params, PeriodUnit, Prediction, RfmOptions, SummaryColumns,
    };
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
