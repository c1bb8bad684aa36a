"""Survey metrics: NPS (with confidence intervals and two-sample tests), CSAT and CES.

Definitions follow docs/metrics/survey.md. Each function takes a Polars DataFrame, a Polars
LazyFrame (only the needed columns are collected) or a pandas DataFrame, and returns a tidy frame
of the same family (a LazyFrame gives an eager Polars DataFrame), one row per group, sorted by the
group keys. Without ``by`` and ``period`` the result has exactly one row, even for empty input.

Scores that are null count as ``missing``. Scores outside the scale, not whole numbers, or NaN
follow ``invalid``: ``"raise"`` (default) raises :class:`~csmetrics.InvalidInputError` naming the
column, the rule, the value and its row; ``"drop"`` leaves them out of ``n`` and counts them in
``invalid``; ``"null"`` treats them as unanswered and counts them in ``missing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from csmetrics import _internal
from csmetrics._frames import IntoFrame, as_list, frame_function, from_polars, to_polars
from csmetrics._options import confidence_level, guard_module, scale_pair

__all__ = ["ces", "csat", "nps", "nps_compare"]

Period = Literal["day", "week", "month", "quarter", "year"]
InvalidPolicy = Literal["raise", "drop", "null"]


def _columns(score: str, by: list[str], period: Period | None, timestamp: str) -> list[str]:
    return [*by, *([timestamp] if period is not None else []), score]


@frame_function
def nps(
    data: IntoFrame,
    *,
    score: str = "score",
    by: str | Sequence[str] | None = None,
    period: Period | None = None,
    timestamp: str = "timestamp",
    invalid: InvalidPolicy = "raise",
    ci: Literal["adjusted_wald", "wald"] | None = "adjusted_wald",
    confidence: float = 0.95,
) -> Any:
    """Net Promoter Score per group.

    Promoters answer 9-10, passives 7-8, detractors 0-6, and
    ``nps = 100 * (promoters - detractors) / n`` lies in [-100, 100].

    Parameters
    ----------
    data
        Survey answers: a Polars DataFrame or LazyFrame, or a pandas DataFrame.
    score
        Column of 0-10 answers (integers, or floats holding whole numbers).
    by
        Column(s) to group by, e.g. ``"segment"``.
    period
        Calendar period of ``timestamp`` to group by, added as the Date column ``period``
        (its first day, UTC; weeks start on Monday).
    timestamp
        Date or Datetime column used with ``period``.
    invalid
        Policy for scores off the scale: ``"raise"``, ``"drop"`` or ``"null"``.
    ci
        Interval method: ``"adjusted_wald"`` (Rocks 2016: 3 extra answers, 3/4 promoter and 3/4
        detractor), ``"wald"``, or ``None`` for no interval columns. Intervals are clipped to
        [-100, 100] and contain their own centre (the adjusted one for adjusted Wald).
    confidence
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        The group keys, then ``n``, ``promoters``, ``passives``, ``detractors``,
        ``promoter_share``, ``passive_share``, ``detractor_share``, ``nps``, ``nps_lower``,
        ``nps_upper``, ``missing``, ``invalid``. With ``n = 0`` the NPS, shares and interval are
        null.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> answers = pl.DataFrame({"score": [10] * 60 + [7] * 30 + [3] * 10})
    >>> result = csm.nps(answers)
    >>> result["nps"][0]
    50.0
    >>> round(result["nps_lower"][0], 2), round(result["nps_upper"][0], 2)
    (35.47, 61.62)
    """
    by_list = as_list(by)
    frame, kind = to_polars(
        data,
        _columns(score, by_list, period, timestamp),
        keys=by_list,
        sort_by=[*by_list, "period"],
    )
    result = _internal.nps(
        frame, score, by_list, period, timestamp, invalid, ci, confidence_level(confidence)
    )
    return from_polars(result, kind)


@frame_function
def csat(
    data: IntoFrame,
    *,
    score: str = "score",
    by: str | Sequence[str] | None = None,
    period: Period | None = None,
    timestamp: str = "timestamp",
    invalid: InvalidPolicy = "raise",
    scale: tuple[int, int] = (1, 5),
) -> Any:
    """Customer satisfaction (CSAT) per group.

    ``csat`` is the share of satisfied answers, the top two boxes of ``scale`` (4 and 5 on the
    default 1-5 scale), a fraction in [0, 1]; ``mean_score`` is the mean answer.

    Parameters
    ----------
    data
        Survey answers: a Polars DataFrame or LazyFrame, or a pandas DataFrame.
    score
        Column of answers.
    by, period, timestamp, invalid
        As in :func:`nps`.
    scale
        ``(lowest, highest)`` valid answer, both included.

    Returns
    -------
    DataFrame
        The group keys, then ``n``, ``satisfied``, ``csat``, ``mean_score``, ``missing``,
        ``invalid``.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> csm.csat(pl.DataFrame({"score": [5, 4, 4, 3, 1]}))["csat"][0]
    0.6
    >>> csm.csat(pl.DataFrame({"score": [10, 9, 2, 7]}), scale=(1, 10))["csat"][0]
    0.5
    """
    by_list = as_list(by)
    frame, kind = to_polars(
        data,
        _columns(score, by_list, period, timestamp),
        keys=by_list,
        sort_by=[*by_list, "period"],
    )
    result = _internal.csat(frame, score, by_list, period, timestamp, invalid, scale_pair(scale))
    return from_polars(result, kind)


@frame_function
def ces(
    data: IntoFrame,
    *,
    score: str = "score",
    by: str | Sequence[str] | None = None,
    period: Period | None = None,
    timestamp: str = "timestamp",
    invalid: InvalidPolicy = "raise",
    scale: tuple[int, int] | None = None,
    direction: Literal["higher_is_easier", "lower_is_easier"] = "higher_is_easier",
) -> Any:
    """Customer effort score (CES) per group.

    With ``direction="higher_is_easier"`` (CES 2.0, default scale 1-7) the low-effort answers are
    the top three boxes; with ``"lower_is_easier"`` (the older effort scale, default 1-5) they are
    the bottom two boxes. ``low_effort_share`` is a fraction in [0, 1]; ``mean_score`` is the mean
    answer on the scale as given (not reversed).

    Parameters
    ----------
    data
        Survey answers: a Polars DataFrame or LazyFrame, or a pandas DataFrame.
    score
        Column of answers.
    by, period, timestamp, invalid
        As in :func:`nps`.
    scale
        ``(lowest, highest)`` valid answer; ``None`` means (1, 7) when higher is easier and
        (1, 5) when lower is easier.
    direction
        Which end of the scale means little effort.

    Returns
    -------
    DataFrame
        The group keys, then ``n``, ``low_effort``, ``low_effort_share``, ``mean_score``,
        ``missing``, ``invalid``.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> csm.ces(pl.DataFrame({"score": [7, 6, 5, 4, 1]}))["low_effort_share"][0]
    0.6
    >>> csm.ces(pl.DataFrame({"score": [1, 2, 3, 5]}), direction="lower_is_easier")["low_effort_share"][0]
    0.5
    """
    by_list = as_list(by)
    frame, kind = to_polars(
        data,
        _columns(score, by_list, period, timestamp),
        keys=by_list,
        sort_by=[*by_list, "period"],
    )
    result = _internal.ces(
        frame,
        score,
        by_list,
        period,
        timestamp,
        invalid,
        None if scale is None else scale_pair(scale),
        direction,
    )
    return from_polars(result, kind)


@frame_function
def nps_compare(
    data: IntoFrame,
    *,
    between: str | None = None,
    score: str = "score",
    by: str | Sequence[str] | None = None,
    period: Period | None = None,
    timestamp: str = "timestamp",
    invalid: InvalidPolicy = "raise",
    pairs: Literal["all", "consecutive"] = "all",
    confidence: float = 0.95,
) -> Any:
    """Two-sample NPS tests between segments or periods.

    For each pair ``(a, b)`` of values of ``between`` (a before b in sort order), the difference
    ``nps_b - nps_a``, its unpooled standard error ``sqrt(se_a**2 + se_b**2)`` with each ``se``
    from the Wald formula, ``z = difference / se``, the two-sided p-value and a Wald interval of
    the difference at ``confidence``.

    Parameters
    ----------
    data
        Survey answers: a Polars DataFrame or LazyFrame, or a pandas DataFrame.
    between
        Column whose values are compared. ``None`` with ``period`` given compares periods.
    score
        Column of 0-10 answers.
    by
        Outer grouping: comparisons are made within each group.
    period, timestamp
        Calendar periods of ``timestamp``: compared with each other when ``between`` is None,
        otherwise an outer grouping.
    invalid
        As in :func:`nps`.
    pairs
        ``"all"`` pairs, or ``"consecutive"`` values only (period over period).
    confidence
        Confidence level of the difference's interval.

    Returns
    -------
    DataFrame
        The outer keys, ``{between}_a``, ``{between}_b``, ``n_a``, ``nps_a``, ``n_b``, ``nps_b``,
        ``difference``, ``se``, ``z``, ``p_value``, ``difference_lower``, ``difference_upper``.
        ``z`` and ``p_value`` are null when a side has no answers or ``se`` is 0.

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> a = [10] * 60 + [8] * 30 + [2] * 10
    >>> b = [9] * 50 + [7] * 30 + [0] * 20
    >>> answers = pl.DataFrame({"group": ["A"] * 100 + ["B"] * 100, "score": a + b})
    >>> test = csm.nps_compare(answers, between="group")
    >>> test["difference"][0], round(test["z"][0], 3), round(test["p_value"][0], 4)
    (-20.0, -1.943, 0.0521)
    """
    by_list = as_list(by)
    cols = _columns(score, by_list, period, timestamp)
    if between is not None:
        cols.insert(0, between)
    frame, kind = to_polars(data, cols)
    result = _internal.nps_compare(
        frame,
        score,
        between,
        by_list,
        period,
        timestamp,
        invalid,
        pairs,
        confidence_level(confidence),
    )
    return from_polars(result, kind)


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
