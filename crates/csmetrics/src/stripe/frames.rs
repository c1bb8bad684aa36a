//! The rows read, as the three frames: columns, dtypes (money `Decimal(38, scale)`, times
//! `Datetime(us, UTC)`) and the row order of each table.

use polars::prelude::*;

use super::invoices::LineRow;
use super::node::Money;
use super::subscriptions::{DiscountRow, SpellRow};
use crate::error::{CsError, Result};

/// Rows turned into columns (all but the money one, whose scale is known only at the end).
pub(crate) struct Chunk {
    frame: DataFrame,
    amounts: Vec<Money>,
}

fn text<'r, S: AsRef<str> + 'r>(name: &str, values: impl Iterator<Item = &'r S>) -> Column {
    StringChunked::from_iter_values(name.into(), values.map(AsRef::as_ref)).into_column()
}

fn text_opt<'r, S: AsRef<str> + 'r>(
    name: &str,
    values: impl Iterator<Item = Option<&'r S>>,
) -> Column {
    StringChunked::from_iter_options(name.into(), values.map(|v| v.map(AsRef::as_ref)))
        .into_column()
}

fn time(name: &str, values: impl Iterator<Item = i64>) -> Column {
    Int64Chunked::from_iter_values(name.into(), values)
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column()
}

fn time_opt(name: &str, values: impl Iterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values)
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column()
}

fn whole(name: &str, values: impl Iterator<Item = i64>) -> Column {
    Int64Chunked::from_iter_values(name.into(), values).into_column()
}

fn whole_opt(name: &str, values: impl Iterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values).into_column()
}

/// The scale of a money column: at least 3 (every currency's exponent fits), finer when an
/// amount has more decimals.
fn scale<'m>(amounts: impl IntoIterator<Item = &'m Money>) -> u32 {
    amounts.into_iter().map(Money::scale).fold(3, u32::max)
}

/// A `Decimal(38, scale)` column of `amounts`, the scale the finest of them (at least 3).
fn money<'m>(
    name: &str,
    amounts: impl Iterator<Item = Option<&'m Money>> + Clone,
) -> Result<Column> {
    let scale = scale(amounts.clone().flatten());
    let mut values = Vec::new();
    for (row, amount) in amounts.enumerate() {
        values.push(match amount {
            None => None,
            Some(amount) => Some(
                amount
                    .at_scale(scale)
                    .ok_or_else(|| CsError::InvalidValue {
                        column: name.to_string(),
                        row,
                        value: format!("{}E{}", amount.coefficient, amount.exponent),
                        rule: format!("an amount must fit Decimal(38, {scale})"),
                    })?,
            ),
        });
    }
    let precision_scale = usize::try_from(scale).unwrap_or(38);
    Ok(
        Int128Chunked::from_iter_options(name.into(), values.into_iter())
            .into_decimal(38, precision_scale)?
            .into_series()
            .into_column(),
    )
}

pub(crate) fn subscription_chunk(rows: &[SpellRow<'_>]) -> Result<Chunk> {
    let columns = vec![
        text("customer_id", rows.iter().map(|r| &r.customer_id)),
        text("subscription_id", rows.iter().map(|r| &r.subscription_id)),
        text_opt("plan", rows.iter().map(|r| r.plan.as_ref())),
        time("start", rows.iter().map(|r| r.start)),
        time_opt("end", rows.iter().map(|r| r.end)),
        whole("quantity", rows.iter().map(|r| r.quantity)),
        text("interval", rows.iter().map(|r| &r.interval)),
        whole("interval_count", rows.iter().map(|r| r.interval_count)),
        text("currency", rows.iter().map(|r| &r.currency)),
        text("status", rows.iter().map(|r| &r.status)),
        time_opt("canceled_at", rows.iter().map(|r| r.canceled_at)),
        text_opt("churn_reason", rows.iter().map(|r| r.churn_reason.as_ref())),
        // The sort key of the plan: a null plan sorts as "".
        text(
            PLAN_KEY,
            rows.iter()
                .map(|r| r.plan.as_deref().unwrap_or(""))
                .collect::<Vec<_>>()
                .iter(),
        ),
    ];
    Ok(Chunk {
        frame: DataFrame::new(rows.len(), columns)?,
        amounts: rows.iter().map(|r| r.amount).collect(),
    })
}

const PLAN_KEY: &str = "__plan_key";

pub(crate) fn line_chunk(rows: &[LineRow<'_>]) -> Result<Chunk> {
    let columns = vec![
        text("invoice_id", rows.iter().map(|r| &r.invoice_id)),
        text_opt("line_id", rows.iter().map(|r| r.line_id.as_ref())),
        text("customer_id", rows.iter().map(|r| &r.customer_id)),
        text_opt(
            "subscription_id",
            rows.iter().map(|r| r.subscription_id.as_ref()),
        ),
        text("kind", rows.iter().map(|r| &r.kind)),
        text("currency", rows.iter().map(|r| &r.currency)),
        time("period_start", rows.iter().map(|r| r.period_start)),
        time("period_end", rows.iter().map(|r| r.period_end)),
        whole_opt("quantity", rows.iter().map(|r| r.quantity)),
    ];
    Ok(Chunk {
        frame: DataFrame::new(rows.len(), columns)?,
        amounts: rows.iter().map(|r| r.amount).collect(),
    })
}

/// The chunks stacked in order, with their money column at `position`.
fn stacked(
    chunks: Vec<Chunk>,
    empty: impl FnOnce() -> Result<Chunk>,
    position: usize,
) -> Result<DataFrame> {
    let mut chunks = chunks.into_iter();
    let first = match chunks.next() {
        Some(first) => first,
        None => empty()?,
    };
    let mut frame = first.frame;
    let mut amounts = first.amounts;
    for chunk in chunks {
        frame.vstack_mut_owned(chunk.frame)?;
        amounts.extend(chunk.amounts);
    }
    let column = money("amount", amounts.iter().map(Some))?;
    frame.insert_column(position, column)?;
    Ok(frame)
}

fn sorted(frame: DataFrame, by: &[&str]) -> Result<DataFrame> {
    Ok(frame.sort(
        by.iter().copied(),
        SortMultipleOptions::default()
            .with_maintain_order(true)
            .with_multithreaded(true),
    )?)
}

/// The subscriptions table, sorted by customer, subscription, plan and start.
pub(crate) fn subscriptions(chunks: Vec<Chunk>) -> Result<DataFrame> {
    let frame = stacked(chunks, || subscription_chunk(&[]), 5)?;
    let mut frame = sorted(
        frame,
        &["customer_id", "subscription_id", PLAN_KEY, "start"],
    )?;
    frame.drop_in_place(PLAN_KEY)?;
    Ok(frame)
}

/// The invoice-lines table, sorted by customer, period start and invoice.
pub(crate) fn lines(chunks: Vec<Chunk>) -> Result<DataFrame> {
    let frame = stacked(chunks, || line_chunk(&[]), 5)?;
    sorted(frame, &["customer_id", "period_start", "invoice_id"])
}

/// The discounts table, sorted by customer, subscription and start.
pub(crate) fn discounts(mut rows: Vec<DiscountRow<'_>>) -> Result<DataFrame> {
    fn key<'r>(r: &'r DiscountRow<'_>) -> (&'r str, &'r str, i64) {
        (
            r.customer_id.as_ref(),
            r.subscription_id.as_deref().unwrap_or(""),
            r.start,
        )
    }
    rows.sort_by(|a, b| key(a).cmp(&key(b)));
    let columns = vec![
        text_opt(
            "subscription_id",
            rows.iter().map(|r| r.subscription_id.as_ref()),
        ),
        text("customer_id", rows.iter().map(|r| &r.customer_id)),
        text_opt("discount_id", rows.iter().map(|r| r.discount_id.as_ref())),
        text_opt("coupon", rows.iter().map(|r| r.coupon.as_ref())),
        Float64Chunked::from_iter_options("percent_off".into(), rows.iter().map(|r| r.percent_off))
            .into_column(),
        money("amount_off", rows.iter().map(|r| r.amount_off.as_ref()))?,
        text("duration", rows.iter().map(|r| &r.duration)),
        whole_opt(
            "duration_in_months",
            rows.iter().map(|r| r.duration_in_months),
        ),
        time("start", rows.iter().map(|r| r.start)),
        time_opt("end", rows.iter().map(|r| r.end)),
    ];
    Ok(DataFrame::new(rows.len(), columns)?)
}
