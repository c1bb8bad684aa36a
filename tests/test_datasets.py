"""The synthetic survey generator."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

import csmetrics as csm
from csmetrics import datasets


def test_deterministic_and_seeded() -> None:
    a = datasets.survey_responses(5_000, customers=300, months=6, seed=3)
    b = datasets.survey_responses(5_000, customers=300, months=6, seed=3)
    c = datasets.survey_responses(5_000, customers=300, months=6, seed=4)
    assert_frame_equal(a, b)
    assert not a.equals(c)


def test_schema_and_ranges() -> None:
    answers = datasets.survey_responses(20_000, customers=2_000, months=12, seed=0)
    assert answers.schema == pl.Schema(
        {
            "customer_id": pl.Int64,
            "segment": pl.String,
            "timestamp": pl.Date,
            "nps": pl.Int8,
            "csat": pl.Int8,
            "ces": pl.Int8,
        }
    )
    assert answers["nps"].min() >= 0 and answers["nps"].max() <= 10
    assert answers["csat"].min() >= 1 and answers["csat"].max() <= 5
    assert answers["ces"].min() >= 1 and answers["ces"].max() <= 7
    # Segment is fixed per customer.
    assert answers.group_by("customer_id").agg(pl.col("segment").n_unique()).max()["segment"][0] == 1


def test_planted_segment_ordering() -> None:
    answers = datasets.survey_responses(200_000, customers=20_000, months=12, seed=1)
    result = csm.nps(answers, score="nps", by="segment")
    by_segment = dict(zip(result["segment"], result["nps"]))
    assert by_segment["smb"] < by_segment["mid_market"] < by_segment["enterprise"]
