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
import json
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


def _dig(value: Any, keys: Sequence[str | int]) -> Any:
    for key in keys:
        if isinstance(key, int):
            if not isinstance(value, list) or key >= len(value):
                return None
            value = value[key]
        else:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        if value is None:
            return None
    return value


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

    def child(self, *keys: str | int) -> _Node:
        return _Node(
            self.file, self.kind, self.object_id, _dig(self.data, keys), (*self.prefix, *keys)
        )

    def opt(self, *keys: str | int) -> Any:
        return _dig(self.data, keys)

    def need(self, *keys: str | int) -> Any:
        value = _dig(self.data, keys)
        if value is None:
            raise self.error(keys)
        return value

    def text(self, *keys: str | int, required: bool = True) -> str | None:
        value = self.need(*keys) if required else self.opt(*keys)
        if value is None or isinstance(value, str):
            return value
        raise self.error(keys, f"= {value!r}, not a string")

    def ident(self, *keys: str | int, required: bool = True) -> str | None:
        """An id given as a string or as an expanded object with an ``id``."""
        value = self.need(*keys) if required else self.opt(*keys)
        if isinstance(value, dict):
            value = value.get("id")
            if value is None:
                raise self.error((*keys, "id"))
        if value is None or isinstance(value, str):
            return value
        raise self.error(keys, f"= {value!r}, not an id")

    def whole(self, *keys: str | int, required: bool = True) -> int | None:
        value = self.need(*keys) if required else self.opt(*keys)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self.error(keys, f"= {value!r}, not a whole number")

    def time(self, *keys: str | int, required: bool = False) -> dt.datetime | None:
        value = self.whole(*keys, required=required)
        return None if value is None else _from_unix(value)

    def flag(self, *keys: str | int) -> bool:
        value = self.opt(*keys)
        if value is None or isinstance(value, bool):
            return bool(value)
        raise self.error(keys, f"= {value!r}, not true or false")


def _from_unix(seconds: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=_UTC) + dt.timedelta(seconds=seconds)


def _major(minor: int | Decimal, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-currency_exponent(currency))


# --- reading files ---------------------------------------------------------------------------


def _paths(paths: Paths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    return [Path(p) for p in paths]


def _objects(path: Path, kind: str) -> Iterator[_Node]:
    """The objects of one export file: a JSON array, a list envelope, a single object, or JSON
    lines."""
    name = str(path)
    text = path.read_text(encoding="utf-8")
    values: list[Any]
    try:
        whole = json.loads(text) if text.strip() else []
    except json.JSONDecodeError:
        values = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                values.append(json.loads(line))
            except json.JSONDecodeError as err:
                message = f"{name}: line {number} is neither JSON lines nor part of one JSON value"
                raise StripeFormatError(f"{message}: {err.msg}") from None
    else:
        if isinstance(whole, dict) and isinstance(whole.get("data"), list):
            values = whole["data"]  # a list envelope, as the API returns it
        elif isinstance(whole, dict):
            values = [whole]
        elif isinstance(whole, list):
            values = whole
        else:
            raise StripeFormatError(f"{name}: holds {type(whole).__name__}, not Stripe objects")
    for position, value in enumerate(values, 1):
        if not isinstance(value, dict):
            raise StripeFormatError(f"{name}: object #{position} is not a JSON object")
        object_id = value.get("id")
        label = object_id if isinstance(object_id, str) else f"#{position}"
        yield _Node(name, kind, label, value)


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


def _item_from_json(
    sub: _Node, index: int, start: dt.datetime, created: dt.datetime | None
) -> _Item | None:
    """Item ``index`` of a subscription object; None for a metered one."""
    item = sub.child("items", "data", index)
    price = item.child("price")
    if price.data is None:
        raise item.error(("price",))
    if price.opt("recurring", "usage_type") == "metered":
        return None
    currency = str(price.text("currency")).upper()
    unit = price.whole("unit_amount", required=False)
    if unit is not None:
        amount = _major(unit, currency)
    else:
        text = price.opt("unit_amount_decimal")
        if text is None:
            raise price.error(("unit_amount",))
        try:
            amount = _major(Decimal(str(text)), currency)
        except InvalidOperation:
            raise price.error(("unit_amount_decimal",), f"= {text!r}, not a number") from None
    interval = price.text("recurring", "interval")
    if interval not in _INTERVALS:
        raise price.error(("recurring", "interval"), f"= {interval!r}, not day/week/month/year")
    count = price.whole("recurring", "interval_count", required=False) or 1
    quantity = item.whole("quantity")
    item_created = item.time("created")
    # An item added after the subscription was created starts when it was added.
    if item_created is not None and created is not None and item_created > created:
        start = max(start, item_created)
    # Item-level periods from 2025-03-31, the subscription's before.
    period_start = item.time("current_period_start") or sub.time("current_period_start")
    period_end = item.time("current_period_end") or sub.time("current_period_end")
    return _Item(
        item,
        price.ident("id", required=False),
        start,
        amount,
        int(quantity or 0),
        str(interval),
        count,
        currency,
        period_start,
        period_end,
    )


def _subscription_from_json(sub: _Node, skipped: Counter[str]) -> _Subscription:
    subscription_id = str(sub.text("id"))
    status = str(sub.text("status"))
    if status not in _STATUSES:
        raise sub.error(("status",), f"= {status!r}, not a Stripe subscription status")
    start = sub.time("start_date", required=True)
    assert start is not None
    created = sub.time("created")
    items_data = sub.need("items", "data")
    if not isinstance(items_data, list) or not items_data:
        raise sub.error(("items", "data", 0))
    items = []
    for index in range(len(items_data)):
        item = _item_from_json(sub, index, start, created)
        if item is None:
            skipped["metered subscription items"] += 1
        else:
            items.append(item)
    return _Subscription(
        node=sub,
        subscription_id=subscription_id,
        customer_id=str(sub.ident("customer")),
        status=status,
        trial_start=sub.time("trial_start"),
        trial_end=sub.time("trial_end"),
        canceled_at=sub.time("canceled_at"),
        cancel_at=sub.time("cancel_at"),
        cancel_at_period_end=sub.flag("cancel_at_period_end"),
        ended_at=sub.time("ended_at"),
        collection_paused=sub.opt("pause_collection") is not None,
        churn_reason=sub.text("cancellation_details", "reason", required=False),
        items=items,
    )


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


# --- discounts ---------------------------------------------------------------------------------


def _discount_nodes(sub: _Node) -> Iterator[_Node]:
    """The expanded discount objects a subscription object carries: ``discount``,
    ``discounts[]`` and its expanded customer's ``discount``."""
    seen: set[str] = set()
    single = sub.child("discount")
    if single.data is not None:
        seen.add(str(single.opt("id")))
        yield single
    listed = sub.opt("discounts")
    for index, entry in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(entry, str):
            if entry not in seen:
                raise sub.error(
                    ("discounts", index),
                    f"= {entry!r}: an id, not a discount object (export with the discounts "
                    "expanded)",
                )
            continue
        node = sub.child("discounts", index)
        seen.add(str(node.opt("id")))
        yield node
    customer = sub.child("customer", "discount")
    if isinstance(customer.data, dict):
        yield customer


def _discount_row(
    discount: _Node, customer_id: str, subscription_id: str, currency: str | None
) -> dict[str, Any]:
    coupon = discount.child("coupon")
    if coupon.data is None:
        coupon = discount.child("source", "coupon")
    if coupon.data is None:
        raise discount.error(("coupon",))
    if isinstance(coupon.data, str):
        raise discount.error(
            coupon.prefix[len(discount.prefix) :],
            f"= {coupon.data!r}: an id, not a coupon object (export with the coupon expanded)",
        )
    percent = coupon.opt("percent_off")
    if percent is not None and (isinstance(percent, bool) or not isinstance(percent, int | float)):
        raise coupon.error(("percent_off",), f"= {percent!r}, not a number")
    amount_off = None
    minor = coupon.whole("amount_off", required=False)
    if minor is not None:
        coupon_currency = str(coupon.text("currency")).upper()
        if currency is not None and coupon_currency != currency:
            options = coupon.child("currency_options", currency.lower())
            minor = options.whole("amount_off")
            coupon_currency = currency
        amount_off = _major(int(minor or 0), coupon_currency)
    if percent is None and amount_off is None:
        raise coupon.error(("percent_off",))
    duration = coupon.text("duration")
    if duration not in ("once", "repeating", "forever"):
        raise coupon.error(("duration",), f"= {duration!r}, not once/repeating/forever")
    months = coupon.whole("duration_in_months", required=duration == "repeating")
    owner = discount.ident("subscription", required=False)
    return {
        "subscription_id": subscription_id if owner is not None else None,
        "customer_id": customer_id,
        "discount_id": discount.text("id", required=False),
        "coupon": coupon.text("id", required=False),
        "percent_off": None if percent is None else float(percent),
        "amount_off": amount_off,
        "duration": duration,
        "duration_in_months": months,
        "start": discount.time("start", required=True),
        "end": discount.time("end"),
    }


# --- invoices ----------------------------------------------------------------------------------


def _price_usage(line: _Node, prices: Mapping[str, str | None]) -> str | None:
    """The usage type (``licensed`` or ``metered``) of a line's price."""
    price = line.opt("price")
    keys: tuple[str, ...] = ("price",)
    if price is None:
        price = line.opt("pricing", "price_details", "price")
        keys = ("pricing", "price_details", "price")
    if isinstance(price, dict):
        usage = _dig(price, ("recurring", "usage_type"))
        return str(usage) if usage is not None else None
    if isinstance(price, str):
        if price in prices:
            return prices[price]
        raise line.error(
            keys,
            f"= {price!r}, a price neither expanded nor on the subscriptions read "
            "(pass subscriptions= to tell metered prices)",
        )
    plan = line.opt("plan", "usage_type")
    if plan is not None:
        return str(plan)
    raise line.error(keys)


def _line_row(invoice: _Node, index: int, prices: Mapping[str, str | None]) -> dict[str, Any]:
    line = invoice.child("lines", "data", index)
    line_id = line.text("id", required=False)
    label = f"{invoice.object_id} line {line_id if line_id is not None else f'#{index + 1}'}"
    line = _Node(line.file, "invoice", label, line.data)
    parent = line.opt("parent")
    if parent is not None:  # from 2025-03-31
        parent_type = line.text("parent", "type")
        details = line.child("parent", str(parent_type))
        if parent_type == "subscription_item_details":
            recurring = True
        elif parent_type == "invoice_item_details":
            recurring = False
        else:
            raise line.error(("parent", "type"), f"= {parent_type!r}")
        proration = details.flag("proration")
        subscription = details.ident("subscription", required=False)
    else:
        line_type = line.opt("type")
        if line_type is None:
            raise line.error(("parent", "type"))
        if line_type not in ("subscription", "invoiceitem"):
            raise line.error(("type",), f"= {line_type!r}, not subscription or invoiceitem")
        recurring = line_type == "subscription"
        proration = line.flag("proration")
        subscription = line.ident("subscription", required=False)
    if subscription is None:
        subscription = invoice.ident("subscription", required=False) or invoice.ident(
            "parent", "subscription_details", "subscription", required=False
        )
    if proration:
        kind = "proration"
    elif not recurring:
        kind = "one_time"
    else:
        kind = "usage" if _price_usage(line, prices) == "metered" else "subscription"
    currency = str(line.text("currency")).upper()
    amount = int(line.whole("amount") or 0)
    discounts = line.opt("discount_amounts")
    if isinstance(discounts, list):
        off = [line.whole("discount_amounts", i, "amount") for i in range(len(discounts))]
    else:
        credits = line.opt("pretax_credit_amounts")
        off = [
            line.whole("pretax_credit_amounts", i, "amount")
            for i, credit in enumerate(credits if isinstance(credits, list) else [])
            if isinstance(credit, dict) and credit.get("type") == "discount"
        ]
    inclusive = [
        line.whole("tax_amounts", i, "amount")
        for i, tax in enumerate(line.opt("tax_amounts") or [])
        if isinstance(tax, dict) and tax.get("inclusive") is True
    ] + [
        line.whole("taxes", i, "amount")
        for i, tax in enumerate(line.opt("taxes") or [])
        if isinstance(tax, dict) and tax.get("tax_behavior") == "inclusive"
    ]
    net = amount - sum(v or 0 for v in off) - sum(v or 0 for v in inclusive)
    return {
        "invoice_id": invoice.object_id,
        "line_id": line_id,
        "customer_id": invoice.ident("customer"),
        "subscription_id": subscription,
        "kind": kind,
        "amount": _major(net, currency),
        "currency": currency,
        "period_start": line.time("period", "start", required=True),
        "period_end": line.time("period", "end", required=True),
        "quantity": line.whole("quantity", required=False),
    }


def _invoice_rows(
    invoice: _Node, prices: Mapping[str, str | None], skipped: Counter[str]
) -> Iterator[dict[str, Any]]:
    kind = invoice.opt("object") or ("invoice" if "lines" in invoice.data else "unknown object")
    if kind != "invoice":
        skipped[f"{kind} objects"] += 1
        return
    status = invoice.opt("status")
    if status in ("draft", "void"):
        skipped[f"{status} invoices"] += 1
        return
    lines = invoice.need("lines", "data")
    if not isinstance(lines, list):
        raise invoice.error(("lines", "data"), "that is not a list")
    if invoice.flag("lines", "has_more"):
        raise invoice.error(
            ("lines", "has_more"),
            "= true: the export holds only part of its lines (export them all)",
        )
    for index in range(len(lines)):
        yield _line_row(invoice, index, prices)


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
    skipped: Counter[str] = Counter()
    records: list[_Subscription] = []
    discounts: dict[str, dict[str, Any]] = {}
    prices: dict[str, str | None] = {}
    for path in _paths(subscriptions) if subscriptions is not None else []:
        for node in _objects(path, "subscription"):
            record = _subscription_from_json(node, skipped)
            records.append(record)
            # Lines from 2025-03-31 name their price by id: its usage type comes from here.
            for item in node.opt("items", "data") or []:
                price = _dig(item, ("price",))
                if isinstance(price, dict) and isinstance(price.get("id"), str):
                    usage = _dig(price, ("recurring", "usage_type"))
                    prices[price["id"]] = None if usage is None else str(usage)
            currency = record.items[0].currency if record.items else None
            for discount in _discount_nodes(node):
                row = _discount_row(discount, record.customer_id, record.subscription_id, currency)
                key = row["discount_id"] or repr(sorted(row.items(), key=str))
                discounts.setdefault(key, row)
    lines: list[dict[str, Any]] = []
    for path in _paths(invoices) if invoices is not None else []:
        for node in _objects(path, "invoice"):
            lines.extend(_invoice_rows(node, prices, skipped))
    return _tables(records, list(discounts.values()), lines, skipped)


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
