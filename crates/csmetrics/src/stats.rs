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
}
