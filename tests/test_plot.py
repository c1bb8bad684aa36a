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
    # Through pandas (its nullable whole numbers become floats) the same cohorts.
    assert pl.from_pandas(long).equals(csm.cohort_retention(subs, **IC))


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


def _billing_subscriptions() -> pl.DataFrame:
    """Five monthly customers from 1 January 2024, in two segments, with seats, a discount,
    statuses, cancellation requests and churn reasons."""
    d = dt.date
    return pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "segment": ["smb", "smb", "enterprise", "enterprise", "smb"],
            "start": [d(2024, 1, 1)] * 5,
            "end": [None, d(2024, 3, 20), d(2024, 3, 5), d(2024, 4, 10), None],
            "amount": [100.0, 50.0, 30.0, 20.0, 40.0],
            "interval": ["month"] * 5,
            "quantity": [2, 1, 1, 1, 1],
            "status": ["active", "canceled", "canceled", "canceled", "active"],
            "canceled_at": [None, d(2024, 2, 10), None, d(2024, 3, 15), None],
            "churn_reason": [None, "cancellation_requested", "payment_failed", None, None],
            "percent_off": [10.0, None, None, None, None],
        }
    )


BILLING_CUT = {"as_of": dt.date(2024, 4, 20), "with_contract": True}


def _ydata(line) -> list[float]:
    return [float(v) for v in line.get_ydata()]


def test_net_contract_trend_draws_the_bridge_values():
    bridge = csm.mrr_bridge(_billing_subscriptions(), **BILLING_CUT)
    ax = plot.net_contract_trend(bridge)
    _labelled(ax, legend=True)
    contract, net, committed = ax.get_lines()
    assert _ydata(contract) == bridge["contract_mrr"].to_list()
    assert _ydata(net) == bridge["net_mrr"].to_list()
    assert _ydata(committed) == bridge["committed_mrr"].to_list()
    # By hand: contract 2 x 100 + 50 + 30 + 20 + 40 = 340 until c and b leave in March (260)
    # and d in April (240); net takes a's 10% (20) off; committed also leaves out b from its
    # February request and d from its March one.
    assert _ydata(contract) == [340.0, 340.0, 260.0, 240.0]
    assert _ydata(net) == [320.0, 320.0, 240.0, 220.0]
    assert _ydata(committed) == [320.0, 270.0, 220.0, 220.0]
    assert len(ax.collections) == 1, "the discount gap is shaded"
    assert ax.get_title() == "Net, contract and committed MRR"


def test_net_contract_trend_sums_groups_and_takes_pandas():
    pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    subs = _billing_subscriptions().drop("canceled_at")
    whole = csm.mrr_bridge(subs, **BILLING_CUT)
    by_segment = csm.mrr_bridge(subs, by="segment", **BILLING_CUT)
    _fig, given = plt.subplots()
    ax = plot.net_contract_trend(by_segment.to_pandas(), title="Discounts", ax=given)
    assert ax is given and ax.get_title() == "Discounts"
    # No canceled_at: no committed line.
    contract, net = ax.get_lines()
    assert _ydata(contract) == whole["contract_mrr"].to_list()
    assert _ydata(net) == whole["net_mrr"].to_list()


def test_net_contract_trend_needs_with_contract():
    bridge = csm.mrr_bridge(_billing_subscriptions(), as_of=dt.date(2024, 4, 20))
    with pytest.raises(csm.MissingColumnError, match=r"'net_mrr'.*with_contract=True"):
        plot.net_contract_trend(bridge)


def test_churn_split_bars_stack_the_reasons_under_the_cancellations():
    bridge = csm.mrr_bridge(_billing_subscriptions(), by="segment", **BILLING_CUT)
    totals = (
        bridge.group_by("period")
        .agg(pl.col("^churned.*customers$", "cancellations").sum())
        .sort("period")
    )
    ax = plot.churn_split_bars(bridge)
    _labelled(ax, legend=True)
    voluntary, involuntary, unknown = ax.containers
    heights = {
        reason: [bar.get_height() for bar in bars]
        for reason, bars in [
            ("voluntary", voluntary),
            ("involuntary", involuntary),
            ("unknown", unknown),
        ]
    }
    for reason, drawn in heights.items():
        assert drawn == totals[f"churned_{reason}_customers"].to_list()
    # By hand: March loses b (asked to cancel) and c (payment failed); April d (no reason).
    assert heights == {
        "voluntary": [0, 0, 1, 0],
        "involuntary": [0, 0, 1, 0],
        "unknown": [0, 0, 0, 1],
    }
    # Stacked: each reason starts where the one below ends, and the stack is the churn.
    for low, high in [(voluntary, involuntary), (involuntary, unknown)]:
        for below, above in zip(low, high, strict=True):
            assert above.get_y() == pytest.approx(below.get_y() + below.get_height())
    tops = [bar.get_y() + bar.get_height() for bar in unknown]
    assert tops == totals["churned_customers"].to_list() == [0, 0, 2, 1]
    # The axis from 0, with room above the tallest stack (whose top is a bar of height 0).
    low, high = ax.get_ylim()
    assert low == 0 and high > 2
    (requests,) = ax.get_lines()
    # b asks in February, d in March.
    assert _ydata(requests) == totals["cancellations"].to_list() == [0, 1, 1, 0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-1] == "cancellation requests" and labels[0].startswith("voluntary")
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
    ]


def test_churn_split_bars_with_cancellations_alone():
    bridge = csm.mrr_bridge(_billing_subscriptions().drop("churn_reason"), **BILLING_CUT)
    ax = plot.churn_split_bars(bridge)
    _labelled(ax, legend=True)
    (churned,) = ax.containers
    assert [bar.get_height() for bar in churned] == bridge["churned_customers"].to_list()
    assert _ydata(ax.get_lines()[0]) == bridge["cancellations"].to_list()
    assert ax.get_title() == "Churned customers and cancellation requests"


def test_churn_split_bars_needs_reasons_or_cancellations():
    plain = csm.mrr_bridge(_billing_subscriptions().drop("churn_reason", "canceled_at"))
    with pytest.raises(csm.MissingColumnError, match="churn_reason column") as info:
        plot.churn_split_bars(plain)
    assert info.value.column == "churned_voluntary_customers"
    half = csm.mrr_bridge(_billing_subscriptions()).drop("churned_unknown_customers")
    with pytest.raises(csm.MissingColumnError, match="'churned_unknown_customers'"):
        plot.churn_split_bars(half)


def test_billing_columns_are_not_taken_for_groups():
    # churn_rates and revenue_kpis gain paused_customers, cancellations, committed_mrr, ... with
    # billing detail: values, not by= keys, so one line per metric still.
    subs = _billing_subscriptions()
    rates = csm.churn_rates(subs, as_of=dt.date(2024, 4, 20))
    assert {"cancellations", "churned_voluntary", "paused_customers"} <= set(rates.columns)
    ax = plot.churn_trend(rates)
    (line,) = ax.get_lines()
    expected = rates["churn_rate"].fill_null(float("nan")).to_list()
    assert _ydata(line) == pytest.approx(expected, nan_ok=True)
    kpis = csm.revenue_kpis(subs, **BILLING_CUT)
    assert {"committed_mrr", "net_mrr", "cancellation_mrr"} <= set(kpis.columns)
    ax = plot.nrr_trend(kpis)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["NRR (month)", "GRR (month)"]


@pytest.mark.parametrize(
    ("helper", "column"),
    [
        (plot.mrr_waterfall, "starting_mrr"),
        (plot.mrr_bridge_bars, "starting_mrr"),
        (plot.churn_trend, "churn_rate"),
        (plot.nrr_trend, "nrr"),
        (plot.net_contract_trend, "net_mrr"),
        (plot.churn_split_bars, "churned_customers"),
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
