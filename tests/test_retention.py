"""Churn, cohorts, lives and renewals through the public API."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import csmetrics as csm

from builders import subscriptions

D = dt.date


def subs(rows: list[tuple[str, dt.date, dt.date | None, float]]) -> pl.DataFrame:
    return subscriptions([(*r, "month") for r in rows])


def test_churn_agrees_with_bridge_and_denominators() -> None:
    rows = [(f"c{i}", D(2024, 1, 1), D(2024, 2, 10) if i < 15 else None, 10.0) for i in range(650)]
    rows += [(f"n{i}", D(2024, 2, 3), None, 10.0) for i in range(5)]
    rows.append(("flash", D(2024, 2, 5), D(2024, 2, 20), 10.0))
    data = subs(rows)
    churn = csm.churn_rates(data, as_of=D(2024, 3, 1))
    bridge = csm.mrr_bridge(data, as_of=D(2024, 3, 1))
    assert churn["churned"].to_list() == bridge["churned_customers"].to_list()
    feb = churn.row(1, named=True)
    assert feb["churn_rate"] == pytest.approx(15 / 650, abs=1e-15)
    assert feb["retention_rate"] == pytest.approx(635 / 650, abs=1e-15)
    stripe = csm.churn_rates(
        data, as_of=D(2024, 3, 1), mode="events", denominator="start_plus_new"
    ).row(1, named=True)
    assert stripe["churn_rate"] == pytest.approx(16 / 656, abs=1e-15)
    with pytest.raises(csm.InvalidInputError, match="denominator"):
        csm.churn_rates(data, denominator="middle")  # type: ignore[arg-type]


def test_activity_events_pandas_and_triangle() -> None:
    pd = pytest.importorskip("pandas")
    events = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 1, 3],
            "timestamp": pd.to_datetime(
                ["2024-01-05", "2024-01-09", "2024-01-30", "2024-03-02", "2024-02-11"]
            ),
        }
    )
    churn = csm.churn_rates(events, table="activity")
    assert isinstance(churn, pd.DataFrame)
    # Feb: S = {1, 2}, E = {3}: both churned; Mar: S = {3}, E = {1}: 3 churned, 1 reactivated.
    assert list(churn["churned"]) == [0, 2, 1]
    assert list(churn["reactivated"]) == [0, 0, 1]
    long = csm.cohort_retention(pl.from_pandas(events), table="activity")
    triangle = csm.cohort_triangle(long)
    assert triangle.columns == ["cohort", "cohort_size", "0", "1", "2"]
    assert triangle.row(0) == (D(2024, 1, 1), 2, 1.0, 0.0, 0.5)
    assert triangle.row(1) == (D(2024, 2, 1), 1, 1.0, 0.0, None)  # age 2 not yet observable
    with pytest.raises(csm.InvalidInputError, match="no revenue"):
        csm.cohort_retention(events, table="activity", kind="revenue")


def test_survival_table_and_renewals() -> None:
    data = subs([("a", D(2024, 1, 1), D(2024, 3, 1), 10.0), ("a", D(2024, 3, 11), None, 10.0)])
    all_lives = csm.survival_table(data, as_of=D(2024, 4, 1), lives="all", time_unit="week")
    assert all_lives["duration"].to_list() == pytest.approx([60 / 7, 21 / 7])
    assert all_lives["event"].to_list() == [True, False]
    contracts = pl.DataFrame(
        {
            "renewal_due": [D(2024, 6, 1), D(2024, 6, 2), D(2024, 7, 1), D(2024, 7, 1)],
            "renewed": [1, 0, None, 1],
            "amount": [100.0, 300.0, 50.0, 20.0],
        }
    )
    result = csm.renewal_rates(contracts, amount="amount")
    assert result["renewal_rate"].to_list() == [0.5, 1.0]
    assert result["revenue_renewal_rate"].to_list() == [0.25, 1.0]
    assert result["pending"].to_list() == [0, 1]


@st.composite
def tables(draw: st.DrawFn) -> pl.DataFrame:
    rows = []
    for _ in range(draw(st.integers(1, 25))):
        start = D(2023, 1, 1) + dt.timedelta(days=draw(st.integers(0, 400)))
        length = draw(st.one_of(st.none(), st.integers(1, 200)))
        rows.append(
            (
                f"c{draw(st.integers(0, 6))}",
                start,
                None if length is None else start + dt.timedelta(days=length),
                5.0,
            )
        )
    return subs(rows)


@given(tables())
def test_properties_rates_bounded_and_grouped_equals_per_group(data: pl.DataFrame) -> None:
    churn = csm.churn_rates(data, ci="wilson")
    for row in churn.iter_rows(named=True):
        if row["churn_rate"] is not None:
            assert 0 <= row["churn_lower"] <= row["churn_rate"] <= row["churn_upper"] <= 1
            assert row["retention_rate"] == pytest.approx(1 - row["churn_rate"])
    segmented = data.with_columns(
        segment=(pl.col("customer_id").str.slice(1).cast(pl.Int32) % 2).cast(pl.String)
    )
    as_of = data["start"].max()
    grouped = csm.cohort_retention(segmented, by="segment", as_of=as_of)
    for segment in grouped["segment"].unique().to_list():
        alone = csm.cohort_retention(segmented.filter(pl.col("segment") == segment), as_of=as_of)
        mine = grouped.filter(pl.col("segment") == segment).drop("segment")
        both = mine.join(alone, on=["cohort", "age"], how="inner", suffix="_alone")
        # Every cohort of the segment is there, with the same cells wherever both observe them.
        assert set(alone["cohort"]) == set(mine["cohort"])
        assert both.height == alone.height
        assert both["active"].to_list() == both["active_alone"].to_list()
        assert both["cohort_size"].to_list() == both["cohort_size_alone"].to_list()


@pytest.mark.parametrize(
    ("function", "old", "new", "match"),
    [
        (
            csm.churn_rates,
            {"first_period": D(2024, 2, 1)},
            {"observed_from": D(2024, 2, 1)},
            "observed_from=",
        ),
        (
            csm.cohort_retention,
            {"first_period": D(2024, 2, 1)},
            {"observed_from": D(2024, 2, 1)},
            "observed_from=",
        ),
        (
            csm.survival_table,
            {"gap_tolerance": 15},
            {"gap_tolerance_days": 15},
            "gap_tolerance_days=",
        ),
        (csm.survival_table, {"unit": "week"}, {"time_unit": "week"}, "use time_unit="),
    ],
)
def test_deprecated_keywords_warn_and_agree(function, old, new, match, same_under_old_name) -> None:
    data = subs(
        [
            ("a", D(2024, 1, 1), D(2024, 3, 1), 10.0),
            ("a", D(2024, 3, 11), None, 10.0),
            ("b", D(2024, 2, 1), None, 10.0),
        ]
    )
    same_under_old_name(
        function, data, {**old, "as_of": D(2024, 4, 1)}, {**new, "as_of": D(2024, 4, 1)}, match
    )


def test_churn_cohorts_and_lives_convert_currencies_with_fx() -> None:
    # a pays EUR 100, b JPY 10,000; b churns in February. Revenue retention of the January
    # cohort in February: only a's 100 * 1.1 = 110 of 110 + 10,000 * 0.0065 = 175 is kept.
    data = subs(
        [("a", D(2024, 1, 1), None, 100.0), ("b", D(2024, 1, 1), D(2024, 2, 10), 10_000.0)]
    ).with_columns(currency=pl.Series(["EUR", "JPY"]))
    fx = {"EUR": 1.1, "JPY": 0.0065}
    for function in (csm.churn_rates, csm.cohort_retention):
        with pytest.raises(csm.InvalidInputError, match="fx"):
            function(data, as_of=D(2024, 3, 1))
    # Lives need no rates (paying or not is the same in every currency) but where amounts net:
    # invoice lines in two currencies.
    assert csm.survival_table(data, as_of=D(2024, 3, 1))["event"].to_list() == [False, True]
    lines = pl.DataFrame(
        {
            "customer_id": ["a", "b"],
            "period_start": [D(2024, 1, 1)] * 2,
            "period_end": [D(2024, 2, 1)] * 2,
            "amount": [100.0, 10_000.0],
            "currency": ["EUR", "JPY"],
        }
    )
    with pytest.raises(csm.InvalidInputError, match="fx"):
        csm.survival_table(lines, table="invoices", as_of=D(2024, 3, 1))
    both = csm.survival_table(lines, table="invoices", as_of=D(2024, 3, 1), fx=fx)
    assert both["event"].to_list() == [True, True]
    churn = csm.churn_rates(data, as_of=D(2024, 3, 1), fx=fx)
    assert churn["churned"].to_list() == [0, 1, 0]
    revenue = csm.cohort_retention(data, as_of=D(2024, 3, 1), kind="revenue", fx=fx)
    feb = revenue.filter(pl.col("age") == 1).row(0, named=True)
    assert feb["rate"] == pytest.approx(110 / 175, abs=1e-12)
    frame = pl.DataFrame({"currency": ["EUR", "JPY"], "rate": [1.1, 0.0065]})
    assert_same = csm.cohort_retention(data, as_of=D(2024, 3, 1), kind="revenue", fx=frame)
    assert assert_same["rate"].to_list() == revenue["rate"].to_list()
    lives = csm.survival_table(data, as_of=D(2024, 3, 1), fx=fx).sort("customer_id")
    assert lives["event"].to_list() == [False, True]
