//! Distinctive terms between two groups of responses: weighted log-odds with an informative
//! Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words", section 3.5).

use std::collections::HashMap;

use foldhash::fast::FixedState;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::input;
use crate::parallel::{parallel, work_ranges};
use crate::survey::{InvalidPolicy, Scale};

use super::scores::{comments, nps_category, score_slots};
use super::tokens::{TokenOptions, Tokenizer};

/// What splits the responses into the two groups compared.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Between {
    /// The NPS category of the score column (default; detractors against promoters).
    #[default]
    NpsCategory,
    /// The values of a column (any type, read as text).
    Column(String),
}

/// The Dirichlet prior's pseudo-counts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Prior {
    /// a_w = the count of w over all the responses analysed (default).
    #[default]
    Informative,
    /// The same pseudo-count for every term (uninformative); must be positive.
    Constant(f64),
}

/// Options of [`distinctive_terms`].
#[derive(Debug, Clone)]
pub struct TermOptions {
    /// The comment column. Default `"comment"`.
    pub text: String,
    /// The 0-10 score column, read with [`Between::NpsCategory`]. Default `"score"`.
    pub score: String,
    /// What splits the groups. Default the NPS category.
    pub between: Between,
    /// The two values compared (a, b); None: ("detractor", "promoter") for the NPS category,
    /// or the column's two values in sorted order (an error when it has another number).
    pub groups: Option<(String, String)>,
    /// The prior. Default informative.
    pub prior: Prior,
    /// How comments are cut into terms. Default 1- and 2-grams, English stop words removed.
    pub tokens: TokenOptions,
    /// Terms kept per side; None: every term of either group, with z = 0 ones last.
    /// Default 20.
    pub top: Option<usize>,
    /// Invalid-score policy (with the NPS category). Default raise.
    pub invalid: InvalidPolicy,
}

impl Default for TermOptions {
    fn default() -> Self {
        TermOptions {
            text: "comment".into(),
            score: "score".into(),
            between: Between::NpsCategory,
            groups: None,
            prior: Prior::Informative,
            tokens: TokenOptions::default(),
            top: Some(20),
            invalid: InvalidPolicy::Raise,
        }
    }
}

/// Counts of a term: in group a, in group b, over all responses.
pub(crate) type TermCounts = HashMap<Box<str>, [i64; 3], FixedState>;

/// Counts every term of `text` by the group of each row (`Some(0)` a, `Some(1)` b).
pub(crate) fn count_terms(
    text: &StringChunked,
    side: &[Option<u8>],
    tokenizer: &Tokenizer,
) -> TermCounts {
    let parts = parallel(work_ranges(text.len()), |range| {
        let mut counts: TermCounts = HashMap::default();
        let mut buffer = String::new();
        for row in range {
            let Some(comment) = text.get(row) else {
                continue;
            };
            let group = side[row];
            tokenizer.for_each_term(comment, &mut buffer, |term| {
                let entry = match counts.get_mut(term) {
                    Some(entry) => entry,
                    None => counts.entry(term.into()).or_insert([0; 3]),
                };
                entry[2] += 1;
                if let Some(g) = group {
                    entry[g as usize] += 1;
                }
            });
        }
        counts
    });
    let mut parts = parts.into_iter();
    let mut merged = parts.next().unwrap_or_default();
    for part in parts {
        for (term, c) in part {
            let entry = merged.entry(term).or_insert([0; 3]);
            for k in 0..3 {
                entry[k] += c[k];
            }
        }
    }
    merged
}

/// One term's score.
#[derive(Debug, Clone)]
pub(crate) struct Scored {
    pub term: Box<str>,
    pub count_a: i64,
    pub count_b: i64,
    pub delta: Option<f64>,
    pub z: Option<f64>,
}

/// delta and z of a term counted `count_a` and `count_b` times, with pseudo-count `a`, group
/// totals `n_a`, `n_b` and the prior's total `a0`; None when a log-odds is infinite (a
/// vocabulary of one term, all of a group's words).
pub(crate) fn log_odds(
    count_a: i64,
    count_b: i64,
    a: f64,
    n_a: f64,
    n_b: f64,
    a0: f64,
) -> Option<(f64, f64)> {
    let (ya, yb) = (count_a as f64 + a, count_b as f64 + a);
    let delta = (ya / (n_a + a0 - ya)).ln() - (yb / (n_b + a0 - yb)).ln();
    let z = delta / (1.0 / ya + 1.0 / yb).sqrt();
    (delta.is_finite() && z.is_finite()).then_some((delta, z))
}

/// The log-odds of every term present in group a or b, sorted by z (descending), then term.
pub(crate) fn score_terms(counts: TermCounts, prior: Prior) -> Result<Vec<Scored>> {
    if let Prior::Constant(c) = prior {
        if !(c.is_finite() && c > 0.0) {
            return Err(CsError::option(
                "prior",
                c,
                "a constant prior must be a positive number",
            ));
        }
    }
    let pseudo = |c: &[i64; 3]| match prior {
        Prior::Informative => c[2] as f64,
        Prior::Constant(value) => value,
    };
    let a0: f64 = counts.values().map(pseudo).sum();
    let n_a: f64 = counts.values().map(|c| c[0] as f64).sum();
    let n_b: f64 = counts.values().map(|c| c[1] as f64).sum();
    let mut scored: Vec<Scored> = counts
        .into_iter()
        .filter(|(_, c)| c[0] + c[1] > 0)
        .map(|(term, c)| {
            let scores = log_odds(c[0], c[1], pseudo(&c), n_a, n_b, a0);
            let (delta, z) = (scores.map(|s| s.0), scores.map(|s| s.1));
            Scored {
                term,
                count_a: c[0],
                count_b: c[1],
                delta,
                z,
            }
        })
        .collect();
    // By z descending, terms without a z last; ties by term.
    scored.sort_by(|x, y| {
        let key = |s: &Scored| s.z.unwrap_or(f64::NEG_INFINITY);
        key(y).total_cmp(&key(x)).then_with(|| x.term.cmp(&y.term))
    });
    Ok(scored)
}

fn labels_of(frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let series =
        crate::frame::column(frame, name, "the group of each response")?.as_materialized_series();
    input::check(series, name, input::Role::Key, "the group of each response")?;
    let text = series.cast(&DataType::String)?;
    Ok(text.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// The group (0 = a, 1 = b) of each row and the two labels.
fn sides(frame: &DataFrame, options: &TermOptions) -> Result<(Vec<Option<u8>>, String, String)> {
    let labels: Vec<Option<String>> = match &options.between {
        Between::NpsCategory => score_slots(frame, &options.score, Scale::NPS, options.invalid)?
            .into_iter()
            .map(|s| s.map(|s| nps_category(s).to_string()))
            .collect(),
        Between::Column(name) => labels_of(frame, name)?,
    };
    let (a, b) = match (&options.groups, &options.between) {
        (Some(pair), _) => pair.clone(),
        (None, Between::NpsCategory) => ("detractor".to_string(), "promoter".to_string()),
        (None, Between::Column(name)) => {
            let mut values: Vec<&String> = labels.iter().flatten().collect();
            values.sort();
            values.dedup();
            if values.len() != 2 {
                let shown: Vec<String> = values.iter().take(5).map(|v| format!("'{v}'")).collect();
                return Err(CsError::option(
                    "groups",
                    "None",
                    &format!(
                        "column '{name}' has {} distinct values ({}{}); name the two to compare \
                         with groups=(a, b)",
                        values.len(),
                        shown.join(", "),
                        if values.len() > 5 { ", ..." } else { "" }
                    ),
                ));
            }
            (values[0].clone(), values[1].clone())
        }
    };
    if a == b {
        return Err(CsError::option(
            "groups",
            format!("('{a}', '{b}')"),
            "the two groups compared must differ",
        ));
    }
    let side = labels
        .iter()
        .map(|l| match l.as_deref() {
            Some(v) if v == a => Some(0),
            Some(v) if v == b => Some(1),
            _ => None,
        })
        .collect();
    Ok((side, a, b))
}

/// The terms that tell group a from group b.
///
/// Counts y_w of each term in each group, group totals n, pseudo-counts a_w (the prior) and
/// a_0 = their sum over the vocabulary of all the responses analysed:
/// delta_w = log((y_wa + a_w) / (n_a + a_0 - y_wa - a_w)) - log((y_wb + a_w) / (n_b + a_0 -
/// y_wb - a_w)), var = 1/(y_wa + a_w) + 1/(y_wb + a_w), z = delta / sqrt(var).
///
/// Returns `side` (the label of the group the term leans to: a when z > 0, b when z < 0, null
/// when 0 or null; delta and z are null when a log-odds is infinite, which needs a vocabulary
/// of a single term), `rank` (1 = most distinctive of its side), `term`, `count_a`, `count_b`, `delta`,
/// `z`: the top terms of side a by z descending, then those of side b by z ascending (ties by
/// term).
pub fn distinctive_terms(frame: &DataFrame, options: &TermOptions) -> Result<DataFrame> {
    let tokenizer = Tokenizer::new(&options.tokens)?;
    let text = comments(frame, &options.text)?;
    let (side, a, b) = sides(frame, options)?;
    let counts = count_terms(&text, &side, &tokenizer);
    let scored = score_terms(counts, options.prior)?;
    let limit = options.top.unwrap_or(usize::MAX);
    let z = |s: &Scored| s.z.unwrap_or(0.0);
    let side_a: Vec<&Scored> = scored.iter().filter(|s| z(s) > 0.0).take(limit).collect();
    let mut side_b: Vec<&Scored> = scored.iter().filter(|s| z(s) < 0.0).collect();
    side_b.sort_by(|x, y| z(x).total_cmp(&z(y)).then_with(|| x.term.cmp(&y.term)));
    side_b.truncate(limit);
    let zero: Vec<&Scored> = match options.top {
        Some(_) => Vec::new(),
        None => scored.iter().filter(|s| z(s) == 0.0).collect(),
    };
    let mut labels: Vec<Option<&str>> = Vec::new();
    let mut ranks: Vec<Option<i64>> = Vec::new();
    let mut rows: Vec<&Scored> = Vec::new();
    for (label, list) in [(Some(a.as_str()), &side_a), (Some(b.as_str()), &side_b)] {
        for (i, s) in list.iter().enumerate() {
            labels.push(label);
            ranks.push(Some(i as i64 + 1));
            rows.push(s);
        }
    }
    for s in &zero {
        labels.push(None);
        ranks.push(None);
        rows.push(s);
    }
    let columns = vec![
        Column::new("side".into(), labels),
        Column::new("rank".into(), ranks),
        Column::new(
            "term".into(),
            rows.iter().map(|s| &*s.term).collect::<Vec<&str>>(),
        ),
        Column::new(
            "count_a".into(),
            rows.iter().map(|s| s.count_a).collect::<Vec<_>>(),
        ),
        Column::new(
            "count_b".into(),
            rows.iter().map(|s| s.count_b).collect::<Vec<_>>(),
        ),
        Column::new(
            "delta".into(),
            rows.iter().map(|s| s.delta).collect::<Vec<_>>(),
        ),
        Column::new("z".into(), rows.iter().map(|s| s.z).collect::<Vec<_>>()),
    ];
    Ok(DataFrame::new(rows.len(), columns)?)
}
