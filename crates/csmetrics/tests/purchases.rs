//! Purchase KPIs with hand-computed answers (docs/metrics/scorecard.md).
#![allow(clippy::unwrap_used)] // test helpers: a failed read is a failed test

mod common;

use common::{day, floats};
use csmetrics::period::Period;
use csmetrics::purchases::{purchase_kpis, PurchaseOptions};
use csmetrics::CsError;
use polars::prelude::*;

fn log(customers: &[&str], days: &[i32], amounts: &[f64], segments: &[&str]) -> DataFrame {
    DataFrame::new(
        customers.len(),
        vec![
            Column::new("customer_id".into(), customers),
            Column::new("timestamp".into(), days)
                .cast(&DataType::Date)
                .unwrap(),
            Column::new("amount".into(), amounts),
            Column::new("segment".into(), segments),
        ],
    )
    .unwrap()
}

/// a: Jan 5 (10), Jan 20 (5), Feb 3 (40); b: Feb 10 (20); c: Jan 31 (7), Mar 1 (3).
fn sample() -> DataFrame {
    log(
        &["a", "a", "a", "b", "c", "c"],
        &[
            day((2024, 1, 5)),
            day((2024, 1, 20)),
            day((2024, 2, 3)),
            day((2024, 2, 10)),
            day((2024, 1, 31)),
            day((2024, 3, 1)),
        ],
        &[10.0, 5.0, 40.0, 20.0, 7.0, 3.0],
        &["smb", "smb", "smb", "ent", "ent", "ent"],
    )
}

#[test]
fn monthly_purchase_kpis_by_hand() {
    let kpis = purchase_kpis(&sample(), &PurchaseOptions::default()).unwrap();
    // Jan: a twice, c once; Feb: a (repeat), b (new); Mar: c (repeat).
    assert_eq!(floats(&kpis, "buyers"), [Some(2.0), Some(2.0), Some(1.0)]);
    assert_eq!(
        floats(&kpis, "purchases"),
        [Some(3.0), Some(2.0), Some(1.0)]
    );
    assert_eq!(
        floats(&kpis, "revenue"),
        [Some(22.0), Some(60.0), Some(3.0)]
    );
    assert_eq!(
        floats(&kpis, "repeat_buyers"),
        [Some(0.0), Some(1.0), Some(1.0)]
    );
    assert_eq!(
        floats(&kpis, "average_order_value"),
        [Some(22.0 / 3.0), Some(30.0), Some(3.0)]
    );
    assert_eq!(
        floats(&kpis, "repeat_buyer_share"),
        [Some(0.0), Some(0.5), Some(1.0)]
    );
}

#[test]
fn groups_and_a_cut_off() {
    let options = PurchaseOptions {
        by: vec!["segment".into()],
        // Feb 10 at 12:00 UTC: the purchases of Feb 10 count, March's do not.
        as_of: Some(i64::from(day((2024, 2, 10))) * 86_400_000_000 + 43_200_000_000),
        ..Default::default()
    };
    let kpis = purchase_kpis(&sample(), &options).unwrap();
    // Sorted by segment then period: ent Jan (c), ent Feb (b), smb Jan (a), smb Feb (a).
    let segments: Vec<Option<&str>> = kpis
        .column("segment")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        segments,
        [Some("ent"), Some("ent"), Some("smb"), Some("smb")]
    );
    assert_eq!(
        floats(&kpis, "revenue"),
        [Some(7.0), Some(20.0), Some(15.0), Some(40.0)]
    );
    assert_eq!(
        floats(&kpis, "repeat_buyer_share"),
        [Some(0.0), Some(0.0), Some(0.0), Some(1.0)]
    );
}

#[test]
fn quarterly_periods_merge_the_months() {
    let options = PurchaseOptions {
        period: Period::Quarter,
        ..Default::default()
    };
    let kpis = purchase_kpis(&sample(), &options).unwrap();
    assert_eq!(floats(&kpis, "buyers"), [Some(3.0)]);
    assert_eq!(floats(&kpis, "purchases"), [Some(6.0)]);
    assert_eq!(floats(&kpis, "repeat_buyers"), [Some(0.0)]);
    assert_eq!(floats(&kpis, "average_order_value"), [Some(85.0 / 6.0)]);
}

#[test]
fn bad_values_are_named() {
    let mut frame = sample();
    frame
        .replace(
            "amount",
            Column::new("amount".into(), [1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0]),
        )
        .unwrap();
    match purchase_kpis(&frame, &PurchaseOptions::default()) {
        Err(CsError::InvalidValue {
            column, row, value, ..
        }) => {
            assert_eq!((column.as_str(), row, value.as_str()), ("amount", 2, "NaN"));
        }
        other => panic!("expected an invalid amount, got {other:?}"),
    }
    let mut frame = sample();
    frame
        .replace(
            "customer_id",
            Column::new(
                "customer_id".into(),
                [Some("a"), None, Some("b"), Some("b"), Some("c"), Some("c")],
            ),
        )
        .unwrap();
    match purchase_kpis(&frame, &PurchaseOptions::default()) {
        Err(CsError::InvalidValue { column, row, .. }) => {
            assert_eq!((column.as_str(), row), ("customer_id", 1));
        }
        other => panic!("expected a null customer, got {other:?}"),
    }
}

#[test]
fn an_empty_log_has_no_rows() {
    let kpis = purchase_kpis(&log(&[], &[], &[], &[]), &PurchaseOptions::default()).unwrap();
    assert_eq!(kpis.height(), 0);
    assert!(kpis.column("average_order_value").is_ok());
}
