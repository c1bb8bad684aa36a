//! Deterministic synthetic data for demos, tests and benchmarks.
//!
//! Same parameters and seed give identical frames on every machine: the generator is a
//! SplitMix64 stream with no dependence on thread count or platform.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::period::days_from_civil;

/// A small, fast, seedable pseudo-random generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

/// Customer segments of the synthetic business, smallest customers first.
pub const SEGMENTS: [&str; 3] = ["smb", "mid_market", "enterprise"];

/// Share of customers in each segment.
const SEGMENT_SHARES: [f64; 3] = [0.6, 0.3, 0.1];

/// Probability of each NPS answer 0..=10 by segment. smb: NPS about 10; mid-market about 30;
/// enterprise about 45.
const NPS_WEIGHTS: [[f64; 11]; 3] = [
    [0.02, 0.01, 0.02, 0.03, 0.03, 0.07, 0.10, 0.12, 0.20, 0.20, 0.20],
    [0.01, 0.01, 0.01, 0.02, 0.02, 0.04, 0.06, 0.10, 0.21, 0.26, 0.26],
    [0.00, 0.00, 0.01, 0.01, 0.02, 0.03, 0.05, 0.10, 0.17, 0.30, 0.31],
];

fn cumulative<const N: usize>(weights: &[f64; N]) -> [f64; N] {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let mut out = [0.0; N];
    for (o, w) in out.iter_mut().zip(weights) {
        acc += w / total;
        *o = acc;
    }
    out
}

fn draw<const N: usize>(rng: &mut SplitMix64, cumulative: &[f64; N]) -> usize {
    let u = rng.next_f64();
    cumulative.iter().position(|c| u < *c).unwrap_or(N - 1)
}

/// Survey answers of a synthetic subscription business.
///
/// `responses` rows over `months` calendar months from January 2024, from `customers` customers.
/// Columns: `customer_id` (Int64), `segment` (String: smb / mid_market / enterprise, fixed per
/// customer), `timestamp` (Date), `nps` (Int8, 0-10), `csat` (Int8, 1-5), `ces` (Int8, 1-7).
/// Satisfaction and effort follow the NPS answer, so the three scores agree in direction.
pub fn survey_responses(responses: usize, customers: usize, months: u32, seed: u64) -> Result<DataFrame> {
    if customers == 0 || months == 0 {
        return Err(CsError::option(
            "customers/months",
            format!("{customers}/{months}"),
            "a survey needs at least one customer and one month",
        ));
    }
    let segment_cdf = cumulative(&SEGMENT_SHARES);
    let nps_cdfs: Vec<[f64; 11]> = NPS_WEIGHTS.iter().map(cumulative).collect();
    let mut rng = SplitMix64::new(seed);
    let customer_segment: Vec<usize> = (0..customers).map(|_| draw(&mut rng, &segment_cdf)).collect();
    let first_day = days_from_civil(2024, 1, 1);
    let last_day = days_from_civil(2024 + i64::from((months) / 12), months % 12 + 1, 1);
    let span = (last_day - first_day) as u64;

    let mut customer_id = Vec::with_capacity(responses);
    let mut segment = Vec::with_capacity(responses);
    let mut timestamp = Vec::with_capacity(responses);
    let mut nps = Vec::with_capacity(responses);
    let mut csat = Vec::with_capacity(responses);
    let mut ces = Vec::with_capacity(responses);
    for _ in 0..responses {
        let customer = rng.below(customers as u64) as usize;
        let seg = customer_segment[customer];
        let score = draw(&mut rng, &nps_cdfs[seg]) as i8;
        let noise = rng.below(3) as i8 - 1; // -1, 0 or +1
        customer_id.push(customer as i64 + 1);
        segment.push(SEGMENTS[seg]);
        timestamp.push((first_day + rng.below(span) as i64) as i32);
        nps.push(score);
        csat.push((1 + score * 4 / 10 + noise).clamp(1, 5));
        ces.push((1 + score * 6 / 10 + noise).clamp(1, 7));
    }
    let height = responses;
    Ok(DataFrame::new(
        height,
        vec![
            Column::new("customer_id".into(), customer_id),
            Column::new("segment".into(), segment),
            Column::new("timestamp".into(), timestamp).cast(&DataType::Date)?,
            Column::new("nps".into(), nps),
            Column::new("csat".into(), csat),
            Column::new("ces".into(), ces),
        ],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_seed_dependent() {
        let a = survey_responses(1000, 50, 6, 7).unwrap();
        let b = survey_responses(1000, 50, 6, 7).unwrap();
        let c = survey_responses(1000, 50, 6, 8).unwrap();
        assert!(a.equals(&b));
        assert!(!a.equals(&c));
    }

    #[test]
    fn splitmix_reference_stream() {
        // First outputs of SplitMix64 seeded with 0 (published test vector).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }
}
