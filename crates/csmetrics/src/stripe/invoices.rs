//! Invoice objects: which are left out, and the rows of their lines (net of discounts,
//! excluding tax, with the line's kind).

use std::borrow::Cow;

use super::json::{str_repr, Json, Seg};
use super::node::{Ctx, Money, Node};
use crate::error::Result;

use Seg::{Index as I, Key as K};

/// The usage type of the prices named by id on the subscriptions read: true when metered.
pub(crate) type Prices<'a> = foldhash::HashMap<Cow<'a, str>, bool>;

/// One invoice line: a row of the invoice-lines table.
pub(crate) struct LineRow<'a> {
    pub(crate) invoice_id: Cow<'a, str>,
    pub(crate) line_id: Option<Cow<'a, str>>,
    pub(crate) customer_id: Cow<'a, str>,
    pub(crate) subscription_id: Option<Cow<'a, str>>,
    pub(crate) kind: &'static str,
    pub(crate) amount: Money,
    pub(crate) currency: Cow<'a, str>,
    pub(crate) period_start: i64,
    pub(crate) period_end: i64,
    pub(crate) quantity: Option<i64>,
}

/// What an invoice file's object gives: the lines of an invoice, or the reason it is left out.
pub(crate) enum InvoiceOutcome {
    Lines,
    Skipped(String),
}

/// Reads one object of an invoice file, adding its lines to `rows`.
pub(crate) fn invoice<'n, 'a>(
    invoice: &Node<'n, 'a>,
    prices: &Prices<'_>,
    rows: &mut Vec<LineRow<'a>>,
) -> Result<InvoiceOutcome> {
    let kind = match invoice.opt(&[K("object")]) {
        Some(value) if value.truthy() => value.py_str().into_owned(),
        _ => {
            if invoice.data.is_some_and(|d| d.has_key("lines")) {
                "invoice".to_string()
            } else {
                "unknown object".to_string()
            }
        }
    };
    if kind != "invoice" {
        return Ok(InvoiceOutcome::Skipped(format!("{kind} objects")));
    }
    if let Some(Json::Str(status)) = invoice.opt(&[K("status")]) {
        if status == "draft" || status == "void" {
            return Ok(InvoiceOutcome::Skipped(format!("{status} invoices")));
        }
    }
    let lines_path = [K("lines"), K("data")];
    let count = match invoice.need(&lines_path)? {
        Json::Array(lines) => lines.len(),
        _ => return Err(invoice.error(&lines_path, Some("that is not a list"))),
    };
    if invoice.flag(&[K("lines"), K("has_more")])? {
        return Err(invoice.error(
            &[K("lines"), K("has_more")],
            Some("= true: the export holds only part of its lines (export them all)"),
        ));
    }
    let invoice_id = match invoice.data.and_then(|d| d.get("id")) {
        Some(Json::Str(id)) => id.clone(),
        _ => Cow::Owned(invoice.ctx.object_id.to_string()),
    };
    for index in 0..count {
        rows.push(line(invoice, &invoice_id, index, prices)?);
    }
    Ok(InvoiceOutcome::Lines)
}

/// Whether the line's price is metered; None when its usage type is not known (licensed).
fn metered(line: &Node<'_, '_>, prices: &Prices<'_>) -> Result<bool> {
    let mut path: &[Seg<'static>] = &[K("price")];
    let mut price = line.opt(path);
    if price.is_none() {
        path = &[K("pricing"), K("price_details"), K("price")];
        price = line.opt(path);
    }
    match price {
        Some(price @ Json::Object(_)) => Ok(price
            .dig(&[K("recurring"), K("usage_type")])
            .and_then(Json::as_str)
            == Some("metered")),
        Some(Json::Str(id)) => match prices.get(id.as_ref()) {
            Some(&metered) => Ok(metered),
            None => Err(line.error(
                path,
                Some(&format!(
                    "= {}, a price neither expanded nor on the subscriptions read (pass \
                     subscriptions= to tell metered prices)",
                    str_repr(id)
                )),
            )),
        },
        _ => match line.opt(&[K("plan"), K("usage_type")]) {
            Some(usage) => Ok(usage.as_str() == Some("metered")),
            None => Err(line.error(path, None)),
        },
    }
}

/// The amounts at `field[i].amount` of the entries `keep` selects (each is required).
fn amounts(
    line: &Node<'_, '_>,
    field: &'static str,
    entries: &[Json<'_>],
    keep: impl Fn(&Json<'_>) -> bool,
) -> Result<i128> {
    let mut total = 0i128;
    for (i, entry) in entries.iter().enumerate() {
        if keep(entry) {
            total += line
                .whole(&[K(field), I(i), K("amount")], true)?
                .unwrap_or(0);
        }
    }
    Ok(total)
}

/// The entries of an optional list field, as Python's `value or []` iterates them: a string or
/// an object gives no entries that are objects; a number or `true` cannot be iterated.
fn listed<'n, 'a>(line: &Node<'n, 'a>, field: &'static str) -> Result<&'n [Json<'a>]> {
    match line.opt(&[K(field)]) {
        Some(Json::Array(items)) => Ok(items),
        Some(value @ (Json::Whole(_) | Json::Float(_) | Json::Bool(_))) if value.truthy() => {
            Err(line.error(
                &[K(field)],
                Some(&format!("= {}, not a list", value.repr())),
            ))
        }
        _ => Ok(&[]),
    }
}

fn line<'n, 'a>(
    invoice: &Node<'n, 'a>,
    invoice_id: &Cow<'a, str>,
    index: usize,
    prices: &Prices<'_>,
) -> Result<LineRow<'a>> {
    let at = invoice.child(&[K("lines"), K("data"), I(index)]);
    let line_id = at.text(&[K("id")], false)?.cloned();
    let label = match &line_id {
        Some(id) => format!("{} line {id}", invoice.ctx.object_id),
        None => format!("{} line #{}", invoice.ctx.object_id, index + 1),
    };
    let ctx = Ctx {
        file: invoice.ctx.file,
        kind: "invoice",
        object_id: &label,
    };
    let Some(data) = at.data else {
        // A null line: every field is missing, the first one asked for is named.
        return Err(ctx.error("parent.type".into(), None));
    };
    let line = Node::root(&ctx, data);
    let (recurring, proration, subscription) = if line.opt(&[K("parent")]).is_some() {
        // From 2025-03-31.
        let parent_type = line.text(&[K("parent"), K("type")], true)?;
        let parent_type = parent_type.map_or("", |t| t.as_ref());
        let recurring = match parent_type {
            "subscription_item_details" => true,
            "invoice_item_details" => false,
            other => {
                return Err(line.error(
                    &[K("parent"), K("type")],
                    Some(&format!("= {}", str_repr(other))),
                ))
            }
        };
        let details = [K("parent"), K(parent_type)];
        let proration = line.flag(&[details[0], details[1], K("proration")])?;
        let subscription = line.ident(&[details[0], details[1], K("subscription")], false)?;
        (recurring, proration, subscription)
    } else {
        let line_type = match line.opt(&[K("type")]) {
            None => return Err(line.error(&[K("parent"), K("type")], None)),
            Some(t) => t,
        };
        let recurring = match line_type.as_str() {
            Some("subscription") => true,
            Some("invoiceitem") => false,
            _ => {
                return Err(line.error(
                    &[K("type")],
                    Some(&format!(
                        "= {}, not subscription or invoiceitem",
                        line_type.repr()
                    )),
                ))
            }
        };
        let proration = line.flag(&[K("proration")])?;
        let subscription = line.ident(&[K("subscription")], false)?;
        (recurring, proration, subscription)
    };
    let subscription = match subscription {
        Some(s) => Some(s.clone()),
        None => {
            // Python's `a or b`: an empty id on the invoice falls through to its parent's.
            match invoice.ident(&[K("subscription")], false)? {
                Some(s) if !s.is_empty() => Some(s.clone()),
                _ => invoice
                    .ident(
                        &[K("parent"), K("subscription_details"), K("subscription")],
                        false,
                    )?
                    .cloned(),
            }
        }
    };
    let kind = if proration {
        "proration"
    } else if !recurring {
        "one_time"
    } else if metered(&line, prices)? {
        "usage"
    } else {
        "subscription"
    };
    let currency = line
        .text(&[K("currency")], true)?
        .map_or(Cow::Borrowed(""), |c| {
            if c.bytes().any(|b| b.is_ascii_lowercase()) || !c.is_ascii() {
                Cow::Owned(c.to_uppercase())
            } else {
                c.clone()
            }
        });
    let amount = line.whole(&[K("amount")], true)?.unwrap_or(0);
    let off = match line.opt(&[K("discount_amounts")]) {
        Some(Json::Array(entries)) => amounts(&line, "discount_amounts", entries, |_| true)?,
        _ => match line.opt(&[K("pretax_credit_amounts")]) {
            Some(Json::Array(entries)) => amounts(
                &line,
                "pretax_credit_amounts",
                entries,
                |c| matches!(c.get("type"), Some(Json::Str(t)) if t == "discount"),
            )?,
            _ => 0,
        },
    };
    let tax_amounts = listed(&line, "tax_amounts")?;
    let inclusive_amounts = amounts(&line, "tax_amounts", tax_amounts, |t| {
        matches!(t.get("inclusive"), Some(Json::Bool(true)))
    })?;
    let taxes = listed(&line, "taxes")?;
    let inclusive_taxes = amounts(
        &line,
        "taxes",
        taxes,
        |t| matches!(t.get("tax_behavior"), Some(Json::Str(b)) if b == "inclusive"),
    )?;
    let net = amount - off - inclusive_amounts - inclusive_taxes;
    let customer_id = invoice
        .ident(&[K("customer")], true)?
        .cloned()
        .unwrap_or_default();
    Ok(LineRow {
        invoice_id: invoice_id.clone(),
        line_id,
        customer_id,
        subscription_id: subscription,
        kind,
        amount: Money::from_minor(net, &currency),
        currency,
        period_start: line.time(&[K("period"), K("start")], true)?.unwrap_or(0),
        period_end: line.time(&[K("period"), K("end")], true)?.unwrap_or(0),
        quantity: line.whole64(&[K("quantity")], false)?,
    })
}
