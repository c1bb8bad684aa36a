//! The BG/BB model for discrete transaction opportunities (Fader, Hardie & Shang 2010): while
//! alive a customer transacts at each opportunity with probability p ~ Beta(α, β), and drops
//! out before each following opportunity with probability θ ~ Beta(γ, δ).
//!
//! Parameters in order: alpha, beta, gamma, delta. Data: x transactions, the last at
//! opportunity t_x, out of n opportunities.

use super::data::{block_sum, Patterns};
use super::dual::Dual;
use super::special::{ln_beta, ln_gamma};

fn customer<const N: usize>(params: &[Dual<N>], x: f64, recency: f64, n: f64) -> Dual<N> {
    let (a, b, g, d) = (params[0], params[1], params[2], params[3]);
    let base = Dual::ln_beta(a, b) + Dual::ln_beta(g, d);
    let mut total = Dual::ln_beta(a + x, b + (n - x)) + Dual::ln_beta(g, d + n) - base;
    let gaps = (n - recency).max(0.0) as usize;
    for i in 0..gaps {
        let i = i as f64;
        let term = Dual::ln_beta(a + x, b + (recency - x + i))
            + Dual::ln_beta(g + 1.0, d + (recency + i))
            - base;
        total = Dual::log_add_exp(total, term);
    }
    total
}

/// The log-likelihood summed over the (x, t_x, n) patterns (weighted).
pub fn log_likelihood<const N: usize>(params: &[Dual<N>; N], patterns: &Patterns) -> Dual<N> {
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
        let lead = ln_beta(alpha + x + 1.0, beta + n - x)
            - ln_beta(alpha, beta)
            - self.log_likelihood(x, recency, n)
            + ln_gamma(gamma + delta)
            - ln_gamma(1.0 + delta);
        let now = ln_gamma(1.0 + delta + n) - ln_gamma(gamma + delta + n);
        let later = ln_gamma(1.0 + delta + n + future) - ln_gamma(gamma + delta + n + future);
        delta / (gamma - 1.0) * ((lead + now).exp() - (lead + later).exp())
    }

    /// Expected transactions in the first `n` opportunities of a new customer.
    pub fn expected_new(&self, n: f64) -> f64 {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        let ratio = (ln_gamma(gamma + delta) - ln_gamma(1.0 + delta) + ln_gamma(1.0 + delta + n)
            - ln_gamma(gamma + delta + n))
        .exp();
        alpha / (alpha + beta) * delta / (gamma - 1.0) * (1.0 - ratio)
    }
}
