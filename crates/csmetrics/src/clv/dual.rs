//! Forward-mode dual numbers: a value with its exact gradient with respect to `N` parameters.
//!
//! Every log-likelihood of the module is written once over [`Dual`], so the gradient the
//! optimizer uses is the analytic derivative of the very expression that is maximised (no finite
//! differences, no second hand-written formula to drift out of sync). `Dual<0>` is a plain `f64`
//! with no overhead, which lets predictions reuse the same code.

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::special::{digamma, ln_gamma};

/// A value and its partial derivatives with respect to `N` parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual<const N: usize> {
    /// The value.
    pub v: f64,
    /// The partial derivatives.
    pub d: [f64; N],
}

impl<const N: usize> Dual<N> {
    /// A constant: all derivatives zero.
    pub fn constant(v: f64) -> Self {
        Dual { v, d: [0.0; N] }
    }

    /// The parameter number `index` with value `v`.
    pub fn variable(v: f64, index: usize) -> Self {
        let mut d = [0.0; N];
        d[index] = 1.0;
        Dual { v, d }
    }

    /// `exp(theta)` seeded as parameter `index`: derivatives are with respect to `theta`, the
    /// log of the parameter, which is what the optimizer moves.
    pub fn exp_of_variable(theta: f64, index: usize) -> Self {
        let v = theta.exp();
        let mut d = [0.0; N];
        d[index] = v;
        Dual { v, d }
    }

    #[inline]
    fn chain(self, v: f64, dv: f64) -> Self {
        let mut d = self.d;
        for x in &mut d {
            *x *= dv;
        }
        Dual { v, d }
    }

    /// Natural logarithm.
    #[inline]
    pub fn ln(self) -> Self {
        self.chain(self.v.ln(), 1.0 / self.v)
    }

    /// Exponential.
    #[inline]
    pub fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }

    /// `ln(1 - exp(x))` for `x < 0`, accurate near both ends.
    #[inline]
    pub fn ln_1m_exp(self) -> Self {
        let x = self.v;
        let value = if x > -std::f64::consts::LN_2 {
            (-x.exp_m1()).ln()
        } else {
            (-x.exp()).ln_1p()
        };
        // d/dx ln(1 - e^x) = -e^x / (1 - e^x) = 1 / (1 - e^-x)
        self.chain(value, 1.0 / (-(-x).exp_m1()))
    }

    /// `ln Γ(x)` for `x > 0`.
    #[inline]
    pub fn ln_gamma(self) -> Self {
        self.chain(ln_gamma(self.v), digamma(self.v))
    }

    /// `ln B(a, b)`.
    #[inline]
    pub fn ln_beta(a: Self, b: Self) -> Self {
        a.ln_gamma() + b.ln_gamma() - (a + b).ln_gamma()
    }

    /// `ln(exp(a) + exp(b))` without overflow.
    #[inline]
    pub fn log_add_exp(a: Self, b: Self) -> Self {
        let (hi, lo) = if a.v >= b.v { (a, b) } else { (b, a) };
        if lo.v == f64::NEG_INFINITY {
            return hi;
        }
        // ln(1 + e) with e in (0, 1]: plain `ln` has an absolute error below 1.2e-16 there and
        // is much faster than `ln_1p`.
        let e = (lo - hi).exp();
        hi + (e + 1.0).ln()
    }

    /// `ln(exp(a) - exp(b))` for `a > b`.
    #[inline]
    pub fn log_sub_exp(a: Self, b: Self) -> Self {
        if b.v == f64::NEG_INFINITY {
            return a;
        }
        a + (b - a).ln_1m_exp()
    }
}

impl<const N: usize> Add for Dual<N> {
    type Output = Self;
    #[inline]
    fn add(self, o: Self) -> Self {
        let mut d = self.d;
        for (x, y) in d.iter_mut().zip(o.d) {
            *x += y;
        }
        Dual { v: self.v + o.v, d }
    }
}

impl<const N: usize> Sub for Dual<N> {
    type Output = Self;
    #[inline]
    fn sub(self, o: Self) -> Self {
        let mut d = self.d;
        for (x, y) in d.iter_mut().zip(o.d) {
            *x -= y;
        }
        Dual { v: self.v - o.v, d }
    }
}

impl<const N: usize> Mul for Dual<N> {
    type Output = Self;
    #[inline]
    fn mul(self, o: Self) -> Self {
        let mut d = self.d;
        for (x, y) in d.iter_mut().zip(o.d) {
            *x = *x * o.v + self.v * y;
        }
        Dual { v: self.v * o.v, d }
    }
}

impl<const N: usize> Div for Dual<N> {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let inv = 1.0 / o.v;
        let v = self.v * inv;
        let mut d = self.d;
        for (x, y) in d.iter_mut().zip(o.d) {
            *x = (*x - v * y) * inv;
        }
        Dual { v, d }
    }
}

impl<const N: usize> Neg for Dual<N> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.chain(-self.v, -1.0)
    }
}

impl<const N: usize> Add<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn add(self, o: f64) -> Self {
        Dual {
            v: self.v + o,
            d: self.d,
        }
    }
}

impl<const N: usize> Sub<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn sub(self, o: f64) -> Self {
        Dual {
            v: self.v - o,
            d: self.d,
        }
    }
}

impl<const N: usize> Mul<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn mul(self, o: f64) -> Self {
        self.chain(self.v * o, o)
    }
}

impl<const N: usize> Div<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn div(self, o: f64) -> Self {
        self.chain(self.v / o, 1.0 / o)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_calculus() {
        let x = Dual::<2>::variable(1.5, 0);
        let y = Dual::<2>::variable(0.5, 1);
        let f = (x * y).ln() + (x / y).exp() - x.ln_gamma();
        let expected_dx = 1.0 / 1.5 + 3.0f64.exp() / 0.5 - digamma(1.5);
        let expected_dy = 1.0 / 0.5 - 3.0f64.exp() * 1.5 / 0.25;
        assert!((f.d[0] - expected_dx).abs() < 1e-12);
        assert!((f.d[1] - expected_dy).abs() < 1e-10);
        let l = Dual::<1>::log_sub_exp(Dual::variable(0.0, 0), Dual::constant(-1.0));
        assert!((l.v - (1.0 - (-1.0f64).exp()).ln()).abs() < 1e-15);
        assert!((l.d[0] - 1.0 / (1.0 - (-1.0f64).exp())).abs() < 1e-12);
    }
}
