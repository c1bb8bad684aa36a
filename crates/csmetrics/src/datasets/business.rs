//! The synthetic subscription business: its parameters, the generator's entry points and the
//! threads that run it. The model and the tables are described in the [`crate::datasets`] docs.

use super::lifecycle::{Context, Scratch};
use super::tables::{Buffers, Capacity, SaasTables};
use crate::error::{CsError, Result};
use crate::period::days_from_civil;

/// The purchase process of the transactions table: BG/NBD (time in weeks) and Gamma-Gamma (money).
///
/// The defaults are close to the published CDNOW fits (BG/NBD r 0.243, α 4.414, a 0.793, b 2.426;
/// Gamma-Gamma p 6.25, q 3.74, γ 15.44).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PurchaseModel {
    /// BG/NBD: shape of the gamma distribution of purchase rates λ (purchases per week).
    pub r: f64,
    /// BG/NBD: rate of that gamma distribution, in weeks; the mean purchase rate is `r / alpha`.
    pub alpha: f64,
    /// BG/NBD: first shape of the beta distribution of the dropout probability after a purchase.
    pub a: f64,
    /// BG/NBD: second shape of that beta distribution; the mean dropout probability is
    /// `a / (a + b)`.
    pub b: f64,
    /// Gamma-Gamma: shape of each purchase amount's gamma distribution, `Gamma(p, ν)`.
    pub p: f64,
    /// Gamma-Gamma: shape of the gamma distribution of the customer's rate ν.
    pub q: f64,
    /// Gamma-Gamma: rate of that distribution; the mean amount is `p * gamma / (q - 1)`.
    pub gamma: f64,
}

impl Default for PurchaseModel {
    fn default() -> Self {
        PurchaseModel {
            r: 0.25,
            alpha: 4.0,
            a: 0.8,
            b: 2.5,
            p: 6.0,
            q: 4.0,
            gamma: 15.0,
        }
    }
}

impl PurchaseModel {
    /// The mean purchase amount `p γ / (q - 1)` (infinite when `q <= 1`).
    pub fn mean_amount(&self) -> f64 {
        if self.q > 1.0 {
            self.p * self.gamma / (self.q - 1.0)
        } else {
            f64::INFINITY
        }
    }
}

/// Parameters of the synthetic business. See the [`crate::datasets`] docs for what each one drives.
#[derive(Debug, Clone, PartialEq)]
pub struct SaasParams {
    /// Number of customers (ids 1 to `customers`); at least 1. Default 10,000.
    pub customers: u64,
    /// Calendar months of history from `start`, 1 to 240. Default 24.
    pub months: u32,
    /// First day of the history, as days since 1970-01-01 (years 1900 to 2200). Default
    /// 2023-01-01.
    pub start: i32,
    /// Monthly churn hazard of a paying customer, 0 to 1/3 (the unhappy mood triples it). Default
    /// 0.03.
    pub churn_hazard: f64,
    /// Monthly probability of an upgrade (and, halved, of buying an add-on; of a free customer
    /// starting to pay), 0 to 1. Default 0.02.
    pub expansion_rate: f64,
    /// Monthly probability of a downgrade, 0 to 1 - `expansion_rate`. Default 0.01.
    pub contraction_rate: f64,
    /// Probability that a customer who cancels comes back 2-12 months later, 0 to 1. Default 0.15.
    pub reactivation_probability: f64,
    /// Share of customers who start with a 14-day trial, 0 to 1. Default 0.3.
    pub trial_share: f64,
    /// Probability that a trial converts to a paid plan, 0 to 1. Default 0.4.
    pub trial_conversion: f64,
    /// Days at the end of the history covered by the daily usage table, 0 (no usage) to the
    /// length of the history. Default 28.
    pub usage_days: u32,
    /// Raw usage events are generated only when `customers` is at most this. Default 10,000.
    pub raw_events_limit: u64,
    /// The purchase process of the transactions table.
    pub purchases: PurchaseModel,
    /// Share of customers whose paid plans are sold per seat, 0 to 1. Default 0.3. Their
    /// `quantity` is a number of seats and `amount` the price of one seat (the plan's price
    /// divided by `mean_seats`); the other customers' plans are flat: `quantity` 1 and `amount`
    /// the plan's price times its units (1 for smb, 1-3 mid-market, 1-5 enterprise).
    pub seat_share: f64,
    /// Mean seats per unit of a per-seat customer, 1 to 1,000: a customer of `u` units starts
    /// with `1 + Poisson(u * mean_seats - 1)` seats, so the expected MRR is the flat plan's.
    /// Default 5.
    pub mean_seats: f64,
    /// Monthly probability that a per-seat subscription changes its seats at a renewal, 0 to 1
    /// (`1 - (1 - seat_change_rate)^m` for an m-month term). Default 0.03.
    pub seat_change_rate: f64,
    /// Share of paid subscriptions started at a signup, trial conversion, free-to-paid move or
    /// reactivation that carry a discount, 0 to 1. Default 0.2.
    pub discount_share: f64,
    /// Probability that a monthly-billed subscription pauses (for 1 to 3 months) at a renewal,
    /// 0 to 1. Default 0.01.
    pub pause_rate: f64,
    /// Probability that the payment of a renewal fails and is recovered after 3 to 21 days
    /// `past_due`, 0 to 1. Default 0.03.
    pub past_due_rate: f64,
    /// Share of the cancellations of paid subscriptions (not paused) that are failed payments:
    /// 7 to 28 days `past_due`, then the end (`churn_reason = "payment_failed"`), 0 to 1.
    /// Default 0.25.
    pub failed_payment_share: f64,
    /// Share of the voluntary cancellations of paid subscriptions asked for in advance
    /// (`canceled_at` 1 to 42 days before the end of the paid term), 0 to 1. Default 0.4.
    pub cancel_notice_share: f64,
    /// Seed of every random draw. Default 0.
    pub seed: u64,
}

impl Default for SaasParams {
    fn default() -> Self {
        SaasParams {
            customers: 10_000,
            months: 24,
            start: days_from_civil(2023, 1, 1) as i32,
            churn_hazard: 0.03,
            expansion_rate: 0.02,
            contraction_rate: 0.01,
            reactivation_probability: 0.15,
            trial_share: 0.3,
            trial_conversion: 0.4,
            usage_days: 28,
            raw_events_limit: 10_000,
            purchases: PurchaseModel::default(),
            seat_share: 0.3,
            mean_seats: 5.0,
            seat_change_rate: 0.03,
            discount_share: 0.2,
            pause_rate: 0.01,
            past_due_rate: 0.03,
            failed_payment_share: 0.25,
            cancel_notice_share: 0.4,
            seed: 0,
        }
    }
}

/// The largest number of customers (ids must leave room for `customer_id * 1000 + k` in an Int64).
const MAX_CUSTOMERS: u64 = 1 << 40;

fn check_probability(option: &str, value: f64, max: f64) -> Result<()> {
    if value.is_finite() && (0.0..=max).contains(&value) {
        Ok(())
    } else {
        Err(CsError::option(
            option,
            value,
            &format!("must be a number from 0 to {max}"),
        ))
    }
}

fn check_positive(option: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(CsError::option(option, value, "must be a positive number"))
    }
}

impl SaasParams {
    /// Checks every parameter, naming the first one out of range.
    pub fn validate(&self) -> Result<()> {
        if self.customers == 0 || self.customers > MAX_CUSTOMERS {
            return Err(CsError::option(
                "customers",
                self.customers,
                "must be from 1 to 2^40",
            ));
        }
        if self.months == 0 || self.months > 240 {
            return Err(CsError::option(
                "months",
                self.months,
                "must be from 1 to 240",
            ));
        }
        let earliest = days_from_civil(1900, 1, 1);
        let latest = days_from_civil(2200, 1, 1);
        if !(earliest..=latest).contains(&i64::from(self.start)) {
            return Err(CsError::option(
                "start",
                format!("{} days since 1970-01-01", self.start),
                "must fall in the years 1900 to 2200",
            ));
        }
        check_probability("churn_hazard", self.churn_hazard, 1.0 / 3.0)?;
        check_probability("expansion_rate", self.expansion_rate, 1.0)?;
        check_probability(
            "contraction_rate",
            self.contraction_rate,
            1.0 - self.expansion_rate,
        )?;
        check_probability(
            "reactivation_probability",
            self.reactivation_probability,
            1.0,
        )?;
        check_probability("trial_share", self.trial_share, 1.0)?;
        check_probability("trial_conversion", self.trial_conversion, 1.0)?;
        check_probability("seat_share", self.seat_share, 1.0)?;
        if !(self.mean_seats.is_finite() && (1.0..=1000.0).contains(&self.mean_seats)) {
            return Err(CsError::option(
                "mean_seats",
                self.mean_seats,
                "must be a number from 1 to 1000",
            ));
        }
        for (option, value) in [
            ("seat_change_rate", self.seat_change_rate),
            ("discount_share", self.discount_share),
            ("pause_rate", self.pause_rate),
            ("past_due_rate", self.past_due_rate),
            ("failed_payment_share", self.failed_payment_share),
            ("cancel_notice_share", self.cancel_notice_share),
        ] {
            check_probability(option, value, 1.0)?;
        }
        let history_days = self.history_days();
        if i64::from(self.usage_days) > history_days {
            return Err(CsError::option(
                "usage_days",
                self.usage_days,
                &format!("must be at most the length of the history ({history_days} days)"),
            ));
        }
        let m = &self.purchases;
        for (name, value) in [
            ("r", m.r),
            ("alpha", m.alpha),
            ("a", m.a),
            ("b", m.b),
            ("p", m.p),
            ("q", m.q),
            ("gamma", m.gamma),
        ] {
            check_positive(name, value)?;
        }
        // The mean purchase rate times the longest life bounds the expected purchases per customer.
        let weeks = history_days as f64 / 7.0;
        if m.r / m.alpha * weeks > 500.0 {
            return Err(CsError::option(
                "r/alpha",
                m.r / m.alpha,
                &format!(
                    "the mean purchase rate times the {weeks:.0} weeks of history must be at \
                     most 500 purchases per customer"
                ),
            ));
        }
        Ok(())
    }

    /// The first day after the history (`start` plus `months` calendar months).
    pub fn end(&self) -> i32 {
        super::lifecycle::add_months(super::lifecycle::civil(self.start), self.months)
    }

    /// Days in the history.
    pub fn history_days(&self) -> i64 {
        i64::from(self.end()) - i64::from(self.start)
    }

    /// Whether the raw events table is generated.
    pub fn raw_events(&self) -> bool {
        self.customers <= self.raw_events_limit
    }
}

/// Generates every table of the synthetic business described in the [`crate::datasets`] docs.
///
/// ```
/// use csmetrics::datasets::{saas, SaasParams};
///
/// # fn main() -> csmetrics::Result<()> {
/// let params = SaasParams { customers: 500, months: 12, seed: 7, ..Default::default() };
/// let business = saas(&params)?;
/// assert_eq!(business.customers.height(), 500);
/// // The same parameters give the same tables.
/// assert!(business.subscriptions.equals_missing(&saas(&params)?.subscriptions));
/// # Ok(())
/// # }
/// ```
pub fn saas(params: &SaasParams) -> Result<SaasTables> {
    saas_range(params, 1, params.customers)
}

/// Generates the tables of the customers with ids `first_customer` to `first_customer + count - 1`
/// of the business `params` describes: exactly their rows of [`saas`], so ranges that partition
/// 1..=`customers` give the whole business, table by table, in order. The `costs` of a range cover
/// only its customers (every month, zeros included): the business's costs are the sums over the
/// ranges.
pub fn saas_range(params: &SaasParams, first_customer: u64, count: u64) -> Result<SaasTables> {
    params.validate()?;
    let last = first_customer.checked_add(count).map(|after| after - 1);
    if first_customer == 0 || last.is_none_or(|last| last > params.customers) {
        return Err(CsError::option(
            "first_customer/count",
            format!("{first_customer}/{count}"),
            &format!(
                "the range must lie within the customer ids 1 to {}",
                params.customers
            ),
        ));
    }
    let context = Context::new(params);
    // Customers are independent (each has its own random streams), so contiguous ranges of them
    // are generated on separate threads and appended in order: the output does not depend on the
    // number of threads.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(usize::try_from(count / MIN_CUSTOMERS_PER_THREAD).unwrap_or(usize::MAX))
        .max(1) as u64;
    let mut pieces = (0..threads).map(|k| {
        let from = first_customer + count * k / threads;
        let to = first_customer + count * (k + 1) / threads;
        (from, to - from)
    });
    let buffers = if threads == 1 {
        generate(&context, first_customer, count)
    } else {
        let parts: Vec<Buffers> = std::thread::scope(|scope| {
            let context = &context;
            let handles: Vec<_> = pieces
                .by_ref()
                .map(|(from, n)| scope.spawn(move || generate(context, from, n)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let mut parts = parts.into_iter();
        let mut merged = parts
            .next()
            .unwrap_or_else(|| generate(&context, first_customer, 0));
        for part in parts {
            merged.append(part);
        }
        merged
    };
    buffers.into_tables(context.month_starts())
}

/// Below this many customers per thread, threads cost more than they save.
const MIN_CUSTOMERS_PER_THREAD: u64 = 20_000;

/// The buffers of customers `first` to `first + count - 1`, generated in order.
fn generate(context: &Context, first: u64, count: u64) -> Buffers {
    let capacity = expected_rows(context.params());
    let mut buffers =
        Buffers::with_capacity(count as usize, &capacity, context.month_starts().len());
    let mut scratch = Scratch::default();
    for id in first..first + count {
        context.simulate(id, &mut buffers, &mut scratch);
    }
    buffers
}

/// Rough expected rows per customer, a little above the defaults' averages, to preallocate the
/// buffers (reserved but untouched memory costs address space, not resident memory).
fn expected_rows(params: &SaasParams) -> Capacity {
    let months = f64::from(params.months);
    let weeks = params.history_days() as f64 / 7.0;
    let m = &params.purchases;
    // Half the history on average, and about half the purchasers stay to the end.
    let purchases = 1.0 + 0.35 * m.r / m.alpha * weeks;
    let usage = f64::from(params.usage_days) * 0.5;
    Capacity {
        subscriptions: 2.6,
        transactions: purchases,
        surveys: 0.11 * months,
        tickets: 0.1 * months,
        usage,
        events: if params.raw_events() {
            usage * 40.0
        } else {
            0.0
        },
        trials: params.trial_share,
        conversions: 1.5,
        milestones: 3.5,
    }
}
