"""Revenue: MRR, the MRR bridge and its movements, and revenue KPIs.

Definitions follow docs/metrics/conventions.md and docs/metrics/revenue.md. Each function reads a
subscriptions table (``customer_id``, ``start``, ``end`` (null while active), ``amount``,
``interval``, optionally ``interval_count`` and ``currency``) or an already-monthly table
(``table="monthly"``: ``customer_id``, ``period``, ``mrr``), as a Polars DataFrame or LazyFrame or a
pandas DataFrame, and returns a tidy frame of the same family.

How the numbers are made:

- Amounts are normalised to monthly (year / 12, quarter / 3, week * 365/84, day * 365/12, each
  divided by ``interval_count``), then rounded half-to-even to ``precision`` decimals; every sum is
  exact integer arithmetic in those units, so ``starting + new + expansion + reactivation -
  contraction - churned = ending`` holds exactly (``money="units"`` or ``"decimal"`` show it to the
  last unit; Float64 to about 1e-15 relative).
- Subscriptions are half-open ``[start, end)``. A customer's MRR in a period is the sum of its
  subscriptions active at the period's last instant, or at ``as_of`` for the last period.
- ``as_of`` defaults to the latest start in the input (never an end, never the clock). Ends after
  it are treated as open. No later period is reported; the last one has ``complete = False``.
- ``mode="snapshot"`` compares MRR at consecutive period ends; ``mode="events"`` records every
  change in the period it happens, after netting one customer's changes at the same instant.
- ``by=`` takes customer-level columns: a value that varies within a customer is an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import polars as pl

from csmetrics import _internal
from csmetrics._frames import (
    IntoFrame,
    Kind,
    as_list,
    column_names,
    frame_function,
    from_polars,
    to_polars,
)
from csmetrics._options import (
    fill_docs,
    guard_module,
    micros,
    option_error,
    optional_whole,
    renamed,
    whole,
)
from csmetrics.exceptions import InvalidInputError

__all__ = ["mrr", "mrr_bridge", "mrr_movements", "revenue_kpis"]

Period = Literal["day", "week", "month", "quarter", "year"]
Instant = dt.date | dt.datetime | str
MoneyKind = Literal["float", "units", "decimal"]


def _run(
    entry: Callable[..., pl.DataFrame],
    data: IntoFrame,
    *,
    customer_id: str = "customer_id",
    start: str = "start",
    end: str | None = "end",
    amount: str = "amount",
    interval: str | None = "interval",
    interval_count: str | None = "interval_count",
    currency: str | None = "currency",
    table: Literal["subscriptions", "invoices", "monthly", "activity"] = "subscriptions",
    period_column: str = "period",
    mrr_column: str = "mrr",
    period: Period = "month",
    as_of: Instant | None = None,
    observed_from: Instant | None = None,
    precision: int = 6,
    free_is_active: bool = False,
    mode: Literal["snapshot", "events"] = "snapshot",
    by: str | Sequence[str] | None = None,
    fx: Mapping[str, float] | pl.DataFrame | None = None,
    window: int | None = None,
    money: MoneyKind = "float",
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
    timestamp: str = "timestamp",
    extra: dict[str, Any] | None = None,
    also: Sequence[str] = (),
    before: Sequence[pl.DataFrame] = (),
    result_kind: Kind | None = None,
    ids_in_result: bool = True,
) -> Any:
    """``entry`` (a function of ``_internal`` over the customer panel) on ``data``: the panel's
    columns and options cross as one mapping, ``extra`` as keywords, ``before`` (frames such as
    scores, whose customer ids the core matches with the panel's: they cross as they are) ahead
    of ``data``. The result is of ``result_kind``'s frame family (default ``data``'s). Without
    ``ids_in_result`` (per-period tables) the customer ids never come back, so a Categorical id
    crosses as its own codes."""
    by_list = as_list(by)
    names = column_names(data)
    billing_columns = {
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
    }
    if interval_count == "interval_count" and interval_count not in names:
        interval_count = None  # the default column is optional: absent means 1
    if table == "monthly":
        wanted = [customer_id, period_column, mrr_column, *by_list]
    elif table == "activity":
        wanted = [customer_id, timestamp, *by_list]
    elif table == "invoices":
        wanted = [customer_id, period_start, period_end, amount, *by_list]
        wanted += [
            c for c in (line_kind, currency, subscription_id) if c is not None and c in names
        ]
    else:
        wanted = [customer_id, start, amount, *by_list]
        wanted += [c for c in (end, interval, interval_count) if c is not None]
        if currency is not None and currency in names:
            wanted.append(currency)
        wanted += [c for c in billing_columns.values() if c is not None and c in names]
    # Ids matched against another frame (scores, a discounts table) cross as they are.
    matched = bool(before) or discounts is not None
    keys = [customer_id, *by_list] if not matched and ids_in_result else by_list
    ids = [] if matched or ids_in_result else [customer_id]
    if discounts is None and subscription_id is not None and subscription_id in names:
        # Subscription ids never come back and match no other frame: a Categorical one crosses
        # as its own codes, which group the same subscriptions.
        ids.append(subscription_id)
    frame, kind = to_polars(data, [*wanted, *also], keys=keys, ids=ids)
    if isinstance(fx, pl.DataFrame):
        rates = list(
            zip(fx["currency"].to_list(), fx["rate"].cast(pl.Float64).to_list(), strict=True)
        )
    elif fx is not None:
        rates = [(str(k), float(v)) for k, v in fx.items()]
    else:
        rates = None
    panel = {
        "table": table,
        "customer_id": customer_id,
        "start": start,
        "end": end,
        "amount": amount,
        "interval": interval,
        "interval_count": interval_count,
        "currency": currency,
        "period_column": period_column,
        "mrr_column": mrr_column,
        "timestamp": timestamp,
        "period": period,
        "as_of": micros(as_of, "as_of"),
        "first_period": micros(observed_from, "observed_from"),
        "precision": whole(precision, "precision", maximum=18),
        "free_is_active": free_is_active,
        "mode": mode,
        "by": by_list,
        "fx": rates,
        "window": optional_whole(window, "window", minimum=1),
        "money": money,
        "period_start": period_start,
        "period_end": period_end,
        "kind": line_kind if line_kind is not None and line_kind in names else None,
        "prorations": prorations,
        "gap_tolerance_days": _days(gap_tolerance_days, "gap_tolerance_days"),
        **_billing_panel(
            names,
            billing_columns,
            discounts=discounts,
            stacking=stacking,
            mrr_basis=mrr_basis,
            with_contract=with_contract,
            trials=trials,
            past_due=past_due,
            delinquency_days=delinquency_days,
            paused=paused,
            churn_at=churn_at,
            churn_reasons=churn_reasons,
        ),
    }
    try:
        result = entry(*before, frame, panel, **(extra or {}))
    except InvalidInputError as err:
        # The core calls observed_from first_period: its errors say observed_from.
        if getattr(err, "option", None) == "first_period":
            raise option_error(
                "observed_from", observed_from, str(getattr(err, "rule", err))
            ) from None
        if "first_period=" in str(err):
            named = InvalidInputError(str(err).replace("first_period=", "observed_from="))
            vars(named).update(vars(err))
            raise named from None
        raise
    return from_polars(result, result_kind or kind)


def _days(value: float, name: str) -> float:
    """A non-negative, finite number of days."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e7:
        raise option_error(name, value, "a number of days from 0 to 1e7")
    return float(value)


def _billing_panel(
    names: Sequence[str],
    columns: Mapping[str, str | None],
    *,
    discounts: IntoFrame | None,
    stacking: str,
    mrr_basis: str,
    with_contract: bool,
    trials: str,
    past_due: str,
    delinquency_days: int,
    paused: str,
    churn_at: str,
    churn_reasons: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The billing-detail part of the panel mapping: each column crosses when the table has it
    (the core reads a named column only if it is there)."""
    if discounts is not None:
        discount_frame, _ = to_polars(discounts, column_names(discounts))
    else:
        discount_frame = None
    if churn_reasons is not None and not isinstance(churn_reasons, Mapping):
        raise option_error(
            "churn_reasons", churn_reasons, "a mapping of reason -> 'voluntary' | 'involuntary'"
        )
    return {
        **{k: (v if v is not None and v in names else None) for k, v in columns.items()},
        "discounts": discount_frame,
        "stacking": stacking,
        "mrr_basis": mrr_basis,
        "with_contract": bool(with_contract),
        "trials": trials,
        "past_due": past_due,
        "delinquency_days": whole(delinquency_days, "delinquency_days", maximum=100_000),
        "paused": paused,
        "churn_at": churn_at,
        "churn_reasons": [(str(k), str(v)) for k, v in (churn_reasons or {}).items()],
    }


_COMMON_DOC = """
    Parameters
    ----------
    data
        Subscriptions (or, with ``table="monthly"``, one row per customer and period with its
        MRR): a Polars DataFrame or LazyFrame, or a pandas DataFrame.
    customer_id, start, end, amount
        Column names. ``end`` may hold nulls (open-ended); ``end=None`` means there is no end
        column.
    interval
        Billing-interval column (``day``, ``week``, ``month``, ``quarter``, ``year``); ``None``
        when every amount is already monthly.
    interval_count
        Column of intervals billed at once (e.g. 6 for a six-monthly plan); the default column
        is used when the table has it, and ``None`` (or its absence) means 1.
    currency
        Currency column, used when present: mixed currencies need ``fx``.
    table
        ``"subscriptions"``, ``"invoices"`` (invoice lines, see ``period_start``) or
        ``"monthly"`` (then ``period_column`` and ``mrr_column`` are read).
    period
        Reporting period (UTC calendar periods, labelled by their first day).
    as_of
        Cut-off instant (date, datetime or ISO string); default the latest start.
    observed_from
        Start of observation: the period holding it is the first reported (the contract's
        ``start=`` option; ``start`` names the start column); default the first period with
        activity. Customers active before it form the opening balance. Formerly
        ``first_period`` (deprecated).
    precision
        Decimals of the monthly amounts (half-to-even), 0 to 9.
    free_is_active
        Count customers whose only subscriptions are $0 as active (``active_customers``); never
        changes movement amounts.
    by
        Customer-level column(s) to group by, e.g. ``"segment"``.
    fx
        Rates into the reporting currency: a mapping ``{"EUR": 1.08, ...}`` or a frame with
        ``currency`` and ``rate`` columns.
    money
        ``"float"`` (Float64), ``"units"`` (Int64 units of 10^-precision) or ``"decimal"`` (exact
        Decimal).
{billing}"""


@frame_function
@renamed(first_period="observed_from")
def mrr_bridge(
    data: IntoFrame,
    *,
    customer_id: str = "customer_id",
    start: str = "start",
    end: str | None = "end",
    amount: str = "amount",
    interval: str | None = "interval",
    interval_count: str | None = "interval_count",
    currency: str | None = "currency",
    table: Literal["subscriptions", "invoices", "monthly"] = "subscriptions",
    period_column: str = "period",
    mrr_column: str = "mrr",
    period: Period = "month",
    as_of: Instant | None = None,
    observed_from: Instant | None = None,
    precision: int = 6,
    free_is_active: bool = False,
    mode: Literal["snapshot", "events"] = "snapshot",
    by: str | Sequence[str] | None = None,
    fx: Mapping[str, float] | pl.DataFrame | None = None,
    money: MoneyKind = "float",
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
) -> Any:
    """The MRR bridge per period (and ``by`` group).

    Returns the keys, ``period``, ``complete``, ``starting_mrr``, ``new``, ``expansion``,
    ``contraction``, ``churned``, ``reactivation``, ``ending_mrr`` (non-negative amounts with
    ``starting + new + expansion + reactivation - contraction - churned = ending``), the matching
    customer counts ``starting_customers``, ``new_customers``, ``expansion_customers``,
    ``contraction_customers``, ``churned_customers``, ``reactivated_customers``,
    ``ending_customers`` (paying customers), and ``active_customers``.
    {common}
    mode
        ``"snapshot"`` or ``"events"``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> subs = pl.DataFrame({{
    ...     "customer_id": ["a", "a", "b"],
    ...     "start": [dt.date(2024, 1, 1), dt.date(2024, 2, 15), dt.date(2024, 1, 1)],
    ...     "end": [dt.date(2024, 2, 15), None, dt.date(2024, 2, 1)],
    ...     "amount": [100.0, 1500.0, 50.0],
    ...     "interval": ["month", "year", "month"],
    ... }})
    >>> bridge = csm.mrr_bridge(subs, as_of=dt.date(2024, 2, 29))
    >>> bridge.select("period", "starting_mrr", "expansion", "churned", "ending_mrr").rows()
    [(datetime.date(2024, 1, 1), 0.0, 0.0, 0.0, 150.0), (datetime.date(2024, 2, 1), 150.0, 25.0, 50.0, 125.0)]
    """
    return _run(_internal.mrr_bridge, **_args(locals()), window=None, ids_in_result=False)


def _args(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "window"}


@frame_function
@renamed(first_period="observed_from")
def mrr_movements(
    data: IntoFrame,
    *,
    customer_id: str = "customer_id",
    start: str = "start",
    end: str | None = "end",
    amount: str = "amount",
    interval: str | None = "interval",
    interval_count: str | None = "interval_count",
    currency: str | None = "currency",
    table: Literal["subscriptions", "invoices", "monthly"] = "subscriptions",
    period_column: str = "period",
    mrr_column: str = "mrr",
    period: Period = "month",
    as_of: Instant | None = None,
    observed_from: Instant | None = None,
    precision: int = 6,
    free_is_active: bool = False,
    mode: Literal["snapshot", "events"] = "snapshot",
    by: str | Sequence[str] | None = None,
    fx: Mapping[str, float] | pl.DataFrame | None = None,
    money: MoneyKind = "float",
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
) -> Any:
    """One row per customer and movement: the explanation of every number of the bridge.

    Returns the customer id, the ``by`` keys, ``period``, ``movement`` (``new``,
    ``expansion``, ``contraction``, ``churned``, ``reactivation``), ``previous_mrr``, ``mrr`` and
    ``amount`` (non-negative), sorted by customer and period. Summed by period and movement the
    amounts equal :func:`mrr_bridge`.
    {common}
    mode
        ``"snapshot"`` or ``"events"``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> subs = pl.DataFrame({{
    ...     "customer_id": [1, 1],
    ...     "start": [dt.date(2024, 1, 1), dt.date(2024, 3, 15)],
    ...     "end": [dt.date(2024, 3, 15), None],
    ...     "amount": [100.0, 150.0],
    ...     "interval": ["month", "month"],
    ... }})
    >>> csm.mrr_movements(subs, mode="events")[["movement", "amount"]].rows()
    [('new', 100.0), ('expansion', 50.0)]
    """
    return _run(_internal.mrr_movements, **_args(locals()), window=None)


@frame_function
@renamed(first_period="observed_from")
def mrr(
    data: IntoFrame,
    *,
    customer_id: str = "customer_id",
    start: str = "start",
    end: str | None = "end",
    amount: str = "amount",
    interval: str | None = "interval",
    interval_count: str | None = "interval_count",
    currency: str | None = "currency",
    table: Literal["subscriptions", "invoices", "monthly"] = "subscriptions",
    period_column: str = "period",
    mrr_column: str = "mrr",
    period: Period = "month",
    as_of: Instant | None = None,
    observed_from: Instant | None = None,
    precision: int = 6,
    free_is_active: bool = False,
    by: str | Sequence[str] | None = None,
    fx: Mapping[str, float] | pl.DataFrame | None = None,
    money: MoneyKind = "float",
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
) -> Any:
    """MRR per customer and period, for the periods in which the customer is active.

    Returns the customer id, the ``by`` keys, ``period`` and ``mrr``, sorted by customer and
    period. Overlapping subscriptions add up; open-ended ones run to ``as_of``.
    {common}
    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> subs = pl.DataFrame({{
    ...     "customer_id": ["a"], "start": [dt.date(2024, 1, 10)], "end": [None],
    ...     "amount": [1200.0], "interval": ["year"],
    ... }})
    >>> csm.mrr(subs, as_of="2024-03-01")["mrr"].to_list()
    [100.0, 100.0, 100.0]
    """
    return _run(_internal.mrr, **_args(locals()), mode="snapshot", window=None)


@frame_function
@renamed(first_period="observed_from")
def revenue_kpis(
    data: IntoFrame,
    *,
    customer_id: str = "customer_id",
    start: str = "start",
    end: str | None = "end",
    amount: str = "amount",
    interval: str | None = "interval",
    interval_count: str | None = "interval_count",
    currency: str | None = "currency",
    table: Literal["subscriptions", "invoices", "monthly"] = "subscriptions",
    period_column: str = "period",
    mrr_column: str = "mrr",
    period: Period = "month",
    as_of: Instant | None = None,
    observed_from: Instant | None = None,
    precision: int = 6,
    free_is_active: bool = False,
    mode: Literal["snapshot", "events"] = "snapshot",
    by: str | Sequence[str] | None = None,
    fx: Mapping[str, float] | pl.DataFrame | None = None,
    window: int | None = None,
    money: MoneyKind = "float",
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
) -> Any:
    """Revenue KPIs per period (and ``by`` group), next to the amounts behind them.

    Returns the keys, ``period``, ``complete``, ``mrr``, ``arr`` (12 MRR), ``paying_customers``,
    ``arpa`` (MRR / paying customers), ``starting_mrr``, the movement amounts,
    ``expansion_rate`` (expansion / starting MRR), ``retained_mrr`` and ``retained_mrr_gross``
    (the starting base's end MRR, and its sum of min(start, end)), ``nrr``, ``grr``,
    ``net_mrr_churn_rate`` (1 - NRR), ``gross_mrr_churn_rate`` (1 - GRR), ``quick_ratio``
    ((new + expansion + reactivation) / (churned + contraction)) and
    ``quick_ratio_excl_reactivation``. With ``window=12``: ``window_base_mrr``, ``nrr_window``
    and ``grr_window`` over the customers paying twelve periods before. Ratios are null when
    their denominator is 0. NRR, net MRR churn, expansion rate and quick ratios are unbounded;
    GRR lies in [0, 1]. GRR and NRR are computed on the customer panel, so both modes agree.
    {common}
    mode
        ``"snapshot"`` or ``"events"``.
    window
        Trailing window in periods for ``nrr_window`` and ``grr_window``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> import csmetrics as csm
    >>> subs = pl.DataFrame({{
    ...     "customer_id": ["a", "a", "b", "c"],
    ...     "start": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
    ...     "end": [dt.date(2024, 2, 1), None, dt.date(2024, 2, 1), None],
    ...     "amount": [100.0, 120.0, 50.0, 30.0],
    ...     "interval": ["month"] * 4,
    ... }})
    >>> feb = csm.revenue_kpis(subs).row(1, named=True)
    >>> feb["mrr"], feb["arpa"], round(feb["nrr"], 4), round(feb["grr"], 4), feb["quick_ratio"]
    (150.0, 75.0, 0.8, 0.6667, 1.0)
    """
    return _run(_internal.revenue_kpis, **_args(locals()), window=window, ids_in_result=False)


_BILLING_DOC = """    quantity
        Seats column (whole numbers >= 0), used when the table has it: MRR is ``amount`` (the
        unit amount per interval) times the quantity; a quantity change is an expansion or a
        contraction.
    subscription_id
        Subscription id column, used when present: ties one subscription's rows (status spells,
        plan and seat changes) and keys a ``discounts`` table.
    status
        Stripe status column, used when present (one row per status spell): ``trialing``,
        ``active``, ``past_due``, ``unpaid``, ``paused``, ``canceled``, ``incomplete``,
        ``incomplete_expired``. ``canceled`` rows count like active ones over their own
        ``[start, end)``; ``unpaid``, ``incomplete`` and ``incomplete_expired`` rows carry no MRR.
    canceled_at
        When cancellation was requested, used when present: ``cancellations`` and
        ``cancellation_mrr`` per period (dated by the request) and ``committed_mrr`` (without
        the subscriptions canceled but still running).
    churn_reason
        Churn reason column (Stripe's ``cancellation_details.reason``), used when present:
        churn split into ``churned_voluntary``, ``churned_involuntary`` and ``churned_unknown``.
    percent_off, amount_off, discount_duration, duration_in_months, discount_start, discount_end
        Discount columns on the rows, used when the table has ``percent_off`` or ``amount_off``:
        percent (0 to 100) or amount (in the row's currency and interval) off; ``once``,
        ``repeating`` (``duration_in_months`` months) or ``forever`` (the default when the
        duration is missing); the start (default the subscription's first start) and an optional
        end. ``once`` covers the first billing period starting at or after the start.
    discounts
        A discounts table keyed by ``subscription_id`` or ``customer_id`` with ``percent_off``,
        ``amount_off``, ``duration``, ``duration_in_months``, ``start``, ``end``; a customer's
        discounts are allocated over its subscriptions in proportion to their amounts.
    stacking
        ``"sequential"`` (default: each percent applies to what the previous left, two 10% take
        19%) or ``"sum"`` (the percents add up, 20%); amounts off apply after percents, and the
        net is never below 0.
    mrr_basis
        ``"net"`` (default: net of every discount active at the snapshot), ``"contract"``
        (undiscounted) or ``"forever_only"`` (only forever discounts deducted).
    with_contract
        Add ``net_mrr`` and ``contract_mrr`` columns side by side. Default False.
    trials
        ``"exclude"`` (default: trialing rows carry no MRR and make no customer) or
        ``"include"``.
    past_due
        ``"active"`` (default: a past-due row keeps its MRR until it ends) or ``"churn_after"``:
        churned (involuntarily) ``delinquency_days`` (default 30) after the delinquency began.
    paused
        ``"zero"`` (default: $0 but still a customer, counted in ``paused_customers``; the pause
        is a contraction and the resume an expansion), ``"active"`` (keeps its MRR) or
        ``"churn"``.
    churn_at
        ``"end"`` (default: churn when access ends) or ``"cancel"`` (at ``canceled_at``).
    churn_reasons
        Reasons mapped to ``"voluntary"`` or ``"involuntary"``, on top of Stripe's
        (``cancellation_requested`` voluntary; ``payment_failed``, ``payment_disputed``
        involuntary); anything else is ``unknown``.
    period_start, period_end, line_kind
        With ``table="invoices"`` (one row per invoice line: ``customer_id``, ``amount`` net of
        discounts and excluding tax, ``currency``, ``subscription_id`` when there): the line's
        service period and the column of its kind, ``subscription``, ``proration``, ``one_time`` or ``usage``
        (no kind column: every line is a subscription line). A recurring line is MRR over its
        service period, a whole number of calendar months counted as months and any other
        period as ``amount * (365/12) / days``; one-time and usage lines are not MRR and add
        ``non_recurring`` and ``usage`` revenue columns to the bridge and the KPIs, dated by
        their period start.
    prorations
        ``"spread"`` (default: a proration line adds its amount over its own service period,
        scaled to the billing period of the subscription line holding it, so a credit for unused
        time cancels what it credits) or ``"exclude"``.
    gap_tolerance_days
        With ``table="invoices"``: a renewal starting at most this many days after the
        previous service period of its subscription ended continues it (default 0: any gap is a
        churn at the end of the last service period).
"""

fill_docs(
    (mrr_bridge, mrr_movements, mrr, revenue_kpis),
    common=_COMMON_DOC.replace("{billing}", _BILLING_DOC),
)


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
