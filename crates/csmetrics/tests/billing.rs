//! Billing detail (docs/metrics/billing.md): seats, discounts, statuses, cancellations and churn
//! reasons, on hand-computed bridges, and the bridge identities under every policy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dates, f, i, micros, strs, Date};
use csmetrics::churn::{churn_rates, ChurnOptions};
use csmetrics::revenue::prelude::*;
use polars::prelude::*;
use proptest::prelude::*;

/// One subscription row: customer, subscription, start, end, monthly amount, quantity, status,
/// canceled_at, churn reason, percent off, duration, months.
#[derive(Clone, Debug)]
struct Row {
    customer: &'static str,
    sub: &'static str,
    start: Date,
    end: Option<Date>,
    amount: f64,
    interval: &'static str,
    quantity: i64,
    status: &'static str,
    canceled_at: Option<Date>,
    reason: Option<&'static str>,
    percent_off: Option<f64>,
    duration: Option<&'static str>,
    months: Option<i64>,
}

fn row(
    customer: &'static str,
    sub: &'static str,
    start: Date,
    end: Option<Date>,
    amount: f64,
) -> Row {
    Row {
        customer,
        sub,
        start,
        end,
        amount,
        interval: "month",
        quantity: 1,
        status: "active",
        canceled_at: None,
        reason: None,
        percent_off: None,
        duration: None,
        months: None,
    }
}

fn table(rows: &[Row]) -> DataFrame {
    let n = rows.len();
    DataFrame::new(
        n,
        vec![
            Column::new(
                "customer_id".into(),
                rows.iter().map(|r| r.customer).collect::<Vec<_>>(),
            ),
            Column::new(
                "subscription_id".into(),
                rows.iter().map(|r| r.sub).collect::<Vec<_>>(),
            ),
            dates(
                "start",
                &rows.iter().map(|r| Some(r.start)).collect::<Vec<_>>(),
            ),
            dates("end", &rows.iter().map(|r| r.end).collect::<Vec<_>>()),
            Column::new(
                "amount".into(),
                rows.iter().map(|r| r.amount).collect::<Vec<_>>(),
            ),
            Column::new(
                "interval".into(),
                rows.iter().map(|r| r.interval).collect::<Vec<_>>(),
            ),
            Column::new(
                "quantity".into(),
                rows.iter().map(|r| r.quantity).collect::<Vec<_>>(),
            ),
            Column::new(
                "status".into(),
                rows.iter().map(|r| r.status).collect::<Vec<_>>(),
            ),
            dates(
                "canceled_at",
                &rows.iter().map(|r| r.canceled_at).collect::<Vec<_>>(),
            ),
            Column::new(
                "churn_reason".into(),
                rows.iter().map(|r| r.reason).collect::<Vec<_>>(),
            ),
            Column::new(
                "percent_off".into(),
                rows.iter().map(|r| r.percent_off).collect::<Vec<_>>(),
            ),
            Column::new(
                "discount_duration".into(),
                rows.iter().map(|r| r.duration).collect::<Vec<_>>(),
            ),
            Column::new(
                "duration_in_months".into(),
                rows.iter().map(|r| r.months).collect::<Vec<_>>(),
            ),
        ],
    )
    .unwrap()
}

fn options(as_of: Date) -> RevenueOptions {
    RevenueOptions {
        as_of: Some(micros(as_of)),
        ..Default::default()
    }
}

fn column_f(frame: &DataFrame, name: &str) -> Vec<f64> {
    (0..frame.height())
        .map(|r| f(frame, name, r).unwrap())
        .collect()
}

#[test]
fn seats_discounts_and_causes_by_hand() {
    // 10 seats at 10/month from Jan 1; 12 seats from Feb 10 (same subscription): +20 expansion
    // of cause quantity. A 25% repeating(2) discount from Mar 1 takes 30 in March and April,
    // then ends: a discount contraction in March, an expansion back in May.
    let mut a = row("a", "s1", (2024, 1, 1), Some((2024, 2, 10)), 10.0);
    a.quantity = 10;
    let mut b = row("a", "s1", (2024, 2, 10), Some((2024, 3, 1)), 10.0);
    b.quantity = 12;
    let mut c = row("a", "s1", (2024, 3, 1), None, 10.0);
    c.quantity = 12;
    c.percent_off = Some(25.0);
    c.duration = Some("repeating");
    c.months = Some(2);
    let data = table(&[a, b, c]);
    let bridge = mrr_bridge(&data, &options((2024, 5, 31))).unwrap();
    assert_eq!(
        column_f(&bridge, "ending_mrr"),
        vec![100.0, 120.0, 90.0, 90.0, 120.0]
    );
    assert_eq!(
        column_f(&bridge, "expansion"),
        vec![0.0, 20.0, 0.0, 0.0, 30.0]
    );
    assert_eq!(
        column_f(&bridge, "contraction"),
        vec![0.0, 0.0, 30.0, 0.0, 0.0]
    );
    let moves = mrr_movements(&data, &options((2024, 5, 31))).unwrap();
    assert_eq!(
        strs(&moves, "cause"),
        vec!["new", "quantity", "discount", "discount"]
    );
    // Contract basis: no discount at all.
    let contract = mrr_bridge(
        &data,
        &RevenueOptions {
            billing: BillingOptions {
                basis: MrrBasis::Contract,
                ..Default::default()
            },
            ..options((2024, 5, 31))
        },
    )
    .unwrap();
    assert_eq!(
        column_f(&contract, "ending_mrr"),
        vec![100.0, 120.0, 120.0, 120.0, 120.0]
    );
}

#[test]
fn stacked_percent_discounts() {
    // Two forever 10% discounts on 100 through a discounts table keyed by subscription.
    let data = table(&[row("a", "s1", (2024, 1, 1), None, 100.0)]);
    let discounts = DataFrame::new(
        2,
        vec![
            Column::new("subscription_id".into(), ["s1", "s1"]),
            Column::new("percent_off".into(), [10.0, 10.0]),
            Column::new("duration".into(), ["forever", "forever"]),
        ],
    )
    .unwrap();
    for (stacking, expected) in [(Stacking::Sequential, 81.0), (Stacking::Sum, 80.0)] {
        let opts = RevenueOptions {
            billing: BillingOptions {
                discounts: Some(discounts.clone()),
                stacking,
                ..Default::default()
            },
            ..options((2024, 1, 31))
        };
        assert_eq!(
            f(&mrr_bridge(&data, &opts).unwrap(), "ending_mrr", 0),
            Some(expected)
        );
    }
    // A discount keyed to a subscription that does not exist names the column, value and row.
    let unknown = DataFrame::new(
        1,
        vec![
            Column::new("subscription_id".into(), ["nope"]),
            Column::new("percent_off".into(), [10.0]),
        ],
    )
    .unwrap();
    let err = mrr_bridge(
        &data,
        &RevenueOptions {
            billing: BillingOptions {
                discounts: Some(unknown),
                ..Default::default()
            },
            ..options((2024, 1, 31))
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("subscription_id") && err.contains("'nope'") && err.contains("row 0"),
        "{err}"
    );
}

#[test]
fn once_on_an_annual_plan_covers_the_year() {
    // 1200/year = 100/month; a 50% once coupon: 50/month for the whole first year, not one month.
    let mut a = row("a", "s1", (2024, 1, 1), None, 1200.0);
    a.interval = "year";
    a.percent_off = Some(50.0);
    a.duration = Some("once");
    let bridge = mrr_bridge(&table(&[a]), &options((2025, 2, 28))).unwrap();
    let ending = column_f(&bridge, "ending_mrr");
    assert_eq!(ending.len(), 14);
    assert!(ending[..12].iter().all(|v| *v == 50.0), "{ending:?}");
    assert_eq!(&ending[12..], &[100.0, 100.0]);
}

#[test]
fn trials_pauses_past_due_and_cancellations_by_hand() {
    // t1: a trial in January converting on Feb 1: new in February (not January).
    // t2: a trial that ends unpaid: never a customer.
    // p: active Jan, paused Feb 15 to Apr 15, then active: contraction to 0 in February,
    //    expansion in April, no churn; paused in February and March.
    // d: 45 days past due from Mar 1, then canceled (payment_failed).
    // c: asked to cancel on Mar 10, access to May 15: a March cancellation, a May churn.
    let mut t1a = row("t1", "t1", (2024, 1, 1), Some((2024, 2, 1)), 30.0);
    t1a.status = "trialing";
    let t1b = row("t1", "t1", (2024, 2, 1), None, 30.0);
    let mut t2 = row("t2", "t2", (2024, 1, 5), Some((2024, 1, 19)), 30.0);
    t2.status = "trialing";
    let pa = row("p", "p", (2024, 1, 1), Some((2024, 2, 15)), 50.0);
    let mut pb = row("p", "p", (2024, 2, 15), Some((2024, 4, 15)), 50.0);
    pb.status = "paused";
    let pc = row("p", "p", (2024, 4, 15), None, 50.0);
    let da = row("d", "d", (2024, 1, 1), Some((2024, 3, 1)), 40.0);
    let mut db = row("d", "d", (2024, 3, 1), Some((2024, 4, 15)), 40.0);
    db.status = "past_due";
    db.reason = Some("payment_failed");
    let mut ca = row("c", "c", (2024, 1, 1), Some((2024, 5, 15)), 20.0);
    ca.canceled_at = Some((2024, 3, 10));
    ca.reason = Some("cancellation_requested");
    let data = table(&[t1a, t1b, t2, pa, pb, pc, da, db, ca]);
    let as_of = (2024, 5, 31);
    let bridge = mrr_bridge(&data, &options(as_of)).unwrap();
    // Jan: p 50 + d 40 + c 20 = 110 (trials excluded). Feb: t1 new 30, p contracts 50 -> 0.
    // Mar: 30 + 0 + 40 + 20 = 90. Apr: d churns (Apr 15), p resumes: 30 + 50 + 20 = 100.
    // May: c churns May 15: 80.
    assert_eq!(
        column_f(&bridge, "ending_mrr"),
        vec![110.0, 90.0, 90.0, 100.0, 80.0]
    );
    assert_eq!(column_f(&bridge, "new"), vec![110.0, 30.0, 0.0, 0.0, 0.0]);
    assert_eq!(
        column_f(&bridge, "contraction"),
        vec![0.0, 50.0, 0.0, 0.0, 0.0]
    );
    assert_eq!(
        column_f(&bridge, "expansion"),
        vec![0.0, 0.0, 0.0, 50.0, 0.0]
    );
    assert_eq!(
        column_f(&bridge, "churned"),
        vec![0.0, 0.0, 0.0, 40.0, 20.0]
    );
    assert_eq!(column_f(&bridge, "reactivation"), vec![0.0; 5]);
    assert_eq!(i(&bridge, "paused_customers", 1), 1);
    assert_eq!(i(&bridge, "paused_customers", 2), 1);
    assert_eq!(i(&bridge, "paused_customers", 3), 0);
    assert_eq!(i(&bridge, "cancellations", 2), 1);
    assert_eq!(f(&bridge, "cancellation_mrr", 2), Some(20.0));
    // Committed MRR leaves c out from its request (March) to its end.
    assert_eq!(
        column_f(&bridge, "committed_mrr"),
        vec![110.0, 90.0, 70.0, 80.0, 80.0]
    );
    assert_eq!(
        column_f(&bridge, "churned_involuntary"),
        vec![0.0, 0.0, 0.0, 40.0, 0.0]
    );
    assert_eq!(
        column_f(&bridge, "churned_voluntary"),
        vec![0.0, 0.0, 0.0, 0.0, 20.0]
    );
    // Customers: t2 never appears; p is never churned.
    let churn = churn_rates(
        &data,
        &ChurnOptions {
            panel: options(as_of),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (0..5).map(|r| i(&churn, "churned", r)).collect::<Vec<_>>(),
        vec![0, 0, 0, 1, 1]
    );
    assert_eq!(
        (0..5)
            .map(|r| i(&churn, "customers_end", r))
            .collect::<Vec<_>>(),
        vec![3, 4, 4, 3, 2]
    );
    assert_eq!(i(&churn, "churned_involuntary", 3), 1);
    assert_eq!(i(&churn, "churned_voluntary", 4), 1);

    // churn_after with 30 days: d churns on Mar 31 (March), involuntary.
    let delinquent = mrr_bridge(
        &data,
        &RevenueOptions {
            billing: BillingOptions {
                past_due: PastDue::ChurnAfter,
                delinquency_days: 30,
                ..Default::default()
            },
            ..options(as_of)
        },
    )
    .unwrap();
    assert_eq!(
        column_f(&delinquent, "churned"),
        vec![0.0, 0.0, 40.0, 0.0, 20.0]
    );
    assert_eq!(
        column_f(&delinquent, "churned_involuntary"),
        vec![0.0, 0.0, 40.0, 0.0, 0.0]
    );
    // churn_at = cancel: c churns in March.
    let at_cancel = mrr_bridge(
        &data,
        &RevenueOptions {
            billing: BillingOptions {
                churn_at: ChurnAt::Cancel,
                ..Default::default()
            },
            ..options(as_of)
        },
    )
    .unwrap();
    assert_eq!(
        column_f(&at_cancel, "churned"),
        vec![0.0, 0.0, 20.0, 40.0, 0.0]
    );
    // Trials included: t1 is new in January, t2 churns in January... no: t2 ends on Jan 19,
    // before the January snapshot, so it is never seen at a snapshot.
    let trials = mrr_bridge(
        &data,
        &RevenueOptions {
            billing: BillingOptions {
                trials: Trials::Include,
                ..Default::default()
            },
            ..options(as_of)
        },
    )
    .unwrap();
    assert_eq!(column_f(&trials, "new"), vec![140.0, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn bad_billing_input_names_column_value_and_row() {
    let check = |rows: Vec<Row>, column: &str, value: &str| {
        let err = mrr_bridge(&table(&rows), &options((2024, 3, 31)))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(column) && err.contains(value) && err.contains("row 1"),
            "{err}"
        );
    };
    let ok = row("a", "s", (2024, 1, 1), None, 10.0);
    let mut bad = ok.clone();
    bad.percent_off = Some(120.0);
    check(vec![ok.clone(), bad], "percent_off", "120");
    let mut bad = ok.clone();
    bad.quantity = -2;
    check(vec![ok.clone(), bad], "quantity", "-2");
    let mut bad = ok.clone();
    bad.status = "frozen";
    check(vec![ok.clone(), bad], "status", "'frozen'");
    let mut bad = ok.clone();
    bad.percent_off = Some(10.0);
    bad.duration = Some("sometimes");
    check(vec![ok.clone(), bad], "discount_duration", "'sometimes'");
    let mut bad = ok.clone();
    bad.percent_off = Some(10.0);
    bad.duration = Some("repeating");
    check(vec![ok, bad], "duration_in_months", "null");
}

fn bridge_identity_holds(
    data: &DataFrame,
    opts: &RevenueOptions,
) -> std::result::Result<(), TestCaseError> {
    let units = RevenueOptions {
        money: Money::Units,
        ..opts.clone()
    };
    let bridge = mrr_bridge(data, &units).unwrap();
    for r in 0..bridge.height() {
        let v = |n: &str| i(&bridge, n, r);
        prop_assert_eq!(
            v("starting_mrr") + v("new") + v("expansion") + v("reactivation")
                - v("contraction")
                - v("churned"),
            v("ending_mrr")
        );
        if r + 1 < bridge.height() && opts.mode == Mode::Snapshot {
            prop_assert_eq!(v("ending_mrr"), i(&bridge, "starting_mrr", r + 1));
        }
        if bridge.column("churned_voluntary").is_ok() {
            prop_assert_eq!(
                v("churned_voluntary") + v("churned_involuntary") + v("churned_unknown"),
                v("churned")
            );
            prop_assert_eq!(
                v("churned_voluntary_customers")
                    + v("churned_involuntary_customers")
                    + v("churned_unknown_customers"),
                v("churned_customers")
            );
        }
    }
    // Movements explain the bridge.
    let moves = mrr_movements(data, &units).unwrap();
    let kinds = strs(&moves, "movement");
    let periods = moves
        .column("period")
        .unwrap()
        .cast(&DataType::Int32)
        .unwrap();
    let periods: Vec<i32> = periods.i32().unwrap().into_no_null_iter().collect();
    let bridge_periods = bridge
        .column("period")
        .unwrap()
        .cast(&DataType::Int32)
        .unwrap();
    let bridge_periods: Vec<i32> = bridge_periods.i32().unwrap().into_no_null_iter().collect();
    for (r, p) in bridge_periods.iter().enumerate() {
        for kind in ["new", "expansion", "contraction", "churned", "reactivation"] {
            let total: i64 = (0..moves.height())
                .filter(|m| periods[*m] == *p && kinds[*m] == kind)
                .map(|m| i(&moves, "amount", m))
                .sum();
            prop_assert_eq!(total, i(&bridge, kind, r), "{} in period {}", kind, r);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn identities_hold_under_every_policy(
        rows in prop::collection::vec((0usize..4, 0i64..300, prop::option::of(1i64..200), 1i64..5, 0usize..8, prop::option::of(0i64..250), prop::option::of(0u8..5), 0usize..4, 0usize..3), 1..14),
        policy in (0usize..2, 0usize..2, 0usize..3, 0usize..2, 0usize..2, 0usize..3, any::<bool>()),
    ) {
        const CUSTOMERS: [&str; 4] = ["a", "b", "c", "d"];
        const STATUSES: [&str; 8] = ["active", "trialing", "past_due", "paused", "canceled", "unpaid", "active", "active"];
        const REASONS: [Option<&str>; 3] = [None, Some("cancellation_requested"), Some("payment_failed")];
        const DURATIONS: [Option<&str>; 4] = [None, Some("once"), Some("repeating"), Some("forever")];
        let civil = |d: i64| {
            let (y, m, dd) = csmetrics::period::civil_from_days(csmetrics::period::days_from_civil(2024, 1, 1) + d);
            (y, m, dd)
        };
        let built: Vec<Row> = rows.iter().enumerate().map(|(k, (c, s, len, q, st, cancel, pct, dur, reason))| {
            let mut r = row(CUSTOMERS[*c], ["s0", "s1", "s2", "s3"][*c], civil(*s), len.map(|l| civil(s + l)), 10.0 * (1 + k as i64 % 3) as f64);
            r.sub = ["s0", "s1", "s2", "s3", "s4", "s5"][(*c + k) % 6];
            r.quantity = *q;
            r.status = STATUSES[*st];
            r.canceled_at = cancel.map(civil);
            r.reason = REASONS[*reason];
            r.percent_off = pct.map(|p| f64::from(p) * 12.5);
            r.duration = DURATIONS[*dur];
            r.months = Some(2);
            if k % 4 == 3 { r.interval = "year"; }
            r
        }).collect();
        let data = table(&built);
        let (trials, past_due, paused, churn_at, stacking, basis, events) = policy;
        let opts = RevenueOptions {
            as_of: Some(micros((2024, 12, 31))),
            mode: if events { Mode::Events } else { Mode::Snapshot },
            billing: BillingOptions {
                trials: [Trials::Exclude, Trials::Include][trials],
                past_due: [PastDue::Active, PastDue::ChurnAfter][past_due],
                delinquency_days: 20,
                paused: [Paused::Zero, Paused::Active, Paused::Churn][paused],
                churn_at: [ChurnAt::End, ChurnAt::Cancel][churn_at],
                stacking: [Stacking::Sequential, Stacking::Sum][stacking],
                basis: [MrrBasis::Net, MrrBasis::Contract, MrrBasis::ForeverOnly][basis],
                with_contract: true,
                ..Default::default()
            },
            ..Default::default()
        };
        bridge_identity_holds(&data, &opts)?;
    }
}
