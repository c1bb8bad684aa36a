//! Glue for the voice of the customer: tokens, themes, distinctive terms, sentiment, quotes.

use csmetrics::feedback::{
    self as fb, Between, Prior, QuoteOptions, SentimentOptions, StopWords, TermOptions,
    ThemeOptions, TokenOptions,
};
use csmetrics::survey::Scale;
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::errors::{run, to_py, Frame};

type Entries = Vec<(String, Vec<String>)>;

/// Stop words as Python gives them: "english", None (no list) or a list of words.
fn token_options(ngrams: usize, stop_words: Option<Vec<String>>, english: bool) -> TokenOptions {
    TokenOptions {
        ngrams,
        stop_words: match (english, stop_words) {
            (true, _) => StopWords::English,
            (false, Some(words)) => StopWords::Custom(words),
            (false, None) => StopWords::None,
        },
    }
}

fn period_of(period: Option<&str>) -> PyResult<Option<csmetrics::Period>> {
    period.map(str::parse).transpose().map_err(to_py)
}

fn scale_of(scale: Option<(i64, i64)>) -> PyResult<Option<Scale>> {
    scale
        .map(|(lo, hi)| Scale::new(lo, hi))
        .transpose()
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (text, ngrams, stop_words, english))]
fn tokenize(
    py: Python<'_>,
    text: String,
    ngrams: usize,
    stop_words: Option<Vec<String>>,
    english: bool,
) -> PyResult<Vec<String>> {
    let options = token_options(ngrams, stop_words, english);
    run(py, "tokenize", || fb::tokenize(&text, &options))
}

#[pyfunction]
fn english_stop_words() -> Vec<&'static str> {
    fb::ENGLISH_STOP_WORDS.to_vec()
}

#[pyfunction]
#[pyo3(signature = (frame, dictionary, text, score, score_type, scale, direction, patterns, by, period, timestamp, invalid))]
#[allow(clippy::too_many_arguments)]
fn themes(
    py: Python<'_>,
    frame: Frame,
    dictionary: Entries,
    text: String,
    score: String,
    score_type: &str,
    scale: Option<(i64, i64)>,
    direction: &str,
    patterns: &str,
    by: Vec<String>,
    period: Option<&str>,
    timestamp: String,
    invalid: &str,
) -> PyResult<PyDataFrame> {
    let options = ThemeOptions {
        text,
        score,
        score_type: score_type.parse().map_err(to_py)?,
        scale: scale_of(scale)?,
        direction: direction.parse().map_err(to_py)?,
        patterns: patterns.parse().map_err(to_py)?,
        by,
        period: period_of(period)?,
        timestamp,
        invalid: invalid.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "themes", || fb::themes(&frame, &dictionary, &options)).map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, text, score, between, groups, prior, ngrams, stop_words, english, top, invalid))]
#[allow(clippy::too_many_arguments)]
fn distinctive_terms(
    py: Python<'_>,
    frame: Frame,
    text: String,
    score: String,
    between: Option<String>,
    groups: Option<(String, String)>,
    prior: Option<f64>,
    ngrams: usize,
    stop_words: Option<Vec<String>>,
    english: bool,
    top: Option<usize>,
    invalid: &str,
) -> PyResult<PyDataFrame> {
    let options = TermOptions {
        text,
        score,
        between: between.map_or(Between::NpsCategory, Between::Column),
        groups,
        prior: prior.map_or(Prior::Informative, Prior::Constant),
        tokens: token_options(ngrams, stop_words, english),
        top,
        invalid: invalid.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "distinctive_terms", || {
        fb::distinctive_terms(&frame, &options)
    })
    .map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, text, score, invalid))]
fn sentiment(
    py: Python<'_>,
    frame: Frame,
    text: String,
    score: Option<String>,
    invalid: &str,
) -> PyResult<PyDataFrame> {
    let options = SentimentOptions {
        text,
        score,
        invalid: invalid.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "sentiment", || fb::sentiment(&frame, &options)).map(PyDataFrame)
}

#[pyfunction]
#[pyo3(signature = (frame, dictionary, text, score, patterns, ngrams, stop_words, english, k, terms, invalid))]
#[allow(clippy::too_many_arguments)]
fn quotes(
    py: Python<'_>,
    frame: Frame,
    dictionary: Entries,
    text: String,
    score: String,
    patterns: &str,
    ngrams: usize,
    stop_words: Option<Vec<String>>,
    english: bool,
    k: usize,
    terms: usize,
    invalid: &str,
) -> PyResult<PyDataFrame> {
    let options = QuoteOptions {
        text,
        score,
        patterns: patterns.parse().map_err(to_py)?,
        tokens: token_options(ngrams, stop_words, english),
        k,
        terms,
        invalid: invalid.parse().map_err(to_py)?,
    };
    let frame = frame.0;
    run(py, "quotes", || fb::quotes(&frame, &dictionary, &options)).map(PyDataFrame)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tokenize, m)?)?;
    m.add_function(wrap_pyfunction!(english_stop_words, m)?)?;
    m.add_function(wrap_pyfunction!(themes, m)?)?;
    m.add_function(wrap_pyfunction!(distinctive_terms, m)?)?;
    m.add_function(wrap_pyfunction!(sentiment, m)?)?;
    m.add_function(wrap_pyfunction!(quotes, m)?)?;
    Ok(())
}
