"""csmetrics.clv through the public API: the CDNOW reference values (sources: the data NOTICE),
model objects, persistence, pandas in/out and bad input."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import csmetrics as csm
from csmetrics import clv

# The reference data bundled with the package (provenance: python/csmetrics/data/NOTICE).
DATA = Path(__file__).resolve().parents[1] / "python" / "csmetrics" / "data"


def _cdnow_log() -> pl.DataFrame:
    rows = [line.split() for line in (DATA / "CDNOW_sample.txt").read_text().splitlines() if line]
    return pl.DataFrame(
        {
            "customer_id": [int(r[1]) for r in rows],
            "timestamp": [dt.datetime.strptime(r[2], "%Y%m%d").date() for r in rows],
            "amount": [float(r[4]) for r in rows],
        }
    )


@pytest.fixture(scope="module")
def summary() -> pl.DataFrame:
    return clv.rfm_summary(
        _cdnow_log(), time_unit="week", observation_end="1997-09-30", after_end="drop"
    )


def test_rfm_summary_reproduces_the_published_summary(summary: pl.DataFrame) -> None:
    published = pl.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    assert summary.height == published.height == 2357
    assert summary["customer_id"].to_list() == published["ID"].to_list()
    assert summary["frequency"].to_list() == published["x"].to_list()
    assert (summary["recency"].round(2) - published["t_x"]).abs().max() < 1e-9
    assert (summary["T"].round(2) - published["T"]).abs().max() < 1e-9
    zbar = (summary["monetary_value"].fill_null(0.0) * 100 + 0.5 + 1e-9).floor() / 100
    assert (zbar - published["zbar"]).abs().max() < 1e-9
    # Purchases after the calibration end were dropped, and counted.
    after = _cdnow_log().filter(pl.col("timestamp") > dt.date(1997, 9, 30)).height
    assert after > 0
    assert summary["dropped_after_end"].sum() == after


def test_published_fits(summary: pl.DataFrame) -> None:
    bg = clv.BetaGeo().fit(summary)
    assert [round(bg.params_[k], 3) for k in ("r", "alpha", "a", "b")] == [
        0.243,
        4.414,
        0.793,
        2.426,
    ]
    assert abs(bg.log_likelihood_ - -9582.4) < 0.05
    pareto = clv.ParetoNBD().fit(summary)
    assert abs(pareto.log_likelihood_ - -9595.0) < 0.05
    assert [round(pareto.params_[k], 3) for k in ("r", "alpha", "s")] == [0.553, 10.578, 0.606]
    assert abs(pareto.params_["beta"] / 11.669 - 1) < 1e-3
    # MBG/NBD has no published CDNOW fit: the lifetimes test suite's values, checked with
    # lifetimes 0.11.3 (python/csmetrics/data/NOTICE says how).
    mbg = clv.ModifiedBetaGeo().fit(summary)
    assert [round(v, 3) for v in mbg.params_.values()] == [0.525, 6.183, 0.891, 1.614]
    gg = clv.GammaGamma().fit(summary)
    assert [round(v, 2) for v in gg.params_.values()] == [6.25, 3.74, 15.44]
    assert gg.customers_ == 946


def test_bg_bb_and_sbg_published_fits() -> None:
    donations = pl.read_csv(DATA / "donations.csv")
    model = clv.BetaGeoBetaBinom(T="periods", weights="weights").fit(donations)
    assert [round(v, 3) for v in model.params_.values()] == [1.204, 0.750, 0.657, 2.783]
    assert abs(model.log_likelihood_ - -33225.6) < 0.05
    retention = pl.read_csv(DATA / "sbg_retention_2007.csv")
    regular = clv.ShiftedBetaGeometric().fit((retention["regular_alive_pct"] * 10).to_list())
    high = clv.ShiftedBetaGeometric().fit(
        retention.select(alive=pl.col("highend_alive_pct") * 10), column="alive"
    )
    assert [round(v, 3) for v in regular.params_.values()] == [0.704, 1.182]
    assert [round(v, 3) for v in high.params_.values()] == [0.668, 3.806]
    curve = regular.survival(12)
    assert curve["survival"][0] == 1.0 and curve["survival"].is_sorted(descending=True)


def test_summary_predictions_and_json_round_trip(summary: pl.DataFrame, tmp_path: Path) -> None:
    bg = clv.BetaGeo().fit(summary)
    table = bg.summary()
    assert table.columns == ["parameter", "estimate", "std_error", "lower", "upper"]
    # The parameters, then the fit statistics (tests/test_clv_trust.py checks their values).
    assert table["parameter"].to_list()[4:] == ["log_likelihood", "aic", "bic"]
    assert table.head(4)["std_error"].null_count() == 0
    scored = bg.predict(summary, t=39)
    assert scored.columns == [*summary.columns, "p_alive", "expected_purchases"]
    assert scored["p_alive"].is_between(0, 1).all()
    path = tmp_path / "bg.json"
    bg.save(path)
    loaded = clv.BetaGeo.load(path)
    assert loaded.params_ == bg.params_
    assert_frame_equal(loaded.predict(summary, t=39), scored)
    with pytest.raises(ValueError, match="holds a bg_nbd model"):
        clv.ParetoNBD.load(path)
    gg = clv.GammaGamma().fit(summary)
    values = clv.clv(summary, transactions=bg, spend=gg, time_unit="week")
    continuous = clv.clv(
        summary, transactions=bg, spend=gg, time_unit="week", discounting="continuous"
    )
    assert (values["clv"] > 0).all()
    assert (values["clv"] <= continuous["clv"]).all()


def test_pandas_in_pandas_out(summary: pl.DataFrame) -> None:
    pd = pytest.importorskip("pandas")
    frame = summary.to_pandas()
    bg = clv.BetaGeo().fit(frame)
    scored = bg.p_alive(frame)
    assert isinstance(scored, pd.DataFrame)
    assert "p_alive" in scored.columns
    log = _cdnow_log().head(50).to_pandas()
    assert isinstance(clv.rfm_summary(log), pd.DataFrame)


def test_formulas() -> None:
    assert clv.purchase_clv(1000, 2, 3) == 6000
    assert clv.purchase_clv(1000, 2, 3, retention_cost_per_year=500) == 4500
    assert clv.subscription_clv(100, 0.8, 0) is None
    segments = pl.DataFrame({"arpa": [100.0, 50.0], "churn": [0.02, 0.0]})
    out = segments.select(clv.subscription_clv(pl.col("arpa"), 0.8, pl.col("churn")))
    assert out.to_series().to_list() == [4000.0, None]
    # Series row by row, scalars broadcast, a null input gives null.
    values = clv.purchase_clv(pl.Series([1000.0, None, 10.0]), 2, pl.Series([3, 1, 2]), 5)
    assert values.name == "clv" and values.to_list() == [5985.0, None, 30.0]
    assert clv.net_clv(pl.Series([6000, 100]), 1000, 500).to_list() == [4500.0, -1400.0]
    with pytest.raises(csm.InvalidInputError, match="expected numbers"):
        clv.net_clv("6000", 1000, 500)
    with pytest.raises(csm.InvalidInputError, match="needs 1 value or 3"):
        clv.net_clv(pl.Series([1.0, 2.0, 3.0]), pl.Series([1.0, 2.0]), 0)


def test_bad_input_names_column_row_and_value() -> None:
    log = pl.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)],
            "amount": [1.0, -3.0, 2.0],
        }
    )
    with pytest.raises(csm.InvalidInputError) as err:
        clv.rfm_summary(log)
    assert (err.value.column, err.value.row, err.value.value) == ("amount", 1, "-3")
    with pytest.raises(csm.InvalidInputError, match="observation_end"):
        clv.rfm_summary(log.with_columns(amount=pl.lit(1.0)), observation_end="2024-01-02")
    with pytest.raises(csm.InvalidInputError) as nan:
        clv.rfm_summary(log.with_columns(amount=pl.Series([1.0, math.nan, 2.0])))
    assert nan.value.row == 1
    tiny = pl.DataFrame({"frequency": [1, 0], "recency": [2.0, 0.0], "T": [5.0, 5.0]})
    with pytest.raises(csm.InvalidInputError, match="at least 8 customers"):
        clv.BetaGeo().fit(tiny)
    with pytest.raises(csm.MissingColumnError):
        clv.BetaGeo().fit(tiny.rename({"T": "age"}))
    no_repeat = pl.DataFrame({"frequency": [0] * 10, "recency": [0.0] * 10, "T": [5.0] * 10})
    with pytest.raises(csm.CsMetricsError):
        clv.BetaGeo().fit(no_repeat)


def test_extreme_customers_are_finite() -> None:
    model = clv.BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    pareto = clv.ParetoNBD.from_params({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    extreme = pl.DataFrame(
        {"frequency": [200, 5000, 3000], "recency": [38.0, 39.0, 1.0], "T": [40.0, 39.0, 500.0]}
    )
    for m in (model, pareto):
        out = m.predict(extreme, t=52)
        assert out["p_alive"].is_between(0, 1).all()
        assert out["expected_purchases"].is_finite().all()


def test_standard_errors_on_first_use_equal_those_of_a_full_fit(summary: pl.DataFrame) -> None:
    from csmetrics import _internal

    bg = clv.BetaGeo().fit(summary)
    assert bg._pending_errors is not None  # not computed by fit
    eager = _internal.clv_fit(
        summary, "bg_nbd", "frequency", "recency", "T", "monetary_value", None, "alive", None
    )[1]
    lazy = [bg.standard_errors_[k] for k in ("r", "alpha", "a", "b")]
    assert all(math.isfinite(v) and v > 0 for v in lazy)
    assert lazy == pytest.approx(eager, rel=1e-6)
    table = bg.summary()
    assert table.head(4)["std_error"].to_list() == lazy


PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
DONATIONS = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}


def _column(frame: pl.DataFrame, name: str) -> list[float]:
    return frame[name].to_list()


def test_pareto_nbd_purchase_probabilities_sum_to_one_with_the_conditional_mean() -> None:
    model = clv.ParetoNBD.from_params(PARETO)
    # An ordinary customer, one who never came back, and an extreme one (x = 200 in 40 weeks).
    customers = pl.DataFrame(
        {"frequency": [2, 0, 200], "recency": [30.43, 0.0, 38.0], "T": [38.86, 39.0, 40.0]}
    )
    probs = [
        _column(model.probability_of_purchases(customers, n=n, t=39), "probability")
        for n in range(700)
    ]
    means = _column(model.conditional_expected_purchases(customers, t=39), "expected_purchases")
    for row, expected in enumerate(means):
        column = [p[row] for p in probs]
        assert all(0.0 <= p <= 1.0 for p in column)
        assert sum(column) == pytest.approx(1.0, abs=1e-9)
        assert sum(n * p for n, p in enumerate(column)) == pytest.approx(expected, rel=1e-7)


def test_bg_bb_purchase_probabilities_and_dert() -> None:
    model = clv.BetaGeoBetaBinom.from_params(DONATIONS)
    donors = pl.DataFrame({"frequency": [0, 1, 3, 6], "recency": [0, 1, 5, 6], "T": [6, 6, 6, 6]})
    future = 5
    probs = [
        _column(model.probability_of_purchases(donors, n=k, t=future), "probability")
        for k in range(future + 1)
    ]
    means = _column(model.conditional_expected_purchases(donors, t=future), "expected_purchases")
    for row, expected in enumerate(means):
        column = [p[row] for p in probs]
        assert sum(column) == pytest.approx(1.0, abs=1e-12)
        assert sum(k * p for k, p in enumerate(column)) == pytest.approx(expected, abs=1e-12)
    # DERT against the discounted increments of the expected transactions, opportunity by
    # opportunity, over far more opportunities than the discount leaves any weight on.
    d = 0.1
    dert = _column(
        model.discounted_expected_purchases(donors, discount_rate=d), "discounted_purchases"
    )
    expected_by_k = [
        _column(model.conditional_expected_purchases(donors, t=k), "expected_purchases")
        for k in range(0, 401)
    ]
    for row, value in enumerate(dert):
        direct = sum(
            (expected_by_k[k][row] - expected_by_k[k - 1][row]) / (1 + d) ** k
            for k in range(1, 401)
        )
        assert value == pytest.approx(direct, rel=1e-10)


def test_clv_from_bg_bb() -> None:
    bb = clv.BetaGeoBetaBinom.from_params(DONATIONS)
    gg = clv.GammaGamma.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44})
    donors = pl.DataFrame(
        {
            "frequency": [0, 1, 3, 6],
            "recency": [0, 1, 5, 6],
            "T": [6, 6, 6, 6],
            "monetary_value": [None, 20.0, 35.0, 50.0],
        }
    )
    value = clv.clv(donors, transactions=bb, spend=gg, discount_rate=0.1, margin=0.3)
    dert = bb.discounted_expected_purchases(donors, discount_rate=0.1)["discounted_purchases"]
    spend = gg.expected_spend(donors)["expected_spend"]
    assert value.columns == [*donors.columns, "clv"]
    for got, purchases, mean in zip(value["clv"], dert, spend, strict=True):
        assert got == pytest.approx(0.3 * purchases * mean, rel=1e-12)
    # A finite horizon: the first 3 opportunities only, each discounted by (1.1)^-k.
    three = clv.clv(donors, transactions=bb, spend=gg, discount_rate=0.1, periods=3)
    by_k = [bb.conditional_expected_purchases(donors, t=k)["expected_purchases"] for k in range(4)]
    for row, got in enumerate(three["clv"]):
        purchases = sum((by_k[k][row] - by_k[k - 1][row]) / 1.1**k for k in range(1, 4))
        assert got == pytest.approx(purchases * spend[row], rel=1e-12)


def test_bg_bb_options_are_checked() -> None:
    bb = clv.BetaGeoBetaBinom.from_params(DONATIONS)
    gg = clv.GammaGamma.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44})
    bg = clv.BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    donors = pl.DataFrame({"frequency": [1], "recency": [2], "T": [6], "monetary_value": [9.0]})
    with pytest.raises(csm.InvalidInputError) as months:
        clv.clv(donors, transactions=bb, spend=gg, months=12)
    assert months.value.option == "months"
    with pytest.raises(csm.InvalidInputError) as periods:
        clv.clv(donors, transactions=bg, spend=gg, periods=3)
    assert periods.value.option == "periods"
    with pytest.raises(csm.InvalidInputError) as half:
        bb.probability_of_purchases(donors, n=1, t=2.5)
    assert half.value.option == "t"
    with pytest.raises(csm.InvalidInputError, match="discount_rate"):
        bb.discounted_expected_purchases(donors, discount_rate=0.0)
    with pytest.raises(csm.InvalidInputError, match="discounting"):
        clv.clv(donors, transactions=bb, spend=gg, discounting="continuous")


history = st.tuples(st.integers(0, 40), st.floats(0.0, 1.0), st.floats(0.5, 60.0)).map(
    lambda h: (h[0], 0.0 if h[0] == 0 else h[1] * h[2], h[2])
)


@settings(max_examples=25)
@given(
    params=st.tuples(
        st.floats(0.1, 3.0), st.floats(0.5, 30.0), st.floats(0.1, 3.0), st.floats(0.5, 30.0)
    ),
    customer=history,
    t=st.floats(0.1, 60.0),
    more=st.floats(0.0, 60.0),
)
def test_properties_pareto_nbd_through_the_api(
    params: tuple[float, float, float, float],
    customer: tuple[int, float, float],
    t: float,
    more: float,
) -> None:
    model = clv.ParetoNBD.from_params(dict(zip(("r", "alpha", "s", "beta"), params, strict=True)))
    x, recency, age = customer
    one = pl.DataFrame({"frequency": [x], "recency": [recency], "T": [age]})
    scored = model.predict(one, t=t)
    later = model.conditional_expected_purchases(one, t=t + more)["expected_purchases"][0]
    assert 0.0 <= scored["p_alive"][0] <= 1.0
    near = scored["expected_purchases"][0]
    assert 0.0 <= near <= later * (1 + 1e-12)
    none = model.probability_of_purchases(one, n=0, t=t)["probability"][0]
    # No purchase at all is at least as likely as being gone: P(0) >= 1 - P(alive).
    assert 1.0 - scored["p_alive"][0] - 1e-12 <= none <= 1.0


@settings(max_examples=25)
@given(
    params=st.tuples(*[st.floats(0.2, 4.0)] * 4),
    n=st.integers(1, 12),
    shares=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    future=st.integers(0, 8),
)
def test_properties_bg_bb_pmf_is_complete(
    params: tuple[float, float, float, float],
    n: int,
    shares: tuple[float, float],
    future: int,
) -> None:
    model = clv.BetaGeoBetaBinom.from_params(
        dict(zip(("alpha", "beta", "gamma", "delta"), params, strict=True))
    )
    recency = round(shares[0] * n)
    x = 0 if recency == 0 else max(1, round(shares[1] * recency))
    one = pl.DataFrame({"frequency": [x], "recency": [recency], "T": [n]})
    probs = [
        model.probability_of_purchases(one, n=k, t=future)["probability"][0]
        for k in range(future + 1)
    ]
    mean = model.conditional_expected_purchases(one, t=future)["expected_purchases"][0]
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert math.fsum(probs) == pytest.approx(1.0, abs=1e-10)
    assert math.fsum(k * p for k, p in enumerate(probs)) == pytest.approx(mean, abs=1e-9)


def test_bg_bb_expectations_hold_at_gamma_one() -> None:
    # gamma = 1 is a removable singularity of delta / (gamma - 1) in the BG/BB expectations: the
    # values there are the limits, equal to the mean of the purchase distribution and between
    # the values just either side.
    one = pl.DataFrame({"frequency": [1], "recency": [2], "T": [5]})

    def expected(gamma: float) -> float:
        model = clv.BetaGeoBetaBinom.from_params(
            {"alpha": 1.0, "beta": 1.0, "gamma": gamma, "delta": 1.0}
        )
        return model.conditional_expected_purchases(one, t=4)["expected_purchases"][0]

    model = clv.BetaGeoBetaBinom.from_params(
        {"alpha": 1.0, "beta": 1.0, "gamma": 1.0, "delta": 1.0}
    )
    probs = [model.probability_of_purchases(one, n=k, t=4)["probability"][0] for k in range(5)]
    at_one = expected(1.0)
    assert at_one == pytest.approx(math.fsum(k * p for k, p in enumerate(probs)), abs=1e-12)
    below, above = expected(1.0 - 1e-7), expected(1.0 + 1e-7)
    assert min(below, above) - 1e-9 <= at_one <= max(below, above) + 1e-9


def _small_log() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "timestamp": [dt.date(2024, 1, d) for d in (1, 9, 30, 3, 24, 20)],
            "amount": [10.0, 5.0, 20.0, 8.0, 12.0, 30.0],
        }
    )


@pytest.mark.parametrize(
    ("option", "old", "new"), [("time_unit", "W", "week"), ("merge", "M", "month")]
)
def test_letter_units_are_deprecated_aliases(option, old, new, same_under_old_name) -> None:
    same_under_old_name(
        clv.rfm_summary,
        _small_log(),
        {option: old},
        {option: new},
        f"{option}='{old}' is deprecated",
    )


def test_clv_letter_unit_is_a_deprecated_alias(summary: pl.DataFrame) -> None:
    bg = clv.BetaGeo().fit(summary)
    gg = clv.GammaGamma().fit(summary)
    with pytest.warns(DeprecationWarning, match="time_unit='W' is deprecated"):
        old = clv.clv(summary, transactions=bg, spend=gg, time_unit="W")
    assert_frame_equal(old, clv.clv(summary, transactions=bg, spend=gg, time_unit="week"))


def test_models_remember_the_time_unit_of_their_summary(
    summary: pl.DataFrame, tmp_path: Path
) -> None:
    bg = clv.BetaGeo().fit(summary)
    gg = clv.GammaGamma().fit(summary)
    assert bg.time_unit_ == "week"
    remembered = clv.clv(summary, transactions=bg, spend=gg)
    assert_frame_equal(remembered, clv.clv(summary, transactions=bg, spend=gg, time_unit="week"))
    # Read as days, the weekly rates would be daily ones: the 12-month CLV about seven times
    # too high, the silent error the remembered unit prevents.
    days = clv.BetaGeo.from_params(bg.params_, time_unit="day")
    assert (clv.clv(summary, transactions=days, spend=gg)["clv"] > remembered["clv"]).all()
    with pytest.raises(csm.TimeUnitMismatchError, match="contradicts the unit") as err:
        clv.clv(summary, transactions=bg, spend=gg, time_unit="day")
    assert err.value.expected == "week"  # type: ignore[attr-defined]
    assert isinstance(err.value, csm.InvalidInputError)
    with pytest.raises(csm.TimeUnitMismatchError, match="the summary was built in"):
        clv.BetaGeo().fit(summary, time_unit="month")
    # A derived Polars frame is another object: the unit is given at the fit.
    derived = summary.filter(pl.col("T") >= 0)
    assert clv.BetaGeo().fit(derived).time_unit_ is None
    assert clv.BetaGeo().fit(derived, time_unit="week").time_unit_ == "week"
    # pandas and pyarrow summaries carry the unit themselves.
    for frame in (_cdnow_log().to_pandas(), _cdnow_log().to_arrow()):
        made = clv.rfm_summary(frame, time_unit="week")
        assert clv.BetaGeo().fit(made).time_unit_ == "week"
    assert clv.BetaGeo().fit(csm.datasets.cdnow("summary")).time_unit_ == "week"
    # Saved and loaded models keep it.
    path = tmp_path / "bg.json"
    bg.save(path)
    assert clv.BetaGeo.load(path).time_unit_ == "week"


def test_a_model_without_a_time_unit_assumes_days_with_a_warning(summary: pl.DataFrame) -> None:
    bg = clv.BetaGeo().fit(summary.filter(pl.col("T") >= 0))
    gg = clv.GammaGamma().fit(summary)
    with pytest.warns(DeprecationWarning, match="does not know the time unit"):
        assumed = clv.clv(summary, transactions=bg, spend=gg)
    assert_frame_equal(assumed, clv.clv(summary, transactions=bg, spend=gg, time_unit="day"))


def test_not_fitted_and_load_errors_are_typed(tmp_path: Path) -> None:
    one = pl.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0]})
    for call in (
        lambda: clv.BetaGeo().predict(one, t=1),
        lambda: clv.BetaGeo().summary(),
        lambda: clv.BetaGeo().save(tmp_path / "x.json"),
        lambda: clv.GammaGamma().expected_spend(one),
    ):
        with pytest.raises(csm.NotFittedError, match="not fitted"):
            call()
    params = {"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.4}
    cases = {
        "missing.json": None,
        "garbage.json": "{not json",
        "list.json": "[1, 2]",
        "other.json": '{"model": "gamma_gamma", "params": {"p": 1, "q": 1, "gamma": 1}}',
        "params.json": '{"model": "bg_nbd", "params": {"r": "x"}}',
        "unit.json": json.dumps({"model": "bg_nbd", "params": params, "time_unit": "fortnight"}),
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        with pytest.raises(csm.ModelLoadError, match=name):
            clv.BetaGeo.load(path)
    # A file of an earlier release (no time unit) loads with the unit unknown.
    (tmp_path / "old.json").write_text(json.dumps({"model": "bg_nbd", "params": params}))
    assert clv.BetaGeo.load(tmp_path / "old.json").time_unit_ is None
