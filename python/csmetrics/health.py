"""Customer health scores and their backtest.

Definitions follow docs/metrics/health.md. Each factor is a column, normalised to [0, 1] over the
customers scored in the same period (``"minmax"`` or ``"percentile"``) or against fixed
thresholds ``(lo, hi)``, turned so that 1 is healthy, and combined by weight into a 0-100 score
with bands red < 40 <= yellow < 70 <= green (the bounds are options).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from csmetrics import _internal
from csmetrics._frames import IntoFrame, frame_function, from_polars, to_polars
from csmetrics._options import guard_module
from csmetrics.revenue import Instant, Period

__all__ = ["Factor", "churn_labels", "health_backtest", "health_score"]

Normalisation = Literal["minmax", "percentile"] | tuple[float, float]


@dataclass(frozen=True)
class Factor:
    """One factor of a health score.

    Parameters
    ----------
    column
        The column holding the factor's raw value (numeric; null when missing).
    weight
        Its weight, > 0.
    direction
        ``"higher"`` when high values are healthy (usage, NPS), ``"lower"`` otherwise (tickets).
    normalisation
        ``"minmax"`` ((x - min) / (max - min) over the customers scored in the period; 0.5 when
        they are all equal), ``"percentile"`` (mid-rank: (values below + (ties - 1) / 2) /
        (n - 1)) or thresholds ``(lo, hi)``: (x - lo) / (hi - lo) clamped to [0, 1].
    """

    column: str
    weight: float = 1.0
    direction: Literal["higher", "lower"] = "higher"
    normalisation: Normalisation = "minmax"

    def _spec(self) -> tuple[str, float, str, str, float | None, float | None]:
        if isinstance(self.normalisation, str):
            return (self.column, float(self.weight), self.direction, self.normalisation, None, None)
        lo, hi = self.normalisation
        return (self.column, float(self.weight), self.direction, "thresholds", float(lo), float(hi))


def _factors(factors: Sequence[Factor | str] | Mapping[str, float]) -> list[Factor]:
    if isinstance(factors, Mapping):
        return [Factor(column, weight) for column, weight in factors.items()]
    return [f if isinstance(f, Factor) else Factor(f) for f in factors]


@frame_function
def health_score(
    data: IntoFrame,
    factors: Sequence[Factor | str] | Mapping[str, float],
    *,
    customer_id: str = "customer_id",
    bands: tuple[float, float] = (40, 70),
    missing: Literal["reweight", "worst", "raise"] = "reweight",
    by_period: str | None = None,
) -> Any:
    """Health score 0-100 and band of every customer (or customer and period).

    ``score`` = 100 times the weighted mean of the normalised factors. With
    ``missing="reweight"`` (default) a missing factor is left out and the weights of the present
    ones are spread over the score (no factor at all gives a null score); ``"worst"`` counts it
    as the worst value (0); ``"raise"`` makes it an error naming the column and row.

    Parameters
    ----------
    data
        One row per customer (or per customer and period) with the factor columns.
    factors
        :class:`Factor` objects, plain column names (weight 1, higher is better, min-max), or a
        mapping from column to weight.
    customer_id
        The customer column, kept in the output.
    bands
        ``(lower, upper)``: red < lower <= yellow < upper <= green.
    missing
        Missing-factor policy.
    by_period
        A column (say ``period``) within whose values customers are normalised against each
        other; default all rows together.

    Returns
    -------
    DataFrame
        The input's non-factor columns, ``<factor>_normalised`` per factor (1 = healthy),
        ``factors_used``, ``score``, ``band``.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> customers = pl.DataFrame({
    ...     "customer_id": ["a", "b", "c"],
    ...     "usage": [10.0, 20.0, 30.0],
    ...     "tickets": [0, 4, 1],
    ... })
    >>> scored = csm.health_score(
    ...     customers, [csm.Factor("usage"), csm.Factor("tickets", direction="lower")]
    ... )
    >>> scored.select("customer_id", "score", "band").rows()
    [('a', 50.0, 'yellow'), ('b', 25.0, 'red'), ('c', 87.5, 'green')]
    """
    chosen = _factors(factors)
    from csmetrics._frames import column_names

    names = column_names(data)
    keep = [c for c in (customer_id, by_period) if c is not None and c in names]
    frame, kind = to_polars(data, [*keep, *(f.column for f in chosen)])
    result = _internal.health_score(
        frame,
        [f._spec() for f in chosen],
        (float(bands[0]), float(bands[1])),
        missing,
        by_period,
    )
    return from_polars(result, kind)


@frame_function
def health_backtest(
    data: IntoFrame,
    *,
    score: str = "score",
    churned: str = "churned",
) -> Any:
    """AUC of a health score against later churn (Mann-Whitney, ties count half).

    The AUC is the probability that a customer who churned scored below one who stayed: 1 for a
    perfect score, 0.5 for one that knows nothing. Rows with a null score or label are left out
    and counted in ``excluded``. Build ``churned`` from churn in the N periods after the scores
    were taken, so that the score never sees the outcome.

    Parameters
    ----------
    data
        One row per scored customer.
    score
        Score column (numeric).
    churned
        Outcome column: Boolean or 0/1.

    Returns
    -------
    DataFrame
        One row: ``auc`` (null without both classes), ``positives`` (churned), ``negatives``,
        ``excluded``.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> scored = pl.DataFrame({"score": [10, 20, 20, 40], "churned": [True, True, False, False]})
    >>> csm.health_backtest(scored).row(0)
    (0.875, 2, 2, 0)
    """
    frame, kind = to_polars(data, [score, churned])
    return from_polars(_internal.health_backtest(frame, score, churned), kind)


@frame_function
def churn_labels(
    scores: IntoFrame,
    subscriptions: IntoFrame,
    *,
    periods: int = 1,
    period: Period = "month",
    customer_id: str = "customer_id",
    period_column: str = "period",
    as_of: Instant | None = None,
    churned: str = "churned",
) -> Any:
    """Adds whether each scored customer churned in the ``periods`` periods after its score.

    A score labelled with period P is taken at the end of P. The customer is at risk when it pays
    at the end of P (the revenue panel of :func:`csmetrics.mrr`, same ``period`` and ``as_of``);
    it ``churned`` when it does not pay at the end of at least one of P+1, ..., P+N (a customer
    paused there under ``paused="zero"`` is still a customer, not churned). The label is
    null when the customer does not pay at the end of P, or when P+N is after the last period of
    the panel (the outcome is not known yet): :func:`health_backtest` leaves those rows out.

    Parameters
    ----------
    scores
        One row per customer and period (``customer_id``, ``period`` as the period's first day).
    subscriptions
        The subscriptions table (default column names of :func:`csmetrics.mrr`).
    periods
        N, the horizon in periods (>= 1).
    period
        The period of the score labels and of the panel.
    customer_id, period_column
        Columns of ``scores``.
    as_of
        Cut-off of the panel.
    churned
        Name of the added column.

    Returns
    -------
    DataFrame
        ``scores`` with a Boolean ``churned`` column.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> subs = pl.DataFrame({
    ...     "customer_id": ["a", "b"],
    ...     "start": [dt.date(2024, 1, 1)] * 2,
    ...     "end": [dt.date(2024, 2, 10), None],
    ...     "amount": [10.0, 10.0],
    ...     "interval": ["month"] * 2,
    ... })
    >>> scores = pl.DataFrame({"customer_id": ["a", "b"], "period": [dt.date(2024, 1, 1)] * 2})
    >>> csm.churn_labels(scores, subs, as_of=dt.date(2024, 3, 31))["churned"].to_list()
    [True, False]
    """
    from csmetrics import _internal
    from csmetrics._frames import column_names, to_polars
    from csmetrics._options import whole
    from csmetrics.revenue import _run

    horizon = whole(periods, "periods", minimum=1)
    names = column_names(scores)
    frame, kind = to_polars(scores, names)
    labelled = _run(
        _internal.churn_labels,
        subscriptions,
        period=period,
        as_of=as_of,
        before=[frame],
        result_kind=kind,
        extra={
            "periods": horizon,
            "customer_id": customer_id,
            "period": period_column,
            "churned": churned,
        },
    )
    return labelled


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
