//! Operations KPIs with hand-computed answers (docs/metrics/operations.md).
#![allow(clippy::unwrap_used)] // test helpers: a failed read is a failed test

mod common;

use common::{dates, day, f, i, micros, Date};
use csmetrics::operations::*;
use csmetrics::revenue::RevenueOptions;
use csmetrics::CsError;
use polars::prelude::*;

#[test]
fn retention_cost_50000_over_100_customers() {
    // 100 customers active all of January 2024; programme cost 50,000 in January.
    let n = 100;
    let subs = DataFrame::new(
        n,
        vec![
            Column::new("customer_id".into(), (0..n as i64).collect::<Vec<_>>()),
            dates("start", &vec![Some((2023, 12, 1)); n]),
            dates("end", &vec![None; n]),
            Column::new("amount".into(), vec![10.0; n]),
            Column::new("interval".into(), vec!["month"; n]),
        ],
    )
    .unwrap();
    let costs = DataFrame::new(
        2,
        vec![
            dates("period", &[Some((2024, 1, 1)), Some((2024, 1, 20))]),
            Column::new("amount".into(), [30_000.0, 20_000.0]),
        ],
    )
    .unwrap();
    let options = RetentionCostOptions {
        panel: RevenueOptions {
            as_of: Some(micros((2024, 1, 31))),
            ..Default::default()
        },
        ..Default::default()
    };
    let out = retention_cost(&subs, &costs, &options).unwrap();
    let jan = (0..out.height())
        .find(|r| {
            out.column("period")
                .unwrap()
                .cast(&DataType::Int32)
                .unwrap()
                .i32()
                .unwrap()
                .get(*r)
                == Some(day((2024, 1, 1)))
        })
        .unwrap();
    assert_eq!(f(&out, "cost", jan), Some(50_000.0));
    assert_eq!(f(&out, "customers", jan), Some(100.0));
    assert_eq!(f(&out, "crc", jan), Some(500.0));
    // December: the 100 are new, no cost.
    assert_eq!(f(&out, "crc", 0), Some(0.0));
    let bad = RetentionCostOptions {
        panel: RevenueOptions {
            by: vec!["x".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(matches!(
        retention_cost(&subs, &costs, &bad),
        Err(CsError::InvalidOption { .. })
    ));
}

#[test]
fn trial_conversion_20_of_100_with_pending() {
    // 100 January trials ending Jan 15 (window to Jan 29): 20 converted in time, 5 converted
    // late (Feb 10), 75 never. 10 more February trials ending Feb 20 are pending at Feb 25.
    let mut start = vec![Some((2024, 1, 1)); 100];
    let mut end = vec![Some((2024, 1, 15)); 100];
    let mut conv: Vec<Option<Date>> = (0..100)
        .map(|k| {
            if k < 20 {
                Some((2024, 1, 20))
            } else if k < 25 {
                Some((2024, 2, 10))
            } else {
                None
            }
        })
        .collect();
    start.extend(vec![Some((2024, 2, 5)); 10]);
    end.extend(vec![Some((2024, 2, 20)); 10]);
    conv.extend(vec![None; 10]);
    let frame = DataFrame::new(
        110,
        vec![
            dates("trial_start", &start),
            dates("trial_end", &end),
            dates("converted_at", &conv),
        ],
    )
    .unwrap();
    let out = trial_conversion(
        &frame,
        &TrialOptions {
            as_of: Some(micros((2024, 2, 25))),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.height(), 2);
    assert_eq!(
        (
            i(&out, "trials", 0),
            i(&out, "converted", 0),
            i(&out, "decided", 0)
        ),
        (100, 20, 100)
    );
    assert_eq!(f(&out, "conversion_rate", 0), Some(0.20));
    assert_eq!((i(&out, "pending", 1), i(&out, "decided", 1)), (10, 0));
    assert_eq!(f(&out, "conversion_rate", 1), None);

    let mut bad = frame.clone();
    bad.replace(
        "trial_end",
        dates("trial_end", &vec![Some((2023, 12, 1)); 110]),
    )
    .unwrap();
    let err = trial_conversion(&bad, &TrialOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("trial_end") && err.contains("row 0") && err.contains("before"),
        "{err}"
    );
}

#[test]
fn upsell_and_cross_sell_rates() {
    let kinds: Vec<&str> = std::iter::repeat_n("upsell", 10)
        .chain(std::iter::repeat_n("cross_sell", 5))
        .chain(std::iter::repeat_n("new", 85))
        .collect();
    let frame = DataFrame::new(
        100,
        vec![
            dates("timestamp", &vec![Some((2024, 3, 3)); 100]),
            Column::new("kind".into(), kinds),
        ],
    )
    .unwrap();
    let out = conversion_rates(&frame, &ConversionOptions::default()).unwrap();
    assert_eq!(i(&out, "conversions", 0), 100);
    assert_eq!(f(&out, "upsell_rate", 0), Some(0.10));
    assert_eq!(f(&out, "cross_sell_rate", 0), Some(0.05));
    let bad = DataFrame::new(
        2,
        vec![
            dates("timestamp", &[Some((2024, 3, 3)); 2]),
            Column::new("kind".into(), ["new", "downgrade"]),
        ],
    )
    .unwrap();
    let err = conversion_rates(&bad, &ConversionOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'kind', row 1") && err.contains("downgrade"),
        "{err}"
    );
}

#[test]
fn first_contact_resolution_gross_and_net() {
    // t0: 1 contact, resolved, never reopened -> FCR. t1: 1 contact, reopened 3 days after
    // resolution -> not. t2: 1 contact, reopened 10 days after -> FCR (outside 7 days).
    // t3: 2 contacts -> not; not resolvable at first contact. t4: open.
    let frame = DataFrame::new(
        5,
        vec![
            dates("opened_at", &[Some((2024, 1, 1)); 5]),
            dates(
                "resolved_at",
                &[
                    Some((2024, 1, 2)),
                    Some((2024, 1, 2)),
                    Some((2024, 1, 2)),
                    Some((2024, 1, 5)),
                    None,
                ],
            ),
            Column::new(
                "contacts".into(),
                [Some(1i64), Some(1), Some(1), Some(2), None],
            ),
            dates(
                "reopened_at",
                &[None, Some((2024, 1, 5)), Some((2024, 1, 12)), None, None],
            ),
            Column::new(
                "resolvable_at_first_contact".into(),
                [true, true, true, false, true],
            ),
        ],
    )
    .unwrap();
    let out = first_contact_resolution(&frame, &FcrOptions::default()).unwrap();
    assert_eq!(
        (
            i(&out, "tickets", 0),
            i(&out, "resolved", 0),
            i(&out, "first_contact_resolved", 0)
        ),
        (5, 4, 2)
    );
    assert_eq!(f(&out, "fcr_gross", 0), Some(0.5));
    assert_eq!(i(&out, "resolvable", 0), 3);
    assert_eq!(f(&out, "fcr_net", 0), Some(2.0 / 3.0));
    // A wider window catches t2's reopen.
    let wide = first_contact_resolution(
        &frame,
        &FcrOptions {
            reopen_window_days: 30.0,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(f(&wide, "fcr_gross", 0), Some(0.25));

    let mut bad = frame.clone();
    bad.replace(
        "contacts",
        Column::new(
            "contacts".into(),
            [Some(1i64), Some(0), Some(1), Some(2), None],
        ),
    )
    .unwrap();
    let err = first_contact_resolution(&bad, &FcrOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'contacts', row 1") && err.contains("found 0"),
        "{err}"
    );
}

#[test]
fn engagement_dau_mau_stickiness_and_adoption() {
    // February 2024 (29 days): a active on 10 days, b on 5 days (one of them with 0 users and
    // 0 events: not activity), c on 1 day. DAU = (10 + 4 + 1) / 29, MAU = 3.
    let mut ids = Vec::new();
    let mut days = Vec::new();
    let mut users = Vec::new();
    let mut events = Vec::new();
    let mut feature = Vec::new();
    for d in 1..=10 {
        ids.push("a");
        days.push(Some((2024, 2, d)));
        users.push(2i64);
        events.push(10i64);
        feature.push("reports");
    }
    for d in 1..=5 {
        ids.push("b");
        days.push(Some((2024, 2, d)));
        users.push(if d == 5 { 0 } else { 1 });
        events.push(if d == 5 { 0 } else { 4 });
        feature.push(if d == 1 { "export" } else { "reports" });
    }
    ids.push("c");
    days.push(Some((2024, 2, 29)));
    users.push(1);
    events.push(2);
    feature.push("export");
    let n = ids.len();
    let frame = DataFrame::new(
        n,
        vec![
            Column::new("customer_id".into(), ids),
            dates("date", &days),
            Column::new("active_users".into(), users),
            Column::new("events".into(), events),
            Column::new("feature".into(), feature),
        ],
    )
    .unwrap();
    let out = engagement(&frame, &EngagementOptions::default()).unwrap();
    assert_eq!(out.height(), 1);
    assert_eq!(i(&out, "days", 0), 29);
    assert_eq!(i(&out, "active", 0), 3);
    let dau = 15.0 / 29.0;
    assert!((f(&out, "dau", 0).unwrap() - dau).abs() < 1e-12);
    assert!((f(&out, "stickiness", 0).unwrap() - dau / 3.0).abs() < 1e-12);
    assert_eq!(f(&out, "events", 0), Some(100.0 + 16.0 + 2.0));
    // Trailing-week activity: a covers Feb 1-16, b Feb 1-10, c Feb 29 (as_of) -> 27 / 29.
    assert!((f(&out, "wau", 0).unwrap() - 27.0 / 29.0).abs() < 1e-12);
    assert!((f(&out, "events_per_active_customer", 0).unwrap() - 118.0 / 3.0).abs() < 1e-12);

    let adoption = feature_adoption(
        &frame,
        &EngagementOptions {
            feature: Some("feature".into()),
            ..Default::default()
        },
    )
    .unwrap();
    // export: b and c of 3; reports: a and b of 3.
    assert_eq!(adoption.height(), 2);
    assert_eq!(i(&adoption, "users_of_feature", 0), 2);
    assert!((f(&adoption, "adoption", 1).unwrap() - 2.0 / 3.0).abs() < 1e-12);

    let err = engagement(
        &frame,
        &EngagementOptions {
            unit: EngagementUnit::User,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unit"), "{err}");
}

#[test]
fn engagement_counts_users_from_raw_events() {
    // Customer a: users u1 (Mar 1 and 2) and u2 (Mar 2); customer b: u1 (Mar 3), a different
    // person from a's u1. DAU users: Mar 1: 1, Mar 2: 2, Mar 3: 1 -> 4 / 31. MAU users = 3.
    let frame = DataFrame::new(
        5,
        vec![
            Column::new("customer_id".into(), ["a", "a", "a", "a", "b"]),
            Column::new("user_id".into(), ["u1", "u1", "u1", "u2", "u1"]),
            dates(
                "timestamp",
                &[
                    Some((2024, 3, 1)),
                    Some((2024, 3, 2)),
                    Some((2024, 3, 2)),
                    Some((2024, 3, 2)),
                    Some((2024, 3, 3)),
                ],
            ),
        ],
    )
    .unwrap();
    let options = EngagementOptions {
        date: "timestamp".into(),
        user_id: Some("user_id".into()),
        unit: EngagementUnit::User,
        as_of: Some(micros((2024, 3, 31))),
        ..Default::default()
    };
    let out = engagement(&frame, &options).unwrap();
    assert_eq!(i(&out, "active", 0), 3);
    assert_eq!(i(&out, "active_customers", 0), 2);
    assert!((f(&out, "dau", 0).unwrap() - 4.0 / 31.0).abs() < 1e-12);
    assert_eq!(f(&out, "events", 0), Some(5.0));
}

#[test]
fn engagement_by_must_be_a_customer_attribute() {
    let frame = DataFrame::new(
        3,
        vec![
            Column::new("customer_id".into(), ["a", "b", "a"]),
            Column::new("segment".into(), ["smb", "ent", "ent"]),
            dates(
                "date",
                &[Some((2024, 3, 1)), Some((2024, 3, 2)), Some((2024, 3, 3))],
            ),
            Column::new("active_users".into(), [1i64, 1, 1]),
            Column::new("events".into(), [1i64, 1, 1]),
        ],
    )
    .unwrap();
    let options = EngagementOptions {
        by: vec!["segment".into()],
        ..Default::default()
    };
    let err = engagement(&frame, &options).unwrap_err().to_string();
    assert!(
        err.contains("'segment', row 2") && err.contains("row 0"),
        "{err}"
    );
    let fine = frame.head(Some(2));
    let out = engagement(&fine, &options).unwrap();
    assert_eq!(out.height(), 2);
    // Sorted by segment: ent (b) then smb (a).
    assert_eq!(i(&out, "active", 0), 1);
}
