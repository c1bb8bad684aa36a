//! Time-invariant covariates in BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma (Fader & Hardie's
//! note on covariates, parametrised as CLVTools and pymc-marketing do):
//!
//! - purchase covariates x scale the purchase-rate scale: α_i = α_0 exp(-γ_p · x_i);
//! - drop-out covariates z: BG/NBD and MBG/NBD a_i = a_0 exp(γ_a · z_i), b_i = b_0 exp(γ_b · z_i);
//!   Pareto/NBD β_i = β_0 exp(-γ_d · z_i);
//! - Gamma-Gamma spend covariates (given as purchase covariates) scale γ: γ_i = γ_0 exp(γ_s · x_i).
//!
//! A numeric column is one covariate; a text (String, Categorical, Enum) or Boolean column is
//! coded against its first level (sorted; false before true): one 0/1 indicator per other
//! level, named `column[level]`. The fit maximises the likelihood over the logs of the baseline
//! parameters and the coefficients with the exact gradient: customers are grouped by their
//! covariate values, each group's likelihood and its gradient in the group's own parameters
//! come from the plain model, and the chain rule carries them to the coefficients.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use polars::prelude::*;

use super::data::{invalid, summary_patterns, weights, Patterns, SummaryColumns};
use super::dual::Dual;
use super::gammagamma::SpendPatterns;
use super::optim::{minimize_from, Settings};
use super::{bgnbd, gammagamma, paretonbd, Fit, FitOptions, Model, Params};
use crate::error::{CsError, Result};
use crate::frame::format_number;

/// Levels a text covariate may have.
const MAX_LEVELS: usize = 200;

/// How a covariate column is coded.
#[derive(Debug, Clone, PartialEq)]
pub enum Coding {
    /// The column's numbers as they are.
    Numeric,
    /// A text or Boolean column: its sorted levels; the first is the baseline.
    Levels(Vec<String>),
}

/// A covariate column and its coding.
#[derive(Debug, Clone, PartialEq)]
pub struct CovariateColumn {
    /// Column name.
    pub column: String,
    /// Its coding.
    pub coding: Coding,
}

impl CovariateColumn {
    /// The names of the coded covariates: the column, or `column[level]` per non-baseline level.
    pub fn coded_names(&self) -> Vec<String> {
        match &self.coding {
            Coding::Numeric => vec![self.column.clone()],
            Coding::Levels(levels) => levels[1..]
                .iter()
                .map(|l| format!("{}[{l}]", self.column))
                .collect(),
        }
    }
}

/// Which columns are covariates of which part of the model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CovariateSpec {
    /// Purchase covariates (Gamma-Gamma: spend covariates, on γ).
    pub purchase: Vec<String>,
    /// Drop-out covariates (not for Gamma-Gamma).
    pub dropout: Vec<String>,
}

impl CovariateSpec {
    /// No covariate at all.
    pub fn is_empty(&self) -> bool {
        self.purchase.is_empty() && self.dropout.is_empty()
    }
}

/// One coefficient of a fit with covariates.
#[derive(Debug, Clone, PartialEq)]
pub struct Coefficient {
    /// The parameter it scales (`alpha`, `a`, `b`, `beta`, `gamma`).
    pub parameter: &'static str,
    /// The coded covariate (`column` or `column[level]`).
    pub covariate: String,
    /// Estimate.
    pub estimate: f64,
    /// Standard error (NaN when unavailable).
    pub std_error: f64,
}

impl Coefficient {
    /// The name in a summary: `parameter:covariate`, for example `alpha:segment[b]`.
    pub fn name(&self) -> String {
        format!("{}:{}", self.parameter, self.covariate)
    }
}

/// The covariates of a fitted model: their coding and coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Covariates {
    /// Purchase covariate columns (Gamma-Gamma: spend covariates).
    pub purchase: Vec<CovariateColumn>,
    /// Drop-out covariate columns.
    pub dropout: Vec<CovariateColumn>,
    /// Coefficients: per purchase-coded covariate on the purchase parameter, then per
    /// drop-out-coded covariate on each drop-out parameter in turn (`a` then `b` for BG/NBD).
    pub coefficients: Vec<Coefficient>,
}

/// Parameters (by index) a group of covariates acts on, with the sign of the exponent.
type Targets = &'static [(usize, f64)];

/// The parameters covariates act on, with the sign of the exponent: (purchase, drop-out).
fn targets(model: Model) -> Result<(Targets, Targets)> {
    match model {
        Model::BetaGeo | Model::ModifiedBetaGeo => Ok((&[(1, -1.0)], &[(2, 1.0), (3, 1.0)])),
        Model::ParetoNbd => Ok((&[(1, -1.0)], &[(3, -1.0)])),
        Model::GammaGamma => Ok((&[(2, 1.0)], &[])),
        other => Err(CsError::option(
            "covariates",
            other,
            "covariates are supported in BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma",
        )),
    }
}

/// Learns the coding of `columns` from `frame` (levels sorted; at least two of them).
pub fn learn(frame: &DataFrame, columns: &[String]) -> Result<Vec<CovariateColumn>> {
    let mut out = Vec::with_capacity(columns.len());
    for (i, name) in columns.iter().enumerate() {
        if columns[..i].contains(name) {
            return Err(CsError::option(
                "covariates",
                format!("'{name}' twice"),
                "name each covariate column once per part of the model",
            ));
        }
        let series = crate::frame::column(frame, name, "a covariate")?.as_materialized_series();
        let dtype = series.dtype();
        let coding = if dtype.is_bool() || crate::input::accepts(crate::input::Role::Text, dtype) {
            if dtype.is_null() {
                return Err(invalid(name, 0, "null", "a covariate may not be null"));
            }
            let text = series.cast(&DataType::String)?;
            let ca = text.str()?;
            if let Some(row) = crate::input::first_null(&text) {
                return Err(invalid(name, row, "null", "a covariate may not be null"));
            }
            let mut levels: Vec<String> = ca.iter().flatten().map(str::to_string).collect();
            levels.sort_unstable();
            levels.dedup();
            if levels.len() > MAX_LEVELS {
                return Err(invalid(
                    name,
                    0,
                    format!("{} levels", levels.len()),
                    &format!("a text covariate may have at most {MAX_LEVELS} levels"),
                ));
            }
            Coding::Levels(levels)
        } else {
            Coding::Numeric
        };
        let column = CovariateColumn {
            column: name.clone(),
            coding,
        };
        let values = design(frame, std::slice::from_ref(&column))?;
        match &column.coding {
            Coding::Levels(levels) if levels.len() < 2 => {
                return Err(invalid(
                    name,
                    0,
                    levels.first().cloned().unwrap_or_default(),
                    "a covariate needs at least two levels (a constant says nothing)",
                ))
            }
            Coding::Numeric if values[0].windows(2).all(|w| w[0] == w[1]) => {
                return Err(invalid(
                    name,
                    0,
                    values[0]
                        .first()
                        .map_or("none".to_string(), |v| format_number(*v)),
                    "a covariate must vary across customers (a constant says nothing)",
                ))
            }
            _ => {}
        }
        out.push(column);
    }
    Ok(out)
}

/// The coded covariates of `frame`, one vector per coded covariate. A level not seen in the
/// fit is an error naming it.
pub fn design(frame: &DataFrame, columns: &[CovariateColumn]) -> Result<Vec<Vec<f64>>> {
    let mut out = Vec::new();
    for column in columns {
        let name = &column.column;
        match &column.coding {
            Coding::Numeric => {
                let values = super::data::float_column(frame, name, "a numeric covariate")?;
                if let Some(row) = values.iter().position(|v| !v.is_finite()) {
                    return Err(invalid(
                        name,
                        row,
                        format_number(values[row]),
                        "a numeric covariate must be finite",
                    ));
                }
                out.push(values);
            }
            Coding::Levels(levels) => {
                let series =
                    crate::frame::column(frame, name, "a covariate")?.as_materialized_series();
                if !(series.dtype().is_bool()
                    || crate::input::accepts(crate::input::Role::Text, series.dtype()))
                {
                    return Err(crate::input::wrong_type(
                        name,
                        series.dtype(),
                        crate::input::Role::Text,
                        "a covariate fitted as levels",
                    ));
                }
                let text = series.cast(&DataType::String)?;
                let ca = text.str()?;
                let mut indicators = vec![vec![0.0; ca.len()]; levels.len() - 1];
                for (row, value) in ca.iter().enumerate() {
                    let Some(value) = value else {
                        return Err(invalid(name, row, "null", "a covariate may not be null"));
                    };
                    match levels.binary_search_by(|l| l.as_str().cmp(value)) {
                        Ok(0) => {}
                        Ok(level) => indicators[level - 1][row] = 1.0,
                        Err(_) => {
                            return Err(invalid(
                                name,
                                row,
                                value,
                                &format!(
                                    "the level was not in the data the model was fitted on ({})",
                                    levels.join(", ")
                                ),
                            ))
                        }
                    }
                }
                out.extend(indicators);
            }
        }
    }
    Ok(out)
}

/// Rows grouped by their coded covariate vector, in order of first appearance.
struct Groups {
    /// Each group's coded vector (purchase part, then drop-out part).
    keys: Vec<Vec<f64>>,
    /// Each row's group.
    of_row: Vec<u32>,
}

fn group_rows(coded: &[Vec<f64>], rows: usize) -> Groups {
    let mut index: HashMap<Vec<u64>, u32, FixedState> =
        HashMap::with_hasher(FixedState::with_seed(0x5eed));
    let mut keys = Vec::new();
    let of_row = (0..rows)
        .map(|row| {
            let key: Vec<u64> = coded.iter().map(|c| c[row].to_bits()).collect();
            let next = keys.len() as u32;
            *index.entry(key).or_insert_with(|| {
                keys.push(coded.iter().map(|c| c[row]).collect());
                next
            })
        })
        .collect();
    Groups { keys, of_row }
}

/// The layout of θ: base log-parameters, then coefficients, and how each coefficient acts.
#[derive(Debug, Clone)]
struct Layout {
    base: usize,
    /// Per coefficient: (base parameter index, sign, index into the group's coded vector).
    terms: Vec<(usize, f64, usize)>,
}

impl Layout {
    fn new(model: Model, purchase: usize, dropout: usize) -> Result<Layout> {
        let (on_purchase, on_dropout) = targets(model)?;
        let mut terms = Vec::new();
        for &(param, sign) in on_purchase {
            terms.extend((0..purchase).map(|j| (param, sign, j)));
        }
        for &(param, sign) in on_dropout {
            terms.extend((0..dropout).map(|j| (param, sign, purchase + j)));
        }
        Ok(Layout {
            base: model.parameter_names().len(),
            terms,
        })
    }

    fn len(&self) -> usize {
        self.base + self.terms.len()
    }

    /// The model parameters of a group with coded vector `key`.
    fn group_params(&self, theta: &[f64], key: &[f64]) -> Vec<f64> {
        let mut logs: Vec<f64> = theta[..self.base].to_vec();
        for (k, &(param, sign, j)) in self.terms.iter().enumerate() {
            logs[param] += sign * theta[self.base + k] * key[j];
        }
        logs.iter().map(|l| l.exp()).collect()
    }

    /// Gradient in θ from the gradient `d` in a group's parameters `p`.
    fn chain(&self, d: &[f64], p: &[f64], key: &[f64], out: &mut [f64]) {
        for i in 0..self.base {
            out[i] += d[i] * p[i];
        }
        for (k, &(param, sign, j)) in self.terms.iter().enumerate() {
            out[self.base + k] += d[param] * p[param] * sign * key[j];
        }
    }
}

/// The data of one group, as the plain model reads it.
enum GroupData {
    Summary(Patterns),
    Spend(SpendPatterns),
}

/// A likelihood over θ for a model with covariates.
pub(crate) struct Likelihood {
    model: Model,
    layout: Layout,
    keys: Vec<Vec<f64>>,
    groups: Vec<GroupData>,
    total: f64,
}

impl Likelihood {
    /// The log-likelihood and its gradient in θ (log base parameters, then coefficients);
    /// `None` where it cannot be evaluated.
    pub(crate) fn value_and_gradient(&self, theta: &[f64]) -> Option<(f64, Vec<f64>)> {
        let n = self.layout.len();
        let ranges: Vec<std::ops::Range<usize>> = {
            let count = self.groups.len();
            let workers = if count >= 64 {
                crate::parallel::threads()
            } else {
                1
            };
            let per = count.div_ceil(workers.max(1)).max(1);
            (0..count)
                .step_by(per)
                .map(|s| s..(s + per).min(count))
                .collect()
        };
        let parts = crate::parallel::parallel(ranges, |range| {
            let mut value = 0.0;
            let mut grad = vec![0.0; n];
            for g in range {
                let key = &self.keys[g];
                let p = self.layout.group_params(theta, key);
                let (v, d): (f64, Vec<f64>) = match &self.groups[g] {
                    GroupData::Summary(patterns) => {
                        let ll = match self.model {
                            Model::ParetoNbd => {
                                let duals: [Dual<4>; 4] =
                                    std::array::from_fn(|i| Dual::variable(p[i], i));
                                paretonbd::log_likelihood(&duals, patterns)
                            }
                            Model::BetaGeo => bgnbd::log_likelihood_fast(
                                [p[0], p[1], p[2], p[3]],
                                patterns,
                                bgnbd::Variant::BetaGeo,
                            ),
                            _ => bgnbd::log_likelihood_fast(
                                [p[0], p[1], p[2], p[3]],
                                patterns,
                                bgnbd::Variant::Modified,
                            ),
                        };
                        (ll.v, ll.d.to_vec())
                    }
                    GroupData::Spend(data) => {
                        let ll = gammagamma::log_likelihood_fast([p[0], p[1], p[2]], data);
                        (ll.v, ll.d.to_vec())
                    }
                };
                value += v;
                self.layout.chain(&d, &p, key, &mut grad);
            }
            (value, grad)
        });
        let mut value = 0.0;
        let mut grad = vec![0.0; n];
        for (v, g) in parts {
            value += v;
            for (a, b) in grad.iter_mut().zip(g) {
                *a += b;
            }
        }
        (value.is_finite() && grad.iter().all(|g| g.is_finite())).then_some((value, grad))
    }

    /// Total weight of the customers.
    pub(crate) fn total(&self) -> f64 {
        self.total
    }
}

/// The coded covariates and groups of `frame`'s rows `rows` (all rows when `None`).
fn coded_groups(
    frame: &DataFrame,
    purchase: &[CovariateColumn],
    dropout: &[CovariateColumn],
) -> Result<(Vec<Vec<f64>>, usize)> {
    let mut coded = design(frame, purchase)?;
    let purchase_count = coded.len();
    coded.extend(design(frame, dropout)?);
    Ok((coded, purchase_count))
}

/// Builds the likelihood of `model` with the covariates `spec` on `frame`, with the coding.
pub(crate) fn likelihood(
    frame: &DataFrame,
    model: Model,
    columns: &SummaryColumns,
    spec: &CovariateSpec,
) -> Result<(Likelihood, Vec<CovariateColumn>, Vec<CovariateColumn>)> {
    let (_, on_dropout) = targets(model)?;
    if on_dropout.is_empty() && !spec.dropout.is_empty() {
        return Err(CsError::option(
            "dropout_covariates",
            format!("{:?}", spec.dropout),
            "Gamma-Gamma has no drop-out: give its covariates as purchase (spend) covariates",
        ));
    }
    let purchase = learn(frame, &spec.purchase)?;
    let dropout = learn(frame, &spec.dropout)?;
    let (coded, purchase_count) = coded_groups(frame, &purchase, &dropout)?;
    let layout = Layout::new(model, purchase_count, coded.len() - purchase_count)?;
    let rows = frame.height();
    let w = weights(frame, columns)?;
    let (keys, groups, total) = if model == Model::GammaGamma {
        // Validates as the plain fit does; then the repeat buyers of positive weight.
        super::spend_patterns(frame, columns)?;
        let x = super::data::float_column(frame, &columns.frequency, "frequency")?;
        let m = crate::input::optional_numbers(
            frame,
            &columns.monetary_value,
            crate::input::Role::Number,
            "the mean repeat purchase value",
        )?;
        let kept: Vec<usize> = (0..rows).filter(|&i| x[i] > 0.0 && w[i] > 0.0).collect();
        let sub: Vec<Vec<f64>> = coded
            .iter()
            .map(|c| kept.iter().map(|&i| c[i]).collect())
            .collect();
        let grouped = group_rows(&sub, kept.len());
        let mut parts: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> =
            vec![(Vec::new(), Vec::new(), Vec::new()); grouped.keys.len()];
        for (k, &i) in kept.iter().enumerate() {
            let part = &mut parts[grouped.of_row[k] as usize];
            part.0.push(x[i]);
            part.1.push(m[i].unwrap_or(f64::NAN));
            part.2.push(w[i]);
        }
        let total: f64 = kept.iter().map(|&i| w[i]).sum();
        let groups = parts
            .into_iter()
            .map(|(x, m, w)| GroupData::Spend(SpendPatterns::new(x, m, w)))
            .collect();
        (grouped.keys, groups, total)
    } else {
        // Validates as the plain fit does.
        summary_patterns(frame, columns)?;
        let x = super::data::float_column(frame, &columns.frequency, "frequency")?;
        let recency = super::data::float_column(frame, &columns.recency, "recency")?;
        let age = super::data::float_column(frame, &columns.age, "T")?;
        let grouped = group_rows(&coded, rows);
        let mut parts: Vec<[Vec<f64>; 4]> = (0..grouped.keys.len())
            .map(|_| [Vec::new(), Vec::new(), Vec::new(), Vec::new()])
            .collect();
        for i in 0..rows {
            let part = &mut parts[grouped.of_row[i] as usize];
            part[0].push(x[i]);
            part[1].push(recency[i]);
            part[2].push(age[i]);
            part[3].push(w[i]);
        }
        let total: f64 = w.iter().sum();
        let groups = parts
            .into_iter()
            .map(|[x, r, a, w]| GroupData::Summary(Patterns::from_rows(&x, &r, &a, &w)))
            .collect();
        (grouped.keys, groups, total)
    };
    Ok((
        Likelihood {
            model,
            layout,
            keys,
            groups,
            total,
        },
        purchase,
        dropout,
    ))
}

/// Fits `model` with the covariates of `spec` by maximum likelihood: BFGS over the logs of the
/// baseline parameters and the coefficients, from the plain fit (coefficients 0). Without
/// covariates it is the plain fit itself.
pub fn fit_with_covariates(
    frame: &DataFrame,
    model: Model,
    options: &FitOptions,
    spec: &CovariateSpec,
) -> Result<Fit> {
    let plain = super::fit(frame, model, options)?;
    if spec.is_empty() {
        return Ok(plain);
    }
    let (ll, purchase, dropout) = likelihood(frame, model, &options.columns, spec)?;
    let total = ll.total();
    let objective = |theta: &[f64]| {
        ll.value_and_gradient(theta)
            .map(|(v, g)| (-v / total, g.iter().map(|d| -d / total).collect()))
    };
    let mut start: Vec<f64> = plain.params.values().iter().map(|v| v.ln()).collect();
    start.resize(ll.layout.len(), 0.0);
    let mut names: Vec<String> = model
        .parameter_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let coefficient_names = coefficient_names(model, &purchase, &dropout)?;
    names.extend(coefficient_names.iter().map(|(p, c)| format!("{p}:{c}")));
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let found = minimize_from(
        &objective,
        &start,
        None,
        Settings::default(),
        &model.to_string(),
        &name_refs,
    )?;
    crate::interrupt::check()?;
    let (theta, value) = polish(&ll, found.theta, -found.value * total);
    let covariance = if options.standard_errors {
        theta_covariance(&ll, &theta)
    } else {
        None
    };
    let n = theta.len();
    let errors: Vec<f64> = match &covariance {
        Some(c) => (0..n).map(|i| c[i * n + i].sqrt()).collect(),
        None => vec![f64::NAN; n],
    };
    let base = ll.layout.base;
    let estimates: Vec<f64> = theta[..base].iter().map(|t| t.exp()).collect();
    // Standard errors of the parameters from those of their logs (delta method).
    let base_errors: Vec<f64> = (0..base).map(|i| estimates[i] * errors[i]).collect();
    let covariates = rebuild(model, purchase, dropout, &theta[base..], &errors[base..])?;
    Ok(Fit {
        model,
        params: Params::from_values(model, &estimates)?,
        std_errors: Params::from_values(model, &base_errors)?,
        log_likelihood: value,
        customers: total,
        iterations: found.iterations,
        covariates: Some(covariates),
        covariance,
    })
}

/// The covariates of a `model` from their coding and coefficient values (in the order of
/// [`Covariates::coefficients`]), for a model saved and loaded; an error when the numbers do
/// not match the coding.
pub fn rebuild(
    model: Model,
    purchase: Vec<CovariateColumn>,
    dropout: Vec<CovariateColumn>,
    estimates: &[f64],
    errors: &[f64],
) -> Result<Covariates> {
    let names = coefficient_names(model, &purchase, &dropout)?;
    if names.len() != estimates.len() {
        return Err(CsError::option(
            "coefficients",
            format!("{} values", estimates.len()),
            &format!("the covariates' coding has {} coefficients", names.len()),
        ));
    }
    if let Some(bad) = estimates.iter().position(|v| !v.is_finite()) {
        return Err(CsError::option(
            "coefficients",
            format_number(estimates[bad]),
            "coefficients must be finite",
        ));
    }
    let coefficients = names
        .into_iter()
        .enumerate()
        .map(|(k, (parameter, covariate))| Coefficient {
            parameter,
            covariate,
            estimate: estimates[k],
            std_error: errors.get(k).copied().unwrap_or(f64::NAN),
        })
        .collect();
    Ok(Covariates {
        purchase,
        dropout,
        coefficients,
    })
}

/// (parameter, coded covariate) of every coefficient, in θ order.
fn coefficient_names(
    model: Model,
    purchase: &[CovariateColumn],
    dropout: &[CovariateColumn],
) -> Result<Vec<(&'static str, String)>> {
    let (on_purchase, on_dropout) = targets(model)?;
    let param_names = model.parameter_names();
    let coded_purchase: Vec<String> = purchase.iter().flat_map(|c| c.coded_names()).collect();
    let coded_dropout: Vec<String> = dropout.iter().flat_map(|c| c.coded_names()).collect();
    let mut names = Vec::new();
    for &(param, _) in on_purchase {
        names.extend(
            coded_purchase
                .iter()
                .map(|c| (param_names[param], c.clone())),
        );
    }
    for &(param, _) in on_dropout {
        names.extend(
            coded_dropout
                .iter()
                .map(|c| (param_names[param], c.clone())),
        );
    }
    Ok(names)
}

/// Newton steps from where BFGS stopped, with the Hessian of [`theta_covariance`]: along the
/// likelihood's ridges (p against γ in Gamma-Gamma, a against b in BG/NBD) the gradient
/// tolerance of BFGS leaves the estimates about 1e-5 from the optimum; a few Newton steps take
/// them to its floating-point neighbourhood. A step is kept only if the log-likelihood does not
/// fall. Returns the estimates and their log-likelihood.
fn polish(ll: &Likelihood, mut theta: Vec<f64>, mut value: f64) -> (Vec<f64>, f64) {
    let n = theta.len();
    for _ in 0..4 {
        let (Some(inverse), Some((_, gradient))) =
            (theta_covariance(ll, &theta), ll.value_and_gradient(&theta))
        else {
            break;
        };
        let step: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| inverse[i * n + j] * gradient[j]).sum())
            .collect();
        let next: Vec<f64> = theta.iter().zip(&step).map(|(t, s)| t + s).collect();
        match ll.value_and_gradient(&next) {
            Some((v, _)) if v >= value - 1e-12 * value.abs() => {
                theta = next;
                value = v;
            }
            _ => break,
        }
        if step.iter().all(|s| s.abs() < 1e-12) {
            break;
        }
    }
    (theta, value)
}

/// The covariance in θ: the inverse Hessian of the negative log-likelihood, the Hessian by
/// central differences of the exact gradient; `None` when it is not positive definite.
fn theta_covariance(ll: &Likelihood, theta: &[f64]) -> Option<Vec<f64>> {
    let n = theta.len();
    let mut hessian = vec![0.0; n * n];
    for j in 0..n {
        let h = 1e-5 * theta[j].abs().max(1.0);
        let mut up = theta.to_vec();
        let mut down = theta.to_vec();
        up[j] += h;
        down[j] -= h;
        let (gu, gd) = (
            ll.value_and_gradient(&up)?.1,
            ll.value_and_gradient(&down)?.1,
        );
        for i in 0..n {
            hessian[i * n + j] = -(gu[i] - gd[i]) / (2.0 * h);
        }
    }
    super::optim::covariance(&hessian, n)
}

/// The plain-model parameters of every row of `frame` under `fit`'s covariates, grouped: the
/// groups' parameters and each row's group.
pub(crate) fn row_groups(frame: &DataFrame, fit: &Fit) -> Result<(Vec<Params>, Vec<u32>)> {
    let Some(covariates) = &fit.covariates else {
        return Ok((vec![fit.params.clone()], vec![0; frame.height()]));
    };
    let (coded, purchase_count) = coded_groups(frame, &covariates.purchase, &covariates.dropout)?;
    let layout = Layout::new(fit.model, purchase_count, coded.len() - purchase_count)?;
    if layout.terms.len() != covariates.coefficients.len() {
        return Err(CsError::option(
            "covariates",
            format!("{} coefficients", covariates.coefficients.len()),
            &format!("the coding asks for {}", layout.terms.len()),
        ));
    }
    let mut theta: Vec<f64> = fit.params.values().iter().map(|v| v.ln()).collect();
    theta.extend(covariates.coefficients.iter().map(|c| c.estimate));
    let grouped = group_rows(&coded, frame.height());
    let params = grouped
        .keys
        .iter()
        .map(|key| {
            let values = layout.group_params(&theta, key);
            if let Some(bad) = values.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(CsError::option(
                    "covariates",
                    format!("{key:?}"),
                    &format!(
                        "the covariates take {} to {} (out of range)",
                        fit.model.parameter_names()[bad],
                        format_number(values[bad])
                    ),
                ));
            }
            Params::from_values(fit.model, &values)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((params, grouped.of_row))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    /// A seeded generator (the tests must be reproducible).
    struct Lcg(u64);
    impl Lcg {
        fn uniform(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        fn exponential(&mut self, rate: f64) -> f64 {
            -self.uniform().ln() / rate
        }
        /// Gamma(shape, 1) by Marsaglia and Tsang (with the boost for shape < 1).
        fn gamma(&mut self, shape: f64) -> f64 {
            if shape < 1.0 {
                return self.gamma(shape + 1.0) * self.uniform().powf(1.0 / shape);
            }
            let d = shape - 1.0 / 3.0;
            let c = 1.0 / (9.0 * d).sqrt();
            loop {
                // Box-Muller normal.
                let z = (-2.0 * self.uniform().ln()).sqrt()
                    * (2.0 * std::f64::consts::PI * self.uniform()).cos();
                let v = (1.0 + c * z).powi(3);
                if v > 0.0 && self.uniform().ln() < 0.5 * z * z + d - d * v + d * v.ln() {
                    return d * v;
                }
            }
        }
        fn beta(&mut self, a: f64, b: f64) -> f64 {
            let x = self.gamma(a);
            x / (x + self.gamma(b))
        }
    }

    /// BG/NBD customers over `horizon` weeks: segment "b" buys e^0.7 as often (α_b = α_0 e^-0.7)
    /// and drops out with a_b = a_0 e^0.5; `tenure` (numeric) lowers purchase rates.
    pub(crate) fn simulated_bg(customers: usize) -> DataFrame {
        let (r, alpha, a, b) = (0.8, 6.0, 0.7, 2.5);
        let mut rng = Lcg(20261208);
        let (mut xs, mut rs, mut ts, mut segments, mut tenure) =
            (vec![], vec![], vec![], vec![], vec![]);
        for i in 0..customers {
            let segment = if i % 3 == 0 { "b" } else { "a" };
            let ten = rng.uniform() * 2.0 - 1.0;
            let shift = if segment == "b" { 1.0 } else { 0.0 };
            let alpha_i = alpha * (-(0.7 * shift) + 0.4 * ten).exp();
            let a_i = a * (0.5 * shift).exp();
            let lambda = rng.gamma(r) / alpha_i;
            let p = rng.beta(a_i, b);
            let horizon = 30.0 + (i % 20) as f64;
            let (mut t, mut x, mut last) = (0.0, 0.0, 0.0);
            loop {
                t += rng.exponential(lambda);
                if t > horizon {
                    break;
                }
                x += 1.0;
                last = t;
                if rng.uniform() < p {
                    break;
                }
            }
            xs.push(x);
            rs.push(last);
            ts.push(horizon);
            segments.push(segment);
            tenure.push(ten);
        }
        df!(
            "frequency" => xs,
            "recency" => rs,
            "T" => ts,
            "segment" => segments,
            "tenure" => tenure,
        )
        .unwrap()
    }

    fn spec(purchase: &[&str], dropout: &[&str]) -> CovariateSpec {
        CovariateSpec {
            purchase: purchase.iter().map(|s| s.to_string()).collect(),
            dropout: dropout.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn without_covariates_the_fit_is_the_plain_fit() {
        let data = simulated_bg(600);
        let options = FitOptions::default();
        for model in [Model::BetaGeo, Model::ParetoNbd] {
            let plain = super::super::fit(&data, model, &options).unwrap();
            let none = fit_with_covariates(&data, model, &options, &spec(&[], &[])).unwrap();
            assert_eq!(plain, none);
        }
    }

    #[test]
    fn gradient_matches_central_differences() {
        let data = simulated_bg(300).lazy().with_column(
            (col("frequency").cast(DataType::Float64) * lit(3.0) + lit(5.0)).alias("value"),
        );
        let data = data.collect().unwrap();
        let columns = SummaryColumns {
            monetary_value: "value".into(),
            ..SummaryColumns::default()
        };
        let cases = [
            (Model::BetaGeo, spec(&["segment", "tenure"], &["segment"])),
            (
                Model::ModifiedBetaGeo,
                spec(&["tenure"], &["segment", "tenure"]),
            ),
            (Model::ParetoNbd, spec(&["segment"], &["tenure"])),
            (Model::GammaGamma, spec(&["segment", "tenure"], &[])),
        ];
        for (model, spec) in cases {
            let (ll, _, _) = likelihood(&data, model, &columns, &spec).unwrap();
            let n = ll.layout.len();
            let theta: Vec<f64> = (0..n).map(|i| 0.3 - 0.17 * i as f64).collect();
            let (_, grad) = ll.value_and_gradient(&theta).unwrap();
            for j in 0..n {
                let h = 1e-6;
                let mut up = theta.clone();
                let mut down = theta.clone();
                up[j] += h;
                down[j] -= h;
                let numeric = (ll.value_and_gradient(&up).unwrap().0
                    - ll.value_and_gradient(&down).unwrap().0)
                    / (2.0 * h);
                assert!(
                    (grad[j] - numeric).abs() < 1e-5 * numeric.abs().max(1.0),
                    "{model} θ{j}: {} vs {numeric}",
                    grad[j]
                );
            }
        }
    }

    #[test]
    fn planted_effects_are_recovered() {
        let data = simulated_bg(6000);
        let fitted = fit_with_covariates(
            &data,
            Model::BetaGeo,
            &FitOptions::default(),
            &spec(&["segment", "tenure"], &["segment"]),
        )
        .unwrap();
        let covariates = fitted.covariates.as_ref().unwrap();
        let names: Vec<String> = covariates
            .coefficients
            .iter()
            .map(Coefficient::name)
            .collect();
        assert_eq!(
            names,
            [
                "alpha:segment[b]",
                "alpha:tenure",
                "a:segment[b]",
                "b:segment[b]"
            ]
        );
        // α_i = α_0 exp(-γ x): segment b buys faster (γ = 0.7), tenure slows (γ = -0.4);
        // a_b = a_0 e^0.5, b unchanged.
        for (coefficient, planted) in covariates.coefficients.iter().zip([0.7, -0.4, 0.5, 0.0]) {
            let z = (coefficient.estimate - planted) / coefficient.std_error;
            assert!(
                coefficient.std_error.is_finite() && z.abs() < 4.0,
                "{}: {} ± {} (planted {planted})",
                coefficient.name(),
                coefficient.estimate,
                coefficient.std_error
            );
        }
        for (name, planted) in [("r", 0.8), ("alpha", 6.0), ("a", 0.7), ("b", 2.5)] {
            let z = (fitted.params[name] - planted) / fitted.std_errors[name];
            assert!(
                z.abs() < 4.0,
                "{name}: {} (planted {planted})",
                fitted.params[name]
            );
        }
        assert_eq!(fitted.parameter_count(), 8);
    }

    #[test]
    fn levels_are_coded_against_the_first_and_unknown_ones_refused() {
        let frame = df!("plan" => ["pro", "basic", "team", "basic"]).unwrap();
        let coding = learn(&frame, &["plan".to_string()]).unwrap();
        assert_eq!(coding[0].coded_names(), ["plan[pro]", "plan[team]"]);
        let values = design(&frame, &coding).unwrap();
        assert_eq!(values, [vec![1.0, 0.0, 0.0, 0.0], vec![0.0, 0.0, 1.0, 0.0]]);
        let other = df!("plan" => ["basic", "enterprise"]).unwrap();
        let err = design(&other, &coding).unwrap_err().to_string();
        assert!(err.contains("enterprise") && err.contains("row 1"), "{err}");
        let constant = df!("plan" => ["pro", "pro"]).unwrap();
        assert!(learn(&constant, &["plan".to_string()]).is_err());
    }
}
