"""MRR from invoice lines (``table="invoices"``): hand-computed bridges, prorations, late
renewals, revenue outside MRR, bad input, and invoice lines generated from a subscriptions table
giving exactly that table's bridge, churn, cohorts and lives."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

import csmetrics as csm
from csmetrics.io import stripe

D = dt.date
STRIPE = Path(__file__).parent / "data" / "stripe"


def units(value: Fraction | int) -> int:
    """A monthly amount in units of 10^-6, rounded half to even like the core."""
    return round(Fraction(value) * 10**6)


def lines_frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["customer_id", "subscription_id", "kind", "amount", "period_start", "period_end"],
        orient="row",
    )


def bridge(lines: pl.DataFrame | pd.DataFrame, **options: object) -> pl.DataFrame:
    return csm.mrr_bridge(lines, table="invoices", money="units", **options)


# An upgrade mid-period, priced as Stripe prorates: 100 a month until 2024-02-16, then 200.
# February has 29 days; 14 remain: a credit of -100 * 14/29 = -48.28 and a charge of
# 200 * 14/29 = 96.55, each rounded to the cent. Each is scaled to February (29/14 of it) and
# netted with February's line of 100.
UPGRADE = [
    ("a", "s1", "subscription", 100.0, D(2024, 1, 1), D(2024, 2, 1)),
    ("a", "s1", "subscription", 100.0, D(2024, 2, 1), D(2024, 3, 1)),
    ("a", "s1", "proration", -48.28, D(2024, 2, 16), D(2024, 3, 1)),
    ("a", "s1", "proration", 96.55, D(2024, 2, 16), D(2024, 3, 1)),
    ("a", "s1", "subscription", 200.0, D(2024, 3, 1), D(2024, 4, 1)),
    ("a", None, "one_time", 30.0, D(2024, 2, 10), D(2024, 2, 10)),
    # An annual plan: 12 whole months, 100 a month.
    ("c", "s3", "subscription", 1200.0, D(2024, 1, 1), D(2025, 1, 1)),
    ("c", "s3", "usage", 7.5, D(2024, 3, 1), D(2024, 4, 1)),
]


def test_an_upgrade_with_prorations_moves_mrr_when_it_happens() -> None:
    b = bridge(lines_frame(UPGRADE), as_of=D(2024, 4, 30))
    feb_a = (
        100 * 10**6
        + units(Fraction(-4828, 100) * Fraction(29, 14))
        + units(Fraction(9655, 100) * Fraction(29, 14))
    )
    assert b["period"].to_list() == [D(2024, m, 1) for m in (1, 2, 3, 4)]
    assert b["new"].to_list() == [200 * 10**6, 0, 0, 0]
    # February: a grows to 100 + 199.996429 - 100.008571; March: to 200.
    assert b["expansion"].to_list() == [0, feb_a - 100 * 10**6, 200 * 10**6 - feb_a, 0]
    assert b["ending_mrr"].to_list() == [
        200 * 10**6,
        feb_a + 100 * 10**6,
        300 * 10**6,
        100 * 10**6,
    ]
    assert b["churned"].to_list() == [0, 0, 0, 200 * 10**6]
    assert b["churned_customers"].to_list() == [0, 0, 0, 1]
    # Revenue outside MRR, dated by the start of the line's period.
    assert b["non_recurring"].to_list() == [0, 30 * 10**6, 0, 0]
    assert b["usage"].to_list() == [0, 0, 7_500_000, 0]
    identity = (
        b["starting_mrr"]
        + b["new"]
        + b["expansion"]
        + b["reactivation"]
        - b["contraction"]
        - b["churned"]
    )
    assert identity.to_list() == b["ending_mrr"].to_list()


def test_excluded_prorations_move_mrr_at_the_next_full_period() -> None:
    b = bridge(lines_frame(UPGRADE), as_of=D(2024, 4, 30), prorations="exclude")
    assert b["expansion"].to_list() == [0, 0, 100 * 10**6, 0]
    assert b["ending_mrr"].to_list() == [v * 10**6 for v in (200, 200, 300, 100)]


def test_a_credit_for_unused_time_cancels_the_line_it_credits() -> None:
    # Canceled on 2024-03-11 with a credit for the 21 days of March left (of 31):
    # -31 * 21/31 = -21.00 exactly, so March's MRR from the 11th is 0.
    lines = lines_frame(
        [
            ("a", "s", "subscription", 31.0, D(2024, 2, 1), D(2024, 3, 1)),
            ("a", "s", "subscription", 31.0, D(2024, 3, 1), D(2024, 4, 1)),
            ("a", "s", "proration", -21.0, D(2024, 3, 11), D(2024, 4, 1)),
        ]
    )
    b = bridge(lines, as_of=D(2024, 4, 30))
    assert b["churned"].to_list() == [0, 31 * 10**6, 0]
    movements = csm.mrr_movements(lines, table="invoices", as_of=D(2024, 4, 30), mode="events")
    assert movements.select("period", "movement").rows() == [
        (D(2024, 2, 1), "new"),
        (D(2024, 3, 1), "churned"),
    ]


def test_a_service_period_of_other_lengths_counts_days() -> None:
    # 14 days of 70.00: 70 * (365/12) / 14 a month.
    lines = lines_frame([("a", "s", "subscription", 70.0, D(2024, 1, 1), D(2024, 1, 15))])
    b = bridge(lines, as_of=D(2024, 1, 10))
    assert b["ending_mrr"].to_list() == [units(Fraction(70 * 365, 12 * 14))]


def test_a_late_renewal_within_the_tolerance_continues_the_subscription() -> None:
    # The renewal of 2024-03-01 is paid and starts 5 days late.
    lines = lines_frame(
        [
            ("a", "s", "subscription", 10.0, D(2024, 1, 1), D(2024, 2, 1)),
            ("a", "s", "subscription", 10.0, D(2024, 2, 1), D(2024, 3, 1)),
            ("a", "s", "subscription", 10.0, D(2024, 3, 6), D(2024, 4, 6)),
            # Another subscription of a's, 5 a month, ending for good: never bridged to s's
            # renewal.
            ("a", "t", "subscription", 10.0, D(2024, 1, 1), D(2024, 3, 1)),
        ]
    )
    strict = bridge(lines, as_of=D(2024, 3, 31), mode="events")
    assert strict["churned_customers"].to_list() == [0, 0, 1]
    assert strict["reactivated_customers"].to_list() == [0, 0, 1]
    tolerant = bridge(lines, as_of=D(2024, 3, 31), mode="events", gap_tolerance_days=7)
    assert tolerant["churned_customers"].to_list() == [0, 0, 0]
    # s's February runs on to its renewal; t's end is a contraction.
    assert tolerant["contraction"].to_list() == [0, 0, 5 * 10**6]
    assert tolerant["ending_mrr"].to_list() == [15 * 10**6, 15 * 10**6, 10 * 10**6]
    # 5 days late with a tolerance of 3: a churn and a reactivation in March.
    late = bridge(lines, as_of=D(2024, 3, 31), mode="events", gap_tolerance_days=3)
    assert late["churned_customers"].to_list() == [0, 0, 1]


def test_currencies_convert_through_the_fx_table() -> None:
    lines = pl.DataFrame(
        {
            "customer_id": ["a", "b"],
            "amount": [19.99, 1200],
            "currency": ["EUR", "JPY"],
            "period_start": [D(2024, 1, 1), D(2024, 1, 1)],
            "period_end": [D(2024, 2, 1), D(2024, 4, 1)],
        }
    )
    b = bridge(lines, as_of=D(2024, 1, 31), fx={"EUR": 1.1, "JPY": 0.0062})
    assert b["ending_mrr"].to_list() == [units(Fraction("19.99") * Fraction("1.1")) + 2_480_000]
    with pytest.raises(csm.InvalidInputError, match=r"currency.*fx="):
        bridge(lines, as_of=D(2024, 1, 31))


def test_pandas_lines_give_the_polars_bridge() -> None:
    lines = lines_frame(UPGRADE)
    expected = bridge(lines, as_of=D(2024, 4, 30))
    got = bridge(lines.to_pandas(), as_of=D(2024, 4, 30))
    assert isinstance(got, pd.DataFrame)
    assert got["ending_mrr"].tolist() == expected["ending_mrr"].to_list()
    assert got["non_recurring"].tolist() == expected["non_recurring"].to_list()


@pytest.mark.parametrize(
    ("change", "column", "pattern"),
    [
        ({"kind": "refund"}, "kind", "subscription, proration, one_time, usage; found 'refund'"),
        ({"period_end": None}, "period_end", "end of its service period; found null"),
        ({"period_end": D(2023, 12, 1)}, "period_end", "end after it starts"),
        ({"period_start": None}, "period_start", "start of its service period; found null"),
        ({"amount": None}, "amount", "null"),
    ],
)
def test_bad_lines_are_errors_naming_column_and_row(
    change: dict[str, object], column: str, pattern: str
) -> None:
    rows = lines_frame(UPGRADE).to_dicts()
    rows[2].update(change)
    lines = pl.DataFrame(rows, schema=lines_frame(UPGRADE).schema)
    with pytest.raises(csm.InvalidInputError, match=pattern) as err:
        bridge(lines, as_of=D(2024, 4, 30))
    assert err.value.column == column
    assert err.value.row == 2


def test_a_credit_without_its_line_is_an_error() -> None:
    lines = lines_frame(
        [
            ("a", "s", "subscription", 10.0, D(2024, 1, 1), D(2024, 2, 1)),
            ("a", "s", "proration", -8.0, D(2024, 2, 10), D(2024, 3, 1)),
        ]
    )
    with pytest.raises(csm.InvalidInputError, match=r"negative.*prorations='exclude'") as err:
        bridge(lines, as_of=D(2024, 3, 31))
    assert err.value.column == "amount"
    assert err.value.row == 1
    assert bridge(lines, as_of=D(2024, 3, 31), prorations="exclude")["churned"].to_list() == [
        0,
        10 * 10**6,
        0,
    ]


# A subscriptions table and the invoice lines it bills: the same history.
PLANS = [("month", 1), ("quarter", 3), ("year", 12)]


def add_months(day: dt.date, months: int) -> dt.date:
    """``months`` calendar months after ``day``, on its day of the month clamped to the
    month's length, as billing dates are."""
    y, m = divmod(day.month - 1 + months, 12)
    return D(day.year + y, m + 1, min(day.day, calendar.monthrange(day.year + y, m + 1)[1]))


def consistent_pair(seed: int, customers: int = 150) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Subscriptions whose rows start on any day of the month (the 29th to the 31st clamped to
    short months) and end on whole billing periods (a plan change, a gap before a return, or
    never), and one invoice line per billing period of every row, up to the period holding
    AS_OF."""
    rng = random.Random(seed)
    subs: list[tuple] = []
    lines: list[tuple] = []
    for c in range(customers):
        month = rng.randint(1, 12)
        start = D(2022, month, min(rng.randint(1, 31), calendar.monthrange(2022, month)[1]))
        for s in range(rng.randint(1, 2)):
            sub = f"c{c}s{s}"
            at = start
            for _ in range(rng.randint(1, 3)):
                interval, months = rng.choice(PLANS)
                amount = rng.choice([0, 9, 19.5, 49, 120, 1000.25])
                periods = rng.choice([None, 1, 2, 5])
                end = None if periods is None else add_months(at, months * periods)
                subs.append((f"c{c}", sub, at, end, float(amount), interval))
                k = 0
                while (end is None or add_months(at, months * k) < end) and add_months(
                    at, months * k
                ) <= AS_OF:
                    a, z = add_months(at, months * k), add_months(at, months * (k + 1))
                    lines.append((f"c{c}", sub, "subscription", float(amount), a, z))
                    k += 1
                if end is None:
                    break
                # The next row: at the end (a change of plan) or after a gap (a return).
                at = add_months(end, rng.choice([0, 0, 2]))
            start = add_months(start, rng.randint(0, 6))
    subscriptions = pl.DataFrame(
        subs,
        schema=["customer_id", "subscription_id", "start", "end", "amount", "interval"],
        orient="row",
    )
    return subscriptions, lines_frame(lines)


AS_OF = D(2025, 6, 15)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mode", ["snapshot", "events"])
def test_invoice_lines_give_the_bridge_of_the_subscriptions_they_bill(seed: int, mode: str) -> None:
    subs, lines = consistent_pair(seed)
    options = {"as_of": AS_OF, "money": "units", "mode": mode}
    from_subs = csm.mrr_bridge(subs, **options)
    from_lines = csm.mrr_bridge(lines, table="invoices", **options)
    assert from_lines.drop("non_recurring", "usage").equals(from_subs)
    assert from_subs["new"].sum() > 0 and from_subs["churned"].sum() > 0
    assert from_subs["reactivation"].sum() > 0 and from_subs["expansion"].sum() > 0
    kpis = csm.revenue_kpis(lines, table="invoices", as_of=AS_OF, window=12)
    assert kpis.drop("non_recurring", "usage").equals(
        csm.revenue_kpis(subs, as_of=AS_OF, window=12)
    )


@pytest.mark.parametrize("seed", [4, 5])
def test_invoice_lines_give_the_churn_cohorts_and_lives_of_the_subscriptions(seed: int) -> None:
    subs, lines = consistent_pair(seed)
    invoices = {"table": "invoices"}
    assert csm.churn_rates(lines, as_of=AS_OF, **invoices).equals(
        csm.churn_rates(subs, as_of=AS_OF)
    )
    assert csm.cohort_retention(lines, as_of=AS_OF, kind="revenue", **invoices).equals(
        csm.cohort_retention(subs, as_of=AS_OF, kind="revenue")
    )
    assert csm.survival_table(lines, as_of=AS_OF, **invoices).equals(
        csm.survival_table(subs, as_of=AS_OF)
    )
    movements = csm.mrr_movements(lines, as_of=AS_OF, **invoices)
    assert movements.drop("cause").equals(csm.mrr_movements(subs, as_of=AS_OF).drop("cause"))


def test_stripe_invoice_lines_read_into_the_bridge() -> None:
    tables = stripe.read(
        subscriptions=STRIPE / "v2025" / "subscriptions.json",
        invoices=STRIPE / "v2025" / "invoices.jsonl",
    )
    b = csm.mrr_bridge(
        tables.invoice_lines,
        table="invoices",
        fx={"EUR": 1.0, "JPY": 0.0062},
        as_of=dt.datetime(2024, 6, 15, tzinfo=dt.timezone.utc),
        money="decimal",
    ).select("period", "new", "non_recurring", "usage")
    by_period = {row[0]: row[1:] for row in b.rows()}
    # January: acme's 5 seats at 19.99 less 10% (89.95) and bolt's first month at 25% off
    # (36.75) are new; acme's 1500 API calls at 2 cents are usage.
    assert by_period[D(2024, 1, 1)] == (Decimal("126.7"), Decimal(0), Decimal(30))
    # March: juno's 1200 yen every 3 months, at 0.0062, is 2.48 a month.
    assert by_period[D(2024, 3, 1)][0] == Decimal("2.48")
    # April: bolt's onboarding charge of 150.00 with 23.95 of tax included.
    assert by_period[D(2024, 4, 1)][1] == Decimal("126.05")


def test_the_scorecard_reads_invoice_lines_like_the_subscriptions_they_bill() -> None:
    subs, lines = consistent_pair(7)
    # A one-time charge and a usage line of April 2025 add only their own KPIs.
    extra = lines_frame(
        [
            ("c1", None, "one_time", 250.0, D(2025, 4, 3), D(2025, 4, 3)),
            ("c2", "c2s0", "usage", 12.5, D(2025, 4, 1), D(2025, 5, 1)),
        ]
    )
    with_extra = pl.concat([lines, extra], how="vertical_relaxed")
    from_subs = csm.scorecard(subscriptions=subs, as_of=AS_OF)
    from_lines = csm.scorecard(invoices=with_extra, as_of=AS_OF)
    other = pl.col("metric").is_in(["non_recurring_revenue", "usage_revenue"])
    assert from_lines.filter(~other).equals(from_subs)
    april = from_lines.filter(other & (pl.col("period") == D(2025, 4, 1)))
    assert dict(april.select("metric", "value").rows()) == {
        "non_recurring_revenue": 250.0,
        "usage_revenue": 12.5,
    }
    assert from_lines.filter(other & (pl.col("period") == D(2025, 3, 1)))["value"].sum() == 0


def test_the_report_reads_invoice_lines_like_the_subscriptions_they_bill(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    subs, lines = consistent_pair(8)
    headlines: list[dict[str, str]] = []
    texts = []
    for name, tables in [("subs", {"subscriptions": subs}), ("lines", {"invoices": lines})]:
        headline: dict[str, str] = {}
        out = csm.report(**tables, as_of=AS_OF, headline=headline, out=tmp_path / f"{name}.html")
        headlines.append(headline)
        texts.append(out.read_text("utf-8"))
    assert headlines[0] == headlines[1]
    assert headlines[0]["period"] == "May 2025"
    for section in ("mrr-bridge", "churn-nrr", "cohorts", "survival"):
        assert all(f'id="{section}"' in text for text in texts)
    # The subscriptions' MRR of May, rounded as the headline shows it.
    may = csm.revenue_kpis(subs, as_of=AS_OF).filter(pl.col("period") == D(2025, 5, 1))
    assert headlines[1]["MRR"] == f"{may['mrr'].item():,.0f}"
    with pytest.raises(csm.InvalidInputError, match="revenue_from='invoices' needs invoice"):
        csm.report(subscriptions=subs, revenue_from="invoices", out=tmp_path / "x.html")
    with pytest.raises(csm.InvalidInputError, match="revenue_from"):
        csm.report(subscriptions=subs, revenue_from="bills", out=tmp_path / "x.html")  # type: ignore[arg-type]
