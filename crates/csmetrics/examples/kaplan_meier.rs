//! A Kaplan-Meier survival curve of six customer lifetimes, from an inline frame.
//!
//! `cargo run -p csmetrics --example kaplan_meier`

mod common;

use common::*;
use csmetrics::survival::prelude::*;
use polars::prelude::*;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // Months until churn (event = true) or until the end of observation (event = false).
    let lifetimes = df!(
        "duration" => [1.0, 2.0, 2.0, 3.0, 4.0, 5.0],
        "event" => [true, true, false, true, false, true],
    )?;
    let curve = kaplan_meier(&lifetimes, &KaplanMeierOptions::default())?;
    for name in [
        "time", "at_risk", "events", "censored", "survival", "lower", "upper",
    ] {
        println!("{name:>9}: {:?}", floats(&curve, name)?);
    }

    // The curve starts at time 0 with S = 1. S(1) = 5/6; S(2) = 5/6 x 4/5 = 2/3 (one of five at risk churns, one is censored);
    // S(3) = 2/3 x 2/3 = 4/9; S(4) = 4/9 (censored only); S(5) = 0 (the last life churns).
    let expected = [1.0, 5.0 / 6.0, 2.0 / 3.0, 4.0 / 9.0, 4.0 / 9.0, 0.0];
    let survival = floats(&curve, "survival")?;
    assert_eq!(survival.len(), expected.len());
    for (got, want) in survival.iter().zip(expected) {
        assert!((got - want).abs() < 1e-12, "{got} != {want}");
    }
    assert_eq!(
        floats(&curve, "at_risk")?,
        vec![6.0, 6.0, 5.0, 3.0, 2.0, 1.0]
    );

    let summary = kaplan_meier_summary(&lifetimes, &KaplanMeierOptions::default())?;
    println!("median: {:?}", floats(&summary, "median")?);
    // The median is the first time S(t) <= 1/2: month 3.
    assert_eq!(floats(&summary, "median")?, vec![3.0]);
    println!("S(3) = 4/9, median 3 months, as the curve says");
    Ok(())
}
