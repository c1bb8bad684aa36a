"""csmetrics.plot: every helper draws headless, returns its Axes, labels it, and names what is
missing when the input is not the frame it expects."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import polars as pl
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

import csmetrics as csm  # noqa: E402
from csmetrics import clv, datasets, plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def subs() -> pl.DataFrame:
    business = datasets.saas(600, months=12, seed=3, raw_events=False)
    return business.subscriptions.join(
        business.customers.select("customer_id", "segment"), on="customer_id"
    )


@pytest.fixture(scope="module")
def surveys() -> pl.DataFrame:
    return datasets.saas(600, months=12, seed=3, raw_events=False).surveys


@pytest.fixture(scope="module")
def cdnow_fit():
    summary = clv.rfm_summary(
        datasets.cdnow("sample"),
        customer_id="customer_id",
        timestamp="date",
        amount="dollar_value",
        time_unit="week",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
    )
    model = clv.BetaGeo.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    spend = clv.GammaGamma.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44})
    return summary, model, spend


def _labelled(ax: Axes, *, legend: bool) -> None:
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    if legend:
        assert ax.get_legend() is not None
        assert len(ax.get_legend().get_texts()) >= 2


IC = {"interval_count": "interval_count"}


def test_import_csmetrics_does_not_import_matplotlib():
    code = "import sys, csmetrics, csmetrics.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cohort_heatmap_long_and_triangle(subs):
    long = csm.cohort_retention(subs, **IC)
    ax = plot.cohort_heatmap(long)
    _labelled(ax, legend=False)
    assert len(ax.get_images()) == 1
    ax2 = plot.cohort_heatmap(csm.cohort_triangle(long))
    assert ax2.get_images()[0].get_array().shape == ax.get_images()[0].get_array().shape


def test_cohort_heatmap_pandas_and_given_axes(subs):
    _fig, ax = plt.subplots()
    long = csm.cohort_retention(subs.to_pandas(), **IC)
    assert plot.cohort_heatmap(long, ax=ax) is ax


def test_cohort_heatmap_rejects_several_groups(subs):
    long = csm.cohort_retention(subs, by="segment", **IC)
    with pytest.raises(csm.InvalidInputError, match="several groups"):
        plot.cohort_heatmap(long)
    one = long.filter(pl.col("segment") == "smb")
    _labelled(plot.cohort_heatmap(one), legend=False)


def test_mrr_waterfall_reconciles(subs):
    bridge = csm.mrr_bridge(subs, **IC)
    ax = plot.mrr_waterfall(bridge, period=dt.date(2023, 6, 15))
    _labelled(ax, legend=True)
    bars = ax.patches
    assert len(bars) == 7
    row = bridge.filter(pl.col("period") == dt.date(2023, 6, 1)).row(0, named=True)
    assert bars[0].get_height() == pytest.approx(row["starting_mrr"])
    assert bars[-1].get_height() == pytest.approx(row["ending_mrr"])
    # The last movement bar ends where the ending bar starts.
    churned = bars[5]
    assert churned.get_y() + churned.get_height() == pytest.approx(row["ending_mrr"])
    assert "2023-06" in ax.get_title()


def test_mrr_waterfall_unknown_period(subs):
    with pytest.raises(csm.InvalidInputError, match="no period"):
        plot.mrr_waterfall(csm.mrr_bridge(subs, **IC), period="1990-01-01")


def test_mrr_bridge_bars(subs):
    ax = plot.mrr_bridge_bars(csm.mrr_bridge(subs, by="segment", **IC))
    _labelled(ax, legend=True)


def test_churn_trend_with_wilson_band(subs):
    rates = csm.churn_rates(subs, ci="wilson", by="segment", **IC)
    ax = plot.churn_trend(rates)
    _labelled(ax, legend=True)
    assert len(ax.get_lines()) == 3
    assert ax.collections, "the Wilson band is drawn"
    assert "Wilson" in ax.get_title()


def test_nrr_trend(subs):
    ax = plot.nrr_trend(csm.revenue_kpis(subs, window=6, **IC))
    _labelled(ax, legend=True)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("trailing" in label for label in labels)


def test_nps_trend(surveys):
    ax = plot.nps_trend(csm.nps(surveys, score="nps", period="quarter", by="segment"))
    _labelled(ax, legend=True)
    assert ax.collections


def test_survival_curve_with_at_risk(subs):
    lives = csm.survival_table(subs, by="segment", time_unit="month", **IC)
    ax = plot.survival_curve(csm.kaplan_meier(lives, by="segment"), time_label="months")
    _labelled(ax, legend=True)
    texts = [t.get_text() for t in ax.texts]
    assert "number at risk" in texts
    assert str(lives.filter(pl.col("segment") == "smb").height) in {
        t.replace(",", "") for t in texts
    }


def test_survival_curve_single_group_without_at_risk():
    lives = pl.DataFrame({"duration": [1, 2, 2, 3, 4, 4, 5], "event": [1, 1, 0, 1, 0, 1, 1]})
    ax = plot.survival_curve(csm.kaplan_meier(lives), at_risk=False)
    _labelled(ax, legend=False)
    assert not ax.texts


def test_p_alive_matrix(cdnow_fit):
    _, model, _ = cdnow_fit
    ax = plot.p_alive_matrix(model, 10, 30)
    _labelled(ax, legend=False)
    grid = ax.get_images()[0].get_array()
    assert grid.shape[0] == 11
    assert grid[0].min() == pytest.approx(1.0)  # no repeat purchase: alive by the model
    assert grid[10, 0] < grid[10, -1]  # a recent last purchase means alive


def test_p_alive_matrix_needs_a_model():
    with pytest.raises(csm.InvalidInputError, match="fitted"):
        plot.p_alive_matrix(object(), 5, 5)


def test_calibration_holdout(cdnow_fit):
    summary, model, _ = cdnow_fit
    ax = plot.calibration_holdout(summary, model)
    _labelled(ax, legend=True)
    actual, _predicted = ax.get_lines()[:2]
    assert len(actual.get_xdata()) == 8  # 0..6 and 7+


def test_calibration_holdout_needs_holdout_columns(cdnow_fit):
    summary, model, _ = cdnow_fit
    with pytest.raises(csm.MissingColumnError, match="frequency_holdout"):
        plot.calibration_holdout(summary.drop("frequency_holdout"), model)


def test_clv_distribution(cdnow_fit):
    summary, model, spend = cdnow_fit
    values = clv.clv(summary, transactions=model, spend=spend, time_unit="week")
    _labelled(plot.clv_distribution(values), legend=True)
    grouped = values.with_columns(
        group=pl.when(pl.col("frequency") > 0).then(pl.lit("repeat")).otherwise(pl.lit("one-off"))
    )
    _labelled(plot.clv_distribution(grouped, by="group"), legend=True)


@pytest.mark.parametrize(
    ("helper", "column"),
    [
        (plot.mrr_waterfall, "starting_mrr"),
        (plot.mrr_bridge_bars, "starting_mrr"),
        (plot.churn_trend, "churn_rate"),
        (plot.nrr_trend, "nrr"),
        (plot.nps_trend, "nps"),
        (plot.survival_curve, "survival"),
        (plot.cohort_heatmap, "cohort"),
        (plot.clv_distribution, "clv"),
    ],
)
def test_missing_columns_are_named(helper, column):
    frame = pl.DataFrame({"period": [dt.date(2024, 1, 1)], "time": [1.0], "other": [1]})
    with pytest.raises(csm.MissingColumnError, match=f"'{column}'") as info:
        helper(frame)
    assert info.value.column == column
    assert "csmetrics." in str(info.value)


def test_not_a_frame():
    with pytest.raises(TypeError, match="Polars or pandas"):
        plot.nps_trend([1, 2, 3])
