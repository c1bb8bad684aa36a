//! Themes per group: mentions, share, the score of the responses that mention a theme and the
//! theme's impact on the group's score.

use polars::prelude::*;

use crate::error::Result;
use crate::groups::{encode_column, group_rows, sorted_keys, EncodedKey};
use crate::parallel::{parallel, work_ranges};
use crate::period::{period_key, Period};
use crate::survey::{CesDirection, InvalidPolicy, Scale};

use super::dictionary::{Dictionary, PatternKind};
use super::scores::{comments, score_slots, ScoreKind, ScoreSpec};

/// Options of [`themes`].
#[derive(Debug, Clone)]
pub struct ThemeOptions {
    /// The comment column. Default `"comment"`.
    pub text: String,
    /// The score column. Default `"score"`.
    pub score: String,
    /// Which score it is. Default [`ScoreKind::Nps`].
    pub score_type: ScoreKind,
    /// The score's scale; None: 0-10 for NPS, 1-5 for CSAT, 1-7 (or 1-5 when lower is easier)
    /// for CES.
    pub scale: Option<Scale>,
    /// CES direction. Default higher is easier.
    pub direction: CesDirection,
    /// How patterns are read. Default regular expressions.
    pub patterns: PatternKind,
    /// Columns to group by (any key type; nulls form their own group).
    pub by: Vec<String>,
    /// Calendar period of `timestamp`, added as the Date column `period`; None: no periods.
    pub period: Option<Period>,
    /// The timestamp column read with `period`. Default `"timestamp"`.
    pub timestamp: String,
    /// Invalid-score policy. Default raise.
    pub invalid: InvalidPolicy,
}

impl Default for ThemeOptions {
    fn default() -> Self {
        ThemeOptions {
            text: "comment".into(),
            score: "score".into(),
            score_type: ScoreKind::Nps,
            scale: None,
            direction: CesDirection::HigherIsEasier,
            patterns: PatternKind::Regex,
            by: Vec::new(),
            period: None,
            timestamp: "timestamp".into(),
            invalid: InvalidPolicy::Raise,
        }
    }
}

/// The grouping keys of `by` and `period`, encoded.
pub(crate) fn grouping_keys(
    frame: &DataFrame,
    by: &[String],
    period: Option<Period>,
    timestamp: &str,
) -> Result<Vec<EncodedKey>> {
    let mut keys = Vec::with_capacity(by.len() + 1);
    for name in by {
        let column = crate::frame::column(frame, name, "a grouping key")?;
        keys.push(encode_column(column)?);
    }
    if let Some(period) = period {
        keys.push(period_key(frame, timestamp, period, "period")?);
    }
    Ok(keys)
}

/// Themes per group and their effect on the score.
///
/// A response mentions a theme when any of its patterns matches its comment (case-insensitive,
/// on word boundaries). Responses without a valid score are left out (counted in `missing`);
/// a null comment mentions nothing. Per group (sorted by key) and theme, ordered by impact
/// (most negative first, nulls last, then theme): `theme`, `responses` (with a valid score),
/// `mentions`, `share` (= mentions / responses), `mean_score` and the metric (`nps`, `csat` or
/// `low_effort_share`) of the mentioning responses, the metric over all responses
/// (`<metric>_overall`), over all but the mentioning ones (`<metric>_without`), and the impact
/// `<metric>_impact` = overall - without, which equals
/// mentions (metric - overall) / (responses - mentions); null when every response mentions it;
/// then `mean_score_overall` and `missing`.
pub fn themes(
    frame: &DataFrame,
    dictionary: &[(String, Vec<String>)],
    options: &ThemeOptions,
) -> Result<DataFrame> {
    let dictionary = Dictionary::new(dictionary, options.patterns)?;
    let spec = ScoreSpec::new(options.score_type, options.scale, options.direction);
    let text = comments(frame, &options.text)?;
    let slots = score_slots(frame, &options.score, spec.scale, options.invalid)?;
    let keys = grouping_keys(frame, &options.by, options.period, &options.timestamp)?;
    let groups = group_rows(&keys, frame.height());
    let themes = dictionary.len();
    let per_group = (themes + 1) * spec.slots() + 1;
    let width = spec.slots();
    let cells = groups.count().max(1);
    let parts = parallel(work_ranges(frame.height()), |range| {
        let mut table = vec![0i64; cells * per_group];
        for row in range {
            let g = groups.ids[row] as usize * per_group;
            let Some(slot) = slots[row] else {
                table[g + per_group - 1] += 1;
                continue;
            };
            let slot = slot as usize;
            table[g + themes * width + slot] += 1;
            if let Some(comment) = text.get(row) {
                dictionary.for_each_match(comment, |t| table[g + t * width + slot] += 1);
            }
        }
        table
    });
    let mut table = vec![0i64; cells * per_group];
    for part in parts {
        for (total, value) in table.iter_mut().zip(part) {
            *total += value;
        }
    }
    let (key_frame, mut order) = sorted_keys(&keys, &groups)?;
    if keys.is_empty() {
        // Without grouping there is one group, even for an empty input.
        order = vec![0];
    }
    let mut take: Vec<IdxSize> = Vec::new();
    let mut rows: Vec<ThemeRow> = Vec::new();
    for (position, &group) in order.iter().enumerate() {
        let base = group * per_group;
        let all = &table[base + themes * width..base + (themes + 1) * width];
        let mut group_rows: Vec<ThemeRow> = (0..themes)
            .map(|t| {
                let mentioning = &table[base + t * width..base + (t + 1) * width];
                let without: Vec<i64> = all.iter().zip(mentioning).map(|(a, m)| a - m).collect();
                let overall = spec.metric(all);
                let rest = spec.metric(&without);
                ThemeRow {
                    theme: t,
                    responses: all.iter().sum(),
                    mentions: mentioning.iter().sum(),
                    mean_score: spec.mean(mentioning),
                    metric: spec.metric(mentioning),
                    overall,
                    without: rest,
                    impact: overall.zip(rest).map(|(o, r)| o - r),
                    mean_overall: spec.mean(all),
                    missing: table[base + per_group - 1],
                }
            })
            .collect();
        group_rows.sort_by(|a, b| {
            let key = |r: &ThemeRow| (r.impact.is_none(), r.impact.unwrap_or(0.0));
            let (na, ia) = key(a);
            let (nb, ib) = key(b);
            na.cmp(&nb)
                .then(ia.total_cmp(&ib))
                .then(dictionary.names[a.theme].cmp(&dictionary.names[b.theme]))
        });
        take.extend(std::iter::repeat_n(position as IdxSize, group_rows.len()));
        rows.extend(group_rows);
    }
    let mut columns: Vec<Column> = key_frame
        .take(&IdxCa::from_vec("".into(), take))?
        .into_columns();
    let metric = spec.metric_name();
    let float = |name: String, f: &dyn Fn(&ThemeRow) -> Option<f64>| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let int = |name: &str, f: &dyn Fn(&ThemeRow) -> i64| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    columns.push(Column::new(
        "theme".into(),
        rows.iter()
            .map(|r| dictionary.names[r.theme].as_str())
            .collect::<Vec<_>>(),
    ));
    columns.push(int("responses", &|r| r.responses));
    columns.push(int("mentions", &|r| r.mentions));
    columns.push(float("share".into(), &|r| {
        (r.responses > 0).then(|| r.mentions as f64 / r.responses as f64)
    }));
    columns.push(float("mean_score".into(), &|r| r.mean_score));
    columns.push(float(metric.into(), &|r| r.metric));
    columns.push(float(format!("{metric}_overall"), &|r| r.overall));
    columns.push(float(format!("{metric}_without"), &|r| r.without));
    columns.push(float(format!("{metric}_impact"), &|r| r.impact));
    columns.push(float("mean_score_overall".into(), &|r| r.mean_overall));
    columns.push(int("missing", &|r| r.missing));
    Ok(DataFrame::new(rows.len(), columns)?)
}

struct ThemeRow {
    theme: usize,
    responses: i64,
    mentions: i64,
    mean_score: Option<f64>,
    metric: Option<f64>,
    overall: Option<f64>,
    without: Option<f64>,
    impact: Option<f64>,
    mean_overall: Option<f64>,
    missing: i64,
}
