//! The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987): purchases at Poisson rate
//! λ ~ Gamma(r, α) while alive; lifetimes exponential with rate μ ~ Gamma(s, β).
//!
//! Parameters in order: r, alpha, s, beta.
//!
//! The likelihood (Fader, Hardie & Lee 2005, "A note on deriving the Pareto/NBD model") is
//! `Γ(r+x) α^r β^s / Γ(r) [ (α+T)^-(r+x) (β+T)^-s + s/(r+s+x) A0 ]`, where A0 is a difference
//! of two terms `2F1(r+s+x, b; r+s+x+1; z(t)) / (max(α,β)+t)^(r+s+x)` at t = t_x and t = T.
//! Euler's transformation turns each into a power prefactor times `G = 2F1(1, b'; r+s+x+1; z)`,
//! `b' = r+x` when α >= β and `s+1` otherwise: a series whose terms fall at least as fast as
//! `z^n`, so x in the thousands cannot overflow it.

use super::data::{block_sum, Patterns};
use super::dual::Dual;

/// Terms of the G series before giving up (the optimizer then steps back): enough for
/// z = |α-β| / (max(α,β)+t) up to about 0.998.
const MAX_TERMS: usize = 20_000;

/// `ln[2F1(r+s+x, b; r+s+x+1; z) / (max(α,β)+t)^(r+s+x)]` of the module docs, through
/// Euler's transformation `2F1(k, b; k+1; z) = (1-z)^(1-b) 2F1(1, k+1-b; k+1; z)`:
/// `-(r+x) ln(α+t) - s ln(β+t) + ln G` when α >= β and
/// `(1-r-x) ln(α+t) - (s+1) ln(β+t) + ln G` otherwise. `None` when G does not settle.
fn log_term<const N: usize>(
    r: Dual<N>,
    alpha: Dual<N>,
    s: Dual<N>,
    beta: Dual<N>,
    x: f64,
    t: f64,
) -> Option<Dual<N>> {
    let rx = r + x;
    let (log_a, log_b) = ((alpha + t).ln(), (beta + t).ln());
    let (b, z, prefactor) = if alpha.v >= beta.v {
        (rx, (alpha - beta) / (alpha + t), -(rx * log_a) - s * log_b)
    } else {
        (
            s + 1.0,
            (beta - alpha) / (beta + t),
            (-rx + 1.0) * log_a - (s + 1.0) * log_b,
        )
    };
    if z.v == 0.0 {
        return Some(prefactor);
    }
    let c = r + s + (x + 1.0);
    let mut term = Dual::<N>::constant(1.0);
    let mut sum = term;
    for n in 0..MAX_TERMS {
        let k = n as f64;
        term = term * (b + k) / (c + k) * z;
        sum = sum + term;
        if term.v <= 1e-17 * sum.v {
            return Some(prefactor + sum.ln());
        }
    }
    None
}

/// ln of the likelihood of one customer (unweighted), and the part of it from "alive at T".
fn customer<const N: usize>(
    params: &[Dual<N>],
    x: f64,
    recency: f64,
    age: f64,
) -> Option<(Dual<N>, Dual<N>)> {
    let (r, alpha, s, beta) = (params[0], params[1], params[2], params[3]);
    let rx = r + x;
    let lead = rx.ln_gamma() - r.ln_gamma() + r * alpha.ln() + s * beta.ln();
    let at = |t: f64| -(rx * (alpha + t).ln()) - s * (beta + t).ln();
    let alive = at(age);
    let mut total = alive;
    if recency < age {
        let early = log_term(r, alpha, s, beta, x, recency)?;
        let late = log_term(r, alpha, s, beta, x, age)?;
        // The integral of the death density over (t_x, T] is positive; when rounding makes the
        // two terms equal its share is negligible next to `alive` (T - t_x is then tiny).
        if early.v > late.v {
            let died = s.ln() - (r + s + x).ln() + Dual::log_sub_exp(early, late);
            total = Dual::log_add_exp(alive, died);
        }
    }
    Some((lead + total, lead + alive))
}

/// The log-likelihood summed over the patterns (weighted); NaN when a series fails.
pub fn log_likelihood<const N: usize>(params: &[Dual<N>; N], patterns: &Patterns) -> Dual<N> {
    block_sum(patterns.len(), |i| {
        match customer(params, patterns.x[i], patterns.recency[i], patterns.age[i]) {
            Some((ll, _)) => ll * patterns.weight[i],
            None => Dual::constant(f64::NAN),
        }
    })
}

/// The model's parameters as plain numbers.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Shape of the purchase-rate gamma.
    pub r: f64,
    /// Scale of the purchase-rate gamma.
    pub alpha: f64,
    /// Shape of the drop-out-rate gamma.
    pub s: f64,
    /// Scale of the drop-out-rate gamma.
    pub beta: f64,
}

impl Params {
    /// P(alive at T | x, t_x, T).
    pub fn p_alive(&self, x: f64, recency: f64, age: f64) -> f64 {
        let params = [
            Dual::<0>::constant(self.r),
            Dual::constant(self.alpha),
            Dual::constant(self.s),
            Dual::constant(self.beta),
        ];
        match customer(&params, x, recency, age) {
            Some((total, alive)) => (alive.v - total.v).exp().min(1.0),
            None => f64::NAN,
        }
    }

    /// Expected purchases in the next `t` for a customer with history (x, t_x, T).
    pub fn conditional_expected(&self, t: f64, x: f64, recency: f64, age: f64) -> f64 {
        self.p_alive(x, recency, age) * self.expected_if_alive(t, x, age)
    }

    /// Expected purchases in the next `t` of a customer alive at T with x repeat purchases.
    pub fn expected_if_alive(&self, t: f64, x: f64, age: f64) -> f64 {
        let Params { r, alpha, s, beta } = *self;
        let horizon = beta + age;
        // (β+T) [1 - ((β+T)/(β+T+t))^(s-1)] / (s-1), with its limit at s = 1.
        let log_growth = (t / horizon).ln_1p();
        let exposure = if (s - 1.0).abs() < 1e-10 {
            horizon * log_growth
        } else {
            horizon * -(-(s - 1.0) * log_growth).exp_m1() / (s - 1.0)
        };
        (r + x) / (alpha + age) * exposure
    }

    /// Expected purchases in (0, t] of a new customer.
    pub fn expected_new(&self, t: f64) -> f64 {
        self.conditional_expected(t, 0.0, 0.0, 0.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn equal_rates_reduce_to_a_closed_form() {
        // With α = β, A0 = [(α+t_x)^-(r+s+x) - (α+T)^-(r+s+x)] / 1.
        let (r, a, s, x, tx, t) = (0.5, 10.0, 0.7, 3.0, 20.0, 35.0);
        let p4 = [
            Dual::<4>::constant(r),
            Dual::constant(a),
            Dual::constant(s),
            Dual::constant(a),
        ];
        let (ll, _) = customer(&p4, x, tx, t).unwrap();
        let k = r + s + x;
        let lead = libm::lgamma(r + x) - libm::lgamma(r) + r * a.ln() + s * a.ln();
        let exact = lead
            + ((a + t).powf(-(r + x)) * (a + t).powf(-s)
                + s / k * ((a + tx).powf(-k) - (a + t).powf(-k)))
            .ln();
        assert!((ll.v - exact).abs() < 1e-12);
    }

    #[test]
    fn both_branches_agree_with_quadrature() {
        // s ∫ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ over (t_x, T] by composite Simpson.
        let (r, s, x, tx, t) = (0.553, 0.606, 4.0, 12.0, 39.0);
        for (alpha, beta) in [(10.578, 11.669), (14.0, 3.0), (2.0, 400.0)] {
            let steps = 20_000;
            let h = (t - tx) / steps as f64;
            let f = |tau: f64| s * (alpha + tau).powf(-(r + x)) * (beta + tau).powf(-(s + 1.0));
            let mut integral = f(tx) + f(t);
            for i in 1..steps {
                integral += f(tx + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
            }
            integral *= h / 3.0;
            let d = |v: f64| Dual::<0>::constant(v);
            let k = r + s + x;
            let early = log_term(d(r), d(alpha), d(s), d(beta), x, tx).unwrap().v;
            let late = log_term(d(r), d(alpha), d(s), d(beta), x, t).unwrap().v;
            let series = s / k * (early.exp() - late.exp());
            assert!(
                (series / integral - 1.0).abs() < 1e-9,
                "{alpha} {beta}: {series} {integral}"
            );
        }
    }

    #[test]
    fn extreme_customers_stay_finite() {
        let p = Params {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        };
        for (x, tx, t) in [(200.0, 38.0, 40.0), (5000.0, 39.0, 39.5), (0.0, 0.0, 80.0)] {
            let alive = p.p_alive(x, tx, t);
            assert!((0.0..=1.0).contains(&alive), "{alive}");
            assert!(p.conditional_expected(39.0, x, tx, t).is_finite());
        }
    }
}
