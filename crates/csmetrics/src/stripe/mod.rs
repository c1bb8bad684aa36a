//! Stripe exports read into the subscriptions, discounts and invoice-lines tables of csmetrics.
//!
//! [`read_stripe`] takes files of subscription objects and of invoice objects (each a JSON
//! array, a list envelope `{"object": "list", "data": [...]}`, a single object or JSON lines),
//! in either API shape (before and from 2025-03-31), and gives a [`StripeTables`]. The rules
//! (exact money, status spells, discounts, invoice line kinds, what is skipped) are those of
//! the Python module `csmetrics.io.stripe`, whose docs state them with examples; every message
//! names the file, the object and the field.
//!
//! Objects are parsed in parallel over ranges of each file and their rows kept in file order;
//! the first problem reported is the one a reading object by object would meet first: the
//! problems of the subscription files in order, then those of the invoice files, then those of
//! the status spells (which need every object read).
//!
//! ```
//! use csmetrics::stripe::read_stripe;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let folder = std::env::temp_dir().join(format!("csmetrics-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&folder)?;
//! let path = folder.join("subs.jsonl");
//! std::fs::write(
//!     &path,
//!     r#"{"id": "sub_1", "customer": "cus_1", "status": "active", "start_date": 1704067200,
//!        "items": {"data": [{"quantity": 2, "price": {"id": "price_1", "unit_amount": 1999,
//!        "currency": "eur", "recurring": {"interval": "month"}}}]}}"#,
//! )?;
//! let tables = read_stripe(&[path], &[])?;
//! let amount = tables.subscriptions.column("amount")?.decimal()?.physical().get(0);
//! assert_eq!(amount, Some(19_990)); // 19.990 at scale 3
//! # std::fs::remove_dir_all(&folder)?;
//! # Ok(())
//! # }
//! ```

mod files;
mod frames;
mod invoices;
mod json;
mod node;
mod subscriptions;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use polars::prelude::DataFrame;

use crate::error::{CsError, Result};
use files::Sink;
use invoices::{InvoiceOutcome, LineRow, Prices};
use json::{Json, Schema};
use node::{Ctx, Node};
use subscriptions::{DiscountRow, SpellRow};

pub use node::currency_exponent;

/// The tables read from a Stripe export.
#[derive(Debug, Clone)]
pub struct StripeTables {
    /// One row per status spell per subscription item: `customer_id`, `subscription_id`,
    /// `plan`, `start`, `end`, `amount` (Decimal major units), `quantity`, `interval`,
    /// `interval_count`, `currency`, `status`, `canceled_at`, `churn_reason`.
    pub subscriptions: DataFrame,
    /// `subscription_id` (null for a customer's discount), `customer_id`, `discount_id`,
    /// `coupon`, `percent_off`, `amount_off`, `duration`, `duration_in_months`, `start`, `end`.
    pub discounts: DataFrame,
    /// `invoice_id`, `line_id`, `customer_id`, `subscription_id`, `kind`, `amount` (net of
    /// discounts, excluding tax), `currency`, `period_start`, `period_end`, `quantity`.
    pub invoice_lines: DataFrame,
    /// What was read and deliberately left out, by kind, with counts, sorted by kind.
    pub skipped: Vec<(String, u64)>,
}

/// Reads Stripe subscription objects from `subscriptions` and invoice objects from `invoices`
/// (either may be empty).
///
/// # Errors
/// [`CsError::StripeFormat`] when a needed field is missing or holds what the reader cannot
/// take, or a file is not JSON; [`CsError::Io`] when a file cannot be read.
pub fn read_stripe(subscriptions: &[PathBuf], invoices: &[PathBuf]) -> Result<StripeTables> {
    let names = |paths: &[PathBuf]| -> Vec<String> {
        paths
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    };
    read_files(&names(subscriptions), &names(invoices))
}

/// [`read_stripe`] with the files named as the messages name them.
///
/// # Errors
/// As [`read_stripe`].
pub fn read_files(subscriptions: &[String], invoices: &[String]) -> Result<StripeTables> {
    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    let mut late: Option<CsError> = None;
    let mut subscription_chunks = Vec::new();
    // Owned, so that each file's text is dropped once it is read.
    let mut discounts: Vec<DiscountRow<'static>> = Vec::new();
    let mut prices: Prices<'static> = Prices::default();
    for file in subscriptions {
        let text = files::read_text(file)?;
        for sink in read_file(file, &text, "subscription", SubscriptionSink::default)? {
            if late.is_none() {
                late = sink.spell_error;
            }
            if sink.metered > 0 {
                *skipped
                    .entry("metered subscription items".into())
                    .or_default() += sink.metered;
            }
            for (id, metered) in sink.prices {
                prices.insert(Cow::Owned(id.into_owned()), metered);
            }
            discounts.extend(sink.discounts.into_iter().map(DiscountRow::into_owned));
            subscription_chunks.extend(sink.chunks);
        }
    }
    let mut line_chunks = Vec::new();
    for file in invoices {
        let text = files::read_text(file)?;
        let make = || InvoiceSink {
            prices: &prices,
            rows: Vec::new(),
            chunks: Vec::new(),
            skipped: BTreeMap::new(),
        };
        for sink in read_file(file, &text, "invoice", make)? {
            for (kind, count) in sink.skipped {
                *skipped.entry(kind).or_default() += count;
            }
            line_chunks.extend(sink.chunks);
        }
    }
    if let Some(err) = late {
        return Err(err);
    }
    let subscriptions = frames::subscriptions(subscription_chunks)?;
    let discounts = kept_discounts(dedupe(discounts), &subscriptions, &mut skipped)?;
    let discounts = frames::discounts(discounts)?;
    let invoice_lines = frames::lines(line_chunks)?;
    Ok(StripeTables {
        subscriptions,
        discounts,
        invoice_lines,
        skipped: skipped.into_iter().collect(),
    })
}

/// The sinks of the objects of one file, in order.
fn read_file<'t, S: Sink<'t>>(
    file: &str,
    text: &'t str,
    kind: &'static str,
    make: impl Fn() -> S + Sync,
) -> Result<Vec<S>> {
    let layout = files::layout(file, text, true)?;
    if let Some(sinks) = files::scan(file, kind, &layout, &make)? {
        return Ok(sinks);
    }
    // The brackets promised one JSON value, but a value inside did not parse: JSON lines.
    let lines = files::layout(file, text, false)?;
    Ok(files::scan(file, kind, &lines, &make)?.unwrap_or_default())
}

/// Rows a sink gathers before it turns them into a frame.
const CHUNK_ROWS: usize = 8_192;

/// What a range of subscription objects gives.
#[derive(Default)]
struct SubscriptionSink<'t> {
    rows: Vec<SpellRow<'t>>,
    chunks: Vec<frames::Chunk>,
    /// The first problem with a status spell: reported once every object has been read.
    spell_error: Option<CsError>,
    metered: u64,
    prices: Prices<'t>,
    discounts: Vec<DiscountRow<'t>>,
}

impl SubscriptionSink<'_> {
    fn flush(&mut self) -> Result<()> {
        if !self.rows.is_empty() {
            self.chunks.push(frames::subscription_chunk(&self.rows)?);
            self.rows.clear();
        }
        Ok(())
    }
}

impl<'t> Sink<'t> for SubscriptionSink<'t> {
    const SCHEMA: &'static Schema = &json::SUBSCRIPTION;

    fn object(&mut self, ctx: &Ctx<'_>, value: &Json<'t>) -> Result<()> {
        let node = Node::root(ctx, value);
        let record = subscriptions::subscription(&node)?;
        self.metered += record.metered;
        // Lines from 2025-03-31 name their price by id: its usage type comes from here.
        subscriptions::prices(value, |id, metered| {
            self.prices.insert(id.clone(), metered);
        });
        let discounts = &mut self.discounts;
        subscriptions::each_discount(&node, |discount| {
            discounts.push(subscriptions::discount_row(
                discount,
                &record.customer_id,
                record.subscription_id(),
                record.currency(),
            )?);
            Ok(())
        })?;
        if self.spell_error.is_none() {
            if let Err(err) = record.spells(ctx, &mut self.rows) {
                self.spell_error = Some(err);
            }
        }
        if self.rows.len() >= CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.flush()
    }
}

/// What a range of invoice objects gives.
struct InvoiceSink<'t, 'p> {
    prices: &'p Prices<'t>,
    rows: Vec<LineRow<'t>>,
    chunks: Vec<frames::Chunk>,
    skipped: BTreeMap<String, u64>,
}

impl InvoiceSink<'_, '_> {
    fn flush(&mut self) -> Result<()> {
        if !self.rows.is_empty() {
            self.chunks.push(frames::line_chunk(&self.rows)?);
            self.rows.clear();
        }
        Ok(())
    }
}

impl<'t> Sink<'t> for InvoiceSink<'t, '_> {
    const SCHEMA: &'static Schema = &json::INVOICE;

    fn object(&mut self, ctx: &Ctx<'_>, value: &Json<'t>) -> Result<()> {
        let node = Node::root(ctx, value);
        let before = self.rows.len();
        match invoices::invoice(&node, self.prices, &mut self.rows) {
            Ok(InvoiceOutcome::Lines) => {}
            Ok(InvoiceOutcome::Skipped(kind)) => *self.skipped.entry(kind).or_default() += 1,
            Err(err) => {
                self.rows.truncate(before);
                return Err(err);
            }
        }
        if self.rows.len() >= CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.flush()
    }
}

/// What identifies a discount: its id, or (without one) everything it says.
#[derive(PartialEq, Eq, Hash)]
enum DiscountKey {
    Id(String),
    Row(String),
}

/// One row per discount id (the first met), and one per distinct row without an id.
fn dedupe(rows: Vec<DiscountRow<'_>>) -> Vec<DiscountRow<'_>> {
    let mut seen = foldhash::HashSet::default();
    rows.into_iter()
        .filter(|row| {
            let key = match &row.discount_id {
                Some(id) if !id.is_empty() => DiscountKey::Id(id.to_string()),
                _ => DiscountKey::Row(format!("{row:?}")),
            };
            seen.insert(key)
        })
        .collect()
}

/// The discounts of subscriptions (or customers) that have rows; the others are counted in
/// `skipped`.
fn kept_discounts<'t>(
    discounts: Vec<DiscountRow<'t>>,
    subscriptions: &DataFrame,
    skipped: &mut BTreeMap<String, u64>,
) -> Result<Vec<DiscountRow<'t>>> {
    if discounts.is_empty() {
        return Ok(discounts);
    }
    let mut pairs = foldhash::HashSet::default();
    let mut customers = foldhash::HashSet::default();
    for row in &discounts {
        match &row.subscription_id {
            Some(sub) => {
                pairs.insert((row.customer_id.as_ref(), sub.as_ref()));
            }
            None => {
                customers.insert(row.customer_id.as_ref());
            }
        }
    }
    let mut pairs_with_rows = foldhash::HashSet::default();
    let mut customers_with_rows = foldhash::HashSet::default();
    let customer_column = subscriptions.column("customer_id")?.str()?;
    let subscription_column = subscriptions.column("subscription_id")?.str()?;
    for (customer, sub) in customer_column.iter().zip(subscription_column.iter()) {
        let (Some(customer), Some(sub)) = (customer, sub) else {
            continue;
        };
        if customers.contains(customer) {
            customers_with_rows.insert(customer);
        }
        if pairs.contains(&(customer, sub)) {
            pairs_with_rows.insert((customer, sub));
        }
    }
    let mut kept = Vec::with_capacity(discounts.len());
    let mut dropped = 0;
    for row in discounts {
        let keep = match &row.subscription_id {
            None => customers_with_rows.contains(row.customer_id.as_ref()),
            Some(sub) => pairs_with_rows.contains(&(row.customer_id.as_ref(), sub.as_ref())),
        };
        if keep {
            kept.push(row);
        } else {
            dropped += 1;
        }
    }
    if dropped > 0 {
        *skipped
            .entry("discounts of subscriptions without rows".into())
            .or_default() += dropped;
    }
    Ok(kept)
}
