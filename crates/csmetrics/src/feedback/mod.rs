//! Voice of the customer: what customers write next to their scores, as defined in
//! docs/metrics/voice-of-customer.md. Tokens ([`tokenize`]), themes from a dictionary with
//! their NPS (or CSAT, CES) impact ([`themes`]), distinctive terms by weighted log-odds with an
//! informative Dirichlet prior ([`distinctive_terms`]), VADER sentiment with score mismatch
//! flags ([`sentiment`]) and representative quotes ([`quotes`]).

mod dictionary;
mod quotes;
mod scores;
mod sentiment;
mod terms;
#[cfg(test)]
mod tests;
mod themes;
mod tokens;
mod vader;

use std::str::FromStr;

pub use dictionary::{Dictionary, PatternKind};
pub use quotes::{quotes, QuoteOptions};
pub use scores::ScoreKind;
pub use sentiment::{compound_of_series, sentiment, SentimentOptions};
pub use terms::{distinctive_terms, Between, Prior, TermOptions};
pub use themes::{themes, ThemeOptions};
pub use tokens::{fold, tokenize, StopWords, TokenOptions, Tokenizer, ENGLISH_STOP_WORDS};
pub use vader::compound;

use crate::error::{CsError, Result};

impl FromStr for PatternKind {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "regex" => Ok(Self::Regex),
            "literal" => Ok(Self::Literal),
            other => Err(CsError::option(
                "patterns",
                format!("'{other}'"),
                "expected 'regex' or 'literal'",
            )),
        }
    }
}

impl FromStr for ScoreKind {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "nps" => Ok(Self::Nps),
            "csat" => Ok(Self::Csat),
            "ces" => Ok(Self::Ces),
            other => Err(CsError::option(
                "score_type",
                format!("'{other}'"),
                "expected 'nps', 'csat' or 'ces'",
            )),
        }
    }
}

/// The sentiment label of a compound score: negative below -0.05, positive above 0.05.
pub fn sentiment_label(compound: f64) -> &'static str {
    if compound < -0.05 {
        "negative"
    } else if compound > 0.05 {
        "positive"
    } else {
        "neutral"
    }
}

/// The feedback family in one import (`use csmetrics::feedback::prelude::*;`).
pub mod prelude {
    pub use super::{
        distinctive_terms, quotes, sentiment, themes, tokenize, Between, Dictionary, PatternKind,
        Prior, QuoteOptions, ScoreKind, SentimentOptions, StopWords, TermOptions, ThemeOptions,
        TokenOptions,
    };
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
