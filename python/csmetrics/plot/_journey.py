"""The onboarding funnel and the support response times."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import polars as pl

from csmetrics.plot._common import (
    _as_float,
    _axes,
    _date_axis,
    _frame,
    _percent_axis,
    _require,
    _trend,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["milestone_funnel", "response_times"]

_RESPONSE_KNOWN = (
    "period",
    "tickets",
    "answered",
    "unanswered",
    "first_response_mean_hours",
    "first_response_median_hours",
    "first_response_p90_hours",
    "resolved",
    "unresolved",
    "resolution_mean_hours",
    "resolution_median_hours",
    "resolution_p90_hours",
    "backlog",
    "sla_met",
    "sla_breached",
    "sla_pending",
    "sla_attainment",
)


def milestone_funnel(funnel: Any, *, title: str | None = None, ax: Any = None) -> Axes:
    """The onboarding funnel (``csmetrics.milestone_funnel``): the share of customers reaching
    each stage, one bar per window. Cohorts and groups are added up (reached and eligible
    customers are counts), so the bars are the whole population's."""
    frame = _frame(funnel, "milestone_funnel")
    _require(
        frame,
        ["window_days", "stage", "milestone", "eligible", "reached"],
        "milestone_funnel",
        "csmetrics.milestone_funnel",
    )
    total = (
        frame.group_by("window_days", "stage", "milestone")
        .agg(pl.col("eligible").sum(), pl.col("reached").sum())
        .sort("window_days", "stage")
    )
    ax = _axes(ax, figsize=(8.0, 4.5))
    windows = total["window_days"].unique(maintain_order=True).to_list()
    stages = total.filter(pl.col("window_days") == windows[0]) if windows else total
    names = stages["milestone"].to_list()
    width = 0.8 / max(len(windows), 1)
    for i, window in enumerate(windows):
        part = total.filter(pl.col("window_days") == window)
        shares = [
            r / e if e else float("nan")
            for r, e in zip(_as_float(part["reached"]), _as_float(part["eligible"]), strict=True)
        ]
        x = [s - 1 - 0.4 + width * (i + 0.5) for s in part["stage"].to_list()]
        bars = ax.bar(x, shares, width=width * 0.95, label=f"within {window} days")
        for bar, share in zip(bars, shares, strict=True):
            if share == share:  # not NaN
                ax.annotate(
                    f"{share:.0%}",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=15, ha="right")
    ax.set_ylim(0, 1.08)
    _percent_axis(ax, decimals=0)
    ax.set_ylabel("share of customers")
    ax.set_title(title or "Onboarding funnel (customers whose window has closed)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return cast("Axes", ax)


def response_times(times: Any, *, title: str | None = None, ax: Any = None) -> Axes:
    """First response times per period (``csmetrics.response_times``): the median, and the 90th
    percentile dashed, one colour per ``by`` group."""
    frame = _frame(times, "response_times")
    _require(
        frame,
        ["period", "first_response_median_hours", "first_response_p90_hours"],
        "response_times",
        "csmetrics.response_times",
    )
    ax = _axes(ax)
    # Named for the legend: a line per group is "<group> (median)", the lone line "median".
    frame = frame.rename(
        {"first_response_median_hours": "median", "first_response_p90_hours": "90th percentile"}
    )
    known = (*_RESPONSE_KNOWN, "median", "90th percentile")
    grouped = any(c not in known for c in frame.columns)
    count = _trend(frame, ax, "median", None, None, known, " (median)" if grouped else "")
    colours = [line.get_color() for line in ax.get_lines()[:count]]
    _trend(
        frame,
        ax,
        "90th percentile",
        None,
        None,
        known,
        " (90th percentile)" if grouped else "",
        colours=colours,
    )
    for line in ax.get_lines()[count:]:
        line.set_linestyle("--")
    _date_axis(ax)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("period of the opening")
    ax.set_ylabel("hours to the first response")
    ax.set_title(title or "First response time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return cast("Axes", ax)
