"""The scorecard agrees with the individual functions; missing tables leave their KPIs out."""

from __future__ import annotations

import polars as pl
import pytest

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
    assert long.columns == ["period", "metric", "value", "numerator", "denominator"]
    assert long.select("period", "metric").is_duplicated().sum() == 0
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
    assert set(only_tickets["metric"]) == {"fcr_gross", "fcr_net"}
    # Costs without subscriptions cannot give a CRC.
    assert set(csm.scorecard(costs=DATA.costs)["metric"]) == set()
    assert csm.scorecard().columns == ["period", "metric", "value", "numerator", "denominator"]
    as_pandas = csm.scorecard(conversions=DATA.conversions.to_pandas())
    assert type(as_pandas).__module__.startswith("pandas")
