//! A theme dictionary: theme -> phrases or regular expressions, compiled into one set that
//! tells, in one pass over a comment, which themes it mentions.

use regex::{Regex, RegexSet, RegexSetBuilder};

use crate::error::{CsError, Result};

/// How the patterns of a dictionary are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatternKind {
    /// Regular expressions (Rust `regex` syntax; default). A plain phrase is a valid one.
    #[default]
    Regex,
    /// Literal phrases: every character stands for itself.
    Literal,
}

/// Themes and their compiled patterns.
#[derive(Debug, Clone)]
pub struct Dictionary {
    /// Theme names, in the order given.
    pub names: Vec<String>,
    set: RegexSet,
    patterns: Vec<Regex>,
}

fn invalid(theme: &str, pattern: &str, rule: &str) -> CsError {
    CsError::option(
        "dictionary",
        format!("theme '{theme}', pattern '{pattern}'"),
        rule,
    )
}

impl Dictionary {
    /// Compiles `entries` (theme, patterns): matching is case-insensitive and on word
    /// boundaries. An empty dictionary, a theme without patterns, an empty pattern, a repeated
    /// theme or an invalid regular expression is an error naming the theme and the pattern.
    pub fn new(entries: &[(String, Vec<String>)], kind: PatternKind) -> Result<Dictionary> {
        if entries.is_empty() {
            return Err(CsError::option(
                "dictionary",
                "{}",
                "a dictionary needs at least one theme with at least one pattern",
            ));
        }
        let mut names: Vec<String> = Vec::with_capacity(entries.len());
        let mut themes = Vec::with_capacity(entries.len());
        for (theme, patterns) in entries {
            if names.contains(theme) {
                return Err(invalid(theme, "", "each theme may appear once"));
            }
            if patterns.is_empty() {
                return Err(invalid(theme, "", "each theme needs at least one pattern"));
            }
            let mut parts = Vec::with_capacity(patterns.len());
            for pattern in patterns {
                if pattern.trim().is_empty() {
                    return Err(invalid(theme, pattern, "a pattern may not be empty"));
                }
                let body = match kind {
                    PatternKind::Regex => pattern.clone(),
                    PatternKind::Literal => regex::escape(pattern),
                };
                let part = format!("(?:{body})");
                Regex::new(&format!("(?i)\\b{part}\\b")).map_err(|e| {
                    invalid(
                        theme,
                        pattern,
                        &format!("not a valid regular expression ({e})"),
                    )
                })?;
                parts.push(part);
            }
            names.push(theme.clone());
            themes.push(format!("(?i)\\b(?:{})\\b", parts.join("|")));
        }
        let set = RegexSetBuilder::new(&themes)
            .size_limit(1 << 26)
            .build()
            .map_err(|e| invalid(&names[0], "", &format!("the dictionary is too large ({e})")))?;
        let patterns = themes
            .iter()
            .map(|t| Regex::new(t))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| invalid(&names[0], "", &format!("{e}")))?;
        Ok(Dictionary {
            names,
            set,
            patterns,
        })
    }

    /// Number of themes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the dictionary has no theme (never, once built).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Calls `f` with the index of every theme `text` mentions, in dictionary order.
    pub fn for_each_match(&self, text: &str, mut f: impl FnMut(usize)) {
        for theme in self.set.matches(text).iter() {
            f(theme);
        }
    }

    /// Whether `text` mentions theme `theme`.
    pub fn mentions(&self, theme: usize, text: &str) -> bool {
        self.patterns[theme].is_match(text)
    }
}
