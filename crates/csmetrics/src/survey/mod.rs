//! Survey metrics: Net Promoter Score (with confidence intervals and two-sample comparison),
//! CSAT and CES, as defined in docs/metrics/survey.md.
//!
//! Every metric is computed from a per-group histogram of valid scores plus the counts of missing
//! (null) and invalid answers. The frame functions build the histograms with one Polars group-by
//! over (groups, score), so invalid values are checked once per distinct score, not once per row.
//! The series functions ([`nps_of_series`], ...) back the expression plugins.

mod blocks;
mod compare;
mod counts;
mod histogram;
mod metrics;
mod series;
#[cfg(test)]
mod tests;

pub use compare::{nps_compare, NpsCompareOptions};
pub use histogram::{nps_interval, nps_standard_error, nps_value, Histogram};
pub use metrics::{ces, csat, nps, CesOptions, CsatOptions, NpsOptions};
pub use series::{ces_of_series, csat_of_series, histogram_of_series, nps_of_series};

use std::str::FromStr;

use crate::error::{CsError, Result};
use crate::period::Period;

/// What to do with a score that is outside the scale, not a whole number, or NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvalidPolicy {
    /// Fail with an error naming the column, the rule, the value and its row (default).
    #[default]
    Raise,
    /// Leave the answer out of `n` and count it in `invalid`.
    Drop,
    /// Treat the answer as missing: leave it out of `n` and count it in `missing`.
    Null,
}

impl FromStr for InvalidPolicy {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "raise" => Ok(Self::Raise),
            "drop" => Ok(Self::Drop),
            "null" => Ok(Self::Null),
            other => Err(CsError::option(
                "invalid",
                format!("'{other}'"),
                "expected one of 'raise', 'drop', 'null'",
            )),
        }
    }
}

/// The confidence interval of an NPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NpsInterval {
    /// Adjusted Wald (Rocks 2016): add 3 answers, 3/4 of them promoters and 3/4 detractors (default).
    #[default]
    AdjustedWald,
    /// Plain Wald interval on the unadjusted counts.
    Wald,
}

impl FromStr for NpsInterval {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "adjusted_wald" => Ok(Self::AdjustedWald),
            "wald" => Ok(Self::Wald),
            other => Err(CsError::option(
                "ci",
                format!("'{other}'"),
                "expected 'adjusted_wald', 'wald' or none",
            )),
        }
    }
}

/// Which end of the CES scale means little effort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CesDirection {
    /// CES 2.0 (1-7, "the company made it easy"): the top three boxes are low effort (default).
    #[default]
    HigherIsEasier,
    /// The older effort scale (1-5, "how much effort"): the bottom two boxes are low effort.
    LowerIsEasier,
}

impl FromStr for CesDirection {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "higher_is_easier" => Ok(Self::HigherIsEasier),
            "lower_is_easier" => Ok(Self::LowerIsEasier),
            other => Err(CsError::option(
                "direction",
                format!("'{other}'"),
                "expected 'higher_is_easier' or 'lower_is_easier'",
            )),
        }
    }
}

/// Which pairs of groups [`nps_compare`] tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ComparePairs {
    /// Every pair (a, b) with a before b in sort order (default).
    #[default]
    All,
    /// Each value against the next one in sort order (period over period).
    Consecutive,
}

impl FromStr for ComparePairs {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "all" => Ok(Self::All),
            "consecutive" => Ok(Self::Consecutive),
            other => Err(CsError::option(
                "pairs",
                format!("'{other}'"),
                "expected 'all' or 'consecutive'",
            )),
        }
    }
}

/// An integer answer scale, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Lowest valid score.
    pub min: i64,
    /// Highest valid score.
    pub max: i64,
}

impl Scale {
    /// The NPS scale, 0 to 10.
    pub const NPS: Scale = Scale { min: 0, max: 10 };

    /// A checked scale: `min < max`, at most 1,000 points.
    pub fn new(min: i64, max: i64) -> Result<Scale> {
        if min >= max || max - min > 1000 {
            return Err(CsError::option(
                "scale",
                format!("({min}, {max})"),
                "a scale needs min < max and at most 1,000 points",
            ));
        }
        Ok(Scale { min, max })
    }

    fn len(&self) -> usize {
        (self.max - self.min + 1) as usize
    }

    /// Position of a score on the scale, or None when it is not a whole number on it.
    fn position(&self, score: f64) -> Option<usize> {
        if score.fract() == 0.0 && score >= self.min as f64 && score <= self.max as f64 {
            Some((score as i64 - self.min) as usize)
        } else {
            None // NaN fails every comparison and lands here too
        }
    }

    fn rule(&self) -> String {
        format!(
            "scores must be whole numbers from {} to {}",
            self.min, self.max
        )
    }
}

/// How rows are grouped: customer-level or segment columns, and optionally calendar periods
/// (the options' `by`, `period` and `timestamp`, as the counting paths read them).
#[derive(Debug, Clone)]
pub(crate) struct Grouping {
    /// Columns to group by (any type; nulls form their own group).
    pub by: Vec<String>,
    /// Calendar period of the timestamp, added as a Date column `period`.
    pub period: Option<Period>,
    /// The timestamp column (Date or Datetime) used with `period`.
    pub timestamp: String,
}

impl Grouping {
    pub(crate) fn of(by: &[String], period: Option<Period>, timestamp: &str) -> Grouping {
        Grouping {
            by: by.to_vec(),
            period,
            timestamp: timestamp.to_string(),
        }
    }
}

/// The survey family in one import (`use csmetrics::survey::prelude::*;`): its functions,
/// options and option enums, with the error type and `Period`.
/// [`crate::prelude`] holds every family's.
pub mod prelude {
    pub use super::{
        ces, csat, nps, nps_compare, CesDirection, CesOptions, ComparePairs, CsatOptions,
        InvalidPolicy, NpsCompareOptions, NpsInterval, NpsOptions, Scale,
    };
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
