"""Survival curves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from csmetrics.plot._common import _as_float, _axes, _frame, _groups, _percent_axis, _require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["survival_curve"]


_KM_KNOWN = (
    "time",
    "at_risk",
    "events",
    "censored",
    "entered",
    "survival",
    "variance",
    "lower",
    "upper",
)


def survival_curve(
    kaplan_meier: Any,
    *,
    at_risk: bool = True,
    at_risk_ticks: int = 6,
    time_label: str = "time",
    title: str | None = None,
    ax: Any = None,
) -> Axes:
    """Kaplan-Meier curves (steps) per group with their confidence bands, and the number still
    at risk printed under the time axis at ``at_risk_ticks`` evenly spaced times.

    ``time_label`` names the unit of the durations (e.g. ``"months since the first start"``).
    """
    frame = _frame(kaplan_meier, "survival_curve")
    _require(frame, ["time", "survival"], "survival_curve", "csmetrics.kaplan_meier")
    if at_risk:
        _require(frame, ["at_risk"], "survival_curve", "csmetrics.kaplan_meier")
    parts = _groups(frame, _KM_KNOWN)
    ax = _axes(ax, figsize=(8.0, 5.0 + (0.25 * len(parts) if at_risk else 0)))
    colours = []
    for label, part in parts:
        part = part.sort("time")
        times = [0.0, *_as_float(part["time"])]
        surv = [1.0, *_as_float(part["survival"])]
        (line,) = ax.step(times, surv, where="post", lw=1.6, label=label or "all customers")
        colours.append(line.get_color())
        if "lower" in part.columns and "upper" in part.columns:
            ax.fill_between(
                times,
                [1.0, *_as_float(part["lower"])],
                [1.0, *_as_float(part["upper"])],
                step="post",
                alpha=0.2,
                color=line.get_color(),
                lw=0,
            )
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    _percent_axis(ax, decimals=0)
    ax.set_xlabel(time_label)
    ax.set_ylabel("share still a customer")
    ax.set_title(
        title
        or "Kaplan-Meier survival"
        + (" (bands: confidence intervals)" if "lower" in frame.columns else "")
    )
    ax.grid(alpha=0.3)
    if len(parts) > 1 or parts[0][0] is not None:
        ax.legend(fontsize=8, loc="lower left")
    if at_risk:
        end = max(float(frame["time"].max() or 0.0), 1e-9)  # type: ignore[arg-type]
        from matplotlib.ticker import MaxNLocator

        ticks = [
            float(t)
            for t in MaxNLocator(nbins=at_risk_ticks - 1).tick_values(0, end)
            if 0 <= t <= end * 1.0001
        ]
        ax.set_xticks(ticks)
        ax.set_xlim(0, end * 1.02)
        ax.annotate(
            "number at risk",
            (0, 0),
            xycoords="axes fraction",
            xytext=(-24, -40),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            fontweight="bold",
        )
        for row, ((label, part), colour) in enumerate(zip(parts, colours, strict=True)):
            part = part.sort("time")
            times = _as_float(part["time"])
            risk = part["at_risk"].to_list()
            offset = -40 - 12 * (row + 1)
            ax.annotate(
                label or "all",
                (0, 0),
                xycoords="axes fraction",
                xytext=(-24, offset),
                textcoords="offset points",
                ha="right",
                fontsize=8,
                color=colour,
            )
            for tick in ticks:
                count = next((r for t, r in zip(times, risk, strict=True) if t >= tick), 0)
                ax.annotate(
                    f"{count:,}",
                    (tick, 0),
                    xycoords=("data", "axes fraction"),
                    xytext=(0, offset),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                    color=colour,
                )
    return cast("Axes", ax)
