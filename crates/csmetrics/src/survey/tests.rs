//! Unit tests of the counting paths and the scale.

use polars::prelude::*;

use crate::groups::sorted_keys;
use crate::period::Period;
use crate::stats::z_for_confidence;

use super::blocks::block_counts;
use super::counts::{row_counts, Counted, Slots};
use super::histogram::{nps_interval, nps_value};
use super::*;

/// The histograms of a counting path, keyed by the keys' values as text.
fn by_label(counted: Counted) -> Vec<(String, Vec<i64>)> {
    let (keys, order) = sorted_keys(&counted.keys, &counted.groups).unwrap();
    let per_cell = counted.table.len() / order.len().max(1);
    let mut out: Vec<(String, Vec<i64>)> = order
        .iter()
        .enumerate()
        .map(|(row, &g)| {
            let label = keys
                .columns()
                .iter()
                .map(|c| format!("{}", c.get(row).unwrap()))
                .collect::<Vec<_>>()
                .join("|");
            (
                label,
                counted.table[g * per_cell..(g + 1) * per_cell].to_vec(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn block_counts_equal_row_counts_on_chunked_frames() {
    // Three chunks of unequal length per column, cut at different rows.
    let n = 9_000usize;
    let segment: Vec<Option<&str>> = (0..n)
        .map(|i| match i % 7 {
            0 => None,
            1 | 2 => Some("small business"),
            3 => Some("a segment name longer than twelve bytes"),
            _ => Some("ent"),
        })
        .collect();
    let plan: Vec<Option<i16>> = (0..n)
        .map(|i| (i % 11 != 0).then_some((i % 3) as i16 - 1))
        .collect();
    let score: Vec<Option<i8>> = (0..n)
        .map(|i| match i % 13 {
            0 => None,
            1 => Some(11), // invalid
            _ => Some((i % 11) as i8),
        })
        .collect();
    let day: Vec<i32> = (0..n).map(|i| 19_000 + ((i * 37) % 400) as i32).collect();
    let whole = df!(
        "segment" => segment,
        "plan" => plan,
        "score" => score,
        "day" => day,
    )
    .unwrap();
    let whole = whole
        .lazy()
        .with_columns([
            col("day").cast(DataType::Date).alias("timestamp"),
            col("plan")
                .cast(DataType::String)
                .cast(DataType::from_categories(Categories::global()))
                .alias("tier"),
        ])
        .collect()
        .unwrap();
    let mut chunked = whole.slice(0, 2_000);
    chunked.vstack_mut(&whole.slice(2_000, 5_000)).unwrap();
    chunked.vstack_mut(&whole.slice(7_000, 2_000)).unwrap();
    let grouping = Grouping {
        by: vec!["segment".into(), "tier".into(), "plan".into()],
        period: Some(Period::Month),
        timestamp: "timestamp".into(),
    };
    let scale = Scale::NPS;
    let slots = Slots {
        scale,
        missing: scale.len(),
        invalid: scale.len() + 1,
        per_cell: scale.len() + 2,
    };
    for frame in [&whole, &chunked] {
        let source = frame
            .column("score")
            .unwrap()
            .as_materialized_series()
            .clone();
        for policy in [
            InvalidPolicy::Drop,
            InvalidPolicy::Null,
            InvalidPolicy::Raise,
        ] {
            let block = block_counts(frame, &source, &grouping, slots, policy)
                .unwrap()
                .expect("few-valued keys take the block path");
            let rows = row_counts(frame, &source, &grouping, slots, policy).unwrap();
            assert_eq!(block.first_invalid, Some(1));
            assert_eq!(rows.first_invalid, Some(1));
            let (block, rows) = (by_label(block), by_label(rows));
            assert_eq!(block, rows);
            // 3 segments and a null x 3 plans and a null x 14 months, every cell present.
            assert_eq!(block.len(), 4 * 4 * 14);
            let total: i64 = block.iter().map(|(_, c)| c.iter().sum::<i64>()).sum();
            assert_eq!(total, n as i64);
        }
    }
    // Many distinct strings: the general path.
    let ids: Vec<String> = (0..200).map(|i| format!("c{i}")).collect();
    let many = df!("id" => ids, "score" => vec![5i8; 200]).unwrap();
    let source = many
        .column("score")
        .unwrap()
        .as_materialized_series()
        .clone();
    let grouping = Grouping::of(&["id".into()], None, "timestamp");
    assert!(
        block_counts(&many, &source, &grouping, slots, InvalidPolicy::Raise)
            .unwrap()
            .is_none()
    );
}

#[test]
fn nps_worked_example() {
    assert_eq!(nps_value(60, 10, 100), Some(50.0));
    assert_eq!(nps_value(0, 0, 0), None);
}

#[test]
fn adjusted_wald_worked_example() {
    // docs/metrics/survey.md#nps-interval: 60/30/10 -> [35.47, 61.62].
    let z = z_for_confidence(0.95).unwrap();
    let (lo, hi) = nps_interval(60, 10, 100, NpsInterval::AdjustedWald, z).unwrap();
    assert!((lo - 35.47).abs() < 0.005, "{lo}");
    assert!((hi - 61.62).abs() < 0.005, "{hi}");
}

#[test]
fn wald_by_hand() {
    // pP = .6, pD = .1: var = (.7 - .25) / 100 = .0045, se = 100 sqrt(.0045) = 6.7082.
    let z = z_for_confidence(0.95).unwrap();
    let (lo, hi) = nps_interval(60, 10, 100, NpsInterval::Wald, z).unwrap();
    let se = 100.0 * 0.0045f64.sqrt();
    assert!((lo - (50.0 - z * se)).abs() < 1e-12);
    assert!((hi - (50.0 + z * se)).abs() < 1e-12);
}

#[test]
fn interval_is_clipped() {
    let z = z_for_confidence(0.95).unwrap();
    let (lo, hi) = nps_interval(5, 0, 5, NpsInterval::Wald, z).unwrap();
    assert_eq!((lo, hi), (100.0, 100.0));
    let (_, hi) = nps_interval(5, 0, 5, NpsInterval::AdjustedWald, z).unwrap();
    assert!(hi <= 100.0);
}

#[test]
fn scale_positions() {
    let s = Scale::NPS;
    assert_eq!(s.position(0.0), Some(0));
    assert_eq!(s.position(10.0), Some(10));
    assert_eq!(s.position(11.0), None);
    assert_eq!(s.position(-1.0), None);
    assert_eq!(s.position(7.5), None);
    assert_eq!(s.position(f64::NAN), None);
    assert_eq!(s.position(f64::INFINITY), None);
    assert!(Scale::new(5, 1).is_err());
}
