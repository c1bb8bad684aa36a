//! Column buffers of the synthetic business and their conversion to DataFrames.
//!
//! The simulation pushes plain values (ids, days since 1970-01-01, microseconds, small codes) into
//! preallocated vectors, one row at a time; each table becomes a DataFrame once, at the end, and
//! numeric vectors move into Polars without a copy. Labels are stored as one-byte codes and
//! expanded to strings only when the frame is built.

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

use super::SEGMENTS;
use crate::error::{CsError, Result};

/// Marks a null date or timestamp in a buffer (never a real value: the generator validates its
/// calendar range).
pub(crate) const NULL_DAY: i32 = i32::MIN;
/// Marks a null timestamp (microseconds) in a buffer.
pub(crate) const NULL_MICROS: i64 = i64::MIN;

pub(crate) use crate::period::MICROS_PER_DAY;

/// Billing countries (ISO 3166-1 alpha-2).
pub const COUNTRIES: [&str; 10] = ["US", "GB", "DE", "FR", "CA", "AU", "NL", "IN", "BR", "JP"];

/// Plans of the subscriptions table. `trial` and `free` cost nothing; the four paid tiers are in
/// increasing price; the two add-ons are sold on top of a paid tier.
pub const PLANS: [&str; 8] = [
    "trial",
    "free",
    "starter",
    "growth",
    "business",
    "enterprise",
    "addon_analytics",
    "addon_support",
];

/// Billing intervals of the subscriptions table.
pub const INTERVALS: [&str; 2] = ["month", "year"];

/// Product features of the usage tables; `core` is used on every active day.
pub const FEATURES: [&str; 4] = ["core", "reports", "integrations", "api"];

/// The onboarding journey of the milestones table, in order.
pub const MILESTONES: [&str; 5] = [
    "setup_completed",
    "data_connected",
    "first_report",
    "team_invited",
    "integration_added",
];

/// Priorities of the tickets table.
pub const PRIORITIES: [&str; 3] = ["high", "normal", "low"];

/// Channels of the tickets table.
pub const CHANNELS: [&str; 3] = ["email", "chat", "phone"];

/// Kinds of the conversions table.
pub const CONVERSION_KINDS: [&str; 3] = ["new", "upsell", "cross_sell"];

/// Statuses of the subscriptions table (Stripe's values; one row per status spell).
pub const STATUSES: [&str; 4] = ["trialing", "active", "past_due", "paused"];

/// Durations of a subscription's discount (Stripe's coupon durations).
pub const DISCOUNT_DURATIONS: [&str; 3] = ["once", "repeating", "forever"];

/// Churn reasons of the subscriptions table (Stripe's `cancellation_details.reason`).
pub const CHURN_REASONS: [&str; 2] = ["cancellation_requested", "payment_failed"];

// Status codes (indices into STATUSES).
pub(crate) const TRIALING: u8 = 0;
pub(crate) const ACTIVE: u8 = 1;
pub(crate) const PAST_DUE: u8 = 2;
pub(crate) const PAUSED: u8 = 3;
// Discount duration codes: 0 is no discount, else 1 + the index into DISCOUNT_DURATIONS.
pub(crate) const ONCE: u8 = 1;
pub(crate) const REPEATING: u8 = 2;
pub(crate) const FOREVER: u8 = 3;
// Churn reason codes: 0 is null, else 1 + the index into CHURN_REASONS.
pub(crate) const CANCELLATION_REQUESTED: u8 = 1;
pub(crate) const PAYMENT_FAILED: u8 = 2;

fn ids(name: &str, values: Vec<i64>) -> Column {
    Int64Chunked::from_vec(name.into(), values)
        .into_series()
        .into()
}

fn ints(name: &str, values: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), values)
        .into_series()
        .into()
}

fn scores(name: &str, values: Vec<i8>) -> Column {
    Int8Chunked::from_vec(name.into(), values)
        .into_series()
        .into()
}

fn money(name: &str, values: Vec<f64>) -> Column {
    Float64Chunked::from_vec(name.into(), values)
        .into_series()
        .into()
}

/// The values, moved without a copy, with a validity mask where `is_null` says so (none when
/// no value is null).
fn with_nulls<T: PolarsNumericType>(
    name: &str,
    values: Vec<T::Native>,
    is_null: impl Fn(&T::Native) -> bool,
) -> ChunkedArray<T> {
    let validity = values
        .iter()
        .any(&is_null)
        .then(|| Bitmap::from_iter(values.iter().map(|v| !is_null(v))));
    ChunkedArray::from_vec_validity(name.into(), values, validity)
}

fn dates(name: &str, values: Vec<i32>) -> Column {
    with_nulls::<Int32Type>(name, values, |&d| d == NULL_DAY)
        .into_date()
        .into_series()
        .into()
}

fn timestamps(name: &str, values: Vec<i64>) -> Column {
    let micros = if values.contains(&NULL_MICROS) {
        let options = values.iter().map(|&t| (t != NULL_MICROS).then_some(t));
        Int64Chunked::from_iter_options(name.into(), options)
    } else {
        Int64Chunked::from_vec(name.into(), values)
    };
    micros
        .into_datetime(TimeUnit::Microseconds, None)
        .into_series()
        .into()
}

/// Floats with NaN as null.
fn optional_money(name: &str, values: Vec<f64>) -> Column {
    with_nulls::<Float64Type>(name, values, |v| v.is_nan())
        .into_series()
        .into()
}

/// Whole numbers with 0 as null.
fn optional_ints(name: &str, values: Vec<i32>) -> Column {
    with_nulls::<Int32Type>(name, values, |&v| v == 0)
        .into_series()
        .into()
}

/// Labels with code 0 as null and code `c` naming `names[c - 1]`.
fn optional_labels(name: &str, codes: &[u8], names: &[&str]) -> Column {
    let options = codes
        .iter()
        .map(|&c| (c != 0).then(|| names[usize::from(c) - 1]));
    StringChunked::from_iter_options(name.into(), options)
        .into_series()
        .into()
}

fn labels(name: &str, codes: &[u8], names: &[&str]) -> Column {
    StringChunked::from_iter_values(name.into(), codes.iter().map(|&c| names[usize::from(c)]))
        .into_series()
        .into()
}

fn frame(columns: Vec<Column>) -> Result<DataFrame> {
    let height = columns.first().map_or(0, Column::len);
    Ok(DataFrame::new(height, columns)?)
}

/// customers: one row per customer.
#[derive(Debug, Default)]
pub(crate) struct Customers {
    pub customer_id: Vec<i64>,
    pub signup_date: Vec<i32>,
    pub segment: Vec<u8>,
    pub country: Vec<u8>,
}

impl Customers {
    fn into_frame(self) -> Result<DataFrame> {
        frame(vec![
            ids("customer_id", self.customer_id),
            dates("signup_date", self.signup_date),
            labels("segment", &self.segment, &SEGMENTS),
            labels("country", &self.country, &COUNTRIES),
        ])
    }
}

/// A subscription's discount, repeated on each of its rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Discount {
    /// Percent off (NaN: none).
    pub percent_off: f64,
    /// Amount off per billing interval (NaN: none).
    pub amount_off: f64,
    /// ONCE, REPEATING or FOREVER; 0 for no discount.
    pub duration: u8,
    /// Months of a repeating discount (0 otherwise).
    pub months: i32,
    /// First day of the discount (NULL_DAY without one).
    pub start: i32,
}

impl Discount {
    /// No discount.
    pub const NONE: Discount = Discount {
        percent_off: f64::NAN,
        amount_off: f64::NAN,
        duration: 0,
        months: 0,
        start: NULL_DAY,
    };
}

/// subscriptions: one row per status spell of a subscription (trials, plan changes and add-ons
/// are subscriptions of their own; seat changes, pauses and past-due spells are rows of the same
/// subscription).
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    pub customer_id: Vec<i64>,
    pub subscription_id: Vec<i64>,
    pub plan: Vec<u8>,
    pub start: Vec<i32>,
    pub end: Vec<i32>,
    pub amount: Vec<f64>,
    pub interval: Vec<u8>,
    pub interval_count: Vec<i32>,
    pub quantity: Vec<i32>,
    pub status: Vec<u8>,
    pub percent_off: Vec<f64>,
    pub amount_off: Vec<f64>,
    pub discount_duration: Vec<u8>,
    pub duration_in_months: Vec<i32>,
    pub discount_start: Vec<i32>,
    pub canceled_at: Vec<i32>,
    pub churn_reason: Vec<u8>,
}

/// Applies `$body` to each column of a Subscriptions, named `$column`.
macro_rules! each_subscription_column {
    ($subs:expr, $column:ident => $body:expr) => {{
        let s = $subs;
        {
            let $column = &mut s.customer_id;
            $body;
        }
        {
            let $column = &mut s.subscription_id;
            $body;
        }
        {
            let $column = &mut s.plan;
            $body;
        }
        {
            let $column = &mut s.start;
            $body;
        }
        {
            let $column = &mut s.end;
            $body;
        }
        {
            let $column = &mut s.amount;
            $body;
        }
        {
            let $column = &mut s.interval;
            $body;
        }
        {
            let $column = &mut s.interval_count;
            $body;
        }
        {
            let $column = &mut s.quantity;
            $body;
        }
        {
            let $column = &mut s.status;
            $body;
        }
        {
            let $column = &mut s.percent_off;
            $body;
        }
        {
            let $column = &mut s.amount_off;
            $body;
        }
        {
            let $column = &mut s.discount_duration;
            $body;
        }
        {
            let $column = &mut s.duration_in_months;
            $body;
        }
        {
            let $column = &mut s.discount_start;
            $body;
        }
        {
            let $column = &mut s.canceled_at;
            $body;
        }
        {
            let $column = &mut s.churn_reason;
            $body;
        }
    }};
}

/// Reorders `column[first..]` as `order` (indices relative to `first`) says.
fn permute<T: Copy>(column: &mut [T], first: usize, order: &[usize]) {
    let moved: Vec<T> = order.iter().map(|&i| column[first + i]).collect();
    column[first..].copy_from_slice(&moved);
}

impl Subscriptions {
    /// Appends an open row and returns its index (to set its end later).
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        customer_id: i64,
        subscription_id: i64,
        plan: u8,
        start: i32,
        amount: f64,
        interval: u8,
        count: i32,
        quantity: u32,
        status: u8,
        discount: &Discount,
    ) -> usize {
        self.customer_id.push(customer_id);
        self.subscription_id.push(subscription_id);
        self.plan.push(plan);
        self.start.push(start);
        self.end.push(NULL_DAY);
        self.amount.push(amount);
        self.interval.push(interval);
        self.interval_count.push(count);
        self.quantity.push(quantity as i32);
        self.status.push(status);
        self.percent_off.push(discount.percent_off);
        self.amount_off.push(discount.amount_off);
        self.discount_duration.push(discount.duration);
        self.duration_in_months.push(discount.months);
        self.discount_start.push(discount.start);
        self.canceled_at.push(NULL_DAY);
        self.churn_reason.push(0);
        self.end.len() - 1
    }

    /// Appends the next spell of the subscription of row `row`, from `start`: a copy of that row
    /// (plan, amount, billing and discount) with another status and quantity. Returns its index.
    pub fn push_spell(&mut self, row: usize, start: i32, quantity: u32, status: u8) -> usize {
        let discount = Discount {
            percent_off: self.percent_off[row],
            amount_off: self.amount_off[row],
            duration: self.discount_duration[row],
            months: self.duration_in_months[row],
            start: self.discount_start[row],
        };
        self.push(
            self.customer_id[row],
            self.subscription_id[row],
            self.plan[row],
            start,
            self.amount[row],
            self.interval[row],
            self.interval_count[row],
            quantity,
            status,
            &discount,
        )
    }

    /// Sorts the rows from `first` on by start (stably), when they are not already in order.
    pub fn sort_since(&mut self, first: usize) {
        let starts = &self.start[first..];
        if starts.windows(2).all(|pair| pair[0] <= pair[1]) {
            return;
        }
        let mut order: Vec<usize> = (0..starts.len()).collect();
        order.sort_by_key(|&i| starts[i]);
        each_subscription_column!(self, column => permute(column, first, &order));
    }

    fn into_frame(self) -> Result<DataFrame> {
        let rows = self.start.len();
        frame(vec![
            ids("customer_id", self.customer_id),
            ids("subscription_id", self.subscription_id),
            labels("plan", &self.plan, &PLANS),
            dates("start", self.start),
            dates("end", self.end),
            money("amount", self.amount),
            labels("interval", &self.interval, &INTERVALS),
            ints("interval_count", self.interval_count),
            ints("quantity", self.quantity),
            labels("status", &self.status, &STATUSES),
            optional_money("percent_off", self.percent_off),
            optional_money("amount_off", self.amount_off),
            optional_labels(
                "discount_duration",
                &self.discount_duration,
                &DISCOUNT_DURATIONS,
            ),
            optional_ints("duration_in_months", self.duration_in_months),
            dates("discount_start", self.discount_start),
            Int32Chunked::full_null("discount_end".into(), rows)
                .into_date()
                .into_series()
                .into(),
            dates("canceled_at", self.canceled_at),
            optional_labels("churn_reason", &self.churn_reason, &CHURN_REASONS),
        ])
    }
}

/// transactions: one row per purchase.
#[derive(Debug, Default)]
pub(crate) struct Transactions {
    pub customer_id: Vec<i64>,
    pub timestamp: Vec<i64>,
    pub amount: Vec<f64>,
}

/// survey responses: one row per answered survey.
#[derive(Debug, Default)]
pub(crate) struct Surveys {
    pub customer_id: Vec<i64>,
    pub segment: Vec<u8>,
    pub timestamp: Vec<i32>,
    pub nps: Vec<i8>,
    pub csat: Vec<i8>,
    pub ces: Vec<i8>,
    pub comment: Vec<Option<String>>,
}

/// support tickets: one row per ticket.
#[derive(Debug, Default)]
pub(crate) struct Tickets {
    pub ticket_id: Vec<i64>,
    pub customer_id: Vec<i64>,
    pub opened_at: Vec<i64>,
    pub resolved_at: Vec<i64>,
    pub contacts: Vec<i32>,
    pub reopened_at: Vec<i64>,
    pub resolvable_at_first_contact: Vec<bool>,
    pub first_response_at: Vec<i64>,
    pub priority: Vec<u8>,
    pub channel: Vec<u8>,
}

/// onboarding milestones: one row per milestone reached.
#[derive(Debug, Default)]
pub(crate) struct Milestones {
    pub customer_id: Vec<i64>,
    pub milestone: Vec<u8>,
    pub timestamp: Vec<i64>,
}

/// daily usage aggregates: one row per customer, day and feature used that day.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    pub customer_id: Vec<i64>,
    pub date: Vec<i32>,
    pub active_users: Vec<i32>,
    pub events: Vec<i32>,
    pub feature: Vec<u8>,
}

/// raw usage events: one row per event.
#[derive(Debug, Default)]
pub(crate) struct Events {
    pub customer_id: Vec<i64>,
    pub user_id: Vec<i64>,
    pub timestamp: Vec<i64>,
    pub feature: Vec<u8>,
}

/// trials: one row per trial.
#[derive(Debug, Default)]
pub(crate) struct Trials {
    pub customer_id: Vec<i64>,
    pub trial_start: Vec<i32>,
    pub trial_end: Vec<i32>,
    pub converted_at: Vec<i32>,
}

/// conversions: one row per sale.
#[derive(Debug, Default)]
pub(crate) struct Conversions {
    pub customer_id: Vec<i64>,
    pub timestamp: Vec<i32>,
    pub kind: Vec<u8>,
}

/// Every table of a range of customers, as column buffers.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    pub customers: Customers,
    pub subscriptions: Subscriptions,
    pub transactions: Transactions,
    pub surveys: Surveys,
    pub tickets: Tickets,
    pub usage: Usage,
    pub events: Events,
    pub trials: Trials,
    pub conversions: Conversions,
    pub milestones: Milestones,
    /// Retention programme cost per month of history, in cents.
    pub cost_cents: Vec<i64>,
}

/// Expected rows per customer of each table, used to preallocate (a little above the defaults'
/// averages, so the vectors rarely grow).
pub(crate) struct Capacity {
    pub subscriptions: f64,
    pub transactions: f64,
    pub surveys: f64,
    pub tickets: f64,
    pub usage: f64,
    pub events: f64,
    pub trials: f64,
    pub conversions: f64,
    pub milestones: f64,
}

fn reserve<T>(rows: f64) -> Vec<T> {
    Vec::with_capacity(rows.max(0.0).ceil() as usize)
}

impl Buffers {
    /// Empty buffers sized for `customers` customers.
    pub fn with_capacity(customers: usize, per_customer: &Capacity, months: usize) -> Self {
        let n = customers as f64;
        let subs = n * per_customer.subscriptions;
        let tx = n * per_customer.transactions;
        let surveys = n * per_customer.surveys;
        let tickets = n * per_customer.tickets;
        let usage = n * per_customer.usage;
        let events = n * per_customer.events;
        let trials = n * per_customer.trials;
        let conversions = n * per_customer.conversions;
        let milestones = n * per_customer.milestones;
        Buffers {
            customers: Customers {
                customer_id: Vec::with_capacity(customers),
                signup_date: Vec::with_capacity(customers),
                segment: Vec::with_capacity(customers),
                country: Vec::with_capacity(customers),
            },
            subscriptions: Subscriptions {
                customer_id: reserve(subs),
                subscription_id: reserve(subs),
                plan: reserve(subs),
                start: reserve(subs),
                end: reserve(subs),
                amount: reserve(subs),
                interval: reserve(subs),
                interval_count: reserve(subs),
                quantity: reserve(subs),
                status: reserve(subs),
                percent_off: reserve(subs),
                amount_off: reserve(subs),
                discount_duration: reserve(subs),
                duration_in_months: reserve(subs),
                discount_start: reserve(subs),
                canceled_at: reserve(subs),
                churn_reason: reserve(subs),
            },
            transactions: Transactions {
                customer_id: reserve(tx),
                timestamp: reserve(tx),
                amount: reserve(tx),
            },
            surveys: Surveys {
                customer_id: reserve(surveys),
                segment: reserve(surveys),
                timestamp: reserve(surveys),
                nps: reserve(surveys),
                csat: reserve(surveys),
                ces: reserve(surveys),
                comment: reserve(surveys),
            },
            tickets: Tickets {
                ticket_id: reserve(tickets),
                customer_id: reserve(tickets),
                opened_at: reserve(tickets),
                resolved_at: reserve(tickets),
                contacts: reserve(tickets),
                reopened_at: reserve(tickets),
                resolvable_at_first_contact: reserve(tickets),
                first_response_at: reserve(tickets),
                priority: reserve(tickets),
                channel: reserve(tickets),
            },
            usage: Usage {
                customer_id: reserve(usage),
                date: reserve(usage),
                active_users: reserve(usage),
                events: reserve(usage),
                feature: reserve(usage),
            },
            events: Events {
                customer_id: reserve(events),
                user_id: reserve(events),
                timestamp: reserve(events),
                feature: reserve(events),
            },
            trials: Trials {
                customer_id: reserve(trials),
                trial_start: reserve(trials),
                trial_end: reserve(trials),
                converted_at: reserve(trials),
            },
            conversions: Conversions {
                customer_id: reserve(conversions),
                timestamp: reserve(conversions),
                kind: reserve(conversions),
            },
            milestones: Milestones {
                customer_id: reserve(milestones),
                milestone: reserve(milestones),
                timestamp: reserve(milestones),
            },
            cost_cents: vec![0; months],
        }
    }
}

/// Moves the named columns of `$source` to the end of `$target`'s, freeing each source column
/// as soon as it is moved so that merging needs little more memory than the result.
macro_rules! append_columns {
    ($target:expr, $source:expr, $($column:ident),+) => {
        $(
            let mut moved = std::mem::take(&mut $source.$column);
            $target.$column.reserve_exact(moved.len());
            $target.$column.append(&mut moved);
            drop(moved);
        )+
    };
}

impl Buffers {
    /// Appends the rows of `other` (the customers that follow this buffer's) to this buffer's,
    /// and adds its costs.
    pub fn append(&mut self, mut other: Buffers) {
        append_columns!(
            self.customers,
            other.customers,
            customer_id,
            signup_date,
            segment,
            country
        );
        append_columns!(
            self.subscriptions,
            other.subscriptions,
            customer_id,
            subscription_id,
            plan,
            start,
            end,
            amount,
            interval,
            interval_count,
            quantity,
            status,
            percent_off,
            amount_off,
            discount_duration,
            duration_in_months,
            discount_start,
            canceled_at,
            churn_reason
        );
        append_columns!(
            self.transactions,
            other.transactions,
            customer_id,
            timestamp,
            amount
        );
        append_columns!(
            self.surveys,
            other.surveys,
            customer_id,
            segment,
            timestamp,
            nps,
            csat,
            ces,
            comment
        );
        append_columns!(
            self.tickets,
            other.tickets,
            ticket_id,
            customer_id,
            opened_at,
            resolved_at,
            contacts,
            reopened_at,
            resolvable_at_first_contact,
            first_response_at,
            priority,
            channel
        );
        append_columns!(
            self.usage,
            other.usage,
            customer_id,
            date,
            active_users,
            events,
            feature
        );
        append_columns!(
            self.events,
            other.events,
            customer_id,
            user_id,
            timestamp,
            feature
        );
        append_columns!(
            self.trials,
            other.trials,
            customer_id,
            trial_start,
            trial_end,
            converted_at
        );
        append_columns!(
            self.conversions,
            other.conversions,
            customer_id,
            timestamp,
            kind
        );
        append_columns!(
            self.milestones,
            other.milestones,
            customer_id,
            milestone,
            timestamp
        );
        for (total, cents) in self.cost_cents.iter_mut().zip(&other.cost_cents) {
            *total += cents;
        }
    }
}

/// Every table of the synthetic business. Rows are ordered by customer, then by time.
#[derive(Debug, Clone)]
pub struct SaasTables {
    /// customer_id (Int64), signup_date (Date), segment (String), country (String).
    pub customers: DataFrame,
    /// customer_id, subscription_id (Int64), plan (String), start (Date), end (Date, null while
    /// running), amount (Float64, per unit and billing interval), interval (String: month /
    /// year), interval_count, quantity (Int32), status (String: [`STATUSES`]), percent_off,
    /// amount_off (Float64), discount_duration (String: [`DISCOUNT_DURATIONS`]),
    /// duration_in_months (Int32), discount_start, discount_end (Date; the discount columns are
    /// null without a discount, discount_end always), canceled_at (Date), churn_reason (String:
    /// [`CHURN_REASONS`]).
    pub subscriptions: DataFrame,
    /// customer_id (Int64), timestamp (`Datetime(us)`), amount (Float64).
    pub transactions: DataFrame,
    /// customer_id (Int64), segment (String), timestamp (Date), nps, csat, ces (Int8).
    pub surveys: DataFrame,
    /// ticket_id, customer_id (Int64), opened_at, resolved_at (`Datetime(us)`, null while open),
    /// contacts (Int32), reopened_at (`Datetime(us)`, null unless reopened),
    /// resolvable_at_first_contact (Boolean), first_response_at (`Datetime(us)`, null while
    /// unanswered), priority (String: [`PRIORITIES`]), channel (String: [`CHANNELS`]).
    pub tickets: DataFrame,
    /// customer_id (Int64), date (Date), active_users, events (Int32), feature (String).
    pub usage: DataFrame,
    /// customer_id, user_id (Int64), timestamp (`Datetime(us)`), feature (String); empty above the
    /// raw-events size limit.
    pub events: DataFrame,
    /// period (Date, first day of the month), amount (Float64).
    pub costs: DataFrame,
    /// customer_id (Int64), trial_start, trial_end, converted_at (Date, null unless converted).
    pub trials: DataFrame,
    /// customer_id (Int64), timestamp (Date), kind (String: new / upsell / cross_sell).
    pub conversions: DataFrame,
    /// customer_id (Int64), milestone (String: [`MILESTONES`]), timestamp (`Datetime(us)`).
    pub milestones: DataFrame,
}

impl SaasTables {
    /// The tables with their names, in a fixed order (the file names `datasets.write` uses).
    pub fn tables(&self) -> [(&'static str, &DataFrame); 11] {
        [
            ("customers", &self.customers),
            ("subscriptions", &self.subscriptions),
            ("transactions", &self.transactions),
            ("surveys", &self.surveys),
            ("tickets", &self.tickets),
            ("usage", &self.usage),
            ("events", &self.events),
            ("costs", &self.costs),
            ("trials", &self.trials),
            ("conversions", &self.conversions),
            ("milestones", &self.milestones),
        ]
    }

    /// Consumes the tables, giving them with their names in the order of [`SaasTables::tables`].
    pub fn into_tables(self) -> [(&'static str, DataFrame); 11] {
        [
            ("customers", self.customers),
            ("subscriptions", self.subscriptions),
            ("transactions", self.transactions),
            ("surveys", self.surveys),
            ("tickets", self.tickets),
            ("usage", self.usage),
            ("events", self.events),
            ("costs", self.costs),
            ("trials", self.trials),
            ("conversions", self.conversions),
            ("milestones", self.milestones),
        ]
    }
}

impl Usage {
    fn into_frame(self) -> Result<DataFrame> {
        frame(vec![
            ids("customer_id", self.customer_id),
            dates("date", self.date),
            ints("active_users", self.active_users),
            ints("events", self.events),
            labels("feature", &self.feature, &FEATURES),
        ])
    }
}

impl Events {
    fn into_frame(self) -> Result<DataFrame> {
        frame(vec![
            ids("customer_id", self.customer_id),
            ids("user_id", self.user_id),
            timestamps("timestamp", self.timestamp),
            labels("feature", &self.feature, &FEATURES),
        ])
    }
}

impl Buffers {
    /// Builds the frames; `month_starts` labels the cost buffer (first day of each month).
    pub fn into_tables(self, month_starts: &[i32]) -> Result<SaasTables> {
        let Buffers {
            customers,
            subscriptions,
            transactions,
            surveys,
            tickets,
            usage,
            events,
            trials,
            conversions,
            milestones,
            cost_cents,
        } = self;
        // The usage tables are the largest: a second thread builds them while this one builds the
        // others (most of the time goes into first-touching the memory of the string columns).
        let (usage, events, others) = std::thread::scope(|scope| {
            let usage_tables =
                scope.spawn(move || Ok::<_, CsError>((usage.into_frame()?, events.into_frame()?)));
            let others = (move || -> Result<[DataFrame; 9]> {
                Ok([
                    customers.into_frame()?,
                    subscriptions.into_frame()?,
                    frame(vec![
                        ids("customer_id", transactions.customer_id),
                        timestamps("timestamp", transactions.timestamp),
                        money("amount", transactions.amount),
                    ])?,
                    frame(vec![
                        ids("customer_id", surveys.customer_id),
                        labels("segment", &surveys.segment, &SEGMENTS),
                        dates("timestamp", surveys.timestamp),
                        scores("nps", surveys.nps),
                        scores("csat", surveys.csat),
                        scores("ces", surveys.ces),
                        Column::new("comment".into(), surveys.comment),
                    ])?,
                    frame(vec![
                        ids("ticket_id", tickets.ticket_id),
                        ids("customer_id", tickets.customer_id),
                        timestamps("opened_at", tickets.opened_at),
                        timestamps("resolved_at", tickets.resolved_at),
                        ints("contacts", tickets.contacts),
                        timestamps("reopened_at", tickets.reopened_at),
                        BooleanChunked::from_slice(
                            "resolvable_at_first_contact".into(),
                            &tickets.resolvable_at_first_contact,
                        )
                        .into_series()
                        .into(),
                        timestamps("first_response_at", tickets.first_response_at),
                        labels("priority", &tickets.priority, &PRIORITIES),
                        labels("channel", &tickets.channel, &CHANNELS),
                    ])?,
                    frame(vec![
                        dates("period", month_starts.to_vec()),
                        money(
                            "amount",
                            cost_cents.iter().map(|&c| c as f64 / 100.0).collect(),
                        ),
                    ])?,
                    frame(vec![
                        ids("customer_id", trials.customer_id),
                        dates("trial_start", trials.trial_start),
                        dates("trial_end", trials.trial_end),
                        dates("converted_at", trials.converted_at),
                    ])?,
                    frame(vec![
                        ids("customer_id", conversions.customer_id),
                        dates("timestamp", conversions.timestamp),
                        labels("kind", &conversions.kind, &CONVERSION_KINDS),
                    ])?,
                    frame(vec![
                        ids("customer_id", milestones.customer_id),
                        labels("milestone", &milestones.milestone, &MILESTONES),
                        timestamps("timestamp", milestones.timestamp),
                    ])?,
                ])
            })();
            let (usage, events) = usage_tables
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            Ok::<_, CsError>((usage, events, others?))
        })?;
        let [customers, subscriptions, transactions, surveys, tickets, costs, trials, conversions, milestones] =
            others;
        Ok(SaasTables {
            customers,
            subscriptions,
            transactions,
            surveys,
            tickets,
            usage,
            events,
            costs,
            trials,
            conversions,
            milestones,
        })
    }
}
