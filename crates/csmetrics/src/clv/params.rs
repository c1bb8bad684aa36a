//! Model parameters by name: [`Params`], what [`Fit`](super::Fit) holds for its estimates and
//! standard errors and what [`FitOptions::start`](super::FitOptions::start) takes.

use std::fmt;
use std::ops::Index;

use super::Model;
use crate::error::{CsError, Result};

/// One number per parameter of a model, by name: estimates, standard errors or starting values.
///
/// The names are the model's ([`Model::parameter_names`]): `r, alpha, a, b` for BG/NBD and
/// MBG/NBD, `r, alpha, s, beta` for Pareto/NBD, `alpha, beta, gamma, delta` for BG/BB,
/// `p, q, gamma` for Gamma-Gamma and `alpha, beta` for the shifted-beta-geometric model.
///
/// ```
/// use csmetrics::clv::{Model, Params};
///
/// # fn main() -> csmetrics::Result<()> {
/// let published = Params::new(
///     Model::BetaGeo,
///     &[("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)],
/// )?;
/// assert_eq!(published["alpha"], 4.414);
/// assert_eq!(published.get("s"), None);
/// assert_eq!(published.values(), &[0.243, 4.414, 0.793, 2.426]);
/// // The same, positionally (for values stored in the model's order).
/// assert_eq!(Params::from_values(Model::BetaGeo, &[0.243, 4.414, 0.793, 2.426])?, published);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    model: Model,
    values: Vec<f64>,
}

impl Params {
    /// The parameters of `model` from `(name, value)` pairs, in any order; every name of the
    /// model must be given exactly once.
    pub fn new(model: Model, pairs: &[(&str, f64)]) -> Result<Params> {
        let names = model.parameter_names();
        let mut values = vec![None; names.len()];
        for (name, value) in pairs {
            let slot = names.iter().position(|n| n == name).ok_or_else(|| {
                CsError::option(
                    "params",
                    format!("'{name}'"),
                    &format!("{model} has parameters {}", names.join(", ")),
                )
            })?;
            if values[slot].replace(*value).is_some() {
                return Err(CsError::option(
                    "params",
                    format!("'{name}' twice"),
                    "give each parameter once",
                ));
            }
        }
        let values = values
            .into_iter()
            .zip(names)
            .map(|(value, name)| {
                value.ok_or_else(|| {
                    CsError::option(
                        "params",
                        format!("no '{name}'"),
                        &format!("{model} has parameters {}", names.join(", ")),
                    )
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok(Params { model, values })
    }

    /// The parameters of `model` from values in the order of [`Model::parameter_names`] (for
    /// example loaded from JSON); the number of values must match.
    pub fn from_values(model: Model, values: &[f64]) -> Result<Params> {
        let names = model.parameter_names();
        if values.len() != names.len() {
            return Err(CsError::option(
                "params",
                format!("{} values", values.len()),
                &format!("{model} has parameters {}", names.join(", ")),
            ));
        }
        Ok(Params {
            model,
            values: values.to_vec(),
        })
    }

    /// `value` for every parameter of `model` (NaN for standard errors not computed).
    pub(crate) fn filled(model: Model, value: f64) -> Params {
        Params {
            model,
            values: vec![value; model.parameter_names().len()],
        }
    }

    /// The model the parameters belong to.
    pub fn model(&self) -> Model {
        self.model
    }

    /// The value of parameter `name`, or `None` when the model has no such parameter.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.names()
            .iter()
            .position(|n| *n == name)
            .map(|i| self.values[i])
    }

    /// The parameter names, in the model's order.
    pub fn names(&self) -> &'static [&'static str] {
        self.model.parameter_names()
    }

    /// The values, in the order of [`Params::names`].
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// `(name, value)` pairs in the model's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.names()
            .iter()
            .copied()
            .zip(self.values.iter().copied())
    }
}

/// `params["alpha"]`: the value of a parameter of the model.
///
/// # Panics
///
/// When the model has no parameter of that name (a programming error, like a missing key of a
/// `HashMap`); [`Params::get`] returns an `Option` instead.
impl Index<&str> for Params {
    type Output = f64;
    fn index(&self, name: &str) -> &f64 {
        match self.names().iter().position(|n| *n == name) {
            Some(i) => &self.values[i],
            None => panic!(
                "{} has no parameter '{name}' (it has {})",
                self.model,
                self.names().join(", ")
            ),
        }
    }
}

/// `r = 0.243, alpha = 4.414, ...`.
impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name} = {value}")?;
        }
        Ok(())
    }
}
