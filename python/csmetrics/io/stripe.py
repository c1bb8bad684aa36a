"""Stripe exports as the subscriptions, discounts and invoice-line tables of csmetrics.

:func:`read` takes files of Stripe subscription objects and of invoice objects, each a JSON array,
a list envelope (``{"object": "list", "data": [...]}``) or JSON lines (one object a line; the
reader tells them apart), in either API shape: before 2025-03-31 (subscription-level
``current_period_*``, a single ``discount``, invoice lines with ``price``, ``proration`` and
``type``) or from 2025-03-31 (item-level ``current_period_*``, ``discounts[]``, lines with
``pricing`` and ``parent``). :func:`read_dashboard_csv` takes the Dashboard's subscriptions CSV
export. Files only: nothing is fetched. Both give a :class:`StripeTables`.

The rules, as built (docs/io/stripe.md says the same with examples):

- Money is exact. Stripe amounts are integers in the currency's minor unit (``unit_amount_decimal``
  a decimal string of them); they become Decimal major units by a shift of the currency's
  exponent: 0 for BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF, 3 for BHD JOD
  KWD OMR TND, 2 for the others. Currency codes are upper-cased (``"eur"`` -> ``"EUR"``).
- Unix timestamps (seconds) become ``Datetime("us", "UTC")``.
- A subscription object holds today's prices and quantities only: each item gives the same price
  and quantity over the whole life of the subscription (the invoices hold the history). Items on
  a metered price (``recurring.usage_type = "metered"``) carry no MRR and give no rows (counted in
  ``skipped``). An item starts with the subscription (``start_date``), or at its own ``created``
  when it was added after the subscription was created.
- Status spells, per item: a trial (``trial_start`` to ``trial_end``) is a ``trialing`` row, and
  the paid life starts at ``trial_end``. The subscription's current status covers its current
  billing period: ``past_due``, ``unpaid`` and ``paused`` rows start at ``current_period_start``
  (the item's from 2025-03-31), with an ``active`` row before them. An active subscription with
  ``pause_collection`` set is ``paused`` from ``current_period_start`` in the same way (a
  scheduled ``resumes_at`` lies after the export and gives no row). A ``canceled`` subscription
  is one ``canceled`` row from its paid start to ``ended_at``; ``incomplete`` and
  ``incomplete_expired`` ones are one row of their status; a ``trialing`` one is its trial row.
  Rows of no length are left out.
- ``end`` (null while running) is ``ended_at``, else ``cancel_at``, else
  ``current_period_end`` when ``cancel_at_period_end`` is true. ``canceled_at`` (the request) and
  ``churn_reason`` (``cancellation_details.reason``) go on every row of the subscription.
- Discounts: the expanded discount objects of ``discount`` (before 2025-03-31) and of
  ``discounts[]``, and the ``discount`` of an expanded ``customer``. The coupon is ``coupon`` or
  ``source.coupon``. A discount with a ``subscription`` is keyed by it (and its customer); one
  without (the customer's) is keyed by customer only. One row per discount id.
  ``amount_off`` is in the coupon's currency, or in the subscription's from
  ``currency_options``. Discounts on single items are not read.
- Invoice lines: ``amount`` minus the line's ``discount_amounts`` (or, without them, the
  ``pretax_credit_amounts`` of type ``discount``) minus its tax-inclusive taxes (``tax_amounts``
  with ``inclusive``, or ``taxes`` with ``tax_behavior = "inclusive"``): net of discounts,
  excluding tax. ``kind`` is ``proration`` for a proration line (``proration``, or
  ``parent.*_details.proration``), ``usage`` for a subscription line on a metered price,
  ``subscription`` for other subscription lines (``type = "subscription"`` or ``parent.type =
  "subscription_item_details"``) and ``one_time`` for invoice items. From 2025-03-31 a line names
  its price by id (``pricing.price_details.price``): the metered ones are known from the
  subscriptions read in the same call (or an expanded price). Draft and void invoices, credit
  notes, refunds and any other object are left out and counted in ``skipped``: they do not move
  MRR.
- Fields the reader does not use are ignored. A field it needs and cannot find, or cannot take, is
  a :class:`~csmetrics.exceptions.StripeFormatError` naming the file, the object and the field.

Examples
--------
>>> import json, pathlib, tempfile
>>> from csmetrics.io import stripe
>>> sub = {"id": "sub_1", "customer": "cus_1", "status": "active", "start_date": 1704067200,
...        "created": 1704067200, "current_period_start": 1706745600,
...        "items": {"data": [{"quantity": 2, "price": {"id": "price_1", "unit_amount": 1999,
...            "currency": "eur", "recurring": {"interval": "month", "interval_count": 1}}}]}}
>>> path = pathlib.Path(tempfile.mkdtemp()) / "subs.jsonl"
>>> _ = path.write_text(json.dumps(sub) + "\\n")
>>> tables = stripe.read(subscriptions=path)
>>> tables.subscriptions.select("customer_id", "amount", "quantity", "currency").rows()
[('cus_1', Decimal('19.990'), 2, 'EUR')]
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl

from csmetrics._options import guard_module
from csmetrics.exceptions import StripeFormatError

__all__ = ["StripeTables", "currency_exponent", "read", "read_dashboard_csv"]

PathLike = str | os.PathLike[str]
Paths = PathLike | Sequence[PathLike]

_ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
_THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())
_STATUSES = frozenset(
    "trialing active past_due unpaid paused canceled incomplete incomplete_expired".split()
)
_INTERVALS = frozenset(("day", "week", "month", "year"))
_UTC = dt.timezone.utc
_TIME = pl.Datetime("us", "UTC")
# The smallest scale of the amount columns: every exponent fits, so tables of several files and
# currencies share one dtype; finer unit_amount_decimal values widen it.
_MIN_SCALE = 3


def currency_exponent(currency: str) -> int:
    """The number of decimals of ``currency``'s minor unit in Stripe amounts: 0 for the
    zero-decimal currencies (JPY, KRW, ...), 3 for BHD, JOD, KWD, OMR and TND, else 2.

    Examples
    --------
    >>> from csmetrics.io.stripe import currency_exponent
    >>> currency_exponent("jpy"), currency_exponent("EUR"), currency_exponent("kwd")
    (0, 2, 3)
    """
    code = currency.upper()
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


@dataclass(frozen=True)
class StripeTables:
    """The normalised tables read from a Stripe export.

    Attributes
    ----------
    subscriptions
        One row per status spell per subscription item: ``customer_id``, ``subscription_id``,
        ``plan`` (the price id), ``start``, ``end`` (null while running), ``amount`` (the unit
        amount per interval, Decimal major units), ``quantity``, ``interval``,
        ``interval_count``, ``currency``, ``status``, ``canceled_at``, ``churn_reason``: the
        columns every revenue function reads (``csm.mrr_bridge(tables.subscriptions,
        discounts=tables.discounts)``).
    discounts
        ``subscription_id`` (null for a customer's discount), ``customer_id``, ``discount_id``,
        ``coupon``, ``percent_off``, ``amount_off`` (Decimal major units), ``duration``,
        ``duration_in_months``, ``start``, ``end``: the ``discounts=`` table.
    invoice_lines
        ``invoice_id``, ``line_id``, ``customer_id``, ``subscription_id``, ``kind``
        (``subscription``, ``proration``, ``one_time``, ``usage``), ``amount`` (net of
        discounts, excluding tax, Decimal major units), ``currency``, ``period_start``,
        ``period_end``, ``quantity``.
    skipped
        What was read and deliberately left out, by kind (credit notes, void invoices, metered
        subscription items, ...), with counts.
    """

    subscriptions: pl.DataFrame
    discounts: pl.DataFrame
    invoice_lines: pl.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)

    def to_pandas(self) -> dict[str, Any]:
        """The three tables as pandas DataFrames, by name (``subscriptions``, ``discounts``,
        ``invoice_lines``)."""
        return {
            "subscriptions": self.subscriptions.to_pandas(),
            "discounts": self.discounts.to_pandas(),
            "invoice_lines": self.invoice_lines.to_pandas(),
        }


# --- locating fields and saying what is wrong with them --------------------------------------


def _field_name(keys: Sequence[str | int]) -> str:
    out = ""
    for key in keys:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += f".{key}" if out else key
    return out


@dataclass(frozen=True)
class _Node:
    """A JSON object (or a CSV row) inside an export, with where it is, for error messages:
    ``file``, the top object's ``kind`` and ``object_id``, and the path of this node in it."""

    file: str
    kind: str
    object_id: str
    data: Any
    prefix: tuple[str | int, ...] = ()

    def error(self, keys: Sequence[str | int], problem: str | None = None) -> StripeFormatError:
        name = _field_name((*self.prefix, *keys))
        if problem is None:
            message = f"{self.file}: {self.kind} {self.object_id} has no {name}"
        else:
            message = f"{self.file}: {self.kind} {self.object_id} has {name} {problem}"
        err = StripeFormatError(message)
        err.file, err.object_id, err.field = self.file, self.object_id, name
        return err


# --- reading files ---------------------------------------------------------------------------


def _paths(paths: Paths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    return [Path(p) for p in paths]


# --- subscriptions: one internal record per subscription, from JSON or CSV --------------------


@dataclass
class _Item:
    node: _Node
    plan: str | None
    start: dt.datetime
    amount: Decimal
    quantity: int
    interval: str
    interval_count: int
    currency: str
    period_start: dt.datetime | None
    period_end: dt.datetime | None


@dataclass
class _Subscription:
    node: _Node
    subscription_id: str
    customer_id: str
    status: str
    trial_start: dt.datetime | None
    trial_end: dt.datetime | None
    canceled_at: dt.datetime | None
    cancel_at: dt.datetime | None
    cancel_at_period_end: bool
    ended_at: dt.datetime | None
    collection_paused: bool
    churn_reason: str | None
    items: list[_Item]


def _spells(sub: _Subscription) -> Iterator[dict[str, Any]]:
    """The status spells of each item of ``sub`` (the rules of the module docstring)."""
    for item in sub.items:
        end = sub.ended_at or sub.cancel_at
        if end is None and sub.cancel_at_period_end:
            if item.period_end is None:
                raise item.node.error(("current_period_end",))
            end = item.period_end
        if sub.status == "canceled" and end is None:
            raise sub.node.error(("ended_at",))
        spells: list[tuple[dt.datetime, dt.datetime | None, str]] = []
        paid = item.start
        trial = sub.trial_start is not None and sub.trial_end is not None
        if sub.trial_start is not None and sub.trial_end is not None and sub.trial_end > paid:
            trial_end = sub.trial_end if end is None else min(sub.trial_end, end)
            spells.append((max(sub.trial_start, paid), trial_end, "trialing"))
            paid = sub.trial_end
        if sub.status == "trialing":
            if not trial:
                raise sub.node.error(("trial_end",))
        elif sub.status in ("incomplete", "incomplete_expired"):
            spells = [(item.start, end, sub.status)]
        elif sub.status == "canceled":
            spells.append((paid, end, "canceled"))
        elif sub.status == "active" and not sub.collection_paused:
            spells.append((paid, end, "active"))
        else:
            # past_due, unpaid, paused, or collection paused: the status of the current period.
            if item.period_start is None:
                raise item.node.error(("current_period_start",))
            current = max(item.period_start, paid)
            if end is not None:
                current = min(current, end)
            status = "paused" if sub.status == "active" else sub.status
            spells += [(paid, current, "active"), (current, end, status)]
        for start, stop, status in spells:
            if stop is not None and stop <= start:
                continue
            yield {
                "customer_id": sub.customer_id,
                "subscription_id": sub.subscription_id,
                "plan": item.plan,
                "start": start,
                "end": stop,
                "amount": item.amount,
                "quantity": item.quantity,
                "interval": item.interval,
                "interval_count": item.interval_count,
                "currency": item.currency,
                "status": status,
                "canceled_at": sub.canceled_at,
                "churn_reason": sub.churn_reason,
            }


# --- frames ------------------------------------------------------------------------------------


def _scale(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> int:
    scale = _MIN_SCALE
    for row in rows:
        for column in columns:
            value = row[column]
            if isinstance(value, Decimal):
                exponent = value.as_tuple().exponent
                if isinstance(exponent, int):
                    scale = max(scale, -exponent)
    return scale


def _frame(
    rows: list[dict[str, Any]], schema: dict[str, Any], money: Sequence[str]
) -> pl.DataFrame:
    scale = _scale(rows, money)
    full = {c: (pl.Decimal(38, scale) if c in money else t) for c, t in schema.items()}
    return pl.DataFrame({c: [r[c] for r in rows] for c in full}, schema=full)


_SUBSCRIPTIONS: dict[str, Any] = {
    "customer_id": pl.String,
    "subscription_id": pl.String,
    "plan": pl.String,
    "start": _TIME,
    "end": _TIME,
    "amount": None,
    "quantity": pl.Int64,
    "interval": pl.String,
    "interval_count": pl.Int64,
    "currency": pl.String,
    "status": pl.String,
    "canceled_at": _TIME,
    "churn_reason": pl.String,
}
_DISCOUNTS: dict[str, Any] = {
    "subscription_id": pl.String,
    "customer_id": pl.String,
    "discount_id": pl.String,
    "coupon": pl.String,
    "percent_off": pl.Float64,
    "amount_off": None,
    "duration": pl.String,
    "duration_in_months": pl.Int64,
    "start": _TIME,
    "end": _TIME,
}
_LINES: dict[str, Any] = {
    "invoice_id": pl.String,
    "line_id": pl.String,
    "customer_id": pl.String,
    "subscription_id": pl.String,
    "kind": pl.String,
    "amount": None,
    "currency": pl.String,
    "period_start": _TIME,
    "period_end": _TIME,
    "quantity": pl.Int64,
}


def _tables(
    subscriptions: list[_Subscription],
    discounts: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    skipped: Counter[str],
) -> StripeTables:
    rows = [row for sub in subscriptions for row in _spells(sub)]
    with_rows = {(r["customer_id"], r["subscription_id"]) for r in rows}
    customers = {r["customer_id"] for r in rows}
    kept = []
    for discount in discounts:
        key = (discount["customer_id"], discount["subscription_id"])
        if discount["subscription_id"] is None and discount["customer_id"] in customers:
            kept.append(discount)
        elif key in with_rows:
            kept.append(discount)
        else:
            skipped["discounts of subscriptions without rows"] += 1
    rows.sort(key=lambda r: (r["customer_id"], r["subscription_id"], r["plan"] or "", r["start"]))
    kept.sort(key=lambda r: (r["customer_id"], r["subscription_id"] or "", r["start"]))
    lines.sort(key=lambda r: (r["customer_id"], r["period_start"], r["invoice_id"]))
    return StripeTables(
        subscriptions=_frame(rows, _SUBSCRIPTIONS, ["amount"]),
        discounts=_frame(kept, _DISCOUNTS, ["amount_off"]),
        invoice_lines=_frame(lines, _LINES, ["amount"]),
        skipped=dict(sorted(skipped.items())),
    )


def read(subscriptions: Paths | None = None, invoices: Paths | None = None) -> StripeTables:
    """Read Stripe subscription and invoice objects from exported files.

    Parameters
    ----------
    subscriptions
        A path, or a list of paths, of subscription objects (with their ``items`` and prices):
        JSON arrays, list envelopes or JSON lines, in either API shape.
    invoices
        A path, or a list of paths, of invoice objects with their ``lines``. Credit notes,
        refunds and other objects in these files, and draft or void invoices, are counted in
        ``skipped`` and left out.

    Returns
    -------
    StripeTables
        ``subscriptions``, ``discounts`` and ``invoice_lines`` (empty when their files are not
        given) and ``skipped``.

    Raises
    ------
    StripeFormatError
        A needed field is missing or holds what the reader cannot take; the message names the
        file, the object id and the field.
    """
    from csmetrics import _internal

    names = [
        [str(path) for path in _paths(given)] if given is not None else []
        for given in (subscriptions, invoices)
    ]
    frames = _internal.read_stripe(names[0], names[1])
    return StripeTables(
        subscriptions=frames[0],
        discounts=frames[1],
        invoice_lines=frames[2],
        skipped=dict(frames[3]),
    )


# --- the Dashboard's subscriptions CSV -------------------------------------------------------


def _csv_time(row: _Node, column: str, required: bool = False) -> dt.datetime | None:
    text = (row.data.get(column) or "").strip()
    if not text:
        if required:
            raise row.error((column,))
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise row.error((column,), f"= {text!r}, not a date and time") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


def _csv_text(row: _Node, column: str, required: bool = True) -> str | None:
    text = (row.data.get(column) or "").strip()
    if not text and required:
        raise row.error((column,))
    return text or None


def _csv_whole(row: _Node, column: str, default: int) -> int:
    text = _csv_text(row, column, required=False)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise row.error((column,), f"= {text!r}, not a whole number") from None


def read_dashboard_csv(path: PathLike) -> StripeTables:
    """Read the Stripe Dashboard's subscriptions CSV export.

    Columns read (others are ignored): ``id``, ``Customer ID``, ``Status``, ``Plan``,
    ``Quantity`` (default 1), ``Amount`` (the unit amount in major units, as the Dashboard
    writes it: ``19.99``, ``1200``), ``Currency``, ``Interval``, ``Interval Count`` (default 1),
    ``Start (UTC)`` (or ``Start Date (UTC)``, else ``Created (UTC)``), ``Current Period Start
    (UTC)``, ``Current Period End (UTC)``, ``Trial Start (UTC)``, ``Trial End (UTC)``,
    ``Canceled At (UTC)``, ``Cancel At (UTC)``, ``Cancel At Period End``, ``Ended At (UTC)``,
    ``Cancellation Reason``. Times are UTC (``2024-01-31 09:30`` or ISO 8601). Several rows with
    one ``id`` are the items of one subscription. The export carries no coupon details and no
    ``pause_collection``: ``discounts`` is empty, and a subscription whose collection is paused
    reads as active.

    Returns
    -------
    StripeTables
        ``subscriptions`` by the rules of :func:`read`; ``discounts`` and ``invoice_lines``
        empty.
    """
    name = str(path)
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("id", "Customer ID", "Status") if c not in (reader.fieldnames or [])]
        if missing:
            raise StripeFormatError(f"{name}: the export has no {missing[0]!r} column")
        by_id: dict[str, _Subscription] = {}
        for number, raw in enumerate(reader, 2):
            row = _Node(name, "row", f"{number} (subscription {raw.get('id') or '?'})", raw)
            subscription_id = str(_csv_text(row, "id"))
            currency = str(_csv_text(row, "Currency")).upper()
            amount_text = str(_csv_text(row, "Amount")).replace(",", "")
            try:
                amount = Decimal(amount_text)
            except InvalidOperation:
                raise row.error(("Amount",), f"= {amount_text!r}, not a number") from None
            interval = str(_csv_text(row, "Interval")).lower()
            if interval not in _INTERVALS:
                raise row.error(("Interval",), f"= {interval!r}, not day/week/month/year")
            start = (
                _csv_time(row, "Start (UTC)")
                or _csv_time(row, "Start Date (UTC)")
                or _csv_time(row, "Created (UTC)", required=True)
            )
            assert start is not None
            item = _Item(
                node=row,
                plan=_csv_text(row, "Plan", required=False),
                start=start,
                amount=amount,
                quantity=_csv_whole(row, "Quantity", 1),
                interval=interval,
                interval_count=_csv_whole(row, "Interval Count", 1),
                currency=currency,
                period_start=_csv_time(row, "Current Period Start (UTC)"),
                period_end=_csv_time(row, "Current Period End (UTC)"),
            )
            if subscription_id in by_id:
                by_id[subscription_id].items.append(item)
                continue
            status = str(_csv_text(row, "Status")).lower()
            if status not in _STATUSES:
                raise row.error(("Status",), f"= {status!r}, not a Stripe subscription status")
            flag = (_csv_text(row, "Cancel At Period End", required=False) or "").lower()
            by_id[subscription_id] = _Subscription(
                node=row,
                subscription_id=subscription_id,
                customer_id=str(_csv_text(row, "Customer ID")),
                status=status,
                trial_start=_csv_time(row, "Trial Start (UTC)"),
                trial_end=_csv_time(row, "Trial End (UTC)"),
                canceled_at=_csv_time(row, "Canceled At (UTC)"),
                cancel_at=_csv_time(row, "Cancel At (UTC)"),
                cancel_at_period_end=flag in ("true", "yes", "1"),
                ended_at=_csv_time(row, "Ended At (UTC)"),
                collection_paused=False,
                churn_reason=_csv_text(row, "Cancellation Reason", required=False),
                items=[item],
            )
    return _tables(list(by_id.values()), [], [], Counter())


# Nothing but a CsMetricsError leaves a public function.
guard_module(globals(), __all__)
