//! Renewal rates (docs/metrics/churn-and-retention.md#renewal) from a contracts table: per period
//! of the renewal due date, the share of contracts renewed (logo) and of the amount renewed
//! (revenue).

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::{column, format_number};
use crate::groups::{encode_column, group_rows, sorted_keys, EncodedKey};
use crate::period::{period_key, Period};

/// Options of [`renewal_rates`].
#[derive(Debug, Clone)]
pub struct RenewalOptions {
    /// Renewal due date column (Date or Datetime). Default `renewal_due`.
    pub renewal_due: String,
    /// Outcome column: Boolean (or 0/1 integers); null while undecided. Default `renewed`.
    pub renewed: String,
    /// Contract amount column, if any (enables the revenue renewal rate). Default none.
    pub amount: Option<String>,
    /// Grouping columns.
    pub by: Vec<String>,
    /// Reporting period. Default month.
    pub period: Period,
}

impl Default for RenewalOptions {
    fn default() -> Self {
        RenewalOptions {
            renewal_due: "renewal_due".into(),
            renewed: "renewed".into(),
            amount: None,
            by: Vec::new(),
            period: Period::Month,
        }
    }
}

fn outcomes(frame: &DataFrame, name: &str) -> Result<Vec<Option<bool>>> {
    crate::input::flags(
        frame,
        name,
        "whether each contract was renewed",
        "a renewal outcome must be true/false or 1/0 (null while undecided)",
    )
}

/// Renewal rates per group and period of the due date.
///
/// Columns: keys, `period`, `up_for_renewal` (decided contracts), `renewed`, `pending`
/// (undecided: null outcome, left out of the rates), `renewal_rate`, and with an amount column
/// `amount_up`, `amount_renewed`, `revenue_renewal_rate`. Rates are null when nothing is up.
pub fn renewal_rates(frame: &DataFrame, options: &RenewalOptions) -> Result<DataFrame> {
    let renewed = outcomes(frame, &options.renewed)?;
    let amounts: Option<Vec<f64>> = match &options.amount {
        Some(name) => {
            let values = crate::input::optional_numbers(
                frame,
                name,
                crate::input::Role::Number,
                "the amount of each contract",
            )?;
            let mut out = Vec::with_capacity(values.len());
            for (row, v) in values.into_iter().enumerate() {
                match v {
                    Some(v) if v.is_finite() && v >= 0.0 => out.push(v),
                    other => {
                        return Err(CsError::InvalidValue {
                            column: name.clone(),
                            row,
                            value: other.map_or("null".into(), format_number),
                            rule: "contract amounts must be non-negative numbers".into(),
                        })
                    }
                }
            }
            Some(out)
        }
        None => None,
    };
    let mut keys: Vec<EncodedKey> = Vec::with_capacity(options.by.len() + 1);
    for name in &options.by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    keys.push(period_key(
        frame,
        &options.renewal_due,
        options.period,
        "period",
    )?);
    let groups = group_rows(&keys, frame.height());
    let mut counts = vec![[0i64; 3]; groups.count()]; // up, renewed, pending
    let mut money = vec![[0f64; 2]; groups.count()]; // up, renewed
    for (row, outcome) in renewed.iter().enumerate() {
        let g = groups.ids[row] as usize;
        match outcome {
            None => counts[g][2] += 1,
            Some(r) => {
                counts[g][0] += 1;
                let amount = amounts.as_ref().map_or(0.0, |a| a[row]);
                money[g][0] += amount;
                if *r {
                    counts[g][1] += 1;
                    money[g][1] += amount;
                }
            }
        }
    }
    let (frame_keys, order) = sorted_keys(&keys, &groups)?;
    let rate = |n: f64, d: f64| (d > 0.0).then(|| n / d);
    let mut columns = frame_keys.into_columns();
    let pick = |i: usize| order.iter().map(|g| counts[*g][i]).collect::<Vec<i64>>();
    columns.push(Column::new("up_for_renewal".into(), pick(0)));
    columns.push(Column::new("renewed".into(), pick(1)));
    columns.push(Column::new("pending".into(), pick(2)));
    columns.push(Column::new(
        "renewal_rate".into(),
        order
            .iter()
            .map(|g| rate(counts[*g][1] as f64, counts[*g][0] as f64))
            .collect::<Vec<_>>(),
    ));
    if amounts.is_some() {
        columns.push(Column::new(
            "amount_up".into(),
            order.iter().map(|g| money[*g][0]).collect::<Vec<f64>>(),
        ));
        columns.push(Column::new(
            "amount_renewed".into(),
            order.iter().map(|g| money[*g][1]).collect::<Vec<f64>>(),
        ));
        columns.push(Column::new(
            "revenue_renewal_rate".into(),
            order
                .iter()
                .map(|g| rate(money[*g][1], money[*g][0]))
                .collect::<Vec<_>>(),
        ));
    }
    Ok(DataFrame::new(order.len(), columns)?)
}

/// The renewal family in one import (`use csmetrics::renewal::prelude::*;`): its functions,
/// options and option enums, with the error type and `Period`.
/// [`crate::prelude`] holds every family's.
pub mod prelude {
    pub use super::{renewal_rates, RenewalOptions};
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
