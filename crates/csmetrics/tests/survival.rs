//! Survival estimators on small frames with hand-computed answers, bad input, and properties.

// In a test a failed unwrap is a failed test, with the error in its message.
#![allow(clippy::unwrap_used)]

mod common;

use csmetrics::survival::{
    kaplan_meier, kaplan_meier_summary, logrank_test, nelson_aalen, KaplanMeierOptions,
    LogrankOptions, NelsonAalenOptions, Ties,
};
use csmetrics::CsError;
use polars::prelude::*;

/// The 97.5% quantile of the standard normal (two-sided 95% intervals).
const Z_975: f64 = 1.959_963_984_540_054;
use proptest::prelude::*;

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// A numeric column as floats, NaN where null.
fn floats(frame: &DataFrame, name: &str) -> Vec<f64> {
    common::floats(frame, name)
        .into_iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect()
}

fn close(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-12, "{actual:?} vs {expected:?}");
    }
}

/// Seven lives: events at 1, 2, 3, 4, 5; censored at 2 and 4 (censoring at event times).
fn seven() -> DataFrame {
    df!(
        "duration" => [1i64, 2, 2, 3, 4, 4, 5],
        "event" => [true, true, false, true, false, true, true],
    )
    .unwrap()
}

#[test]
fn kaplan_meier_by_hand() -> TestResult {
    let km = kaplan_meier(&seven(), &KaplanMeierOptions::default())?;
    close(&floats(&km, "time"), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    close(&floats(&km, "at_risk"), &[7.0, 7.0, 6.0, 4.0, 3.0, 1.0]);
    close(&floats(&km, "events"), &[0.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    close(&floats(&km, "censored"), &[0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    close(&floats(&km, "entered"), &[7.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(km.column("at_risk")?.dtype(), &DataType::Int64);
    let s = [1.0, 6.0 / 7.0, 5.0 / 7.0, 15.0 / 28.0, 5.0 / 14.0, 0.0];
    close(&floats(&km, "survival"), &s);
    // Greenwood: S^2 * sum d / (n (n - d)); the last term (n = d) counts 0.
    let sums = [
        0.0,
        1.0 / 42.0,
        1.0 / 42.0 + 1.0 / 30.0,
        1.0 / 42.0 + 1.0 / 30.0 + 1.0 / 12.0,
        1.0 / 42.0 + 1.0 / 30.0 + 1.0 / 12.0 + 1.0 / 6.0,
        1.0 / 42.0 + 1.0 / 30.0 + 1.0 / 12.0 + 1.0 / 6.0,
    ];
    let variance: Vec<f64> = s.iter().zip(&sums).map(|(s, g)| s * s * g).collect();
    close(&floats(&km, "variance"), &variance);
    // log(-log) interval; [1, 1] at S = 1 and [0, 0] at S = 0.
    let z = Z_975;
    let (mut lower, mut upper) = (vec![1.0], vec![1.0]);
    for k in 1..5 {
        let v = f64::ln(s[k]);
        lower.push((-((-v).ln() - z * sums[k].sqrt() / v).exp()).exp());
        upper.push((-((-v).ln() + z * sums[k].sqrt() / v).exp()).exp());
    }
    lower.push(0.0);
    upper.push(0.0);
    close(&floats(&km, "lower"), &lower);
    close(&floats(&km, "upper"), &upper);
    for k in 1..5 {
        assert!(lower[k] < s[k] && s[k] < upper[k]);
    }
    Ok(())
}

#[test]
fn summary_by_hand() -> TestResult {
    let summary = kaplan_meier_summary(&seven(), &KaplanMeierOptions::default())?;
    assert_eq!(summary.height(), 1);
    close(&floats(&summary, "n"), &[7.0]);
    close(&floats(&summary, "events"), &[5.0]);
    close(&floats(&summary, "median"), &[4.0]); // S(3) = 15/28 > 0.5 >= S(4) = 5/14
    close(&floats(&summary, "tau"), &[5.0]);
    close(&floats(&summary, "rmst"), &[97.0 / 28.0]);
    let at_three = kaplan_meier_summary(
        &seven(),
        &KaplanMeierOptions {
            tau: Some(2.5),
            ..Default::default()
        },
    )?;
    close(
        &floats(&at_three, "rmst"),
        &[1.0 + 6.0 / 7.0 + 0.5 * 5.0 / 7.0],
    );
    // The interval of the median comes from the bounds of the curve.
    let median_lower = floats(&summary, "median_lower")[0];
    assert!(median_lower <= 4.0);
    // The upper bound stays above 0.5 until the curve drops to 0 at 5, where it is 0.
    close(&floats(&summary, "median_upper"), &[5.0]);
    Ok(())
}

#[test]
fn median_is_null_when_the_curve_stays_above_half() -> TestResult {
    let frame = df!("duration" => [1.0, 2.0, 3.0], "event" => [1i32, 0, 0])?;
    let summary = kaplan_meier_summary(&frame, &KaplanMeierOptions::default())?;
    assert_eq!(summary.column("median")?.null_count(), 1);
    Ok(())
}

#[test]
fn left_truncation_by_hand() -> TestResult {
    let frame = df!(
        "duration" => [2.0, 3.0, 5.0],
        "entry" => [0.0, 1.0, 2.0],
        "event" => [1, 1, 1],
    )?;
    let km = kaplan_meier(
        &frame,
        &KaplanMeierOptions {
            entry: Some("entry".into()),
            ..Default::default()
        },
    )?;
    close(&floats(&km, "time"), &[0.0, 1.0, 2.0, 3.0, 5.0]);
    // A late entrant is at risk from the next time on.
    close(&floats(&km, "at_risk"), &[1.0, 1.0, 2.0, 2.0, 1.0]);
    close(&floats(&km, "entered"), &[1.0, 1.0, 1.0, 0.0, 0.0]);
    close(&floats(&km, "survival"), &[1.0, 1.0, 0.5, 0.25, 0.0]);
    Ok(())
}

#[test]
fn nelson_aalen_ties_both_ways() -> TestResult {
    let frame = df!("duration" => [2, 2, 2, 5], "event" => [1, 1, 1, 0])?;
    let sequential = nelson_aalen(&frame, &NelsonAalenOptions::default())?;
    close(&floats(&sequential, "time"), &[0.0, 2.0, 5.0]);
    let h = 1.0 / 4.0 + 1.0 / 3.0 + 1.0 / 2.0;
    let v = 1.0 / 16.0 + 1.0 / 9.0 + 1.0 / 4.0;
    close(&floats(&sequential, "cumulative_hazard"), &[0.0, h, h]);
    close(&floats(&sequential, "variance"), &[0.0, v, v]);
    let z = Z_975;
    close(
        &floats(&sequential, "lower"),
        &[
            0.0,
            h * (-z * v.sqrt() / h).exp(),
            h * (-z * v.sqrt() / h).exp(),
        ],
    );
    let textbook = nelson_aalen(
        &frame,
        &NelsonAalenOptions {
            ties: Ties::Textbook,
            ..Default::default()
        },
    )?;
    close(&floats(&textbook, "cumulative_hazard"), &[0.0, 0.75, 0.75]);
    close(
        &floats(&textbook, "variance"),
        &[0.0, 3.0 / 64.0, 3.0 / 64.0],
    );
    Ok(())
}

#[test]
fn logrank_by_hand() -> TestResult {
    // A: events at 1 and 3; B: event at 2, censored at 4.
    let frame = df!(
        "duration" => [1.0, 3.0, 2.0, 4.0],
        "event" => [true, true, true, false],
        "group" => ["a", "a", "b", "b"],
    )?;
    let test = logrank_test(&frame, &LogrankOptions::default())?;
    // O_A - E_A = 2 - (2/4 + 1/3 + 1/2) = 2/3; V = 1/4 + 2/9 + 1/4 = 13/18; U = 8/13.
    let u = 8.0 / 13.0;
    close(&floats(&test, "statistic"), &[u]);
    close(&floats(&test, "df"), &[1.0]);
    close(&floats(&test, "groups"), &[2.0]);
    close(&floats(&test, "events"), &[3.0]);
    close(&floats(&test, "p_value"), &[libm::erfc((u / 2.0).sqrt())]);
    Ok(())
}

#[test]
fn logrank_three_groups_and_by() -> TestResult {
    let frame = df!(
        "duration" => [5, 3, 9, 8, 7, 4, 4, 3, 2, 5, 6, 7, 1, 2],
        "event" => [1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1],
        "group" => [0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 0, 1],
        "region" => ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x", "x", "x", "y", "y"],
    )?;
    let overall = logrank_test(&frame.head(Some(12)), &LogrankOptions::default())?;
    // lifelines' multivariate_logrank_test docstring example: statistic 1.0800467, df 2.
    let statistic = floats(&overall, "statistic")[0];
    assert!(
        (statistic - 1.080_046_731_489_190_6).abs() < 1e-12,
        "{statistic}"
    );
    assert_eq!(floats(&overall, "df"), vec![2.0]);
    let by = logrank_test(
        &frame,
        &LogrankOptions {
            by: vec!["region".into()],
            ..Default::default()
        },
    )?;
    close(&floats(&by, "statistic")[..1], &[statistic]);
    close(&floats(&by, "groups"), &[3.0, 2.0]);
    Ok(())
}

#[test]
fn logrank_with_one_group_has_no_statistic() -> TestResult {
    let frame = df!("duration" => [1, 2], "event" => [1, 1], "group" => ["a", "a"])?;
    let test = logrank_test(&frame, &LogrankOptions::default())?;
    assert_eq!(test.column("statistic")?.null_count(), 1);
    assert_eq!(floats(&test, "df"), vec![0.0]);
    Ok(())
}

#[test]
fn logrank_refuses_left_truncation() {
    let frame = df!("duration" => [1, 2], "event" => [1, 1], "group" => ["a", "b"]).unwrap();
    let err = logrank_test(
        &frame,
        &LogrankOptions {
            entry: Some("entry".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, CsError::InvalidOption { .. }), "{err}");
}

fn error_of(frame: DataFrame, options: KaplanMeierOptions) -> CsError {
    kaplan_meier(&frame, &options).unwrap_err()
}

fn expect_invalid(err: CsError, col: &str, at: usize, shown: &str) {
    match err {
        CsError::InvalidValue {
            column, row, value, ..
        } => {
            assert_eq!((column.as_str(), row, value.as_str()), (col, at, shown));
        }
        other => panic!("expected an invalid value, got {other}"),
    }
}

#[test]
fn bad_input_names_column_row_and_value() {
    let base = KaplanMeierOptions::default();
    let e = error_of(
        df!("duration" => [1.0, -2.0], "event" => [1, 1]).unwrap(),
        base.clone(),
    );
    expect_invalid(e, "duration", 1, "-2");
    let e = error_of(
        df!("duration" => [Some(1.0), None], "event" => [1, 1]).unwrap(),
        base.clone(),
    );
    expect_invalid(e, "duration", 1, "null");
    let e = error_of(
        df!("duration" => [f64::NAN, 1.0], "event" => [1, 1]).unwrap(),
        base.clone(),
    );
    expect_invalid(e, "duration", 0, "NaN");
    let e = error_of(
        df!("duration" => [1.0, 2.0], "event" => [1, 2]).unwrap(),
        base.clone(),
    );
    expect_invalid(e, "event", 1, "2");
    let e = error_of(
        df!("duration" => [1.0, 2.0], "event" => [Some(true), None]).unwrap(),
        base.clone(),
    );
    expect_invalid(e, "event", 1, "null");
    let e = error_of(
        df!("duration" => [1.0, 2.0], "event" => [1, 1], "entry" => [0.0, 3.0]).unwrap(),
        KaplanMeierOptions {
            entry: Some("entry".into()),
            ..base.clone()
        },
    );
    expect_invalid(e, "entry", 1, "3");
    let e = error_of(
        df!("duration" => [1.0, 2.0], "event" => [1, 1], "w" => [-0.5, 1.0]).unwrap(),
        KaplanMeierOptions {
            weights: Some("w".into()),
            ..base.clone()
        },
    );
    expect_invalid(e, "w", 0, "-0.5");
    let e = error_of(
        df!("duration" => [1.0], "event" => ["yes"]).unwrap(),
        base.clone(),
    );
    assert!(matches!(e, CsError::InvalidType { .. }), "{e}");
    let e = error_of(df!("duration" => [1.0]).unwrap(), base.clone());
    assert!(matches!(e, CsError::MissingColumn { .. }), "{e}");
    let e = error_of(
        df!("duration" => [1.0], "event" => [1]).unwrap(),
        KaplanMeierOptions {
            confidence: 1.5,
            ..base
        },
    );
    assert!(matches!(e, CsError::InvalidOption { .. }), "{e}");
}

#[test]
fn the_first_bad_row_is_reported_in_long_inputs() {
    // Several blocks of rows: the first offending row wins, wherever it is.
    let mut durations: Vec<Option<f64>> = (0..5000).map(|i| Some((i % 30) as f64)).collect();
    durations[4999] = Some(-1.0);
    durations[3000] = Some(f64::INFINITY);
    let frame = df!("duration" => durations.clone(), "event" => vec![1; 5000]).unwrap();
    let e = error_of(frame, KaplanMeierOptions::default());
    expect_invalid(e, "duration", 3000, "inf");
    durations[2500] = None;
    let frame = df!("duration" => durations, "event" => vec![1; 5000]).unwrap();
    let e = error_of(frame, KaplanMeierOptions::default());
    expect_invalid(e, "duration", 2500, "null");
}

#[test]
fn chunked_and_integer_columns_read_like_one_float_array() -> TestResult {
    let whole = seven();
    let mut chunked = whole.slice(0, 3);
    chunked.vstack_mut(&whole.slice(3, 4))?;
    assert!(
        chunked
            .column("duration")?
            .as_materialized_series()
            .n_chunks()
            > 1
    );
    let as_float = whole
        .clone()
        .lazy()
        .with_column(col("duration").cast(DataType::Float64))
        .collect()?;
    let mut chunked_float = as_float.slice(0, 2);
    chunked_float.vstack_mut(&as_float.slice(2, 5))?;
    let expected = kaplan_meier(&whole, &KaplanMeierOptions::default())?;
    for frame in [&chunked, &as_float, &chunked_float] {
        let km = kaplan_meier(frame, &KaplanMeierOptions::default())?;
        assert_eq!(floats(&km, "survival"), floats(&expected, "survival"));
    }
    // A null in a later chunk is reported at its row in the whole input.
    let mut with_null = whole.clone();
    with_null.vstack_mut(&df!("duration" => [None::<i64>], "event" => [true])?)?;
    let e = error_of(with_null, KaplanMeierOptions::default());
    expect_invalid(e, "duration", 7, "null");
    Ok(())
}

#[test]
fn empty_input_gives_empty_tables() -> TestResult {
    let frame = df!(
        "duration" => Vec::<f64>::new(),
        "event" => Vec::<bool>::new(),
        "segment" => Vec::<String>::new(),
    )?;
    let km = kaplan_meier(&frame, &KaplanMeierOptions::default())?;
    assert_eq!(km.height(), 0);
    assert!(km.column("survival").is_ok());
    let grouped = KaplanMeierOptions {
        by: vec!["segment".into()],
        ..Default::default()
    };
    let km = kaplan_meier(&frame, &grouped)?;
    assert_eq!(km.height(), 0);
    assert_eq!(km.column("segment")?.dtype(), &DataType::String);
    let summary = kaplan_meier_summary(&frame, &KaplanMeierOptions::default())?;
    assert_eq!(summary.height(), 1);
    assert_eq!(floats(&summary, "n"), vec![0.0]);
    assert_eq!(summary.column("median")?.null_count(), 1);
    assert_eq!(kaplan_meier_summary(&frame, &grouped)?.height(), 0);
    let na = nelson_aalen(&frame, &NelsonAalenOptions::default())?;
    assert_eq!(na.height(), 0);
    let mut with_group = frame.clone();
    with_group.with_column(Column::new("group".into(), Vec::<i32>::new()))?;
    let test = logrank_test(&with_group, &LogrankOptions::default())?;
    assert_eq!(test.height(), 1);
    assert_eq!(test.column("p_value")?.null_count(), 1);
    Ok(())
}

#[test]
fn integer_weights_equal_repeated_rows() -> TestResult {
    let weighted = df!(
        "duration" => [1.0, 2.0, 3.0, 3.0],
        "event" => [true, false, true, true],
        "w" => [2.0, 1.0, 3.0, 0.0],
    )?;
    let repeated = df!(
        "duration" => [1.0, 1.0, 2.0, 3.0, 3.0, 3.0],
        "event" => [true, true, false, true, true, true],
    )?;
    let a = kaplan_meier(
        &weighted,
        &KaplanMeierOptions {
            weights: Some("w".into()),
            ..Default::default()
        },
    )?;
    let b = kaplan_meier(&repeated, &KaplanMeierOptions::default())?;
    assert_eq!(a.column("at_risk")?.dtype(), &DataType::Float64);
    for name in [
        "time", "at_risk", "events", "survival", "variance", "lower", "upper",
    ] {
        close(&floats(&a, name), &floats(&b, name));
    }
    Ok(())
}

fn lives() -> impl Strategy<Value = Vec<(u8, bool, u8)>> {
    prop::collection::vec((0u8..15, any::<bool>(), 0u8..3), 0..60)
}

fn frame_of(rows: &[(u8, bool, u8)]) -> DataFrame {
    df!(
        "duration" => rows.iter().map(|r| r.0 as f64).collect::<Vec<_>>(),
        "event" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "segment" => rows.iter().map(|r| r.2 as i64).collect::<Vec<_>>(),
    )
    .unwrap()
}

proptest! {
    #[test]
    fn survival_is_non_increasing_within_bounds(rows in lives()) {
        let km = kaplan_meier(&frame_of(&rows), &KaplanMeierOptions::default()).unwrap();
        let s = floats(&km, "survival");
        let (lo, hi) = (floats(&km, "lower"), floats(&km, "upper"));
        for k in 0..s.len() {
            prop_assert!((0.0..=1.0).contains(&s[k]));
            prop_assert!(lo[k] <= s[k] + 1e-12 && s[k] <= hi[k] + 1e-12);
            if k > 0 {
                prop_assert!(s[k] <= s[k - 1]);
            }
        }
    }

    #[test]
    fn grouped_equals_per_group(rows in lives()) {
        let frame = frame_of(&rows);
        let grouped = kaplan_meier(
            &frame,
            &KaplanMeierOptions { by: vec!["segment".into()], ..Default::default() },
        ).unwrap();
        let na = nelson_aalen(
            &frame,
            &NelsonAalenOptions { by: vec!["segment".into()], ..Default::default() },
        ).unwrap();
        for segment in 0..3i64 {
            let part = frame.clone().lazy().filter(col("segment").eq(lit(segment))).collect().unwrap();
            let alone = kaplan_meier(&part, &KaplanMeierOptions::default()).unwrap();
            let alone_na = nelson_aalen(&part, &NelsonAalenOptions::default()).unwrap();
            let mine = grouped.clone().lazy().filter(col("segment").eq(lit(segment))).collect().unwrap();
            let mine_na = na.clone().lazy().filter(col("segment").eq(lit(segment))).collect().unwrap();
            for name in ["time", "at_risk", "survival", "lower", "upper"] {
                prop_assert_eq!(floats(&mine, name), floats(&alone, name));
            }
            prop_assert_eq!(floats(&mine_na, "cumulative_hazard"), floats(&alone_na, "cumulative_hazard"));
        }
    }

    #[test]
    fn logrank_by_equals_per_group(rows in lives(), arms in prop::collection::vec(0u8..3, 60)) {
        let mut frame = frame_of(&rows);
        let arm: Vec<i64> = (0..frame.height()).map(|i| arms[i] as i64).collect();
        frame.with_column(Column::new("group".into(), arm)).unwrap();
        let by = logrank_test(
            &frame,
            &LogrankOptions { by: vec!["segment".into()], ..Default::default() },
        ).unwrap();
        for segment in 0..3i64 {
            let part = frame.clone().lazy().filter(col("segment").eq(lit(segment))).collect().unwrap();
            let mine = by.clone().lazy().filter(col("segment").eq(lit(segment))).collect().unwrap();
            if part.height() == 0 {
                prop_assert_eq!(mine.height(), 0);
                continue;
            }
            let alone = logrank_test(&part, &LogrankOptions::default()).unwrap();
            for name in ["groups", "n", "events", "df"] {
                prop_assert_eq!(floats(&mine, name), floats(&alone, name));
            }
            let (a, b) = (floats(&mine, "statistic")[0], floats(&alone, "statistic")[0]);
            prop_assert!(a.is_nan() && b.is_nan() || (a - b).abs() < 1e-12);
            prop_assert!(a.is_nan() || a >= -1e-12);
        }
    }
}
