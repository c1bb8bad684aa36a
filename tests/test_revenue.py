"""Revenue through the public API: hand-computed bridges, exactness, and a brute-force check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import csmetrics as csm

from builders import subscriptions as subs

D = dt.date


def period_row(frame: pl.DataFrame, period: dt.date) -> dict[str, object]:
    return frame.filter(pl.col("period") == period).row(0, named=True)


def test_snapshot_and_events_bridges_by_hand() -> None:
    data = subs(
        [
            ("a", D(2024, 1, 1), D(2024, 3, 10), 100.0, "month"),
            ("a", D(2024, 3, 20), None, 100.0, "month"),  # churn and return in March
            ("b", D(2024, 2, 5), D(2024, 2, 20), 50.0, "month"),  # in and out within February
            ("c", D(2024, 1, 1), None, 1200.0, "year"),  # 100 a month
        ]
    )
    snap = csm.mrr_bridge(data, as_of=D(2024, 4, 10))
    assert snap["period"].to_list() == [D(2024, m, 1) for m in (1, 2, 3, 4)]
    assert snap["complete"].to_list() == [True, True, True, False]
    jan, feb, mar = (period_row(snap, D(2024, m, 1)) for m in (1, 2, 3))
    assert (jan["new"], jan["new_customers"], jan["ending_mrr"]) == (200.0, 2, 200.0)
    assert (feb["new"], feb["churned"]) == (0.0, 0.0)
    assert (mar["churned"], mar["reactivation"], mar["ending_mrr"]) == (0.0, 0.0, 200.0)
    events = csm.mrr_bridge(data, as_of=D(2024, 4, 10), mode="events")
    feb, mar = (period_row(events, D(2024, m, 1)) for m in (2, 3))
    assert (feb["new"], feb["churned"], feb["new_customers"], feb["churned_customers"]) == (
        50.0,
        50.0,
        1,
        1,
    )
    assert (mar["churned"], mar["reactivation"]) == (100.0, 100.0)
    # Both modes agree on the balances.
    assert events["ending_mrr"].to_list() == snap["ending_mrr"].to_list()


def test_default_as_of_is_the_latest_start_never_an_end() -> None:
    data = subs(
        [
            ("a", D(2024, 1, 15), D(2024, 9, 1), 10.0, "month"),  # scheduled cancellation
            ("b", D(2024, 3, 2), None, 20.0, "month"),
        ]
    )
    bridge = csm.mrr_bridge(data)
    assert bridge["period"].to_list()[-1] == D(2024, 3, 1)
    assert bridge["complete"].to_list()[-1] is False
    assert bridge["ending_mrr"].to_list()[-1] == 30.0  # a's future end is not applied
    with pytest.raises(csm.InvalidInputError, match="needs a start") as info:
        csm.mrr_bridge(data.with_columns(start=pl.Series([D(2024, 1, 1), None])))
    assert info.value.row == 1
    with pytest.raises(csm.InvalidInputError, match="customer id") as info:
        csm.mrr_bridge(data.with_columns(customer_id=pl.Series(["a", None])))
    assert info.value.row == 1


def test_exact_decimal_output_and_identity() -> None:
    data = subs(
        [("a", D(2024, 1, 1), None, 100.0, "quarter"), ("b", D(2024, 2, 1), None, 10.0, "week")]
    )
    bridge = csm.mrr_bridge(data, precision=2, money="decimal")
    assert bridge.schema["ending_mrr"] == pl.Decimal(38, 2)
    feb = period_row(bridge, D(2024, 2, 1))
    # 100 / 3 = 33.33; 10 * 365 / 84 = 43.452... -> 43.45.
    assert feb["ending_mrr"] == Decimal("76.78")
    assert (
        feb["starting_mrr"]
        + feb["new"]
        + feb["expansion"]
        + feb["reactivation"]
        - feb["contraction"]
        - feb["churned"]
        == feb["ending_mrr"]
    )
    units = csm.mrr_bridge(data, precision=2, money="units")
    assert units["ending_mrr"].to_list() == [3333, 7678]


def test_kpis_window_and_by_segment() -> None:
    data = subs(
        [
            ("a", D(2024, 1, 1), D(2024, 3, 1), 100.0, "month"),
            ("a", D(2024, 3, 1), None, 150.0, "month"),
            ("b", D(2024, 1, 1), D(2024, 3, 1), 50.0, "month"),
        ]
    ).with_columns(
        segment=pl.when(pl.col("customer_id") == "a").then(pl.lit("ent")).otherwise(pl.lit("smb"))
    )
    kpis = csm.revenue_kpis(data, as_of=D(2024, 3, 31), window=2)
    march = period_row(kpis, D(2024, 3, 1))
    assert march["window_base_mrr"] == 150.0
    assert march["nrr_window"] == pytest.approx(1.0)
    assert march["grr_window"] == pytest.approx(100 / 150)
    assert march["nrr"] == pytest.approx(150 / 150)
    by = csm.mrr_bridge(data, as_of=D(2024, 3, 31), by="segment")
    assert by["segment"].to_list() == ["ent"] * 3 + ["smb"] * 3
    mixed = data.with_columns(segment=pl.Series(["ent", "smb", "smb"]))
    with pytest.raises(csm.InvalidInputError, match="constant per customer") as info:
        csm.mrr_bridge(mixed, by="segment")
    assert info.value.column == "segment"


def test_pandas_lazy_and_monthly_inputs() -> None:
    pd = pytest.importorskip("pandas")
    data = subs(
        [
            ("a", D(2024, 1, 1), None, 10.0, "month"),
            ("b", D(2024, 1, 15), D(2024, 2, 3), 5.0, "month"),
        ]
    )
    pandas_result = csm.mrr(data.to_pandas())
    assert isinstance(pandas_result, pd.DataFrame)
    assert list(pandas_result["mrr"]) == [10.0, 5.0]
    lazy = csm.mrr_bridge(data.lazy().with_columns(junk=pl.lit("x").str.to_integer()))
    assert lazy["ending_mrr"].to_list() == [15.0]
    monthly = pl.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "period": [D(2024, 1, 1), D(2024, 2, 1), D(2024, 1, 1)],
            "mrr": [10.0, 15.0, 7.0],
        }
    )
    bridge = csm.mrr_bridge(monthly, table="monthly")
    feb = period_row(bridge, D(2024, 2, 1))
    assert (feb["expansion"], feb["churned"], feb["ending_mrr"]) == (5.0, 7.0, 15.0)


def test_bad_input_errors() -> None:
    with pytest.raises(csm.InvalidInputError) as info:
        csm.mrr_bridge(
            subs(
                [
                    ("a", D(2024, 1, 1), None, 10.0, "month"),
                    ("b", D(2024, 1, 1), None, -1.0, "month"),
                ]
            )
        )
    assert (info.value.column, info.value.row, info.value.value) == ("amount", 1, "-1")
    with pytest.raises(csm.InvalidInputError, match="before it starts"):
        csm.mrr_bridge(subs([("a", D(2024, 2, 1), D(2024, 1, 1), 10.0, "month")]))
    with pytest.raises(csm.InvalidInputError, match="'fortnight'"):
        csm.mrr_bridge(subs([("a", D(2024, 2, 1), None, 10.0, "fortnight")]))
    with pytest.raises(csm.MissingColumnError, match="interval=None"):
        csm.mrr_bridge(subs([("a", D(2024, 2, 1), None, 10.0, "month")]).drop("interval"))
    assert csm.mrr(
        subs([("a", D(2024, 2, 1), None, 10.0, "month")]).drop("interval"), interval=None
    )["mrr"].to_list() == [10.0]
    mixed = subs(
        [("a", D(2024, 1, 1), None, 10.0, "month"), ("b", D(2024, 1, 1), None, 20.0, "month")]
    )
    mixed = mixed.with_columns(currency=pl.Series(["USD", "EUR"]))
    with pytest.raises(csm.InvalidInputError, match="fx"):
        csm.mrr_bridge(mixed)
    converted = csm.mrr_bridge(mixed, fx={"USD": 1.0, "EUR": 1.5})
    assert converted["ending_mrr"].to_list() == [40.0]
    aware = mixed.with_columns(
        pl.col("start").cast(pl.Datetime("us", "UTC")), pl.col("end").cast(pl.Datetime("us"))
    )
    with pytest.raises(csm.InvalidInputError, match="aware"):
        csm.mrr_bridge(aware, fx={"USD": 1.0, "EUR": 1.5})


@st.composite
def subscription_tables(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(1, 30))
    rows = []
    for _ in range(n):
        start = D(2023, 1, 1) + dt.timedelta(days=draw(st.integers(0, 500)))
        length = draw(st.one_of(st.none(), st.integers(0, 300)))
        end = None if length is None else start + dt.timedelta(days=length)
        amount = draw(st.integers(0, 400)) / 4
        rows.append(
            (
                f"c{draw(st.integers(0, 7))}",
                start,
                end,
                amount,
                draw(st.sampled_from(["month", "year"])),
            )
        )
    return subs(rows)


def brute_force_ending_mrr(data: pl.DataFrame, periods: list[dt.date], as_of: dt.date) -> list[int]:
    """Ending MRR in cents per period, checking every subscription at every snapshot."""
    out = []
    for i in range(len(periods)):
        if i + 1 < len(periods):
            snapshot = dt.datetime.combine(periods[i + 1], dt.time()) - dt.timedelta(microseconds=1)
        else:
            snapshot = dt.datetime.combine(as_of, dt.time())
        total = 0
        for _, start, end, amount, interval in data.iter_rows():
            active = dt.datetime.combine(start, dt.time()) <= snapshot and (
                end is None or snapshot < dt.datetime.combine(end, dt.time())
            )
            if active:
                monthly = amount / 12 if interval == "year" else amount
                total += round(monthly * 100)  # Python's round is half-to-even
        out.append(total)
    return out


@given(subscription_tables(), st.sampled_from(["snapshot", "events"]))
def test_properties_identity_movements_and_brute_force(data: pl.DataFrame, mode: str) -> None:
    bridge = csm.mrr_bridge(data, precision=2, money="units", mode=mode)  # type: ignore[arg-type]
    identity = bridge.select(
        pl.col("starting_mrr")
        + pl.col("new")
        + pl.col("expansion")
        + pl.col("reactivation")
        - pl.col("contraction")
        - pl.col("churned")
        - pl.col("ending_mrr")
    ).to_series()
    assert identity.to_list() == [0] * bridge.height
    moves = csm.mrr_movements(data, precision=2, money="units", mode=mode)  # type: ignore[arg-type]
    summed = moves.pivot(on="movement", index="period", values="amount", aggregate_function="sum")
    for kind in ("new", "expansion", "contraction", "churned", "reactivation"):
        if kind in summed.columns:
            joined = bridge.join(summed, on="period", how="left", suffix="_moves")
            assert joined[kind].to_list() == joined[f"{kind}_moves"].fill_null(0).to_list()
    as_of = data["start"].max()
    assert bridge["ending_mrr"].to_list() == brute_force_ending_mrr(
        data, bridge["period"].to_list(), as_of
    )
    assert (bridge["ending_mrr"] >= 0).all()


def test_interval_count_column_is_used_when_present() -> None:
    data = subs([("a", D(2024, 1, 1), None, 600.0, "month")]).with_columns(
        interval_count=pl.Series([6], dtype=pl.Int32)
    )
    assert csm.mrr(data)["mrr"].to_list() == [100.0]
    assert csm.mrr(data, interval_count=None)["mrr"].to_list() == [600.0]
    with pytest.raises(csm.MissingColumnError, match="'billing_count'"):
        csm.mrr(data, interval_count="billing_count")


@pytest.mark.parametrize("function", [csm.mrr, csm.mrr_bridge, csm.mrr_movements, csm.revenue_kpis])
def test_first_period_is_a_deprecated_alias_of_observed_from(function, same_under_old_name) -> None:
    data = subs(
        [
            ("a", D(2024, 1, 1), None, 10.0, "month"),
            ("b", D(2024, 2, 10), D(2024, 4, 1), 20.0, "month"),
        ]
    )
    cut = {"as_of": D(2024, 4, 30)}
    result = same_under_old_name(
        function,
        data,
        {"first_period": D(2024, 2, 15), **cut},
        {"observed_from": D(2024, 2, 15), **cut},
        r"first_period= is deprecated.*use observed_from=",
    )
    if "period" in result.columns:
        assert result["period"].min() == D(2024, 2, 1)
    with pytest.raises(csm.InvalidInputError, match="give only observed_from="):
        function(data, first_period=D(2024, 2, 1), observed_from=D(2024, 2, 1))


def test_observed_from_errors_name_observed_from() -> None:
    data = subs([("a", D(2024, 1, 1), None, 10.0, "month")])
    with pytest.raises(csm.InvalidInputError, match="observed_from=") as err:
        csm.mrr(data, as_of=D(2024, 1, 31), observed_from=D(2024, 6, 1))
    assert err.value.option == "observed_from"  # type: ignore[attr-defined]
