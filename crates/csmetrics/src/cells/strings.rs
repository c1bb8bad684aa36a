//! The few values of a String key: found chunk by chunk, and looked up by their views (inline
//! values compared as integers, longer ones by their bytes).

use polars::prelude::*;
use polars_arrow::array::{Array, Utf8ViewArray};

use super::key::Text;
use super::FEW_STRINGS;

pub(super) fn text_of(array: &Utf8ViewArray, i: usize) -> Text {
    if !array.is_valid(i) {
        return Text::Null;
    }
    let view = array.views()[i];
    if view.length <= 12 {
        Text::Inline(view.as_u128())
    } else {
        Text::Long(array.value(i).to_string())
    }
}

/// The values of a string key split for lookup: the inline views (up to 12 bytes: the 16-byte
/// view is the value) compared as integers, the longer values by their bytes.
#[derive(Debug, Clone, Default)]
pub(super) struct StringLookup {
    pub(super) inline: Vec<u128>,
    pub(super) inline_codes: Vec<u32>,
    pub(super) long: Vec<String>,
    pub(super) long_codes: Vec<u32>,
    pub(super) null: Option<u32>,
    /// Up to [`QUAD`] inline values and their codes, padded with a view no string has (length
    /// 2^32 - 1), compared without branches.
    pub(super) quad: Option<([u128; QUAD], [u32; QUAD])>,
}

/// Inline values compared at once.
const QUAD: usize = 4;

impl StringLookup {
    pub(super) fn of(values: &[Text]) -> StringLookup {
        let mut lookup = StringLookup::default();
        for (code, v) in values.iter().enumerate() {
            let code = code as u32;
            match v {
                Text::Null => lookup.null = Some(code),
                Text::Inline(bits) => {
                    lookup.inline.push(*bits);
                    lookup.inline_codes.push(code);
                }
                Text::Long(s) => {
                    lookup.long.push(s.clone());
                    lookup.long_codes.push(code);
                }
            }
        }
        if lookup.inline.len() <= QUAD {
            let mut bits = [u128::MAX; QUAD];
            let mut codes = [0u32; QUAD];
            for (k, (b, c)) in lookup.inline.iter().zip(&lookup.inline_codes).enumerate() {
                bits[k] = *b;
                codes[k] = *c;
            }
            lookup.quad = Some((bits, codes));
        }
        lookup
    }

    /// The code of an inline view among at most [`QUAD`] values (0 when it is none of them);
    /// also whether it was found.
    #[inline(always)]
    fn quad_code(bits: u128, quad: &([u128; QUAD], [u32; QUAD])) -> (u32, bool) {
        let mut code = 0;
        let mut found = false;
        for k in 0..QUAD {
            let hit = bits == quad.0[k];
            code |= u32::from(hit) * quad.1[k];
            found |= hit;
        }
        (code, found)
    }

    /// The code of a valid row's view, if its value is known.
    #[inline(always)]
    pub(super) fn code(
        &self,
        array: &Utf8ViewArray,
        i: usize,
        view: polars_arrow::array::View,
    ) -> Option<u32> {
        if view.length <= 12 {
            let bits = view.as_u128();
            if let Some(quad) = &self.quad {
                let (code, found) = Self::quad_code(bits, quad);
                return found.then_some(code);
            }
            self.inline
                .iter()
                .position(|b| *b == bits)
                .map(|p| self.inline_codes[p])
        } else {
            let s = array.value(i);
            self.long
                .iter()
                .position(|t| t == s)
                .map(|p| self.long_codes[p])
        }
    }

    /// `out[j] = out[j] * radix + code(row offset + j)`; unknown values (none, once the first
    /// pass has run) take code 0.
    pub(super) fn fill(&self, array: &Utf8ViewArray, offset: usize, radix: u32, out: &mut [u32]) {
        let views = &array.views()[offset..offset + out.len()];
        match array.validity().filter(|v| v.unset_bits() > 0) {
            None if self.long.is_empty() && self.quad.is_some() => {
                if let Some(quad) = &self.quad {
                    for (cell, view) in out.iter_mut().zip(views) {
                        *cell = *cell * radix + Self::quad_code(view.as_u128(), quad).0;
                    }
                }
            }
            None if self.long.is_empty() => {
                for (cell, view) in out.iter_mut().zip(views) {
                    let bits = view.as_u128();
                    let code = self
                        .inline
                        .iter()
                        .position(|b| *b == bits)
                        .map_or(0, |p| self.inline_codes[p]);
                    *cell = *cell * radix + code;
                }
            }
            validity => {
                for (j, (cell, view)) in out.iter_mut().zip(views).enumerate() {
                    let code = if validity.is_some_and(|v| !v.get_bit(offset + j)) {
                        self.null
                    } else {
                        self.code(array, offset + j, *view)
                    };
                    *cell = *cell * radix + code.unwrap_or(0);
                }
            }
        }
    }
}

/// The distinct strings of rows `range` of a string series, in order of first appearance;
/// `None` when there are more than [`FEW_STRINGS`].
pub(super) fn distinct_strings(
    series: &Series,
    range: std::ops::Range<usize>,
) -> Option<Vec<Text>> {
    let part = series.slice(range.start as i64, range.len());
    let mut values: Vec<Text> = Vec::new();
    let mut lookup = StringLookup::default();
    for chunk in part.chunks() {
        let a = chunk.as_any().downcast_ref::<Utf8ViewArray>()?;
        let views = a.views();
        let validity = a.validity().filter(|v| v.unset_bits() > 0);
        for (i, view) in views.iter().enumerate() {
            let known = if validity.is_some_and(|v| !v.get_bit(i)) {
                lookup.null.is_some()
            } else {
                lookup.code(a, i, *view).is_some()
            };
            if !known {
                if values.len() == FEW_STRINGS {
                    return None;
                }
                values.push(text_of(a, i));
                lookup = StringLookup::of(&values);
            }
        }
    }
    Some(values)
}
