//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV"):
//! each purchase value is Gamma(p, ν) with ν ~ Gamma(q, γ) across customers, independent of
//! the purchase process. Fitted on repeat buyers (x > 0) from x and the mean repeat value m̄.
//!
//! Parameters in order: p, q, gamma.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use super::data::block_sum;
use super::dual::Dual;

/// Unique (x, m̄) pairs with weights.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpendPatterns {
    /// Repeat purchases.
    pub x: Vec<f64>,
    /// Mean value of the repeat purchases.
    pub mean_value: Vec<f64>,
    /// Customers with the pair.
    pub weight: Vec<f64>,
    /// The distinct values of x.
    pub distinct_x: Vec<f64>,
    /// Index of each row's x in `distinct_x`.
    pub x_index: Vec<u32>,
    /// ln of each mean value, computed once rather than at every likelihood evaluation.
    pub log_mean_value: Vec<f64>,
}

impl SpendPatterns {
    /// Customers with x > 0 repeat purchases, mean repeat value and weight.
    pub fn new(x: Vec<f64>, mean_value: Vec<f64>, weight: Vec<f64>) -> SpendPatterns {
        let mut distinct_x: Vec<f64> = Vec::new();
        let mut x_index: Vec<u32> = Vec::with_capacity(x.len());
        let mut seen: HashMap<u64, u32, FixedState> =
            HashMap::with_hasher(FixedState::with_seed(5));
        for &v in &x {
            let next = distinct_x.len() as u32;
            x_index.push(*seen.entry(v.to_bits()).or_insert_with(|| {
                distinct_x.push(v);
                next
            }));
        }
        let log_mean_value = mean_value.iter().map(|m| m.ln()).collect();
        SpendPatterns {
            x,
            log_mean_value,
            mean_value,
            weight,
            distinct_x,
            x_index,
        }
    }
}

/// The log-likelihood of the mean values given x, summed (weighted):
/// `ln Γ(px+q) - ln Γ(px) - ln Γ(q) + q ln γ + (px-1) ln m̄ + px ln x - (px+q) ln(γ + m̄x)`.
#[cfg(test)]
pub(crate) fn log_likelihood<const N: usize>(
    params: &[Dual<N>; N],
    data: &SpendPatterns,
) -> Dual<N> {
    let (p, q, gamma) = (params[0], params[1], params[2]);
    let fixed = gamma.ln() * q - q.ln_gamma();
    // The gamma functions depend on x only: once per distinct x (x is a small count).
    let (distinct, index) = (&data.distinct_x, &data.x_index);
    let by_x: Vec<Dual<N>> = distinct
        .iter()
        .map(|&x| {
            let px = p * x;
            (px + q).ln_gamma() - px.ln_gamma() + px * x.ln() + fixed
        })
        .collect();
    block_sum(data.x.len(), |i| {
        let x = data.x[i];
        let m = data.mean_value[i];
        let k = index[i] as usize;
        let px = p * x;
        let ll = by_x[k] + (px - 1.0) * m.ln() - (px + q) * (gamma + m * x).ln();
        ll * data.weight[i]
    })
}

/// The same log-likelihood and its gradient with respect to (p, q, gamma), with plain floats
/// per customer and the gamma functions from a small dual table per distinct x; the tests check
/// that it agrees with [`log_likelihood`].
pub(crate) fn log_likelihood_fast(params: [f64; 3], data: &SpendPatterns) -> Dual<3> {
    let duals: [Dual<3>; 3] = std::array::from_fn(|i| Dual::variable(params[i], i));
    let (p, q, gamma) = (duals[0], duals[1], duals[2]);
    let fixed = gamma.ln() * q - q.ln_gamma();
    let (distinct, index) = (&data.distinct_x, &data.x_index);
    let by_x: Vec<Dual<3>> = distinct
        .iter()
        .map(|&x| {
            let px = p * x;
            (px + q).ln_gamma() - px.ln_gamma() + px * x.ln() + fixed
        })
        .collect();
    let [p_v, q_v, gamma_v] = params;
    block_sum(data.x.len(), |i| {
        let x = data.x[i];
        let m = data.mean_value[i];
        let lead = by_x[index[i] as usize];
        let (log_m, total) = (data.log_mean_value[i], gamma_v + m * x);
        let log_total = total.ln();
        let px = p_v * x;
        let v = lead.v + (px - 1.0) * log_m - (px + q_v) * log_total;
        let d = [
            lead.d[0] + x * (log_m - log_total),
            lead.d[1] - log_total,
            lead.d[2] - (px + q_v) / total,
        ];
        Dual { v, d } * data.weight[i]
    })
}

/// The model's parameters as plain numbers.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Shape of each purchase value.
    pub p: f64,
    /// Shape of the customers' scale distribution.
    pub q: f64,
    /// Scale of the customers' scale distribution.
    pub gamma: f64,
}

impl Params {
    /// E[mean purchase value | x, m̄] = p (γ + m̄ x) / (p x + q - 1): a weighted mean of the
    /// population mean p γ / (q - 1) and the customer's own m̄, with weight p x / (p x + q - 1)
    /// on m̄. For x = 0 (or m̄ missing) the population mean. NaN (a null prediction) only where
    /// the posterior mean is infinite: p x + q <= 1, which for q <= 1 includes every customer
    /// without a known repeat value (the population mean is infinite) but no repeat buyer with
    /// p x > 1 - q.
    pub fn conditional_expected_spend(&self, x: f64, mean_value: Option<f64>) -> f64 {
        let Params { p, q, gamma } = *self;
        let (x, m) = match mean_value {
            Some(m) if x > 0.0 => (x, m),
            _ => (0.0, 0.0),
        };
        let denominator = p * x + (q - 1.0);
        if denominator <= 0.0 {
            return f64::NAN;
        }
        p * (gamma + m * x) / denominator
    }
}

impl SpendPatterns {
    /// Every `step`-th row (a systematic subsample for a warm start).
    pub fn every(&self, step: usize) -> SpendPatterns {
        fn pick<T: Copy>(v: &[T], step: usize) -> Vec<T> {
            v.iter().step_by(step.max(1)).copied().collect()
        }
        SpendPatterns {
            x: pick(&self.x, step),
            mean_value: pick(&self.mean_value, step),
            weight: pick(&self.weight, step),
            distinct_x: self.distinct_x.clone(),
            x_index: pick(&self.x_index, step),
            log_mean_value: pick(&self.log_mean_value, step),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_equals_the_dual_likelihood() {
        let data = SpendPatterns::new(
            vec![1.0, 2.0, 10.0, 2.0],
            vec![20.0, 35.5, 12.0, 7.25],
            vec![1.0, 3.0, 1.0, 2.0],
        );
        let params = [6.25, 3.74, 15.44];
        let duals: [Dual<3>; 3] = std::array::from_fn(|i| Dual::variable(params[i], i));
        let slow = log_likelihood(&duals, &data);
        let fast = log_likelihood_fast(params, &data);
        assert!((slow.v - fast.v).abs() < 1e-10 * slow.v.abs());
        for k in 0..3 {
            assert!((slow.d[k] - fast.d[k]).abs() < 1e-9 * slow.d[k].abs().max(1.0));
        }
    }

    #[test]
    fn posterior_means_exist_for_repeat_buyers_when_q_is_below_one() {
        let params = Params {
            p: 6.0,
            q: 0.8,
            gamma: 15.0,
        };
        // 6 (15 + 30 x 2) / (6 x 2 + 0.8 - 1) = 450 / 11.8
        let e = params.conditional_expected_spend(2.0, Some(30.0));
        assert!((e - 450.0 / 11.8).abs() < 1e-12, "{e}");
        // Without a repeat value the population mean is infinite.
        assert!(params.conditional_expected_spend(0.0, None).is_nan());
        assert!(params.conditional_expected_spend(3.0, None).is_nan());
        // q > 1: the population mean p γ / (q - 1).
        let regular = Params { q: 3.0, ..params };
        assert!((regular.conditional_expected_spend(0.0, Some(0.0)) - 45.0).abs() < 1e-12);
    }
}
