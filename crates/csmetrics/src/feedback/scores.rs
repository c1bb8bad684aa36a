//! The scores next to the comments: read on their scale, and the survey metric of a histogram
//! (NPS, CSAT share, CES low-effort share) with its mean.

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::format_number;
use crate::input::{self, Role};
use crate::survey::{CesDirection, InvalidPolicy, Scale};

/// Which survey score the responses carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScoreKind {
    /// 0-10 likelihood to recommend; the metric is the NPS (default).
    #[default]
    Nps,
    /// Satisfaction (default scale 1-5); the metric is the share in the top two boxes.
    Csat,
    /// Customer effort (default 1-7, higher is easier); the metric is the low-effort share.
    Ces,
}

/// A score kind with its scale and, for CES, its direction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoreSpec {
    pub kind: ScoreKind,
    pub scale: Scale,
    pub direction: CesDirection,
}

impl ScoreSpec {
    pub(crate) fn new(kind: ScoreKind, scale: Option<Scale>, direction: CesDirection) -> Self {
        let scale = scale.unwrap_or(match (kind, direction) {
            (ScoreKind::Nps, _) => Scale::NPS,
            (ScoreKind::Csat, _) => Scale { min: 1, max: 5 },
            (ScoreKind::Ces, CesDirection::HigherIsEasier) => Scale { min: 1, max: 7 },
            (ScoreKind::Ces, CesDirection::LowerIsEasier) => Scale { min: 1, max: 5 },
        });
        ScoreSpec {
            kind,
            scale,
            direction,
        }
    }

    pub(crate) fn slots(&self) -> usize {
        (self.scale.max - self.scale.min + 1) as usize
    }

    /// The metric's name as a column prefix.
    pub(crate) fn metric_name(&self) -> &'static str {
        match self.kind {
            ScoreKind::Nps => "nps",
            ScoreKind::Csat => "csat",
            ScoreKind::Ces => "low_effort_share",
        }
    }

    /// The metric of a histogram of slots: NPS points, or a share in [0, 1]; null when empty.
    pub(crate) fn metric(&self, counts: &[i64]) -> Option<f64> {
        let n: i64 = counts.iter().sum();
        if n == 0 {
            return None;
        }
        let len = counts.len();
        let value = match self.kind {
            ScoreKind::Nps => {
                let promoters: i64 = counts[9..].iter().sum();
                let detractors: i64 = counts[..7].iter().sum();
                100.0 * (promoters - detractors) as f64 / n as f64
            }
            ScoreKind::Csat => counts[len - 2..].iter().sum::<i64>() as f64 / n as f64,
            ScoreKind::Ces => {
                let low: i64 = match self.direction {
                    CesDirection::HigherIsEasier => counts[len.saturating_sub(3)..].iter().sum(),
                    CesDirection::LowerIsEasier => counts[..2].iter().sum(),
                };
                low as f64 / n as f64
            }
        };
        Some(value)
    }

    /// The mean score of a histogram of slots; null when empty.
    pub(crate) fn mean(&self, counts: &[i64]) -> Option<f64> {
        let n: i64 = counts.iter().sum();
        (n > 0).then(|| {
            let total: f64 = counts
                .iter()
                .enumerate()
                .map(|(i, c)| (self.scale.min + i as i64) as f64 * *c as f64)
                .sum();
            total / n as f64
        })
    }
}

/// The slot of each row's score on `scale` (None for a null score, or an invalid one under
/// `drop` or `null`); `raise` fails on the first invalid score, naming it and its row.
pub(crate) fn score_slots(
    frame: &DataFrame,
    name: &str,
    scale: Scale,
    policy: InvalidPolicy,
) -> Result<Vec<Option<u16>>> {
    let series = input::numbers(
        frame,
        name,
        Role::Number,
        "the survey score of each response",
    )?;
    series
        .f64()?
        .iter()
        .enumerate()
        .map(|(row, value)| {
            let Some(value) = value else { return Ok(None) };
            let on_scale =
                value.fract() == 0.0 && value >= scale.min as f64 && value <= scale.max as f64;
            if on_scale {
                Ok(Some((value as i64 - scale.min) as u16))
            } else if policy == InvalidPolicy::Raise {
                Err(CsError::InvalidValue {
                    column: name.to_string(),
                    row,
                    value: format_number(value),
                    rule: format!(
                        "scores must be whole numbers from {} to {}",
                        scale.min, scale.max
                    ),
                })
            } else {
                Ok(None)
            }
        })
        .collect()
}

/// The NPS category of a 0-10 score.
pub(crate) fn nps_category(score: u16) -> &'static str {
    match score {
        9.. => "promoter",
        7 | 8 => "passive",
        _ => "detractor",
    }
}

/// The comments of column `name` (String, Categorical or Enum; nulls allowed), or an error
/// naming the column and its type.
pub(crate) fn comments(frame: &DataFrame, name: &str) -> Result<StringChunked> {
    let text = input::text(frame, name, "the free-text comment of each response")?;
    Ok(text.rechunk().into_owned())
}
