//! BG/NBD and Gamma-Gamma fitted on a generated transaction log, and 12-month CLV per customer.
//!
//! `cargo run -p csmetrics --example bgnbd_clv`

use csmetrics::clv::prelude::*;
use csmetrics::datasets::{saas, SaasParams};
use polars::prelude::*;

type Error = Box<dyn std::error::Error>;

fn floats(column: &Column) -> std::result::Result<Vec<Option<f64>>, Error> {
    let column = column.cast(&DataType::Float64)?;
    Ok(column.f64()?.iter().collect())
}

fn main() -> std::result::Result<(), Error> {
    // A generated business of 2,000 customers over 18 months; only its purchases are used.
    let business = saas(&SaasParams {
        customers: 2_000,
        months: 18,
        ..Default::default()
    })?;
    let summary = rfm_summary(&business.transactions, &RfmOptions::default())?;
    println!("{} customers in the RFM summary", summary.height());

    let purchases = fit(&summary, Model::BetaGeo, &FitOptions::default())?;
    let spend = fit(&summary, Model::GammaGamma, &FitOptions::default())?;
    for model in [&purchases, &spend] {
        println!(
            "{}: log-likelihood {:.1}",
            model.model, model.log_likelihood
        );
        println!("  {}", model.params);
    }
    assert_eq!(purchases.customers, summary.height() as f64);

    let columns = SummaryColumns::default();
    let year = 365.0;
    let expected = floats(&predict(
        &summary,
        &purchases,
        Prediction::ExpectedPurchases(year),
        &columns,
    )?)?;
    let p_alive = floats(&predict(
        &summary,
        &purchases,
        Prediction::PAlive,
        &columns,
    )?)?;
    let mean_spend = floats(&predict(
        &summary,
        &spend,
        Prediction::ExpectedSpend,
        &columns,
    )?)?;
    let clv = floats(&customer_value(
        &summary,
        &purchases,
        &spend,
        &columns,
        &ClvOptions {
            months: 12,
            discount_rate: 0.0,
            ..Default::default()
        },
    )?)?;

    // Hand-checkable facts:
    // 1. BG/NBD: a customer who never bought again (frequency 0) is alive with probability 1.
    let frequency = floats(summary.column("frequency")?)?;
    let recency = floats(summary.column("recency")?)?;
    let mean_value = floats(summary.column("monetary_value")?)?;
    for (x, alive) in frequency.iter().zip(&p_alive) {
        if *x == Some(0.0) {
            assert_eq!(*alive, Some(1.0));
        }
    }
    // 2. Gamma-Gamma: a repeat buyer's expected spend is (gamma + m x) p / (p x + q - 1).
    let (p, q, gamma) = (spend.params["p"], spend.params["q"], spend.params["gamma"]);
    let repeat = frequency
        .iter()
        .position(|x| x.is_some_and(|x| x > 0.0))
        .ok_or("no repeat buyer")?;
    let (x, m) = (
        frequency[repeat].ok_or("null")?,
        mean_value[repeat].ok_or("null")?,
    );
    let by_hand = (gamma + m * x) * p / (p * x + q - 1.0);
    let spent = mean_spend[repeat].ok_or("null")?;
    assert!((spent - by_hand).abs() < 1e-9 * by_hand);
    println!(
        "customer {repeat}: x = {x}, recency {:?}, mean value {m:.2}: expected spend {spent:.2}",
        recency[repeat]
    );
    // 3. Undiscounted CLV over 12 months = expected purchases in 365 days x expected spend.
    for ((value, purchases), spend) in clv.iter().zip(&expected).zip(&mean_spend) {
        if let (Some(value), Some(purchases), Some(spend)) = (value, purchases, spend) {
            assert!((value - purchases * spend).abs() <= 1e-9 * value.abs().max(1.0));
        }
    }
    let total: f64 = clv.iter().flatten().sum();
    println!("12-month CLV of the customer base: {total:.0}");
    Ok(())
}
