//! The one error type of the core. Every message stands alone: it names the column, the rule
//! that was broken and, where there is one, an offending value and its row.

use polars::prelude::PolarsError;

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, CsError>;

/// Everything that can go wrong in csmetrics.
#[derive(Debug, thiserror::Error)]
pub enum CsError {
    /// A column the computation needs is not in the input.
    #[error("missing column '{column}': {purpose}; the input has columns [{available}]")]
    MissingColumn {
        /// The column that was looked for.
        column: String,
        /// What the column is needed for.
        purpose: String,
        /// The input's columns, comma separated.
        available: String,
    },
    /// A value breaks a rule of the metric's contract.
    #[error("column '{column}', row {row}: {rule}; found {value}")]
    InvalidValue {
        /// The column holding the value.
        column: String,
        /// Zero-based row of the first offending value in the input as given.
        row: usize,
        /// The offending value, formatted.
        value: String,
        /// The rule it breaks.
        rule: String,
    },
    /// A column has a data type the computation cannot use.
    #[error("column '{column}' has type {dtype}: {rule}")]
    InvalidType {
        /// The column.
        column: String,
        /// Its data type.
        dtype: String,
        /// What was expected.
        rule: String,
    },
    /// An option has a value outside its allowed set or range.
    #[error("option {option}={value} is not allowed: {rule}")]
    InvalidOption {
        /// The option's name as the user writes it.
        option: String,
        /// The value given.
        value: String,
        /// The allowed values or range.
        rule: String,
    },
    /// A model fit did not converge.
    #[error("{model} did not converge: {reason}")]
    Convergence {
        /// The model.
        model: String,
        /// Why.
        reason: String,
    },
    /// A Stripe export lacks a field the reader needs, holds a value it cannot take, or is not
    /// JSON. The message names the file and, where there is one, the object and the field.
    #[error("{message}")]
    StripeFormat {
        /// The whole message.
        message: String,
        /// The file, as it was named.
        file: String,
        /// The object's id (or `#position` in its file), for problems inside an object.
        object_id: Option<String>,
        /// The field, as a path (`items.data[0].price`), for problems with a field.
        field: Option<String>,
    },
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The computation was stopped by [`crate::interrupt::request`].
    #[error("interrupted")]
    Interrupted,
    /// An error raised inside Polars.
    #[error("polars: {0}")]
    Polars(#[from] PolarsError),
}

impl CsError {
    /// Builds an [`CsError::InvalidOption`].
    pub fn option(option: &str, value: impl ToString, rule: &str) -> Self {
        CsError::InvalidOption {
            option: option.to_string(),
            value: value.to_string(),
            rule: rule.to_string(),
        }
    }
}
