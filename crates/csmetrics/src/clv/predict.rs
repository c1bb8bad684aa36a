//! Per-customer predictions of fitted models as columns, and CLV with discounting.

use std::collections::HashMap;
use std::str::FromStr;

use foldhash::fast::FixedState;

use polars::prelude::*;

use super::data::{check_continuous, float_column, per_row, SummaryColumns};
use super::special::gauss_legendre;
use super::{bgbb, bgnbd, gammagamma, paretonbd, sbg, Fit, Model, PeriodUnit};
use crate::error::{CsError, Result};

/// What to predict for each customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prediction {
    /// P(alive) at the end of observation (`p_alive`).
    PAlive,
    /// Expected purchases in the next `t` time units (`expected_purchases`).
    ExpectedPurchases(f64),
    /// P(exactly `n` purchases in the next `t`) (`probability`); every transaction model.
    /// For BG/BB, `t` is a whole number of future opportunities.
    PurchaseProbability {
        /// Number of purchases.
        n: u32,
        /// Horizon in time units (opportunities for BG/BB).
        t: f64,
    },
    /// Discounted expected residual transactions at `discount_rate` per opportunity
    /// (`discounted_purchases`); BG/BB.
    DiscountedPurchases {
        /// Discount rate per opportunity, > 0.
        discount_rate: f64,
    },
    /// Expected mean purchase value (`expected_spend`); Gamma-Gamma.
    ExpectedSpend,
}

impl Prediction {
    pub(crate) fn column_name(self) -> &'static str {
        match self {
            Prediction::PAlive => "p_alive",
            Prediction::ExpectedPurchases(_) => "expected_purchases",
            Prediction::PurchaseProbability { .. } => "probability",
            Prediction::DiscountedPurchases { .. } => "discounted_purchases",
            Prediction::ExpectedSpend => "expected_spend",
        }
    }
}

/// A transaction model ready to score: P(alive) and E[purchases in t] per customer history.
#[derive(Debug, Clone, Copy)]
enum Transactions {
    Bg(bgnbd::Params),
    Pareto(paretonbd::Params),
    Bb(bgbb::Params),
}

/// The transaction model of a fit, to score single histories (the fit's own checks).
pub(crate) struct Scorer(Transactions);

impl Scorer {
    /// The scorer of a transaction model; an error for spend and retention models.
    pub(crate) fn of(fit: &Fit) -> Result<Scorer> {
        Transactions::of(fit).map(Scorer)
    }

    /// P(alive at T | x, t_x, T).
    pub(crate) fn p_alive(&self, x: f64, recency: f64, age: f64) -> f64 {
        self.0.p_alive(x, recency, age)
    }

    /// Expected purchases in the next `t` given (x, t_x, T).
    pub(crate) fn expected(&self, t: f64, x: f64, recency: f64, age: f64) -> f64 {
        self.0.expected(t, x, recency, age)
    }
}

impl Transactions {
    fn of(fit: &Fit) -> Result<Transactions> {
        let p = fit.params.values();
        match fit.model {
            Model::BetaGeo | Model::ModifiedBetaGeo => Ok(Transactions::Bg(bgnbd::Params {
                r: p[0],
                alpha: p[1],
                a: p[2],
                b: p[3],
                variant: if fit.model == Model::BetaGeo {
                    bgnbd::Variant::BetaGeo
                } else {
                    bgnbd::Variant::Modified
                },
            })),
            Model::ParetoNbd => Ok(Transactions::Pareto(paretonbd::Params {
                r: p[0],
                alpha: p[1],
                s: p[2],
                beta: p[3],
            })),
            Model::BetaGeoBetaBinom => Ok(Transactions::Bb(bgbb::Params {
                alpha: p[0],
                beta: p[1],
                gamma: p[2],
                delta: p[3],
            })),
            other => Err(CsError::option(
                "model",
                other,
                "this prediction needs a transaction model (BG/NBD, Pareto/NBD, MBG/NBD, BG/BB)",
            )),
        }
    }

    fn p_alive(&self, x: f64, recency: f64, age: f64) -> f64 {
        match self {
            Transactions::Bg(p) => p.p_alive(x, recency, age),
            Transactions::Pareto(p) => p.p_alive(x, recency, age),
            Transactions::Bb(p) => p.p_alive(x, recency, age),
        }
    }

    /// Expected purchases in the next `t` if alive at T (continuous-time models).
    fn expected_if_alive(&self, t: f64, x: f64, age: f64) -> f64 {
        match self {
            Transactions::Bg(p) => p.expected_if_alive(t, x, age),
            Transactions::Pareto(p) => p.expected_if_alive(t, x, age),
            Transactions::Bb(_) => f64::NAN,
        }
    }

    /// P(exactly `n` purchases in the next `t`); `t` is whole for BG/BB (checked by the caller).
    fn probability(&self, n: u32, t: f64, x: f64, recency: f64, age: f64) -> f64 {
        match self {
            Transactions::Bg(p) => p.conditional_probability(n, t, x, recency, age),
            Transactions::Pareto(p) => p.conditional_probability(n, t, x, recency, age),
            Transactions::Bb(p) => p.conditional_probability(n, t as u32, x, recency, age),
        }
    }

    fn expected(&self, t: f64, x: f64, recency: f64, age: f64) -> f64 {
        match self {
            Transactions::Bg(p) => p.conditional_expected(t, x, recency, age),
            Transactions::Pareto(p) => p.conditional_expected(t, x, recency, age),
            Transactions::Bb(p) => p.conditional_expected(t, x, recency, age),
        }
    }
}

/// The Gamma-Gamma parameters of a fit.
fn spend_params(fit: &Fit) -> Result<gammagamma::Params> {
    match fit.model {
        Model::GammaGamma => Ok(gammagamma::Params {
            p: fit.params.values()[0],
            q: fit.params.values()[1],
            gamma: fit.params.values()[2],
        }),
        other => Err(CsError::option(
            "model",
            other,
            "expected spend needs a Gamma-Gamma model",
        )),
    }
}

/// The summary columns of `frame`, checked like the fitting data.
pub(crate) fn histories(
    frame: &DataFrame,
    model: Model,
    columns: &SummaryColumns,
) -> Result<[Vec<f64>; 3]> {
    if model == Model::BetaGeoBetaBinom {
        // Checks the rules of the BG/BB data (whole numbers, x <= t_x <= n).
        super::discrete_patterns(
            frame,
            &SummaryColumns {
                weights: None,
                ..columns.clone()
            },
        )?;
        return Ok([
            float_column(frame, &columns.frequency, "transactions")?,
            float_column(frame, &columns.recency, "recency")?,
            float_column(frame, &columns.age, "opportunities")?,
        ]);
    }
    let x = float_column(frame, &columns.frequency, "repeat purchases (frequency)")?;
    let recency = float_column(
        frame,
        &columns.recency,
        "the time of the last purchase (recency)",
    )?;
    let age = float_column(frame, &columns.age, "the time since the first purchase (T)")?;
    check_continuous(columns, &x, &recency, &age)?;
    Ok([x, recency, age])
}

/// The frequency and mean repeat value of each customer (null where it has none), checked as
/// the Gamma-Gamma fit checks them: x a whole number >= 0 and, where x > 0, a mean value that
/// is finite and > 0 (a null one stands for an unknown mean: the population mean is used). The
/// value of a customer with x = 0 is not used (summaries often hold 0 there).
fn spend_inputs(
    frame: &DataFrame,
    columns: &SummaryColumns,
) -> Result<(Vec<f64>, Vec<Option<f64>>)> {
    let x = float_column(frame, &columns.frequency, "repeat purchases (frequency)")?;
    let m = crate::input::optional_numbers(
        frame,
        &columns.monetary_value,
        crate::input::Role::Number,
        "the mean repeat value",
    )?;
    for (row, (xi, mi)) in x.iter().zip(&m).enumerate() {
        if !(xi.is_finite() && *xi >= 0.0 && xi.fract() == 0.0) {
            return Err(super::data::invalid(
                &columns.frequency,
                row,
                crate::frame::format_number(*xi),
                "frequency must be a whole number >= 0",
            ));
        }
        if let Some(v) = mi {
            if *xi > 0.0 && !(v.is_finite() && *v > 0.0) {
                return Err(super::data::invalid(
                    &columns.monetary_value,
                    row,
                    crate::frame::format_number(*v),
                    "the mean repeat purchase value must be finite and > 0 for a customer with \
                     frequency > 0 (null when unknown)",
                ));
            }
        }
    }
    Ok((x, m))
}

/// The Gamma-Gamma expected mean purchase value of every row (`None` where it is infinite).
pub(crate) fn expected_spend_rows(
    frame: &DataFrame,
    spend: &Fit,
    columns: &SummaryColumns,
) -> Result<Vec<Option<f64>>> {
    let column = predict(frame, spend, Prediction::ExpectedSpend, columns)?;
    Ok(column.f64()?.iter().collect())
}

/// A horizon `t` (time units, or opportunities for BG/BB): finite and >= 0.
fn check_horizon(t: f64) -> Result<()> {
    if t.is_finite() && t >= 0.0 {
        Ok(())
    } else {
        Err(CsError::option(
            "t",
            t,
            "the horizon must be finite and >= 0",
        ))
    }
}

/// One prediction per row of the summary `frame`, as a Float64 column named after it.
pub fn predict(
    frame: &DataFrame,
    fit: &Fit,
    prediction: Prediction,
    columns: &SummaryColumns,
) -> Result<Column> {
    let predicted = if fit.covariates.is_some() {
        // Checked on the whole frame first, so that errors name its rows.
        if prediction == Prediction::ExpectedSpend {
            spend_inputs(frame, columns)?;
        } else {
            histories(frame, fit.model, columns)?;
        }
        by_groups(frame, &[fit], prediction.column_name(), |sub, fits| {
            predict_rows(sub, &fits[0], prediction, columns)
        })
    } else {
        predict_rows(frame, fit, prediction, columns)
    };
    // A loop cut short by an interrupt leaves no result to trust.
    crate::interrupt::check()?;
    predicted.and_then(|c| finite_or_null(&c))
}

/// `f` over the rows of `frame` grouped by the parameters the covariates of `fits` give them
/// (each fit then a plain model with those parameters), gathered back in row order as the
/// Float64 column `name`.
fn by_groups(
    frame: &DataFrame,
    fits: &[&Fit],
    name: &str,
    f: impl Fn(&DataFrame, &[Fit]) -> Result<Column>,
) -> Result<Column> {
    let mut per_fit = Vec::with_capacity(fits.len());
    for fit in fits {
        per_fit.push(super::covariates::row_groups(frame, fit)?);
    }
    // Groups of rows by the combination of every fit's group.
    let mut combos: HashMap<Vec<u32>, usize, FixedState> =
        HashMap::with_hasher(FixedState::with_seed(0xc0de));
    let mut keys: Vec<Vec<u32>> = Vec::new();
    let mut rows: Vec<Vec<IdxSize>> = Vec::new();
    for row in 0..frame.height() {
        let key: Vec<u32> = per_fit.iter().map(|(_, of_row)| of_row[row]).collect();
        let next = keys.len();
        let slot = *combos.entry(key.clone()).or_insert_with(|| {
            keys.push(key);
            rows.push(Vec::new());
            next
        });
        rows[slot].push(row as IdxSize);
    }
    let mut out: Vec<Option<f64>> = vec![None; frame.height()];
    for (key, members) in keys.iter().zip(&rows) {
        let group_fits = key
            .iter()
            .zip(&per_fit)
            .map(|(&g, (params, _))| Fit::from_params(params[g as usize].clone()))
            .collect::<Result<Vec<Fit>>>()?;
        let sub = frame.take(&IdxCa::from_vec("rows".into(), members.clone()))?;
        let column = f(&sub, &group_fits)?;
        for (&row, value) in members.iter().zip(column.f64()?.iter()) {
            out[row as usize] = value;
        }
    }
    Ok(Column::new(name.into(), out))
}

/// Values that double precision cannot give (NaN or infinite, with extreme parameters) are
/// null: the contract never shows NaN.
fn finite_or_null(column: &Column) -> Result<Column> {
    if column.dtype() != &DataType::Float64 {
        return Ok(column.clone());
    }
    let values = column.f64()?;
    if values.iter().all(|v| v.is_none_or(f64::is_finite)) {
        return Ok(column.clone());
    }
    let cleaned: Float64Chunked = values.iter().map(|v| v.filter(|x| x.is_finite())).collect();
    Ok(cleaned.with_name(column.name().clone()).into_column())
}

fn predict_rows(
    frame: &DataFrame,
    fit: &Fit,
    prediction: Prediction,
    columns: &SummaryColumns,
) -> Result<Column> {
    let name = prediction.column_name();
    let values = match prediction {
        Prediction::ExpectedSpend => {
            let params = spend_params(fit)?;
            let (x, m) = spend_inputs(frame, columns)?;
            per_row(x.len(), |i| params.conditional_expected_spend(x[i], m[i]))
        }
        Prediction::PurchaseProbability { n, t } => {
            let model = Transactions::of(fit)?;
            check_horizon(t)?;
            if fit.model == Model::BetaGeoBetaBinom && !(t.fract() == 0.0 && t <= u32::MAX as f64) {
                return Err(CsError::option(
                    "t",
                    t,
                    "BG/BB counts whole future opportunities: t must be a whole number",
                ));
            }
            let [x, r, a] = histories(frame, fit.model, columns)?;
            per_row(x.len(), |i| model.probability(n, t, x[i], r[i], a[i]))
        }
        Prediction::DiscountedPurchases { discount_rate } => {
            let Transactions::Bb(params) = Transactions::of(fit)? else {
                return Err(CsError::option(
                    "model",
                    fit.model,
                    "discounted expected purchases per opportunity need a BG/BB model \
                     (continuous-time models: use customer_value)",
                ));
            };
            check_per_opportunity_rate(discount_rate)?;
            let [x, r, a] = histories(frame, fit.model, columns)?;
            per_row(x.len(), |i| {
                params.discounted_expected(discount_rate, x[i], r[i], a[i])
            })
        }
        Prediction::PAlive => {
            let model = Transactions::of(fit)?;
            let [x, r, a] = histories(frame, fit.model, columns)?;
            per_row(x.len(), |i| model.p_alive(x[i], r[i], a[i]))
        }
        Prediction::ExpectedPurchases(t) => {
            let model = Transactions::of(fit)?;
            check_horizon(t)?;
            let [x, r, a] = histories(frame, fit.model, columns)?;
            per_row(x.len(), |i| model.expected(t, x[i], r[i], a[i]))
        }
    };
    Ok(Column::new(name.into(), values))
}

/// The smallest per-opportunity discount rate DERT accepts: its hypergeometric series has terms
/// falling like (1+d)^-k, so it needs about 40 / d of them, and its budget is 200,000.
const SMALLEST_RATE: f64 = 1e-3;

fn check_per_opportunity_rate(rate: f64) -> Result<()> {
    if rate.is_finite() && rate >= SMALLEST_RATE {
        Ok(())
    } else {
        Err(CsError::option(
            "discount_rate",
            rate,
            "discounting over all future opportunities needs a finite rate >= 0.001 per \
             opportunity (a CLV over a finite number of periods takes any rate > -1)",
        ))
    }
}

/// How future purchases are discounted in [`customer_value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Discounting {
    /// The purchases of month i are discounted by (1 + d)^-i, as if made at the month's end
    /// (default; the convention of lifetimes and of most spreadsheets).
    #[default]
    Monthly,
    /// Each purchase is discounted at the instant it is expected, (1 + d)^-(t in months):
    /// the integral of the discount factor against the expected purchase curve.
    Continuous,
}

impl FromStr for Discounting {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "monthly" => Ok(Discounting::Monthly),
            "continuous" => Ok(Discounting::Continuous),
            other => Err(CsError::option(
                "discounting",
                format!("'{other}'"),
                "expected 'monthly' or 'continuous'",
            )),
        }
    }
}

/// Options of [`customer_value`].
#[derive(Debug, Clone, Copy)]
pub struct ClvOptions {
    /// Horizon in months (of 365/12 days).
    pub months: u32,
    /// Discount rate per month (0.01 = 1% a month).
    pub discount_rate: f64,
    /// Share of the spend kept as profit (1 = revenue CLV).
    pub margin: f64,
    /// Time unit of the summary the transaction model was fitted on.
    pub time_unit: PeriodUnit,
    /// Discrete monthly or continuous discounting.
    pub discounting: Discounting,
    /// BG/BB only: the horizon in future transaction opportunities; `None` values all of them
    /// (DERT). Continuous-time models use `months` and need `None` here.
    pub periods: Option<u32>,
}

impl Default for ClvOptions {
    fn default() -> Self {
        ClvOptions {
            months: 12,
            discount_rate: 0.01,
            margin: 1.0,
            time_unit: PeriodUnit::Day,
            discounting: Discounting::Monthly,
            periods: None,
        }
    }
}

/// CLV per customer: margin x expected spend (Gamma-Gamma) x the discounted expected purchases
/// (the transaction model), as the Float64 column `clv`.
///
/// Continuous-time models (BG/NBD, Pareto/NBD, MBG/NBD) value the next `months`, discounted
/// as `discounting` says. BG/BB values the next `periods` opportunities, or all of them when
/// `periods` is `None` (the model's DERT); the transactions of the k-th future opportunity are
/// discounted by (1 + `discount_rate`)^-k, so `discount_rate` is per opportunity there, and
/// `months` and `time_unit` are not used.
pub fn customer_value(
    frame: &DataFrame,
    transactions: &Fit,
    spend: &Fit,
    columns: &SummaryColumns,
    options: &ClvOptions,
) -> Result<Column> {
    let value = if transactions.covariates.is_some() || spend.covariates.is_some() {
        histories(frame, transactions.model, columns)?;
        spend_inputs(frame, columns)?;
        by_groups(frame, &[transactions, spend], "clv", |sub, fits| {
            customer_value_rows(sub, &fits[0], &fits[1], columns, options)
        })
    } else {
        customer_value_rows(frame, transactions, spend, columns, options)
    };
    crate::interrupt::check()?;
    value.and_then(|c| finite_or_null(&c))
}

fn customer_value_rows(
    frame: &DataFrame,
    transactions: &Fit,
    spend: &Fit,
    columns: &SummaryColumns,
    options: &ClvOptions,
) -> Result<Column> {
    if options.months > 1200 {
        return Err(CsError::option(
            "months",
            options.months,
            "the horizon must be at most 1200 months (100 years)",
        ));
    }
    if !(options.discount_rate.is_finite() && options.discount_rate > -1.0) {
        return Err(CsError::option(
            "discount_rate",
            options.discount_rate,
            "must be finite and > -1",
        ));
    }
    if !options.margin.is_finite() {
        return Err(CsError::option("margin", options.margin, "must be finite"));
    }
    if transactions.model == Model::BetaGeoBetaBinom {
        return discrete_value(frame, transactions, spend, columns, options);
    }
    if options.periods.is_some() {
        return Err(CsError::option(
            "periods",
            format!("{:?}", options.periods),
            "periods is the horizon of BG/BB; continuous-time models take months",
        ));
    }
    let model = Transactions::of(transactions)?;
    let spend_model = spend_params(spend)?;
    let [x, r, a] = histories(frame, transactions.model, columns)?;
    let (_, m) = spend_inputs(frame, columns)?;
    let month = 365.0 / 12.0 / options.time_unit.days();
    let months = options.months as usize;
    let rate = (1.0 + options.discount_rate).ln(); // per month
    let horizon = months as f64 * month;
    let rule = gauss_legendre(16);
    // E[purchases in t] = P(alive | x, t_x, T) x E[purchases in t | alive, x, T]: the
    // discounted sum of the second factor depends on (x, T) only, which takes far fewer values
    // than there are customers. Compute it once per distinct (x, T).
    let discounted_if_alive = |x: f64, age: f64| -> f64 {
        let e = |t: f64| model.expected_if_alive(t, x, age);
        match options.discounting {
            Discounting::Monthly => {
                let mut previous = 0.0;
                let mut total = 0.0;
                for k in 1..=months {
                    let now = e(k as f64 * month);
                    total += (now - previous) * (-rate * k as f64).exp();
                    previous = now;
                }
                total
            }
            Discounting::Continuous => {
                // ∫ D(t) dE(t) = D(H) E(H) + ∫ -D'(t) E(t) dt with D(t) = e^(-rate t / month).
                let per_unit = rate / month;
                let integral: f64 = rule
                    .iter()
                    .map(|(node, weight)| {
                        let t = 0.5 * horizon * (node + 1.0);
                        0.5 * horizon * weight * per_unit * (-per_unit * t).exp() * e(t)
                    })
                    .sum();
                (-per_unit * horizon).exp() * e(horizon) + integral
            }
        }
    };
    let mut keys: HashMap<(u64, u64), u32, FixedState> =
        HashMap::with_hasher(FixedState::with_seed(0xc1b));
    let mut distinct: Vec<(f64, f64)> = Vec::new();
    let key_of: Vec<u32> = (0..x.len())
        .map(|i| {
            let next = distinct.len() as u32;
            *keys
                .entry((x[i].to_bits(), a[i].to_bits()))
                .or_insert_with(|| {
                    distinct.push((x[i], a[i]));
                    next
                })
        })
        .collect();
    let per_key = per_row(distinct.len(), |k| {
        discounted_if_alive(distinct[k].0, distinct[k].1)
    });
    let clv = per_row(x.len(), |i| {
        options.margin
            * spend_model.conditional_expected_spend(x[i], m[i])
            * model.p_alive(x[i], r[i], a[i])
            * per_key[key_of[i] as usize]
    });
    Ok(Column::new("clv".into(), clv))
}

/// [`customer_value`] for BG/BB: margin x expected spend x discounted expected transactions
/// over the next `periods` opportunities, or all of them (DERT).
fn discrete_value(
    frame: &DataFrame,
    transactions: &Fit,
    spend: &Fit,
    columns: &SummaryColumns,
    options: &ClvOptions,
) -> Result<Column> {
    let Transactions::Bb(params) = Transactions::of(transactions)? else {
        return Err(CsError::option(
            "model",
            transactions.model,
            "expected BG/BB",
        ));
    };
    if options.discounting != Discounting::Monthly {
        return Err(CsError::option(
            "discounting",
            "'continuous'",
            "BG/BB has discrete opportunities: each one's transactions are discounted as a \
             whole (the default rule)",
        ));
    }
    if options.periods.is_none() {
        check_per_opportunity_rate(options.discount_rate)?;
    }
    let spend_model = spend_params(spend)?;
    let [x, r, n] = histories(frame, transactions.model, columns)?;
    let (_, m) = spend_inputs(frame, columns)?;
    let factor = 1.0 / (1.0 + options.discount_rate);
    let clv = per_row(x.len(), |i| {
        let purchases = match options.periods {
            None => params.discounted_expected(options.discount_rate, x[i], r[i], n[i]),
            Some(periods) => {
                let (mut previous, mut total, mut discount) = (0.0, 0.0, 1.0);
                for k in 1..=periods {
                    let now = params.conditional_expected(k as f64, x[i], r[i], n[i]);
                    discount *= factor;
                    total += (now - previous) * discount;
                    previous = now;
                }
                total
            }
        };
        options.margin * spend_model.conditional_expected_spend(x[i], m[i]) * purchases
    });
    Ok(Column::new("clv".into(), clv))
}

/// The shifted-beta-geometric curve for periods `0..=periods`: `period`, `survival` (share of
/// the cohort still active) and `retention_rate` (null for period 0).
pub fn retention_curve(fit: &Fit, periods: u32) -> Result<DataFrame> {
    if fit.model != Model::ShiftedBetaGeometric {
        return Err(CsError::option(
            "model",
            fit.model,
            "retention curves need a shifted-beta-geometric model",
        ));
    }
    let p = sbg::Params {
        alpha: fit.params.values()[0],
        beta: fit.params.values()[1],
    };
    let t: Vec<i64> = (0..=periods as i64).collect();
    let survival: Vec<f64> = t.iter().map(|&t| p.survival(t as f64)).collect();
    let retention: Vec<Option<f64>> = t
        .iter()
        .map(|&t| (t > 0).then(|| p.retention_rate(t as f64)))
        .collect();
    Ok(DataFrame::new(
        t.len(),
        vec![
            Column::new("period".into(), t),
            Column::new("survival".into(), survival),
            Column::new("retention_rate".into(), retention),
        ],
    )?)
}
