"""Churn, retention, cohorts, customer lives and renewals.

Definitions follow docs/metrics/churn-and-retention.md. Churn, cohorts and lives work on the same
customer-state panel as the revenue functions, from a subscriptions table, an already-monthly
table (``table="monthly"``) or plain activity events (``table="activity"``: ``customer_id``,
``timestamp``; a customer is active in every period with an event). S is the set of customers
active at the end of the previous period, E at the end of the period; active means paying
(MRR > 0), or holding any subscription with ``free_is_active=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import polars as pl

from csmetrics import _internal
from csmetrics._frames import (
    IntoFrame,
    as_list,
    column_names,
    frame_function,
    from_polars,
    to_polars,
)
from csmetrics._options import fill_docs, guard_module, renamed
from csmetrics.revenue import _BILLING_DOC, Instant, Period, _run

__all__ = ["churn_rates", "cohort_retention", "cohort_triangle", "renewal_rates", "survival_table"]

Table = Literal["subscriptions", "invoices", "monthly", "activity"]


def _panel(
    entry: Callable[..., Any],
    data: IntoFrame,
    *,
    customer_id: str,
    start: str,
    end: str | None,
    amount: str,
    interval: str | None,
    interval_count: str | None,
    table: Table,
    timestamp: str,
    period: Period,
    as_of: Instant | None,
    observed_from: Instant | None,
    free_is_active: bool,
    mode: Literal["snapshot", "events"],
    by: str | Sequence[str] | None,
    extra: dict[str, Any],
    also: Sequence[str] = (),
    ids_in_result: bool = True,
    billing: dict[str, Any] | None = None,
    fx: Mapping[str, float] | pl.DataFrame | None = None,
) -> Any:
    return _run(
        entry,
        data,
        customer_id=customer_id,
        start=start,
        end=end,
        amount=amount,
        interval=interval,
        interval_count=interval_count,
        currency="currency",
        table=table,
        period_column="period",
        mrr_column="mrr",
        period=period,
        as_of=as_of,
        observed_from=observed_from,
        precision=6,
        free_is_active=free_is_active,
        mode=mode,
        by=by,
        fx=fx,
        window=None,
        money="float",
        timestamp=timestamp,
        extra=extra,
        also=also,
        ids_in_result=ids_in_result,
        **(billing or {}),
    )


_PANEL_DOC = """
    Parameters
    ----------
    data
        Subscriptions, an already-monthly table or activity events (see ``table``): a Polars
        DataFrame or LazyFrame, or a pandas DataFrame.
    customer_id, start, end, amount, interval, interval_count
        Subscription columns, as in :func:`csmetrics.mrr_bridge`.
    table
        ``"subscriptions"``, ``"monthly"`` (``customer_id``, ``period``, ``mrr``) or
        ``"activity"`` (``customer_id`` and ``timestamp``).
    timestamp
        Event time column of an activity table.
    period
        Reporting period (UTC calendar periods labelled by their first day).
    as_of
        Cut-off instant; default the latest start (or event). Nothing after it is read.
    observed_from
        Start of observation: the period holding it is the first reported; default the first
        period with activity. Formerly ``first_period`` (deprecated).
    free_is_active
        Count customers whose only subscriptions are $0 as active.
    by
        Customer-level grouping column(s).
    fx
        Rates into one currency for amounts in several (``currency`` column): a mapping
        ``{"EUR": 1.08, ...}`` or a frame with ``currency`` and ``rate`` columns, as in
        :func:`csmetrics.mrr_bridge`. Default none: mixed currencies are an error.
{billing}"""


@frame_function
@renamed(first_period="observed_from")
def churn_rates(
    data: IntoFrame,
    *,
    customer_id: str = "customer_id",
    start: str = "start",
    end: str | None = "end",
    amount: str = "amount",
    interval: str | None = "interval",
    interval_count: str | None = "interval_count",
    table: Table = "subscriptions",
    timestamp: str = "timestamp",
    period: Period = "month",
    as_of: Instant | None = None,
    observed_from: Instant | None = None,
    free_is_active: bool = False,
    mode: Literal["snapshot", "events"] = "snapshot",
    by: str | Sequence[str] | None = None,
    fx: Mapping[str, float] | pl.DataFrame | None = None,
    quantity: str | None = "quantity",
    subscription_id: str | None = "subscription_id",
    status: str | None = "status",
    canceled_at: str | None = "canceled_at",
    churn_reason: str | None = "churn_reason",
    percent_off: str | None = "percent_off",
    amount_off: str | None = "amount_off",
    discount_duration: str | None = "discount_duration",
    duration_in_months: str | None = "duration_in_months",
    discount_start: str | None = "discount_start",
    discount_end: str | None = "discount_end",
    discounts: IntoFrame | None = None,
    stacking: Literal["sequential", "sum"] = "sequential",
    mrr_basis: Literal["net", "contract", "forever_only"] = "net",
    with_contract: bool = False,
    trials: Literal["exclude", "include"] = "exclude",
    past_due: Literal["active", "churn_after"] = "active",
    delinquency_days: int = 30,
    paused: Literal["zero", "active", "churn"] = "zero",
    churn_at: Literal["end", "cancel"] = "end",
    churn_reasons: Mapping[str, Literal["voluntary", "involuntary", "unknown"]] | None = None,
    period_start: str = "period_start",
    period_end: str = "period_end",
    line_kind: str | None = "kind",
    prorations: Literal["spread", "exclude"] = "spread",
    gap_tolerance_days: float = 0.0,
    denominator: Literal["start", "start_plus_new", "average"] = "start",
    ci: Literal["wilson"] | None = None,
    confidence: float = 0.95,
) -> Any:
    """Logo churn, customer retention and customer growth per period.

    ``churn_rate`` is ``|S \\ E| / |S|`` with ``denominator="start"`` (ChartMogul, default, in
    [0, 1]); with ``"start_plus_new"`` (Stripe) every customer lost in the period, including those
    who joined and left within it (visible only with ``mode="events"``), over ``|S|`` plus every
    customer who joined during it (new and reactivated); with ``"average"``,
    ``|S \\ E| / ((|S| + |E|) / 2)`` (unbounded, no interval). ``retention_rate`` (CRR) is
    ``(|E| - |E \\ S|) / |S|`` = 1 - churn on the start denominator; ``growth_rate`` is
    ``(|E| - |S|) / |S|``. The churned count equals the bridge's ``churned_customers`` (snapshot,
    paying customers).
    {panel}
    mode
        ``"snapshot"`` or ``"events"`` (only ``joined_and_left`` and the Stripe rate differ).
    denominator
        ``"start"``, ``"start_plus_new"`` or ``"average"``.
    ci
        ``"wilson"`` adds ``churn_lower`` and ``churn_upper`` (Wilson score interval).
    confidence
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        Keys, ``period``, ``complete``, ``customers_start``, ``customers_end``, ``churned``,
        ``new``, ``reactivated``, ``joined_and_left``, ``churn_denominator``, ``churn_rate``,
        (``churn_lower``, ``churn_upper``), ``retention_rate``, ``growth_rate``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> subs = pl.DataFrame({{
    ...     "customer_id": [f"c{{i}}" for i in range(650)],
    ...     "start": [dt.date(2024, 1, 1)] * 650,
    ...     "end": [dt.date(2024, 2, 10)] * 15 + [None] * 635,
    ...     "amount": [10.0] * 650,
    ...     "interval": ["month"] * 650,
    ... }})
    >>> feb = csm.churn_rates(subs, as_of="2024-03-01", ci="wilson").row(1, named=True)
    >>> feb["customers_start"], feb["churned"], round(feb["churn_rate"], 4)
    (650, 15, 0.0231)
    """
    if ci not in (None, "wilson"):
        from csmetrics.exceptions import InvalidInputError

        raise InvalidInputError(f"option ci='{ci}' is not allowed: expected 'wilson' or None")
    return _panel(
        _internal.churn_rates,
        data,
        customer_id=customer_id,
        start=start,
        end=end,
        amount=amount,
        interval=interval,
        interval_count=interval_count,
        table=table,
        timestamp=timestamp,
        period=period,
        as_of=as_of,
        observed_from=observed_from,
        free_is_active=free_is_active,
        mode=mode,
        by=by,
        fx=fx,
        billing={
            "quantity": quantity,
            "subscription_id": subscription_id,
            "status": status,
            "canceled_at": canceled_at,
            "churn_reason": churn_reason,
            "percent_off": percent_off,
            "amount_off": amount_off,
            "discount_duration": discount_duration,
            "duration_in_months": duration_in_months,
            "discount_start": discount_start,
            "discount_end": discount_end,
            "discounts": discounts,
            "stacking": stacking,
            "mrr_basis": mrr_basis,
            "with_contract": with_contract,
            "trials": trials,
            "past_due": past_due,
            "delinquency_days": delinquency_days,
            "paused": paused,
            "churn_at": churn_at,
            "churn_reasons": churn_reasons,
            "period_start": period_start,
            "period_end": period_end,
            "line_kind": line_kind,
            "prorations": prorations,
            "gap_tolerance_days": gap_tolerance_days,
        },
        extra={"denominator": denominator, "confidence": confidence if ci else None},
        ids_in_result=False,
    )


@frame_function
@renamed(first_period="observed_from")
def cohort_retention(
    data: IntoFrame,
    *,
    customer_id: str = "customer_id",
    start: str = "start",
    end: str | None = "end",
    amount: str = "amount",
    interval: str | None = "interval",
    interval_count: str | None = "interval_count",
    table: Table = "subscriptions",
    timestamp: str = "timestamp",
    period: Period = "month",
    as_of: Instant | None = None,
    observed_from: Instant | None = None,
    free_is_active: bool = False,
    by: str | Sequence[str] | None = None,
    fx: Mapping[str, float] | pl.DataFrame | None = None,
    quantity: str | None = "quantity",
    subscription_id: str | None = "subscription_id",
    status: str | None = "status",
    canceled_at: str | None = "canceled_at",
    churn_reason: str | None = "churn_reason",
    percent_off: str | None = "percent_off",
    amount_off: str | None = "amount_off",
    discount_duration: str | None = "discount_duration",
    duration_in_months: str | None = "duration_in_months",
    discount_start: str | None = "discount_start",
    discount_end: str | None = "discount_end",
    discounts: IntoFrame | None = None,
    stacking: Literal["sequential", "sum"] = "sequential",
    mrr_basis: Literal["net", "contract", "forever_only"] = "net",
    with_contract: bool = False,
    trials: Literal["exclude", "include"] = "exclude",
    past_due: Literal["active", "churn_after"] = "active",
    delinquency_days: int = 30,
    paused: Literal["zero", "active", "churn"] = "zero",
    churn_at: Literal["end", "cancel"] = "end",
    churn_reasons: Mapping[str, Literal["voluntary", "involuntary", "unknown"]] | None = None,
    period_start: str = "period_start",
    period_end: str = "period_end",
    line_kind: str | None = "kind",
    prorations: Literal["spread", "exclude"] = "spread",
    gap_tolerance_days: float = 0.0,
    kind: Literal["logo", "revenue"] = "logo",
    rule: Literal["classic", "unbounded"] = "classic",
    signup: str | None = None,
) -> Any:
    """Cohort retention as a long table: one row per cohort and age.

    A customer's cohort is the period of its first activity (or of its ``signup`` column);
    age k is the number of periods since. ``kind="logo"``: customers active at age k over the
    cohort's size (``rule="unbounded"``: active at age k or later, never increasing with age);
    ``kind="revenue"``: the cohort's MRR at age k over its MRR at age 0 (unbounded above).
    Cells not yet observable at ``as_of`` are null, not 0. :func:`cohort_triangle` pivots it.
    {panel}
    kind
        ``"logo"`` or ``"revenue"``.
    rule
        ``"classic"`` or ``"unbounded"`` (logo only).
    signup
        A Date/Datetime column, constant per customer, defining the cohort. Activity before
        the signup period is an error.

    Returns
    -------
    DataFrame
        Keys, ``cohort``, ``age``, ``cohort_size``, ``active``, (``cohort_mrr``, ``mrr`` for
        revenue), ``rate``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> subs = pl.DataFrame({{
    ...     "customer_id": ["a", "b", "c"],
    ...     "start": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
    ...     "end": [None, dt.date(2024, 2, 1), None],
    ...     "amount": [10.0, 10.0, 10.0],
    ...     "interval": ["month"] * 3,
    ... }})
    >>> long = csm.cohort_retention(subs, as_of="2024-03-01")
    >>> csm.cohort_triangle(long).rows()
    [(datetime.date(2024, 1, 1), 2, 1.0, 0.5, 0.5), (datetime.date(2024, 2, 1), 1, 1.0, 1.0, None)]
    """
    return _panel(
        _internal.cohort_retention,
        data,
        customer_id=customer_id,
        start=start,
        end=end,
        amount=amount,
        interval=interval,
        interval_count=interval_count,
        table=table,
        timestamp=timestamp,
        period=period,
        as_of=as_of,
        observed_from=observed_from,
        free_is_active=free_is_active,
        mode="snapshot",
        by=by,
        fx=fx,
        billing={
            "quantity": quantity,
            "subscription_id": subscription_id,
            "status": status,
            "canceled_at": canceled_at,
            "churn_reason": churn_reason,
            "percent_off": percent_off,
            "amount_off": amount_off,
            "discount_duration": discount_duration,
            "duration_in_months": duration_in_months,
            "discount_start": discount_start,
            "discount_end": discount_end,
            "discounts": discounts,
            "stacking": stacking,
            "mrr_basis": mrr_basis,
            "with_contract": with_contract,
            "trials": trials,
            "past_due": past_due,
            "delinquency_days": delinquency_days,
            "paused": paused,
            "churn_at": churn_at,
            "churn_reasons": churn_reasons,
            "period_start": period_start,
            "period_end": period_end,
            "line_kind": line_kind,
            "prorations": prorations,
            "gap_tolerance_days": gap_tolerance_days,
        },
        extra={"kind": kind, "rule": rule, "signup": signup},
        also=[signup] if signup else (),
        ids_in_result=False,
    )


@frame_function
def cohort_triangle(long: Any, *, values: str = "rate") -> Any:
    """Pivots a :func:`cohort_retention` table into the familiar triangle.

    One row per (keys, cohort) with its ``cohort_size``, and one column per age (``"0"``,
    ``"1"``, ...) holding ``values``; unobservable cells are null.
    """
    frame, kind = to_polars(long, column_names(long))
    keys = [
        c
        for c in frame.columns
        if c not in {"cohort", "age", "cohort_size", "active", "mrr", "cohort_mrr", "rate"}
    ]
    wide = frame.pivot(on="age", index=[*keys, "cohort", "cohort_size"], values=values)
    return from_polars(wide, kind)


@frame_function
@renamed(gap_tolerance="gap_tolerance_days", unit="time_unit")
def survival_table(
    data: IntoFrame,
    *,
    customer_id: str = "customer_id",
    start: str = "start",
    end: str | None = "end",
    amount: str = "amount",
    interval: str | None = "interval",
    interval_count: str | None = "interval_count",
    table: Table = "subscriptions",
    timestamp: str = "timestamp",
    as_of: Instant | None = None,
    observed_from: Instant | None = None,
    free_is_active: bool = False,
    by: str | Sequence[str] | None = None,
    fx: Mapping[str, float] | pl.DataFrame | None = None,
    quantity: str | None = "quantity",
    subscription_id: str | None = "subscription_id",
    status: str | None = "status",
    canceled_at: str | None = "canceled_at",
    churn_reason: str | None = "churn_reason",
    percent_off: str | None = "percent_off",
    amount_off: str | None = "amount_off",
    discount_duration: str | None = "discount_duration",
    duration_in_months: str | None = "duration_in_months",
    discount_start: str | None = "discount_start",
    discount_end: str | None = "discount_end",
    discounts: IntoFrame | None = None,
    stacking: Literal["sequential", "sum"] = "sequential",
    mrr_basis: Literal["net", "contract", "forever_only"] = "net",
    with_contract: bool = False,
    trials: Literal["exclude", "include"] = "exclude",
    past_due: Literal["active", "churn_after"] = "active",
    delinquency_days: int = 30,
    paused: Literal["zero", "active", "churn"] = "zero",
    churn_at: Literal["end", "cancel"] = "end",
    churn_reasons: Mapping[str, Literal["voluntary", "involuntary", "unknown"]] | None = None,
    period_start: str = "period_start",
    period_end: str = "period_end",
    line_kind: str | None = "kind",
    prorations: Literal["spread", "exclude"] = "spread",
    gap_tolerance_days: float = 0.0,
    lives: Literal["first", "all"] = "first",
    time_unit: Literal["day", "week", "month", "year"] = "day",
) -> Any:
    """One row per customer life, ready for Kaplan-Meier: duration, event, entry.

    A life runs from a customer's first start to the first instant it has no active
    subscription; gaps shorter than ``gap_tolerance_days`` days are bridged (touching or overlapping
    subscriptions always continue it). ``lives="all"`` makes each return after a gap a new life.
    Durations are censored at ``as_of`` (``event=False``) and nothing after it is read.

    Parameters
    ----------
    data
        Subscriptions (or monthly table, or activity events): a Polars or pandas frame.
    customer_id, start, end, amount, interval, interval_count, table, timestamp
        As in :func:`churn_rates`.
    as_of
        Cut-off instant; default the latest start.
    observed_from
        Start of observation: lives already running then get ``entry`` > 0 (left truncation),
        and lives over by then are left out.
    free_is_active
        Whether $0 subscriptions keep a life going.
    by
        Customer-level column(s) carried into the table.
    fx
        Rates into one currency for amounts in several, as in :func:`churn_rates`. A life
        depends only on whether the customer pays, so a subscriptions table without billing
        detail needs none; where amounts net against each other (invoice lines, discounts)
        mixed currencies without rates are an error.
    quantity, subscription_id, status, canceled_at, churn_reason, percent_off, amount_off, \
discount_duration, duration_in_months, discount_start, discount_end, discounts, stacking, \
mrr_basis, with_contract, trials, past_due, delinquency_days, paused, churn_at, churn_reasons
        Billing detail, as in :func:`churn_rates`: a paused customer's life goes on, a trial
        that ends unpaid makes no life.
    gap_tolerance_days
        Gaps shorter than this many days are bridged (formerly ``gap_tolerance``, deprecated).
    lives
        ``"first"`` or ``"all"``.
    time_unit
        Unit of ``duration`` and ``entry``: days, weeks, months (365/12 days) or years (365)
        (formerly ``unit``, deprecated).

    Returns
    -------
    DataFrame
        The customer id, keys, ``life``, ``start``, ``duration``, ``event``, ``entry``, sorted
        by customer id and life. A subscriptions table sorted by an integer customer id, with
        Date ``start`` and ``end``, is read in a single pass (first lives, no ``by`` or
        ``observed_from``); any other table gives the same result by the general path.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> subs = pl.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "start": [dt.date(2024, 1, 1), dt.date(2024, 3, 11), dt.date(2024, 2, 1)],
    ...     "end": [dt.date(2024, 3, 1), None, None],
    ...     "amount": [10.0, 10.0, 10.0],
    ...     "interval": ["month"] * 3,
    ... })
    >>> csm.survival_table(subs, as_of="2024-04-01").select("customer_id", "duration", "event").rows()
    [('a', 60.0, True), ('b', 60.0, False)]
    >>> csm.survival_table(subs, as_of="2024-04-01", gap_tolerance_days=15)["duration"].to_list()
    [91.0, 60.0]
    """
    return _panel(
        _internal.survival_table,
        data,
        customer_id=customer_id,
        start=start,
        end=end,
        amount=amount,
        interval=interval,
        interval_count=interval_count,
        table=table,
        timestamp=timestamp,
        period="month",
        as_of=as_of,
        observed_from=observed_from,
        free_is_active=free_is_active,
        mode="snapshot",
        by=by,
        fx=fx,
        billing={
            "quantity": quantity,
            "subscription_id": subscription_id,
            "status": status,
            "canceled_at": canceled_at,
            "churn_reason": churn_reason,
            "percent_off": percent_off,
            "amount_off": amount_off,
            "discount_duration": discount_duration,
            "duration_in_months": duration_in_months,
            "discount_start": discount_start,
            "discount_end": discount_end,
            "discounts": discounts,
            "stacking": stacking,
            "mrr_basis": mrr_basis,
            "with_contract": with_contract,
            "trials": trials,
            "past_due": past_due,
            "delinquency_days": delinquency_days,
            "paused": paused,
            "churn_at": churn_at,
            "churn_reasons": churn_reasons,
            "period_start": period_start,
            "period_end": period_end,
            "line_kind": line_kind,
            "prorations": prorations,
            "gap_tolerance_days": gap_tolerance_days,
        },
        extra={"gap_tolerance_days": float(gap_tolerance_days), "lives": lives, "unit": time_unit},
    )


@frame_function
def renewal_rates(
    contracts: IntoFrame,
    *,
    renewal_due: str = "renewal_due",
    renewed: str = "renewed",
    amount: str | None = None,
    by: str | Sequence[str] | None = None,
    period: Period = "month",
) -> Any:
    """Logo and revenue renewal rates per period of the renewal due date.

    ``renewal_rate`` = renewed / up for renewal; ``revenue_renewal_rate`` = renewed amount /
    amount up for renewal (with ``amount``). Contracts whose outcome is null are ``pending`` and
    left out of both rates.

    Parameters
    ----------
    contracts
        One row per contract up for renewal: a Polars or pandas frame.
    renewal_due
        Date/Datetime column of the renewal date.
    renewed
        Boolean (or 0/1) outcome; null while undecided.
    amount
        Contract amount column, for the revenue rate.
    by
        Grouping column(s).
    period
        Reporting period of the due date.

    Returns
    -------
    DataFrame
        Keys, ``period``, ``up_for_renewal``, ``renewed``, ``pending``, ``renewal_rate``, and
        with amounts ``amount_up``, ``amount_renewed``, ``revenue_renewal_rate``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> contracts = pl.DataFrame({
    ...     "renewal_due": [dt.date(2024, 6, 30)] * 100,
    ...     "renewed": [True] * 80 + [False] * 20,
    ... })
    >>> csm.renewal_rates(contracts)["renewal_rate"][0]
    0.8
    """
    by_list = as_list(by)
    wanted = [*by_list, renewal_due, renewed, *([amount] if amount else [])]
    frame, kind = to_polars(contracts, wanted)
    result = _internal.renewal_rates(frame, renewal_due, renewed, amount, by_list, period)
    return from_polars(result, kind)


fill_docs((churn_rates, cohort_retention), panel=_PANEL_DOC.replace("{billing}", _BILLING_DOC))


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
