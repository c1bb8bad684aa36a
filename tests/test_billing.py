"""Billing detail through the public API (METRICS.md 2.1, docs/metrics/billing.md): seats,
discounts, statuses, cancellations and churn reasons.

Three layers: scenarios computed by hand (the expected numbers and how they were reached are in
the comments), the input errors, and property tests that check the bridge identity, the movements
against the bridge and the brute force of ``billing_reference.py`` against the core on random
small tables under every combination of the policies.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pytest
from billing_reference import reference
from hypothesis import given, settings
from hypothesis import strategies as st

import csmetrics as csm
from csmetrics.exceptions import InvalidInputError

D = dt.date

# Every column a subscriptions table of these tests may carry, with its type.
SCHEMA: dict[str, Any] = {
    "customer_id": pl.String,
    "subscription_id": pl.String,
    "start": pl.Date,
    "end": pl.Date,
    "amount": pl.Float64,
    "interval": pl.String,
    "interval_count": pl.Int64,
    "quantity": pl.Int64,
    "status": pl.String,
    "canceled_at": pl.Date,
    "churn_reason": pl.String,
    "currency": pl.String,
    "percent_off": pl.Float64,
    "amount_off": pl.Float64,
    "discount_duration": pl.String,
    "duration_in_months": pl.Int64,
    "discount_start": pl.Date,
    "discount_end": pl.Date,
}
DISCOUNT_SCHEMA: dict[str, Any] = {
    "subscription_id": pl.String,
    "customer_id": pl.String,
    "percent_off": pl.Float64,
    "amount_off": pl.Float64,
    "duration": pl.String,
    "duration_in_months": pl.Int64,
    "start": pl.Date,
    "end": pl.Date,
}


def frame(rows: Sequence[dict[str, Any]], schema: dict[str, Any] | None = None) -> pl.DataFrame:
    """A frame of ``rows`` (dicts); its columns are those any row names, in schema order, and a
    row without a column holds null there."""
    schema = SCHEMA if schema is None else schema
    names = {k for r in rows for k in r}
    unknown = names - set(schema)
    assert not unknown, unknown
    columns = [c for c in schema if c in names]
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in columns}, schema={c: schema[c] for c in columns}
    )


def discounts(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    return frame(rows, DISCOUNT_SCHEMA)


def sub(
    customer: str,
    start: dt.date,
    end: dt.date | None,
    amount: float,
    interval: str = "month",
    **more: Any,
) -> dict[str, Any]:
    """One subscription row."""
    return {
        "customer_id": customer,
        "start": start,
        "end": end,
        "amount": amount,
        "interval": interval,
        **more,
    }


def P(month: int, year: int = 2024) -> dt.date:
    """The label of a month."""
    return D(year, month, 1)


def at(table: pl.DataFrame, period: dt.date) -> dict[str, Any]:
    """The row of ``period``."""
    return table.filter(pl.col("period") == period).row(0, named=True)


def column(table: pl.DataFrame, name: str) -> list[Any]:
    return table[name].to_list()


def moves(table: pl.DataFrame, *names: str) -> list[tuple[Any, ...]]:
    """Movement rows as (customer_id, period, movement, amount, cause, *names)."""
    return table.select("customer_id", "period", "movement", "amount", "cause", *names).rows()


def mrr_of(table: pl.DataFrame, customer: str, name: str = "mrr") -> list[Any]:
    return table.filter(pl.col("customer_id") == customer)[name].to_list()


# ---------------------------------------------------------------------------------------------
# Seats, reactivation and plan changes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_subscription_id", [True, False])
def test_seat_changes_are_expansion_and_contraction_never_churn_and_new(
    with_subscription_id: bool,
) -> None:
    ids = {"subscription_id": "s1"} if with_subscription_id else {}
    data = frame(
        [
            sub("a", D(2024, 1, 1), D(2024, 3, 1), 10.0, quantity=2, **ids),
            sub("a", D(2024, 3, 1), D(2024, 4, 10), 10.0, quantity=5, **ids),
            sub("a", D(2024, 4, 10), None, 10.0, quantity=3, **ids),
        ]
    )
    # MRR = unit amount x seats: Jan 2 x 10 = 20, Feb 20, Mar 5 x 10 = 50 (+30), Apr 3 x 10 = 30
    # (-20), May 30.
    bridge = csm.mrr_bridge(data, as_of=D(2024, 5, 15))
    assert column(bridge, "ending_mrr") == [20.0, 20.0, 50.0, 30.0, 30.0]
    assert column(bridge, "new") == [20.0, 0.0, 0.0, 0.0, 0.0]
    assert column(bridge, "expansion") == [0.0, 0.0, 30.0, 0.0, 0.0]
    assert column(bridge, "contraction") == [0.0, 0.0, 0.0, 20.0, 0.0]
    assert column(bridge, "churned") == [0.0] * 5
    assert column(bridge, "reactivation") == [0.0] * 5
    assert moves(csm.mrr_movements(data, as_of=D(2024, 5, 15))) == [
        ("a", P(1), "new", 20.0, "new"),
        ("a", P(3), "expansion", 30.0, "quantity"),
        ("a", P(4), "contraction", 20.0, "quantity"),
    ]
    # The seats changed at the instant one row ended and the next started: one change in the
    # event view too, not a churn and a new customer.
    events = csm.mrr_bridge(data, as_of=D(2024, 5, 15), mode="events")
    assert column(events, "churned") == [0.0] * 5
    assert column(events, "new") == [20.0, 0.0, 0.0, 0.0, 0.0]
    assert column(events, "expansion")[2] == 30.0
    churn = csm.churn_rates(data, as_of=D(2024, 5, 15))
    assert column(churn, "churned") == [0] * 5
    assert column(churn, "new") == [1, 0, 0, 0, 0]


def test_seats_of_zero_give_no_mrr() -> None:
    # 0 seats x 40 = 0: the customer is not paying in February; 2 seats again in March.
    data = frame(
        [
            sub("a", D(2024, 1, 1), D(2024, 2, 1), 40.0, subscription_id="s", quantity=1),
            sub("a", D(2024, 2, 1), D(2024, 3, 1), 40.0, subscription_id="s", quantity=0),
            sub("a", D(2024, 3, 1), None, 40.0, subscription_id="s", quantity=2),
        ]
    )
    assert column(csm.mrr(data, as_of=D(2024, 3, 5)), "mrr") == [40.0, 80.0]
    bridge = csm.mrr_bridge(data, as_of=D(2024, 3, 5))
    assert column(bridge, "churned") == [0.0, 40.0, 0.0]
    assert column(bridge, "reactivation") == [0.0, 0.0, 80.0]


def test_a_return_after_a_gap_is_a_reactivation_not_an_expansion() -> None:
    data = frame(
        [
            # The same subscription id across the gap does not make the return an expansion.
            sub("a", D(2024, 1, 1), D(2024, 2, 10), 100.0, subscription_id="s1"),
            sub("a", D(2024, 4, 5), None, 150.0, subscription_id="s1"),
            sub("b", D(2024, 1, 1), None, 10.0, subscription_id="s2"),
        ]
    )
    # a: Jan 100 (new); Feb 29 has no row (churned 100); Mar 0; Apr 150 (reactivation 150).
    bridge = csm.mrr_bridge(data, as_of=D(2024, 5, 1))
    assert column(bridge, "ending_mrr") == [110.0, 10.0, 10.0, 160.0, 160.0]
    assert column(bridge, "churned") == [0.0, 100.0, 0.0, 0.0, 0.0]
    assert column(bridge, "reactivation") == [0.0, 0.0, 0.0, 150.0, 0.0]
    assert column(bridge, "expansion") == [0.0] * 5
    assert column(bridge, "reactivated_customers") == [0, 0, 0, 1, 0]
    assert moves(csm.mrr_movements(data, as_of=D(2024, 5, 1)).filter(customer_id="a")) == [
        ("a", P(1), "new", 100.0, "new"),
        ("a", P(2), "churned", 100.0, "churn"),
        ("a", P(4), "reactivation", 150.0, "reactivation"),
    ]
    churn = csm.churn_rates(data, as_of=D(2024, 5, 1))
    assert (at(churn, P(4))["reactivated"], at(churn, P(4))["new"]) == (1, 0)


@pytest.mark.parametrize("mode", ["snapshot", "events"])
def test_a_price_change_on_the_same_subscription_is_a_plan_movement(mode: str) -> None:
    data = frame(
        [
            # Upgrade 100 -> 150 on Mar 15: one row ends, the next starts the same instant.
            sub("a", D(2024, 1, 1), D(2024, 3, 15), 100.0, subscription_id="s1"),
            sub("a", D(2024, 3, 15), None, 150.0, subscription_id="s1"),
            # Downgrade 100 -> 80.
            sub("b", D(2024, 1, 1), D(2024, 3, 15), 100.0, subscription_id="s2"),
            sub("b", D(2024, 3, 15), None, 80.0, subscription_id="s2"),
        ]
    )
    bridge = csm.mrr_bridge(data, as_of=D(2024, 4, 30), mode=mode)
    march = at(bridge, P(3))
    # March: +50 (a), -20 (b); nobody churns or is new.
    assert (march["expansion"], march["contraction"]) == (50.0, 20.0)
    assert (march["new"], march["churned"], march["reactivation"]) == (0.0, 0.0, 0.0)
    assert (march["churned_customers"], march["new_customers"]) == (0, 0)
    movements = csm.mrr_movements(data, as_of=D(2024, 4, 30), mode=mode)
    assert moves(movements.filter(pl.col("period") == P(3))) == [
        ("a", P(3), "expansion", 50.0, "plan"),
        ("b", P(3), "contraction", 20.0, "plan"),
    ]


# ---------------------------------------------------------------------------------------------
# Discounts
# ---------------------------------------------------------------------------------------------


def test_a_once_coupon_on_an_annual_plan_discounts_the_whole_first_year() -> None:
    data = frame(
        [
            # 1200 a year = 100 a month; 25% once covers the first billing period, the year
            # [2024-01-15, 2025-01-15): 75 at every month end of 2024, 100 from January 2025.
            sub(
                "a",
                D(2024, 1, 15),
                None,
                1200.0,
                "year",
                percent_off=25.0,
                discount_duration="once",
            ),
            # A monthly plan's once covers one month [Jan 15, Feb 15): 75 in January only.
            sub("b", D(2024, 1, 15), None, 100.0, percent_off=25.0, discount_duration="once"),
            # 120 off once on the annual plan: 120 / 12 = 10 a month off for the whole year.
            sub(
                "c",
                D(2024, 1, 15),
                None,
                1200.0,
                "year",
                amount_off=120.0,
                discount_duration="once",
            ),
        ]
    )
    result = csm.mrr(data, as_of=D(2025, 2, 28))
    assert mrr_of(result, "a") == [75.0] * 12 + [100.0, 100.0]
    assert mrr_of(result, "b") == [75.0] + [100.0] * 13
    assert mrr_of(result, "c") == [90.0] * 12 + [100.0, 100.0]
    bridge = csm.mrr_bridge(data, as_of=D(2025, 2, 28))
    assert at(bridge, P(2))["expansion"] == 25.0  # b's month is over
    assert at(bridge, P(1, 2025))["expansion"] == 35.0  # a (+25) and c (+10) after a year
    assert at(bridge, P(1, 2025))["expansion_customers"] == 2
    movements = csm.mrr_movements(data, as_of=D(2025, 2, 28)).filter(movement="expansion")
    assert moves(movements) == [
        ("a", P(1, 2025), "expansion", 25.0, "discount"),
        ("b", P(2), "expansion", 25.0, "discount"),
        ("c", P(1, 2025), "expansion", 10.0, "discount"),
    ]
    # Undiscounted, every month is 100 for each.
    contract = csm.mrr(data, as_of=D(2025, 2, 28), mrr_basis="contract")
    assert set(column(contract, "mrr")) == {100.0}


def test_once_covers_the_next_billing_period_on_the_anchor_s_calendar() -> None:
    data = frame(
        [
            # Billed on the 31st: periods start Jan 31, Feb 29 (clamped), Mar 31, ... A once
            # discount starting Feb 15 covers the first period starting at or after it,
            # [Feb 29, Mar 31). Snapshots: Jan 31 end 100; Feb 29 end 50; as_of Mar 30 still 50
            # (the period runs to Mar 31, not Mar 29).
            sub(
                "a",
                D(2024, 1, 31),
                None,
                100.0,
                percent_off=50.0,
                discount_duration="once",
                discount_start=D(2024, 2, 15),
            ),
            # Repeating 1 month from Jan 31 covers [Jan 31, Feb 29): 80 at the end of January.
            sub(
                "b",
                D(2024, 1, 31),
                None,
                100.0,
                percent_off=20.0,
                discount_duration="repeating",
                duration_in_months=1,
            ),
            # Forever with an end: [Jan 31, Mar 15).
            sub(
                "c",
                D(2024, 1, 31),
                None,
                100.0,
                amount_off=30.0,
                discount_duration="forever",
                discount_end=D(2024, 3, 15),
            ),
        ]
    )
    result = csm.mrr(data, as_of=D(2024, 3, 30))
    assert mrr_of(result, "a") == [100.0, 50.0, 50.0]
    assert mrr_of(result, "b") == [80.0, 100.0, 100.0]
    assert mrr_of(result, "c") == [70.0, 70.0, 100.0]
    assert column(csm.mrr(data, as_of=D(2024, 4, 5)).filter(customer_id="a"), "mrr") == [
        100.0,
        50.0,
        100.0,  # March ends after Mar 31: the coupon is over
        100.0,
    ]


def test_two_stacked_ten_percent_discounts_take_19_sequentially_and_20_summed() -> None:
    data = frame(
        [
            sub("a", D(2024, 1, 1), None, 100.0, subscription_id="s1"),
            sub("b", D(2024, 1, 1), None, 100.0, subscription_id="s2"),
            sub("c", D(2024, 1, 1), None, 100.0, subscription_id="s3"),
        ]
    )
    table = discounts(
        [
            {"subscription_id": "s1", "percent_off": 10.0, "duration": "forever"},
            {
                "subscription_id": "s1",
                "percent_off": 10.0,
                "duration": "forever",
                "start": D(2024, 3, 1),
            },
            # 60% and 50%: sequential 100 -> 40 -> 20; summed 110% capped at 100% -> 0.
            {"subscription_id": "s2", "percent_off": 60.0, "duration": "forever"},
            {"subscription_id": "s2", "percent_off": 50.0, "duration": "forever"},
            # Amount-off after percent-off whatever the order: from Feb, 100 x 50% - 10 = 40
            # (not (100 - 10) x 50% = 45).
            {"subscription_id": "s3", "amount_off": 10.0, "duration": "forever"},
            {
                "subscription_id": "s3",
                "percent_off": 50.0,
                "duration": "forever",
                "start": D(2024, 2, 1),
            },
        ]
    )
    # a: Jan-Feb 90; from March 90 x 0.9 = 81 (19% in all).
    sequential = csm.mrr(data, discounts=table, as_of=D(2024, 4, 1))
    assert mrr_of(sequential, "a") == [90.0, 90.0, 81.0, 81.0]
    assert mrr_of(sequential, "b") == [20.0] * 4
    assert mrr_of(sequential, "c") == [90.0, 40.0, 40.0, 40.0]
    # Summed: 100 x (1 - 0.2) = 80 from March.
    summed = csm.mrr(data, discounts=table, as_of=D(2024, 4, 1), stacking="sum")
    assert mrr_of(summed, "a") == [90.0, 90.0, 80.0, 80.0]
    assert mrr_of(summed, "b") == []  # $0 only because of discounts: not active
    assert mrr_of(summed, "c") == [90.0, 40.0, 40.0, 40.0]
    # ... unless free_is_active.
    free = csm.mrr(data, discounts=table, as_of=D(2024, 4, 1), stacking="sum", free_is_active=True)
    assert mrr_of(free, "b") == [0.0] * 4
    bridge = csm.mrr_bridge(data, discounts=table, as_of=D(2024, 4, 1))
    assert at(bridge, P(3))["contraction"] == 9.0
    movements = csm.mrr_movements(data, discounts=table, as_of=D(2024, 4, 1))
    assert moves(movements.filter(movement="contraction")) == [
        ("a", P(3), "contraction", 9.0, "discount"),
        ("c", P(2), "contraction", 50.0, "discount"),
    ]


def test_mrr_basis_and_contract_columns() -> None:
    data = frame(
        [
            # 100 - 20% forever = 80 always.
            sub("a", D(2024, 1, 1), None, 100.0, percent_off=20.0, discount_duration="forever"),
            # 50 - 10 for two months [Jan 1, Mar 1): 40, 40, then 50.
            sub(
                "a",
                D(2024, 1, 1),
                None,
                50.0,
                amount_off=10.0,
                discount_duration="repeating",
                duration_in_months=2,
            ),
            # 30 - 50% once [Jan 1, Feb 1): 15, then 30.
            sub("a", D(2024, 1, 1), None, 30.0, percent_off=50.0, discount_duration="once"),
        ]
    )
    cut = {"as_of": D(2024, 3, 15)}
    # net: Jan 80 + 40 + 15 = 135; Feb 80 + 40 + 30 = 150; Mar 80 + 50 + 30 = 160.
    assert column(csm.mrr(data, **cut), "mrr") == [135.0, 150.0, 160.0]
    # contract (undiscounted): 180 every month.
    assert column(csm.mrr(data, **cut, mrr_basis="contract"), "mrr") == [180.0] * 3
    # forever_only: only the 20% forever: 80 + 50 + 30 = 160.
    assert column(csm.mrr(data, **cut, mrr_basis="forever_only"), "mrr") == [160.0] * 3
    bridge = csm.mrr_bridge(data, **cut)
    assert column(bridge, "expansion") == [0.0, 15.0, 10.0]
    assert "net_mrr" not in bridge.columns
    # with_contract: net and undiscounted values beside the basis chosen.
    for function in (csm.mrr, csm.mrr_bridge, csm.revenue_kpis):
        table = function(data, **cut, mrr_basis="forever_only", with_contract=True)
        assert column(table, "net_mrr") == [135.0, 150.0, 160.0], function
        assert column(table, "contract_mrr") == [180.0] * 3, function
    assert (
        column(csm.mrr(data, **cut, mrr_basis="forever_only", with_contract=True), "mrr")
        == [160.0] * 3
    )
    plain = csm.mrr_bridge(data, **cut, with_contract=True)
    assert column(plain, "ending_mrr") == column(plain, "net_mrr")


def test_a_customer_level_discount_is_allocated_pro_rata() -> None:
    data = frame(
        [
            sub("a", D(2024, 1, 1), None, 100.0, subscription_id="s1"),
            sub(
                "a",
                D(2024, 1, 1),
                D(2024, 4, 1),
                300.0,
                subscription_id="s2",
                canceled_at=D(2024, 2, 10),
            ),
            sub("b", D(2024, 1, 1), None, 50.0, subscription_id="s3"),
            sub("c", D(2024, 1, 1), None, 100.0, subscription_id="s4"),
            sub("c", D(2024, 1, 1), None, 60.0, subscription_id="s5"),
        ]
    )
    table = discounts(
        [
            {"customer_id": "a", "amount_off": 40.0, "duration": "forever"},
            {"customer_id": "c", "percent_off": 25.0, "duration": "forever"},
        ]
    )
    # a: 100 + 300 - 40 = 360, the 40 split 10 / 30 (1:3): s1 90, s2 270. c: 75 + 45 = 120.
    # Jan-Mar ending 360 + 50 + 120 = 530. s2 asked to cancel on Feb 10 (access to Apr 1):
    # February cancellation MRR 270; committed MRR excludes s2 from February: 530 - 270 = 260.
    # April: s2 is gone, all 40 on s1: a = 60; ending 60 + 50 + 120 = 230 (a contracts 300).
    bridge = csm.mrr_bridge(data, discounts=table, as_of=D(2024, 4, 15))
    assert column(bridge, "ending_mrr") == [530.0, 530.0, 530.0, 230.0]
    assert column(bridge, "cancellations") == [0, 1, 0, 0]
    assert column(bridge, "cancellation_mrr") == [0.0, 270.0, 0.0, 0.0]
    assert column(bridge, "committed_mrr") == [530.0, 260.0, 260.0, 230.0]
    assert column(bridge, "contraction") == [0.0, 0.0, 0.0, 300.0]
    result = csm.mrr(data, discounts=table, as_of=D(2024, 4, 15))
    assert mrr_of(result, "a") == [360.0, 360.0, 360.0, 60.0]
    assert mrr_of(result, "c") == [120.0] * 4


# ---------------------------------------------------------------------------------------------
# Statuses
# ---------------------------------------------------------------------------------------------


def trial_table() -> pl.DataFrame:
    return frame(
        [
            sub("b", D(2024, 1, 1), None, 10.0, subscription_id="s0", status="active"),
            # A trial from Jan 20 converting on Mar 5.
            sub("a", D(2024, 1, 20), D(2024, 3, 5), 100.0, subscription_id="s1", status="trialing"),
            sub("a", D(2024, 3, 5), None, 100.0, subscription_id="s1", status="active"),
        ]
    )


def test_trials_are_mrr_only_when_included_and_convert_in_the_first_paid_period() -> None:
    data = trial_table()
    cut = {"as_of": D(2024, 4, 10)}
    # exclude (default): a has no MRR during the trial and is new in March, its first paid period.
    bridge = csm.mrr_bridge(data, **cut)
    assert column(bridge, "ending_mrr") == [10.0, 10.0, 110.0, 110.0]
    assert column(bridge, "new") == [10.0, 0.0, 100.0, 0.0]
    assert column(bridge, "new_customers") == [1, 0, 1, 0]
    assert mrr_of(csm.mrr(data, **cut), "a") == [100.0, 100.0]
    assert moves(csm.mrr_movements(data, **cut).filter(customer_id="a")) == [
        ("a", P(3), "new", 100.0, "new")
    ]
    churn = csm.churn_rates(data, **cut)
    assert column(churn, "new") == [1, 0, 1, 0]
    assert column(churn, "customers_end") == [1, 1, 2, 2]
    cohorts = csm.cohort_retention(data, **cut).filter(age=0)
    assert cohorts.select("cohort", "cohort_size").rows() == [(P(1), 1), (P(3), 1)]
    # Its life starts with the first paid row: Mar 5 to Apr 10 = 36 days.
    lives = csm.survival_table(data, **cut).filter(customer_id="a")
    assert column(lives, "duration") == [36.0]
    # include: the trial counts from its start, new in January; no movement in March.
    included = csm.mrr_bridge(data, **cut, trials="include")
    assert column(included, "new") == [110.0, 0.0, 0.0, 0.0]
    assert column(included, "ending_mrr") == [110.0] * 4
    assert mrr_of(csm.mrr(data, **cut, trials="include"), "a") == [100.0] * 4
    assert column(csm.churn_rates(data, **cut, trials="include"), "new") == [2, 0, 0, 0]


@pytest.mark.parametrize("free_is_active", [False, True])
def test_a_trial_that_ends_unpaid_never_makes_a_customer(free_is_active: bool) -> None:
    data = frame(
        [
            sub("b", D(2024, 1, 1), None, 10.0, subscription_id="s0", status="active"),
            # A trial, then an unpaid invoice, then nothing.
            sub("c", D(2024, 1, 5), D(2024, 2, 5), 50.0, subscription_id="s1", status="trialing"),
            sub("c", D(2024, 2, 5), D(2024, 2, 25), 50.0, subscription_id="s1", status="unpaid"),
            # A trial that just ends; and one that stays incomplete.
            sub("d", D(2024, 1, 5), D(2024, 2, 5), 50.0, subscription_id="s2", status="trialing"),
            sub("e", D(2024, 2, 5), D(2024, 3, 5), 50.0, subscription_id="s3", status="incomplete"),
        ]
    )
    cut = {"as_of": D(2024, 4, 1), "free_is_active": free_is_active}
    churn = csm.churn_rates(data, **cut)
    assert column(churn, "customers_end") == [1, 1, 1, 1]
    assert column(churn, "new") == [1, 0, 0, 0]
    assert column(churn, "churned") == [0, 0, 0, 0]
    bridge = csm.mrr_bridge(data, **cut)
    assert column(bridge, "churned") == [0.0] * 4
    assert column(bridge, "churned_customers") == [0] * 4
    assert column(bridge, "active_customers") == [1] * 4
    assert set(column(csm.mrr(data, **cut), "customer_id")) == {"b"}
    cohorts = csm.cohort_retention(data, **cut)
    assert set(column(cohorts, "cohort_size")) == {1}
    assert set(column(cohorts, "cohort")) == {P(1)}
    assert column(csm.survival_table(data, **cut), "customer_id") == ["b"]


def pause_table() -> pl.DataFrame:
    return frame(
        [
            sub("a", D(2024, 1, 1), D(2024, 3, 1), 100.0, subscription_id="s1", status="active"),
            sub("a", D(2024, 3, 1), D(2024, 5, 1), 100.0, subscription_id="s1", status="paused"),
            sub("a", D(2024, 5, 1), None, 100.0, subscription_id="s1", status="active"),
            sub("b", D(2024, 1, 1), None, 10.0, subscription_id="s2", status="active"),
        ]
    )


def test_pause_is_a_contraction_to_zero_and_resume_an_expansion() -> None:
    data = pause_table()
    cut = {"as_of": D(2024, 6, 15)}
    # paused="zero": a pays 100 in Jan-Feb, 0 in Mar-Apr (paused), 100 from May.
    bridge = csm.mrr_bridge(data, **cut)
    assert column(bridge, "ending_mrr") == [110.0, 110.0, 10.0, 10.0, 110.0, 110.0]
    assert column(bridge, "contraction") == [0.0, 0.0, 100.0, 0.0, 0.0, 0.0]
    assert column(bridge, "expansion") == [0.0, 0.0, 0.0, 0.0, 100.0, 0.0]
    assert column(bridge, "churned") == [0.0] * 6
    assert column(bridge, "reactivation") == [0.0] * 6
    assert column(bridge, "contraction_customers") == [0, 0, 1, 0, 0, 0]
    assert column(bridge, "expansion_customers") == [0, 0, 0, 0, 1, 0]
    assert column(bridge, "churned_customers") == [0] * 6
    assert column(bridge, "reactivated_customers") == [0] * 6
    assert column(bridge, "paused_customers") == [0, 0, 1, 1, 0, 0]
    # Paying customers exclude the paused one; active customers include it.
    assert column(bridge, "ending_customers") == [2, 2, 1, 1, 2, 2]
    assert column(bridge, "active_customers") == [2] * 6
    assert moves(csm.mrr_movements(data, **cut).filter(customer_id="a")) == [
        ("a", P(1), "new", 100.0, "new"),
        ("a", P(3), "contraction", 100.0, "status"),
        ("a", P(5), "expansion", 100.0, "status"),
    ]
    listed = csm.mrr(data, **cut).filter(customer_id="a")
    assert listed.select("period", "mrr", "paused").rows() == [
        (P(1), 100.0, False),
        (P(2), 100.0, False),
        (P(3), 0.0, True),
        (P(4), 0.0, True),
        (P(5), 100.0, False),
        (P(6), 100.0, False),
    ]
    churn = csm.churn_rates(data, **cut)
    assert column(churn, "churned") == [0] * 6
    assert column(churn, "reactivated") == [0] * 6
    assert column(churn, "customers_end") == [2] * 6
    assert column(churn, "paused_customers") == [0, 0, 1, 1, 0, 0]
    # One life, still running at as_of: Jan 1 to Jun 15 = 166 days.
    lives = csm.survival_table(data, **cut).filter(customer_id="a")
    assert lives.select("duration", "event").rows() == [(166.0, False)]
    cohort = csm.cohort_retention(data, **cut).filter(cohort=P(1))
    assert column(cohort, "active") == [2] * 6


def test_a_pause_before_the_first_payment_makes_the_first_payment_new() -> None:
    # b: a free subscription from Jan 1, paused from Feb 1, then $50 from Apr 1. It never paid
    # before April: April is new (not an expansion), and the pause before moved nothing.
    # d: pays 40 in January, paused from Feb 1 until the subscription ends on Apr 1 without a
    # resume: a contraction in February, a churn of 0 in April.
    data = frame(
        [
            sub("b", D(2024, 1, 1), D(2024, 2, 1), 0.0, subscription_id="b1", status="active"),
            sub("b", D(2024, 2, 1), D(2024, 4, 1), 0.0, subscription_id="b1", status="paused"),
            sub("b", D(2024, 4, 1), None, 50.0, subscription_id="b1", status="active"),
            sub("d", D(2024, 1, 1), D(2024, 2, 1), 40.0, subscription_id="d1", status="active"),
            sub("d", D(2024, 2, 1), D(2024, 4, 1), 40.0, subscription_id="d1", status="paused"),
        ]
    )
    cut = {"as_of": D(2024, 5, 10)}
    assert moves(csm.mrr_movements(data, **cut)) == [
        ("b", P(4), "new", 50.0, "new"),
        ("d", P(1), "new", 40.0, "new"),
        ("d", P(2), "contraction", 40.0, "status"),
        ("d", P(4), "churned", 0.0, "churn"),
    ]
    bridge = csm.mrr_bridge(data, **cut)
    assert column(bridge, "new_customers") == [1, 0, 0, 1, 0]
    assert column(bridge, "expansion_customers") == [0] * 5
    assert column(bridge, "churned_customers") == [0, 0, 0, 1, 0]
    # Paused customers at each month's end: b and d in February and March.
    assert column(bridge, "paused_customers") == [0, 2, 2, 0, 0]


def test_without_subscription_ids_each_row_is_its_own_subscription() -> None:
    # One customer, two rows and no subscription_id: a $100 plan from Jan 1 and a $50 add-on
    # from Jan 20 with a 10% once coupon. The coupon's billing period steps from the add-on's own
    # start (Jan 20 to Feb 20), not the customer's first start, so January ends at
    # 100 + 45 = 145 and February at 150. Both rows are canceled on Mar 5: two requests.
    data = frame(
        [
            sub("a", D(2024, 1, 1), D(2024, 4, 1), 100.0, canceled_at=D(2024, 3, 5)),
            sub(
                "a",
                D(2024, 1, 20),
                D(2024, 4, 1),
                50.0,
                canceled_at=D(2024, 3, 5),
                percent_off=10.0,
                discount_duration="once",
            ),
        ]
    )
    bridge = csm.mrr_bridge(data, as_of=D(2024, 4, 10))
    assert column(bridge, "ending_mrr") == [145.0, 150.0, 150.0, 0.0]
    assert column(bridge, "cancellations") == [0, 0, 2, 0]
    assert column(bridge, "cancellation_mrr") == [0.0, 0.0, 150.0, 0.0]
    assert column(bridge, "committed_mrr") == [145.0, 150.0, 0.0, 0.0]


def test_a_discount_that_takes_mrr_to_zero_is_a_churn_of_unknown_reason() -> None:
    # a: $80 from Jan 1 with a 100% forever coupon from Mar 1. An earlier row of a (Jan 1 to
    # Jan 20, payment_failed) ended in January: March's churn has no row ending in March, so
    # its reason is unknown, not that January row's.
    data = frame(
        [
            sub("a", D(2024, 1, 1), None, 80.0, churn_reason=None),
            sub("a", D(2024, 1, 1), D(2024, 1, 20), 5.0, churn_reason="payment_failed"),
        ]
    )
    table = discounts(
        [{"customer_id": "a", "percent_off": 100.0, "duration": "forever", "start": D(2024, 3, 1)}]
    )
    bridge = csm.mrr_bridge(data, discounts=table, as_of=D(2024, 3, 10))
    assert column(bridge, "churned") == [0.0, 0.0, 80.0]
    # The $5 row starts and ends inside January: January's snapshot sees 80 only.
    assert column(bridge, "new") == [80.0, 0.0, 0.0]
    assert column(bridge, "contraction") == [0.0, 0.0, 0.0]
    assert column(bridge, "churned_unknown") == [0.0, 0.0, 80.0]
    assert column(bridge, "churned_involuntary") == [0.0, 0.0, 0.0]


def test_a_cancellation_before_the_delinquency_cut_keeps_its_own_reason() -> None:
    # Past due from Feb 1 (delinquency_days=30 would cut on Mar 2), canceled by the customer on
    # Feb 20 with churn_at="cancel": the request ends it first, a voluntary churn in February.
    data = frame(
        [
            sub("a", D(2024, 1, 1), D(2024, 2, 1), 60.0, subscription_id="s", status="active"),
            sub(
                "a",
                D(2024, 2, 1),
                None,
                60.0,
                subscription_id="s",
                status="past_due",
                canceled_at=D(2024, 2, 20),
                churn_reason="cancellation_requested",
            ),
        ]
    )
    kw = {"as_of": D(2024, 3, 10), "past_due": "churn_after", "churn_at": "cancel"}
    bridge = csm.mrr_bridge(data, **kw)
    assert column(bridge, "churned") == [0.0, 60.0, 0.0]
    assert column(bridge, "churned_voluntary") == [0.0, 60.0, 0.0]
    assert column(bridge, "churned_involuntary") == [0.0, 0.0, 0.0]
    # The MRR at risk is the MRR just before the request's own cut.
    assert column(bridge, "cancellation_mrr") == [0.0, 60.0, 0.0]


def test_pause_policies_active_and_churn() -> None:
    data = pause_table()
    cut = {"as_of": D(2024, 6, 15)}
    # active: the pause keeps its 100.
    kept = csm.mrr_bridge(data, **cut, paused="active")
    assert column(kept, "ending_mrr") == [110.0] * 6
    assert column(kept, "contraction") == [0.0] * 6
    # churn: churned in March, reactivated in May.
    churned = csm.mrr_bridge(data, **cut, paused="churn")
    assert column(churned, "churned") == [0.0, 0.0, 100.0, 0.0, 0.0, 0.0]
    assert column(churned, "reactivation") == [0.0, 0.0, 0.0, 0.0, 100.0, 0.0]
    assert column(churned, "active_customers") == [2, 2, 1, 1, 2, 2]
    churn = csm.churn_rates(data, **cut, paused="churn")
    assert column(churn, "churned") == [0, 0, 1, 0, 0, 0]
    assert column(churn, "reactivated") == [0, 0, 0, 0, 1, 0]
    # The first life ends on Mar 1: 60 days.
    lives = csm.survival_table(data, **cut, paused="churn").filter(customer_id="a")
    assert lives.select("duration", "event").rows() == [(60.0, True)]


def past_due_table() -> pl.DataFrame:
    return frame(
        [
            # Past due from Mar 1 for 45 days, then canceled (no row after Apr 15).
            sub("a", D(2024, 1, 1), D(2024, 3, 1), 100.0, subscription_id="s1", status="active"),
            sub("a", D(2024, 3, 1), D(2024, 4, 15), 100.0, subscription_id="s1", status="past_due"),
            sub("b", D(2024, 1, 1), None, 10.0, subscription_id="s2", status="active"),
            # Past due 22 days then paid again: never cut.
            sub("c", D(2024, 1, 10), D(2024, 2, 1), 20.0, subscription_id="s3", status="past_due"),
            sub("c", D(2024, 2, 1), None, 20.0, subscription_id="s3", status="active"),
        ]
    )


def test_past_due_keeps_its_mrr_until_the_end_by_default() -> None:
    data = past_due_table()
    bridge = csm.mrr_bridge(data, as_of=D(2024, 5, 10))
    # a keeps 100 through March (past due) and churns in April (ended Apr 15).
    assert column(bridge, "ending_mrr") == [130.0, 130.0, 130.0, 30.0, 30.0]
    assert column(bridge, "churned") == [0.0, 0.0, 0.0, 100.0, 0.0]
    # No reasons column and past_due="active": no split.
    assert "churned_involuntary" not in bridge.columns


def test_past_due_churns_after_the_delinquency_days_as_involuntary() -> None:
    data = past_due_table()
    cut = {"as_of": D(2024, 5, 10), "past_due": "churn_after"}
    # delinquency_days=30: the spell started Mar 1, so a loses its MRR on Mar 31 at 00:00, before
    # March's last instant: churned in March, involuntarily. c recovered after 22 days.
    bridge = csm.mrr_bridge(data, **cut)
    assert column(bridge, "ending_mrr") == [130.0, 130.0, 30.0, 30.0, 30.0]
    assert column(bridge, "churned") == [0.0, 0.0, 100.0, 0.0, 0.0]
    march = at(bridge, P(3))
    assert (march["churned_involuntary"], march["churned_voluntary"], march["churned_unknown"]) == (
        100.0,
        0.0,
        0.0,
    )
    assert march["churned_involuntary_customers"] == 1
    movements = csm.mrr_movements(data, **cut).filter(movement="churned")
    assert moves(movements, "churn_reason") == [
        ("a", P(3), "churned", 100.0, "churn", "involuntary")
    ]
    churn = csm.churn_rates(data, **cut)
    assert column(churn, "churned") == [0, 0, 1, 0, 0]
    assert column(churn, "churned_involuntary") == [0, 0, 1, 0, 0]
    assert mrr_of(csm.mrr(data, **cut), "a") == [100.0, 100.0]
    # A life cut by delinquency ends at the cut: Jan 1 + 60 + 30 days = Mar 31, 90 days.
    lives = csm.survival_table(data, **cut).filter(customer_id="a")
    assert lives.select("duration", "event").rows() == [(90.0, True)]
    # delinquency_days=45: the spell lasts 45 days, not longer: no cut; a ends on Apr 15 with no
    # known reason.
    longer = csm.mrr_bridge(data, **cut, delinquency_days=45)
    assert column(longer, "churned") == [0.0, 0.0, 0.0, 100.0, 0.0]
    assert column(longer, "churned_unknown") == [0.0, 0.0, 0.0, 100.0, 0.0]
    assert column(longer, "churned_involuntary") == [0.0] * 5


def test_a_delinquency_cut_that_leaves_other_mrr_is_a_status_contraction() -> None:
    data = frame(
        [
            sub("a", D(2024, 1, 1), None, 40.0, subscription_id="s1", status="active"),
            sub("a", D(2024, 1, 1), D(2024, 2, 5), 60.0, subscription_id="s2", status="active"),
            sub("a", D(2024, 2, 5), None, 60.0, subscription_id="s2", status="past_due"),
        ]
    )
    # Cut at Feb 5 + 10 days: February 40 (contraction 60, cause status).
    cut = {"as_of": D(2024, 3, 1), "past_due": "churn_after", "delinquency_days": 10}
    assert column(csm.mrr(data, **cut), "mrr") == [100.0, 40.0, 40.0]
    assert moves(csm.mrr_movements(data, **cut)) == [
        ("a", P(1), "new", 100.0, "new"),
        ("a", P(2), "contraction", 60.0, "status"),
    ]


# ---------------------------------------------------------------------------------------------
# Cancellations and churn reasons
# ---------------------------------------------------------------------------------------------


def cancel_table() -> pl.DataFrame:
    return frame(
        [
            # Asked to cancel on Mar 10, access until May 15.
            sub(
                "a",
                D(2024, 1, 1),
                D(2024, 5, 15),
                100.0,
                canceled_at=D(2024, 3, 10),
                churn_reason="cancellation_requested",
            ),
            sub("b", D(2024, 1, 1), None, 10.0),
        ]
    )


def test_a_cancellation_counts_when_asked_and_churns_when_access_ends() -> None:
    data = cancel_table()
    cut = {"as_of": D(2024, 6, 10)}
    bridge = csm.mrr_bridge(data, **cut)
    # Request in March: cancellations 1, 100 at risk; churn in May (May 31 is after May 15).
    assert column(bridge, "cancellations") == [0, 0, 1, 0, 0, 0]
    assert column(bridge, "cancellation_mrr") == [0.0, 0.0, 100.0, 0.0, 0.0, 0.0]
    assert column(bridge, "churned") == [0.0, 0.0, 0.0, 0.0, 100.0, 0.0]
    assert column(bridge, "churned_voluntary") == [0.0, 0.0, 0.0, 0.0, 100.0, 0.0]
    assert column(bridge, "ending_mrr") == [110.0, 110.0, 110.0, 110.0, 10.0, 10.0]
    # Committed MRR leaves a out from its request (March, April) on.
    assert column(bridge, "committed_mrr") == [110.0, 110.0, 10.0, 10.0, 10.0, 10.0]
    churn = csm.churn_rates(data, **cut)
    assert column(churn, "cancellations") == [0, 0, 1, 0, 0, 0]
    assert column(churn, "churned") == [0, 0, 0, 0, 1, 0]
    assert column(churn, "churned_voluntary") == [0, 0, 0, 0, 1, 0]
    # Jan 1 to May 15: 135 days.
    lives = csm.survival_table(data, **cut).filter(customer_id="a")
    assert lives.select("duration", "event").rows() == [(135.0, True)]


def test_churn_at_cancel_dates_the_churn_by_the_request() -> None:
    data = cancel_table()
    cut = {"as_of": D(2024, 6, 10), "churn_at": "cancel"}
    bridge = csm.mrr_bridge(data, **cut)
    # The MRR ends on Mar 10: churn in March; the request still counts, with the 100 it had.
    assert column(bridge, "churned") == [0.0, 0.0, 100.0, 0.0, 0.0, 0.0]
    assert column(bridge, "cancellations") == [0, 0, 1, 0, 0, 0]
    assert column(bridge, "cancellation_mrr") == [0.0, 0.0, 100.0, 0.0, 0.0, 0.0]
    assert column(bridge, "committed_mrr") == column(bridge, "ending_mrr")
    assert column(csm.churn_rates(data, **cut), "churned") == [0, 0, 1, 0, 0, 0]
    # Jan 1 to Mar 10: 69 days.
    lives = csm.survival_table(data, **cut).filter(customer_id="a")
    assert lives.select("duration", "event").rows() == [(69.0, True)]


def reasons_table() -> pl.DataFrame:
    march = D(2024, 3, 10)
    return frame(
        [
            sub("x", D(2024, 1, 1), march, 100.0, churn_reason="cancellation_requested"),
            sub("y", D(2024, 1, 1), march, 50.0, churn_reason="payment_failed"),
            sub("y2", D(2024, 1, 1), D(2024, 3, 12), 5.0, churn_reason="payment_disputed"),
            sub("z", D(2024, 1, 1), march, 20.0),
            sub("w", D(2024, 1, 1), march, 30.0, churn_reason="too_expensive"),
            # Two rows: the last-ending one (Mar 20) gives the reason.
            sub("v", D(2024, 1, 1), D(2024, 3, 5), 7.0, churn_reason="payment_failed"),
            sub("v", D(2024, 1, 1), D(2024, 3, 20), 3.0, churn_reason="cancellation_requested"),
            sub("k", D(2024, 1, 1), None, 1.0),
        ]
    )


def test_voluntary_involuntary_and_unknown_churn_sum_to_the_total() -> None:
    data = reasons_table()
    cut = {"as_of": D(2024, 4, 5)}
    # March churns 100 + 50 + 5 + 20 + 30 + 10 = 215 over 6 customers:
    # voluntary x 100 + v 10 = 110 (2); involuntary y 50 + y2 5 = 55 (2); unknown z 20 + w 30 =
    # 50 (2).
    march = at(csm.mrr_bridge(data, **cut), P(3))
    assert (march["churned"], march["churned_customers"]) == (215.0, 6)
    split = [march[f"churned_{r}"] for r in ("voluntary", "involuntary", "unknown")]
    assert split == [110.0, 55.0, 50.0]
    counts = [march[f"churned_{r}_customers"] for r in ("voluntary", "involuntary", "unknown")]
    assert counts == [2, 2, 2]
    movements = csm.mrr_movements(data, **cut).filter(movement="churned")
    assert movements.select("customer_id", "churn_reason").sort("customer_id").rows() == [
        ("v", "voluntary"),
        ("w", "unknown"),
        ("x", "voluntary"),
        ("y", "involuntary"),
        ("y2", "involuntary"),
        ("z", "unknown"),
    ]
    assert csm.mrr_movements(data, **cut).filter(movement="new")["churn_reason"].null_count() == 7
    churn = at(csm.churn_rates(data, **cut), P(3))
    assert (churn["churned"], churn["churned_voluntary"], churn["churned_involuntary"]) == (6, 2, 2)
    assert churn["churned_unknown"] == 2
    # A mapping adds a vocabulary: too_expensive -> voluntary: 140 (3), 55 (2), 20 (1).
    mapped = at(csm.mrr_bridge(data, **cut, churn_reasons={"too_expensive": "voluntary"}), P(3))
    assert [mapped[f"churned_{r}"] for r in ("voluntary", "involuntary", "unknown")] == [
        140.0,
        55.0,
        20.0,
    ]
    assert [mapped[f"churned_{r}_customers"] for r in ("voluntary", "involuntary", "unknown")] == [
        3,
        2,
        1,
    ]


# ---------------------------------------------------------------------------------------------
# Causes
# ---------------------------------------------------------------------------------------------


def test_the_cause_of_each_movement() -> None:
    feb10 = D(2024, 2, 10)
    jan1 = D(2024, 1, 1)
    usd = {"currency": "USD"}
    rows = [
        # q: 2 -> 3 seats of 10: +10, quantity.
        sub("q", jan1, feb10, 10.0, subscription_id="q1", quantity=2, **usd),
        sub("q", feb10, None, 10.0, subscription_id="q1", quantity=3, **usd),
        # d: a 10% discount (table) from Feb 10: -10, discount.
        sub("d", jan1, None, 100.0, subscription_id="d1", quantity=1, **usd),
        # dd: the same row again with a 25% discount column: -25, discount.
        sub("dd", jan1, feb10, 100.0, subscription_id="dd1", quantity=1, **usd),
        sub(
            "dd",
            feb10,
            None,
            100.0,
            subscription_id="dd1",
            quantity=1,
            percent_off=25.0,
            discount_duration="forever",
            **usd,
        ),
        # r: one of two subscriptions pauses: -60, status.
        sub("r", jan1, None, 40.0, subscription_id="r1", quantity=1, status="active", **usd),
        sub("r", jan1, feb10, 60.0, subscription_id="r2", quantity=1, status="active", **usd),
        sub("r", feb10, None, 60.0, subscription_id="r2", quantity=1, status="paused", **usd),
        # u: the same row again, now unpaid: -60, status.
        sub("u", jan1, None, 40.0, subscription_id="u1", quantity=1, status="active", **usd),
        sub("u", jan1, feb10, 60.0, subscription_id="u2", quantity=1, status="active", **usd),
        sub("u", feb10, None, 60.0, subscription_id="u2", quantity=1, status="unpaid", **usd),
        # p: a price change 100 -> 120: +20, plan.
        sub("p", jan1, feb10, 100.0, subscription_id="p1", quantity=1, **usd),
        sub("p", feb10, None, 120.0, subscription_id="p1", quantity=1, **usd),
        # n: a second subscription of 25: +25, plan.
        sub("n", jan1, None, 50.0, subscription_id="n1", quantity=1, **usd),
        sub("n", feb10, None, 25.0, subscription_id="n2", quantity=1, **usd),
        # f: 100 USD -> 100 EUR (1.5): +50, fx.
        sub("f", jan1, feb10, 100.0, subscription_id="f1", quantity=1, **usd),
        sub("f", feb10, None, 100.0, subscription_id="f1", quantity=1, currency="EUR"),
        # m: 1 -> 4 seats of 10 on Feb 5 (+30), then 10% off from Feb 20 (-4): +26, quantity.
        sub("m", jan1, D(2024, 2, 5), 10.0, subscription_id="m1", quantity=1, **usd),
        sub("m", D(2024, 2, 5), None, 10.0, subscription_id="m1", quantity=4, **usd),
        # k: 100 -> 110 on Feb 5 (+10), then 50% off from Feb 20 (-55): -45, discount.
        sub("k", jan1, D(2024, 2, 5), 100.0, subscription_id="k1", quantity=1, **usd),
        sub("k", D(2024, 2, 5), None, 110.0, subscription_id="k1", quantity=1, **usd),
    ]
    for row in rows:
        row.setdefault("status", "active")
    data = frame(rows)
    table = discounts(
        [
            {"subscription_id": "d1", "percent_off": 10.0, "duration": "forever", "start": feb10},
            {
                "subscription_id": "m1",
                "percent_off": 10.0,
                "duration": "forever",
                "start": D(2024, 2, 20),
            },
            {
                "subscription_id": "k1",
                "percent_off": 50.0,
                "duration": "forever",
                "start": D(2024, 2, 20),
            },
        ]
    )
    movements = csm.mrr_movements(
        data, discounts=table, fx={"USD": 1.0, "EUR": 1.5}, as_of=D(2024, 3, 15)
    )
    february = movements.filter(pl.col("period") == P(2))
    assert moves(february) == [
        ("d", P(2), "contraction", 10.0, "discount"),
        ("dd", P(2), "contraction", 25.0, "discount"),
        ("f", P(2), "expansion", 50.0, "fx"),
        ("k", P(2), "contraction", 45.0, "discount"),
        ("m", P(2), "expansion", 26.0, "quantity"),
        ("n", P(2), "expansion", 25.0, "plan"),
        ("p", P(2), "expansion", 20.0, "plan"),
        ("q", P(2), "expansion", 10.0, "quantity"),
        ("r", P(2), "contraction", 60.0, "status"),
        ("u", P(2), "contraction", 60.0, "status"),
    ]
    assert set(column(movements.filter(pl.col("period") == P(1)), "cause")) == {"new"}


# ---------------------------------------------------------------------------------------------
# Input errors
# ---------------------------------------------------------------------------------------------


def base_rows() -> list[dict[str, Any]]:
    return [
        sub("a", D(2024, 1, 1), None, 10.0, subscription_id="s1", quantity=1, status="active"),
        sub("b", D(2024, 1, 1), None, 20.0, subscription_id="s2", quantity=1, status="active"),
    ]


def with_row(change: dict[str, Any], index: int = 1) -> pl.DataFrame:
    rows = base_rows()
    rows[index] = {**rows[index], **change}
    return frame(rows)


def check_error(
    call: Callable[[], object], column_name: str, row: int, value: str | None
) -> InvalidInputError:
    """``call`` raises an InvalidInputError naming ``column_name``, ``row`` and ``value`` (in its
    attributes and its message)."""
    with pytest.raises(InvalidInputError) as info:
        call()
    error = info.value
    text = str(error)
    assert getattr(error, "column", None) == column_name, text
    assert getattr(error, "row", None) == row, text
    assert f"'{column_name}'" in text or column_name in text, text
    assert f"row {row}" in text, text
    if value is not None:
        assert value in text, text
        assert value in str(getattr(error, "value", "")), vars(error)
    return error


@pytest.mark.parametrize("percent", [150.0, -5.0])
def test_percent_off_outside_0_100_is_an_error(percent: float) -> None:
    data = with_row({"percent_off": percent, "discount_duration": "forever"})
    check_error(lambda: csm.mrr_bridge(data), "percent_off", 1, f"{percent:g}")
    table = discounts(
        [
            {"subscription_id": "s1", "percent_off": 10.0, "duration": "forever"},
            {"subscription_id": "s2", "percent_off": percent, "duration": "forever"},
        ]
    )
    check_error(
        lambda: csm.mrr(frame(base_rows()), discounts=table), "percent_off", 1, f"{percent:g}"
    )


def test_a_negative_quantity_is_an_error() -> None:
    check_error(lambda: csm.mrr_bridge(with_row({"quantity": -2})), "quantity", 1, "-2")


def test_a_negative_amount_off_is_an_error() -> None:
    data = with_row({"amount_off": -3.0, "discount_duration": "forever"})
    check_error(lambda: csm.mrr(data), "amount_off", 1, "-3")


@pytest.mark.parametrize("dtype", [pl.String, pl.Categorical])
@pytest.mark.parametrize("status", ["paused_forever", None])
def test_an_unknown_or_null_status_is_an_error(status: str | None, dtype: Any) -> None:
    data = with_row({"status": status}).with_columns(pl.col("status").cast(dtype))
    error = check_error(
        lambda: csm.mrr_bridge(data), "status", 1, "paused_forever" if status else None
    )
    if status is None:
        assert "null" in str(error).lower(), str(error)
    check_error(lambda: csm.churn_rates(data), "status", 1, None)


def test_an_unknown_discount_duration_is_an_error() -> None:
    data = with_row({"percent_off": 10.0, "discount_duration": "twice"})
    check_error(lambda: csm.mrr(data), "discount_duration", 1, "twice")
    table = discounts([{"subscription_id": "s1", "percent_off": 10.0, "duration": "twice"}])
    check_error(lambda: csm.mrr(frame(base_rows()), discounts=table), "duration", 0, "twice")


def test_a_discount_keyed_to_an_unknown_subscription_or_customer_is_an_error() -> None:
    table = discounts(
        [
            {"subscription_id": "s1", "percent_off": 10.0, "duration": "forever"},
            {"subscription_id": "s9", "percent_off": 10.0, "duration": "forever"},
        ]
    )
    check_error(
        lambda: csm.mrr_bridge(frame(base_rows()), discounts=table), "subscription_id", 1, "s9"
    )
    table = discounts([{"customer_id": "zz", "percent_off": 10.0, "duration": "forever"}])
    check_error(lambda: csm.mrr_bridge(frame(base_rows()), discounts=table), "customer_id", 0, "zz")


def test_repeating_without_duration_in_months_is_an_error() -> None:
    data = with_row({"percent_off": 10.0, "discount_duration": "repeating"})
    error = check_error(lambda: csm.mrr(data), "duration_in_months", 1, None)
    assert "repeating" in str(error) or "null" in str(error).lower(), str(error)
    table = discounts([{"subscription_id": "s2", "percent_off": 10.0, "duration": "repeating"}])
    check_error(lambda: csm.mrr(frame(base_rows()), discounts=table), "duration_in_months", 0, None)


# ---------------------------------------------------------------------------------------------
# Random tables: one generator, driven by hypothesis or by a seeded random.Random
# ---------------------------------------------------------------------------------------------

JAN1 = D(2024, 1, 1)
DEC31 = D(2024, 12, 31)
AMOUNTS = [0.0, 1.0, 7.0, 10.0, 12.25, 25.0, 99.0, 100.0, 120.0, 1200.0]
STATUS_CHOICES = ["active"] * 5 + [
    "trialing",
    "trialing",
    "past_due",
    "past_due",
    "unpaid",
    "paused",
    "paused",
    "canceled",
    "incomplete",
    "incomplete_expired",
]
REASONS = [None, None, "cancellation_requested", "payment_failed", "payment_disputed", "other"]
PERCENTS = [10.0, 25.0, 50.0, 100.0, 12.5, 0.0, 33.0]
POLICIES = {
    "trials": ["exclude", "include"],
    "past_due": ["active", "churn_after"],
    "paused": ["zero", "active", "churn"],
    "churn_at": ["end", "cancel"],
    "stacking": ["sequential", "sum"],
    "mrr_basis": ["net", "contract", "forever_only"],
}
ALL_POLICIES = [
    dict(zip(POLICIES, values, strict=True)) for values in itertools.product(*POLICIES.values())
]


@dataclass
class Case:
    rows: list[dict[str, Any]]
    columns: list[str]
    table: list[dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> pl.DataFrame:
        return frame(self.rows)

    @property
    def discounts(self) -> pl.DataFrame | None:
        return discounts(self.table) if self.table else None

    def core(self, **more: Any) -> dict[str, Any]:
        """The keywords of a core call."""
        options = {k: v for k, v in self.options.items() if k not in ("fx", "with_contract")}
        if self.table:
            options["discounts"] = self.discounts
        if self.options.get("fx"):
            options["fx"] = self.options["fx"]
        return {**options, **more}

    def reference(self, **more: Any):
        return reference(
            self.rows, columns=self.columns, discounts=self.table, **{**self.options, **more}
        )


Pick = Callable[[Sequence[Any]], Any]
Integer = Callable[[int, int], int]


def random_case(pick: Pick, integer: Integer, policies: dict[str, Any] | None = None) -> Case:
    """A small random subscriptions table (1-6 customers of 1-4 rows, dates in 2024), maybe a
    discounts table, and the options, drawn with ``pick`` (one of a sequence) and ``integer``
    (one of [lo, hi]). Rows of one subscription are consecutive spells of one interval."""
    flags = {
        name: pick([True, False])
        for name in (
            "subscription_id",
            "quantity",
            "status",
            "canceled_at",
            "churn_reason",
            "discounts",
            "interval_count",
            "currency",
            "table",
        )
    }
    rows: list[dict[str, Any]] = []
    subs: list[tuple[str, str]] = []  # (subscription id, customer)
    for c in range(integer(1, 6)):
        customer = f"c{c}"
        budget = integer(1, 4)
        n = 0
        while budget > 0:
            spells = integer(1, budget) if flags["subscription_id"] else 1
            budget -= spells
            sub_id = f"{customer}s{n}"
            n += 1
            subs.append((sub_id, customer))
            interval = pick(["month", "month", "year", "quarter", "week", "day"])
            count = pick([1, 1, 2])
            currency = pick(["USD", "EUR"])
            start = JAN1 + dt.timedelta(days=integer(0, 300))
            for k in range(spells):
                end: dt.date | None = start + dt.timedelta(days=integer(1, 100))
                if (k == spells - 1 and pick([True, False])) or end > DEC31:  # type: ignore[operator]
                    end = None
                row = sub(customer, start, end, pick(AMOUNTS), interval)
                if flags["subscription_id"]:
                    row["subscription_id"] = sub_id
                if flags["interval_count"]:
                    row["interval_count"] = count
                if flags["quantity"]:
                    row["quantity"] = pick([0, 1, 1, 2, 3, 5])
                if flags["status"]:
                    status = pick(STATUS_CHOICES)
                    row["status"] = "active" if status == "paused" and k == 0 else status
                if flags["currency"]:
                    row["currency"] = pick([currency, currency, "USD"])
                if flags["canceled_at"]:
                    row["canceled_at"] = None
                    if end is not None and k == spells - 1 and (end - start).days >= 2:
                        if pick([True, False]):
                            days = integer(1, (end - start).days - 1)
                            row["canceled_at"] = start + dt.timedelta(days=days)
                if flags["churn_reason"]:
                    row["churn_reason"] = pick(REASONS)
                if flags["discounts"]:
                    row.update(row_discount(pick, integer, start))
                rows.append(row)
                if end is None:
                    break
                start = end
    table: list[dict[str, Any]] = []
    if flags["table"]:
        for _ in range(integer(1, 3)):
            if flags["subscription_id"] and pick([True, False]):
                sub_id, customer = pick(subs)
                entry = {"subscription_id": sub_id, "customer_id": customer}
                entry.update(table_discount(pick, integer, ["once", "repeating", "forever"]))
            else:
                customer = pick(sorted({r["customer_id"] for r in rows}))
                entry = {"customer_id": customer}
                if flags["subscription_id"]:
                    entry["subscription_id"] = None
                entry.update(table_discount(pick, integer, ["repeating", "forever"]))
                # A customer-level amount-off only where it is unambiguous: monthly plans in one
                # currency (see billing_reference).
                own = [r for r in rows if r["customer_id"] == customer]
                monthly = all(
                    r["interval"] == "month"
                    and r.get("interval_count", 1) == 1
                    and r.get("currency", "USD") == "USD"
                    for r in own
                )
                if not monthly:
                    entry["amount_off"] = None
                    if entry["percent_off"] is None:
                        entry["percent_off"] = 10.0
            table.append(entry)
    starts = [r["start"] for r in rows]
    as_of = pick(
        [
            max(starts),
            DEC31,
            min(starts) + dt.timedelta(days=integer(0, (DEC31 - min(starts)).days)),
        ]
    )
    options: dict[str, Any] = {
        "as_of": as_of,
        "precision": pick([6, 2, 0]),
        "free_is_active": pick([False, True]),
        "delinquency_days": pick([30, 10, 45]),
        "churn_reasons": pick([None, {"other": "voluntary"}]),
        "with_contract": pick([False, True]),
        **(policies or {name: pick(values) for name, values in POLICIES.items()}),
    }
    if flags["currency"]:
        options["fx"] = {"USD": 1.0, "EUR": 1.5}
    columns = [c for c in SCHEMA if any(c in r for r in rows)]
    return Case(rows, columns, table, options)


def row_discount(pick: Pick, integer: Integer, start: dt.date) -> dict[str, Any]:
    """The discount columns of one row (all null for most rows)."""
    none = {
        "percent_off": None,
        "amount_off": None,
        "discount_duration": None,
        "duration_in_months": None,
        "discount_start": None,
        "discount_end": None,
    }
    if pick([True, False, False]):
        return none
    found = table_discount(pick, integer, ["once", "repeating", "forever"], start)
    return {
        "percent_off": found["percent_off"],
        "amount_off": found["amount_off"],
        "discount_duration": found["duration"],
        "duration_in_months": found["duration_in_months"],
        "discount_start": found["start"],
        "discount_end": found["end"],
    }


def table_discount(
    pick: Pick, integer: Integer, durations: list[str], near: dt.date | None = None
) -> dict[str, Any]:
    percent = pick([None, *PERCENTS])
    amount_off = pick([None, None, 5.0, 20.0])
    if percent is None and amount_off is None:
        percent = 10.0
    duration = pick(durations)
    base = near or JAN1 + dt.timedelta(days=integer(0, 300))
    start = pick([None, None, base + dt.timedelta(days=integer(-20, 60))])
    end = pick([None, None, (start or base) + dt.timedelta(days=integer(1, 120))])
    return {
        "percent_off": percent,
        "amount_off": amount_off,
        "duration": duration,
        "duration_in_months": integer(1, 3) if duration == "repeating" else None,
        "start": start,
        "end": end,
    }


@st.composite
def cases(draw: st.DrawFn) -> Case:
    return random_case(
        lambda seq: draw(st.sampled_from(list(seq))),
        lambda lo, hi: draw(st.integers(lo, hi)),
    )


def seeded_case(seed: int, policies: dict[str, Any]) -> Case:
    rnd = random.Random(seed)
    return random_case(lambda seq: rnd.choice(list(seq)), rnd.randint, policies)


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

AMOUNT_COLUMNS = ["starting_mrr", "new", "expansion", "contraction", "churned", "reactivation"]
KINDS = {
    "new": "new_customers",
    "expansion": "expansion_customers",
    "contraction": "contraction_customers",
    "churned": "churned_customers",
    "reactivation": "reactivated_customers",
}
BASE_COLUMNS = [
    "complete",
    *AMOUNT_COLUMNS,
    "ending_mrr",
    "starting_customers",
    *KINDS.values(),
    "ending_customers",
    "active_customers",
]
SPLIT = ("voluntary", "involuntary", "unknown")


def check_identity_and_movements(case: Case, mode: str) -> None:
    """The bridge identity in units for every period, the reason split summing to the churn, and
    the movements, summed by period and movement (and their customers counted), equal to the
    bridge."""
    kw = case.core(money="units", mode=mode)
    bridge = csm.mrr_bridge(case.data, **kw)
    for line in bridge.iter_rows(named=True):
        assert (
            line["starting_mrr"]
            + line["new"]
            + line["expansion"]
            + line["reactivation"]
            - line["contraction"]
            - line["churned"]
            == line["ending_mrr"]
        ), line
        assert min(line[c] for c in [*AMOUNT_COLUMNS, "ending_mrr"]) >= 0, line
        if "churned_voluntary" in line:
            assert sum(line[f"churned_{r}"] for r in SPLIT) == line["churned"], line
            assert sum(line[f"churned_{r}_customers"] for r in SPLIT) == line["churned_customers"]
    movements = csm.mrr_movements(case.data, **kw)
    assert "cause" in movements.columns
    sums: Counter[tuple[dt.date, str]] = Counter()
    who: dict[tuple[dt.date, str], set[str]] = {}
    for move in movements.iter_rows(named=True):
        assert move["amount"] >= 0, move
        sums[move["period"], move["movement"]] += move["amount"]
        # In the event view one customer may move several times in a period.
        who.setdefault((move["period"], move["movement"]), set()).add(move["customer_id"])
        expected_cause = {"new": "new", "churned": "churn", "reactivation": "reactivation"}
        if move["movement"] in expected_cause:
            assert move["cause"] == expected_cause[move["movement"]], move
        else:
            assert move["cause"] in {"plan", "quantity", "discount", "status", "fx"}, move
    periods = set(column(bridge, "period"))
    assert {p for p, _ in sums} <= periods
    for line in bridge.iter_rows(named=True):
        for kind, customers in KINDS.items():
            assert sums[line["period"], kind] == line[kind], (line, kind)
            assert len(who.get((line["period"], kind), ())) == line[customers], (line, kind)


def same_within(got: int, want: Any, slack: int) -> bool:
    return abs(got - want) <= slack


def check_against_reference(case: Case) -> None:
    """The core's bridge, movements, MRR table and churn rates against the brute force."""
    expected = case.reference()
    has = set(case.columns).__contains__
    with_reasons = has("churn_reason") or case.options["past_due"] == "churn_after"
    # past_due="churn_after" without a status column cannot cut anything: the split may be left
    # out there.
    optional_split = not has("churn_reason") and not has("status")
    with_contract = case.options["with_contract"]
    kw = case.core(money="units")
    bridge = csm.mrr_bridge(case.data, **kw, with_contract=with_contract)
    assert column(bridge, "period") == expected.periods, (bridge, expected.periods)
    assert ("paused_customers" in bridge.columns) == has("status")
    for name in ("cancellations", "cancellation_mrr", "committed_mrr"):
        assert (name in bridge.columns) == has("canceled_at"), name
    if optional_split:
        with_reasons = "churned_involuntary" in bridge.columns
    assert ("churned_involuntary" in bridge.columns) == with_reasons
    assert ("contract_mrr" in bridge.columns) == with_contract
    for got, want in zip(bridge.iter_rows(named=True), expected.bridge, strict=True):
        where = f"period {want['period']}"
        for name in BASE_COLUMNS:
            assert got[name] == want[name], (where, name, got, want)
        if has("status"):
            assert got["paused_customers"] == want["paused_customers"], (where, got, want)
        if has("canceled_at"):
            assert got["cancellations"] == want["cancellations"], (where, got, want)
            assert same_within(
                got["cancellation_mrr"], want["cancellation_mrr"], want["cancellation_slack"]
            ), (where, got, want)
            assert same_within(
                got["committed_mrr"], want["committed_mrr"], want["committed_slack"]
            ), (where, got, want)
        if with_reasons and not want["split_ambiguous"]:
            for reason in SPLIT:
                for name in (f"churned_{reason}", f"churned_{reason}_customers"):
                    assert got[name] == want[name], (where, name, got, want)
        if with_contract:
            assert (got["net_mrr"], got["contract_mrr"]) == (want["net_mrr"], want["contract_mrr"])

    movements = csm.mrr_movements(case.data, **kw)
    keys = ["customer_id", "period", "movement", "previous_mrr", "mrr", "amount"]
    assert movements.select(keys).rows() == [tuple(m[k] for k in keys) for m in expected.movements]
    if with_reasons:
        for got, want in zip(movements["churn_reason"].to_list(), expected.movements, strict=True):
            if want["churn_reason"] != "?":
                assert got == want["churn_reason"], (movements, expected.movements)

    listed = csm.mrr(case.data, **kw, with_contract=with_contract)
    names = ["customer_id", "period", "mrr"]
    if has("status"):
        names.append("paused")
    if with_contract:
        names += ["net_mrr", "contract_mrr"]
    assert listed.select(names).rows() == [tuple(r[n] for n in names) for r in expected.mrr]

    if case.options.get("fx") and len({r["currency"] for r in case.rows}) > 1:
        return  # churn_rates takes no fx
    # Churn rates are computed at the default precision (6), which decides who is paying.
    logo = case.reference(precision=6).churn
    kw = case.core()
    for name in ("precision", "fx"):
        kw.pop(name, None)
    churn = csm.churn_rates(case.data, **kw)
    assert column(churn, "period") == [r["period"] for r in logo]
    for got, want in zip(churn.iter_rows(named=True), logo, strict=True):
        names = ["customers_start", "customers_end", "churned", "new", "reactivated"]
        if has("status"):
            names.append("paused_customers")
        if has("canceled_at"):
            names.append("cancellations")
        if with_reasons and not want["split_ambiguous"]:
            names += [f"churned_{r}" for r in SPLIT]
        for name in names:
            assert got[name] == want[name], (want["period"], name, got, want)


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(cases(), st.sampled_from(["snapshot", "events"]))
def test_properties_identity_and_movements_explain_the_bridge(case: Case, mode: str) -> None:
    check_identity_and_movements(case, mode)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_properties_brute_force_agrees_with_the_core(case: Case) -> None:
    check_against_reference(case)


@pytest.mark.parametrize("policies", ALL_POLICIES, ids=["-".join(p.values()) for p in ALL_POLICIES])
def test_every_combination_of_policies_agrees_with_the_brute_force(
    policies: dict[str, Any],
) -> None:
    # Three fixed random tables per combination (2 x 2 x 3 x 2 x 2 x 3 = 144 combinations).
    for seed in range(3):
        case = seeded_case(ALL_POLICIES.index(policies) * 10 + seed, policies)
        check_identity_and_movements(case, "snapshot")
        check_against_reference(case)


def test_the_reference_agrees_with_the_core_on_plain_tables() -> None:
    # Without any billing column the reference is the plain snapshot panel of test_revenue.
    rnd = random.Random(7)
    for _ in range(40):
        rows = []
        for _ in range(rnd.randint(1, 12)):
            start = JAN1 + dt.timedelta(days=rnd.randint(0, 300))
            end = rnd.choice([None, start + dt.timedelta(days=rnd.randint(1, 200))])
            rows.append(
                sub(
                    f"c{rnd.randint(0, 4)}",
                    start,
                    end,
                    rnd.choice(AMOUNTS),
                    rnd.choice(["month", "year", "week", "quarter"]),
                )
            )
        case = Case(rows, [c for c in SCHEMA if c in rows[0]], [], {})
        as_of = max(r["start"] for r in rows)
        expected = reference(rows, as_of=as_of, precision=2)
        bridge = csm.mrr_bridge(case.data, as_of=as_of, precision=2, money="units")
        assert column(bridge, "period") == expected.periods
        for got, want in zip(bridge.iter_rows(named=True), expected.bridge, strict=True):
            assert {k: got[k] for k in BASE_COLUMNS} == {k: want[k] for k in BASE_COLUMNS}
        movements = csm.mrr_movements(case.data, as_of=as_of, precision=2, money="units")
        keys = ["customer_id", "period", "movement", "previous_mrr", "mrr", "amount"]
        assert movements.select(keys).rows() == [
            tuple(m[k] for k in keys) for m in expected.movements
        ]


def test_pandas_integer_columns_with_missing_values_read_as_whole_numbers() -> None:
    # pandas holds an integer column with a missing value as float64: quantity 2.0 and a
    # repeating coupon's duration_in_months 2.0 read as 2. a pays 2 x 100 = 200 less 10% for
    # January and February (180), then 200; b pays 50 throughout.
    import pandas as pd

    subs = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "start": pd.to_datetime(["2024-01-01", "2024-01-01"]),
            "end": pd.to_datetime([None, None]),
            "amount": [100.0, 50.0],
            "interval": ["month", "month"],
            "quantity": [2.0, 1.0],
            "percent_off": [10.0, float("nan")],
            "discount_duration": ["repeating", None],
            "duration_in_months": [2.0, float("nan")],
        }
    )
    assert subs["duration_in_months"].dtype == "float64"
    bridge = csm.mrr_bridge(subs, as_of=D(2024, 3, 10))
    assert bridge["ending_mrr"].to_list() == [230.0, 230.0, 250.0]
    subs["quantity"] = [2.5, 1.0]
    with pytest.raises(InvalidInputError) as err:
        csm.mrr_bridge(subs, as_of=D(2024, 3, 10))
    assert (err.value.column, err.value.row, err.value.value) == ("quantity", 0, "2.5")
    assert "whole number" in err.value.rule


@pytest.mark.parametrize("dtype", [pl.String, pl.Categorical, pl.Int64, pl.UInt8, pl.Float64])
def test_a_subscription_id_names_a_subscription_within_its_customer(dtype: Any) -> None:
    # Subscription ids 1 and 2 under customer a, and id 1 again under customer b: three
    # subscriptions. a's sub 1 runs two contiguous spells (active, then past due) carrying one
    # 50% once coupon: the coupon starts with the first spell (Jan 1), so it covers January only.
    # The discounts table gives sub 1 10% forever from Mar 1: a's sub 1 and b's sub 1 both.
    # a: Jan 50 + 20 = 70, Feb 100 + 20 = 120, Mar 90 + 20 = 110. b: 40, 40, 36.
    rows = [
        sub("a", D(2024, 1, 1), D(2024, 2, 10), 100.0, subscription_id=1, status="active"),
        sub("a", D(2024, 2, 10), None, 100.0, subscription_id=1, status="past_due"),
        sub("a", D(2024, 1, 1), None, 20.0, subscription_id=2, status="active"),
        sub("b", D(2024, 1, 1), None, 40.0, subscription_id=1, status="active"),
    ]
    for r in rows[:2]:
        r.update(percent_off=50.0, discount_duration="once")
    via = pl.String if dtype == pl.Categorical else pl.Int64
    ids = pl.col("subscription_id").cast(via).cast(dtype)
    data = frame([{**r, "subscription_id": str(r["subscription_id"])} for r in rows]).with_columns(
        ids
    )
    table = pl.DataFrame(
        {"subscription_id": ["1"], "percent_off": [10.0], "duration": ["forever"]}
    ).with_columns(ids, start=pl.lit(D(2024, 3, 1)))
    listed = csm.mrr(data, discounts=table, as_of=D(2024, 3, 10))
    assert listed.select("customer_id", "mrr").rows() == [
        ("a", 70.0),
        ("a", 120.0),
        ("a", 110.0),
        ("b", 40.0),
        ("b", 40.0),
        ("b", 36.0),
    ]


def typed_billing_table() -> pl.DataFrame:
    # a: 2 seats x $100 with 10% off forever from Jan 1; asked to cancel on Mar 10, access to
    # Apr 1: 180 in January to March, churned in April. b: a trial from Jan 15 (no MRR), then
    # $30 from Feb 15 with $5 off for 2 months (Feb 15 to Apr 15): 25 in February and March, 30
    # from April. Ending MRR: 180, 205, 205, 30, 30.
    return frame(
        [
            sub("a", D(2024, 1, 1), D(2024, 4, 1), 100.0, subscription_id="s1", status="active")
            | {"quantity": 2, "interval_count": 1, "canceled_at": D(2024, 3, 10)}
            | {"churn_reason": "cancellation_requested", "percent_off": 10.0}
            | {"discount_duration": "forever"},
            sub("b", D(2024, 1, 15), D(2024, 2, 15), 30.0, subscription_id="s2")
            | {"status": "trialing", "quantity": 1, "interval_count": 1},
            sub("b", D(2024, 2, 15), None, 30.0, subscription_id="s2", status="active")
            | {"quantity": 1, "interval_count": 1, "amount_off": 5.0}
            | {"discount_duration": "repeating", "duration_in_months": 2},
        ]
    )


def billing_dtype_variants() -> dict[str, Callable[[pl.DataFrame], Any]]:
    import pyarrow as pa

    text = ["subscription_id", "status", "interval", "discount_duration", "churn_reason"]
    return {
        "polars": lambda t: t,
        "categorical": lambda t: t.with_columns(pl.col(text).cast(pl.Categorical)),
        "enum status": lambda t: t.with_columns(
            pl.col("status").cast(pl.Enum(["trialing", "active", "past_due", "paused"]))
        ),
        "decimal money": lambda t: t.with_columns(
            pl.col("amount", "percent_off", "amount_off").cast(pl.Decimal(12, 2))
        ),
        "unsigned counts": lambda t: t.with_columns(
            pl.col("quantity").cast(pl.UInt16),
            pl.col("duration_in_months").cast(pl.UInt8),
            pl.col("interval_count").cast(pl.UInt32),
        ),
        "float counts": lambda t: t.with_columns(
            pl.col("quantity", "duration_in_months", "interval_count").cast(pl.Float64)
        ),
        "datetimes": lambda t: t.with_columns(
            pl.col("start", "end", "canceled_at").cast(pl.Datetime("ms"))
        ),
        "pandas": lambda t: t.to_pandas(),
        "pandas arrow dtypes": lambda t: t.to_pandas(types_mapper=pd_arrow_dtype),
        "pyarrow": lambda t: t.to_arrow(),
        "pyarrow dictionary": lambda t: t.to_arrow().cast(
            pa.schema(
                [
                    pa.field(f.name, pa.dictionary(pa.int32(), pa.string()))
                    if f.name in text
                    else f
                    for f in t.to_arrow().schema
                ]
            )
        ),
    }


def as_polars(result: Any) -> pl.DataFrame:
    """A result (returned in the input's library) as Polars, periods as dates."""
    if not isinstance(result, pl.DataFrame):
        result = pl.from_pandas(result) if hasattr(result, "iloc") else pl.from_arrow(result)
    assert isinstance(result, pl.DataFrame)
    return result.with_columns(pl.col("period").cast(pl.Date))


def pd_arrow_dtype(dtype: Any) -> Any:
    import pandas as pd

    return pd.ArrowDtype(dtype)


@pytest.mark.parametrize("variant", list(billing_dtype_variants()))
def test_billing_columns_of_every_type_and_frame_library_agree(variant: str) -> None:
    table = billing_dtype_variants()[variant](typed_billing_table())
    cut = {"as_of": D(2024, 5, 10)}
    bridge = as_polars(csm.mrr_bridge(table, **cut))
    assert column(bridge, "ending_mrr") == [180.0, 205.0, 205.0, 30.0, 30.0]
    assert column(bridge, "churned") == [0.0, 0.0, 0.0, 180.0, 0.0]
    assert column(bridge, "churned_voluntary") == [0.0, 0.0, 0.0, 180.0, 0.0]
    assert column(bridge, "cancellations") == [0, 0, 1, 0, 0]
    assert column(bridge, "committed_mrr") == [180.0, 205.0, 25.0, 30.0, 30.0]
    causes = as_polars(csm.mrr_movements(table, **cut))
    causes = causes.select("customer_id", "period", "movement", "cause")
    assert causes.rows() == [
        ("a", P(1), "new", "new"),
        ("a", P(4), "churned", "churn"),
        ("b", P(2), "new", "new"),
        ("b", P(4), "expansion", "discount"),
    ]


def test_the_default_as_of_is_the_latest_start_of_a_row_not_of_a_discount_window() -> None:
    # The latest start is b's, Feb 10; a's coupon (Jan 1 + 3 months) ends on Apr 1, after it.
    # Without as_of the bridge stops in February, as it would without the coupon.
    data = frame(
        [
            sub("a", D(2024, 1, 1), None, 100.0)
            | {"percent_off": 10.0, "discount_duration": "repeating", "duration_in_months": 3},
            sub("b", D(2024, 2, 10), None, 50.0),
        ]
    )
    bridge = csm.mrr_bridge(data)
    assert column(bridge, "period") == [P(1), P(2)]
    # February ends at the snapshot of Feb 10: a still at 90, b new at 50.
    assert column(bridge, "ending_mrr") == [90.0, 140.0]


def test_a_request_on_the_instant_of_the_delinquency_cut_is_the_churn_reason():
    """Past due since 22 May with 10 days of grace: cut on 1 June, the very day the customer
    asked to cancel (``churn_at="cancel"``). The request wins the tie: the churn is the request's
    (unknown without a reason column), not involuntary, as the brute force says."""
    start, cut = dt.date(2024, 5, 22), dt.date(2024, 6, 1)
    row = {
        "customer_id": "c1",
        "subscription_id": "c1s0",
        "start": start,
        "end": dt.date(2024, 6, 2),
        "amount": 1.0,
        "interval": "month",
        "interval_count": 1,
        "quantity": 1,
        "status": "past_due",
        "canceled_at": cut,
        "currency": "USD",
    }
    columns = list(row)
    options = {
        "as_of": cut,
        "precision": 6,
        "free_is_active": False,
        "delinquency_days": 10,
        "churn_reasons": None,
        "with_contract": False,
        "trials": "exclude",
        "past_due": "churn_after",
        "paused": "zero",
        "churn_at": "cancel",
        "stacking": "sequential",
        "mrr_basis": "net",
        "fx": {"USD": 1.0},
    }
    case = Case([row], columns, [], options)
    check_against_reference(case)
    bridge = csm.mrr_bridge(case.data, **case.core(money="units"))
    june = bridge.filter(pl.col("period") == cut).row(0, named=True)
    assert (june["churned_unknown"], june["churned_involuntary"]) == (1_000_000, 0)
