//! Purchase KPIs of a transaction log, per group and period (docs/metrics/scorecard.md): buyers,
//! purchases, purchase revenue, average order value and the share of buyers who had bought in
//! an earlier period. The scorecard's `transactions` rows are these.

use std::collections::HashSet;

use polars::prelude::*;

use crate::error::Result;
use crate::frame::{column, format_number};
use crate::groups::{encode_column, group_rows, sorted_keys, EncodedKey};
use crate::input::{days_of, invalid, numbers, Role, DAY_US};
use crate::period::{period_key, Period};

/// Options of [`purchase_kpis`].
#[derive(Debug, Clone)]
pub struct PurchaseOptions {
    /// Customer column (any key type, no nulls). Default `customer_id`.
    pub customer_id: String,
    /// Time of each purchase (Date or Datetime, read as its UTC day). Default `timestamp`.
    pub timestamp: String,
    /// Value of each purchase (finite numbers, no nulls). Default `amount`.
    pub amount: String,
    /// Grouping columns.
    pub by: Vec<String>,
    /// Reporting period. Default month.
    pub period: Period,
    /// Cut-off in µs since 1970-01-01 UTC: purchases on a later UTC day are not counted, and
    /// "bought before" looks no further back than the log. None: every purchase.
    pub as_of: Option<i64>,
}

impl Default for PurchaseOptions {
    fn default() -> Self {
        PurchaseOptions {
            customer_id: "customer_id".into(),
            timestamp: "timestamp".into(),
            amount: "amount".into(),
            by: Vec::new(),
            period: Period::Month,
            as_of: None,
        }
    }
}

/// Purchase KPIs per group and period of the purchase.
///
/// Columns: keys, `period`, `buyers` (distinct customers purchasing), `purchases` (rows),
/// `revenue` (sum of the amounts), `repeat_buyers` (buyers whose first purchase in the log is in
/// an earlier period), `average_order_value` = revenue / purchases and `repeat_buyer_share` =
/// repeat buyers / buyers. Sorted by the keys.
///
/// ```
/// use csmetrics::purchases::{purchase_kpis, PurchaseOptions};
/// use polars::prelude::*;
///
/// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
/// // a buys in January and February, b in February only.
/// let log = df!(
///     "customer_id" => ["a", "a", "b", "a"],
///     "timestamp" => [19_723i32, 19_730, 19_755, 19_760],
///     "amount" => [10.0, 20.0, 30.0, 40.0],
/// )?
/// .lazy()
/// .with_column(col("timestamp").cast(DataType::Date))
/// .collect()?;
/// let kpis = purchase_kpis(&log, &PurchaseOptions::default())?;
/// let aov: Vec<Option<f64>> = kpis.column("average_order_value")?.f64()?.iter().collect();
/// assert_eq!(aov, vec![Some(15.0), Some(35.0)]);
/// let repeat: Vec<Option<f64>> = kpis.column("repeat_buyer_share")?.f64()?.iter().collect();
/// assert_eq!(repeat, vec![Some(0.0), Some(0.5)]);
/// # Ok(())
/// # }
/// ```
pub fn purchase_kpis(frame: &DataFrame, options: &PurchaseOptions) -> Result<DataFrame> {
    let what_time = "the time of each purchase";
    let stamps = column(frame, &options.timestamp, what_time)?.as_materialized_series();
    let days = days_of(stamps, &options.timestamp, what_time)?
        .map_err(|row| invalid(&options.timestamp, row, "null", "a purchase needs a time"))?;
    let filtered;
    let (frame, days) = match options.as_of {
        Some(as_of)
            if days
                .iter()
                .any(|&d| i64::from(d) > as_of.div_euclid(DAY_US)) =>
        {
            let cut = as_of.div_euclid(DAY_US);
            let keep: BooleanChunked = days.iter().map(|&d| i64::from(d) <= cut).collect();
            filtered = frame.filter(&keep)?;
            let kept = days.into_iter().filter(|&d| i64::from(d) <= cut).collect();
            (&filtered, kept)
        }
        _ => (frame, days),
    };
    let customers = column(frame, &options.customer_id, "the customer of each purchase")?;
    if let Some(row) = crate::input::first_null(customers.as_materialized_series()) {
        return Err(invalid(
            &options.customer_id,
            row,
            "null",
            "a purchase needs a customer",
        ));
    }
    let customer = encode_column(customers)?;
    let amounts = numbers(
        frame,
        &options.amount,
        Role::Number,
        "the value of each purchase",
    )?;
    let amounts: Vec<Option<f64>> = amounts.f64()?.iter().collect();
    if let Some((row, value)) = amounts
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_some_and(f64::is_finite))
    {
        let shown = value.map_or_else(|| "null".to_string(), format_number);
        return Err(invalid(
            &options.amount,
            row,
            shown,
            "a purchase's value must be a finite number",
        ));
    }

    // The period each row falls in, and each customer's first period in the log.
    let starts: Vec<i64> = days
        .iter()
        .map(|&d| options.period.start_of(i64::from(d)))
        .collect();
    let mut first = vec![i64::MAX; customer.labels.len()];
    for (row, &c) in customer.codes.iter().enumerate() {
        first[c as usize] = first[c as usize].min(starts[row]);
    }

    let mut keys: Vec<EncodedKey> = Vec::with_capacity(options.by.len() + 1);
    for name in &options.by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    keys.push(period_key(
        frame,
        &options.timestamp,
        options.period,
        "period",
    )?);
    let groups = group_rows(&keys, frame.height());
    let count = groups.count();
    let (mut purchases, mut revenue) = (vec![0i64; count], vec![0f64; count]);
    let (mut buyers, mut repeat) = (vec![0i64; count], vec![0i64; count]);
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    for (row, &g) in groups.ids.iter().enumerate() {
        let (g, c) = (g as usize, customer.codes[row]);
        purchases[g] += 1;
        revenue[g] += amounts[row].unwrap_or_default();
        if seen.insert((g as u32, c)) {
            buyers[g] += 1;
            repeat[g] += i64::from(first[c as usize] < starts[row]);
        }
    }

    let (keys_frame, order) = sorted_keys(&keys, &groups)?;
    let pick_i = |values: &[i64]| order.iter().map(|&g| values[g]).collect::<Vec<i64>>();
    let ratio = |num: &dyn Fn(usize) -> f64, den: &[i64]| {
        order
            .iter()
            .map(|&g| (den[g] > 0).then(|| num(g) / den[g] as f64))
            .collect::<Vec<Option<f64>>>()
    };
    let average = ratio(&|g| revenue[g], &purchases);
    let share = ratio(&|g| repeat[g] as f64, &buyers);
    let mut columns = keys_frame.into_columns();
    columns.extend([
        Column::new("buyers".into(), pick_i(&buyers)),
        Column::new("purchases".into(), pick_i(&purchases)),
        Column::new(
            "revenue".into(),
            order.iter().map(|&g| revenue[g]).collect::<Vec<f64>>(),
        ),
        Column::new("repeat_buyers".into(), pick_i(&repeat)),
        Column::new("average_order_value".into(), average),
        Column::new("repeat_buyer_share".into(), share),
    ]);
    Ok(DataFrame::new(order.len(), columns)?)
}

/// The purchase family in one import (`use csmetrics::purchases::prelude::*;`): its functions,
/// options and option enums, with the error type and `Period`.
/// [`crate::prelude`] holds every family's.
pub mod prelude {
    pub use super::{purchase_kpis, PurchaseOptions};
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
