"""The customer journey: onboarding milestones, time to value, activation and touchpoints.

Definitions follow docs/metrics/journey.md. Two tables meet: the customers (a customer's start is
its signup or first subscription: one row per customer, or several rows as in a subscriptions
table, of which the earliest start counts) and the milestones (customer, milestone, timestamp).
A journey is an ordered list of milestone names. Customers whose window has not closed by
``as_of`` are pending, never counted as not reached.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from csmetrics import _internal
from csmetrics._frames import (
    IntoFrame,
    as_list,
    column_names,
    frame_function,
    from_polars,
    to_polars,
)
from csmetrics._options import choice, confidence_level, guard_module, option_error, whole
from csmetrics._options import micros as _micros
from csmetrics.revenue import Instant, Period

if TYPE_CHECKING:
    from csmetrics._internal import _Milestones, _Starts

__all__ = [
    "Activation",
    "activation",
    "milestone_funnel",
    "time_to_milestone",
    "touchpoint_experience",
]

Order = Literal["strict", "any"]
BeforeStart = Literal["raise", "drop"]


def _journey(journey: Sequence[str]) -> list[str]:
    if isinstance(journey, str) or not all(isinstance(m, str) for m in journey):
        raise option_error("journey", journey, "expected a list of milestone names")
    return list(journey)


def _starts(
    customer_id: str, start: str, end: str | None, by: list[str], cohort: Period | None
) -> _Starts:
    return {"customer_id": customer_id, "start": start, "end": end, "by": by, "cohort": cohort}


def _milestone_columns(customer_id: str, milestone: str, timestamp: str) -> _Milestones:
    return {"customer_id": customer_id, "milestone": milestone, "timestamp": timestamp}


def _windows(window_days: int | Sequence[int]) -> list[int]:
    values = [window_days] if isinstance(window_days, (int, float)) else list(window_days)
    return [whole(w, "window_days") for w in values]


@frame_function
def milestone_funnel(
    milestones: IntoFrame,
    customers: IntoFrame,
    *,
    journey: Sequence[str],
    window_days: int | Sequence[int] = 30,
    order: Order = "strict",
    cohort: Period | None = "month",
    by: str | Sequence[str] | None = None,
    as_of: Instant | None = None,
    before_start: BeforeStart = "raise",
    customer_id: str = "customer_id",
    start: str = "signup_date",
    milestone: str = "milestone",
    timestamp: str = "timestamp",
) -> Any:
    """The onboarding funnel: per signup cohort (and ``by``), window and journey stage, the share
    of customers who reached the milestone within ``window_days`` of their start.

    A milestone counts when reached at most ``window_days`` days after the customer's start. With
    ``order="strict"`` (default) it counts only when reached at or after the previous stage, so
    the funnel never rises from stage to stage; ``order="any"`` counts each milestone whenever
    it was first reached. A customer whose window has not closed by ``as_of`` (start + window >
    as_of) is ``pending``: out of the share, never counted as not reached.

    Parameters
    ----------
    milestones
        One row per milestone reached: ``customer_id``, ``milestone``, ``timestamp``. Rows of
        milestones outside the journey are ignored; a repeated milestone counts once (its first
        time) and is counted in ``repeats``.
    customers
        The customers and their start (``signup_date``; a subscriptions table works too, with
        ``start="start"``: the earliest row counts), and the ``by`` columns.
    journey
        The milestone names in order; each must occur in the milestones table.
    window_days
        One window or several, in whole days (default 30).
    order
        ``"strict"`` (default) or ``"any"``.
    cohort
        The signup cohort's period (default ``"month"``); None for no cohort column.
    by
        Grouping column(s) of the customers table.
    as_of
        Cut-off: later milestones are not seen. Default: the latest instant of either table.
    before_start
        A milestone before its customer's start: ``"raise"`` (default) or ``"drop"`` (counted in
        ``before_start``).
    customer_id, start, milestone, timestamp
        Column names (``customer_id`` in both tables).

    Returns
    -------
    DataFrame
        The ``by`` keys, ``cohort``, ``window_days``, ``stage`` (1 for the first milestone),
        ``milestone``, ``customers``, ``pending``, ``eligible`` (customers - pending),
        ``reached``, ``share`` (reached / eligible), ``conversion`` (reached / the previous
        stage's reached; the share for the first stage), ``pending_reached`` (pending customers
        who already reached it), ``repeats``, ``before_start``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> customers = pl.DataFrame({"customer_id": [1, 2], "signup_date": [dt.date(2024, 1, 1)] * 2})
    >>> milestones = pl.DataFrame({
    ...     "customer_id": [1, 1, 2],
    ...     "milestone": ["setup", "report", "setup"],
    ...     "timestamp": [dt.date(2024, 1, 2), dt.date(2024, 1, 9), dt.date(2024, 2, 20)],
    ... })
    >>> f = csm.milestone_funnel(milestones, customers, journey=["setup", "report"])
    >>> f.select("milestone", "reached", "share").rows()
    [('setup', 1, 0.5), ('report', 1, 0.5)]
    """
    by_list = as_list(by)
    m_frame, _ = to_polars(milestones, [customer_id, milestone, timestamp])
    c_frame, kind = to_polars(customers, [customer_id, start, *by_list], keys=by_list)
    result = _internal.milestone_funnel(
        m_frame,
        c_frame,
        _starts(customer_id, start, None, by_list, cohort),
        _milestone_columns(customer_id, milestone, timestamp),
        _journey(journey),
        _windows(window_days),
        order,
        _micros(as_of, "as_of"),
        before_start,
    )
    return from_polars(result, kind)


@frame_function
def time_to_milestone(
    milestones: IntoFrame,
    customers: IntoFrame,
    *,
    journey: Sequence[str],
    order: Order = "strict",
    cohort: Period | None = None,
    by: str | Sequence[str] | None = None,
    end: str | None = None,
    as_of: Instant | None = None,
    before_start: BeforeStart = "raise",
    confidence: float = 0.95,
    customer_id: str = "customer_id",
    start: str = "signup_date",
    milestone: str = "milestone",
    timestamp: str = "timestamp",
) -> Any:
    """Time to each milestone (time to value): a Kaplan-Meier estimate of the days from the
    customer's start to the milestone, with median and quartiles and their intervals.

    Customers who have not reached a milestone are censored at ``as_of``, or at their churn
    (the ``end`` column of the customers table) when that is earlier. The estimate is the
    survival family's Kaplan-Meier (:func:`csmetrics.kaplan_meier`): ``median`` is the first
    time at which the share not yet there is at most 0.5; ``p25`` and ``p75`` at most 0.75 and
    0.25; each with ``_lower`` and ``_upper`` from the log(-log) interval of the curve (null where
    it never gets there).

    Parameters
    ----------
    milestones, customers, journey, order, by, as_of, before_start
        As in :func:`milestone_funnel`.
    cohort
        The signup cohort's period to group by, or None (default).
    end
        Column of the customers table with the churn instant (null while active), or None
        (default: censored at ``as_of`` only).
    confidence
        Confidence level of the intervals (default 0.95).
    customer_id, start, milestone, timestamp
        Column names.

    Returns
    -------
    DataFrame
        ``stage``, ``milestone``, the keys, ``customers``, ``reached``, ``censored``,
        ``median``, ``median_lower``, ``median_upper``, ``p25`` (and bounds), ``p75`` (and
        bounds), in days.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> customers = pl.DataFrame({"customer_id": [1, 2, 3], "signup_date": [dt.date(2024, 1, 1)] * 3})
    >>> milestones = pl.DataFrame({
    ...     "customer_id": [1, 2],
    ...     "milestone": ["setup", "setup"],
    ...     "timestamp": [dt.date(2024, 1, 3), dt.date(2024, 1, 11)],
    ... })
    >>> t = csm.time_to_milestone(milestones, customers, journey=["setup"], as_of=dt.date(2024, 2, 1))
    >>> t.select("reached", "censored", "median").rows()
    [(2, 1, 10.0)]
    """
    by_list = as_list(by)
    wanted = [customer_id, start, *by_list, *([end] if end else [])]
    m_frame, _ = to_polars(milestones, [customer_id, milestone, timestamp])
    c_frame, kind = to_polars(customers, wanted, keys=by_list)
    result = _internal.time_to_milestone(
        m_frame,
        c_frame,
        _starts(customer_id, start, end, by_list, cohort),
        _milestone_columns(customer_id, milestone, timestamp),
        _journey(journey),
        order,
        _micros(as_of, "as_of"),
        before_start,
        confidence_level(confidence),
    )
    return from_polars(result, kind)


@dataclass(frozen=True)
class Activation:
    """The outcome of :func:`activation`.

    Attributes
    ----------
    rates
        Per cohort (and ``by``): ``customers``, ``pending``, ``eligible``, ``activated``,
        ``activation_rate``, ``pending_activated``.
    customers
        Per customer: its id, ``start``, ``activated`` (null while pending), ``activated_at``.
    retention
        With subscriptions: the Kaplan-Meier summary of the customers' lives by ``activated``
        (``n``, ``events``, ``median``, ``rmst``, ..., and ``pending``, the lives left out), else
        None.
    logrank
        With subscriptions: the log-rank test of activated against other customers, else None.
    curves
        With subscriptions: the Kaplan-Meier curves by ``activated`` (as
        :func:`csmetrics.kaplan_meier` gives them, for :func:`csmetrics.plot.survival_curve`),
        else None.
    """

    rates: Any
    customers: Any
    retention: Any = None
    logrank: Any = None
    curves: Any = None


def activation(
    customers: IntoFrame,
    *,
    usage: IntoFrame | None = None,
    milestones: IntoFrame | None = None,
    min_active_days: int | None = None,
    features: Sequence[str] | None = None,
    milestone: str | None = None,
    window_days: int = 14,
    subscriptions: IntoFrame | None = None,
    cohort: Period | None = "month",
    by: str | Sequence[str] | None = None,
    as_of: Instant | None = None,
    confidence: float = 0.95,
    survival_options: Mapping[str, Any] | None = None,
    customer_id: str = "customer_id",
    start: str = "signup_date",
    timestamp: str | None = None,
    feature: str = "feature",
    events: str | None = None,
    milestone_column: str = "milestone",
) -> Activation:
    """Activation: a rule on the customer's first ``window_days`` days, the activation rate per
    cohort and, with subscriptions, the retention of activated against other customers.

    Exactly one rule: ``min_active_days`` (at least that many distinct days with usage),
    ``features`` (every listed feature used) — both read the ``usage`` table — or ``milestone``
    (that milestone reached; read from ``milestones``). A row counts when at most
    ``window_days`` days after the start (and not after ``as_of``). A customer whose window has
    not closed by ``as_of`` and who has not yet activated is pending, out of the rate.

    With ``subscriptions``, each customer's first life from :func:`csmetrics.survival_table`
    (in months, cut at ``as_of``; ``survival_options`` passes more of its options) is compared by
    activation: the Kaplan-Meier summary per group and the log-rank test.

    Parameters
    ----------
    customers
        The customers and their start, as in :func:`milestone_funnel`.
    usage
        Usage rows (``customer_id``, ``timestamp`` default ``"date"``, ``feature``; with
        ``events``, only rows whose value is > 0 count).
    milestones
        Milestone rows (``customer_id``, ``milestone_column``, ``timestamp`` default
        ``"timestamp"``).
    min_active_days, features, milestone
        The rule: give exactly one.
    window_days
        Days after the start (default 14).
    subscriptions
        The subscriptions, for the retention comparison (optional).
    cohort, by, as_of, confidence
        As in :func:`milestone_funnel`; ``confidence`` for the Kaplan-Meier intervals.
    survival_options
        More options of :func:`csmetrics.survival_table` (its ``time_unit`` defaults to
        ``"month"`` here).
    customer_id, start, timestamp, feature, events, milestone_column
        Column names.

    Returns
    -------
    Activation
        ``rates``, ``customers``, ``retention``, ``logrank``, ``curves``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> customers = pl.DataFrame({"customer_id": [1, 2], "signup_date": [dt.date(2024, 1, 1)] * 2})
    >>> usage = pl.DataFrame({
    ...     "customer_id": [1, 1, 2],
    ...     "date": [dt.date(2024, 1, 2), dt.date(2024, 1, 5), dt.date(2024, 1, 3)],
    ... })
    >>> a = csm.activation(customers, usage=usage, min_active_days=2, as_of=dt.date(2024, 3, 1))
    >>> a.rates.select("activated", "activation_rate").rows()
    [(1, 0.5)]
    """
    rules = [r for r in (min_active_days, features, milestone) if r is not None]
    if len(rules) != 1:
        raise option_error(
            "rule",
            {"min_active_days": min_active_days, "features": features, "milestone": milestone},
            "give exactly one of min_active_days, features and milestone",
        )
    by_list = as_list(by)
    c_frame, kind = to_polars(customers, [customer_id, start, *by_list], keys=by_list)
    # Every key of the rule crosses, None where it does not apply.
    rule: dict[str, Any] = dict.fromkeys(
        (
            "kind",
            "timestamp",
            "min_active_days",
            "features",
            "feature",
            "events",
            "milestone",
            "milestone_column",
        ),
    )
    rule["customer_id"] = customer_id
    if milestone is not None:
        if milestones is None:
            raise option_error("milestones", None, "a milestone rule needs the milestones table")
        if not isinstance(milestone, str):
            raise option_error("milestone", milestone, "expected a milestone name")
        ts = timestamp or "timestamp"
        events_frame, _ = to_polars(milestones, [customer_id, milestone_column, ts])
        rule.update(
            kind="milestone", timestamp=ts, milestone=milestone, milestone_column=milestone_column
        )
    else:
        if usage is None:
            raise option_error("usage", None, "a usage rule needs the usage table")
        ts = timestamp or "date"
        present = column_names(usage)
        amount = events if events is not None and events in present else None
        if events is not None and amount is None:
            to_polars(usage, [events])  # the error names the missing column
        rule.update(timestamp=ts, events=amount)
        if features is not None:
            if isinstance(features, str) or not all(isinstance(f, str) for f in features):
                raise option_error("features", features, "expected a list of feature names")
            cols = [customer_id, ts, feature, *([amount] if amount else [])]
            rule.update(kind="features", features=list(features), feature=feature)
        else:
            cols = [customer_id, ts, *([amount] if amount else [])]
            rule.update(
                kind="active_days",
                min_active_days=whole(min_active_days, "min_active_days", minimum=1),
            )
        events_frame, _ = to_polars(usage, cols)
    starts = _starts(customer_id, start, None, by_list, cohort)
    window = whole(window_days, "window_days")
    cutoff = _micros(as_of, "as_of")
    rates = _internal.activation(events_frame, c_frame, starts, rule, window, cutoff)
    flags = _internal.activated_customers(events_frame, c_frame, starts, rule, window, cutoff)
    retention = logrank = curves = None
    if subscriptions is not None:
        import csmetrics as csm

        options = {"time_unit": "month", **dict(survival_options or {})}
        lives = csm.survival_table(
            to_polars(subscriptions, column_names(subscriptions))[0],
            customer_id=customer_id,
            as_of=as_of,
            **options,
        )
        retention, logrank, curves = _internal.activation_retention(
            lives, flags, customer_id, confidence_level(confidence)
        )
        retention = from_polars(retention, kind)
        logrank = from_polars(logrank, kind)
        curves = from_polars(curves, kind)
    return Activation(
        rates=from_polars(rates, kind),
        customers=from_polars(flags, kind),
        retention=retention,
        logrank=logrank,
        curves=curves,
    )


@frame_function
def touchpoint_experience(
    responses: IntoFrame,
    *,
    journey: Sequence[str] | None = None,
    touchpoint: str = "touchpoint",
    nps: str | None = "nps",
    csat: str | None = None,
    ces: str | None = None,
    period: Period | None = None,
    timestamp: str = "timestamp",
    invalid: Literal["raise", "drop"] = "raise",
    ci: Literal["adjusted_wald", "wald"] | None = "adjusted_wald",
    confidence: float = 0.95,
    csat_scale: tuple[int, int] = (1, 5),
    ces_scale: tuple[int, int] | None = None,
    ces_direction: Literal["higher_is_easier", "lower_is_easier"] = "higher_is_easier",
) -> Any:
    """NPS, CSAT and CES per touchpoint (and period), lined up in journey order.

    The same scores as :func:`csmetrics.nps`, :func:`csmetrics.csat` and :func:`csmetrics.ces`
    with ``by=touchpoint``, one row per journey stage in order (a stage without answers is kept
    with n = 0 and null scores), then the touchpoints outside the journey (with a null
    ``stage``). Give a journey's milestone names as ``journey`` to read the experience of each
    onboarding step next to its :func:`milestone_funnel`.

    Parameters
    ----------
    responses
        Survey answers with a ``touchpoint`` column (a journey stage or any label).
    journey
        The stages in order; None: every touchpoint, sorted.
    touchpoint
        The touchpoint column.
    nps, csat, ces
        Score columns (``nps`` default ``"nps"``; None leaves a score out; at least one).
    period, timestamp
        Calendar period of ``timestamp`` (default None: no periods).
    invalid, ci, confidence, csat_scale, ces_scale, ces_direction
        As in the survey functions.

    Returns
    -------
    DataFrame
        ``stage``, ``touchpoint``, ``period`` (with a period), ``nps_n``, ``nps``,
        ``nps_lower``, ``nps_upper``; ``csat_n``, ``csat``, ``csat_mean``; ``ces_n``,
        ``ces_low_effort_share``, ``ces_mean`` (for the scores asked for).

    Examples
    --------
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> answers = pl.DataFrame({"touchpoint": ["setup", "setup", "support"], "nps": [10, 3, 9]})
    >>> t = csm.touchpoint_experience(answers, journey=["setup", "report"], ci=None)
    >>> t.select("stage", "touchpoint", "nps_n", "nps").rows()
    [(1, 'setup', 2, 0.0), (2, 'report', 0, None), (None, 'support', 1, 100.0)]
    """
    scores = [c for c in (nps, csat, ces) if c is not None]
    wanted = [touchpoint, *scores, *([timestamp] if period is not None else [])]
    frame, kind = to_polars(responses, wanted)
    result = _internal.touchpoint_experience(
        frame,
        touchpoint,
        [] if journey is None else _journey(journey),
        nps,
        csat,
        ces,
        period,
        timestamp,
        choice(invalid, "invalid", ("raise", "drop")),
        ci,
        confidence_level(confidence),
        (int(csat_scale[0]), int(csat_scale[1])),
        None if ces_scale is None else (int(ces_scale[0]), int(ces_scale[1])),
        ces_direction,
    )
    return from_polars(result, kind)


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
