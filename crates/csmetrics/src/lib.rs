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
pub mod renewal;
pub mod revenue;
pub(crate) mod stats;
pub mod survey;
pub mod survival;

pub use error::{CsError, Result};
pub use groups::dictionary_by_label;
pub use period::Period;

/// The public API in one import.
pub mod prelude {
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
    pub use crate::survey::{
        ces, csat, nps, nps_compare, CesDirection, CesOptions, ComparePairs, CsatOptions, Grouping,
        InvalidPolicy, NpsCompareOptions, NpsInterval, NpsOptions, Scale,
    };
}
