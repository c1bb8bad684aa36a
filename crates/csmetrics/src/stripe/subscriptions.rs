//! Subscription objects: their items, the status spells of each item, and the discounts they
//! carry (the rules of `csmetrics.io.stripe`'s module docs).

use std::borrow::Cow;

use super::json::{py_str_opt, Json, Seg};
use super::node::{Ctx, Money, Node};
use crate::error::{CsError, Result};
use crate::revenue::billing::STATUSES;

use Seg::{Index as I, Key as K};

const INTERVALS: [&str; 4] = ["day", "week", "month", "year"];

/// The `'static` spelling of `text` among `names`.
fn known(names: &[&'static str], text: &str) -> Option<&'static str> {
    names.iter().copied().find(|&n| n == text)
}

/// One item of a subscription, with today's price and quantity.
pub(crate) struct Item<'a> {
    /// Position in `items.data` (for messages).
    index: usize,
    plan: Option<Cow<'a, str>>,
    start: i64,
    amount: Money,
    quantity: i64,
    interval: &'static str,
    interval_count: i64,
    currency: Cow<'a, str>,
    period_start: Option<i64>,
    period_end: Option<i64>,
}

/// One subscription object, read.
pub(crate) struct Subscription<'a> {
    subscription_id: Cow<'a, str>,
    pub(crate) customer_id: Cow<'a, str>,
    status: &'static str,
    trial_start: Option<i64>,
    trial_end: Option<i64>,
    canceled_at: Option<i64>,
    cancel_at: Option<i64>,
    cancel_at_period_end: bool,
    ended_at: Option<i64>,
    collection_paused: bool,
    churn_reason: Option<Cow<'a, str>>,
    items: Vec<Item<'a>>,
    /// Items on a metered price, left out.
    pub(crate) metered: u64,
}

/// One status spell of one item: a row of the subscriptions table.
pub(crate) struct SpellRow<'a> {
    pub(crate) customer_id: Cow<'a, str>,
    pub(crate) subscription_id: Cow<'a, str>,
    pub(crate) plan: Option<Cow<'a, str>>,
    pub(crate) start: i64,
    pub(crate) end: Option<i64>,
    pub(crate) amount: Money,
    pub(crate) quantity: i64,
    pub(crate) interval: &'static str,
    pub(crate) interval_count: i64,
    pub(crate) currency: Cow<'a, str>,
    pub(crate) status: &'static str,
    pub(crate) canceled_at: Option<i64>,
    pub(crate) churn_reason: Option<Cow<'a, str>>,
}

/// One discount: a row of the discounts table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DiscountRow<'a> {
    pub(crate) subscription_id: Option<Cow<'a, str>>,
    pub(crate) customer_id: Cow<'a, str>,
    pub(crate) discount_id: Option<Cow<'a, str>>,
    pub(crate) coupon: Option<Cow<'a, str>>,
    pub(crate) percent_off: Option<f64>,
    pub(crate) amount_off: Option<Money>,
    pub(crate) duration: &'static str,
    pub(crate) duration_in_months: Option<i64>,
    pub(crate) start: i64,
    pub(crate) end: Option<i64>,
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

impl DiscountRow<'_> {
    /// The row holding its own strings.
    pub(crate) fn into_owned(self) -> DiscountRow<'static> {
        DiscountRow {
            subscription_id: self.subscription_id.map(owned),
            customer_id: owned(self.customer_id),
            discount_id: self.discount_id.map(owned),
            coupon: self.coupon.map(owned),
            percent_off: self.percent_off,
            amount_off: self.amount_off,
            duration: self.duration,
            duration_in_months: self.duration_in_months,
            start: self.start,
            end: self.end,
        }
    }
}

fn upper<'a>(text: &Cow<'a, str>) -> Cow<'a, str> {
    if text.bytes().any(|b| b.is_ascii_lowercase()) || !text.is_ascii() {
        Cow::Owned(text.to_uppercase())
    } else {
        text.clone()
    }
}

fn item<'n, 'a>(
    sub: &Node<'n, 'a>,
    index: usize,
    start: i64,
    created: Option<i64>,
) -> Result<Option<Item<'a>>> {
    let item = sub.child(&[K("items"), K("data"), I(index)]);
    let price = item.child(&[K("price")]);
    if price.data.is_none() {
        return Err(item.error(&[K("price")], None));
    }
    if price
        .opt(&[K("recurring"), K("usage_type")])
        .and_then(Json::as_str)
        == Some("metered")
    {
        return Ok(None);
    }
    let currency = upper(
        price
            .text(&[K("currency")], true)?
            .unwrap_or(&Cow::Borrowed("")),
    );
    let amount = match price.whole(&[K("unit_amount")], false)? {
        Some(unit) => Money::from_minor(unit, &currency),
        None => {
            let Some(text) = price.opt(&[K("unit_amount_decimal")]) else {
                return Err(price.error(&[K("unit_amount")], None));
            };
            let field = [K("unit_amount_decimal")];
            let amount = Money::from_decimal_text(&text.py_str(), &currency).ok_or_else(|| {
                price.error(&field, Some(&format!("= {}, not a number", text.repr())))
            })?;
            if amount.scale() > 38 {
                return Err(price.error(
                    &field,
                    Some(&format!("= {}, finer than 38 decimals", text.repr())),
                ));
            }
            amount
        }
    };
    let interval_path = [K("recurring"), K("interval")];
    let interval_text = price.text(&interval_path, true)?;
    let interval = interval_text
        .and_then(|t| known(&INTERVALS, t))
        .ok_or_else(|| {
            let shown = interval_text.map_or("None".to_string(), |t| super::json::str_repr(t));
            price.error(
                &interval_path,
                Some(&format!("= {shown}, not day/week/month/year")),
            )
        })?;
    let interval_count = match price.whole64(&[K("recurring"), K("interval_count")], false)? {
        None | Some(0) => 1,
        Some(n) => n,
    };
    let quantity = item.whole64(&[K("quantity")], true)?.unwrap_or(0);
    let item_created = item.time(&[K("created")], false)?;
    let mut start = start;
    // An item added after the subscription was created starts when it was added.
    if let (Some(item_created), Some(created)) = (item_created, created) {
        if item_created > created {
            start = start.max(item_created);
        }
    }
    // Item-level periods from 2025-03-31, the subscription's before.
    let period_start = match item.time(&[K("current_period_start")], false)? {
        Some(t) => Some(t),
        None => sub.time(&[K("current_period_start")], false)?,
    };
    let period_end = match item.time(&[K("current_period_end")], false)? {
        Some(t) => Some(t),
        None => sub.time(&[K("current_period_end")], false)?,
    };
    let plan = price.ident(&[K("id")], false)?.cloned();
    Ok(Some(Item {
        index,
        plan,
        start,
        amount,
        quantity,
        interval,
        interval_count,
        currency,
        period_start,
        period_end,
    }))
}

/// A subscription object read, or the first problem with it.
pub(crate) fn subscription<'n, 'a>(sub: &Node<'n, 'a>) -> Result<Subscription<'a>> {
    let subscription_id = sub.text(&[K("id")], true)?.cloned().unwrap_or_default();
    let status_text = sub.text(&[K("status")], true)?;
    let status = status_text
        .and_then(|t| known(&STATUSES, t))
        .ok_or_else(|| {
            let shown = status_text.map_or("None".to_string(), |t| super::json::str_repr(t));
            sub.error(
                &[K("status")],
                Some(&format!("= {shown}, not a Stripe subscription status")),
            )
        })?;
    let start = sub.time(&[K("start_date")], true)?.unwrap_or(0);
    let created = sub.time(&[K("created")], false)?;
    let items_data = sub.need(&[K("items"), K("data")])?;
    let count = match items_data {
        Json::Array(items) if !items.is_empty() => items.len(),
        _ => return Err(sub.error(&[K("items"), K("data"), I(0)], None)),
    };
    let mut items = Vec::with_capacity(count);
    let mut metered = 0;
    for index in 0..count {
        match item(sub, index, start, created)? {
            Some(item) => items.push(item),
            None => metered += 1,
        }
    }
    let customer_id = sub
        .ident(&[K("customer")], true)?
        .cloned()
        .unwrap_or_default();
    Ok(Subscription {
        subscription_id,
        customer_id,
        status,
        trial_start: sub.time(&[K("trial_start")], false)?,
        trial_end: sub.time(&[K("trial_end")], false)?,
        canceled_at: sub.time(&[K("canceled_at")], false)?,
        cancel_at: sub.time(&[K("cancel_at")], false)?,
        cancel_at_period_end: sub.flag(&[K("cancel_at_period_end")])?,
        ended_at: sub.time(&[K("ended_at")], false)?,
        collection_paused: sub.opt(&[K("pause_collection")]).is_some(),
        churn_reason: sub
            .text(&[K("cancellation_details"), K("reason")], false)?
            .cloned(),
        items,
        metered,
    })
}

/// The price ids of a subscription object's items with whether each is metered: from
/// 2025-03-31 an invoice line names its price by id only.
pub(crate) fn prices<'a>(sub: &Json<'a>, mut add: impl FnMut(&Cow<'a, str>, bool)) {
    let Some(Json::Array(items)) = sub.dig(&[K("items"), K("data")]) else {
        return;
    };
    for item in items {
        if let Some(price @ Json::Object(_)) = item.dig(&[K("price")]) {
            if let Some(Json::Str(id)) = price.get("id") {
                let usage = price.dig(&[K("recurring"), K("usage_type")]);
                add(id, usage.and_then(Json::as_str) == Some("metered"));
            }
        }
    }
}

impl<'a> Subscription<'a> {
    /// The status spells of each item (rows of no length left out), or the first problem.
    pub(crate) fn spells(&self, ctx: &Ctx<'_>, rows: &mut Vec<SpellRow<'a>>) -> Result<()> {
        for item in &self.items {
            let mut end = self.ended_at.or(self.cancel_at);
            if end.is_none() && self.cancel_at_period_end {
                let Some(period_end) = item.period_end else {
                    return Err(item_error(ctx, item.index, "current_period_end"));
                };
                end = Some(period_end);
            }
            if self.status == "canceled" && end.is_none() {
                return Err(ctx.error("ended_at".into(), None));
            }
            let mut spells: Vec<(i64, Option<i64>, &'static str)> = Vec::with_capacity(2);
            let mut paid = item.start;
            let trial = match (self.trial_start, self.trial_end) {
                (Some(trial_start), Some(trial_end)) => Some((trial_start, trial_end)),
                _ => None,
            };
            if let Some((trial_start, trial_end)) = trial {
                if trial_end > paid {
                    let until = end.map_or(trial_end, |e| trial_end.min(e));
                    spells.push((trial_start.max(paid), Some(until), "trialing"));
                    paid = trial_end;
                }
            }
            match self.status {
                "trialing" => {
                    if trial.is_none() {
                        return Err(ctx.error("trial_end".into(), None));
                    }
                }
                "incomplete" | "incomplete_expired" => {
                    spells = vec![(item.start, end, self.status)];
                }
                "canceled" => spells.push((paid, end, "canceled")),
                "active" if !self.collection_paused => spells.push((paid, end, "active")),
                _ => {
                    // past_due, unpaid, paused, or collection paused: the current period's.
                    let Some(period_start) = item.period_start else {
                        return Err(item_error(ctx, item.index, "current_period_start"));
                    };
                    let mut current = period_start.max(paid);
                    if let Some(end) = end {
                        current = current.min(end);
                    }
                    let status = if self.status == "active" {
                        "paused"
                    } else {
                        self.status
                    };
                    spells.push((paid, Some(current), "active"));
                    spells.push((current, end, status));
                }
            }
            for (start, stop, status) in spells {
                if stop.is_some_and(|stop| stop <= start) {
                    continue;
                }
                rows.push(SpellRow {
                    customer_id: self.customer_id.clone(),
                    subscription_id: self.subscription_id.clone(),
                    plan: item.plan.clone(),
                    start,
                    end: stop,
                    amount: item.amount,
                    quantity: item.quantity,
                    interval: item.interval,
                    interval_count: item.interval_count,
                    currency: item.currency.clone(),
                    status,
                    canceled_at: self.canceled_at,
                    churn_reason: self.churn_reason.clone(),
                });
            }
        }
        Ok(())
    }

    /// The currency of the first (unmetered) item.
    pub(crate) fn currency(&self) -> Option<&str> {
        self.items.first().map(|i| i.currency.as_ref())
    }

    pub(crate) fn subscription_id(&self) -> &Cow<'a, str> {
        &self.subscription_id
    }
}

fn item_error(ctx: &Ctx<'_>, index: usize, field: &str) -> CsError {
    ctx.error(format!("items.data[{index}].{field}"), None)
}

/// Gives `each` the expanded discount objects of a subscription object, in order: `discount`,
/// `discounts[]` and the expanded customer's `discount`. A problem with one comes before any
/// with those after it (an id where `discounts[]` needs an object is found in its turn).
pub(crate) fn each_discount<'n, 'a>(
    sub: &Node<'n, 'a>,
    mut each: impl FnMut(&Node<'n, 'a>) -> Result<()>,
) -> Result<()> {
    let mut seen: Vec<Cow<'n, str>> = Vec::new();
    let single = sub.child(&[K("discount")]);
    if single.data.is_some() {
        seen.push(py_str_opt(single.opt(&[K("id")])));
        each(&single)?;
    }
    if let Some(Json::Array(listed)) = sub.opt(&[K("discounts")]) {
        for (index, entry) in listed.iter().enumerate() {
            if let Json::Str(id) = entry {
                if !seen.iter().any(|s| s == id) {
                    return Err(sub.error(
                        &[K("discounts"), I(index)],
                        Some(&format!(
                            "= {}: an id, not a discount object (export with the discounts \
                             expanded)",
                            entry.repr()
                        )),
                    ));
                }
                continue;
            }
            let node = sub.child(&[K("discounts"), I(index)]);
            seen.push(py_str_opt(node.opt(&[K("id")])));
            each(&node)?;
        }
    }
    let customer = sub.child(&[K("customer"), K("discount")]);
    if matches!(customer.data, Some(Json::Object(_))) {
        each(&customer)?;
    }
    Ok(())
}

/// One discount's row; `currency` is the subscription's (for `currency_options`).
pub(crate) fn discount_row<'n, 'a>(
    discount: &Node<'n, 'a>,
    customer_id: &Cow<'a, str>,
    subscription_id: &Cow<'a, str>,
    currency: Option<&str>,
) -> Result<DiscountRow<'a>> {
    let mut coupon_path: &[Seg<'static>] = &[K("coupon")];
    let mut coupon = discount.child(coupon_path);
    if coupon.data.is_none() {
        coupon_path = &[K("source"), K("coupon")];
        coupon = discount.child(coupon_path);
    }
    match coupon.data {
        None => return Err(discount.error(&[K("coupon")], None)),
        Some(text @ Json::Str(_)) => {
            return Err(discount.error(
                coupon_path,
                Some(&format!(
                    "= {}: an id, not a coupon object (export with the coupon expanded)",
                    text.repr()
                )),
            ))
        }
        Some(_) => {}
    }
    let percent = match coupon.opt(&[K("percent_off")]) {
        None => None,
        Some(Json::Whole(n)) => Some(*n as f64),
        Some(Json::Float(x)) => Some(*x),
        Some(other) => {
            return Err(coupon.error(
                &[K("percent_off")],
                Some(&format!("= {}, not a number", other.repr())),
            ))
        }
    };
    let mut amount_off = None;
    if let Some(mut minor) = coupon.whole(&[K("amount_off")], false)? {
        let mut coupon_currency = upper(
            coupon
                .text(&[K("currency")], true)?
                .unwrap_or(&Cow::Borrowed("")),
        );
        if let Some(currency) = currency {
            if coupon_currency != currency {
                let lower = currency.to_lowercase();
                let path = [K("currency_options"), K(&lower), K("amount_off")];
                minor = coupon.whole(&path, true)?.unwrap_or(0);
                coupon_currency = Cow::Owned(currency.to_string());
            }
        }
        amount_off = Some(Money::from_minor(minor, &coupon_currency));
    }
    if percent.is_none() && amount_off.is_none() {
        return Err(coupon.error(&[K("percent_off")], None));
    }
    let duration_text = coupon.text(&[K("duration")], true)?;
    let duration = duration_text
        .and_then(|t| known(&["once", "repeating", "forever"], t))
        .ok_or_else(|| {
            let shown = duration_text.map_or("None".to_string(), |t| super::json::str_repr(t));
            coupon.error(
                &[K("duration")],
                Some(&format!("= {shown}, not once/repeating/forever")),
            )
        })?;
    let months = coupon.whole64(&[K("duration_in_months")], duration == "repeating")?;
    let owner = discount.ident(&[K("subscription")], false)?;
    Ok(DiscountRow {
        subscription_id: owner.map(|_| subscription_id.clone()),
        customer_id: customer_id.clone(),
        discount_id: discount.text(&[K("id")], false)?.cloned(),
        coupon: coupon.text(&[K("id")], false)?.cloned(),
        percent_off: percent,
        amount_off,
        duration,
        duration_in_months: months,
        start: discount.time(&[K("start")], true)?.unwrap_or(0),
        end: discount.time(&[K("end")], false)?,
    })
}
