//! Health scores and their backtest with hand-computed answers (docs/metrics/health.md).
#![allow(clippy::unwrap_used)] // test helpers: a failed read is a failed test

mod common;

use common::{floats, strings};
use csmetrics::health::*;
use csmetrics::CsError;
use polars::prelude::*;

fn frame(tickets: [Option<f64>; 3]) -> DataFrame {
    DataFrame::new(
        3,
        vec![
            Column::new("customer_id".into(), ["a", "b", "c"]),
            Column::new("usage".into(), [10.0, 20.0, 30.0]),
            Column::new("tickets".into(), tickets),
        ],
    )
    .unwrap()
}

fn factors() -> Vec<Factor> {
    vec![
        Factor {
            column: "usage".into(),
            weight: 1.0,
            direction: Direction::HigherIsBetter,
            normalisation: Normalisation::MinMax,
        },
        Factor {
            column: "tickets".into(),
            weight: 1.0,
            direction: Direction::LowerIsBetter,
            normalisation: Normalisation::MinMax,
        },
    ]
}

#[test]
fn three_customers_minmax_by_hand() {
    // usage 10, 20, 30 -> 0, 0.5, 1; tickets 0, 4, 1 -> 0, 1, 0.25, lower is better -> 1, 0, 0.75.
    // Scores: a (0 + 1) / 2 = 50 yellow; b (0.5 + 0) / 2 = 25 red; c (1 + 0.75) / 2 = 87.5 green.
    let data = frame([Some(0.0), Some(4.0), Some(1.0)]);
    let out = health_score(
        &data,
        &HealthOptions {
            factors: factors(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        floats(&out, "score"),
        vec![Some(50.0), Some(25.0), Some(87.5)]
    );
    assert_eq!(
        strings(&out, "band"),
        vec![
            Some("yellow".into()),
            Some("red".into()),
            Some("green".into())
        ]
    );
    assert_eq!(
        floats(&out, "tickets_normalised"),
        vec![Some(1.0), Some(0.0), Some(0.75)]
    );
    assert!(out.column("customer_id").is_ok() && out.column("usage").is_err());

    // Weights 3:1 -> c = (3 * 1 + 0.75) / 4 * 100 = 93.75; bands moved to (30, 60): b red, a yellow.
    let mut weighted = factors();
    weighted[0].weight = 3.0;
    let out = health_score(
        &data,
        &HealthOptions {
            factors: weighted,
            bands: (30.0, 60.0),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        floats(&out, "score"),
        vec![Some(25.0), Some(37.5), Some(93.75)]
    );
    assert_eq!(
        strings(&out, "band"),
        vec![
            Some("red".into()),
            Some("yellow".into()),
            Some("green".into())
        ]
    );
}

#[test]
fn missing_factor_policies() {
    // c has no ticket count. Tickets normalised over a and b only: 1, 0.
    let data = frame([Some(0.0), Some(4.0), None]);
    let options = |missing| HealthOptions {
        factors: factors(),
        missing,
        ..Default::default()
    };
    let reweight = health_score(&data, &options(MissingPolicy::Reweight)).unwrap();
    assert_eq!(
        floats(&reweight, "score"),
        vec![Some(50.0), Some(25.0), Some(100.0)]
    );
    let used: Vec<Option<u32>> = reweight
        .column("factors_used")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(used, vec![Some(2), Some(2), Some(1)]);
    let worst = health_score(&data, &options(MissingPolicy::Worst)).unwrap();
    assert_eq!(
        floats(&worst, "score"),
        vec![Some(50.0), Some(25.0), Some(50.0)]
    );
    let err = health_score(&data, &options(MissingPolicy::Raise))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'tickets', row 2") && err.contains("null"),
        "{err}"
    );
}

#[test]
fn percentile_thresholds_and_periods() {
    let data = DataFrame::new(
        4,
        vec![
            Column::new("period".into(), [1i64, 1, 1, 1]),
            Column::new("x".into(), [10.0, 20.0, 20.0, 40.0]),
        ],
    )
    .unwrap();
    let factor = |normalisation| Factor {
        column: "x".into(),
        weight: 1.0,
        direction: Direction::HigherIsBetter,
        normalisation,
    };
    let pct = health_score(
        &data,
        &HealthOptions {
            factors: vec![factor(Normalisation::Percentile)],
            by_period: Some("period".into()),
            ..Default::default()
        },
    )
    .unwrap();
    // Mid-ranks: 10 -> 0, the two 20s -> (1 + 0.5) / 3 = 0.5, 40 -> 1.
    assert_eq!(
        floats(&pct, "x_normalised"),
        vec![Some(0.0), Some(0.5), Some(0.5), Some(1.0)]
    );
    let thr = health_score(
        &data,
        &HealthOptions {
            factors: vec![factor(Normalisation::Thresholds(15.0, 35.0))],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        floats(&thr, "score"),
        vec![Some(0.0), Some(25.0), Some(25.0), Some(100.0)]
    );
    let bad = HealthOptions {
        factors: vec![factor(Normalisation::Thresholds(5.0, 5.0))],
        ..Default::default()
    };
    assert!(matches!(
        health_score(&data, &bad),
        Err(CsError::InvalidOption { .. })
    ));
    let none = HealthOptions::default();
    assert!(matches!(
        health_score(&data, &none),
        Err(CsError::InvalidOption { .. })
    ));
}

#[test]
fn normalisation_is_per_period() {
    let data = DataFrame::new(
        4,
        vec![
            Column::new("period".into(), ["jan", "jan", "feb", "feb"]),
            Column::new("x".into(), [1.0, 2.0, 100.0, 200.0]),
        ],
    )
    .unwrap();
    let options = HealthOptions {
        factors: vec![Factor {
            column: "x".into(),
            weight: 1.0,
            direction: Direction::HigherIsBetter,
            normalisation: Normalisation::MinMax,
        }],
        by_period: Some("period".into()),
        ..Default::default()
    };
    let out = health_score(&data, &options).unwrap();
    assert_eq!(
        floats(&out, "score"),
        vec![Some(0.0), Some(100.0), Some(0.0), Some(100.0)]
    );
}

#[test]
fn auc_by_hand_with_a_tie() {
    // Churned: 10 and 20; retained: 20 and 40. Pairs (churned below retained): 10<20 1, 10<40 1,
    // 20=20 1/2, 20<40 1 -> 3.5 / 4 = 0.875.
    let scores = [Some(10.0), Some(20.0), Some(20.0), Some(40.0), None];
    let churned = [Some(true), Some(true), Some(false), Some(false), Some(true)];
    let b = auc(&scores, &churned).unwrap();
    assert_eq!(
        b,
        Backtest {
            auc: Some(0.875),
            positives: 2,
            negatives: 2
        }
    );
    let frame = DataFrame::new(
        5,
        vec![
            Column::new("score".into(), scores),
            Column::new("churned".into(), [1i64, 1, 0, 0, 1]),
        ],
    )
    .unwrap();
    let out = health_backtest(&frame, "score", "churned").unwrap();
    assert_eq!(
        out.column("auc").unwrap().f64().unwrap().get(0),
        Some(0.875)
    );
    assert_eq!(
        out.column("excluded").unwrap().i64().unwrap().get(0),
        Some(1)
    );
    // One class only: no AUC.
    assert_eq!(auc(&[Some(1.0)], &[Some(true)]).unwrap().auc, None);
    let bad = DataFrame::new(
        1,
        vec![
            Column::new("score".into(), [1.0]),
            Column::new("churned".into(), [2i64]),
        ],
    )
    .unwrap();
    let err = health_backtest(&bad, "score", "churned")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'churned', row 0") && err.contains("found 2"),
        "{err}"
    );
}

/// Events of customers a, b and x (x is not among the customers asked about).
fn events() -> DataFrame {
    let days = [100i32, 101, 101, 95, 90, 103, 101];
    DataFrame::new(
        days.len(),
        vec![
            Column::new("customer_id".into(), ["a", "a", "a", "b", "b", "b", "x"]),
            Column::new("timestamp".into(), days)
                .cast(&DataType::Date)
                .unwrap(),
            Column::new(
                "nps".into(),
                [
                    Some(7.0),
                    Some(9.0),
                    None,
                    Some(3.0),
                    Some(10.0),
                    Some(0.0),
                    Some(5.0),
                ],
            ),
        ],
    )
    .unwrap()
}

#[test]
fn customer_signals_by_hand() {
    let customers = Column::new("customer_id".into(), ["b", "a", "c"]);
    let signal = |kind: SignalKind, window: Option<u32>| {
        let options = SignalOptions {
            kind,
            // Day 101 at 18:00 UTC: the whole of day 101 is read.
            reference: 101 * 86_400_000_000 + 64_800_000_000,
            window_days: window,
            name: "s".into(),
            ..Default::default()
        };
        let column = customer_signal(&customers, &events(), &options).unwrap();
        let column = column.cast(&DataType::Float64).unwrap();
        column.f64().unwrap().iter().collect::<Vec<_>>()
    };
    // Days 99 to 101 (a 3-day window): b has none (95, 90; 103 is after the reference day);
    // a has three events on two days.
    assert_eq!(
        signal(SignalKind::Count, Some(3)),
        [Some(0.0), Some(3.0), Some(0.0)]
    );
    assert_eq!(
        signal(SignalKind::ActiveDays, Some(3)),
        [Some(0.0), Some(2.0), Some(0.0)]
    );
    // Every event up to day 101: b's 90 and 95.
    assert_eq!(
        signal(SignalKind::Count, None),
        [Some(2.0), Some(3.0), Some(0.0)]
    );
    // The last non-null answer up to day 101: b's of day 95 (3), a's of day 101 (9; the null
    // of the same day is skipped); c never answered.
    assert_eq!(
        signal(SignalKind::Last("nps".into()), None),
        [Some(3.0), Some(9.0), None]
    );
    let zero = SignalOptions {
        window_days: Some(0),
        ..Default::default()
    };
    assert!(matches!(
        customer_signal(&customers, &events(), &zero),
        Err(CsError::InvalidOption { .. })
    ));
    let numbered = Column::new("customer_id".into(), [1i64, 2]);
    assert!(matches!(
        customer_signal(&numbered, &events(), &SignalOptions::default()),
        Err(CsError::InvalidType { .. })
    ));
}
