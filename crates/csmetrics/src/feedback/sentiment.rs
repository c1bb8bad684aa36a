//! Sentiment per response (VADER compound) and its mismatch with the score.

use polars::prelude::*;

use crate::error::Result;
use crate::parallel::{parallel, work_ranges};
use crate::survey::{InvalidPolicy, Scale};

use super::scores::{comments, nps_category, score_slots};
use super::sentiment_label;
use super::vader::compound;

/// Options of [`sentiment`].
#[derive(Debug, Clone)]
pub struct SentimentOptions {
    /// The comment column. Default `"comment"`.
    pub text: String,
    /// The 0-10 score column for the mismatch flags; None: no flags. Default `"score"`.
    pub score: Option<String>,
    /// Invalid-score policy. Default raise.
    pub invalid: InvalidPolicy,
}

impl Default for SentimentOptions {
    fn default() -> Self {
        SentimentOptions {
            text: "comment".into(),
            score: Some("score".into()),
            invalid: InvalidPolicy::Raise,
        }
    }
}

/// The VADER compound score of every comment of a String series (null stays null).
pub fn compound_of_series(text: &StringChunked) -> Float64Chunked {
    let text = text.rechunk();
    let parts = parallel(work_ranges(text.len()), |range| {
        range
            .map(|row| text.get(row).map(compound))
            .collect::<Vec<Option<f64>>>()
    });
    let values: Vec<Option<f64>> = parts.into_iter().flatten().collect();
    Float64Chunked::from_iter_options(text.name().clone(), values.into_iter())
}

/// Sentiment of each response, one row per input row in input order: `compound` (VADER, in
/// [-1, 1]; null for a null comment) and `sentiment` (`"negative"` below -0.05, `"positive"`
/// above 0.05, else `"neutral"`). With a score column, also `nps_category` and `mismatch`:
/// true for a promoter whose comment is negative or a detractor whose comment is positive,
/// false otherwise, null when the score or the comment is missing.
pub fn sentiment(frame: &DataFrame, options: &SentimentOptions) -> Result<DataFrame> {
    let text = comments(frame, &options.text)?;
    let scores = compound_of_series(&text);
    let labels: Vec<Option<&str>> = scores.iter().map(|c| c.map(sentiment_label)).collect();
    let labels_column = Column::new("sentiment".into(), labels.as_slice());
    let mut columns = vec![
        scores
            .with_name("compound".into())
            .into_series()
            .into_column(),
        labels_column,
    ];
    if let Some(score) = &options.score {
        let slots = score_slots(frame, score, Scale::NPS, options.invalid)?;
        let categories: Vec<Option<&str>> = slots.iter().map(|s| s.map(nps_category)).collect();
        let mismatch: Vec<Option<bool>> = categories
            .iter()
            .zip(&labels)
            .map(|(category, label)| match (category, label) {
                (Some(c), Some(l)) => Some(
                    (*c == "promoter" && *l == "negative")
                        || (*c == "detractor" && *l == "positive"),
                ),
                _ => None,
            })
            .collect();
        columns.push(Column::new("nps_category".into(), categories));
        columns.push(Column::new("mismatch".into(), mismatch));
    }
    Ok(DataFrame::new(frame.height(), columns)?)
}
