"""The expression plugins and the .cs namespace inside Polars queries."""

from __future__ import annotations

import polars as pl
import pytest

import csmetrics  # noqa: F401  (registers the .cs namespace)
from csmetrics import expr as cse


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {"team": ["a", "a", "a", "b", "b"], "score": [10, 9, 0, 7, 8], "csat": [5, 4, 1, 2, 2]}
    )


def test_group_by_agg() -> None:
    result = (
        frame()
        .group_by("team")
        .agg(cse.nps("score").alias("nps"), cse.csat("csat").alias("csat"))
        .sort("team")
    )
    # a: 2 promoters, 1 detractor of 3; b: passives only.
    assert result["nps"].to_list() == [pytest.approx(100 / 3), 0.0]
    assert result["csat"].to_list() == [pytest.approx(2 / 3), 0.0]


def test_over_and_lazy_and_namespace() -> None:
    over = frame().with_columns(team_nps=pl.col("score").cs.nps().over("team"))
    assert over["team_nps"].to_list() == [pytest.approx(100 / 3)] * 3 + [0.0, 0.0]
    lazy = frame().lazy().select(pl.col("score").cs.nps(), pl.col("csat").cs.ces()).collect()
    # CES on 1-7: low effort is 5, 6 or 7 -> one of five.
    assert lazy.row(0) == (pytest.approx(20.0), pytest.approx(0.2))
    lower = frame().select(cse.ces("csat", direction="lower_is_easier")).item()
    # On the 1-5 effort scale the bottom two boxes (1, 2) are low effort: three of five.
    assert lower == pytest.approx(3 / 5)


def test_empty_group_is_null_and_policies() -> None:
    nulls = pl.DataFrame({"score": [None, None]}, schema={"score": pl.Int64})
    assert nulls.select(cse.nps("score")).item() is None
    bad = pl.DataFrame({"score": [10, 11]})
    with pytest.raises(pl.exceptions.ComputeError, match="whole numbers from 0 to 10; found 11"):
        bad.select(cse.nps("score"))
    assert bad.select(cse.nps("score", invalid="drop")).item() == 100.0
    with pytest.raises(pl.exceptions.ComputeError, match="scores must be Int8 to UInt64"):
        pl.DataFrame({"score": ["9"]}).select(cse.nps("score"))
