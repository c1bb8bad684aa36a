//! Tests of the behaviour planted in the synthetic business, against expectations computed
//! independently of the generator: churn at the configured hazard, low scores before churn,
//! purchases at the BG/NBD and Gamma-Gamma expectations, costs that follow paying customers.

#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};

use super::saas_tests::{days, floats, ids, micros, params, strings, DAY};
use super::*;
use crate::period::days_from_civil;

/// (start, end) of each paid row of a customer.
type Rows = Vec<(i32, Option<i32>)>;

/// Paid rows (amount > 0) per customer, and the customers billed monthly (interval_count 1).
fn paid_rows(data: &SaasTables) -> (HashMap<i64, Rows>, HashSet<i64>) {
    let subs = &data.subscriptions;
    let (customer, start, end) = (
        ids(subs, "customer_id"),
        days(subs, "start"),
        days(subs, "end"),
    );
    let (amount, plan, interval) = (
        floats(subs, "amount"),
        strings(subs, "plan"),
        strings(subs, "interval"),
    );
    let count: Vec<i32> = subs
        .column("interval_count")
        .unwrap()
        .i32()
        .unwrap()
        .iter()
        .map(Option::unwrap)
        .collect();
    let mut rows: HashMap<i64, Rows> = HashMap::new();
    let mut other_billing = HashSet::new();
    for i in 0..subs.height() {
        if amount[i] > 0.0 {
            rows.entry(customer[i])
                .or_default()
                .push((start[i].unwrap(), end[i]));
            if !plan[i].starts_with("addon") && (interval[i] != "month" || count[i] != 1) {
                other_billing.insert(customer[i]);
            }
        }
    }
    let monthly = rows
        .keys()
        .filter(|c| !other_billing.contains(c))
        .copied()
        .collect();
    (rows, monthly)
}

/// Whether a customer with these paid rows is active at the last instant before `day`.
fn active_before(rows: &[(i32, Option<i32>)], day: i32) -> bool {
    rows.iter()
        .any(|&(s, e)| s < day && e.is_none_or(|e| e >= day))
}

#[test]
fn monthly_logo_churn_matches_the_hazard() {
    let hazard = 0.05;
    let p = SaasParams {
        customers: 20_000,
        churn_hazard: hazard,
        usage_days: 0,
        seed: 11,
        ..Default::default()
    };
    let data = saas(&p).unwrap();
    let (rows, monthly) = paid_rows(&data);
    let month_ends: Vec<i32> = (1..=p.months)
        .map(|k| days_from_civil(2023 + i64::from(k / 12), k % 12 + 1, 1) as i32)
        .collect();
    let (mut at_risk, mut churned) = (0u64, 0u64);
    for customer in &monthly {
        let rows = &rows[customer];
        for pair in month_ends.windows(2) {
            if active_before(rows, pair[0]) {
                at_risk += 1;
                churned += u64::from(!active_before(rows, pair[1]));
            }
        }
    }
    let rate = churned as f64 / at_risk as f64;
    let se = (hazard * (1.0 - hazard) / at_risk as f64).sqrt();
    assert!(at_risk > 50_000, "{at_risk}");
    eprintln!(
        "monthly churn {rate:.5} over {at_risk} customer-months (hazard {hazard}, se {se:.5})"
    );
    assert!(
        (rate - hazard).abs() < 4.0 * se,
        "monthly churn {rate:.4} vs hazard {hazard} (se {se:.5})"
    );
}

#[test]
fn detractors_churn_more_than_promoters() {
    let data = saas(&SaasParams {
        customers: 20_000,
        usage_days: 0,
        seed: 12,
        ..Default::default()
    })
    .unwrap();
    let (rows, _) = paid_rows(&data);
    let surveys = &data.surveys;
    let (customer, day) = (ids(surveys, "customer_id"), days(surveys, "timestamp"));
    let nps = surveys.column("nps").unwrap().i8().unwrap();
    // [answers, churned within 15 days] for detractors (0-6) and promoters (9-10).
    let mut counts = [[0u32; 2]; 2];
    for i in 0..surveys.height() {
        let (score, day) = (nps.get(i).unwrap(), day[i].unwrap());
        let group = match score {
            0..=6 => 0,
            9..=10 => 1,
            _ => continue,
        };
        if day + 15 >= p_end() {
            continue;
        }
        let rows = &rows[&customer[i]];
        counts[group][0] += 1;
        counts[group][1] +=
            u32::from(active_before(rows, day + 1) && !active_before(rows, day + 16));
    }
    let rate = |c: [u32; 2]| f64::from(c[1]) / f64::from(c[0]);
    let (detractors, promoters) = (rate(counts[0]), rate(counts[1]));
    assert!(counts[0][0] > 2_000 && counts[1][0] > 2_000, "{counts:?}");
    eprintln!(
        "churn after a detractor {detractors:.4}, after a promoter {promoters:.4} ({counts:?})"
    );
    assert!(
        detractors > 3.0 * promoters,
        "detractors {detractors:.4} vs promoters {promoters:.4}"
    );
}

fn p_end() -> i32 {
    SaasParams::default().end()
}

/// E[X(t)] of the BG/NBD by one-dimensional quadrature over the dropout probability p, with the
/// purchase rate integrated out in closed form: E[X(t) | p] = (1 - (α / (α + p t))^r) / p. The
/// substitution p = u^(1/a) removes the beta density's singularity at 0.
fn expected_repeat_purchases(model: &PurchaseModel, t: f64) -> f64 {
    let n = 4_000;
    let (mut total, mut weight) = (0.0, 0.0);
    for i in 0..n {
        let u = (i as f64 + 0.5) / n as f64;
        let p = u.powf(1.0 / model.a);
        let w = (1.0 - p).powf(model.b - 1.0);
        let conditional = (1.0 - (model.alpha / (model.alpha + p * t)).powf(model.r)) / p;
        total += w * conditional;
        weight += w;
    }
    total / weight
}

#[test]
fn purchases_follow_the_bgnbd_and_gamma_gamma_expectations() {
    let p = SaasParams {
        customers: 30_000,
        usage_days: 0,
        seed: 13,
        ..Default::default()
    };
    let data = saas(&p).unwrap();
    let tx = &data.transactions;
    let (customer, time, amount) = (
        ids(tx, "customer_id"),
        micros(tx, "timestamp"),
        floats(tx, "amount"),
    );
    let end = i64::from(p.end()) * DAY;
    // Per customer: the first purchase (its birth) and the number of repeat purchases.
    let mut first: HashMap<i64, i64> = HashMap::new();
    let mut repeats: HashMap<i64, f64> = HashMap::new();
    for (c, t) in customer.iter().zip(&time) {
        let t = t.unwrap();
        match first.get(c) {
            None => {
                first.insert(*c, t);
                repeats.insert(*c, 0.0);
            }
            Some(&birth) => {
                assert!(t >= birth);
                *repeats.get_mut(c).unwrap() += 1.0;
            }
        }
    }
    assert_eq!(first.len(), 30_000, "every customer makes a first purchase");
    let mut cache: HashMap<i64, f64> = HashMap::new();
    let mut expected = 0.0;
    for birth in first.values() {
        let weeks_key = (end - birth) / (DAY / 4); // quarter-day resolution
        let e = *cache
            .entry(weeks_key)
            .or_insert_with(|| expected_repeat_purchases(&p.purchases, weeks_key as f64 / 28.0));
        expected += e;
    }
    let n = first.len() as f64;
    let observed: Vec<f64> = repeats.values().copied().collect();
    let mean = observed.iter().sum::<f64>() / n;
    let sd = (observed.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let expected = expected / n;
    assert!(
        (mean - expected).abs() < 4.0 * sd / n.sqrt(),
        "repeat purchases {mean:.4} vs {expected:.4}"
    );
    assert!(
        (mean / expected - 1.0).abs() < 0.08,
        "repeat purchases {mean:.4} vs {expected:.4}"
    );

    let mean_amount = amount.iter().sum::<f64>() / amount.len() as f64;
    let target = p.purchases.mean_amount();
    assert!(
        (mean_amount / target - 1.0).abs() < 0.03,
        "mean amount {mean_amount:.3} vs {target:.3}"
    );
}

#[test]
fn costs_follow_paying_customers() {
    let p = params(2_000, 21);
    let data = saas(&p).unwrap();
    let (rows, _) = paid_rows(&data);
    let segment: HashMap<i64, String> = ids(&data.customers, "customer_id")
        .into_iter()
        .zip(strings(&data.customers, "segment"))
        .collect();
    let periods: Vec<i32> = days(&data.costs, "period")
        .into_iter()
        .map(Option::unwrap)
        .collect();
    let mut next = periods[1..].to_vec();
    next.push(p.end());
    for ((from, to), amount) in periods.iter().zip(&next).zip(floats(&data.costs, "amount")) {
        let mut expected = 0.0;
        for (customer, rows) in &rows {
            // Active at any time in [from, to): some paid row overlaps it.
            if rows
                .iter()
                .any(|&(s, e)| s < *to && e.is_none_or(|e| e > *from))
            {
                expected += match segment[customer].as_str() {
                    "smb" => 1.5,
                    "mid_market" => 6.0,
                    _ => 25.0,
                };
            }
        }
        assert!(
            (amount - expected).abs() < 1e-6,
            "period {from}: {amount} vs {expected}"
        );
    }
}
