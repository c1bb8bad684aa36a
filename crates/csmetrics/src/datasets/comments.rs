//! Free-text survey comments: sentences from per-theme phrase sets, negative or positive by the
//! NPS answer, with the planted driver of detractors (billing problems, far more often written
//! by detractors who go on to churn). Draws come from their own stream
//! ([`super::random::Purpose::Feedback`]), so adding comments leaves every other draw unchanged.

use super::SplitMix64;

/// A theme: its name, the patterns that find it, and its negative and positive sentences.
pub(crate) struct Theme {
    pub name: &'static str,
    pub patterns: &'static [&'static str],
    negative: &'static [&'static str],
    positive: &'static [&'static str],
}

/// The themes the comments are written from; billing (index 0) is the planted driver.
pub(crate) const THEMES: [Theme; 8] = [
    Theme {
        name: "billing",
        patterns: &["billing", "invoices?", r"charged (?:twice|again)", "refund"],
        negative: &[
            "We were charged twice this month and the refund took weeks",
            "The invoice was wrong again",
            "Billing errors every quarter, nobody fixes them",
            "I still have not received the refund",
            "Confusing invoices and surprise charges",
        ],
        positive: &[
            "Billing is clear and the invoices are correct",
            "The refund was processed the same day",
        ],
    },
    Theme {
        name: "support",
        patterns: &["support", "help ?desk", r"customer service"],
        negative: &[
            "Support took days to answer",
            "The help desk closed my ticket without a fix",
            "Customer service was rude and unhelpful",
        ],
        positive: &[
            "Support answered within minutes",
            "The support team is friendly and helpful",
            "Great customer service, they solved it quickly",
        ],
    },
    Theme {
        name: "performance",
        patterns: &["slow", "performance", "lags?", "loads? fast"],
        negative: &[
            "The dashboard is slow to load",
            "Performance is terrible with large reports",
            "Pages lag all the time",
        ],
        positive: &[
            "Performance is excellent even with big reports",
            "Everything loads fast",
        ],
    },
    Theme {
        name: "ease_of_use",
        patterns: &[
            "easy to use",
            "intuitive",
            "user friendly",
            "confusing interface",
        ],
        negative: &[
            "The confusing interface makes simple tasks hard",
            "Not intuitive at all",
        ],
        positive: &[
            "Very easy to use",
            "The interface is intuitive and clean",
            "User friendly and simple",
        ],
    },
    Theme {
        name: "onboarding",
        patterns: &["onboarding", "setup", "getting started"],
        negative: &[
            "Onboarding was painful and long",
            "The setup documentation is outdated",
        ],
        positive: &[
            "Onboarding was smooth",
            "Setup took ten minutes, great getting started guide",
        ],
    },
    Theme {
        name: "reliability",
        patterns: &[
            "outages?",
            "downtime",
            "crash(?:es|ed)?",
            "reliab(?:le|ility)",
        ],
        negative: &[
            "Another outage this week",
            "The app crashed twice during our demo",
            "Too much downtime",
        ],
        positive: &["Rock solid and reliable", "No downtime in a year"],
    },
    Theme {
        name: "pricing",
        patterns: &["price", "pricing", "expensive", "value for money"],
        negative: &[
            "Too expensive for what it does",
            "The new pricing is hard to justify",
        ],
        positive: &["Good value for money", "Fair price for the features"],
    },
    Theme {
        name: "integrations",
        patterns: &["integrations?", "api", "salesforce", "slack"],
        negative: &[
            "The Salesforce integration keeps breaking",
            "The API is missing basic endpoints",
        ],
        positive: &[
            "The Slack integration is wonderful",
            "A clean API that our developers love",
        ],
    },
];

const FILLERS: &[&str] = &[
    "Thanks.",
    "Overall it works.",
    "Keep improving!",
    "That is all.",
    "We use it every day.",
];

/// Probability that a response carries a comment.
const COMMENT_PROBABILITY: f64 = 0.65;

/// The probability that a comment is about billing, by NPS category and later churn.
fn billing_share(score: i8, churns: bool) -> f64 {
    match (score, churns) {
        (0..=6, true) => 0.7,
        (0..=6, false) => 0.3,
        (7 | 8, _) => 0.08,
        _ => 0.03,
    }
}

/// The comment of a response with NPS `score` by a customer who churns later (`churns`), or
/// None when the customer wrote nothing.
pub(crate) fn comment(rng: &mut SplitMix64, score: i8, churns: bool) -> Option<String> {
    if !rng.chance(COMMENT_PROBABILITY) {
        return None;
    }
    let theme = if rng.chance(billing_share(score, churns)) {
        &THEMES[0]
    } else {
        &THEMES[1 + rng.below(THEMES.len() as u64 - 1) as usize]
    };
    let negative = match score {
        0..=6 => rng.chance(0.9),
        7 | 8 => rng.chance(0.5),
        _ => rng.chance(0.08),
    };
    let sentences = if negative {
        theme.negative
    } else {
        theme.positive
    };
    let mut text = sentences[rng.below(sentences.len() as u64) as usize].to_string();
    text.push(if negative && rng.chance(0.3) {
        '!'
    } else {
        '.'
    });
    if rng.chance(0.4) {
        text.push(' ');
        text.push_str(FILLERS[rng.below(FILLERS.len() as u64) as usize]);
    }
    Some(text)
}

/// The theme dictionary of the generated comments: theme -> regular expressions.
pub fn feedback_dictionary() -> Vec<(String, Vec<String>)> {
    THEMES
        .iter()
        .map(|t| {
            (
                t.name.to_string(),
                t.patterns.iter().map(|p| p.to_string()).collect(),
            )
        })
        .collect()
}
