//! Tests of the synthetic business: determinism, ranges, schemas, referential integrity,
//! validation and a pinned fingerprint. The planted behaviour is tested in `behaviour_tests`.

#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};

use polars::prelude::*;

use super::*;
use crate::period::days_from_civil;

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
    let sub_ids = ids(&data.subscriptions, "subscription_id");
    assert_eq!(sub_ids.iter().collect::<HashSet<_>>().len(), sub_ids.len());
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
    let fingerprint = (
        rows,
        cents(&data.subscriptions),
        cents(&data.transactions),
        micros_sum(&data.transactions, "timestamp"),
        micros_sum(&data.tickets, "resolved_at"),
        events,
        nps,
    );
    let expected = (
        vec![300, 412, 602, 500, 517, 3148, 99810, 24, 90, 307],
        92_639_770,
        1_686_766,
        1_027_503_610_768_077_991,
        883_976_120_357_803_030,
        99_810,
        3_737,
    );
    assert_eq!(fingerprint, expected);
}
