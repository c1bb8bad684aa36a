"""Operations KPIs through the public API, with hand-computed answers.

Definitions: docs/metrics/operations.md.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import csmetrics as csm


def test_retention_cost_50000_over_100():
    subs = pl.DataFrame(
        {
            "customer_id": list(range(100)),
            "start": [dt.date(2023, 12, 1)] * 100,
            "end": [None] * 100,
            "amount": [10.0] * 100,
            "interval": ["month"] * 100,
        }
    )
    costs = pl.DataFrame(
        {"period": [dt.date(2024, 1, 1), dt.date(2024, 1, 20)], "amount": [30_000.0, 20_000.0]}
    )
    out = csm.retention_cost(subs, costs, as_of=dt.date(2024, 1, 31))
    jan = out.filter(pl.col("period") == dt.date(2024, 1, 1)).row(0, named=True)
    assert (jan["cost"], jan["customers"], jan["crc"]) == (50_000.0, 100.0, 500.0)
    start = csm.retention_cost(subs, costs, customers="start", as_of=dt.date(2024, 1, 31))
    assert start.filter(pl.col("period") == dt.date(2024, 1, 1))["crc"][0] == 500.0
    # December: 0 customers at the start -> null CRC, with the zero beside it.
    dec = start.filter(pl.col("period") == dt.date(2023, 12, 1)).row(0, named=True)
    assert dec["customers"] == 0 and dec["crc"] is None
    with pytest.raises(csm.InvalidInputError, match="customers"):
        csm.retention_cost(subs, costs, customers="everyone")  # type: ignore[arg-type]
    with pytest.raises(csm.MissingColumnError, match="amount"):
        csm.retention_cost(subs, costs.rename({"amount": "cost"}))


def test_trial_conversion_20_of_100_and_pending():
    trials = pl.DataFrame(
        {
            "trial_start": [dt.date(2024, 1, 1)] * 100 + [dt.date(2024, 2, 5)] * 10,
            "trial_end": [dt.date(2024, 1, 15)] * 100 + [dt.date(2024, 2, 20)] * 10,
            "converted_at": [dt.date(2024, 1, 20)] * 20
            + [dt.date(2024, 2, 10)] * 5  # after the 14-day window
            + [None] * 85,
        }
    )
    out = csm.trial_conversion(trials, as_of=dt.date(2024, 2, 25))
    assert out["conversion_rate"].to_list() == [0.2, None]
    assert out["pending"].to_list() == [0, 10]
    assert out["decided"].to_list() == [100, 0]
    # A 30-day window catches the 5 late conversions.
    assert csm.trial_conversion(trials, window_days=30, as_of=dt.date(2024, 3, 31))[
        "conversion_rate"
    ][0] == pytest.approx(0.25)
    bad = trials.with_columns(trial_end=pl.lit(dt.date(2023, 1, 1)))
    with pytest.raises(csm.InvalidInputError, match=r"'trial_end', row 0.*before"):
        csm.trial_conversion(bad)


def test_upsell_and_cross_sell_rates_pandas_roundtrip():
    sales = pl.DataFrame(
        {
            "timestamp": [dt.datetime(2024, 3, 1, 12)] * 100,
            "kind": ["upsell"] * 10 + ["cross_sell"] * 5 + ["new"] * 85,
            "segment": ["smb"] * 100,
        }
    )
    out = csm.conversion_rates(sales, by="segment")
    assert out.select("upsells", "cross_sells", "new", "conversions").row(0) == (10, 5, 85, 100)
    assert out.select("upsell_rate", "cross_sell_rate").row(0) == (0.1, 0.05)
    pd_out = csm.conversion_rates(sales.to_pandas())
    assert type(pd_out).__module__.startswith("pandas")
    with pytest.raises(csm.InvalidInputError, match=r"'kind', row 2.*'refund'"):
        csm.conversion_rates(
            pl.DataFrame({"timestamp": [dt.date(2024, 1, 1)] * 3, "kind": ["new", "new", "refund"]})
        )


def test_first_contact_resolution_gross_net_and_window():
    tickets = pl.DataFrame(
        {
            "opened_at": [dt.datetime(2024, 1, 1, 9)] * 5,
            "resolved_at": [dt.datetime(2024, 1, 2)] * 3 + [dt.datetime(2024, 1, 5), None],
            "contacts": [1, 1, 1, 2, None],
            "reopened_at": [None, dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 12), None, None],
            "resolvable_at_first_contact": [True, True, True, False, True],
        }
    )
    row = csm.first_contact_resolution(tickets).row(0, named=True)
    assert (row["tickets"], row["resolved"], row["first_contact_resolved"]) == (5, 4, 2)
    assert row["fcr_gross"] == 0.5
    assert row["fcr_net"] == pytest.approx(2 / 3)
    wide = csm.first_contact_resolution(tickets, reopen_window_days=30).row(0, named=True)
    assert wide["fcr_gross"] == 0.25
    # Without the optional columns every resolved one-contact ticket counts.
    bare = csm.first_contact_resolution(tickets.drop("reopened_at", "resolvable_at_first_contact"))
    assert bare["fcr_gross"][0] == 0.75 and bare["fcr_net"][0] == 0.75
    with pytest.raises(csm.InvalidInputError, match=r"'contacts', row 1.*found 0"):
        csm.first_contact_resolution(tickets.with_columns(contacts=pl.Series([1, 0, 1, 2, None])))


def _usage() -> pl.DataFrame:
    rows = [("a", dt.date(2024, 2, d), 2, 10, "reports") for d in range(1, 11)]
    rows += [
        ("b", dt.date(2024, 2, d), 1, 4, "export" if d == 1 else "reports") for d in range(1, 5)
    ]
    rows += [
        ("b", dt.date(2024, 2, 5), 0, 0, "reports"),
        ("c", dt.date(2024, 2, 29), 1, 2, "export"),
    ]
    return pl.DataFrame(
        rows, schema=["customer_id", "date", "active_users", "events", "feature"], orient="row"
    )


def test_engagement_dau_mau_stickiness():
    row = csm.engagement(_usage()).row(0, named=True)
    # Active customer-days: a 10, b 4 (the zero day is not activity), c 1, over 29 days.
    assert row["days"] == 29 and row["active"] == 3 and row["complete"] is True
    assert row["dau"] == pytest.approx(15 / 29)
    assert row["stickiness"] == pytest.approx(15 / 29 / 3)
    assert row["events_per_active_customer"] == pytest.approx(118 / 3)
    # Trailing-week actives: a covers Feb 1-16, b Feb 1-10, c Feb 29 -> 27 customer-days.
    assert row["wau"] == pytest.approx(27 / 29)
    # Mid-month cut: the period is incomplete and has 10 days.
    cut = csm.engagement(_usage(), as_of=dt.date(2024, 2, 10)).row(0, named=True)
    assert cut["complete"] is False and cut["days"] == 10 and cut["dau"] == pytest.approx(1.4)
    with pytest.raises(csm.InvalidInputError, match="unit"):
        csm.engagement(_usage(), level="user")


def test_feature_adoption_share_of_active_customers():
    out = csm.feature_adoption(_usage())
    assert out.select("feature", "users_of_feature", "active").rows() == [
        ("export", 2, 3),
        ("reports", 2, 3),
    ]
    assert out["adoption"].to_list() == pytest.approx([2 / 3, 2 / 3])


def test_engagement_counts_users_from_raw_events():
    events = pl.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b"],
            "user_id": ["u1", "u1", "u1", "u2", "u1"],
            "timestamp": [dt.datetime(2024, 3, d, 10) for d in (1, 2, 2, 2, 3)],
        }
    )
    row = csm.engagement(
        events, level="user", user_id="user_id", timestamp="timestamp", as_of=dt.date(2024, 3, 31)
    ).row(0, named=True)
    assert (row["active"], row["active_customers"], row["events"]) == (3, 2, 5.0)
    assert row["dau"] == pytest.approx(4 / 31)


def test_generated_business_rates_are_fractions():
    data = csm.datasets.saas(500, months=12, seed=4)
    for out, column in [
        (csm.trial_conversion(data.trials), "conversion_rate"),
        (csm.conversion_rates(data.conversions), "upsell_rate"),
        (csm.first_contact_resolution(data.tickets), "fcr_gross"),
        (csm.first_contact_resolution(data.tickets), "fcr_net"),
        (csm.engagement(data.usage), "stickiness"),
        (csm.feature_adoption(data.usage), "adoption"),
    ]:
        values = out[column].drop_nulls()
        assert len(values) > 0 and values.min() >= 0 and values.max() <= 1, column
    crc = csm.retention_cost(data.subscriptions, data.costs)
    assert crc["cost"].sum() == pytest.approx(data.costs["amount"].sum())


def test_engagement_by_takes_customer_attributes_only():
    usage = _usage().with_columns(
        segment=pl.when(pl.col("customer_id") == "a").then(pl.lit("ent")).otherwise(pl.lit("smb"))
    )
    out = csm.engagement(usage, by="segment")
    assert out.select("segment", "active").rows() == [("ent", 1), ("smb", 2)]
    moving = usage.with_columns(segment=pl.Series(["ent"] * 5 + ["smb"] * (usage.height - 5)))
    with pytest.raises(csm.InvalidInputError, match=r"'segment', row 5.*customer-level"):
        csm.engagement(moving, by="segment")


def _trials() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "trial_start": [dt.date(2024, 1, 1)] * 4,
            "trial_end": [dt.date(2024, 1, 15)] * 4,
            "converted_at": [dt.date(2024, 1, 20), dt.date(2024, 2, 10), None, None],
        }
    )


def _tickets() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "opened_at": [dt.date(2024, 1, 1)] * 3,
            "resolved_at": [dt.date(2024, 1, 2)] * 3,
            "contacts": [1, 1, 2],
            "reopened_at": [None, dt.date(2024, 1, 20), None],
        }
    )


@pytest.mark.parametrize(
    ("function", "data", "old", "new"),
    [
        (csm.trial_conversion, _trials, {"window": 30}, {"window_days": 30}),
        (csm.first_contact_resolution, _tickets, {"reopen_window": 30}, {"reopen_window_days": 30}),
        (csm.engagement, _usage, {"unit": "customer"}, {"level": "customer"}),
        (csm.engagement, _usage, {"date": "date"}, {"timestamp": "date"}),
        (csm.feature_adoption, _usage, {"unit": "customer"}, {"level": "customer"}),
        (csm.feature_adoption, _usage, {"date": "date"}, {"timestamp": "date"}),
    ],
)
def test_deprecated_keywords_warn_and_agree(function, data, old, new, same_under_old_name):
    (name,) = new
    same_under_old_name(function, data(), old, new, f"deprecated.*use {name}=")
