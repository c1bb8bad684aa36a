//! The histogram of a group's answers and the NPS formulas on its counts.

use super::{NpsInterval, Scale};

/// Counts of the answers of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    /// Count of each valid score, from the scale's minimum up.
    pub counts: Vec<i64>,
    /// Null answers (plus invalid ones under [`InvalidPolicy::Null`](super::InvalidPolicy::Null)).
    pub missing: i64,
    /// Invalid answers left out under [`InvalidPolicy::Drop`](super::InvalidPolicy::Drop).
    pub invalid: i64,
}

impl Histogram {
    pub(super) fn empty(scale: Scale) -> Self {
        Histogram {
            counts: vec![0; scale.len()],
            missing: 0,
            invalid: 0,
        }
    }

    /// Number of valid answers.
    pub fn n(&self) -> i64 {
        self.counts.iter().sum()
    }

    /// Answers whose score is at least `from` positions above the scale minimum.
    pub(super) fn count_from(&self, from: usize) -> i64 {
        self.counts.iter().skip(from).sum()
    }

    pub(super) fn count_below(&self, until: usize) -> i64 {
        self.counts.iter().take(until).sum()
    }

    /// Mean score (null for no answers).
    pub fn mean(&self, scale: Scale) -> Option<f64> {
        let n = self.n();
        (n > 0).then(|| {
            let total: f64 = self
                .counts
                .iter()
                .enumerate()
                .map(|(i, c)| (scale.min + i as i64) as f64 * *c as f64)
                .sum();
            total / n as f64
        })
    }
}

pub(super) fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Promoters, passives and detractors of an NPS histogram (0-10 scale).
pub(super) fn nps_parts(h: &Histogram) -> (i64, i64, i64) {
    (h.count_from(9), h.counts[7] + h.counts[8], h.count_below(7))
}

/// NPS = 100 (P - D) / n; None for n = 0.
pub fn nps_value(promoters: i64, detractors: i64, n: i64) -> Option<f64> {
    ratio(100 * (promoters - detractors), n)
}

/// Standard error of an NPS on the -100..100 scale from its counts (Wald); None for n = 0.
pub fn nps_standard_error(promoters: f64, detractors: f64, n: f64) -> Option<f64> {
    if n <= 0.0 {
        return None;
    }
    let (pp, pd) = (promoters / n, detractors / n);
    let variance = (pp + pd - (pp - pd).powi(2)).max(0.0) / n;
    Some(100.0 * variance.sqrt())
}

/// The NPS confidence interval `(lower, upper)`, clipped to [-100, 100]; None for n = 0.
pub fn nps_interval(
    promoters: i64,
    detractors: i64,
    n: i64,
    method: NpsInterval,
    z: f64,
) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (p, d, n) = match method {
        NpsInterval::AdjustedWald => (
            promoters as f64 + 0.75,
            detractors as f64 + 0.75,
            n as f64 + 3.0,
        ),
        NpsInterval::Wald => (promoters as f64, detractors as f64, n as f64),
    };
    let centre = 100.0 * (p - d) / n;
    let se = nps_standard_error(p, d, n)?;
    Some(((centre - z * se).max(-100.0), (centre + z * se).min(100.0)))
}
