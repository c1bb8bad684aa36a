"""datasets.write_stripe: the synthetic business as a Stripe export, read back with
csmetrics.io.stripe and checked against the generator's own tables (the expectations below are
computed from ``data.subscriptions`` in plain Polars, not with the writer's code)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from csmetrics import InvalidInputError, datasets
from csmetrics.io import stripe

CUSTOMERS = 300
MONTHS = 18


@pytest.fixture(scope="module")
def business() -> datasets.SaasData:
    # Enough pauses, failed payments and discounts in a few hundred customers.
    return datasets.saas(
        CUSTOMERS,
        months=MONTHS,
        seed=11,
        pause_rate=0.05,
        past_due_rate=0.08,
        discount_share=0.5,
        cancel_notice_share=0.9,
    )


@pytest.fixture(scope="module")
def exports(
    business: datasets.SaasData, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, stripe.StripeTables]:
    read = {}
    for version in ("2025-03-31", "2024-12-18"):
        folder = tmp_path_factory.mktemp(f"stripe-{version}")
        written = datasets.write_stripe(business, folder, api_version=version)
        assert (
            written["subscriptions.jsonl"] == business.subscriptions["subscription_id"].n_unique()
        )
        read[version] = stripe.read(
            subscriptions=folder / "subscriptions.jsonl", invoices=folder / "invoices.jsonl"
        )
    return read


def _ids(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.format("cus_{}", "customer_id").alias("customer_id"),
        pl.format("sub_{}", "subscription_id").alias("subscription_id"),
    )


def _lives(business: datasets.SaasData) -> pl.DataFrame:
    """One row per generated subscription, from its spells."""
    return (
        business.subscriptions.sort("start")
        .group_by("subscription_id")
        .agg(
            pl.col("customer_id", "plan", "amount", "interval", "interval_count").first(),
            pl.col("start").min().alias("first"),
            pl.col("end").last().alias("last_end"),
            pl.col("status").last().alias("last_status"),
            pl.col("quantity").last().alias("last_quantity"),
            pl.col("canceled_at").max(),
            pl.col("churn_reason").last(),
        )
    )


def test_both_api_shapes_read_to_identical_tables(exports: dict[str, stripe.StripeTables]) -> None:
    new, old = exports["2025-03-31"], exports["2024-12-18"]
    assert_frame_equal(new.subscriptions, old.subscriptions)
    assert_frame_equal(new.discounts, old.discounts)
    assert_frame_equal(new.invoice_lines, old.invoice_lines)
    assert new.skipped == old.skipped
    assert new.invoice_lines.height > 1000


def test_subscriptions_read_back_as_the_generators_current_state(
    business: datasets.SaasData, exports: dict[str, stripe.StripeTables]
) -> None:
    export = business.parameters["end"]
    lives = _lives(business)
    ended = pl.col("last_end").is_not_null()
    expected = _ids(lives).select(
        "customer_id",
        "subscription_id",
        pl.col("plan").alias("product"),
        pl.col("first").cast(pl.Datetime("us", "UTC")).alias("start"),
        pl.col("amount").round(2),
        pl.col("last_quantity").cast(pl.Int64).alias("quantity"),
        "interval",
        pl.col("interval_count").cast(pl.Int64),
        # A trial, ended or not, is its trial row; an ended paid one is canceled.
        pl.when(pl.col("plan") == "trial")
        .then(pl.lit("trialing"))
        .when(ended)
        .then(pl.lit("canceled"))
        .otherwise("last_status")
        .alias("status"),
        pl.col("canceled_at").cast(pl.Datetime("us", "UTC")),
        pl.when(ended).then("churn_reason").alias("churn_reason"),
        pl.col("last_end").cast(pl.Datetime("us", "UTC")).alias("end"),
    )
    subs = exports["2025-03-31"].subscriptions
    assert subs["currency"].unique().to_list() == ["USD"]
    # The state at the export: each subscription's first row's start, its last row's status,
    # seats and end.
    got = subs.group_by("customer_id", "subscription_id").agg(
        pl.col("plan").first().str.extract(r"^price_(.+)_(?:month|year)\d+_\d+$").alias("product"),
        pl.col("start").min(),
        pl.col("amount").first().cast(pl.Float64),
        pl.col("quantity").last(),
        pl.col("interval", "interval_count").first(),
        pl.col("status").last(),
        pl.col("canceled_at", "churn_reason").first(),
        pl.col("end").last(),
    )
    joined = expected.join(got, on=["customer_id", "subscription_id"], suffix="_read")
    assert joined.height == expected.height == got.height
    for column in ("product", "start", "amount", "quantity", "interval", "interval_count"):
        assert (joined[column] == joined[f"{column}_read"]).all(), column
    for column in ("status", "canceled_at", "churn_reason"):
        same = joined[column].eq_missing(joined[f"{column}_read"])
        assert same.all(), joined.filter(~same).select(column, f"{column}_read").head()
    # Ended ones end when the generator says; a cancellation asked for a running one ends it at
    # the end of its current period, after the export and within one billing period of it.
    done = joined.filter(pl.col("end").is_not_null())
    assert (done["end"] == done["end_read"]).all()
    asked = joined.filter(pl.col("end").is_null() & pl.col("canceled_at").is_not_null())
    cutoff = dt.datetime.combine(export, dt.time(), dt.timezone.utc)
    assert asked.height > 0
    assert (asked["end_read"] > cutoff).all()
    assert (asked["end_read"] <= cutoff + dt.timedelta(days=366)).all()
    running = joined.filter(pl.col("end").is_null() & pl.col("canceled_at").is_null())
    paying = running.filter(pl.col("status") != "trialing")
    assert paying["end_read"].null_count() == paying.height > 0
    # A running trial ends on its 14th day, after the export.
    trials = running.filter(pl.col("status") == "trialing")
    assert trials.height > 0
    assert (trials["end_read"] == trials["start"] + dt.timedelta(days=14)).all()
    assert (trials["end_read"] > cutoff).all()
    # Every status of the generator occurs at the export.
    assert set(joined["status"]) >= {"active", "canceled", "past_due", "paused", "trialing"}


def test_discounts_read_back_as_the_generators(
    business: datasets.SaasData, exports: dict[str, stripe.StripeTables]
) -> None:
    expected = (
        _ids(business.subscriptions)
        .filter(pl.col("discount_duration").is_not_null())
        .group_by("subscription_id")
        .agg(
            pl.col(
                "customer_id",
                "percent_off",
                "amount_off",
                "discount_duration",
                "duration_in_months",
                "discount_start",
            ).first()
        )
        .select(
            "subscription_id",
            "customer_id",
            "percent_off",
            "amount_off",
            pl.col("discount_duration").alias("duration"),
            pl.col("duration_in_months").cast(pl.Int64),
            pl.col("discount_start").cast(pl.Datetime("us", "UTC")).alias("start"),
        )
        .sort("subscription_id")
    )
    got = (
        exports["2024-12-18"]
        .discounts.select(*expected.columns)
        .with_columns(pl.col("amount_off").cast(pl.Float64))
        .sort("subscription_id")
    )
    assert expected.height > 20
    assert_frame_equal(got, expected)


def _billed(business: datasets.SaasData) -> pl.DataFrame:
    """Every billing period of the generator's paid subscriptions, with its status and the cents
    it bills, from the subscription rows: periods repeat from the first day of a chain of
    subscriptions that follow each other without a gap (add-ons: from their own first day)."""
    export = business.parameters["end"]
    lives = _lives(business).filter(pl.col("amount") > 0)
    addon = pl.col("plan").str.starts_with("addon_")
    chained = (
        lives.filter(~addon)
        .sort("customer_id", "first")
        .with_columns(
            new_chain=pl.col("first") != pl.col("last_end").shift(1).over("customer_id"),
        )
        .with_columns(chain=pl.col("new_chain").fill_null(True).cum_sum())
        .with_columns(anchor=pl.col("first").min().over("chain"))
    )
    lives = pl.concat(
        [
            chained.drop("new_chain", "chain"),
            lives.filter(addon).with_columns(anchor=pl.col("first")),
        ]
    ).with_columns(stop=pl.col("last_end").fill_null(export))
    months = pl.when(pl.col("interval") == "year").then(12).otherwise(pl.col("interval_count"))
    lives = lives.with_columns(months=pl.when(addon).then(1).otherwise(months))
    parts = []
    for step in lives["months"].unique().to_list():
        part = lives.filter(pl.col("months") == step)
        starts = pl.date_ranges("anchor", "stop", f"{step}mo", closed="left")
        parts.append(part.with_columns(period_start=starts).explode("period_start"))
    periods = pl.concat(parts).filter(pl.col("period_start") >= pl.col("first"))
    spells = business.subscriptions.select(
        "subscription_id",
        pl.col("start").alias("spell_start"),
        pl.col("end").alias("spell_end"),
        "status",
        "quantity",
        pl.col("churn_reason").alias("spell_reason"),
        "percent_off",
        "amount_off",
        "discount_duration",
        "duration_in_months",
        "discount_start",
    )
    periods = periods.join(spells, on="subscription_id").filter(
        (pl.col("spell_start") <= pl.col("period_start"))
        & (pl.col("spell_end").is_null() | (pl.col("period_start") < pl.col("spell_end")))
    )
    failed = (pl.col("status") == "past_due") & pl.col("spell_reason").eq_missing("payment_failed")
    discounted = (
        pl.when(pl.col("discount_duration") == "forever")
        .then(True)
        .when(pl.col("discount_duration") == "once")
        .then(pl.col("period_start") == pl.col("first"))
        .when(pl.col("discount_duration") == "repeating")
        .then(
            pl.col("period_start")
            < pl.col("discount_start").dt.offset_by(pl.format("{}mo", "duration_in_months"))
        )
        .otherwise(False)
    )
    gross = (pl.col("amount") * 100).round().cast(pl.Int64) * pl.col("quantity")
    off = (
        pl.when(~discounted)
        .then(0)
        .when(pl.col("percent_off").is_not_null())
        .then((gross * pl.col("percent_off") / 100 + 0.5).floor().cast(pl.Int64))
        .otherwise(pl.min_horizontal((pl.col("amount_off") * 100).round().cast(pl.Int64), gross))
    )
    return _ids(periods).with_columns(
        billed=pl.col("status").is_in(["active", "past_due"]) & ~failed,
        cents=gross - off,
    )


def test_invoice_lines_bill_what_the_generators_rows_bill_each_month(
    business: datasets.SaasData, exports: dict[str, stripe.StripeTables]
) -> None:
    periods = _billed(business)
    expected = (
        periods.filter("billed")
        .group_by("customer_id", pl.col("period_start").dt.truncate("1mo").alias("month"))
        .agg(pl.col("cents").sum())
        .sort("customer_id", "month")
    )
    lines = exports["2025-03-31"].invoice_lines
    assert lines["kind"].unique().to_list() == ["subscription"]
    got = (
        lines.group_by(
            "customer_id",
            pl.col("period_start").dt.date().dt.truncate("1mo").alias("month"),
        )
        .agg((pl.col("amount") * 100).cast(pl.Int64).sum().alias("cents"))
        .sort("customer_id", "month")
    )
    assert_frame_equal(got, expected)
    # The periods billed nothing (pauses, the renewal whose payment failed) are void invoices.
    unbilled = periods.filter(~pl.col("billed"))
    assert unbilled.height > 5
    assert exports["2025-03-31"].skipped == {"void invoices": unbilled.height}
    # Discounts took something off some lines, and quarterly and yearly periods are billed whole.
    assert (periods.filter("billed")["cents"] < periods.filter("billed")["amount"] * 100).any()
    spans = lines.select((pl.col("period_end") - pl.col("period_start")).dt.total_days())
    assert spans.to_series().is_in([28, 29, 30, 31]).mean() < 1  # type: ignore[operator]
    assert spans.to_series().max() in (365, 366)


def test_the_files_are_json_lines_of_stripe_objects(
    business: datasets.SaasData, tmp_path: Path
) -> None:
    datasets.write_stripe(business, tmp_path, api_version="2024-12-18")
    first = json.loads((tmp_path / "subscriptions.jsonl").read_text().splitlines()[0])
    assert first["object"] == "subscription"
    assert first["id"] == f"sub_{business.subscriptions['subscription_id'][0]}"
    assert {"current_period_start", "discount", "items"} <= set(first)
    invoice = json.loads((tmp_path / "invoices.jsonl").read_text().splitlines()[0])
    line = invoice["lines"]["data"][0]
    assert (invoice["object"], line["type"], line["proration"]) == (
        "invoice",
        "subscription",
        False,
    )
    assert isinstance(line["amount"], int)


def test_a_zero_decimal_currency_bills_whole_yen(
    business: datasets.SaasData, tmp_path: Path
) -> None:
    datasets.write_stripe(business, tmp_path, currency="JPY")
    tables = stripe.read(subscriptions=tmp_path / "subscriptions.jsonl")
    amounts = tables.subscriptions.select("subscription_id", "amount", "currency").unique()
    assert amounts["currency"].unique().to_list() == ["JPY"]
    generated = (
        _ids(business.subscriptions)
        .group_by("subscription_id")
        .agg(pl.col("amount").first().alias("generated"))
    )
    joined = amounts.join(generated, on="subscription_id")
    assert joined.height == amounts.height
    yen = joined["amount"].cast(pl.Float64)
    assert (yen == yen.round()).all()
    assert ((yen - joined["generated"]).abs() <= 0.5).all()
    assert (yen != joined["generated"]).any()  # 9.80 a seat is 10 yen


@pytest.mark.parametrize(
    ("option", "value"), [("api_version", "2023-10-16"), ("currency", "dollars")]
)
def test_bad_options_are_errors_naming_them(
    business: datasets.SaasData, tmp_path: Path, option: str, value: str
) -> None:
    with pytest.raises(InvalidInputError, match=option):
        datasets.write_stripe(business, tmp_path, **{option: value})  # type: ignore[arg-type]
    assert not (tmp_path / "subscriptions.jsonl").exists()
