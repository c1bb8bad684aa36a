"""Plots of csmetrics results (matplotlib, an optional extra: ``pip install csmetrics[plot]``).

Every function takes the frame a csmetrics function returned (Polars or pandas), draws on ``ax``
(a new figure when ``ax`` is None) and returns the matplotlib ``Axes``. matplotlib is imported
only when a function is called, so ``import csmetrics`` never needs it.

Examples
--------
::

    import csmetrics as csm
    from csmetrics import plot

    curve = csm.kaplan_meier(lives, by="segment")
    ax = plot.survival_curve(curve, time_label="months since the first start")
    ax.figure.savefig("survival.png", dpi=100, bbox_inches="tight")

The charts live in one module per family (cohorts, revenue, retention, survey, survival, CLV, journey);
import them from ``csmetrics.plot``.
"""

from __future__ import annotations

from csmetrics.plot._clv import calibration_holdout, clv_distribution, p_alive_matrix
from csmetrics.plot._cohorts import cohort_heatmap
from csmetrics.plot._journey import milestone_funnel, response_times
from csmetrics.plot._retention import churn_trend
from csmetrics.plot._revenue import (
    churn_split_bars,
    mrr_bridge_bars,
    mrr_waterfall,
    net_contract_trend,
    nrr_trend,
)
from csmetrics.plot._survey import nps_trend
from csmetrics.plot._survival import survival_curve

__all__ = [
    "calibration_holdout",
    "churn_split_bars",
    "churn_trend",
    "clv_distribution",
    "cohort_heatmap",
    "milestone_funnel",
    "mrr_bridge_bars",
    "mrr_waterfall",
    "net_contract_trend",
    "nps_trend",
    "nrr_trend",
    "p_alive_matrix",
    "response_times",
    "survival_curve",
]
