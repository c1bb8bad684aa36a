"""The logo churn trend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import polars as pl

from csmetrics.plot._common import (
    _BILLING_VALUES,
    _axes,
    _date_axis,
    _frame,
    _percent_axis,
    _require,
    _trend,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["churn_trend"]


_CHURN_KNOWN = (
    "period",
    "complete",
    "customers_start",
    "customers_end",
    "churned",
    "new",
    "reactivated",
    "joined_and_left",
    "churn_denominator",
    "churn_rate",
    "churn_lower",
    "churn_upper",
    "retention_rate",
    "growth_rate",
    *_BILLING_VALUES,
)


def churn_trend(
    churn_rates: Any, *, rate: str = "churn_rate", title: str | None = None, ax: Any = None
) -> Axes:
    """Logo churn (or ``rate="retention_rate"``) per period, one line per ``by`` group, with the
    Wilson band when ``churn_rates`` was computed with ``ci="wilson"``."""
    frame = _frame(churn_rates, "churn_trend")
    _require(frame, ["period", rate], "churn_trend", "csmetrics.churn_rates")
    ax = _axes(ax)
    shaded = "churn_lower" in frame.columns and "churn_upper" in frame.columns
    band: tuple[str | None, str | None] = (None, None)
    if shaded and rate == "churn_rate":
        band = ("churn_lower", "churn_upper")
    elif shaded and rate == "retention_rate":
        # Retention is 1 - churn on the start denominator: the same interval, mirrored.
        frame = frame.with_columns(
            (1 - pl.col("churn_upper")).alias("_lower"), (1 - pl.col("churn_lower")).alias("_upper")
        )
        band = ("_lower", "_upper")
    else:
        shaded = False
    _trend(frame, ax, rate, band[0], band[1], [*_CHURN_KNOWN, "_lower", "_upper"])
    _percent_axis(ax, decimals=1)
    _date_axis(ax)
    ax.set_xlabel("period")
    ax.set_ylabel(rate.replace("_", " "))
    if rate == "churn_rate":
        ax.set_ylim(bottom=0)
    ax.set_title(
        title
        or (
            ("Logo churn" if rate == "churn_rate" else rate.replace("_", " ").capitalize())
            + " per period"
            + (" (band: Wilson interval)" if shaded else "")
        )
    )
    ax.legend(fontsize=8)
    return cast("Axes", ax)
