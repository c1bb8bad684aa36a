"""Lifetime-value charts: P(alive), calibration against holdout, the CLV distribution."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from csmetrics.exceptions import InvalidInputError
from csmetrics.plot._common import (
    _DOWN,
    _TOTAL,
    _UP,
    _as_float,
    _axes,
    _frame,
    _money,
    _money_axis,
    _pyplot,
    _require,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["calibration_holdout", "clv_distribution", "p_alive_matrix"]


def p_alive_matrix(
    model: Any,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    *,
    T: float | None = None,
    title: str | None = None,
    ax: Any = None,
) -> Axes:
    """P(alive) of a fitted BG/NBD-type model over a grid of frequency and recency.

    Each cell is a customer with that many repeat purchases, the last one at that recency, seen
    for ``T`` time units (default ``max_recency``): the bottom right (many purchases, recent) is
    near 1; the top right (many purchases, long ago) is the customer you have lost.
    ``max_frequency`` and ``max_recency`` default to 20 and 40.
    """
    plt = _pyplot()
    if not hasattr(model, "p_alive"):
        raise InvalidInputError(
            f"p_alive_matrix: expected a fitted BetaGeo / ParetoNBD / ModifiedBetaGeo model, got "
            f"{type(model).__name__}"
        )
    max_frequency = 20 if max_frequency is None else int(max_frequency)
    max_recency = 40.0 if max_recency is None else float(max_recency)
    horizon = max_recency if T is None else float(T)
    if max_frequency < 1 or max_recency <= 0 or horizon < max_recency:
        raise InvalidInputError(
            "p_alive_matrix: need max_frequency >= 1, max_recency > 0 and T >= max_recency"
        )
    steps = min(60, max(10, int(max_recency)))
    recencies = [max_recency * j / steps for j in range(steps + 1)]
    grid = pl.DataFrame(
        {
            "frequency": [f for f in range(max_frequency + 1) for _ in recencies],
            # With no repeat purchase the recency is 0 by definition: that row is one value.
            "recency": [r if f > 0 else 0.0 for f in range(max_frequency + 1) for r in recencies],
            "T": [horizon] * ((max_frequency + 1) * len(recencies)),
        }
    )
    scored = _frame(model.p_alive(grid), "p_alive_matrix")
    values = _as_float(scored["p_alive"])
    width = len(recencies)
    matrix = [values[i * width : (i + 1) * width] for i in range(max_frequency + 1)]
    ax = _axes(ax, figsize=(7.0, 5.5))
    image = ax.imshow(
        matrix,
        origin="lower",
        aspect="auto",
        cmap="viridis",
        vmin=0,
        vmax=1,
        extent=(0, max_recency, -0.5, max_frequency + 0.5),
    )
    cbar = ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    cbar.ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    cbar.set_label("P(alive)")
    ax.set_xlabel(f"recency (time of the last purchase; customers observed for T = {horizon:g})")
    ax.set_ylabel("frequency (repeat purchases)")
    ax.yaxis.set_major_locator(plt.matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_title(title or "Probability that a customer is still alive")
    return cast("Axes", ax)


def calibration_holdout(
    summary: Any,
    model: Any,
    *,
    max_frequency: int = 7,
    title: str | None = None,
    ax: Any = None,
) -> Axes:
    """Mean holdout purchases by calibration frequency: actual against the model's prediction
    (the ``calibration`` table of :func:`csmetrics.clv.evaluate`).

    ``summary`` is a :func:`csmetrics.clv.rfm_summary` with ``calibration_end`` (it has
    ``frequency_holdout`` and ``duration_holdout``); ``model`` a transaction model fitted on its
    calibration columns. Frequencies above ``max_frequency`` are pooled into the last bar.
    """
    frame = _frame(summary, "calibration_holdout")
    _require(
        frame,
        ["frequency", "recency", "T", "frequency_holdout", "duration_holdout"],
        "calibration_holdout",
        "csmetrics.clv.rfm_summary(..., calibration_end=...)",
    )
    if not hasattr(model, "conditional_expected_purchases"):
        raise InvalidInputError(
            f"calibration_holdout: expected a fitted transaction model, got {type(model).__name__}"
        )
    from csmetrics.clv import evaluate

    table = _frame(
        evaluate(frame, model, max_frequency=max_frequency).calibration, "calibration_holdout"
    )
    ax = _axes(ax)
    x = table["frequency"].to_list()
    ax.plot(
        x, table["actual"].to_list(), marker="o", lw=1.6, color=_TOTAL, label="actual (holdout)"
    )
    ax.plot(
        x,
        table["predicted"].to_list(),
        marker="s",
        lw=1.6,
        ls="--",
        color=_DOWN,
        label="predicted by the model",
    )
    labels = table["label"].to_list()
    ax.set_xticks(x)
    ax.set_xticklabels(
        [f"{lab}\n(n={n:,})" for lab, n in zip(labels, table["customers"].to_list(), strict=True)],
        fontsize=8,
    )
    ax.set_xlabel("repeat purchases in the calibration period (customers in each group)")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.set_title(title or "Calibration vs holdout: actual and predicted purchases")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return cast("Axes", ax)


def clv_distribution(
    clv_frame: Any,
    *,
    column: str = "clv",
    by: str | None = None,
    bins: int = 50,
    clip_quantile: float = 0.99,
    title: str | None = None,
    ax: Any = None,
) -> Axes:
    """Histogram of customer lifetime values, with the mean and median marked.

    The x axis stops at the ``clip_quantile`` of the values (CLV is heavily skewed; the few
    values above it are counted in the last bin). ``by`` draws one outline per group.
    """
    frame = _frame(clv_frame, "clv_distribution")
    _require(
        frame,
        [column] + ([by] if by else []),
        "clv_distribution",
        "csmetrics.clv.clv (or another frame with a CLV column)",
    )
    values = frame[column].cast(pl.Float64).drop_nulls()
    if values.len() == 0:
        raise InvalidInputError(f"clv_distribution: column '{column}' has no values")
    cap = float(values.quantile(clip_quantile) or values.max())
    low = min(0.0, float(values.min()))
    edges = [low + (cap - low) * i / bins for i in range(bins + 1)]
    ax = _axes(ax)
    if by is None:
        clipped = [min(v, cap) for v in values.to_list()]
        ax.hist(clipped, bins=edges, color=_UP, alpha=0.85, label="customers")
        mean, median = float(values.mean()), float(values.median())
        ax.axvline(mean, color=_DOWN, lw=1.5, label=f"mean {_money(mean)}")
        ax.axvline(median, color=_TOTAL, lw=1.5, ls="--", label=f"median {_money(median)}")
    else:
        for (key,), part in sorted(frame.group_by([by]), key=lambda item: str(item[0][0])):
            vals = part[column].cast(pl.Float64).drop_nulls().to_list()
            mean = sum(vals) / len(vals) if vals else math.nan
            ax.hist(
                [min(v, cap) for v in vals],
                bins=edges,
                histtype="step",
                lw=1.6,
                label=f"{key} (mean {_money(mean)})",
            )
    _money_axis(ax, "x")
    ax.set_xlabel(
        f"{column} (values above the {100 * clip_quantile:g}th percentile in the last bin)"
    )
    ax.set_ylabel("customers")
    ax.set_title(title or "Distribution of customer lifetime value")
    ax.legend(fontsize=8)
    return cast("Axes", ax)
