//! # csmetrics
//!
//! Customer-success metrics over Polars DataFrames: survey scores (NPS with confidence intervals
//! and two-sample tests, CSAT, CES), with revenue, churn, retention and lifetime-value families
//! built on the same conventions. Every definition follows the project's metrics documentation
//! (docs/metrics/); every option a vendor disagreement turns into is an explicit enum.
//!
//! Results are tidy Polars DataFrames sorted by their keys. Bad input is an error that names
//! the column, the rule and an offending value with its row; no function panics on user data.
//!
//! # Conventions of the options
//!
//! Every family's options are a struct with a `Default`; set what differs with
//! `..Default::default()`.
//!
//! * **Instants** (`as_of`, `first_period`, `observation_end`, `calibration_end`) are `i64`
//!   microseconds since 1970-01-01 UTC, the physical value of a Polars `Datetime("us", None)`;
//!   [`period::micros_from_civil`] gives midnight of a calendar date. Options that count whole
//!   days (the CLV summary's ends) take the UTC day of the instant.
//! * **Grouping** is `by: Vec<String>` (columns of any key type; nulls form their own group)
//!   plus `period:` [`Period`] where results are per calendar period. Revenue, churn, cohorts,
//!   renewals and the survival table take them in their panel ([`revenue::RevenueOptions`]);
//!   operations and purchases take them directly; survival curves take `by` alone (they are
//!   not per period). Survey scores take the same `by`, with `period: Option<Period>` (there
//!   periods are optional) and the `timestamp` column the period is read from.
//!   [`health::HealthOptions::by_period`] is different: the column whose values scope the
//!   normalisation.
//! * **Confidence** is a level in (0, 1) as `confidence: f64` (default 0.95) where intervals are
//!   always computed (survival curves) or switched by an interval method (`NpsOptions::ci`), and
//!   `confidence: Option<f64>` where the interval is optional and `None` leaves its columns out
//!   (churn's Wilson intervals).
//! * **Columns** are named by `String` options whose defaults are the conventional names
//!   (`customer_id`, `start`, `end`, `amount`, `duration`, `event`, `frequency`, `recency`,
//!   `T`, ...).
//!
//! Every example below is a doctest: `cargo test -p csmetrics --doc` runs them. The programs in
//! `examples/` (`cargo run -p csmetrics --example mrr_bridge`, `churn`, `kaplan_meier`,
//! `bgnbd_clv`) show longer uses.
//!
//! # Survey scores
//!
//! ```
//! use csmetrics::prelude::*;
//! use polars::prelude::*;
//!
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! // 6 promoters, 3 passives, 1 detractor.
//! let answers = df!(
//!     "segment" => ["smb", "smb", "smb", "smb", "smb", "ent", "ent", "ent", "ent", "ent"],
//!     "score" => [10, 9, 9, 10, 8, 9, 9, 7, 8, 3],
//! )?;
//! let overall = nps(&answers, &NpsOptions::default())?;
//! assert_eq!(overall.column("nps")?.f64()?.get(0), Some(50.0));
//!
//! let by_segment = nps(
//!     &answers,
//!     &NpsOptions { by: vec!["segment".into()], ..Default::default() },
//! )?;
//! // Sorted by segment: ent (2 promoters, 1 detractor of 5) then smb (4 of 5, none).
//! let scores: Vec<Option<f64>> = by_segment.column("nps")?.f64()?.iter().collect();
//! assert_eq!(scores, vec![Some(20.0), Some(80.0)]);
//! # Ok(())
//! # }
//! ```
//!
//! # Revenue: the MRR bridge
//!
//! Subscriptions (start, end, amount, interval) become monthly recurring revenue per period and
//! its movements: `starting_mrr + new + expansion + reactivation - contraction - churned =
//! ending_mrr` in every row.
//!
//! ```
//! use csmetrics::period::{days_from_civil, micros_from_civil};
//! use csmetrics::prelude::*;
//! use polars::prelude::*;
//!
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let day = |m: u32, d: u32| days_from_civil(2024, m, d) as i32;
//! // a pays 100 a month from January; b pays 50 and leaves on 10 February; c pays 30 from
//! // February.
//! let subscriptions = df!(
//!     "customer_id" => ["a", "b", "c"],
//!     "start" => [day(1, 1), day(1, 1), day(2, 1)],
//!     "end" => [None, Some(day(2, 10)), None],
//!     "amount" => [100.0, 50.0, 30.0],
//!     "interval" => ["month", "month", "month"],
//! )?
//! .lazy()
//! .with_columns([col("start").cast(DataType::Date), col("end").cast(DataType::Date)])
//! .collect()?;
//! let options = RevenueOptions {
//!     as_of: Some(micros_from_civil(2024, 3, 31)),
//!     mode: Mode::Snapshot,
//!     ..Default::default()
//! };
//! let bridge = mrr_bridge(&subscriptions, &options)?;
//! // Rows are January, February, March. February: 150 + 30 new - 50 churned = 130.
//! let value = |name: &str| -> PolarsResult<Option<f64>> {
//!     Ok(bridge.column(name)?.cast(&DataType::Float64)?.f64()?.get(1))
//! };
//! assert_eq!(value("starting_mrr")?, Some(150.0));
//! assert_eq!(value("new")?, Some(30.0));
//! assert_eq!(value("churned")?, Some(50.0));
//! assert_eq!(value("ending_mrr")?, Some(130.0));
//! # Ok(())
//! # }
//! ```
//!
//! # Churn and cohorts
//!
//! [`churn::churn_rates`] reads the same subscriptions through the same panel options
//! (`ChurnOptions::panel` is a [`revenue::RevenueOptions`]); [`cohort::cohort_retention`] builds
//! retention tables by signup cohort from them.
//!
//! ```
//! use csmetrics::period::{days_from_civil, micros_from_civil};
//! use csmetrics::prelude::*;
//! use polars::prelude::*;
//!
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let day = |m: u32, d: u32| days_from_civil(2024, m, d) as i32;
//! // Four customers pay from January; d leaves on 15 February.
//! let subscriptions = df!(
//!     "customer_id" => ["a", "b", "c", "d"],
//!     "start" => [day(1, 1); 4],
//!     "end" => [None, None, None, Some(day(2, 15))],
//!     "amount" => [100.0, 50.0, 30.0, 20.0],
//!     "interval" => ["month"; 4],
//! )?
//! .lazy()
//! .with_columns([col("start").cast(DataType::Date), col("end").cast(DataType::Date)])
//! .collect()?;
//! let options = ChurnOptions {
//!     panel: RevenueOptions {
//!         as_of: Some(micros_from_civil(2024, 2, 29)),
//!         mode: Mode::Snapshot,
//!         ..Default::default()
//!     },
//!     confidence: Some(0.95),
//!     ..Default::default()
//! };
//! let churn = churn_rates(&subscriptions, &options)?;
//! // Rows are January and February; February starts with 4 customers and loses d.
//! assert_eq!(churn.column("churn_rate")?.f64()?.get(1), Some(0.25));
//! assert_eq!(churn.column("retention_rate")?.f64()?.get(1), Some(0.75));
//! # Ok(())
//! # }
//! ```
//!
//! # Survival: Kaplan-Meier
//!
//! ```
//! use csmetrics::prelude::*;
//! use polars::prelude::*;
//!
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! // Months until churn (event) or until observation stopped (censored).
//! let lifetimes = df!(
//!     "duration" => [1.0, 2.0, 2.0, 3.0, 4.0],
//!     "event" => [true, true, false, true, false],
//! )?;
//! let curve = kaplan_meier(&lifetimes, &KaplanMeierOptions::default())?;
//! // Times 0, 1, 2, 3, 4: S(1) = 4/5, S(2) = 4/5 x 3/4 = 0.6, S(3) = 0.6 x 1/2 = 0.3.
//! let survival: Vec<f64> = curve.column("survival")?.f64()?.into_no_null_iter().collect();
//! let expected = [1.0, 0.8, 0.6, 0.3, 0.3];
//! assert!(survival.iter().zip(expected).all(|(s, e)| (s - e).abs() < 1e-12));
//! # Ok(())
//! # }
//! ```
//!
//! # Lifetime value: BG/NBD and Gamma-Gamma
//!
//! [`clv::rfm_summary`] turns a transaction log into frequency, recency, T and monetary value;
//! [`clv::fit`] fits a model by maximum likelihood; [`clv::predict()`] and
//! [`clv::customer_value`] score customers. A model can also be built from known parameters.
//!
//! ```
//! use csmetrics::prelude::*;
//! use polars::prelude::*;
//!
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let summary = df!(
//!     "frequency" => [0.0, 1.0, 4.0, 2.0, 0.0, 7.0, 1.0, 0.0, 3.0, 5.0],
//!     "recency" => [0.0, 10.0, 30.0, 12.0, 0.0, 35.0, 3.0, 0.0, 20.0, 38.0],
//!     "T" => [40.0, 38.0, 39.0, 40.0, 35.0, 39.0, 30.0, 39.0, 40.0, 39.0],
//!     "monetary_value" => [
//!         None, Some(20.0), Some(35.0), Some(20.0), None,
//!         Some(50.0), Some(10.0), None, Some(25.0), Some(40.0),
//!     ],
//! )?;
//! let purchases = fit(&summary, Model::BetaGeo, &FitOptions::default())?;
//! assert_eq!(purchases.customers, 10.0);
//! // Estimates by name (and standard errors likewise, in `purchases.std_errors`).
//! let (r, alpha) = (purchases.params["r"], purchases.params["alpha"]);
//! assert!(r > 0.0 && alpha > 0.0);
//! let columns = SummaryColumns::default();
//! // Under BG/NBD a customer who never bought again is certainly alive.
//! let alive = predict(&summary, &purchases, Prediction::PAlive, &columns)?;
//! assert_eq!(alive.f64()?.get(0), Some(1.0));
//!
//! // Gamma-Gamma with p = 6, q = 4, gamma = 15: a customer of x = 2 repeat purchases of mean
//! // 20 is expected to spend (gamma + 20 x) p / (p x + q - 1) = 55 x 6 / 15 = 22.
//! let spend = Fit::from_params(Params::new(
//!     Model::GammaGamma,
//!     &[("p", 6.0), ("q", 4.0), ("gamma", 15.0)],
//! )?)?;
//! let expected = predict(&summary, &spend, Prediction::ExpectedSpend, &columns)?;
//! assert!((expected.f64()?.get(3).unwrap_or(0.0) - 22.0).abs() < 1e-12);
//!
//! let clv = customer_value(&summary, &purchases, &spend, &columns, &ClvOptions::default())?;
//! assert_eq!(clv.len(), 10);
//! # Ok(())
//! # }
//! ```
//!
//! # Operations
//!
//! ```
//! use csmetrics::period::days_from_civil;
//! use csmetrics::prelude::*;
//! use polars::prelude::*;
//!
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let day = |d: u32| days_from_civil(2024, 3, d) as i32;
//! // Three tickets resolved in March, one with two contacts; a fourth still open.
//! let tickets = df!(
//!     "opened_at" => [day(1), day(4), day(9), day(20)],
//!     "resolved_at" => [Some(day(2)), Some(day(4)), Some(day(12)), None],
//!     "contacts" => [1, 1, 2, 1],
//! )?
//! .lazy()
//! .with_columns([col("opened_at").cast(DataType::Date), col("resolved_at").cast(DataType::Date)])
//! .collect()?;
//! let options = FcrOptions { reopened_at: None, resolvable: None, ..Default::default() };
//! let fcr = first_contact_resolution(&tickets, &options)?;
//! // Two of the three resolved tickets took one contact.
//! let gross = fcr.column("fcr_gross")?.f64()?.get(0).unwrap_or(0.0);
//! assert!((gross - 2.0 / 3.0).abs() < 1e-12);
//! # Ok(())
//! # }
//! ```
//!
//! # Health scores
//!
//! ```
//! use csmetrics::prelude::*;
//! use polars::prelude::*;
//!
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let customers = df!(
//!     "customer_id" => ["a", "b", "c"],
//!     "usage" => [10.0, 0.0, 5.0],
//!     "tickets" => [0.0, 4.0, 2.0],
//! )?;
//! let factor = |column: &str, direction| Factor {
//!     column: column.into(),
//!     weight: 1.0,
//!     direction,
//!     normalisation: Normalisation::MinMax,
//! };
//! let options = HealthOptions {
//!     factors: vec![
//!         factor("usage", Direction::HigherIsBetter),
//!         factor("tickets", Direction::LowerIsBetter),
//!     ],
//!     ..Default::default()
//! };
//! let scored = health_score(&customers, &options)?;
//! // Min-max: a is best on both factors (100), b worst (0), c halfway (50).
//! let scores: Vec<Option<f64>> = scored.column("score")?.f64()?.iter().collect();
//! assert_eq!(scores, vec![Some(100.0), Some(0.0), Some(50.0)]);
//! let bands: Vec<Option<&str>> = scored.column("band")?.str()?.iter().collect();
//! assert_eq!(bands, vec![Some("green"), Some("red"), Some("yellow")]);
//! # Ok(())
//! # }
//! ```

// The unit tests that share the integration tests' helpers (tests/common) name the crate as
// they do.
#[cfg(test)]
extern crate self as csmetrics;

#[macro_use]
mod named;
pub(crate) mod alloc;
pub(crate) mod cells;
pub mod churn;
pub mod clv;
pub mod cohort;
pub mod datasets;
pub mod error;
pub mod feedback;
pub(crate) mod frame;
pub(crate) mod groups;
pub mod health;
pub(crate) mod input;
pub mod interrupt;
pub mod journey;
pub mod operations;
pub(crate) mod parallel;
pub mod period;
pub mod purchases;
pub mod renewal;
pub mod revenue;
pub(crate) mod stats;
pub mod stripe;
pub mod survey;
pub mod survival;

pub use error::{CsError, Result};
pub use groups::dictionary_by_label;
pub use period::Period;

/// The public API in one import: `use csmetrics::prelude::*;` brings every family's functions,
/// options and option enums, the error type and [`Period`].
///
/// It gathers the family preludes (`csmetrics::survey::prelude`, `csmetrics::revenue::prelude`,
/// ... : one per family, for a program that uses one). It is meant to sit beside `use polars::prelude::*;`: no name in it
/// clashes with Polars' prelude (the CLV time unit is [`clv::PeriodUnit`], not `TimeUnit`). The
/// internal helpers behind the families are not public.
pub mod prelude {
    pub use crate::churn::prelude::*;
    pub use crate::clv::prelude::*;
    pub use crate::cohort::prelude::*;
    pub use crate::error::{CsError, Result};
    pub use crate::feedback::prelude::*;
    pub use crate::health::prelude::*;
    pub use crate::journey::prelude::*;
    pub use crate::operations::prelude::*;
    pub use crate::period::Period;
    pub use crate::purchases::prelude::*;
    pub use crate::renewal::prelude::*;
    pub use crate::revenue::prelude::*;
    pub use crate::survey::prelude::*;
    pub use crate::survival::prelude::*;
}
