//! Small numerical helpers shared by the metric families: the standard normal distribution and
//! confidence-level checks.

use crate::error::{CsError, Result};

/// Standard normal cumulative distribution function.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Two-sided p-value of a standard normal test statistic.
pub fn two_sided_p(z: f64) -> f64 {
    libm::erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// Quantile of the standard normal distribution, accurate to about 1e-15.
///
/// A rational starting value (Acklam's coefficients) refined by one Halley step on the exact
/// CDF. Returns `-inf` / `inf` at 0 / 1 and NaN outside [0, 1].
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || p.is_nan() {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = 0.02425;
    let start = if p < tail {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - tail {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // Halley refinement against the exact CDF.
    let err = normal_cdf(start) - p;
    let u = err * (2.0 * std::f64::consts::PI).sqrt() * (start * start / 2.0).exp();
    start - u / (1.0 + start * u / 2.0)
}

/// The two-sided critical value z for a confidence level in (0, 1), checked.
pub fn z_for_confidence(confidence: f64) -> Result<f64> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(CsError::option(
            "confidence",
            confidence,
            "a confidence level must lie strictly between 0 and 1 (for example 0.95)",
        ));
    }
    Ok(normal_quantile(0.5 + confidence / 2.0))
}

/// Regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), for a > 0, x >= 0.
///
/// A power series for P = 1 - Q when x < a + 1, otherwise a continued fraction for Q (modified
/// Lentz); both to about 1e-15. Returns NaN for arguments outside the domain.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if a.is_nan() || a <= 0.0 || x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    // log of x^a e^-x / Γ(a), the common prefactor.
    let log_prefactor = a * x.ln() - x - libm::lgamma(a);
    if x < a + 1.0 {
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut denominator = a;
        for _ in 0..10_000 {
            denominator += 1.0;
            term *= x / denominator;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        (1.0 - sum * log_prefactor.exp()).clamp(0.0, 1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut fraction = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let step = d * c;
            fraction *= step;
            if (step - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (log_prefactor.exp() * fraction).clamp(0.0, 1.0)
    }
}

/// Survival function (upper tail probability) of the chi-square distribution with `df` degrees
/// of freedom at `x`: the p-value of a chi-square statistic. Exact closed forms for 1 and 2
/// degrees of freedom, the incomplete gamma function otherwise; NaN for `df <= 0` or NaN `x`.
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if df == 1.0 {
        libm::erfc((x / 2.0).sqrt())
    } else if df == 2.0 {
        (-x / 2.0).exp()
    } else {
        gamma_q(df / 2.0, x / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_known_values() {
        // Values from standard normal tables (to 15 significant digits).
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-13);
        assert!((normal_quantile(0.95) - 1.644_853_626_951_472_7).abs() < 1e-13);
        assert!((normal_quantile(0.005) + 2.575_829_303_548_901).abs() < 1e-12);
        assert_eq!(normal_quantile(0.5), 0.0);
    }

    #[test]
    fn quantile_inverts_cdf() {
        for i in 1..1000 {
            let p = i as f64 / 1000.0;
            assert!(
                (normal_cdf(normal_quantile(p)) - p).abs() < 1e-14,
                "p = {p}"
            );
        }
    }

    #[test]
    fn p_value_of_known_statistic() {
        // z = 1.96 -> p = 0.04999579 (tables).
        assert!((two_sided_p(1.96) - 0.049_995_790_296_440_6).abs() < 1e-12);
        assert!((two_sided_p(-1.96) - two_sided_p(1.96)).abs() < 1e-16);
    }

    #[test]
    fn confidence_is_checked() {
        assert!(z_for_confidence(1.0).is_err());
        assert!(z_for_confidence(f64::NAN).is_err());
        assert!((z_for_confidence(0.95).unwrap() - 1.959_963_984_540_054).abs() < 1e-13);
    }
    #[test]
    fn chi_square_tail_matches_tables() {
        // Reference values: scipy.stats.chi2.sf (to 15 significant digits).
        assert!((chi_square_sf(3.841_458_820_694_124, 1.0) - 0.05).abs() < 1e-14);
        assert!((chi_square_sf(5.991_464_547_107_979, 2.0) - 0.05).abs() < 1e-14);
        assert!((chi_square_sf(7.814_727_903_251_178, 3.0) - 0.05).abs() < 1e-13);
        assert!((chi_square_sf(9.487_729_036_781_154, 4.0) - 0.05).abs() < 1e-13);
        assert!((chi_square_sf(1.0, 3.0) - 0.801_251_956_901_200_9).abs() < 1e-13);
        assert!((chi_square_sf(30.0, 5.0) - 1.474_858_103_844_307_3e-5).abs() < 1e-16);
        assert_eq!(chi_square_sf(0.0, 3.0), 1.0);
        assert!(chi_square_sf(1.0, 0.0).is_nan());
    }

    #[test]
    fn incomplete_gamma_series_and_fraction_agree_at_the_switch() {
        // Q(a, x) is continuous across x = a + 1 where the method changes.
        for a in [0.5, 1.5, 2.5, 7.0] {
            let x = a + 1.0;
            assert!((gamma_q(a, x - 1e-9) - gamma_q(a, x + 1e-9)).abs() < 1e-8);
        }
        // Q(1, x) = e^-x.
        assert!((gamma_q(1.0, 2.5) - (-2.5f64).exp()).abs() < 1e-15);
    }
}
