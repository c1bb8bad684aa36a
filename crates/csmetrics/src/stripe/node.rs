//! Fields of a Stripe object read with their type checks, and the errors that name the file,
//! the object and the field; exact money in the currency's major unit.

use std::borrow::Cow;

use super::json::{field_name, Json, Seg};
use crate::error::{CsError, Result};

/// Where an object is: its file, the kind of the top object and its id (or `#position`).
pub(crate) struct Ctx<'c> {
    pub(crate) file: &'c str,
    pub(crate) kind: &'static str,
    pub(crate) object_id: &'c str,
}

impl Ctx<'_> {
    /// The error about field `name` of this object: `has no <name>` without a problem, else
    /// `has <name> <problem>`.
    pub(crate) fn error(&self, name: String, problem: Option<&str>) -> CsError {
        let message = match problem {
            None => format!(
                "{}: {} {} has no {name}",
                self.file, self.kind, self.object_id
            ),
            Some(problem) => format!(
                "{}: {} {} has {name} {problem}",
                self.file, self.kind, self.object_id
            ),
        };
        CsError::StripeFormat {
            message,
            file: self.file.to_string(),
            object_id: Some(self.object_id.to_string()),
            field: Some(name),
        }
    }
}

/// A file-level problem (not JSON, not objects): the message names the file only.
pub(crate) fn file_error(file: &str, problem: &str) -> CsError {
    CsError::StripeFormat {
        message: format!("{file}: {problem}"),
        file: file.to_string(),
        object_id: None,
        field: None,
    }
}

/// A JSON value inside an object, with the path that leads to it (for messages).
pub(crate) struct Node<'n, 'a> {
    pub(crate) ctx: &'n Ctx<'n>,
    pub(crate) data: Option<&'n Json<'a>>,
    pub(crate) prefix: Vec<Seg<'n>>,
}

/// Unix seconds Python's datetime can hold (years 1 to 9999).
const FIRST_SECOND: i128 = -62_135_596_800;
const LAST_SECOND: i128 = 253_402_300_799;

impl<'n, 'a> Node<'n, 'a> {
    pub(crate) fn root(ctx: &'n Ctx<'n>, data: &'n Json<'a>) -> Self {
        Node {
            ctx,
            data: Some(data),
            prefix: Vec::new(),
        }
    }

    pub(crate) fn error(&self, path: &[Seg<'_>], problem: Option<&str>) -> CsError {
        let mut full: Vec<Seg<'_>> = self.prefix.clone();
        full.extend_from_slice(path);
        self.ctx.error(field_name(&full), problem)
    }

    pub(crate) fn child(&self, path: &[Seg<'n>]) -> Node<'n, 'a> {
        let mut prefix = self.prefix.clone();
        prefix.extend_from_slice(path);
        Node {
            ctx: self.ctx,
            data: self.data.and_then(|d| d.dig(path)),
            prefix,
        }
    }

    pub(crate) fn opt(&self, path: &[Seg<'_>]) -> Option<&'n Json<'a>> {
        self.data.and_then(|d| d.dig(path))
    }

    pub(crate) fn need(&self, path: &[Seg<'_>]) -> Result<&'n Json<'a>> {
        self.opt(path).ok_or_else(|| self.error(path, None))
    }

    fn get(&self, path: &[Seg<'_>], required: bool) -> Result<Option<&'n Json<'a>>> {
        if required {
            self.need(path).map(Some)
        } else {
            Ok(self.opt(path))
        }
    }

    fn wrong(&self, path: &[Seg<'_>], value: &Json<'_>, what: &str) -> CsError {
        self.error(path, Some(&format!("= {}, {what}", value.repr())))
    }

    /// A string.
    pub(crate) fn text(
        &self,
        path: &[Seg<'_>],
        required: bool,
    ) -> Result<Option<&'n Cow<'a, str>>> {
        match self.get(path, required)? {
            None => Ok(None),
            Some(Json::Str(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(path, other, "not a string")),
        }
    }

    /// An id given as a string or as an expanded object with an `id`.
    pub(crate) fn ident(
        &self,
        path: &[Seg<'_>],
        required: bool,
    ) -> Result<Option<&'n Cow<'a, str>>> {
        let mut value = self.get(path, required)?;
        if let Some(object @ Json::Object(_)) = value {
            value = match object.get("id") {
                None | Some(Json::Null) => {
                    let mut with_id = path.to_vec();
                    with_id.push(Seg::Key("id"));
                    return Err(self.error(&with_id, None));
                }
                id => id,
            };
        }
        match value {
            None => Ok(None),
            Some(Json::Str(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(path, other, "not an id")),
        }
    }

    /// A whole number (not a float, not a boolean).
    pub(crate) fn whole(&self, path: &[Seg<'_>], required: bool) -> Result<Option<i128>> {
        match self.get(path, required)? {
            None => Ok(None),
            Some(Json::Whole(n)) => Ok(Some(*n)),
            Some(other) => Err(self.wrong(path, other, "not a whole number")),
        }
    }

    /// A whole number that a 64-bit integer column holds.
    pub(crate) fn whole64(&self, path: &[Seg<'_>], required: bool) -> Result<Option<i64>> {
        match self.whole(path, required)? {
            None => Ok(None),
            Some(n) => i64::try_from(n).map(Some).map_err(|_| {
                self.error(path, Some(&format!("= {n}, beyond a 64-bit whole number")))
            }),
        }
    }

    /// Unix seconds, as microseconds since 1970-01-01 UTC.
    pub(crate) fn time(&self, path: &[Seg<'_>], required: bool) -> Result<Option<i64>> {
        match self.whole(path, required)? {
            None => Ok(None),
            Some(seconds) if (FIRST_SECOND..=LAST_SECOND).contains(&seconds) => {
                // In range: fits i64 microseconds with room to spare.
                Ok(Some((seconds * 1_000_000) as i64))
            }
            Some(seconds) => Err(self.error(
                path,
                Some(&format!(
                    "= {seconds}, not a time between the years 1 and 9999"
                )),
            )),
        }
    }

    /// A boolean; missing or null is false.
    pub(crate) fn flag(&self, path: &[Seg<'_>]) -> Result<bool> {
        match self.opt(path) {
            None => Ok(false),
            Some(Json::Bool(b)) => Ok(*b),
            Some(other) => Err(self.wrong(path, other, "not true or false")),
        }
    }
}

/// The decimals of `currency`'s minor unit in Stripe amounts: 0 for the zero-decimal
/// currencies (JPY, KRW, ...), 3 for BHD, JOD, KWD, OMR and TND, else 2. Case does not matter.
pub fn currency_exponent(currency: &str) -> u32 {
    const ZERO: [&str; 16] = [
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
        "XAF", "XOF", "XPF",
    ];
    const THREE: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];
    let code = currency.to_uppercase();
    if ZERO.contains(&code.as_str()) {
        0
    } else if THREE.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// An exact decimal amount: `coefficient * 10^exponent`, as Python's `Decimal` holds it (the
/// exponent is kept: `19.90` has exponent -2, and gives the column's scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Money {
    pub(crate) coefficient: i128,
    pub(crate) exponent: i32,
}

/// Significant digits of Python's default decimal context: shifting a decimal rounds to them.
const PRECISION: usize = 28;

impl Money {
    /// `minor` units of `currency` in major units.
    pub(crate) fn from_minor(minor: i128, currency: &str) -> Money {
        let negative = minor < 0;
        rounded(
            &minor.unsigned_abs().to_string(),
            negative,
            -(currency_exponent(currency) as i32),
        )
    }

    /// A decimal text (`"12.3456"`, `"1e3"`, `" 7 "`, `"1_000"`) of minor units of `currency`
    /// in major units; None when it is not a finite number.
    pub(crate) fn from_decimal_text(text: &str, currency: &str) -> Option<Money> {
        let (digits, negative, exponent) = parse_decimal(text)?;
        let shifted = exponent.checked_sub(currency_exponent(currency) as i64)?;
        let exponent = i32::try_from(shifted).ok()?;
        // Far beyond any column's scale: refused before any arithmetic on it.
        if !(-1_000..=1_000).contains(&exponent) {
            return None;
        }
        Some(rounded(&digits, negative, exponent))
    }

    /// The decimals this amount has (0 for a positive exponent).
    pub(crate) fn scale(&self) -> u32 {
        if self.exponent < 0 {
            self.exponent.unsigned_abs()
        } else {
            0
        }
    }

    /// The amount as an integer of `scale` decimals; None when it does not fit 38 digits.
    pub(crate) fn at_scale(&self, scale: u32) -> Option<i128> {
        let shift = i64::from(scale) + i64::from(self.exponent);
        if shift < 0 {
            return None;
        }
        let factor = 10i128.checked_pow(u32::try_from(shift).ok()?)?;
        let value = self.coefficient.checked_mul(factor)?;
        (value.unsigned_abs() < 10u128.pow(38)).then_some(value)
    }
}

/// Digits (no sign, maybe leading zeros) times 10^exponent, rounded half-even to 28
/// significant digits the way Python's `Decimal.scaleb` does.
fn rounded(digits: &str, negative: bool, exponent: i32) -> Money {
    let significant = digits.trim_start_matches('0');
    let mut exponent = exponent;
    let mut kept: Vec<u8> = significant.bytes().collect();
    if kept.len() > PRECISION {
        let dropped = kept.split_off(PRECISION);
        exponent += dropped.len() as i32;
        let first = dropped[0];
        let rest_nonzero = dropped[1..].iter().any(|&d| d != b'0');
        let last_odd = kept.last().is_some_and(|&d| (d - b'0') % 2 == 1);
        if first > b'5' || (first == b'5' && (rest_nonzero || last_odd)) {
            // Add one at the last kept digit, carrying leftwards.
            let mut i = kept.len();
            loop {
                if i == 0 {
                    kept.insert(0, b'1');
                    break;
                }
                i -= 1;
                if kept[i] == b'9' {
                    kept[i] = b'0';
                } else {
                    kept[i] += 1;
                    break;
                }
            }
            if kept.len() > PRECISION {
                kept.pop();
                exponent += 1;
            }
        }
    }
    let mut coefficient: i128 = 0;
    for d in kept {
        // At most 28 digits: no overflow.
        coefficient = coefficient * 10 + i128::from(d - b'0');
    }
    Money {
        coefficient: if negative { -coefficient } else { coefficient },
        exponent,
    }
}

/// Python's `Decimal(text)` for finite numbers: surrounding white space and underscores are
/// ignored; gives the digits, the sign and the exponent.
fn parse_decimal(text: &str) -> Option<(String, bool, i64)> {
    let cleaned: String = text.trim().chars().filter(|&c| c != '_').collect();
    let bytes = cleaned.as_bytes();
    let mut i = 0;
    let mut negative = false;
    if let Some(&sign) = bytes.first() {
        if sign == b'+' || sign == b'-' {
            negative = sign == b'-';
            i += 1;
        }
    }
    let mut digits = String::new();
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        digits.push(bytes[i] as char);
        i += 1;
    }
    let mut fraction = 0i64;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            digits.push(bytes[i] as char);
            fraction += 1;
            i += 1;
        }
    }
    if digits.is_empty() {
        return None;
    }
    let mut exponent = 0i64;
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        let mut exponent_negative = false;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            exponent_negative = bytes[i] == b'-';
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let text = &cleaned[start..i];
        if text.is_empty() || text.len() > 12 {
            return None;
        }
        exponent = text.parse().ok()?;
        if exponent_negative {
            exponent = -exponent;
        }
    }
    if i != bytes.len() {
        return None;
    }
    Some((digits, negative, exponent - fraction))
}
