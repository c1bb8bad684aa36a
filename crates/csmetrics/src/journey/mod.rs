//! The customer journey (docs/metrics/journey.md): onboarding milestones per signup cohort
//! ([`milestone_funnel`]), the time to each milestone as a Kaplan-Meier estimate
//! ([`time_to_milestone`]), activation by a usage, feature or milestone rule with the retention
//! of activated against other customers ([`activation`], [`activation_retention`]), and the
//! survey scores of each journey stage ([`touchpoint_experience`]).
//!
//! Two tables meet here: the customers (one row per customer with its start, or several rows, as
//! in a subscriptions table, of which the earliest start counts) and the milestones (customer,
//! milestone, timestamp). A journey is an ordered list of milestone names.

mod activation;
mod funnel;
mod reach;
mod touchpoints;

#[cfg(test)]
mod tests;

use std::str::FromStr;

use crate::error::{CsError, Result};
use crate::period::Period;

pub use activation::{
    activated_customers, activation, activation_retention, ActivationOptions, ActivationRule,
};
pub use funnel::{milestone_funnel, time_to_milestone, FunnelOptions, TimeToMilestoneOptions};
pub use touchpoints::{touchpoint_experience, TouchpointOptions};

/// Where the customers' starts come from: a table with one or more rows per customer.
#[derive(Debug, Clone)]
pub struct Starts {
    /// Customer id column (every key type; matched with the other table's ids). Default
    /// `customer_id`.
    pub customer_id: String,
    /// The start of each customer: its signup or first subscription (Date or Datetime; the
    /// earliest of a customer's rows counts). Default `signup_date`.
    pub start: String,
    /// When the customer churned (null while active; the latest of a customer's rows, null if
    /// any is null). Censors the time to a milestone. Default none.
    pub end: Option<String>,
    /// Grouping columns of the customers table (taken from the row of the earliest start).
    pub by: Vec<String>,
    /// The signup cohort's period; `None` for no cohort key.
    pub cohort: Option<Period>,
}

impl Default for Starts {
    fn default() -> Self {
        Starts {
            customer_id: "customer_id".into(),
            start: "signup_date".into(),
            end: None,
            by: Vec::new(),
            cohort: Some(Period::Month),
        }
    }
}

/// The columns of the milestones table.
#[derive(Debug, Clone)]
pub struct MilestoneColumns {
    /// Customer id column. Default `customer_id`.
    pub customer_id: String,
    /// Milestone name column (String, Categorical or Enum). Default `milestone`.
    pub milestone: String,
    /// When the milestone was reached (Date or Datetime). Default `timestamp`.
    pub timestamp: String,
}

impl Default for MilestoneColumns {
    fn default() -> Self {
        MilestoneColumns {
            customer_id: "customer_id".into(),
            milestone: "milestone".into(),
            timestamp: "timestamp".into(),
        }
    }
}

/// Whether the milestones of a journey must be reached in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// A milestone counts only when reached at or after the previous one (default): funnels
    /// never increase from stage to stage.
    #[default]
    Strict,
    /// Each milestone counts whenever it was first reached.
    Any,
}

impl FromStr for Order {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "strict" => Ok(Order::Strict),
            "any" => Ok(Order::Any),
            other => Err(CsError::option(
                "order",
                format!("'{other}'"),
                "expected one of 'strict', 'any'",
            )),
        }
    }
}

/// What to do with a milestone dated before its customer's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BeforeStart {
    /// An error naming the row (default).
    #[default]
    Raise,
    /// The row is left out and counted in `before_start`.
    Drop,
}

impl FromStr for BeforeStart {
    type Err = CsError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "raise" => Ok(BeforeStart::Raise),
            "drop" => Ok(BeforeStart::Drop),
            other => Err(CsError::option(
                "before_start",
                format!("'{other}'"),
                "expected one of 'raise', 'drop'",
            )),
        }
    }
}

/// The journey family in one import (`use csmetrics::journey::prelude::*;`).
pub mod prelude {
    pub use super::{
        activated_customers, activation, activation_retention, milestone_funnel, time_to_milestone,
        touchpoint_experience, ActivationOptions, ActivationRule, BeforeStart, FunnelOptions,
        MilestoneColumns, Order, Starts, TimeToMilestoneOptions, TouchpointOptions,
    };
    pub use crate::error::{CsError, Result};
    pub use crate::period::Period;
}
