//! Tokens of a comment (docs/metrics/voice-of-customer.md): Unicode word boundaries (UAX #29,
//! the `unicode-segmentation` crate), full Unicode case folding (the `caseless` crate, which
//! applies the C and F mappings of CaseFolding.txt: "Straße" and "STRASSE" both give "strasse"),
//! accents kept, tokens without a letter dropped, stop words removed, n-grams within a sentence.

use std::collections::HashSet as StdSet;

use foldhash::fast::FixedState;

type HashSet<K> = StdSet<K, FixedState>;

use unicode_segmentation::UnicodeSegmentation;

use crate::error::{CsError, Result};

/// The built-in English stop words: articles, pronouns, auxiliaries, prepositions and
/// conjunctions. Negations ("not", "no", "never", "don't", ...) are deliberately absent: in
/// feedback "not working" says the opposite of "working".
pub const ENGLISH_STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "even",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "i'm",
    "i've",
    "if",
    "in",
    "into",
    "is",
    "it",
    "it's",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Which stop words are removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StopWords {
    /// The built-in English list, [`ENGLISH_STOP_WORDS`] (default).
    #[default]
    English,
    /// None: every token is kept.
    None,
    /// The words given (case-folded before use), instead of a built-in list.
    Custom(Vec<String>),
}

/// How comments are cut into terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOptions {
    /// Longest n-gram: terms are the 1- to `ngrams`-grams of consecutive kept tokens within a
    /// sentence. Default 2.
    pub ngrams: usize,
    /// Stop words removed before n-grams are formed. Default English.
    pub stop_words: StopWords,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            ngrams: 2,
            stop_words: StopWords::English,
        }
    }
}

/// A tokenizer with its stop words folded once.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    ngrams: usize,
    stop: HashSet<String>,
}

/// Full Unicode case folding of `text`.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    caseless::default_case_fold_str(text)
}

fn ends_sentence(segment: &str) -> bool {
    segment.chars().any(|c| {
        matches!(
            c,
            '.' | '!' | '?' | '…' | '\n' | '\r' | '。' | '！' | '？' | '؟' | '।' | '۔'
        )
    })
}

impl Tokenizer {
    /// Checks the options: `ngrams` from 1 to 5.
    pub fn new(options: &TokenOptions) -> Result<Tokenizer> {
        if !(1..=5).contains(&options.ngrams) {
            return Err(CsError::option(
                "ngrams",
                options.ngrams,
                "n-grams of 1 to 5 tokens are supported",
            ));
        }
        let stop = match &options.stop_words {
            StopWords::English => ENGLISH_STOP_WORDS.iter().map(|w| w.to_string()).collect(),
            StopWords::None => HashSet::default(),
            StopWords::Custom(words) => words.iter().map(|w| fold(w)).collect(),
        };
        Ok(Tokenizer {
            ngrams: options.ngrams,
            stop,
        })
    }

    /// The kept tokens of `text`, one vector per sentence.
    pub fn sentences(&self, text: &str) -> Vec<Vec<String>> {
        let mut sentences = Vec::new();
        let mut current: Vec<String> = Vec::new();
        for segment in text.split_word_bounds() {
            if segment.chars().any(char::is_alphabetic) {
                let token = fold(segment);
                if !self.stop.contains(&token) {
                    current.push(token);
                }
            } else if ends_sentence(segment) && !current.is_empty() {
                sentences.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            sentences.push(current);
        }
        sentences
    }

    /// Calls `f` with every term of `text` (each n-gram as its tokens joined by one space),
    /// unigrams of a sentence first, then its bigrams, and so on.
    pub fn for_each_term(&self, text: &str, buffer: &mut String, mut f: impl FnMut(&str)) {
        for sentence in self.sentences(text) {
            for n in 1..=self.ngrams.min(sentence.len()) {
                for window in sentence.windows(n) {
                    buffer.clear();
                    for (i, token) in window.iter().enumerate() {
                        if i > 0 {
                            buffer.push(' ');
                        }
                        buffer.push_str(token);
                    }
                    f(buffer);
                }
            }
        }
    }

    /// Every term of `text`, in the order of [`Tokenizer::for_each_term`].
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut terms = Vec::new();
        let mut buffer = String::new();
        self.for_each_term(text, &mut buffer, |t| terms.push(t.to_string()));
        terms
    }
}

/// The terms of `text` under `options` (see the module docs).
pub fn tokenize(text: &str, options: &TokenOptions) -> Result<Vec<String>> {
    Ok(Tokenizer::new(options)?.terms(text))
}
