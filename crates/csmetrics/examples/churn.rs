//! Logo churn of four customers over a quarter, from an inline subscriptions table.
//!
//! `cargo run -p csmetrics --example churn`

mod common;

use common::*;
use csmetrics::period::micros_from_civil;
use csmetrics::prelude::*;
use polars::prelude::*;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // Four customers pay from January; d leaves on 15 February; e joins in March.
    let subscriptions = df!(
        "customer_id" => ["a", "b", "c", "d", "e"],
        "start" => [day(2024, 1, 1), day(2024, 1, 1), day(2024, 1, 1), day(2024, 1, 1), day(2024, 3, 1)],
        "end" => [None, None, None, Some(day(2024, 2, 15)), None],
        "amount" => [100.0, 50.0, 30.0, 20.0, 40.0],
        "interval" => ["month", "month", "month", "month", "month"],
    )?
    .lazy()
    .with_columns([
        col("start").cast(DataType::Date),
        col("end").cast(DataType::Date),
    ])
    .collect()?;
    let options = ChurnOptions {
        panel: RevenueOptions {
            as_of: Some(micros_from_civil(2024, 3, 31)),
            mode: Mode::Snapshot,
            ..Default::default()
        },
        confidence: Some(0.95),
        ..Default::default()
    };
    let churn = churn_rates(&subscriptions, &options)?;
    // Polars is built without its table printer here: print the columns one by one.
    for name in [
        "customers_start",
        "churned",
        "new",
        "customers_end",
        "churn_rate",
        "retention_rate",
    ] {
        println!("{name:>16}: {:?}", floats(&churn, name)?);
    }

    // February starts with a, b, c, d (4 customers) and ends without d: 1 of 4 churned.
    // March starts with a, b, c and gains e: no churn, growth 1/3.
    let periods = churn.column("period")?.cast(&DataType::Int32)?;
    let row_of = |month: u32| {
        periods
            .i32()
            .ok()
            .and_then(|p| p.iter().position(|p| p == Some(day(2024, month, 1))))
            .ok_or("no such month")
    };
    let (february, march) = (row_of(2)?, row_of(3)?);
    let value = |name: &str, row: usize| floats(&churn, name).map(|values| values[row]);
    assert_eq!(value("customers_start", february)?, 4.0);
    assert_eq!(value("churned", february)?, 1.0);
    assert_eq!(value("churn_rate", february)?, 0.25);
    assert_eq!(value("retention_rate", february)?, 0.75);
    assert_eq!(value("churn_rate", march)?, 0.0);
    assert_eq!(value("new", march)?, 1.0);
    assert!((value("growth_rate", march)? - 1.0 / 3.0).abs() < 1e-12);
    let (lower, upper) = (
        value("churn_lower", february)?,
        value("churn_upper", february)?,
    );
    assert!(lower < 0.25 && 0.25 < upper);
    println!("February: 1 of 4 customers churned (25%, Wilson 95% [{lower:.3}, {upper:.3}])");
    Ok(())
}
