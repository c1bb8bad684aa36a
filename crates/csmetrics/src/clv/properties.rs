//! Property tests of the CLV models on random valid parameters and customer histories:
//! P(alive) in [0, 1]; conditional expected purchases >= 0 and non-decreasing in the horizon;
//! P(n purchases) in [0, 1] summing to 1 (to within what Markov's inequality leaves for the
//! tail of the unbounded counts); exact log-likelihood gradients against central finite
//! differences; and fits that repeat to the bit. Unit tests: the log-likelihoods and their
//! dual numbers are the crate's own.

#![allow(clippy::unwrap_used)]

#[path = "../../tests/common/mod.rs"]
mod common;

use crate::clv::data::Patterns;
use crate::clv::dual::Dual;
use crate::clv::{bgbb, bgnbd, fit, gammagamma, paretonbd, sbg, FitOptions, Model};
use common::Rng;
use polars::prelude::*;
use proptest::prelude::*;

/// A continuous-time history (x, t_x, T): t_x = 0 when x = 0.
fn history() -> impl Strategy<Value = (f64, f64, f64)> {
    (0u32..40, 0.0f64..=1.0, 0.5f64..60.0).prop_map(|(x, share, age)| {
        let recency = if x == 0 { 0.0 } else { share * age };
        (f64::from(x), recency, age)
    })
}

/// A BG/BB history (x, t_x, n) of whole numbers with x <= t_x <= n, t_x = 0 when x = 0.
fn discrete_history() -> impl Strategy<Value = (f64, f64, f64)> {
    (1u32..15, 0.0f64..=1.0, 0.0f64..=1.0).prop_map(|(n, a, b)| {
        let recency = (a * f64::from(n)).round();
        let x = if recency == 0.0 {
            0.0
        } else {
            (b * recency).round().max(1.0)
        };
        (x, recency, f64::from(n))
    })
}

fn bg_params() -> impl Strategy<Value = [f64; 4]> {
    (0.1f64..3.0, 0.5f64..30.0, 0.2f64..4.0, 0.3f64..6.0).prop_map(|(r, a, b, c)| [r, a, b, c])
}

fn pareto_params() -> impl Strategy<Value = [f64; 4]> {
    (0.1f64..3.0, 0.5f64..30.0, 0.1f64..3.0, 0.5f64..30.0).prop_map(|(r, a, s, b)| [r, a, s, b])
}

fn bb_params() -> impl Strategy<Value = [f64; 4]> {
    (0.2f64..4.0, 0.2f64..4.0, 0.2f64..4.0, 0.2f64..6.0).prop_map(|(a, b, g, d)| [a, b, g, d])
}

fn bg_model(p: [f64; 4], variant: bgnbd::Variant) -> bgnbd::Params {
    bgnbd::Params {
        r: p[0],
        alpha: p[1],
        a: p[2],
        b: p[3],
        variant,
    }
}

fn pareto_model(p: [f64; 4]) -> paretonbd::Params {
    paretonbd::Params {
        r: p[0],
        alpha: p[1],
        s: p[2],
        beta: p[3],
    }
}

fn bb_model(p: [f64; 4]) -> bgbb::Params {
    bgbb::Params {
        alpha: p[0],
        beta: p[1],
        gamma: p[2],
        delta: p[3],
    }
}

/// P(n) over n = 0..counts: each in [0, 1], the sum at most 1 and at least 1 - E/counts
/// (Markov's inequality bounds the tail left out), and the partial mean at most E.
fn check_pmf(probs: &[f64], expected: f64) -> std::result::Result<(), TestCaseError> {
    prop_assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)), "{probs:?}");
    let total: f64 = probs.iter().sum();
    let mean: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    let tail = expected / probs.len() as f64;
    prop_assert!(total <= 1.0 + 1e-9, "total {total}");
    prop_assert!(
        total >= 1.0 - tail - 1e-9,
        "total {total}, tail bound {tail}"
    );
    prop_assert!(
        mean <= expected * (1.0 + 1e-7) + 1e-9,
        "mean {mean} vs {expected}"
    );
    Ok(())
}

/// The exact (dual-number) gradient against central differences with a step relative to each
/// parameter; the tolerance allows for the rounding of the log-likelihood over that step.
fn check_gradient<const N: usize>(
    params: [f64; N],
    ll: impl Fn(&[Dual<N>; N]) -> Dual<N>,
) -> std::result::Result<(), TestCaseError> {
    let exact = ll(&std::array::from_fn(|i| Dual::variable(params[i], i)));
    prop_assert!(exact.v.is_finite());
    for i in 0..N {
        let h = 1e-5 * params[i];
        let at = |delta: f64| {
            let p: [Dual<N>; N] = std::array::from_fn(|j| {
                Dual::constant(params[j] + if j == i { delta } else { 0.0 })
            });
            ll(&p).v
        };
        let numeric = (at(h) - at(-h)) / (2.0 * h);
        let tolerance = 1e-5 * exact.d[i].abs().max(1.0) + 100.0 * f64::EPSILON * exact.v.abs() / h;
        prop_assert!(
            (numeric - exact.d[i]).abs() < tolerance,
            "parameter {i} of {params:?}: {numeric} vs {}",
            exact.d[i]
        );
    }
    Ok(())
}

fn continuous_patterns() -> Patterns {
    Patterns::from_rows(
        &[0.0, 1.0, 2.0, 7.0, 25.0, 0.0],
        &[0.0, 3.5, 30.4, 36.0, 38.0, 0.0],
        &[38.9, 38.0, 38.9, 39.0, 40.0, 12.0],
        &[3.0, 2.0, 1.0, 1.0, 1.0, 2.0],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn bg_and_mbg_predictions_are_probabilities_and_grow_with_the_horizon(
        params in bg_params(), (x, recency, age) in history(), t in 0.1f64..60.0, more in 0.0f64..60.0,
    ) {
        for variant in [bgnbd::Variant::BetaGeo, bgnbd::Variant::Modified] {
            let model = bg_model(params, variant);
            let alive = model.p_alive(x, recency, age);
            prop_assert!((0.0..=1.0).contains(&alive), "{alive}");
            let near = model.conditional_expected(t, x, recency, age);
            let far = model.conditional_expected(t + more, x, recency, age);
            prop_assert!(near >= 0.0 && far >= near * (1.0 - 1e-12), "{near} {far}");
            let probs: Vec<f64> = (0..120)
                .map(|n| model.conditional_probability(n, t, x, recency, age))
                .collect();
            check_pmf(&probs, near)?;
        }
    }

    #[test]
    fn pareto_nbd_predictions_are_probabilities_and_grow_with_the_horizon(
        params in pareto_params(), (x, recency, age) in history(), t in 0.1f64..60.0, more in 0.0f64..60.0,
    ) {
        let model = pareto_model(params);
        let alive = model.p_alive(x, recency, age);
        prop_assert!((0.0..=1.0).contains(&alive), "{alive}");
        let near = model.conditional_expected(t, x, recency, age);
        let far = model.conditional_expected(t + more, x, recency, age);
        prop_assert!(near >= 0.0 && far >= near * (1.0 - 1e-12), "{near} {far}");
        let probs: Vec<f64> = (0..120)
            .map(|n| model.conditional_probability(n, t, x, recency, age))
            .collect();
        check_pmf(&probs, near)?;
    }

    #[test]
    fn bg_bb_predictions_are_probabilities_and_grow_with_the_horizon(
        params in bb_params(), (x, recency, n) in discrete_history(), future in 0u32..12, more in 0u32..12,
    ) {
        let model = bb_model(params);
        let alive = model.p_alive(x, recency, n);
        prop_assert!((0.0..=1.0).contains(&alive), "{alive}");
        let near = model.conditional_expected(f64::from(future), x, recency, n);
        let far = model.conditional_expected(f64::from(future + more), x, recency, n);
        prop_assert!(near >= -1e-12 && far >= near - 1e-12, "{near} {far}");
        // At most one transaction per opportunity: the PMF is complete.
        let probs: Vec<f64> = (0..=future)
            .map(|k| model.conditional_probability(k, future, x, recency, n))
            .collect();
        prop_assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)));
        let total: f64 = probs.iter().sum();
        let mean: f64 = probs.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
        prop_assert!((total - 1.0).abs() < 1e-10, "{total}");
        prop_assert!((mean - near).abs() < 1e-9 * near.max(1.0), "{mean} vs {near}");
        // DERT is positive and falls as the discount rate rises.
        let low = model.discounted_expected(0.05, x, recency, n);
        let high = model.discounted_expected(0.2, x, recency, n);
        prop_assert!(low > high && high > 0.0, "{low} {high}");
    }

    #[test]
    fn gradients_match_central_differences(
        bg in bg_params(), pareto in pareto_params(), bb in bb_params(),
        spend in (0.5f64..10.0, 0.5f64..10.0, 1.0f64..50.0), churn in (0.2f64..4.0, 0.2f64..6.0),
    ) {
        let patterns = continuous_patterns();
        for variant in [bgnbd::Variant::BetaGeo, bgnbd::Variant::Modified] {
            check_gradient(bg, |p| bgnbd::log_likelihood(p, &patterns, variant))?;
            // The fast path the optimizer uses.
            check_gradient(bg, |p| {
                let fast = bgnbd::log_likelihood_fast([p[0].v, p[1].v, p[2].v, p[3].v], &patterns, variant);
                let mut out = Dual::constant(fast.v);
                for (j, slot) in out.d.iter_mut().enumerate() {
                    *slot = (0..4).map(|i| fast.d[i] * p[i].d[j]).sum();
                }
                out
            })?;
        }
        check_gradient(pareto, |p| paretonbd::log_likelihood(p, &patterns))?;
        let discrete = Patterns::from_rows(
            &[0.0, 1.0, 3.0, 6.0, 2.0],
            &[0.0, 2.0, 5.0, 6.0, 2.0],
            &[6.0; 5],
            &[3.0, 1.0, 2.0, 5.0, 1.0],
        );
        check_gradient(bb, |p| bgbb::log_likelihood(p, &discrete))?;
        let values = gammagamma::SpendPatterns::new(
            vec![1.0, 2.0, 10.0, 4.0],
            vec![20.0, 35.5, 12.0, 3.0],
            vec![1.0, 3.0, 1.0, 2.0],
        );
        check_gradient([spend.0, spend.1, spend.2], |p| gammagamma::log_likelihood(p, &values))?;
        check_gradient([churn.0, churn.1], |p| {
            sbg::log_likelihood(p, &[1000.0, 631.0, 468.0, 382.0, 326.0])
        })?;
    }
}

/// Customers simulated from a Pareto/NBD process (x, t_x, T, monetary value) and from a BG/BB
/// process over 6 opportunities (x, t_x, n): data the models can fit, random otherwise.
fn simulated(seed: u64) -> (DataFrame, DataFrame) {
    let mut rng = Rng(seed);
    let (r, alpha, s, beta) = (
        0.3 + rng.uniform(),
        2.0 + 10.0 * rng.uniform(),
        0.3 + rng.uniform(),
        2.0 + 10.0 * rng.uniform(),
    );
    let (mut x, mut tx, mut age, mut value) = (vec![], vec![], vec![], vec![]);
    for _ in 0..60 {
        let rate = rng.gamma(r) / alpha;
        let lifetime = -rng.uniform().ln() / (rng.gamma(s) / beta);
        let horizon = 20.0 + 30.0 * rng.uniform();
        let end = lifetime.min(horizon);
        let (mut time, mut count, mut last) = (0.0, 0.0, 0.0);
        loop {
            time += -rng.uniform().ln() / rate;
            if time > end {
                break;
            }
            count += 1.0;
            last = time;
        }
        x.push(count);
        tx.push(last);
        age.push(horizon);
        value.push(10.0 * rng.gamma(4.0) / rng.gamma(3.0).max(0.1));
    }
    let continuous =
        df!("frequency" => x, "recency" => tx, "T" => age, "monetary_value" => value).unwrap();
    let (p_shape, theta_shape) = ((1.0 + rng.uniform(), 1.0), (0.5 + rng.uniform(), 2.5));
    let (mut x, mut tx) = (vec![], vec![]);
    for _ in 0..60 {
        let p = rng.beta(p_shape.0, p_shape.1);
        let theta = rng.beta(theta_shape.0, theta_shape.1);
        let (mut count, mut last) = (0.0, 0.0);
        for opportunity in 1..=6 {
            if rng.uniform() < theta {
                break;
            }
            if rng.uniform() < p {
                count += 1.0;
                last = f64::from(opportunity);
            }
        }
        x.push(count);
        tx.push(last);
    }
    let discrete = df!("frequency" => x, "recency" => tx, "T" => vec![6.0; 60]).unwrap();
    (continuous, discrete)
}

/// The fit's outcome as bits (or the error's text), to compare two runs exactly.
fn outcome(frame: &DataFrame, model: Model, options: &FitOptions) -> String {
    match fit(frame, model, options) {
        Ok(f) => format!(
            "{:?} {:?} {} {}",
            f.params
                .values()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            f.std_errors
                .values()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            f.log_likelihood.to_bits(),
            f.iterations
        ),
        Err(e) => e.to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    #[test]
    fn fits_repeat_to_the_bit(seed in any::<u64>()) {
        // Pareto/NBD is checked on the CDNOW data (`fits_are_deterministic` in tests/clv.rs): on some random samples its
        // optimizer wanders where the likelihood's series are long, which takes minutes.
        let (continuous, discrete) = simulated(seed);
        let options = FitOptions::default();
        for model in [Model::BetaGeo, Model::ModifiedBetaGeo, Model::GammaGamma] {
            prop_assert_eq!(outcome(&continuous, model, &options), outcome(&continuous, model, &options));
        }
        let bb = Model::BetaGeoBetaBinom;
        prop_assert_eq!(outcome(&discrete, bb, &options), outcome(&discrete, bb, &options));
    }
}

/// Central differences of the log-likelihood against its exact (dual-number) gradient, at
/// published or typical estimates.
fn assert_gradient<const N: usize>(params: [f64; N], ll: impl Fn(&[Dual<N>; N]) -> Dual<N>) {
    let exact = ll(&std::array::from_fn(|i| Dual::variable(params[i], i)));
    for i in 0..N {
        let h = 1e-6 * params[i];
        let at = |delta: f64| {
            let p: [Dual<N>; N] = std::array::from_fn(|j| {
                Dual::constant(params[j] + if j == i { delta } else { 0.0 })
            });
            ll(&p).v
        };
        let numeric = (at(h) - at(-h)) / (2.0 * h);
        let scale = exact.d[i].abs().max(1.0);
        assert!(
            (numeric - exact.d[i]).abs() < 1e-5 * scale,
            "param {i}: {numeric} vs {}",
            exact.d[i]
        );
    }
}

#[test]
fn gradients_match_finite_differences() {
    let x = [0.0, 1.0, 2.0, 7.0, 200.0, 3000.0];
    let tx = [0.0, 3.5, 30.43, 36.0, 38.0, 39.0];
    let t = [38.86, 38.0, 38.86, 39.0, 40.0, 39.5];
    let patterns = Patterns::from_rows(&x, &tx, &t, &[1.0, 2.0, 1.0, 1.0, 1.0, 1.0]);
    assert_gradient([0.243, 4.414, 0.793, 2.426], |p| {
        bgnbd::log_likelihood(p, &patterns, bgnbd::Variant::BetaGeo)
    });
    assert_gradient([0.525, 6.183, 0.891, 1.614], |p| {
        bgnbd::log_likelihood(p, &patterns, bgnbd::Variant::Modified)
    });
    // Both branches of the Pareto/NBD hypergeometric term (alpha < beta and alpha > beta).
    assert_gradient([0.553, 10.578, 0.606, 11.669], |p| {
        paretonbd::log_likelihood(p, &patterns)
    });
    assert_gradient([0.553, 14.0, 0.606, 3.0], |p| {
        paretonbd::log_likelihood(p, &patterns)
    });
    let discrete = Patterns::from_rows(
        &[0.0, 1.0, 3.0, 6.0],
        &[0.0, 2.0, 5.0, 6.0],
        &[6.0; 4],
        &[3.0, 1.0, 2.0, 5.0],
    );
    assert_gradient([1.204, 0.750, 0.657, 2.783], |p| {
        bgbb::log_likelihood(p, &discrete)
    });
    let spend = gammagamma::SpendPatterns::new(
        vec![1.0, 2.0, 10.0],
        vec![20.0, 35.5, 12.0],
        vec![1.0, 3.0, 1.0],
    );
    assert_gradient([6.25, 3.74, 15.44], |p| {
        gammagamma::log_likelihood(p, &spend)
    });
    assert_gradient([0.704, 1.182], |p| {
        sbg::log_likelihood(p, &[1000.0, 631.0, 468.0, 382.0])
    });
}
