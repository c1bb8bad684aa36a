"""The Stripe reader (csmetrics.io.stripe) on the hand-written fixtures of tests/data/stripe
(their story is in tests/data/stripe/README.md): the tables it gives, written out by hand here;
the same business in both API shapes gives the same tables; exact money; the errors; and the MRR
bridge of the fixture business, computed by hand in the comments."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import csmetrics as csm
from csmetrics.exceptions import InvalidInputError, StripeFormatError
from csmetrics.io import stripe

DATA = Path(__file__).parent / "data" / "stripe"
V2024 = DATA / "v2024"
V2025 = DATA / "v2025"
UTC = dt.timezone.utc


def T(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=UTC)


def unix(year: int, month: int, day: int) -> int:
    return int(T(year, month, day).timestamp())


@pytest.fixture(scope="module")
def v2024() -> stripe.StripeTables:
    return stripe.read(
        subscriptions=V2024 / "subscriptions.jsonl", invoices=V2024 / "invoices.jsonl"
    )


@pytest.fixture(scope="module")
def v2025() -> stripe.StripeTables:
    return stripe.read(
        subscriptions=V2025 / "subscriptions.json", invoices=V2025 / "invoices.jsonl"
    )


def D(text: str) -> Decimal:
    return Decimal(text)


# customer, subscription, plan, start, end, amount, quantity, interval, count, currency, status,
# canceled_at, churn_reason
SUBSCRIPTION_ROWS = [
    # seats: 5 x 19.99; the metered API item gives no row
    ("cus_acme", "sub_acme", "price_seat", T(2024, 1, 1), None, D("19.99"), 5, "month", 1, "EUR", "active", None, None),
    # today's quantity (3, after the March upgrade) over the whole life: the object knows no other
    ("cus_bolt", "sub_bolt", "price_team", T(2024, 1, 10), None, D("49"), 3, "month", 1, "EUR", "active", None, None),
    ("cus_cedar", "sub_cedar", "price_basic", T(2024, 2, 1), None, D("25"), 1, "month", 1, "EUR", "active", None, None),
    # a trial that converted: trialing, then active from trial_end
    ("cus_dune", "sub_dune", "price_pro", T(2024, 2, 1), T(2024, 2, 15), D("29"), 1, "month", 1, "EUR", "trialing", None, None),
    ("cus_dune", "sub_dune", "price_pro", T(2024, 2, 15), None, D("29"), 1, "month", 1, "EUR", "active", None, None),
    # a trial that ended unpaid: unpaid from the current period's start (= trial_end)
    ("cus_elm", "sub_elm", "price_pro", T(2024, 3, 1), T(2024, 3, 15), D("29"), 1, "month", 1, "EUR", "trialing", None, None),
    ("cus_elm", "sub_elm", "price_pro", T(2024, 3, 15), None, D("29"), 1, "month", 1, "EUR", "unpaid", None, None),
    # pause_collection: paused from the current period's start
    ("cus_fjord", "sub_fjord", "price_lite", T(2024, 1, 5), T(2024, 6, 5), D("15"), 1, "month", 1, "EUR", "active", None, None),
    ("cus_fjord", "sub_fjord", "price_lite", T(2024, 6, 5), None, D("15"), 1, "month", 1, "EUR", "paused", None, None),
    # past_due from the current (yearly) period's start
    ("cus_glen", "sub_glen", "price_plus_year", T(2023, 6, 1), T(2024, 6, 1), D("468"), 1, "year", 1, "EUR", "active", None, None),
    ("cus_glen", "sub_glen", "price_plus_year", T(2024, 6, 1), None, D("468"), 1, "year", 1, "EUR", "past_due", None, None),
    # cancel_at_period_end: ends at current_period_end, asked on June 10
    ("cus_hale", "sub_hale", "price_std", T(2024, 3, 1), T(2024, 7, 1), D("30"), 1, "month", 1, "EUR", "active", T(2024, 6, 10), "cancellation_requested"),
    # canceled by dunning
    ("cus_iris", "sub_iris", "price_plus", T(2024, 1, 15), T(2024, 4, 29), D("39"), 1, "month", 1, "EUR", "canceled", T(2024, 4, 29), "payment_failed"),
    # JPY, zero-decimal: 1200 minor units are 1200 yen, every 3 months
    ("cus_juno", "sub_juno", "price_jp_quarter", T(2024, 3, 1), None, D("1200"), 1, "month", 3, "JPY", "active", None, None),
]  # fmt: skip

# subscription, customer, discount, coupon, percent_off, amount_off, duration, months, start, end
DISCOUNT_ROWS = [
    ("sub_acme", "cus_acme", "di_acme", "FOREVER10", 10.0, None, "forever", None, T(2024, 1, 1), None),
    ("sub_bolt", "cus_bolt", "di_bolt", "WELCOME25", 25.0, None, "once", None, T(2024, 1, 10), None),
    # the customer's own discount: keyed by customer only; 500 cents are 5 euros
    (None, "cus_cedar", "di_cedar", "FIVEOFF3", None, D("5"), "repeating", 3, T(2024, 2, 1), T(2024, 5, 1)),
]  # fmt: skip

# invoice, line, customer, subscription, kind, amount, currency, period_start, period_end, quantity
LINE_ROWS = [
    # 1500 metered units x 2 cents, billed in arrears on February's invoice
    ("in_acme_feb", "il_acme_jan_api", "cus_acme", "sub_acme", "usage", D("30"), "EUR", T(2024, 1, 1), T(2024, 2, 1), 1500),
    # 9995 - 1000 discount; the exclusive tax (1709) is not in the amount
    ("in_acme_jan", "il_acme_jan_seats", "cus_acme", "sub_acme", "subscription", D("89.95"), "EUR", T(2024, 1, 1), T(2024, 2, 1), 5),
    ("in_acme_feb", "il_acme_feb_seats", "cus_acme", "sub_acme", "subscription", D("89.95"), "EUR", T(2024, 2, 1), T(2024, 3, 1), 5),
    # 4900 - 1225 (the once coupon, 25%)
    ("in_bolt_jan", "il_bolt_jan", "cus_bolt", "sub_bolt", "subscription", D("36.75"), "EUR", T(2024, 1, 10), T(2024, 2, 10), 1),
    # the upgrade from 1 to 3 seats on March 15: credit for unused time, charge for the rest
    ("in_bolt_mar_upgrade", "il_bolt_unused", "cus_bolt", "sub_bolt", "proration", D("-41.10"), "EUR", T(2024, 3, 15), T(2024, 4, 10), 1),
    ("in_bolt_mar_upgrade", "il_bolt_remaining", "cus_bolt", "sub_bolt", "proration", D("123.29"), "EUR", T(2024, 3, 15), T(2024, 4, 10), 3),
    ("in_bolt_apr", "il_bolt_apr", "cus_bolt", "sub_bolt", "subscription", D("147"), "EUR", T(2024, 4, 10), T(2024, 5, 10), 3),
    # one-time onboarding: 15000 - 2395 inclusive tax
    ("in_bolt_apr", "il_bolt_onboarding", "cus_bolt", "sub_bolt", "one_time", D("126.05"), "EUR", T(2024, 4, 10), T(2024, 4, 10), 1),
    ("in_dune_trial", "il_dune_trial", "cus_dune", "sub_dune", "subscription", D("0"), "EUR", T(2024, 2, 1), T(2024, 2, 15), 1),
    ("in_dune_feb", "il_dune_feb", "cus_dune", "sub_dune", "subscription", D("29"), "EUR", T(2024, 2, 15), T(2024, 3, 15), 1),
    ("in_juno_mar", "il_juno_mar", "cus_juno", "sub_juno", "subscription", D("1200"), "JPY", T(2024, 3, 1), T(2024, 6, 1), 1),
]  # fmt: skip

# the void invoice of cus_iris, the credit note of cus_acme, the metered item of sub_acme
SKIPPED = {"credit_note objects": 1, "metered subscription items": 1, "void invoices": 1}


def test_subscription_rows(v2024: stripe.StripeTables) -> None:
    assert v2024.subscriptions.columns == [
        "customer_id", "subscription_id", "plan", "start", "end", "amount", "quantity",
        "interval", "interval_count", "currency", "status", "canceled_at", "churn_reason",
    ]  # fmt: skip
    assert v2024.subscriptions.schema["start"] == pl.Datetime("us", "UTC")
    assert isinstance(v2024.subscriptions.schema["amount"], pl.Decimal)
    assert v2024.subscriptions.rows() == SUBSCRIPTION_ROWS


def test_discount_rows(v2024: stripe.StripeTables) -> None:
    assert v2024.discounts.rows() == DISCOUNT_ROWS


def test_invoice_line_rows(v2024: stripe.StripeTables) -> None:
    assert v2024.invoice_lines.rows() == LINE_ROWS
    assert v2024.skipped == SKIPPED


def test_both_api_shapes_give_the_same_tables(
    v2024: stripe.StripeTables, v2025: stripe.StripeTables
) -> None:
    assert_frame_equal(v2025.subscriptions, v2024.subscriptions)
    assert_frame_equal(v2025.discounts, v2024.discounts)
    assert_frame_equal(v2025.invoice_lines, v2024.invoice_lines)
    assert v2025.skipped == v2024.skipped


def test_json_array_envelope_lines_and_several_files(
    tmp_path: Path, v2024: stripe.StripeTables
) -> None:
    objects = [
        json.loads(line) for line in (V2024 / "subscriptions.jsonl").read_text().splitlines()
    ]
    (tmp_path / "array.json").write_text(json.dumps(objects, indent=2))
    (tmp_path / "list.json").write_text(json.dumps({"object": "list", "data": objects}))
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(o) for o in objects[:4]) + "\n\n")
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(o) for o in objects[4:]))
    for source in ("array.json", "list.json", ["a.jsonl", "b.jsonl"]):
        paths = [tmp_path / s for s in source] if isinstance(source, list) else tmp_path / source
        tables = stripe.read(subscriptions=paths)
        assert_frame_equal(tables.subscriptions, v2024.subscriptions)
        assert_frame_equal(tables.discounts, v2024.discounts)
        assert tables.invoice_lines.height == 0


def _add_noise(value: Any) -> Any:
    """``value`` with an unknown field added to every object in it."""
    if isinstance(value, dict):
        noisy = {k: _add_noise(v) for k, v in value.items()}
        noisy["x_unknown_field"] = {"nested": [1, "two", None]}
        return noisy
    if isinstance(value, list):
        return [_add_noise(v) for v in value]
    return value


def test_unknown_fields_are_ignored(tmp_path: Path, v2025: stripe.StripeTables) -> None:
    subs = json.loads((V2025 / "subscriptions.json").read_text())
    invoices = [json.loads(line) for line in (V2025 / "invoices.jsonl").read_text().splitlines()]
    (tmp_path / "subs.json").write_text(json.dumps(_add_noise(subs)))
    (tmp_path / "inv.jsonl").write_text("\n".join(json.dumps(_add_noise(o)) for o in invoices))
    assert "x_unknown_field" in (tmp_path / "subs.json").read_text()
    tables = stripe.read(subscriptions=tmp_path / "subs.json", invoices=tmp_path / "inv.jsonl")
    assert_frame_equal(tables.subscriptions, v2025.subscriptions)
    assert_frame_equal(tables.discounts, v2025.discounts)
    assert_frame_equal(tables.invoice_lines, v2025.invoice_lines)


# --- money --------------------------------------------------------------------------------------


def _subscription(
    sub_id: str = "sub_x", unit_amount: int | None = 1999, currency: str = "eur", **fields: Any
) -> dict[str, Any]:
    price: dict[str, Any] = {
        "id": "price_x",
        "currency": currency,
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
    }
    if unit_amount is not None:
        price["unit_amount"] = unit_amount
    sub = {
        "id": sub_id,
        "customer": "cus_x",
        "status": "active",
        "start_date": unix(2024, 1, 1),
        "created": unix(2024, 1, 1),
        "current_period_start": unix(2024, 3, 1),
        "current_period_end": unix(2024, 4, 1),
        "items": {"data": [{"id": "si_x", "quantity": 1, "price": price}]},
    }
    sub.update(fields)
    return sub


def _read_subs(tmp_path: Path, *subs: dict[str, Any], name: str = "subs.jsonl") -> Any:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(s) for s in subs) + "\n")
    return stripe.read(subscriptions=path)


def test_amounts_are_exact_in_each_currencys_minor_unit(tmp_path: Path) -> None:
    cases = [
        ("jpy", 1200, "1200"),  # zero-decimal
        ("eur", 1999, "19.99"),
        ("kwd", 12345, "12.345"),  # three decimals
        ("xof", 5000, "5000"),
        ("usd", 1, "0.01"),
    ]
    subs = [_subscription(f"sub_{c}", a, c) for c, a, _ in cases]
    amounts = dict(_read_subs(tmp_path, *subs).subscriptions.select("currency", "amount").rows())
    assert amounts == {c.upper(): Decimal(expected) for c, _, expected in cases}
    # a fractional unit_amount_decimal widens the scale instead of rounding
    sub = _subscription(unit_amount=None)
    sub["items"]["data"][0]["price"]["unit_amount_decimal"] = "1999.125"
    table = _read_subs(tmp_path, sub).subscriptions
    assert table["amount"].to_list() == [Decimal("19.99125")]


def test_currency_exponent() -> None:
    assert [stripe.currency_exponent(c) for c in ("JPY", "krw", "EUR", "usd", "BHD", "tnd")] == [
        0, 0, 2, 2, 3, 3,
    ]  # fmt: skip


# --- errors -------------------------------------------------------------------------------------


def test_a_missing_needed_field_names_file_object_and_field(tmp_path: Path) -> None:
    sub = _subscription("sub_123", unit_amount=None)
    with pytest.raises(StripeFormatError) as caught:
        _read_subs(tmp_path, sub)
    message = str(caught.value)
    assert (
        message
        == f"{tmp_path / 'subs.jsonl'}: subscription sub_123 has no items.data[0].price.unit_amount"
    )
    assert caught.value.object_id == "sub_123"
    assert caught.value.field == "items.data[0].price.unit_amount"
    assert isinstance(caught.value, InvalidInputError)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: s.pop("customer"), "customer"),
        (lambda s: s.pop("start_date"), "start_date"),
        (lambda s: s.update(status="frozen"), "status"),
        (lambda s: s.update(status="past_due", current_period_start=None), "items.data[0].current_period_start"),
        (lambda s: s.update(status="canceled"), "ended_at"),
        (lambda s: s["items"]["data"][0].pop("quantity"), "items.data[0].quantity"),
        (lambda s: s["items"]["data"][0]["price"]["recurring"].update(interval="fortnight"), "items.data[0].price.recurring.interval"),
        (lambda s: s.update(start_date="2024-01-01"), "start_date"),
        (lambda s: s.update(discounts=["di_only_an_id"]), "discounts[0]"),
        (lambda s: s.update(discount={"id": "di_1", "coupon": "CPN", "start": 1}), "discount.coupon"),
        (lambda s: s.update(discount={"id": "di_1", "start": 1, "coupon": {"duration": "once"}}), "discount.coupon.percent_off"),
        (lambda s: s.update(discount={"id": "di_1", "start": 1, "coupon": {"percent_off": 5, "duration": "repeating"}}), "discount.coupon.duration_in_months"),
    ],
)  # fmt: skip
def test_subscription_errors(tmp_path: Path, change: Any, field: str) -> None:
    sub = _subscription("sub_9")
    change(sub)
    with pytest.raises(
        StripeFormatError, match=re.escape("subs.jsonl: subscription sub_9 has ")
    ) as caught:
        _read_subs(tmp_path, sub)
    assert caught.value.field == field
    assert field in str(caught.value)


def _invoice_lines(tmp_path: Path, invoice: dict[str, Any], **options: Any) -> Any:
    path = tmp_path / "inv.jsonl"
    path.write_text(json.dumps(invoice) + "\n")
    return stripe.read(invoices=path, **options)


def _invoice() -> dict[str, Any]:
    lines = [json.loads(line) for line in (V2025 / "invoices.jsonl").read_text().splitlines()]
    return copy.deepcopy(next(o for o in lines if o["id"] == "in_acme_jan"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda i: i["lines"]["data"][0].pop("period"), "period.start"),
        (lambda i: i["lines"]["data"][0].pop("amount"), "amount"),
        (lambda i: i["lines"]["data"][0].pop("parent"), "parent.type"),
        (lambda i: i.pop("customer"), "customer"),
        (lambda i: i["lines"].update(has_more=True), "lines.has_more"),
    ],
)  # fmt: skip
def test_invoice_errors(tmp_path: Path, change: Any, field: str) -> None:
    invoice = _invoice()
    change(invoice)
    with pytest.raises(
        StripeFormatError, match=re.escape("inv.jsonl: invoice in_acme_jan")
    ) as caught:
        # the price of the line is named by id: the subscriptions tell its usage type
        _invoice_lines(tmp_path, invoice, subscriptions=V2025 / "subscriptions.json")
    assert caught.value.field == field


def test_a_line_price_known_by_id_only_needs_the_subscriptions(tmp_path: Path) -> None:
    with pytest.raises(StripeFormatError, match=re.escape("pricing.price_details.price")) as caught:
        _invoice_lines(tmp_path, _invoice())
    assert "in_acme_jan line il_acme_jan_seats" in str(caught.value)
    # an expanded price is enough on its own
    invoice = _invoice()
    details = invoice["lines"]["data"][0]["pricing"]["price_details"]
    details["price"] = {"id": "price_seat", "recurring": {"usage_type": "licensed"}}
    assert _invoice_lines(tmp_path, invoice).invoice_lines["kind"].to_list() == ["subscription"]


def test_not_json_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"id": "sub_1"}\n{"id": \n')
    with pytest.raises(StripeFormatError, match=re.escape("broken.jsonl: line 2")):
        stripe.read(subscriptions=path)


# --- spell rules on small cases ----------------------------------------------------------------


def test_scheduled_cancel_incomplete_and_a_later_item(tmp_path: Path) -> None:
    scheduled = _subscription("sub_a", cancel_at=unix(2024, 9, 1), canceled_at=unix(2024, 3, 5))
    incomplete = _subscription("sub_b", status="incomplete", ended_at=None)
    later = _subscription("sub_c")
    added = copy.deepcopy(later["items"]["data"][0])
    added.update(id="si_y", created=unix(2024, 2, 10), quantity=2)
    later["items"]["data"].append(added)
    rows = _read_subs(tmp_path, scheduled, incomplete, later).subscriptions
    got = rows.select("subscription_id", "start", "end", "quantity", "status", "canceled_at").rows()
    assert got == [
        ("sub_a", T(2024, 1, 1), T(2024, 9, 1), 1, "active", T(2024, 3, 5)),
        ("sub_b", T(2024, 1, 1), None, 1, "incomplete", None),
        ("sub_c", T(2024, 1, 1), None, 1, "active", None),
        ("sub_c", T(2024, 2, 10), None, 2, "active", None),
    ]


def test_a_trial_canceled_before_it_ends(tmp_path: Path) -> None:
    sub = _subscription(
        status="canceled",
        trial_start=unix(2024, 1, 1),
        trial_end=unix(2024, 1, 15),
        canceled_at=unix(2024, 1, 8),
        ended_at=unix(2024, 1, 8),
    )
    got = _read_subs(tmp_path, sub).subscriptions.select("start", "end", "status").rows()
    assert got == [(T(2024, 1, 1), T(2024, 1, 8), "trialing")]


# --- the Dashboard export ------------------------------------------------------------------------


def test_dashboard_csv_reads_as_the_objects(v2024: stripe.StripeTables) -> None:
    tables = stripe.read_dashboard_csv(DATA / "dashboard_subscriptions.csv")
    csv_ids = ["sub_acme", "sub_dune", "sub_glen", "sub_hale", "sub_iris", "sub_juno"]
    expected = [r for r in SUBSCRIPTION_ROWS if r[1] in csv_ids]
    assert tables.subscriptions.rows() == expected
    assert_frame_equal(
        tables.subscriptions, v2024.subscriptions.filter(pl.col("subscription_id").is_in(csv_ids))
    )
    assert tables.discounts.height == 0 and tables.invoice_lines.height == 0


def test_dashboard_csv_errors(tmp_path: Path) -> None:
    text = (DATA / "dashboard_subscriptions.csv").read_text().splitlines()
    (tmp_path / "no_status.csv").write_text(
        "\n".join(line.replace(",Status,", ",State,") for line in text)
    )
    with pytest.raises(
        StripeFormatError, match=re.escape("no_status.csv: the export has no 'Status'")
    ):
        stripe.read_dashboard_csv(tmp_path / "no_status.csv")
    (tmp_path / "bad.csv").write_text("\n".join([*text[:2], text[2].replace(",29.00,", ",,")]))
    with pytest.raises(
        StripeFormatError, match=r"bad.csv: row 3 \(subscription sub_dune\) has no Amount"
    ):
        stripe.read_dashboard_csv(tmp_path / "bad.csv")


# --- the bridge of the fixture business ----------------------------------------------------------


def test_mrr_bridge_of_the_fixture_business(v2025: stripe.StripeTables) -> None:
    # Monthly MRR in EUR per customer (fx: JPY at 0.0062 EUR), snapshot at each month's end and
    # at as_of = June 15; defaults trials="exclude", paused="zero", past_due="active", net MRR:
    #   acme   5 x 19.99 = 99.95, 10% forever off -> 89.955 from January
    #   bolt   3 x 49 = 147; the once 25% covers its first billing period [Jan 10, Feb 10):
    #          110.25 at the January snapshot, 147 from February (expansion 36.75, discount)
    #   cedar  25 - 5 (the customer's amount off, 3 months from Feb 1) = 20 in Feb-Apr, 25 from May
    #   dune   trial Feb 1-15 excluded, then 29 from February
    #   elm    trial then unpaid: never a customer
    #   fjord  15 from January, paused from June 5: 0 in June (contraction, still a customer)
    #   glen   468 / 12 = 39 since June 2023: the opening balance; past due from June 1, keeps it
    #   hale   30 from March; asked to cancel June 10, runs to July 1 (after as_of)
    #   iris   39 from January 15, ended April 29 by dunning: involuntary churn in April
    #   juno   1200 JPY / 3 months = 400 JPY x 0.0062 = 2.48 from March
    # month  starting   new                      expansion  contraction  churned  ending
    # Jan     39        89.955+110.25+15+39      0          0            0        293.205
    #                   = 254.205
    # Feb    293.205    20+29 = 49               36.75      0            0        378.955
    # Mar    378.955    30+2.48 = 32.48          0          0            0        411.435
    # Apr    411.435    0                        0          0            39       372.435
    # May    372.435    0                        5          0            0        377.435
    # Jun    377.435    0                        0          15           0        362.435
    # Paying customers at the ends: 5, 7, 9, 8, 8, 7 (fjord paused in June: active 8, paused 1).
    # Cancellation requests: iris at its own end (April 29: nothing left at risk, 0), hale in
    # June (30 at risk; committed MRR 362.435 - 30 = 332.435).
    bridge = csm.mrr_bridge(
        v2025.subscriptions,
        discounts=v2025.discounts,
        fx={"EUR": 1.0, "JPY": 0.0062},
        as_of=T(2024, 6, 15),
        observed_from=dt.date(2024, 1, 1),
    )
    columns = [
        "starting_mrr", "new", "expansion", "contraction", "churned", "reactivation",
        "ending_mrr",
    ]  # fmt: skip
    expected = [
        (39.0, 254.205, 0.0, 0.0, 0.0, 0.0, 293.205),
        (293.205, 49.0, 36.75, 0.0, 0.0, 0.0, 378.955),
        (378.955, 32.48, 0.0, 0.0, 0.0, 0.0, 411.435),
        (411.435, 0.0, 0.0, 0.0, 39.0, 0.0, 372.435),
        (372.435, 0.0, 5.0, 0.0, 0.0, 0.0, 377.435),
        (377.435, 0.0, 0.0, 15.0, 0.0, 0.0, 362.435),
    ]
    assert bridge["period"].to_list() == [dt.date(2024, m, 1) for m in range(1, 7)]
    for got, want in zip(bridge.select(columns).rows(), expected, strict=True):
        assert got == pytest.approx(want, abs=1e-9)
    counts = bridge.select(
        "starting_customers", "new_customers", "expansion_customers", "contraction_customers",
        "churned_customers", "ending_customers", "active_customers", "paused_customers",
    ).rows()  # fmt: skip
    assert counts == [
        (1, 4, 0, 0, 0, 5, 5, 0),
        (5, 2, 1, 0, 0, 7, 7, 0),
        (7, 2, 0, 0, 0, 9, 9, 0),
        (9, 0, 0, 0, 1, 8, 8, 0),
        (8, 0, 1, 0, 0, 8, 8, 0),
        (8, 0, 0, 1, 0, 7, 8, 1),
    ]
    assert bridge["churned_involuntary"].to_list() == [0.0, 0.0, 0.0, 39.0, 0.0, 0.0]
    assert bridge["churned_voluntary"].sum() == 0.0
    assert bridge["cancellations"].to_list() == [0, 0, 0, 1, 0, 1]
    assert bridge["cancellation_mrr"].to_list() == pytest.approx([0, 0, 0, 0, 0, 30.0])
    assert bridge["committed_mrr"][-1] == pytest.approx(332.435)


def test_mrr_bridge_of_the_dashboard_export() -> None:
    # The CSV holds acme, dune, glen, hale, iris and juno, without the coupon: acme is at 99.95.
    # Jan: starting 39 (glen), new acme 99.95 + iris 39 = 138.95 -> 177.95
    # Feb: new dune 29 -> 206.95; Mar: new hale 30 + juno 2.48 -> 239.43; Apr: iris churns -> 200.43
    tables = stripe.read_dashboard_csv(DATA / "dashboard_subscriptions.csv")
    bridge = csm.mrr_bridge(
        tables.subscriptions,
        fx={"EUR": 1.0, "JPY": 0.0062},
        as_of=T(2024, 4, 30),
        observed_from=dt.date(2024, 1, 1),
    )
    assert bridge["ending_mrr"].to_list() == pytest.approx([177.95, 206.95, 239.43, 200.43])
    assert bridge["churned"].to_list() == pytest.approx([0, 0, 0, 39.0])


def test_amount_off_in_the_subscriptions_currency_and_pandas(tmp_path: Path) -> None:
    coupon = {
        "id": "TEN",
        "amount_off": 1000,
        "currency": "usd",
        "currency_options": {"jpy": {"amount_off": 1500}},
        "duration": "forever",
    }
    discount = {"id": "di_1", "subscription": "sub_x", "start": unix(2024, 1, 1), "coupon": coupon}
    tables = _read_subs(
        tmp_path, _subscription(unit_amount=5000, currency="jpy", discount=discount)
    )
    # 1500 yen from the coupon's JPY option, not 10.00 USD
    assert tables.discounts.select("subscription_id", "amount_off").rows() == [
        ("sub_x", Decimal("1500"))
    ]
    frames = tables.to_pandas()
    assert list(frames) == ["subscriptions", "discounts", "invoice_lines"]
    assert frames["subscriptions"]["amount"].tolist() == [Decimal("5000")]
