//! Survey metrics on small hand-built frames with hand-computed answers.

// A failing unwrap here is a failing test, not a user-facing error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dates, f, i, strs};
use csmetrics::prelude::*;
use polars::prelude::*;
use proptest::prelude::*;

fn scores(values: &[i64]) -> DataFrame {
    df!("score" => values).unwrap()
}

fn repeat(value: i64, times: usize) -> Vec<i64> {
    vec![value; times]
}

fn with_column(mut frame: DataFrame, column: Column) -> DataFrame {
    frame.with_column(column).unwrap();
    frame
}

fn names(columns: &[&str]) -> Vec<String> {
    columns.iter().map(|c| c.to_string()).collect()
}

fn sixty_thirty_ten() -> Vec<i64> {
    [
        repeat(9, 30),
        repeat(10, 30),
        repeat(7, 15),
        repeat(8, 15),
        repeat(0, 5),
        repeat(6, 5),
    ]
    .concat()
}

#[test]
fn nps_worked_example_with_counts_and_interval() {
    let result = nps(&scores(&sixty_thirty_ten()), &NpsOptions::default()).unwrap();
    assert_eq!(result.height(), 1);
    assert_eq!(i(&result, "n", 0), 100);
    assert_eq!(i(&result, "promoters", 0), 60);
    assert_eq!(i(&result, "passives", 0), 30);
    assert_eq!(i(&result, "detractors", 0), 10);
    assert_eq!(f(&result, "promoter_share", 0), Some(0.6));
    assert_eq!(f(&result, "nps", 0), Some(50.0));
    // Adjusted Wald by hand: n' = 103, pP = 60.75/103, pD = 10.75/103.
    let (pp, pd) = (60.75 / 103.0, 10.75 / 103.0);
    let centre = 100.0 * (pp - pd);
    let se = 100.0 * ((pp + pd - (pp - pd) * (pp - pd)) / 103.0f64).sqrt();
    let z = 1.959_963_984_540_054;
    assert!((f(&result, "nps_lower", 0).unwrap() - (centre - z * se)).abs() < 1e-9);
    assert!((f(&result, "nps_upper", 0).unwrap() - (centre + z * se)).abs() < 1e-9);
    assert!((f(&result, "nps_lower", 0).unwrap() - 35.47).abs() < 0.005);
    assert!((f(&result, "nps_upper", 0).unwrap() - 61.62).abs() < 0.005);
}

#[test]
fn wald_interval_and_confidence_level() {
    let options = NpsOptions {
        ci: Some(NpsInterval::Wald),
        confidence: 0.90,
        ..Default::default()
    };
    let result = nps(&scores(&sixty_thirty_ten()), &options).unwrap();
    let se = 100.0 * 0.0045f64.sqrt(); // (0.6 + 0.1 - 0.5^2) / 100
    let z90 = 1.644_853_626_951_472_7;
    assert!((f(&result, "nps_lower", 0).unwrap() - (50.0 - z90 * se)).abs() < 1e-9);
    assert!((f(&result, "nps_upper", 0).unwrap() - (50.0 + z90 * se)).abs() < 1e-9);
    let none = nps(
        &scores(&[9]),
        &NpsOptions {
            ci: None,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(none.column("nps_lower").is_err());
}

#[test]
fn grouped_by_segment_and_month() {
    let frame = with_column(
        df!("segment" => ["b", "a", "a", "a", "b", "a"], "score" => [10, 9, 3, 7, 6, 10]).unwrap(),
        dates(
            "timestamp",
            &[
                Some((2024, 1, 31)),
                Some((2024, 1, 1)),
                Some((2024, 1, 15)),
                Some((2024, 2, 1)),
                Some((2024, 1, 2)),
                Some((2024, 2, 29)),
            ],
        ),
    );
    let options = NpsOptions {
        by: vec!["segment".into()],
        period: Some(Period::Month),
        ..Default::default()
    };
    let result = nps(&frame, &options).unwrap();
    // Sorted: (a, Jan) 9,3 -> 0; (a, Feb) 7,10 -> 50; (b, Jan) 10,6 -> 0.
    let segments: Vec<&str> = strs(&result, "segment");
    assert_eq!(segments, ["a", "a", "b"]);
    let periods: Vec<String> = result
        .column("period")
        .unwrap()
        .as_materialized_series()
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(periods, ["2024-01-01", "2024-02-01", "2024-01-01"]);
    let values: Vec<Option<f64>> = result
        .column("nps")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(values, [Some(0.0), Some(50.0), Some(0.0)]);
}

#[test]
fn weeks_start_on_monday_and_tz_aware_datetimes_are_labelled_in_utc() {
    // 2024-08-18 23:30 UTC is a Sunday (week of Monday 12th); 2024-08-19 00:30 UTC a Monday.
    let micros = |days: i64, minutes: i64| (days * 86_400 + minutes * 60) * 1_000_000;
    let sunday = 19_953; // 2024-08-18
    let frame = DataFrame::new(
        2,
        vec![
            Column::new(
                "timestamp".into(),
                [micros(sunday, 23 * 60 + 30), micros(sunday + 1, 30)],
            )
            .cast(&DataType::Datetime(
                TimeUnit::Microseconds,
                Some(TimeZone::UTC),
            ))
            .unwrap(),
            Column::new("score".into(), [10i64, 0]),
        ],
    )
    .unwrap();
    let options = NpsOptions {
        period: Some(Period::Week),
        ..Default::default()
    };
    let result = nps(&frame, &options).unwrap();
    let periods: Vec<String> = result
        .column("period")
        .unwrap()
        .as_materialized_series()
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(periods, ["2024-08-12", "2024-08-19"]);
}

#[test]
fn invalid_scores_raise_with_column_rule_value_and_row() {
    for (values, shown, row) in [
        (vec![9.0, 8.0, 10.0, 11.0], "11", 3),
        (vec![-1.0, 8.0], "-1", 0),
        (vec![9.0, 7.5], "7.5", 1),
        (vec![9.0, 9.0, f64::NAN], "NaN", 2),
    ] {
        let frame = df!("answer" => values).unwrap();
        let options = NpsOptions {
            score: "answer".into(),
            ..Default::default()
        };
        let err = nps(&frame, &options).unwrap_err();
        match &err {
            CsError::InvalidValue {
                column,
                row: r,
                value,
                rule,
            } => {
                assert_eq!(column, "answer");
                assert_eq!(*r, row);
                assert_eq!(value, shown);
                assert!(rule.contains("whole numbers from 0 to 10"), "{rule}");
            }
            other => panic!("unexpected error {other}"),
        }
        let message = err.to_string();
        assert!(
            message.contains("'answer'") && message.contains(&format!("row {row}")),
            "{message}"
        );
    }
}

#[test]
fn invalid_policies_drop_and_null_count_what_they_leave_out() {
    let frame =
        df!("score" => [Some(10.0), Some(11.0), None, Some(f64::NAN), Some(0.0), Some(9.0)])
            .unwrap();
    let drop = nps(
        &frame,
        &NpsOptions {
            invalid: InvalidPolicy::Drop,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (
            i(&drop, "n", 0),
            i(&drop, "invalid", 0),
            i(&drop, "missing", 0)
        ),
        (3, 2, 1)
    );
    // 2 promoters, 1 detractor of 3.
    assert!((f(&drop, "nps", 0).unwrap() - 100.0 / 3.0).abs() < 1e-12);
    let null = nps(
        &frame,
        &NpsOptions {
            invalid: InvalidPolicy::Null,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (
            i(&null, "n", 0),
            i(&null, "invalid", 0),
            i(&null, "missing", 0)
        ),
        (3, 0, 3)
    );
}

#[test]
fn empty_and_all_missing_inputs_give_n_zero_and_null() {
    let empty = df!("score" => Vec::<i64>::new()).unwrap();
    let result = nps(&empty, &NpsOptions::default()).unwrap();
    assert_eq!(result.height(), 1);
    assert_eq!(i(&result, "n", 0), 0);
    assert_eq!(f(&result, "nps", 0), None);
    assert_eq!(f(&result, "nps_lower", 0), None);
    let grouped = nps(
        &df!("segment" => Vec::<&str>::new(), "score" => Vec::<i64>::new()).unwrap(),
        &NpsOptions {
            by: names(&["segment"]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(grouped.height(), 0);
    let nulls = df!("score" => [None::<i64>, None]).unwrap();
    let result = nps(&nulls, &NpsOptions::default()).unwrap();
    assert_eq!((i(&result, "n", 0), i(&result, "missing", 0)), (0, 2));
    assert_eq!(f(&result, "nps", 0), None);
}

#[test]
fn missing_and_mistyped_columns() {
    let frame = df!("answer" => [9]).unwrap();
    let err = nps(&frame, &NpsOptions::default()).unwrap_err().to_string();
    assert!(
        err.contains("missing column 'score'") && err.contains("[answer]"),
        "{err}"
    );
    let err = nps(
        &frame,
        &NpsOptions {
            score: "answer".into(),
            by: names(&["segment"]),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("'segment'"), "{err}");
    let strings = df!("score" => ["9", "10"]).unwrap();
    let err = nps(&strings, &NpsOptions::default()).unwrap_err();
    assert!(matches!(err, CsError::InvalidType { .. }), "{err}");
    assert!(err.to_string().contains("scores must be Int8 to UInt64"));
    let no_time = df!("score" => [9]).unwrap();
    let options = NpsOptions {
        period: Some(Period::Month),
        ..Default::default()
    };
    assert!(nps(&no_time, &options)
        .unwrap_err()
        .to_string()
        .contains("'timestamp'"));
}

#[test]
fn null_timestamp_with_period_is_an_error() {
    let frame = with_column(
        df!("score" => [9, 9]).unwrap(),
        dates("timestamp", &[Some((2024, 1, 1)), None]),
    );
    let options = NpsOptions {
        period: Some(Period::Month),
        ..Default::default()
    };
    let err = nps(&frame, &options).unwrap_err().to_string();
    assert!(
        err.contains("'timestamp'") && err.contains("row 1") && err.contains("null"),
        "{err}"
    );
}

#[test]
fn bad_options_are_rejected() {
    assert!(nps(
        &scores(&[9]),
        &NpsOptions {
            confidence: 1.5,
            ..Default::default()
        }
    )
    .is_err());
    assert!("sometimes"
        .parse::<InvalidPolicy>()
        .unwrap_err()
        .to_string()
        .contains("'raise'"));
    assert!("wilson".parse::<NpsInterval>().is_err());
    assert!(Scale::new(5, 5).is_err());
}

#[test]
fn csat_top_two_boxes_and_mean() {
    let result = csat(&scores(&[5, 4, 4, 3, 1]), &CsatOptions::default()).unwrap();
    assert_eq!(i(&result, "satisfied", 0), 3);
    assert_eq!(f(&result, "csat", 0), Some(0.6));
    assert!((f(&result, "mean_score", 0).unwrap() - 3.4).abs() < 1e-12);
    // On 1-10, the top two boxes are 9 and 10.
    let ten = CsatOptions {
        scale: Scale::new(1, 10).unwrap(),
        ..Default::default()
    };
    assert_eq!(
        f(&csat(&scores(&[10, 9, 8, 2]), &ten).unwrap(), "csat", 0),
        Some(0.5)
    );
    let err = csat(&scores(&[0]), &CsatOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("from 1 to 5"), "{err}");
}

#[test]
fn ces_in_both_directions() {
    let higher = ces(&scores(&[7, 6, 5, 4, 1]), &CesOptions::default()).unwrap();
    assert_eq!(i(&higher, "low_effort", 0), 3);
    assert_eq!(f(&higher, "low_effort_share", 0), Some(0.6));
    assert!((f(&higher, "mean_score", 0).unwrap() - 4.6).abs() < 1e-12);
    let lower = CesOptions {
        direction: CesDirection::LowerIsEasier,
        ..Default::default()
    };
    let result = ces(&scores(&[1, 2, 3, 5]), &lower).unwrap();
    assert_eq!(f(&result, "low_effort_share", 0), Some(0.5));
    assert!((f(&result, "mean_score", 0).unwrap() - 2.75).abs() < 1e-12);
    // The older scale stops at 5: a 7 is invalid there.
    assert!(ces(&scores(&[7]), &lower).is_err());
}

fn two_groups() -> DataFrame {
    let a = sixty_thirty_ten();
    let b = [repeat(9, 50), repeat(7, 30), repeat(2, 20)].concat();
    let labels: Vec<&str> = std::iter::repeat_n("A", 100)
        .chain(std::iter::repeat_n("B", 100))
        .collect();
    df!("group" => labels, "score" => [a, b].concat()).unwrap()
}

#[test]
fn two_sample_comparison_worked_example() {
    let options = NpsCompareOptions {
        between: Some("group".into()),
        ..Default::default()
    };
    let result = nps_compare(&two_groups(), &options).unwrap();
    assert_eq!(result.height(), 1);
    assert_eq!(f(&result, "nps_a", 0), Some(50.0));
    assert_eq!(f(&result, "nps_b", 0), Some(30.0));
    assert_eq!(f(&result, "difference", 0), Some(-20.0));
    // se_A^2 = 100^2 (0.7 - 0.25) / 100 = 45; se_B^2 = 100^2 (0.7 - 0.09) / 100 = 61.
    let se = (45.0f64 + 61.0).sqrt();
    assert!((f(&result, "se", 0).unwrap() - se).abs() < 1e-9);
    let z = f(&result, "z", 0).unwrap();
    assert!((z + 1.943).abs() < 5e-4, "{z}");
    assert!((f(&result, "p_value", 0).unwrap() - 0.0521).abs() < 5e-5);
    let a: Vec<&str> = strs(&result, "group_a");
    assert_eq!(a, ["A"]);
}

#[test]
fn comparison_of_consecutive_periods() {
    let day = |m: u32| Some((2024, m, 3));
    let frame = with_column(
        df!("score" => [10, 0, 10, 10, 0, 0]).unwrap(),
        dates(
            "timestamp",
            &[day(1), day(1), day(2), day(2), day(3), day(3)],
        ),
    );
    let consecutive = NpsCompareOptions {
        period: Some(Period::Month),
        pairs: ComparePairs::Consecutive,
        ..Default::default()
    };
    let result = nps_compare(&frame, &consecutive).unwrap();
    let differences: Vec<Option<f64>> = result
        .column("difference")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(differences, [Some(100.0), Some(-200.0)]);
    // Feb (all promoters) vs Mar (all detractors): se = 0 on both sides, so z is null.
    assert_eq!(f(&result, "z", 1), None);
    let all = nps_compare(
        &frame,
        &NpsCompareOptions {
            period: Some(Period::Month),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(all.height(), 3);
    assert!(nps_compare(&frame, &NpsCompareOptions::default()).is_err());
}

fn arbitrary_answers() -> impl Strategy<Value = (Vec<u8>, Vec<i64>)> {
    (1usize..200).prop_flat_map(|n| {
        (
            prop::collection::vec(0u8..3, n),
            prop::collection::vec(0i64..=10, n),
        )
    })
}

proptest! {
    #[test]
    fn nps_bounded_interval_contains_centre_and_grouped_equals_per_group((groups, values) in arbitrary_answers()) {
        let labels: Vec<String> = groups.iter().map(|g| format!("g{g}")).collect();
        let frame = df!("segment" => labels.clone(), "score" => values.clone()).unwrap();
        let grouped = nps(&frame, &NpsOptions { by: names(&["segment"]), ..Default::default() }).unwrap();
        for row in 0..grouped.height() {
            let label = grouped.column("segment").unwrap().str().unwrap().get(row).unwrap().to_string();
            let value = f(&grouped, "nps", row).unwrap();
            prop_assert!((-100.0..=100.0).contains(&value));
            let (lo, hi) = (f(&grouped, "nps_lower", row).unwrap(), f(&grouped, "nps_upper", row).unwrap());
            prop_assert!(-100.0 <= lo && lo <= hi && hi <= 100.0);
            let n = i(&grouped, "n", row) as f64;
            let centre = 100.0 * (i(&grouped, "promoters", row) as f64 - i(&grouped, "detractors", row) as f64) / (n + 3.0);
            prop_assert!(lo <= centre + 1e-9 && centre <= hi + 1e-9);
            // The same group on its own.
            let own: Vec<i64> = values.iter().zip(&labels).filter(|(_, l)| **l == label).map(|(v, _)| *v).collect();
            let alone = nps(&scores(&own), &NpsOptions::default()).unwrap();
            prop_assert_eq!(i(&alone, "n", 0), i(&grouped, "n", row));
            prop_assert_eq!(f(&alone, "nps", 0), Some(value));
            prop_assert_eq!(f(&alone, "nps_lower", 0), Some(lo));
        }
    }

    #[test]
    fn shares_are_fractions_that_add_up(values in prop::collection::vec(0i64..=10, 1..300)) {
        let result = nps(&scores(&values), &NpsOptions::default()).unwrap();
        let shares: f64 = ["promoter_share", "passive_share", "detractor_share"].iter().map(|c| f(&result, c, 0).unwrap()).sum();
        prop_assert!((shares - 1.0).abs() < 1e-12);
        let c = csat(&scores(&values.iter().map(|v| v / 2 + 1).map(|v| v.min(5)).collect::<Vec<_>>()), &CsatOptions::default()).unwrap();
        let share = f(&c, "csat", 0).unwrap();
        prop_assert!((0.0..=1.0).contains(&share));
    }
}
