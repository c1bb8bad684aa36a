"""Health scores and their backtest through the public API (docs/metrics/health.md)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import csmetrics as csm


def _customers(tickets: list[float | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"customer_id": ["a", "b", "c"], "usage": [10.0, 20.0, 30.0], "tickets": tickets}
    )


FACTORS = [csm.Factor("usage"), csm.Factor("tickets", direction="lower")]


def test_three_customers_minmax_by_hand():
    # usage -> 0, 0.5, 1; tickets 0, 4, 1 -> 0, 1, 0.25, lower is better -> 1, 0, 0.75.
    out = csm.health_score(_customers([0, 4, 1]), FACTORS)
    assert out.select("customer_id", "score", "band").rows() == [
        ("a", 50.0, "yellow"),
        ("b", 25.0, "red"),
        ("c", 87.5, "green"),
    ]
    assert out["usage_normalised"].to_list() == [0.0, 0.5, 1.0]
    assert out["tickets_normalised"].to_list() == [1.0, 0.0, 0.75]
    # Weights 3:1 and bands (30, 60): a 25 red, b 37.5 yellow, c 93.75 green.
    weighted = csm.health_score(
        _customers([0, 4, 1]),
        [csm.Factor("usage", weight=3), csm.Factor("tickets", direction="lower")],
        bands=(30, 60),
    )
    assert weighted.select("score", "band").rows() == [
        (25.0, "red"),
        (37.5, "yellow"),
        (93.75, "green"),
    ]
    # A mapping of column -> weight: both higher is better, min-max.
    assert csm.health_score(_customers([0, 4, 1]), {"usage": 1.0})["score"].to_list() == [
        0.0,
        50.0,
        100.0,
    ]


def test_missing_factor_policies():
    data = _customers([0, 4, None])
    assert csm.health_score(data, FACTORS)["score"].to_list() == [50.0, 25.0, 100.0]
    assert csm.health_score(data, FACTORS)["factors_used"].to_list() == [2, 2, 1]
    assert csm.health_score(data, FACTORS, missing="worst")["score"].to_list() == [50.0, 25.0, 50.0]
    with pytest.raises(csm.InvalidInputError, match=r"'tickets', row 2.*null"):
        csm.health_score(data, FACTORS, missing="raise")


def test_percentile_thresholds_and_per_period_normalisation():
    data = pl.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 1, 2],
            "period": ["jan"] * 4 + ["feb"] * 2,
            "x": [10.0, 20.0, 20.0, 40.0, 100.0, 200.0],
        }
    )
    pct = csm.health_score(data, [csm.Factor("x", normalisation="percentile")], by_period="period")
    assert pct["x_normalised"].to_list() == [0.0, 0.5, 0.5, 1.0, 0.0, 1.0]
    thr = csm.health_score(data, [csm.Factor("x", normalisation=(15, 35))])
    assert thr["score"].to_list() == [0.0, 25.0, 25.0, 100.0, 100.0, 100.0]


def test_bad_options_and_inputs():
    data = _customers([0, 4, 1])
    with pytest.raises(csm.InvalidInputError, match="thresholds"):
        csm.health_score(data, [csm.Factor("usage", normalisation=(5, 5))])
    with pytest.raises(csm.InvalidInputError, match="weight"):
        csm.health_score(data, [csm.Factor("usage", weight=0)])
    with pytest.raises(csm.InvalidInputError, match="direction"):
        csm.health_score(data, [csm.Factor("usage", direction="up")])  # type: ignore[arg-type]
    with pytest.raises(csm.InvalidInputError, match="bands"):
        csm.health_score(data, FACTORS, bands=(70, 40))
    with pytest.raises(csm.MissingColumnError, match="logins"):
        csm.health_score(data, ["logins"])
    with pytest.raises(csm.InvalidInputError, match=r"'usage', row 1.*NaN"):
        csm.health_score(data.with_columns(usage=pl.Series([1.0, float("nan"), 2.0])), ["usage"])


def test_auc_by_hand_with_a_tie():
    # Churned 10 and 20, retained 20 and 40: pairs 1 + 1 + 1/2 + 1 = 3.5 of 4.
    scored = pl.DataFrame({"score": [10.0, 20.0, 20.0, 40.0, None], "churned": [1, 1, 0, 0, 1]})
    assert csm.health_backtest(scored).row(0, named=True) == {
        "auc": 0.875,
        "positives": 2,
        "negatives": 2,
        "excluded": 1,
    }
    assert csm.health_backtest(scored.head(1))["auc"][0] is None
    with pytest.raises(csm.InvalidInputError, match=r"'churned', row 0.*found 2"):
        csm.health_backtest(pl.DataFrame({"score": [1.0], "churned": [2]}))


def _paying(subs: pl.DataFrame, at: dt.date) -> pl.DataFrame:
    active = (pl.col("start") <= at) & (pl.col("end").is_null() | (pl.col("end") > at))
    return subs.filter(active & (pl.col("amount") > 0)).select("customer_id").unique()


def _scoring_panel(data: csm.datasets.SaasData, cutoff: dt.date) -> pl.DataFrame:
    """Customers paying at ``cutoff`` with factors from the 21 days before it (no look-ahead),
    labelled churned when they no longer pay 10 days later."""
    look, horizon = dt.timedelta(days=21), dt.timedelta(days=10)
    at = dt.datetime.combine(cutoff, dt.time())
    stayed = _paying(data.subscriptions, cutoff + horizon).with_columns(churned=pl.lit(False))
    nps = (
        data.surveys.filter(pl.col("timestamp").is_between(cutoff - look, cutoff, closed="left"))
        .sort("timestamp")
        .group_by("customer_id")
        .agg(pl.col("nps").last())
    )
    tickets = (
        data.tickets.filter(pl.col("opened_at").is_between(at - look, at, closed="left"))
        .group_by("customer_id")
        .len("tickets")
    )
    usage = (
        data.usage.filter(pl.col("date").is_between(cutoff - look, cutoff, closed="left"))
        .group_by("customer_id")
        .agg(active_days=pl.col("date").n_unique())
    )
    return (
        _paying(data.subscriptions, cutoff)
        .join(stayed, on="customer_id", how="left")
        .join(nps, on="customer_id", how="left")
        .join(tickets, on="customer_id", how="left")
        .join(usage, on="customer_id", how="left")
        .with_columns(
            pl.col("churned").fill_null(True),
            pl.col("tickets", "active_days").fill_null(0),
            period=pl.lit(cutoff),
        )
    )


def test_backtest_on_the_generated_business_finds_the_planted_relation():
    # Unhappy terms bring low NPS answers, more tickets and less usage before the renewal at
    # which they are likelier to cancel; the score must rank churners low, a shuffle must not.
    data = csm.datasets.saas(3000, months=24, usage_days=400, raw_events=False, seed=11)
    cutoffs = [dt.date(2024, 1, 1) + dt.timedelta(days=7 * k) for k in range(50)]
    panel = pl.concat([_scoring_panel(data, c) for c in cutoffs])
    factors = [
        csm.Factor("nps"),
        csm.Factor("tickets", direction="lower"),
        csm.Factor("active_days", weight=2),
    ]
    scored = csm.health_score(panel, factors, by_period="period").with_columns(panel["churned"])
    result = csm.health_backtest(scored).row(0, named=True)
    assert result["positives"] > 300 and result["negatives"] > 50_000
    assert result["auc"] > 0.64, result
    shuffled = scored.with_columns(pl.col("score").shuffle(seed=3))
    assert abs(csm.health_backtest(shuffled)["auc"][0] - 0.5) < 0.05
    # Each factor alone points the same way as the combined score.
    for factor in factors:
        alone = csm.health_score(panel, [factor], by_period="period").with_columns(panel["churned"])
        assert csm.health_backtest(alone)["auc"][0] > 0.5, factor.column
    assert set(scored["band"].drop_nulls().unique()) == {"red", "yellow", "green"}


def test_churn_labels_by_hand():
    subs = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "start": [dt.date(2024, 1, 1)] * 3 + [dt.date(2024, 2, 1)],
            # a leaves in February, c in March; d only starts in February.
            "end": [dt.date(2024, 2, 10), None, dt.date(2024, 3, 5), None],
            "amount": [10.0] * 4,
            "interval": ["month"] * 4,
        }
    )
    scores = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "b"],
            "period": [dt.date(2024, 1, 1)] * 4 + [dt.date(2024, 3, 1)],
        }
    )
    one = csm.churn_labels(scores, subs, as_of=dt.date(2024, 3, 31))
    # d did not pay at the end of January: not at risk. b in March: April is not observed yet.
    assert one["churned"].to_list() == [True, False, False, None, None]
    two = csm.churn_labels(scores, subs, periods=2, as_of=dt.date(2024, 3, 31))
    assert two["churned"].to_list() == [True, False, True, None, None]
    with pytest.raises(csm.InvalidInputError, match="periods"):
        csm.churn_labels(scores, subs, periods=0)
    # pandas scores with categorical customers against Polars subscriptions: the same labels,
    # as pandas; the scores' columns are kept as they were.
    frame = scores.to_pandas().astype({"customer_id": "category"})
    labelled = csm.churn_labels(
        frame,
        subs.with_columns(pl.col("customer_id").cast(pl.Categorical)),
        as_of=dt.date(2024, 3, 31),
    )
    assert labelled["churned"].tolist() == [True, False, False, None, None]
    assert str(labelled["customer_id"].dtype) == "category"
    with pytest.raises(csm.InvalidInputError, match="column 'period', row 1"):
        csm.churn_labels(
            scores.with_columns(
                period=pl.Series(
                    [dt.date(2024, 1, 1), dt.date(2024, 1, 2)] * 2 + [dt.date(2024, 3, 1)]
                )
            ),
            subs,
        )


def test_churn_labels_keep_paused_customers():
    """A pause holds a customer at $0 but keeps it a customer (paused="zero", as the churn rates
    count it): by hand, a pauses for February and resumes in March, b's subscription ends while
    paused in March, c stays active throughout."""
    d = dt.date
    subs = pl.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c"],
            "subscription_id": ["sa", "sa", "sa", "sb", "sb", "sc"],
            "start": [
                d(2024, 1, 1),
                d(2024, 2, 1),
                d(2024, 3, 1),
                d(2024, 1, 1),
                d(2024, 2, 1),
                d(2024, 1, 1),
            ],
            "end": [d(2024, 2, 1), d(2024, 3, 1), None, d(2024, 2, 1), d(2024, 3, 10), None],
            "amount": [10.0] * 6,
            "interval": ["month"] * 6,
            "status": ["active", "paused", "active", "active", "paused", "active"],
        }
    )
    scores = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "a", "b"],
            "period": [d(2024, 1, 1)] * 3 + [d(2024, 2, 1)] * 2,
        }
    )
    labels = csm.churn_labels(scores, subs, as_of=d(2024, 3, 31))["churned"].to_list()
    # January's scores: a and b are paused at the end of February, still customers: not
    # churned; c neither. February's: a and b are paused then, paying no longer: not at risk.
    assert labels == [False, False, False, None, None]
    # Two periods from January: b is gone at the end of March, a is back.
    two = csm.churn_labels(scores, subs, periods=2, as_of=d(2024, 3, 31))["churned"].to_list()
    assert two == [False, True, False, None, None]
    # The same as the churn rates: b is the one customer lost in March (a paused customer
    # counts in customers_start).
    rates = csm.churn_rates(subs, as_of=d(2024, 3, 31))
    march = rates.filter(pl.col("period") == d(2024, 3, 1)).row(0, named=True)
    assert (march["customers_start"], march["churned"]) == (3, 1)


def test_monthly_backtest_with_churn_labels():
    # Scores per customer and month from that month's answers, tickets and usage; churn in the
    # next month from the revenue panel.
    data = csm.datasets.saas(3000, months=24, usage_days=400, raw_events=False, seed=11)

    def month(column: str) -> pl.Expr:
        return pl.col(column).dt.truncate("1mo").cast(pl.Date).alias("period")

    keys = ["customer_id", "period"]
    nps = (
        data.surveys.sort("timestamp")
        .group_by("customer_id", month("timestamp"))
        .agg(pl.col("nps").last())
    )
    tickets = data.tickets.group_by("customer_id", month("opened_at")).len("tickets")
    usage = data.usage.group_by("customer_id", month("date")).agg(
        active_days=pl.col("date").n_unique()
    )
    panel = (
        usage.filter(pl.col("period") >= dt.date(2024, 1, 1))
        .join(nps, on=keys, how="left")
        .join(tickets, on=keys, how="left")
        .with_columns(pl.col("tickets").fill_null(0))
    )
    labelled = csm.churn_labels(panel, data.subscriptions, periods=1)
    factors = [
        csm.Factor("nps"),
        csm.Factor("tickets", direction="lower"),
        csm.Factor("active_days", weight=2),
    ]
    scored = csm.health_score(labelled, factors, by_period="period").with_columns(
        labelled["churned"]
    )
    result = csm.health_backtest(scored).row(0, named=True)
    assert result["positives"] > 300 and result["excluded"] > 0
    assert result["auc"] > 0.58, result
    shuffled = scored.with_columns(pl.col("score").shuffle(seed=3))
    assert abs(csm.health_backtest(shuffled)["auc"][0] - 0.5) < 0.05
