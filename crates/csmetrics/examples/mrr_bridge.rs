//! The MRR bridge of three customers over a quarter, from an inline subscriptions table.
//!
//! `cargo run -p csmetrics --example mrr_bridge`

use csmetrics::period::days_from_civil;
use csmetrics::prelude::*;
use polars::prelude::*;

const MICROS_PER_DAY: i64 = 86_400_000_000;

fn day(year: i64, month: u32, day: u32) -> i32 {
    days_from_civil(year, month, day) as i32
}

/// A column's values as floats (amounts come back as numbers of any type).
fn floats(
    frame: &DataFrame,
    name: &str,
) -> std::result::Result<Vec<f64>, Box<dyn std::error::Error>> {
    let column = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(column
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // a pays 100 a month from January; b pays 50 from January and leaves on 10 February;
    // c pays 30 from February.
    let subscriptions = df!(
        "customer_id" => ["a", "b", "c"],
        "start" => [day(2024, 1, 1), day(2024, 1, 1), day(2024, 2, 1)],
        "end" => [None, Some(day(2024, 2, 10)), None],
        "amount" => [100.0, 50.0, 30.0],
        "interval" => ["month", "month", "month"],
    )?
    .lazy()
    .with_columns([
        col("start").cast(DataType::Date),
        col("end").cast(DataType::Date),
    ])
    .collect()?;
    let options = RevenueOptions {
        as_of: Some(i64::from(day(2024, 3, 31)) * MICROS_PER_DAY),
        mode: Mode::Snapshot,
        ..Default::default()
    };
    let bridge = mrr_bridge(&subscriptions, &options)?;
    // Polars is built without its table printer here: print the columns one by one.
    for name in ["starting_mrr", "new", "churned", "ending_mrr"] {
        println!("{name:>12}: {:?}", floats(&bridge, name)?);
    }

    // Snapshot mode compares month-end paying sets: January ends with a and b (150), February
    // with a and c (130): 150 + 30 new - 50 churned = 130.
    let periods = bridge.column("period")?.cast(&DataType::Int32)?;
    let february = periods
        .i32()?
        .iter()
        .position(|p| p == Some(day(2024, 2, 1)))
        .ok_or("no February row")?;
    let row = |name: &str| floats(&bridge, name).map(|values| values[february]);
    assert_eq!(row("starting_mrr")?, 150.0);
    assert_eq!(row("new")?, 30.0);
    assert_eq!(row("churned")?, 50.0);
    assert_eq!(row("ending_mrr")?, 130.0);
    println!("February: 150 + 30 - 50 = 130, as the bridge says");
    Ok(())
}
