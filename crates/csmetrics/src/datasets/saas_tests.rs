//! Tests of the synthetic business: determinism, ranges, schemas, referential integrity,
//! validation and a pinned fingerprint. The planted behaviour is tested in `behaviour_tests`.

#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};

use polars::prelude::*;

use super::*;
use crate::period::{days_from_civil, MICROS_PER_DAY};

pub(super) fn ids(frame: &DataFrame, name: &str) -> Vec<i64> {
    frame
        .column(name)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

pub(super) fn days(frame: &DataFrame, name: &str) -> Vec<Option<i32>> {
    frame
        .column(name)
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .iter()
        .collect()
}

pub(super) fn micros(frame: &DataFrame, name: &str) -> Vec<Option<i64>> {
    frame
        .column(name)
        .unwrap()
        .datetime()
        .unwrap()
        .physical()
        .iter()
        .collect()
}

pub(super) fn floats(frame: &DataFrame, name: &str) -> Vec<f64> {
    frame
        .column(name)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

pub(super) fn strings(frame: &DataFrame, name: &str) -> Vec<String> {
    frame
        .column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

pub(super) fn opt_strings(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    frame
        .column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

pub(super) fn opt_floats(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
    frame.column(name).unwrap().f64().unwrap().iter().collect()
}

pub(super) fn opt_ints(frame: &DataFrame, name: &str) -> Vec<Option<i32>> {
    frame.column(name).unwrap().i32().unwrap().iter().collect()
}

/// The rows of each subscription id, in start order (row indices).
pub(super) fn spells(subs: &DataFrame) -> HashMap<i64, Vec<usize>> {
    let (id, start) = (ids(subs, "subscription_id"), days(subs, "start"));
    let mut rows: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, id) in id.iter().enumerate() {
        rows.entry(*id).or_default().push(i);
    }
    for list in rows.values_mut() {
        list.sort_by_key(|&i| start[i]);
    }
    rows
}

pub(super) fn params(customers: u64, seed: u64) -> SaasParams {
    SaasParams {
        customers,
        seed,
        ..Default::default()
    }
}

pub(super) const DAY: i64 = 86_400_000_000;

#[test]
fn deterministic_and_seed_dependent() {
    let a = saas(&params(400, 3)).unwrap();
    let b = saas(&params(400, 3)).unwrap();
    let c = saas(&params(400, 4)).unwrap();
    for ((name, x), (_, y)) in a.tables().iter().zip(b.tables().iter()) {
        assert!(x.equals_missing(y), "{name} differs between two runs");
    }
    for ((name, x), (_, z)) in a.tables().iter().zip(c.tables().iter()) {
        assert!(!x.equals_missing(z), "{name} does not depend on the seed");
    }
}

#[test]
fn ranges_partition_the_business() {
    let whole = saas(&params(500, 9)).unwrap();
    let first = saas_range(&params(500, 9), 1, 180).unwrap();
    let second = saas_range(&params(500, 9), 181, 320).unwrap();
    for (((name, w), (_, f)), (_, s)) in whole
        .tables()
        .iter()
        .zip(first.tables())
        .zip(second.tables())
    {
        if *name == "costs" {
            let sum: Vec<f64> = floats(f, "amount")
                .iter()
                .zip(floats(s, "amount"))
                .map(|(a, b)| a + b)
                .collect();
            let expected = floats(w, "amount");
            assert!(
                sum.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-6),
                "costs"
            );
            continue;
        }
        let mut joined = f.clone();
        joined.vstack_mut(s).unwrap();
        assert!(
            joined.equals_missing(w),
            "{name}: the ranges do not add up to the whole"
        );
    }
    assert!(saas_range(&params(500, 9), 400, 200).is_err());
    assert!(saas_range(&params(500, 9), 0, 10).is_err());
}

#[test]
fn threads_do_not_change_the_output() {
    // 45,000 customers run on up to 2 threads (20,000 at least per thread); three ranges of 15,000
    // run on one thread each.
    let p = SaasParams {
        customers: 45_000,
        usage_days: 3,
        seed: 4,
        ..Default::default()
    };
    let whole = saas(&p).unwrap();
    let parts: Vec<SaasTables> = (0..3)
        .map(|k| saas_range(&p, 1 + 15_000 * k, 15_000).unwrap())
        .collect();
    for (index, (name, frame)) in whole.tables().iter().enumerate() {
        if *name == "costs" {
            continue;
        }
        let mut joined = parts[0].tables()[index].1.clone();
        for part in &parts[1..] {
            joined.vstack_mut(part.tables()[index].1).unwrap();
        }
        assert!(joined.equals_missing(frame), "{name}");
    }
}

#[test]
fn purchase_parameters_leave_other_tables_unchanged() {
    let base = params(300, 1);
    let mut other = base.clone();
    other.purchases.r = 0.5;
    let (a, b) = (saas(&base).unwrap(), saas(&other).unwrap());
    assert!(a.subscriptions.equals_missing(&b.subscriptions));
    assert!(a.usage.equals_missing(&b.usage));
    assert!(!a.transactions.equals_missing(&b.transactions));
}

#[test]
fn schemas() {
    let data = saas(&params(200, 0)).unwrap();
    let dtypes = |frame: &DataFrame| -> Vec<(std::string::String, DataType)> {
        frame
            .schema()
            .iter()
            .map(|(n, d)| (n.to_string(), d.clone()))
            .collect()
    };
    let us = DataType::Datetime(TimeUnit::Microseconds, None);
    let expect = |pairs: &[(&str, DataType)]| -> Vec<(std::string::String, DataType)> {
        pairs
            .iter()
            .map(|(n, d)| (n.to_string(), d.clone()))
            .collect()
    };
    use DataType::*;
    assert_eq!(
        dtypes(&data.customers),
        expect(&[
            ("customer_id", Int64),
            ("signup_date", Date),
            ("segment", String),
            ("country", String)
        ])
    );
    assert_eq!(
        dtypes(&data.subscriptions),
        expect(&[
            ("customer_id", Int64),
            ("subscription_id", Int64),
            ("plan", String),
            ("start", Date),
            ("end", Date),
            ("amount", Float64),
            ("interval", String),
            ("interval_count", Int32),
            ("quantity", Int32),
            ("status", String),
            ("percent_off", Float64),
            ("amount_off", Float64),
            ("discount_duration", String),
            ("duration_in_months", Int32),
            ("discount_start", Date),
            ("discount_end", Date),
            ("canceled_at", Date),
            ("churn_reason", String),
        ])
    );
    assert_eq!(
        dtypes(&data.transactions),
        expect(&[
            ("customer_id", Int64),
            ("timestamp", us.clone()),
            ("amount", Float64)
        ])
    );
    assert_eq!(
        dtypes(&data.tickets),
        expect(&[
            ("ticket_id", Int64),
            ("customer_id", Int64),
            ("opened_at", us.clone()),
            ("resolved_at", us.clone()),
            ("contacts", Int32),
            ("reopened_at", us.clone()),
            ("resolvable_at_first_contact", Boolean),
            ("first_response_at", us.clone()),
            ("priority", String),
            ("channel", String),
        ])
    );
    assert_eq!(
        dtypes(&data.milestones),
        expect(&[
            ("customer_id", Int64),
            ("milestone", String),
            ("timestamp", us.clone()),
        ])
    );
    assert_eq!(
        dtypes(&data.usage),
        expect(&[
            ("customer_id", Int64),
            ("date", Date),
            ("active_users", Int32),
            ("events", Int32),
            ("feature", String)
        ])
    );
    assert_eq!(
        dtypes(&data.costs),
        expect(&[("period", Date), ("amount", Float64)])
    );
    assert_eq!(data.costs.height(), 24);
    assert_eq!(
        dtypes(&data.trials),
        expect(&[
            ("customer_id", Int64),
            ("trial_start", Date),
            ("trial_end", Date),
            ("converted_at", Date)
        ])
    );
    assert_eq!(
        dtypes(&data.conversions),
        expect(&[
            ("customer_id", Int64),
            ("timestamp", Date),
            ("kind", String)
        ])
    );
}

#[test]
fn referential_integrity_and_time_order() {
    let p = params(3_000, 5);
    let data = saas(&p).unwrap();
    let (start, end) = (p.start, p.end());
    let customers = ids(&data.customers, "customer_id");
    assert_eq!(customers, (1..=3_000).collect::<Vec<_>>());
    let signup: HashMap<i64, i32> = customers
        .iter()
        .copied()
        .zip(
            days(&data.customers, "signup_date")
                .into_iter()
                .map(Option::unwrap),
        )
        .collect();
    assert!(signup.values().all(|d| (start..end).contains(d)));

    // Every dated row of every table: its customer exists, and it falls in [signup, end).
    let check = |table: &str, frame: &DataFrame, when: Vec<Option<i64>>| {
        for (customer, day) in ids(frame, "customer_id").into_iter().zip(when) {
            let first = *signup
                .get(&customer)
                .unwrap_or_else(|| panic!("{table}: unknown customer {customer}"));
            if let Some(day) = day {
                assert!(
                    day >= i64::from(first) && day < i64::from(end),
                    "{table}: day {day} of {customer}"
                );
            }
        }
    };
    let as_days = |d: Vec<Option<i32>>| d.into_iter().map(|d| d.map(i64::from)).collect::<Vec<_>>();
    let as_day_of = |t: Vec<Option<i64>>| {
        t.into_iter()
            .map(|t| t.map(|t| t.div_euclid(DAY)))
            .collect::<Vec<_>>()
    };
    check(
        "subscriptions",
        &data.subscriptions,
        as_days(days(&data.subscriptions, "start")),
    );
    check(
        "transactions",
        &data.transactions,
        as_day_of(micros(&data.transactions, "timestamp")),
    );
    check(
        "surveys",
        &data.surveys,
        as_days(days(&data.surveys, "timestamp")),
    );
    check(
        "tickets",
        &data.tickets,
        as_day_of(micros(&data.tickets, "opened_at")),
    );
    check(
        "tickets",
        &data.tickets,
        as_day_of(micros(&data.tickets, "reopened_at")),
    );
    check("usage", &data.usage, as_days(days(&data.usage, "date")));
    check(
        "events",
        &data.events,
        as_day_of(micros(&data.events, "timestamp")),
    );
    check(
        "trials",
        &data.trials,
        as_days(days(&data.trials, "trial_start")),
    );
    check(
        "trials",
        &data.trials,
        as_days(days(&data.trials, "converted_at")),
    );
    check(
        "conversions",
        &data.conversions,
        as_days(days(&data.conversions, "timestamp")),
    );
    assert!(data.events.height() > 0, "raw events are on at this size");

    // No subscription ends before (or when) it starts; ends are null rather than after the history.
    let starts = days(&data.subscriptions, "start");
    for (s, e) in starts.iter().zip(days(&data.subscriptions, "end")) {
        if let Some(e) = e {
            assert!(e > s.unwrap() && e < end);
        }
    }
    // A subscription id names one subscription: its rows (status spells) start on distinct days,
    // and it belongs to its customer.
    let sub_ids = ids(&data.subscriptions, "subscription_id");
    let keys: HashSet<(i64, Option<i32>)> = sub_ids.iter().copied().zip(starts.clone()).collect();
    assert_eq!(keys.len(), sub_ids.len());
    for (id, customer) in sub_ids.iter().zip(ids(&data.subscriptions, "customer_id")) {
        assert_eq!(id / 1000, customer);
    }
    // Rows are ordered by customer, then start.
    let customer_col = ids(&data.subscriptions, "customer_id");
    for i in 1..starts.len() {
        assert!((customer_col[i - 1], starts[i - 1]) <= (customer_col[i], starts[i]));
    }
    let ticket_ids = ids(&data.tickets, "ticket_id");
    assert_eq!(
        ticket_ids.iter().collect::<HashSet<_>>().len(),
        ticket_ids.len()
    );
    // Tickets: resolved after opened, reopened after resolved.
    let opened = micros(&data.tickets, "opened_at");
    let resolved = micros(&data.tickets, "resolved_at");
    let reopened = micros(&data.tickets, "reopened_at");
    for ((o, r), x) in opened.iter().zip(&resolved).zip(&reopened) {
        if let Some(r) = r {
            assert!(r > &o.unwrap());
        }
        if let Some(x) = x {
            assert!(x >= &r.unwrap());
        }
    }
    // Every trial has its $0 trial subscription.
    let trial_rows = strings(&data.subscriptions, "plan")
        .iter()
        .filter(|p| *p == "trial")
        .count();
    assert_eq!(trial_rows, data.trials.height());
    // Amounts: $0 only on trial and free plans; purchases at least a cent.
    for (plan, amount) in strings(&data.subscriptions, "plan")
        .iter()
        .zip(floats(&data.subscriptions, "amount"))
    {
        assert_eq!(
            amount == 0.0,
            plan == "trial" || plan == "free",
            "{plan} {amount}"
        );
    }
    assert!(floats(&data.transactions, "amount")
        .iter()
        .all(|a| *a >= 0.01));
}

#[test]
fn raw_events_aggregate_to_usage() {
    let data = saas(&SaasParams {
        customers: 300,
        usage_days: 60,
        seed: 2,
        ..Default::default()
    })
    .unwrap();
    let mut from_events: HashMap<(i64, i64, String), (HashSet<i64>, i32)> = HashMap::new();
    let (customer, user, time, feature) = (
        ids(&data.events, "customer_id"),
        ids(&data.events, "user_id"),
        micros(&data.events, "timestamp"),
        strings(&data.events, "feature"),
    );
    for i in 0..customer.len() {
        assert_eq!(user[i] / 1000, customer[i]);
        let entry = from_events
            .entry((
                customer[i],
                time[i].unwrap().div_euclid(DAY),
                feature[i].clone(),
            ))
            .or_default();
        entry.0.insert(user[i]);
        entry.1 += 1;
    }
    let usage = &data.usage;
    assert_eq!(from_events.len(), usage.height());
    let users = usage.column("active_users").unwrap().i32().unwrap();
    let events = usage.column("events").unwrap().i32().unwrap();
    let (c, d, f) = (
        ids(usage, "customer_id"),
        days(usage, "date"),
        strings(usage, "feature"),
    );
    for row in 0..usage.height() {
        let (distinct, count) = &from_events[&(c[row], i64::from(d[row].unwrap()), f[row].clone())];
        assert_eq!(distinct.len() as i32, users.get(row).unwrap());
        assert_eq!(*count, events.get(row).unwrap());
    }
    let big = saas(&SaasParams {
        customers: 300,
        raw_events_limit: 299,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(big.events.height(), 0);
    assert_eq!(big.events.width(), 4);
}

#[test]
fn invalid_parameters_name_the_option() {
    let cases: Vec<(SaasParams, &str)> = vec![
        (
            SaasParams {
                customers: 0,
                ..Default::default()
            },
            "customers",
        ),
        (
            SaasParams {
                months: 0,
                ..Default::default()
            },
            "months",
        ),
        (
            SaasParams {
                churn_hazard: 0.5,
                ..Default::default()
            },
            "churn_hazard",
        ),
        (
            SaasParams {
                churn_hazard: f64::NAN,
                ..Default::default()
            },
            "churn_hazard",
        ),
        (
            SaasParams {
                trial_share: -0.1,
                ..Default::default()
            },
            "trial_share",
        ),
        (
            SaasParams {
                mean_seats: 0.5,
                ..Default::default()
            },
            "mean_seats",
        ),
        (
            SaasParams {
                past_due_rate: 1.5,
                ..Default::default()
            },
            "past_due_rate",
        ),
        (
            SaasParams {
                cancel_notice_share: f64::NAN,
                ..Default::default()
            },
            "cancel_notice_share",
        ),
        (
            SaasParams {
                usage_days: 10_000,
                ..Default::default()
            },
            "usage_days",
        ),
        (
            SaasParams {
                purchases: PurchaseModel {
                    alpha: 0.0,
                    ..Default::default()
                },
                ..Default::default()
            },
            "alpha",
        ),
        (
            SaasParams {
                purchases: PurchaseModel {
                    r: 50.0,
                    alpha: 1.0,
                    ..Default::default()
                },
                ..Default::default()
            },
            "r/alpha",
        ),
    ];
    for (p, option) in cases {
        let err = saas(&p).unwrap_err().to_string();
        assert!(err.contains(&format!("option {option}=")), "{err}");
    }
}

#[test]
fn start_in_mid_month_adds_a_cost_period() {
    let p = SaasParams {
        customers: 100,
        months: 3,
        start: days_from_civil(2024, 1, 31) as i32,
        usage_days: 10,
        ..Default::default()
    };
    assert_eq!(p.end(), days_from_civil(2024, 4, 30) as i32);
    let data = saas(&p).unwrap();
    let periods: Vec<i32> = days(&data.costs, "period")
        .into_iter()
        .map(Option::unwrap)
        .collect();
    let expected: Vec<i32> = [1, 2, 3, 4]
        .iter()
        .map(|&m| days_from_civil(2024, m, 1) as i32)
        .collect();
    assert_eq!(periods, expected);
}

/// A fingerprint of a small business, pinned: the same on every machine (the draws use only
/// integer arithmetic, IEEE basic operations and `libm`). A change here means the generator's
/// output changed: intended changes update the numbers (and say so in the changelog).
#[test]
fn fingerprint_is_pinned() {
    let data = saas(&params(300, 42)).unwrap();
    let rows: Vec<usize> = data.tables().iter().map(|(_, f)| f.height()).collect();
    let cents = |frame: &DataFrame| -> i64 {
        floats(frame, "amount")
            .iter()
            .map(|a| (a * 100.0).round() as i64)
            .sum()
    };
    let micros_sum = |frame: &DataFrame, name: &str| -> i64 {
        micros(frame, name)
            .iter()
            .flatten()
            .fold(0i64, |acc, t| acc.wrapping_add(*t))
    };
    let events: i64 = data
        .usage
        .column("events")
        .unwrap()
        .i32()
        .unwrap()
        .iter()
        .map(|e| i64::from(e.unwrap()))
        .sum();
    let nps: i64 = data
        .surveys
        .column("nps")
        .unwrap()
        .i8()
        .unwrap()
        .iter()
        .map(|e| i64::from(e.unwrap()))
        .sum();
    // Subscriptions: the cents of amount x quantity, and the cents of percent and amount off.
    let subs = &data.subscriptions;
    let billed: i64 = floats(subs, "amount")
        .iter()
        .zip(opt_ints(subs, "quantity"))
        .map(|(a, q)| (a * 100.0).round() as i64 * i64::from(q.unwrap()))
        .sum();
    let off: i64 = opt_floats(subs, "percent_off")
        .iter()
        .chain(&opt_floats(subs, "amount_off"))
        .flatten()
        .map(|v| (v * 100.0).round() as i64)
        .sum();
    let fingerprint = (
        rows,
        (billed, off),
        cents(&data.transactions),
        micros_sum(&data.transactions, "timestamp"),
        micros_sum(&data.tickets, "resolved_at"),
        events,
        nps,
    );
    let expected = (
        vec![300, 553, 602, 500, 517, 3148, 99810, 24, 90, 307, 679],
        (102_504_852, 258_400),
        1_686_766,
        1_027_503_610_768_077_991,
        883_976_120_357_803_030,
        99_810,
        3_737,
    );
    assert_eq!(fingerprint, expected);
}

/// The billing detail of the subscriptions: status spells, seats, discounts, cancellations and
/// churn reasons, row by row and subscription by subscription.
#[test]
fn billing_detail_invariants() {
    let p = SaasParams {
        customers: 6_000,
        usage_days: 0,
        seed: 31,
        ..Default::default()
    };
    let end = p.end();
    let data = saas(&p).unwrap();
    let subs = &data.subscriptions;
    let (customer, start, stop) = (
        ids(subs, "customer_id"),
        days(subs, "start"),
        days(subs, "end"),
    );
    let (plan, status) = (strings(subs, "plan"), strings(subs, "status"));
    let (amount, interval) = (floats(subs, "amount"), strings(subs, "interval"));
    let count = opt_ints(subs, "interval_count");
    let quantity = opt_ints(subs, "quantity");
    let (percent, amount_off) = (
        opt_floats(subs, "percent_off"),
        opt_floats(subs, "amount_off"),
    );
    let duration = opt_strings(subs, "discount_duration");
    let months = opt_ints(subs, "duration_in_months");
    let discount_start = days(subs, "discount_start");
    let canceled_at = days(subs, "canceled_at");
    let reason = opt_strings(subs, "churn_reason");
    assert_eq!(
        subs.column("discount_end").unwrap().null_count(),
        subs.height()
    );

    let base_paid = |i: usize| amount[i] > 0.0 && !plan[i].starts_with("addon");
    // Days on which a customer's base plan (free or paid) starts: a row ending that day was
    // replaced by a plan change (or a free customer started to pay), not churned.
    let mut base_starts: HashSet<(i64, i32)> = HashSet::new();
    for i in 0..subs.height() {
        if plan[i] != "trial" && !plan[i].starts_with("addon") {
            base_starts.insert((customer[i], start[i].unwrap()));
        }
    }
    let mut seen = [0usize; 4]; // past-due recovered, paused, seat changes, failed payments
    for rows in spells(subs).values() {
        let first = rows[0];
        for pair in rows.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            // Contiguous: the next spell starts the day the previous ends.
            assert_eq!(stop[a], start[b], "rows {a} and {b}");
            // One subscription: same plan, price, billing and discount.
            assert_eq!(
                (&plan[a], amount[a], &interval[a], count[a]),
                (&plan[b], amount[b], &interval[b], count[b])
            );
            assert_eq!(
                (percent[a], amount_off[a], &duration[a], months[a]),
                (percent[b], amount_off[b], &duration[b], months[b])
            );
            assert_ne!(
                (&status[a], quantity[a]),
                (&status[b], quantity[b]),
                "a spell changes status or seats"
            );
            // Only the last row is canceled or has a churn reason.
            assert!(canceled_at[a].is_none() && reason[a].is_none());
            let days_in = stop[a].unwrap() - start[a].unwrap();
            match status[a].as_str() {
                "past_due" => {
                    // Recovered: back to active after 3 to 21 days.
                    assert_eq!(status[b], "active");
                    assert!((3..=21).contains(&days_in), "{days_in}");
                    seen[0] += 1;
                }
                "paused" => {
                    assert_eq!(status[b], "active", "a pause resumes");
                    assert!((28..=92).contains(&days_in), "{days_in}");
                    assert_eq!((interval[a].as_str(), count[a]), ("month", Some(1)));
                    seen[1] += 1;
                }
                _ => {
                    assert_eq!(status[a], "active");
                    if status[b] == "active" {
                        assert_ne!(quantity[a], quantity[b]);
                        seen[2] += 1;
                    }
                }
            }
        }
        for &i in rows {
            assert!(quantity[i].unwrap() >= 1);
            assert_eq!(status[i] == "trialing", plan[i] == "trial");
            if !base_paid(i) {
                assert!(status[i] == "trialing" || status[i] == "active");
                assert!(percent[i].is_none() && amount_off[i].is_none());
                assert_eq!(quantity[i], Some(1), "{}", plan[i]);
            }
            // Discounts: one of percent or amount off, a known duration, months when repeating,
            // from the subscription's first start.
            let discounted = percent[i].is_some() || amount_off[i].is_some();
            assert_eq!(discounted, duration[i].is_some());
            assert_eq!(discounted, discount_start[i].is_some());
            if discounted {
                assert!(percent[i].is_none() || amount_off[i].is_none());
                if let Some(pct) = percent[i] {
                    assert!([10.0, 20.0, 25.0, 50.0].contains(&pct), "{pct}");
                }
                if let Some(off) = amount_off[i] {
                    assert!(off >= 1.0 && off.fract() == 0.0, "{off}");
                }
                assert_eq!(discount_start[i], start[first]);
                let d = duration[i].as_deref().unwrap();
                assert!(["once", "repeating", "forever"].contains(&d));
                assert_eq!(d == "repeating", months[i].is_some());
                if let Some(m) = months[i] {
                    assert!([3, 6, 12].contains(&m));
                }
            } else {
                assert!(months[i].is_none());
            }
        }
        // The last row: its end, cancellation request and churn reason.
        let last = *rows.last().unwrap();
        let (s, e) = (start[last].unwrap(), stop[last]);
        if let Some(c) = canceled_at[last] {
            assert!(base_paid(last), "requests only on paid plans");
            assert!(c > s && c < end, "requested inside the row");
            if let Some(e) = e {
                assert!(c < e && e - c <= 42, "asked 1 to 42 days before the end");
                assert_eq!(reason[last].as_deref(), Some("cancellation_requested"));
            }
        }
        match (e, reason[last].as_deref()) {
            (None, r) => assert!(r.is_none(), "no churn reason while running"),
            (Some(_), Some("payment_failed")) if !plan[last].starts_with("addon") => {
                assert_eq!(status[last], "past_due");
                assert!(canceled_at[last].is_none());
                let days_in = e.unwrap() - s;
                assert!((7..=28).contains(&days_in), "dunning for {days_in} days");
                seen[3] += 1;
            }
            (Some(e), r) => {
                let replaced = base_starts.contains(&(customer[last], e));
                let churned =
                    plan[last] != "trial" && (plan[last].starts_with("addon") || !replaced);
                assert_eq!(
                    r.is_some(),
                    churned,
                    "row {last}: {} ending {e}, reason {r:?}",
                    plan[last]
                );
                if let Some(r) = r {
                    assert!(r == "cancellation_requested" || plan[last].starts_with("addon"));
                    assert!(
                        status[last] != "past_due",
                        "a past-due end is a failed payment"
                    );
                }
            }
        }
    }
    assert!(seen.iter().all(|&n| n > 20), "{seen:?}");
    assert!(canceled_at.iter().flatten().count() > 100);
    // Some cancellations are asked for before the end of the history and take effect after it.
    assert!((0..subs.height()).any(|i| canceled_at[i].is_some() && stop[i].is_none()));
}

#[test]
fn billing_parameters_leave_other_tables_unchanged() {
    let base = params(300, 6);
    let other = SaasParams {
        seat_share: 0.9,
        discount_share: 0.7,
        pause_rate: 0.2,
        past_due_rate: 0.3,
        failed_payment_share: 0.8,
        cancel_notice_share: 1.0,
        ..base.clone()
    };
    let (a, b) = (saas(&base).unwrap(), saas(&other).unwrap());
    for ((name, x), (_, y)) in a.tables().iter().zip(b.tables().iter()) {
        assert_eq!(x.equals_missing(y), *name != "subscriptions", "{name}");
    }
    // Without billing detail, every paid subscription is one active row, as before.
    let none = SaasParams {
        seat_share: 0.0,
        discount_share: 0.0,
        pause_rate: 0.0,
        past_due_rate: 0.0,
        failed_payment_share: 0.0,
        cancel_notice_share: 0.0,
        ..base
    };
    let plain = saas(&none).unwrap().subscriptions;
    let statuses = strings(&plain, "status");
    assert!(statuses.iter().all(|s| s == "active" || s == "trialing"));
    let sub_ids = ids(&plain, "subscription_id");
    assert_eq!(sub_ids.iter().collect::<HashSet<_>>().len(), plain.height());
    assert_eq!(
        plain.column("percent_off").unwrap().null_count(),
        plain.height()
    );
    assert_eq!(
        plain.column("canceled_at").unwrap().null_count(),
        plain.height()
    );
}

/// Milestones follow the journey in order, after the signup and before the end of the history;
/// first responses fall between the opening and the resolution of their ticket.
#[test]
fn milestones_and_first_responses_are_consistent() {
    let p = params(4_000, 11);
    let end = i64::from(p.end()) * MICROS_PER_DAY;
    let data = saas(&p).unwrap();
    let signup: HashMap<i64, i64> = ids(&data.customers, "customer_id")
        .into_iter()
        .zip(days(&data.customers, "signup_date"))
        .map(|(c, d)| (c, i64::from(d.unwrap()) * MICROS_PER_DAY))
        .collect();
    let m = &data.milestones;
    let (customer, stage, at) = (
        ids(m, "customer_id"),
        strings(m, "milestone"),
        micros(m, "timestamp"),
    );
    let mut reached = [0usize; 5];
    for row in 0..m.height() {
        let k = MILESTONES.iter().position(|s| *s == stage[row]).unwrap();
        reached[k] += 1;
        let t = at[row].unwrap();
        assert!(t >= signup[&customer[row]] && t < end);
        if k == 0 {
            assert!(row == 0 || customer[row - 1] != customer[row]);
        } else {
            // The previous stage of the same customer, earlier or at the same time.
            assert_eq!(customer[row - 1], customer[row]);
            assert_eq!(stage[row - 1], MILESTONES[k - 1]);
            assert!(at[row - 1].unwrap() <= t);
        }
    }
    // Drop-off: each stage reached less often than the one before.
    assert!(reached.windows(2).all(|w| w[1] < w[0]), "{reached:?}");
    let t = &data.tickets;
    let (opened, first, resolved) = (
        micros(t, "opened_at"),
        micros(t, "first_response_at"),
        micros(t, "resolved_at"),
    );
    let mut answered = 0;
    for row in 0..t.height() {
        if let Some(f) = first[row] {
            answered += 1;
            assert!(f >= opened[row].unwrap() && f < end);
            if let Some(r) = resolved[row] {
                assert!(f <= r);
            }
        } else {
            assert!(resolved[row].is_none());
        }
    }
    assert!(answered > t.height() * 9 / 10);
    let priorities: HashSet<String> = strings(t, "priority").into_iter().collect();
    assert_eq!(priorities.len(), 3);
}
