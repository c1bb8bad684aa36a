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
//!     &NpsOptions { grouping: Grouping { by: vec!["segment".into()], ..Default::default() }, ..Default::default() },
//! )?;
//! // Sorted by segment: ent (2 promoters, 1 detractor of 5) then smb (4 of 5, none).
//! let scores: Vec<Option<f64>> = by_segment.column("nps")?.f64()?.iter().collect();
//! assert_eq!(scores, vec![Some(20.0), Some(80.0)]);
//! # Ok(())
//! # }
//! ```

pub(crate) mod alloc;
pub(crate) mod cells;
pub mod churn;
pub mod clv;
pub mod cohort;
pub mod datasets;
pub mod error;
pub(crate) mod frame;
pub(crate) mod groups;
pub mod health;
pub(crate) mod input;
pub mod interrupt;
pub mod operations;
pub(crate) mod parallel;
pub mod period;
pub mod purchases;
pub mod renewal;
pub mod revenue;
pub(crate) mod stats;
pub mod survey;
pub mod survival;

pub use error::{CsError, Result};
pub use groups::dictionary_by_label;
pub use period::Period;

/// The public API in one import: `use csmetrics::prelude::*;` brings every family's functions,
/// options and option enums, the error type and [`Period`].
///
/// One prelude covers all families (survey, revenue, churn, cohort, renewal, survival and lives,
/// operations, health, CLV). It is meant to sit beside `use polars::prelude::*;`, so it leaves
/// out the one name that would clash with Polars' prelude: the CLV time unit, which stays
/// [`clv::TimeUnit`]. The internal helpers behind the families are not public.
pub mod prelude {
    pub use crate::churn::{churn_rates, wilson_interval, ChurnDenominator, ChurnOptions};
    pub use crate::clv::{
        customer_value, fit, predict, rfm_summary, AfterEnd, ClvOptions, Discounting, Fit,
        FitOptions, Merge, Model, Prediction, RfmOptions, SummaryColumns,
    };
    pub use crate::cohort::{cohort_retention, CohortKind, CohortOptions, CohortRule};
    pub use crate::error::{CsError, Result};
    pub use crate::health::{
        auc, band, health_backtest, health_score, Backtest, Direction, Factor, HealthOptions,
        MissingPolicy, Normalisation,
    };
    pub use crate::operations::{
        conversion_rates, engagement, feature_adoption, first_contact_resolution, retention_cost,
        trial_conversion, ConversionOptions, CostCustomers, EngagementOptions, EngagementUnit,
        FcrOptions, RetentionCostOptions, TrialOptions,
    };
    pub use crate::period::Period;
    pub use crate::renewal::{renewal_rates, RenewalOptions};
    pub use crate::revenue::{
        mrr, mrr_bridge, mrr_movements, revenue_kpis, Mode, Money, Movement, RevenueInput,
        RevenueOptions, SubscriptionColumns,
    };
    pub use crate::survey::{
        ces, csat, nps, nps_compare, CesDirection, CesOptions, ComparePairs, CsatOptions, Grouping,
        InvalidPolicy, NpsCompareOptions, NpsInterval, NpsOptions, Scale,
    };
    pub use crate::survival::{
        kaplan_meier, kaplan_meier_summary, logrank_test, nelson_aalen, survival_table,
        DurationUnit, KaplanMeierOptions, Lives, LogrankOptions, NelsonAalenOptions,
        SurvivalTableOptions, Ties,
    };
}
