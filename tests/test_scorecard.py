"""The scorecard agrees with the individual functions; missing tables leave their KPIs out."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import csmetrics as csm

DATA = csm.datasets.saas(400, months=12, seed=2)


def _metric(long: pl.DataFrame, metric: str) -> pl.DataFrame:
    return long.filter(pl.col("metric") == metric).sort("period")


def test_scorecard_agrees_with_the_individual_functions():
    long = csm.scorecard(
        subscriptions=DATA.subscriptions,
        responses=DATA.surveys,
        tickets=DATA.tickets,
        usage=DATA.usage,
        costs=DATA.costs,
        trials=DATA.trials,
        conversions=DATA.conversions,
    )
    assert long.columns == ["period", "metric", "label", "value", "numerator", "denominator"]
    assert long.select("period", "metric").is_duplicated().sum() == 0
    # One label in words per metric (no machine key such as ces_low_effort), none shared.
    labels = dict(long.select("metric", "label").unique().iter_rows())
    assert len(labels) == long["metric"].n_unique() == len(set(labels.values()))
    assert not [label for label in labels.values() if "_" in label or label in labels]
    assert labels["ces_low_effort"] == "Low-effort share (CES)"
    assert labels["crc"] == "Customer retention cost"
    assert labels["churn_rate"] == "Logo churn rate"
    assert labels["fcr_net"] == "First-contact resolution (net)"
    checks = [
        ("mrr", csm.revenue_kpis(DATA.subscriptions), "mrr"),
        ("nrr", csm.revenue_kpis(DATA.subscriptions), "nrr"),
        ("churn_rate", csm.churn_rates(DATA.subscriptions), "churn_rate"),
        ("crc", csm.retention_cost(DATA.subscriptions, DATA.costs), "crc"),
        ("nps", csm.nps(DATA.surveys, score="nps", period="month"), "nps"),
        ("csat", csm.csat(DATA.surveys, score="csat", period="month"), "csat"),
        ("trial_conversion", csm.trial_conversion(DATA.trials), "conversion_rate"),
        ("upsell_rate", csm.conversion_rates(DATA.conversions), "upsell_rate"),
        ("fcr_net", csm.first_contact_resolution(DATA.tickets), "fcr_net"),
        ("stickiness", csm.engagement(DATA.usage), "stickiness"),
        ("mau", csm.engagement(DATA.usage), "active"),
    ]
    for metric, individual, column in checks:
        got = _metric(long, metric)
        assert got["period"].to_list() == individual["period"].to_list(), metric
        assert got["value"].to_list() == pytest.approx(
            individual[column].cast(pl.Float64).to_list(), nan_ok=True
        ), metric
    # The counts behind a rate give the rate back.
    rates = long.filter(pl.col("denominator") > 0, pl.col("metric") != "nps")
    assert (rates["numerator"] / rates["denominator"]).to_list() == pytest.approx(
        rates["value"].to_list()
    )
    wide = csm.scorecard_wide(long)
    assert {"mrr", "churn_rate", "crc", "nps", "fcr_gross", "dau"} <= set(wide.columns)
    assert wide.height == long["period"].n_unique()


def test_missing_tables_leave_their_kpis_out():
    only_tickets = csm.scorecard(tickets=DATA.tickets)
    assert set(only_tickets["metric"]) == {
        "fcr_gross",
        "fcr_net",
        "first_response_median_hours",
        "first_response_p90_hours",
        "resolution_median_hours",
        "ticket_backlog",
    }
    fcr_only = DATA.tickets.drop("first_response_at")
    assert set(csm.scorecard(tickets=fcr_only)["metric"]) == {"fcr_gross", "fcr_net"}
    # Costs without subscriptions cannot give a CRC.
    assert set(csm.scorecard(costs=DATA.costs)["metric"]) == set()
    assert csm.scorecard().columns == [
        "period",
        "metric",
        "label",
        "value",
        "numerator",
        "denominator",
    ]
    as_pandas = csm.scorecard(conversions=DATA.conversions.to_pandas())
    assert type(as_pandas).__module__.startswith("pandas")


def test_purchase_kpis_from_transactions_by_hand() -> None:
    import datetime as dt

    import polars as pl

    import csmetrics as csm

    log = pl.DataFrame(
        {
            "customer_id": ["a", "a", "b", "a", "c"],
            "timestamp": [
                dt.date(2024, 1, 5),
                dt.date(2024, 1, 20),
                dt.date(2024, 1, 7),
                dt.date(2024, 2, 2),
                dt.date(2024, 2, 9),
            ],
            "amount": [10.0, 20.0, 5.0, 30.0, 15.0],
        }
    )
    wide = csm.scorecard_wide(csm.scorecard(transactions=log))
    jan, feb = wide.row(0, named=True), wide.row(1, named=True)
    assert (jan["buyers"], jan["purchases"], jan["purchase_revenue"]) == (2.0, 3.0, 35.0)
    assert jan["average_order_value"] == 35 / 3 and jan["repeat_buyer_share"] == 0.0
    # In February a comes back (bought in January) and c buys for the first time.
    assert (feb["buyers"], feb["purchases"], feb["purchase_revenue"]) == (2.0, 2.0, 45.0)
    assert feb["average_order_value"] == 22.5 and feb["repeat_buyer_share"] == 0.5
    cut = csm.scorecard(transactions=log, as_of=dt.date(2024, 1, 31))
    assert cut["period"].unique().to_list() == [dt.date(2024, 1, 1)]
    with pytest.raises(csm.MissingColumnError, match="amount"):
        csm.scorecard(transactions=log.drop("amount"))
    # The same log from pandas with categorical customers gives the same KPIs.
    frame = log.to_pandas().astype({"customer_id": "category"})
    same = csm.scorecard(transactions=frame)
    assert list(same["value"]) == csm.scorecard(transactions=log)["value"].to_list()
    # A NaN amount is refused with its row, not carried into the average order value.
    bad = log.with_columns(amount=pl.Series([10.0, 20.0, float("nan"), 30.0, 15.0]))
    with pytest.raises(csm.InvalidInputError, match="column 'amount', row 2"):
        csm.scorecard(transactions=bad)


def test_tables_by_position_are_deprecated() -> None:
    with pytest.warns(
        DeprecationWarning, match=r"by position are deprecated.*subscriptions=\.\.\."
    ):
        positional = csm.scorecard(DATA.subscriptions, DATA.surveys)  # type: ignore[misc]
    named = csm.scorecard(subscriptions=DATA.subscriptions, responses=DATA.surveys)
    assert_frame_equal(positional, named)
    with pytest.raises(csm.InvalidInputError, match="both by position and by name"):
        csm.scorecard(DATA.subscriptions, subscriptions=DATA.subscriptions)  # type: ignore[misc]


def test_scorecard_reads_billing_detail() -> None:
    # a pays 10 throughout; b (20) asks to cancel on Feb 10 and leaves on Mar 5 (voluntary);
    # c (30) is past due and leaves on Mar 20 (payment failed, involuntary).
    day = dt.date
    subs = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "start": [day(2024, 1, 1)] * 3,
            "end": [None, day(2024, 3, 5), day(2024, 3, 20)],
            "amount": [10.0, 20.0, 30.0],
            "interval": ["month"] * 3,
            "status": ["active", "active", "past_due"],
            "canceled_at": [None, day(2024, 2, 10), None],
            "churn_reason": [None, "cancellation_requested", "payment_failed"],
        }
    )
    card = csm.scorecard(subscriptions=subs, as_of=day(2024, 3, 31))

    def value(metric: str, month: int) -> float | None:
        row = card.filter((pl.col("metric") == metric) & (pl.col("period") == day(2024, month, 1)))
        return row["value"].item()

    # Committed MRR: 60 in January; February without b (canceled, running out): 40; March: 10.
    assert [value("committed_mrr", m) for m in (1, 2, 3)] == [60.0, 40.0, 10.0]
    assert [value("cancellations", m) for m in (1, 2, 3)] == [0.0, 1.0, 0.0]
    # March: two churned customers, one involuntary.
    assert value("involuntary_churn_share", 3) == 0.5
    assert value("involuntary_churn_share", 1) is None
