//! Touchpoint experience: the survey scores of each journey stage, lined up in journey order.

use std::collections::HashMap;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::frame::column;
use crate::period::Period;
use crate::survey::{ces, csat, nps, CesOptions, CsatOptions, NpsOptions};

/// Options of [`touchpoint_experience`].
#[derive(Debug, Clone)]
pub struct TouchpointOptions {
    /// The touchpoint column (a journey stage or any label). Default `touchpoint`.
    pub touchpoint: String,
    /// The journey's stages in order; touchpoints not in it follow (with a null `stage`), and
    /// stages without answers are kept (with n = 0). Empty: every touchpoint, sorted.
    pub journey: Vec<String>,
    /// NPS of the answers (its `score`, `invalid`, `ci`, `confidence`), or None.
    pub nps: Option<NpsOptions>,
    /// CSAT of the answers, or None.
    pub csat: Option<CsatOptions>,
    /// CES of the answers, or None.
    pub ces: Option<CesOptions>,
    /// Calendar period of `timestamp`, or None for no periods.
    pub period: Option<Period>,
    /// Timestamp column read with `period`. Default `timestamp`.
    pub timestamp: String,
}

impl Default for TouchpointOptions {
    fn default() -> Self {
        TouchpointOptions {
            touchpoint: "touchpoint".into(),
            journey: Vec::new(),
            nps: Some(NpsOptions {
                score: "nps".into(),
                ..Default::default()
            }),
            csat: None,
            ces: None,
            period: None,
            timestamp: "timestamp".into(),
        }
    }
}

/// One score table's rows by (touchpoint, period day), and the columns to take from it.
struct Part {
    frame: DataFrame,
    rows: HashMap<(Option<String>, Option<i32>), IdxSize>,
    columns: Vec<(&'static str, String)>,
}

fn part(frame: DataFrame, touchpoint: &str, columns: Vec<(&'static str, String)>) -> Result<Part> {
    let labels = frame.column(touchpoint)?.cast(&DataType::String)?;
    let labels = labels.str()?;
    let periods: Vec<Option<i32>> = match frame.column("period") {
        Ok(p) => p.cast(&DataType::Int32)?.i32()?.iter().collect(),
        Err(_) => vec![None; frame.height()],
    };
    let rows = labels
        .iter()
        .zip(periods)
        .enumerate()
        .map(|(i, (l, p))| ((l.map(str::to_string), p), i as IdxSize))
        .collect();
    Ok(Part {
        frame,
        rows,
        columns,
    })
}

/// NPS, CSAT and CES per touchpoint (and period), in journey order.
///
/// Columns: `stage` (1 for the journey's first stage; null for touchpoints outside it),
/// `touchpoint` (String), `period` (with a period), then per score asked for: `nps_n`, `nps`,
/// `nps_lower`, `nps_upper` (with the NPS's interval); `csat_n`, `csat`, `csat_mean`; `ces_n`,
/// `ces_low_effort_share`, `ces_mean`. A stage without answers has n = 0 and null scores.
pub fn touchpoint_experience(frame: &DataFrame, options: &TouchpointOptions) -> Result<DataFrame> {
    if options.nps.is_none() && options.csat.is_none() && options.ces.is_none() {
        return Err(CsError::option(
            "scores",
            "none",
            "give at least one of the nps, csat and ces columns",
        ));
    }
    column(frame, &options.touchpoint, "the touchpoint of each answer")?;
    let by = vec![options.touchpoint.clone()];
    let mut parts = Vec::new();
    if let Some(o) = &options.nps {
        let o = NpsOptions {
            by: by.clone(),
            period: options.period,
            timestamp: options.timestamp.clone(),
            ..o.clone()
        };
        let mut columns = vec![("n", "nps_n".to_string()), ("nps", "nps".to_string())];
        if o.ci.is_some() {
            columns.push(("nps_lower", "nps_lower".into()));
            columns.push(("nps_upper", "nps_upper".into()));
        }
        parts.push(part(nps(frame, &o)?, &options.touchpoint, columns)?);
    }
    if let Some(o) = &options.csat {
        let o = CsatOptions {
            by: by.clone(),
            period: options.period,
            timestamp: options.timestamp.clone(),
            ..o.clone()
        };
        let columns = vec![
            ("n", "csat_n".to_string()),
            ("csat", "csat".into()),
            ("mean_score", "csat_mean".into()),
        ];
        parts.push(part(csat(frame, &o)?, &options.touchpoint, columns)?);
    }
    if let Some(o) = &options.ces {
        let o = CesOptions {
            by: by.clone(),
            period: options.period,
            timestamp: options.timestamp.clone(),
            ..o.clone()
        };
        let columns = vec![
            ("n", "ces_n".to_string()),
            ("low_effort_share", "ces_low_effort_share".into()),
            ("mean_score", "ces_mean".into()),
        ];
        parts.push(part(ces(frame, &o)?, &options.touchpoint, columns)?);
    }
    // Every touchpoint and period seen, then the rows in journey order.
    let mut touchpoints: Vec<Option<String>> = Vec::new();
    let mut periods: Vec<Option<i32>> = Vec::new();
    for p in &parts {
        for (t, d) in p.rows.keys() {
            touchpoints.push(t.clone());
            periods.push(*d);
        }
    }
    touchpoints.sort_unstable_by(|a, b| match (a, b) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Greater,
        (_, None) => std::cmp::Ordering::Less,
        (Some(a), Some(b)) => a.cmp(b),
    });
    touchpoints.dedup();
    periods.sort_unstable();
    periods.dedup();
    if options.period.is_none() {
        periods = vec![None];
    }
    let mut stages: Vec<(Option<i64>, Option<String>)> = options
        .journey
        .iter()
        .enumerate()
        .map(|(i, s)| (Some(i as i64 + 1), Some(s.clone())))
        .collect();
    for t in touchpoints {
        if !t.as_ref().is_some_and(|t| options.journey.contains(t)) {
            stages.push((None, t));
        }
    }
    let (mut stage_col, mut name_col, mut period_col) = (Vec::new(), Vec::new(), Vec::new());
    for (stage, name) in &stages {
        for period in &periods {
            stage_col.push(*stage);
            name_col.push(name.clone());
            period_col.push(*period);
        }
    }
    let rows = stage_col.len();
    let mut columns = vec![
        Column::new("stage".into(), stage_col),
        Column::new("touchpoint".into(), name_col.clone()),
    ];
    if options.period.is_some() {
        columns.push(Column::new("period".into(), period_col.clone()).cast(&DataType::Date)?);
    }
    for p in &parts {
        let take: Vec<Option<IdxSize>> = name_col
            .iter()
            .zip(&period_col)
            .map(|(t, d)| p.rows.get(&(t.clone(), *d)).copied())
            .collect();
        let take: IdxCa = take.into_iter().collect();
        for (from, to) in &p.columns {
            let mut c = p.frame.column(from)?.take(&take)?;
            if *from == "n" {
                c = c.fill_null(FillNullStrategy::Zero)?;
            }
            columns.push(c.with_name(to.as_str().into()));
        }
    }
    Ok(DataFrame::new(rows, columns)?)
}
