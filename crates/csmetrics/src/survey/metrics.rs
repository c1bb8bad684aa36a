//! NPS, CSAT and CES per group, from the grouped histograms.

use polars::prelude::*;

use crate::error::Result;
use crate::stats::z_for_confidence;

use super::blocks::grouped_histograms;
use super::histogram::{nps_interval, nps_parts, nps_value, ratio, Histogram};
use super::{CesDirection, Grouping, InvalidPolicy, NpsInterval, Scale};
use crate::period::Period;

/// The runs of equal rows of a sorted key frame, as half-open row ranges.
pub(super) fn runs(keys: &DataFrame) -> Result<Vec<(usize, usize)>> {
    let height = keys.height();
    let mut runs = Vec::new();
    let mut start = 0;
    for row in 1..=height {
        let mut boundary = row == height;
        if !boundary {
            for c in keys.columns() {
                if c.get(row)? != c.get(row - 1)? {
                    boundary = true;
                    break;
                }
            }
        }
        if boundary {
            runs.push((start, row));
            start = row;
        }
    }
    Ok(runs)
}

pub(super) fn int_column(name: &str, values: impl Iterator<Item = i64>) -> Column {
    Column::new(name.into(), values.collect::<Vec<i64>>())
}

pub(super) fn float_column(name: &str, values: impl Iterator<Item = Option<f64>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<Option<f64>>>())
}

pub(super) fn with_keys(keys: DataFrame, columns: Vec<Column>) -> Result<DataFrame> {
    let height = keys.height();
    let mut all = keys.into_columns();
    all.extend(columns);
    Ok(DataFrame::new(height, all)?)
}

/// Options of [`nps`].
#[derive(Debug, Clone)]
pub struct NpsOptions {
    /// The score column (0-10). Default `"score"`.
    pub score: String,
    /// Columns to group by (any key type; nulls form their own group).
    pub by: Vec<String>,
    /// Calendar period of `timestamp`, added as a Date column `period`; None: no periods.
    pub period: Option<Period>,
    /// The timestamp column (Date or Datetime) read with `period`. Default `timestamp`.
    pub timestamp: String,
    /// Invalid-score policy. Default [`InvalidPolicy::Raise`].
    pub invalid: InvalidPolicy,
    /// Interval method, or None for no interval columns. Default adjusted Wald.
    pub ci: Option<NpsInterval>,
    /// Confidence level. Default 0.95.
    pub confidence: f64,
}

impl Default for NpsOptions {
    fn default() -> Self {
        NpsOptions {
            score: "score".to_string(),
            by: Vec::new(),
            period: None,
            timestamp: "timestamp".into(),
            invalid: InvalidPolicy::Raise,
            ci: Some(NpsInterval::AdjustedWald),
            confidence: 0.95,
        }
    }
}

/// Net Promoter Score per group.
///
/// Promoters score 9-10, passives 7-8, detractors 0-6; `nps = 100 (promoters - detractors) / n`.
/// Returns the group keys (sorted) and `n`, `promoters`, `passives`, `detractors`, their shares,
/// `nps`, `nps_lower`, `nps_upper` (when an interval is asked for), `missing` and `invalid`.
/// A group with no valid answer has n = 0 and null NPS, shares and interval. Without grouping
/// the result has exactly one row, even for an empty input.
pub fn nps(frame: &DataFrame, options: &NpsOptions) -> Result<DataFrame> {
    let z = match options.ci {
        Some(_) => Some(z_for_confidence(options.confidence)?),
        None => None,
    };
    let g = grouped_histograms(
        frame,
        &options.score,
        &Grouping::of(&options.by, options.period, &options.timestamp),
        Scale::NPS,
        options.invalid,
    )?;
    let parts: Vec<(i64, i64, i64, i64)> = g
        .histograms
        .iter()
        .map(|h| {
            let (p, pa, d) = nps_parts(h);
            (p, pa, d, h.n())
        })
        .collect();
    let mut columns = vec![
        int_column("n", parts.iter().map(|x| x.3)),
        int_column("promoters", parts.iter().map(|x| x.0)),
        int_column("passives", parts.iter().map(|x| x.1)),
        int_column("detractors", parts.iter().map(|x| x.2)),
        float_column("promoter_share", parts.iter().map(|x| ratio(x.0, x.3))),
        float_column("passive_share", parts.iter().map(|x| ratio(x.1, x.3))),
        float_column("detractor_share", parts.iter().map(|x| ratio(x.2, x.3))),
        float_column("nps", parts.iter().map(|x| nps_value(x.0, x.2, x.3))),
    ];
    if let (Some(method), Some(z)) = (options.ci, z) {
        let bounds: Vec<Option<(f64, f64)>> = parts
            .iter()
            .map(|x| nps_interval(x.0, x.2, x.3, method, z))
            .collect();
        columns.push(float_column(
            "nps_lower",
            bounds.iter().map(|b| b.map(|b| b.0)),
        ));
        columns.push(float_column(
            "nps_upper",
            bounds.iter().map(|b| b.map(|b| b.1)),
        ));
    }
    columns.push(int_column(
        "missing",
        g.histograms.iter().map(|h| h.missing),
    ));
    columns.push(int_column(
        "invalid",
        g.histograms.iter().map(|h| h.invalid),
    ));
    with_keys(g.keys, columns)
}

/// Options of [`csat`].
#[derive(Debug, Clone)]
pub struct CsatOptions {
    /// The score column. Default `"score"`.
    pub score: String,
    /// Columns to group by (any key type; nulls form their own group).
    pub by: Vec<String>,
    /// Calendar period of `timestamp`, added as a Date column `period`; None: no periods.
    pub period: Option<Period>,
    /// The timestamp column (Date or Datetime) read with `period`. Default `timestamp`.
    pub timestamp: String,
    /// Invalid-score policy.
    pub invalid: InvalidPolicy,
    /// The answer scale. Default 1-5.
    pub scale: Scale,
}

impl Default for CsatOptions {
    fn default() -> Self {
        CsatOptions {
            score: "score".to_string(),
            by: Vec::new(),
            period: None,
            timestamp: "timestamp".into(),
            invalid: InvalidPolicy::Raise,
            scale: Scale { min: 1, max: 5 },
        }
    }
}

/// Customer satisfaction per group: the share of satisfied answers (the top two boxes of the
/// scale) and the mean score. Returns the keys and `n`, `satisfied`, `csat`, `mean_score`,
/// `missing`, `invalid`.
pub fn csat(frame: &DataFrame, options: &CsatOptions) -> Result<DataFrame> {
    let scale = options.scale;
    let g = grouped_histograms(
        frame,
        &options.score,
        &Grouping::of(&options.by, options.period, &options.timestamp),
        scale,
        options.invalid,
    )?;
    let top = scale.len() - 2;
    let columns = vec![
        int_column("n", g.histograms.iter().map(|h| h.n())),
        int_column("satisfied", g.histograms.iter().map(|h| h.count_from(top))),
        float_column(
            "csat",
            g.histograms.iter().map(|h| ratio(h.count_from(top), h.n())),
        ),
        float_column("mean_score", g.histograms.iter().map(|h| h.mean(scale))),
        int_column("missing", g.histograms.iter().map(|h| h.missing)),
        int_column("invalid", g.histograms.iter().map(|h| h.invalid)),
    ];
    with_keys(g.keys, columns)
}

/// Options of [`ces`].
#[derive(Debug, Clone)]
pub struct CesOptions {
    /// The score column. Default `"score"`.
    pub score: String,
    /// Columns to group by (any key type; nulls form their own group).
    pub by: Vec<String>,
    /// Calendar period of `timestamp`, added as a Date column `period`; None: no periods.
    pub period: Option<Period>,
    /// The timestamp column (Date or Datetime) read with `period`. Default `timestamp`.
    pub timestamp: String,
    /// Invalid-score policy.
    pub invalid: InvalidPolicy,
    /// The answer scale; None means 1-7 when higher is easier and 1-5 when lower is easier.
    pub scale: Option<Scale>,
    /// Which end of the scale is low effort.
    pub direction: CesDirection,
}

impl Default for CesOptions {
    fn default() -> Self {
        CesOptions {
            score: "score".to_string(),
            by: Vec::new(),
            period: None,
            timestamp: "timestamp".into(),
            invalid: InvalidPolicy::Raise,
            scale: None,
            direction: CesDirection::HigherIsEasier,
        }
    }
}

impl CesOptions {
    /// The scale in force: the given one, or the direction's usual one.
    pub fn effective_scale(&self) -> Scale {
        self.scale.unwrap_or(match self.direction {
            CesDirection::HigherIsEasier => Scale { min: 1, max: 7 },
            CesDirection::LowerIsEasier => Scale { min: 1, max: 5 },
        })
    }
}

pub(super) fn low_effort(h: &Histogram, scale: Scale, direction: CesDirection) -> i64 {
    match direction {
        CesDirection::HigherIsEasier => h.count_from(scale.len().saturating_sub(3)),
        CesDirection::LowerIsEasier => h.count_below(2),
    }
}

/// Customer effort score per group: the mean score and the low-effort share (top three boxes
/// when higher is easier, bottom two when lower is easier). Returns the keys and `n`,
/// `low_effort`, `low_effort_share`, `mean_score`, `missing`, `invalid`.
pub fn ces(frame: &DataFrame, options: &CesOptions) -> Result<DataFrame> {
    let scale = options.effective_scale();
    let g = grouped_histograms(
        frame,
        &options.score,
        &Grouping::of(&options.by, options.period, &options.timestamp),
        scale,
        options.invalid,
    )?;
    let low: Vec<i64> = g
        .histograms
        .iter()
        .map(|h| low_effort(h, scale, options.direction))
        .collect();
    let columns = vec![
        int_column("n", g.histograms.iter().map(|h| h.n())),
        int_column("low_effort", low.iter().copied()),
        float_column(
            "low_effort_share",
            low.iter().zip(&g.histograms).map(|(l, h)| ratio(*l, h.n())),
        ),
        float_column("mean_score", g.histograms.iter().map(|h| h.mean(scale))),
        int_column("missing", g.histograms.iter().map(|h| h.missing)),
        int_column("invalid", g.histograms.iter().map(|h| h.invalid)),
    ];
    with_keys(g.keys, columns)
}
