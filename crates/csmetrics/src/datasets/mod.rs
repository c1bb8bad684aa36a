//! Deterministic synthetic data for demos, tests and benchmarks.
//!
//! * [`saas`] generates one coherent synthetic subscription business (customers, subscriptions,
//!   purchases, surveys, tickets, usage, costs, trials, conversions) from a few documented
//!   parameters ([`SaasParams`]); [`saas_range`] generates it customer range by customer range
//!   with identical rows, so large businesses can be streamed to disk.
//! * [`survey_responses`] generates survey answers alone (for the survey benchmarks).
//!
//! Same parameters and seed give identical frames on every machine: the generators are SplitMix64
//! streams with no dependence on thread count or platform, and use `libm` for every
//! transcendental function.
//!
//! The bundled reference data (CDNOW, donations, sBG retention) is read by the Python package
//! (`csmetrics.datasets.cdnow()` and friends); the core has no CSV reader.
//!
//! # The business
//!
//! `customers` customers (ids 1 to n) sign up on days drawn uniformly over `months` calendar
//! months from `start` (the history runs from `start` to `end = start + months`, exclusive).
//! Segments are 60% `smb`, 30% `mid_market` and 10% `enterprise`; countries are drawn from ten.
//!
//! Each customer enters in one of three ways:
//! * with probability `trial_share`, a 14-day `trial` subscription ($0). It converts with
//!   probability `trial_conversion`; `converted_at` falls on one of the 22 days from the trial's
//!   start to 7 days after its end, and the paid subscription starts at the later of `converted_at`
//!   and the trial's end;
//! * otherwise 4% start on the `free` plan ($0, monthly renewals). At each renewal a free customer
//!   leaves with probability `churn_hazard` or moves to the paid `starter` plan with probability
//!   `expansion_rate`;
//! * the rest start a paid plan at signup.
//!
//! Paid plans are the tiers `starter` ($49 a month), `growth` ($149), `business` ($499) and
//! `enterprise` ($1,999), times a number of units (1 for smb, 1-3 mid-market, 1-5 enterprise:
//! a flat plan's `amount` is the price times the units and its `quantity` 1; see
//! [Billing detail](#billing-detail) for per-seat plans). Billing is
//! monthly (`interval = "month"`, `interval_count = 1`), quarterly (`"month"`, 3, at 5% off) or
//! yearly (`"year"`, 1, at 10 months' price); the mix depends on the segment (85/5/10% for smb,
//! 65/10/25% mid-market, 30/10/60% enterprise). Renewals fall on the same day of the month as the
//! subscription's start (the month's last day when it is shorter).
//!
//! Before each renewal a paying customer is in one of three moods, drawn afresh for every term:
//! unhappy (20%), neutral (30%) or happy (50%). The mood multiplies the monthly churn hazard by
//! 3.0, 1.0 or 0.2 (average 1), so at a renewal ending an m-month term the customer cancels with
//! probability `1 - (1 - churn_hazard * multiplier)^m`. Because moods are drawn afresh and the
//! multipliers average 1, the monthly logo churn of monthly-billed customers is `churn_hazard`
//! itself, in every month and every cohort. The mood also sets the NPS, CSAT and CES answers of the
//! survey sent before that renewal (unhappy customers mostly answer 0-6, happy ones 9-10), the
//! ticket rate (2.0x, 1.0x, 0.7x) and product usage (0.6x, 0.9x, 1.0x): low scores, many tickets
//! and falling usage come before churn.
//!
//! A customer who stays may change plans at the renewal: an upgrade to the next tier with
//! probability `1 - (1 - expansion_rate)^m` (at the top tier, one more unit of quantity), else a
//! downgrade to the tier below with probability `1 - (1 - contraction_rate)^m` (none from
//! `starter`). A plan change ends the row at the renewal and starts a new row the same day. Add-ons
//! (`addon_analytics` $29, `addon_support` $99, monthly) are bought on a day inside the next term
//! with probability `1 - (1 - expansion_rate / 2)^m`, overlap the base subscription, are cancelled
//! at a renewal with probability `1 - 0.95^m` and end with the base subscription at the latest. A
//! customer who cancels comes back with probability `reactivation_probability`, 2 to 12 months
//! (plus 0-27 days) later, on the plan they left, as a new subscription.
//!
//! Ends at or after `end` are null: the subscription is open at the end of the history.
//!
//! # Billing detail
//!
//! The subscriptions carry Stripe-like billing detail, drawn from a stream of its own: the
//! billing parameters change only the subscriptions table (not the lifecycle's renewals, churn
//! and plan changes, nor any other table: a paused customer still answers surveys, uses the
//! product and counts in the costs).
//!
//! * `amount` is the price of one unit of `quantity` per billing interval, so the MRR before
//!   discounts is `amount * quantity / months of the interval`. Flat plans (the other
//!   customers, trials, the free plan and add-ons) have quantity 1: their amount is the plan's
//!   price times its units. A share `seat_share` of the customers buy per seat, priced so that
//!   the business's MRR keeps the scale of flat plans: `amount` is the price of one seat, the
//!   plan's price divided by `mean_seats` (then billed like the plan: 3 months at 5% off, or 10
//!   months a year), and a customer of `u` units starts with `1 + Poisson(u * mean_seats - 1)`
//!   seats, `u * mean_seats` on average, so the expected MRR of its first paid plan is the
//!   flat plan's. At the top tier an upgrade adds `ceil(mean_seats)` seats (a flat plan, one
//!   unit). Seats carry over plan changes and reactivations; seat changes add 0.2 seats per
//!   change on average (see below), a drift of about 1% of a per-seat customer's MRR a year
//!   with the defaults.
//! * One row per status spell: `trialing` (the trial rows), `active`, `past_due`, `paused`. A
//!   spell ends a row and starts the next row of the same `subscription_id` the same day (plan,
//!   price, billing and discount unchanged); plan changes start a new subscription. No row is
//!   `canceled`: an ended row keeps the status of its spell. At each renewal that the lifecycle
//!   continues on an active subscription, the billing stream draws, in order: a failed payment
//!   that recovers (probability `past_due_rate`: 3 to 21 days `past_due`, then `active`); a
//!   pause (monthly billing, probability `pause_rate`: `paused` for 1 to 3 months, then `active`
//!   at that renewal, unless a plan change or churn comes first); a seat change (per seat,
//!   probability `1 - (1 - seat_change_rate)^m`: 60% add, else remove, 1 to a fifth of the
//!   seats, never below 1).
//! * A share `failed_payment_share` of the cancellations of paid subscriptions not paused are
//!   failed payments: 7 to 28 days `past_due` from the renewal, then the end, with
//!   `churn_reason = "payment_failed"`. The others are voluntary (`cancellation_requested`,
//!   ending at the renewal); a share `cancel_notice_share` of them were asked for 1 to 42 days
//!   before (`canceled_at`, after the row's start), else `canceled_at` is null. A request for a
//!   cancellation due after the history may already show on a running row (`canceled_at` set,
//!   `end` null). The free plan's cancellations and dropped add-ons are `cancellation_requested`
//!   too (add-ons ended by their base's churn take its reason); `churn_reason` and `canceled_at`
//!   are on a subscription's last row only, and null on running rows, trials and rows replaced
//!   by a plan change.
//! * A share `discount_share` of the paid subscriptions started at a signup, trial conversion,
//!   free-to-paid move or reactivation carry a discount, repeated on each of their rows: `once`
//!   (30%), `repeating` (50%, `duration_in_months` 3, 6 or 12) or `forever` (20%); 75% are
//!   `percent_off` (10, 20, 25 or 50), the others `amount_off` (20% of the first invoice,
//!   `amount * quantity`, in whole currency units, at least 1). `discount_start` is the
//!   subscription's first start; `discount_end` is always null.
//!
//! # Purchases (transactions)
//!
//! Transactions are a separate stream of one-off purchases, independent of the subscriptions, so
//! that a model fit recovers the generating parameters ([`PurchaseModel`]): the BG/NBD process of
//! Fader, Hardie and Lee (2005) in weeks, and the Gamma-Gamma spend model of Fader, Hardie and
//! Lee (2005, "RFM and CLV"). Each customer makes a first purchase at a uniform time of its signup
//! day; while alive, repeat purchases follow a Poisson process with rate `λ ~ Gamma(r, α)` per
//! week; after each repeat purchase the customer drops out with probability `p ~ Beta(a, b)`.
//! Purchases are observed until `end`. Every purchase amount (the first included) is drawn from
//! `Gamma(p, ν)` with `ν ~ Gamma(q, γ)` per customer, rounded to cents (at least $0.01); the
//! mean amount is `p γ / (q - 1)`.
//!
//! # Rows per customer
//!
//! Every table is generated in one pass over the customers; rows are ordered by customer, then by
//! time. Expected rows per customer with the default parameters (24 months), and the bounds that
//! hold for any parameters:
//!
//! | table | expected (defaults) | bound |
//! |---|---|---|
//! | customers | 1 | 1 |
//! | subscriptions | 1.85 | at most 3 per month of history, plus 3 |
//! | transactions | 2.5 | `1 + (r / alpha) * weeks` on average at most (checked <= 500) |
//! | surveys | 1.57 | at most 1 per renewal (so 1 per month) |
//! | tickets | 1.67 | Poisson in the paying months; at most 999 |
//! | usage | 12.4 | at most 4 per day of the usage window (`usage_days`) |
//! | events | 440 up to `raw_events_limit` customers, else 0 | 4 per active user of a usage row |
//! | trials | 0.30 | at most 1 |
//! | conversions | 0.99 | at most 2 per month of history, plus 1 |
//! | milestones | 2.3 | at most 5 |
//! | costs | one row per calendar month of the history in all | |
//!
//! With the defaults, 1M customers take about 2 s and 0.8 GB (release build, 2 cores).
//!
//! # Other tables
//!
//! * surveys: one answer with probability 0.25 before each monthly renewal (0.6 quarterly, 0.9
//!   yearly), 1-14 days before it; `nps` 0-10 by mood, `csat` 1-5 and `ces` 1-7 (higher is
//!   easier) follow the NPS answer as in [`survey_responses`].
//! * tickets: opened by paying customers at 0.1, 0.25 or 0.6 tickets a month (smb, mid-market,
//!   enterprise) times the mood factor, during business hours (08:00-18:00 UTC). 80% are
//!   resolvable at first contact, and 85% of those take one contact; the others take 2 or more.
//!   Resolution takes about 6 hours per contact plus a day between contacts; 8% are reopened
//!   (16% for unhappy customers) 0-14 days after resolution. `ticket_id` is `customer_id * 1000 +
//!   k`. Each ticket has a priority (high 20%, normal 50%, low 30%), a channel (email 50%, chat
//!   30%, phone 20%) and a first response after an exponential wait of mean 1.5, 6 or 16 hours by
//!   priority, times 1, 0.3 or 0.2 by channel, never after the resolution (drawn from a stream of
//!   their own). Timestamps at or after `end` are null.
//! * milestones: the onboarding journey [`MILESTONES`] in order; each stage is reached with
//!   probability 0.9, 0.75, 0.8, 0.6, 0.5 once the previous one is, after an exponential wait of
//!   mean 2, 6, 8, 15, 25 days (from 08:00 on the signup day for the first). A customer whose
//!   first paid life ends within 180 days reaches `data_connected` (the activation milestone)
//!   with 0.45 times the probability, so activated customers retain better.
//! * usage: daily aggregates over the last `usage_days` days of the history, for customers with any
//!   subscription (trial, free or paid) that day. A customer uses the product on a day with
//!   probability 0.45, 0.6 or 0.8 by segment, times the mood factor; `core` is used on every active
//!   day, and each adopted feature (`reports`, `integrations`, `api`: adopted more by larger
//!   segments) on half of them. `active_users` is at most the customer's seats (1-10, 10-60, 50-300
//!   by segment).
//! * events: the raw events behind the usage rows (`user_id = customer_id * 1000 + seat`), only
//!   when `customers <= raw_events_limit`; they aggregate exactly to the usage table (count =
//!   `events`, distinct users = `active_users`).
//! * costs: the retention programme's cost per calendar month: $1.50, $6 or $25 per smb,
//!   mid-market or enterprise customer with a paid subscription active at any time in the month
//!   (paused included; the days past due of a failed payment before the end are not).
//! * trials: one row per trial; `converted_at` is null unless it converted before `end`.
//! * conversions: `new` when a paid subscription starts (first purchase, free-to-paid, trial
//!   conversion or reactivation), `upsell` at each upgrade, `cross_sell` at each add-on.
//!
//! # Determinism
//!
//! Each customer's draws come from generators seeded by (seed, customer id, purpose), and the
//! transcendental functions are `libm`'s, so the same parameters give identical tables on every
//! machine, whether the customers are generated at once or in ranges ([`saas_range`]); the
//! purchase, usage, raw-event and billing streams are separate, so changing the purchase model
//! (or the billing parameters) leaves the other tables unchanged.

#[cfg(test)]
mod behaviour_tests;
mod business;
mod comments;
mod lifecycle;
mod random;
#[cfg(test)]
mod saas_tests;
mod tables;

use polars::prelude::*;

pub use business::{saas, saas_range, PurchaseModel, SaasParams};
pub use comments::feedback_dictionary;
pub use tables::{
    SaasTables, CHANNELS, CHURN_REASONS, CONVERSION_KINDS, COUNTRIES, DISCOUNT_DURATIONS, FEATURES,
    INTERVALS, MILESTONES, PLANS, PRIORITIES, STATUSES,
};

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
pub(crate) const SEGMENT_SHARES: [f64; 3] = [0.6, 0.3, 0.1];

/// Probability of each NPS answer 0..=10 by segment. smb: NPS about 10; mid-market about 30;
/// enterprise about 45.
const NPS_WEIGHTS: [[f64; 11]; 3] = [
    [
        0.02, 0.01, 0.02, 0.03, 0.03, 0.07, 0.10, 0.12, 0.20, 0.20, 0.20,
    ],
    [
        0.01, 0.01, 0.01, 0.02, 0.02, 0.04, 0.06, 0.10, 0.21, 0.26, 0.26,
    ],
    [
        0.00, 0.00, 0.01, 0.01, 0.02, 0.03, 0.05, 0.10, 0.17, 0.30, 0.31,
    ],
];

pub(crate) fn cumulative<const N: usize>(weights: &[f64; N]) -> [f64; N] {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let mut out = [0.0; N];
    for (o, w) in out.iter_mut().zip(weights) {
        acc += w / total;
        *o = acc;
    }
    out
}

pub(crate) fn draw<const N: usize>(rng: &mut SplitMix64, cumulative: &[f64; N]) -> usize {
    let u = rng.next_f64();
    cumulative.iter().position(|c| u < *c).unwrap_or(N - 1)
}

/// Survey answers of a synthetic subscription business.
///
/// `responses` rows over `months` calendar months from January 2024, from `customers` customers.
/// Columns: `customer_id` (Int64), `segment` (String: smb / mid_market / enterprise, fixed per
/// customer), `timestamp` (Date), `nps` (Int8, 0-10), `csat` (Int8, 1-5), `ces` (Int8, 1-7).
/// Satisfaction and effort follow the NPS answer, so the three scores agree in direction.
pub fn survey_responses(
    responses: usize,
    customers: usize,
    months: u32,
    seed: u64,
) -> Result<DataFrame> {
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
    let customer_segment: Vec<usize> = (0..customers)
        .map(|_| draw(&mut rng, &segment_cdf))
        .collect();
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

/// Survey answers with free-text comments, for the voice-of-the-customer benchmarks and tests.
///
/// The rows of [`survey_responses`] (customer ids, segments, dates, `nps`, `csat`, `ces`) plus
/// `churned` (Boolean: whether the customer churns after answering; probability 0.3 for a
/// detractor, 0.1 for a passive, 0.03 for a promoter) and `comment` (String, null for about a
/// third of the answers), written as the SaaS generator writes them: billing problems drive the
/// detractors, above all those who churn. Comment draws use their own stream per row.
pub fn feedback_responses(
    responses: usize,
    customers: usize,
    months: u32,
    seed: u64,
) -> Result<DataFrame> {
    let mut frame = survey_responses(responses, customers, months, seed)?;
    let scores: Vec<i8> = frame
        .column("nps")?
        .i8()?
        .iter()
        .map(|s| s.unwrap_or(0))
        .collect();
    let mut churned = Vec::with_capacity(responses);
    let mut comment = Vec::with_capacity(responses);
    for (row, score) in scores.iter().enumerate() {
        let mut rng = random::stream(seed, row as u64, random::Purpose::Feedback);
        let churn = rng.chance(match score {
            0..=6 => 0.3,
            7 | 8 => 0.1,
            _ => 0.03,
        });
        churned.push(churn);
        comment.push(comments::comment(&mut rng, *score, churn));
    }
    frame.with_column(Column::new("churned".into(), churned))?;
    frame.with_column(Column::new("comment".into(), comment))?;
    Ok(frame)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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
