"""Survival curves through the public API: hand values, frame families, errors, invariants."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import csmetrics as csm

Z95 = 1.959963984540054


def seven() -> pl.DataFrame:
    return pl.DataFrame(
        {"duration": [1, 2, 2, 3, 4, 4, 5], "event": [True, True, False, True, False, True, True]}
    )


def test_kaplan_meier_by_hand() -> None:
    curve = csm.kaplan_meier(seven())
    assert curve.columns == [
        "time",
        "at_risk",
        "events",
        "censored",
        "entered",
        "survival",
        "variance",
        "lower",
        "upper",
    ]
    assert curve["at_risk"].to_list() == [7, 7, 6, 4, 3, 1]
    assert curve["censored"].to_list() == [0, 0, 1, 0, 1, 0]
    expected = [1, 6 / 7, 5 / 7, 15 / 28, 5 / 14, 0]
    assert curve["survival"].to_list() == pytest.approx(expected, abs=1e-12)
    greenwood = 1 / 42 + 1 / 30
    assert curve["variance"][2] == pytest.approx((5 / 7) ** 2 * greenwood, abs=1e-12)
    log_s = math.log(5 / 7)
    lower = math.exp(-math.exp(math.log(-log_s) - Z95 * math.sqrt(greenwood) / log_s))
    assert curve["lower"][2] == pytest.approx(lower, abs=1e-12)
    assert (curve["lower"][0], curve["upper"][0]) == (1.0, 1.0)
    assert (curve["lower"][5], curve["upper"][5]) == (0.0, 0.0)


def test_summary_and_tau() -> None:
    summary = csm.kaplan_meier_summary(seven())
    row = summary.row(0, named=True)
    assert row["median_lower"] <= row["median"]
    del row["median_lower"]
    assert row == {
        "n": 7,
        "events": 5,
        "median": 4.0,
        "median_upper": 5.0,  # the upper bound stays above 0.5 until S drops to 0
        "tau": 5.0,
        "rmst": pytest.approx(97 / 28),
    }
    assert csm.kaplan_meier_summary(seven(), tau=0.5)["rmst"][0] == 0.5
    with pytest.raises(csm.InvalidInputError, match="tau"):
        csm.kaplan_meier_summary(seven(), tau=-1.0)


def test_grouped_and_sorted_by_keys() -> None:
    frame = pl.concat(
        [
            seven().with_columns(plan=pl.lit("pro")),
            seven().head(3).with_columns(plan=pl.lit("basic")),
        ]
    )
    curve = csm.kaplan_meier(frame, by="plan")
    assert curve["plan"].unique(maintain_order=True).to_list() == ["basic", "pro"]
    pro = curve.filter(pl.col("plan") == "pro").drop("plan")
    assert_frame_equal(pro, csm.kaplan_meier(seven()))
    summary = csm.kaplan_meier_summary(frame, by=["plan"])
    assert summary["n"].to_list() == [3, 7]


def test_left_truncation_and_weights() -> None:
    frame = pl.DataFrame(
        {"duration": [2.0, 3.0, 5.0], "entry": [0.0, 1.0, 2.0], "event": [1, 1, 1]}
    )
    curve = csm.kaplan_meier(frame, entry="entry")
    assert curve["at_risk"].to_list() == [1, 1, 2, 2, 1]
    assert curve["survival"].to_list() == [1.0, 1.0, 0.5, 0.25, 0.0]
    weighted = pl.DataFrame({"duration": [1, 2], "event": [1, 1], "w": [3.0, 1.0]})
    curve = csm.kaplan_meier(weighted, weights="w")
    assert curve["at_risk"].dtype == pl.Float64
    assert curve["survival"].to_list() == [1.0, 0.25, 0.0]


def test_nelson_aalen_ties() -> None:
    frame = pl.DataFrame({"duration": [2, 2, 2, 5], "event": [1, 1, 1, 0]})
    sequential = csm.nelson_aalen(frame)
    assert sequential["cumulative_hazard"][1] == pytest.approx(1 / 4 + 1 / 3 + 1 / 2)
    assert sequential["variance"][1] == pytest.approx(1 / 16 + 1 / 9 + 1 / 4)
    textbook = csm.nelson_aalen(frame, ties="textbook")
    assert textbook["cumulative_hazard"].to_list() == [0.0, 0.75, 0.75]
    with pytest.raises(csm.InvalidInputError, match="ties"):
        csm.nelson_aalen(frame, ties="breslow")  # type: ignore[arg-type]


def test_logrank_by_hand_and_by() -> None:
    frame = pl.DataFrame(
        {
            "duration": [1, 3, 2, 4, 1, 2],
            "event": [1, 1, 1, 0, 1, 0],
            "group": ["a", "a", "b", "b", "a", "b"],
            "region": ["eu", "eu", "eu", "eu", "us", "us"],
        }
    )
    test = csm.logrank_test(frame.filter(pl.col("region") == "eu"))
    assert test["statistic"][0] == pytest.approx(8 / 13, abs=1e-12)
    assert test["p_value"][0] == pytest.approx(math.erfc(math.sqrt(4 / 13)), abs=1e-12)
    by_region = csm.logrank_test(frame, by="region")
    assert by_region["region"].to_list() == ["eu", "us"]
    assert by_region["statistic"][0] == pytest.approx(8 / 13, abs=1e-12)
    with pytest.raises(csm.InvalidInputError, match="left truncation"):
        csm.logrank_test(frame, entry="duration")  # type: ignore[arg-type]


def test_pandas_in_pandas_out_and_lazy() -> None:
    result = csm.kaplan_meier(seven().to_pandas())
    assert isinstance(result, pd.DataFrame)
    assert result["survival"].iloc[1] == pytest.approx(6 / 7)
    lazy = csm.kaplan_meier(seven().lazy().with_columns(extra=pl.lit(1)))
    assert isinstance(lazy, pl.DataFrame)
    assert isinstance(
        csm.logrank_test(seven().with_columns(group=pl.lit(1)).to_pandas()), pd.DataFrame
    )


@pytest.mark.parametrize(
    ("frame", "column", "row", "value"),
    [
        (pl.DataFrame({"duration": [1.0, -2.0], "event": [1, 1]}), "duration", 1, "-2"),
        (pl.DataFrame({"duration": [1.0, None], "event": [1, 1]}), "duration", 1, "null"),
        (pl.DataFrame({"duration": [float("nan")], "event": [1]}), "duration", 0, "NaN"),
        (pl.DataFrame({"duration": [1.0, 2.0], "event": [0, 2]}), "event", 1, "2"),
    ],
)
def test_bad_values_name_column_row_and_value(
    frame: pl.DataFrame, column: str, row: int, value: str
) -> None:
    with pytest.raises(csm.InvalidInputError) as caught:
        csm.kaplan_meier(frame)
    assert (caught.value.column, caught.value.row, caught.value.value) == (column, row, value)  # type: ignore[attr-defined]


def test_entry_after_exit_and_negative_weights() -> None:
    frame = pl.DataFrame(
        {"duration": [1.0, 2.0], "event": [1, 1], "entry": [0.0, 3.0], "w": [1.0, -1.0]}
    )
    with pytest.raises(csm.InvalidInputError, match="entry") as caught:
        csm.kaplan_meier(frame, entry="entry")
    assert caught.value.row == 1  # type: ignore[attr-defined]
    with pytest.raises(csm.InvalidInputError, match="weight"):
        csm.kaplan_meier(frame, weights="w")
    with pytest.raises(csm.InvalidInputError):
        csm.kaplan_meier(pl.DataFrame({"duration": [1.0], "event": ["yes"]}))
    with pytest.raises(csm.MissingColumnError):
        csm.kaplan_meier(pl.DataFrame({"duration": [1.0]}))


def test_empty_input() -> None:
    empty = pl.DataFrame(schema={"duration": pl.Float64, "event": pl.Boolean, "plan": pl.String})
    assert csm.kaplan_meier(empty).height == 0
    assert csm.kaplan_meier(empty, by="plan").columns[0] == "plan"
    summary = csm.kaplan_meier_summary(empty)
    assert summary["n"].to_list() == [0]
    assert summary["median"].to_list() == [None]
    assert csm.kaplan_meier_summary(empty, by="plan").height == 0


@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.booleans(), st.integers(0, 4)), min_size=0, max_size=80
    )
)
def test_survival_is_non_increasing_and_within_bounds(rows: list[tuple[int, bool, int]]) -> None:
    frame = pl.DataFrame(
        {
            "duration": [r[0] for r in rows],
            "event": [r[1] for r in rows],
            "w": [r[2] for r in rows],
        },
        schema={"duration": pl.Int64, "event": pl.Boolean, "w": pl.Int64},
    )
    curve = csm.kaplan_meier(frame, weights="w")
    survival = curve["survival"].to_list()
    assert all(0.0 <= s <= 1.0 for s in survival)
    assert all(b <= a for a, b in itertools.pairwise(survival))
    assert all(lo <= s + 1e-12 for lo, s in zip(curve["lower"], survival, strict=True))
    hazard = csm.nelson_aalen(frame, weights="w")["cumulative_hazard"].to_list()
    assert all(b >= a for a, b in itertools.pairwise(hazard))


def test_group_is_a_deprecated_alias_of_between(same_under_old_name) -> None:
    lives = seven().with_columns(arm=pl.Series(["a", "b"] * 3 + ["a"]))
    test = same_under_old_name(
        csm.logrank_test, lives, {"group": "arm"}, {"between": "arm"}, "use between="
    )
    assert test["groups"][0] == 2
