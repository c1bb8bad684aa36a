//! The input layer through the public API: Categorical, Enum, small and unsigned integers and
//! Decimal columns give the answers of their plain forms; refused dtypes are typed errors; the
//! weighted survival counts and the overflow rules hold.

// In a test a failed unwrap is a failed test, with the error in its message.
#![allow(clippy::unwrap_used)]

mod common;

use common::floats;
use csmetrics::revenue::{mrr, Money, RevenueInput, RevenueOptions, SubscriptionColumns};
use csmetrics::survey::{nps, NpsOptions};
use csmetrics::survival::{
    kaplan_meier, logrank_test, nelson_aalen, KaplanMeierOptions, LogrankOptions,
    NelsonAalenOptions,
};
use csmetrics::CsError;
use polars::prelude::*;

fn answers() -> DataFrame {
    df!(
        "segment" => ["x", "x", "y", "y", "y"],
        "score" => [10i64, 3, 9, 9, 7],
    )
    .unwrap()
}

fn nps_by_segment(frame: &DataFrame) -> DataFrame {
    let options = NpsOptions {
        by: vec!["segment".into()],
        ci: None,
        ..NpsOptions::default()
    };
    nps(frame, &options).unwrap()
}

#[test]
fn categorical_enum_and_small_integer_columns_read_as_their_plain_forms() {
    let plain = nps_by_segment(&answers());
    // x: one promoter, one detractor -> 0; y: two promoters, one passive -> 66.67.
    assert_eq!(floats(&plain, "nps")[0], Some(0.0));
    assert!((floats(&plain, "nps")[1].unwrap() - 200.0 / 3.0).abs() < 1e-12);
    let categories = FrozenCategories::new(["x", "y"]).unwrap();
    let variants = [
        DataType::from_categories(Categories::global()),
        DataType::from_frozen_categories(categories),
    ];
    for dtype in variants {
        for score in [
            DataType::Int8,
            DataType::UInt8,
            DataType::UInt16,
            DataType::Decimal(4, 1),
        ] {
            let frame = answers()
                .lazy()
                .with_columns([
                    col("segment").cast(dtype.clone()),
                    col("score").cast(score.clone()),
                ])
                .collect()
                .unwrap();
            let got = nps_by_segment(&frame);
            assert_eq!(
                floats(&got, "nps"),
                floats(&plain, "nps"),
                "{dtype:?} {score:?}"
            );
            assert_eq!(
                got.column("segment")
                    .unwrap()
                    .cast(&DataType::String)
                    .unwrap()
                    .str()
                    .unwrap()
                    .iter()
                    .collect::<Vec<_>>(),
                [Some("x"), Some("y")]
            );
        }
    }
}

#[test]
fn refused_dtypes_name_the_column_the_dtype_and_the_dtypes_accepted() {
    let frame = df!("score" => ["9", "10"]).unwrap();
    let err = nps(&frame, &NpsOptions::default()).unwrap_err();
    let CsError::InvalidType {
        column,
        dtype,
        rule,
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!((column.as_str(), dtype.as_str()), ("score", "String"));
    assert!(
        rule.contains("Int8 to UInt64, Float32, Float64 or Decimal"),
        "{rule}"
    );
    let lists = df!("segment" => [Series::new("".into(), [1i64]), Series::new("".into(), [2i64])], "score" => [9i64, 10]).unwrap();
    let options = NpsOptions {
        by: vec!["segment".into()],
        ..NpsOptions::default()
    };
    let err = nps(&lists, &options).unwrap_err().to_string();
    assert!(err.contains("has type List(Int64)"), "{err}");
    assert!(err.contains("Categorical, Enum"), "{err}");
}

fn subscriptions(amount: Series) -> DataFrame {
    let start = Series::new("start".into(), [19723i32, 19723]) // 2024-01-01
        .cast(&DataType::Date)
        .unwrap();
    DataFrame::new(
        2,
        vec![
            Column::new("customer_id".into(), ["a", "a"]),
            start.into_column(),
            Column::new_empty("end".into(), &DataType::Null)
                .extend_constant(AnyValue::Null, 2)
                .unwrap(),
            amount.with_name("amount".into()).into_column(),
            Column::new("interval".into(), ["month", "year"]),
        ],
    )
    .unwrap()
}

fn revenue_options(precision: u32) -> RevenueOptions {
    RevenueOptions {
        input: RevenueInput::Subscriptions(SubscriptionColumns::default()),
        as_of: Some(19753 * 86_400_000_000), // 2024-01-31
        precision,
        money: Money::Units,
        ..RevenueOptions::default()
    }
}

#[test]
fn decimal_money_becomes_exact_units_and_a_null_dtype_end_is_open() {
    // 0.10 a month and 1500.05 a year: 0.10 + 125.004166... = 125.104166..., rounded per
    // subscription at precision 2: 10 + 12500 units (125.00 is 1500.05 / 12 = 125.0041 -> 12500).
    let amounts = Series::new("amount".into(), [10i128, 150_005])
        .cast(&DataType::Int128)
        .unwrap()
        .i128()
        .unwrap()
        .clone()
        .into_decimal(12, 2)
        .unwrap()
        .into_series();
    let got = mrr(&subscriptions(amounts), &revenue_options(2)).unwrap();
    let units: Vec<i64> = got
        .column("mrr")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(units, [12_510]);
}

#[test]
fn amounts_past_the_unit_range_are_errors_never_capped_or_wrapped() {
    let huge = Series::new("amount".into(), [1e300, 1.0]);
    let err = mrr(&subscriptions(huge), &revenue_options(6)).unwrap_err();
    assert!(
        matches!(&err, CsError::InvalidValue { column, row: 0, .. } if column == "amount"),
        "{err}"
    );
    // Each fits Int64 units alone, not together: the customer is named.
    let pair = Series::new("amount".into(), [5e12, 6e13]);
    let err = mrr(&subscriptions(pair), &revenue_options(6)).unwrap_err();
    assert!(
        matches!(&err, CsError::InvalidValue { value, .. } if value == "a"),
        "{err}"
    );
}

fn lives(weights: &[f64]) -> DataFrame {
    let n = weights.len();
    df!(
        "duration" => (1..=n).map(|d| d as f64).collect::<Vec<_>>(),
        "event" => vec![true; n],
        "w" => weights,
    )
    .unwrap()
}

#[test]
fn weighted_numbers_at_risk_are_sums_never_differences() {
    // Weights 0.1, 0.2, 0.3 with an event each: at risk 0.6, 0.5, 0.3; the last time leaves
    // no one, so survival ends at exactly 0 with the interval [0, 0].
    let options = KaplanMeierOptions {
        weights: Some("w".into()),
        ..KaplanMeierOptions::default()
    };
    let curve = kaplan_meier(&lives(&[0.1, 0.2, 0.3]), &options).unwrap();
    let at_risk = floats(&curve, "at_risk");
    assert_eq!(at_risk.last().copied().flatten(), Some(0.3));
    assert_eq!(
        floats(&curve, "survival").last().copied().flatten(),
        Some(0.0)
    );
    assert_eq!(floats(&curve, "lower").last().copied().flatten(), Some(0.0));
    assert_eq!(floats(&curve, "upper").last().copied().flatten(), Some(0.0));
    // Sequential ties with a weight of 1e11 at one time: H(n) - H(n - w) by its closed form.
    let heavy = df!("duration" => [1.0, 2.0], "event" => [true, true], "w" => [1e11, 1.0]).unwrap();
    let options = NelsonAalenOptions {
        weights: Some("w".into()),
        ..NelsonAalenOptions::default()
    };
    let hazard = nelson_aalen(&heavy, &options).unwrap();
    let n: f64 = 1e11 + 1.0;
    let expected = n.ln() + 0.577_215_664_901_532_9 + 1.0 / (2.0 * n) - 1.0;
    let got = floats(&hazard, "cumulative_hazard");
    let at_one = got.iter().rev().nth(1).copied().flatten().unwrap();
    assert!(
        (at_one - expected).abs() < 1e-9 * expected,
        "{at_one} vs {expected}"
    );
}

#[test]
fn logrank_without_variance_has_no_statistic() {
    let frame = df!(
        "duration" => [1.0, 2.0],
        "event" => [true, true],
        "group" => ["a", "b"],
        "w" => [0.5, 0.5],
    )
    .unwrap();
    let options = LogrankOptions {
        weights: Some("w".into()),
        ..LogrankOptions::default()
    };
    let test = logrank_test(&frame, &options).unwrap();
    assert_eq!(floats(&test, "statistic"), [None]);
    let plain = logrank_test(&frame, &LogrankOptions::default()).unwrap();
    // n = 2, d = 1 at t = 1 (group a): O - E = 1/2, V = 1/4, statistic 1.
    assert_eq!(floats(&plain, "statistic"), [Some(1.0)]);
}
