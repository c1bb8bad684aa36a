"""The NPS trend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from csmetrics.plot._common import _axes, _date_axis, _frame, _require, _trend

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["nps_trend"]


_NPS_KNOWN = (
    "period",
    "n",
    "promoters",
    "passives",
    "detractors",
    "promoter_share",
    "passive_share",
    "detractor_share",
    "nps",
    "nps_lower",
    "nps_upper",
    "missing",
    "invalid",
)


def nps_trend(nps_by_period: Any, *, title: str | None = None, ax: Any = None) -> Axes:
    """NPS per period (``csmetrics.nps(..., period=...)``), one line per ``by`` group, with the
    confidence band when the result has ``nps_lower`` / ``nps_upper``."""
    frame = _frame(nps_by_period, "nps_trend")
    _require(frame, ["period", "nps"], "nps_trend", "csmetrics.nps(..., period='month')")
    ax = _axes(ax)
    _trend(frame, ax, "nps", "nps_lower", "nps_upper", _NPS_KNOWN)
    ax.axhline(0, color="grey", lw=0.8, ls=":")
    _date_axis(ax)
    ax.set_xlabel("period")
    ax.set_ylabel("NPS (-100 to 100)")
    shaded = "nps_lower" in frame.columns
    ax.set_title(
        title
        or ("Net Promoter Score per period" + (" (band: confidence interval)" if shaded else ""))
    )
    ax.legend(fontsize=8)
    return cast("Axes", ax)
