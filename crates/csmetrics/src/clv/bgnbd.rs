//! The BG/NBD model (Fader, Hardie & Lee 2005) and its variant MBG/NBD (Batislam, Denizel &
//! Filiztekin 2007): purchases at Poisson rate λ ~ Gamma(r, α) while alive; after each repeat
//! purchase (BG/NBD), or after every purchase including the first (MBG/NBD), the customer drops
//! out with probability p ~ Beta(a, b).
//!
//! Parameters in order: r, alpha, a, b.

use super::data::{block_sum, Patterns};
use super::dual::Dual;
use super::special::{hyp2f1, ln_beta, ln_gamma};

/// Which of the two models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// BG/NBD: no drop-out at the first purchase.
    BetaGeo,
    /// MBG/NBD: drop-out possible after every purchase, the first included.
    Modified,
}

/// The log-likelihood summed over the patterns (weighted).
#[cfg(test)]
pub(crate) fn log_likelihood<const N: usize>(
    params: &[Dual<N>; N],
    patterns: &Patterns,
    variant: Variant,
) -> Dual<N> {
    let (r, alpha, a, b) = (params[0], params[1], params[2], params[3]);
    let beta_ab = Dual::ln_beta(a, b);
    let common = r * alpha.ln() - r.ln_gamma() - beta_ab;
    // Terms that depend on x only, once per distinct x.
    let table: Vec<(Dual<N>, Dual<N>, Option<Dual<N>>)> = patterns
        .distinct_x
        .iter()
        .map(|&x| {
            let lead = (r + x).ln_gamma() + common;
            let (alive, dead) = match variant {
                Variant::BetaGeo => (
                    Dual::ln_beta(a, b + x),
                    (x > 0.0).then(|| Dual::ln_beta(a + 1.0, b + (x - 1.0))),
                ),
                Variant::Modified => (
                    Dual::ln_beta(a, b + (x + 1.0)),
                    Some(Dual::ln_beta(a + 1.0, b + x)),
                ),
            };
            (lead, alive, dead)
        })
        .collect();
    let log_times: Vec<Dual<N>> = patterns
        .distinct_times
        .iter()
        .map(|&t| (alpha + t).ln())
        .collect();
    block_sum(patterns.len(), |i| {
        let x = patterns.x[i];
        let (lead, alive, dead) = table[patterns.x_index[i] as usize];
        let rx = r + x;
        let alive_term = alive - rx * log_times[patterns.age_index[i] as usize];
        let ll = match dead {
            Some(dead) => Dual::log_add_exp(
                alive_term,
                dead - rx * log_times[patterns.recency_index[i] as usize],
            ),
            None => alive_term,
        };
        (lead + ll) * patterns.weight[i]
    })
}

/// The same log-likelihood and its gradient with respect to (r, alpha, a, b), evaluated with
/// plain floats per pattern: the terms that depend on x or on a time alone come from small dual
/// tables, and per pattern the chain rule goes through the two-term log-sum-exp by hand. About
/// four times faster than [`log_likelihood`] over millions of patterns; the tests check that
/// both agree.
pub(crate) fn log_likelihood_fast(
    params: [f64; 4],
    patterns: &Patterns,
    variant: Variant,
) -> Dual<4> {
    let duals: [Dual<4>; 4] = std::array::from_fn(|i| Dual::variable(params[i], i));
    let (r, alpha, a, b) = (duals[0], duals[1], duals[2], duals[3]);
    let common = r * alpha.ln() - r.ln_gamma() - Dual::ln_beta(a, b);
    let table: Vec<(Dual<4>, Dual<4>, Option<Dual<4>>)> = patterns
        .distinct_x
        .iter()
        .map(|&x| {
            let lead = (r + x).ln_gamma() + common;
            match variant {
                Variant::BetaGeo => (
                    lead,
                    Dual::ln_beta(a, b + x),
                    (x > 0.0).then(|| Dual::ln_beta(a + 1.0, b + (x - 1.0))),
                ),
                Variant::Modified => (
                    lead,
                    Dual::ln_beta(a, b + (x + 1.0)),
                    Some(Dual::ln_beta(a + 1.0, b + x)),
                ),
            }
        })
        .collect();
    let alpha_v = params[1];
    let times: Vec<(f64, f64)> = patterns
        .distinct_times
        .iter()
        .map(|&t| ((alpha_v + t).ln(), 1.0 / (alpha_v + t)))
        .collect();
    let r_v = params[0];
    block_sum(patterns.len(), |i| {
        let x = patterns.x[i];
        let w = patterns.weight[i];
        let (lead, alive, dead) = &table[patterns.x_index[i] as usize];
        let rx = r_v + x;
        let (log_age, inv_age) = times[patterns.age_index[i] as usize];
        let alive_v = alive.v - rx * log_age;
        let mut out = Dual {
            v: lead.v,
            d: lead.d,
        };
        match dead {
            None => {
                out.v += alive_v;
                out.d[0] += alive.d[0] - log_age;
                out.d[1] -= rx * inv_age;
                out.d[2] += alive.d[2];
                out.d[3] += alive.d[3];
            }
            Some(dead) => {
                let (log_rec, inv_rec) = times[patterns.recency_index[i] as usize];
                let dead_v = dead.v - rx * log_rec;
                // log-sum-exp and the weights of its two terms
                let (hi, lo) = if alive_v >= dead_v {
                    (alive_v, dead_v)
                } else {
                    (dead_v, alive_v)
                };
                let e = (lo - hi).exp();
                // ln(1 + e) for e in (0, 1]: `ln` is several times faster than `ln_1p` in glibc
                // and its absolute error (what matters in a sum) is below 1.2e-16.
                out.v += hi + (1.0 + e).ln();
                let share_hi = 1.0 / (1.0 + e);
                let (pa, pd) = if alive_v >= dead_v {
                    (share_hi, 1.0 - share_hi)
                } else {
                    (1.0 - share_hi, share_hi)
                };
                out.d[0] += pa * (alive.d[0] - log_age) + pd * (dead.d[0] - log_rec);
                out.d[1] -= rx * (pa * inv_age + pd * inv_rec);
                out.d[2] += pa * alive.d[2] + pd * dead.d[2];
                out.d[3] += pa * alive.d[3] + pd * dead.d[3];
            }
        }
        out * w
    })
}

/// The model's parameters as plain numbers.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Shape of the purchase-rate gamma.
    pub r: f64,
    /// Scale of the purchase-rate gamma (in the data's time unit).
    pub alpha: f64,
    /// Drop-out beta shape a.
    pub a: f64,
    /// Drop-out beta shape b.
    pub b: f64,
    /// Which model.
    pub variant: Variant,
}

impl Params {
    /// ln of the ratio of the dead-at-t_x to the alive-through-T likelihood terms.
    fn log_odds_dead(&self, x: f64, recency: f64, age: f64) -> Option<f64> {
        let Params { r, alpha, a, b, .. } = *self;
        let ratio = match self.variant {
            Variant::BetaGeo if x == 0.0 => return None,
            Variant::BetaGeo => a.ln() - (b + x - 1.0).ln(),
            Variant::Modified => a.ln() - (b + x).ln(),
        };
        Some(ratio + (r + x) * ((alpha + age).ln() - (alpha + recency).ln()))
    }

    /// P(alive at T | x, t_x, T).
    pub fn p_alive(&self, x: f64, recency: f64, age: f64) -> f64 {
        match self.log_odds_dead(x, recency, age) {
            None => 1.0,
            // 1 / (1 + e^u), stable for large u
            Some(u) if u > 0.0 => (-u).exp() / (1.0 + (-u).exp()),
            Some(u) => 1.0 / (1.0 + u.exp()),
        }
    }

    /// Parameters of an alive customer at T, as a BG/NBD customer starting afresh.
    fn posterior(&self, x: f64, age: f64) -> (f64, f64, f64, f64) {
        let extra = match self.variant {
            Variant::BetaGeo => 0.0,
            Variant::Modified => 1.0,
        };
        (self.r + x, self.alpha + age, self.a, self.b + x + extra)
    }

    /// Expected purchases in the next `t` for a customer with history (x, t_x, T).
    pub fn conditional_expected(&self, t: f64, x: f64, recency: f64, age: f64) -> f64 {
        self.p_alive(x, recency, age) * self.expected_if_alive(t, x, age)
    }

    /// Expected purchases in the next `t` of a customer alive at T with x repeat purchases
    /// (it does not depend on t_x).
    pub fn expected_if_alive(&self, t: f64, x: f64, age: f64) -> f64 {
        let (r, alpha, a, b) = self.posterior(x, age);
        fresh_expected(r, alpha, a, b, t)
    }

    /// P(exactly `n` purchases in the next `t` | x, t_x, T).
    pub fn conditional_probability(&self, n: u32, t: f64, x: f64, recency: f64, age: f64) -> f64 {
        let alive = self.p_alive(x, recency, age);
        let (r, alpha, a, b) = self.posterior(x, age);
        let fresh = alive * fresh_probability(r, alpha, a, b, n, t);
        if n == 0 {
            fresh + (1.0 - alive)
        } else {
            fresh
        }
    }

    /// Expected purchases in (0, t] of a new customer (not counting the first purchase).
    pub fn expected_new(&self, t: f64) -> f64 {
        match self.variant {
            Variant::BetaGeo => fresh_expected(self.r, self.alpha, self.a, self.b, t),
            // The first purchase survives with probability b / (a + b), and p ~ Beta(a, b + 1).
            Variant::Modified => {
                self.b / (self.a + self.b)
                    * fresh_expected(self.r, self.alpha, self.a, self.b + 1.0, t)
            }
        }
    }
}

/// E[X(t)] of a BG/NBD customer alive at time 0 with parameters (r, alpha, a, b):
/// (a+b-1)/(a-1) [1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))], with Euler's transformation
/// written as 1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b-1; z), whose terms stay bounded for any r.
///
/// The closed form is 0/0 at a = 1 (a removable singularity) and loses digits to cancellation
/// near it, so within [`NEAR_ONE`] of 1 it is interpolated linearly between a = 1 ± NEAR_ONE
/// (curvature error about NEAR_ONE², cancellation about 1e-16 / NEAR_ONE). Where the series
/// cannot be summed quickly (a above [`LARGE_A`]: its terms grow like e^((a-1)z)), the
/// mean is integrated over the drop-out probability instead ([`expected_by_quadrature`]).
pub fn fresh_expected(r: f64, alpha: f64, a: f64, b: f64, t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    if (a - 1.0).abs() < NEAR_ONE {
        let below = closed_form_expected(r, alpha, 1.0 - NEAR_ONE, b, t);
        let above = closed_form_expected(r, alpha, 1.0 + NEAR_ONE, b, t);
        let share = (a - (1.0 - NEAR_ONE)) / (2.0 * NEAR_ONE);
        if let (Some(below), Some(above)) = (below, above) {
            return below + share * (above - below);
        }
    }
    if a > LARGE_A {
        return expected_by_quadrature(r, alpha, a, b, t);
    }
    closed_form_expected(r, alpha, a, b, t)
        .unwrap_or_else(|| expected_by_quadrature(r, alpha, a, b, t))
}

/// Above this a, [`fresh_expected`] integrates over p at once: the series would need of the
/// order of a terms.
const LARGE_A: f64 = 1000.0;

/// Half-width of the band around a = 1 where [`fresh_expected`] interpolates.
const NEAR_ONE: f64 = 1e-5;

/// The closed form of [`fresh_expected`]; `None` when its series does not settle or the result
/// is not finite.
fn closed_form_expected(r: f64, alpha: f64, a: f64, b: f64, t: f64) -> Option<f64> {
    let z = t / (alpha + t);
    let c = a + b - 1.0;
    let f = hyp2f1(c - r, a - 1.0, c, z)?;
    let tail = ((a - 1.0) * (alpha / (alpha + t)).ln()).exp() * f;
    let value = c / (a - 1.0) * (1.0 - tail);
    (value.is_finite() && value >= 0.0).then_some(value)
}

/// E[X(t)] as the mean over p ~ Beta(a, b) of the expected purchases of a customer with
/// drop-out probability p, averaged over λ ~ Gamma(r, α): (1 - (α/(α+pt))^r) / p. Used where
/// the series fails, that is for large a: the beta is then concentrated (its standard
/// deviation is below sqrt(1 / (a + b + 1)) / 2), and a 64-point Gauss-Legendre rule over 14
/// standard deviations either side of its mean (cut to (0, 1)), with weights normalised to
/// one, integrates the smooth integrand to about double precision.
fn expected_by_quadrature(r: f64, alpha: f64, a: f64, b: f64, t: f64) -> f64 {
    let mean = a / (a + b);
    let sd = (a * b / ((a + b) * (a + b) * (a + b + 1.0))).sqrt();
    let lo = (mean - 14.0 * sd).max(0.0);
    let hi = (mean + 14.0 * sd).min(1.0);
    let of_p = |p: f64| {
        // (1 - (1 + pt/α)^-r) / p, written to keep its digits for small p t / α.
        -(-r * (p * t / alpha).ln_1p()).exp_m1() / p
    };
    let log_density = |p: f64| (a - 1.0) * p.ln() + (b - 1.0) * (-p).ln_1p();
    let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let nodes: Vec<(f64, f64)> = quadrature_rule()
        .iter()
        .map(|(z, w)| (mid + half * z, *w))
        .collect();
    let top = nodes
        .iter()
        .map(|(p, _)| log_density(*p))
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut total, mut mass) = (0.0, 0.0);
    for (p, w) in nodes {
        let weight = w * (log_density(p) - top).exp();
        total += weight * of_p(p);
        mass += weight;
    }
    total / mass
}

/// The 64-point Gauss-Legendre rule, computed once.
fn quadrature_rule() -> &'static [(f64, f64)] {
    static RULE: std::sync::OnceLock<Vec<(f64, f64)>> = std::sync::OnceLock::new();
    RULE.get_or_init(|| super::special::gauss_legendre(64))
}

/// P(X(t) = n) of a BG/NBD customer alive at time 0 with parameters (r, alpha, a, b).
pub fn fresh_probability(r: f64, alpha: f64, a: f64, b: f64, n: u32, t: f64) -> f64 {
    let nf = n as f64;
    let log_p0 = r * (alpha / (alpha + t)).ln();
    let log_q = (t / (alpha + t)).ln();
    // Negative-binomial pmf of the purchases while alive.
    let nb =
        |j: f64| (ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0) + log_p0 + j * log_q).exp();
    let beta_ab = ln_beta(a, b);
    let mut p = (ln_beta(a, b + nf) - beta_ab).exp() * if t > 0.0 || n == 0 { nb(nf) } else { 0.0 };
    if n > 0 {
        let below: f64 = (0..n).map(|j| nb(j as f64)).sum();
        p += (ln_beta(a + 1.0, b + nf - 1.0) - beta_ab).exp() * (1.0 - below).max(0.0);
    }
    p
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn published() -> Params {
        Params {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
            variant: Variant::BetaGeo,
        }
    }

    #[test]
    fn pointwise_reference_values() {
        let p = published();
        assert!((p.p_alive(2.0, 30.43, 38.86) - 0.7266).abs() < 5e-4);
        assert!((p.conditional_expected(39.0, 2.0, 30.43, 38.86) - 1.226).abs() < 1e-3);
    }

    #[test]
    fn probabilities_sum_to_one_and_match_the_mean() {
        let p = published();
        let probs: Vec<f64> = (0..400)
            .map(|n| p.conditional_probability(n, 39.0, 2.0, 30.43, 38.86))
            .collect();
        let total: f64 = probs.iter().sum();
        let mean: f64 = probs.iter().enumerate().map(|(n, q)| n as f64 * q).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        assert!((mean - p.conditional_expected(39.0, 2.0, 30.43, 38.86)).abs() < 1e-6);
    }

    #[test]
    fn fast_path_equals_the_dual_likelihood() {
        let x = [0.0, 1.0, 2.0, 7.0, 200.0, 3000.0, 2.0];
        let tx = [0.0, 3.5, 30.43, 36.0, 38.0, 39.0, 30.43];
        let t = [38.86, 38.0, 38.86, 39.0, 40.0, 39.5, 38.86];
        let patterns = Patterns::from_rows(&x, &tx, &t, &[1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 3.0]);
        let params = [0.243, 4.414, 0.793, 2.426];
        for variant in [Variant::BetaGeo, Variant::Modified] {
            let duals: [Dual<4>; 4] = std::array::from_fn(|i| Dual::variable(params[i], i));
            let slow = log_likelihood(&duals, &patterns, variant);
            let fast = log_likelihood_fast(params, &patterns, variant);
            assert!((slow.v - fast.v).abs() < 1e-9 * slow.v.abs());
            for k in 0..4 {
                assert!((slow.d[k] - fast.d[k]).abs() < 1e-9 * slow.d[k].abs().max(1.0));
            }
        }
    }

    /// E[X(t)] by composite Simpson over p ~ Beta(a, b) of (1 - (α/(α+pt))^r) / p: an
    /// independent evaluation of the mean (for a >= 1 and b >= 1, where the density is smooth).
    fn simpson_expected(r: f64, alpha: f64, a: f64, b: f64, t: f64) -> f64 {
        let steps = 200_000;
        let h = 1.0 / steps as f64;
        let norm = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b);
        let density = |p: f64| {
            if p == 0.0 {
                return if a == 1.0 { norm.exp() } else { 0.0 };
            }
            if p == 1.0 {
                return if b == 1.0 { norm.exp() } else { 0.0 };
            }
            (norm + (a - 1.0) * p.ln() + (b - 1.0) * (-p).ln_1p()).exp()
        };
        let g = |p: f64| {
            if p == 0.0 {
                r * t / alpha
            } else {
                (1.0 - (alpha / (alpha + p * t)).powf(r)) / p
            }
        };
        let f = |p: f64| density(p) * g(p);
        let mut sum = f(0.0) + f(1.0);
        for i in 1..steps {
            sum += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        sum * h / 3.0
    }

    #[test]
    fn expected_purchases_at_a_equal_to_one() {
        // a = 1 is 0/0 in the closed form; the mean is smooth there.
        let (r, alpha, b, t) = (0.243, 4.414, 2.426, 39.0);
        let reference = simpson_expected(r, alpha, 1.0, b, t);
        for a in [1.0, 1.0 + 1e-12, 1.0 - 1e-12] {
            let e = fresh_expected(r, alpha, a, b, t);
            assert!(
                (e / reference - 1.0).abs() < 1e-8,
                "a = {a}: {e} vs {reference}"
            );
        }
        // Inside the band the mean moves smoothly with a (its derivative is of order 1).
        for a in [1.0 + 3e-6, 1.0 - 9e-6] {
            let e = fresh_expected(r, alpha, a, b, t);
            assert!(
                (e / reference - 1.0).abs() < 2e-5,
                "a = {a}: {e} vs {reference}"
            );
        }
        // Away from the band (where the density is smooth for Simpson's rule) the closed form
        // agrees with the same integral.
        let a = 1.5;
        let e = fresh_expected(r, alpha, a, b, t);
        let reference = simpson_expected(r, alpha, a, b, t);
        assert!((e / reference - 1.0).abs() < 1e-7, "{e} vs {reference}");
    }

    #[test]
    fn expected_purchases_for_large_a_and_b() {
        let (r, alpha, t) = (0.243, 4.414, 39.0);
        // Moderately large: the quadrature against Simpson's rule.
        for (a, b) in [(1500.0, 3000.0), (2500.0, 2.0)] {
            let e = fresh_expected(r, alpha, a, b, t);
            let reference = simpson_expected(r, alpha, a, b, t);
            assert!(
                (e / reference - 1.0).abs() < 1e-8,
                "{a} {b}: {e} vs {reference}"
            );
        }
        // Runaway fits (a, b near 1e8): the drop-out probability is then a/(a+b) for everyone,
        // and the mean that of a fixed p: (1 - (α/(α+pt))^r) / p, to O(1/(a+b)).
        for (a, b) in [(1.2e8, 3.1e8), (4e7, 1e8)] {
            let p = a / (a + b);
            let fixed = (1.0 - (alpha / (alpha + p * t)).powf(r)) / p;
            for variant in [Variant::BetaGeo, Variant::Modified] {
                let params = Params {
                    r,
                    alpha,
                    a,
                    b,
                    variant,
                };
                let e = params.expected_new(t);
                let want = match variant {
                    Variant::BetaGeo => fixed,
                    Variant::Modified => (1.0 - p) * fixed,
                };
                assert!((e / want - 1.0).abs() < 1e-6, "{a} {b}: {e} vs {want}");
                let c = params.conditional_expected(t, 3.0, 20.0, 39.0);
                assert!(c.is_finite() && c > 0.0, "{c}");
            }
        }
        // Where both apply, the closed form and the quadrature agree.
        for (a, b) in [(200.0, 300.0), (150.0, 40.0), (250.0, 1200.0)] {
            let closed = closed_form_expected(r, alpha, a, b, t).unwrap();
            let quadrature = expected_by_quadrature(r, alpha, a, b, t);
            assert!(
                (closed / quadrature - 1.0).abs() < 1e-9,
                "{a} {b}: {closed} vs {quadrature}"
            );
        }
    }

    #[test]
    fn huge_histories_stay_finite() {
        // x = 10^6 purchases, 50 years of weeks, last purchase at T.
        for variant in [Variant::BetaGeo, Variant::Modified] {
            let p = Params {
                variant,
                ..published()
            };
            let (x, t) = (1e6, 2609.0);
            let alive = p.p_alive(x, t, t);
            let e = p.conditional_expected(52.0, x, t, t);
            assert!((0.0..=1.0).contains(&alive), "{alive}");
            // Alive for sure and buying at about x / T per week.
            assert!((e / (52.0 * x / t) - 1.0).abs() < 0.05, "{e}");
        }
    }

    #[test]
    fn extreme_customers_stay_finite() {
        let p = published();
        for (x, tx, t) in [
            (200.0, 38.0, 40.0),
            (5000.0, 39.0, 39.0),
            (3000.0, 1.0, 500.0),
        ] {
            let alive = p.p_alive(x, tx, t);
            let e = p.conditional_expected(52.0, x, tx, t);
            assert!(alive.is_finite() && (0.0..=1.0).contains(&alive));
            assert!(e.is_finite() && e >= 0.0, "{x} {tx} {t}: {e}");
        }
    }
}
