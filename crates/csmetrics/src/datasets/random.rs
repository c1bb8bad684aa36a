//! Random draws for the generators: per-customer streams and the few distributions the synthetic
//! business needs (exponential, normal, gamma, beta, Poisson).
//!
//! Every transcendental function goes through `libm` (a pure-Rust port of musl's libm) rather than
//! the platform's maths library, so the same seed gives bit-identical draws on every machine.

use super::SplitMix64;

/// What a per-customer stream is used for. Each purpose has its own stream, so changing the
/// parameters of one process (say the purchase model) leaves the draws of the others unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Purpose {
    /// Signup, segment, subscriptions (their plans, renewals and ends), surveys, tickets, trials,
    /// conversions.
    Lifecycle = 1,
    /// The buy-till-you-die purchase stream (transactions).
    Purchases = 2,
    /// Daily usage aggregates.
    Usage = 3,
    /// Raw usage events.
    RawEvents = 4,
    /// Billing detail of the subscriptions: seats, discounts, pauses, failed payments,
    /// cancellation requests.
    Billing = 5,
    /// Onboarding milestones.
    Journey = 6,
    /// Support detail of the tickets: priorities, channels, first responses.
    Support = 8,
    /// The free-text comments of the survey answers.
    Feedback = 7,
}

/// The SplitMix64 output function: a bijective 64-bit mixer.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of one customer's draws for one purpose: a function of (seed, customer, purpose)
/// only, so customers can be generated in any order, in chunks or in parallel with identical
/// output.
pub(crate) fn stream(seed: u64, customer_id: u64, purpose: Purpose) -> SplitMix64 {
    let customer = mix64(customer_id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D_4C95_7F2D);
    let state = mix64(seed ^ customer).wrapping_add(mix64(((purpose as u64) << 56) ^ customer));
    SplitMix64::new(state)
}

impl SplitMix64 {
    /// A uniform float in (0, 1]: safe to take the logarithm of.
    pub(crate) fn open_f64(&mut self) -> f64 {
        1.0 - self.next_f64()
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// An exponential draw with the given rate (mean 1 / rate).
    pub(crate) fn exponential(&mut self, rate: f64) -> f64 {
        -libm::log(self.open_f64()) / rate
    }

    /// A standard normal draw (Marsaglia's polar method; the second value is discarded so the
    /// generator carries no hidden state).
    pub(crate) fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.next_f64() - 1.0;
            let v = 2.0 * self.next_f64() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * libm::sqrt(-2.0 * libm::log(s) / s);
            }
        }
    }

    /// A gamma draw with the given shape and rate (mean shape / rate), by Marsaglia and Tsang
    /// (2000); shapes below 1 use the boost `Gamma(k) = Gamma(k + 1) U^(1/k)`.
    pub(crate) fn gamma(&mut self, shape: f64, rate: f64) -> f64 {
        if shape < 1.0 {
            let boost = libm::pow(self.open_f64(), 1.0 / shape);
            return self.gamma(shape + 1.0, rate) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / libm::sqrt(9.0 * d);
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.open_f64();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v))
            {
                return d * v / rate;
            }
        }
    }

    /// A beta draw as the ratio of two gamma draws.
    pub(crate) fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a, 1.0);
        let y = self.gamma(b, 1.0);
        if x + y > 0.0 {
            x / (x + y)
        } else {
            // Both underflowed (tiny shapes): fall back on the mean.
            a / (a + b)
        }
    }

    /// A Poisson draw. Means up to 30 use Knuth's product of uniforms (exact); larger means, which
    /// the generators do not use with their defaults, a rounded normal approximation.
    pub(crate) fn poisson(&mut self, mean: f64) -> u32 {
        if mean <= 0.0 {
            return 0;
        }
        if mean > 30.0 {
            let draw = mean + libm::sqrt(mean) * self.normal();
            return libm::round(draw).max(0.0) as u32;
        }
        let limit = libm::exp(-mean);
        let mut product = self.open_f64();
        let mut count = 0;
        while product > limit {
            product *= self.open_f64();
            count += 1;
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_var(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    #[test]
    fn streams_differ_by_customer_purpose_and_seed() {
        let first = |seed, id, purpose| stream(seed, id, purpose).next_u64();
        let base = first(1, 1, Purpose::Lifecycle);
        assert_ne!(base, first(1, 2, Purpose::Lifecycle));
        assert_ne!(base, first(1, 1, Purpose::Purchases));
        assert_ne!(base, first(2, 1, Purpose::Lifecycle));
        assert_eq!(base, first(1, 1, Purpose::Lifecycle));
    }

    #[test]
    fn gamma_moments() {
        // Gamma(shape k, rate θ): mean k/θ, variance k/θ².
        for (shape, rate) in [(0.25, 4.0), (3.74, 15.44), (6.25, 0.5), (1.0, 1.0)] {
            let mut rng = SplitMix64::new(11);
            let draws: Vec<f64> = (0..200_000).map(|_| rng.gamma(shape, rate)).collect();
            let (mean, var) = mean_var(&draws);
            let (true_mean, true_var) = (shape / rate, shape / (rate * rate));
            assert!(
                (mean / true_mean - 1.0).abs() < 0.02,
                "shape {shape}: mean {mean} vs {true_mean}"
            );
            assert!(
                (var / true_var - 1.0).abs() < 0.06,
                "shape {shape}: var {var} vs {true_var}"
            );
        }
    }

    #[test]
    fn beta_poisson_exponential_normal_moments() {
        let mut rng = SplitMix64::new(5);
        let n = 200_000;
        let beta: Vec<f64> = (0..n).map(|_| rng.beta(0.8, 2.5)).collect();
        let (mean, var) = mean_var(&beta);
        let (a, b) = (0.8, 2.5);
        assert!((mean - a / (a + b)).abs() < 0.003, "{mean}");
        assert!(
            (var - a * b / ((a + b) * (a + b) * (a + b + 1.0))).abs() < 0.002,
            "{var}"
        );

        for lambda in [0.3, 4.0, 50.0] {
            let draws: Vec<f64> = (0..n).map(|_| f64::from(rng.poisson(lambda))).collect();
            let (mean, var) = mean_var(&draws);
            assert!(
                (mean / lambda - 1.0).abs() < 0.02,
                "poisson {lambda}: {mean}"
            );
            assert!((var / lambda - 1.0).abs() < 0.05, "poisson {lambda}: {var}");
        }

        let draws: Vec<f64> = (0..n).map(|_| rng.exponential(2.0)).collect();
        let (mean, var) = mean_var(&draws);
        assert!(
            (mean - 0.5).abs() < 0.005 && (var - 0.25).abs() < 0.01,
            "{mean} {var}"
        );

        let draws: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let (mean, var) = mean_var(&draws);
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
    }
}
