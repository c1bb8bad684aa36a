//! The BG/BB model for discrete transaction opportunities (Fader, Hardie & Shang 2010): while
//! alive a customer transacts at each opportunity with probability p ~ Beta(α, β), and drops
//! out before each following opportunity with probability θ ~ Beta(γ, δ).
//!
//! Parameters in order: alpha, beta, gamma, delta. Data: x transactions, the last at
//! opportunity t_x, out of n opportunities.
//!
//! Predictions: P(alive), expected transactions in the next n* opportunities, the probability
//! of exactly x* of them, and the discounted expected residual transactions (DERT) that CLV
//! multiplies by the expected spend. All of them divide a posterior integral over (p, θ) by
//! the customer's likelihood, and all are computed in log space.

use super::data::{block_sum, Patterns};
use super::dual::Dual;
use super::special::{hyp2f1, ln_beta, ln_gamma};

fn customer<const N: usize>(params: &[Dual<N>], x: f64, recency: f64, n: f64) -> Dual<N> {
    let (a, b, g, d) = (params[0], params[1], params[2], params[3]);
    let base = Dual::ln_beta(a, b) + Dual::ln_beta(g, d);
    let mut total = Dual::ln_beta(a + x, b + (n - x)) + Dual::ln_beta(g, d + n) - base;
    let gaps = (n - recency).max(0.0) as usize;
    for i in 0..gaps {
        if i % 1024 == 1023 && crate::interrupt::requested() {
            break;
        }
        let i = i as f64;
        let term = Dual::ln_beta(a + x, b + (recency - x + i))
            + Dual::ln_beta(g + 1.0, d + (recency + i))
            - base;
        total = Dual::log_add_exp(total, term);
    }
    total
}

/// The log-likelihood summed over the (x, t_x, n) patterns (weighted).
pub(crate) fn log_likelihood<const N: usize>(
    params: &[Dual<N>; N],
    patterns: &Patterns,
) -> Dual<N> {
    block_sum(patterns.len(), |i| {
        customer(params, patterns.x[i], patterns.recency[i], patterns.age[i]) * patterns.weight[i]
    })
}

/// The model's parameters as plain numbers.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Transaction beta shape α.
    pub alpha: f64,
    /// Transaction beta shape β.
    pub beta: f64,
    /// Drop-out beta shape γ.
    pub gamma: f64,
    /// Drop-out beta shape δ.
    pub delta: f64,
}

impl Params {
    fn log_likelihood(&self, x: f64, recency: f64, n: f64) -> f64 {
        let p = [
            Dual::<0>::constant(self.alpha),
            Dual::constant(self.beta),
            Dual::constant(self.gamma),
            Dual::constant(self.delta),
        ];
        customer(&p, x, recency, n).v
    }

    /// P(alive at opportunity n + 1 | x, t_x, n).
    pub fn p_alive(&self, x: f64, recency: f64, n: f64) -> f64 {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        let alive = ln_beta(alpha + x, beta + n - x) - ln_beta(alpha, beta)
            + ln_beta(gamma, delta + n + 1.0)
            - ln_beta(gamma, delta);
        (alive - self.log_likelihood(x, recency, n)).exp().min(1.0)
    }

    /// Expected transactions in the next `future` opportunities (Fader, Hardie & Shang 2010,
    /// eq. 13).
    pub fn conditional_expected(&self, future: f64, x: f64, recency: f64, n: f64) -> f64 {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        // delta / (gamma - 1) x [G(1+d+n)/G(g+d+n) - G(1+d+n+n*)/G(g+d+n+n*)] has a removable
        // singularity at gamma = 1: the bracket over (gamma - 1) is computed stably there.
        let lead = ln_beta(alpha + x + 1.0, beta + n - x)
            - ln_beta(alpha, beta)
            - self.log_likelihood(x, recency, n)
            + ln_gamma(gamma + delta)
            - ln_gamma(1.0 + delta);
        let a = 1.0 + delta + n;
        delta * lead.exp() * gamma_ratio_gap(gamma - 1.0, a, future)
    }

    /// P(exactly `count` transactions in the next `future` opportunities | x, t_x, n).
    ///
    /// Given (p, θ) and a customer alive through opportunity n, the customer stays alive
    /// through all `future` opportunities with probability (1-θ)^n* and otherwise drops out
    /// after j of them with probability θ (1-θ)^j; the transactions are binomial(j, p). With
    /// the posterior of (p, θ) (Fader, Hardie & Shang 2010, the conditional distribution of
    /// future transactions):
    ///
    /// ```text
    /// P(x*) = [x* = 0] (1 - P(alive through n))
    ///       + C(n*, x*) B(α+x+x*, β+n-x+n*-x*) B(γ, δ+n+n*) / (B(α,β) B(γ,δ) L)
    ///       + Σ_{j=x*}^{n*-1} C(j, x*) B(α+x+x*, β+n-x+j-x*) B(γ+1, δ+n+j) / (B(α,β) B(γ,δ) L)
    /// ```
    pub fn conditional_probability(
        &self,
        count: u32,
        future: u32,
        x: f64,
        recency: f64,
        n: f64,
    ) -> f64 {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        let base =
            ln_beta(alpha, beta) + ln_beta(gamma, delta) + self.log_likelihood(x, recency, n);
        let alive_through_n =
            (ln_beta(alpha + x, beta + n - x) + ln_beta(gamma, delta + n) - base).exp();
        let mut total = if count == 0 {
            (1.0 - alive_through_n).max(0.0)
        } else {
            0.0
        };
        if count > future {
            return total;
        }
        let k = count as f64;
        let ln_choose = |j: f64| ln_gamma(j + 1.0) - ln_gamma(k + 1.0) - ln_gamma(j - k + 1.0);
        let stays = future as f64;
        total += (ln_choose(stays)
            + ln_beta(alpha + x + k, beta + n - x + stays - k)
            + ln_beta(gamma, delta + n + stays)
            - base)
            .exp();
        for j in count..future {
            if j % 1024 == 1023 && crate::interrupt::requested() {
                break;
            }
            let j = j as f64;
            total += (ln_choose(j)
                + ln_beta(alpha + x + k, beta + n - x + j - k)
                + ln_beta(gamma + 1.0, delta + n + j)
                - base)
                .exp();
        }
        total.min(1.0)
    }

    /// Discounted expected residual transactions at a discount rate `d` per opportunity:
    /// `Σ_{k>=1} E[transaction at opportunity n+k] / (1+d)^k` (Fader, Hardie & Shang 2010).
    ///
    /// Given (p, θ) and alive through n the sum is p (1-θ)/(d+θ); over the posterior it is
    ///
    /// ```text
    /// B(α+x+1, β+n-x) B(γ, δ+n+1) / (B(α,β) B(γ,δ) L) / (1+d) · 2F1(1, δ+n+1; γ+δ+n+1; 1/(1+d))
    /// ```
    ///
    /// `d` must be > 0 (NaN otherwise, or when the series needs more than its term budget,
    /// which happens below d ≈ 2e-4: the terms fall like (1+d)^-k).
    pub fn discounted_expected(&self, discount_rate: f64, x: f64, recency: f64, n: f64) -> f64 {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        if !(discount_rate > 0.0 && discount_rate.is_finite()) {
            return f64::NAN;
        }
        let z = 1.0 / (1.0 + discount_rate);
        let lead = ln_beta(alpha + x + 1.0, beta + n - x) - ln_beta(alpha, beta)
            + ln_beta(gamma, delta + n + 1.0)
            - ln_beta(gamma, delta)
            - self.log_likelihood(x, recency, n);
        match hyp2f1(1.0, delta + n + 1.0, gamma + delta + n + 1.0, z) {
            Some(series) => lead.exp() * z * series,
            None => f64::NAN,
        }
    }

    /// Expected transactions in the first `n` opportunities of a new customer.
    pub fn expected_new(&self, n: f64) -> f64 {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        // 1 - ratio = G(g+d)/G(1+d) x [G(1+d)/G(g+d) - G(1+d+n)/G(g+d+n)]: stable at gamma = 1.
        let c = 1.0 + delta;
        let lead = (ln_gamma(gamma + delta) - ln_gamma(c)).exp();
        alpha / (alpha + beta) * delta * lead * gamma_ratio_gap(gamma - 1.0, c, n)
    }
}

/// [G(a)/G(a+e) - G(b)/G(b+e)] / e with b = a + m, also near and at e = 0 (gamma = 1 in the
/// BG/BB formulas), where it tends to psi(b) - psi(a). When m is a whole number (opportunities),
/// G(b)/G(b+e) is G(a)/G(a+e) times the product of (a+k)/(a+k+e) over k < m, so the gap is
/// G(a)/G(a+e) x (1 - product) / e with the product's complement taken through ln_1p and exp_m1:
/// no digits lost however small e is. `m` is given, not found as b - a: 14.2 - 6.2 is not 8 in
/// floating point. Otherwise the ratios are subtracted directly.
fn gamma_ratio_gap(e: f64, a: f64, m: f64) -> f64 {
    let b = a + m;
    if m.fract() == 0.0 && (0.0..=1e6).contains(&m) {
        let terms = (0..m as u64).map(|k| a + k as f64);
        if e == 0.0 {
            return terms.map(|t| 1.0 / t).sum();
        }
        let log_product: f64 = terms.map(|t| (e / t).ln_1p()).sum();
        let head = (ln_gamma(a) - ln_gamma(a + e)).exp();
        return head * -(-log_product).exp_m1() / e;
    }
    if e == 0.0 {
        return super::special::digamma(b) - super::special::digamma(a);
    }
    ((ln_gamma(a) - ln_gamma(a + e)).exp() - (ln_gamma(b) - ln_gamma(b + e)).exp()) / e
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::ln_gamma;

    #[test]
    fn the_gamma_ratio_gap_is_continuous_through_zero() {
        // At e = 0 the gap is psi(7.5) - psi(3.5) = 1/3.5 + 1/4.5 + 1/5.5 + 1/6.5. Near 0 it
        // moves by about e x (psi(a)^2 - psi'(a) - psi(b)^2 + psi'(b)) / 2.
        let (a, b) = (3.5, 7.5);
        let exact = 1.0 / 3.5 + 1.0 / 4.5 + 1.0 / 5.5 + 1.0 / 6.5;
        assert!((super::gamma_ratio_gap(0.0, a, b - a) - exact).abs() < 1e-15);
        let (pa, pb) = (1.103_156_640_645_244, 1.946_757_484_246_088); // psi(3.5), psi(7.5)
        let (ta, tb) = (0.330_357_756_100_234_6, 0.142_615_896_696_703_5); // psi'(3.5), psi'(7.5)
        let slope = (pa * pa - ta - pb * pb + tb) / 2.0;
        for e in [1e-12_f64, 1e-9, 1e-6, -1e-6, 1e-4] {
            let gap = super::gamma_ratio_gap(e, a, b - a);
            let linear = exact + slope * e;
            assert!(
                (gap - linear).abs() < 10.0 * e * e + 1e-15,
                "{e}: {gap} vs {linear}"
            );
        }
        // A new customer's expectation at gamma = 1 lies between its values either side.
        let at = |gamma: f64| {
            Params {
                alpha: 1.2,
                beta: 0.8,
                gamma,
                delta: 1.5,
            }
            .expected_new(6.0)
        };
        let (below, one, above) = (at(1.0 - 1e-7), at(1.0), at(1.0 + 1e-7));
        assert!(
            one.is_finite() && below.min(above) - 1e-9 <= one && one <= below.max(above) + 1e-9
        );
        // Far from 0 the product form agrees with the ratios subtracted directly.
        let e = 0.5;
        let direct =
            ((ln_gamma(a) - ln_gamma(a + e)).exp() - (ln_gamma(b) - ln_gamma(b + e)).exp()) / e;
        assert!((super::gamma_ratio_gap(e, a, b - a) - direct).abs() < 1e-13);
        // a = 1 + delta + n = 6.2 and 8 opportunities: 14.2 - 6.2 is not 8 in floating point,
        // so the count is passed as such and the product form holds the digits near 0 (the
        // ratios subtracted directly would lose about 1e-16 / e).
        let (a, m) = (6.2, 8.0);
        let at_zero = super::gamma_ratio_gap(0.0, a, m);
        for e in [1e-9_f64, -1e-9, 1e-7] {
            let gap = super::gamma_ratio_gap(e, a, m);
            assert!(
                (gap - at_zero).abs() < 2.0 * e.abs(),
                "{e}: {gap} vs {at_zero}"
            );
        }
    }

    use super::*;

    fn donations() -> Params {
        Params {
            alpha: 1.204,
            beta: 0.750,
            gamma: 0.657,
            delta: 2.783,
        }
    }

    #[test]
    fn probabilities_sum_to_one_and_match_the_mean() {
        let p = donations();
        for (x, tx, n) in [
            (0.0, 0.0, 6.0),
            (3.0, 5.0, 6.0),
            (6.0, 6.0, 6.0),
            (1.0, 1.0, 6.0),
        ] {
            for future in [0u32, 1, 5, 10] {
                let probs: Vec<f64> = (0..=future + 2)
                    .map(|k| p.conditional_probability(k, future, x, tx, n))
                    .collect();
                let total: f64 = probs.iter().sum();
                let mean: f64 = probs.iter().enumerate().map(|(k, q)| k as f64 * q).sum();
                let expected = p.conditional_expected(future as f64, x, tx, n);
                assert!((total - 1.0).abs() < 1e-12, "{x} {tx} {future}: {total}");
                assert!((mean - expected).abs() < 1e-10, "{mean} vs {expected}");
            }
        }
    }

    #[test]
    fn dert_at_the_smallest_accepted_rate_is_finite() {
        // At d = 0.001 the series takes tens of thousands of terms and must still settle; a
        // lower rate weighs the future more, so DERT rises.
        let dert = donations().discounted_expected(1e-3, 3.0, 5.0, 6.0);
        let slower = donations().discounted_expected(1e-2, 3.0, 5.0, 6.0);
        assert!(dert.is_finite() && dert > slower, "{dert} {slower}");
    }

    #[test]
    fn dert_equals_the_discounted_sum_of_increments() {
        // Σ_k [E(k) - E(k-1)] / (1+d)^k from the expected-transactions formula (eq. 13).
        let p = donations();
        for (x, tx, n) in [(0.0, 0.0, 6.0), (3.0, 5.0, 6.0), (6.0, 6.0, 6.0)] {
            for d in [0.05, 0.1, 0.5] {
                let mut previous = 0.0;
                let mut sum = 0.0;
                for k in 1..=4000 {
                    let now = p.conditional_expected(k as f64, x, tx, n);
                    sum += (now - previous) / (1.0f64 + d).powi(k);
                    previous = now;
                }
                let dert = p.discounted_expected(d, x, tx, n);
                assert!(
                    (dert - sum).abs() < 1e-9 * sum,
                    "{x} {tx} {d}: {dert} vs {sum}"
                );
            }
        }
    }
}
