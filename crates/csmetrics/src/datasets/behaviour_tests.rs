//! Tests of the behaviour planted in the synthetic business, against expectations computed
//! independently of the generator: churn at the configured hazard, low scores before churn,
//! purchases at the BG/NBD and Gamma-Gamma expectations, costs that follow paying customers.

#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};

use super::lifecycle::{add_months, civil};
use super::saas_tests::{
    days, floats, ids, micros, opt_floats, opt_ints, opt_strings, params, spells, strings, DAY,
};
use super::*;
use crate::period::days_from_civil;

/// (start, end) of each paid row of a customer.
type Rows = Vec<(i32, Option<i32>)>;

/// Paid rows (amount > 0) per customer, and the customers billed monthly (interval_count 1).
/// The past-due days of a failed payment before the end (`churn_reason = "payment_failed"`)
/// are left out, so that churn is dated at the failed renewal, as the lifecycle decides it; the
/// other (recovered) past-due rows are left out too unless `past_due` (the customer stays a
/// customer, but those days are not paid time).
fn paid_rows(data: &SaasTables, past_due: bool) -> (HashMap<i64, Rows>, HashSet<i64>) {
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
    let status = strings(subs, "status");
    let reason = opt_strings(subs, "churn_reason");
    let mut rows: HashMap<i64, Rows> = HashMap::new();
    let mut other_billing = HashSet::new();
    for i in 0..subs.height() {
        let dunning = reason[i].as_deref() == Some("payment_failed") && status[i] == "past_due";
        if amount[i] > 0.0 && !dunning && (past_due || status[i] != "past_due") {
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
    let (rows, monthly) = paid_rows(&data, true);
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
    let (rows, _) = paid_rows(&data, true);
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
    let (rows, _) = paid_rows(&data, false);
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

/// `observed` successes out of `n` against probability `p`, within 4 standard errors.
fn assert_rate(what: &str, observed: usize, n: usize, p: f64) {
    assert!(n > 300, "{what}: only {n} trials");
    let rate = observed as f64 / n as f64;
    let se = (p * (1.0 - p) / n as f64).sqrt();
    eprintln!("{what}: {rate:.4} over {n} (expected {p}, se {se:.4})");
    assert!(
        (rate - p).abs() < 4.0 * se + 1e-12,
        "{what}: {rate:.4} over {n} vs {p} (se {se:.4})"
    );
}

/// Monthly list price of each paid tier.
fn list_price(plan: &str) -> Option<f64> {
    match plan {
        "starter" => Some(49.0),
        "growth" => Some(149.0),
        "business" => Some(499.0),
        "enterprise" => Some(1999.0),
        _ => None,
    }
}

#[test]
fn billing_detail_follows_its_parameters() {
    let p = SaasParams {
        customers: 20_000,
        usage_days: 0,
        seat_share: 0.4,
        seat_change_rate: 0.05,
        pause_rate: 0.03,
        seed: 41,
        ..Default::default()
    };
    let (history_end, mean_seats) = (p.end(), p.mean_seats);
    let data = saas(&p).unwrap();
    let subs = &data.subscriptions;
    let (customer, start, stop) = (
        ids(subs, "customer_id"),
        days(subs, "start"),
        days(subs, "end"),
    );
    let (plan, status, interval) = (
        strings(subs, "plan"),
        strings(subs, "status"),
        strings(subs, "interval"),
    );
    let amount = floats(subs, "amount");
    let count = opt_ints(subs, "interval_count");
    let quantity = opt_ints(subs, "quantity");
    let percent = opt_floats(subs, "percent_off");
    let duration = opt_strings(subs, "discount_duration");
    let canceled_at = days(subs, "canceled_at");
    let reason = opt_strings(subs, "churn_reason");
    let segment: HashMap<i64, String> = ids(&data.customers, "customer_id")
        .into_iter()
        .zip(strings(&data.customers, "segment"))
        .collect();
    let new_sales: HashSet<(i64, i32)> = ids(&data.conversions, "customer_id")
        .into_iter()
        .zip(days(&data.conversions, "timestamp"))
        .zip(strings(&data.conversions, "kind"))
        .filter(|(_, kind)| kind == "new")
        .map(|((c, d), _)| (c, d.unwrap()))
        .collect();
    let monthly_mrr = |i: usize| {
        let months = if interval[i] == "year" {
            12.0
        } else {
            f64::from(count[i].unwrap())
        };
        amount[i] * f64::from(quantity[i].unwrap()) / months
    };
    let spells = spells(subs);

    // Per-seat pricing: a row is flat when its quantity is 1 and its amount the billed price of
    // a whole number of units of its plan; a customer is per seat when its first paid row is
    // not flat, and then every paid row of the other customers is flat. smb customers (one
    // unit) start with mean_seats seats on average, and the MRR (amount x quantity / months) of
    // a per-seat starter plan is the flat one's.
    let mut first_paid: HashMap<i64, usize> = HashMap::new();
    for i in 0..subs.height() {
        if list_price(&plan[i]).is_some() {
            first_paid.entry(customer[i]).or_insert(i);
        }
    }
    let flat = |i: usize| {
        let price = list_price(&plan[i]).unwrap();
        let billed = |units: f64| match (interval[i].as_str(), count[i].unwrap()) {
            ("month", 1) => price * units,
            ("month", _) => (price * units * 3.0 * 0.95 * 100.0).round() / 100.0,
            _ => price * units * 10.0,
        };
        quantity[i] == Some(1) && (1..=60).any(|u| (amount[i] - billed(f64::from(u))).abs() < 1e-9)
    };
    let per_seat: Vec<usize> = first_paid.values().copied().filter(|&i| !flat(i)).collect();
    assert_rate(
        "per-seat customers",
        per_seat.len(),
        first_paid.len(),
        p.seat_share,
    );
    let seated: HashSet<i64> = per_seat.iter().map(|&i| customer[i]).collect();
    for i in 0..subs.height() {
        if list_price(&plan[i]).is_some() && !seated.contains(&customer[i]) {
            assert!(
                flat(i),
                "row {i}: a flat plan with quantity {:?}",
                quantity[i]
            );
        }
    }
    let smb: Vec<f64> = per_seat
        .iter()
        .filter(|&&i| segment[&customer[i]] == "smb")
        .map(|&i| f64::from(quantity[i].unwrap()))
        .collect();
    let n = smb.len() as f64;
    let mean = smb.iter().sum::<f64>() / n;
    let se = ((mean_seats - 1.0) / n).sqrt(); // 1 + Poisson(mean_seats - 1)
    assert!(
        (mean - mean_seats).abs() < 4.0 * se,
        "smb seats {mean:.3} vs {mean_seats}"
    );
    let starter: Vec<f64> = per_seat
        .iter()
        .filter(|&&i| plan[i] == "starter" && interval[i] == "month" && count[i] == Some(1))
        .filter(|&&i| segment[&customer[i]] == "smb")
        .map(|&i| monthly_mrr(i))
        .collect();
    let n = starter.len() as f64;
    let mean = starter.iter().sum::<f64>() / n;
    let se = 9.8 * ((mean_seats - 1.0) / n).sqrt();
    assert!(
        (mean - 49.0).abs() < 4.0 * se,
        "per-seat starter MRR {mean:.2} vs 49"
    );

    // Discounts on new subscriptions (a paid plan started by a "new" sale), none on plan changes.
    let (mut new_subscriptions, mut discounted, mut percent_off) = (0, 0, 0);
    let mut durations: HashMap<String, usize> = HashMap::new();
    for rows in spells.values() {
        let first = rows[0];
        if list_price(&plan[first]).is_none() {
            continue;
        }
        let has = duration[first].is_some();
        if new_sales.contains(&(customer[first], start[first].unwrap())) {
            new_subscriptions += 1;
            if has {
                discounted += 1;
                percent_off += usize::from(percent[first].is_some());
                *durations
                    .entry(duration[first].clone().unwrap())
                    .or_default() += 1;
            }
        } else {
            assert!(!has, "a plan change starts without a discount");
        }
    }
    assert_rate(
        "discounted",
        discounted,
        new_subscriptions,
        p.discount_share,
    );
    assert_rate("percent off", percent_off, discounted, 0.75);
    for (name, share) in [("once", 0.3), ("repeating", 0.5), ("forever", 0.2)] {
        assert_rate(name, durations[name], discounted, share);
    }

    // Renewals of paid base subscriptions (from their first start, days 1-28 so that the day of
    // the month never moves) that the lifecycle continues, more than 30 days before the end: a
    // past-due spell, else a pause (monthly billing), else a seat change (per seat).
    let status_at = |rows: &[usize], day: i32| {
        rows.iter()
            .copied()
            .find(|&i| start[i].unwrap() <= day && stop[i].is_none_or(|e| day < e))
    };
    let (mut exposed, mut past_due) = (0, 0);
    let (mut monthly_exposed, mut paused) = (0, 0);
    let (mut seat_exposed, mut seat_changes) = (0, 0);
    let (mut failed, mut voluntary, mut noticed) = (0, 0, 0);
    for rows in spells.values() {
        let first = rows[0];
        if list_price(&plan[first]).is_none() {
            continue;
        }
        let last = *rows.last().unwrap();
        let anchor = civil(start[first].unwrap());
        let term = if interval[first] == "year" {
            12
        } else {
            count[first].unwrap() as u32
        };
        let last_end = stop[last].unwrap_or(history_end);
        if anchor.2 <= 28 {
            for j in 1.. {
                let renewal = add_months(anchor, j * term);
                if renewal >= last_end || renewal >= history_end - 30 {
                    break;
                }
                let before = status_at(rows, renewal - 1).unwrap();
                let at = status_at(rows, renewal).unwrap();
                if status[before] != "active" {
                    continue; // paused: no payment, no draw
                }
                if at == last && reason[last].as_deref() == Some("payment_failed") {
                    continue; // the lifecycle cancelled here
                }
                exposed += 1;
                let starts_here = start[at] == Some(renewal);
                if starts_here && status[at] == "past_due" {
                    past_due += 1;
                    continue;
                }
                if term == 1 {
                    monthly_exposed += 1;
                    if starts_here && status[at] == "paused" {
                        paused += 1;
                        continue;
                    }
                    if !flat(first) {
                        seat_exposed += 1;
                        seat_changes +=
                            usize::from(starts_here && quantity[at] != quantity[before]);
                    }
                }
            }
        }
        // Cancellations more than 30 days before the end: failed payments are past-due last rows;
        // voluntary ones end an active row, some with a request.
        if let (Some(e), Some(r)) = (stop[last], reason[last].as_deref()) {
            let renewal = if r == "payment_failed" {
                start[last].unwrap()
            } else {
                e
            };
            if renewal < history_end - 30 {
                if r == "payment_failed" {
                    failed += 1;
                } else if status[last] == "active" {
                    voluntary += 1;
                    noticed += usize::from(canceled_at[last].is_some());
                }
            }
        }
    }
    assert_rate("past due", past_due, exposed, p.past_due_rate);
    assert_rate("paused", paused, monthly_exposed, p.pause_rate);
    assert_rate(
        "seat changes",
        seat_changes,
        seat_exposed,
        p.seat_change_rate,
    );
    assert_rate(
        "failed payments",
        failed,
        failed + voluntary,
        p.failed_payment_share,
    );
    assert_rate(
        "asked in advance",
        noticed,
        voluntary,
        p.cancel_notice_share,
    );
}

/// Per-seat plans keep the scale of the business's MRR: with the same seed (the same lifecycle),
/// every customer per seat against every customer flat, the first paid plan's MRR is the flat
/// one's in expectation (`1 + Poisson(u * mean_seats - 1)` seats at the plan's price over
/// `mean_seats`), and the MRR running at the end of the history differs by the seat changes'
/// small upward drift only.
#[test]
fn per_seat_pricing_keeps_the_mrr_scale() {
    let flat = SaasParams {
        customers: 20_000,
        usage_days: 0,
        seat_share: 0.0,
        seed: 43,
        ..Default::default()
    };
    let seats = SaasParams {
        seat_share: 1.0,
        ..flat.clone()
    };
    let (last_day, mean_seats) = (flat.end() - 1, flat.mean_seats);
    // Per customer: the MRR (amount x quantity / months) of the first paid row, and the MRR of
    // the rows running on the last day of the history.
    let mrr = |p: &SaasParams| {
        let subs = saas(p).unwrap().subscriptions;
        let (customer, start, stop) = (
            ids(&subs, "customer_id"),
            days(&subs, "start"),
            days(&subs, "end"),
        );
        let (plan, interval, amount) = (
            strings(&subs, "plan"),
            strings(&subs, "interval"),
            floats(&subs, "amount"),
        );
        let (count, quantity) = (
            opt_ints(&subs, "interval_count"),
            opt_ints(&subs, "quantity"),
        );
        // Per customer: (MRR, units of the plan at its list price).
        let mut first: HashMap<i64, (f64, f64)> = HashMap::new();
        let mut running = 0.0;
        for i in 0..subs.height() {
            let months = if interval[i] == "year" {
                12.0
            } else {
                f64::from(count[i].unwrap())
            };
            let value = amount[i] * f64::from(quantity[i].unwrap()) / months;
            if let Some(price) = list_price(&plan[i]) {
                let list = match (interval[i].as_str(), count[i].unwrap()) {
                    ("month", 1) => price,
                    ("month", _) => price * 0.95,
                    _ => price * 10.0 / 12.0,
                };
                first
                    .entry(customer[i])
                    .or_insert((value, (value / list).round()));
            }
            if start[i].unwrap() <= last_day && stop[i].is_none_or(|e| e > last_day) {
                running += value;
            }
        }
        (first, running)
    };
    let ((flat_first, flat_running), (seat_first, seat_running)) = (mrr(&flat), mrr(&seats));
    assert_eq!(flat_first.len(), seat_first.len());
    // The sum of the first paid plans' MRR: seats / (u * mean_seats) has mean 1 and variance
    // (u * mean_seats - 1) / (u * mean_seats)^2, u the plan's units (its flat MRR over the list
    // price); cents of rounding aside.
    let (mut flat_sum, mut seat_sum, mut variance) = (0.0, 0.0, 0.0);
    for (customer, &(f, units)) in &flat_first {
        let mean = units * mean_seats;
        flat_sum += f;
        seat_sum += seat_first[customer].0;
        variance += f * f * (mean - 1.0) / (mean * mean);
    }
    let se = variance.sqrt();
    eprintln!("first paid MRR: per seat {seat_sum:.0}, flat {flat_sum:.0} (se {se:.0})");
    assert!(
        (seat_sum - flat_sum).abs() < 4.0 * se + 0.01 * flat_first.len() as f64,
        "per seat {seat_sum:.0} vs flat {flat_sum:.0} (se {se:.0})"
    );
    // At the end of the history: within 5% (about 1% a year of drift, and the noise above).
    let ratio = seat_running / flat_running;
    eprintln!("MRR at the end: per seat / flat = {ratio:.4}");
    assert!((0.97..1.05).contains(&ratio), "{ratio}");
}
