//! Churn rates, cohorts, customer lives and renewal rates with hand-computed answers.

// A failing unwrap here is a failing test, not a user-facing error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dates, day, f, floats, micros, Date};
use csmetrics::churn::{churn_rates, ChurnDenominator, ChurnOptions};
use csmetrics::cohort::{cohort_retention, CohortKind, CohortOptions, CohortRule};
use csmetrics::period::days_from_civil;
use csmetrics::renewal::{renewal_rates, RenewalOptions};
use csmetrics::revenue::{mrr_bridge, Mode, RevenueInput, RevenueOptions};
use csmetrics::survival::{survival_table, Lives, SurvivalTableOptions};
use polars::prelude::*;
use proptest::prelude::*;

fn subs(rows: &[(String, Date, Option<Date>, f64)]) -> DataFrame {
    let starts: Vec<Option<Date>> = rows.iter().map(|r| Some(r.1)).collect();
    let ends: Vec<Option<Date>> = rows.iter().map(|r| r.2).collect();
    DataFrame::new(
        rows.len(),
        vec![
            Column::new(
                "customer_id".into(),
                rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            ),
            dates("start", &starts),
            dates("end", &ends),
            Column::new(
                "amount".into(),
                rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            ),
            Column::new("interval".into(), vec!["month"; rows.len()]),
        ],
    )
    .unwrap()
}

fn panel(as_of: Date, mode: Mode) -> RevenueOptions {
    RevenueOptions {
        as_of: Some(micros(as_of)),
        mode,
        ..Default::default()
    }
}

/// 650 customers in January; 15 leave on Feb 10; 5 join on Feb 3; one joins and leaves in Feb.
fn worked_example() -> DataFrame {
    let mut rows = Vec::new();
    for i in 0..650 {
        let end = (i < 15).then_some((2024, 2, 10));
        rows.push((format!("c{i}"), (2024, 1, 1), end, 10.0));
    }
    for i in 0..5 {
        rows.push((format!("n{i}"), (2024, 2, 3), None, 10.0));
    }
    rows.push(("flash".to_string(), (2024, 2, 5), Some((2024, 2, 20)), 10.0));
    subs(&rows)
}

#[test]
fn logo_churn_worked_example_and_denominators() {
    let data = worked_example();
    let start = churn_rates(
        &data,
        &ChurnOptions {
            panel: panel((2024, 3, 1), Mode::Snapshot),
            confidence: Some(0.95),
            ..Default::default()
        },
    )
    .unwrap();
    // February is row 1.
    assert_eq!(
        (
            f(&start, "customers_start", 1),
            f(&start, "churned", 1),
            f(&start, "new", 1)
        ),
        (Some(650.0), Some(15.0), Some(5.0))
    );
    let rate = f(&start, "churn_rate", 1).unwrap();
    assert!((rate - 15.0 / 650.0).abs() < 1e-15);
    assert_eq!((rate * 10_000.0).round() / 10_000.0, 0.0231);
    assert!((f(&start, "retention_rate", 1).unwrap() - (1.0 - rate)).abs() < 1e-15);
    assert!((f(&start, "growth_rate", 1).unwrap() - (640.0 - 650.0) / 650.0).abs() < 1e-15);
    let (lo, hi) = (
        f(&start, "churn_lower", 1).unwrap(),
        f(&start, "churn_upper", 1).unwrap(),
    );
    assert!(lo < rate && rate < hi && lo > 0.0 && hi < 0.05);
    // The bridge's churned customer count is the same.
    let bridge = mrr_bridge(&data, &panel((2024, 3, 1), Mode::Snapshot)).unwrap();
    assert_eq!(f(&bridge, "churned_customers", 1), Some(15.0));

    let stripe = |mode| {
        churn_rates(
            &data,
            &ChurnOptions {
                panel: panel((2024, 3, 1), mode),
                denominator: ChurnDenominator::StartPlusNew,
                confidence: None,
            },
        )
        .unwrap()
    };
    // Snapshot mode cannot see the customer who came and went in February.
    assert!((f(&stripe(Mode::Snapshot), "churn_rate", 1).unwrap() - 15.0 / 655.0).abs() < 1e-15);
    let events = stripe(Mode::Events);
    assert_eq!(f(&events, "joined_and_left", 1), Some(1.0));
    assert!((f(&events, "churn_rate", 1).unwrap() - 16.0 / 656.0).abs() < 1e-15);
    let average = churn_rates(
        &data,
        &ChurnOptions {
            panel: panel((2024, 3, 1), Mode::Snapshot),
            denominator: ChurnDenominator::Average,
            confidence: Some(0.95),
        },
    )
    .unwrap();
    assert!((f(&average, "churn_rate", 1).unwrap() - 15.0 / 645.0).abs() < 1e-15);
    assert_eq!(f(&average, "churn_lower", 1), None);
}

fn cohort_data() -> DataFrame {
    subs(&[
        ("a".into(), (2024, 1, 1), Some((2024, 4, 1)), 10.0),
        ("b".into(), (2024, 1, 1), Some((2024, 2, 1)), 20.0),
        ("c".into(), (2024, 2, 1), None, 5.0),
        ("d".into(), (2024, 1, 1), Some((2024, 2, 1)), 7.0),
        ("d".into(), (2024, 3, 1), Some((2024, 4, 1)), 7.0),
    ])
}

#[test]
fn cohorts_classic_unbounded_and_revenue() {
    let opts = |kind, rule| CohortOptions {
        panel: panel((2024, 4, 15), Mode::Snapshot),
        kind,
        rule,
        signup: None,
    };
    let classic =
        cohort_retention(&cohort_data(), &opts(CohortKind::Logo, CohortRule::Classic)).unwrap();
    // Cohorts Jan (a, b, d) and Feb (c), ages 0-3 each; April is observable for Jan only.
    assert_eq!(classic.height(), 8);
    assert_eq!(
        floats(&classic, "active"),
        vec![
            Some(3.0),
            Some(1.0),
            Some(2.0),
            Some(0.0),
            Some(1.0),
            Some(1.0),
            Some(1.0),
            None
        ]
    );
    assert_eq!(floats(&classic, "rate")[2], Some(2.0 / 3.0));
    let unbounded = cohort_retention(
        &cohort_data(),
        &opts(CohortKind::Logo, CohortRule::Unbounded),
    )
    .unwrap();
    assert_eq!(
        floats(&unbounded, "active")[..4],
        [Some(3.0), Some(2.0), Some(2.0), Some(0.0)]
    );
    let revenue = cohort_retention(
        &cohort_data(),
        &opts(CohortKind::Revenue, CohortRule::Classic),
    )
    .unwrap();
    let rates = floats(&revenue, "rate");
    assert_eq!(rates[0], Some(1.0));
    assert!((rates[1].unwrap() - 10.0 / 37.0).abs() < 1e-15);
    assert!((rates[2].unwrap() - 17.0 / 37.0).abs() < 1e-15);
    assert!(cohort_retention(
        &cohort_data(),
        &opts(CohortKind::Revenue, CohortRule::Unbounded)
    )
    .is_err());
}

#[test]
fn cohorts_from_signup_and_activity_events() {
    let mut data = cohort_data();
    data.with_column(dates(
        "signup",
        &[
            Some((2023, 12, 20)),
            Some((2024, 1, 1)),
            Some((2024, 1, 15)),
            Some((2023, 12, 1)),
            Some((2023, 12, 1)),
        ],
    ))
    .unwrap();
    let opts = CohortOptions {
        panel: panel((2024, 4, 15), Mode::Snapshot),
        signup: Some("signup".into()),
        ..Default::default()
    };
    let by_signup = cohort_retention(&data, &opts).unwrap();
    // Cohorts Dec (a, d) and Jan (b, c); five ages each (Dec..Apr).
    assert_eq!(by_signup.height(), 10);
    assert_eq!(floats(&by_signup, "cohort_size")[0], Some(2.0));
    assert_eq!(
        floats(&by_signup, "active")[..5],
        [Some(0.0), Some(2.0), Some(1.0), Some(2.0), Some(0.0)]
    );
    // Activity before signup is an error naming the column.
    data.with_column(
        Column::new("signup".into(), [day((2024, 2, 20)); 5])
            .cast(&DataType::Date)
            .unwrap(),
    )
    .unwrap();
    let err = cohort_retention(&data, &opts).unwrap_err().to_string();
    assert!(err.contains("'signup'") && err.contains("before"), "{err}");

    let events = DataFrame::new(
        4,
        vec![
            Column::new("customer_id".into(), [1i64, 1, 2, 1]),
            dates(
                "timestamp",
                &[
                    Some((2024, 1, 5)),
                    Some((2024, 1, 9)),
                    Some((2024, 1, 30)),
                    Some((2024, 3, 2)),
                ],
            ),
        ],
    )
    .unwrap();
    let activity = RevenueOptions {
        input: RevenueInput::Activity {
            customer_id: "customer_id".into(),
            timestamp: "timestamp".into(),
        },
        ..Default::default()
    };
    let cohorts = cohort_retention(
        &events,
        &CohortOptions {
            panel: activity.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        floats(&cohorts, "active"),
        vec![Some(2.0), Some(0.0), Some(1.0)]
    );
    let churn = churn_rates(
        &events,
        &ChurnOptions {
            panel: activity,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(floats(&churn, "churn_rate"), vec![None, Some(1.0), None]);
}

#[test]
fn survival_table_lives_gaps_and_censoring() {
    let data = subs(&[
        ("a".into(), (2024, 1, 1), Some((2024, 3, 1)), 10.0),
        ("a".into(), (2024, 3, 11), None, 10.0),
        ("b".into(), (2024, 2, 1), Some((2024, 2, 15)), 10.0),
        ("b".into(), (2024, 2, 15), Some((2024, 3, 1)), 12.0),
        ("c".into(), (2024, 5, 1), None, 10.0), // after as_of: not read
    ]);
    let opts = |tolerance: f64, lives| SurvivalTableOptions {
        panel: panel((2024, 4, 1), Mode::Snapshot),
        gap_tolerance_days: tolerance,
        lives,
        ..Default::default()
    };
    let first = survival_table(&data, &opts(0.0, Lives::First)).unwrap();
    assert_eq!(floats(&first, "duration"), vec![Some(60.0), Some(29.0)]);
    assert_eq!(floats(&first, "event"), vec![Some(1.0), Some(1.0)]);
    let bridged = survival_table(&data, &opts(15.0, Lives::First)).unwrap();
    assert_eq!(floats(&bridged, "duration")[0], Some(91.0));
    assert_eq!(floats(&bridged, "event")[0], Some(0.0));
    let all = survival_table(&data, &opts(0.0, Lives::All)).unwrap();
    assert_eq!(
        floats(&all, "duration"),
        vec![Some(60.0), Some(21.0), Some(29.0)]
    );
    assert_eq!(floats(&all, "life"), vec![Some(0.0), Some(1.0), Some(0.0)]);
    let late = SurvivalTableOptions {
        panel: RevenueOptions {
            first_period: Some(micros((2024, 2, 1))),
            ..panel((2024, 4, 1), Mode::Snapshot)
        },
        ..Default::default()
    };
    let truncated = survival_table(&data, &late).unwrap();
    assert_eq!(floats(&truncated, "entry"), vec![Some(31.0), Some(0.0)]);
}

#[test]
fn renewal_worked_example() {
    let n = 100;
    let renewed: Vec<Option<bool>> = (0..n + 3)
        .map(|i| if i >= n { None } else { Some(i < 80) })
        .collect();
    let amounts: Vec<f64> = (0..n + 3)
        .map(|i| if i < 80 { 10.0 } else { 30.0 })
        .collect();
    let contracts = DataFrame::new(
        n + 3,
        vec![
            Column::new("renewal_due".into(), vec![day((2024, 6, 10)); n + 3])
                .cast(&DataType::Date)
                .unwrap(),
            Column::new("renewed".into(), renewed),
            Column::new("amount".into(), amounts),
        ],
    )
    .unwrap();
    let result = renewal_rates(
        &contracts,
        &RenewalOptions {
            amount: Some("amount".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (
            f(&result, "up_for_renewal", 0),
            f(&result, "renewed", 0),
            f(&result, "pending", 0)
        ),
        (Some(100.0), Some(80.0), Some(3.0))
    );
    assert_eq!(f(&result, "renewal_rate", 0), Some(0.8));
    assert!((f(&result, "revenue_renewal_rate", 0).unwrap() - 800.0 / 1400.0).abs() < 1e-15);
    let bad = DataFrame::new(
        1,
        vec![
            dates("renewal_due", &[Some((2024, 6, 10))]),
            Column::new("renewed".into(), [2i64]),
        ],
    )
    .unwrap();
    let err = renewal_rates(&bad, &RenewalOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'renewed'") && err.contains("row 0") && err.contains('2'),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn rates_bounded_unbounded_retention_non_increasing(rows in prop::collection::vec((0u8..8, 0i32..300, prop::option::of(1i32..200)), 1..30)) {
        let data = subs(&rows.iter().map(|(c, s, l)| {
            let start = days_from_civil(2023, 1, 1) + i64::from(*s);
            let civil = csmetrics::period::civil_from_days(start);
            let end = l.map(|l| csmetrics::period::civil_from_days(start + i64::from(l)));
            (format!("c{c}"), (civil.0, civil.1, civil.2), end.map(|e| (e.0, e.1, e.2)), 10.0)
        }).collect::<Vec<_>>());
        let churn = churn_rates(&data, &ChurnOptions::default()).unwrap();
        for v in floats(&churn, "churn_rate").into_iter().flatten() {
            prop_assert!((0.0..=1.0).contains(&v));
        }
        let unbounded = cohort_retention(&data, &CohortOptions { rule: CohortRule::Unbounded, ..Default::default() }).unwrap();
        let cohorts: Vec<Option<f64>> = floats(&unbounded, "cohort_size");
        let rates = floats(&unbounded, "rate");
        for i in 1..rates.len() {
            if cohorts[i] == cohorts[i - 1] {
                if let (Some(a), Some(b)) = (rates[i - 1], rates[i]) {
                    // Same cohort block (ages ascending): never increases.
                    if floats(&unbounded, "age")[i].unwrap() > 0.0 { prop_assert!(b <= a + 1e-15); }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// The activity fast path (bit masks) agrees with the general panel on the same events.
    #[test]
    fn activity_cohorts_agree_with_the_general_panel(events in prop::collection::vec((0i64..12, 0i64..700), 1..80), unbounded in any::<bool>()) {
        let base = days_from_civil(2023, 1, 1);
        let days: Vec<i32> = events.iter().map(|(_, d)| (base + d) as i32).collect();
        let customers: Vec<i64> = events.iter().map(|(c, _)| *c).collect();
        let activity = DataFrame::new(events.len(), vec![
            Column::new("customer_id".into(), customers.clone()),
            Column::new("timestamp".into(), days.clone()).cast(&DataType::Date).unwrap(),
        ]).unwrap();
        let month_starts: Vec<i32> = days.iter().map(|d| csmetrics::Period::Month.start_of(i64::from(*d)) as i32).collect();
        let monthly = DataFrame::new(events.len(), vec![
            Column::new("customer_id".into(), customers),
            Column::new("period".into(), month_starts).cast(&DataType::Date).unwrap(),
            Column::new("mrr".into(), vec![1.0; events.len()]),
        ]).unwrap();
        let rule = if unbounded { CohortRule::Unbounded } else { CohortRule::Classic };
        let fast = cohort_retention(&activity, &CohortOptions {
            panel: RevenueOptions { input: RevenueInput::Activity { customer_id: "customer_id".into(), timestamp: "timestamp".into() }, ..Default::default() },
            rule, ..Default::default()
        }).unwrap();
        let as_of = days.iter().max().map(|d| i64::from(csmetrics::Period::Month.start_of(i64::from(*d)) as i32) * 86_400_000_000);
        let general = cohort_retention(&monthly, &CohortOptions {
            panel: RevenueOptions { input: RevenueInput::Monthly { customer_id: "customer_id".into(), period: "period".into(), mrr: "mrr".into() }, as_of, ..Default::default() },
            rule, ..Default::default()
        }).unwrap();
        prop_assert_eq!(floats(&fast, "active"), floats(&general, "active"));
        prop_assert_eq!(floats(&fast, "cohort_size"), floats(&general, "cohort_size"));
        prop_assert_eq!(fast.column("cohort").unwrap().as_materialized_series(), general.column("cohort").unwrap().as_materialized_series());
    }
}

#[test]
fn survival_table_checks_its_input() {
    let opts = SurvivalTableOptions {
        panel: panel((2024, 4, 1), Mode::Snapshot),
        ..Default::default()
    };
    let negative = subs(&[
        ("a".into(), (2024, 1, 1), None, 10.0),
        ("b".into(), (2024, 1, 1), None, -3.0),
    ]);
    let err = survival_table(&negative, &opts).unwrap_err().to_string();
    assert!(
        err.contains("'amount'") && err.contains("row 1") && err.contains("-3"),
        "{err}"
    );
    let backwards = subs(&[("a".into(), (2024, 2, 1), Some((2024, 1, 1)), 10.0)]);
    let err = survival_table(&backwards, &opts).unwrap_err().to_string();
    assert!(
        err.contains("'end'") && err.contains("row 0") && err.contains("before"),
        "{err}"
    );
    // A $0 subscription does not keep a life going unless free plans count as active.
    let free = subs(&[
        ("a".into(), (2024, 1, 1), Some((2024, 2, 1)), 10.0),
        ("a".into(), (2024, 2, 1), None, 0.0),
    ]);
    let paid = survival_table(&free, &opts).unwrap();
    assert_eq!(floats(&paid, "duration"), vec![Some(31.0)]);
    let with_free = SurvivalTableOptions {
        panel: RevenueOptions {
            free_is_active: true,
            ..panel((2024, 4, 1), Mode::Snapshot)
        },
        ..Default::default()
    };
    assert_eq!(
        floats(&survival_table(&free, &with_free).unwrap(), "duration"),
        vec![Some(91.0)]
    );
}

/// Lives of one customer the slow way: days covered by a subscription (up to `as_of`) marked
/// one by one; a life is a maximal run of covered days.
fn brute_lives(spans: &[(i32, Option<i32>, f64)], as_of: i32) -> Vec<(i32, i32, bool)> {
    let mut covered = std::collections::BTreeSet::new();
    for &(start, end, amount) in spans {
        if amount <= 0.0 || start > as_of {
            continue;
        }
        for d in start..end.unwrap_or(i32::MAX).min(as_of + 1) {
            covered.insert(d);
        }
    }
    let mut lives = Vec::new();
    let mut days = covered.into_iter().peekable();
    while let Some(first) = days.next() {
        let mut last = first;
        while days.peek() == Some(&(last + 1)) {
            last = days.next().unwrap();
        }
        // The life ends on the day after its last covered day, unless that is after as_of.
        let ended = last < as_of;
        lives.push((first, if ended { last + 1 } else { as_of }, ended));
    }
    lives
}

#[test]
fn survival_table_agrees_with_day_by_day_lives_on_large_shuffled_tables() {
    // More customers than one work range holds, so the parallel split and the id order matter.
    let customers = 70_000u64;
    let as_of = day((2024, 12, 31));
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut rows: Vec<(u64, i32, Option<i32>, f64)> = Vec::new();
    for c in 0..customers {
        let mut start = day((2023, 1, 1)) + next(700) as i32;
        for _ in 0..1 + next(3) {
            let length = 1 + next(120) as i32;
            let open = next(5) == 0;
            let amount = if next(10) == 0 { 0.0 } else { 20.0 };
            rows.push((c * 7 + 3, start, (!open).then_some(start + length), amount));
            start += length + if next(2) == 0 { 0 } else { next(30) as i32 - 5 };
        }
    }
    // Shuffle the rows (Fisher-Yates).
    for i in (1..rows.len()).rev() {
        let j = next(i as u64 + 1) as usize;
        rows.swap(i, j);
    }
    let mut expected: Vec<(u64, u32, i32, i32, bool)> = Vec::new();
    let mut by_customer: std::collections::BTreeMap<u64, Vec<(i32, Option<i32>, f64)>> =
        Default::default();
    for r in &rows {
        by_customer.entry(r.0).or_default().push((r.1, r.2, r.3));
    }
    for (id, spans) in &by_customer {
        for (life, (s, e, ended)) in brute_lives(spans, as_of).into_iter().enumerate() {
            expected.push((*id, life as u32, s, e, ended));
        }
    }
    let frame = |ids: Column, rows: &[(u64, i32, Option<i32>, f64)]| {
        DataFrame::new(
            rows.len(),
            vec![
                ids,
                Column::new("start".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>())
                    .cast(&DataType::Date)
                    .unwrap(),
                Column::new("end".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>())
                    .cast(&DataType::Date)
                    .unwrap(),
                Column::new(
                    "amount".into(),
                    rows.iter().map(|r| r.3).collect::<Vec<_>>(),
                ),
                Column::new("interval".into(), vec!["month"; rows.len()]),
            ],
        )
        .unwrap()
    };
    let int_ids = |rows: &[(u64, i32, Option<i32>, f64)]| {
        Column::new(
            "customer_id".into(),
            rows.iter().map(|r| r.0 as i64).collect::<Vec<_>>(),
        )
    };
    let mut sorted_rows = rows.clone();
    sorted_rows.sort_by_key(|r| r.0);
    let string_ids = Column::new(
        "customer_id".into(),
        rows.iter()
            .map(|r| format!("c{:08}", r.0))
            .collect::<Vec<_>>(),
    );
    let options = SurvivalTableOptions {
        panel: panel((2024, 12, 31), Mode::Snapshot),
        lives: Lives::All,
        ..Default::default()
    };
    for (name, data) in [
        ("shuffled integer ids", frame(int_ids(&rows), &rows)),
        (
            "sorted integer ids",
            frame(int_ids(&sorted_rows), &sorted_rows),
        ),
        ("shuffled string ids", frame(string_ids.clone(), &rows)),
    ] {
        let table = survival_table(&data, &options).unwrap();
        assert_eq!(table.height(), expected.len(), "{name}");
        let ids: Vec<u64> = match table.column("customer_id").unwrap().dtype() {
            DataType::String => table
                .column("customer_id")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|s| s.unwrap()[1..].parse().unwrap())
                .collect(),
            _ => table
                .column("customer_id")
                .unwrap()
                .cast(&DataType::UInt64)
                .unwrap()
                .u64()
                .unwrap()
                .into_no_null_iter()
                .collect(),
        };
        let life = floats(&table, "life");
        let duration = floats(&table, "duration");
        let event = floats(&table, "event");
        let start = table
            .column("start")
            .unwrap()
            .cast(&DataType::Date)
            .unwrap()
            .cast(&DataType::Int32)
            .unwrap();
        let start: Vec<i32> = start.i32().unwrap().into_no_null_iter().collect();
        for (i, want) in expected.iter().enumerate() {
            let got = (
                ids[i],
                life[i].unwrap() as u32,
                start[i],
                start[i] + duration[i].unwrap() as i32,
                event[i] == Some(1.0),
            );
            assert_eq!(&got, want, "{name}, row {i}");
        }
    }
    // First lives only: the first life of each customer, in id order (customers whose
    // subscriptions are all $0 have none).
    let firsts: Vec<Option<f64>> = expected
        .iter()
        .filter(|e| e.1 == 0)
        .map(|e| Some(f64::from(e.3 - e.2)))
        .collect();
    let first_ids: Vec<Option<f64>> = expected
        .iter()
        .filter(|e| e.1 == 0)
        .map(|e| Some(e.0 as f64))
        .collect();
    assert!(
        firsts.len() < by_customer.len(),
        "some customers have no life"
    );
    for (name, data) in [
        ("shuffled integer ids", frame(int_ids(&rows), &rows)),
        (
            "sorted integer ids",
            frame(int_ids(&sorted_rows), &sorted_rows),
        ),
    ] {
        let first = survival_table(
            &data,
            &SurvivalTableOptions {
                lives: Lives::First,
                ..options.clone()
            },
        )
        .unwrap();
        assert_eq!(floats(&first, "duration"), firsts, "{name}");
        assert_eq!(floats(&first, "customer_id"), first_ids, "{name}");
    }
    // A table sorted by integer id with Date columns takes the one-pass path; the same table
    // with Datetime columns the general one: identical frames.
    let sorted = frame(int_ids(&sorted_rows), &sorted_rows);
    let mut as_datetimes = sorted.clone();
    for name in ["start", "end"] {
        let cast = as_datetimes
            .column(name)
            .unwrap()
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap();
        as_datetimes.with_column(cast).unwrap();
    }
    let first_options = SurvivalTableOptions {
        lives: Lives::First,
        gap_tolerance_days: 3.0,
        ..options.clone()
    };
    let fast = survival_table(&sorted, &first_options).unwrap();
    let general = survival_table(&as_datetimes, &first_options).unwrap();
    assert_eq!(fast, general);
    // The same without as_of: it defaults to the latest start on both paths.
    let no_as_of = SurvivalTableOptions {
        panel: RevenueOptions {
            as_of: None,
            ..first_options.panel.clone()
        },
        ..first_options.clone()
    };
    assert_eq!(
        survival_table(&sorted, &no_as_of).unwrap(),
        survival_table(&as_datetimes, &no_as_of).unwrap()
    );
    // A broken row in a sorted table is reported as the general path reports it.
    let mut broken = sorted_rows.clone();
    broken[1000].2 = Some(broken[1000].1 - 1);
    let message = survival_table(&frame(int_ids(&broken), &broken), &first_options)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("end") && message.contains("row 1000"),
        "{message}"
    );
}

fn scores(customers: &[&str], periods: &[Option<Date>]) -> DataFrame {
    DataFrame::new(
        customers.len(),
        vec![
            Column::new("customer_id".into(), customers),
            Column::new(
                "period".into(),
                periods.iter().map(|p| p.map(day)).collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)
            .unwrap(),
        ],
    )
    .unwrap()
}

fn labels(frame: &DataFrame) -> Vec<Option<bool>> {
    frame
        .column("churned")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect()
}

#[test]
fn churn_labels_by_hand() {
    use csmetrics::health::{churn_labels, ChurnLabelOptions};
    // a pays January to February 10; b from January on; c from March; d never.
    let subscriptions = subs(&[
        ("a".into(), (2024, 1, 1), Some((2024, 2, 10)), 10.0),
        ("b".into(), (2024, 1, 1), None, 10.0),
        ("c".into(), (2024, 3, 1), None, 10.0),
    ]);
    let jan = Some((2024, 1, 1));
    let table = scores(
        &["a", "b", "c", "d", "b", "b"],
        &[jan, jan, jan, jan, Some((2024, 3, 1)), None],
    );
    let options = ChurnLabelOptions {
        panel: panel((2024, 3, 31), Mode::Snapshot),
        ..Default::default()
    };
    let out = churn_labels(&table, &subscriptions, &options).unwrap();
    // a does not pay at the end of February: churned. b pays on. c and d do not pay at the end
    // of January: not at risk. March + 1 is after the panel's last period (March): not known.
    assert_eq!(
        labels(&out),
        [Some(true), Some(false), None, None, None, None]
    );
    assert_eq!(out.width(), 3);

    // Two periods ahead: January + 2 is March, the last period; b still pays.
    let two = ChurnLabelOptions {
        periods: 2,
        ..options.clone()
    };
    let out = churn_labels(&table, &subscriptions, &two).unwrap();
    assert_eq!(labels(&out)[..2], [Some(true), Some(false)]);

    // A mid-month period is an error naming the row; so is a horizon of 0.
    let bad = scores(&["a", "b"], &[jan, Some((2024, 1, 15))]);
    match churn_labels(&bad, &subscriptions, &options) {
        Err(csmetrics::CsError::InvalidValue { column, row, .. }) => {
            assert_eq!((column.as_str(), row), ("period", 1));
        }
        other => panic!("expected an invalid period, got {other:?}"),
    }
    let zero = ChurnLabelOptions {
        periods: 0,
        ..options.clone()
    };
    assert!(matches!(
        churn_labels(&table, &subscriptions, &zero),
        Err(csmetrics::CsError::InvalidOption { .. })
    ));
    // Integer customer ids cannot match text ones.
    let mut numbered = table.clone();
    numbered
        .replace(
            "customer_id",
            Column::new("customer_id".into(), [1i64, 2, 3, 4, 2, 2]),
        )
        .unwrap();
    assert!(matches!(
        churn_labels(&numbered, &subscriptions, &options),
        Err(csmetrics::CsError::InvalidType { .. })
    ));
}
