//! The per-customer simulation of the synthetic business (the model is described in the
//! [`crate::datasets`] docs).
//!
//! One customer at a time: its lifecycle (signup, trial, free plan, paid subscriptions with
//! renewals, plan changes, add-ons, churn and reactivation, and the surveys and tickets of each
//! term), then its purchases, then its usage, each from its own random stream.

use super::business::SaasParams;
use super::random::{stream, Purpose};
use super::tables::{
    Buffers, Discount, ACTIVE, CANCELLATION_REQUESTED, FOREVER, MICROS_PER_DAY, NULL_DAY,
    NULL_MICROS, ONCE, PAST_DUE, PAUSED, PAYMENT_FAILED, REPEATING, TRIALING,
};
use super::{cumulative, draw, SplitMix64, SEGMENT_SHARES};
use crate::period::{civil_from_days, days_from_civil};

const COUNTRY_SHARES: [f64; 10] = [0.35, 0.12, 0.10, 0.08, 0.07, 0.05, 0.05, 0.08, 0.05, 0.05];

// Plan codes (indices into tables::PLANS).
const TRIAL: u8 = 0;
const FREE: u8 = 1;
const STARTER: u8 = 2;
const TOP_TIER: u8 = 5;
const ADDONS: [u8; 2] = [6, 7];
/// Monthly list price of each plan code, per unit of quantity.
const PRICES: [f64; 8] = [0.0, 0.0, 49.0, 149.0, 499.0, 1999.0, 29.0, 99.0];
/// Starting-tier probabilities by segment (starter, growth, business, enterprise).
const TIER_SHARES: [[f64; 4]; 3] = [
    [0.7, 0.3, 0.0, 0.0],
    [0.0, 0.6, 0.4, 0.0],
    [0.0, 0.0, 0.4, 0.6],
];
/// Billing probabilities by segment (monthly, quarterly, yearly).
const BILLING_SHARES: [[f64; 3]; 3] = [[0.85, 0.05, 0.10], [0.65, 0.10, 0.25], [0.30, 0.10, 0.60]];
/// Largest quantity of a paid plan by segment.
const MAX_QUANTITY: [u64; 3] = [1, 3, 5];
const FREE_SHARE_OF_NON_TRIALS: f64 = 0.04;

// Billing detail (drawn from the billing stream).
/// Cumulative shares of the discount durations once, repeating, forever.
const DURATION_CDF: [f64; 3] = [0.3, 0.8, 1.0];
/// Months of a repeating discount (equally likely).
const REPEATING_MONTHS: [i32; 3] = [3, 6, 12];
/// Share of discounts given as a percentage (the others as an amount).
const PERCENT_SHARE: f64 = 0.75;
/// Percentages of a percent-off discount (equally likely).
const PERCENTS: [f64; 4] = [10.0, 20.0, 25.0, 50.0];
/// An amount-off discount takes this share of the first invoice, in whole currency units.
const AMOUNT_OFF_SHARE: f64 = 0.2;
/// Probability that a seat change adds seats (else it removes some, never below one).
const SEATS_UP: f64 = 0.6;
/// Days past due of a recovered payment: 3 + [0, 19).
const RECOVERY_DAYS: (i32, u64) = (3, 19);
/// Days past due before a failed payment ends the subscription: 7 + [0, 22).
const DUNNING_DAYS: (i32, u64) = (7, 22);
/// Longest notice of a cancellation request, in days.
const MAX_NOTICE_DAYS: i32 = 42;
const TRIAL_DAYS: i32 = 14;

// Moods (unhappy, neutral, happy): shares and what they multiply.
const MOOD_SHARES: [f64; 3] = [0.2, 0.3, 0.5];
const CHURN_FACTOR: [f64; 3] = [3.0, 1.0, 0.2];
const TICKET_FACTOR: [f64; 3] = [2.0, 1.0, 0.7];
const USAGE_FACTOR: [f64; 3] = [0.6, 0.9, 1.0];
const NEUTRAL: u8 = 1;
/// NPS answer probabilities (0..=10) by mood.
#[rustfmt::skip]
const NPS_BY_MOOD: [[f64; 11]; 3] = [
    [0.08, 0.06, 0.08, 0.10, 0.10, 0.14, 0.16, 0.12, 0.08, 0.05, 0.03],
    [0.01, 0.01, 0.02, 0.03, 0.04, 0.06, 0.10, 0.22, 0.25, 0.16, 0.10],
    [0.00, 0.00, 0.00, 0.005, 0.005, 0.01, 0.03, 0.08, 0.17, 0.32, 0.38],
];
/// A survey comment is written by a customer who churns when a subscription of theirs ends with
/// a churn reason within this many days after the answer.
const CHURN_WINDOW_DAYS: i32 = 120;

/// Probability of a survey answer before a renewal, by billing (monthly, quarterly, yearly).
const SURVEY_PROBABILITY: [f64; 3] = [0.25, 0.6, 0.9];

const TICKETS_PER_MONTH: [f64; 3] = [0.1, 0.25, 0.6];
const RESOLVABLE_SHARE: f64 = 0.8;
const ONE_CONTACT_SHARE: f64 = 0.85;
const REOPEN_PROBABILITY: f64 = 0.08;
const MAX_TICKETS: i64 = 999;
const HOUR: i64 = 3_600_000_000;
const DAYS_PER_MONTH: f64 = 365.0 / 12.0;

const COST_CENTS: [i64; 3] = [150, 600, 2_500];

// Support detail (drawn from the support stream).
/// Cumulative shares of the priorities high, normal, low.
const PRIORITY_CDF: [f64; 3] = [0.2, 0.7, 1.0];
/// Cumulative shares of the channels email, chat, phone.
const CHANNEL_CDF: [f64; 3] = [0.5, 0.8, 1.0];
/// Mean hours to the first response by priority (high, normal, low), and the factor of each
/// channel (email, chat, phone).
const FIRST_RESPONSE_HOURS: [f64; 3] = [1.5, 6.0, 16.0];
const CHANNEL_SPEED: [f64; 3] = [1.0, 0.3, 0.2];

// The onboarding journey (drawn from the journey stream).
/// Probability of reaching each milestone once the previous one is reached.
const STAGE_PROBABILITY: [f64; 5] = [0.9, 0.75, 0.8, 0.6, 0.5];
/// Mean days from the previous milestone (from the signup for the first).
const STAGE_DAYS: [f64; 5] = [2.0, 6.0, 8.0, 15.0, 25.0];
/// Customers whose first paid life ends within this many days reach `data_connected` (the
/// activation milestone) less often, by this factor: activation and early churn go together.
const EARLY_CHURN_DAYS: i32 = 180;
const EARLY_CHURN_ACTIVATION_FACTOR: f64 = 0.45;

const ACTIVE_DAY_PROBABILITY: [f64; 3] = [0.45, 0.6, 0.8];
/// Adoption probability of reports, integrations and api, by segment.
const ADOPTION: [[f64; 3]; 3] = [[0.4, 0.15, 0.05], [0.6, 0.35, 0.2], [0.8, 0.6, 0.5]];
/// Seats (lowest, count) by segment.
const SEATS: [(u64, u64); 3] = [(1, 10), (10, 51), (50, 251)];

/// A civil date (year, month, day).
pub(crate) type Civil = (i64, u32, u32);

/// The civil date of a day.
pub(crate) fn civil(day: i32) -> Civil {
    civil_from_days(i64::from(day))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day `months` calendar months after `anchor`, on the anchor's day of the month or the
/// month's last day when it is shorter.
pub(crate) fn add_months((year, month, day): Civil, months: u32) -> i32 {
    let total = year * 12 + i64::from(month - 1) + i64::from(months);
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    days_from_civil(year, month, day.min(days_in_month(year, month))) as i32
}

fn month_number(day: i32) -> i64 {
    let (year, month, _) = civil(day);
    year * 12 + i64::from(month)
}

fn round_cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

/// Billing of a paid plan: monthly, quarterly or yearly.
#[derive(Debug, Clone, Copy)]
struct Billing(usize);

impl Billing {
    const MONTHLY: Billing = Billing(0);

    fn term_months(self) -> u32 {
        [1, 3, 12][self.0]
    }

    /// (interval code, interval_count, amount for a monthly price).
    fn terms(self, monthly_price: f64) -> (u8, i32, f64) {
        match self.0 {
            0 => (0, 1, round_cents(monthly_price)),
            1 => (0, 3, round_cents(monthly_price * 3.0 * 0.95)),
            _ => (1, 1, round_cents(monthly_price * 10.0)),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    tier: u8,
    billing: Billing,
    quantity: u32,
}

/// A stretch of days with a subscription, [start, end), and the customer's mood in it.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: i32,
    end: i32,
    mood: u8,
}

/// Per-customer working memory, reused across customers.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    spans: Vec<Span>,
    ticket_days: Vec<i64>,
}

/// What every customer's simulation shares: parameters, calendar and lookup tables.
pub(crate) struct Context {
    params: SaasParams,
    start: i32,
    end: i32,
    end_micros: i64,
    first_month: i64,
    month_starts: Vec<i32>,
    raw_events: bool,
    segment_cdf: [f64; 3],
    country_cdf: [f64; 10],
    tier_cdfs: [[f64; 4]; 3],
    billing_cdfs: [[f64; 3]; 3],
    mood_cdf: [f64; 3],
    nps_cdfs: [[f64; 11]; 3],
    /// Probability of each event at a renewal, by billing (monthly, quarterly, yearly).
    per_term: [TermOdds; 3],
    /// Calendar month (months since year 0) of each day of the history, from `start`.
    month_of_day: Vec<i64>,
}

/// Probabilities of what happens at the renewal that ends a term of a given length.
#[derive(Debug, Clone, Copy)]
struct TermOdds {
    /// Cancelling, by mood.
    churn: [f64; 3],
    upgrade: f64,
    downgrade: f64,
    addon: f64,
    addon_cancel: f64,
    seat_change: f64,
}

impl TermOdds {
    fn new(params: &SaasParams, billing: Billing) -> Self {
        let months = f64::from(billing.term_months());
        let per_term = |monthly: f64| 1.0 - libm::pow(1.0 - monthly, months);
        TermOdds {
            churn: CHURN_FACTOR.map(|factor| per_term(params.churn_hazard * factor)),
            upgrade: per_term(params.expansion_rate),
            downgrade: per_term(params.contraction_rate),
            addon: per_term(params.expansion_rate / 2.0),
            addon_cancel: per_term(0.05),
            seat_change: per_term(params.seat_change_rate),
        }
    }
}

impl Context {
    pub fn new(params: &SaasParams) -> Self {
        let start = params.start;
        let end = params.end();
        let first = civil(start);
        let first_month_day = days_from_civil(first.0, first.1, 1) as i32;
        // Every calendar month the history touches (one more than `months` when `start` is not
        // the first of a month).
        let touched = month_number(end - 1) - month_number(start) + 1;
        let month_starts = (0..touched as u32)
            .map(|k| add_months(civil(first_month_day), k))
            .collect();
        Context {
            params: params.clone(),
            start,
            end,
            end_micros: i64::from(end) * MICROS_PER_DAY,
            first_month: month_number(start),
            month_starts,
            raw_events: params.raw_events(),
            segment_cdf: cumulative(&SEGMENT_SHARES),
            country_cdf: cumulative(&COUNTRY_SHARES),
            tier_cdfs: TIER_SHARES.map(|w| cumulative(&w)),
            billing_cdfs: BILLING_SHARES.map(|w| cumulative(&w)),
            mood_cdf: cumulative(&MOOD_SHARES),
            nps_cdfs: NPS_BY_MOOD.map(|w| cumulative(&w)),
            per_term: [0, 1, 2].map(|b| TermOdds::new(params, Billing(b))),
            month_of_day: (start..end).map(month_number).collect(),
        }
    }

    /// The calendar month of a day of the history.
    fn month_of(&self, day: i32) -> i64 {
        self.month_of_day[(day - self.start) as usize]
    }

    /// The parameters of the business.
    pub fn params(&self) -> &SaasParams {
        &self.params
    }

    /// The first day of each month of the history (the labels of the costs table).
    pub fn month_starts(&self) -> &[i32] {
        &self.month_starts
    }

    /// Appends every row of customer `id` to `out`.
    pub fn simulate(&self, id: u64, out: &mut Buffers, scratch: &mut Scratch) {
        scratch.spans.clear();
        let first_survey = out.surveys.customer_id.len();
        let first_subscription = out.subscriptions.start.len();
        let mut billing = stream(self.params.seed, id, Purpose::Billing);
        let per_seat = billing.chance(self.params.seat_share);
        let mut customer = Customer {
            ctx: self,
            id: id as i64,
            rng: stream(self.params.seed, id, Purpose::Lifecycle),
            support: stream(self.params.seed, id, Purpose::Support),
            billing,
            per_seat,
            seats: 0,
            segment: 0,
            next_subscription: 0,
            next_ticket: 0,
            last_costed_month: i64::MIN,
            out,
            scratch,
        };
        let signup = customer.lifecycle();
        let segment = customer.segment;
        self.milestones(id, signup, &scratch.spans, out);
        self.comments(id, first_survey, first_subscription, out);
        self.purchases(id, signup, out);
        if self.params.usage_days > 0 {
            self.usage(id, segment, &scratch.spans, out);
        }
    }

    /// The onboarding milestones of one customer: each stage of [`super::tables::MILESTONES`] in
    /// turn, reached with its probability (lower for the activation stage when the first paid
    /// life ends early) after an exponential wait from the previous one; none after the history.
    fn milestones(&self, id: u64, signup: i32, spans: &[Span], out: &mut Buffers) {
        let mut rng = stream(self.params.seed, id, Purpose::Journey);
        // The first paid life: spans that touch or overlap from the first one.
        let early_churn = spans.first().is_some_and(|first| {
            let mut end = first.end;
            for span in &spans[1..] {
                if span.start > end {
                    break;
                }
                end = end.max(span.end);
            }
            end < self.end && end - first.start < EARLY_CHURN_DAYS
        });
        let mut at = i64::from(signup) * MICROS_PER_DAY + 8 * HOUR;
        for (stage, (p, days)) in STAGE_PROBABILITY.iter().zip(STAGE_DAYS).enumerate() {
            let factor = if stage == 1 && early_churn {
                EARLY_CHURN_ACTIVATION_FACTOR
            } else {
                1.0
            };
            if !rng.chance(p * factor) {
                return;
            }
            at += (rng.exponential(1.0 / days) * MICROS_PER_DAY as f64) as i64;
            if at >= self.end_micros {
                return;
            }
            let m = &mut out.milestones;
            m.customer_id.push(id as i64);
            m.milestone.push(stage as u8);
            m.timestamp.push(at);
        }
    }

    /// The comments of the surveys of one customer (rows from `first_survey`): each depends on
    /// the answer and on whether one of the customer's subscriptions (rows from
    /// `first_subscription`) churns within [`CHURN_WINDOW_DAYS`] after it.
    fn comments(&self, id: u64, first_survey: usize, first_subscription: usize, out: &mut Buffers) {
        let mut rng = stream(self.params.seed, id, Purpose::Feedback);
        let subs = &out.subscriptions;
        let surveys = &mut out.surveys;
        for row in first_survey..surveys.customer_id.len() {
            let day = surveys.timestamp[row];
            let churns = (first_subscription..subs.start.len()).any(|s| {
                subs.churn_reason[s] != 0
                    && subs.end[s] >= day
                    && subs.end[s] <= day.saturating_add(CHURN_WINDOW_DAYS)
            });
            surveys
                .comment
                .push(super::comments::comment(&mut rng, surveys.nps[row], churns));
        }
    }

    /// The BG/NBD purchases and Gamma-Gamma amounts of one customer (see [`crate::datasets`]).
    fn purchases(&self, id: u64, signup: i32, out: &mut Buffers) {
        let model = &self.params.purchases;
        let mut rng = stream(self.params.seed, id, Purpose::Purchases);
        let rate = rng.gamma(model.r, model.alpha); // purchases per week
        let dropout = rng.beta(model.a, model.b);
        let nu = rng.gamma(model.q, model.gamma);
        let birth = i64::from(signup) * MICROS_PER_DAY + rng.below(MICROS_PER_DAY as u64) as i64;
        let horizon_weeks = (self.end_micros - birth) as f64 / (7 * MICROS_PER_DAY) as f64;
        let tx = &mut out.transactions;
        let mut push = |rng: &mut SplitMix64, weeks: f64| {
            let micros = birth + (weeks * (7 * MICROS_PER_DAY) as f64) as i64;
            tx.customer_id.push(id as i64);
            tx.timestamp.push(micros);
            tx.amount
                .push(round_cents(rng.gamma(model.p, nu)).max(0.01));
        };
        push(&mut rng, 0.0);
        let mut t = 0.0;
        loop {
            t += rng.exponential(rate);
            if t >= horizon_weeks {
                break;
            }
            push(&mut rng, t);
            if rng.chance(dropout) {
                break;
            }
        }
    }

    /// Daily usage aggregates (and raw events) over the usage window.
    fn usage(&self, id: u64, segment: usize, spans: &[Span], out: &mut Buffers) {
        let window_start = self.end - self.params.usage_days as i32;
        let mut rng = stream(self.params.seed, id, Purpose::Usage);
        let (lowest, count) = SEATS[segment];
        let seats = lowest + rng.below(count);
        let adopted: [bool; 3] = std::array::from_fn(|f| rng.chance(ADOPTION[segment][f]));
        let mut raw = self
            .raw_events
            .then(|| stream(self.params.seed, id, Purpose::RawEvents));
        let core_users = (seats as f64 * 0.7).ceil() as u64;
        for span in spans.iter().filter(|s| s.end > window_start) {
            let active = ACTIVE_DAY_PROBABILITY[segment] * USAGE_FACTOR[usize::from(span.mood)];
            for day in span.start.max(window_start)..span.end.min(self.end) {
                if !rng.chance(active) {
                    continue;
                }
                let users = 1 + rng.below(core_users);
                let events = users * (1 + rng.below(4));
                let offset = raw.as_mut().map_or(0, |r| r.below(seats));
                self.usage_row(id, day, 0, users, events, seats, offset, raw.as_mut(), out);
                for (feature, _) in adopted.iter().enumerate().filter(|(_, &a)| a) {
                    if rng.chance(0.5) {
                        let users = 1 + rng.below(users);
                        let events = users * (1 + rng.below(3));
                        self.usage_row(
                            id,
                            day,
                            feature as u8 + 1,
                            users,
                            events,
                            seats,
                            offset,
                            raw.as_mut(),
                            out,
                        );
                    }
                }
            }
        }
    }

    /// One usage row and, when raw events are on, its events: the first `users` events go to
    /// distinct seats (from `offset`, so a feature's users are among the day's core users), the
    /// rest to any of those users.
    #[allow(clippy::too_many_arguments)]
    fn usage_row(
        &self,
        id: u64,
        day: i32,
        feature: u8,
        users: u64,
        events: u64,
        seats: u64,
        offset: u64,
        raw: Option<&mut SplitMix64>,
        out: &mut Buffers,
    ) {
        let usage = &mut out.usage;
        usage.customer_id.push(id as i64);
        usage.date.push(day);
        usage.active_users.push(users as i32);
        usage.events.push(events as i32);
        usage.feature.push(feature);
        let Some(rng) = raw else { return };
        let day_start = i64::from(day) * MICROS_PER_DAY;
        let first_user = id as i64 * 1000;
        let ev = &mut out.events;
        for k in 0..events {
            let user = if k < users { k } else { rng.below(users) };
            ev.customer_id.push(id as i64);
            ev.user_id
                .push(first_user + ((offset + user) % seats) as i64);
            ev.timestamp
                .push(day_start + rng.below(MICROS_PER_DAY as u64) as i64);
            ev.feature.push(feature);
        }
    }
}

/// The lifecycle simulation of one customer.
struct Customer<'a> {
    ctx: &'a Context,
    id: i64,
    rng: SplitMix64,
    /// The billing-detail stream: seats, discounts, pauses, past-due spells, failed payments
    /// and cancellation requests, so that they leave every lifecycle draw unchanged.
    billing: SplitMix64,
    /// The support-detail stream: ticket priorities, channels and first responses.
    support: SplitMix64,
    /// Whether the customer's paid plans are sold per seat.
    per_seat: bool,
    /// Seats of a per-seat customer (0 until its first paid plan).
    seats: u32,
    segment: usize,
    next_subscription: i64,
    next_ticket: i64,
    last_costed_month: i64,
    out: &'a mut Buffers,
    scratch: &'a mut Scratch,
}

impl Customer<'_> {
    /// Draws the customer and its subscriptions; returns the signup day.
    fn lifecycle(&mut self) -> i32 {
        let ctx = self.ctx;
        let first_row = self.out.subscriptions.start.len();
        let history_days = (ctx.end - ctx.start) as u64;
        let signup = ctx.start + self.rng.below(history_days) as i32;
        self.segment = draw(&mut self.rng, &ctx.segment_cdf);
        let country = draw(&mut self.rng, &ctx.country_cdf);
        let customers = &mut self.out.customers;
        customers.customer_id.push(self.id);
        customers.signup_date.push(signup);
        customers.segment.push(self.segment as u8);
        customers.country.push(country as u8);

        let tier = STARTER + draw(&mut self.rng, &ctx.tier_cdfs[self.segment]) as u8;
        let billing = Billing(draw(&mut self.rng, &ctx.billing_cdfs[self.segment]));
        let quantity = 1 + self.rng.below(MAX_QUANTITY[self.segment]) as u32;
        let plan = Plan {
            tier,
            billing,
            quantity,
        };

        if self.rng.chance(ctx.params.trial_share) {
            self.trial(signup, plan);
        } else if self.rng.chance(FREE_SHARE_OF_NON_TRIALS) {
            self.free(signup);
        } else {
            self.paid(signup, plan);
        }
        // A recovery from a past-due spell can start after an add-on bought in the same term.
        self.out.subscriptions.sort_since(first_row);
        signup
    }

    #[allow(clippy::too_many_arguments)]
    fn open(
        &mut self,
        plan: u8,
        start: i32,
        amount: f64,
        interval: u8,
        count: i32,
        quantity: u32,
        status: u8,
        discount: &Discount,
    ) -> usize {
        let id = self.id * 1000 + self.next_subscription;
        self.next_subscription += 1;
        self.out.subscriptions.push(
            self.id, id, plan, start, amount, interval, count, quantity, status, discount,
        )
    }

    /// Starts the next status spell of the subscription of `row` on `day` (nothing when the
    /// day falls after the history): `row` ends that day. Returns the current row.
    fn spell(&mut self, row: usize, day: i32, quantity: u32, status: u8) -> usize {
        if day >= self.ctx.end {
            return row;
        }
        self.close(row, day);
        self.out
            .subscriptions
            .push_spell(row, day, quantity, status)
    }

    /// Ends a row (left null when the end falls after the history).
    fn close(&mut self, row: usize, end: i32) {
        if end < self.ctx.end {
            self.out.subscriptions.end[row] = end;
        }
    }

    fn convert(&mut self, day: i32, kind: u8) {
        let conversions = &mut self.out.conversions;
        conversions.customer_id.push(self.id);
        conversions.timestamp.push(day);
        conversions.kind.push(kind);
    }

    fn trial(&mut self, signup: i32, plan: Plan) {
        let ctx = self.ctx;
        let trial_end = signup + TRIAL_DAYS;
        let row = self.open(TRIAL, signup, 0.0, 0, 1, 1, TRIALING, &Discount::NONE);
        self.close(row, trial_end);
        self.scratch.spans.push(Span {
            start: signup,
            end: trial_end.min(ctx.end),
            mood: NEUTRAL,
        });
        let converted_at = if self.rng.chance(ctx.params.trial_conversion) {
            signup + self.rng.below(TRIAL_DAYS as u64 + 8) as i32
        } else {
            NULL_DAY
        };
        let trials = &mut self.out.trials;
        trials.customer_id.push(self.id);
        trials.trial_start.push(signup);
        trials.trial_end.push(trial_end);
        let observed = converted_at != NULL_DAY && converted_at < ctx.end;
        trials
            .converted_at
            .push(if observed { converted_at } else { NULL_DAY });
        let paid_start = converted_at.max(trial_end);
        if observed && paid_start < ctx.end {
            self.paid(paid_start, plan);
        }
    }

    fn free(&mut self, signup: i32) {
        let ctx = self.ctx;
        let row = self.open(FREE, signup, 0.0, 0, 1, 1, ACTIVE, &Discount::NONE);
        let anchor = civil(signup);
        let mut term_start = signup;
        for k in 1.. {
            let renewal = add_months(anchor, k);
            self.scratch.spans.push(Span {
                start: term_start,
                end: renewal.min(ctx.end),
                mood: NEUTRAL,
            });
            if renewal >= ctx.end {
                return;
            }
            if self.rng.chance(ctx.params.churn_hazard) {
                self.close(row, renewal);
                self.out.subscriptions.churn_reason[row] = CANCELLATION_REQUESTED;
                return;
            }
            if self.rng.chance(ctx.params.expansion_rate) {
                self.close(row, renewal);
                let plan = Plan {
                    tier: STARTER,
                    billing: Billing::MONTHLY,
                    quantity: 1,
                };
                self.paid(renewal, plan);
                return;
            }
            term_start = renewal;
        }
    }

    /// The quantity of a paid plan: its seats for a per-seat customer, else 1 (a flat plan's
    /// units are in its amount).
    fn quantity(&self) -> u32 {
        if self.per_seat {
            self.seats
        } else {
            1
        }
    }

    /// Opens a paid subscription; a new one (not a plan change) may carry a discount.
    fn open_paid(&mut self, plan: Plan, start: i32, new: bool) -> usize {
        let params = &self.ctx.params;
        if self.per_seat && self.seats == 0 {
            let mean = f64::from(plan.quantity) * params.mean_seats;
            self.seats = 1 + self.billing.poisson(mean - 1.0);
        }
        // Per seat: the price of one seat is the plan's over mean_seats, so that the expected
        // MRR of a customer's first paid plan is the flat plan's; flat: the plan's price times
        // its units, quantity 1.
        let price = PRICES[usize::from(plan.tier)];
        let price = if self.per_seat {
            price / params.mean_seats
        } else {
            price * f64::from(plan.quantity)
        };
        let (interval, count, amount) = plan.billing.terms(price);
        let quantity = self.quantity();
        let discount = if new && self.billing.chance(params.discount_share) {
            self.discount(amount * f64::from(quantity), start)
        } else {
            Discount::NONE
        };
        self.open(
            plan.tier, start, amount, interval, count, quantity, ACTIVE, &discount,
        )
    }

    /// A discount starting with a subscription whose first invoice is `invoice`.
    fn discount(&mut self, invoice: f64, start: i32) -> Discount {
        let rng = &mut self.billing;
        let duration = 1 + draw(rng, &DURATION_CDF) as u8;
        let months = if duration == REPEATING {
            REPEATING_MONTHS[rng.below(3) as usize]
        } else {
            0
        };
        let (percent_off, amount_off) = if rng.chance(PERCENT_SHARE) {
            (PERCENTS[rng.below(4) as usize], f64::NAN)
        } else {
            (f64::NAN, (invoice * AMOUNT_OFF_SHARE).round().max(1.0))
        };
        debug_assert!([ONCE, REPEATING, FOREVER].contains(&duration));
        Discount {
            percent_off,
            amount_off,
            duration,
            months,
            start,
        }
    }

    /// What the billing stream adds at a renewal where the subscription of `row` goes on
    /// unchanged in the lifecycle: a resume at the end of a pause, else a past-due spell, a pause
    /// (monthly billing) or a seat change (per seat). Returns the current row.
    fn renew(
        &mut self,
        row: usize,
        renewal: i32,
        k: u32,
        plan: Plan,
        paused_until: &mut Option<u32>,
        seat_change: f64,
    ) -> usize {
        let params = &self.ctx.params;
        if let Some(until) = *paused_until {
            if k < until {
                return row;
            }
            *paused_until = None;
            return self.spell(row, renewal, self.quantity(), ACTIVE);
        }
        if self.billing.chance(params.past_due_rate) {
            let days = RECOVERY_DAYS.0 + self.billing.below(RECOVERY_DAYS.1) as i32;
            let quantity = self.quantity();
            let due = self.spell(row, renewal, quantity, PAST_DUE);
            return self.spell(due, renewal + days, quantity, ACTIVE);
        }
        if plan.billing.0 == Billing::MONTHLY.0 && self.billing.chance(params.pause_rate) {
            *paused_until = Some(k + 1 + self.billing.below(3) as u32);
            return self.spell(row, renewal, self.quantity(), PAUSED);
        }
        if self.per_seat && self.billing.chance(seat_change) {
            let step = 1 + self.billing.below(u64::from(self.seats / 5).max(1)) as u32;
            if self.seats > 1 && !self.billing.chance(SEATS_UP) {
                self.seats -= step.min(self.seats - 1);
            } else {
                self.seats += step;
            }
            return self.spell(row, renewal, self.seats, ACTIVE);
        }
        row
    }

    /// Cancels the subscription of `row` at `renewal` (inside the history): a failed payment
    /// (past due, then the end) or a voluntary cancellation, maybe asked for in advance. Returns
    /// the churn reason.
    fn cancel(&mut self, row: usize, renewal: i32) -> u8 {
        let params = &self.ctx.params;
        let paused = self.out.subscriptions.status[row] == PAUSED;
        if !paused && self.billing.chance(params.failed_payment_share) {
            let days = DUNNING_DAYS.0 + self.billing.below(DUNNING_DAYS.1) as i32;
            let due = self.spell(row, renewal, self.quantity(), PAST_DUE);
            let end = renewal + days;
            self.close(due, end);
            if end < self.ctx.end {
                self.out.subscriptions.churn_reason[due] = PAYMENT_FAILED;
            }
            return PAYMENT_FAILED;
        }
        self.close(row, renewal);
        self.out.subscriptions.churn_reason[row] = CANCELLATION_REQUESTED;
        if self.billing.chance(params.cancel_notice_share) {
            self.request(row, renewal);
        }
        CANCELLATION_REQUESTED
    }

    /// Dates the cancellation request of the subscription of `row`, ending at `renewal`: 1 to 42
    /// days before it, after the row's start, inside the history.
    fn request(&mut self, row: usize, renewal: i32) {
        let subs = &mut self.out.subscriptions;
        let room = (renewal - subs.start[row] - 1).clamp(1, MAX_NOTICE_DAYS);
        let day = renewal - 1 - self.billing.below(room as u64) as i32;
        if day > subs.start[row] && day < self.ctx.end {
            subs.canceled_at[row] = day;
        }
    }

    /// A paying life from `start`: renewals until churn (with possible reactivation) or the end.
    fn paid(&mut self, start: i32, mut plan: Plan) {
        let ctx = self.ctx;
        let params = &ctx.params;
        let term = plan.billing.term_months();
        let odds = ctx.per_term[plan.billing.0];
        let mut start = start;
        'life: loop {
            self.convert(start, 0);
            let anchor = civil(start);
            let mut row = self.open_paid(plan, start, true);
            let mut addon: Option<usize> = None;
            // The renewal (in months from the anchor) at which a pause ends.
            let mut paused_until: Option<u32> = None;
            let mut term_start = start;
            let mut k = 0;
            loop {
                k += term;
                let renewal = add_months(anchor, k);
                let mood = draw(&mut self.rng, &ctx.mood_cdf) as u8;
                self.paying_term(term_start, renewal, mood, plan.billing);
                let churn = odds.churn[usize::from(mood)];
                if renewal >= ctx.end {
                    // A cancellation at the renewal after the history may already be asked for.
                    let paused = self.out.subscriptions.status[row] == PAUSED;
                    let voluntary = if paused {
                        1.0
                    } else {
                        1.0 - params.failed_payment_share
                    };
                    if self
                        .billing
                        .chance(churn * voluntary * params.cancel_notice_share)
                    {
                        self.request(row, renewal);
                    }
                    break 'life;
                }
                if self.rng.chance(churn) {
                    let reason = self.cancel(row, renewal);
                    if let Some(addon) = addon {
                        self.close(addon, renewal);
                        self.out.subscriptions.churn_reason[addon] = reason;
                    }
                    if self.rng.chance(params.reactivation_probability) {
                        let gap = 2 + self.rng.below(11) as u32;
                        let back = add_months(civil(renewal), gap) + self.rng.below(28) as i32;
                        if back < ctx.end {
                            start = back;
                            continue 'life;
                        }
                    }
                    break 'life;
                }
                let change = self.rng.next_f64();
                if change < odds.upgrade {
                    self.close(row, renewal);
                    if plan.tier < TOP_TIER {
                        plan.tier += 1;
                    } else {
                        plan.quantity += 1;
                        if self.per_seat {
                            self.seats += libm::ceil(params.mean_seats) as u32;
                        }
                    }
                    row = self.open_paid(plan, renewal, false);
                    paused_until = None;
                    self.convert(renewal, 1);
                } else if change < odds.upgrade + odds.downgrade && plan.tier > STARTER {
                    self.close(row, renewal);
                    plan.tier -= 1;
                    row = self.open_paid(plan, renewal, false);
                    paused_until = None;
                } else {
                    row = self.renew(row, renewal, k, plan, &mut paused_until, odds.seat_change);
                }
                match addon {
                    Some(open) if self.rng.chance(odds.addon_cancel) => {
                        self.close(open, renewal);
                        self.out.subscriptions.churn_reason[open] = CANCELLATION_REQUESTED;
                        addon = None;
                    }
                    Some(_) => {}
                    None if self.rng.chance(odds.addon) => {
                        let next_renewal = add_months(anchor, k + term);
                        let day = renewal
                            + 1
                            + self.rng.below((next_renewal - renewal - 1) as u64) as i32;
                        let code = ADDONS[self.rng.below(2) as usize];
                        if day < ctx.end {
                            let price = PRICES[usize::from(code)];
                            addon =
                                Some(self.open(code, day, price, 0, 1, 1, ACTIVE, &Discount::NONE));
                            self.convert(day, 2);
                        }
                    }
                    None => {}
                }
                term_start = renewal;
            }
        }
    }

    /// The term [start, renewal) of a paying customer: its usage span, retention costs, tickets
    /// and the survey sent before the renewal.
    fn paying_term(&mut self, start: i32, renewal: i32, mood: u8, billing: Billing) {
        let ctx = self.ctx;
        let end = renewal.min(ctx.end);
        self.scratch.spans.push(Span { start, end, mood });

        // Costs: every calendar month the term touches, once per customer.
        let first = ctx.month_of(start).max(self.last_costed_month + 1);
        let last = ctx.month_of(end - 1);
        for month in first..=last {
            self.out.cost_cents[(month - ctx.first_month) as usize] += COST_CENTS[self.segment];
        }
        self.last_costed_month = self.last_costed_month.max(last);

        self.tickets(start, end, mood);

        if self.rng.chance(SURVEY_PROBABILITY[billing.0]) {
            let day = renewal - 1 - self.rng.below(14) as i32;
            let nps = draw(&mut self.rng, &ctx.nps_cdfs[usize::from(mood)]) as i8;
            let noise = self.rng.below(3) as i8 - 1;
            if day >= start && day < ctx.end {
                let surveys = &mut self.out.surveys;
                surveys.customer_id.push(self.id);
                surveys.segment.push(self.segment as u8);
                surveys.timestamp.push(day);
                surveys.nps.push(nps);
                surveys.csat.push((1 + nps * 4 / 10 + noise).clamp(1, 5));
                surveys.ces.push((1 + nps * 6 / 10 + noise).clamp(1, 7));
            }
        }
    }

    fn tickets(&mut self, start: i32, end: i32, mood: u8) {
        let ctx = self.ctx;
        let months = f64::from(end - start) / DAYS_PER_MONTH;
        let rate = TICKETS_PER_MONTH[self.segment] * TICKET_FACTOR[usize::from(mood)];
        let count = self.rng.poisson(rate * months);
        let times = &mut self.scratch.ticket_days;
        times.clear();
        for _ in 0..count {
            let day = i64::from(start) + self.rng.below((end - start) as u64) as i64;
            times.push(day * MICROS_PER_DAY + 8 * HOUR + self.rng.below(10 * HOUR as u64) as i64);
        }
        times.sort_unstable();
        let reopen = if mood == 0 {
            2.0 * REOPEN_PROBABILITY
        } else {
            REOPEN_PROBABILITY
        };
        for &opened in times.iter() {
            if self.next_ticket >= MAX_TICKETS {
                return;
            }
            let rng = &mut self.rng;
            let resolvable = rng.chance(RESOLVABLE_SHARE);
            let mut contacts = if resolvable && rng.chance(ONE_CONTACT_SHARE) {
                1
            } else {
                2
            };
            while contacts > 1 && contacts < 12 && rng.chance(0.4) {
                contacts += 1;
            }
            let mut work = 0.0;
            for contact in 0..contacts {
                work += rng.exponential(1.0 / 6.0) * HOUR as f64;
                if contact > 0 {
                    work += rng.exponential(1.0) * MICROS_PER_DAY as f64;
                }
            }
            let resolved = opened + work as i64 + 1;
            let reopened = resolved + rng.below(14 * MICROS_PER_DAY as u64) as i64;
            let reopens = rng.chance(reopen);
            let tickets = &mut self.out.tickets;
            tickets.ticket_id.push(self.id * 1000 + self.next_ticket);
            tickets.customer_id.push(self.id);
            tickets.opened_at.push(opened);
            let resolved_seen = resolved < ctx.end_micros;
            tickets
                .resolved_at
                .push(if resolved_seen { resolved } else { NULL_MICROS });
            tickets.contacts.push(contacts);
            let reopened_seen = resolved_seen && reopens && reopened < ctx.end_micros;
            tickets
                .reopened_at
                .push(if reopened_seen { reopened } else { NULL_MICROS });
            tickets.resolvable_at_first_contact.push(resolvable);
            let support = &mut self.support;
            let priority = draw(support, &PRIORITY_CDF);
            let channel = draw(support, &CHANNEL_CDF);
            let mean = FIRST_RESPONSE_HOURS[priority] * CHANNEL_SPEED[channel];
            let delay = (support.exponential(1.0 / mean) * HOUR as f64) as i64;
            // Never after the resolution.
            let answered = opened + delay.min(resolved - opened);
            tickets
                .first_response_at
                .push(if answered < ctx.end_micros {
                    answered
                } else {
                    NULL_MICROS
                });
            tickets.priority.push(priority as u8);
            tickets.channel.push(channel as u8);
            self.next_ticket += 1;
        }
    }
}
