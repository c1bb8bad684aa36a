"""csmetrics: customer-success metrics over Polars and pandas DataFrames.

Survey metrics (NPS with confidence intervals and two-sample tests, CSAT, CES) as eager functions
and as Polars expressions (``csmetrics.expr`` and the ``pl.col(...).cs`` namespace). Every
definition follows the project's metrics contract; every vendor disagreement is an option.

Examples
--------
>>> import polars as pl
>>> import csmetrics as csm
>>> csm.nps(pl.DataFrame({"score": [10, 9, 8, 3]}))["nps"][0]
25.0
"""

from __future__ import annotations

from csmetrics import clv, datasets, expr
from csmetrics._internal import __version__
from csmetrics.exceptions import (
    ConvergenceError,
    CsMetricsError,
    InvalidInputError,
    MissingColumnError,
)
from csmetrics.retention import (
    churn_rates,
    cohort_retention,
    cohort_triangle,
    renewal_rates,
    survival_table,
)
from csmetrics.revenue import mrr, mrr_bridge, mrr_movements, revenue_kpis
from csmetrics.survey import ces, csat, nps, nps_compare
from csmetrics.survival import kaplan_meier, kaplan_meier_summary, logrank_test, nelson_aalen

__all__ = [
    "ConvergenceError",
    "CsMetricsError",
    "InvalidInputError",
    "MissingColumnError",
    "__version__",
    "ces",
    "churn_rates",
    "clv",
    "cohort_retention",
    "cohort_triangle",
    "csat",
    "datasets",
    "expr",
    "kaplan_meier",
    "kaplan_meier_summary",
    "logrank_test",
    "mrr",
    "mrr_bridge",
    "mrr_movements",
    "nelson_aalen",
    "nps",
    "nps_compare",
    "renewal_rates",
    "revenue_kpis",
    "survival_table",
]
