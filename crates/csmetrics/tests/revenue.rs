//! The revenue engine on hand-built subscription tables with hand-computed bridges, and
//! property tests against a brute-force implementation written here.

// A failing unwrap here is a failing test, not a user-facing error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{day, micros, strs, Date};
use csmetrics::revenue::{
    mrr, mrr_bridge, mrr_movements, revenue_kpis, Mode, Money, RevenueInput, RevenueOptions,
    SubscriptionColumns,
};
use csmetrics::CsError;
use polars::prelude::*;
use proptest::prelude::*;

/// A subscription: customer, start, end, amount, interval.
struct Sub(&'static str, Date, Option<Date>, f64, &'static str);

fn frame(subs: &[Sub]) -> DataFrame {
    let n = subs.len();
    DataFrame::new(
        n,
        vec![
            Column::new(
                "customer_id".into(),
                subs.iter().map(|s| s.0).collect::<Vec<_>>(),
            ),
            Column::new(
                "start".into(),
                subs.iter().map(|s| day(s.1)).collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)
            .unwrap(),
            Column::new(
                "end".into(),
                subs.iter().map(|s| s.2.map(day)).collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)
            .unwrap(),
            Column::new(
                "amount".into(),
                subs.iter().map(|s| s.3).collect::<Vec<_>>(),
            ),
            Column::new(
                "interval".into(),
                subs.iter().map(|s| s.4).collect::<Vec<_>>(),
            ),
        ],
    )
    .unwrap()
}

fn options(as_of: Date, mode: Mode) -> RevenueOptions {
    RevenueOptions {
        as_of: Some(micros(as_of)),
        mode,
        ..Default::default()
    }
}

/// The bridge row of the period starting on `period`, as (column, value) lookups.
fn row(bridge: &DataFrame, period: Date) -> impl Fn(&str) -> f64 + '_ {
    let target = day(period);
    let periods: Vec<i32> = bridge
        .column("period")
        .unwrap()
        .cast(&DataType::Int32)
        .unwrap()
        .i32()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    let index = periods
        .iter()
        .position(|p| *p == target)
        .unwrap_or_else(|| panic!("no period {period:?}"));
    move |name: &str| {
        let column = bridge
            .column(name)
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap();
        column.f64().unwrap().get(index).unwrap()
    }
}

#[test]
fn churn_and_return_in_the_same_month() {
    let subs = [
        Sub("a", (2024, 1, 1), Some((2024, 3, 10)), 100.0, "month"),
        Sub("a", (2024, 3, 20), None, 100.0, "month"),
    ];
    let snapshot = mrr_bridge(&frame(&subs), &options((2024, 4, 15), Mode::Snapshot)).unwrap();
    let march = row(&snapshot, (2024, 3, 1));
    assert_eq!(
        (
            march("starting_mrr"),
            march("churned"),
            march("reactivation"),
            march("ending_mrr")
        ),
        (100.0, 0.0, 0.0, 100.0)
    );
    let events = mrr_bridge(&frame(&subs), &options((2024, 4, 15), Mode::Events)).unwrap();
    let march = row(&events, (2024, 3, 1));
    assert_eq!(
        (march("churned"), march("reactivation"), march("ending_mrr")),
        (100.0, 100.0, 100.0)
    );
    assert_eq!(
        (march("churned_customers"), march("reactivated_customers")),
        (1.0, 1.0)
    );
}

#[test]
fn new_and_churned_in_the_same_month() {
    let subs = [
        Sub("a", (2024, 1, 1), None, 10.0, "month"),
        Sub("b", (2024, 2, 5), Some((2024, 2, 20)), 50.0, "month"),
    ];
    let snapshot = mrr_bridge(&frame(&subs), &options((2024, 3, 1), Mode::Snapshot)).unwrap();
    let feb = row(&snapshot, (2024, 2, 1));
    assert_eq!(
        (feb("new"), feb("churned"), feb("new_customers")),
        (0.0, 0.0, 0.0)
    );
    let events = mrr_bridge(&frame(&subs), &options((2024, 3, 1), Mode::Events)).unwrap();
    let feb = row(&events, (2024, 2, 1));
    assert_eq!(
        (
            feb("new"),
            feb("churned"),
            feb("new_customers"),
            feb("churned_customers")
        ),
        (50.0, 50.0, 1.0, 1.0)
    );
    assert_eq!((feb("starting_mrr"), feb("ending_mrr")), (10.0, 10.0));
}

#[test]
fn annual_quarterly_and_weekly_plans_are_normalised() {
    let subs = [
        Sub("a", (2024, 1, 1), None, 1200.0, "year"),
        Sub("b", (2024, 1, 1), None, 300.0, "quarter"),
        Sub("c", (2024, 1, 1), None, 84.0, "week"), // 84 * 365/84 = 365
        Sub("d", (2024, 1, 1), None, 12.0, "day"),  // 12 * 365/12 = 365
    ];
    let panel = mrr(&frame(&subs), &options((2024, 1, 1), Mode::Snapshot)).unwrap();
    let values: Vec<f64> = panel
        .column("mrr")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert_eq!(values, vec![100.0, 100.0, 365.0, 365.0]);
    // interval_count: 600 every 6 months is 100 a month.
    let mut f = frame(&[Sub("a", (2024, 1, 1), None, 600.0, "month")]);
    f.with_column(Column::new("interval_count".into(), [6i64]))
        .unwrap();
    let opts = RevenueOptions {
        input: RevenueInput::Subscriptions(SubscriptionColumns {
            interval_count: Some("interval_count".into()),
            ..Default::default()
        }),
        ..options((2024, 1, 1), Mode::Snapshot)
    };
    assert_eq!(
        mrr(&f, &opts)
            .unwrap()
            .column("mrr")
            .unwrap()
            .f64()
            .unwrap()
            .get(0),
        Some(100.0)
    );
}

#[test]
fn upgrade_in_mid_month_is_one_expansion() {
    let subs = [
        Sub("a", (2024, 1, 1), Some((2024, 3, 15)), 100.0, "month"),
        Sub("a", (2024, 3, 15), None, 150.0, "month"),
    ];
    for mode in [Mode::Snapshot, Mode::Events] {
        let bridge = mrr_bridge(&frame(&subs), &options((2024, 4, 2), mode)).unwrap();
        let march = row(&bridge, (2024, 3, 1));
        assert_eq!(
            (
                march("expansion"),
                march("churned"),
                march("new"),
                march("expansion_customers")
            ),
            (50.0, 0.0, 0.0, 1.0)
        );
        let moves = mrr_movements(&frame(&subs), &options((2024, 4, 2), mode)).unwrap();
        assert_eq!(
            moves.height(),
            2,
            "{mode:?}: new in January, one expansion in March"
        );
    }
}

#[test]
fn overlapping_subscriptions_add_up_and_one_is_cancelled() {
    let subs = [
        Sub("a", (2024, 1, 1), None, 100.0, "month"),
        Sub("a", (2024, 2, 1), Some((2024, 4, 1)), 30.0, "month"),
    ];
    let bridge = mrr_bridge(&frame(&subs), &options((2024, 5, 1), Mode::Snapshot)).unwrap();
    assert_eq!(row(&bridge, (2024, 2, 1))("expansion"), 30.0);
    assert_eq!(row(&bridge, (2024, 3, 1))("ending_mrr"), 130.0);
    let april = row(&bridge, (2024, 4, 1));
    assert_eq!(
        (
            april("contraction"),
            april("ending_mrr"),
            april("contraction_customers")
        ),
        (30.0, 100.0, 1.0)
    );
    // The open-ended subscription is still there at as_of, in an incomplete last period.
    let may = row(&bridge, (2024, 5, 1));
    assert_eq!((may("ending_mrr"), may("complete")), (100.0, 0.0));
    assert_eq!(row(&bridge, (2024, 4, 1))("complete"), 1.0);
}

#[test]
fn free_plans_change_active_counts_never_amounts() {
    let subs = [
        Sub("a", (2024, 1, 1), None, 0.0, "month"),
        Sub("a", (2024, 3, 1), None, 50.0, "month"),
        Sub("b", (2024, 1, 1), None, 20.0, "month"),
    ];
    let paid_only = mrr_bridge(&frame(&subs), &options((2024, 3, 1), Mode::Snapshot)).unwrap();
    let with_free = mrr_bridge(
        &frame(&subs),
        &RevenueOptions {
            free_is_active: true,
            ..options((2024, 3, 1), Mode::Snapshot)
        },
    )
    .unwrap();
    let (p, f) = (row(&paid_only, (2024, 1, 1)), row(&with_free, (2024, 1, 1)));
    assert_eq!((p("active_customers"), f("active_customers")), (1.0, 2.0));
    assert_eq!((p("ending_customers"), f("ending_customers")), (1.0, 1.0));
    let (p, f) = (row(&paid_only, (2024, 3, 1)), row(&with_free, (2024, 3, 1)));
    assert_eq!(
        (p("new"), f("new"), p("new_customers"), f("new_customers")),
        (50.0, 50.0, 1.0, 1.0)
    );
    let panel = mrr(
        &frame(&subs),
        &RevenueOptions {
            free_is_active: true,
            ..options((2024, 3, 1), Mode::Snapshot)
        },
    )
    .unwrap();
    assert_eq!(
        panel.height(),
        6,
        "b in three months; a free in January and February, paying in March"
    );
}

#[test]
fn return_a_year_later_is_reactivation_not_new() {
    let subs = [
        Sub("a", (2023, 1, 1), Some((2023, 3, 1)), 80.0, "month"),
        Sub("a", (2024, 3, 1), None, 80.0, "month"),
    ];
    for mode in [Mode::Snapshot, Mode::Events] {
        let bridge = mrr_bridge(&frame(&subs), &options((2024, 3, 1), mode)).unwrap();
        assert_eq!(bridge.height(), 15);
        let march = row(&bridge, (2024, 3, 1));
        assert_eq!(
            (
                march("reactivation"),
                march("new"),
                march("reactivated_customers")
            ),
            (80.0, 0.0, 1.0)
        );
        assert_eq!(row(&bridge, (2023, 3, 1))("churned"), 80.0);
        assert_eq!(row(&bridge, (2023, 1, 1))("new"), 80.0);
    }
}

#[test]
fn opening_balance_and_first_period() {
    let subs = [
        Sub("a", (2023, 6, 1), None, 100.0, "month"),
        Sub("b", (2024, 2, 1), None, 40.0, "month"),
    ];
    let opts = RevenueOptions {
        first_period: Some(micros((2024, 1, 1))),
        ..options((2024, 2, 1), Mode::Snapshot)
    };
    let bridge = mrr_bridge(&frame(&subs), &opts).unwrap();
    assert_eq!(bridge.height(), 2);
    let jan = row(&bridge, (2024, 1, 1));
    assert_eq!(
        (jan("starting_mrr"), jan("new"), jan("ending_mrr")),
        (100.0, 0.0, 100.0)
    );
    assert_eq!(row(&bridge, (2024, 2, 1))("new"), 40.0);
}

#[test]
fn kpis_by_hand() {
    // Jan: a 100, b 50. Feb: a 120 (expansion 20), b gone (churn 50), c new 30.
    let subs = [
        Sub("a", (2024, 1, 1), Some((2024, 2, 1)), 100.0, "month"),
        Sub("a", (2024, 2, 1), None, 120.0, "month"),
        Sub("b", (2024, 1, 1), Some((2024, 2, 1)), 50.0, "month"),
        Sub("c", (2024, 2, 1), None, 30.0, "month"),
    ];
    let kpis = revenue_kpis(&frame(&subs), &options((2024, 2, 29), Mode::Snapshot)).unwrap();
    let feb = row(&kpis, (2024, 2, 1));
    assert_eq!(
        (feb("mrr"), feb("arr"), feb("paying_customers"), feb("arpa")),
        (150.0, 1800.0, 2.0, 75.0)
    );
    assert!((feb("nrr") - 120.0 / 150.0).abs() < 1e-12);
    assert!((feb("grr") - 100.0 / 150.0).abs() < 1e-12);
    assert!((feb("gross_mrr_churn_rate") - 50.0 / 150.0).abs() < 1e-12);
    assert!((feb("expansion_rate") - 20.0 / 150.0).abs() < 1e-12);
    assert!((feb("quick_ratio") - 50.0 / 50.0).abs() < 1e-12);
}

#[test]
fn trailing_window_grr_nrr() {
    // a pays 100 from Jan; expands to 150 in March; b pays 50 in Jan and Feb only.
    let subs = [
        Sub("a", (2024, 1, 1), Some((2024, 3, 1)), 100.0, "month"),
        Sub("a", (2024, 3, 1), None, 150.0, "month"),
        Sub("b", (2024, 1, 1), Some((2024, 3, 1)), 50.0, "month"),
    ];
    let kpis = revenue_kpis(
        &frame(&subs),
        &RevenueOptions {
            window: Some(2),
            ..options((2024, 3, 31), Mode::Snapshot)
        },
    )
    .unwrap();
    let march = row(&kpis, (2024, 3, 1));
    // Base at the end of January: a 100 + b 50. In March: a 150, b 0.
    assert_eq!(march("window_base_mrr"), 150.0);
    assert!((march("nrr_window") - 1.0).abs() < 1e-12);
    assert!((march("grr_window") - 100.0 / 150.0).abs() < 1e-12);
    let jan_nrr = kpis.column("nrr_window").unwrap().f64().unwrap().get(0);
    assert_eq!(jan_nrr, None);
}

#[test]
fn precision_rounds_half_to_even_and_units_are_exact() {
    // 100 / 3 a month = 33.333...; at 2 decimals 33.33. 0.125 and 0.135 at 2 decimals: 0.12, 0.14.
    let subs = [
        Sub("a", (2024, 1, 1), None, 100.0, "quarter"),
        Sub("b", (2024, 1, 1), None, 0.125, "month"),
        Sub("c", (2024, 1, 1), None, 0.375, "month"),
    ];
    let opts = RevenueOptions {
        precision: 2,
        money: Money::Units,
        ..options((2024, 1, 1), Mode::Snapshot)
    };
    let panel = mrr(&frame(&subs), &opts).unwrap();
    let units: Vec<i64> = panel
        .column("mrr")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert_eq!(units, vec![3333, 12, 38]);
}

#[test]
fn monthly_table_input() {
    let jan = day((2024, 1, 1));
    let feb = day((2024, 2, 1));
    let table = DataFrame::new(
        3,
        vec![
            Column::new("customer_id".into(), [1i64, 1, 2]),
            Column::new("period".into(), [jan, feb, jan])
                .cast(&DataType::Date)
                .unwrap(),
            Column::new("mrr".into(), [10.0, 15.0, 7.0]),
        ],
    )
    .unwrap();
    let opts = RevenueOptions {
        input: RevenueInput::Monthly {
            customer_id: "customer_id".into(),
            period: "period".into(),
            mrr: "mrr".into(),
        },
        ..Default::default()
    };
    let bridge = mrr_bridge(&table, &opts).unwrap();
    let february = row(&bridge, (2024, 2, 1));
    assert_eq!(
        (
            february("expansion"),
            february("churned"),
            february("ending_mrr")
        ),
        (5.0, 7.0, 15.0)
    );
}

#[test]
fn by_segment_and_varying_attribute_error() {
    let mut f = frame(&[
        Sub("a", (2024, 1, 1), None, 10.0, "month"),
        Sub("b", (2024, 1, 1), None, 20.0, "month"),
        Sub("a", (2024, 2, 1), None, 5.0, "month"),
    ]);
    f.with_column(Column::new("segment".into(), ["smb", "ent", "smb"]))
        .unwrap();
    let opts = RevenueOptions {
        by: vec!["segment".into()],
        ..options((2024, 2, 1), Mode::Snapshot)
    };
    let bridge = mrr_bridge(&f, &opts).unwrap();
    let segments: Vec<&str> = strs(&bridge, "segment");
    assert_eq!(segments, ["ent", "ent", "smb", "smb"]);
    f.with_column(Column::new("segment".into(), ["smb", "ent", "ent"]))
        .unwrap();
    let err = mrr_bridge(&f, &opts).unwrap_err().to_string();
    assert!(
        err.contains("'segment'") && err.contains("row 2") && err.contains("customer \"a\""),
        "{err}"
    );
}

#[test]
fn bad_input_errors_name_column_rule_value_row() {
    let check = |subs: &[Sub], needle: &[&str]| {
        let err = mrr_bridge(&frame(subs), &options((2024, 3, 1), Mode::Snapshot))
            .unwrap_err()
            .to_string();
        for n in needle {
            assert!(err.contains(n), "{err} lacks {n}");
        }
    };
    check(
        &[
            Sub("a", (2024, 1, 1), None, 10.0, "month"),
            Sub("b", (2024, 1, 1), None, -5.0, "month"),
        ],
        &["'amount'", "row 1", "-5", "non-negative"],
    );
    check(
        &[Sub("a", (2024, 2, 1), Some((2024, 1, 1)), 10.0, "month")],
        &["'end'", "row 0", "before"],
    );
    check(
        &[Sub("a", (2024, 1, 1), None, 10.0, "fortnight")],
        &["'interval'", "row 0", "'fortnight'"],
    );
    check(
        &[Sub("a", (2024, 1, 1), None, f64::NAN, "month")],
        &["'amount'", "NaN"],
    );
    let mut f = frame(&[
        Sub("a", (2024, 1, 1), None, 10.0, "month"),
        Sub("b", (2024, 1, 1), None, 10.0, "month"),
    ]);
    f.with_column(Column::new("customer_id".into(), [Some("a"), None]))
        .unwrap();
    let err = mrr_bridge(&f, &options((2024, 3, 1), Mode::Snapshot))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'customer_id'") && err.contains("row 1"),
        "{err}"
    );
    f.with_column(Column::new("customer_id".into(), ["a", "b"]))
        .unwrap();
    f.with_column(Column::new("currency".into(), ["USD", "EUR"]))
        .unwrap();
    let err = mrr_bridge(&f, &options((2024, 3, 1), Mode::Snapshot))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'currency'") && err.contains("'EUR'") && err.contains("fx"),
        "{err}"
    );
    let fx = RevenueOptions {
        fx: Some(vec![("USD".into(), 1.0), ("EUR".into(), 1.1)]),
        ..options((2024, 3, 1), Mode::Snapshot)
    };
    let bridge = mrr_bridge(&f, &fx).unwrap();
    assert!((row(&bridge, (2024, 1, 1))("ending_mrr") - 21.0).abs() < 1e-9);
    // Time-zone-aware start with a naive end.
    let mut g = frame(&[Sub("a", (2024, 1, 1), Some((2024, 2, 1)), 10.0, "month")]);
    g.with_column(
        g.column("start")
            .unwrap()
            .cast(&DataType::Datetime(
                TimeUnit::Microseconds,
                Some(TimeZone::UTC),
            ))
            .unwrap(),
    )
    .unwrap();
    g.with_column(
        g.column("end")
            .unwrap()
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap(),
    )
    .unwrap();
    let err = mrr_bridge(&g, &options((2024, 3, 1), Mode::Snapshot)).unwrap_err();
    assert!(
        matches!(err, CsError::InvalidType { .. }) && err.to_string().contains("aware"),
        "{err}"
    );
}

// ---- Property tests against a brute-force panel ----

#[derive(Debug, Clone)]
struct RandomSub {
    customer: u8,
    start: i32,
    length: Option<i32>,
    amount: u16,
}

fn random_subs() -> impl Strategy<Value = Vec<RandomSub>> {
    prop::collection::vec(
        (0u8..6, 0i32..400, prop::option::of(0i32..200), 0u16..300).prop_map(
            |(customer, start, length, amount)| RandomSub {
                customer,
                start,
                length,
                amount,
            },
        ),
        1..25,
    )
}

fn random_frame(subs: &[RandomSub]) -> DataFrame {
    let base = day((2023, 1, 1));
    DataFrame::new(
        subs.len(),
        vec![
            Column::new(
                "customer_id".into(),
                subs.iter()
                    .map(|s| i64::from(s.customer))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "start".into(),
                subs.iter().map(|s| base + s.start).collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)
            .unwrap(),
            Column::new(
                "end".into(),
                subs.iter()
                    .map(|s| s.length.map(|l| base + s.start + l))
                    .collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)
            .unwrap(),
            Column::new(
                "amount".into(),
                subs.iter()
                    .map(|s| f64::from(s.amount) / 4.0)
                    .collect::<Vec<_>>(),
            ),
            Column::new("interval".into(), vec!["month"; subs.len()]),
        ],
    )
    .unwrap()
}

fn i64_col(frame: &DataFrame, name: &str) -> Vec<i64> {
    frame
        .column(name)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn bridge_identity_movements_and_brute_force(subs in random_subs(), events in any::<bool>()) {
        let f = random_frame(&subs);
        let mode = if events { Mode::Events } else { Mode::Snapshot };
        let opts = RevenueOptions { money: Money::Units, precision: 2, mode, ..Default::default() };
        let bridge = mrr_bridge(&f, &opts).unwrap();
        let [start, new, exp, con, churn, react, end] =
            ["starting_mrr", "new", "expansion", "contraction", "churned", "reactivation", "ending_mrr"].map(|c| i64_col(&bridge, c));
        for p in 0..bridge.height() {
            prop_assert_eq!(start[p] + new[p] + exp[p] + react[p] - con[p] - churn[p], end[p]);
            if p > 0 {
                prop_assert_eq!(start[p], end[p - 1]);
            }
        }
        // Movements add up to the bridge.
        let moves = mrr_movements(&f, &opts).unwrap();
        let kinds: Vec<&str> = strs(&moves, "movement");
        let amounts = i64_col(&moves, "amount");
        let periods: Vec<i32> = moves.column("period").unwrap().cast(&DataType::Int32).unwrap().i32().unwrap().iter().map(|v| v.unwrap()).collect();
        let bridge_periods: Vec<i32> = bridge.column("period").unwrap().cast(&DataType::Int32).unwrap().i32().unwrap().iter().map(|v| v.unwrap()).collect();
        for (name, column) in [("new", &new), ("expansion", &exp), ("contraction", &con), ("churned", &churn), ("reactivation", &react)] {
            for (p, period) in bridge_periods.iter().enumerate() {
                let sum: i64 = kinds.iter().zip(&amounts).zip(&periods).filter(|((k, _), q)| **k == name && *q == period).map(|((_, a), _)| *a).sum();
                prop_assert_eq!(sum, column[p], "{} in period {}", name, p);
            }
        }
        // Snapshot counts reconcile; and a brute-force panel agrees.
        if !events {
            let [sc, nc, rc, cc, ec] = ["starting_customers", "new_customers", "reactivated_customers", "churned_customers", "ending_customers"].map(|c| i64_col(&bridge, c));
            for p in 0..bridge.height() {
                prop_assert_eq!(sc[p] + nc[p] + rc[p] - cc[p], ec[p]);
            }
            let base = day((2023, 1, 1));
            let as_of = subs.iter().map(|s| base + s.start).max().unwrap();
            let first = subs.iter().map(|s| base + s.start).min().unwrap();
            for (p, period) in bridge_periods.iter().enumerate() {
                let next = csmetrics::Period::Month.next_start(i64::from(*period)) as i32;
                let snap = |d: i32| -> i64 { if d > as_of { 0 } else { d.into() } };
                let _ = snap;
                let instant = if p + 1 == bridge.height() { i64::from(as_of) * 2 } else { i64::from(next) * 2 - 1 };
                // Brute force: MRR of each customer at the snapshot (times doubled to get a half-day).
                let mut total = 0i64;
                for c in 0..6u8 {
                    let m: i64 = subs.iter().filter(|s| s.customer == c).filter(|s| {
                        let start = i64::from(base + s.start) * 2;
                        let end = s.length.map_or(i64::MAX, |l| i64::from(base + s.start + l) * 2);
                        start <= instant && instant < end
                    }).map(|s| (f64::from(s.amount) / 4.0 * 100.0).round_ties_even() as i64).sum();
                    total += m;
                }
                prop_assert_eq!(total, end[p], "ending MRR of period {}", p);
                prop_assert!(i64::from(*period) >= i64::from(first) - 31);
            }
        }
    }
}
