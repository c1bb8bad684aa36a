"""Data as users hold it: every column type and frame library, and the defects of the input
campaign, each with a value computed by hand or by an independent path."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import resource
import time

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

import csmetrics as csm
from csmetrics import clv

D = dt.date


def _subs() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "start": [D(2024, 1, 1), D(2024, 2, 15), D(2024, 1, 10), D(2024, 2, 3)],
            "end": [D(2024, 2, 15), None, D(2024, 2, 20), None],
            "amount": [100.0, 1500.0, 49.99, 300.0],
            "interval": ["month", "year", "month", "quarter"],
            "segment": ["smb", "smb", "mid", "smb"],
        }
    )


AS_OF = D(2024, 2, 29)


# --- keys of every kind --------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype", [pl.Categorical, pl.Enum(["a", "b", "c"]), "pandas-category", "large-string"]
)
def test_categorical_and_enum_keys_give_the_string_results(dtype: object) -> None:
    subs = _subs()
    expected = csm.mrr_bridge(subs, as_of=AS_OF, by="segment")
    if dtype == "pandas-category":
        frame = subs.to_pandas()
        frame["customer_id"] = frame["customer_id"].astype("category")
        frame["segment"] = frame["segment"].astype("category")
        frame["interval"] = frame["interval"].astype("category")
        got = pl.from_pandas(csm.mrr_bridge(frame, as_of=AS_OF, by="segment"))
    elif dtype == "large-string":
        table = subs.to_arrow().cast(
            pa.schema(
                [
                    pa.field(f.name, pa.large_string() if f.type == pa.string_view() else f.type)
                    for f in subs.to_arrow().schema
                ]
            )
        )
        got = pl.DataFrame(csm.mrr_bridge(table, as_of=AS_OF, by="segment"))
    else:
        enum = pl.Enum(["mid", "smb"]) if isinstance(dtype, pl.Enum) else dtype
        cast = subs.with_columns(
            pl.col("customer_id").cast(dtype),  # type: ignore[arg-type]
            pl.col("segment").cast(enum),  # type: ignore[arg-type]
            pl.col("interval").cast(pl.Categorical),
        )
        got = csm.mrr_bridge(cast, as_of=AS_OF, by="segment")
    assert_frame_equal(
        got.with_columns(pl.col("segment").cast(pl.String)), expected, check_dtypes=False
    )


def test_categorical_keys_across_families() -> None:
    answers = pl.DataFrame({"segment": ["x", "x", "y", "y"], "score": [10, 3, 9, 9]})
    as_cat = answers.with_columns(pl.col("segment").cast(pl.Categorical))
    got = csm.nps(as_cat, by="segment")
    assert got["nps"].to_list() == [0.0, 100.0]
    assert got["segment"].cast(pl.String).to_list() == ["x", "y"]

    lives = pl.DataFrame(
        {"duration": [1.0, 2.0, 3.0, 4.0], "event": [1, 1, 0, 1], "g": ["p", "p", "q", "q"]}
    )
    plain = csm.kaplan_meier(lives, by="g")
    cat = csm.kaplan_meier(lives.with_columns(pl.col("g").cast(pl.Categorical)), by="g")
    assert cat["survival"].to_list() == plain["survival"].to_list()

    log = pl.DataFrame(
        {
            "customer_id": ["u", "u", "v"],
            "date": [D(2024, 1, 1), D(2024, 1, 5), D(2024, 1, 2)],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    plain = clv.rfm_summary(log, timestamp="date")
    cat = clv.rfm_summary(
        log.with_columns(pl.col("customer_id").cast(pl.Categorical)), timestamp="date"
    )
    assert cat["frequency"].to_list() == plain["frequency"].to_list() == [1, 0]

    health = pl.DataFrame({"customer_id": ["u", "v"], "usage": [1.0, 3.0]})
    scored = csm.health_score(
        health.with_columns(pl.col("customer_id").cast(pl.Categorical)), ["usage"]
    )
    assert scored["score"].to_list() == [0.0, 100.0]


def _nps_by_hand(frame: pl.DataFrame, by: list[str]) -> dict[tuple[object, ...], tuple[int, float]]:
    """Answers and NPS per group, counted row by row in Python."""
    counts: dict[tuple[object, ...], list[int]] = {}
    for row in frame.iter_rows(named=True):
        key = tuple(str(row[c]) if row[c] is not None else None for c in by)
        c = counts.setdefault(key, [0, 0, 0])
        if row["score"] is None:
            continue
        c[0] += 1
        c[1] += row["score"] >= 9
        c[2] += row["score"] <= 6
    return {k: (n, 100.0 * (p - d) / n) for k, (n, p, d) in counts.items() if n}


def test_survey_keys_read_in_the_chunks_the_frame_has() -> None:
    # A frame of several chunks per column (as read from Parquet row groups), with few-valued
    # String, Categorical and integer keys, nulls in keys and scores, and long strings.
    n = 3_000
    segments = ["smb", "mid", None, "a segment name longer than twelve bytes"]
    frame = pl.DataFrame(
        {
            "segment": [segments[i % 4] for i in range(n)],
            "plan": [(i * 7) % 3 for i in range(n)],
            "score": [None if i % 17 == 0 else (i * 5) % 11 for i in range(n)],
            "timestamp": [D(2024, 1, 1) + dt.timedelta(days=(i * 13) % 200) for i in range(n)],
        }
    ).with_columns(pl.col("plan").cast(pl.String).cast(pl.Categorical).alias("tier"))
    chunked = pl.concat(
        [frame.slice(0, 1000), frame.slice(1000, 1500), frame.slice(2500)], rechunk=False
    )
    assert chunked.n_chunks("all") == [3] * 5
    by_month = frame.with_columns(pl.col("timestamp").dt.truncate("1mo").alias("period"))
    expected = _nps_by_hand(by_month, ["segment", "tier", "period"])
    for data in (frame, chunked):
        got = csm.nps(data, by=["segment", "tier"], period="month", ci=None)
        assert got["segment"].dtype == pl.String and got["tier"].dtype == pl.Categorical
        found = {
            (r["segment"], r["tier"], str(r["period"])): (r["n"], r["nps"])
            for r in got.iter_rows(named=True)
        }
        assert found.keys() == expected.keys()
        for key, (n_answers, value) in expected.items():
            assert found[key][0] == n_answers
            assert found[key][1] == pytest.approx(value, rel=1e-12)
        # Sorted by the keys: strings (nulls last), then the categories' labels, then period.
        keys = got.select("segment", pl.col("tier").cast(pl.String), "period").rows()
        assert keys == sorted(keys, key=lambda k: (k[0] is None, k[0] or "", k[1], k[2]))


def test_categorical_codes_from_a_mapping_with_other_strings() -> None:
    # Categories hold every string cast before, in any column: the codes still sort by label.
    pl.Series(["zebra", "aardvark", "mmm"], dtype=pl.Categorical)
    answers = pl.DataFrame(
        {"segment": ["mmm", "beta", "zebra", "beta", "alpha"], "score": [10, 0, 9, 9, 8]}
    )
    got = csm.nps(answers.with_columns(pl.col("segment").cast(pl.Categorical)), by="segment")
    assert got["segment"].cast(pl.String).to_list() == ["alpha", "beta", "mmm", "zebra"]
    assert got["nps"].to_list() == [0.0, 0.0, 100.0, 100.0]


@pytest.mark.skipif(
    not hasattr(pl.Series([], dtype=pl.Categorical).cat, "to"), reason="Polars < 1.32"
)
def test_categorical_ids_of_a_large_dictionary_with_nulls() -> None:
    # A dictionary of 70,000 strings of which the column uses four, the highest code last: the
    # column's codes span more than its rows, so only the codes it holds are ranked.
    dtype = pl.Categorical(pl.Categories.random())
    filler = pl.Series([f"x{i:05d}" for i in range(70_000)], dtype=dtype)
    assert filler.to_physical().max() == 69_999
    ids = ["m", "b", None, "x69999", "b", "a"]
    subs = pl.DataFrame(
        {
            "customer_id": ids,
            "start": [dt.date(2024, 1, 1)] * 6,
            "end": [dt.date(2024, 3, 1), None, None, dt.date(2024, 1, 21), None, None],
            "amount": [10.0] * 6,
            "interval": ["month"] * 6,
        }
    )
    as_of = dt.date(2024, 6, 1)
    with pytest.raises(csm.InvalidInputError, match="customer_id"):
        csm.survival_table(subs.with_columns(pl.col("customer_id").cast(dtype)), as_of=as_of)
    subs = subs.filter(pl.col("customer_id").is_not_null())
    got = csm.survival_table(subs.with_columns(pl.col("customer_id").cast(dtype)), as_of=as_of)
    assert got["customer_id"].dtype == dtype
    # Sorted by label ("a" < "b" < "m" < "x69999"); b's two subscriptions are one life.
    assert got["customer_id"].cast(pl.String).to_list() == ["a", "b", "m", "x69999"]
    assert got["duration"].to_list() == [152.0, 152.0, 60.0, 20.0]
    assert got["event"].to_list() == [False, False, True, True]
    # The same dictionary's codes for a frame of few rows (the range of codes is the dictionary).
    answers = pl.DataFrame(
        {"segment": ["x00002", "x00001", None, "x00002"], "score": [10, 0, 9, 9]}
    )
    nps = csm.nps(answers.with_columns(pl.col("segment").cast(dtype)), by="segment")
    # As String keys sort: by label, the null segment last.
    assert nps["segment"].cast(pl.String).to_list() == ["x00001", "x00002", None]
    assert nps["nps"].to_list() == [-100.0, 100.0, 100.0]
    assert_frame_equal(
        nps.with_columns(pl.col("segment").cast(pl.String)), csm.nps(answers, by="segment")
    )


def test_shuffled_string_customer_ids_are_ranked_like_sorted_ones() -> None:
    # Mostly distinct string ids in random order take the sorting path; sorted ones the
    # neighbour comparison; both give the lives of the integer ids.
    import random

    rng = random.Random(5)
    rows = []
    for c in range(2_000):
        start = D(2023, 1, 1) + dt.timedelta(days=rng.randrange(300))
        end = start + dt.timedelta(days=rng.randrange(1, 400))
        rows.append((c, start, end if end < D(2024, 1, 1) else None))
    subs = pl.DataFrame(rows, schema=["customer_id", "start", "end"], orient="row").with_columns(
        amount=pl.lit(10.0), interval=pl.lit("month")
    )
    as_of = D(2024, 1, 1)
    plain = csm.survival_table(subs, as_of=as_of)
    text = subs.with_columns(pl.col("customer_id").cast(pl.String).str.zfill(6))
    for data in (text, text.sample(fraction=1.0, shuffle=True, seed=3)):
        got = csm.survival_table(data, as_of=as_of)
        assert got["customer_id"].to_list() == sorted(got["customer_id"].to_list())
        assert got["customer_id"].cast(pl.Int64).to_list() == plain["customer_id"].to_list()
        assert got["duration"].to_list() == plain["duration"].to_list()
        assert got["event"].to_list() == plain["event"].to_list()


@pytest.mark.parametrize("dtype", [pl.Int8, pl.Int16, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64])
def test_every_integer_width_reads_as_a_number(dtype: pl.DataType) -> None:
    answers = pl.DataFrame({"score": [10, 9, 8, 3]}, schema={"score": dtype})
    assert csm.nps(answers)["nps"][0] == 25.0  # (2 - 1) / 4
    assert answers.select(pl.col("score").cs.nps()).item() == 25.0
    assert answers.group_by(pl.lit(1)).agg(pl.col("score").cs.nps())["score"][0] == 25.0


def test_integer_customer_ids_of_every_width() -> None:
    subs = _subs()
    expected = csm.mrr(subs, as_of=AS_OF)["mrr"].to_list()
    for dtype in (pl.Int8, pl.UInt16, pl.Int32, pl.UInt64):
        coded = subs.with_columns(
            pl.col("customer_id").replace_strict({"a": 1, "b": 2, "c": 3}, return_dtype=dtype)
        )
        assert csm.mrr(coded, as_of=AS_OF)["mrr"].to_list() == expected


# --- Decimal money, exact ------------------------------------------------------------------


def test_decimal_money_is_exact_to_the_cent() -> None:
    # 0.1 + 0.2 a month: a float sum is 0.30000000000000004; Decimal units are exact.
    subs = pl.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "start": [D(2024, 1, 1)] * 3,
            "end": [None, None, None],
            "amount": [
                decimal.Decimal("0.10"),
                decimal.Decimal("0.20"),
                decimal.Decimal("1500.00"),
            ],
            "interval": ["month", "month", "year"],
        },
        schema_overrides={"amount": pl.Decimal(12, 2)},
    )
    bridge = csm.mrr_bridge(subs, as_of=D(2024, 1, 31), precision=2, money="decimal")
    assert bridge.schema["ending_mrr"] == pl.Decimal(38, 2)
    assert str(bridge["ending_mrr"][0]) == "125.30"  # 0.10 + 0.20 + 1500.00 / 12
    units = csm.mrr(subs, as_of=D(2024, 1, 31), precision=2, money="units")
    assert units["mrr"].to_list() == [30, 12500]
    # Half to even from the Decimal digits: 100.00 a week is 434.5238... a month.
    weekly = subs.head(1).with_columns(
        pl.lit(decimal.Decimal("100.00")).cast(pl.Decimal(12, 2)).alias("amount"),
        pl.lit("week").alias("interval"),
    )
    assert csm.mrr(weekly, as_of=D(2024, 1, 31), precision=2, money="units")["mrr"][0] == 43452


def test_decimal_numbers_elsewhere() -> None:
    answers = pl.DataFrame({"score": [10, 9, 8, 3]}).with_columns(
        pl.col("score").cast(pl.Decimal(4, 0))
    )
    assert csm.nps(answers)["nps"][0] == 25.0
    lives = pl.DataFrame({"duration": [1, 2], "event": [1, 1]}).with_columns(
        pl.col("duration").cast(pl.Decimal(6, 2))
    )
    assert csm.kaplan_meier(lives)["survival"].to_list()[-1] == 0.0


# --- frames of every library ---------------------------------------------------------------


def test_pyarrow_in_pyarrow_out() -> None:
    subs = _subs()
    expected = csm.mrr_bridge(subs, as_of=AS_OF)
    table = subs.to_arrow()
    got = csm.mrr_bridge(table, as_of=AS_OF)
    assert isinstance(got, pa.Table)
    assert_frame_equal(pl.DataFrame(got), expected)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    assert_frame_equal(pl.DataFrame(csm.mrr_bridge(reader, as_of=AS_OF)), expected)
    answers = pa.table({"score": pa.array([10, 9, 8, 3], pa.uint8())})
    assert csm.nps(answers).column("nps").to_pylist() == [25.0]


class _Stream:
    """A foreign Arrow stream (as DuckDB relations are): only __arrow_c_stream__."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


def test_any_arrow_stream_comes_in_and_polars_comes_out() -> None:
    subs = _subs()
    got = csm.mrr(_Stream(subs.to_arrow()), as_of=AS_OF)
    assert isinstance(got, pl.DataFrame)
    assert_frame_equal(got, csm.mrr(subs, as_of=AS_OF))


def test_pandas_nullable_and_pyarrow_dtypes() -> None:
    expected = csm.nps(pl.DataFrame({"seg": ["x", "x", "y"], "score": [10, None, 3]}), by="seg")
    nullable = pd.DataFrame(
        {
            "seg": pd.array(["x", "x", "y"], dtype="string"),
            "score": pd.array([10, None, 3], dtype="Int8"),
        }
    )
    backed = pd.DataFrame(
        {
            "seg": pd.array(["x", "x", "y"], dtype="string[pyarrow]"),
            "score": pd.array([10, None, 3], dtype="uint8[pyarrow]"),
        }
    )
    for frame in (nullable, backed):
        got = csm.nps(frame, by="seg")
        assert isinstance(got, pd.DataFrame)
        assert got["nps"].tolist() == expected["nps"].to_list()
        assert got["missing"].tolist() == [1, 0]


# --- types refused with a typed error -------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        pl.Series("score", [b"a", b"b"], pl.Binary),
        pl.Series("score", [[1], [2]]),
        pl.Series("score", [{"a": 1}, {"a": 2}]),
        pl.Series("score", [dt.time(1), dt.time(2)]),
        pl.Series("score", ["9", "10"]),
    ],
)
def test_refused_dtypes_name_column_dtype_and_what_is_accepted(values: pl.Series) -> None:
    with pytest.raises(csm.InvalidInputError) as err:
        csm.nps(values.to_frame())
    assert err.value.column == "score"  # type: ignore[attr-defined]
    kind = re.match(r"[A-Za-z]+", str(values.dtype))
    assert kind is not None
    assert "Decimal" in str(err.value) and f"has type {kind.group()}" in str(err.value)


def test_refused_key_and_instant_dtypes() -> None:
    subs = _subs()
    with pytest.raises(csm.InvalidInputError, match="customer id or grouping column must be"):
        csm.mrr(
            subs.with_columns(
                pl.col("customer_id").map_elements(lambda v: [v], return_dtype=pl.List(pl.String))
            ),
            as_of=AS_OF,
        )
    with pytest.raises(csm.InvalidInputError, match="Date or Datetime"):
        csm.mrr(subs.with_columns(pl.col("start").cast(pl.String)), as_of=AS_OF)


def test_null_dtype_end_column_is_open_ended() -> None:
    subs = _subs().with_columns(pl.lit(None).alias("end"))
    assert subs.schema["end"] == pl.Null
    got = csm.mrr(subs, as_of=AS_OF)
    # a: 100 + 125, b: 49.99, c: 100 in February.
    feb = got.filter(pl.col("period") == D(2024, 2, 1)).sort("customer_id")["mrr"].to_list()
    assert feb == pytest.approx([225.0, 49.99, 100.0])


# --- the defects of the input campaign ------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_cohorts_over_centuries_of_days_stay_linear() -> None:
    subs = pl.DataFrame(
        {
            "customer_id": ["a"],
            "start": [D(1524, 1, 1)],
            "end": [None],
            "amount": [1.0],
            "interval": ["month"],
        },
        schema_overrides={"end": pl.Date},
    )
    before = _peak_mb()
    table = csm.cohort_retention(subs, as_of=D(2024, 1, 1), period="day")
    days = (D(2024, 1, 1) - D(1524, 1, 1)).days + 1
    assert table.height == days  # one cohort, one row per age
    assert table["active"].sum() == days
    assert _peak_mb() - before < 200


def test_rfm_summary_of_an_empty_log_is_a_usable_frame() -> None:
    empty = pl.DataFrame(
        {"customer_id": [], "date": [], "amount": []},
        schema={"customer_id": pl.String, "date": pl.Date, "amount": pl.Float64},
    )
    summary = clv.rfm_summary(empty, timestamp="date")
    assert summary.height == 0
    assert summary.filter(pl.col("frequency") > 0).height == 0
    assert summary.head(1).height == 0
    assert len(summary.to_pandas()) == 0
    summary.write_parquet(__import__("io").BytesIO())
    assert len(clv.rfm_summary(empty.to_pandas(), timestamp="date")) == 0
    with pytest.raises(csm.CsMetricsError):
        clv.BetaGeo().fit(summary)


def test_nul_bytes_in_column_names() -> None:
    frame = pl.DataFrame({"sc\x00ore": [9, 10], "score": [9, 10]})
    assert csm.nps(frame)["nps"][0] == 100.0  # the other column is never read
    with pytest.raises(csm.InvalidInputError, match="NUL"):
        csm.nps(frame, score="sc\x00ore")
    with pytest.raises(csm.MissingColumnError, match=r"sc\\x00ore"):
        csm.nps(frame.drop("score"))


def test_nelson_aalen_time_does_not_grow_with_the_weights() -> None:
    for weight in (1e11, 1e300):
        lives = pl.DataFrame({"duration": [1.0, 2.0], "event": [1, 1], "w": [weight, 1.0]})
        started = time.perf_counter()
        hazard = csm.nelson_aalen(lives, weights="w")
        assert time.perf_counter() - started < 5
        # Sequential ties at t = 1, n = w + 1 at risk (as a double), w events:
        # sum over i < w of 1 / (n - i) = H(n) - H(n - w), H(n) ~ ln n + gamma + 1 / (2n).
        n = weight + 1.0
        expected = math.log(n) + 0.5772156649015329 + 1 / (2 * n) - (n - weight)
        at_one = hazard.filter(pl.col("time") == 1.0)["cumulative_hazard"][0]
        assert at_one == pytest.approx(expected, rel=1e-9)
    # Small weights keep the exact sum: 3 lives at t = 2 -> 1/3 + 1/2 + 1.
    three = pl.DataFrame({"duration": [2.0, 2.0, 2.0], "event": [1, 1, 1]})
    assert csm.nelson_aalen(three)["cumulative_hazard"][1] == pytest.approx(1 / 3 + 1 / 2 + 1)


def test_money_never_overflows_silently() -> None:
    huge = _subs().with_columns(pl.lit(1e300).alias("amount"))
    with pytest.raises(csm.InvalidInputError, match="must fit") as err:
        csm.mrr(huge, as_of=AS_OF)
    assert err.value.column == "amount"  # type: ignore[attr-defined]
    # Two subscriptions that fit alone but not together (in units of 10^-6).
    pair = pl.DataFrame(
        {
            "customer_id": ["a", "a"],
            "start": [D(2024, 1, 1)] * 2,
            "end": [None, None],
            "amount": [5e12, 5e12],
            "interval": ["month", "month"],
        },
        schema_overrides={"end": pl.Date},
    )
    with pytest.raises(csm.InvalidInputError, match="one customer together") as err:
        csm.mrr(pair, as_of=D(2024, 1, 31))
    assert err.value.value == "a"  # type: ignore[attr-defined]
    # At precision 2 the same customer fits, exactly.
    assert csm.mrr(pair, as_of=D(2024, 1, 31), precision=2, money="units")["mrr"][0] == 10**15


def test_weighted_survival_never_goes_below_zero_or_nan() -> None:
    lives = pl.DataFrame({"duration": [1.0, 2.0, 2.0], "event": [1, 1, 1], "w": [0.001, 2, 2]})
    curve = csm.kaplan_meier(lives, weights="w")
    # S(1) = 1 - 0.001 / 4.001, S(2) = 0 exactly.
    assert curve["survival"].to_list() == pytest.approx([1.0, 1 - 0.001 / 4.001, 0.0])
    assert curve["survival"][-1] == 0.0
    small = pl.DataFrame({"duration": [1.0, 2.0, 3.0], "event": [1, 1, 1], "w": [0.1, 0.2, 0.3]})
    end = csm.kaplan_meier(small, weights="w").tail(1)
    assert end["survival"][0] == 0.0
    assert (end["lower"][0], end["upper"][0]) == (0.0, 0.0)
    hazard = csm.nelson_aalen(small, weights="w")
    assert all(math.isfinite(v) for v in hazard["cumulative_hazard"])


def test_logrank_with_total_weight_at_most_one_has_no_statistic() -> None:
    lives = pl.DataFrame(
        {"duration": [1.0, 2.0], "event": [1, 1], "group": ["a", "b"], "w": [0.5, 0.5]}
    )
    test = csm.logrank_test(lives, weights="w")
    assert test["statistic"][0] is None
    assert test["p_value"][0] is None
    # The unweighted two-sample test by hand: at t = 1, n = 2, d = 1 (group a);
    # O - E = 1 - 1/2, V = 1 * 1 / 4 -> statistic 1.
    plain = csm.logrank_test(lives.drop("w"))
    assert plain["statistic"][0] == pytest.approx(1.0)


def test_many_by_groups_cost_nothing_for_per_customer_outputs() -> None:
    n = 50_000
    subs = pl.DataFrame(
        {
            "customer_id": range(n),
            "start": [D(2020, 1, 1)] * n,
            "end": [None] * n,
            "amount": [1.0] * n,
            "interval": ["month"] * n,
            "segment": [str(i) for i in range(n)],
        },
        schema_overrides={"end": pl.Date},
    )
    before = _peak_mb()
    got = csm.mrr(subs, as_of=D(2024, 12, 31), by="segment")
    assert got.height == n * 60
    # groups x periods x fields of 16 bytes would be 50k x 60 x 20 x 16 = 960 MB.
    assert _peak_mb() - before < 400


def test_silent_acceptance_is_gone() -> None:
    with pytest.raises(csm.InvalidInputError, match="table"):
        csm.mrr(_subs(), as_of=AS_OF, table="foo")  # type: ignore[arg-type]
    junk = _subs().with_columns(pl.lit("fortnight").alias("interval"))
    with pytest.raises(csm.InvalidInputError, match="billing interval") as err:
        csm.survival_table(junk, as_of=AS_OF)
    assert err.value.value == "'fortnight'"  # type: ignore[attr-defined]
    scores = pl.DataFrame({"customer_id": ["a"], "period": [D(2024, 1, 15)]})
    with pytest.raises(csm.InvalidInputError, match="first day") as err:
        csm.churn_labels(scores, _subs(), as_of=AS_OF)
    assert err.value.row == 0  # type: ignore[attr-defined]
    # A tz-aware observation end is its UTC date: 2024-01-02 00:30 in Paris is Jan 1 UTC.
    log = pl.DataFrame({"customer_id": ["u", "u"], "date": [D(2024, 1, 1), D(2024, 1, 2)]})
    paris = dt.datetime(2024, 1, 2, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    summary = clv.rfm_summary(
        log, timestamp="date", amount=None, observation_end=paris, after_end="drop"
    )
    assert summary["frequency"].to_list() == [0]
    assert summary["dropped_after_end"].to_list() == [1]


@pytest.mark.parametrize(
    "call",
    [
        lambda: csm.mrr(_subs(), as_of=AS_OF, precision=-1),
        lambda: csm.mrr(_subs(), as_of=AS_OF, precision=2.5),  # type: ignore[arg-type]
        lambda: csm.revenue_kpis(_subs(), as_of=AS_OF, window=-1),
        lambda: csm.mrr(_subs(), as_of=5),  # type: ignore[arg-type]
        lambda: clv.rfm_summary(
            pl.DataFrame({"customer_id": ["u"], "date": [D(2024, 1, 1)]}),
            timestamp="date",
            amount=None,
            observation_end="garbage",
        ),
        lambda: clv.BetaGeo.from_params({}),
        lambda: clv.BetaGeo().predict(pl.DataFrame({"frequency": [1]}), t=1),
        lambda: csm.churn_labels(
            pl.DataFrame(
                {"customer_id": [], "period": []},
                schema={"customer_id": pl.String, "period": pl.String},
            ),
            _subs(),
        ),
        lambda: clv.clv(
            pl.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0], "monetary_value": [1.0]}),
            transactions=clv.BetaGeo.from_params(
                {"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.4}, time_unit="week"
            ),
            spend=clv.GammaGamma.from_params({"p": 6.0, "q": 3.7, "gamma": 15.0}),
            months=-1,
        ),
    ],
)
def test_bad_options_are_typed_errors(call: object) -> None:
    with pytest.raises(csm.CsMetricsError):
        call()  # type: ignore[operator]


def test_messages_name_what_the_user_wrote() -> None:
    # Three customers of 4e12 a month: 4e18 units of 10^-6 each fits Int64, their sum does not.
    big = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "start": [D(2024, 1, 1)] * 3,
            "end": [None] * 3,
            "amount": [4e12] * 3,
            "interval": ["month"] * 3,
        },
        schema_overrides={"end": pl.Date},
    )
    exact = csm.mrr_bridge(big, as_of=D(2024, 1, 31), money="decimal")
    assert exact["ending_mrr"][0] == decimal.Decimal("12000000000000.000000")
    with pytest.raises(csm.InvalidInputError, match="money='units'"):
        csm.mrr_bridge(big, as_of=D(2024, 1, 31), money="units")
    with pytest.raises(csm.InvalidInputError, match="observed_from"):
        csm.survival_table(_subs(), as_of=D(2024, 1, 31), observed_from=D(2024, 6, 1))
    answers = pl.DataFrame({"team": ["a", "a"], "score": [3, 11]})
    with pytest.raises(pl.exceptions.ComputeError, match="column 'score'"):
        answers.group_by("team").agg(pl.col("score").cs.nps())
    with pytest.raises(csm.InvalidInputError, match="given twice"):
        csm.nps(pl.DataFrame({"s": ["x"], "score": [9]}), by=["s", "s"])


def test_the_report_leaves_out_what_has_no_data(tmp_path: object) -> None:
    pytest.importorskip("matplotlib")
    from csmetrics.cli import main

    folder = __import__("pathlib").Path(str(tmp_path))
    empty = _subs().head(0)
    empty.write_parquet(folder / "subs.parquet")
    answers = pl.DataFrame({"timestamp": [D(2024, 1, 5)], "score": [9]})
    answers.write_parquet(folder / "answers.parquet")
    code = main(
        [
            "report",
            "--subscriptions",
            str(folder / "subs.parquet"),
            "--responses",
            str(folder / "answers.parquet"),
            "--out",
            str(folder / "r.html"),
        ]
    )
    assert code == 0
    html = (folder / "r.html").read_text()
    assert "Net Promoter Score" in html and "MRR bridge" not in html
    # A CSV whose end column is empty in every row: open-ended subscriptions.
    _subs().with_columns(pl.lit(None, pl.String).alias("end")).write_csv(folder / "subs.csv")
    code = main(
        ["report", "--subscriptions", str(folder / "subs.csv"), "--out", str(folder / "s.html")]
    )
    assert code == 0
    assert "MRR bridge" in (folder / "s.html").read_text()


def test_long_computations_stop_on_ctrl_c() -> None:
    import os
    import signal
    import threading

    class Stop(Exception):
        """Raised by the test's SIGINT handler (pytest's own would end the session)."""

    def handler(signum: int, frame: object) -> None:
        raise Stop

    previous = signal.signal(signal.SIGINT, handler)
    try:
        # BG/BB sums over every opportunity: ten million of them take minutes to fit.
        summary = pl.DataFrame(
            {"frequency": list(range(10)), "recency": list(range(10)), "T": [10_000_000] * 10}
        )
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        started = time.perf_counter()
        timer.start()
        with pytest.raises(Stop):
            clv.BetaGeoBetaBinom().fit(summary)
        assert time.perf_counter() - started < 5
        # The next call runs normally: the request was withdrawn.
        assert csm.nps(pl.DataFrame({"score": [10]}))["nps"][0] == 100.0
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)


def test_the_report_before_the_data_and_from_a_utf16_csv(tmp_path: object) -> None:
    pytest.importorskip("matplotlib")
    from pathlib import Path

    from csmetrics.cli import main

    folder = Path(str(tmp_path))
    _subs().write_parquet(folder / "subs.parquet")
    out = folder / "early.html"
    args = ["report", "--subscriptions", str(folder / "subs.parquet"), "--as-of", "2023-06-01"]
    assert main([*args, "--out", str(out)]) == 0
    page = out.read_text()
    assert "no rows up to 2023-06-01" in page and "MRR bridge" not in page
    # A spreadsheet's UTF-16 export (with its byte-order mark) reads like UTF-8.
    text = _subs().write_csv()
    (folder / "subs16.csv").write_bytes(text.encode("utf-16"))
    out = folder / "utf16.html"
    assert main(["report", "--subscriptions", str(folder / "subs16.csv"), "--out", str(out)]) == 0
    assert "MRR bridge" in out.read_text()


def test_large_integer_scores_are_shown_as_given() -> None:
    big = 12_345_678_901_234_567  # not representable as a double
    with pytest.raises(csm.InvalidInputError) as err:
        csm.nps(pl.DataFrame({"score": [9, big]}))
    assert err.value.value == str(big)  # type: ignore[attr-defined]
    assert err.value.row == 1  # type: ignore[attr-defined]


def test_empty_scores_get_an_empty_label_column() -> None:
    empty = pl.DataFrame(
        {"customer_id": [], "period": []}, schema={"customer_id": pl.String, "period": pl.Date}
    )
    labels = csm.churn_labels(empty, _subs(), as_of=AS_OF)
    assert labels.columns == ["customer_id", "period", "churned"] and labels.height == 0


def test_health_score_refuses_a_non_key_id_column() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": pl.Series([], dtype=pl.Duration("us")),
            "usage": pl.Series([], dtype=pl.Float64),
        }
    )
    with pytest.raises(csm.InvalidInputError, match="customer_id"):
        csm.health_score(frame, ["usage"])


def test_datetime_periods_of_every_unit_agree_with_dates() -> None:
    days = pl.date_range(D(2023, 12, 25), D(2024, 3, 3), eager=True)
    frame = pl.DataFrame({"timestamp": days, "score": [i % 11 for i in range(len(days))]})
    expected = csm.nps(frame, period="week")
    for unit in ("ns", "us", "ms"):
        stamped = frame.with_columns(
            (pl.col("timestamp").cast(pl.Datetime(unit)) + pl.duration(hours=23)).alias("timestamp")
        )
        got = csm.nps(stamped, period="week")
        assert got["nps"].to_list() == expected["nps"].to_list()
        assert got["n"].to_list() == expected["n"].to_list()


def test_survey_groups_of_categorical_codes_come_back_in_label_order() -> None:
    # The categories arise in the order z, b, a (their codes 0, 1, 2) and a null: the survey
    # functions group the codes as they are and give the rows back sorted by label, nulls last,
    # exactly as for the same labels as String.
    import datetime as dt

    labels = ["z", "b", None, "a", "b", "z", "a", "a"]
    frame = pl.DataFrame(
        {
            "segment": pl.Series(labels, dtype=pl.Categorical),
            "score": [10, 9, 0, 5, 3, 9, 8, 10],
            "timestamp": [dt.date(2024, 2, 1), dt.date(2024, 1, 1)] * 4,
        }
    )
    text = frame.with_columns(pl.col("segment").cast(pl.String))
    for function in (csm.nps, csm.csat):
        options = {"score": "score", "by": "segment", "period": "month"}
        if function is csm.csat:
            options["scale"] = (0, 10)
        got = function(frame, **options)
        want = function(text, **options)
        assert got["segment"].dtype == pl.Categorical
        assert got["segment"].cast(pl.String).to_list() == [
            "a",
            "a",
            "b",
            "b",
            "z",
            "z",
            None,
        ]
        assert_frame_equal(got.with_columns(pl.col("segment").cast(pl.String)), want)
    by_hand = csm.ces(
        frame, score="score", by="segment", scale=(0, 10), direction="higher_is_easier"
    )
    assert by_hand["n"].to_list() == [3, 2, 2, 1]


def test_per_period_tables_of_categorical_customers_equal_the_string_ones() -> None:
    # The bridge, KPIs, churn and cohorts never show the customer ids: a Categorical id crosses
    # as its own codes (the categories arise in an order unrelated to the labels), and every
    # table equals the one of the same ids as String.
    import datetime as dt

    ids = [f"c{(i * 7919) % 500:03d}" for i in range(600)]
    subs = pl.DataFrame(
        {
            "customer_id": ids,
            "start": [dt.date(2024, 1, 1) + dt.timedelta(days=(i * 37) % 300) for i in range(600)],
            "end": [
                None if i % 3 else dt.date(2024, 1, 1) + dt.timedelta(days=(i * 37) % 300 + 90)
                for i in range(600)
            ],
            "amount": [float(10 + i % 7) for i in range(600)],
            "interval": ["month"] * 600,
        }
    )
    categorical = subs.with_columns(pl.col("customer_id").cast(pl.Categorical))
    for function in (csm.mrr_bridge, csm.revenue_kpis, csm.churn_rates, csm.cohort_retention):
        want = function(subs, as_of=dt.date(2024, 12, 31))
        assert_frame_equal(function(categorical, as_of=dt.date(2024, 12, 31)), want)
        assert want.height > 0


def test_activity_cohorts_read_every_instant_unit_alike() -> None:
    # The activity path reads the event days in place: Date, and Datetime in ns, us and ms
    # (naive or UTC), give the same cohorts; hand check: a starts in January and is active in
    # February, b starts in February (its second month is not observed yet: null).
    import datetime as dt

    events = pl.DataFrame(
        {
            "customer_id": ["a", "a", "b", "a"],
            "timestamp": [
                dt.datetime(2024, 1, 31, 23, 59),
                dt.datetime(2024, 2, 1, 0, 1),
                dt.datetime(2024, 2, 15),
                dt.datetime(2024, 2, 29, 12),
            ],
        }
    )
    dated = events.with_columns(pl.col("timestamp").cast(pl.Date))
    want = csm.cohort_retention(dated, table="activity")
    assert want.select("age", "cohort_size", "active").rows() == [
        (0, 1, 1),
        (1, 1, 1),
        (0, 1, 1),
        (1, 1, None),
    ]
    for unit in ("ns", "us", "ms"):
        for zone in (None, "UTC"):
            frame = events.with_columns(pl.col("timestamp").cast(pl.Datetime(unit, zone)))
            assert_frame_equal(csm.cohort_retention(frame, table="activity"), want)
