//! The MRR bridge of three customers over a quarter, from an inline subscriptions table.
//!
//! `cargo run -p csmetrics --example mrr_bridge`

mod common;

use common::*;
use csmetrics::period::micros_from_civil;
use csmetrics::prelude::*;
use polars::prelude::*;

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
        as_of: Some(micros_from_civil(2024, 3, 31)),
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
