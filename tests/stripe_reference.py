"""The pure-Python reader of Stripe JSON exports that csmetrics shipped before the reader moved
into the Rust core (``csmetrics.io.stripe.read``): kept here, unchanged, as the independent
reference the tests compare the Rust reader with (tests/test_stripe_rust.py) and the benchmark
times (bench/bench_stripe.py). It reads one object at a time in Python (about 50 microseconds an
object). The parts it shares with the Dashboard CSV reader (the status spells, the frames) are
the package's own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from csmetrics.exceptions import StripeFormatError
from csmetrics.io import stripe as _package
from csmetrics.io.stripe import (
    _INTERVALS,
    _STATUSES,
    StripeTables,
    _Item,
    _Subscription,
    _tables,
    currency_exponent,
)

__all__ = ["read"]

PathLike = str | os.PathLike[str]
Paths = PathLike | Sequence[PathLike]
_UTC = dt.timezone.utc


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
class _Node(_package._Node):
    """The package's node (file, object, path; its ``error``) with the JSON field readers."""

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


def read(subscriptions: Paths | None = None, invoices: Paths | None = None) -> StripeTables:
    """The tables of the export files, as csmetrics.io.stripe.read gave them before it moved
    into the Rust core (the same parameters, results and errors)."""
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
