//! Hand-computed funnels and times to milestone on four customers.
//!
//! Starts: A 2024-01-01, B 2024-01-10, C 2024-01-20 (January cohort), D 2024-02-01 (February).
//! Milestones (days after the start): A setup 2 and 4 (a repeat), report 19; B report 2 then
//! setup 5 (the report comes before the setup: it does not count in strict order); C setup 21;
//! D setup 2. Cut-off 2024-02-15.

use polars::prelude::*;

use super::*;
use crate::period::{days_from_civil, MICROS_PER_DAY};

fn day(y: i64, m: u32, d: u32) -> i32 {
    days_from_civil(y, m, d) as i32
}

fn dates(name: &str, days: Vec<i32>) -> Column {
    Column::new(name.into(), days)
        .cast(&DataType::Date)
        .expect("dates")
}

fn customers() -> DataFrame {
    DataFrame::new(
        4,
        vec![
            Column::new("customer_id".into(), ["A", "B", "C", "D"]),
            dates(
                "signup_date",
                vec![
                    day(2024, 1, 1),
                    day(2024, 1, 10),
                    day(2024, 1, 20),
                    day(2024, 2, 1),
                ],
            ),
        ],
    )
    .expect("customers")
}

fn milestones() -> DataFrame {
    let rows = [
        ("A", "setup", day(2024, 1, 3)),
        ("A", "setup", day(2024, 1, 5)),
        ("A", "report", day(2024, 1, 20)),
        ("B", "report", day(2024, 1, 12)),
        ("B", "setup", day(2024, 1, 15)),
        ("C", "setup", day(2024, 2, 10)),
        ("D", "setup", day(2024, 2, 3)),
        ("D", "other", day(2024, 2, 4)),
    ];
    DataFrame::new(
        rows.len(),
        vec![
            Column::new("customer_id".into(), rows.map(|r| r.0)),
            Column::new("milestone".into(), rows.map(|r| r.1)),
            dates("timestamp", rows.map(|r| r.2).to_vec()),
        ],
    )
    .expect("milestones")
}

fn as_of() -> Option<i64> {
    Some(i64::from(day(2024, 2, 15)) * MICROS_PER_DAY)
}

fn journey() -> Vec<String> {
    vec!["setup".into(), "report".into()]
}

fn ints(frame: &DataFrame, name: &str) -> Vec<i64> {
    frame
        .column(name)
        .expect("column")
        .i64()
        .expect("i64")
        .into_no_null_iter()
        .collect()
}

fn floats(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
    frame
        .column(name)
        .expect("column")
        .f64()
        .expect("f64")
        .iter()
        .collect()
}

#[test]
fn strict_funnel_by_cohort_and_window() {
    let options = FunnelOptions {
        journey: journey(),
        window_days: vec![7, 30],
        as_of: as_of(),
        ..Default::default()
    };
    let f = milestone_funnel(&milestones(), &customers(), &options).expect("funnel");
    // Rows: January (7: setup, report; 30: setup, report), then February likewise.
    assert_eq!(ints(&f, "window_days"), [7, 7, 30, 30, 7, 7, 30, 30]);
    assert_eq!(ints(&f, "customers"), [3, 3, 3, 3, 1, 1, 1, 1]);
    // C's 30-day window closes on 2024-02-19, D's on 2024-03-02: after the cut-off.
    assert_eq!(ints(&f, "pending"), [0, 0, 1, 1, 0, 0, 1, 1]);
    assert_eq!(ints(&f, "reached"), [2, 0, 2, 1, 1, 0, 0, 0]);
    assert_eq!(ints(&f, "pending_reached"), [0, 0, 1, 0, 0, 0, 1, 0]);
    let share = floats(&f, "share");
    assert_eq!(
        share,
        [
            Some(2.0 / 3.0),
            Some(0.0),
            Some(1.0),
            Some(0.5),
            Some(1.0),
            Some(0.0),
            None,
            None
        ]
    );
    let conversion = floats(&f, "conversion");
    assert_eq!(conversion[1], Some(0.0));
    assert_eq!(conversion[3], Some(0.5));
    assert_eq!(conversion[6], None);
    // A's second setup is a repeat of its January group's first stage.
    assert_eq!(ints(&f, "repeats"), [1, 0, 1, 0, 0, 0, 0, 0]);
}

#[test]
fn any_order_counts_a_milestone_reached_early() {
    let options = FunnelOptions {
        journey: journey(),
        window_days: vec![7],
        order: Order::Any,
        as_of: as_of(),
        starts: Starts {
            cohort: None,
            ..Starts::default()
        },
        ..Default::default()
    };
    let f = milestone_funnel(&milestones(), &customers(), &options).expect("funnel");
    // All four customers: setup within 7 days A, B, D; report within 7 days B only.
    assert_eq!(ints(&f, "reached"), [3, 1]);
    assert_eq!(floats(&f, "conversion"), [Some(0.75), Some(1.0 / 3.0)]);
}

#[test]
fn time_to_milestone_censors_at_the_cut_off_and_at_churn() {
    let options = TimeToMilestoneOptions {
        journey: journey(),
        as_of: as_of(),
        ..Default::default()
    };
    let t = time_to_milestone(&milestones(), &customers(), &options).expect("times");
    // Setup after 2, 5, 21 and 2 days: S(2) = 1/2, S(5) = 1/4.
    assert_eq!(ints(&t, "reached"), [4, 1]);
    assert_eq!(ints(&t, "censored"), [0, 3]);
    assert_eq!(floats(&t, "median")[0], Some(2.0));
    assert_eq!(floats(&t, "p25")[0], Some(2.0));
    assert_eq!(floats(&t, "p75")[0], Some(5.0));
    // Report: A after 19 days; D censored at 14, C at 26 and B at 36: S(19) = 2/3.
    assert_eq!(floats(&t, "median")[1], None);
    assert_eq!(floats(&t, "p25")[1], Some(19.0));
    // C churned on 2024-02-01, 12 days after its start: then S(19) = 1/2.
    let mut churned = customers();
    let end = vec![None, None, Some(day(2024, 2, 1)), None];
    churned
        .with_column(
            Column::new("end".into(), end)
                .cast(&DataType::Date)
                .expect("dates"),
        )
        .expect("end");
    let options = TimeToMilestoneOptions {
        starts: Starts {
            end: Some("end".into()),
            cohort: None,
            ..Starts::default()
        },
        ..options
    };
    let t = time_to_milestone(&milestones(), &churned, &options).expect("times");
    assert_eq!(floats(&t, "median")[1], Some(19.0));
}

#[test]
fn bad_milestones_are_errors_or_counted() {
    let mut options = FunnelOptions {
        journey: vec!["setup".into(), "onboarded".into()],
        as_of: as_of(),
        ..Default::default()
    };
    let err = milestone_funnel(&milestones(), &customers(), &options).expect_err("unknown");
    assert!(err.to_string().contains("'onboarded'"), "{err}");
    options.journey = journey();
    let mut early = milestones();
    let row = DataFrame::new(
        1,
        vec![
            Column::new("customer_id".into(), ["C"]),
            Column::new("milestone".into(), ["setup"]),
            dates("timestamp", vec![day(2024, 1, 2)]),
        ],
    )
    .expect("row");
    early.vstack_mut(&row).expect("vstack");
    let err = milestone_funnel(&early, &customers(), &options).expect_err("early");
    assert!(err.to_string().contains("2024-01-02"), "{err}");
    options.before_start = BeforeStart::Drop;
    let f = milestone_funnel(&early, &customers(), &options).expect("dropped");
    assert_eq!(ints(&f, "before_start"), [1, 0, 0, 0]);
    let stranger = DataFrame::new(
        1,
        vec![
            Column::new("customer_id".into(), ["Z"]),
            Column::new("milestone".into(), ["setup"]),
            dates("timestamp", vec![day(2024, 1, 2)]),
        ],
    )
    .expect("row");
    options.journey = vec!["setup".into()];
    let err = milestone_funnel(&stranger, &customers(), &options).expect_err("stranger");
    assert!(err.to_string().contains('Z'), "{err}");
}

#[test]
fn activation_by_active_days_and_by_milestone() {
    let usage_days = [
        ("A", day(2024, 1, 1)),
        ("A", day(2024, 1, 2)),
        ("A", day(2024, 1, 2)),
        ("A", day(2024, 1, 5)),
        ("B", day(2024, 1, 10)),
        ("B", day(2024, 1, 30)),
    ];
    let usage = DataFrame::new(
        usage_days.len(),
        vec![
            Column::new("customer_id".into(), usage_days.map(|r| r.0)),
            dates("date", usage_days.map(|r| r.1).to_vec()),
        ],
    )
    .expect("usage");
    let options = ActivationOptions {
        starts: Starts::default(),
        rule: ActivationRule::ActiveDays {
            min_active_days: 3,
            customer_id: "customer_id".into(),
            timestamp: "date".into(),
            events: None,
        },
        window_days: 14,
        as_of: Some(i64::from(day(2024, 2, 10)) * MICROS_PER_DAY),
    };
    let a = activation(&usage, &customers(), &options).expect("activation");
    // January: A activated (3 distinct days), B one day in its window, C none; February: D's
    // window closes on 2024-02-15, after the cut-off.
    assert_eq!(ints(&a, "customers"), [3, 1]);
    assert_eq!(ints(&a, "pending"), [0, 1]);
    assert_eq!(ints(&a, "activated"), [1, 0]);
    assert_eq!(floats(&a, "activation_rate"), [Some(1.0 / 3.0), None]);
    let options = ActivationOptions {
        rule: ActivationRule::Milestone {
            milestone: "setup".into(),
            columns: MilestoneColumns::default(),
        },
        window_days: 3,
        ..options
    };
    // Setup within 3 days: A (2) and D (2); B (5) and C (21) not.
    let a = activation(&milestones(), &customers(), &options).expect("activation");
    assert_eq!(ints(&a, "activated"), [1, 1]);
    assert_eq!(ints(&a, "pending"), [0, 0]);
    assert_eq!(floats(&a, "activation_rate"), [Some(1.0 / 3.0), Some(1.0)]);
}
