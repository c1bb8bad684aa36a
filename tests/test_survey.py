"""Survey metrics through the public API, against hand-computed values."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import csmetrics as csm

Z95 = 1.959963984540054


def sixty_thirty_ten() -> list[int]:
    return [9] * 30 + [10] * 30 + [7] * 15 + [8] * 15 + [0] * 5 + [6] * 5


def test_nps_worked_example() -> None:
    result = csm.nps(pl.DataFrame({"score": sixty_thirty_ten()}))
    row = result.row(0, named=True)
    assert (row["n"], row["promoters"], row["passives"], row["detractors"]) == (100, 60, 30, 10)
    assert row["nps"] == 50.0
    assert row["promoter_share"] == 0.6
    assert row["detractor_share"] == 0.1
    assert (row["missing"], row["invalid"]) == (0, 0)
    assert round(row["nps_lower"], 2) == 35.47
    assert round(row["nps_upper"], 2) == 61.62


def test_adjusted_wald_and_wald_by_hand() -> None:
    scores = pl.DataFrame({"score": [10] * 12 + [8] * 5 + [2] * 3})
    p, d, n = 12, 3, 20
    pp, pd_ = (p + 0.75) / (n + 3), (d + 0.75) / (n + 3)
    centre = 100 * (pp - pd_)
    se = 100 * math.sqrt((pp + pd_ - (pp - pd_) ** 2) / (n + 3))
    adjusted = csm.nps(scores).row(0, named=True)
    assert adjusted["nps_lower"] == pytest.approx(centre - Z95 * se, abs=1e-9)
    assert adjusted["nps_upper"] == pytest.approx(centre + Z95 * se, abs=1e-9)
    wald = csm.nps(scores, ci="wald", confidence=0.8).row(0, named=True)
    se = 100 * math.sqrt((0.6 + 0.15 - 0.45**2) / 20)
    z80 = 1.2815515655446004
    assert wald["nps_lower"] == pytest.approx(45 - z80 * se, abs=1e-9)
    assert wald["nps_upper"] == pytest.approx(45 + z80 * se, abs=1e-9)
    assert "nps_lower" not in csm.nps(scores, ci=None).columns


def answers_by_segment_and_month() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "segment": ["b", "a", "a", "a", "b", "a"],
            "timestamp": [
                dt.date(2024, 1, 31),
                dt.date(2024, 1, 1),
                dt.date(2024, 1, 15),
                dt.date(2024, 2, 1),
                dt.date(2024, 1, 2),
                dt.date(2024, 2, 29),
            ],
            "score": [10, 9, 3, 7, 6, 10],
        }
    )


def test_grouped_by_segment_and_month() -> None:
    result = csm.nps(answers_by_segment_and_month(), by="segment", period="month")
    expected = pl.DataFrame(
        {
            "segment": ["a", "a", "b"],
            "period": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 1, 1)],
            "nps": [0.0, 50.0, 0.0],
        }
    )
    assert_frame_equal(result.select("segment", "period", "nps"), expected)


def test_periods_from_aware_datetimes_are_utc_weeks_starting_monday() -> None:
    frame = pl.DataFrame(
        {
            "timestamp": [
                dt.datetime(2024, 8, 18, 23, 30, tzinfo=dt.timezone.utc),  # Sunday
                dt.datetime(2024, 8, 19, 0, 30, tzinfo=dt.timezone.utc),  # Monday
            ],
            "score": [10, 0],
        }
    )
    result = csm.nps(frame, period="week")
    assert result["period"].to_list() == [dt.date(2024, 8, 12), dt.date(2024, 8, 19)]
    quarters = csm.nps(answers_by_segment_and_month(), period="quarter")
    assert quarters["period"].to_list() == [dt.date(2024, 1, 1)]
    assert quarters["n"].to_list() == [6]


def test_csat_and_ces() -> None:
    result = csm.csat(pl.DataFrame({"score": [5, 4, 4, 3, 1]})).row(0, named=True)
    assert (result["n"], result["satisfied"], result["csat"]) == (5, 3, 0.6)
    assert result["mean_score"] == pytest.approx(3.4)
    higher = csm.ces(pl.DataFrame({"score": [7, 6, 5, 4, 1]})).row(0, named=True)
    assert (higher["low_effort"], higher["low_effort_share"]) == (3, 0.6)
    assert higher["mean_score"] == pytest.approx(4.6)
    lower = csm.ces(pl.DataFrame({"score": [1, 2, 3, 5]}), direction="lower_is_easier")
    assert lower["low_effort_share"][0] == 0.5
    with pytest.raises(csm.InvalidInputError, match="from 1 to 5"):
        csm.ces(pl.DataFrame({"score": [7]}), direction="lower_is_easier")


def test_nps_compare_worked_example() -> None:
    a = [10] * 60 + [8] * 30 + [2] * 10
    b = [9] * 50 + [7] * 30 + [0] * 20
    frame = pl.DataFrame({"group": ["A"] * 100 + ["B"] * 100, "score": a + b})
    row = csm.nps_compare(frame, between="group").row(0, named=True)
    assert (row["group_a"], row["group_b"]) == ("A", "B")
    assert (row["nps_a"], row["nps_b"], row["difference"]) == (50.0, 30.0, -20.0)
    assert row["se"] == pytest.approx(math.sqrt(45 + 61), abs=1e-9)
    assert row["z"] == pytest.approx(-1.943, abs=5e-4)
    assert row["p_value"] == pytest.approx(0.0521, abs=5e-5)
    assert row["difference_lower"] == pytest.approx(-20 - Z95 * math.sqrt(106), abs=1e-9)


def test_nps_compare_periods() -> None:
    frame = answers_by_segment_and_month()
    result = csm.nps_compare(frame, period="month", pairs="consecutive")
    assert result["period_a"].to_list() == [dt.date(2024, 1, 1)]
    assert result["difference"].to_list() == [pytest.approx(50.0)]
    with pytest.raises(csm.InvalidInputError, match="between"):
        csm.nps_compare(frame)


@pytest.mark.parametrize(
    ("scores", "shown", "row"),
    [
        ([9, 8, 10, 11], "11", 3),
        ([-1, 8], "-1", 0),
        ([9.0, 7.5], "7.5", 1),
        ([9.0, float("nan")], "NaN", 1),
    ],
)
def test_invalid_scores_raise_naming_column_rule_value_row(
    scores: list[float], shown: str, row: int
) -> None:
    with pytest.raises(csm.InvalidInputError) as info:
        csm.nps(pl.DataFrame({"answer": scores}), score="answer")
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, csm.CsMetricsError)
    assert (err.column, err.row, err.value) == ("answer", row, shown)
    assert "whole numbers from 0 to 10" in err.rule
    assert f"row {row}" in str(err) and "'answer'" in str(err)


def test_invalid_policies() -> None:
    frame = pl.DataFrame({"score": [10.0, 11.0, None, float("nan"), 0.0, 9.0]})
    dropped = csm.nps(frame, invalid="drop").row(0, named=True)
    assert (dropped["n"], dropped["invalid"], dropped["missing"]) == (3, 2, 1)
    assert dropped["nps"] == pytest.approx(100 / 3)
    nulled = csm.nps(frame, invalid="null").row(0, named=True)
    assert (nulled["n"], nulled["invalid"], nulled["missing"]) == (3, 0, 3)
    with pytest.raises(csm.InvalidInputError, match="invalid='sometimes'"):
        csm.nps(frame, invalid="sometimes")  # type: ignore[arg-type]


def test_missing_and_mistyped_columns_and_empty_frames() -> None:
    with pytest.raises(csm.MissingColumnError) as info:
        csm.nps(pl.DataFrame({"answer": [9]}))
    assert isinstance(info.value, KeyError)
    assert info.value.column == "score"
    assert str(info.value).startswith("missing column 'score'")
    assert "[answer]" in str(info.value)
    with pytest.raises(csm.MissingColumnError, match="'segment'"):
        csm.nps(pl.DataFrame({"score": [9]}), by="segment")
    with pytest.raises(csm.InvalidInputError, match="scores must be Int8 to UInt64"):
        csm.nps(pl.DataFrame({"score": ["9", "10"]}))
    empty = csm.nps(pl.DataFrame({"score": []}, schema={"score": pl.Int64}))
    assert empty.height == 1 and empty["n"][0] == 0 and empty["nps"][0] is None
    empty_grouped = csm.nps(
        pl.DataFrame(
            {"segment": [], "score": []}, schema={"segment": pl.String, "score": pl.Int64}
        ),
        by="segment",
    )
    assert empty_grouped.height == 0
    with pytest.raises(TypeError, match="polars DataFrame"):
        csm.nps([1, 2, 3])  # type: ignore[call-overload]


def test_lazyframe_collects_only_needed_columns() -> None:
    lazy = pl.LazyFrame({"score": [10, 0], "junk": ["x", "y"]}).with_columns(
        boom=pl.col("junk").str.to_integer()  # fails if it is ever computed
    )
    result = csm.nps(lazy)
    assert isinstance(result, pl.DataFrame)
    assert result["nps"][0] == 0.0


def test_pandas_in_pandas_out() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "segment": ["b", "a", "a"],
            "timestamp": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-02-01"]),
            "score": [10, 9, 3],
        }
    )
    result = csm.nps(frame, by="segment", period="month")
    assert isinstance(result, pd.DataFrame)
    assert list(result["segment"]) == ["a", "a", "b"]
    assert list(result["nps"]) == [100.0, -100.0, 100.0]
    assert str(result["period"].iloc[1].date()) == "2024-02-01"
    assert csm.csat(pd.DataFrame({"score": [5, 1]}))["csat"].iloc[0] == 0.5
    with pytest.raises(csm.MissingColumnError, match=r"\[segment, timestamp, score\]"):
        csm.nps(frame, score="rating")


@st.composite
def grouped_answers(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(1, 120))
    groups = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n))
    scores = draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))
    return pl.DataFrame({"g": groups, "score": scores})


@given(grouped_answers())
def test_properties_bounds_interval_and_grouping(frame: pl.DataFrame) -> None:
    grouped = csm.nps(frame, by="g")
    for row in grouped.iter_rows(named=True):
        assert -100 <= row["nps"] <= 100
        assert -100 <= row["nps_lower"] <= row["nps_upper"] <= 100
        centre = 100 * (row["promoters"] - row["detractors"]) / (row["n"] + 3)
        assert row["nps_lower"] - 1e-9 <= centre <= row["nps_upper"] + 1e-9
        alone = csm.nps(frame.filter(pl.col("g") == row["g"]))
        assert alone["nps"][0] == row["nps"]
        assert alone["nps_lower"][0] == row["nps_lower"]


@given(grouped_answers())
def test_properties_plugin_agrees_with_eager(frame: pl.DataFrame) -> None:
    from csmetrics import expr as cse

    eager = csm.nps(frame, by="g").select("g", "nps")
    plugin = frame.group_by("g").agg(cse.nps("score").alias("nps")).sort("g")
    assert_frame_equal(eager, plugin)
    csat_scores = frame.with_columns(score=pl.col("score") // 2 + 1).with_columns(
        pl.col("score").clip(1, 5)
    )
    eager_csat = csm.csat(csat_scores, by="g").select("g", "csat")
    plugin_csat = csat_scores.group_by("g").agg(cse.csat("score").alias("csat")).sort("g")
    assert_frame_equal(eager_csat, plugin_csat)
