//! Column buffers of the synthetic business and their conversion to DataFrames.
//!
//! The simulation pushes plain values (ids, days since 1970-01-01, microseconds, small codes) into
//! preallocated vectors, one row at a time; each table becomes a DataFrame once, at the end, and
//! numeric vectors move into Polars without a copy. Labels are stored as one-byte codes and
//! expanded to strings only when the frame is built.

use polars::prelude::*;

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

/// Kinds of the conversions table.
pub const CONVERSION_KINDS: [&str; 3] = ["new", "upsell", "cross_sell"];

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

fn dates(name: &str, values: Vec<i32>) -> Column {
    if values.contains(&NULL_DAY) {
        let days = values.iter().map(|&d| (d != NULL_DAY).then_some(d));
        Int32Chunked::from_iter_options(name.into(), days)
            .into_date()
            .into_series()
            .into()
    } else {
        Int32Chunked::from_vec(name.into(), values)
            .into_date()
            .into_series()
            .into()
    }
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

/// subscriptions: one row per subscription (trials, plan changes and add-ons are rows).
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
    ) -> usize {
        self.customer_id.push(customer_id);
        self.subscription_id.push(subscription_id);
        self.plan.push(plan);
        self.start.push(start);
        self.end.push(NULL_DAY);
        self.amount.push(amount);
        self.interval.push(interval);
        self.interval_count.push(count);
        self.end.len() - 1
    }

    fn into_frame(self) -> Result<DataFrame> {
        frame(vec![
            ids("customer_id", self.customer_id),
            ids("subscription_id", self.subscription_id),
            labels("plan", &self.plan, &PLANS),
            dates("start", self.start),
            dates("end", self.end),
            money("amount", self.amount),
            labels("interval", &self.interval, &INTERVALS),
            ints("interval_count", self.interval_count),
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
            },
            tickets: Tickets {
                ticket_id: reserve(tickets),
                customer_id: reserve(tickets),
                opened_at: reserve(tickets),
                resolved_at: reserve(tickets),
                contacts: reserve(tickets),
                reopened_at: reserve(tickets),
                resolvable_at_first_contact: reserve(tickets),
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
            interval_count
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
            ces
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
            resolvable_at_first_contact
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
    /// active), amount (Float64), interval (String: month / year), interval_count (Int32).
    pub subscriptions: DataFrame,
    /// customer_id (Int64), timestamp (`Datetime(us)`), amount (Float64).
    pub transactions: DataFrame,
    /// customer_id (Int64), segment (String), timestamp (Date), nps, csat, ces (Int8).
    pub surveys: DataFrame,
    /// ticket_id, customer_id (Int64), opened_at, resolved_at (`Datetime(us)`, null while open),
    /// contacts (Int32), reopened_at (`Datetime(us)`, null unless reopened),
    /// resolvable_at_first_contact (Boolean).
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
}

impl SaasTables {
    /// The tables with their names, in a fixed order (the file names `datasets.write` uses).
    pub fn tables(&self) -> [(&'static str, &DataFrame); 10] {
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
        ]
    }

    /// Consumes the tables, giving them with their names in the order of [`SaasTables::tables`].
    pub fn into_tables(self) -> [(&'static str, DataFrame); 10] {
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
            cost_cents,
        } = self;
        // The usage tables are the largest: a second thread builds them while this one builds the
        // others (most of the time goes into first-touching the memory of the string columns).
        let (usage, events, others) = std::thread::scope(|scope| {
            let usage_tables =
                scope.spawn(move || Ok::<_, CsError>((usage.into_frame()?, events.into_frame()?)));
            let others = (move || -> Result<[DataFrame; 8]> {
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
                ])
            })();
            let (usage, events) = usage_tables
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            Ok::<_, CsError>((usage, events, others?))
        })?;
        let [customers, subscriptions, transactions, surveys, tickets, costs, trials, conversions] =
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
        })
    }
}
