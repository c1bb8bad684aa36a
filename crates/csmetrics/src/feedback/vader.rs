//! VADER sentiment (Hutto & Gilbert 2014): the lexicon of vaderSentiment 3.3.2 (MIT, bundled
//! with its notice in LICENSE-VADER.txt) and the rules of the paper, written here: booster and
//! dampener words (+-0.293, less at distance 2 and 3), negation of the three preceding words
//! (x -0.74), "least", the contrastive "but" (x0.5 before, x1.5 after), ALL-CAPS emphasis
//! (+-0.733 when only some words are capitals), exclamation marks (0.292 each, up to 4) and
//! question marks (0.18 each for 2-3, 0.96 for more), the idioms of the reference
//! implementation, emojis read through their descriptions, and the compound score
//! x / sqrt(x^2 + 15).

use std::collections::HashMap as StdMap;

use foldhash::fast::FixedState;

type HashMap<K, V> = StdMap<K, V, FixedState>;
use std::sync::OnceLock;

const LEXICON: &str = include_str!("vader_lexicon.txt");
const EMOJI_LEXICON: &str = include_str!("emoji_utf8_lexicon.txt");

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

const NEGATIONS: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const BOOSTERS_UP: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

const BOOSTERS_DOWN: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "just enough",
    "kind of",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sort of",
    "sorta",
    "sortof",
    "sort-of",
];

const SPECIAL_CASES: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.5),
];

// ASCII punctuation, the characters stripped from the ends of a word.
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

struct Tables {
    lexicon: HashMap<String, f64>,
    emojis: HashMap<char, String>,
    boosters: HashMap<&'static str, f64>,
    special: HashMap<&'static str, f64>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut lexicon = HashMap::default();
        for line in LEXICON.lines() {
            let mut fields = line.trim().split('\t');
            if let (Some(word), Some(measure)) = (fields.next(), fields.next()) {
                if let Ok(value) = measure.parse::<f64>() {
                    lexicon.insert(word.to_string(), value);
                }
            }
        }
        let mut emojis = HashMap::default();
        for line in EMOJI_LEXICON.lines() {
            let mut fields = line.trim().split('\t');
            if let (Some(emoji), Some(description)) = (fields.next(), fields.next()) {
                let mut chars = emoji.chars();
                // Only single code points can match, the text being read one at a time.
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    emojis.insert(c, description.to_string());
                }
            }
        }
        let boosters = BOOSTERS_UP
            .iter()
            .map(|w| (*w, B_INCR))
            .chain(BOOSTERS_DOWN.iter().map(|w| (*w, B_DECR)))
            .collect();
        Tables {
            lexicon,
            emojis,
            boosters,
            special: SPECIAL_CASES.iter().copied().collect(),
        }
    })
}

/// Python's `str.isupper`: at least one cased character, and no lower-case one.
fn is_upper(word: &str) -> bool {
    let mut cased = false;
    for c in word.chars() {
        if c.is_lowercase() {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// Whitespace as Python's `str.split()` sees it.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn strip_punctuation(token: &str) -> &str {
    let stripped = token.trim_matches(|c| PUNCTUATION.contains(c));
    // Two characters or fewer left: most likely an emoticon such as ":)" or ":D"; keep it.
    if stripped.chars().count() <= 2 {
        token
    } else {
        stripped
    }
}

fn negated(word: &str) -> bool {
    NEGATIONS.contains(&word) || word.contains("n't")
}

struct Words<'a> {
    original: Vec<&'a str>,
    lower: Vec<String>,
    cap_differential: bool,
}

impl Words<'_> {
    fn in_lexicon(&self, i: usize) -> bool {
        tables().lexicon.contains_key(&self.lower[i])
    }
}

fn booster_scalar(word: &str, lower: &str, valence: f64, cap_differential: bool) -> f64 {
    let Some(&base) = tables().boosters.get(lower) else {
        return 0.0;
    };
    let mut scalar = if valence < 0.0 { -base } else { base };
    if is_upper(word) && cap_differential {
        scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    scalar
}

fn negation_check(valence: f64, w: &Words, distance: usize, i: usize) -> f64 {
    let l = &w.lower;
    match distance {
        0 if negated(&l[i - 1]) => valence * N_SCALAR,
        1 => {
            if l[i - 2] == "never" && (l[i - 1] == "so" || l[i - 1] == "this") {
                valence * 1.25
            } else if l[i - 2] == "without" && l[i - 1] == "doubt" {
                valence
            } else if negated(&l[i - 2]) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        2 => {
            let never_so = l[i - 3] == "never" && (l[i - 2] == "so" || l[i - 2] == "this");
            if never_so || l[i - 1] == "so" || l[i - 1] == "this" {
                valence * 1.25
            } else if l[i - 3] == "without" && (l[i - 2] == "doubt" || l[i - 1] == "doubt") {
                valence
            } else if negated(&l[i - 3]) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        _ => valence,
    }
}

fn special_idioms(mut valence: f64, w: &Words, i: usize) -> f64 {
    let t = tables();
    let l = &w.lower;
    let sequences = [
        format!("{} {}", l[i - 1], l[i]),
        format!("{} {} {}", l[i - 2], l[i - 1], l[i]),
        format!("{} {}", l[i - 2], l[i - 1]),
        format!("{} {} {}", l[i - 3], l[i - 2], l[i - 1]),
        format!("{} {}", l[i - 3], l[i - 2]),
    ];
    if let Some(v) = sequences.iter().find_map(|s| t.special.get(s.as_str())) {
        valence = *v;
    }
    if l.len() > i + 1 {
        if let Some(v) = t.special.get(format!("{} {}", l[i], l[i + 1]).as_str()) {
            valence = *v;
        }
    }
    if l.len() > i + 2 {
        let three = format!("{} {} {}", l[i], l[i + 1], l[i + 2]);
        if let Some(v) = t.special.get(three.as_str()) {
            valence = *v;
        }
    }
    for gram in [&sequences[3], &sequences[4], &sequences[2]] {
        if let Some(v) = t.boosters.get(gram.as_str()) {
            valence += v;
        }
    }
    valence
}

fn least_check(valence: f64, w: &Words, i: usize) -> f64 {
    if i > 0 && w.lower[i - 1] == "least" && !w.in_lexicon(i - 1) {
        if i > 1 && (w.lower[i - 2] == "at" || w.lower[i - 2] == "very") {
            return valence;
        }
        return valence * N_SCALAR;
    }
    valence
}

fn word_valence(w: &Words, i: usize) -> f64 {
    let t = tables();
    let lower = &w.lower[i];
    let Some(&base) = t.lexicon.get(lower) else {
        return 0.0;
    };
    let mut valence = base;
    let last = w.lower.len() - 1;
    if lower == "no" && i != last && w.in_lexicon(i + 1) {
        // "no" before a lexicon word negates it instead of counting on its own.
        valence = 0.0;
    }
    let no_before = (i > 0 && w.lower[i - 1] == "no")
        || (i > 1 && w.lower[i - 2] == "no")
        || (i > 2 && w.lower[i - 3] == "no" && (w.lower[i - 1] == "or" || w.lower[i - 1] == "nor"));
    if no_before {
        valence = base * N_SCALAR;
    }
    if is_upper(w.original[i]) && w.cap_differential {
        valence += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    for distance in 0..3 {
        if i > distance && !w.in_lexicon(i - distance - 1) {
            let before = i - distance - 1;
            let mut s = booster_scalar(
                w.original[before],
                &w.lower[before],
                valence,
                w.cap_differential,
            );
            if distance == 1 {
                s *= 0.95;
            } else if distance == 2 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, w, distance, i);
            if distance == 2 {
                valence = special_idioms(valence, w, i);
            }
        }
    }
    least_check(valence, w, i)
}

fn replace_emojis(text: &str) -> String {
    let emojis = &tables().emojis;
    if text.is_ascii() {
        return text.trim().to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut previous_space = true;
    for c in text.chars() {
        if let Some(description) = emojis.get(&c) {
            if !previous_space {
                out.push(' ');
            }
            out.push_str(description);
            previous_space = false;
        } else {
            out.push(c);
            previous_space = c == ' ';
        }
    }
    out.trim().to_string()
}

fn punctuation_emphasis(text: &str) -> f64 {
    let exclamations = text.matches('!').count().min(4);
    let questions = text.matches('?').count();
    let question_emphasis = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    exclamations as f64 * 0.292 + question_emphasis
}

/// The VADER compound score of `text`, in [-1, 1]; 0 for a text without sentiment words.
pub fn compound(text: &str) -> f64 {
    let text = replace_emojis(text);
    let original: Vec<&str> = text
        .split(is_space)
        .filter(|s| !s.is_empty())
        .map(strip_punctuation)
        .collect();
    if original.is_empty() {
        return 0.0;
    }
    let lower: Vec<String> = original.iter().map(|w| w.to_lowercase()).collect();
    let capitals = original.iter().filter(|w| is_upper(w)).count();
    let words = Words {
        cap_differential: capitals > 0 && capitals < original.len(),
        original,
        lower,
    };
    let t = tables();
    let mut sentiments: Vec<f64> = Vec::with_capacity(words.lower.len());
    for i in 0..words.lower.len() {
        let lower = &words.lower[i];
        let modifier = t.boosters.contains_key(lower.as_str())
            || (lower == "kind" && words.lower.get(i + 1).is_some_and(|n| n == "of"));
        sentiments.push(if modifier {
            0.0
        } else {
            word_valence(&words, i)
        });
    }
    if let Some(but) = words.lower.iter().position(|w| w == "but") {
        for (i, s) in sentiments.iter_mut().enumerate() {
            if i < but {
                *s *= 0.5;
            } else if i > but {
                *s *= 1.5;
            }
        }
    }
    let mut sum: f64 = sentiments.iter().sum();
    let emphasis = punctuation_emphasis(&text);
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    (sum / (sum * sum + 15.0).sqrt()).clamp(-1.0, 1.0)
}
