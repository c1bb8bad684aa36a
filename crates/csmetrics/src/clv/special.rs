//! Special functions the models need: log-gamma and digamma, log-beta, the Gauss hypergeometric
//! series 2F1, and Gauss-Legendre quadrature nodes.
//!
//! Everything the likelihoods sum is kept in log space; the hypergeometric functions are only
//! ever evaluated after a transformation that keeps their terms bounded (see the callers).

/// `ln Γ(x)` for `x > 0`.
#[inline]
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b)`.
#[inline]
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// The digamma function ψ(x) = d/dx ln Γ(x) for `x > 0` (and by reflection elsewhere).
///
/// Shifts x to at least 10 with ψ(x) = ψ(x + 1) - 1/x, then uses the asymptotic series; the
/// error is below 1e-14 relative for x > 0.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        // Reflection: ψ(1 - x) - ψ(x) = π cot(πx).
        let pi = std::f64::consts::PI;
        return digamma(1.0 - x) - pi / (pi * x).tan();
    }
    let mut shifted = x;
    let mut acc = 0.0;
    while shifted < 10.0 {
        acc -= 1.0 / shifted;
        shifted += 1.0;
    }
    let inv = 1.0 / shifted;
    let inv2 = inv * inv;
    // Bernoulli-number coefficients of the asymptotic expansion.
    let series = inv2
        * (1.0 / 12.0
            - inv2
                * (1.0 / 120.0
                    - inv2
                        * (1.0 / 252.0
                            - inv2
                                * (1.0 / 240.0 - inv2 * (1.0 / 132.0 - inv2 * 691.0 / 32760.0)))));
    acc + shifted.ln() - 0.5 * inv - series
}

/// The trigamma function ψ'(x) for x > 0: shifted to at least 10 with ψ'(x) = ψ'(x + 1) +
/// 1/x², then the asymptotic series; the error is below 1e-14 relative.
pub fn trigamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let mut shifted = x;
    let mut acc = 0.0;
    while shifted < 10.0 {
        acc += 1.0 / (shifted * shifted);
        shifted += 1.0;
    }
    let inv = 1.0 / shifted;
    let inv2 = inv * inv;
    let series = inv
        + inv2 / 2.0
        + inv * inv2 * (1.0 / 6.0 - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 / 30.0)));
    acc + series
}

/// Largest number of terms a hypergeometric series may take before it counts as not converged.
pub const MAX_SERIES_TERMS: usize = 200_000;

/// The Gauss hypergeometric function 2F1(a, b; c; z) by its power series, for `0 <= z < 1`.
///
/// Returns `None` when the series does not settle within [`MAX_SERIES_TERMS`] terms. Callers
/// transform their arguments first so that the terms stay bounded (Euler's transformation
/// 2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a, c - b; c; z) is the one used here).
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if z == 0.0 {
        return Some(1.0);
    }
    if !(0.0..1.0).contains(&z) || c <= 0.0 && c == c.floor() {
        return None;
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..MAX_SERIES_TERMS {
        let k = n as f64;
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if term == 0.0 {
            return Some(sum);
        }
        // Past the peak of the terms, stop once they no longer move the sum.
        let ratio = ((a + k + 1.0) * (b + k + 1.0) / ((c + k + 1.0) * (k + 2.0)) * z).abs();
        if ratio < 1.0 && term.abs() <= 1e-17 * sum.abs() {
            return sum.is_finite().then_some(sum);
        }
    }
    None
}

/// Nodes and weights of the `n`-point Gauss-Legendre rule on [-1, 1].
pub fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let mut rule = Vec::with_capacity(n);
    for i in 0..n {
        // Newton's method on P_n from the Chebyshev-like first guess.
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let kf = k as f64;
                let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
                p0 = p1;
                p1 = p2;
            }
            let pn = if n == 0 { 1.0 } else { p1 };
            let pn_1 = if n == 0 { 0.0 } else { p0 };
            derivative = n as f64 * (x * pn - pn_1) / (x * x - 1.0);
            let step = pn / derivative;
            x -= step;
            if step.abs() < 1e-16 {
                break;
            }
        }
        rule.push((x, 2.0 / ((1.0 - x * x) * derivative * derivative)));
    }
    rule
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn digamma_known_values() {
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 1e-14);
        assert!((digamma(0.5) + euler + 2.0 * 2f64.ln()).abs() < 1e-14);
        assert!((digamma(100.0) - 4.600_161_852_738_087).abs() < 1e-13);
        // Against a central difference of ln Γ.
        let h = 1e-5;
        let x = 3.7;
        let numeric = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
        assert!((digamma(x) - numeric).abs() < 1e-8);
    }

    #[test]
    fn hyp2f1_closed_forms() {
        // 2F1(1, 1; 2; z) = -ln(1 - z) / z
        let z: f64 = 0.9;
        let exact = -(1.0 - z).ln() / z;
        assert!((hyp2f1(1.0, 1.0, 2.0, z).unwrap() - exact).abs() < 1e-12 * exact);
        // 2F1(a, b; b; z) = (1 - z)^-a
        let v = hyp2f1(2.5, 3.0, 3.0, 0.3).unwrap();
        assert!((v - 0.7f64.powf(-2.5)).abs() < 1e-13);
    }

    #[test]
    fn gauss_legendre_integrates_polynomials() {
        let rule = gauss_legendre(8);
        let integral: f64 = rule.iter().map(|(x, w)| w * x.powi(14)).sum();
        assert!((integral - 2.0 / 15.0).abs() < 1e-14);
        let total: f64 = rule.iter().map(|(_, w)| w).sum();
        assert!((total - 2.0).abs() < 1e-14);
    }
}
