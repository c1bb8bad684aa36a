"""Operations and engagement KPIs.

Definitions follow docs/metrics/operations.md: customer retention cost, trial-to-paid conversion,
upsell and cross-sell rates, first contact resolution and engagement (DAU, MAU, stickiness,
usage per active customer, feature adoption). Every rate comes with the counts behind it, and a
zero denominator gives a null rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
from csmetrics._options import days as _days
from csmetrics._options import guard_module, number, option_error, renamed, whole
from csmetrics._options import micros as _micros
from csmetrics.revenue import Instant, Period

if TYPE_CHECKING:
    import polars as pl

    from csmetrics._internal import _Calendar

__all__ = [
    "conversion_rates",
    "engagement",
    "feature_adoption",
    "first_contact_resolution",
    "response_times",
    "retention_cost",
    "trial_conversion",
]


@frame_function
def retention_cost(
    subscriptions: IntoFrame,
    costs: IntoFrame,
    *,
    customers: Literal["any", "start", "average"] = "any",
    customer_id: str = "customer_id",
    start: str = "start",
    end: str | None = "end",
    amount: str = "amount",
    interval: str | None = "interval",
    interval_count: str | None = "interval_count",
    cost_period: str = "period",
    cost_amount: str = "amount",
    period: Period = "month",
    as_of: Instant | None = None,
    free_is_active: bool = False,
    mode: Literal["snapshot", "events"] = "snapshot",
) -> Any:
    """Customer retention cost (CRC) per period: retention programme cost / customers.

    The customers come from the same panel as :func:`csmetrics.churn_rates`: with
    ``customers="any"`` (default) every customer active at any time in the period (active at its
    start, new or reactivated in it, and with ``mode="events"`` those who joined and left within
    it); ``"start"`` those active at the start; ``"average"`` the mean of start and end counts.
    Costs are summed per period (a cost's ``cost_period`` may be any instant in the period).

    Parameters
    ----------
    subscriptions
        The subscriptions table (``customer_id``, ``start``, ``end``, ``amount``, ``interval``).
    costs
        Retention programme costs: ``period`` and ``amount``.
    customers
        Which customer count divides the cost.
    customer_id, start, end, amount, interval, interval_count
        Columns of the subscriptions table.
    cost_period, cost_amount
        Columns of the costs table.
    period
        Reporting period.
    as_of
        Cut-off instant; default the latest subscription start.
    free_is_active
        Count customers on $0 subscriptions as active.
    mode
        ``"snapshot"`` or ``"events"`` (see :func:`csmetrics.churn_rates`).

    Returns
    -------
    DataFrame
        ``period``, ``cost``, ``customers``, ``crc`` (null without customers). Cost rows in
        periods outside the panel are kept with ``customers`` 0.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> subs = pl.DataFrame({
    ...     "customer_id": list(range(100)),
    ...     "start": [dt.date(2023, 12, 1)] * 100,
    ...     "end": [None] * 100,
    ...     "amount": [10.0] * 100,
    ...     "interval": ["month"] * 100,
    ... })
    >>> costs = pl.DataFrame({"period": [dt.date(2024, 1, 1)], "amount": [50_000.0]})
    >>> crc = csm.retention_cost(subs, costs, as_of=dt.date(2024, 1, 31))
    >>> crc.filter(pl.col("period") == dt.date(2024, 1, 1))["crc"][0]
    500.0
    """
    if interval_count == "interval_count" and interval_count not in column_names(subscriptions):
        interval_count = None  # the default column is optional: absent means 1
    wanted = [customer_id, start, amount]
    wanted += [c for c in (end, interval, interval_count) if c is not None]
    subs, kind = to_polars(subscriptions, wanted)
    cost_frame, _ = to_polars(costs, [cost_period, cost_amount])
    result = _internal.retention_cost(
        subs,
        cost_frame,
        customer_id,
        start,
        end,
        amount,
        interval,
        interval_count,
        period,
        _micros(as_of, "as_of"),
        free_is_active,
        mode,
        cost_period,
        cost_amount,
        customers,
    )
    return from_polars(result, kind)


@frame_function
@renamed(window="window_days")
def trial_conversion(
    trials: IntoFrame,
    *,
    window_days: float = 14,
    trial_start: str = "trial_start",
    trial_end: str = "trial_end",
    converted_at: str = "converted_at",
    as_of: Instant | None = None,
    by: str | Sequence[str] | None = None,
    period: Period = "month",
) -> Any:
    """Trial-to-paid conversion per period of the trial start.

    A trial ``converted`` when ``converted_at`` falls between its start and ``window_days`` days after
    its end. A trial not (yet) converted whose window is still open at ``as_of`` is ``pending``
    and left out of the rate; ``conversion_rate`` = converted / ``decided`` (converted, or window
    closed). Customers without a trial never enter. Trials starting after ``as_of`` are left
    out.

    Parameters
    ----------
    trials
        One row per trial: ``trial_start``, ``trial_end``, ``converted_at`` (null if not).
    window_days
        Days after the trial end within which a conversion counts (formerly ``window``,
        deprecated).
    trial_start, trial_end, converted_at
        Column names.
    as_of
        Cut-off instant; default the latest trial start or conversion.
    by
        Grouping column(s).
    period
        Reporting period.

    Returns
    -------
    DataFrame
        Keys, ``period``, ``trials``, ``decided``, ``converted``, ``pending``,
        ``conversion_rate``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> trials = pl.DataFrame({
    ...     "trial_start": [dt.date(2024, 1, 1)] * 100,
    ...     "trial_end": [dt.date(2024, 1, 15)] * 100,
    ...     "converted_at": [dt.date(2024, 1, 20)] * 20 + [None] * 80,
    ... })
    >>> csm.trial_conversion(trials, as_of=dt.date(2024, 3, 1))["conversion_rate"][0]
    0.2
    """
    by_list = as_list(by)
    frame, kind = to_polars(trials, [*by_list, trial_start, trial_end, converted_at])
    result = _internal.trial_conversion(
        frame,
        trial_start,
        trial_end,
        converted_at,
        float(window_days),
        _micros(as_of, "as_of"),
        by_list,
        period,
    )
    return from_polars(result, kind)


@frame_function
def conversion_rates(
    conversions: IntoFrame,
    *,
    timestamp: str = "timestamp",
    kind: str = "kind",
    by: str | Sequence[str] | None = None,
    period: Period = "month",
) -> Any:
    """Upsell and cross-sell rates per period.

    ``upsell_rate`` = upsells / all conversions in the period (new ones included);
    ``cross_sell_rate`` likewise.

    Parameters
    ----------
    conversions
        One row per conversion: ``timestamp`` and ``kind`` in ``new``, ``upsell``,
        ``cross_sell``.
    timestamp, kind
        Column names.
    by
        Grouping column(s).
    period
        Reporting period.

    Returns
    -------
    DataFrame
        Keys, ``period``, ``conversions``, ``new``, ``upsells``, ``cross_sells``,
        ``upsell_rate``, ``cross_sell_rate``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> sales = pl.DataFrame({
    ...     "timestamp": [dt.date(2024, 3, 1)] * 100,
    ...     "kind": ["upsell"] * 10 + ["cross_sell"] * 5 + ["new"] * 85,
    ... })
    >>> csm.conversion_rates(sales).select("upsell_rate", "cross_sell_rate").row(0)
    (0.1, 0.05)
    """
    by_list = as_list(by)
    frame, family = to_polars(conversions, [*by_list, timestamp, kind])
    result = _internal.conversion_rates(frame, timestamp, kind, by_list, period)
    return from_polars(result, family)


@frame_function
@renamed(reopen_window="reopen_window_days")
def first_contact_resolution(
    tickets: IntoFrame,
    *,
    reopen_window_days: float = 7,
    opened_at: str = "opened_at",
    resolved_at: str = "resolved_at",
    contacts: str = "contacts",
    reopened_at: str | None = "reopened_at",
    resolvable: str | None = "resolvable_at_first_contact",
    by: str | Sequence[str] | None = None,
    period: Period = "month",
) -> Any:
    """First contact resolution (FCR), gross and net, per period of the ticket's opening.

    A resolved ticket is resolved at first contact when it took one contact and was not reopened
    within ``reopen_window_days`` days of its resolution. ``fcr_gross`` = those / resolved tickets;
    ``fcr_net`` = the same among resolved tickets resolvable at first contact (a null
    ``resolvable`` counts as true). Open tickets count in ``tickets`` only.

    Parameters
    ----------
    tickets
        One row per ticket.
    reopen_window_days
        Days after resolution within which a reopen cancels first contact resolution (formerly
        ``reopen_window``, deprecated).
    opened_at, resolved_at, contacts, reopened_at, resolvable
        Column names; ``reopened_at`` and ``resolvable`` may be None (absent) or missing from
        the table.
    by
        Grouping column(s).
    period
        Reporting period.

    Returns
    -------
    DataFrame
        Keys, ``period``, ``tickets``, ``resolved``, ``first_contact_resolved``, ``fcr_gross``,
        ``resolvable``, ``resolvable_first_contact_resolved``, ``fcr_net``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> tickets = pl.DataFrame({
    ...     "opened_at": [dt.date(2024, 1, 1)] * 4,
    ...     "resolved_at": [dt.date(2024, 1, 2)] * 4,
    ...     "contacts": [1, 1, 1, 2],
    ...     "reopened_at": [None, dt.date(2024, 1, 5), None, None],
    ... })
    >>> csm.first_contact_resolution(tickets)["fcr_gross"][0]
    0.5
    """
    from csmetrics._frames import column_names

    names = column_names(tickets)
    reopened = reopened_at if reopened_at is not None and reopened_at in names else None
    able = resolvable if resolvable is not None and resolvable in names else None
    by_list = as_list(by)
    wanted = [*by_list, opened_at, resolved_at, contacts, *(c for c in (reopened, able) if c)]
    frame, kind = to_polars(tickets, wanted)
    result = _internal.first_contact_resolution(
        frame,
        opened_at,
        resolved_at,
        contacts,
        reopened,
        able,
        float(reopen_window_days),
        by_list,
        period,
    )
    return from_polars(result, kind)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday(value: Any) -> int:
    if isinstance(value, str) and value[:3].lower() in _WEEKDAYS:
        return _WEEKDAYS.index(value[:3].lower())
    return whole(value, "business_days", maximum=6)


@frame_function
def response_times(
    tickets: IntoFrame,
    *,
    sla_hours: float | Mapping[str, float] | None = None,
    business_hours: tuple[float, float] | None = None,
    business_days: Sequence[int | str] = (0, 1, 2, 3, 4),
    holidays: Sequence[Instant] = (),
    by: str | Sequence[str] | None = None,
    period: Period = "month",
    as_of: Instant | None = None,
    opened_at: str = "opened_at",
    first_response_at: str = "first_response_at",
    resolved_at: str | None = "resolved_at",
    priority: str = "priority",
) -> Any:
    """Support response times: first response and resolution time, backlog and SLA attainment
    per period of the ticket's opening (and ``by``, such as priority and channel).

    Times are in hours: calendar hours, or working hours with ``business_hours`` (the same hours
    on each of ``business_days``, less ``holidays``). Each statistic (mean, median and 90th
    percentile, interpolating linearly between order statistics as NumPy and Polars do by default)
    is over the tickets answered (or resolved) by ``as_of``; the others are counted as
    ``unanswered`` (``unresolved``), never dropped. ``backlog`` counts the tickets with the row's
    ``by`` keys, opened in any period, still open at the end of the period (or at ``as_of`` when
    earlier). With ``sla_hours`` a ticket is ``sla_met`` when first answered within the target,
    ``sla_breached`` when answered later or still unanswered past the target at ``as_of``, and
    ``sla_pending`` otherwise; ``sla_attainment`` = met / (met + breached).

    Parameters
    ----------
    tickets
        One row per ticket: ``opened_at``, ``first_response_at`` (null while unanswered),
        ``resolved_at`` (null while open), and optionally ``priority`` and ``channel``.
    sla_hours
        The first-response target in hours: one number, or one per priority
        (``{"high": 4, "low": 24}``; every ticket's priority needs one). Default none.
    business_hours
        ``(start_hour, end_hour)`` of a working day, such as ``(9, 17)``; None (default):
        calendar hours. Instants are read on their column's clock (UTC for a column with a time
        zone).
    business_days
        Working weekdays, 0 (Monday) to 6 (Sunday) or names (``"mon"``); default Monday to
        Friday.
    holidays
        Days off (dates).
    by
        Grouping column(s).
    period
        Reporting period of the opening (default ``"month"``).
    as_of
        Cut-off: answers and resolutions after it are not seen. Default: the latest instant of
        the three columns.
    opened_at, first_response_at, resolved_at, priority
        Column names; ``resolved_at`` may be None (no resolution columns); ``priority`` is read
        for a per-priority SLA only.

    Returns
    -------
    DataFrame
        Keys, ``period``, ``tickets``, ``answered``, ``unanswered``,
        ``first_response_mean_hours``, ``first_response_median_hours``,
        ``first_response_p90_hours``; with ``resolved_at``: ``resolved``, ``unresolved``,
        ``resolution_mean_hours``, ``resolution_median_hours``, ``resolution_p90_hours``,
        ``backlog``; with an SLA: ``sla_met``, ``sla_breached``, ``sla_pending``,
        ``sla_attainment``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> tickets = pl.DataFrame({
    ...     "opened_at": [dt.datetime(2024, 1, 5, 16), dt.datetime(2024, 1, 8, 9)],
    ...     "first_response_at": [dt.datetime(2024, 1, 8, 10), None],
    ...     "resolved_at": [dt.datetime(2024, 1, 8, 12), None],
    ... })
    >>> r = csm.response_times(tickets, business_hours=(9, 17), sla_hours=4, as_of=dt.datetime(2024, 1, 8, 15))
    >>> r.select("answered", "unanswered", "first_response_median_hours", "sla_attainment").rows()
    [(1, 1, 2.0, 0.5)]
    """
    by_list = as_list(by)
    per_priority: list[tuple[str, float]] | None = None
    one: float | None = None
    if isinstance(sla_hours, Mapping):
        per_priority = [
            (str(k), number(v, f"sla_hours[{k!r}]", above=0)) for k, v in sla_hours.items()
        ]
    elif sla_hours is not None:
        one = number(sla_hours, "sla_hours", above=0)
    calendar: _Calendar | None = None
    if business_hours is not None:
        if isinstance(business_hours, (str, bytes)) or len(business_hours) != 2:
            raise option_error("business_hours", business_hours, "expected (start_hour, end_hour)")
        days_off = [_days(h, "holidays") for h in holidays]
        calendar = {
            "start_hour": number(business_hours[0], "business_hours", minimum=0, maximum=24),
            "end_hour": number(business_hours[1], "business_hours", minimum=0, maximum=24),
            "weekdays": sorted({_weekday(d) for d in business_days}),
            "holidays": [d for d in days_off if d is not None],
        }
    wanted = [*by_list, opened_at, first_response_at, *([resolved_at] if resolved_at else [])]
    if per_priority is not None:
        wanted.append(priority)
    frame, kind = to_polars(tickets, list(dict.fromkeys(wanted)), keys=by_list)
    result = _internal.response_times(
        frame,
        opened_at,
        first_response_at,
        resolved_at,
        priority if per_priority is not None else None,
        by_list,
        period,
        _micros(as_of, "as_of"),
        one,
        per_priority,
        calendar,
    )
    return from_polars(result, kind)


def _usage(
    entry: Callable[..., pl.DataFrame],
    usage: IntoFrame,
    *,
    level: str,
    customer_id: str,
    timestamp: str,
    user_id: str | None,
    active_users: str | None,
    events: str | None,
    feature: str | None,
    as_of: Instant | None,
    by: str | Sequence[str] | None,
    period: Period,
) -> Any:
    from csmetrics._frames import column_names

    names = column_names(usage)
    raw = user_id is not None
    users = None if raw or active_users not in names else active_users
    counts = None if raw or events not in names else events
    by_list = as_list(by)
    wanted = [*by_list, customer_id, timestamp]
    wanted += [c for c in (user_id, users, counts, feature) if c is not None]
    frame, kind = to_polars(usage, wanted)
    columns = {
        "customer_id": customer_id,
        "date": timestamp,
        "user_id": user_id,
        "active_users": users,
        "events": counts,
        "feature": feature,
        "unit": level,
        "as_of": _micros(as_of, "as_of"),
        "by": by_list,
        "period": period,
    }
    result = entry(frame, columns)
    return from_polars(result, kind)


@frame_function
@renamed(unit="level", date="timestamp")
def engagement(
    usage: IntoFrame,
    *,
    level: Literal["customer", "user"] = "customer",
    customer_id: str = "customer_id",
    timestamp: str = "date",
    user_id: str | None = None,
    active_users: str | None = "active_users",
    events: str | None = "events",
    as_of: Instant | None = None,
    by: str | Sequence[str] | None = None,
    period: Period = "month",
) -> Any:
    """Engagement per period: DAU, MAU, stickiness and usage per active customer.

    Input is either daily aggregates (``customer_id``, the day in the ``timestamp`` column,
    ``active_users``, ``events``) or, with ``user_id=``, raw events (one row per event;
    ``timestamp`` is then the event's instant). A customer (or user, with ``level="user"``) is
    active on a day when it has a row that day with users or events. ``dau`` is the mean over the
    period's calendar days (up to ``as_of`` in the last, incomplete period) of the distinct
    customers (or users) active each day; ``wau`` the same mean of those active in the seven days
    ending on each day (activity late in the previous period included); ``active`` is the
    distinct customers (or users) active in the period (MAU for months); ``stickiness`` = dau /
    active.
    ``by`` columns must be constant per customer. ``level="user"`` counts users (a user id is
    scoped to its customer) and needs raw events.

    Parameters
    ----------
    usage
        Daily aggregates or raw events.
    level
        What DAU and MAU count: customers or users (formerly ``unit``, deprecated).
    customer_id, timestamp, user_id, active_users, events
        Column names (``active_users`` and ``events`` are used when present). ``timestamp``
        (formerly ``date``, deprecated; its default column is still ``"date"``) holds the day of
        an aggregate row or the instant of a raw event, as Date or Datetime.
    as_of
        Cut-off; default the latest date in the input.
    by
        Customer-level grouping column(s).
    period
        Reporting period.

    Returns
    -------
    DataFrame
        Keys, ``period``, ``complete``, ``days``, ``dau``, ``wau``, ``active``, ``stickiness``,
        ``active_customers``, ``events``, ``events_per_active_customer``,
        ``active_users_per_active_customer`` (aggregates only).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> usage = pl.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "date": [dt.date(2024, 2, 1), dt.date(2024, 2, 2), dt.date(2024, 2, 29)],
    ...     "active_users": [2, 1, 1],
    ...     "events": [10, 5, 1],
    ... })
    >>> row = csm.engagement(usage).row(0, named=True)
    >>> row["active"], round(row["dau"] * 29, 6), round(row["stickiness"], 4)
    (2, 3.0, 0.0517)
    """
    return _usage(
        _internal.engagement,
        usage,
        level=level,
        customer_id=customer_id,
        timestamp=timestamp,
        user_id=user_id,
        active_users=active_users,
        events=events,
        feature=None,
        as_of=as_of,
        by=by,
        period=period,
    )


@frame_function
@renamed(unit="level", date="timestamp")
def feature_adoption(
    usage: IntoFrame,
    *,
    feature: str = "feature",
    level: Literal["customer", "user"] = "customer",
    customer_id: str = "customer_id",
    timestamp: str = "date",
    user_id: str | None = None,
    active_users: str | None = "active_users",
    events: str | None = "events",
    as_of: Instant | None = None,
    by: str | Sequence[str] | None = None,
    period: Period = "month",
) -> Any:
    """Feature adoption per period: the share of active customers (or users) using each feature.

    Same input and activity rule as :func:`engagement`; rows with a null feature are activity
    but adopt nothing.

    Returns
    -------
    DataFrame
        Keys, ``period``, ``feature``, ``users_of_feature``, ``active``, ``adoption``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> usage = pl.DataFrame({
    ...     "customer_id": ["a", "a", "b", "c"],
    ...     "date": [dt.date(2024, 2, 1)] * 4,
    ...     "active_users": [1, 1, 1, 1],
    ...     "events": [3, 1, 2, 2],
    ...     "feature": ["core", "reports", "core", "core"],
    ... })
    >>> csm.feature_adoption(usage).select("feature", "adoption").rows()
    [('core', 1.0), ('reports', 0.3333333333333333)]
    """
    return _usage(
        _internal.feature_adoption,
        usage,
        level=level,
        customer_id=customer_id,
        timestamp=timestamp,
        user_id=user_id,
        active_users=active_users,
        events=events,
        feature=feature,
        as_of=as_of,
        by=by,
        period=period,
    )


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
