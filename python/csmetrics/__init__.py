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

from csmetrics import clv, datasets, expr, feedback
from csmetrics._internal import __version__
from csmetrics.exceptions import (
    ConvergenceError,
    CsMetricsError,
    InternalError,
    InvalidInputError,
    InvalidTypeError,
    MissingColumnError,
    MissingDependencyError,
    ModelLoadError,
    NotFittedError,
    StripeFormatError,
    TimeUnitMismatchError,
)
from csmetrics.feedback import distinctive_terms, quotes, sentiment, themes
from csmetrics.health import Factor, churn_labels, health_backtest, health_score
from csmetrics.journey import (
    Activation,
    activation,
    milestone_funnel,
    time_to_milestone,
    touchpoint_experience,
)
from csmetrics.operations import (
    conversion_rates,
    engagement,
    feature_adoption,
    first_contact_resolution,
    response_times,
    retention_cost,
    trial_conversion,
)
from csmetrics.report import report
from csmetrics.retention import (
    churn_rates,
    cohort_retention,
    cohort_triangle,
    renewal_rates,
    survival_table,
)
from csmetrics.revenue import mrr, mrr_bridge, mrr_movements, revenue_kpis
from csmetrics.scorecard import scorecard
from csmetrics.scorecard import wide as scorecard_wide
from csmetrics.survey import ces, csat, nps, nps_compare
from csmetrics.survival import kaplan_meier, kaplan_meier_summary, logrank_test, nelson_aalen

__all__ = [
    "Activation",
    "ConvergenceError",
    "CsMetricsError",
    "Factor",
    "InternalError",
    "InvalidInputError",
    "InvalidTypeError",
    "MissingColumnError",
    "MissingDependencyError",
    "ModelLoadError",
    "NotFittedError",
    "StripeFormatError",
    "TimeUnitMismatchError",
    "__version__",
    "activation",
    "ces",
    "churn_labels",
    "churn_rates",
    "clv",
    "cohort_retention",
    "cohort_triangle",
    "conversion_rates",
    "csat",
    "datasets",
    "distinctive_terms",
    "engagement",
    "expr",
    "feature_adoption",
    "feedback",
    "first_contact_resolution",
    "health_backtest",
    "health_score",
    "kaplan_meier",
    "kaplan_meier_summary",
    "logrank_test",
    "milestone_funnel",
    "mrr",
    "mrr_bridge",
    "mrr_movements",
    "nelson_aalen",
    "nps",
    "nps_compare",
    "quotes",
    "renewal_rates",
    "report",
    "response_times",
    "retention_cost",
    "revenue_kpis",
    "scorecard",
    "scorecard_wide",
    "sentiment",
    "survival_table",
    "themes",
    "time_to_milestone",
    "touchpoint_experience",
    "trial_conversion",
]
