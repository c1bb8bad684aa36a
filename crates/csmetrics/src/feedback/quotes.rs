//! Representative comments per theme and NPS category, chosen deterministically.

use std::collections::{HashMap as StdMap, HashSet as StdSet};

use foldhash::fast::FixedState;

type HashMap<K, V> = StdMap<K, V, FixedState>;
type HashSet<K> = StdSet<K, FixedState>;

use polars::prelude::*;

use crate::error::{CsError, Result};
use crate::survey::{InvalidPolicy, Scale};

use super::dictionary::{Dictionary, PatternKind};
use super::scores::{comments, nps_category, score_slots};
use super::terms::log_odds;
use super::tokens::{TokenOptions, Tokenizer};

/// Options of [`quotes`].
#[derive(Debug, Clone)]
pub struct QuoteOptions {
    /// The comment column. Default `"comment"`.
    pub text: String,
    /// The 0-10 score column. Default `"score"`.
    pub score: String,
    /// How patterns are read. Default regular expressions.
    pub patterns: PatternKind,
    /// How comments are cut into terms. Default 1- and 2-grams, English stop words removed.
    pub tokens: TokenOptions,
    /// Quotes per theme and category. Default 3.
    pub k: usize,
    /// How many distinctive terms of a theme and category (the highest z of the category's
    /// responses that mention the theme against all the others, informative prior) a quote is
    /// scored on. Default 20.
    pub terms: usize,
    /// Invalid-score policy. Default raise.
    pub invalid: InvalidPolicy,
}

impl Default for QuoteOptions {
    fn default() -> Self {
        QuoteOptions {
            text: "comment".into(),
            score: "score".into(),
            patterns: PatternKind::Regex,
            tokens: TokenOptions::default(),
            k: 3,
            terms: 20,
            invalid: InvalidPolicy::Raise,
        }
    }
}

const CATEGORIES: [&str; 3] = ["detractor", "passive", "promoter"];

/// Up to `k` quotes per theme and NPS category.
///
/// The distinctive terms of a theme and category are the top `terms` terms by the log-odds z
/// of the category's responses that mention the theme against all the other commented
/// responses (informative prior, as in [`super::distinctive_terms`]). Among those responses,
/// the quotes are the ones with the most distinct distinctive terms, ties broken by the
/// shorter comment (in characters), then the earlier row; a comment with the same terms as one
/// already quoted for the theme and category (the same words, whatever the case and
/// punctuation) is not quoted again. Returns `theme` (sorted),
/// `nps_category` (detractor, passive, promoter), `rank`, `row` (zero-based, in the input),
/// `comment`, `matched` (distinctive terms it contains) and `terms` (them, comma separated, by
/// decreasing z).
pub fn quotes(
    frame: &DataFrame,
    dictionary: &[(String, Vec<String>)],
    options: &QuoteOptions,
) -> Result<DataFrame> {
    if options.k == 0 || options.terms == 0 {
        return Err(CsError::option(
            if options.k == 0 { "k" } else { "terms" },
            0,
            "must be at least 1",
        ));
    }
    let dictionary = Dictionary::new(dictionary, options.patterns)?;
    let tokenizer = Tokenizer::new(&options.tokens)?;
    let text = comments(frame, &options.text)?;
    let slots = score_slots(frame, &options.score, Scale::NPS, options.invalid)?;
    // Every term once in a vocabulary; each row as its terms' ids.
    let mut vocabulary: HashMap<Box<str>, u32> = HashMap::default();
    let mut names: Vec<Box<str>> = Vec::new();
    let mut row_terms: Vec<Vec<u32>> = Vec::with_capacity(text.len());
    let mut buffer = String::new();
    for row in 0..text.len() {
        let mut ids = Vec::new();
        if let Some(comment) = text.get(row) {
            tokenizer.for_each_term(comment, &mut buffer, |term| {
                let id = match vocabulary.get(term) {
                    Some(id) => *id,
                    None => {
                        let id = names.len() as u32;
                        names.push(term.into());
                        vocabulary.insert(term.into(), id);
                        id
                    }
                };
                ids.push(id);
            });
        }
        row_terms.push(ids);
    }
    let mut background = vec![0i64; names.len()];
    for ids in &row_terms {
        for id in ids {
            background[*id as usize] += 1;
        }
    }
    let a0: f64 = background.iter().sum::<i64>() as f64;
    let mut order: Vec<usize> = (0..dictionary.len()).collect();
    order.sort_by(|a, b| dictionary.names[*a].cmp(&dictionary.names[*b]));
    let mut out = QuoteColumns::default();
    for theme in order {
        let mentioning: Vec<bool> = (0..text.len())
            .map(|row| text.get(row).is_some_and(|c| dictionary.mentions(theme, c)))
            .collect();
        for category in CATEGORIES {
            let selected: Vec<bool> = (0..text.len())
                .map(|row| {
                    mentioning[row] && slots[row].is_some_and(|s| nps_category(s) == category)
                })
                .collect();
            let (scored, rank_of) = theme_terms(
                &row_terms,
                &selected,
                &background,
                a0,
                &names,
                options.terms,
            );
            let mut seen: HashSet<&[u32]> = HashSet::default();
            let mut candidates: Vec<(usize, usize, usize, Vec<usize>)> = Vec::new();
            for row in 0..text.len() {
                if !selected[row] {
                    continue;
                }
                let mut found: Vec<usize> = row_terms[row]
                    .iter()
                    .filter_map(|id| rank_of.get(id).copied())
                    .collect();
                found.sort_unstable();
                found.dedup();
                let length = text.get(row).map_or(0, |c| c.chars().count());
                candidates.push((found.len(), length, row, found));
            }
            candidates.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
            // The same words written twice (whatever the case and punctuation) are quoted once.
            candidates.retain(|c| seen.insert(row_terms[c.2].as_slice()));
            for (rank, (matched, _, row, found)) in
                candidates.into_iter().take(options.k).enumerate()
            {
                out.theme.push(dictionary.names[theme].clone());
                out.category.push(category);
                out.rank.push(rank as i64 + 1);
                out.row.push(row as i64);
                out.comment
                    .push(text.get(row).unwrap_or_default().to_string());
                out.matched.push(matched as i64);
                let listed: Vec<&str> = found
                    .iter()
                    .map(|r| &*names[scored[*r].1 as usize])
                    .collect();
                out.terms.push(listed.join(", "));
            }
        }
    }
    let height = out.row.len();
    Ok(DataFrame::new(
        height,
        vec![
            Column::new("theme".into(), out.theme),
            Column::new("nps_category".into(), out.category),
            Column::new("rank".into(), out.rank),
            Column::new("row".into(), out.row),
            Column::new("comment".into(), out.comment),
            Column::new("matched".into(), out.matched),
            Column::new("terms".into(), out.terms),
        ],
    )?)
}

/// The top `limit` terms (z, id) of the rows `selected` against all the others, by z
/// descending (informative prior), and the rank of each of their ids.
fn theme_terms(
    row_terms: &[Vec<u32>],
    selected: &[bool],
    background: &[i64],
    a0: f64,
    names: &[Box<str>],
    limit: usize,
) -> (Vec<(f64, u32)>, HashMap<u32, usize>) {
    let mut in_theme = vec![0i64; names.len()];
    for (ids, _) in row_terms.iter().zip(selected).filter(|(_, m)| **m) {
        for id in ids {
            in_theme[*id as usize] += 1;
        }
    }
    let n_a: f64 = in_theme.iter().sum::<i64>() as f64;
    let n_b = a0 - n_a;
    let mut scored: Vec<(f64, u32)> = (0..names.len())
        .filter(|&id| in_theme[id] > 0)
        .filter_map(|id| {
            let (_, z) = log_odds(
                in_theme[id],
                background[id] - in_theme[id],
                background[id] as f64,
                n_a,
                n_b,
                a0,
            )?;
            Some((z, id as u32))
        })
        .filter(|(z, _)| *z > 0.0)
        .collect();
    scored.sort_by(|x, y| {
        y.0.total_cmp(&x.0)
            .then_with(|| names[x.1 as usize].cmp(&names[y.1 as usize]))
    });
    scored.truncate(limit);
    let rank_of: HashMap<u32, usize> = scored
        .iter()
        .enumerate()
        .map(|(r, (_, id))| (*id, r))
        .collect();
    (scored, rank_of)
}

#[derive(Default)]
struct QuoteColumns {
    theme: Vec<String>,
    category: Vec<&'static str>,
    rank: Vec<i64>,
    row: Vec<i64>,
    comment: Vec<String>,
    matched: Vec<i64>,
    terms: Vec<String>,
}
