//! Operations and engagement KPIs (docs/metrics/operations.md): customer retention cost,
//! trial-to-paid conversion, upsell and cross-sell rates, first contact resolution, and engagement
//! (DAU, MAU, stickiness, usage per active customer, feature adoption), and support response and
//! resolution times with the backlog and SLA attainment. Every rate stands next to
//! the counts behind it; a zero denominator gives a null rate.

mod conversions;
mod engagement;
mod response_times;
mod retention_cost;
mod support;
mod trials;
mod usage;

pub use conversions::{conversion_rates, ConversionOptions};
pub use engagement::{engagement, feature_adoption, EngagementOptions, EngagementUnit};
pub use response_times::{response_times, BusinessCalendar, ResponseTimeOptions, Sla};
pub use retention_cost::{retention_cost, CostCustomers, RetentionCostOptions};
pub use support::{first_contact_resolution, FcrOptions};
pub use trials::{trial_conversion, TrialOptions};

use polars::prelude::*;

use crate::error::Result;
use crate::frame::column;
use crate::groups::{encode_column, group_rows, sorted_keys, EncodedKey};
use crate::period::{period_key, Period, MICROS_PER_DAY};

/// Instants of a Date or Datetime column in µs since 1970-01-01 UTC (null stays null).
fn instants(frame: &DataFrame, name: &str, purpose: &str) -> Result<Vec<Option<i64>>> {
    Ok(crate::input::optional_instants(frame, name, purpose)?.0)
}

/// Numbers (or Boolean flags as 0/1) of a column as f64 (null stays null).
fn numbers(frame: &DataFrame, name: &str, purpose: &str) -> Result<Vec<Option<f64>>> {
    crate::input::optional_numbers(frame, name, crate::input::Role::NumberOrFlag, purpose)
}

fn describe_instant(micros: i64) -> String {
    crate::revenue::input::format_instant(micros)
}

fn rate(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}

/// Keys of `by` columns plus the period of `timestamp`, grouped; with the sorted key frame.
struct Grouped {
    ids: Vec<u32>,
    count: usize,
    keys: DataFrame,
    order: Vec<usize>,
}

fn grouped(frame: &DataFrame, by: &[String], timestamp: &str, period: Period) -> Result<Grouped> {
    let mut keys: Vec<EncodedKey> = Vec::with_capacity(by.len() + 1);
    for name in by {
        keys.push(encode_column(column(frame, name, "grouping (by=)")?)?);
    }
    keys.push(period_key(frame, timestamp, period, "period")?);
    let groups = group_rows(&keys, frame.height());
    let (keys_frame, order) = sorted_keys(&keys, &groups)?;
    Ok(Grouped {
        count: groups.count(),
        ids: groups.ids,
        keys: keys_frame,
        order,
    })
}

impl Grouped {
    fn counts(&self, name: &str, values: &[i64]) -> Column {
        Column::new(
            name.into(),
            self.order.iter().map(|g| values[*g]).collect::<Vec<i64>>(),
        )
    }
    fn rates(&self, name: &str, numerator: &[i64], denominator: &[i64]) -> Column {
        Column::new(
            name.into(),
            self.order
                .iter()
                .map(|g| rate(numerator[*g] as f64, denominator[*g] as f64))
                .collect::<Vec<_>>(),
        )
    }
    fn finish(self, extra: Vec<Column>) -> Result<DataFrame> {
        let mut columns = self.keys.into_columns();
        columns.extend(extra);
        Ok(DataFrame::new(self.order.len(), columns)?)
    }
}

/// The operations family in one import (`use csmetrics::operations::prelude::*;`): its functions,
/// options and option enums, with the error type and `Period`.
/// [`crate::prelude`] holds every family's.
pub mod prelude {
    pub use super::{
        conversion_rates, engagement, feature_adoption, first_contact_resolution, response_times,
        retention_cost, trial_conversion, BusinessCalendar, ConversionOptions, CostCustomers,
        EngagementOptions, EngagementUnit, FcrOptions, ResponseTimeOptions, RetentionCostOptions,
        Sla, TrialOptions,
    };
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
