//! Export files: their layout (a JSON array, a list envelope, one object, or JSON lines) and
//! the parallel pass that parses each object and hands it to a sink, in object order.

use std::ops::Range;

use super::json::{parse, Json, Key, Part, Schema};
use super::node::{file_error, Ctx};
use crate::error::{CsError, Result};
use crate::parallel;

/// The text of one file; a file that cannot be read is an I/O error naming it.
pub(crate) fn read_text(file: &str) -> Result<String> {
    let bytes = std::fs::read(file).map_err(|source| CsError::Io {
        path: file.to_string(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|err| {
        file_error(
            file,
            &format!(
                "is not UTF-8 text (byte {} is not valid)",
                err.utf8_error().valid_up_to()
            ),
        )
    })
}

/// The objects of a file, not yet parsed.
pub(crate) enum Layout<'t> {
    /// Values of a JSON array (or a list envelope's `data`, or a single object), found by
    /// their brackets: the file is one JSON value if every one of them parses.
    Values(Vec<&'t str>),
    /// JSON lines: the number and text of each line that is not blank.
    Lines(Vec<(usize, &'t str)>),
}

impl Layout<'_> {
    fn len(&self) -> usize {
        match self {
            Layout::Values(v) => v.len(),
            Layout::Lines(v) => v.len(),
        }
    }
}

/// Python's white space (`str.strip`), for telling blank lines and empty files.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

fn json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && json_space(bytes[i]) {
        i += 1;
    }
    i
}

/// The end of the string starting at `bytes[i] == b'"'` (past its closing quote).
fn skip_string(bytes: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

/// The end of the value starting at `bytes[i]`, by its brackets and strings only (the value's
/// own parse checks the rest).
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => skip_string(bytes, i),
        b'[' | b'{' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < bytes.len() {
                match bytes[j] {
                    b'"' => {
                        j = skip_string(bytes, j)?;
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < bytes.len()
                && !matches!(bytes[j], b',' | b']' | b'}')
                && !json_space(bytes[j])
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The members of an array or object: (key, value) byte ranges, no key in an array.
type Members = Vec<(Option<Range<usize>>, Range<usize>)>;

/// The members of the array or object opening at `bytes[open]`, and the end past its closing
/// bracket; None when the brackets, commas and colons are not those of one.
fn members(bytes: &[u8], open: usize) -> Option<(Members, usize)> {
    let object = bytes[open] == b'{';
    let close = if object { b'}' } else { b']' };
    let mut out = Vec::new();
    let mut i = skip_space(bytes, open + 1);
    if bytes.get(i) == Some(&close) {
        return Some((out, i + 1));
    }
    loop {
        let key = if object {
            if bytes.get(i) != Some(&b'"') {
                return None;
            }
            let end = skip_string(bytes, i)?;
            let key = i..end;
            i = skip_space(bytes, end);
            if bytes.get(i) != Some(&b':') {
                return None;
            }
            i = skip_space(bytes, i + 1);
            Some(key)
        } else {
            None
        };
        let end = skip_value(bytes, i)?;
        out.push((key, i..end));
        i = skip_space(bytes, end);
        match bytes.get(i) {
            Some(b',') => i = skip_space(bytes, i + 1),
            Some(&b) if b == close => return Some((out, i + 1)),
            _ => return None,
        }
    }
}

/// The objects of the file if the whole text may be one JSON value (found by brackets: each
/// value's own parse confirms it); None when it is not (then it is read as JSON lines).
fn values<'t>(file: &str, text: &'t str) -> Result<Option<Vec<&'t str>>> {
    let bytes = text.as_bytes();
    let first = skip_space(bytes, 0);
    let Some(&open) = bytes.get(first) else {
        return Ok(Some(Vec::new()));
    };
    if open != b'[' && open != b'{' {
        // A scalar: an error if it is one JSON value, else JSON lines.
        return match serde_json::from_str::<Json<'_>>(text) {
            Ok(value) => Err(file_error(
                file,
                &format!("holds {}, not Stripe objects", value.type_name()),
            )),
            Err(_) => Ok(None),
        };
    }
    let Some((found, end)) = members(bytes, first) else {
        return Ok(None);
    };
    if skip_space(bytes, end) != bytes.len() {
        return Ok(None);
    }
    let slice = |r: &Range<usize>| &text[r.clone()];
    if open == b'[' {
        return Ok(Some(found.iter().map(|(_, v)| slice(v)).collect()));
    }
    // An object: a list envelope when its (last) `data` is an array, else one object.
    let mut data = None;
    for (key, value) in &found {
        let Some(key) = key else { return Ok(None) };
        let Ok(Key(name)) = serde_json::from_str::<Key<'_>>(slice(key)) else {
            return Ok(None);
        };
        if name == "data" {
            data = Some(value.clone());
        }
    }
    let Some(data) = data.filter(|d| bytes[d.start] == b'[') else {
        return Ok(Some(vec![&text[first..end]]));
    };
    // The envelope's other values must be JSON too (the whole file is one value).
    for (_, value) in &found {
        if value.start != data.start
            && serde_json::from_str::<serde::de::IgnoredAny>(slice(value)).is_err()
        {
            return Ok(None);
        }
    }
    match members(bytes, data.start) {
        Some((items, _)) => Ok(Some(items.iter().map(|(_, v)| slice(v)).collect())),
        None => Ok(None),
    }
}

/// How the file's objects are laid out: one JSON value if the whole text is one, else JSON
/// lines. `whole: false` reads JSON lines (a value found by its brackets did not parse).
pub(crate) fn layout<'t>(file: &str, text: &'t str, whole: bool) -> Result<Layout<'t>> {
    if text.trim_matches(is_space).is_empty() {
        return Ok(Layout::Values(Vec::new()));
    }
    if whole {
        if let Some(found) = values(file, text)? {
            return Ok(Layout::Values(found));
        }
    }
    Ok(Layout::Lines(lines(text)))
}

/// The lines that are not blank, numbered from 1 (`\n`, `\r\n` and `\r` end a line, as in
/// Python's universal newlines).
fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut number = 0;
    for piece in text.split_inclusive('\n') {
        let piece = piece.strip_suffix('\n').unwrap_or(piece);
        let piece = piece.strip_suffix('\r').unwrap_or(piece);
        // A lone carriage return (rare) ends a line too.
        for line in piece.split('\r') {
            number += 1;
            if !line.trim_matches(is_space).is_empty() {
                out.push((number, line));
            }
        }
    }
    out
}

/// serde_json's message without its position (the line is named by the caller), with the
/// column.
fn message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let bare = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(head, _)| head);
    if err.column() > 0 {
        format!("{bare} (column {})", err.column())
    } else {
        bare.to_string()
    }
}

/// What a parallel pass collects from the objects of one range of a file.
pub(crate) trait Sink<'t>: Send {
    /// The fields of the file's objects that are read.
    const SCHEMA: &'static Schema;

    /// One object (a JSON object) with its context; an error stops the reading.
    fn object(&mut self, ctx: &Ctx<'_>, value: &Json<'t>) -> Result<()>;

    /// The end of the range.
    fn finish(&mut self) -> Result<()>;
}

/// What one range of objects gave.
struct RangeOutcome<S> {
    sink: S,
    /// The first line that is not JSON (JSON lines only): it precedes any problem with objects,
    /// as the file is parsed whole before its objects are read.
    not_json: Option<CsError>,
    /// The first problem with an object.
    bad_object: Option<CsError>,
    /// A value found by its brackets did not parse: the file is not one JSON value.
    not_whole: bool,
}

/// Objects per range below which a file is read on one thread.
const PARALLEL_FROM: usize = 512;

/// Parses every object of `layout` and gives it to a sink, in parallel over ranges of objects;
/// the sinks come back in object order. The error is the one a sequential reading meets first.
/// None when the values found by their brackets are not all JSON (the file is then JSON lines).
pub(crate) fn scan<'t, S: Sink<'t>>(
    file: &str,
    kind: &'static str,
    layout: &Layout<'t>,
    make: impl Fn() -> S + Sync,
) -> Result<Option<Vec<S>>> {
    let count = layout.len();
    let parts = if count >= PARALLEL_FROM {
        parallel::threads()
    } else {
        1
    };
    let ranges = parallel::chunks(count, parts);
    let outcomes = parallel::parallel(ranges, |range| {
        let mut outcome = RangeOutcome {
            sink: make(),
            not_json: None,
            bad_object: None,
            not_whole: false,
        };
        for index in range {
            if index % 1024 == 1023 && crate::interrupt::requested() {
                outcome.not_json = Some(CsError::Interrupted);
                break;
            }
            let (text, line) = match layout {
                Layout::Values(values) => (values[index], None),
                Layout::Lines(lines) => (lines[index].1, Some(lines[index].0)),
            };
            let value = match parse(text, Part::Object(S::SCHEMA)) {
                Ok(value) => value,
                Err(err) => {
                    match line {
                        Some(number) => {
                            outcome.not_json = Some(file_error(
                                file,
                                &format!(
                                    "line {number} is neither JSON lines nor part of one JSON \
                                     value: {}",
                                    message(&err)
                                ),
                            ));
                        }
                        // The whole file is not one JSON value: it is read as JSON lines.
                        None => outcome.not_whole = true,
                    }
                    break;
                }
            };
            if outcome.bad_object.is_some() {
                continue; // only lines that are not JSON can still come first
            }
            if !matches!(value, Json::Object(_)) {
                outcome.bad_object = Some(file_error(
                    file,
                    &format!("object #{} is not a JSON object", index + 1),
                ));
                continue;
            }
            let label;
            let object_id = match value.get("id") {
                Some(Json::Str(id)) => id.as_ref(),
                _ => {
                    label = format!("#{}", index + 1);
                    label.as_str()
                }
            };
            let ctx = Ctx {
                file,
                kind,
                object_id,
            };
            if let Err(err) = outcome.sink.object(&ctx, &value) {
                outcome.bad_object = Some(err);
                if line.is_none() {
                    // Values still to come may not parse (then the file is JSON lines).
                    continue;
                }
            }
        }
        if let Err(err) = outcome.sink.finish() {
            if outcome.bad_object.is_none() {
                outcome.bad_object = Some(err);
            }
        }
        outcome
    });
    if outcomes.iter().any(|o| o.not_whole) {
        return Ok(None);
    }
    let mut sinks = Vec::with_capacity(outcomes.len());
    let mut bad_object = None;
    for outcome in outcomes {
        if let Some(err) = outcome.not_json {
            return Err(err);
        }
        if bad_object.is_none() {
            bad_object = outcome.bad_object;
        }
        sinks.push(outcome.sink);
    }
    match bad_object {
        Some(err) => Err(err),
        None => Ok(Some(sinks)),
    }
}
