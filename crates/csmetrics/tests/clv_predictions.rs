//! CLV predictions against independent references: the Pareto/NBD conditional PMF against a
//! brute-force integration over the posterior of (λ, μ) and against the sum identities
//! (probabilities sum to 1, their mean is the conditional expectation computed by its own
//! formula); the BG/BB PMF and DERT against the expectation formula; CLV from BG/BB; extreme
//! customers; bad options.

#![allow(clippy::unwrap_used)]

use csmetrics::clv::{
    customer_value, paretonbd, predict, ClvOptions, Discounting, Fit, Model, Params, Prediction,
    SummaryColumns,
};
use csmetrics::CsError;
use polars::prelude::*;

fn ln_gamma(v: f64) -> f64 {
    libm::lgamma(v)
}

/// P(Poisson(mean) >= k), summing whichever side has no cancellation.
fn poisson_at_least(k: u32, mean: f64) -> f64 {
    let term = |i: u32| (-mean + f64::from(i) * mean.ln() - ln_gamma(f64::from(i) + 1.0)).exp();
    if mean == 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    if mean > f64::from(k) {
        1.0 - (0..k).map(term).sum::<f64>()
    } else {
        let mut total = 0.0;
        let mut i = k;
        loop {
            let t = term(i);
            total += t;
            if t < 1e-20 * total || i > k + 10_000 {
                return total;
            }
            i += 1;
        }
    }
}

/// P(n purchases in (T, T+t] | x, t_x, T) for n = 0..counts by the trapezoid rule over
/// (ln λ, ln μ) of the prior times the likelihood of the history, with the closed-form
/// P(n | λ, μ): e^(-(λ+μ)t) Poisson(n; λt) + μ λ^n / (λ+μ)^(n+1) P(Gamma(n+1) <= (λ+μ)t).
/// In log coordinates the integrand is smooth and decays at both ends, where the trapezoid
/// rule converges very fast; the ranges leave out less than 1e-10 of the mass.
fn brute_force_pmf(params: [f64; 4], x: f64, tx: f64, age: f64, t: f64, counts: u32) -> Vec<f64> {
    let [r, alpha, s, beta] = params;
    let h = 0.2;
    let grid = |lo: f64, hi: f64| {
        let steps = ((hi - lo) / h) as usize;
        (0..=steps).map(move |i| lo + i as f64 * h)
    };
    let mut logs: Vec<(f64, f64, f64, f64, f64)> = Vec::new();
    for a in grid(-50.0, 5.0) {
        for b in grid(-50.0, 5.0) {
            let (lambda, mu) = (a.exp(), b.exp());
            let rho = lambda + mu;
            let prior = r * a - alpha * lambda + s * b - beta * mu;
            let alive = prior + x * a - rho * age;
            let dead = if tx < age {
                prior + x * a + b - rho.ln() - rho * tx + (-(-rho * (age - tx)).exp_m1()).ln()
            } else {
                f64::NEG_INFINITY
            };
            logs.push((lambda, mu, alive, dead, 0.0));
        }
    }
    let top = logs
        .iter()
        .map(|l| l.2.max(l.3))
        .fold(f64::NEG_INFINITY, f64::max);
    let mut evidence = 0.0;
    let mut dead_mass = 0.0;
    let mut mass = vec![0.0; counts as usize + 1];
    for &(lambda, mu, alive, dead, _) in &logs {
        let (wa, wd) = ((alive - top).exp(), (dead - top).exp());
        evidence += wa + wd;
        dead_mass += wd;
        if wa == 0.0 {
            continue;
        }
        let rho = lambda + mu;
        for (n, slot) in mass.iter_mut().enumerate() {
            let nf = n as f64;
            let survive = (-rho * t + nf * (lambda * t).ln() - ln_gamma(nf + 1.0)).exp();
            let dies = (mu.ln() + nf * lambda.ln() - (nf + 1.0) * rho.ln()).exp()
                * poisson_at_least(n as u32 + 1, rho * t);
            *slot += wa * (survive + dies);
        }
    }
    mass[0] += dead_mass;
    mass.iter().map(|m| m / evidence).collect()
}

fn pareto(params: [f64; 4]) -> paretonbd::Params {
    paretonbd::Params {
        r: params[0],
        alpha: params[1],
        s: params[2],
        beta: params[3],
    }
}

#[test]
fn pareto_nbd_pmf_matches_posterior_integration() {
    // The published CDNOW fit (alpha < beta) and a fit with alpha > beta: the likelihood takes
    // a different branch of its hypergeometric term in each.
    for params in [[0.553, 10.578, 0.606, 11.669], [0.8, 14.0, 0.9, 3.0]] {
        let model = pareto(params);
        for (x, tx, age) in [(2.0, 30.43, 38.86), (0.0, 0.0, 39.0), (7.0, 20.0, 39.0)] {
            let reference = brute_force_pmf(params, x, tx, age, 39.0, 5);
            for (n, expected) in reference.iter().enumerate() {
                let ours = model.conditional_probability(n as u32, 39.0, x, tx, age);
                assert!(
                    (ours - expected).abs() < 1e-10,
                    "{params:?} ({x}, {tx}, {age}) n={n}: {ours} vs {expected}"
                );
            }
        }
    }
}

#[test]
fn pareto_nbd_pmf_sums_to_one_with_the_conditional_mean() {
    let model = pareto([0.553, 10.578, 0.606, 11.669]);
    // Ordinary customers and an extreme one (x = 200 in 40 weeks).
    for (x, tx, age, t, counts) in [
        (2.0, 30.43, 38.86, 39.0, 200),
        (0.0, 0.0, 39.0, 10.0, 100),
        (200.0, 38.0, 40.0, 39.0, 700),
    ] {
        let probs: Vec<f64> = (0..counts)
            .map(|n| model.conditional_probability(n, t, x, tx, age))
            .collect();
        assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)));
        let total: f64 = probs.iter().sum();
        let mean: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        let expected = model.conditional_expected(t, x, tx, age);
        assert!((total - 1.0).abs() < 1e-9, "({x}, {tx}, {age}): {total}");
        assert!(
            (mean - expected).abs() < 1e-7 * expected.max(1.0),
            "({x}, {tx}, {age}): {mean} vs {expected}"
        );
    }
}

#[test]
fn pareto_nbd_pmf_of_a_customer_with_thousands_of_purchases() {
    let model = pareto([0.553, 10.578, 0.606, 11.669]);
    let (x, tx, age) = (3000.0, 39.0, 39.5);
    let probs: Vec<f64> = (0..6000)
        .map(|n| model.conditional_probability(n, 1.0, x, tx, age))
        .collect();
    assert!(probs
        .iter()
        .all(|p| p.is_finite() && (0.0..=1.0).contains(p)));
    let total: f64 = probs.iter().sum();
    assert!((total - 1.0).abs() < 1e-8, "{total}");
}

fn donors() -> DataFrame {
    df!(
        "frequency" => [0.0, 1.0, 3.0, 6.0, 2.0],
        "recency" => [0.0, 1.0, 5.0, 6.0, 4.0],
        "periods" => [6.0, 6.0, 6.0, 6.0, 6.0],
        "monetary_value" => [None, Some(20.0), Some(35.0), Some(50.0), Some(10.0)],
    )
    .unwrap()
}

fn donor_columns() -> SummaryColumns {
    SummaryColumns {
        age: "periods".into(),
        ..SummaryColumns::default()
    }
}

fn values(column: &Column) -> Vec<f64> {
    column.f64().unwrap().iter().map(|v| v.unwrap()).collect()
}

fn donations_fit() -> Fit {
    Fit::from_params(
        Params::from_values(Model::BetaGeoBetaBinom, &[1.204, 0.750, 0.657, 2.783]).unwrap(),
    )
    .unwrap()
}

#[test]
fn bg_bb_pmf_through_predict_sums_to_one_with_the_conditional_mean() {
    let (frame, fit, columns) = (donors(), donations_fit(), donor_columns());
    for future in [1.0, 4.0, 10.0] {
        let probs: Vec<Vec<f64>> = (0..=future as u32)
            .map(|n| {
                values(
                    &predict(
                        &frame,
                        &fit,
                        Prediction::PurchaseProbability { n, t: future },
                        &columns,
                    )
                    .unwrap(),
                )
            })
            .collect();
        let expected = values(
            &predict(
                &frame,
                &fit,
                Prediction::ExpectedPurchases(future),
                &columns,
            )
            .unwrap(),
        );
        for row in 0..frame.height() {
            let total: f64 = probs.iter().map(|p| p[row]).sum();
            let mean: f64 = probs
                .iter()
                .enumerate()
                .map(|(n, p)| n as f64 * p[row])
                .sum();
            assert!((total - 1.0).abs() < 1e-12, "row {row}: {total}");
            assert!((mean - expected[row]).abs() < 1e-10, "row {row}");
        }
    }
}

#[test]
fn bg_bb_pmf_of_one_future_opportunity_by_hand() {
    // With one future opportunity, P(1) = E[p (1-θ)^(n+1)] / L over the posterior: the
    // expected purchases in one opportunity, by the expectation formula.
    let (frame, fit, columns) = (donors(), donations_fit(), donor_columns());
    let one = values(
        &predict(
            &frame,
            &fit,
            Prediction::PurchaseProbability { n: 1, t: 1.0 },
            &columns,
        )
        .unwrap(),
    );
    let expected =
        values(&predict(&frame, &fit, Prediction::ExpectedPurchases(1.0), &columns).unwrap());
    for (p, e) in one.iter().zip(&expected) {
        assert!((p - e).abs() < 1e-12, "{p} vs {e}");
    }
}

#[test]
fn bg_bb_clv_is_dert_times_spend_and_sums_discounted_increments() {
    let (frame, fit, columns) = (donors(), donations_fit(), donor_columns());
    let spend =
        Fit::from_params(Params::from_values(Model::GammaGamma, &[6.25, 3.74, 15.44]).unwrap())
            .unwrap();
    let expected_spend =
        values(&predict(&frame, &spend, Prediction::ExpectedSpend, &columns).unwrap());
    let d = 0.1;
    let dert = values(
        &predict(
            &frame,
            &fit,
            Prediction::DiscountedPurchases { discount_rate: d },
            &columns,
        )
        .unwrap(),
    );
    let options = ClvOptions {
        discount_rate: d,
        margin: 0.3,
        ..ClvOptions::default()
    };
    let all = values(&customer_value(&frame, &fit, &spend, &columns, &options).unwrap());
    let ten = ClvOptions {
        periods: Some(10),
        ..options
    };
    let first_ten = values(&customer_value(&frame, &fit, &spend, &columns, &ten).unwrap());
    for row in 0..frame.height() {
        // DERT by brute force: the discounted increments of the expected transactions.
        let expected = |k: u32| {
            values(
                &predict(
                    &frame,
                    &fit,
                    Prediction::ExpectedPurchases(f64::from(k)),
                    &columns,
                )
                .unwrap(),
            )[row]
        };
        let mut sum = 0.0;
        let mut ten_sum = 0.0;
        let mut previous = 0.0;
        for k in 1..=400 {
            let now = expected(k);
            sum += (now - previous) / (1.0 + d).powi(k as i32);
            if k == 10 {
                ten_sum = sum;
            }
            previous = now;
        }
        assert!(
            (dert[row] - sum).abs() < 1e-10 * sum,
            "row {row}: {} vs {sum}",
            dert[row]
        );
        let value = 0.3 * expected_spend[row] * sum;
        assert!((all[row] - value).abs() < 1e-9 * value, "row {row}");
        let value_ten = 0.3 * expected_spend[row] * ten_sum;
        assert!(
            (first_ten[row] - value_ten).abs() < 1e-9 * value_ten,
            "row {row}"
        );
    }
}

#[test]
fn extreme_customers_give_finite_probabilities() {
    let frame = df!(
        "frequency" => [200.0, 3000.0],
        "recency" => [38.0, 39.0],
        "T" => [40.0, 39.5],
    )
    .unwrap();
    let columns = SummaryColumns::default();
    for (model, params) in [
        (Model::ParetoNbd, [0.553, 10.578, 0.606, 11.669]),
        (Model::BetaGeo, [0.243, 4.414, 0.793, 2.426]),
        (Model::ModifiedBetaGeo, [0.525, 6.183, 0.891, 1.614]),
    ] {
        let fit = Fit::from_params(Params::from_values(model, &params).unwrap()).unwrap();
        for n in [0, 1, 150, 3000] {
            let p = values(
                &predict(
                    &frame,
                    &fit,
                    Prediction::PurchaseProbability { n, t: 39.0 },
                    &columns,
                )
                .unwrap(),
            );
            assert!(
                p.iter().all(|v| (0.0..=1.0).contains(v)),
                "{model} n={n}: {p:?}"
            );
        }
    }
    let bb = donations_fit();
    let discrete = df!("frequency" => [2000.0], "recency" => [2000.0], "T" => [2001.0]).unwrap();
    let p = values(
        &predict(
            &discrete,
            &bb,
            Prediction::PurchaseProbability { n: 3, t: 5.0 },
            &columns,
        )
        .unwrap(),
    );
    let dert = values(
        &predict(
            &discrete,
            &bb,
            Prediction::DiscountedPurchases {
                discount_rate: 0.05,
            },
            &columns,
        )
        .unwrap(),
    );
    assert!((0.0..=1.0).contains(&p[0]) && dert[0].is_finite() && dert[0] > 0.0);
}

fn option_of(err: CsError) -> String {
    match err {
        CsError::InvalidOption { option, .. } => option,
        other => panic!("expected an option error, got {other}"),
    }
}

#[test]
fn bad_options_are_named() {
    let (frame, bb, columns) = (donors(), donations_fit(), donor_columns());
    let half = predict(
        &frame,
        &bb,
        Prediction::PurchaseProbability { n: 1, t: 2.5 },
        &columns,
    );
    assert_eq!(option_of(half.unwrap_err()), "t");
    let bg = Fit::from_params(
        Params::from_values(Model::BetaGeo, &[0.243, 4.414, 0.793, 2.426]).unwrap(),
    )
    .unwrap();
    let summary =
        df!("frequency" => [1.0], "recency" => [2.0], "T" => [5.0], "monetary_value" => [3.0])
            .unwrap();
    let dert = predict(
        &summary,
        &bg,
        Prediction::DiscountedPurchases { discount_rate: 0.1 },
        &SummaryColumns::default(),
    );
    assert_eq!(option_of(dert.unwrap_err()), "model");
    let zero = predict(
        &frame,
        &bb,
        Prediction::DiscountedPurchases { discount_rate: 0.0 },
        &columns,
    );
    assert_eq!(option_of(zero.unwrap_err()), "discount_rate");
    let spend =
        Fit::from_params(Params::from_values(Model::GammaGamma, &[6.25, 3.74, 15.44]).unwrap())
            .unwrap();
    let continuous = ClvOptions {
        discounting: Discounting::Continuous,
        ..ClvOptions::default()
    };
    let err = customer_value(&frame, &bb, &spend, &columns, &continuous).unwrap_err();
    assert_eq!(option_of(err), "discounting");
    let periods = ClvOptions {
        periods: Some(4),
        ..ClvOptions::default()
    };
    let err =
        customer_value(&summary, &bg, &spend, &SummaryColumns::default(), &periods).unwrap_err();
    assert_eq!(option_of(err), "periods");
    let negative = predict(
        &summary,
        &bg,
        Prediction::PurchaseProbability { n: 0, t: -1.0 },
        &SummaryColumns::default(),
    );
    assert_eq!(option_of(negative.unwrap_err()), "t");
}
