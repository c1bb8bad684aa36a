//! The shifted-beta-geometric model of contractual retention (Fader & Hardie 2007, "How to
//! project customer retention"): each customer renews each period with probability 1 - θ,
//! θ ~ Beta(α, β) across customers.
//!
//! Parameters in order: alpha, beta. The data are the numbers still active at the start of each
//! period: `alive[0]` is the cohort size, `alive[t]` the number left after t renewals.

use super::dual::Dual;
use super::special::ln_beta;

/// The log-likelihood: `Σ_t lost_t ln P(T = t) + alive_last ln S(last)` with
/// `P(T = t) = B(α+1, β+t-1)/B(α, β)` and `S(t) = B(α, β+t)/B(α, β)`.
pub(crate) fn log_likelihood<const N: usize>(params: &[Dual<N>; N], alive: &[f64]) -> Dual<N> {
    let (a, b) = (params[0], params[1]);
    let base = Dual::ln_beta(a, b);
    let mut ll = Dual::constant(0.0);
    for t in 1..alive.len() {
        let lost = alive[t - 1] - alive[t];
        if lost > 0.0 {
            ll = ll + (Dual::ln_beta(a + 1.0, b + (t as f64 - 1.0)) - base) * lost;
        }
    }
    if let Some(&last) = alive.last() {
        let periods = (alive.len() - 1) as f64;
        if last > 0.0 && periods > 0.0 {
            ll = ll + (Dual::ln_beta(a, b + periods) - base) * last;
        }
    }
    ll
}

/// The model's parameters as plain numbers.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Beta shape α of the churn probability.
    pub alpha: f64,
    /// Beta shape β of the churn probability.
    pub beta: f64,
}

impl Params {
    /// Share of a cohort still active after `t` periods: B(α, β+t) / B(α, β).
    pub fn survival(&self, t: f64) -> f64 {
        (ln_beta(self.alpha, self.beta + t) - ln_beta(self.alpha, self.beta)).exp()
    }

    /// Retention rate from period t-1 to t: (β + t - 1) / (α + β + t - 1), for t >= 1.
    pub fn retention_rate(&self, t: f64) -> f64 {
        (self.beta + t - 1.0) / (self.alpha + self.beta + t - 1.0)
    }
}
