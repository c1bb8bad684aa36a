//! A borrowed JSON tree for one Stripe object, and how its values read in messages.
//!
//! Strings without escapes borrow from the file's text, objects keep their keys in order as a
//! list (a lookup takes the last of repeated keys, as Python's `json` does), and whole numbers
//! stay apart from floats (`1` is a whole number, `1.0` is not). Values are shown in error
//! messages as Python shows them (`'x'`, `True`, `1.5`, `{'a': 1}`), so that the messages stay
//! those of the reader's earlier pure-Python version.

use std::borrow::Cow;
use std::fmt::{self, Write};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// One JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    /// A number without fraction or exponent that fits 64 bits (signed or unsigned).
    Whole(i128),
    /// Any other number.
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// Whether two keys are equal; the length and first byte are compared before the rest (most
/// keys of an object differ in one of them), which is most of the cost of a lookup.
#[inline]
fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.first() == b.first() && a == b
}

/// One step of a path into a JSON value: a key of an object or a position in an array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'k> {
    Key(&'k str),
    Index(usize),
}

impl<'a> Json<'a> {
    /// The value of `key` (the last one when the key repeats); None when this is not an object
    /// or has no such key.
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| same_key(k, key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this is an object with `key` (even when its value is null).
    pub(crate) fn has_key(&self, key: &str) -> bool {
        matches!(self, Json::Object(entries) if entries.iter().any(|(k, _)| k == key))
    }

    /// The value at `path`; None where a step is missing or lands on null (a missing field and
    /// a null one are the same to the reader).
    pub(crate) fn dig(&self, path: &[Seg<'_>]) -> Option<&Json<'a>> {
        let mut value = self;
        for step in path {
            value = match (step, value) {
                (Seg::Key(key), Json::Object(_)) => value.get(key)?,
                (Seg::Index(i), Json::Array(items)) => items.get(*i)?,
                _ => return None,
            };
            if matches!(value, Json::Null) {
                return None;
            }
        }
        Some(value)
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Python's truth value of the value (`0`, `""`, `[]`, `{}`, `false` and null are false).
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Json::Null => false,
            Json::Bool(b) => *b,
            Json::Whole(n) => *n != 0,
            Json::Float(x) => *x != 0.0,
            Json::Str(s) => !s.is_empty(),
            Json::Array(items) => !items.is_empty(),
            Json::Object(entries) => !entries.is_empty(),
        }
    }

    /// The name Python gives the value's type.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "NoneType",
            Json::Bool(_) => "bool",
            Json::Whole(_) => "int",
            Json::Float(_) => "float",
            Json::Str(_) => "str",
            Json::Array(_) => "list",
            Json::Object(_) => "dict",
        }
    }

    /// The value as Python's `repr` shows it.
    pub(crate) fn repr(&self) -> String {
        let mut out = String::new();
        write_repr(&mut out, self);
        out
    }

    /// The value as Python's `str` shows it (a string as it is, anything else as its repr).
    pub(crate) fn py_str(&self) -> Cow<'_, str> {
        match self {
            Json::Str(s) => Cow::Borrowed(s),
            other => Cow::Owned(other.repr()),
        }
    }
}

/// Python's `str` of an optional value (`None` when absent).
pub(crate) fn py_str_opt<'v>(value: Option<&'v Json<'_>>) -> Cow<'v, str> {
    value.map_or(Cow::Borrowed("None"), Json::py_str)
}

/// The name of a field at `path`, as the messages spell it: `items.data[0].price`.
pub(crate) fn field_name(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
            Seg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
        }
    }
    out
}

fn write_repr(out: &mut String, value: &Json<'_>) {
    match value {
        Json::Null => out.push_str("None"),
        Json::Bool(true) => out.push_str("True"),
        Json::Bool(false) => out.push_str("False"),
        Json::Whole(n) => {
            let _ = write!(out, "{n}");
        }
        Json::Float(x) => out.push_str(&float_repr(*x)),
        Json::Str(s) => write_str_repr(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Json::Object(entries) => {
            // A Python dict keeps a repeated key once, at its first place, with its last value.
            out.push('{');
            let mut first = true;
            for (i, (key, _)) in entries.iter().enumerate() {
                if entries[..i].iter().any(|(k, _)| k == key) {
                    continue;
                }
                if !first {
                    out.push_str(", ");
                }
                first = false;
                write_str_repr(out, key);
                out.push_str(": ");
                if let Some(last) = value.get(key) {
                    write_repr(out, last);
                }
            }
            out.push('}');
        }
    }
}

/// Python's `repr` of a string: single quotes unless the text holds a single quote and no
/// double one; control and other non-printable characters escaped.
pub(crate) fn str_repr(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_str_repr(&mut out, text);
    out
}

fn write_str_repr(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_ascii() || printable(c) => out.push(c),
            c => {
                let code = c as u32;
                let _ = if code <= 0xff {
                    write!(out, "\\x{code:02x}")
                } else if code <= 0xffff {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable` for a non-ASCII character, for the characters a message may
/// meet: control, format, separator (but the space), surrogate and private-use characters, and
/// the large unassigned blocks (of Unicode 14, Python 3.11's), are not printable. Other
/// unassigned characters, which Python escapes too, are shown as they are.
fn printable(c: char) -> bool {
    !matches!(c as u32,
        0x80..=0xa0
        | 0xad
        | 0x600..=0x605
        | 0x61c
        | 0x6dd
        | 0x70f
        | 0x180e
        | 0x1680
        | 0x2000..=0x200f
        | 0x2028..=0x202f
        | 0x205f..=0x206f
        | 0x3000
        | 0xd7fc..=0xf8ff
        | 0xfeff
        | 0xfff0..=0xfffb
        | 0xfffe..=0xffff
        | 0x12544..=0x12f8f
        | 0x1342f..=0x143ff
        | 0x14647..=0x167ff
        | 0x16b90..=0x16e3f
        | 0x18d09..=0x1afef
        | 0x1b2fc..=0x1bbff
        | 0x1bca0..=0x1ceff
        | 0x1dab0..=0x1deff
        | 0x1e300..=0x1e7df
        | 0x1e960..=0x1ec70
        | 0x1fbfa..=0x1ffff
        | 0x2ebe1..=0x2f7ff
        | 0x2fa1e..=0x2ffff
        | 0x3134b..=0xe00ff
        | 0xe01f0..=0x10ffff)
}

/// Python's `repr` of a float: the shortest digits that read back to it, in positional notation
/// for decimal exponents from -4 to 15 and in scientific notation (`1e+16`, `1.5e-05`) beyond.
pub(crate) fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let point = exponent + 1;
    if (-3..=16).contains(&point) {
        let count = digits.len() as i32;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(&digits);
        } else if point >= count {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (point - count) as usize));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
    }
    out
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PartVisitor(Part::Whole))
    }
}

/// An object key, borrowed from the text when it has no escapes.
pub(crate) struct Key<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The fields of an object the reader looks at, each with what it holds: the other fields are
/// skipped while parsing (checked as JSON, not kept). A field the reader may show in a message
/// is kept whole.
pub(crate) struct Schema {
    fields: &'static [(&'static str, Part)],
}

/// What a field of a [`Schema`] holds.
#[derive(Clone, Copy)]
pub(crate) enum Part {
    /// Anything, kept whole.
    Whole,
    /// An object of that schema (anything else is kept whole).
    Object(&'static Schema),
    /// An array of objects of that schema (anything else is kept whole).
    List(&'static Schema),
}

impl Schema {
    fn part(&self, key: &str) -> Option<Part> {
        self.fields
            .iter()
            .find(|(k, _)| same_key(k, key))
            .map(|(_, p)| *p)
    }
}

use Part::{List as L, Object as O, Whole as W};

const RECURRING: Schema = Schema {
    fields: &[("usage_type", W), ("interval", W), ("interval_count", W)],
};
const PRICE: Schema = Schema {
    fields: &[
        ("id", W),
        ("currency", W),
        ("unit_amount", W),
        ("unit_amount_decimal", W),
        ("recurring", O(&RECURRING)),
    ],
};
const ITEM: Schema = Schema {
    fields: &[
        ("quantity", W),
        ("created", W),
        ("current_period_start", W),
        ("current_period_end", W),
        ("price", O(&PRICE)),
    ],
};
const ITEMS: Schema = Schema {
    fields: &[("data", L(&ITEM))],
};
const COUPON: Schema = Schema {
    fields: &[
        ("id", W),
        ("percent_off", W),
        ("amount_off", W),
        ("currency", W),
        ("currency_options", W),
        ("duration", W),
        ("duration_in_months", W),
    ],
};
const SOURCE: Schema = Schema {
    fields: &[("coupon", O(&COUPON))],
};
const DISCOUNT: Schema = Schema {
    fields: &[
        ("id", W),
        ("start", W),
        ("end", W),
        ("subscription", W),
        ("coupon", O(&COUPON)),
        ("source", O(&SOURCE)),
    ],
};
const CUSTOMER: Schema = Schema {
    fields: &[("id", W), ("discount", O(&DISCOUNT))],
};
const CANCELLATION: Schema = Schema {
    fields: &[("reason", W)],
};

/// A subscription object.
pub(crate) const SUBSCRIPTION: Schema = Schema {
    fields: &[
        ("id", W),
        ("status", W),
        ("start_date", W),
        ("created", W),
        ("items", O(&ITEMS)),
        ("customer", O(&CUSTOMER)),
        ("trial_start", W),
        ("trial_end", W),
        ("canceled_at", W),
        ("cancel_at", W),
        ("cancel_at_period_end", W),
        ("ended_at", W),
        ("pause_collection", W),
        ("cancellation_details", O(&CANCELLATION)),
        ("current_period_start", W),
        ("current_period_end", W),
        ("discount", O(&DISCOUNT)),
        ("discounts", L(&DISCOUNT)),
    ],
};

/// An entry of a line's discount amounts, credits and taxes.
const AMOUNT: Schema = Schema {
    fields: &[
        ("amount", W),
        ("type", W),
        ("inclusive", W),
        ("tax_behavior", W),
    ],
};
const PERIOD: Schema = Schema {
    fields: &[("start", W), ("end", W)],
};
const PRICE_DETAILS: Schema = Schema {
    fields: &[("price", W)],
};
const PRICING: Schema = Schema {
    fields: &[("price_details", O(&PRICE_DETAILS))],
};
const LINE_DETAILS: Schema = Schema {
    fields: &[("proration", W), ("subscription", W)],
};
const LINE_PARENT: Schema = Schema {
    fields: &[
        ("type", W),
        ("subscription_item_details", O(&LINE_DETAILS)),
        ("invoice_item_details", O(&LINE_DETAILS)),
    ],
};
const PLAN: Schema = Schema {
    fields: &[("usage_type", W)],
};
const LINE: Schema = Schema {
    fields: &[
        ("id", W),
        ("parent", O(&LINE_PARENT)),
        ("type", W),
        ("proration", W),
        ("subscription", W),
        ("price", W),
        ("pricing", O(&PRICING)),
        ("plan", O(&PLAN)),
        ("currency", W),
        ("amount", W),
        ("discount_amounts", L(&AMOUNT)),
        ("pretax_credit_amounts", L(&AMOUNT)),
        ("tax_amounts", L(&AMOUNT)),
        ("taxes", L(&AMOUNT)),
        ("period", O(&PERIOD)),
        ("quantity", W),
    ],
};
const LINES: Schema = Schema {
    fields: &[("data", L(&LINE)), ("has_more", W)],
};
const SUBSCRIPTION_DETAILS: Schema = Schema {
    fields: &[("subscription", W)],
};
const INVOICE_PARENT: Schema = Schema {
    fields: &[("subscription_details", O(&SUBSCRIPTION_DETAILS))],
};

/// An invoice object (or anything else an invoice file holds).
pub(crate) const INVOICE: Schema = Schema {
    fields: &[
        ("id", W),
        ("object", W),
        ("status", W),
        ("lines", O(&LINES)),
        ("subscription", W),
        ("parent", O(&INVOICE_PARENT)),
        ("customer", W),
    ],
};

/// Parses one value of `text`, keeping of its objects the fields `part` names.
pub(crate) fn parse<'a>(text: &'a str, part: Part) -> serde_json::Result<Json<'a>> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde::de::DeserializeSeed::deserialize(Read(part), &mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A value read by its [`Part`].
struct Read(Part);

impl<'de> serde::de::DeserializeSeed<'de> for Read {
    type Value = Json<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(PartVisitor(self.0))
    }
}

/// Builds a value; of an object of [`Part::Object`], only the schema's fields.
struct PartVisitor(Part);

impl<'de> Visitor<'de> for PartVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Json::Whole(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Json::Whole(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Json::Float(v))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let element = match self.0 {
            Part::List(schema) => Part::Object(schema),
            _ => Part::Whole,
        };
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Read(element))? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Part::Object(schema) = self.0 else {
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
            while let Some((Key(key), value)) = map.next_entry::<Key<'de>, Json<'de>>()? {
                entries.push((key, value));
            }
            return Ok(Json::Object(entries));
        };
        let mut entries = Vec::with_capacity(schema.fields.len().min(16));
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match schema.part(&key) {
                Some(part) => {
                    let value = map.next_value_seed(Read(part))?;
                    entries.push((key, value));
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Json::Object(entries))
    }
}
