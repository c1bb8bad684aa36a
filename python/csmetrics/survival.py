"""Survival curves of customer lives: Kaplan-Meier, Nelson-Aalen and the log-rank test.

Definitions follow docs/metrics/survival.md and agree with lifelines 0.30.3 to 1e-9 (the reference
tests check it). The input has one row per customer life: ``duration`` (a number >= 0, e.g. days
from signup to churn or to the cut-off), ``event`` (Boolean or 0/1: true when the life ended in
churn, false when it was still running at the cut-off, i.e. censored), and optionally ``entry``
(left truncation: the life is observed only from this time on, ``0 <= entry <= duration``) and
``weights`` (any non-negative reals).

Conventions, shared by every function here:

- each group's table has one row per distinct duration and entry time; without ``entry``
  everyone enters at 0 and the table starts with a row at time 0;
- ``at_risk`` at time t counts the lives that entered before t (or at the table's first time)
  and end at t or later: a late entrant is not at risk at its own entry time (lifelines' rule);
- counts are Int64, or Float64 weighted sums when ``weights`` is given;
- an empty input gives an empty table (the summary and the test give one row with ``n = 0``
  and nulls when there is no ``by``).

A null, NaN or negative duration, an event flag other than true/false/1/0, an entry after its
duration or a negative weight raises :class:`~csmetrics.InvalidInputError` naming the column,
the rule, the value and its row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from csmetrics import _internal
from csmetrics._frames import IntoFrame, as_list, frame_function, from_polars, to_polars
from csmetrics._options import guard_module, renamed

__all__ = ["kaplan_meier", "kaplan_meier_summary", "logrank_test", "nelson_aalen"]

Ties = Literal["sequential", "textbook"]


def _columns(
    duration: str, event: str, entry: str | None, weights: str | None, by: list[str]
) -> list[str]:
    optional = [c for c in (entry, weights) if c is not None]
    return [*by, duration, event, *optional]


@frame_function
def kaplan_meier(
    data: IntoFrame,
    *,
    duration: str = "duration",
    event: str = "event",
    entry: str | None = None,
    weights: str | None = None,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
) -> Any:
    """Kaplan-Meier survival curve per group, with Greenwood variance and log(-log) intervals.

    ``S(t)`` is the product of ``1 - events / at_risk`` over the times up to t. The variance is
    Greenwood's ``S(t)^2 * sum events / (at_risk * (at_risk - events))`` (a term with
    ``events == at_risk`` counts 0); the interval is ``exp(-exp(log(-log S) -/+ z * sqrt(sum) /
    log S))``, which is [1, 1] where S = 1 and [0, 0] where S = 0, as in lifelines.

    Parameters
    ----------
    data
        One row per life: a Polars DataFrame or LazyFrame, or a pandas DataFrame.
    duration
        Column of durations (numbers >= 0).
    event
        Column of event flags: true/1 when the life ended in the event, false/0 when censored.
    entry
        Column of entry times for left truncation (``0 <= entry <= duration``).
    weights
        Column of non-negative weights; integer weights equal repeated rows.
    by
        Column(s) to group by: one curve per group.
    confidence
        Confidence level of the intervals.

    Returns
    -------
    DataFrame
        One row per group and distinct time, sorted by the keys and ``time``: the keys, then
        ``time``, ``at_risk``, ``events``, ``censored``, ``entered``, ``survival``, ``variance``,
        ``lower``, ``upper``.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> lives = pl.DataFrame({"duration": [1, 2, 2, 3, 4, 4, 5], "event": [1, 1, 0, 1, 0, 1, 1]})
    >>> curve = csm.kaplan_meier(lives)
    >>> curve["time"].to_list()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    >>> curve["at_risk"].to_list()
    [7, 7, 6, 4, 3, 1]
    >>> [round(s, 4) for s in curve["survival"]]  # 1, 6/7, 5/7, 15/28, 5/14, 0
    [1.0, 0.8571, 0.7143, 0.5357, 0.3571, 0.0]
    >>> round(curve["lower"][1], 4), round(curve["upper"][1], 4)
    (0.3341, 0.9786)
    """
    by_list = as_list(by)
    frame, kind = to_polars(data, _columns(duration, event, entry, weights, by_list), keys=by_list)
    result = _internal.kaplan_meier(frame, duration, event, entry, weights, by_list, confidence)
    return from_polars(result, kind)


@frame_function
def kaplan_meier_summary(
    data: IntoFrame,
    *,
    duration: str = "duration",
    event: str = "event",
    entry: str | None = None,
    weights: str | None = None,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    tau: float | None = None,
) -> Any:
    """Median survival time and restricted mean survival time per group.

    The median is the first time with ``S(t) <= 0.5`` (null if the curve never gets there,
    lifelines' rule); ``median_lower`` and ``median_upper`` apply the same rule to the bounds of
    the curve's interval. ``rmst`` integrates the curve from 0 to ``tau`` (S = 1 before the
    first time).

    Parameters
    ----------
    data, duration, event, entry, weights, by, confidence
        As in :func:`kaplan_meier`.
    tau
        Horizon of the restricted mean survival time; default each group's last duration.

    Returns
    -------
    DataFrame
        One row per group, sorted by the keys: the keys, then ``n``, ``events``, ``median``,
        ``median_lower``, ``median_upper``, ``tau``, ``rmst``.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> lives = pl.DataFrame({"duration": [1, 2, 2, 3, 4, 4, 5], "event": [1, 1, 0, 1, 0, 1, 1]})
    >>> summary = csm.kaplan_meier_summary(lives)
    >>> summary["median"][0], summary["tau"][0]
    (4.0, 5.0)
    >>> round(summary["rmst"][0], 6)  # 1 + 6/7 + 5/7 + 15/28 + 5/14 = 97/28
    3.464286
    >>> round(csm.kaplan_meier_summary(lives, tau=2.0)["rmst"][0], 6)  # 1 + 6/7
    1.857143
    """
    by_list = as_list(by)
    frame, kind = to_polars(data, _columns(duration, event, entry, weights, by_list), keys=by_list)
    result = _internal.kaplan_meier_summary(
        frame, duration, event, entry, weights, by_list, confidence, tau
    )
    return from_polars(result, kind)


@frame_function
def nelson_aalen(
    data: IntoFrame,
    *,
    duration: str = "duration",
    event: str = "event",
    entry: str | None = None,
    weights: str | None = None,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    ties: Ties = "sequential",
) -> Any:
    """Nelson-Aalen cumulative hazard per group, with its variance and interval.

    Parameters
    ----------
    data, duration, event, entry, weights, by, confidence
        As in :func:`kaplan_meier`.
    ties
        ``"sequential"`` (default, lifelines' default): d tied events among n at risk add
        ``1/n + 1/(n-1) + ... + 1/(n-d+1)`` to the hazard and the sum of the squared terms to the
        variance, as if they happened one after another (a fractional weighted count adds its
        fraction of the next term). ``"textbook"``: ``d/n`` and ``(n-d) d / n^3``.

    Returns
    -------
    DataFrame
        The rows of :func:`kaplan_meier` with ``cumulative_hazard``, ``variance``, ``lower``
        and ``upper`` (``H * exp(-/+ z * sqrt(variance) / H)``, as lifelines; 0 while H = 0)
        instead of the survival columns.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> lives = pl.DataFrame({"duration": [2, 2, 2, 5], "event": [True, True, True, False]})
    >>> round(csm.nelson_aalen(lives)["cumulative_hazard"][1], 6)  # 1/4 + 1/3 + 1/2
    1.083333
    >>> csm.nelson_aalen(lives, ties="textbook")["cumulative_hazard"][1]  # 3/4
    0.75
    """
    by_list = as_list(by)
    frame, kind = to_polars(data, _columns(duration, event, entry, weights, by_list), keys=by_list)
    result = _internal.nelson_aalen(
        frame, duration, event, entry, weights, by_list, confidence, ties
    )
    return from_polars(result, kind)


@frame_function
@renamed(group="between")
def logrank_test(
    data: IntoFrame,
    *,
    between: str = "group",
    duration: str = "duration",
    event: str = "event",
    weights: str | None = None,
    by: str | Sequence[str] | None = None,
    entry: None = None,
) -> Any:
    """Log-rank test of equal survival between the groups of ``between`` (two or more).

    At each event time every group expects its share of the events in proportion to its number
    at risk; the observed-minus-expected vector and its hypergeometric covariance give a
    statistic that is chi-square with ``groups - 1`` degrees of freedom under the null.

    Parameters
    ----------
    data, duration, event, weights
        As in :func:`kaplan_meier`.
    between
        Column whose values are compared, as in :func:`csmetrics.nps_compare` (formerly
        ``group``, deprecated).
    by
        Column(s): one test per group of them.
    entry
        Not supported: the test does not handle left truncation, so giving an entry column raises
        :class:`~csmetrics.InvalidInputError` instead of being ignored.

    Returns
    -------
    DataFrame
        One row per ``by`` group: the keys, then ``groups``, ``n``, ``events``, ``statistic``,
        ``df``, ``p_value``. With fewer than two groups the statistic and p-value are null.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> lives = pl.DataFrame(
    ...     {"duration": [1, 3, 2, 4], "event": [1, 1, 1, 0], "group": ["a", "a", "b", "b"]}
    ... )
    >>> test = csm.logrank_test(lives)
    >>> round(test["statistic"][0], 6), test["df"][0]  # 8/13
    (0.615385, 1)
    >>> round(test["p_value"][0], 4)
    0.4328
    """
    by_list = as_list(by)
    frame, kind = to_polars(
        data,
        _columns(duration, event, None, weights, [*by_list, between]),
        keys=[*by_list, between],
    )
    result = _internal.logrank_test(frame, duration, event, between, entry, weights, by_list)
    return from_polars(result, kind)


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
