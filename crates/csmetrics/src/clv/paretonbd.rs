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
//!
//! P(n purchases in the next t | x, t_x, T) mixes, over the posterior of (λ, μ), "still alive
//! at T + t" (Poisson purchases over all of t) with "dies at T + u" (Poisson purchases over u,
//! for every u in (0, t]), plus "already dead at T" for n = 0. The first and last have closed
//! forms; the middle one reduces to the one-dimensional integral
//! `∫_0^t u^n (α+T+u)^-(r+x+n) (β+T+u)^-(s+1) du`, whose integrand has a single peak. It is
//! integrated in log space on panels that widen geometrically away from the peak, each refined
//! until two Gauss-Legendre estimates agree: every term is positive, so there is no
//! cancellation however far in the tail n is, and large x only narrows the peak.

use std::sync::OnceLock;

use super::data::{block_sum, Patterns};
use super::dual::Dual;
use super::special::{gauss_legendre, ln_gamma};

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
pub(crate) fn log_likelihood<const N: usize>(
    params: &[Dual<N>; N],
    patterns: &Patterns,
) -> Dual<N> {
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
    /// ln of the likelihood of (x, t_x, T) and of its "alive at T" part. Where the series of
    /// the death term does not settle (z near 1: α and β far apart, as in fits that ran to
    /// extreme values), the death term is integrated directly:
    /// `s ∫_{t_x}^T (α+τ)^-(r+x) (β+τ)^-(s+1) dτ`, a decreasing positive integrand.
    fn log_totals(&self, x: f64, recency: f64, age: f64) -> (f64, f64) {
        let Params { r, alpha, s, beta } = *self;
        let params = [
            Dual::<0>::constant(r),
            Dual::constant(alpha),
            Dual::constant(s),
            Dual::constant(beta),
        ];
        if let Some((total, alive)) = customer(&params, x, recency, age) {
            if total.v.is_finite() && alive.v.is_finite() {
                return (total.v, alive.v);
            }
        }
        let rx = r + x;
        let lead = ln_gamma(rx) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let alive = lead - rx * (alpha + age).ln() - s * (beta + age).ln();
        if recency >= age {
            return (alive, alive);
        }
        let died = lead
            + s.ln()
            + log_death_integral(
                0.0,
                age - recency,
                rx,
                s + 1.0,
                alpha + recency,
                beta + recency,
            );
        let (hi, lo) = if alive >= died {
            (alive, died)
        } else {
            (died, alive)
        };
        (hi + (lo - hi).exp().ln_1p(), alive)
    }

    /// P(alive at T | x, t_x, T).
    pub fn p_alive(&self, x: f64, recency: f64, age: f64) -> f64 {
        let (total, alive) = self.log_totals(x, recency, age);
        (alive - total).exp().min(1.0)
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

    /// P(exactly `n` purchases in the next `t` | x, t_x, T).
    ///
    /// For given (λ, μ) and a customer alive at T, the future lifetime is exponential(μ), so
    /// P(n | λ, μ, alive) = e^(-μt) Poisson(n; λt) + ∫_0^t μ e^(-μu) Poisson(n; λu) du.
    /// Weighting by the posterior of (λ, μ) (likelihood L times the gamma priors) gives
    ///
    /// ```text
    /// P(n) = [n = 0] (1 - P(alive))
    ///      + Γ(r+x+n) α^r β^s / (Γ(r) n! L) [ t^n (α+T+t)^-(r+x+n) (β+T+t)^-s
    ///                                        + s ∫_0^t u^n (α+T+u)^-(r+x+n) (β+T+u)^-(s+1) du ]
    /// ```
    ///
    /// (the conditional PMF of Fader & Hardie's note on the Pareto/NBD, with the integral
    /// left as an integral; see the module docs for how it is evaluated).
    pub fn conditional_probability(&self, n: u32, t: f64, x: f64, recency: f64, age: f64) -> f64 {
        let Params { r, alpha, s, beta } = *self;
        let (total, alive) = self.log_totals(x, recency, age);
        let p_alive = (alive - total).exp().min(1.0);
        let dead = if n == 0 { 1.0 - p_alive } else { 0.0 };
        if t <= 0.0 {
            return if n == 0 { 1.0 } else { 0.0 };
        }
        let count = n as f64;
        let shape = r + x + count;
        let common =
            ln_gamma(shape) - ln_gamma(r) - ln_gamma(count + 1.0) + r * alpha.ln() + s * beta.ln()
                - total;
        let survives =
            common + count * t.ln() - shape * (alpha + age + t).ln() - s * (beta + age + t).ln();
        let dies =
            common + s.ln() + log_death_integral(count, t, shape, s + 1.0, alpha + age, beta + age);
        (dead + survives.exp() + dies.exp()).min(1.0)
    }
}

/// The 20-point Gauss-Legendre rule, computed once.
fn legendre_rule() -> &'static [(f64, f64)] {
    static RULE: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    RULE.get_or_init(|| gauss_legendre(20))
}

/// `ln ∫_0^t u^n (a+u)^-k (b+u)^-m du` for `k > n >= 0`, `m > 0`, `a, b, t > 0`.
///
/// The log-integrand φ(u) = n ln u - k ln(a+u) - m ln(b+u) has φ' = 0 at the one positive root
/// of `(k+m-n) u² + (k b + m a - n (a+b)) u - n a b` (none when n = 0: φ decreases), so it
/// rises to a single peak and falls. The integrand is scaled by its largest value on [0, t]
/// and integrated on panels whose widths double away from the peak, starting from the local
/// length scale `1 / max(|φ'|, sqrt|φ''|)` there.
fn log_death_integral(n: f64, t: f64, k: f64, m: f64, a: f64, b: f64) -> f64 {
    let phi = |u: f64| {
        let rise = if n > 0.0 { n * u.ln() } else { 0.0 };
        rise - k * (a + u).ln() - m * (b + u).ln()
    };
    let q2 = k + m - n;
    let q1 = k * b + m * a - n * (a + b);
    let root = (q1 * q1 + 4.0 * q2 * n * a * b).sqrt();
    // The positive root without cancellation.
    let mode = if q1 > 0.0 {
        2.0 * n * a * b / (q1 + root)
    } else {
        (root - q1) / (2.0 * q2)
    };
    let peak = mode.min(t);
    let slope = if n > 0.0 { n / peak } else { 0.0 } - k / (a + peak) - m / (b + peak);
    let curvature = if n > 0.0 { -n / (peak * peak) } else { 0.0 }
        + k / ((a + peak) * (a + peak))
        + m / ((b + peak) * (b + peak));
    let mut scale = 1.0 / slope.abs().max(curvature.abs().sqrt());
    if !(scale.is_finite() && scale > 0.0) || scale > t {
        scale = t;
    }
    let top = phi(peak);
    let f = |u: f64| (phi(u) - top).exp();
    let rule = legendre_rule();
    let estimate = |lo: f64, hi: f64| -> f64 {
        let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
        half * rule.iter().map(|(z, w)| w * f(mid + half * z)).sum::<f64>()
    };
    // The integral is of the order of `scale` (peak height 1), so this is a relative tolerance;
    // a panel also stops once the two estimates agree to rounding (they cannot do better).
    let tolerance = 1e-13 * scale;
    fn refine(
        estimate: &dyn Fn(f64, f64) -> f64,
        lo: f64,
        hi: f64,
        whole: f64,
        tol: f64,
        depth: u32,
    ) -> f64 {
        let mid = 0.5 * (lo + hi);
        let (left, right) = (estimate(lo, mid), estimate(mid, hi));
        let change = (left + right - whole).abs();
        // Written so that a NaN estimate stops the refinement too.
        let refining = change > tol && change > 1e-14 * (left + right);
        if depth == 0 || !refining {
            left + right
        } else {
            refine(estimate, lo, mid, left, tol, depth - 1)
                + refine(estimate, mid, hi, right, tol, depth - 1)
        }
    }
    let mut edges = vec![peak];
    let mut width = scale;
    while peak + width < t {
        edges.push(peak + width);
        width *= 2.0;
    }
    edges.push(t);
    let mut width = scale;
    while peak - width > 0.0 {
        edges.insert(0, peak - width);
        width *= 2.0;
    }
    edges.insert(0, 0.0);
    let total: f64 = edges
        .windows(2)
        .filter(|w| w[1] > w[0])
        .map(|w| refine(&estimate, w[0], w[1], estimate(w[0], w[1]), tolerance, 24))
        .sum();
    top + total.ln()
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
    fn death_integral_matches_simpson() {
        // Peaks inside (0, t), at t, and at 0 (n = 0), including a narrow one (k large).
        for (n, k, m, a, b, t) in [
            (3.0, 5.5, 1.6, 50.0, 52.0, 39.0),
            (40.0, 41.0, 1.6, 10.0, 12.0, 39.0),
            (0.0, 2.5, 1.6, 49.0, 51.0, 39.0),
            (2.0, 5002.0, 1.6, 50.0, 51.0, 39.0),
        ] {
            let steps = 200_000;
            let h = t / steps as f64;
            let phi = |u: f64| {
                let rise = if n > 0.0 { n * u.ln() } else { 0.0 };
                rise - k * (a + u).ln() - m * (b + u).ln()
            };
            // Scaled by the largest sampled value (the integral itself underflows for k large).
            let top = (0..=steps)
                .map(|i| phi(i as f64 * h))
                .fold(f64::NEG_INFINITY, f64::max);
            let f = |u: f64| (phi(u) - top).exp();
            let mut sum = f(t);
            if n == 0.0 {
                sum += f(0.0);
            }
            for i in 1..steps {
                sum += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
            }
            // Relative error of the integrals (Simpson itself is good to about 1e-9 here).
            let simpson = top + (sum * h / 3.0).ln();
            let ours = log_death_integral(n, t, k, m, a, b);
            assert!(
                (ours - simpson).abs() < 1e-8,
                "{n} {k}: {ours} vs {simpson}"
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
            let p0 = p.conditional_probability(0, 39.0, x, tx, t);
            assert!((0.0..=1.0).contains(&p0), "{x}: {p0}");
        }
    }

    #[test]
    fn p_alive_where_the_series_does_not_settle() {
        // α and β six orders apart: z = (α - β) / (α + t) is within 1e-6 of 1.
        let p = Params {
            r: 0.553,
            alpha: 1e7,
            s: 0.606,
            beta: 11.669,
        };
        let (x, tx, t) = (3.0, 12.0, 39.0);
        let d = |v: f64| Dual::<0>::constant(v);
        assert!(log_term(d(p.r), d(p.alpha), d(p.s), d(p.beta), x, tx).is_none());
        // Simpson on the death term s ∫ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ over the alive term
        // (α+T)^-(r+x) (β+T)^-s, with the first factors taken as one ratio.
        let steps = 20_000;
        let h = (t - tx) / steps as f64;
        let f = |tau: f64| {
            p.s * ((p.alpha + tau) / (p.alpha + t)).powf(-(p.r + x))
                * (p.beta + tau).powf(-(p.s + 1.0))
        };
        let mut sum = f(tx) + f(t);
        for i in 1..steps {
            sum += f(tx + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        let died_over_alive = sum * h / 3.0 / (p.beta + t).powf(-p.s);
        let want = 1.0 / (1.0 + died_over_alive);
        let got = p.p_alive(x, tx, t);
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        assert!(p.conditional_expected(39.0, x, tx, t).is_finite());
        let p0 = p.conditional_probability(0, 39.0, x, tx, t);
        assert!((0.0..=1.0).contains(&p0), "{p0}");
        // Large values everywhere stay finite too.
        let big = Params {
            r: 5e6,
            alpha: 3e8,
            s: 2e5,
            beta: 1e3,
        };
        for (x, tx, t) in [(0.0, 0.0, 39.0), (5.0, 30.0, 39.0), (1e6, 2609.0, 2609.0)] {
            let alive = big.p_alive(x, tx, t);
            assert!((0.0..=1.0).contains(&alive), "{x}: {alive}");
            assert!(big.conditional_expected(52.0, x, tx, t).is_finite());
        }
    }
}
