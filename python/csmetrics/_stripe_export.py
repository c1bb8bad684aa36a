"""The synthetic business written as a Stripe export (:func:`csmetrics.datasets.write_stripe`).

Everything is built as Polars columns and written with ``write_ndjson``: no Python loop runs per
subscription or invoice, so writing the demo's business takes about a second.

How the generator's tables become Stripe objects:

- Billing cycles. A paid life of the generator renews on its first day's calendar day (clamped
  to the month's end); its plan changes end one subscription and start the next at a renewal,
  on the same cycle. So a subscription's invoices fall on the cycle of the first subscription of
  its chain (subscriptions of a customer following each other without a gap); an add-on, bought
  between renewals, is its own monthly subscription from the day it was bought. Seats change
  and pauses start only at renewals, so there are no proration lines.
- One invoice per billing period of every paid spell: ``paid``, ``open`` for the renewal of a
  subscription past due at the export, ``void`` for the periods of a pause (Stripe's
  ``pause_collection`` with ``behavior = "void"``) and for the renewal whose failed payment
  ended the subscription. Trials and free plans bill nothing and have no invoices.
- Amounts in the currency's minor unit: the unit amount rounded to it, times the seats; a
  discount active when the period starts (``once``: the first period, ``repeating``: periods
  starting before ``start + duration_in_months``, ``forever``: all) takes ``percent_off``
  (rounded half up to the minor unit) or ``amount_off`` (at most the line's amount).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import polars as pl

from csmetrics._options import option_error
from csmetrics.io.stripe import currency_exponent

ApiVersion = Literal["2025-03-31", "2024-12-18"]
API_VERSIONS: tuple[str, ...] = ("2025-03-31", "2024-12-18")

_SECONDS_PER_DAY = 86_400


def _unix(column: str | pl.Expr) -> pl.Expr:
    """Unix seconds (Int64) of a Date column or expression."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.cast(pl.Int64) * _SECONDS_PER_DAY


def _null(dtype: Any) -> pl.Expr:
    return pl.lit(None, dtype=dtype)


def _months(interval: str = "interval", count: str = "interval_count") -> pl.Expr:
    """Months in one billing period."""
    return (
        pl.when(pl.col(interval) == "year")
        .then(12 * pl.col(count).cast(pl.Int64))
        .otherwise(pl.col(count).cast(pl.Int64))
    )


def _month_index(column: str) -> pl.Expr:
    return pl.col(column).dt.year().cast(pl.Int64) * 12 + pl.col(column).dt.month().cast(pl.Int64)


def _shift_months(column: str, months: pl.Expr) -> pl.Expr:
    """``column`` moved by ``months`` calendar months, on its day or the month's last."""
    return pl.col(column).dt.offset_by(pl.format("{}mo", months))


def subscriptions_summary(subscriptions: pl.DataFrame, export: dt.date) -> pl.DataFrame:
    """One row per generated subscription: its life, current state, discount and billing
    cycle (``anchor`` and ``step`` months; ``billable`` for paid plans)."""
    rows = subscriptions.sort("subscription_id", "start")
    summary = rows.group_by("subscription_id", maintain_order=True).agg(
        pl.col("customer_id").first(),
        pl.col("plan").first(),
        pl.col("amount").first(),
        pl.col("interval").first(),
        pl.col("interval_count").first(),
        pl.col("start").first().alias("first_start"),
        pl.col("end").last().alias("last_end"),
        pl.col("status").last().alias("last_status"),
        pl.col("quantity").last().alias("last_quantity"),
        pl.col("canceled_at").drop_nulls().last().alias("canceled_at"),
        pl.col("churn_reason").last().alias("churn_reason"),
        pl.col("percent_off").first(),
        pl.col("amount_off").first(),
        pl.col("discount_duration").first(),
        pl.col("duration_in_months").first(),
        pl.col("discount_start").first(),
    )
    addon = pl.col("plan").str.starts_with("addon_")
    base = ~addon & ~pl.col("plan").is_in(["trial", "free"])
    summary = summary.with_columns(
        addon=addon,
        base=base,
        billable=(addon | base) & (pl.col("amount") > 0),
        step=pl.when(addon).then(pl.lit(1, pl.Int64)).otherwise(_months()),
    )
    # A chain: base subscriptions of a customer, each starting the day the previous ended.
    chains = (
        summary.filter("base")
        .sort("customer_id", "first_start")
        .with_columns(
            pl.col("last_end").shift(1).over("customer_id").alias("previous_end"),
        )
        .with_columns(
            (pl.col("previous_end").is_null() | (pl.col("previous_end") != pl.col("first_start")))
            .cum_sum()
            .alias("chain")
        )
        .with_columns(pl.col("first_start").first().over("chain").alias("anchor"))
        .select("subscription_id", "anchor")
    )
    summary = summary.join(chains, on="subscription_id", how="left").with_columns(
        pl.col("anchor").fill_null(pl.col("first_start")),
        # Billing stops at the end, or at the export for a running subscription.
        pl.col("last_end").fill_null(export).alias("stop"),
    )
    # The cycle holding the export: the current period of a running subscription.
    export_month = pl.lit(export.year * 12 + export.month, pl.Int64)
    cycle = (export_month - _month_index("anchor")) // pl.col("step")
    after = _shift_months("anchor", cycle * pl.col("step")) >= export
    summary = summary.with_columns(
        pl.when(after).then(cycle - 1).otherwise(cycle).alias("current_cycle")
    )
    return summary.with_columns(
        current_period_start=_shift_months("anchor", pl.col("current_cycle") * pl.col("step")),
        current_period_end=_shift_months("anchor", (pl.col("current_cycle") + 1) * pl.col("step")),
    ).drop("current_cycle")


def billing_periods(subscriptions: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """One row per billing period of every billable subscription that starts in its life:
    ``cycle``, ``period_start``, ``period_end``, the spell's ``status`` and ``quantity`` when it
    starts, and the invoice's ``invoice_status``."""
    billable = summary.filter("billable")
    first_cycle = (_month_index("first_start") - _month_index("anchor")) // pl.col("step")
    last_cycle = (_month_index("stop") - _month_index("anchor")) // pl.col("step") + 1
    periods = (
        billable.select(
            "subscription_id",
            "anchor",
            "step",
            "first_start",
            "stop",
            pl.int_ranges(first_cycle, last_cycle + 1).alias("cycle"),
        )
        .explode("cycle")
        .with_columns(
            period_start=_shift_months("anchor", pl.col("cycle") * pl.col("step")),
            period_end=_shift_months("anchor", (pl.col("cycle") + 1) * pl.col("step")),
        )
        .filter(
            (pl.col("period_start") >= pl.col("first_start"))
            & (pl.col("period_start") < pl.col("stop"))
        )
        .sort("subscription_id", "period_start")
    )
    spells = (
        subscriptions.select(
            "subscription_id",
            pl.col("start").alias("period_start"),
            pl.col("end").alias("spell_end"),
            "status",
            "quantity",
            "churn_reason",
        )
        .sort("subscription_id", "period_start")
        .with_columns(
            (pl.col("period_start") == pl.col("period_start").last().over("subscription_id")).alias(
                "last_spell"
            )
        )
    )
    periods = periods.join_asof(
        spells, on="period_start", by="subscription_id", check_sortedness=False
    )
    failed = (
        (pl.col("status") == "past_due")
        & pl.col("last_spell")
        & (pl.col("churn_reason") == "payment_failed")
    )
    status = (
        pl.when((pl.col("status") == "paused") | failed)
        .then(pl.lit("void"))
        .when((pl.col("status") == "past_due") & pl.col("spell_end").is_null())
        .then(pl.lit("open"))
        .otherwise(pl.lit("paid"))
    )
    return periods.with_columns(invoice_status=status).select(
        "subscription_id",
        "cycle",
        "period_start",
        "period_end",
        "status",
        "quantity",
        "invoice_status",
    )


def _ids(summary: pl.DataFrame) -> pl.DataFrame:
    """The Stripe ids of each subscription, its item, price, product and discount."""
    sid = pl.col("subscription_id").cast(pl.String)
    unit = pl.col("unit_amount").cast(pl.String)
    return summary.with_columns(
        sub=pl.concat_str(pl.lit("sub_"), sid),
        cus=pl.concat_str(pl.lit("cus_"), pl.col("customer_id").cast(pl.String)),
        item=pl.concat_str(pl.lit("si_"), sid),
        product=pl.concat_str(pl.lit("prod_"), pl.col("plan")),
        price=pl.concat_str(
            pl.lit("price_"),
            pl.col("plan"),
            pl.lit("_"),
            pl.col("interval"),
            pl.col("interval_count").cast(pl.String),
            pl.lit("_"),
            unit,
        ),
        discount_id=pl.when(pl.col("discount_duration").is_not_null()).then(
            pl.concat_str(pl.lit("di_"), sid)
        ),
        coupon=pl.when(pl.col("discount_duration").is_not_null()).then(
            pl.concat_str(
                pl.lit("co_"),
                pl.col("discount_duration"),
                pl.col("duration_in_months").cast(pl.String).fill_null(""),
                pl.lit("_"),
                pl.when(pl.col("percent_off").is_not_null())
                .then(pl.format("{}pct", pl.col("percent_off").cast(pl.Int64)))
                .otherwise(pl.format("{}off", pl.col("amount_off_minor"))),
            )
        ),
    )


def _price(currency: str) -> pl.Expr:
    return pl.struct(
        pl.col("price").alias("id"),
        pl.lit("price").alias("object"),
        pl.lit(True).alias("active"),
        pl.lit("per_unit").alias("billing_scheme"),
        pl.lit(currency).alias("currency"),
        pl.col("product"),
        pl.lit("recurring").alias("type"),
        pl.col("unit_amount"),
        pl.col("unit_amount").cast(pl.String).alias("unit_amount_decimal"),
        pl.struct(
            pl.col("interval"),
            pl.col("interval_count").cast(pl.Int64),
            pl.lit("licensed").alias("usage_type"),
        ).alias("recurring"),
    )


def _discount(currency: str, new_shape: bool) -> pl.Expr:
    repeating = pl.col("discount_duration") == "repeating"
    end = pl.when(repeating).then(
        _unix(_shift_months("discount_start", pl.col("duration_in_months").cast(pl.Int64)))
    )
    fields = [
        pl.col("discount_id").alias("id"),
        pl.lit("discount").alias("object"),
        pl.col("cus").alias("customer"),
        _unix("discount_start").alias("start"),
        end.alias("end"),
        pl.col("sub").alias("subscription"),
        _null(pl.String).alias("promotion_code"),
        _null(pl.String).alias("invoice"),
        pl.struct(
            pl.col("coupon").alias("id"),
            pl.lit("coupon").alias("object"),
            pl.col("percent_off"),
            pl.col("amount_off_minor").alias("amount_off"),
            pl.when(pl.col("amount_off_minor").is_not_null())
            .then(pl.lit(currency))
            .alias("currency"),
            pl.col("discount_duration").alias("duration"),
            pl.col("duration_in_months").cast(pl.Int64),
            pl.lit(True).alias("valid"),
        ).alias("coupon"),
    ]
    if new_shape:
        fields.append(_null(pl.String).alias("subscription_item"))
    return pl.when(pl.col("discount_id").is_not_null()).then(pl.struct(fields))


def _subscription_objects(summary: pl.DataFrame, currency: str, new_shape: bool) -> pl.DataFrame:
    trial = pl.col("plan") == "trial"
    ended = pl.col("last_end").is_not_null()
    status = (
        pl.when(ended)
        .then(pl.lit("canceled"))
        .when(trial)
        .then(pl.lit("trialing"))
        .when(pl.col("last_status") == "past_due")
        .then(pl.lit("past_due"))
        .otherwise(pl.lit("active"))
    )
    trial_end = pl.col("last_end").fill_null(pl.col("first_start") + pl.duration(days=14))
    paused = ~ended & (pl.col("last_status") == "paused")
    period = [_unix("current_period_start"), _unix("current_period_end")]
    running = ~ended & ~trial
    item_fields = [
        pl.col("item").alias("id"),
        pl.lit("subscription_item").alias("object"),
        _unix("first_start").alias("created"),
        _price(currency).alias("price"),
        pl.col("sub").alias("subscription"),
        pl.col("last_quantity").cast(pl.Int64).alias("quantity"),
    ]
    if new_shape:
        item_fields += [
            pl.when(running).then(period[0]).alias("current_period_start"),
            pl.when(running).then(period[1]).alias("current_period_end"),
        ]
    fields = [
        pl.col("sub").alias("id"),
        pl.lit("subscription").alias("object"),
        pl.lit(False).alias("livemode"),
        pl.col("cus").alias("customer"),
        status.alias("status"),
        _unix("first_start").alias("start_date"),
        _unix("first_start").alias("created"),
        pl.lit("charge_automatically").alias("collection_method"),
        pl.lit(currency).alias("currency"),
        pl.when(trial).then(_unix("first_start")).alias("trial_start"),
        pl.when(trial).then(_unix(trial_end)).alias("trial_end"),
        pl.when(paused)
        .then(pl.struct(pl.lit("void").alias("behavior"), _null(pl.Int64).alias("resumes_at")))
        .alias("pause_collection"),
        _unix("canceled_at").alias("canceled_at"),
        _null(pl.Int64).alias("cancel_at"),
        pl.col("canceled_at").is_not_null().alias("cancel_at_period_end"),
        pl.when(ended).then(_unix("last_end")).alias("ended_at"),
        pl.struct(
            _null(pl.String).alias("comment"),
            _null(pl.String).alias("feedback"),
            pl.when(ended).then(pl.col("churn_reason")).alias("reason"),
        ).alias("cancellation_details"),
        _unix("anchor").alias("billing_cycle_anchor"),
        pl.struct(
            pl.lit("list").alias("object"),
            pl.concat_list(pl.struct(item_fields)).alias("data"),
            pl.lit(False).alias("has_more"),
            pl.lit(1).alias("total_count"),
        ).alias("items"),
    ]
    discount = _discount(currency, new_shape)
    if new_shape:
        fields.append(pl.concat_list(discount).list.drop_nulls().alias("discounts"))
    else:
        fields += [
            pl.when(running).then(period[0]).alias("current_period_start"),
            pl.when(running).then(period[1]).alias("current_period_end"),
            discount.alias("discount"),
            pl.concat_list(pl.col("discount_id")).list.drop_nulls().alias("discounts"),
        ]
    return summary.select(pl.struct(fields).alias("object")).unnest("object")


def _invoice_objects(
    periods: pl.DataFrame, summary: pl.DataFrame, currency: str, new_shape: bool
) -> pl.DataFrame:
    frame = periods.join(summary, on="subscription_id")
    once = (pl.col("discount_duration") == "once") & (
        pl.col("period_start") == pl.col("first_start")
    )
    repeating = (pl.col("discount_duration") == "repeating") & (
        pl.col("period_start")
        < _shift_months("discount_start", pl.col("duration_in_months").cast(pl.Int64))
    )
    active = (once | repeating | (pl.col("discount_duration") == "forever")).fill_null(False)
    gross = pl.col("unit_amount") * pl.col("quantity").cast(pl.Int64)
    off = (
        pl.when(~active)
        .then(0)
        .when(pl.col("percent_off").is_not_null())
        .then((pl.col("gross") * pl.col("percent_off") / 100 + 0.5).floor().cast(pl.Int64))
        .otherwise(pl.min_horizontal(pl.col("amount_off_minor"), pl.col("gross")))
    )
    frame = frame.with_columns(gross=gross).with_columns(off=off.fill_null(0))
    sid = pl.col("subscription_id").cast(pl.String)
    cycle = pl.col("cycle").cast(pl.String)
    frame = frame.with_columns(
        invoice=pl.concat_str(pl.lit("in_"), sid, pl.lit("_"), cycle),
        line=pl.concat_str(pl.lit("il_"), sid, pl.lit("_"), cycle),
    )
    credit = pl.when(pl.col("off") > 0).then(
        pl.struct(
            pl.col("off").alias("amount"),
            pl.col("discount_id").alias("discount"),
            *([pl.lit("discount").alias("type")] if new_shape else []),
        )
    )
    credits = pl.concat_list(credit).list.drop_nulls()
    line = [
        pl.col("line").alias("id"),
        pl.lit("line_item").alias("object"),
        pl.col("gross").alias("amount"),
        pl.lit(currency).alias("currency"),
        pl.lit(False).alias("livemode"),
        pl.col("quantity").cast(pl.Int64).alias("quantity"),
        pl.struct(_unix("period_start").alias("start"), _unix("period_end").alias("end")).alias(
            "period"
        ),
        pl.lit(True).alias("discountable"),
    ]
    if new_shape:
        line += [
            pl.col("invoice"),
            pl.struct(
                pl.lit("price_details").alias("type"),
                pl.struct(pl.col("price"), pl.col("product")).alias("price_details"),
                pl.col("unit_amount").cast(pl.String).alias("unit_amount_decimal"),
            ).alias("pricing"),
            pl.struct(
                pl.lit("subscription_item_details").alias("type"),
                pl.struct(
                    pl.col("sub").alias("subscription"),
                    pl.col("item").alias("subscription_item"),
                    pl.lit(False).alias("proration"),
                ).alias("subscription_item_details"),
            ).alias("parent"),
            credits.alias("pretax_credit_amounts"),
        ]
    else:
        line += [
            credits.alias("discount_amounts"),
            pl.lit("subscription").alias("type"),
            pl.lit(False).alias("proration"),
            _price(currency).alias("price"),
            pl.col("sub").alias("subscription"),
            pl.col("item").alias("subscription_item"),
        ]
    reason = pl.when(pl.col("period_start") == pl.col("first_start"))
    fields = [
        pl.col("invoice").alias("id"),
        pl.lit("invoice").alias("object"),
        pl.col("cus").alias("customer"),
        pl.lit(currency).alias("currency"),
        pl.col("invoice_status").alias("status"),
        _unix("period_start").alias("created"),
        pl.lit(False).alias("livemode"),
        (pl.col("gross") - pl.col("off")).alias("total"),
        reason.then(pl.lit("subscription_create"))
        .otherwise(pl.lit("subscription_cycle"))
        .alias("billing_reason"),
        pl.struct(
            pl.lit("list").alias("object"),
            pl.concat_list(pl.struct(line)).alias("data"),
            pl.lit(False).alias("has_more"),
            pl.lit(1).alias("total_count"),
        ).alias("lines"),
    ]
    if new_shape:
        fields.append(
            pl.struct(
                pl.lit("subscription_details").alias("type"),
                pl.struct(pl.col("sub").alias("subscription")).alias("subscription_details"),
            ).alias("parent")
        )
    else:
        fields.append(pl.col("sub").alias("subscription"))
    ordered = frame.sort("customer_id", "period_start", "subscription_id")
    return ordered.select(pl.struct(fields).alias("object")).unnest("object")


def write_stripe(
    subscriptions: pl.DataFrame,
    export: dt.date,
    path: str | Path,
    *,
    api_version: str = "2025-03-31",
    currency: str = "usd",
) -> dict[str, int]:
    """The generator's subscriptions as ``subscriptions.jsonl`` and ``invoices.jsonl`` in
    ``path``, exported at ``export``; returns the objects written per file."""
    if api_version not in API_VERSIONS:
        raise option_error(
            "api_version", api_version, "expected one of " + ", ".join(map(repr, API_VERSIONS))
        )
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise option_error("currency", currency, "expected a three-letter ISO currency code")
    code = currency.lower()
    new_shape = api_version >= "2025-03-31"
    scale = 10 ** currency_exponent(code)
    summary = subscriptions_summary(subscriptions, export).with_columns(
        (pl.col("amount") * scale).round(0).cast(pl.Int64).alias("unit_amount"),
        (pl.col("amount_off") * scale).round(0).cast(pl.Int64).alias("amount_off_minor"),
    )
    summary = _ids(summary)
    periods = billing_periods(subscriptions, summary)
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    subs = _subscription_objects(summary, code, new_shape)
    invoices = _invoice_objects(periods, summary, code, new_shape)
    subs.write_ndjson(folder / "subscriptions.jsonl")
    invoices.write_ndjson(folder / "invoices.jsonl")
    return {"subscriptions.jsonl": subs.height, "invoices.jsonl": invoices.height}
